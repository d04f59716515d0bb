/*
 * calling.stream: the leg's audio sent to a WebSocket URL the client names
 * (stream_out.h has the connection and the message shapes). A media_tap
 * picks the frames on the leg's tick; its output is the stream's ring.
 * calling.call.stream events: `streaming` when the WebSocket handshake is
 * done, `finished` at calling.stream.stop, the call's end, the remote's
 * close or a failure to connect (then with `reason`, and `failed: true`
 * unless a stop or the call's end asked for it). The same op serves
 * calling.tap's ws device, reporting calling.call.tap `tapping` /
 * `finished` with the tap's own fields.
 *
 * The URL is a client's choice: the status_url rule (stream_out.h,
 * addr_policy.h); a literal internal address answers 400 here.
 *
 * Lifetime: two messages reach the core after the op starts, the sink's
 * detached (the media thread's last push into the ring) and the stream's
 * ENDED (the stream thread's last touch); the op is freed when both are in.
 */
#include "calling/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/op.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "server_log.h"
#include "sip/sip_ua.h"
#include "stream_out.h"

typedef struct stream_op {
    call_op base; /* first */
    media_tap *tap;
    ws_stream *ws;
    char *url;
    json_t *tap_desc, *device; /* a ws tap's, as reported in its events; NULL for a stream */
    int pending;  /* of the two messages above, not yet in */
    int stopping; /* the sink's detach is asked (or the leg went) */
    int closed;   /* ws_stream_close was called */
    int running;  /* streaming / tapping went out */
    int reported; /* finished went out */
} stream_op;

typedef struct stream_event {
    stream_op *op;
    ws_stream_event ev;
    int failed;
    char reason[240];
} stream_event;

static void stream_free(call_op *base)
{
    stream_op *op = (stream_op *)base;
    media_tap_free(op->tap);
    ws_stream_release(op->ws);
    free(op->url);
    json_decref(op->tap_desc);
    json_decref(op->device);
    call_op_cleanup(base);
    free(op);
}

static void emit_state(stream_op *op, const char *state, const char *reason, int failed)
{
    json_t *p;
    if (op->tap_desc)
        p = json_pack("{s:s,s:O,s:O}", "state", state, "tap", op->tap_desc, "device",
                      op->device);
    else
        p = json_pack("{s:s,s:s}", "state", state, "url", op->url);
    if (p && reason)
        json_object_set_new(p, "reason", json_string(reason));
    if (p && failed)
        json_object_set_new(p, "failed", json_true());
    call_op_emit(&op->base, p);
}

static void finish(stream_op *op, const char *reason, int failed)
{
    if (op->reported)
        return;
    op->reported = 1;
    emit_state(op, "finished", reason, failed);
}

static void one_in(stream_op *op)
{
    if (--op->pending > 0)
        return;
    server_log(RELAY_LOG_INFO, "stream %s: %lu chunks sent, %lu dropped", op->base.control_id,
               ws_stream_sent(op->ws), ws_stream_dropped(op->ws));
    call_op_release(&op->base);
}

/* Asks the sink off the leg (once). */
static void stop_media(stream_op *op)
{
    if (op->stopping)
        return;
    op->stopping = 1;
    media_session_detach_sink(sip_leg_media(op->base.call->leg), media_tap_sink(op->tap));
}

static void close_stream(stream_op *op)
{
    if (op->closed)
        return;
    op->closed = 1;
    ws_stream_close(op->ws);
}

static void on_event_core(relayd *rd, void *arg)
{
    (void)rd;
    stream_event *e = arg;
    stream_op *op = e->op;
    if (e->ev == WS_STREAM_STREAMING) {
        if (!op->reported && !op->running) {
            op->running = 1;
            emit_state(op, op->tap_desc ? "tapping" : "streaming", NULL, 0);
        }
    } else {
        op->closed = 1; /* nothing more to close */
        finish(op, e->reason, e->failed);
        if (op->base.call && op->base.call->leg)
            stop_media(op);
        call_op_detach(&op->base);
        one_in(op);
    }
    free(e);
}

