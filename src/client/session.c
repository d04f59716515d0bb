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
#include "action.h"
#include "call.h"
#include "client.h"
#include "frames.h"
#include "rpc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_AUTH_FAILURES 3
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define PING_INTERVAL_MS 30000
#define MAX_PING_FAILURES 3

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
        if (req->status == RELAY_ERR_TIMEOUT && c->state == CONN_AUTHENTICATING)
            lr_session_close(c, 0);
        return;
    }
    if (req->error || !json_is_object(req->result)) {
        const char *msg = json_string_value(json_object_get(req->error, "message"));
        c->auth_failures++;
        CLOG(c, RELAY_LOG_WARN, "signalwire.connect rejected (%d in a row): %s",
             c->auth_failures, msg ? msg : "no reason given");
        if (c->protocol) {
            /* Perhaps only the resume was refused: next time, start afresh. */
            set_str(&c->protocol, NULL);
            set_str(&c->authorization_state, NULL);
        }
        if (!c->ever_ready && c->auth_failures >= MAX_AUTH_FAILURES) {
            CLOG(c, RELAY_LOG_ERROR, "giving up: the server rejects these credentials");
            lr_client_set_outcome(c, RELAY_ERR_AUTH);
            atomic_store(&c->io_quit, 1);
            lr_session_close(c, 0);
            return;
        }
        c->retry_after_close = 1;
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
    c->ping_failures = 0;
    CLOG(c, RELAY_LOG_INFO, "session %s (protocol %s)", resumed ? "resumed" : "established",
         proto ? proto : "?");
    lr_session_start_pings(c);
    lr_client_set_outcome(c, RELAY_OK);
    lr_rpc_flush_queue(c);
}

static int session_on_down(relay_client *c);

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
    if (!session_on_down(c) || atomic_load(&c->io_quit))
        return;
    int delay = c->backoff_ms;
    c->backoff_ms = delay ? (delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2)
                          : BACKOFF_FIRST_MS;
    CLOG(c, RELAY_LOG_INFO, "reconnecting in %d ms", delay);
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

static int session_on_down(relay_client *c)
{
    int quitting = atomic_load(&c->io_quit);
    lr_rpc_fail_inflight(c, quitting ? RELAY_ERR_CLOSED : RELAY_ERR_DISCONNECTED);
    if (quitting)
        return 0;
    if (!c->ever_ready && !c->retry_after_close) {
        /* The very first connection failed: tell relay_client_connect. */
        lr_client_set_outcome(c, RELAY_ERR_CONNECT);
        atomic_store(&c->io_quit, 1);
        return 0;
    }
    return 1;
}

static void on_ping_done(relay_client *c, rpc_req *req)
{
    if (req->status == RELAY_OK) {
        /* Any answer, even an error object, proves the peer alive. */
        c->ping_failures = 0;
        return;
    }
    if (req->status != RELAY_ERR_TIMEOUT || c->state != CONN_READY)
        return;
    if (++c->ping_failures >= MAX_PING_FAILURES) {
        CLOG(c, RELAY_LOG_WARN, "%d pings unanswered: reconnecting", c->ping_failures);
        c->ping_failures = 0;
        lr_session_close(c, 0);
    }
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
    if (req) {
        req->hook = on_ping_done;
        lr_rpc_take(c, req);
    }
    lr_client_schedule(c, &c->ping_timer, on_ping_timer, PING_INTERVAL_MS);
}

void lr_session_start_pings(relay_client *c)
{
    lr_client_schedule(c, &c->ping_timer, on_ping_timer, PING_INTERVAL_MS);
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
    lr_session_close(c, 1); /* after our answer has gone out */
}

void lr_session_forget_calls(relay_client *c, relay_status st)
{
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
