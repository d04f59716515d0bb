/*
 * relay_action: an operation running on a call (play now; record, collect,
 * detect... as rows of action_kind later), found by its control_id.
 *
 * References: the application's (relay_action_free), the start request's
 * while it is in flight, and the I/O thread's action map's while the
 * action runs. Completion happens exactly once, on the I/O thread: on a
 * terminal event, a failed start, the call's end, or the session's loss.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/deadline.h"

const action_kind lr_action_kind_play = {PM_PLAY, PM_PLAY_STOP, PE_CALL_PLAY,
                                      proto_play_state_is_final};

relay_action *lr_action_new(relay_call *call, const action_kind *kind)
{
    relay_action *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (uuid_v4(a->control_id) != 0) {
        free(a);
        return NULL;
    }
    atomic_init(&a->refs, 1);
    a->client = call->client;
    a->call = call;
    relay_call_ref(call);
    a->kind = kind;
    a->state = "";
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    return a;
}

static void action_ref(relay_action *a)
{
    atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
}

void lr_action_unref(relay_action *a)
{
    if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
        return;
    relay_call_unref(a->call);
    json_decref(a->last);
    lr_strpool_free(&a->states);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void relay_action_free(relay_action *a)
{
    lr_action_unref(a);
}

/* ------------------------------------------------------------ I/O thread */

void lr_action_register(relay_client *c, relay_action *a)
{
    relay_call *call = a->call;
    if (!call->in_map) {
        /* The call is already forgotten: no event would ever reach it. */
        lr_action_complete(a, RELAY_OK, NULL);
        return;
    }
    if (lr_strmap_put(&c->actions, a->control_id, a) != 0) {
        lr_action_complete(a, RELAY_ERR_NO_MEMORY, NULL);
        return;
    }
    action_ref(a);
    a->in_map = 1;
    a->call_prev = NULL;
    a->call_next = call->actions;
    if (call->actions)
        call->actions->call_prev = a;
    call->actions = a;
}

void lr_action_on_event(relay_action *a, json_t *params)
{
    const char *state = json_string_value(json_object_get(params, "state"));
    json_t *copy = json_deep_copy(params);
    pthread_mutex_lock(&a->lock);
    if (state) {
        const char *s = lr_strpool_intern(&a->states, state);
        if (s)
            a->state = s;
    }
    if (copy) {
        json_decref(a->last);
        a->last = copy;
    }
    pthread_mutex_unlock(&a->lock);
    if (state && a->kind->is_final(state))
        lr_action_complete(a, strcmp(state, "error") == 0 ? RELAY_ERR_SERVER : RELAY_OK, NULL);
}

void lr_action_complete(relay_action *a, relay_status st, json_t *final)
{
    json_t *copy = final ? json_deep_copy(final) : NULL;
    pthread_mutex_lock(&a->lock);
    if (a->completed) {
        pthread_mutex_unlock(&a->lock);
        json_decref(copy);
        return;
    }
    a->completed = 1;
    a->final_status = st;
    if (copy) {
        json_decref(a->last);
        a->last = copy;
    } else if (st == RELAY_OK && !a->kind->is_final(a->state)) {
        /* Resolved without a terminal event: the call went away first. */
        json_t *gone = json_pack("{s:s,s:s,s:s}", "code", "410", "message", "the call has ended",
                                 "control_id", a->control_id);
        if (gone) {
            json_decref(a->last);
            a->last = gone;
        }
    }
    relay_action_callback fn = a->done_fired ? NULL : a->done_fn;
    void *user = a->done_user;
    if (fn)
        a->done_fired = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);

    int owned = a->in_map;
    if (a->in_map) {
        relay_call *call = a->call;
        lr_strmap_remove(&a->client->actions, a->control_id);
        if (a->call_prev)
            a->call_prev->call_next = a->call_next;
        else
            call->actions = a->call_next;
        if (a->call_next)
            a->call_next->call_prev = a->call_prev;
        a->call_prev = a->call_next = NULL;
        a->in_map = 0;
    }
    if (fn)
        fn(a, user);
    if (owned)
        lr_action_unref(a); /* last: the application may have freed its own already */
}

/* The answer to the start request decides whether the action runs. */
static void on_start_done(relay_client *c, rpc_req *req)
{
    (void)c;
    relay_action *a = req->action;
    if (req->status != RELAY_OK) {
        lr_action_complete(a, req->status, NULL);
        return;
    }
    relay_status st = lr_result_classify(req->result, req->error, NULL);
    json_t *body = req->error ? req->error : req->result;
    if (st != RELAY_OK) {
        lr_action_complete(a, st, body);
        return;
    }
    char code[16] = "";
    json_t *v = json_object_get(req->result, "code");
    if (json_is_string(v))
        snprintf(code, sizeof code, "%s", json_string_value(v));
    if (proto_code_is_gone(code))
        lr_action_complete(a, RELAY_OK, body);
}

/* ------------------------------------------------------------ any thread */

const char *relay_action_control_id(const relay_action *a)
{
    return a ? a->control_id : "";
}