/* stream thread */
static void on_event(ws_stream *s, ws_stream_event ev, int failed, const char *reason, void *user)
{
    (void)s;
    stream_op *op = user;
    stream_event *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->op = op;
    e->ev = ev;
    e->failed = failed;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    core_post(op->base.rd, on_event_core, e);
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    one_in(arg);
}

/* media thread */
static void on_detached(media_tap *t, void *user)
{
    (void)t;
    stream_op *op = user;
    core_post(op->base.rd, on_detached_core, op);
}

static json_t *stream_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    stream_op *op = (stream_op *)base;
    if (role != PROTO_ROLE_STOP)
        return call_op_unsupported(role, base->family);
    stop_media(op);
    close_stream(op);
    return frames_code_result(200, "OK");
}

static void stream_leg_gone(call_op *base)
{
    /* The session's end detaches the sink. Report now, while the call can
     * carry the event. */
    stream_op *op = (stream_op *)base;
    op->stopping = 1;
    finish(op, "call ended", 0);
    close_stream(op);
    call_op_detach(base);
}

static const call_op_vtbl stream_vtbl = {
    .on_leg_gone = stream_leg_gone,
    .control = stream_control,
    .free = stream_free,
};

static int streams_on(const call *c)
{
    int n = 0;
    for (const call_op *o = c->ops; o; o = o->next)
        n += o->vtbl == &stream_vtbl;
    return n;
}

static json_t *codec_of(json_t *v, ws_stream_codec *codec)
{
    const char *s = v ? json_string_value(v) : "PCMU";
    if (s && strcmp(s, "PCMU") == 0)
        *codec = WS_STREAM_PCMU;
    else if (s && strcmp(s, "PCMA") == 0)
        *codec = WS_STREAM_PCMA;
    else if (s && (strcmp(s, "L16") == 0 || strcmp(s, "L16@8000h") == 0))
        *codec = WS_STREAM_L16;
    else
        return frames_code_result(400, "codec must be PCMU, PCMA or L16@8000h");
    return NULL;
}

/* Common to both methods once the request is checked: the op, its
 * stream and its sink. Answers r. */
