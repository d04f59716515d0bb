#include "ws.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mailbox.h"
#include "server_log.h"
#include "tls_pair.h"

/* A frame waiting to be written, with LWS_PRE bytes of headroom. */
typedef struct out_frame {
    struct out_frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
} out_frame;

/* What another thread asks of the service thread. */
typedef enum { WS_CMD_SEND, WS_CMD_CLOSE, WS_CMD_FRAME_DONE, WS_CMD_AUTHENTICATED } ws_cmd_kind;

typedef struct ws_cmd {
    mailbox_msg link;
    ws_cmd_kind kind;
    uint64_t conn;
    out_frame *frame; /* WS_CMD_SEND */
} ws_cmd;

/* lws per-session data: one per connection, owned by the service thread. */
typedef struct ws_conn {
    uint64_t id;
    struct lws *wsi;
    struct ws_conn *next_conn;
    out_frame *out_head, *out_tail;
    size_t out_bytes;  /* queued in out_head..out_tail, not yet written */
    int closing;
    int overflowed;    /* dropped for not reading: nothing more is queued */
    int in_core;       /* frames handed to the core, not yet done */
    int authenticated; /* max_frame applies, else max_frame_unauthenticated */
    struct sockaddr_storage peer_addr; /* counted against max_connections_per_address */
    int rx_paused;     /* we stopped reading: in_core reached the bound */
    char *rx;
    size_t rx_len, rx_cap;
    size_t rx_total; /* bytes of the current message, kept or not */
    int rx_oversize;
} ws_conn;

struct ws_server {
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int stopping;
    /* Graceful shutdown (ws_drain): new connections are refused and every
     * close says 1001 "going away". Set once, read by the service thread. */
    atomic_int draining;
    /* Bytes queued for every connection and not yet written: the core's
     * drain waits for it to reach 0 (the last events are on the wire). */
    atomic_size_t out_total;
    mailbox inbox;
    ws_callbacks cb;
    size_t max_frame;
    size_t max_frame_unauthenticated;
    size_t max_outbound;
    int max_in_flight;
    int max_connections, max_connections_per_address;
    uint64_t next_id;
    ws_conn *conns; /* live connections, service thread only */
    /* The certificate every new handshake presents. Replaced by
     * ws_reload_tls from the core thread while the service thread reads it
     * in handshakes, hence the lock; held only to attach or swap. */
    pthread_mutex_t tls_lock;
    tls_pair *tls;
};

/* OpenSSL asks for the certificate at each handshake; answering from our
 * current pair (instead of the SSL_CTX's, loaded once by lws) is what lets
 * SIGHUP change it with the listener and its connections untouched. */
static int cert_cb(SSL *ssl, void *arg)
{
    ws_server *ws = arg;
    pthread_mutex_lock(&ws->tls_lock);
    int ok = ws->tls && tls_pair_use(ws->tls, ssl) == 0;
    pthread_mutex_unlock(&ws->tls_lock);
    return ok ? 1 : 0;
}

static void wake_service(void *arg)
{
    ws_server *ws = arg;
    if (ws->ctx)
        lws_cancel_service(ws->ctx);
}

static ws_conn *find_conn(ws_server *ws, uint64_t id)
{
    for (ws_conn *c = ws->conns; c; c = c->next_conn)
        if (c->id == id)
            return c;
    return NULL;
}

static void unlink_conn(ws_server *ws, ws_conn *c)
{
    for (ws_conn **p = &ws->conns; *p; p = &(*p)->next_conn)
        if (*p == c) {
            *p = c->next_conn;
            return;
        }
}

static void conn_free_queues(ws_server *ws, ws_conn *c);

/* A peer that does not read while we keep producing for it: drop what is
 * queued and the connection (its session stays resumable in the core). A
 * close handshake would wait behind the very data it does not read, so the
 * socket is killed on lws's next pass instead. */
