/*
 * Typed events: see events.h. A waiter's queue is bounded: one that falls
 * WAITER_QUEUE events behind loses the oldest it has not looked at (one
 * waiter waits for one thing, so this takes a flood of events of exactly
 * the awaited type while its predicate keeps saying no).
 */
#include "events.h"
#include "call.h"
#include "client.h"
#include "dispatch.h"
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/deadline.h"
#include "common/protocol.h"

#define WAITER_QUEUE 256
#define MAX_LISTENERS 64

struct lr_event_listener {
    lr_event_listener *next;
    relay_event_type type; /* RELAY_EVENT_UNKNOWN: every type */
    relay_call_event_handler fn;
    void *user;
};

struct lr_event_waiter {
    lr_event_waiter *next;
    relay_event_type type;
    json_t *queue[WAITER_QUEUE]; /* refs, oldest at head */
    size_t head, len;
};

const char *relay_event_type_name(relay_event_type type)
{
    const char *n = proto_event_name((proto_event)type);
    return n ? n : "";
}

relay_event_type relay_event_type_from_name(const char *name)
{
    return (relay_event_type)proto_event_from_name(name);
}

void lr_event_hub_init(lr_event_hub *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
}

void lr_event_hub_destroy(lr_event_hub *h)
{
    lr_event_listener *l = h->listeners;
    while (l) {
        lr_event_listener *next = l->next;
        free(l);
        l = next;
    }
    /* waiters live on their threads' stacks and are gone by now */
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
}

static int matches(relay_event_type want, relay_event_type got)
{
    return want == RELAY_EVENT_UNKNOWN || want == got;
}

