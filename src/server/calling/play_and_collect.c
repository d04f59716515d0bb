/*
 * calling.play_and_collect: a prompt played to the caller (the media items
 * of calling.play, media_items.c, sent by a media player) while a digit
 * sink (digit_sink.c) listens, under calling.collect's rules
 * (digit_rules.c). One calling.call.collect event with the op's control_id
 * carries the result, as for calling.collect; calling.call.play events
 * with the same control_id tell the prompt's playing and finished (or
 * error), always before the collect's final event.
 *
 * - A digit during the prompt stops it (barge-in): callers who know the
 *   menu need not sit through it. The digit counts.
 * - initial_timeout runs from the prompt's end, not the start: the caller
 *   cannot be late while still being told what to press. (So
 *   start_input_timers is accepted and has nothing to add.)
 * - .stop ends it as calling.collect.stop does (the digits so far, or
 *   no_input), .volume changes the prompt's volume. Speech is refused (501)
 *   as calling.collect refuses it.
 *
 * Lifetime: two messages are in flight for the op from its start, each
 * landing exactly once on the core: the prompt's (prepared, then the
 * player's done) and the sink's detach. `pending` counts them and the last
 * one to land frees the op, so neither half can hold a freed pointer. When
 * the leg goes, on_leg_gone reports and detaches as collect.c's does; the
 * session's end detaches the sink, and the prompt's message still lands.
 */
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "calling/digit_rules.h"
#include "calling/digit_sink.h"
#include "calling/emit.h"
#include "calling/media_items.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/player.h"
#include "media/prep.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define CHECK_MS 50

typedef struct pac_op {
    call_op base; /* first: the call_op is the pac_op */
    digit_sink sink;
    su_timer_t *timer;
    digit_rules rules;
    json_t *items;            /* the prompt's play array, owned */
    double volume;            /* dB */
    media_source **sources;   /* built on the pool; the player takes them */
    size_t n_sources;
    const char *error;        /* preparation failure, static text */
    media_player *player;     /* while the prompt plays */
    media_play_end how;
    int pending;              /* messages still to land (prompt, sink); 0 frees */
    int barged;               /* a digit came: the prompt must not (go on) play */
    int play_reported;        /* "playing" went out, its end not yet */
    int ended;                /* the collect's final event went out */
} pac_op;

static void pac_free(call_op *base)
{
    pac_op *op = (pac_op *)base;
    if (op->timer)
        su_timer_destroy(op->timer);
    media_items_free(op->sources, op->n_sources);
    json_decref(op->items);
    call_op_cleanup(base);
    free(op);
}

/* One of the two messages has landed; the last one frees the op. */
static void pac_drop(pac_op *op)
{
    if (--op->pending == 0)
        call_op_release(&op->base);
}

/* A calling.call.play event about the prompt (the op's family reports
 * calling.call.collect, so this one is sent by hand). */
static void emit_play(pac_op *op, const char *state)
{
    if (!op->base.call)
        return;
    json_t *p = json_pack("{s:s,s:s}", "state", state, "control_id", op->base.control_id);
    call_emit(op->base.rd, op->base.call, PE_CALL_PLAY, p, op->base.status_url);
}

/* The prompt's end, once: "finished" (or "error") follows its "playing". */
static void report_prompt_end(pac_op *op, const char *state)
{
    if (!op->play_reported)
        return;
    op->play_reported = 0;
    emit_play(op, state);
}

/* Reports the final result and takes the sink off the session (its
 * detached message is one of the two that free the op). A prompt still
 * playing is stopped; its end is reported first. */
static void pac_end(pac_op *op, const char *state, json_t *result)
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
    if (op->player)
        media_player_stop(op->player);
    report_prompt_end(op, PROTO_PLAY_FINISHED);
    call_op_emit(&op->base, json_pack("{s:s,s:b,s:o}", "state", state, "final", 1, "result",
                                      result));
    media_session_detach_sink(sip_leg_media(op->base.call->leg), &op->sink.sink);
}