const char *relay_action_state(const relay_action *a)
{
    if (!a)
        return "";
    relay_action *mut = (relay_action *)a;
    pthread_mutex_lock(&mut->lock);
    const char *s = a->state; /* interned: valid until the action is freed */
    pthread_mutex_unlock(&mut->lock);
    return s;
}

int relay_action_completed(const relay_action *a)
{
    if (!a)
        return 0;
    relay_action *mut = (relay_action *)a;
    pthread_mutex_lock(&mut->lock);
    int done = a->completed;
    pthread_mutex_unlock(&mut->lock);
    return done;
}

relay_result *relay_action_result(const relay_action *a)
{
    if (!a)
        return NULL;
    relay_action *mut = (relay_action *)a;
    pthread_mutex_lock(&mut->lock);
    json_t *copy = a->last ? json_deep_copy(a->last) : NULL;
    pthread_mutex_unlock(&mut->lock);
    return copy ? lr_result_new(copy) : NULL;
}

relay_status relay_action_wait(relay_action *a, int timeout_ms, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!a)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(a->client))
        return RELAY_ERR_STATE;
    struct timespec dl = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    while (!a->completed && rc != ETIMEDOUT) {
        if (timeout_ms > 0)
            rc = pthread_cond_timedwait(&a->cond, &a->lock, &dl);
        else
            pthread_cond_wait(&a->cond, &a->lock);
    }
    relay_status st = a->completed ? a->final_status : RELAY_ERR_TIMEOUT;
    json_t *copy = a->completed && a->last ? json_deep_copy(a->last) : NULL;
    pthread_mutex_unlock(&a->lock);
    if (out && copy)
        *out = lr_result_new(copy);
    else
        json_decref(copy);
    return st;
}

relay_status relay_action_on_completed(relay_action *a, relay_action_callback fn, void *user)
{
    if (!a)
        return RELAY_ERR_INVALID_ARG;
    pthread_mutex_lock(&a->lock);
    a->done_fn = fn;
    a->done_user = user;
    int now = a->completed && !a->done_fired && fn;
    if (now)
        a->done_fired = 1;
    pthread_mutex_unlock(&a->lock);
    if (now)
        fn(a, user);
    return RELAY_OK;
}

relay_status relay_action_stop(relay_action *a, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!a)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_call_params(a->call->node_id, a->call->call_id);
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    json_object_set_new(p, "control_id", json_string(a->control_id));
    relay_status st = lr_client_call_method(a->client, proto_method_name(a->kind->stop), p, out);
    json_decref(p);
    return st;
}

/* Sends the start request of a (params borrowed) and waits for its answer. */
static relay_status action_start(relay_action *a, json_t *params)
{
    relay_client *c = a->client;
    if (lr_client_on_io_thread(c))
        return RELAY_ERR_STATE;
    rpc_req *req = lr_rpc_req_new(proto_method_name(a->kind->start), params, c->request_timeout_ms);
    if (!req)
        return RELAY_ERR_NO_MEMORY;
    req->hook = on_start_done;
    req->action = a;
    action_ref(a);
    relay_status st = lr_client_submit(c, req);
    if (st == RELAY_OK)
        st = lr_rpc_req_wait(req, NULL);
    lr_rpc_req_unref(req);
    return st;
}

relay_status relay_call_play_async(relay_call *call, const relay_media *media, size_t n_media,
                                   const relay_play_params *params, relay_action **out)
{
    if (!out)
        return RELAY_ERR_INVALID_ARG;
    *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    relay_action *a = lr_action_new(call, &lr_action_kind_play);
    if (!a)
        return RELAY_ERR_NO_MEMORY;
    relay_status st;
    json_t *p = lr_frame_play_params(call->node_id, call->call_id, a->control_id, media, n_media,
                                  params, &st);
    if (p) {
        st = action_start(a, p);
        json_decref(p);
    }
    if (st != RELAY_OK) {
        lr_action_unref(a);
        return st;
    }
    *out = a;
    return RELAY_OK;
}

relay_status relay_call_play(relay_call *call, const relay_media *media, size_t n_media,
                             const relay_play_params *params, relay_result **out)
{
    if (out)
        *out = NULL;
    relay_action *a = NULL;
    relay_status st = relay_call_play_async(call, media, n_media, params, &a);
    if (st != RELAY_OK)
        return st;
    st = relay_action_wait(a, 0, out);
    relay_action_free(a);
    return st;
}

relay_status relay_call_play_tts_async(relay_call *call, const char *text, relay_action **out)
{
    if (!text)
        return RELAY_ERR_INVALID_ARG;
    relay_media m = {.type = "tts", .text = text};
    return relay_call_play_async(call, &m, 1, NULL, out);
}

relay_status relay_call_play_tts(relay_call *call, const char *text, relay_result **out)
{
    if (!text)
        return RELAY_ERR_INVALID_ARG;
    relay_media m = {.type = "tts", .text = text};
    return relay_call_play(call, &m, 1, NULL, out);
}
