/*
 * calling.detect and calling.detect.stop: one detector (detect_sink.h) on
 * the caller's audio, reporting each find as a calling.call.detect event
 * {control_id, detect: {type, params: {event}}}, the shape the reference
 * SDKs read: digit "0".."9", "*", "#", "A".."D" (each press, until the
 * timeout or .stop); fax "CNG" or "CED" (the first, then done); machine
 * "MACHINE", "HUMAN", "UNKNOWN", "READY", "NOT_READY" (media/amd.h decides
 * when it is done). The end is one more event whose event is "finished"
 * (or "error"), also as the top-level state librelay reads: the timeout,
 * .stop, the detector done, or the caller gone.
 *
 * Bounded: one detect of each type per call (a second is 409), so a call
 * holds at most three detectors.
 *
 * Lifetime as collect.c's: the sink is in the op, and its detach message,
 * posted to the core after every event message, frees the op.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "calling/detect_sink.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/session.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define DEFAULT_TIMEOUT_S 30.0
#define MAX_TIMEOUT_S 3600.0
#define MAX_PARAM_S 60.0 /* the machine detector's own timeouts and thresholds */
#define MAX_WORDS 100
#define ALL_DIGITS "0123456789*#ABCD"

typedef struct detect_op {
    call_op base; /* first */
    detect_sink sink;
    su_timer_t *timer;
    detect_kind kind;
    char only[20]; /* digit: the digits to report; fax: "CED", "CNG" or "" (both) */
    int ended;
} detect_op;

static const char *const kind_names[] = {"digit", "fax", "machine"};

static void detect_free(call_op *base)
{
    detect_op *op = (detect_op *)base;
    if (op->timer)
        su_timer_destroy(op->timer);
    detect_sink_release(&op->sink);
    call_op_cleanup(base);
    free(op);
}

static void emit(detect_op *op, const char *state, const char *event)
{
    json_t *ev = json_pack("{s:{s:s,s:{s:s}}}", "detect", "type", kind_names[op->kind],
                           "params", "event", event);
    if (ev && state)
        json_object_set_new(ev, "state", json_string(state));
    call_op_emit(&op->base, ev);
}

/* The last event; the sink comes off the session and its detached message
 * frees the op. */
static void detect_end(detect_op *op, const char *state)
{
    if (op->ended)
        return;
    op->ended = 1;
    if (op->timer) {
        su_timer_destroy(op->timer);
        op->timer = NULL;
    }
    emit(op, state, state);
    media_session_detach_sink(sip_leg_media(op->base.call->leg), &op->sink.sink);
}

static int machine_done(const char *event, int interruptions)
{
    return strcmp(event, "HUMAN") == 0 || strcmp(event, "UNKNOWN") == 0 ||
           (strcmp(event, "READY") == 0 && !interruptions);
}

static void on_event(void *owner, const char *event)
{
    detect_op *op = owner;
    if (op->ended || !op->base.call)
        return;
    if (op->kind == DETECT_DIGIT && !strchr(op->only, event[0]))
        return;
    if (op->kind == DETECT_FAX && op->only[0] && strcmp(op->only, event) != 0)
        return;
    emit(op, NULL, event);
    if (op->kind == DETECT_FAX ||
        (op->kind == DETECT_MACHINE && machine_done(event, op->sink.amd.p.detect_interruptions)))
        detect_end(op, "finished");
}

static void on_detached(void *owner)
{
    call_op_release(owner);
}

static void on_timeout(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    detect_end((detect_op *)arg, "finished");
}

static json_t *detect_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    if (role != PROTO_ROLE_STOP)
        return call_op_unsupported(role, base->family);
    detect_end((detect_op *)base, "finished");
    return frames_code_result(200, "OK");
}

static void detect_leg_gone(call_op *base)
{
    /* The session detaches the sink as it goes; that message frees the op. */
    detect_op *op = (detect_op *)base;
    if (!op->ended) {
        op->ended = 1;
        if (op->timer) {
            su_timer_destroy(op->timer);
            op->timer = NULL;
        }
        emit(op, "finished", "finished");
    }
    call_op_detach(base);
}

static const call_op_vtbl detect_vtbl = {
    .on_leg_gone = detect_leg_gone,
    .control = detect_control,
    .free = detect_free,
};

/* ------------------------------------------------------------ params */

/* params[key] in seconds into *ms when present: a number in (0, max]. */
static int seconds_param(json_t *p, const char *key, double max, int *ms)
{
    json_t *v = json_object_get(p, key);
    if (!v)
        return 0;
    double s = json_number_value(v);
    if (!json_is_number(v) || !isfinite(s) || s <= 0 || s > max)
        return -1;
    *ms = (int)lround(s * 1000);
    return 0;
}

