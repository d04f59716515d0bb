/*
 * relay_call: one call leg as the application sees it. Identity fields are
 * fixed at creation; state, per-family listeners and the last action of
 * each family live under the call's mutex because the I/O thread writes
 * them while other threads read and wait on them. Nothing here knows a
 * family by name (refer's wrappers live in refer.c).
 *
 * Lifetime: reference-counted. The client's call map holds one reference
 * while events may still arrive; an inbound-call handler holds one while
 * it runs; requests naming it and queued callbacks hold one each. Actions
 * do not hold their call (the call holds its last actions; a cycle would
 * leak): they keep its ids and a reference on its strand.
 */
#include "call.h"
#include "action.h"
#include "calling.h"
#include "client.h"
#include "frames.h"
#include "result.h"
#include "rpc.h"

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
    lr_event_hub_init(&call->events);
    call->strand = lr_strand_new();

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
    if (!call->strand || !call->call_id || !call->node_id || !call->context || !call->tag || !call->direction ||
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
    for (int f = 0; f < PF__COUNT; f++)
        lr_action_unref(call->last[f]);
    lr_strand_unref(call->strand);
    lr_event_hub_destroy(&call->events);
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

/* ------------------------------------------------------------ I/O thread */

void lr_call_forget(relay_call *call)
{
    relay_client *c = call->client;
    if (!call->in_map)
        return;
    lr_client_cancel(c, &call->linger);
    if (call->lingering) {
        call->lingering = 0;
        c->lingering_calls--;
    }
    lr_strmap_remove(&c->calls, call->call_id);
    call->in_map = 0;
    lr_call_mark_gone(call);
    relay_call_unref(call);
}

static void on_linger_done(lr_timer *t)
{
    lr_call_forget(lr_container_of(t, relay_call, linger));
}

void lr_call_release_done(relay_client *c, rpc_req *req)
{
    (void)c;
    /* Passed or transferred: the server sends this session nothing more
     * about the call, so waiting on it would wait forever. */
    if (req->status == RELAY_OK && req->call &&
        lr_result_classify(req->result, req->error, NULL) == RELAY_OK)
        lr_call_forget(req->call);
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
    /* Nothing more will play or record on an ended call. Operations that
     * the table routes by call + event (refer, connect) are the exception:
     * a transfer's final NOTIFY legitimately follows the BYE it caused, so
     * they keep running until their own end or the linger's. */
    relay_action *a = call->actions;
    while (a) {
        relay_action *next = a->call_next;
        if (a->info->route != PROTO_ROUTE_CALL_EVENT)
            lr_action_complete(a, RELAY_OK, NULL);
        a = next;
    }
    if (!call->in_map || call->lingering)
        return;
    /* Ended calls do not count against the active-call limit (at 200
     * calls/s, five seconds of them are a thousand: bench/seed_flow.sh),
     * but they are bounded too: past as many lingering as active calls, an
     * ended call is let go at once and only its late events are lost. */
    relay_client *c = call->client;
    if (c->lingering_calls >= PROTO_MAX_ACTIVE_CALLS) {
        lr_call_forget(call);
        return;
    }
    call->lingering = 1;
    c->lingering_calls++;
    lr_client_schedule(c, &call->linger, on_linger_done, CALL_LINGER_MS);
}

void lr_call_mark_gone(relay_call *call)
{
    while (call->actions)
        lr_action_complete(call->actions, RELAY_OK, NULL);
    pthread_mutex_lock(&call->lock);
    call->gone = 1;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);
    lr_event_hub_close(&call->events);
}

relay_action *lr_call_running_action(relay_call *call, proto_family f)
{
    /* Newest first: the list is pushed at the front. */
    for (relay_action *a = call->actions; a; a = a->call_next)
        if (a->family == f)
            return a;
    return NULL;
}

void lr_call_post(relay_call *call, lr_task *t)
{
    lr_client_post(call->client, call->strand, t);
}

typedef struct listener_task {
    lr_task task;
    relay_call *call; /* ref held */
    json_t *params;   /* own copy */
    lr_listener l;
} listener_task;

