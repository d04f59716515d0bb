/*
 * Typed events (events.c): the event_type as an enum, the event's params as
 * a relay_result, per-call listeners by type, and waiting for an event
 * that satisfies a predicate.
 *
 * An event hub belongs to a call or to the client. The I/O thread feeds it
 * every event that concerns its owner; waiters take the events they wait
 * for from their own small queue and run their predicate on their own
 * thread, so no application code ever runs on the I/O thread and a waiter
 * may be a callback of the very call it waits on.
 */
#ifndef RELAY_CLIENT_EVENTS_H
#define RELAY_CLIENT_EVENTS_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>

typedef struct lr_event_listener lr_event_listener;
typedef struct lr_event_waiter lr_event_waiter;

typedef struct lr_event_hub {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lr_event_listener *listeners; /* [lock] */
    int n_listeners;              /* [lock] */
    lr_event_waiter *waiters;     /* [lock] */
    int gone;                     /* [lock] no more events will come */
} lr_event_hub;

void lr_event_hub_init(lr_event_hub *h);
void lr_event_hub_destroy(lr_event_hub *h);

/* [io] params: a signalwire.event's params (borrowed). Queues it for every
 * waiter of its type. */
void lr_event_hub_feed(lr_event_hub *h, relay_event_type type, json_t *params);
/* [io] No more events: waiters return once they have seen what is queued. */
void lr_event_hub_close(lr_event_hub *h);
/* 1 if a listener of this type (or of every type) is registered. */
int lr_event_hub_has_listeners(lr_event_hub *h, relay_event_type type);

relay_status lr_event_hub_listen(lr_event_hub *h, relay_event_type type,
                                 relay_call_event_handler fn, void *user);
/* On the call's strand: runs the call's listeners of ev->type. */
void lr_event_hub_deliver(lr_event_hub *h, relay_call *call, const relay_event *ev);

relay_status lr_event_hub_wait(lr_event_hub *h, relay_event_type type,
                               relay_event_predicate pred, void *user, int timeout_ms,
                               relay_result **out);

/* Fills ev from a signalwire.event's params (borrowed; ev's strings point
 * into it), with ev->params a relay_result the caller frees with
 * lr_event_done. -1 when params is no event. */
int lr_event_fill(json_t *params, relay_event *ev);
void lr_event_done(relay_event *ev);

#endif
