/*
 * librelay internals: the objects behind the public handles and the
 * functions the client's files share. Nothing here is installed.
 *
 * Threading model (see docs/architecture.md):
 *   - One I/O thread owns the lws context, the socket, the pending-request
 *     table, the offline queue, the call map and the action map. Fields
 *     marked [io] are touched by that thread only and need no lock.
 *   - Other threads reach the I/O thread by posting rpc_req messages to the
 *     client's mailbox (lr_client_submit), which wakes it with
 *     lws_cancel_service().
 *   - State that API users read from any thread (call state, refer state,
 *     action state) lives under the owning object's mutex, marked [lock].
 *   - Fields marked [const] are set before the object is published to any
 *     other thread and never change afterwards.
 */
#ifndef RELAY_CLIENT_INTERNAL_H
#define RELAY_CLIENT_INTERNAL_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "common/jsonrpc.h"
#include "common/log.h"
#include "common/mailbox.h"
#include "common/protocol.h"
#include "common/uuid.h"
#include "executor.h"
#include "timer.h"
#include "transport.h"

/* ------------------------------------------------------------------ map.c */

/* A string-keyed hash map. Keys are not copied: each key must stay valid
 * while its entry exists (it normally points into the value). */
typedef struct strmap_entry strmap_entry;
typedef struct strmap {
    strmap_entry **buckets;
    size_t nbuckets;
    size_t count;
} strmap;

void lr_strmap_init(strmap *m);
void lr_strmap_destroy(strmap *m); /* frees the table, not the values */
int lr_strmap_put(strmap *m, const char *key, void *value); /* 0, or -1 on ENOMEM */
void *lr_strmap_get(const strmap *m, const char *key);
void *lr_strmap_remove(strmap *m, const char *key);
/* A malloc'd snapshot of every value (NULL when empty); *n gets the count. */
void **lr_strmap_values(const strmap *m, size_t *n);

/* An append-only set of strings whose pointers stay valid until the pool is
 * freed: lets one thread publish a changing string (a session's protocol, an
 * action's state) that other threads may read at any time. */
typedef struct strpool_node strpool_node;
typedef struct strpool {
    strpool_node *head;
} strpool;

const char *lr_strpool_intern(strpool *p, const char *s); /* NULL on ENOMEM */
void lr_strpool_free(strpool *p);

/* --------------------------------------------------------------- result.c */

struct relay_result {
    json_t *json;   /* the result object or event params, owned */
    char *text;     /* relay_result_json(), made on first use */
    char code[16];  /* "" when the result carries none */
    const char *message;
    int call_gone;
    struct result_str *strs; /* texts made by relay_result_get() */
};

/* Wraps obj (reference stolen; NULL makes an empty object). */
relay_result *lr_result_new(json_t *obj);

/* Applies the result-code rules of relay.h to a JSON-RPC answer: exactly one
 * of result/error is non-NULL (both borrowed). When out is not NULL it
 * receives a relay_result (for an error object: its code and message). */
relay_status lr_result_classify(json_t *result, json_t *error, relay_result **out);

/* ---------------------------------------------------------------- frames.c */

/* Everything signalwire.connect needs; strings borrowed. */
typedef struct connect_args {
    const char *agent;
    const char *project, *token, *jwt_token;
    const char *const *contexts;
    const char *protocol;            /* NULL or "": a fresh session */
    const char *authorization_state; /* idem */
} connect_args;

json_t *lr_frame_connect_params(const connect_args *a);
json_t *lr_frame_call_params(const char *node_id, const char *call_id);
json_t *lr_frame_play_params(const char *node_id, const char *call_id, const char *control_id,
                          const relay_media *media, size_t n_media,
                          const relay_play_params *params, relay_status *err);
json_t *lr_frame_refer_params(const char *node_id, const char *call_id, const relay_device *device,
                           const char *status_url, relay_status *err);
/* params_json (NULL: {}) parsed as an object, or NULL. */
json_t *lr_frame_parse_object(const char *params_json);
/* Envelopes (request, response, error) come from common/jsonrpc.h. */

/* ------------------------------------------------------------------- rpc.c */

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

/* ---------------------------------------------------------------- call.c */

/* A per-call handler for the events of one family (relay_call_on_refer):
 * deliver types the event and calls the user's fn, on the call's strand. */
typedef struct lr_listener lr_listener;
struct lr_listener {
    void (*deliver)(relay_call *call, json_t *params, const lr_listener *l);
    void (*fn)(void); /* the user's handler, cast back by deliver */
    void *user;
};

