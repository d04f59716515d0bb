/*
 * calling.play: media items become media sources, a media player sends them
 * as RTP, and calling.call.play events report playing → finished/error.
 * The play op serves the family's sub-methods through its control: stop,
 * pause, resume and volume.
 *
 * Preparing sources can take a while (speech synthesis), so it runs on the
 * preparation pool (media/prep.h), not on the core thread. While a play op lives there
 * is always exactly one message in flight for it (prepared, or player
 * done), and only that message frees it: so no thread ever holds a pointer
 * to a freed op. The call may be gone by then (the op is detached,
 * base.call == NULL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/media_items.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/player.h"
#include "media/prep.h"
#include "server_log.h"
#include "sip/sip_ua.h"

typedef struct play_op {
    call_op base;         /* first: the call_op is the play_op */
    json_t *items;        /* the play array, owned */
    double volume;
    int loop;
    int paused;           /* calling.play.pause took (and no resume since) */
    int stop_requested;
    media_source **sources;
    size_t n_sources;
    const char *error;    /* preparation failure, static text */
    media_player *player;
    media_play_end how;
} play_op;

static void play_free(call_op *base)
{
    play_op *op = (play_op *)base;
    media_items_free(op->sources, op->n_sources);
    json_decref(op->items);
    call_op_cleanup(base);
    free(op);
}

static void emit_state(play_op *op, const char *state)
{
    call_op_emit(&op->base, json_pack("{s:s}", "state", state));
}

/* The `error` event says why in `reason` (the SDKs read only the state, so
 * an extra key costs them nothing; the application gets a cause without the
 * server's log). */
static void emit_error(play_op *op, const char *reason)
{
    call_op_emit(&op->base, json_pack("{s:s, s:s}", "state", PROTO_PLAY_ERROR, "reason", reason));
}

/* The op's one message in flight has landed and its work is over. reason:
 * NULL for finished, else the play ends in error with it. */
static void play_end(play_op *op, const char *reason)
{
    if (reason) /* nothing is sent once detached */
        emit_error(op, reason);
    else
        emit_state(op, PROTO_PLAY_FINISHED);
    call_op_release(&op->base);
}

static void on_player_done_core(relayd *rd, void *arg)
{
    (void)rd;
    play_op *op = arg;
    if (op->player) {
        media_player_free(op->player);
        op->player = NULL;
    }
    play_end(op, op->how == MEDIA_PLAY_ERROR ? "sending the audio failed" : NULL);
}

/* player thread */
static void on_player_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    play_op *op = user;
    op->how = how;
    core_post(op->base.rd, on_player_done_core, op);
}

static void on_prepared(relayd *rd, void *arg)
{
    play_op *op = arg;
    call *c = op->base.call;
    rd->preparing--;
    if (!c || op->stop_requested || !c->leg || !sip_leg_rtp(c->leg)) {
        play_end(op, op->stop_requested ? NULL : "the call has no media any more");
        return;
    }
    if (op->error) {
        server_log(RELAY_LOG_WARN, "call %s: play %s failed: %s", c->id, op->base.control_id,
                   op->error);
        play_end(op, op->error);
        return;
    }
    /* the player takes the sources */
    op->player = media_player_start(sip_leg_media(c->leg), op->sources, op->n_sources,
                                    op->volume, op->loop, on_player_done, op);
    op->sources = NULL;
    op->n_sources = 0;
    if (!op->player) {
        play_end(op, "could not start the player");
        return;
    }
    /* Paused while preparing: "paused" was reported then; "playing"
     * follows the resume. */
    if (op->paused)
        media_player_pause(op->player, 1);
    else
        emit_state(op, PROTO_PLAY_PLAYING);
}

/* preparation pool: synthesis may take tens of milliseconds */
static void prepare_main(void *arg)
{
    play_op *op = arg;
    op->sources = media_items_build(op->base.rd, op->items, &op->n_sources, &op->error);
    core_post(op->base.rd, on_prepared, op);
}

static json_t *play_volume(play_op *op, json_t *params)
{
    double db;
    if (media_items_volume(params, 1, &db) != 0)
        return frames_code_result(400, "volume must be a number between -40 and 40 dB");
    op->volume = db; /* a play still preparing starts at this volume */
    if (op->player)
        media_player_set_volume(op->player, db);
    return frames_code_result(200, "OK");
}

