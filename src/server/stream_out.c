/* See stream_out.h. */
#include "stream_out.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/mailbox.h"
#include "media/rtp.h"
#include "media/source.h"
#include "server_log.h"

/* Frames a stream may have waiting (both tracks): 64 × 20 ms is 1.28 s of
 * one track, enough for a connection's hiccup, small enough to bound. */
#define RING 64
/* How often the thread looks at the rings: frames arrive every 20 ms. */
#define PUMP_US (10 * LWS_US_PER_MS)
/* At stop, how long open streams get to write their stop message. */
#define STOP_GRACE_MS 1000

typedef struct chunk {
    uint8_t track; /* WS_STREAM_INBOUND or WS_STREAM_OUTBOUND */
    uint16_t len;
    uint32_t number; /* per track, from 1 */
    uint8_t data[MEDIA_FRAME_SAMPLES * 2];
} chunk;

typedef enum { CMD_OPEN, CMD_CLOSE } cmd_kind;

typedef struct cmd {
    mailbox_msg link; /* first */
    cmd_kind kind;
    ws_stream *s;
} cmd;

struct ws_stream {
    stream_out *so;
    atomic_int refs;
    cmd open_cmd, close_cmd; /* each pushed at most once: no allocation later */
    char *host, *path;
    int port, tls;
    char call_id[80], stream_id[400]; /* as JSON strings, quoted and escaped */
    ws_stream_codec codec;
    ws_stream_tracks tracks;
    ws_stream_event_fn fn;
    void *user;
    /* The ring: the media thread writes tail, the stream thread head. */
    chunk ring[RING];
    atomic_uint head, tail;
    atomic_int discard; /* closing: pushes are dropped uncounted */
    atomic_ulong sent, dropped;
    uint32_t number[3]; /* media thread: chunks pushed per track */
    /* stream thread only */
    struct lws *wsi;
    int phase;        /* 0 connected to write, 1 start, 2 media, 3 stop written */
    int closing;      /* stop asked: write `drain` more chunks, then stop */
    unsigned drain;
    int ended;
    ws_stream *next;
};

struct stream_out {
    const addr_allow *allow;
    struct lws_context *ctx;
    SSL_CTX *client_tls; /* ours, lent to lws (see stream_out_start) */
    int system_store;    /* the stream thread loaded the system CAs into it */
    pthread_t thread;
    mailbox inbox;
    atomic_int stopping;
    atomic_int open; /* streams not yet ENDED, against max */
    int max;
    lws_sorted_usec_list_t pump;
    ws_stream *streams; /* thread only */
};

/* ---- URLs and the address rule ---- */

typedef struct url_parts {
    char buf[1024];
    const char *prot, *host, *path;
    int port;
} url_parts;

static const char *url_split(const char *url, url_parts *u)
{
    if (!url || strlen(url) >= sizeof u->buf)
        return "url must be a ws:// or wss:// URL (at most 1023 characters)";
    snprintf(u->buf, sizeof u->buf, "%s", url);
    if (lws_parse_uri(u->buf, &u->prot, &u->host, &u->port, &u->path) ||
        (strcmp(u->prot, "ws") && strcmp(u->prot, "wss")) || !*u->host)
        return "url must be a ws:// or wss:// URL";
    if (u->port < 1 || u->port > 65535)
        return "url has no valid port";
    return NULL;
}

/* The rule for one address: NULL, or the reason (written to why). */
static const char *judge(const struct sockaddr *sa, const addr_allow *allow, char *why,
                         size_t why_len)
{
    const char *internal = addr_internal_reason(sa);
    if (!internal || addr_allowed(allow, sa))
        return NULL;
    snprintf(why, why_len, "url's host is a %s (webhook_allow may permit chosen ranges)",
             internal);
    return why;
}

