#include "recordings_http.h"

#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_log.h"

#define PREFIX "/recordings/"
#define NAME_MAX_LEN 200

struct recordings_http {
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int stopping;
    char host[80]; /* ip, bracketed if IPv6, ":port" */
    int open;      /* connections, counted on the service thread only */
    /* What relayd recorded: a ring, newest at next - 1. The path is kept
     * as written, so a reload that moves recordings_dir changes nothing. */
    pthread_mutex_t lock;
    struct served {
        char *name, *path;
    } files[RECORDINGS_HTTP_MAX_NAMES];
    size_t next;
};

/* What the recorder names files (call id, counter, time, extension): a
 * name that is not of this alphabet is refused before any lookup, so no
 * '/', '%', or leading '.' ever reaches a path. */
static int plausible_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= NAME_MAX_LEN && name[0] != '.' &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

/* The path recorded under name into path; 0, or -1 if relayd made no such
 * file (or has forgotten it). */
static int lookup(recordings_http *h, const char *name, char *path, size_t size)
{
    int rc = -1;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < RECORDINGS_HTTP_MAX_NAMES && rc; i++)
        if (h->files[i].name && strcmp(h->files[i].name, name) == 0 &&
            strlen(h->files[i].path) < size) {
            strcpy(path, h->files[i].path);
            rc = 0;
        }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".wav") == 0)
        return "audio/wav";
    if (dot && strcmp(dot, ".mp3") == 0)
        return "audio/mpeg";
    return NULL;
}

static int refuse(struct lws *wsi, unsigned status)
{
    lws_return_http_status(wsi, status, NULL);
    return -1;
}

static int callback_recordings(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                               void *in, size_t len)
{
    recordings_http *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        /* Counted from accept to close (an idle socket that never sends a
         * request holds a descriptor too); the mark tells WSI_DESTROY
         * which wsis were counted. */
        if (!h)
            break;
        lws_set_opaque_user_data(wsi, h);
        if (++h->open > RECORDINGS_HTTP_MAX_CONNECTIONS) {
            server_log(RELAY_LOG_WARN, "recordings: connection refused: %d open",
                       RECORDINGS_HTTP_MAX_CONNECTIONS);
            return -1;
        }
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (h && lws_get_opaque_user_data(wsi) == h) {
            lws_set_opaque_user_data(wsi, NULL);
            h->open--;
        }
        break;
    case LWS_CALLBACK_HTTP: {
        const char *uri = in;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
            return refuse(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED);
        if (strncmp(uri, PREFIX, strlen(PREFIX)) != 0)
            return refuse(wsi, HTTP_STATUS_NOT_FOUND);
        const char *name = uri + strlen(PREFIX);
        if (!plausible_name(name))
            return refuse(wsi, HTTP_STATUS_BAD_REQUEST);
        const char *mime = mime_of(name);
        char path[PATH_MAX];
        if (!mime || lookup(h, name, path, sizeof path) != 0)
            return refuse(wsi, HTTP_STATUS_NOT_FOUND);
        /* lws sends Content-Length and the file in pieces as the socket
         * takes them; nonzero: it could not (a file since deleted has been
         * answered 404 by lws), and the connection closes. */
        return lws_serve_http_file(wsi, path, mime, NULL, 0) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback_recordings, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
    recordings_http *h = arg;
    while (!atomic_load(&h->stopping))
        lws_service(h->ctx, 0);
    return NULL;
}

recordings_http *recordings_http_start(const char *ip, int port)
{
    recordings_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    snprintf(h->host, sizeof h->host, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = ip;
    info.protocols = protocols;
    info.user = h;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = 10; /* a connection silent this long is closed */
    info.keepalive_timeout = 5;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        server_log(RELAY_LOG_ERROR, "recordings: cannot listen on %s:%d", ip, port);
        recordings_http_stop(h);
        return NULL;
    }
    if (pthread_create(&h->thread, NULL, service_main, h) != 0) {
        lws_context_destroy(h->ctx);
        h->ctx = NULL;
        recordings_http_stop(h);
        return NULL;
    }
    server_log(RELAY_LOG_INFO, "recordings: http://%s%s", h->host, PREFIX);
    return h;
}

void recordings_http_stop(recordings_http *h)
{
    if (!h)
        return;
    if (h->ctx) {
        atomic_store(&h->stopping, 1);
        lws_cancel_service(h->ctx);
        pthread_join(h->thread, NULL);
        lws_context_destroy(h->ctx);
    }
    for (size_t i = 0; i < RECORDINGS_HTTP_MAX_NAMES; i++) {
        free(h->files[i].name);
        free(h->files[i].path);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int recordings_http_url(const recordings_http *h, const char *path, char *url, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!plausible_name(name))
        return -1;
    int n = snprintf(url, size, "http://%s%s%s", h->host, PREFIX, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

void recordings_http_add(recordings_http *h, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!plausible_name(name))
        return;
    char *n = strdup(name), *p = strdup(path);
    if (!n || !p) {
        free(n);
        free(p);
        return;
    }
    pthread_mutex_lock(&h->lock);
    struct served *f = &h->files[h->next];
    free(f->name);
    free(f->path);
    *f = (struct served){.name = n, .path = p};
    h->next = (h->next + 1) % RECORDINGS_HTTP_MAX_NAMES;
    pthread_mutex_unlock(&h->lock);
}
