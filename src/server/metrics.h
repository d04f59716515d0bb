/*
 * relayd's counters for the Prometheus endpoint (metrics_listen). They are
 * incremented where the events happen, on whatever thread that is, so each
 * is an atomic; the endpoint's thread only reads them.
 */
#ifndef RELAYD_METRICS_H
#define RELAYD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include <relay/types.h>

typedef struct relayd relayd;

#define METRICS_CALL_STATES (RELAY_CALL_ENDED + 1)
#define METRICS_REFER_STATES (RELAY_REFER_ERROR + 1)

typedef struct relayd_metrics {
    atomic_llong sessions;                    /* gauge: live sessions */
    atomic_llong connections;                 /* gauge: open WebSocket connections */
    atomic_llong calls[METRICS_CALL_STATES];  /* gauge: calls now in each state */
    atomic_ullong calls_total;                /* counter: calls ever offered */
    atomic_ullong refers[METRICS_REFER_STATES]; /* counter: refers by final outcome */
    atomic_ullong auth_failures;              /* counter: rejected signalwire.connect */
    atomic_int trunk_registered;              /* gauge: 1 while registered with the trunk */
    atomic_ullong trunk_register_failures;    /* counter: failed REGISTER attempts */
    double started_at;                        /* wall clock, set once at startup */
} relayd_metrics;

/* A call entered `to` from `from` (RELAY_CALL_NONE: it is new;
 * METRICS_CALL_GONE as `to`: it was freed). */
#define METRICS_CALL_GONE (-1)
void metrics_call_moved(relayd_metrics *m, int from, int to);

/* The text exposition (version 0.0.4) of every metric, malloc'd. Any
 * thread while rd is alive. */
char *metrics_render(relayd *rd, size_t *len);

#endif