static void overflow(ws_server *ws, ws_conn *c)
{
    if (c->overflowed)
        return;
    c->overflowed = 1;
    server_log(RELAY_LOG_WARN,
               "ws: conn=%llu does not read: %zu bytes unsent (max_outbound_bytes %zu); dropped",
               (unsigned long long)c->id, c->out_bytes, ws->max_outbound);
    conn_free_queues(ws, c);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* Moves queued commands onto their connections (service thread). */
static void drain_inbox(ws_server *ws)
{
    mailbox_msg *m = mailbox_take_all(&ws->inbox);
    while (m) {
        ws_cmd *cmd = (ws_cmd *)m;
        m = m->next;
        ws_conn *c = find_conn(ws, cmd->conn);
        if (!c) {
            free(cmd->frame); /* the connection is gone: nothing to do */
        } else if (cmd->kind == WS_CMD_AUTHENTICATED) {
            c->authenticated = 1;
        } else if (cmd->kind == WS_CMD_FRAME_DONE) {
            /* Reading resumes at half the bound, not at each done frame, so a
             * flooding peer is served in batches rather than byte by byte. */
            if (c->in_core > 0)
                c->in_core--;
            if (c->rx_paused && c->in_core <= ws->max_in_flight / 2) {
                c->rx_paused = 0;
                lws_rx_flow_control(c->wsi, 1);
            }
        } else if (cmd->frame && (c->overflowed ||
                                  c->out_bytes + cmd->frame->len > ws->max_outbound)) {
            overflow(ws, c);
            free(cmd->frame);
        } else if (cmd->frame) {
            c->out_bytes += cmd->frame->len;
            atomic_fetch_add(&ws->out_total, cmd->frame->len);
            if (c->out_tail)
                c->out_tail->next = cmd->frame;
            else
                c->out_head = cmd->frame;
            c->out_tail = cmd->frame;
            lws_callback_on_writable(c->wsi);
        } else {
            c->closing = 1;
            lws_callback_on_writable(c->wsi);
        }
        free(cmd);
    }
}

static void rx_append(ws_server *ws, ws_conn *c, const void *in, size_t len)
{
    c->rx_total += len;
    if (c->rx_oversize)
        return;
    if (c->rx_len + len > (c->authenticated ? ws->max_frame : ws->max_frame_unauthenticated)) {
        c->rx_oversize = 1;
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
        return;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        char *grown = realloc(c->rx, cap);
        if (!grown) {
            c->rx_oversize = 1; /* treated like an oversize frame: dropped whole */
            return;
        }
        c->rx = grown;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
}

static void conn_free_queues(ws_server *ws, ws_conn *c)
{
    atomic_fetch_sub(&ws->out_total, c->out_bytes);
    c->out_bytes = 0;
    while (c->out_head) {
        out_frame *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    c->out_tail = NULL;
    free(c->rx);
    c->rx = NULL;
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return 0;
}

/* Whether a new TCP connection from addr may proceed: the totals are
 * checked at accept, before a handshake buffer is spent on it, so idle
 * sockets from one address cannot take every descriptor from real clients.
 * (Sockets still in the handshake are not counted here; lws drops those
 * that do not finish within its timeout_secs.) */
static int admit(ws_server *ws, const struct sockaddr_storage *addr)
{
    if (atomic_load(&ws->draining)) {
        server_log(RELAY_LOG_INFO, "ws: connection refused: shutting down");
        return 0;
    }
    int total = 0, same = 0;
    for (ws_conn *c = ws->conns; c; c = c->next_conn) {
        total++;
        same += same_address(&c->peer_addr, addr);
    }
    if (total >= ws->max_connections) {
        server_log(RELAY_LOG_WARN, "ws: connection refused: max_connections (%d) open",
                   ws->max_connections);
        return 0;
    }
    if (same >= ws->max_connections_per_address) {
        server_log(RELAY_LOG_WARN,
                   "ws: connection refused: max_connections_per_address (%d) from one address",
                   ws->max_connections_per_address);
        return 0;
    }
    return 1;
}

static int callback_relay(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    ws_server *ws = lws_context_user(lws_get_context(wsi));
    ws_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        /* lws's hook into the vhost's SSL_CTX as it is set up: user is it */
        if (ws && user)
            SSL_CTX_set_cert_cb((SSL_CTX *)user, cert_cb, ws);
        break;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (ws)
            drain_inbox(ws);
        break;

    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        const struct lws_filter_network_conn_args *a = user;
        if (ws && a && !admit(ws, &a->cli_addr))
            return -1;
        break;
    }

    case LWS_CALLBACK_ESTABLISHED: {
        memset(c, 0, sizeof *c);
        socklen_t alen = sizeof c->peer_addr;
        if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&c->peer_addr, &alen) != 0)
            memset(&c->peer_addr, 0, sizeof c->peer_addr);
        c->id = ++ws->next_id;
        c->wsi = wsi;
        c->next_conn = ws->conns;
        ws->conns = c;
        char peer[64] = "";
        lws_get_peer_simple(wsi, peer, sizeof peer);
        if (ws->cb.on_open)
            ws->cb.on_open(ws->cb.user, c->id, peer);
        break;
    }

    case LWS_CALLBACK_RECEIVE:
        if (lws_is_first_fragment(wsi)) {
            c->rx_len = 0;
            c->rx_total = 0;
            c->rx_oversize = 0;
        }
        rx_append(ws, c, in, len);
        if (!lws_is_final_fragment(wsi))
            break;
        if (c->rx_oversize) {
            size_t total = c->rx_total;
            c->rx_oversize = 0;
            c->rx_len = 0;
            if (ws->cb.on_oversize)
                ws->cb.on_oversize(ws->cb.user, c->id, total);
            break;
        }
        /* hand the buffer over whole; the next message starts a new one */
        if (!c->rx) {
            c->rx = malloc(1);
            if (!c->rx)
                break;
        }
        c->rx[c->rx_len] = '\0';
        char *text = c->rx;
        size_t text_len = c->rx_len;
        c->rx = NULL;
        c->rx_len = c->rx_cap = 0;
        /* One peer's flood must not queue unbounded work ahead of everyone
         * else's frames on the core: stop reading it until the core is done. */
        if (++c->in_core >= ws->max_in_flight && !c->rx_paused) {
            c->rx_paused = 1;
            lws_rx_flow_control(wsi, 0);
        }
        ws->cb.on_frame(ws->cb.user, c->id, text, text_len);
        break;

    case LWS_CALLBACK_SERVER_WRITEABLE: {
        out_frame *f = c->out_head;
        if (!f) {
            if (c->closing) {
                if (atomic_load(&ws->draining)) {
                    static const char why[] = "relayd is shutting down";
                    lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)why,
                                     sizeof why - 1);
                } else {
                    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
                }
                return -1;
            }
            break;
        }
        c->out_head = f->next;
        if (!c->out_head)
            c->out_tail = NULL;
        c->out_bytes -= f->len;
        atomic_fetch_sub(&ws->out_total, f->len);
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
        free(f);
        if (n < 0)
            return -1;
        if (c->out_head || c->closing)
            lws_callback_on_writable(wsi);
        break;
    }

    case LWS_CALLBACK_CLOSED:
        unlink_conn(ws, c);
        conn_free_queues(ws, c);
        if (ws->cb.on_close)
            ws->cb.on_close(ws->cb.user, c->id);
        break;

    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    /* The official SDKs send no Sec-WebSocket-Protocol; they get the first. */
    {"signalwire", callback_relay, sizeof(ws_conn), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
    ws_server *ws = arg;
    while (!atomic_load(&ws->stopping))
        lws_service(ws->ctx, 0);
    return NULL;
}

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    server_log(level & LLL_ERR ? RELAY_LOG_ERROR : RELAY_LOG_WARN, "lws: %.*s", (int)n, line);
}

