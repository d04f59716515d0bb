/*
 * calling.collect, digits: a sink on the leg's media session receives the
 * caller's DTMF (RFC 4733, media/session.c) and posts each digit to the
 * core, where the op applies max, terminators, digit_timeout and
 * initial_timeout and reports one calling.call.collect event with the
 * result: {type: "digit", params: {digits, terminator}} or
 * {type: "no_input"}. Speech collection is refused (no recogniser here).
 * .stop and .start_input_timers act through the op's control.
 *
 * Lifetime as in record.c: the sink is embedded in the op, and the sink's
 * on_detach, posted to the core, is the last message about the op and the
 * only one that frees it. Digit messages are posted by the same media
 * thread before it, and the core's mailbox is FIFO, so they land first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/session.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define CHECK_MS 50
#define MAX_DIGITS 64
#define MAX_TIMEOUT_S 3600.0
#define DEFAULT_INITIAL_S 5.0
#define DEFAULT_DIGIT_S 5.0

typedef struct collect_op collect_op;

typedef struct collect_sink {
    media_sink sink; /* first */
    collect_op *op;
} collect_sink;

struct collect_op {
    call_op base; /* first: the call_op is the collect_op */
    collect_sink sink;
    su_timer_t *timer;
    int max;
    char terminators[17];
    double initial_s, digit_s; /* 0: off */
    int partial;
    int timers_started;
    int64_t timers_at_ms, last_digit_ms;
    char digits[MAX_DIGITS + 1];
    size_t n_digits;
    int ended;
};

typedef struct digit_msg {
    collect_op *op;
    char digit;
} digit_msg;

static void collect_free(call_op *base)
{
    collect_op *op = (collect_op *)base;
    if (op->timer)
        su_timer_destroy(op->timer);
    call_op_cleanup(base);
    free(op);
}

static json_t *digit_result(collect_op *op, char terminator)
{
    char t[2] = {terminator, 0};
    return json_pack("{s:s,s:{s:s,s:s}}", "type", "digit", "params", "digits", op->digits,
                     "terminator", t);
}

/* Reports the final result and takes the sink off the session; its
 * detached message frees the op. */
static void collect_end(collect_op *op, const char *state, json_t *result)
{
    if (op->ended) {
        json_decref(result);
        return;
    }
    op->ended = 1;
    if (op->timer) {
        su_timer_destroy(op->timer);
        op->timer = NULL;
    }
    call_op_emit(&op->base, json_pack("{s:s,s:b,s:o}", "state", state, "final", 1, "result",
                                      result));
    media_session_detach_sink(sip_leg_media(op->base.call->leg), &op->sink.sink);
}

static void on_digit_core(relayd *rd, void *arg)
{
    (void)rd;
    digit_msg *m = arg;
    collect_op *op = m->op;
    char d = m->digit;
    free(m);
    if (op->ended || !op->base.call)
        return;
    if (strchr(op->terminators, d)) {
        collect_end(op, "finished", digit_result(op, d));
        return;
    }
    op->digits[op->n_digits++] = d;
    op->digits[op->n_digits] = 0;
    op->last_digit_ms = core_now_ms();
    if (op->n_digits >= (size_t)op->max) {
        collect_end(op, "finished", digit_result(op, 0));
        return;
    }
    if (op->partial)
        call_op_emit(&op->base, json_pack("{s:b,s:o}", "final", 0, "result",
                                          digit_result(op, 0)));
}

/* media thread */
static void collect_on_digit(media_sink *sink, char digit)
{
    collect_op *op = ((collect_sink *)sink)->op;
    digit_msg *m = malloc(sizeof *m);
    if (!m)
        return; /* the digit is lost; the timeouts still end the collect */
    m->op = op;
    m->digit = digit;
    core_post(op->base.rd, on_digit_core, m);
}

static void collect_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                             media_direction dir)
{
    (void)sink;
    (void)pcm;
    (void)dir; /* digits only (in-band detection would read RX here) */
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    call_op_release(arg);
}

/* media thread */
static void collect_on_detach(media_sink *sink)
{
    collect_op *op = ((collect_sink *)sink)->op;
    core_post(op->base.rd, on_detached_core, op);
}

static void start_timers(collect_op *op)
{
    if (op->timers_started)
        return;
    op->timers_started = 1;
    op->timers_at_ms = core_now_ms();
}

static void on_check(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    collect_op *op = (collect_op *)arg;
    if (op->ended || !op->timers_started)
        return;
    int64_t now = core_now_ms();
    if (!op->n_digits) {
        if (op->initial_s > 0 && now - op->timers_at_ms >= (int64_t)(op->initial_s * 1000))
            collect_end(op, "no_input", json_pack("{s:s}", "type", "no_input"));
        return;
    }
    if (op->digit_s > 0 && now - op->last_digit_ms >= (int64_t)(op->digit_s * 1000))
        collect_end(op, "finished", digit_result(op, 0));
}

