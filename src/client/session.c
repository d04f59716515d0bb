/*
 * The RELAY session on top of the transport: signalwire.connect (fresh or
 * resumed), bounded retries on rejected credentials, pings, and the
 * server's own session requests (disconnect, authorization state).
 *
 * The rules, from the reference SDKs: a session that was never established
 * gives up after 3 consecutive rejections (or at once on a transport
 * failure, which relay_client_connect reports); one that was established
 * reconnects forever and resumes with its protocol and authorization state.
 */
#include "session.h"
#include "messaging.h"
#include "action.h"
#include "call.h"
#include "client.h"
#include "frames.h"
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_AUTH_FAILURES 3
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
/* Unanswered requests in a row (pings included) that prove a connection
 * half-open: the reference client reconnects after 3 failed pings. */
#define MAX_TIMEOUTS_IN_A_ROW 3

/* ------------------------------------------- the application's view */

typedef struct conn_task {
    lr_task task;
    relay_client *client;
    relay_connection_event ev;
    char reason[160];
} conn_task;

static void run_conn_task(lr_task *t)
{
    conn_task *ct = (conn_task *)t;
    ct->ev.reason = ct->reason;
    ct->client->on_connection(ct->client, &ct->ev, ct->client->on_connection_user);
    free(ct);
}

/* [io] Tells the application, on the client's strand so that the states
 * arrive in order and after the client-level callbacks queued before. */
static void notify(relay_client *c, relay_connection_state st, const char *reason,
                   int retry_in_ms)
{
    if (!c->on_connection)
        return;
    conn_task *ct = calloc(1, sizeof *ct);
    if (!ct) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory: connection state %s not delivered",
             relay_connection_state_name(st));
        return;
    }
    ct->task.run = run_conn_task;
    ct->client = c;
    ct->ev.state = st;
    ct->ev.state_name = relay_connection_state_name(st);
    ct->ev.attempt = c->attempts;
    ct->ev.retry_in_ms = retry_in_ms;
    snprintf(ct->reason, sizeof ct->reason, "%s", reason ? reason : "");
    lr_client_post(c, NULL, &ct->task);
}

/* -------------------------------------------------------------- backoff */

