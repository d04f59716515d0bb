/*
 * relay_call: one call leg as the application sees it. Identity fields are
 * fixed at creation; state, refer progress and the refer handler live
 * under the call's mutex because the I/O thread writes them while handler
 * threads read and wait on them.
 *
 * Lifetime: reference-counted. The client's call map holds one reference
 * while events may still arrive; an inbound-call handler holds one while
 * it runs; actions hold one each.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/deadline.h"

/* After calling.call.state "ended", late events (a final refer NOTIFY, a
 * last play event) may still be on their way: keep the call findable for
 * a little while before letting it go. */
#define CALL_LINGER_MS 5000

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

relay_call *lr_call_new_from_event(relay_client *c, json_t *p)
{
    const char *call_id = json_string_value(json_object_get(p, "call_id"));
    if (!call_id || !*call_id)
        return NULL;
    relay_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    atomic_init(&call->refs, 1);
    call->client = c;
    pthread_mutex_init(&call->lock, NULL);
    pthread_cond_init(&call->cond, NULL);

    /* from/to: sip devices say from/to, phone devices from_number/to_number. */
    json_t *dev = json_object_get(json_object_get(p, "device"), "params");
    const char *from = json_string_value(json_object_get(dev, "from"));
    const char *to = json_string_value(json_object_get(dev, "to"));
    if (!from)
        from = json_string_value(json_object_get(dev, "from_number"));
    if (!to)
        to = json_string_value(json_object_get(dev, "to_number"));

    call->call_id = strdup(call_id);
    call->node_id = dup_or_empty(json_string_value(json_object_get(p, "node_id")));
    call->context = dup_or_empty(json_string_value(json_object_get(p, "context")));
    call->tag = dup_or_empty(json_string_value(json_object_get(p, "tag")));
    call->direction = dup_or_empty(json_string_value(json_object_get(p, "direction")));
    call->from = dup_or_empty(from);
    call->to = dup_or_empty(to);
    call->state = proto_call_state_from_name(json_string_value(json_object_get(p, "call_state")));
    if (!call->call_id || !call->node_id || !call->context || !call->tag || !call->direction ||
        !call->from || !call->to) {
        relay_call_unref(call);
        return NULL;
    }
    return call;
}

void relay_call_ref(relay_call *call)
{
    if (call)
        atomic_fetch_add_explicit(&call->refs, 1, memory_order_relaxed);
}

void relay_call_unref(relay_call *call)
{
    if (!call || atomic_fetch_sub_explicit(&call->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(call->call_id);
    free(call->node_id);
    free(call->context);
    free(call->tag);
    free(call->direction);
    free(call->from);
    free(call->to);
    json_decref(call->refer_params);
    pthread_cond_destroy(&call->cond);
    pthread_mutex_destroy(&call->lock);
    free(call);
}

const char *relay_call_id(const relay_call *call) { return call ? call->call_id : ""; }
const char *relay_call_node_id(const relay_call *call) { return call ? call->node_id : ""; }
const char *relay_call_context(const relay_call *call) { return call ? call->context : ""; }
const char *relay_call_tag(const relay_call *call) { return call ? call->tag : ""; }
const char *relay_call_direction(const relay_call *call) { return call ? call->direction : ""; }
const char *relay_call_from(const relay_call *call) { return call ? call->from : ""; }
const char *relay_call_to(const relay_call *call) { return call ? call->to : ""; }
relay_client *relay_call_client(const relay_call *call) { return call ? call->client : NULL; }

relay_call_state relay_call_get_state(const relay_call *call)
{
    if (!call)
        return RELAY_CALL_NONE;
    relay_call *mut = (relay_call *)call; /* locking is not a logical change */
    pthread_mutex_lock(&mut->lock);
    relay_call_state st = call->state;
    pthread_mutex_unlock(&mut->lock);
    return st;
}

relay_refer_state relay_call_refer_state(const relay_call *call)
{
    if (!call)
        return RELAY_REFER_UNKNOWN;
    relay_call *mut = (relay_call *)call;
    pthread_mutex_lock(&mut->lock);
    relay_refer_state st = call->refer_state;
    pthread_mutex_unlock(&mut->lock);
    return st;
}

/* ------------------------------------------------------------ I/O thread */

static void on_linger_done(lws_sorted_usec_list_t *sul)
{
    relay_call *call = lws_container_of(sul, relay_call, linger);
    relay_client *c = call->client;
    if (!call->in_map)
        return;
    lr_strmap_remove(&c->calls, call->call_id);
    call->in_map = 0;
    lr_call_mark_gone(call);
    relay_call_unref(call);
}

void lr_call_set_state(relay_call *call, relay_call_state st)
{
    if (st == RELAY_CALL_NONE)
        return;
    pthread_mutex_lock(&call->lock);
    /* States only move forward; a redelivered older state changes nothing. */
    if (st > call->state)
        call->state = st;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);
    if (st != RELAY_CALL_ENDED)
        return;
    /* Nothing more will play or record on an ended call. */
    while (call->actions)
        lr_action_complete(call->actions, RELAY_OK, NULL);
    if (call->in_map)
        lr_conn_schedule(call->client, &call->linger, on_linger_done, CALL_LINGER_MS);
}

void lr_call_mark_gone(relay_call *call)
{
    while (call->actions)
        lr_action_complete(call->actions, RELAY_OK, NULL);
    pthread_mutex_lock(&call->lock);
    call->gone = 1;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);
}

