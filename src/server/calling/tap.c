/*
 * calling.tap: a copy of the leg's audio sent as RTP to an address the
 * client names (media/tap.h). The answer's source_device says where it
 * comes from (relayd's media address and the tap's own port, codec,
 * ptime); calling.call.tap events report tapping → finished, on
 * calling.tap.stop or the call's end.
 *
 * The destination is a client's choice, so it gets the status_url rule
 * (addr_policy.h): an IPv4 literal (no name to resolve: the address
 * checked is the address used) that is public, or inside the operator's
 * webhook_allow ranges (one list of "internal places relayd may send to
 * on a client's behalf" rather than a second key to keep in step). The
 * `ws` device (audio over a WebSocket) is calling/stream.c's op, which
 * reports as a tap.
 *
 * Lifetime: as record.c, the sink's detached message (posted from the
 * media thread after .stop's detach, or the session's end) is the op's one
 * message in flight: it frees the tap and the op.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_policy.h"
#include "calling/call.h"
#include "calling/stream.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/rtp.h"
#include "media/tap.h"
#include "server_log.h"
#include "sip/sip_ua.h"

typedef struct tap_op {
    call_op base; /* first */
    media_tap *tap;
    json_t *tap_desc, *device; /* as reported in the events: owned */
    int stopping;              /* the detach is asked for (or the leg went) */
    int reported;              /* finished went out */
} tap_op;

typedef struct tap_req {
    media_tap_dir dir;
    struct sockaddr_in to;
    int pt;
    const char *codec;
} tap_req;

static void tap_free(call_op *base)
{
    tap_op *op = (tap_op *)base;
    media_tap_free(op->tap);
    json_decref(op->tap_desc);
    json_decref(op->device);
    call_op_cleanup(base);
    free(op);
}

static void emit_state(tap_op *op, const char *state)
{
    call_op_emit(&op->base, json_pack("{s:s,s:O,s:O}", "state", state, "tap", op->tap_desc,
                                      "device", op->device));
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    tap_op *op = arg;
    if (!op->reported)
        emit_state(op, "finished");
    server_log(RELAY_LOG_INFO, "tap %s: %lu packets sent", op->base.control_id,
               media_tap_sent(op->tap));
    call_op_release(&op->base);
}

/* media thread */
static void on_detached(media_tap *t, void *user)
{
    (void)t;
    tap_op *op = user;
    core_post(op->base.rd, on_detached_core, op);
}

static json_t *tap_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    tap_op *op = (tap_op *)base;
    if (role != PROTO_ROLE_STOP)
        return call_op_unsupported(role, base->family);
    if (!op->stopping) {
        op->stopping = 1;
        media_session_detach_sink(sip_leg_media(base->call->leg), media_tap_sink(op->tap));
    }
    return frames_code_result(200, "OK");
}

static void tap_leg_gone(call_op *base)
{
    /* The session's end detaches the sink; its message frees the op.
     * Report now, while the call can carry the event. */
    tap_op *op = (tap_op *)base;
    op->stopping = 1;
    emit_state(op, "finished");
    op->reported = 1;
    call_op_detach(base);
}

static const call_op_vtbl tap_vtbl = {
    .on_leg_gone = tap_leg_gone,
    .control = tap_control,
    .free = tap_free,
};

/* The rtp device's params into req; NULL, or the 400 result. */
static json_t *device_invalid(relayd *rd, json_t *device, tap_req *req)
{
    const char *type = json_string_value(json_object_get(device, "type"));
    if (!type || strcmp(type, "rtp") != 0)
        return frames_code_result(400, "device.type must be rtp or ws");
    json_t *p = json_object_get(device, "params");
    const char *addr = json_string_value(json_object_get(p, "addr"));
    json_t *port = json_object_get(p, "port");
    memset(&req->to, 0, sizeof req->to);
    req->to.sin_family = AF_INET;
    if (!addr || inet_pton(AF_INET, addr, &req->to.sin_addr) != 1)
        return frames_code_result(400, "device.params.addr must be an IPv4 address");
    if (!json_is_integer(port) || json_integer_value(port) < 1024 ||
        json_integer_value(port) > 65535)
        return frames_code_result(400, "device.params.port must be between 1024 and 65535");
    req->to.sin_port = htons((uint16_t)json_integer_value(port));
    const char *internal = addr_internal_reason((const struct sockaddr *)&req->to);
    if (internal && !addr_allowed(&rd->cfg->webhook_allow, (const struct sockaddr *)&req->to)) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "device.params.addr is a %s (webhook_allow may permit chosen ranges)",
                 internal);
        return frames_code_result(400, msg);
    }
    json_t *codec = json_object_get(p, "codec");
    req->codec = codec ? json_string_value(codec) : "PCMU";
    if (!req->codec || (strcmp(req->codec, "PCMU") && strcmp(req->codec, "PCMA")))
        return frames_code_result(400, "device.params.codec must be PCMU or PCMA");
    req->pt = req->codec[3] == 'U' ? RTP_PT_PCMU : RTP_PT_PCMA;
    json_t *ptime = json_object_get(p, "ptime");
    if (ptime && (!json_is_integer(ptime) || json_integer_value(ptime) != 20))
        return frames_code_result(400, "device.params.ptime must be 20 (relayd's packet time)");
    return NULL;
}