uint64_t lr_jitter_seed(const relay_client *c)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)c;
    }
    return seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint32_t next_random(relay_client *c)
{
    /* xorshift64*: jitter needs spread, not secrecy */
    uint64_t x = c->jitter_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->jitter_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* The delay before the next attempt: the backoff step (1 s doubling to
 * 30 s) with "equal jitter", half fixed and half random, so that clients
 * dropped together by one server restart do not come back in step. */
static int next_delay(relay_client *c)
{
    int step = c->backoff_ms;
    c->backoff_ms = step ? (step * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : step * 2)
                         : BACKOFF_FIRST_MS;
    if (step <= 0)
        return 0; /* asked to come back at once (signalwire.disconnect) */
    int half = step / 2;
    return half + (int)(next_random(c) % (uint32_t)(step - half + 1));
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src && *src ? strdup(src) : NULL;
}

static void publish_protocol(relay_client *c)
{
    const char *p = lr_strpool_intern(&c->protocols, c->protocol ? c->protocol : "");
    if (p)
        atomic_store_explicit(&c->protocol_pub, p, memory_order_release);
}

static void on_connect_done(relay_client *c, rpc_req *req)
{
    if (req->status != RELAY_OK) {
        /* No answer in time: treat the connection as dead. A drop or a
         * shutdown has been dealt with by whoever caused it. */
        if (req->status == RELAY_ERR_TIMEOUT && c->state == CONN_AUTHENTICATING) {
            snprintf(c->down_reason, sizeof c->down_reason, "signalwire.connect unanswered");
            lr_session_close(c, 0);
        }
        return;
    }
    if (req->error || !json_is_object(req->result)) {
        const char *msg = json_string_value(json_object_get(req->error, "message"));
        c->auth_failures++;
        CLOG(c, RELAY_LOG_WARN, "signalwire.connect rejected (%d in a row): %s",
             c->auth_failures, msg ? msg : "no reason given");
        char why[160];
        snprintf(why, sizeof why, "signalwire.connect rejected %d time%s in a row: %.100s",
                 c->auth_failures, c->auth_failures == 1 ? "" : "s",
                 msg ? msg : "no reason given");
        if (c->protocol) {
            /* Perhaps only the resume was refused: next time, start afresh. */
            set_str(&c->protocol, NULL);
            set_str(&c->authorization_state, NULL);
        }
        if (!c->ever_ready && c->auth_failures >= MAX_AUTH_FAILURES) {
            CLOG(c, RELAY_LOG_ERROR, "giving up: the server rejects these credentials");
            lr_client_set_outcome_reason(c, RELAY_ERR_AUTH, why);
            notify(c, RELAY_CONNECTION_FAILED, why, -1);
            if (c->persistent)
                lr_client_give_up(c, RELAY_ERR_AUTH);
            atomic_store(&c->io_quit, 1);
            lr_session_close(c, 0);
            return;
        }
        c->retry_after_close = 1;
        snprintf(c->down_reason, sizeof c->down_reason, "%s", why);
        lr_session_close(c, 1);
        return;
    }

    const char *proto = json_string_value(json_object_get(req->result, "protocol"));
    int resumed = c->protocol && proto && strcmp(proto, c->protocol) == 0;
    if (c->ever_ready && !resumed) {
        /* A new session: the server no longer knows our calls. */
        CLOG(c, RELAY_LOG_WARN, "the server started a new session; active calls are lost");
        lr_session_forget_calls(c, RELAY_ERR_DISCONNECTED);
    }
    if (!resumed)
        set_str(&c->authorization_state, NULL);
    set_str(&c->protocol, proto);
    publish_protocol(c);

    c->state = CONN_READY;
    c->ever_ready = 1;
    c->auth_failures = 0;
    c->backoff_ms = 1000;
    c->timeouts_in_a_row = 0;
    CLOG(c, RELAY_LOG_INFO, "session %s (protocol %s)", resumed ? "resumed" : "established",
         proto ? proto : "?");
    lr_session_start_pings(c);
    lr_client_set_outcome(c, RELAY_OK);
    notify(c, resumed ? RELAY_CONNECTION_RESUMED : RELAY_CONNECTION_CONNECTED, NULL, -1);
    c->attempts = 0;
    lr_rpc_flush_queue(c);
}

static int session_on_down(relay_client *c, const char *reason);

/* ------------------------------------------------------ the connection */

static void on_reconnect_timer(lr_timer *t)
{
    lr_session_connect(lr_container_of(t, relay_client, reconnect_timer));
}

void lr_session_connect(relay_client *c)
{
    if (atomic_load(&c->io_quit))
        return;
    c->state = CONN_CONNECTING;
    c->retry_after_close = 0;
    c->timeouts_in_a_row = 0;
    c->down_reason[0] = '\0';
    c->attempts++;
    notify(c, RELAY_CONNECTION_CONNECTING, NULL, -1);
    CLOG(c, RELAY_LOG_INFO, "connecting to %s://%s:%d", c->plain_ws ? "ws" : "wss", c->host,
         c->port);
    lr_transport_connect(c->transport, c->host, c->port, c->host_header, !c->plain_ws);
}

void lr_session_close(relay_client *c, int flush_first)
{
    lr_transport_close(c->transport, flush_first);
}

void lr_session_on_transport_down(relay_client *c, const char *why)
{
    if (c->state == CONN_IDLE)
        return;
    /* an unexpected drop of a ready session is worth a warning; our own
     * shutdown is not */
    int expected = atomic_load(&c->io_quit);
    CLOG(c, c->state == CONN_READY && !expected ? RELAY_LOG_WARN : RELAY_LOG_INFO,
         "connection down: %s", why);
    c->state = CONN_IDLE;
    lr_client_cancel(c, &c->ping_timer);
    /* our own reason for closing says more than the transport's */
    const char *reason = c->down_reason[0] ? c->down_reason : why;
    if (!session_on_down(c, reason) || atomic_load(&c->io_quit)) {
        if (!expected)
            notify(c, RELAY_CONNECTION_FAILED, reason, -1);
        return;
    }
    int delay = next_delay(c);
    CLOG(c, RELAY_LOG_INFO, "reconnecting in %d ms", delay);
    notify(c, RELAY_CONNECTION_DISCONNECTED, reason, delay);
    lr_client_schedule(c, &c->reconnect_timer, on_reconnect_timer, delay);
}

void lr_session_teardown(relay_client *c)
{
    pthread_mutex_lock(&c->post_lock);
    c->accepting = 0;
    pthread_mutex_unlock(&c->post_lock);

    atomic_store(&c->io_quit, 1);
    lr_session_close(c, 0);
    lr_client_cancel(c, &c->reconnect_timer);
    lr_client_cancel(c, &c->ping_timer);

    /* Whatever was posted but not taken yet. */
    mailbox_msg *m = mailbox_take_all(&c->mbox);
    while (m) {
        mailbox_msg *next = m->next;
        lr_rpc_complete(c, (rpc_req *)m, RELAY_ERR_CLOSED, NULL, NULL);
        m = next;
    }
    lr_rpc_fail_inflight(c, RELAY_ERR_CLOSED);
    lr_rpc_fail_queue(c, RELAY_ERR_CLOSED);
    lr_session_forget_calls(c, RELAY_ERR_CLOSED);
    lr_event_hub_close(&c->events);
}

/* --------------------------------------------------------- the session */

void lr_session_on_open(relay_client *c)
{
    c->state = CONN_AUTHENTICATING;
    CLOG(c, RELAY_LOG_INFO, "websocket connected to %s", c->host_header);
    connect_args a = {
        .agent = c->agent,
        .project = c->project,
        .token = c->token,
        .jwt_token = c->jwt_token,
        .contexts = (const char *const *)c->contexts,
        .protocol = c->protocol,
        .authorization_state = c->authorization_state,
    };
    json_t *params = lr_frame_connect_params(&a);
    rpc_req *req = params ? lr_rpc_req_new(proto_method_name(PM_CONNECT), params,
                                        c->request_timeout_ms)
                          : NULL;
    json_decref(params);
    if (!req) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory building signalwire.connect");
        lr_session_close(c, 0);
        return;
    }
    req->hook = on_connect_done;
    req->session = 1;
    lr_rpc_take(c, req); /* our only reference goes to the I/O thread */
}

