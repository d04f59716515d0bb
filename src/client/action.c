/*
 * relay_action: one operation running on a call, of any family of the
 * common table (play, record, collect, refer, connect...). The table says
 * how its events find it (control_id or call + event type), when it is
 * complete (terminal states, or a first non-empty result) and which
 * sub-methods it has; nothing in this file knows a family by name.
 *
 * References: the application's (relay_action_free), the start request's
 * while it is in flight, the I/O thread's while the action runs, the
 * call's "last action of its family", and one per queued callback.
 * Completion happens exactly once, on the I/O thread: on a terminal event,
 * a failed start, the call's end, or the session's loss.
 */
#include "action.h"
#include "call.h"
#include "calling.h"
#include "client.h"
#include "frames.h"
#include "result.h"
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/deadline.h"

relay_action *lr_action_new(relay_call *call, proto_family f, const char *control_id)
{
    const proto_family_info *info = proto_family_get(f);
    if (!info)
        return NULL;
    relay_action *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    atomic_init(&a->refs, 1);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->client = call->client;
    a->call = call;
    a->family = f;
    a->info = info;
    a->state = "";
    a->strand = call->strand;
    lr_strand_ref(a->strand);
    char fresh[UUID_STR_LEN] = "";
    if (!control_id && info->route == PROTO_ROUTE_CONTROL_ID && uuid_v4(fresh) != 0) {
        lr_action_unref(a);
        return NULL;
    }
    a->control_id = strdup(control_id ? control_id : fresh);
    a->call_id = strdup(call->call_id);
    a->node_id = strdup(call->node_id);
    if (!a->control_id || !a->call_id || !a->node_id) {
        lr_action_unref(a);
        return NULL;
    }
    return a;
}

void lr_action_ref(relay_action *a)
{
    atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
}

void lr_action_unref(relay_action *a)
{
    if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
        return;
    lr_strand_unref(a->strand);
    free(a->control_id);
    free(a->call_id);
    free(a->node_id);
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

/* ------------------------------------------------------------ callbacks */

typedef struct done_task {
    lr_task task;
    relay_action *a; /* ref held */
    relay_action_callback fn;
    void *user;
} done_task;

static void run_done(lr_task *t)
{
    done_task *d = (done_task *)t;
    d->fn(d->a, d->user);
    lr_action_unref(d->a);
    free(d);
}

/* Queues a completion or progress callback on the action's strand, so it
 * runs in the order of its call's other callbacks. */
static void post_done(relay_action *a, relay_action_callback fn, void *user)
{
    done_task *d = malloc(sizeof *d);
    if (!d) {
        CLOG(a->client, RELAY_LOG_ERROR, "out of memory: a completion callback is lost");
        return;
    }
    d->task.run = run_done;
    lr_action_ref(a);
    d->a = a;
    d->fn = fn;
    d->user = user;
    lr_client_post(a->client, a->strand, &d->task);
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
    if (a->info->route == PROTO_ROUTE_CONTROL_ID) {
        if (lr_strmap_put(&c->actions, a->control_id, a) != 0) {
            lr_action_complete(a, RELAY_ERR_NO_MEMORY, NULL);
            return;
        }
        a->in_map = 1;
    }
    lr_action_ref(a);
    a->running = 1;
    a->call_prev = NULL;
    a->call_next = call->actions;
    if (call->actions)
        call->actions->call_prev = a;
    call->actions = a;
}

/* The family's completion rule for one event: 0 (not yet), or 1 with *st. */
static int event_completes(const relay_action *a, const char *state, json_t *params,
                           relay_status *st)
{
    *st = RELAY_OK;
    if (state && proto_family_state_is_terminal(a->family, state)) {
        if (proto_family_state_is_failure(a->family, state))
            *st = RELAY_ERR_SERVER;
        return 1;
    }
    /* A partial result (collect with partial_results) says final: false;
     * only a result that is not marked partial ends the operation. */
    const char *key = a->info->done == PROTO_DONE_ON_RESULT   ? "result"
                      : a->info->done == PROTO_DONE_ON_DETECT ? "detect"
                                                              : NULL;
    json_t *result = key ? json_object_get(params, key) : NULL;
    if (a->wait_ready) {
        const char *ev = json_string_value(
            json_object_get(json_object_get(result, "params"), "event"));
        if (ev && (strcmp(ev, "MACHINE") == 0 || strcmp(ev, "NOT_READY") == 0))
            return 0;
    }
    return json_is_object(result) && json_object_size(result) > 0 &&
           !json_is_false(json_object_get(params, "final"));
}

void lr_action_on_event(relay_action *a, json_t *params)
{
    /* connect's events say connect_state: the family's event names its key */
    const char *state =
        json_string_value(json_object_get(params, proto_event_state_key(a->info->event)));
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
    relay_action_callback progress = a->progress_fn;
    void *progress_user = a->progress_user;
    pthread_mutex_unlock(&a->lock);
    if (progress)
        post_done(a, progress, progress_user);
    relay_status st;
    if (event_completes(a, state, params, &st))
        lr_action_complete(a, st, params);
}

/* Takes a finished action out of its call's list and the control_id map. */
static void unlink_running(relay_action *a)
{
    relay_call *call = a->call;
    if (a->in_map)
        lr_strmap_remove(&a->client->actions, a->control_id);
    if (a->call_prev)
        a->call_prev->call_next = a->call_next;
    else
        call->actions = a->call_next;
    if (a->call_next)
        a->call_next->call_prev = a->call_prev;
    a->call_prev = a->call_next = NULL;
    a->in_map = a->running = 0;
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
    } else if (st == RELAY_OK) {
        /* Resolved without a completing event: the call went away first. */
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

    relay_call *call = a->call;
    int owned = a->running;
    if (a->running)
        unlink_running(a);
    a->call = NULL; /* borrowed no longer */
    if (call) {
        /* Waiters on the call's last action of a family (wait_refer). */
        pthread_mutex_lock(&call->lock);
        pthread_cond_broadcast(&call->cond);
        pthread_mutex_unlock(&call->lock);
    }
    if (fn)
        post_done(a, fn, user);
    if (owned)
        lr_action_unref(a); /* last: the application may have freed its own already */
}

/* The answer to the start request decides whether the action runs. */
void lr_action_start_done(relay_client *c, rpc_req *req)
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

relay_status lr_action_start(relay_action *a, relay_call *call, proto_method m, json_t *params,
                             relay_result_callback cb, void *user, relay_result **out)
{
    /* The call remembers its last action of each family before any of
     * the action's events can arrive (relay_call_wait_refer reads it). */
    lr_action_ref(a);
    pthread_mutex_lock(&call->lock);
    relay_action *old = call->last[a->family];
    call->last[a->family] = a;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);
    lr_action_unref(old);
    return lr_request(a->client, call, call->strand, proto_method_name(m), params, a, cb, user,
                      out);
}

