/* The in-process fake RELAY server: see fake_relay.h. */
#include "fake_relay.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

fake *F; /* the fake of the running test */
int fake_port_base = 18000;

static void fake_queue_locked(fake *f, const char *text, size_t len)
{
    outmsg *m = malloc(sizeof *m + LWS_PRE + len);
    assert_non_null(m);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (f->out_tail)
        f->out_tail->next = m;
    else
        f->out_head = m;
    f->out_tail = m;
}

/* From any thread. */
void fake_send(fake *f, const char *text)
{
    pthread_mutex_lock(&f->lock);
    fake_queue_locked(f, text, strlen(text));
    pthread_mutex_unlock(&f->lock);
    lws_cancel_service(f->ctx);
}

void fake_send_json(fake *f, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    fake_send(f, s);
    free(s);
}

void fake_drop(fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->drop = 1;
    pthread_mutex_unlock(&f->lock);
    lws_cancel_service(f->ctx);
}

/* A signalwire.event with nested params (params_text: a JSON object). */
void fake_event(fake *f, const char *type, const char *params_text)
{
    pthread_mutex_lock(&f->lock);
    int n = ++f->events_sent;
    pthread_mutex_unlock(&f->lock);
    char id[32];
    snprintf(id, sizeof id, "ev-%d", n);
    json_t *params = json_loads(params_text, 0, NULL);
    assert_non_null(params);
    fake_send_json(f, json_pack("{s:s,s:s,s:s,s:{s:s,s:f,s:o}}", "jsonrpc", "2.0", "id", id,
                                "method", "signalwire.event", "params", "event_type", type,
                                "timestamp", 1712345678.25, "params", params));
}

static void answer(fake *f, json_t *id, json_t *result)
{
    fake_send_json(f, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

static void on_client_frame(fake *f, const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, 0, NULL);
    if (!msg)
        return;
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *id = json_object_get(msg, "id");
    pthread_mutex_lock(&f->lock);
    json_array_append_new(f->received, json_deep_copy(msg)); /* shared: its own copy */
    int reject = f->reject_connect;
    if (method && strcmp(method, "signalwire.connect") == 0)
        f->connects++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);

    if (!method) {
        json_decref(msg);
        return;
    }
    if (strcmp(method, "signalwire.connect") == 0) {
        if (reject)
            fake_send_json(f, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id,
                                        "error", "code", -32001, "message", "Unauthorized"));
        else
            answer(f, id, json_pack("{s:s,s:s}", "protocol", f->protocol, "identity", "x"));
    } else if (strcmp(method, "test.drop") == 0) {
        fake_drop(f);
    } else if (strcmp(method, "test.hang") == 0) {
        /* never answered */
    } else if (strcmp(method, "signalwire.ping") == 0) {
        answer(f, id, json_object());
    } else {
        answer(f, id, json_pack("{s:s,s:s}", "code", "200", "message", "OK"));
    }
    if (f->hook)
        f->hook(f, method, msg);
    json_decref(msg);
}

static int fake_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    fake *f = F;
    if (!f)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        f->wsi = wsi;
        f->rx_len = 0;
        pthread_mutex_lock(&f->lock);
        f->connections++;
        f->drop = 0;
        pthread_mutex_unlock(&f->lock);
        break;
    case LWS_CALLBACK_CLOSED:
        if (f->wsi == wsi)
            f->wsi = NULL;
        pthread_mutex_lock(&f->lock);
        while (f->out_head) { /* nothing queued survives its connection */
            outmsg *m = f->out_head;
            f->out_head = m->next;
            free(m);
        }
        f->out_tail = NULL;
        pthread_mutex_unlock(&f->lock);
        break;
    case LWS_CALLBACK_RECEIVE:
        f->rx = realloc(f->rx, f->rx_len + len + 1);
        memcpy(f->rx + f->rx_len, in, len);
        f->rx_len += len;
        if (lws_is_final_fragment(wsi)) {
            on_client_frame(f, f->rx, f->rx_len);
            f->rx_len = 0;
        }
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (f->wsi)
            lws_callback_on_writable(f->wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        pthread_mutex_lock(&f->lock);
        int drop = f->drop;
        outmsg *m = drop ? NULL : f->out_head;
        if (m) {
            f->out_head = m->next;
            if (!f->out_head)
                f->out_tail = NULL;
        }
        int more = f->out_head != NULL;
        pthread_mutex_unlock(&f->lock);
        if (drop)
            return -1;
        if (!m)
            break;
        int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        if (n < 0)
            return -1;
        if (more)
            lws_callback_on_writable(wsi);
        break;
    }
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols fake_protocols[] = {
    {"fake-relay", fake_cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *fake_main(void *arg)
{
    fake *f = arg;
    while (!atomic_load(&f->quit))
        lws_service(f->ctx, 0);
    return NULL;
}

int fake_setup(void **state)
{
    fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->received = json_array();
    snprintf(f->protocol, sizeof f->protocol, "signalwire_fake_1");
    F = f;
    lws_set_log_level(LLL_ERR, NULL);
    /* A free port in [fake_port_base, +1000), starting from one that
     * depends on the pid so parallel test programs rarely collide. */
    for (int i = 0; i < 1000 && !f->ctx; i++) {
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof info);
        f->port = fake_port_base + (int)((getpid() + i * 7) % 1000);
        info.port = f->port;
        info.iface = "127.0.0.1";
        info.protocols = fake_protocols;
        info.fd_limit_per_thread = 32;
        f->ctx = lws_create_context(&info);
    }
    assert_non_null(f->ctx);
    pthread_create(&f->thread, NULL, fake_main, f);
    *state = f;
    return 0;
}

int fake_teardown(void **state)
{
    fake *f = *state;
    atomic_store(&f->quit, 1);
    lws_cancel_service(f->ctx);
    pthread_join(f->thread, NULL);
    lws_context_destroy(f->ctx);
    F = NULL;
    while (f->out_head) {
        outmsg *m = f->out_head;
        f->out_head = m->next;
        free(m);
    }
    json_decref(f->received);
    free(f->rx);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

struct timespec fake_deadline(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* The nth (0-based) frame received with this method, or, with method
 * NULL, the answer whose id is `id`. A new reference, or NULL on timeout. */
json_t *fake_wait(fake *f, const char *method, const char *id, int nth, int ms)
{
    struct timespec dl = fake_deadline(ms);
    json_t *found = NULL;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        int seen = 0;
        size_t i;
        json_t *m;
        json_array_foreach(f->received, i, m) {
            const char *mm = json_string_value(json_object_get(m, "method"));
            const char *mid = json_string_value(json_object_get(m, "id"));
            int match = method ? (mm && strcmp(mm, method) == 0)
                               : (!mm && mid && strcmp(mid, id) == 0);
            if (match && seen++ == nth) {
                found = json_deep_copy(m);
                break;
            }
        }
        if (found || pthread_cond_timedwait(&f->cond, &f->lock, &dl) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&f->lock);
    return found;
}
