/*
 * A binary min-heap of timers (see timer.h). Each timer knows its slot, so
 * cancel and re-arm are O(log n) without a search.
 */
#include "timer.h"

#include <stdlib.h>
#include <time.h>

int64_t lr_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void lr_timers_init(lr_timers *h)
{
    h->heap = NULL;
    h->n = h->cap = 0;
}

void lr_timers_destroy(lr_timers *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->heap[i]->slot = 0;
    free(h->heap);
    lr_timers_init(h);
}

static void place(lr_timers *h, size_t i, lr_timer *t)
{
    h->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(lr_timers *h, size_t i)
{
    lr_timer *t = h->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->heap[parent]->deadline_us <= t->deadline_us)
            break;
        place(h, i, h->heap[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(lr_timers *h, size_t i)
{
    lr_timer *t = h->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->heap[child + 1]->deadline_us < h->heap[child]->deadline_us)
            child++;
        if (t->deadline_us <= h->heap[child]->deadline_us)
            break;
        place(h, i, h->heap[child]);
        i = child;
    }
    place(h, i, t);
}

void lr_timer_cancel(lr_timers *h, lr_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    lr_timer *last = h->heap[--h->n];
    if (i == h->n)
        return; /* it was the last one */
    place(h, i, last);
    /* The moved timer may belong above or below its new slot. */
    sift_up(h, i);
    sift_down(h, last->slot - 1);
}

int lr_timer_start(lr_timers *h, lr_timer *t, int64_t deadline_us, lr_timer_fn fn)
{
    lr_timer_cancel(h, t);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        lr_timer **p = realloc(h->heap, cap * sizeof *p);
        if (!p)
            return -1;
        h->heap = p;
        h->cap = cap;
    }
    t->deadline_us = deadline_us;
    t->fn = fn;
    place(h, h->n++, t);
    sift_up(h, h->n - 1);
    return 0;
}

int lr_timer_armed(const lr_timer *t)
{
    return t->slot != 0;
}

int64_t lr_timers_next(const lr_timers *h)
{
    return h->n ? h->heap[0]->deadline_us : -1;
}

size_t lr_timers_run(lr_timers *h, int64_t now_us)
{
    size_t fired = 0;
    while (h->n && h->heap[0]->deadline_us <= now_us) {
        lr_timer *t = h->heap[0];
        lr_timer_cancel(h, t);
        t->fn(t);
        fired++;
    }
    return fired;
}