static int bool_param(json_t *p, const char *key, int *out)
{
    json_t *v = json_object_get(p, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static json_t *bad(const char *msg)
{
    return frames_code_result(400, msg);
}

static json_t *machine_params(json_t *p, amd_params *m)
{
    amd_default_params(m);
    int ready_given = json_object_get(p, "machine_ready_timeout") != NULL;
    if (seconds_param(p, "initial_timeout", MAX_PARAM_S, &m->initial_timeout_ms))
        return bad("detect.params.initial_timeout must be a number of seconds in (0, 60]");
    if (seconds_param(p, "end_silence_timeout", MAX_PARAM_S, &m->end_silence_timeout_ms))
        return bad("detect.params.end_silence_timeout must be a number of seconds in (0, 60]");
    m->machine_ready_timeout_ms = m->end_silence_timeout_ms;
    if (ready_given &&
        seconds_param(p, "machine_ready_timeout", MAX_PARAM_S, &m->machine_ready_timeout_ms))
        return bad("detect.params.machine_ready_timeout must be a number of seconds in (0, 60]");
    if (seconds_param(p, "machine_voice_threshold", MAX_PARAM_S,
                      &m->machine_voice_threshold_ms))
        return bad("detect.params.machine_voice_threshold must be a number of seconds in (0, 60]");
    json_t *w = json_object_get(p, "machine_words_threshold");
    if (w) {
        if (!json_is_integer(w) || json_integer_value(w) < 1 ||
            json_integer_value(w) > MAX_WORDS)
            return bad("detect.params.machine_words_threshold must be an integer from 1 to 100");
        m->machine_words_threshold = (int)json_integer_value(w);
    }
    int message_end = 0;
    if (bool_param(p, "detect_interruptions", &m->detect_interruptions) ||
        bool_param(p, "wait_for_beep", &m->wait_for_beep) ||
        bool_param(p, "detect_message_end", &message_end))
        return bad("detect.params.detect_interruptions, wait_for_beep and detect_message_end "
                   "must be booleans");
    return NULL;
}

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *detect_params_invalid(json_t *params, detect_op *op, amd_params *m,
                                     double *timeout)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof op->base.control_id)
        return bad("control_id is required");
    json_t *t = json_object_get(params, "timeout");
    *timeout = t ? json_number_value(t) : DEFAULT_TIMEOUT_S;
    if (t && (!json_is_number(t) || !isfinite(*timeout) || *timeout <= 0 ||
              *timeout > MAX_TIMEOUT_S))
        return bad("timeout must be a number of seconds in (0, 3600]");
    json_t *d = json_object_get(params, "detect");
    if (!json_is_object(d))
        return bad("detect {type, params} is required");
    const char *type = json_string_value(json_object_get(d, "type"));
    json_t *p = json_object_get(d, "params");
    if (p && !json_is_object(p))
        return bad("detect.params must be an object");
    if (!type)
        return bad("detect.type is required: machine, fax or digit");
    if (strcmp(type, "digit") == 0) {
        op->kind = DETECT_DIGIT;
        json_t *dv = json_object_get(p, "digits");
        const char *digits = dv ? json_string_value(dv) : ALL_DIGITS;
        if (!digits || !*digits || strlen(digits) >= sizeof op->only ||
            strspn(digits, ALL_DIGITS) != strlen(digits))
            return bad("detect.params.digits must be 1 to 16 of 0-9 * # A-D");
        snprintf(op->only, sizeof op->only, "%s", digits);
    } else if (strcmp(type, "fax") == 0) {
        op->kind = DETECT_FAX;
        json_t *tv = json_object_get(p, "tone");
        const char *tone = json_string_value(tv);
        if (tv && (!tone || (strcmp(tone, "CED") != 0 && strcmp(tone, "CNG") != 0)))
            return bad("detect.params.tone must be CED or CNG");
        snprintf(op->only, sizeof op->only, "%s", tone ? tone : "");
    } else if (strcmp(type, "machine") == 0) {
        op->kind = DETECT_MACHINE;
        return machine_params(p, m);
    } else {
        return bad("detect.type must be machine, fax or digit");
    }
    return NULL;
}

/* The running detect of this type on the call, if any. */
static int kind_running(const call *c, detect_kind kind)
{
    for (call_op *o = c->ops; o; o = o->next)
        if (o->family == PF_DETECT && ((detect_op *)o)->kind == kind && !((detect_op *)o)->ended)
            return 1;
    return 0;
}

/* calling.detect; the RPC layer has checked that the call is answered. */
static void detect_start(rpc_req *r)
{
    call *c = r->call;
    detect_op *op = calloc(1, sizeof *op);
    if (!op) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    amd_params machine;
    double timeout = 0;
    const char *status_url = NULL;
    json_t *why = detect_params_invalid(r->params, op, &machine, &timeout);
    if (!why)
        why = call_op_check_status_url(r->params, &status_url);
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!why && (!c->leg || !sip_leg_media(c->leg)))
        why = frames_code_result(409, "the call has no media to detect in");
    if (!why && call_op_find(c, PF_DETECT, control_id))
        why = frames_code_result(409, "control_id already in use on this call");
    if (!why && kind_running(c, op->kind)) {
        char msg[96];
        snprintf(msg, sizeof msg, "a %s detect is already running on this call",
                 kind_names[op->kind]);
        why = frames_code_result(409, msg);
    }
    if (why) {
        free(op);
        rpc_answer(r, why);
        return;
    }
    if (call_op_init(&op->base, &detect_vtbl, PF_DETECT, r->rd, control_id, status_url) != 0 ||
        detect_sink_init(&op->sink, r->rd, op->kind, &machine, op, on_event, on_detached) != 0) {
        call_op_cleanup(&op->base);
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->timer = su_timer_create(su_root_task(r->rd->root), 0);
    if (!op->timer ||
        su_timer_set_interval(op->timer, on_timeout, (su_timer_arg_t *)op,
                              (su_duration_t)lround(timeout * 1000)) != 0) {
        detect_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start the detect's timer"));
        return;
    }
    call_op_attach(c, &op->base);
    media_session_attach_sink(sip_leg_media(c->leg), &op->sink.sink);
    server_log(RELAY_LOG_INFO, "call %s: detect %s for %.1f s", c->id, kind_names[op->kind],
               timeout);
    rpc_answer(r, frames_code_result(200, "Detecting"));
}

const server_family_desc detect_family = {
    .family = PF_DETECT,
    .methods = (const server_method[]){
        {PM_DETECT, detect_start},
        {PM_UNKNOWN, NULL},
    },
};
