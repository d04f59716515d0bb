/*
 * relay_message (messaging.h). References: the application's
 * (relay_message_free), the send request's (its hook_arg, released with
 * the request), the message map's while the I/O thread follows it, and an
 * inbound delivery task's. Completion happens once, on the I/O thread: a
 * final state event, a refused or unanswered send, or the session's loss;
 * or on the sending thread when the request never reached the I/O thread.
 * Strings a reader may hold (state, reason, id) are interned in the
 * message's pool, so a pointer handed out stays valid until the free.
 */
#include "messaging.h"
#include "calling.h"
#include "client.h"
#include "common/deadline.h"
#include "result.h"
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct relay_message {
    atomic_int refs;
    relay_client *client;               /* [const] */
    char *context, *from, *to, *body;   /* [const] */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    strpool strings;                    /* [lock] interned id, state, reason */
    const char *id, *state, *reason;    /* [lock] never NULL */
    int completed;                      /* [lock] */
    relay_status final_status;          /* [lock] */
    json_t *last;                       /* [lock] last event's params or the refusal */
    int in_map;                         /* [io] */
};

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static relay_message *message_new(relay_client *c, const char *context, const char *from,
                                  const char *to, const char *body)
{
    relay_message *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->client = c;
    m->id = m->state = m->reason = "";
    m->context = dup_or_empty(context);
    m->from = dup_or_empty(from);
    m->to = dup_or_empty(to);
    m->body = dup_or_empty(body);
    if (!m->context || !m->from || !m->to || !m->body) {
        relay_message_free(m);
        return NULL;
    }
    return m;
}