static void run_listener(lr_task *t)
{
    listener_task *lt = (listener_task *)t;
    lt->l.deliver(lt->call, lt->params, &lt->l);
    json_decref(lt->params);
    relay_call_unref(lt->call);
    free(lt);
}

void lr_call_on_family_event(relay_call *call, proto_family f, json_t *params)
{
    pthread_mutex_lock(&call->lock);
    lr_listener l = call->listeners[f];
    pthread_mutex_unlock(&call->lock);
    if (!l.deliver)
        return;
    listener_task *lt = malloc(sizeof *lt);
    json_t *copy = json_deep_copy(params);
    if (!lt || !copy) {
        free(lt);
        json_decref(copy);
        CLOG(call->client, RELAY_LOG_ERROR, "out of memory: an event handler is skipped");
        return;
    }
    lt->task.run = run_listener;
    relay_call_ref(call);
    lt->call = call;
    lt->params = copy;
    lt->l = l;
    lr_call_post(call, &lt->task);
}

/* ------------------------------------------------------------ any thread */

relay_action *lr_call_last_action(relay_call *call, proto_family f)
{
    pthread_mutex_lock(&call->lock);
    relay_action *a = call->last[f];
    if (a)
        lr_action_ref(a);
    pthread_mutex_unlock(&call->lock);
    return a;
}

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

/* A plain request naming this call: params (stolen) get node_id and
 * call_id. Blocking without cb, else cb runs on the call's strand. */
static relay_status call_request(relay_call *call, proto_method m, const char *name, json_t *p,
                                 relay_result_callback cb, void *user, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    json_object_set_new(p, "node_id", json_string(call->node_id));
    json_object_set_new(p, "call_id", json_string(call->call_id));
    relay_status st = lr_request(call->client, call, call->strand,
                                 name ? name : proto_method_name(m), p, NULL, cb, user, out);
    json_decref(p);
    return st;
}

relay_status lr_call_plain(relay_call *call, proto_method m, json_t *p, relay_result_callback cb,
                           void *user, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call || !p) {
        json_decref(p);
        return RELAY_ERR_INVALID_ARG;
    }
    return call_request(call, m, NULL, p, cb, user, out);
}

relay_status relay_call_execute(relay_call *call, const char *method, const char *params_json,
                                relay_result **out)
{
    if (out)
        *out = NULL;
    json_t *p = call && method ? lr_frame_parse_object(params_json) : NULL;
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_UNKNOWN, method, p, NULL, NULL, out);
}

relay_status relay_call_execute_async(relay_call *call, const char *method,
                                      const char *params_json, relay_result_callback cb,
                                      void *user)
{
    json_t *p = call && method && cb ? lr_frame_parse_object(params_json) : NULL;
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_UNKNOWN, method, p, cb, user, NULL);
}

relay_status relay_call_answer(relay_call *call, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_ANSWER, NULL, json_object(), NULL, NULL, out);
}

relay_status relay_call_answer_async(relay_call *call, relay_result_callback cb, void *user)
{
    if (!call || !cb)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_ANSWER, NULL, json_object(), cb, user, NULL);
}

relay_status relay_call_pass(relay_call *call, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_PASS, NULL, json_object(), NULL, NULL, out);
}

relay_status relay_call_pass_async(relay_call *call, relay_result_callback cb, void *user)
{
    if (!call || !cb)
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_PASS, NULL, json_object(), cb, user, NULL);
}

static json_t *hangup_params(const char *reason)
{
    return json_pack("{s:s}", "reason", reason ? reason : PROTO_END_HANGUP);
}

relay_status relay_call_hangup(relay_call *call, const char *reason, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call || (reason && !proto_end_reason_valid(reason)))
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_END, NULL, hangup_params(reason), NULL, NULL, out);
}

relay_status relay_call_hangup_async(relay_call *call, const char *reason,
                                     relay_result_callback cb, void *user)
{
    if (!call || !cb || (reason && !proto_end_reason_valid(reason)))
        return RELAY_ERR_INVALID_ARG;
    return call_request(call, PM_END, NULL, hangup_params(reason), cb, user, NULL);
}
