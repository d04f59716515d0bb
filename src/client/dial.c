/*
 * relay_client_dial: calling.dial answers "Dialing" at once, and the legs
 * it places are known only by the tag the client chose; the outcome is one
 * calling.call.dial event (answered, with the winning call, or failed).
 * So the waiting thread registers its tag here before sending, and the
 * I/O thread, when that event arrives, hands it the winning call (made a
 * client call like an inbound one) or the failure.
 *
 * A waiter that timed out stays registered, marked abandoned, until the
 * outcome arrives: an answer nobody takes any more is hung up rather than
 * left ringing on the server's bill. Waiters are bounded like calls.
 */
#include "dial.h"
#include "call.h"
#include "calling.h"
#include "client.h"
#include "result.h"
#include "rpc.h"
#include "common/deadline.h"
#include "common/uuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIAL_DEFAULT_WAIT_MS 120000

struct lr_dial_wait {
    lr_dial_wait *next;
    char *tag;
    int done;           /* the outcome arrived */
    int abandoned;      /* the waiter gave up: whoever decides frees it */
    relay_call *winner; /* a reference, when answered */
    json_t *event;      /* the outcome's params */
};

static void wait_free(lr_dial_wait *w)
{
    free(w->tag);
    relay_call_unref(w->winner);
    json_decref(w->event);
    free(w);
}

/* [dial_lock] */
static lr_dial_wait *wait_find(relay_client *c, const char *tag)
{
    for (lr_dial_wait *w = c->dials; w; w = w->next)
        if (strcmp(w->tag, tag) == 0)
            return w;
    return NULL;
}

/* [dial_lock] */
static void wait_remove(relay_client *c, lr_dial_wait *w)
{
    for (lr_dial_wait **p = &c->dials; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            c->n_dials--;
            return;
        }
}

static void ignore_result(relay_status st, relay_result *res, void *user)
{
    (void)st;
    (void)res; /* valid during the callback only */
    (void)user;
}

/* [io] The winning call in the client's map: the one events announced, or
 * one made from the dial event's `call`. A new reference, or NULL. */
static relay_call *winner_call(relay_client *c, json_t *desc)
{
    const char *call_id = json_string_value(json_object_get(desc, "call_id"));
    if (!call_id)
        return NULL;
    relay_call *call = lr_strmap_get(&c->calls, call_id);
    if (!call) {
        if (c->calls.count - (size_t)c->lingering_calls >= (size_t)c->max_active_calls)
            return NULL;
        json_t *p = json_deep_copy(desc);
        if (!p)
            return NULL;
        if (!json_object_get(p, "call_state")) /* the winner has answered */
            json_object_set_new(p, "call_state", json_string("answered"));
        if (!json_object_get(p, "direction"))
            json_object_set_new(p, "direction", json_string("outbound"));
        call = lr_call_new_from_event(c, p);
        json_decref(p);
        if (!call)
            return NULL;
        if (lr_strmap_put(&c->calls, call->call_id, call) != 0) {
            relay_call_unref(call);
            return NULL;
        }
        call->in_map = 1; /* the map owns call_new's reference */
    }
    relay_call_ref(call);
    return call;
}

void lr_dial_on_event(relay_client *c, json_t *params)
{
    const char *tag = json_string_value(json_object_get(params, "tag"));
    const char *state = json_string_value(json_object_get(params, "dial_state"));
    if (!tag || !state)
        return;
    int answered = strcmp(state, "answered") == 0;
    if (!answered && strcmp(state, "failed") != 0)
        return; /* dialing: progress only */
    pthread_mutex_lock(&c->dial_lock);
    lr_dial_wait *w = wait_find(c, tag);
    if (!w || w->done) {
        pthread_mutex_unlock(&c->dial_lock);
        return; /* a dial sent with relay_client_execute: listeners only */
    }
    relay_call *winner = answered ? winner_call(c, json_object_get(params, "call")) : NULL;
    if (w->abandoned) {
        wait_remove(c, w);
        pthread_mutex_unlock(&c->dial_lock);
        wait_free(w);
        if (winner) {
            CLOG(c, RELAY_LOG_WARN, "dial %s answered after its caller stopped waiting: hanging up",
                 tag);
            relay_call_hangup_async(winner, "hangup", ignore_result, NULL);
            relay_call_unref(winner);
        }
        return;
    }
    if (answered && !winner)
        CLOG(c, RELAY_LOG_WARN, "dial %s answered without a usable call", tag);
    w->winner = winner;
    w->event = json_deep_copy(params);
    w->done = 1;
    pthread_cond_broadcast(&c->dial_cond);
    pthread_mutex_unlock(&c->dial_lock);
}