void lr_event_hub_feed(lr_event_hub *h, relay_event_type type, json_t *params)
{
    pthread_mutex_lock(&h->lock);
    int fed = 0;
    for (lr_event_waiter *w = h->waiters; w; w = w->next) {
        if (!matches(w->type, type))
            continue;
        if (w->len == WAITER_QUEUE) {
            json_decref(w->queue[w->head]);
            w->head = (w->head + 1) % WAITER_QUEUE;
            w->len--;
        }
        w->queue[(w->head + w->len) % WAITER_QUEUE] = json_incref(params);
        w->len++;
        fed = 1;
    }
    if (fed)
        pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

void lr_event_hub_close(lr_event_hub *h)
{
    pthread_mutex_lock(&h->lock);
    h->gone = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

int lr_event_hub_has_listeners(lr_event_hub *h, relay_event_type type)
{
    pthread_mutex_lock(&h->lock);
    int any = 0;
    for (lr_event_listener *l = h->listeners; l && !any; l = l->next)
        any = matches(l->type, type);
    pthread_mutex_unlock(&h->lock);
    return any;
}

relay_status lr_event_hub_listen(lr_event_hub *h, relay_event_type type,
                                 relay_call_event_handler fn, void *user)
{
    lr_event_listener *l = calloc(1, sizeof *l);
    if (!l)
        return RELAY_ERR_NO_MEMORY;
    l->type = type;
    l->fn = fn;
    l->user = user;
    pthread_mutex_lock(&h->lock);
    if (h->n_listeners >= MAX_LISTENERS) {
        pthread_mutex_unlock(&h->lock);
        free(l);
        return RELAY_ERR_LIMIT;
    }
    /* appended: listeners run in the order they were added */
    lr_event_listener **at = &h->listeners;
    while (*at)
        at = &(*at)->next;
    *at = l;
    h->n_listeners++;
    pthread_mutex_unlock(&h->lock);
    return RELAY_OK;
}

void lr_event_hub_deliver(lr_event_hub *h, relay_call *call, const relay_event *ev)
{
    /* Listeners are only ever added, never removed, so the list can be
     * walked outside the lock from a node read under it: a handler may add
     * another listener without deadlocking. */
    pthread_mutex_lock(&h->lock);
    lr_event_listener *l = h->listeners;
    pthread_mutex_unlock(&h->lock);
    for (; l; ) {
        if (matches(l->type, ev->type))
            l->fn(call, ev, l->user);
        pthread_mutex_lock(&h->lock);
        l = l->next;
        pthread_mutex_unlock(&h->lock);
    }
}

/* The word that says where the event's subject stands, by type. */
static const char *state_of(relay_event_type type, json_t *in)
{
    const char *key = "state";
    switch (type) {
    case RELAY_EVENT_CALL_RECEIVE:
    case RELAY_EVENT_CALL_STATE: key = "call_state"; break;
    case RELAY_EVENT_CALL_DIAL: key = "dial_state"; break;
    case RELAY_EVENT_CALL_CONNECT: key = "connect_state"; break;
    case RELAY_EVENT_MESSAGING_STATE: key = "message_state"; break;
    case RELAY_EVENT_AUTHORIZATION_STATE: return NULL;
    default: break;
    }
    return json_string_value(json_object_get(in, key));
}

int lr_event_fill(json_t *params, relay_event *ev)
{
    json_t *in = NULL;
    if (lr_dispatch_parse_event(params, ev, &in) != 0)
        return -1;
    ev->type = relay_event_type_from_name(ev->event_type);
    ev->state = state_of(ev->type, in);
    ev->params = lr_result_new(json_incref(in));
    ev->params_json = ev->params ? relay_result_json(ev->params) : "{}";
    return 0;
}

void lr_event_done(relay_event *ev)
{
    relay_result_free((relay_result *)ev->params);
    ev->params = NULL;
}

relay_status lr_event_hub_wait(lr_event_hub *h, relay_event_type type,
                               relay_event_predicate pred, void *user, int timeout_ms,
                               relay_result **out)
{
    lr_event_waiter *w = calloc(1, sizeof *w); /* 2 KiB: off the caller's stack */
    if (!w)
        return RELAY_ERR_NO_MEMORY;
    w->type = type;
    struct timespec dl = deadline_after_ms(timeout_ms > 0 ? timeout_ms : 0);
    relay_status st = RELAY_ERR_TIMEOUT;
    pthread_mutex_lock(&h->lock);
    w->next = h->waiters;
    h->waiters = w;
    for (;;) {
        if (w->len) {
            json_t *params = w->queue[w->head];
            w->head = (w->head + 1) % WAITER_QUEUE;
            w->len--;
            pthread_mutex_unlock(&h->lock);
            relay_event ev;
            int hit = 0;
            if (lr_event_fill(params, &ev) == 0) {
                hit = !pred || pred(&ev, user); /* on this thread, unlocked */
                if (hit && out) {
                    *out = (relay_result *)ev.params;
                    ev.params = NULL;
                }
                lr_event_done(&ev);
            }
            json_decref(params);
            pthread_mutex_lock(&h->lock);
            if (hit) {
                st = RELAY_OK;
                break;
            }
            continue;
        }
        if (h->gone) {
            st = RELAY_ERR_STATE;
            break;
        }
        int rc = timeout_ms > 0 ? pthread_cond_timedwait(&h->cond, &h->lock, &dl)
                                : pthread_cond_wait(&h->cond, &h->lock);
        if (rc == ETIMEDOUT && !w->len)
            break;
    }
    for (lr_event_waiter **at = &h->waiters; *at; at = &(*at)->next)
        if (*at == w) {
            *at = w->next;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    while (w->len) {
        json_decref(w->queue[w->head]);
        w->head = (w->head + 1) % WAITER_QUEUE;
        w->len--;
    }
    free(w);
    return st;
}

/* ------------------------------------------------------------ public */

relay_status relay_call_on(relay_call *call, relay_event_type type, relay_call_event_handler fn,
                           void *user)
{
    if (!call || !fn)
        return RELAY_ERR_INVALID_ARG;
    return lr_event_hub_listen(&call->events, type, fn, user);
}

relay_status relay_call_wait_for_event(relay_call *call, relay_event_type type,
                                       relay_event_predicate pred, void *user, int timeout_ms,
                                       relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(call->client))
        return RELAY_ERR_STATE;
    return lr_event_hub_wait(&call->events, type, pred, user, timeout_ms, out);
}

relay_status relay_client_wait_for_event(relay_client *c, relay_event_type type,
                                         relay_event_predicate pred, void *user, int timeout_ms,
                                         relay_result **out)
{
    if (out)
        *out = NULL;
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(c))
        return RELAY_ERR_STATE;
    return lr_event_hub_wait(&c->events, type, pred, user, timeout_ms, out);
}
