/*
 * The client object and the functions of client.c. Nothing under
 * src/client is installed; each module has its own header.
 *
 * Threading model (see docs/architecture.md):
 *   - One I/O thread owns the transport (the only user of libwebsockets), the pending-request
 *     table, the offline queue, the call map and the action map. Fields
 *     marked [io] are touched by that thread only and need no lock.
 *   - Other threads reach the I/O thread by posting rpc_req messages to the
 *     client's mailbox (lr_client_submit), which wakes it with
 *     lr_transport_wake().
 *   - State that API users read from any thread (call state, refer state,
 *     action state) lives under the owning object's mutex, marked [lock].
 *   - Fields marked [const] are set before the object is published to any
 *     other thread and never change afterwards.
 */
#ifndef RELAY_CLIENT_CLIENT_H
#define RELAY_CLIENT_CLIENT_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/log.h"
#include "common/mailbox.h"
#include "common/protocol.h"
#include "events.h"
#include "executor.h"
#include "map.h"
#include "rpc.h"
#include "timer.h"
#include "transport.h"
#include "workers.h"

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
    relay_connection_handler on_connection;
    void *on_connection_user;
    relay_message_handler on_message;
    void *on_message_user;

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
    char outcome_reason[160];         /* [outcome_lock] detail for relay_last_error */
    int persistent;                   /* [const while io runs] run(): retry the first connect too */
    atomic_int gave_up;               /* a relay_status: the I/O thread stopped trying */

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
    int ping_interval_ms;             /* [const] */
    int timeouts_in_a_row;            /* requests (pings too) unanswered on this connection */
    int attempts;                     /* since the last established session */
    uint64_t jitter_state;            /* xorshift state for backoff jitter */
    int max_active_calls;             /* [const] */

    /* [io] session */
    char *protocol;                   /* to resume; NULL for a fresh session */
    char *authorization_state;
    int ever_ready;
    int auth_failures;
    int retry_after_close;            /* this close is part of a planned retry */
    char down_reason[160];            /* why we closed it ourselves; "" otherwise */

    /* [io] protocol maps */
    strmap pending;                   /* id -> rpc_req (in flight) */
    rpc_req *queue_head, *queue_tail; /* offline queue */
    int queue_len;
    strmap calls;                     /* call_id -> relay_call (one ref) */
    int lingering_calls;              /* of those, ended and kept for late events */
    strmap actions;                   /* control_id -> relay_action (one ref) */
    strmap messages;                  /* message_id -> relay_message (one ref), until final */
    /* relay_client_dial's waiters (dial.c) */
    pthread_mutex_t dial_lock;
    pthread_cond_t dial_cond;
    struct lr_dial_wait *dials;       /* [dial_lock] */
    int n_dials;                      /* [dial_lock] */

    workers pool;
    lr_executor exec;                 /* user callbacks */
    lr_strand *strand;                /* [const] client-level callbacks */
    lr_event_hub events;              /* relay_client_wait_for_event's waiters */
    int n_callback_threads;           /* [const] */
    atomic_int closed;                /* the I/O thread has finished */
};

/* status.c: relay_last_error() of the calling thread. */
void lr_set_last_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void lr_clear_last_error(void);

/* client.c */
/* Posts req to the I/O thread (takes a reference on success). */
relay_status lr_client_submit(relay_client *c, rpc_req *req);
/* 1 when the calling thread is the client's I/O thread (blocking is banned). */
int lr_client_on_io_thread(const relay_client *c);
/* [io] Records the first session's outcome for relay_client_connect. */
void lr_client_set_outcome(relay_client *c, relay_status st);
/* [io] The same with a reason relay_last_error() gives the connecting thread. */
void lr_client_set_outcome_reason(relay_client *c, relay_status st, const char *reason);
/* [io] The I/O thread stopped trying for good: run() returns st. */
void lr_client_give_up(relay_client *c, relay_status st);

/* client.c [io] */
/* Starts (or restarts) t to run fn in ms milliseconds. */
void lr_client_schedule(relay_client *c, lr_timer *t, lr_timer_fn fn, int ms);
void lr_client_cancel(relay_client *c, lr_timer *t);
/* Sends a text frame on the current connection (copied). */
void lr_client_send(relay_client *c, const char *text, size_t len);

/* Posts t to strand s (NULL: the client's) on the executor. */
void lr_client_post(relay_client *c, lr_strand *s, lr_task *t);
/* 1 if the calling thread is one of the client's callback threads (tests). */
int lr_client_on_callback_thread(const relay_client *c);

#define CLOG(c, lvl, ...) log_write(&(c)->log, (lvl), __VA_ARGS__)

#endif