/* Adds node_id, call_id and (for control_id families) control_id to p. */
static void add_ids(const relay_action *a, json_t *p)
{
    json_object_set_new(p, "node_id", json_string(a->node_id));
    json_object_set_new(p, "call_id", json_string(a->call_id));
    if (a->info->route == PROTO_ROUTE_CONTROL_ID)
        json_object_set_new(p, "control_id", json_string(a->control_id));
}

/* Python's detect with wait_for_beep completes on READY, not on MACHINE:
 * the application wants to speak after the beep. Known before the start,
 * so the I/O thread reads it as const. */
static void note_wait_ready(relay_action *a, json_t *p)
{
    json_t *d = json_object_get(p, "detect");
    const char *type = json_string_value(json_object_get(d, "type"));
    a->wait_ready = a->family == PF_DETECT && type && strcmp(type, "machine") == 0 &&
                    json_is_true(json_object_get(json_object_get(d, "params"), "wait_for_beep"));
}

/* Both forms of the generic start: blocking without cb. */
static relay_status start_generic(relay_call *call, const char *method, const char *params_json,
                                  relay_result_callback cb, void *user, relay_action **out)
{
    if (!out)
        return RELAY_ERR_INVALID_ARG;
    *out = NULL;
    const proto_method_info *mi = proto_method_get(proto_method_from_name(method));
    const proto_family_info *fi = mi ? proto_family_get(mi->family) : NULL;
    /* Only a START that runs on an existing call (dial has no call yet). */
    if (!call || !mi || mi->role != PROTO_ROLE_START || !fi || fi->route == PROTO_ROUTE_TAG)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_parse_object(params_json);
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    const char *given = json_string_value(json_object_get(p, "control_id"));
    relay_action *a = lr_action_new(call, mi->family, given);
    if (!a) {
        json_decref(p);
        return RELAY_ERR_NO_MEMORY;
    }
    add_ids(a, p);
    note_wait_ready(a, p);
    relay_status st = lr_action_start(a, call, mi->method, p, cb, user, NULL);
    json_decref(p);
    if (st != RELAY_OK) {
        lr_action_unref(a);
        return st;
    }
    *out = a;
    return RELAY_OK;
}

