/*
 * The transport: one libwebsockets client context and at most one
 * connection, driven entirely by the I/O thread.
 *
 * libwebsockets 4.1.6 rules this file lives by: only lws_cancel_service()
 * may be called from another thread (it raises EVENT_WAIT_CANCELLED here);
 * writes happen only in CLIENT_WRITEABLE, one lws_write per callback, with
 * LWS_PRE bytes of headroom; receives come in fragments and are
 * reassembled; lws_service() ignores its timeout, so every timer is a
 * lws_sul.
 */
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_CHUNK 65536
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

/* No name is ever sent as Sec-WebSocket-Protocol (the official SDKs send
 * none); the name only binds our callback to the connection. */
static const struct lws_protocols protocols[] = {
    {"relay-client", callback, 0, RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}, /* 4.1.6 has no LWS_PROTOCOL_LIST_TERM */
};

/* The connection attempt a wsi belongs to: callbacks of an abandoned wsi
 * (killed asynchronously) must not touch the current one. */
static unsigned wsi_gen(struct lws *wsi)
{
    return (unsigned)(uintptr_t)lws_get_opaque_user_data(wsi);
}

static void drain_mailbox(relay_client *c)
{
    mailbox_msg *m = mailbox_take_all(&c->mbox);
    while (m) {
        mailbox_msg *next = m->next;
        lr_rpc_take(c, (rpc_req *)m); /* the mailbox's reference becomes the I/O thread's */
        m = next;
    }
}

int lr_conn_create_context(relay_client *c)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = c;
    /* One connection: do not size the fd table by RLIMIT_NOFILE. */
    info.fd_limit_per_thread = 16;
    /* With a CA file the server is verified against it (as well as the
     * system store); without one, against the system store. Never skipped. */
    info.client_ssl_ca_filepath = c->ca_file;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        CLOG(c, RELAY_LOG_ERROR, "could not create the libwebsockets context");
        return -1;
    }
    pthread_mutex_lock(&c->post_lock);
    c->ctx = ctx;
    c->accepting = 1;
    pthread_mutex_unlock(&c->post_lock);
    return 0;
}

void lr_conn_schedule(relay_client *c, lws_sorted_usec_list_t *sul, sul_cb_t cb, int ms)
{
    lws_sul_schedule(c->ctx, 0, sul, cb, (lws_usec_t)ms * LWS_US_PER_MS);
}

static void on_reconnect_timer(lws_sorted_usec_list_t *sul)
{
    relay_client *c = lws_container_of(sul, relay_client, reconnect_timer);
    lr_conn_attempt(c);
}

void lr_conn_schedule_reconnect(relay_client *c, int delay_ms)
{
    CLOG(c, RELAY_LOG_INFO, "reconnecting in %d ms", delay_ms);
    lr_conn_schedule(c, &c->reconnect_timer, on_reconnect_timer, delay_ms);
}

void lr_conn_attempt(relay_client *c)
{
    if (atomic_load(&c->io_quit))
        return;
    c->conn_gen++;
    c->state = CONN_CONNECTING;
    c->retry_after_close = 0;

    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = c->ctx;
    i.address = c->host;
    i.port = c->port;
    i.path = "/";
    i.host = c->host_header;
    i.origin = c->host_header;
    i.ssl_connection = c->plain_ws ? 0 : LCCSCF_USE_SSL;
    i.protocol = NULL;
    i.local_protocol_name = protocols[0].name;
    i.ietf_version_or_minus_one = -1;
    i.opaque_user_data = (void *)(uintptr_t)c->conn_gen;

    CLOG(c, RELAY_LOG_INFO, "connecting to %s://%s:%d", c->plain_ws ? "ws" : "wss", c->host,
         c->port);
    unsigned gen = c->conn_gen;
    struct lws *wsi = lws_client_connect_via_info(&i);
    /* A failure may already have been reported through CONNECTION_ERROR
     * from inside the call; only report it here if it was not. */
    if (!wsi && c->conn_gen == gen && c->state == CONN_CONNECTING)
        lr_conn_down(c, "could not start the connection");
    else if (wsi && c->conn_gen == gen && c->state == CONN_CONNECTING)
        c->wsi = wsi;
}

void lr_conn_send_text(relay_client *c, const char *text, size_t len)
{
    if (!c->wsi || c->state == CONN_IDLE || c->state == CONN_CONNECTING)
        return; /* no connection: the frame would belong to no session */
    txframe *f = malloc(sizeof *f + LWS_PRE + len);
    if (!f) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory queueing a frame");
        return;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    if (c->tx_tail)
        c->tx_tail->next = f;
    else
        c->tx_head = f;
    c->tx_tail = f;
    lws_callback_on_writable(c->wsi);
}

static void free_tx(relay_client *c)
{
    txframe *f = c->tx_head;
    while (f) {
        txframe *next = f->next;
        free(f);
        f = next;
    }
    c->tx_head = c->tx_tail = NULL;
}

