/*
 * Requests in flight. A request is born on the caller's thread (frame text
 * built there, off the I/O thread), travels through the mailbox, and then
 * lives on the I/O thread in exactly one place: the offline queue (no
 * session yet) or the pending table (sent, waiting for its answer). Its
 * timer runs from the moment the I/O thread takes it, wherever it sits.
 *
 * Two references: the caller's (dropped after waiting) and the I/O
 * thread's (dropped on completion). Whoever goes last frees it, so a
 * caller that gives up never leaves the I/O thread holding a dangling
 * pointer, and vice versa.
 */
#include "rpc.h"
#include "common/jsonrpc.h"
#include "action.h"
#include "call.h"
#include "client.h"
#include "result.h"
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/deadline.h"

rpc_req *lr_rpc_req_new(const char *method, json_t *params, int timeout_ms)
{
    rpc_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    atomic_init(&req->refs, 1);
    pthread_mutex_init(&req->lock, NULL);
    pthread_cond_init(&req->cond, NULL);
    req->timeout_ms = timeout_ms > 0 ? timeout_ms : PROTO_DEFAULT_TIMEOUT_MS;
    if (uuid_v4(req->id) != 0)
        goto fail;
    req->frame = jsonrpc_request(req->id, method, params);
    if (!req->frame)
        goto fail;
    req->frame_len = strlen(req->frame);
    return req;
fail:
    lr_rpc_req_unref(req);
    return NULL;
}

void lr_rpc_req_ref(rpc_req *req)
{
    atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
}

