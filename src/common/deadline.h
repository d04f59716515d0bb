/* Absolute deadlines for pthread_cond_timedwait, which measures against
 * CLOCK_REALTIME. */
#ifndef RELAY_COMMON_DEADLINE_H
#define RELAY_COMMON_DEADLINE_H

#include <time.h>

/* Now plus ms milliseconds (ms <= 0: now) on CLOCK_REALTIME. */
static inline struct timespec deadline_after_ms(long long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ms > 0) {
        ts.tv_sec += (time_t)(ms / 1000);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
    }
    return ts;
}

#endif