static void message_ref(relay_message *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void relay_message_free(relay_message *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(m->context);
    free(m->from);
    free(m->to);
    free(m->body);
    json_decref(m->last);
    lr_strpool_free(&m->strings);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static void unref_void(void *m) { relay_message_free(m); }

/* [lock] *field = s, interned; kept as it was on ENOMEM. */
static void set_locked(relay_message *m, const char **field, const char *s)
{
    const char *in = s ? lr_strpool_intern(&m->strings, s) : NULL;
    if (in)
        *field = in;
}

/* Records a state (and the event's params, stolen); completes the message
 * with st when final is set. Once complete nothing changes any more. */
static void message_update(relay_message *m, const char *state, const char *reason,
                           json_t *params, int final, relay_status st)
{
    pthread_mutex_lock(&m->lock);
    if (m->completed) {
        pthread_mutex_unlock(&m->lock);
        json_decref(params);
        return;
    }
    set_locked(m, &m->state, state);
    set_locked(m, &m->reason, reason);
    if (params) {
        json_decref(m->last);
        m->last = params;
    }
    if (final) {
        m->completed = 1;
        m->final_status = st;
        pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
}

/* [io] Stops following m (drops the map's reference). */
static void unfollow(relay_client *c, relay_message *m)
{
    if (!m->in_map)
        return;
    lr_strmap_remove(&c->messages, m->id);
    m->in_map = 0;
    relay_message_free(m);
}

/* ------------------------------------------------------------ I/O thread */

/* The answer to messaging.send: the message is followed from here on, or
 * ends with the refusal. Runs before any later frame is read, so no state
 * event can miss it. */
static void on_answer(relay_client *c, rpc_req *req)
{
    relay_message *m = req->hook_arg;
    if (req->status != RELAY_OK) {
        message_update(m, PROTO_MESSAGE_FAILED, relay_strerror(req->status), NULL, 1,
                       req->status);
        return;
    }
    json_t *body = req->error ? req->error : req->result;
    relay_status st = lr_result_classify(req->result, req->error, NULL);
    if (st != RELAY_OK) {
        char why[200];
        json_t *code = json_object_get(body, "code");
        if (json_is_integer(code)) /* a JSON-RPC error object */
            snprintf(why, sizeof why, "%lld %s", (long long)json_integer_value(code),
                     json_string_value(json_object_get(body, "message")) ?: "");
        else
            snprintf(why, sizeof why, "%s %s", json_string_value(code) ?: "?",
                     json_string_value(json_object_get(body, "message")) ?: "");
        message_update(m, PROTO_MESSAGE_FAILED, why, json_deep_copy(body), 1, st);
        return;
    }
    const char *id = json_string_value(json_object_get(req->result, "message_id"));
    if (!id || !*id) {
        message_update(m, PROTO_MESSAGE_FAILED, "the server's answer has no message_id",
                       json_deep_copy(body), 1, RELAY_ERR_PROTOCOL);
        return;
    }
    pthread_mutex_lock(&m->lock);
    set_locked(m, &m->id, id);
    pthread_mutex_unlock(&m->lock);
    if (c->messages.count >= LR_MAX_TRACKED_MESSAGES) {
        CLOG(c, RELAY_LOG_WARN, "%d messages followed already: message %s is not",
             LR_MAX_TRACKED_MESSAGES, id);
        message_update(m, NULL, "too many messages followed at once", NULL, 1, RELAY_ERR_LIMIT);
        return;
    }
    if (lr_strmap_get(&c->messages, m->id) || lr_strmap_put(&c->messages, m->id, m) != 0) {
        message_update(m, NULL, "cannot follow the message", NULL, 1, RELAY_ERR_NO_MEMORY);
        return;
    }
    message_ref(m);
    m->in_map = 1;
}

void lr_messaging_on_state(relay_client *c, json_t *params)
{
    const char *id = json_string_value(json_object_get(params, "message_id"));
    relay_message *m = id ? lr_strmap_get(&c->messages, id) : NULL;
    if (!m)
        return; /* not ours to follow (sent by another SDK call, or done) */
    const char *state = json_string_value(json_object_get(params, "message_state"));
    int final = proto_message_state_is_final(state);
    relay_status st = proto_message_state_is_failure(state) ? RELAY_ERR_SERVER : RELAY_OK;
    message_update(m, state, json_string_value(json_object_get(params, "reason")),
                   json_deep_copy(params), final, st);
    if (final)
        unfollow(c, m);
}

void lr_messaging_forget(relay_client *c, relay_status st)
{
    size_t n;
    void **all = lr_strmap_values(&c->messages, &n);
    for (size_t i = 0; i < n; i++) {
        relay_message *m = all[i];
        message_update(m, NULL, "the session that sent it is gone", NULL, 1, st);
        unfollow(c, m);
    }
    free(all);
}

/* relay_client_on_message's delivery, on the client's strand. */
typedef struct receive_task {
    lr_task task;
    relay_message *m; /* ref held */
} receive_task;

static void run_receive(lr_task *t)
{
    receive_task *rt = (receive_task *)t;
    relay_client *c = rt->m->client;
    c->on_message(c, rt->m, c->on_message_user);
    relay_message_free(rt->m);
    free(rt);
}

void lr_messaging_on_receive(relay_client *c, json_t *params)
{
    if (!c->on_message)
        return;
    json_t *body = json_object_get(params, "body");
    relay_message *m = message_new(c, json_string_value(json_object_get(params, "context")),
                                   json_string_value(json_object_get(params, "from_number")),
                                   json_string_value(json_object_get(params, "to_number")),
                                   json_string_value(body));
    receive_task *rt = m ? malloc(sizeof *rt) : NULL;
    if (!rt) {
        relay_message_free(m);
        CLOG(c, RELAY_LOG_ERROR, "out of memory: an inbound message is not delivered");
        return;
    }
    pthread_mutex_lock(&m->lock);
    set_locked(m, &m->id, json_string_value(json_object_get(params, "message_id")));
    pthread_mutex_unlock(&m->lock);
    const char *state = json_string_value(json_object_get(params, "message_state"));
    message_update(m, state ? state : PROTO_MESSAGE_RECEIVED, NULL, json_deep_copy(params), 1,
                   RELAY_OK);
    rt->task.run = run_receive;
    rt->m = m; /* the task's reference: the only one */
    lr_client_post(c, NULL, &rt->task);
}

/* ------------------------------------------------------------ any thread */

static json_t *send_params(const relay_message_params *p)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "context", p->context);
    lr_pb_req_str(&b, "to_number", p->to_number);
    lr_pb_req_str(&b, "from_number", p->from_number);
    lr_pb_str(&b, "body", p->body);
    const char *const *lists[] = {p->media, p->tags};
    const char *keys[] = {"media", "tags"};
    for (int k = 0; k < 2 && !b.bad; k++) {
        if (!lists[k])
            continue;
        json_t *a = json_array();
        for (size_t i = 0; a && lists[k][i]; i++)
            if (json_array_append_new(a, json_string(lists[k][i])) != 0)
                b.bad = 1;
        if (!a || json_object_set_new(b.p, keys[k], a) != 0)
            b.bad = 1;
    }
    lr_pb_str(&b, "region", p->region);
    if (!b.bad && !p->body && !(p->media && p->media[0]))
        b.bad = 1; /* nothing to send */
    return lr_pb_finish(&b, p->extra_json);
}

/* Both forms: blocking without cb. */
static relay_status send_message(relay_client *c, const relay_message_params *p,
                                 relay_result_callback cb, void *user, relay_message **out)
{
    if (out)
        *out = NULL;
    if (!c || !p || !out)
        return RELAY_ERR_INVALID_ARG;
    if (!cb && lr_client_on_io_thread(c))
        return RELAY_ERR_STATE;
    json_t *params = send_params(p);
    if (!params) {
        lr_set_last_error("messaging.send needs context, to_number, from_number and a body or "
                          "media (extra_json, when given, a JSON object)");
        return RELAY_ERR_INVALID_ARG;
    }
    relay_message *m = message_new(c, p->context, p->from_number, p->to_number, p->body);
    rpc_req *req = m ? lr_rpc_req_new(proto_method_name(PM_MESSAGING_SEND), params,
                                      c->request_timeout_ms)
                     : NULL;
    json_decref(params);
    if (!req) {
        relay_message_free(m);
        return RELAY_ERR_NO_MEMORY;
    }
    message_ref(m);
    req->hook = on_answer;
    req->hook_arg = m;
    req->hook_arg_free = unref_void;
    req->cb = cb;
    req->cb_user = user;
    req->strand = c->strand;
    lr_strand_ref(req->strand);
    relay_status st = lr_client_submit(c, req);
    if (st != RELAY_OK) /* never reached the I/O thread: nobody else completes it */
        message_update(m, PROTO_MESSAGE_FAILED, relay_strerror(st), NULL, 1, st);
    else if (!cb)
        st = lr_rpc_req_wait(req, NULL);
    lr_rpc_req_unref(req);
    if (st != RELAY_OK && !cb) {
        if (relay_message_reason(m)[0])
            lr_set_last_error("%s", relay_message_reason(m));
        relay_message_free(m);
        return st;
    }
    if (st != RELAY_OK) {
        relay_message_free(m);
        return st;
    }
    *out = m;
    return RELAY_OK;
}

relay_status relay_client_send_message(relay_client *c, const relay_message_params *p,
                                       relay_message **out)
{
    return send_message(c, p, NULL, NULL, out);
}

relay_status relay_client_send_message_async(relay_client *c, const relay_message_params *p,
                                             relay_result_callback cb, void *user,
                                             relay_message **out)
{
    if (!cb) {
        if (out)
            *out = NULL;
        return RELAY_ERR_INVALID_ARG;
    }
    return send_message(c, p, cb, user, out);
}

relay_status relay_client_on_message(relay_client *c, relay_message_handler fn, void *user)
{
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (c->io_started)
        return RELAY_ERR_STATE; /* the I/O thread reads it without a lock */
    c->on_message = fn;
    c->on_message_user = user;
    return RELAY_OK;
}

/* A field under the lock (interned: valid until the message is freed). */
static const char *locked(const relay_message *m, const char *const *field)
{
    if (!m)
        return "";
    relay_message *mut = (relay_message *)m;
    pthread_mutex_lock(&mut->lock);
    const char *s = *field;
    pthread_mutex_unlock(&mut->lock);
    return s;
}

const char *relay_message_id(const relay_message *m) { return locked(m, m ? &m->id : NULL); }
const char *relay_message_state(const relay_message *m) { return locked(m, m ? &m->state : NULL); }
const char *relay_message_reason(const relay_message *m)
{
    return locked(m, m ? &m->reason : NULL);
}
const char *relay_message_context(const relay_message *m) { return m ? m->context : ""; }
const char *relay_message_body(const relay_message *m) { return m ? m->body : ""; }
const char *relay_message_from(const relay_message *m) { return m ? m->from : ""; }
const char *relay_message_to(const relay_message *m) { return m ? m->to : ""; }

int relay_message_completed(const relay_message *m)
{
    if (!m)
        return 0;
    relay_message *mut = (relay_message *)m;
    pthread_mutex_lock(&mut->lock);
    int done = m->completed;
    pthread_mutex_unlock(&mut->lock);
    return done;
}

relay_status relay_message_wait(relay_message *m, int timeout_ms, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!m)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(m->client))
        return RELAY_ERR_STATE;
    struct timespec dl = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    while (!m->completed && rc != ETIMEDOUT) {
        if (timeout_ms > 0)
            rc = pthread_cond_timedwait(&m->cond, &m->lock, &dl);
        else
            pthread_cond_wait(&m->cond, &m->lock);
    }
    relay_status st = m->completed ? m->final_status : RELAY_ERR_TIMEOUT;
    json_t *copy = m->last ? json_deep_copy(m->last) : NULL;
    pthread_mutex_unlock(&m->lock);
    if (out && copy)
        *out = lr_result_new(copy);
    else
        json_decref(copy);
    return st;
}
