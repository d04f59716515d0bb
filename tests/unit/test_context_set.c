/* The session's context set: membership through adds and removes (the
 * backward-shift deletion must keep every remaining name findable), and
 * linear total time, where the old list made 80k adds take seconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "context_set.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void name_of(char *buf, size_t n, int i)
{
    snprintf(buf, n, "ctx-%d", i);
}

static void add_remove_membership(void **state)
{
    (void)state;
    context_set s = {0};
    char name[32];
    assert_false(context_set_has(&s, "a"));
    assert_int_equal(context_set_remove(&s, "a"), 0);
    for (int i = 0; i < 5000; i++) {
        name_of(name, sizeof name, i);
        assert_int_equal(context_set_add(&s, name), 1);
    }
    assert_int_equal(context_set_add(&s, "ctx-7"), 0); /* already there */
    assert_int_equal(s.count, 5000);
    /* remove every third: runs get holes in every position */
    for (int i = 0; i < 5000; i += 3) {
        name_of(name, sizeof name, i);
        assert_int_equal(context_set_remove(&s, name), 1);
    }
    for (int i = 0; i < 5000; i++) {
        name_of(name, sizeof name, i);
        assert_int_equal(context_set_has(&s, name), i % 3 != 0);
    }
    for (int i = 0; i < 5000; i++) {
        name_of(name, sizeof name, i);
        context_set_remove(&s, name);
    }
    assert_int_equal(s.count, 0);
    assert_false(context_set_has(&s, "ctx-1"));
    context_set_clear(&s);
}

static void many_adds_stay_fast(void **state)
{
    (void)state;
    context_set s = {0};
    char name[32];
    double t0 = now_s();
    for (int i = 0; i < 200000; i++) {
        name_of(name, sizeof name, i);
        assert_int_equal(context_set_add(&s, name), 1);
    }
    for (int i = 0; i < 200000; i++) {
        name_of(name, sizeof name, i);
        assert_true(context_set_has(&s, name));
    }
    double took = now_s() - t0;
    printf("200000 adds + lookups: %.3f s\n", took);
    assert_true(took < 3.0); /* the list took seconds for 80k adds alone */
    context_set_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_remove_membership),
        cmocka_unit_test(many_adds_stay_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