void lr_conn_close(relay_client *c, int flush_first)
{
    if (!c->wsi || c->state == CONN_IDLE)
        return;
    if (flush_first) {
        /* Close from WRITEABLE once everything queued (e.g. the answer to
         * signalwire.disconnect) is out. */
        c->close_after_flush = 1;
        lws_callback_on_writable(c->wsi);
        return;
    }
    /* Abandon it now: lws closes it on its next pass, and its later
     * callbacks carry a stale generation. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lr_conn_down(c, "closed by the client");
}

void lr_conn_down(relay_client *c, const char *why)
{
    if (c->state == CONN_IDLE)
        return;
    /* an unexpected drop of a ready session is worth a warning; our own
     * shutdown is not */
    int expected = atomic_load(&c->io_quit);
    CLOG(c, c->state == CONN_READY && !expected ? RELAY_LOG_WARN : RELAY_LOG_INFO,
         "connection down: %s", why);
    c->state = CONN_IDLE;
    c->wsi = NULL;
    c->conn_gen++; /* whatever that wsi still reports is stale now */
    free_tx(c);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    c->rx_discard = 0;
    c->close_after_flush = 0;
    lws_sul_cancel(&c->ping_timer);
    if (!lr_session_on_down(c) || atomic_load(&c->io_quit))
        return;
    int delay = c->backoff_ms;
    c->backoff_ms = delay ? (delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2)
                          : BACKOFF_FIRST_MS;
    lr_conn_schedule_reconnect(c, delay);
}

void lr_conn_teardown(relay_client *c)
{
    pthread_mutex_lock(&c->post_lock);
    c->accepting = 0;
    pthread_mutex_unlock(&c->post_lock);

    atomic_store(&c->io_quit, 1);
    if (c->state != CONN_IDLE) {
        if (c->wsi)
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        lr_conn_down(c, "client closing");
    }
    lws_sul_cancel(&c->reconnect_timer);
    lws_sul_cancel(&c->ping_timer);

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

    lws_context_destroy(c->ctx);
    pthread_mutex_lock(&c->post_lock);
    c->ctx = NULL;
    pthread_mutex_unlock(&c->post_lock);
    free_tx(c);
    atomic_store(&c->closed, 1);
}

/* Appends a received fragment; dispatches on the message's last one. */
static void on_receive(relay_client *c, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_discard = 0;
    }
    if (!c->rx_discard) {
        if (c->rx_len + len > PROTO_MAX_FRAME) {
            CLOG(c, RELAY_LOG_ERROR, "dropping a message larger than %d bytes",
                 PROTO_MAX_FRAME);
            c->rx_discard = 1;
            free(c->rx);
            c->rx = NULL;
            c->rx_len = c->rx_cap = 0;
        } else {
            if (c->rx_len + len + 1 > c->rx_cap) {
                size_t cap = c->rx_cap ? c->rx_cap : RX_CHUNK;
                while (cap < c->rx_len + len + 1)
                    cap *= 2;
                unsigned char *p = realloc(c->rx, cap);
                if (!p) {
                    CLOG(c, RELAY_LOG_ERROR, "out of memory receiving a message");
                    c->rx_discard = 1;
                    return;
                }
                c->rx = p;
                c->rx_cap = cap;
            }
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        }
    }
    if (!lws_is_final_fragment(wsi))
        return;
    int complete = !c->rx_discard && c->rx;
    size_t n = c->rx_len;
    c->rx_len = 0;
    c->rx_discard = 0;
    if (!complete)
        return;
    /* Detach the buffer while the frame is handled: handling it may close
     * the connection, which resets the receive state. */
    unsigned char *buf = c->rx;
    size_t cap = c->rx_cap;
    c->rx = NULL;
    c->rx_cap = 0;
    buf[n] = '\0';
    lr_dispatch_frame(c, (const char *)buf, n);
    /* Keep a modest buffer for the next message, not a multi-megabyte one. */
    if (!c->rx && cap <= 4 * RX_CHUNK) {
        c->rx = buf;
        c->rx_cap = cap;
    } else {
        free(buf);
    }
}

static int on_writeable(relay_client *c, struct lws *wsi)
{
    txframe *f = c->tx_head;
    if (!f) {
        if (c->close_after_flush) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    c->tx_head = f->next;
    if (!c->tx_head)
        c->tx_tail = NULL;
    if (c->log.level >= RELAY_LOG_DEBUG)
        CLOG(c, RELAY_LOG_DEBUG, "send: %.*s", (int)f->len, (const char *)f->buf + LWS_PRE);
    int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
    size_t len = f->len;
    free(f);
    if (n < 0 || (size_t)n < len) {
        CLOG(c, RELAY_LOG_WARN, "write failed");
        return -1;
    }
    if (c->tx_head || c->close_after_flush)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    relay_client *c = ctx ? lws_context_user(ctx) : NULL;
    if (!c)
        return 0;
    /* Events of a connection we already gave up on. */
    int current = reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED || wsi_gen(wsi) == c->conn_gen;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        drain_mailbox(c);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!current)
            return -1;
        c->wsi = wsi;
        c->state = CONN_AUTHENTICATING;
        CLOG(c, RELAY_LOG_INFO, "websocket connected to %s", c->host_header);
        lr_session_on_open(c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!current || c->state == CONN_IDLE)
            return 0;
        on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!current || c->state == CONN_IDLE)
            return -1;
        return on_writeable(c, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (current) {
            char why[256];
            snprintf(why, sizeof why, "connection error: %s",
                     in ? (const char *)in : "(no reason given)");
            lr_conn_down(c, why);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (current)
            lr_conn_down(c, "closed by the peer");
        break;
    default:
        break;
    }
    return 0;
}
