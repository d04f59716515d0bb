/*
 * Requests in flight and the one request path (rpc.c).
 */
#ifndef RELAY_CLIENT_RPC_H
#define RELAY_CLIENT_RPC_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/mailbox.h"
#include "common/uuid.h"
#include "executor.h"
#include "timer.h"

typedef struct rpc_req rpc_req;
/* Runs on the I/O thread when a request completes, before any waiter wakes. */
typedef void (*rpc_hook)(relay_client *c, rpc_req *req);

typedef enum rpc_where {
    RPC_NEW = 0, /* in the mailbox */
    RPC_QUEUED,  /* offline queue: waiting for a session */
    RPC_INFLIGHT,/* sent (or in the tx queue), in the pending table */
    RPC_DONE
} rpc_where;

struct rpc_req {
    mailbox_msg mb; /* first: the mailbox link */
    atomic_int refs;
    char id[UUID_STR_LEN];             /* [const] */
    char *frame;                       /* [const] until sent, then freed [io] */
    size_t frame_len;
    int timeout_ms;                    /* [const] */
    rpc_hook hook;                     /* [const] */
    void *hook_arg;                    /* [const] */
    void (*hook_arg_free)(void *);     /* [const] releases hook_arg with the request; may be NULL */
    relay_action *action;              /* [const] registered when taken; ref held */
    relay_call *call;                  /* [const] the call it names, ref held; may be NULL */
    relay_result_callback cb;          /* [const] NULL: a thread waits instead */
    void *cb_user;                     /* [const] */
    lr_strand *strand;                 /* [const] where cb runs; ref held */
    int session;                       /* [const] 1: signalwire.connect (bypasses the queue) */

    /* [io] */
    relay_client *client;              /* set when taken, for the timer */
    rpc_where where;
    rpc_req *prev, *next;              /* offline queue links */
    lr_timer timer;

    /* the outcome: written once by the I/O thread under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    relay_status status;               /* transport outcome: OK means answered */
    json_t *result, *error;            /* owned; exactly one set when status is OK */
};

/* A request for method with params (borrowed). NULL on ENOMEM. */
rpc_req *lr_rpc_req_new(const char *method, json_t *params, int timeout_ms);
void lr_rpc_req_ref(rpc_req *req);
void lr_rpc_req_unref(rpc_req *req);

/* The one request path: method(params) (params borrowed), naming call
 * (may be NULL; a ref is held while the request lives) and starting
 * action when not NULL. With cb, returns once posted, and cb runs later on
 * strand (NULL: the client's); without, waits and fills *out as for
 * lr_result_classify. */
relay_status lr_request(relay_client *c, relay_call *call, lr_strand *strand, const char *method,
                        json_t *params, relay_action *action, relay_result_callback cb,
                        void *user, relay_result **out);

/* Waits for the outcome (with a safety margin over the request timeout) and
 * classifies it; *out as for lr_result_classify. */
relay_status lr_rpc_req_wait(rpc_req *req, relay_result **out);

/* [io] Takes a request off the mailbox: starts its timer and sends it now
 * or queues it until the session is up. */
void lr_rpc_take(relay_client *c, rpc_req *req);
/* [io] Puts a request on the wire (pending table + tx queue). */
void lr_rpc_send(relay_client *c, rpc_req *req);
/* [io] Completes a request: hook, then waiter; drops the I/O thread's ref. */
void lr_rpc_complete(relay_client *c, rpc_req *req, relay_status st, json_t *result, json_t *error);
/* [io] An answer arrived for id (result/error stolen). 0 if unknown id. */
int lr_rpc_answer(relay_client *c, const char *id, json_t *result, json_t *error);
/* [io] Fails everything sent on the current connection. */
void lr_rpc_fail_inflight(relay_client *c, relay_status st);
/* [io] Sends the offline queue, oldest first. */
void lr_rpc_flush_queue(relay_client *c);
/* [io] Fails the offline queue too (shutdown). */
void lr_rpc_fail_queue(relay_client *c, relay_status st);

#endif