static int session_on_down(relay_client *c, const char *reason)
{
    int quitting = atomic_load(&c->io_quit);
    lr_rpc_fail_inflight(c, quitting ? RELAY_ERR_CLOSED : RELAY_ERR_DISCONNECTED);
    if (quitting)
        return 0;
    if (!c->ever_ready && !c->retry_after_close && !c->persistent) {
        /* The very first connection failed: tell relay_client_connect
         * (run() keeps trying instead). */
        lr_client_set_outcome_reason(c, RELAY_ERR_CONNECT, reason);
        atomic_store(&c->io_quit, 1);
        return 0;
    }
    return 1;
}

void lr_session_on_request_timeout(relay_client *c)
{
    if (c->state != CONN_READY)
        return;
    if (++c->timeouts_in_a_row < MAX_TIMEOUTS_IN_A_ROW)
        return;
    CLOG(c, RELAY_LOG_WARN, "%d requests in a row unanswered: the connection is taken for dead",
         c->timeouts_in_a_row);
    snprintf(c->down_reason, sizeof c->down_reason,
             "%d requests in a row unanswered (half-open connection)", c->timeouts_in_a_row);
    c->timeouts_in_a_row = 0;
    lr_session_close(c, 0);
}

void lr_session_on_answer(relay_client *c)
{
    /* Any answer, even an error object, proves the peer alive. */
    c->timeouts_in_a_row = 0;
}

static void on_ping_timer(lr_timer *t)
{
    relay_client *c = lr_container_of(t, relay_client, ping_timer);
    if (c->state != CONN_READY)
        return;
    json_t *params = json_object();
    rpc_req *req = params ? lr_rpc_req_new(proto_method_name(PM_PING), params, c->request_timeout_ms)
                          : NULL;
    json_decref(params);
    if (req)
        lr_rpc_take(c, req); /* its answer or timeout counts like any request's */
    lr_client_schedule(c, &c->ping_timer, on_ping_timer, c->ping_interval_ms);
}

void lr_session_start_pings(relay_client *c)
{
    lr_client_schedule(c, &c->ping_timer, on_ping_timer, c->ping_interval_ms);
}

void lr_session_on_authorization_state(relay_client *c, const char *state)
{
    if (state)
        set_str(&c->authorization_state, state);
}

void lr_session_on_disconnect_request(relay_client *c, int restart)
{
    CLOG(c, RELAY_LOG_INFO, "server asked to disconnect%s", restart ? " (restart)" : "");
    if (restart) {
        set_str(&c->protocol, NULL);
        set_str(&c->authorization_state, NULL);
    }
    c->backoff_ms = 0; /* asked to: come back at once */
    c->retry_after_close = 1;
    snprintf(c->down_reason, sizeof c->down_reason, "the server asked to disconnect%s",
             restart ? " (restart: a new session follows)" : "");
    lr_session_close(c, 1); /* after our answer has gone out */
}

void lr_session_forget_calls(relay_client *c, relay_status st)
{
    lr_messaging_forget(c, st); /* the server that knew them is gone too */
    size_t n;
    void **all = lr_strmap_values(&c->actions, &n);
    for (size_t i = 0; i < n; i++)
        lr_action_complete(all[i], st, NULL);
    free(all);

    all = lr_strmap_values(&c->calls, &n);
    for (size_t i = 0; i < n; i++) {
        relay_call *call = all[i];
        lr_strmap_remove(&c->calls, call->call_id);
        lr_client_cancel(c, &call->linger);
        call->in_map = 0;
        lr_call_mark_gone(call);
        relay_call_unref(call);
    }
    free(all);
}