struct relay_call {
    atomic_int refs;
    relay_client *client;             /* [const] */
    char *call_id, *node_id, *context, *tag, *direction, *from, *to; /* [const] */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    relay_call_state state;           /* [lock] */
    int gone;                         /* [lock] no more events will come */
    lr_strand *strand;                /* [const] its callbacks run here, in order */
    lr_listener listeners[PF__COUNT]; /* [lock] per-family event handlers */
    relay_action *last[PF__COUNT];    /* [lock] last action started per family; ref held */

    /* [io] */
    int in_map;
    relay_action *actions;            /* running actions of this call */
    lr_timer linger;                  /* keeps an ended call for late events */
};

/* [io] A call from calling.call.receive params; NULL on ENOMEM or no call_id. */
relay_call *lr_call_new_from_event(relay_client *c, json_t *params);
/* [io] Sets the state, wakes waiters; an ended call resolves its actions. */
void lr_call_set_state(relay_call *call, relay_call_state st);
/* [io] An event of family f for this call: posts its listener, if any. */
void lr_call_on_family_event(relay_call *call, proto_family f, json_t *params);
/* [io] The call's most recent running action of family f, or NULL. */
relay_action *lr_call_running_action(relay_call *call, proto_family f);
/* The call's last action of family f (a new reference), or NULL. */
relay_action *lr_call_last_action(relay_call *call, proto_family f);
/* Posts t to the call's strand. */
void lr_call_post(relay_call *call, lr_task *t);
/* [io] The call will see no more events: wake every waiter. */
void lr_call_mark_gone(relay_call *call);

/* ---------------------------------------------------------------- action.c */

struct relay_action {
    atomic_int refs;                  /* the caller's and, while running, the I/O thread's */
    relay_client *client;             /* [const] */
    proto_family family;              /* [const] */
    const proto_family_info *info;    /* [const] its row of the table */
    char *control_id;                 /* [const] "" for families routed by call */
    char *call_id, *node_id;          /* [const] for sub-methods */
    lr_strand *strand;                /* [const] its call's; ref held */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    strpool states;                   /* [lock] every state string seen */
    const char *state;                /* [lock] points into states */
    json_t *last;                     /* [lock] last event params (copy) */
    int completed;                    /* [lock] */
    relay_status final_status;        /* [lock] */
    relay_action_callback done_fn;    /* [lock] */
    void *done_user;                  /* [lock] */
    int done_fired;                   /* [lock] */

    /* [io] */
    relay_call *call;                 /* borrowed: valid while running (the
                                       * start request holds a ref until then) */
    int running;                      /* in its call's list (and maybe the map) */
    int in_map;                       /* in the control_id map */
    relay_action *call_prev, *call_next; /* the call's running actions */
};

/* control_id NULL: a fresh one (families routed by control_id only). */
relay_action *lr_action_new(relay_call *call, proto_family f, const char *control_id);
void lr_action_ref(relay_action *a);
void lr_action_unref(relay_action *a);
/* [io] The hook of a start request: a refused start completes the action. */
void lr_action_start_done(relay_client *c, rpc_req *req);
/* Sends the start request (params borrowed); the action runs once the I/O
 * thread takes it. Blocking (cb NULL, *out = the server's answer) or not. */
relay_status lr_action_start(relay_action *a, relay_call *call, proto_method m, json_t *params,
                             relay_result_callback cb, void *user, relay_result **out);
/* [io] Registers a running action (control_id map + its call's list). */
void lr_action_register(relay_client *c, relay_action *a);
/* [io] An event for this action (params borrowed). */
void lr_action_on_event(relay_action *a, json_t *params);
/* [io] Completes with st; final (borrowed, may be NULL) becomes the result. */
void lr_action_complete(relay_action *a, relay_status st, json_t *final);

/* ------------------------------------------------------------- workers.c */

typedef struct worker_job worker_job;
typedef struct workers {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t *threads;
    int n, started;
    int quit;
    worker_job *head, *tail;
} workers;

void lr_workers_init(workers *w);
int lr_workers_start(workers *w, int n);            /* 0, or -1 */
/* Runs fn(call, user) on a worker, then drops the call ref (taken over). */
int lr_workers_submit(workers *w, relay_call_handler fn, relay_call *call, void *user);
void lr_workers_stop(workers *w); /* joins; unrun jobs are dropped */

/* ---------------------------------------------------------- conn/session */

typedef enum conn_state {
    CONN_IDLE = 0,   /* waiting for the next attempt */
    CONN_CONNECTING, /* TCP/TLS/WebSocket handshake */
    CONN_AUTHENTICATING, /* signalwire.connect sent */
    CONN_READY       /* session established */
} conn_state;

