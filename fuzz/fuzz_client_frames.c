/* librelay's handling of what a server sends (dispatch.c): answers to its
 * requests, signalwire.event with every event type, server pings and
 * disconnects, and garbage. This thread plays the client's I/O thread: it
 * holds a transport that never connects (what the client would send is
 * queued and dropped with it) and hands the frames to dispatch, as the
 * transport's receive callback would. Inputs are one frame per line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <relay/relay.h>

#include "client/client.h"
#include "client/dispatch.h"
#include "client/session.h"
#include "client/timer.h"
#include "client/transport.h"

static void quiet(relay_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    (void)user;
}

static void nothing(void *user)
{
    (void)user;
}

static void down_unused(void *user, const char *why)
{
    (void)user;
    (void)why;
}

static void on_frame_unused(void *user, const char *text, size_t len)
{
    (void)user;
    (void)text;
    (void)len;
}

static void on_call(relay_call *call, void *user)
{
    (void)call;
    (void)user;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const contexts[] = {"office", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = 34003;
    o.project = "fuzz";
    o.token = "fuzz";
    o.contexts = contexts;
    o.log_fn = quiet;
    o.log_level = RELAY_LOG_DEBUG; /* every frame through the scrubber */
    relay_client *c = NULL;
    if (relay_client_new(&o, &c) != RELAY_OK)
        return 0;
    relay_client_on_call(c, on_call, NULL);
    /* one transport for every input: making a libwebsockets context costs
     * far more than the frames (it is never serviced, so never calls back) */
    static const log_sink transport_log = {quiet, NULL, RELAY_LOG_DEBUG, NULL};
    static lr_transport *t;
    if (!t) {
        lr_transport_cbs cbs = {nothing, on_frame_unused, down_unused, nothing, nothing, NULL};
        t = lr_transport_new(&cbs, NULL, &transport_log);
        if (!t)
            abort();
    }
    c->transport = t;
    size_t off = 0;
    for (int n = 0; off < size && n < 32; n++) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        char *frame = malloc(len + 1);
        if (!frame)
            break;
        memcpy(frame, data + off, len);
        frame[len] = '\0';
        lr_dispatch_frame(c, frame, len);
        free(frame);
        off += len + 1;
    }
    /* the I/O thread's own ending (client.c io_main) */
    lr_session_teardown(c);
    c->transport = NULL;
    lr_timers_destroy(&c->timers);
    relay_client_free(c);
    return 0;
}
