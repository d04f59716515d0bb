/*
 * The transport over libwebsockets (see transport.h).
 *
 * libwebsockets 4.1.6 rules this file lives by: only lws_cancel_service()
 * may be called from another thread (it raises EVENT_WAIT_CANCELLED here);
 * writes happen only in CLIENT_WRITEABLE, one lws_write per callback, with
 * LWS_PRE bytes of headroom; receives come in fragments and are
 * reassembled; lws_service() ignores its timeout, so the owner's earliest
 * deadline is one lws_sul.
 */
#include "transport.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/protocol.h"
#include "timer.h"

#define RX_CHUNK 65536

typedef struct txframe {
    struct txframe *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
} txframe;

typedef enum tstate { T_IDLE = 0, T_CONNECTING, T_OPEN } tstate;

struct lr_transport {
    lr_transport_cbs cbs;
    const log_sink *log;
    struct lws_context *ctx;
    SSL_CTX *client_tls; /* ours, lent to lws (see lr_transport_new) */
    struct lws *wsi;
    tstate state;
    unsigned gen; /* bumps on every attempt and every drop */
    txframe *tx_head, *tx_tail;
    unsigned char *rx;
    size_t rx_len, rx_cap;
    int rx_discard;
    int close_after_flush;
    lws_sorted_usec_list_t deadline;
};

#define TLOG(t, lvl, ...) log_write((t)->log, (lvl), __VA_ARGS__)

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

/* No name is ever sent as Sec-WebSocket-Protocol (the official SDKs send
 * none); the name only binds our callback to the connection. */
static const struct lws_protocols protocols[] = {
    {"relay-client", callback, 0, RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}, /* 4.1.6 has no LWS_PROTOCOL_LIST_TERM */
};

static void quiet_lws(void)
{
    /* lws logs notices to stderr by default; keep only its problems. */
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
}

lr_transport *lr_transport_new(const lr_transport_cbs *cbs, const char *ca_file,
                               const log_sink *log)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_lws);
    lr_transport *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cbs = *cbs;
    t->log = log;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = t;
    /* One connection: do not size the fd table by RLIMIT_NOFILE. */
    info.fd_limit_per_thread = 16;
    /* The client TLS context is ours, not one libwebsockets builds. lws
     * 4.1 finds the record it frees its own by under an SSL_CTX ex-data
     * index that every context's global init re-allocates into one static:
     * with two clients alive at once, the first one's context was never
     * freed (~700 KB each, the system CA store). lws never frees a context
     * it was given; lr_transport_free does. The server is verified against
     * the system store and, with a CA file, against it as well: never
     * skipped (lws sets the peer and host checks on each connection). */
    t->client_tls = SSL_CTX_new(TLS_client_method());
    if (!t->client_tls) {
        TLOG(t, RELAY_LOG_ERROR, "could not create the TLS client context");
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->client_tls, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->client_tls, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_verify_paths(t->client_tls);
    if (ca_file && SSL_CTX_load_verify_locations(t->client_tls, ca_file, NULL) != 1)
        TLOG(t, RELAY_LOG_ERROR, "cannot load the CA file %s: servers will not be trusted",
             ca_file);
    info.provided_client_ssl_ctx = t->client_tls;
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        TLOG(t, RELAY_LOG_ERROR, "could not create the libwebsockets context");
        SSL_CTX_free(t->client_tls);
        free(t);
        return NULL;
    }
    return t;
}

static void free_tx(lr_transport *t)
{
    txframe *f = t->tx_head;
    while (f) {
        txframe *next = f->next;
        free(f);
        f = next;
    }
    t->tx_head = t->tx_tail = NULL;
}

/* Forgets the current connection; its later callbacks are stale. */
static void reset(lr_transport *t)
{
    if (t->wsi)
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    t->state = T_IDLE;
    t->wsi = NULL;
    t->gen++;
    free_tx(t);
    free(t->rx);
    t->rx = NULL;
    t->rx_len = t->rx_cap = 0;
    t->rx_discard = 0;
    t->close_after_flush = 0;
}

static void went_down(lr_transport *t, const char *why)
{
    if (t->state == T_IDLE)
        return;
    reset(t);
    t->cbs.on_down(t->cbs.user, why);
}

void lr_transport_free(lr_transport *t)
{
    if (!t)
        return;
    reset(t);
    lws_sul_cancel(&t->deadline);
    lws_context_destroy(t->ctx);
    SSL_CTX_free(t->client_tls); /* after lws: its connections used it */
    free(t);
}

/* The connection attempt a wsi belongs to: callbacks of an abandoned wsi
 * (killed asynchronously) must not touch the current one. */
static unsigned wsi_gen(struct lws *wsi)
{
    return (unsigned)(uintptr_t)lws_get_opaque_user_data(wsi);
}

void lr_transport_connect(lr_transport *t, const char *host, int port, const char *host_header,
                          int tls)
{
    reset(t);
    t->state = T_CONNECTING;
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = t->ctx;
    i.address = host;
    i.port = port;
    i.path = "/";
    i.host = host_header;
    i.origin = host_header;
    i.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    i.protocol = NULL;
    i.local_protocol_name = protocols[0].name;
    i.ietf_version_or_minus_one = -1;
    i.opaque_user_data = (void *)(uintptr_t)t->gen;

    unsigned gen = t->gen;
    struct lws *wsi = lws_client_connect_via_info(&i);
    /* A failure may already have been reported through CONNECTION_ERROR
     * from inside the call; only report it here if it was not. */
    if (t->gen != gen || t->state != T_CONNECTING)
        return;
    if (!wsi)
        went_down(t, "could not start the connection");
    else
        t->wsi = wsi;
}