static void start(rpc_req *r, proto_family family, const char *url, ws_stream_codec codec,
                  media_tap_dir dir, const char *status_url, json_t *answer)
{
    call *c = r->call;
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!c->leg || !sip_leg_media(c->leg)) {
        json_decref(answer);
        rpc_answer(r, frames_code_result(409, "the call has no media to stream"));
        return;
    }
    if (call_op_find(c, family, control_id)) {
        json_decref(answer);
        rpc_answer(r, frames_code_result(409, "control_id already in use on this call"));
        return;
    }
    if (streams_on(c) >= STREAMS_PER_CALL || !r->rd->streams) {
        json_decref(answer);
        char msg[120];
        snprintf(msg, sizeof msg, "a call has at most %d WebSocket streams at once",
                 STREAMS_PER_CALL);
        rpc_answer(r, frames_code_result(429, msg));
        return;
    }
    stream_op *op = calloc(1, sizeof *op);
    if (!op || call_op_init(&op->base, &stream_vtbl, family, r->rd, control_id, status_url) != 0) {
        free(op);
        json_decref(answer);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->url = strdup(url);
    if (family == PF_TAP) {
        op->tap_desc = json_deep_copy(json_object_get(r->params, "tap"));
        op->device = json_deep_copy(json_object_get(r->params, "device"));
    }
    op->tap = media_tap_new_out(dir, ws_stream_tap_out, NULL, on_detached, op);
    if (!op->url || !op->tap || (family == PF_TAP && (!op->tap_desc || !op->device))) {
        stream_free(&op->base);
        json_decref(answer);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    ws_stream_tracks tracks = dir == MEDIA_TAP_LISTEN  ? WS_STREAM_INBOUND
                              : dir == MEDIA_TAP_SPEAK ? WS_STREAM_OUTBOUND
                                                       : WS_STREAM_BOTH;
    op->ws = ws_stream_open(r->rd->streams, url, c->id, control_id, codec, tracks, on_event, op);
    if (!op->ws) {
        stream_free(&op->base);
        json_decref(answer);
        char msg[120];
        snprintf(msg, sizeof msg, "relayd has %d WebSocket streams open (its limit)",
                 stream_out_max(r->rd->streams));
        rpc_answer(r, frames_code_result(503, msg));
        return;
    }
    media_tap_set_out_user(op->tap, op->ws);
    op->pending = 2;
    media_session_attach_sink(sip_leg_media(c->leg), media_tap_sink(op->tap));
    call_op_attach(c, &op->base);
    json_object_set_new(answer, "control_id", json_string(control_id));
    rpc_answer(r, answer);
}

static json_t *url_invalid(relayd *rd, const char *url, const char *what)
{
    char why[240], msg[300];
    if (!url) {
        snprintf(msg, sizeof msg, "%s is required (a ws:// or wss:// URL)", what);
        return frames_code_result(400, msg);
    }
    if (!ws_stream_url_check(url, &rd->cfg->webhook_allow, why, sizeof why))
        return NULL;
    snprintf(msg, sizeof msg, "%s: %s", what, why);
    return frames_code_result(400, msg);
}

static void stream_start(rpc_req *r)
{
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    const char *url = json_string_value(json_object_get(r->params, "url"));
    const char *status_url = NULL;
    ws_stream_codec codec;
    json_t *bad = NULL;
    if (!control_id || !*control_id || strlen(control_id) >= sizeof((call_op *)0)->control_id)
        bad = frames_code_result(400, "control_id is required");
    if (!bad)
        bad = url_invalid(r->rd, url, "url");
    if (!bad)
        bad = codec_of(json_object_get(r->params, "codec"), &codec);
    json_t *tv = json_object_get(r->params, "track");
    const char *track = tv ? json_string_value(tv) : "inbound_track";
    media_tap_dir dir = MEDIA_TAP_LISTEN;
    if (!bad && track && strcmp(track, "inbound_track") == 0)
        dir = MEDIA_TAP_LISTEN;
    else if (!bad && track && strcmp(track, "outbound_track") == 0)
        dir = MEDIA_TAP_SPEAK;
    else if (!bad && track && strcmp(track, "both_tracks") == 0)
        dir = MEDIA_TAP_BOTH;
    else if (!bad)
        bad = frames_code_result(400, "track must be inbound_track, outbound_track or both_tracks");
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    start(r, PF_STREAM, url, codec, dir, status_url, frames_code_result(200, "Streaming"));
}

void stream_tap_ws_start(rpc_req *r, media_tap_dir dir, const char *status_url)
{
    json_t *p = json_object_get(json_object_get(r->params, "device"), "params");
    const char *uri = json_string_value(json_object_get(p, "uri"));
    ws_stream_codec codec;
    json_t *bad = url_invalid(r->rd, uri, "device.params.uri");
    if (!bad)
        bad = codec_of(json_object_get(p, "codec"), &codec);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    json_t *answer = frames_code_result(200, "Tapping");
    json_object_set_new(answer, "source_device",
                        json_pack("{s:s,s:{s:s}}", "type", "ws", "params", "codec",
                                  codec == WS_STREAM_PCMU   ? "PCMU"
                                  : codec == WS_STREAM_PCMA ? "PCMA"
                                                            : "L16@8000h"));
    start(r, PF_TAP, uri, codec, dir, status_url, answer);
}

const server_family_desc stream_family = {
    .family = PF_STREAM,
    .methods = (const server_method[]){
        {PM_STREAM, stream_start},
        {PM_UNKNOWN, NULL},
    },
};