relay_status lr_call_action(relay_call *call, proto_method m, json_t *p, relay_action **out)
{
    if (out)
        *out = NULL;
    const proto_method_info *mi = proto_method_get(m);
    if (!call || !p || !out || !mi || mi->role != PROTO_ROLE_START) {
        json_decref(p);
        return RELAY_ERR_INVALID_ARG;
    }
    const char *given = json_string_value(json_object_get(p, "control_id"));
    relay_action *a = lr_action_new(call, mi->family, given);
    if (!a) {
        json_decref(p);
        return RELAY_ERR_NO_MEMORY;
    }
    add_ids(a, p);
    note_wait_ready(a, p);
    relay_status st = lr_action_start(a, call, m, p, NULL, NULL, NULL);
    json_decref(p);
    if (st != RELAY_OK) {
        lr_action_unref(a);
        return st;
    }
    *out = a;
    return RELAY_OK;
}

relay_status lr_action_wait_free(relay_status st, relay_action *a, relay_result **out)
{
    if (out)
        *out = NULL;
    if (st != RELAY_OK)
        return st;
    st = relay_action_wait(a, 0, out);
    relay_action_free(a);
    return st;
}

relay_status lr_call_action_wait(relay_call *call, proto_method m, json_t *p, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = lr_call_action(call, m, p, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_start(relay_call *call, const char *method, const char *params_json,
                              relay_action **out)
{
    return start_generic(call, method, params_json, NULL, NULL, out);
}

relay_status relay_call_start_async(relay_call *call, const char *method,
                                    const char *params_json, relay_result_callback cb,
                                    void *user, relay_action **out)
{
    if (!cb) {
        if (out)
            *out = NULL;
        return RELAY_ERR_INVALID_ARG;
    }
    return start_generic(call, method, params_json, cb, user, out);
}

relay_status relay_action_on_progress(relay_action *a, relay_action_callback fn, void *user)
{
    if (!a)
        return RELAY_ERR_INVALID_ARG;
    pthread_mutex_lock(&a->lock);
    a->progress_fn = fn;
    a->progress_user = user;
    pthread_mutex_unlock(&a->lock);
    return RELAY_OK;
}

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
        post_done(a, fn, user);
    return RELAY_OK;
}

/* A sub-method of the action's family (stop, pause, ...); extra (stolen,
 * may be NULL) holds more params. */
static relay_status sub_method(relay_action *a, proto_role role, json_t *extra,
                               relay_result_callback cb, void *user, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!a) {
        json_decref(extra);
        return RELAY_ERR_INVALID_ARG;
    }
    proto_method m = proto_family_method(a->family, role);
    if (m == PM_UNKNOWN) {
        json_decref(extra);
        return RELAY_ERR_STATE;
    }
    json_t *p = extra ? extra : json_object();
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    add_ids(a, p);
    /* The callback runs in the order of the action's call. */
    relay_status st =
        lr_request(a->client, NULL, a->strand, proto_method_name(m), p, NULL, cb, user, out);
    json_decref(p);
    return st;
}

relay_status relay_action_stop(relay_action *a, relay_result **out)
{
    return sub_method(a, PROTO_ROLE_STOP, NULL, NULL, NULL, out);
}

relay_status relay_action_pause(relay_action *a, relay_result **out)
{
    return sub_method(a, PROTO_ROLE_PAUSE, NULL, NULL, NULL, out);
}

relay_status relay_action_resume(relay_action *a, relay_result **out)
{
    return sub_method(a, PROTO_ROLE_RESUME, NULL, NULL, NULL, out);
}

relay_status relay_action_volume(relay_action *a, double db, relay_result **out)
{
    return sub_method(a, PROTO_ROLE_VOLUME, json_pack("{s:f}", "volume", db), NULL, NULL, out);
}

relay_status relay_action_stop_async(relay_action *a, relay_result_callback cb, void *user)
{
    return cb ? sub_method(a, PROTO_ROLE_STOP, NULL, cb, user, NULL) : RELAY_ERR_INVALID_ARG;
}

relay_status relay_action_pause_async(relay_action *a, relay_result_callback cb, void *user)
{
    return cb ? sub_method(a, PROTO_ROLE_PAUSE, NULL, cb, user, NULL) : RELAY_ERR_INVALID_ARG;
}