int lr_transport_is_open(const lr_transport *t)
{
    return t->state == T_OPEN;
}

void lr_transport_send(lr_transport *t, const char *text, size_t len)
{
    if (t->state != T_OPEN || !t->wsi)
        return; /* no connection: the frame would belong to no session */
    txframe *f = malloc(sizeof *f + LWS_PRE + len);
    if (!f) {
        TLOG(t, RELAY_LOG_ERROR, "out of memory queueing a frame");
        return;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    if (t->tx_tail)
        t->tx_tail->next = f;
    else
        t->tx_head = f;
    t->tx_tail = f;
    lws_callback_on_writable(t->wsi);
}

void lr_transport_close(lr_transport *t, int flush_first)
{
    if (t->state == T_IDLE)
        return;
    if (flush_first && t->wsi && t->state == T_OPEN) {
        /* Close from WRITEABLE once everything queued (e.g. the answer to
         * signalwire.disconnect) is out. */
        t->close_after_flush = 1;
        lws_callback_on_writable(t->wsi);
        return;
    }
    went_down(t, "closed by the client");
}

void lr_transport_wake(lr_transport *t)
{
    lws_cancel_service(t->ctx);
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
    lr_transport *t = lr_container_of(sul, lr_transport, deadline);
    t->cbs.on_deadline(t->cbs.user);
}

void lr_transport_arm(lr_transport *t, int64_t deadline_us)
{
    if (deadline_us < 0) {
        lws_sul_cancel(&t->deadline);
        return;
    }
    int64_t in = deadline_us - lr_now_us();
    lws_sul_schedule(t->ctx, 0, &t->deadline, on_deadline, in > 0 ? (lws_usec_t)in : 1);
}

void lr_transport_service(lr_transport *t)
{
    lws_service(t->ctx, 0);
}

/* Appends a received fragment; hands up the message on its last one. */
static void on_receive(lr_transport *t, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        t->rx_len = 0;
        t->rx_discard = 0;
    }
    if (!t->rx_discard) {
        if (t->rx_len + len > PROTO_MAX_FRAME) {
            TLOG(t, RELAY_LOG_ERROR, "dropping a message larger than %d bytes", PROTO_MAX_FRAME);
            t->rx_discard = 1;
            free(t->rx);
            t->rx = NULL;
            t->rx_len = t->rx_cap = 0;
        } else {
            if (t->rx_len + len + 1 > t->rx_cap) {
                size_t cap = t->rx_cap ? t->rx_cap : RX_CHUNK;
                while (cap < t->rx_len + len + 1)
                    cap *= 2;
                unsigned char *p = realloc(t->rx, cap);
                if (!p) {
                    TLOG(t, RELAY_LOG_ERROR, "out of memory receiving a message");
                    t->rx_discard = 1;
                    return;
                }
                t->rx = p;
                t->rx_cap = cap;
            }
            memcpy(t->rx + t->rx_len, in, len);
            t->rx_len += len;
        }
    }
    if (!lws_is_final_fragment(wsi))
        return;
    int complete = !t->rx_discard && t->rx;
    size_t n = t->rx_len;
    t->rx_len = 0;
    t->rx_discard = 0;
    if (!complete)
        return;
    /* Detach the buffer while the message is handled: handling it may
     * close the connection, which resets the receive state. */
    unsigned char *buf = t->rx;
    size_t cap = t->rx_cap;
    t->rx = NULL;
    t->rx_cap = 0;
    buf[n] = '\0';
    t->cbs.on_frame(t->cbs.user, (const char *)buf, n);
    /* Keep a modest buffer for the next message, not a multi-megabyte one. */
    if (!t->rx && cap <= 4 * RX_CHUNK) {
        t->rx = buf;
        t->rx_cap = cap;
    } else {
        free(buf);
    }
}

static int on_writeable(lr_transport *t, struct lws *wsi)
{
    txframe *f = t->tx_head;
    if (!f) {
        if (t->close_after_flush) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    t->tx_head = f->next;
    if (!t->tx_head)
        t->tx_tail = NULL;
    if (t->log->level >= RELAY_LOG_DEBUG)
        TLOG(t, RELAY_LOG_DEBUG, "send: %.*s", (int)f->len, (const char *)f->buf + LWS_PRE);
    int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
    size_t len = f->len;
    free(f);
    if (n < 0 || (size_t)n < len) {
        TLOG(t, RELAY_LOG_WARN, "write failed");
        return -1;
    }
    if (t->tx_head || t->close_after_flush)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    lr_transport *t = ctx ? lws_context_user(ctx) : NULL;
    if (!t)
        return 0;
    /* Events of a connection we already gave up on. */
    int current = reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED || wsi_gen(wsi) == t->gen;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        t->cbs.on_wake(t->cbs.user);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!current || t->state != T_CONNECTING)
            return -1;
        t->wsi = wsi;
        t->state = T_OPEN;
        t->cbs.on_open(t->cbs.user);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!current || t->state != T_OPEN)
            return 0;
        on_receive(t, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!current || t->state != T_OPEN)
            return -1;
        return on_writeable(t, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (current) {
            char why[256];
            snprintf(why, sizeof why, "connection error: %s",
                     in ? (const char *)in : "(no reason given)");
            t->wsi = NULL; /* lws is freeing it */
            went_down(t, why);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (current) {
            t->wsi = NULL;
            went_down(t, "closed by the peer");
        }
        break;
    default:
        break;
    }
    return 0;
}