/* A literal address into sa; 0 if host is one. */
static int literal(const char *host, struct sockaddr_storage *sa)
{
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

const char *ws_stream_url_check(const char *url, const addr_allow *allow, char *why,
                                size_t why_len)
{
    url_parts u;
    const char *bad = url_split(url, &u);
    if (bad) {
        snprintf(why, why_len, "%s", bad);
        return why;
    }
    struct sockaddr_storage sa;
    if (literal(u.host, &sa) == 0)
        return judge((struct sockaddr *)&sa, allow, why, why_len);
    return NULL;
}

/* ---- the stream thread ---- */

static void unref(ws_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    free(s->host);
    free(s->path);
    free(s);
}

static void unlink_stream(stream_out *so, ws_stream *s)
{
    for (ws_stream **p = &so->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            return;
        }
}

/* The stream thread's last touch of s. */
static void end(stream_out *so, ws_stream *s, int failed, const char *reason)
{
    if (s->ended)
        return;
    s->ended = 1;
    if (s->wsi)
        lws_set_opaque_user_data(s->wsi, NULL);
    s->wsi = NULL;
    unlink_stream(so, s);
    atomic_fetch_sub(&so->open, 1);
    server_log(failed ? RELAY_LOG_WARN : RELAY_LOG_INFO,
               "stream %s: ended (%s): %lu chunks sent, %lu dropped", s->stream_id, reason,
               atomic_load(&s->sent), atomic_load(&s->dropped));
    s->fn(s, WS_STREAM_ENDED, failed, reason, s->user);
    unref(s);
}

static unsigned ring_count(ws_stream *s)
{
    return atomic_load_explicit(&s->tail, memory_order_acquire) -
           atomic_load_explicit(&s->head, memory_order_relaxed);
}

static void connect_stream(stream_out *so, ws_stream *s)
{
    /* Resolved here and connected by number: the address judged is the
     * address used (no second lookup between the check and the connect). */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char why[200], num[INET6_ADDRSTRLEN];
    int rc = getaddrinfo(s->host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(why, sizeof why, "connect failed: cannot resolve %s: %s", s->host,
                 gai_strerror(rc));
        end(so, s, 1, why);
        return;
    }
    const char *refused = judge(res->ai_addr, so->allow, why, sizeof why);
    const void *a = res->ai_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    inet_ntop(res->ai_family, a, num, sizeof num);
    freeaddrinfo(res);
    if (refused) {
        end(so, s, 1, why);
        return;
    }
    /* The system CA store is read at the first wss stream, not at start:
     * parsing the bundle costs about a quarter of a billion instructions,
     * which every relayd start would pay for streams it may never open. */
    if (s->tls && !so->system_store) {
        SSL_CTX_set_default_verify_paths(so->client_tls);
        so->system_store = 1;
    }
    char path[1100];
    snprintf(path, sizeof path, "/%s", s->path);
    struct lws_client_connect_info i = {
        .context = so->ctx,
        .address = num,
        .port = s->port,
        /* The name, not the number: the Host header, SNI and the name the
         * certificate is checked against (against the system store). */
        .host = s->host,
        .origin = s->host,
        .path = path,
        .ssl_connection = s->tls ? LCCSCF_USE_SSL : 0,
        .ietf_version_or_minus_one = -1,
        .opaque_user_data = s,
        .pwsi = &s->wsi,
    };
    if (!lws_client_connect_via_info(&i)) {
        s->wsi = NULL;
        end(so, s, 1, "connect failed: could not start the connection");
    }
}

static void take_commands(stream_out *so)
{
    mailbox_msg *m = mailbox_take_all(&so->inbox);
    while (m) {
        cmd *c = (cmd *)m;
        m = m->next;
        ws_stream *s = c->s;
        if (c->kind == CMD_OPEN) {
            s->next = so->streams;
            so->streams = s;
            if (atomic_load(&so->stopping))
                end(so, s, 1, "relayd is stopping");
            else
                connect_stream(so, s);
        } else if (!s->ended) {
            s->closing = 1;
            s->drain = ring_count(s);
            if (s->wsi && s->phase >= 2)
                lws_callback_on_writable(s->wsi);
            else if (!s->wsi || s->phase < 2)
                /* not streaming yet: nothing to finish */
                end(so, s, 0, "stopped");
        }
        if (c->kind == CMD_CLOSE)
            unref(s); /* the close's own reference */
    }
}

static void pump(lws_sorted_usec_list_t *sul)
{
    stream_out *so = lws_container_of(sul, stream_out, pump);
    for (ws_stream *s = so->streams; s; s = s->next)
        if (s->wsi && s->phase >= 2 && (ring_count(s) || s->closing))
            lws_callback_on_writable(s->wsi);
    lws_sul_schedule(so->ctx, 0, &so->pump, pump, PUMP_US);
}

static const char *encoding(ws_stream_codec c)
{
    return c == WS_STREAM_PCMU ? "audio/x-mulaw" : c == WS_STREAM_PCMA ? "audio/x-alaw"
                                                                        : "audio/l16";
}

/* The next message of s into p (at most cap); its length, 0 if nothing is
 * due now. */
static int next_message(ws_stream *s, char *p, size_t cap)
{
    int n = 0;
    if (s->phase == 0) {
        n = snprintf(p, cap, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
        s->phase = 1;
    } else if (s->phase == 1) {
        const char *tracks = s->tracks == WS_STREAM_INBOUND    ? "[\"inbound\"]"
                             : s->tracks == WS_STREAM_OUTBOUND ? "[\"outbound\"]"
                                                               : "[\"inbound\",\"outbound\"]";
        n = snprintf(p, cap,
                     "{\"event\":\"start\",\"streamSid\":%s,"
                     "\"start\":{\"streamSid\":%s,\"callSid\":%s,\"tracks\":%s,"
                     "\"mediaFormat\":{\"encoding\":\"%s\",\"sampleRate\":8000,"
                     "\"channels\":1}}}",
                     s->stream_id, s->stream_id, s->call_id, tracks, encoding(s->codec));
        s->phase = 2;
    } else if (s->phase == 2 && ring_count(s) && (!s->closing || s->drain)) {
        unsigned h = atomic_load_explicit(&s->head, memory_order_relaxed);
        const chunk *c = &s->ring[h % RING];
        char b64[MEDIA_FRAME_SAMPLES * 2 * 4 / 3 + 8];
        lws_b64_encode_string((const char *)c->data, c->len, b64, sizeof b64);
        n = snprintf(p, cap,
                     "{\"event\":\"media\",\"streamSid\":%s,\"media\":{\"track\":\"%s\","
                     "\"chunk\":\"%u\",\"timestamp\":\"%u\",\"payload\":\"%s\"}}",
                     s->stream_id, c->track == WS_STREAM_INBOUND ? "inbound" : "outbound",
                     (unsigned)c->number, (unsigned)(c->number - 1) * 20, b64);
        atomic_store_explicit(&s->head, h + 1, memory_order_release);
        if (s->closing)
            s->drain--;
        atomic_fetch_add(&s->sent, 1);
    } else if (s->phase == 2 && s->closing) {
        n = snprintf(p, cap, "{\"event\":\"stop\",\"streamSid\":%s,\"stop\":{\"callSid\":%s}}",
                     s->stream_id, s->call_id);
        s->phase = 3;
    }
    return n > 0 && (size_t)n < cap ? n : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    stream_out *so = lws_context_user(lws_get_context(wsi));
    ws_stream *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        take_commands(so);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s) {
            char why[300];
            snprintf(why, sizeof why, "connect failed to %s port %d: %.*s", s->host, s->port,
                     in ? (int)len : 0, in ? (const char *)in : "no reason given");
            end(so, s, 1, why);
        }
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!s)
            return -1; /* stopped while connecting */
        {
            s->fn(s, WS_STREAM_STREAMING, 0, "", s->user);
            lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (!s)
            return -1;
        if (s->phase == 3) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            end(so, s, 0, "stopped");
            return -1;
        }
        unsigned char buf[LWS_PRE + 1024];
        int n = next_message(s, (char *)buf + LWS_PRE, sizeof buf - LWS_PRE);
        if (!n)
            break;
        if (lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n) {
            end(so, s, 1, "write failed");
            return -1;
        }
        if (s->phase < 2 || s->phase == 3 || ring_count(s) || s->closing)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        break; /* the remote's messages (marks, clears) are not acted on */
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (s)
            end(so, s, !s->closing, s->closing ? "stopped" : "remote closed");
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"relayd-stream", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void wake(void *arg)
{
    stream_out *so = arg;
    if (so->ctx)
        lws_cancel_service(so->ctx);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *run(void *arg)
{
    stream_out *so = arg;
    lws_sul_schedule(so->ctx, 0, &so->pump, pump, PUMP_US);
    while (!atomic_load(&so->stopping))
        lws_service(so->ctx, 0);
    /* Stopping: every stream finishes as if stopped, within the grace. */
    take_commands(so);
    for (ws_stream *s = so->streams, *next; s; s = next) {
        next = s->next;
        if (!s->closing) {
            s->closing = 1;
            s->drain = 0;
            if (s->wsi && s->phase >= 2)
                lws_callback_on_writable(s->wsi);
            else
                end(so, s, 1, "relayd is stopping");
        }
    }
    int64_t until = now_ms() + STOP_GRACE_MS;
    while (so->streams && now_ms() < until)
        lws_service(so->ctx, 0);
    lws_sul_schedule(so->ctx, 0, &so->pump, NULL, LWS_SET_TIMER_USEC_CANCEL);
    while (so->streams)
        end(so, so->streams, 1, "relayd is stopping");
    return NULL;
}

int stream_out_max(const stream_out *so) { return so->max; }

stream_out *stream_out_start(const addr_allow *allow, int max, const char *ca_file)
{
    stream_out *so = calloc(1, sizeof *so);
    if (!so)
        return NULL;
    so->allow = allow;
    so->max = max > 0 ? max : STREAM_OUT_MAX;
    mailbox_init(&so->inbox, wake, so);
    /* The client TLS context is ours, not one libwebsockets builds: lws 4.1
     * keeps the record it frees its own by under an SSL_CTX ex-data index
     * that every context's global init re-allocates, and relayd has several
     * contexts (RELAY server, metrics, recordings, this one), so a context
     * lws built here was never freed (the system CA store, ~700 KB, seen by
     * LeakSanitizer in test_relayd_ops). Same fix as librelay's transport.
     * wss peers are verified against the system store and stream_ca_file
     * (a private CA for the operator's own stream receivers; lws sets the
     * peer and host checks on each connection). */
    so->client_tls = SSL_CTX_new(TLS_client_method());
    if (so->client_tls) {
        SSL_CTX_set_min_proto_version(so->client_tls, TLS1_2_VERSION);
        SSL_CTX_set_mode(so->client_tls, SSL_MODE_RELEASE_BUFFERS);
        if (ca_file && SSL_CTX_load_verify_locations(so->client_tls, ca_file, NULL) != 1) {
            server_log(RELAY_LOG_ERROR, "stream_ca_file %s: not a readable PEM CA file",
                       ca_file);
            SSL_CTX_free(so->client_tls);
            so->client_tls = NULL;
        }
    }
    struct lws_context_creation_info info = {
        .port = CONTEXT_PORT_NO_LISTEN,
        .protocols = protocols,
        .options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT,
        .user = so,
        .gid = -1,
        .uid = -1,
        .provided_client_ssl_ctx = so->client_tls,
    };
    so->ctx = so->client_tls ? lws_create_context(&info) : NULL;
    if (!so->ctx || pthread_create(&so->thread, NULL, run, so) != 0) {
        if (so->ctx)
            lws_context_destroy(so->ctx);
        SSL_CTX_free(so->client_tls);
        mailbox_destroy(&so->inbox);
        free(so);
        return NULL;
    }
    return so;
}

void stream_out_stop(stream_out *so)
{
    if (!so)
        return;
    atomic_store(&so->stopping, 1);
    lws_cancel_service(so->ctx);
    pthread_join(so->thread, NULL);
    lws_context_destroy(so->ctx); /* every wsi went with its stream above */
    so->ctx = NULL;
    SSL_CTX_free(so->client_tls); /* after lws: its connections used it */
    so->client_tls = NULL;
    take_commands(so); /* queued after the thread's last look: ended now */
    while (so->streams)
        end(so, so->streams, 1, "relayd is stopping");
    mailbox_destroy(&so->inbox);
    free(so);
}

/* ---- the core's side ---- */

/* text as a JSON string (escaped and quoted) into out; "" if it is too long. */
static void quote(char *out, size_t cap, const char *text)
{
    json_t *j = json_string(text);
    size_t n = j ? json_dumpb(j, out, cap - 1, JSON_ENCODE_ANY) : 0;
    json_decref(j);
    if (n == 0 || n >= cap - 1)
        snprintf(out, cap, "\"\"");
    else
        out[n] = '\0';
}

ws_stream *ws_stream_open(stream_out *so, const char *url, const char *call_id,
                          const char *stream_id, ws_stream_codec codec, ws_stream_tracks tracks,
                          ws_stream_event_fn fn, void *user)
{
    url_parts u;
    if (url_split(url, &u))
        return NULL;
    if (atomic_fetch_add(&so->open, 1) >= so->max) {
        atomic_fetch_sub(&so->open, 1);
        return NULL;
    }
    ws_stream *s = calloc(1, sizeof *s);
    if (s) {
        s->host = strdup(u.host);
        s->path = strdup(u.path ? u.path : "");
    }
    if (!s || !s->host || !s->path) {
        if (s) {
            free(s->host);
            free(s->path);
        }
        free(s);
        atomic_fetch_sub(&so->open, 1);
        return NULL;
    }
    s->so = so;
    atomic_init(&s->refs, 2); /* the caller's, the stream thread's until ENDED */
    s->port = u.port;
    s->tls = strcmp(u.prot, "wss") == 0;
    quote(s->call_id, sizeof s->call_id, call_id);
    quote(s->stream_id, sizeof s->stream_id, stream_id);
    s->codec = codec;
    s->tracks = tracks;
    s->fn = fn;
    s->user = user;
    s->open_cmd.kind = CMD_OPEN;
    s->open_cmd.s = s;
    mailbox_push(&so->inbox, &s->open_cmd.link);
    return s;
}

void ws_stream_close(ws_stream *s)
{
    atomic_store(&s->discard, 1);
    atomic_fetch_add(&s->refs, 1); /* held by the command until handled */
    s->close_cmd.kind = CMD_CLOSE;
    s->close_cmd.s = s;
    mailbox_push(&s->so->inbox, &s->close_cmd.link);
}

void ws_stream_release(ws_stream *s)
{
    if (s)
        unref(s);
}

/* ---- the media thread's side ---- */

static int push(ws_stream *s, ws_stream_tracks track, const int16_t *pcm)
{
    unsigned t = atomic_load_explicit(&s->tail, memory_order_relaxed);
    if (t - atomic_load_explicit(&s->head, memory_order_acquire) >= RING) {
        atomic_fetch_add(&s->dropped, 1);
        return -1;
    }
    chunk *c = &s->ring[t % RING];
    c->track = (uint8_t)track;
    c->number = ++s->number[track];
    if (s->codec == WS_STREAM_L16) {
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) { /* network order (RFC 3551) */
            c->data[2 * i] = (uint8_t)((uint16_t)pcm[i] >> 8);
            c->data[2 * i + 1] = (uint8_t)((uint16_t)pcm[i] & 0xff);
        }
        c->len = MEDIA_FRAME_SAMPLES * 2;
    } else {
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
            c->data[i] = s->codec == WS_STREAM_PCMU ? g711_linear_to_ulaw(pcm[i])
                                                    : g711_linear_to_alaw(pcm[i]);
        c->len = MEDIA_FRAME_SAMPLES;
    }
    atomic_store_explicit(&s->tail, t + 1, memory_order_release);
    return 0;
}

int ws_stream_tap_out(void *user, const int16_t *rx, const int16_t *tx, int marker)
{
    (void)marker;
    ws_stream *s = user;
    if (atomic_load_explicit(&s->discard, memory_order_relaxed))
        return -1;
    int ok = -1;
    if (rx && (s->tracks & WS_STREAM_INBOUND) && push(s, WS_STREAM_INBOUND, rx) == 0)
        ok = 0;
    if (tx && (s->tracks & WS_STREAM_OUTBOUND) && push(s, WS_STREAM_OUTBOUND, tx) == 0)
        ok = 0;
    return ok;
}

unsigned long ws_stream_sent(ws_stream *s) { return atomic_load(&s->sent); }
unsigned long ws_stream_dropped(ws_stream *s) { return atomic_load(&s->dropped); }