relay_status relay_action_resume_async(relay_action *a, relay_result_callback cb, void *user)
{
    return cb ? sub_method(a, PROTO_ROLE_RESUME, NULL, cb, user, NULL) : RELAY_ERR_INVALID_ARG;
}

relay_status relay_action_volume_async(relay_action *a, double db, relay_result_callback cb,
                                       void *user)
{
    if (!cb)
        return RELAY_ERR_INVALID_ARG;
    return sub_method(a, PROTO_ROLE_VOLUME, json_pack("{s:f}", "volume", db), cb, user, NULL);
}

/* The Python SDK sends calling.collect.start_input_timers for a
 * play_and_collect as well (its prompt action has no timers method of its
 * own, and the table has none): the collect's row serves both. */
static relay_status start_timers(relay_action *a, relay_result_callback cb, void *user,
                                 relay_result **out)
{
    if (out)
        *out = NULL;
    if (!a)
        return RELAY_ERR_INVALID_ARG;
    proto_method m = proto_family_method(a->family, PROTO_ROLE_START_TIMERS);
    if (m == PM_UNKNOWN && a->family == PF_PLAY_AND_COLLECT)
        m = PM_COLLECT_START_INPUT_TIMERS;
    if (m == PM_UNKNOWN)
        return RELAY_ERR_STATE;
    json_t *p = json_object();
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    add_ids(a, p);
    relay_status st =
        lr_request(a->client, NULL, a->strand, proto_method_name(m), p, NULL, cb, user, out);
    json_decref(p);
    return st;
}

relay_status relay_action_start_input_timers(relay_action *a, relay_result **out)
{
    return start_timers(a, NULL, NULL, out);
}

relay_status relay_action_start_input_timers_async(relay_action *a, relay_result_callback cb,
                                                   void *user)
{
    return cb ? start_timers(a, cb, user, NULL) : RELAY_ERR_INVALID_ARG;
}

/* ------------------------------------------------------------ play */

relay_status relay_call_play_async(relay_call *call, const relay_media *media, size_t n_media,
                                   const relay_play_params *params, relay_action **out)
{
    if (!out)
        return RELAY_ERR_INVALID_ARG;
    *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    relay_action *a = lr_action_new(call, PF_PLAY, NULL);
    if (!a)
        return RELAY_ERR_NO_MEMORY;
    relay_status st;
    json_t *p = lr_frame_play_params(call->node_id, call->call_id, a->control_id, media, n_media,
                                     params, &st);
    if (p) {
        st = lr_action_start(a, call, PM_PLAY, p, NULL, NULL, NULL);
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
    relay_action *a = NULL;
    relay_status st = relay_call_play_async(call, media, n_media, params, &a);
    return lr_action_wait_free(st, a, out);
}

/* The one-item plays (play_tts, play_audio, play_silence, play_ringtone):
 * one relay_media each, so that the one media builder (frames.c) makes the
 * item Python's helper sends. A missing required argument sends nothing. */
static relay_status play_one_async(relay_call *call, const relay_media *m, int valid,
                                   relay_action **out)
{
    if (!valid) {
        if (out)
            *out = NULL;
        return RELAY_ERR_INVALID_ARG;
    }
    return relay_call_play_async(call, m, 1, NULL, out);
}

relay_status relay_call_play_tts_async(relay_call *call, const char *text, relay_action **out)
{
    relay_media m = {.type = "tts", .text = text};
    return play_one_async(call, &m, text != NULL, out);
}

relay_status relay_call_play_tts(relay_call *call, const char *text, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_play_tts_async(call, text, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_play_audio_async(relay_call *call, const char *url, relay_action **out)
{
    relay_media m = {.type = "audio", .url = url};
    return play_one_async(call, &m, url != NULL, out);
}

relay_status relay_call_play_audio(relay_call *call, const char *url, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_play_audio_async(call, url, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_play_silence_async(relay_call *call, double duration,
                                           relay_action **out)
{
    relay_media m = {.type = "silence", .duration = duration};
    return play_one_async(call, &m, duration > 0, out);
}

relay_status relay_call_play_silence(relay_call *call, double duration, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_play_silence_async(call, duration, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_play_ringtone_async(relay_call *call, const char *name, double duration,
                                            relay_action **out)
{
    relay_media m = {.type = "ringtone", .name = name, .duration = duration};
    return play_one_async(call, &m, name != NULL && duration >= 0, out);
}

relay_status relay_call_play_ringtone(relay_call *call, const char *name, double duration,
                                      relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_play_ringtone_async(call, name, duration, &a);
    return lr_action_wait_free(st, a, out);
}