ws_server *ws_start(const ws_config *cfg, const ws_callbacks *cb)
{
    ws_server *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->cb = *cb;
    ws->max_frame = cfg->max_frame;
    pthread_mutex_init(&ws->tls_lock, NULL);
    if (!cfg->plain) {
        char why[600];
        ws->tls = tls_pair_load(cfg->cert, cfg->key, why, sizeof why, NULL);
        if (!ws->tls) {
            server_log(RELAY_LOG_ERROR, "ws: TLS: %s", why);
            pthread_mutex_destroy(&ws->tls_lock);
            free(ws);
            return NULL;
        }
    }
    ws->max_frame_unauthenticated = cfg->max_frame_unauthenticated &&
                                            cfg->max_frame_unauthenticated < cfg->max_frame
                                        ? cfg->max_frame_unauthenticated
                                        : cfg->max_frame;
    ws->max_outbound = cfg->max_outbound ? cfg->max_outbound : (size_t)16 * 1024 * 1024;
    ws->max_in_flight = cfg->max_in_flight > 0 ? cfg->max_in_flight : 16;
    ws->max_connections = cfg->max_connections > 0 ? cfg->max_connections : 1000;
    ws->max_connections_per_address =
        cfg->max_connections_per_address > 0 ? cfg->max_connections_per_address : 100;
    mailbox_init(&ws->inbox, wake_service, ws);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->ip;
    info.protocols = protocols;
    info.user = ws;
    info.gid = -1;
    info.uid = -1;
    if (!cfg->plain) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->cert;
        info.ssl_private_key_filepath = cfg->key;
    }
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        server_log(RELAY_LOG_ERROR, "ws: cannot listen on %s:%d (port taken or bad TLS files?)",
                   cfg->ip, cfg->port);
        mailbox_destroy(&ws->inbox);
        tls_pair_free(ws->tls);
        pthread_mutex_destroy(&ws->tls_lock);
        free(ws);
        return NULL;
    }
    if (pthread_create(&ws->thread, NULL, service_main, ws) != 0) {
        lws_context_destroy(ws->ctx);
        mailbox_destroy(&ws->inbox);
        tls_pair_free(ws->tls);
        pthread_mutex_destroy(&ws->tls_lock);
        free(ws);
        return NULL;
    }
    return ws;
}

