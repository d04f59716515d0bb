/*
 * calling.collect, digits: a sink on the leg's media session receives the
 * caller's DTMF (RFC 4733, media/session.c) and posts each digit to the
 * core, where the op applies max, terminators, digit_timeout and
 * initial_timeout and reports one calling.call.collect event with the
 * result: {type: "digit", params: {digits, terminator}} or
 * {type: "no_input"}. Speech collection is refused (no recogniser here).
 * .stop and .start_input_timers act through the op's control. The rules
 * are digit_rules.c's and the sink digit_sink.c's, shared with
 * play_and_collect.c.
 *
 * Lifetime as in record.c: the sink is embedded in the op, and the sink's
 * on_detach, posted to the core, is the last message about the op and the
 * only one that frees it. Digit messages are posted by the same media
 * thread before it, and the core's mailbox is FIFO, so they land first.
 */
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "calling/digit_rules.h"
#include "calling/digit_sink.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/session.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define CHECK_MS 50

typedef struct collect_op {
    call_op base; /* first: the call_op is the collect_op */
    digit_sink sink;
    su_timer_t *timer;
    digit_rules rules;
    int ended;
} collect_op;

static void collect_free(call_op *base)
{
    collect_op *op = (collect_op *)base;
    if (op->timer)
        su_timer_destroy(op->timer);
    call_op_cleanup(base);
    free(op);
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

static void on_digit(void *owner, char d)
{
    collect_op *op = owner;
    if (op->ended || !op->base.call)
        return;
    json_t *result = NULL;
    digit_verdict v = digit_rules_digit(&op->rules, d, core_now_ms(), &result);
    if (v == DIGIT_PARTIAL)
        call_op_emit(&op->base, json_pack("{s:b,s:o}", "final", 0, "result", result));
    else if (v != DIGIT_MORE)
        collect_end(op, digit_rules_state(v), result);
}

static void on_detached(void *owner)
{
    call_op_release(owner);
}

static void on_check(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    collect_op *op = (collect_op *)arg;
    if (op->ended)
        return;
    json_t *result = NULL;
    digit_verdict v = digit_rules_check(&op->rules, core_now_ms(), &result);
    if (v != DIGIT_MORE)
        collect_end(op, digit_rules_state(v), result);
}

static json_t *collect_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    collect_op *op = (collect_op *)base;
    switch (role) {
    case PROTO_ROLE_STOP: {
        /* what was pressed so far, or no_input */
        json_t *result = NULL;
        digit_verdict v = digit_rules_so_far(&op->rules, &result);
        collect_end(op, digit_rules_state(v), result);
        return frames_code_result(200, "OK");
    }
    case PROTO_ROLE_START_TIMERS:
        digit_rules_start_timers(&op->rules, core_now_ms());
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

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *collect_params_invalid(json_t *params, collect_op *out)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof out->base.control_id)
        return frames_code_result(400, "control_id is required");
    return digit_rules_parse(params, &out->rules);
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
    digit_sink_init(&op->sink, r->rd, op, on_digit, on_detached);
    if (op->rules.timers_requested)
        digit_rules_start_timers(&op->rules, core_now_ms());
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