static void end_with_error(pac_op *op)
{
    report_prompt_end(op, PROTO_PLAY_ERROR);
    pac_end(op, "error", json_pack("{s:s}", "type", "error"));
}

/* The prompt is over (played, cut short, or never started): the caller
 * has heard what to press, so initial_timeout starts now. */
static void prompt_over(pac_op *op)
{
    if (!op->ended && op->base.call)
        digit_rules_start_timers(&op->rules, core_now_ms());
}

static void on_digit(void *owner, char d)
{
    pac_op *op = owner;
    if (op->ended || !op->base.call)
        return;
    if (!op->barged) {
        op->barged = 1; /* a prompt still preparing will not start */
        if (op->player)
            media_player_stop(op->player); /* its done message ends the prompt */
    }
    json_t *result = NULL;
    digit_verdict v = digit_rules_digit(&op->rules, d, core_now_ms(), &result);
    if (v == DIGIT_PARTIAL)
        call_op_emit(&op->base, json_pack("{s:b,s:o}", "final", 0, "result", result));
    else if (v != DIGIT_MORE)
        pac_end(op, digit_rules_state(v), result);
}

static void on_detached(void *owner)
{
    pac_drop(owner);
}

static void on_check(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    pac_op *op = (pac_op *)arg;
    if (op->ended)
        return;
    json_t *result = NULL;
    digit_verdict v = digit_rules_check(&op->rules, core_now_ms(), &result);
    if (v != DIGIT_MORE)
        pac_end(op, digit_rules_state(v), result);
}

static void on_player_done_core(relayd *rd, void *arg)
{
    (void)rd;
    pac_op *op = arg;
    if (op->player) {
        media_player_free(op->player);
        op->player = NULL;
    }
    report_prompt_end(op, op->how == MEDIA_PLAY_ERROR ? PROTO_PLAY_ERROR : PROTO_PLAY_FINISHED);
    prompt_over(op);
    pac_drop(op);
}

/* media thread */
static void on_player_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    pac_op *op = user;
    op->how = how;
    core_post(op->base.rd, on_player_done_core, op);
}

static void on_prepared(relayd *rd, void *arg)
{
    pac_op *op = arg;
    call *c = op->base.call;
    rd->preparing--;
    if (!c || op->ended || op->barged || !c->leg || !sip_leg_media(c->leg)) {
        prompt_over(op); /* nothing to play (any more): collecting goes on */
        pac_drop(op);
        return;
    }
    if (op->error) {
        server_log(RELAY_LOG_WARN, "call %s: play_and_collect %s: the prompt failed: %s", c->id,
                   op->base.control_id, op->error);
        emit_play(op, PROTO_PLAY_ERROR);
        end_with_error(op);
        pac_drop(op);
        return;
    }
    /* the player takes the sources */
    op->player = media_player_start(sip_leg_media(c->leg), op->sources, op->n_sources,
                                    op->volume, 0, on_player_done, op);
    op->sources = NULL;
    op->n_sources = 0;
    if (!op->player) {
        emit_play(op, PROTO_PLAY_ERROR);
        end_with_error(op);
        pac_drop(op);
        return;
    }
    op->play_reported = 1;
    emit_play(op, PROTO_PLAY_PLAYING);
}

/* preparation pool: synthesis may take tens of milliseconds */
static void prepare_main(void *arg)
{
    pac_op *op = arg;
    op->sources = media_items_build(op->base.rd, op->items, &op->n_sources, &op->error);
    core_post(op->base.rd, on_prepared, op);
}

static json_t *pac_control(call_op *base, proto_role role, json_t *params)
{
    pac_op *op = (pac_op *)base;
    switch (role) {
    case PROTO_ROLE_STOP: {
        /* as calling.collect.stop: what was pressed so far, or no_input */
        json_t *result = NULL;
        digit_verdict v = digit_rules_so_far(&op->rules, &result);
        pac_end(op, digit_rules_state(v), result);
        return frames_code_result(200, "OK");
    }
    case PROTO_ROLE_VOLUME: {
        double db;
        if (media_items_volume(params, 1, &db) != 0)
            return frames_code_result(400, "volume must be a number between -40 and 40 dB");
        op->volume = db; /* a prompt still preparing starts at this volume */
        if (op->player)
            media_player_set_volume(op->player, db);
        return frames_code_result(200, "OK");
    }
    default:
        return call_op_unsupported(role, base->family);
    }
}

