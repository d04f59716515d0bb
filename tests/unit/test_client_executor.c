/* The delivery executor: per-strand order and mutual exclusion across a
 * pool, parallel strands, drain on stop (tasks posted by tasks included),
 * and inline runs once stopped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "client/executor.h"

enum { STRANDS = 8, PER = 400 };

typedef struct lane {
    lr_strand *s;
    atomic_int running;   /* tasks of this strand running now */
    int next;             /* the sequence number expected next */
    int out_of_order, overlapped;
} lane;

static lane lanes[STRANDS];
static lr_executor X;
static atomic_int ran, on_pool;

typedef struct seq_task {
    lr_task task;
    lane *l;
    int seq;
    int repost; /* post one more task on the same strand from inside */
} seq_task;

static void post_seq(lane *l, int seq, int repost);

static void run_seq(lr_task *t)
{
    seq_task *st = (seq_task *)t;
    lane *l = st->l;
    if (atomic_fetch_add(&l->running, 1) != 0)
        l->overlapped = 1;
    if (st->seq != l->next)
        l->out_of_order = 1;
    l->next = st->seq + 1;
    if (lr_executor_owns_thread(&X))
        atomic_fetch_add(&on_pool, 1);
    if (st->seq % 97 == 0) {
        struct timespec ts = {0, 200000}; /* a slow one now and then */
        nanosleep(&ts, NULL);
    }
    if (st->repost)
        post_seq(l, st->seq + 1, 0);
    atomic_fetch_sub(&l->running, 1);
    atomic_fetch_add(&ran, 1);
    free(st);
}

static void post_seq(lane *l, int seq, int repost)
{
    seq_task *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->task.run = run_seq;
    st->l = l;
    st->seq = seq;
    st->repost = repost;
    lr_executor_post(&X, l->s, &st->task);
}

static void strands_keep_order_and_never_overlap(void **state)
{
    (void)state;
    lr_executor_init(&X);
    assert_int_equal(lr_executor_start(&X, 3), 0);
    atomic_store(&ran, 0);
    atomic_store(&on_pool, 0);
    for (int i = 0; i < STRANDS; i++) {
        memset(&lanes[i], 0, sizeof lanes[i]);
        lanes[i].s = lr_strand_new();
        assert_non_null(lanes[i].s);
    }
    /* Interleaved posts; the last task of each strand posts one more. */
    for (int k = 0; k < PER; k++)
        for (int i = 0; i < STRANDS; i++)
            post_seq(&lanes[i], k, k == PER - 1);
    lr_executor_stop(&X); /* drains, then joins */
    assert_int_equal(atomic_load(&ran), STRANDS * (PER + 1));
    assert_int_equal(atomic_load(&on_pool), STRANDS * (PER + 1));
    for (int i = 0; i < STRANDS; i++) {
        assert_false(lanes[i].out_of_order);
        assert_false(lanes[i].overlapped);
        assert_int_equal(lanes[i].next, PER + 1);
    }
    /* Stopped: a post runs at once, on this thread. */
    post_seq(&lanes[0], PER + 1, 0);
    assert_int_equal(atomic_load(&ran), STRANDS * (PER + 1) + 1);
    assert_int_equal(atomic_load(&on_pool), STRANDS * (PER + 1));
    for (int i = 0; i < STRANDS; i++)
        lr_strand_unref(lanes[i].s);
    lr_executor_destroy(&X);
}

/* A strand blocked in one task does not hold up another strand. */
static atomic_int released, other_ran;

static void run_block(lr_task *t)
{
    for (int i = 0; i < 2000 && !atomic_load(&other_ran); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&released, atomic_load(&other_ran));
    free(t);
}

static void run_other(lr_task *t)
{
    atomic_store(&other_ran, 1);
    free(t);
}

static void a_blocked_strand_does_not_block_others(void **state)
{
    (void)state;
    lr_executor_init(&X);
    assert_int_equal(lr_executor_start(&X, 2), 0);
    lr_strand *a = lr_strand_new(), *b = lr_strand_new();
    lr_task *ta = calloc(1, sizeof *ta), *tb = calloc(1, sizeof *tb);
    ta->run = run_block;
    tb->run = run_other;
    lr_executor_post(&X, a, ta);
    lr_executor_post(&X, b, tb);
    lr_executor_stop(&X);
    assert_true(atomic_load(&released)); /* a saw b's task run while it waited */
    lr_strand_unref(a);
    lr_strand_unref(b);
    lr_executor_destroy(&X);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strands_keep_order_and_never_overlap),
        cmocka_unit_test(a_blocked_strand_does_not_block_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
