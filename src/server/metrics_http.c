#include "metrics_http.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "relayd.h"
#include "server_log.h"

struct metrics_http {
    relayd *rd;
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int stopping;
};

/* One scrape in progress: the rendered text, written once the headers are. */
typedef struct scrape {
    char *body; /* LWS_PRE bytes of headroom, then the text */
    size_t len;
} scrape;

static int callback_metrics(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
    (void)len;
    metrics_http *m = lws_context_user(lws_get_context(wsi));
    scrape *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        if (strcmp((const char *)in, "/metrics") != 0) {
            lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
            return -1;
        }
        size_t text_len = 0;
        char *text = metrics_render(m->rd, &text_len);
        s->body = text ? malloc(LWS_PRE + text_len) : NULL;
        if (!s->body) {
            free(text);
            lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL);
            return -1;
        }
        memcpy(s->body + LWS_PRE, text, text_len);
        s->len = text_len;
        free(text);
        unsigned char headers[LWS_PRE + 512], *start = headers + LWS_PRE, *p = start,
                                              *end = headers + sizeof headers - 1;
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4",
                                        (lws_filepos_t)s->len, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s->body)
            break;
        if (lws_write(wsi, (unsigned char *)s->body + LWS_PRE, s->len, LWS_WRITE_HTTP_FINAL) !=
            (int)s->len)
            return -1;
        free(s->body);
        s->body = NULL;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        free(s->body);
        s->body = NULL;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback_metrics, sizeof(scrape), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
    metrics_http *m = arg;
    while (!atomic_load(&m->stopping))
        lws_service(m->ctx, 0);
    return NULL;
}

metrics_http *metrics_http_start(relayd *rd, const char *ip, int port)
{
    metrics_http *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->rd = rd;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = ip;
    info.protocols = protocols;
    info.user = m;
    info.gid = -1;
    info.uid = -1;
    m->ctx = lws_create_context(&info);
    if (!m->ctx) {
        server_log(RELAY_LOG_ERROR, "metrics: cannot listen on %s:%d", ip, port);
        free(m);
        return NULL;
    }
    if (pthread_create(&m->thread, NULL, service_main, m) != 0) {
        lws_context_destroy(m->ctx);
        free(m);
        return NULL;
    }
    server_log(RELAY_LOG_INFO, "metrics: http://%s:%d/metrics", ip, port);
    return m;
}

void metrics_http_stop(metrics_http *m)
{
    if (!m)
        return;
    atomic_store(&m->stopping, 1);
    lws_cancel_service(m->ctx);
    pthread_join(m->thread, NULL);
    lws_context_destroy(m->ctx);
    free(m);
}