static void pac_leg_gone(call_op *base)
{
    /* As collect.c: report, and leave the call's list; the session
     * detaches the sink as it goes. As play.c: the player is stopped
     * before the RTP endpoint goes with the leg. The op lives on until the
     * prompt's and the sink's messages have landed. */
    pac_op *op = (pac_op *)base;
    if (op->player) {
        media_player_stop(op->player);
        media_player_free(op->player);
        op->player = NULL;
    }
    if (!op->ended) {
        op->ended = 1;
        if (op->timer) {
            su_timer_destroy(op->timer);
            op->timer = NULL;
        }
        report_prompt_end(op, PROTO_PLAY_ERROR); /* cut short by the hangup */
        call_op_emit(base, json_pack("{s:s,s:b,s:{s:s}}", "state", "error", "final", 1,
                                     "result", "type", "error"));
    }
    call_op_detach(base);
}

static const call_op_vtbl pac_vtbl = {
    .on_leg_gone = pac_leg_gone,
    .control = pac_control,
    .free = pac_free,
};

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *pac_params_invalid(relayd *rd, json_t *params, pac_op *out)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof out->base.control_id)
        return frames_code_result(400, "control_id is required");
    const char *why = media_items_invalid(rd, json_object_get(params, "play"));
    if (why)
        return frames_code_result(400, why);
    json_t *collect = json_object_get(params, "collect");
    if (!json_is_object(collect))
        return frames_code_result(400, "collect is required (an object)");
    json_t *bad = digit_rules_parse(collect, &out->rules);
    if (bad)
        return bad;
    if (media_items_volume(params, 0, &out->volume) != 0)
        return frames_code_result(400, "volume must be between -40 and 40 dB");
    return NULL;
}

/* calling.play_and_collect; the RPC layer has checked that the call is
 * answered. */
static void pac_start(rpc_req *r)
{
    call *c = r->call;
    pac_op *op = calloc(1, sizeof *op);
    if (!op) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    const char *status_url = NULL;
    json_t *bad = pac_params_invalid(r->rd, r->params, op);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!bad && (!c->leg || !sip_leg_media(c->leg) || !sip_leg_rtp(c->leg)))
        bad = frames_code_result(409, "the call has no media to play into and collect from");
    if (!bad && call_op_find(c, PF_PLAY_AND_COLLECT, control_id))
        bad = frames_code_result(409, "control_id already in use on this call");
    if (bad) {
        free(op);
        rpc_answer(r, bad);
        return;
    }
    if (call_op_init(&op->base, &pac_vtbl, PF_PLAY_AND_COLLECT, r->rd, control_id,
                     status_url) != 0 ||
        !(op->items = json_deep_copy(json_object_get(r->params, "play")))) {
        pac_free(&op->base);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->timer = su_timer_create(su_root_task(r->rd->root), CHECK_MS);
    if (!op->timer || su_timer_set_for_ever(op->timer, on_check, (su_timer_arg_t *)op) != 0) {
        pac_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start the collect's timer"));
        return;
    }
    digit_sink_init(&op->sink, r->rd, op, on_digit, on_detached);
    op->pending = 2; /* the prompt's message and the sink's detach */
    if (media_prep_submit(r->rd->prep, prepare_main, op) != 0) {
        pac_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start the prompt"));
        return;
    }
    r->rd->preparing++;
    call_op_attach(c, &op->base);
    media_session_attach_sink(sip_leg_media(c->leg), &op->sink.sink);
    rpc_answer(r, frames_code_result(200, "Playing and collecting"));
}

const server_family_desc play_and_collect_family = {
    .family = PF_PLAY_AND_COLLECT,
    .methods = (const server_method[]){
        {PM_PLAY_AND_COLLECT, pac_start},
        {PM_UNKNOWN, NULL},
    },
};