void lr_call_on_refer_event(relay_call *call, json_t *params)
{
    relay_refer_event ev;
    lr_dispatch_refer_event(params, &ev);
    json_t *copy = json_deep_copy(params);

    pthread_mutex_lock(&call->lock);
    if (ev.state != RELAY_REFER_UNKNOWN)
        call->refer_state = ev.state;
    if (copy) {
        json_decref(call->refer_params);
        call->refer_params = copy;
    }
    relay_refer_handler fn = call->refer_fn;
    void *user = call->refer_user;
    if (proto_refer_state_is_final(ev.state))
        pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);

    if (fn) {
        char *text = json_dumps(params, JSON_COMPACT);
        ev.params_json = text ? text : "{}";
        fn(call, &ev, user);
        free(text);
    }
}

/* ------------------------------------------------------------ any thread */

/* Waits on call->cond (locked) until done() or gone; 0, or ETIMEDOUT. */
static int wait_until(relay_call *call, int (*done)(const relay_call *, int), int arg,
                      int timeout_ms)
{
    struct timespec dl = deadline_after_ms(timeout_ms);
    int rc = 0;
    while (!done(call, arg) && !call->gone && rc != ETIMEDOUT) {
        if (timeout_ms > 0)
            rc = pthread_cond_timedwait(&call->cond, &call->lock, &dl);
        else
            pthread_cond_wait(&call->cond, &call->lock);
    }
    return rc;
}

static int state_reached(const relay_call *call, int st)
{
    return call->state >= (relay_call_state)st;
}

relay_status relay_call_wait_for(relay_call *call, relay_call_state state, int timeout_ms)
{
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(call->client))
        return RELAY_ERR_STATE;
    pthread_mutex_lock(&call->lock);
    wait_until(call, state_reached, (int)state, timeout_ms);
    relay_status st = state_reached(call, (int)state) ? RELAY_OK
                      : call->gone                    ? RELAY_ERR_STATE
                                                      : RELAY_ERR_TIMEOUT;
    pthread_mutex_unlock(&call->lock);
    return st;
}

relay_status relay_call_execute(relay_call *call, const char *method, const char *params_json,
                                relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call || !method)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_parse_object(params_json);
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    json_object_set_new(p, "node_id", json_string(call->node_id));
    json_object_set_new(p, "call_id", json_string(call->call_id));
    relay_status st = lr_client_call_method(call->client, method, p, out);
    json_decref(p);
    return st;
}

relay_status relay_call_answer(relay_call *call, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_call_params(call->node_id, call->call_id);
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    relay_status st = lr_client_call_method(call->client, proto_method_name(PM_ANSWER), p, out);
    json_decref(p);
    return st;
}

relay_status relay_call_hangup(relay_call *call, const char *reason, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!reason)
        reason = PROTO_END_HANGUP;
    if (!call || !proto_end_reason_valid(reason))
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_call_params(call->node_id, call->call_id);
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    json_object_set_new(p, "reason", json_string(reason));
    relay_status st = lr_client_call_method(call->client, proto_method_name(PM_END), p, out);
    json_decref(p);
    return st;
}

relay_status relay_call_on_refer(relay_call *call, relay_refer_handler fn, void *user)
{
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    pthread_mutex_lock(&call->lock);
    call->refer_fn = fn;
    call->refer_user = user;
    pthread_mutex_unlock(&call->lock);
    return RELAY_OK;
}

relay_status relay_call_refer(relay_call *call, const relay_device *device,
                              const char *status_url, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    relay_status st;
    json_t *p = lr_frame_refer_params(call->node_id, call->call_id, device, status_url, &st);
    if (!p)
        return st;
    /* A new transfer: forget the previous one's outcome before any of
     * this one's events can arrive. */
    pthread_mutex_lock(&call->lock);
    call->refer_state = RELAY_REFER_UNKNOWN;
    json_decref(call->refer_params);
    call->refer_params = NULL;
    pthread_mutex_unlock(&call->lock);
    st = lr_client_call_method(call->client, proto_method_name(PM_REFER), p, out);
    json_decref(p);
    return st;
}

static int refer_final(const relay_call *call, int unused)
{
    (void)unused;
    return proto_refer_state_is_final(call->refer_state);
}

relay_status relay_call_wait_refer(relay_call *call, int timeout_ms, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(call->client))
        return RELAY_ERR_STATE;
    pthread_mutex_lock(&call->lock);
    wait_until(call, refer_final, 0, timeout_ms);
    relay_status st = refer_final(call, 0) ? RELAY_OK
                      : call->gone         ? RELAY_ERR_STATE
                                           : RELAY_ERR_TIMEOUT;
    json_t *params = st == RELAY_OK && call->refer_params ? json_deep_copy(call->refer_params)
                                                          : NULL;
    pthread_mutex_unlock(&call->lock);
    if (out && st == RELAY_OK) {
        *out = lr_result_new(params);
        if (!*out)
            st = RELAY_ERR_NO_MEMORY;
    } else {
        json_decref(params);
    }
    return st;
}