void lr_dial_free_all(relay_client *c)
{
    pthread_mutex_lock(&c->dial_lock);
    while (c->dials) {
        lr_dial_wait *w = c->dials;
        c->dials = w->next;
        wait_free(w);
    }
    c->n_dials = 0;
    pthread_mutex_unlock(&c->dial_lock);
}

static json_t *dial_json(const relay_dial_params *p, const char *tag)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "tag", tag);
    lr_pb_req_json(&b, "devices", p->devices_json);
    lr_pb_str(&b, "region", p->region);
    lr_pb_num(&b, "max_price_per_minute", p->max_price_per_minute);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_client_dial(relay_client *c, const relay_dial_params *p, relay_call **call,
                               relay_result **out)
{
    if (out)
        *out = NULL;
    if (call)
        *call = NULL;
    if (!c || !p || !p->devices_json || !call || p->timeout_ms < 0)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(c))
        return RELAY_ERR_STATE;
    char fresh[UUID_STR_LEN];
    const char *tag = p->tag;
    if (!tag) {
        if (uuid_v4(fresh) != 0)
            return RELAY_ERR_NO_MEMORY;
        tag = fresh;
    }
    json_t *params = dial_json(p, tag);
    if (!params)
        return RELAY_ERR_INVALID_ARG;
    lr_dial_wait *w = calloc(1, sizeof *w);
    if (!w || !(w->tag = strdup(tag))) {
        free(w);
        json_decref(params);
        return RELAY_ERR_NO_MEMORY;
    }
    pthread_mutex_lock(&c->dial_lock);
    relay_status st = RELAY_OK;
    if (wait_find(c, tag))
        st = RELAY_ERR_INVALID_ARG; /* two dials, one tag: their outcomes would mix */
    else if (c->n_dials >= PROTO_MAX_ACTIVE_CALLS)
        st = RELAY_ERR_LIMIT;
    if (st == RELAY_OK) {
        w->next = c->dials;
        c->dials = w;
        c->n_dials++;
    }
    pthread_mutex_unlock(&c->dial_lock);
    if (st != RELAY_OK) {
        wait_free(w);
        json_decref(params);
        return st;
    }

    relay_result *answer = NULL;
    st = lr_request(c, NULL, NULL, proto_method_name(PM_DIAL), params, NULL, NULL, NULL, &answer);
    json_decref(params);
    pthread_mutex_lock(&c->dial_lock);
    if (st != RELAY_OK) {
        wait_remove(c, w); /* refused: no outcome will come */
        pthread_mutex_unlock(&c->dial_lock);
        wait_free(w);
        if (out)
            *out = answer;
        else
            relay_result_free(answer);
        return st;
    }
    relay_result_free(answer);
    struct timespec until = deadline_after_ms(p->timeout_ms ? p->timeout_ms : DIAL_DEFAULT_WAIT_MS);
    while (!w->done)
        if (pthread_cond_timedwait(&c->dial_cond, &c->dial_lock, &until) == ETIMEDOUT)
            break;
    if (!w->done) {
        w->abandoned = 1; /* lr_dial_on_event frees it */
        pthread_mutex_unlock(&c->dial_lock);
        return RELAY_ERR_TIMEOUT;
    }
    wait_remove(c, w);
    pthread_mutex_unlock(&c->dial_lock);
    *call = w->winner;
    w->winner = NULL;
    if (out)
        *out = lr_result_new(json_incref(w->event));
    st = *call ? RELAY_OK : RELAY_ERR_SERVER;
    wait_free(w);
    return st;
}
