/* The client's sans-IO timer heap: order, cancel, re-arm, callbacks that
 * start and cancel timers, and a randomized comparison with a sort. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/timer.h"

typedef struct item {
    lr_timer t;
    int id;
} item;

static int fired[4096];
static int nfired;
static lr_timers *H;

static void record(lr_timer *t)
{
    fired[nfired++] = lr_container_of(t, item, t)->id;
}

static void fires_in_deadline_order(void **state)
{
    (void)state;
    lr_timers h;
    lr_timers_init(&h);
    item it[5];
    int64_t dl[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        memset(&it[i], 0, sizeof it[i]);
        it[i].id = i;
        assert_int_equal(lr_timer_start(&h, &it[i].t, dl[i], record), 0);
    }
    assert_int_equal(lr_timers_next(&h), 10);
    lr_timer_cancel(&h, &it[3].t);                 /* 20 */
    assert_false(lr_timer_armed(&it[3].t));
    lr_timer_cancel(&h, &it[3].t);                 /* twice: no-op */
    assert_int_equal(lr_timer_start(&h, &it[0].t, 5, record), 0); /* re-arm earlier */
    nfired = 0;
    assert_int_equal(lr_timers_run(&h, 35), 3);    /* 5, 10, 30 */
    assert_int_equal(fired[0], 0);
    assert_int_equal(fired[1], 1);
    assert_int_equal(fired[2], 4);
    assert_int_equal(lr_timers_next(&h), 40);
    assert_int_equal(lr_timers_run(&h, 1000), 1);
    assert_int_equal(lr_timers_next(&h), -1);
    lr_timers_destroy(&h);
}

static item chain[2];
static void rearm_other(lr_timer *t)
{
    record(t);
    /* from inside a callback: start one, cancel the other */
    lr_timer_start(H, &chain[1].t, 15, record);
}

static void callbacks_may_start_timers(void **state)
{
    (void)state;
    lr_timers h;
    lr_timers_init(&h);
    H = &h;
    memset(chain, 0, sizeof chain);
    chain[0].id = 100;
    chain[1].id = 101;
    lr_timer_start(&h, &chain[0].t, 10, rearm_other);
    nfired = 0;
    assert_int_equal(lr_timers_run(&h, 20), 2); /* the new one is due too */
    assert_int_equal(fired[0], 100);
    assert_int_equal(fired[1], 101);
    lr_timers_destroy(&h);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void random_matches_a_sort(void **state)
{
    (void)state;
    enum { N = 2000 };
    static item it[N];
    static int64_t want[N];
    lr_timers h;
    lr_timers_init(&h);
    srand(7);
    size_t live = 0;
    for (int i = 0; i < N; i++) {
        memset(&it[i], 0, sizeof it[i]);
        it[i].id = i;
        lr_timer_start(&h, &it[i].t, rand() % 100000, record);
    }
    for (int i = 0; i < N; i += 3)
        lr_timer_cancel(&h, &it[i].t);
    for (int i = 1; i < N; i += 7)
        lr_timer_start(&h, &it[i].t, rand() % 100000, record);
    for (int i = 0; i < N; i++)
        if (lr_timer_armed(&it[i].t))
            want[live++] = it[i].t.deadline_us;
    qsort(want, live, sizeof want[0], cmp64);
    nfired = 0;
    assert_int_equal(lr_timers_run(&h, 1000000), live);
    for (size_t i = 0; i < live; i++)
        assert_int_equal(it[fired[i]].t.deadline_us, want[i]);
    lr_timers_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_in_deadline_order),
        cmocka_unit_test(callbacks_may_start_timers),
        cmocka_unit_test(random_matches_a_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