static json_t *play_control(call_op *base, proto_role role, json_t *params)
{
    play_op *op = (play_op *)base;
    switch (role) {
    case PROTO_ROLE_STOP:
        op->stop_requested = 1;
        if (op->player)
            media_player_stop(op->player);
        return frames_code_result(200, "OK");
    case PROTO_ROLE_PAUSE:
    case PROTO_ROLE_RESUME: {
        /* Clients (realtime-api among them) learn that a pause or resume
         * took from the paused/playing event, so report each change once. */
        int pause = role == PROTO_ROLE_PAUSE;
        if (op->paused != pause) {
            op->paused = pause;
            if (op->player)
                media_player_pause(op->player, pause);
            emit_state(op, pause ? PROTO_PLAY_PAUSED : PROTO_PLAY_PLAYING);
        }
        return frames_code_result(200, "OK");
    }
    case PROTO_ROLE_VOLUME:
        return play_volume(op, params);
    default:
        return call_op_unsupported(role, base->family);
    }
}

static void play_leg_gone(call_op *base)
{
    /* The RTP endpoint goes with the leg: the player must be stopped and
     * joined before that. The op lives on until its message in flight
     * (prepared, or player done) lands and frees it. */
    play_op *op = (play_op *)base;
    if (op->player) {
        media_player_stop(op->player);
        media_player_free(op->player);
        op->player = NULL;
    }
    emit_error(op, "the call ended"); /* cut short by the hangup */
    call_op_detach(base);
}

static const call_op_vtbl play_vtbl = {
    .on_leg_gone = play_leg_gone,
    .control = play_control,
    .free = play_free,
};

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *play_params_invalid(relayd *rd, json_t *params, double *volume, int *loop)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof((call_op *)0)->control_id)
        return frames_code_result(400, "control_id is required");
    const char *why = media_items_invalid(rd, json_object_get(params, "play"));
    if (why)
        return frames_code_result(400, why);
    if (media_items_volume(params, 0, volume) != 0)
        return frames_code_result(400, "volume must be between -40 and 40 dB");
    json_int_t n = json_integer_value(json_object_get(params, "loop"));
    if (n < 0 || n > 1000)
        return frames_code_result(400, "loop must be between 0 and 1000");
    *loop = (int)n;
    /* Accepted for the protocol's sake, but relayd plays toward the caller
     * only (the RTP it sends): "listen" and "both" sound the same as
     * "speak", as there is no second party to mix into yet. */
    json_t *dir = json_object_get(params, "direction");
    const char *d = json_string_value(dir);
    if (dir && (!d || (strcmp(d, "listen") != 0 && strcmp(d, "speak") != 0 &&
                       strcmp(d, "both") != 0)))
        return frames_code_result(400, "direction must be listen, speak or both");
    return NULL;
}

/* calling.play; the RPC layer has checked that the call is answered. */
static void play_start(rpc_req *r)
{
    call *c = r->call;
    double volume = 0;
    int loop = 0;
    const char *status_url = NULL;
    json_t *bad = play_params_invalid(r->rd, r->params, &volume, &loop);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!sip_leg_rtp(c->leg)) {
        rpc_answer(r, frames_code_result(409, "the call has no media to play into"));
        return;
    }
    if (call_op_find(c, PF_PLAY, control_id)) {
        rpc_answer(r, frames_code_result(409, "control_id already in use on this call"));
        return;
    }
    play_op *op = calloc(1, sizeof *op);
    if (!op || call_op_init(&op->base, &play_vtbl, PF_PLAY, r->rd, control_id, status_url) != 0 ||
        !(op->items = json_deep_copy(json_object_get(r->params, "play")))) {
        if (op)
            play_free(&op->base);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->volume = volume;
    op->loop = loop;
    if (media_prep_submit(r->rd->prep, prepare_main, op) != 0) {
        play_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start playing"));
        return;
    }
    r->rd->preparing++;
    call_op_attach(c, &op->base);
    rpc_answer(r, frames_code_result(200, "Playing"));
}

const server_family_desc play_family = {
    .family = PF_PLAY,
    .methods = (const server_method[]){
        {PM_PLAY, play_start},
        {PM_UNKNOWN, NULL},
    },
};