void lr_rpc_req_unref(rpc_req *req)
{
    if (!req || atomic_fetch_sub_explicit(&req->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (req->action)
        lr_action_unref(req->action);
    if (req->hook_arg_free)
        req->hook_arg_free(req->hook_arg);
    relay_call_unref(req->call);
    lr_strand_unref(req->strand);
    json_decref(req->result);
    json_decref(req->error);
    free(req->frame);
    pthread_cond_destroy(&req->cond);
    pthread_mutex_destroy(&req->lock);
    free(req);
}

relay_status lr_rpc_req_wait(rpc_req *req, relay_result **out)
{
    if (out)
        *out = NULL;
    /* The I/O thread times the request out itself; this deadline is only a
     * safety net should that thread be stuck (a blocking DNS lookup). */
    struct timespec dl = deadline_after_ms((long long)req->timeout_ms + 2000);
    pthread_mutex_lock(&req->lock);
    int rc = 0;
    while (!req->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&req->cond, &req->lock, &dl);
    relay_status st = !req->done ? RELAY_ERR_TIMEOUT : req->status;
    /* Take the answer over: from here on only this thread touches it, so
     * no reference count is shared with the I/O thread's last unref. */
    json_t *result = NULL, *error = NULL;
    if (req->done) {
        result = req->result;
        error = req->error;
        req->result = req->error = NULL;
    }
    pthread_mutex_unlock(&req->lock);
    if (st == RELAY_OK)
        st = lr_result_classify(result, error, out);
    json_decref(result);
    json_decref(error);
    return st;
}

/* A request's callback, queued on its strand with the request's ref. */
typedef struct cb_task {
    lr_task task;
    rpc_req *req;
} cb_task;

static void run_cb(lr_task *t)
{
    cb_task *ct = (cb_task *)t;
    rpc_req *req = ct->req;
    free(ct);
    /* The I/O thread is done with the request: its outcome is final. */
    relay_result *res = NULL;
    relay_status st = req->status;
    if (st == RELAY_OK)
        st = lr_result_classify(req->result, req->error, &res);
    req->cb(st, res, req->cb_user);
    relay_result_free(res);
    lr_rpc_req_unref(req);
}

relay_status lr_request(relay_client *c, relay_call *call, lr_strand *strand, const char *method,
                        json_t *params, relay_action *action, relay_result_callback cb,
                        void *user, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!cb && lr_client_on_io_thread(c)) {
        CLOG(c, RELAY_LOG_ERROR, "%s: blocking call on the I/O thread refused", method);
        return RELAY_ERR_STATE;
    }
    rpc_req *req = lr_rpc_req_new(method, params, c->request_timeout_ms);
    if (!req)
        return RELAY_ERR_NO_MEMORY;
    if (call) {
        relay_call_ref(call);
        req->call = call;
    }
    if (action) {
        lr_action_ref(action);
        req->action = action;
        req->hook = lr_action_start_done;
    }
    const proto_method_info *mi = proto_method_get(proto_method_from_name(method));
    if (call && mi && (mi->flags & PROTO_MF_RELEASES))
        req->hook = lr_call_release_done;
    req->cb = cb;
    req->cb_user = user;
    req->strand = strand ? strand : c->strand;
    lr_strand_ref(req->strand);
    relay_status st = lr_client_submit(c, req);
    if (st != RELAY_OK && action) {
        /* It never reached the I/O thread, so no one else touches it:
         * complete it here, or waiters on it would wait forever. */
        lr_action_complete(action, st, NULL);
    }
    if (st == RELAY_OK && !cb)
        st = lr_rpc_req_wait(req, out);
    lr_rpc_req_unref(req);
    return st;
}

/* ------------------------------------------------------------ I/O thread */

static void queue_remove(relay_client *c, rpc_req *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        c->queue_head = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else
        c->queue_tail = req->prev;
    req->prev = req->next = NULL;
    c->queue_len--;
}

static void on_timeout(lr_timer *t)
{
    rpc_req *req = lr_container_of(t, rpc_req, timer);
    relay_client *c = req->client;
    int was_sent = req->where == RPC_INFLIGHT;
    CLOG(c, RELAY_LOG_WARN, "request %s timed out after %d ms", req->id, req->timeout_ms);
    lr_rpc_complete(c, req, RELAY_ERR_TIMEOUT, NULL, NULL);
    if (was_sent) /* one queued offline says nothing of the connection */
        lr_session_on_request_timeout(c);
}

void lr_rpc_take(relay_client *c, rpc_req *req)
{
    req->client = c;
    lr_client_schedule(c, &req->timer, on_timeout, req->timeout_ms);
    if (req->action)
        lr_action_register(c, req->action);
    if (c->state == CONN_READY || (req->session && c->state == CONN_AUTHENTICATING)) {
        lr_rpc_send(c, req);
        return;
    }
    if (c->queue_len >= PROTO_MAX_OFFLINE_QUEUE) {
        CLOG(c, RELAY_LOG_WARN, "offline queue full (%d): request refused",
             PROTO_MAX_OFFLINE_QUEUE);
        lr_rpc_complete(c, req, RELAY_ERR_LIMIT, NULL, NULL);
        return;
    }
    req->where = RPC_QUEUED;
    req->prev = c->queue_tail;
    req->next = NULL;
    if (c->queue_tail)
        c->queue_tail->next = req;
    else
        c->queue_head = req;
    c->queue_tail = req;
    c->queue_len++;
}

void lr_rpc_send(relay_client *c, rpc_req *req)
{
    req->client = c;
    if (lr_strmap_put(&c->pending, req->id, req) != 0) {
        lr_rpc_complete(c, req, RELAY_ERR_NO_MEMORY, NULL, NULL);
        return;
    }
    req->where = RPC_INFLIGHT;
    lr_client_send(c, req->frame, req->frame_len);
    /* The tx queue has its own copy now. */
    free(req->frame);
    req->frame = NULL;
}

void lr_rpc_complete(relay_client *c, rpc_req *req, relay_status st, json_t *result, json_t *error)
{
    switch (req->where) {
    case RPC_DONE:
        /* Completed twice (cannot happen by design): keep the first. */
        json_decref(result);
        json_decref(error);
        return;
    case RPC_QUEUED:
        queue_remove(c, req);
        break;
    case RPC_INFLIGHT:
        lr_strmap_remove(&c->pending, req->id);
        break;
    case RPC_NEW:
        break;
    }
    req->where = RPC_DONE;
    lr_client_cancel(c, &req->timer);

    pthread_mutex_lock(&req->lock);
    req->status = st;
    req->result = result;
    req->error = error;
    pthread_mutex_unlock(&req->lock);

    /* The hook sees the outcome before any waiter does, so e.g. an action
     * is already marked failed when play_async returns. */
    if (req->hook)
        req->hook(c, req);
    if (req->cb) {
        cb_task *ct = malloc(sizeof *ct);
        if (ct) {
            ct->task.run = run_cb;
            ct->req = req; /* the I/O thread's reference moves to the task */
            lr_client_post(c, req->strand, &ct->task);
            return;
        }
        CLOG(c, RELAY_LOG_ERROR, "out of memory: the callback of %s is lost", req->id);
    }

    pthread_mutex_lock(&req->lock);
    req->done = 1;
    pthread_cond_broadcast(&req->cond);
    pthread_mutex_unlock(&req->lock);
    lr_rpc_req_unref(req);
}

int lr_rpc_answer(relay_client *c, const char *id, json_t *result, json_t *error)
{
    rpc_req *req = lr_strmap_get(&c->pending, id);
    if (!req) {
        json_decref(result);
        json_decref(error);
        return 0;
    }
    lr_session_on_answer(c);
    lr_rpc_complete(c, req, RELAY_OK, result, error);
    return 1;
}

void lr_rpc_fail_inflight(relay_client *c, relay_status st)
{
    /* One at a time from a fresh snapshot: a completion hook may touch the
     * table, so a snapshot taken once could go stale. */
    while (c->pending.count) {
        size_t n;
        void **all = lr_strmap_values(&c->pending, &n);
        if (!all)
            return; /* ENOMEM: nothing sane left to do */
        lr_rpc_complete(c, all[0], st, NULL, NULL);
        free(all);
    }
}

void lr_rpc_flush_queue(relay_client *c)
{
    /* Oldest first: the order the application issued them. */
    while (c->queue_head && c->state == CONN_READY) {
        rpc_req *req = c->queue_head;
        queue_remove(c, req);
        req->where = RPC_NEW;
        lr_rpc_send(c, req);
    }
}

void lr_rpc_fail_queue(relay_client *c, relay_status st)
{
    while (c->queue_head)
        lr_rpc_complete(c, c->queue_head, st, NULL, NULL);
}