static void post(ws_server *ws, ws_cmd_kind kind, uint64_t conn, out_frame *frame)
{
    ws_cmd *cmd = calloc(1, sizeof *cmd);
    if (!cmd) {
        free(frame);
        return;
    }
    cmd->kind = kind;
    cmd->conn = conn;
    cmd->frame = frame;
    mailbox_push(&ws->inbox, &cmd->link);
}

void ws_send(ws_server *ws, uint64_t conn, char *text)
{
    if (!text)
        return;
    size_t len = strlen(text);
    out_frame *f = malloc(sizeof *f + LWS_PRE + len);
    if (f) {
        f->next = NULL;
        f->len = len;
        memcpy(f->buf + LWS_PRE, text, len);
        post(ws, WS_CMD_SEND, conn, f);
    }
    free(text);
}

void ws_close(ws_server *ws, uint64_t conn)
{
    post(ws, WS_CMD_CLOSE, conn, NULL);
}

void ws_authenticated(ws_server *ws, uint64_t conn)
{
    post(ws, WS_CMD_AUTHENTICATED, conn, NULL);
}

void ws_frame_done(ws_server *ws, uint64_t conn)
{
    post(ws, WS_CMD_FRAME_DONE, conn, NULL);
}

void ws_drain(ws_server *ws)
{
    if (ws)
        atomic_store(&ws->draining, 1);
}

size_t ws_unwritten(ws_server *ws)
{
    return ws ? atomic_load(&ws->out_total) : 0;
}

void ws_stop(ws_server *ws)
{
    if (!ws)
        return;
    atomic_store(&ws->stopping, 1);
    lws_cancel_service(ws->ctx);
    pthread_join(ws->thread, NULL);
    /* destroying the context closes every connection (CLOSED callbacks) */
    lws_context_destroy(ws->ctx);
    ws->ctx = NULL;
    mailbox_msg *m = mailbox_take_all(&ws->inbox);
    while (m) {
        ws_cmd *cmd = (ws_cmd *)m;
        m = m->next;
        free(cmd->frame);
        free(cmd);
    }
    mailbox_destroy(&ws->inbox);
    tls_pair_free(ws->tls);
    pthread_mutex_destroy(&ws->tls_lock);
    free(ws);
}

int ws_reload_tls(ws_server *ws, const char *cert, const char *key, char *why, size_t whylen)
{
    if (!ws->tls) {
        snprintf(why, whylen, "the listener is plain ws://; TLS needs a restart");
        return -1;
    }
    /* loaded and checked before the swap: a bad pair leaves the old one */
    tls_pair *fresh = tls_pair_load(cert, key, why, whylen, NULL);
    if (!fresh)
        return -1;
    pthread_mutex_lock(&ws->tls_lock);
    tls_pair *old = ws->tls;
    ws->tls = fresh;
    pthread_mutex_unlock(&ws->tls_lock);
    tls_pair_free(old);
    return 0;
}