static json_t *collect_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    collect_op *op = (collect_op *)base;
    switch (role) {
    case PROTO_ROLE_STOP:
        /* what was pressed so far, or no_input */
        if (op->n_digits)
            collect_end(op, "finished", digit_result(op, 0));
        else
            collect_end(op, "no_input", json_pack("{s:s}", "type", "no_input"));
        return frames_code_result(200, "OK");
    case PROTO_ROLE_START_TIMERS:
        start_timers(op);
        return frames_code_result(200, "OK");
    default:
        return call_op_unsupported(role, base->family);
    }
}

static void collect_leg_gone(call_op *base)
{
    /* The session detaches the sink as it goes; that message frees the op. */
    collect_op *op = (collect_op *)base;
    if (!op->ended) {
        op->ended = 1;
        if (op->timer) {
            su_timer_destroy(op->timer);
            op->timer = NULL;
        }
        call_op_emit(base, json_pack("{s:s,s:b,s:{s:s}}", "state", "error", "final", 1,
                                     "result", "type", "error"));
    }
    call_op_detach(base);
}

static const call_op_vtbl collect_vtbl = {
    .on_leg_gone = collect_leg_gone,
    .control = collect_control,
    .free = collect_free,
};

/* A timeout in seconds: absent → dflt; else a number in [0, 3600]. */
static int timeout_of(json_t *obj, const char *key, double dflt, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    *out = json_number_value(v);
    return json_is_number(v) && isfinite(*out) && *out >= 0 && *out <= MAX_TIMEOUT_S ? 0 : -1;
}

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *collect_params_invalid(json_t *params, collect_op *out)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof out->base.control_id)
        return frames_code_result(400, "control_id is required");
    if (json_object_get(params, "speech"))
        return frames_code_result(501, "this relayd has no speech recogniser: collect digits");
    json_t *digits = json_object_get(params, "digits");
    if (!json_is_object(digits))
        return frames_code_result(400, "digits is required (an object)");
    json_t *max = json_object_get(digits, "max");
    if (!json_is_integer(max) || json_integer_value(max) < 1 ||
        json_integer_value(max) > MAX_DIGITS)
        return frames_code_result(400, "digits.max must be an integer from 1 to 64");
    out->max = (int)json_integer_value(max);
    json_t *term = json_object_get(digits, "terminators");
    const char *t = term ? json_string_value(term) : "";
    if (!t || strlen(t) >= sizeof out->terminators ||
        strspn(t, "0123456789*#ABCD") != strlen(t))
        return frames_code_result(400, "digits.terminators must be up to 16 of 0-9 * # A-D");
    strcpy(out->terminators, t);
    if (timeout_of(digits, "digit_timeout", DEFAULT_DIGIT_S, &out->digit_s) != 0)
        return frames_code_result(400, "digit_timeout must be between 0 and 3600 seconds");
    if (timeout_of(params, "initial_timeout", DEFAULT_INITIAL_S, &out->initial_s) != 0)
        return frames_code_result(400, "initial_timeout must be between 0 and 3600 seconds");
    json_t *partial = json_object_get(params, "partial_results");
    json_t *timers = json_object_get(params, "start_input_timers");
    if ((partial && !json_is_boolean(partial)) || (timers && !json_is_boolean(timers)))
        return frames_code_result(400, "partial_results and start_input_timers are booleans");
    out->partial = json_is_true(partial);
    out->timers_started = !timers || json_is_true(timers);
    return NULL;
}

/* calling.collect; the RPC layer has checked that the call is answered. */
static void collect_start(rpc_req *r)
{
    call *c = r->call;
    collect_op *op = calloc(1, sizeof *op);
    if (!op) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    const char *status_url = NULL;
    json_t *bad = collect_params_invalid(r->params, op);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!bad && (!c->leg || !sip_leg_media(c->leg)))
        bad = frames_code_result(409, "the call has no media to collect from");
    if (!bad && call_op_find(c, PF_COLLECT, control_id))
        bad = frames_code_result(409, "control_id already in use on this call");
    if (bad) {
        free(op);
        rpc_answer(r, bad);
        return;
    }
    if (call_op_init(&op->base, &collect_vtbl, PF_COLLECT, r->rd, control_id, status_url) != 0) {
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->timer = su_timer_create(su_root_task(r->rd->root), CHECK_MS);
    if (!op->timer || su_timer_set_for_ever(op->timer, on_check, (su_timer_arg_t *)op) != 0) {
        collect_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start the collect's timer"));
        return;
    }
    op->sink.op = op;
    op->sink.sink.on_frame = collect_on_frame;
    op->sink.sink.on_detach = collect_on_detach;
    op->sink.sink.on_digit = collect_on_digit;
    if (op->timers_started) {
        op->timers_started = 0;
        start_timers(op);
    }
    call_op_attach(c, &op->base);
    media_session_attach_sink(sip_leg_media(c->leg), &op->sink.sink);
    rpc_answer(r, frames_code_result(200, "Collecting"));
}

const server_family_desc collect_family = {
    .family = PF_COLLECT,
    .methods = (const server_method[]){
        {PM_COLLECT, collect_start},
        {PM_UNKNOWN, NULL},
    },
};