static int is_ws(json_t *params)
{
    const char *type =
        json_string_value(json_object_get(json_object_get(params, "device"), "type"));
    return type && strcmp(type, "ws") == 0;
}

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *tap_params_invalid(relayd *rd, json_t *params, tap_req *req)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof((call_op *)0)->control_id)
        return frames_code_result(400, "control_id is required");
    json_t *tap = json_object_get(params, "tap");
    const char *type = json_string_value(json_object_get(tap, "type"));
    if (!type || strcmp(type, "audio") != 0)
        return frames_code_result(400, "tap.type must be audio");
    json_t *dir = json_object_get(json_object_get(tap, "params"), "direction");
    const char *d = dir ? json_string_value(dir) : "speak"; /* as record's default */
    if (!d || (strcmp(d, "listen") && strcmp(d, "speak") && strcmp(d, "both")))
        return frames_code_result(400, "tap.params.direction must be listen, speak or both");
    req->dir = d[0] == 'l' ? MEDIA_TAP_LISTEN : d[0] == 's' ? MEDIA_TAP_SPEAK : MEDIA_TAP_BOTH;
    if (is_ws(params))
        return NULL; /* its device is calling/stream.c's to check */
    return device_invalid(rd, json_object_get(params, "device"), req);
}

static json_t *answer_of(relayd *rd, tap_op *op, const tap_req *req)
{
    json_t *res = frames_code_result(200, "Tapping");
    json_object_set_new(res, "control_id", json_string(op->base.control_id));
    json_object_set_new(res, "source_device",
                        json_pack("{s:s,s:{s:s,s:i,s:s,s:i}}", "type", "rtp", "params", "addr",
                                  rd->cfg->media_ip, "port", media_tap_port(op->tap), "codec",
                                  req->codec, "ptime", 20));
    return res;
}

static void tap_start(rpc_req *r)
{
    call *c = r->call;
    tap_req req;
    const char *status_url = NULL;
    json_t *bad = tap_params_invalid(r->rd, r->params, &req);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    if (is_ws(r->params)) {
        stream_tap_ws_start(r, req.dir, status_url);
        return;
    }
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!c->leg || !sip_leg_media(c->leg)) {
        rpc_answer(r, frames_code_result(409, "the call has no media to tap"));
        return;
    }
    if (call_op_find(c, PF_TAP, control_id)) {
        rpc_answer(r, frames_code_result(409, "control_id already in use on this call"));
        return;
    }
    tap_op *op = calloc(1, sizeof *op);
    if (!op || call_op_init(&op->base, &tap_vtbl, PF_TAP, r->rd, control_id, status_url) != 0) {
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->tap_desc = json_deep_copy(json_object_get(r->params, "tap"));
    op->device = json_deep_copy(json_object_get(r->params, "device"));
    const relayd_config *cfg = r->rd->cfg;
    op->tap = media_tap_new(cfg->media_ip, cfg->rtp_port_min, cfg->rtp_port_max, &req.to, req.pt,
                            req.dir, on_detached, op);
    if (!op->tap || !op->tap_desc || !op->device) {
        tap_free(&op->base);
        rpc_answer(r, frames_code_result(503, "no RTP port free for the tap"));
        return;
    }
    media_session_attach_sink(sip_leg_media(c->leg), media_tap_sink(op->tap));
    call_op_attach(c, &op->base);
    rpc_answer(r, answer_of(r->rd, op, &req));
    emit_state(op, "tapping");
}

const server_family_desc tap_family = {
    .family = PF_TAP,
    .methods = (const server_method[]){
        {PM_TAP, tap_start},
        {PM_UNKNOWN, NULL},
    },
};
