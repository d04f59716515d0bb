/*
 * Timers without I/O: a binary min-heap of deadlines on the monotonic
 * clock. The owner (the I/O thread) adds and cancels timers, asks for the
 * earliest deadline to arm its one wake-up, and runs what is due. It
 * replaces lws's sorted list, which measured.md found costing 4-11% of the
 * client's CPU with a timer per request.
 *
 * A timer is embedded in the object it times (a request, a call, the
 * session); lr_container_of gets back to that object in the callback.
 */
#ifndef RELAY_CLIENT_TIMER_H
#define RELAY_CLIENT_TIMER_H

#include <stddef.h>
#include <stdint.h>

#define lr_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

typedef struct lr_timer lr_timer;
typedef void (*lr_timer_fn)(lr_timer *t);

struct lr_timer {
    int64_t deadline_us;
    size_t slot; /* index in the heap + 1; 0 when not armed */
    lr_timer_fn fn;
};

typedef struct lr_timers {
    lr_timer **heap;
    size_t n, cap;
} lr_timers;

int64_t lr_now_us(void); /* CLOCK_MONOTONIC */

void lr_timers_init(lr_timers *h);
void lr_timers_destroy(lr_timers *h); /* the timers themselves are not owned */
/* Arms t (re-arms it if armed) to fire at deadline_us. 0, or -1 on ENOMEM. */
int lr_timer_start(lr_timers *h, lr_timer *t, int64_t deadline_us, lr_timer_fn fn);
void lr_timer_cancel(lr_timers *h, lr_timer *t); /* no-op when not armed */
int lr_timer_armed(const lr_timer *t);
/* The earliest deadline, or -1 when no timer is armed. */
int64_t lr_timers_next(const lr_timers *h);
/* Fires every timer due at now_us, earliest first; each is disarmed before
 * its callback, which may start or cancel any timer. Returns the count. */
size_t lr_timers_run(lr_timers *h, int64_t now_us);

#endif