struct relay_client {
    /* options, copied [const] */
    char *host;                       /* without the port */
    char *host_header;                /* Host/Origin: host, or host:port */
    int port;
    char *project, *token, *jwt_token, *ca_file, *agent;
    char **contexts; /* NULL-terminated */
    int plain_ws;
    int request_timeout_ms;
    int n_workers;
    log_sink log;

    /* handlers: set before connect */
    relay_call_handler on_call;
    void *on_call_user;
    relay_event_handler on_event;
    void *on_event_user;

    /* posting to the I/O thread */
    mailbox mbox;
    pthread_mutex_t post_lock;
    int accepting;                    /* [post_lock] the I/O thread takes messages */
    lr_transport *transport;          /* [post_lock] for waking; owned by [io] */

    pthread_t io_thread;
    int io_started;                   /* owned by the thread calling connect/free */
    atomic_int io_quit;

    /* the first session's outcome, for relay_client_connect */
    pthread_mutex_t outcome_lock;
    pthread_cond_t outcome_cond;
    int outcome_set;
    relay_status outcome;

    /* run/stop: a self-pipe, so stop is async-signal-safe */
    int stop_pipe[2];

    /* published session protocol (read from any thread) */
    strpool protocols;                /* [io] writes; freed with the client */
    _Atomic(const char *) protocol_pub;

    /* [io] connection and timers */
    conn_state state;
    lr_timers timers;                 /* every timer of the client, one heap */
    int backoff_ms;
    lr_timer reconnect_timer;
    lr_timer ping_timer;
    int ping_failures;

    /* [io] session */
    char *protocol;                   /* to resume; NULL for a fresh session */
    char *authorization_state;
    int ever_ready;
    int auth_failures;
    int retry_after_close;            /* this close is part of a planned retry */

    /* [io] protocol maps */
    strmap pending;                   /* id -> rpc_req (in flight) */
    rpc_req *queue_head, *queue_tail; /* offline queue */
    int queue_len;
    strmap calls;                     /* call_id -> relay_call (one ref) */
    strmap actions;                   /* control_id -> relay_action (one ref) */

    workers pool;
    lr_executor exec;                 /* user callbacks */
    lr_strand *strand;                /* [const] client-level callbacks */
    int n_callback_threads;           /* [const] */
    atomic_int closed;                /* the I/O thread has finished */
};

/* client.c */
/* Posts req to the I/O thread (takes a reference on success). */
relay_status lr_client_submit(relay_client *c, rpc_req *req);
/* 1 when the calling thread is the client's I/O thread (blocking is banned). */
int lr_client_on_io_thread(const relay_client *c);
/* [io] Records the first session's outcome for relay_client_connect. */
void lr_client_set_outcome(relay_client *c, relay_status st);

/* client.c [io] */
/* Starts (or restarts) t to run fn in ms milliseconds. */
void lr_client_schedule(relay_client *c, lr_timer *t, lr_timer_fn fn, int ms);
void lr_client_cancel(relay_client *c, lr_timer *t);
/* Sends a text frame on the current connection (copied). */
void lr_client_send(relay_client *c, const char *text, size_t len);

/* session.c [io]: the connection's life (attempts, backoff, closing) and
 * the RELAY session on top of it. */
void lr_session_connect(relay_client *c);
void lr_session_close(relay_client *c, int flush_first);
/* Ends the I/O thread's life: refuses new messages, fails everything still
 * waiting with RELAY_ERR_CLOSED. */
void lr_session_teardown(relay_client *c);
void lr_session_on_open(relay_client *c);
void lr_session_on_transport_down(relay_client *c, const char *why);
void lr_session_on_authorization_state(relay_client *c, const char *state);
void lr_session_on_disconnect_request(relay_client *c, int restart);
void lr_session_start_pings(relay_client *c);
/* Drops every call and action: the server forgot this session. */
void lr_session_forget_calls(relay_client *c, relay_status st);

/* dispatch.c [io] */
/* Handles one complete text frame from the server. */
void lr_dispatch_frame(relay_client *c, const char *text, size_t len);
/* Parses signalwire.event params into ev (strings borrowed from params);
 * *inner gets the nested params object. Exposed for tests. */
int lr_dispatch_parse_event(json_t *params, relay_event *ev, json_t **inner);
/* Types a calling.call.refer params object (strings borrowed). */
void lr_dispatch_refer_event(json_t *params, relay_refer_event *ev);

/* client.c: posts t to the client's strand. */
void lr_client_post(relay_client *c, lr_strand *s, lr_task *t);
/* 1 if the calling thread is one of the client's callback threads (tests). */
int lr_client_on_callback_thread(const relay_client *c);

#define CLOG(c, lvl, ...) log_write(&(c)->log, (lvl), __VA_ARGS__)

#endif
