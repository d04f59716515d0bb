/*
 * calling.play: media items become media sources, a media player sends them
 * as RTP, and calling.call.play events report playing → finished/error.
 *
 * Preparing sources can take a while (speech synthesis), so it runs on the
 * preparation pool (media/prep.h), not on the core thread. A play_op is freed only by the
 * message that ends its life (prepared-and-dropped, or player done), so no
 * thread ever holds a pointer to a freed op; the call may be gone by then,
 * which op->call == NULL records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "common/protocol.h"
#include "frames.h"
#include "media/player.h"
#include "media/prep.h"
#include "media/source.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define MAX_PLAY_ITEMS 32
#define MAX_TTS_TEXT 4096

struct play_op {
    play_op *next;        /* in call->plays */
    call *call;           /* NULL once the call has gone */
    relayd *rd;
    char control_id[64];
    json_t *items;        /* the play array, owned */
    double volume;
    int loop;
    int stop_requested;
    media_source **sources;
    size_t n_sources;
    const char *error;    /* preparation failure, static text */
    media_player *player;
    media_play_end how;
};

static void op_unlink(play_op *op)
{
    if (!op->call)
        return;
    for (play_op **p = &op->call->plays; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    op->call = NULL;
}

static void free_sources(media_source **sources, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sources[i])
            sources[i]->destroy(sources[i]);
    free(sources);
}

static void op_free(play_op *op)
{
    op_unlink(op);
    free_sources(op->sources, op->n_sources);
    json_decref(op->items);
    free(op);
}

static void emit_state(relayd *rd, play_op *op, const char *state)
{
    if (!op->call)
        return;
    call_emit(rd, op->call, proto_event_name(PE_CALL_PLAY),
              json_pack("{s:s, s:s}", "control_id", op->control_id, "state", state));
}

/* Checks one media item without building it (core thread, before replying). */
static const char *item_invalid(json_t *item)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    json_t *p = json_object_get(item, "params");
    if (!type || !json_is_object(p))
        return "each play item needs a type and params";
    if (strcmp(type, "tts") == 0) {
        const char *text = json_string_value(json_object_get(p, "text"));
        if (!text || !*text || strlen(text) > MAX_TTS_TEXT)
            return "tts needs params.text (1 to 4096 characters)";
        return NULL;
    }
    if (strcmp(type, "silence") == 0) {
        double d = json_number_value(json_object_get(p, "duration"));
        return (d > 0 && d <= 3600) ? NULL : "silence needs params.duration (seconds)";
    }
    if (strcmp(type, "audio") == 0 || strcmp(type, "ringtone") == 0)
        return "this relayd does not play audio URLs or ringtones yet (tts and silence only)";
    return "unknown play item type";
}

static media_source *build_source(json_t *item, const char **err)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    json_t *p = json_object_get(item, "params");
    if (strcmp(type, "tts") == 0)
        return media_source_tts(json_string_value(json_object_get(p, "text")),
                                json_string_value(json_object_get(p, "language")),
                                json_string_value(json_object_get(p, "voice")), err);
    media_source *s = media_source_silence(json_number_value(json_object_get(p, "duration")));
    if (!s)
        *err = "out of memory";
    return s;
}

static void on_player_done_core(relayd *rd, void *arg)
{
    play_op *op = arg;
    if (op->player) {
        media_player_free(op->player);
        op->player = NULL;
    }
    emit_state(rd, op, op->how == MEDIA_PLAY_ERROR ? PROTO_PLAY_ERROR : PROTO_PLAY_FINISHED);
    op_free(op);
}

/* player thread */
static void on_player_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    play_op *op = user;
    op->how = how;
    core_post(op->rd, on_player_done_core, op);
}

static void on_prepared(relayd *rd, void *arg)
{
    play_op *op = arg;
    rd->preparing--;
    if (!op->call || op->stop_requested || !op->call->leg || !sip_leg_rtp(op->call->leg)) {
        if (op->call)
            emit_state(rd, op, op->stop_requested ? PROTO_PLAY_FINISHED : PROTO_PLAY_ERROR);
        op_free(op);
        return;
    }
    if (op->error) {
        server_log(RELAY_LOG_WARN, "call %s: play %s failed: %s", op->call->id, op->control_id,
                   op->error);
        emit_state(rd, op, PROTO_PLAY_ERROR);
        op_free(op);
        return;
    }
    /* the player takes the sources */
    op->player = media_player_start(sip_leg_media(op->call->leg), op->sources, op->n_sources,
                                    op->volume, op->loop, on_player_done, op);
    op->sources = NULL;
    op->n_sources = 0;
    if (!op->player) {
        emit_state(rd, op, PROTO_PLAY_ERROR);
        op_free(op);
        return;
    }
    emit_state(rd, op, PROTO_PLAY_PLAYING);
}

/* preparation pool: synthesis may take tens of milliseconds */
static void prepare_main(void *arg)
{
    play_op *op = arg;
    size_t n = json_array_size(op->items);
    op->sources = calloc(n, sizeof *op->sources);
    if (!op->sources) {
        op->error = "out of memory";
    } else {
        for (size_t i = 0; i < n && !op->error; i++) {
            op->sources[i] = build_source(json_array_get(op->items, i), &op->error);
            if (!op->sources[i] && !op->error)
                op->error = "could not prepare media";
            op->n_sources = i + 1;
        }
    }
    core_post(op->rd, on_prepared, op);
}

json_t *play_start(relayd *rd, call *c, json_t *params)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    json_t *items = json_object_get(params, "play");
    if (!control_id || !*control_id || strlen(control_id) >= 64)
        return frames_code_result(400, "control_id is required");
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > MAX_PLAY_ITEMS)
        return frames_code_result(400, "play must be an array of 1 to 32 media items");
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *why = item_invalid(item);
        if (why)
            return frames_code_result(400, why);
    }
    double volume = json_number_value(json_object_get(params, "volume"));
    if (!isfinite(volume) || volume < -40 || volume > 40)
        return frames_code_result(400, "volume must be between -40 and 40 dB");
    json_int_t loop = json_integer_value(json_object_get(params, "loop"));
    if (loop < 0 || loop > 1000)
        return frames_code_result(400, "loop must be between 0 and 1000");
    if (c->state != RELAY_CALL_ANSWERED || !c->leg || !sip_leg_rtp(c->leg))
        return frames_code_result(409, "the call must be answered to play");
    for (play_op *o = c->plays; o; o = o->next)
        if (strcmp(o->control_id, control_id) == 0)
            return frames_code_result(409, "control_id already in use on this call");

    play_op *op = calloc(1, sizeof *op);
    if (!op)
        return frames_code_result(500, "out of memory");
    op->rd = rd;
    op->call = c;
    strcpy(op->control_id, control_id);
    op->items = json_deep_copy(items);
    op->volume = volume;
    op->loop = (int)loop;
    if (!op->items || media_prep_submit(rd->prep, prepare_main, op) != 0) {
        json_decref(op->items);
        free(op);
        return frames_code_result(500, "could not start playing");
    }
    rd->preparing++;
    op->next = c->plays;
    c->plays = op;
    return frames_code_result(200, "Playing");
}

json_t *play_control(relayd *rd, call *c, const char *control_id, const char *what)
{
    (void)rd;
    play_op *op = c->plays;
    while (op && (!control_id || strcmp(op->control_id, control_id) != 0))
        op = op->next;
    if (!op)
        return frames_code_result(404, "no play with this control_id");
    if (strcmp(what, "stop") == 0) {
        op->stop_requested = 1;
        if (op->player)
            media_player_stop(op->player);
    } else if (op->player) {
        media_player_pause(op->player, strcmp(what, "pause") == 0);
    }
    return frames_code_result(200, "OK");
}

void play_detach_all(relayd *rd, call *c)
{
    /* The RTP endpoint goes with the leg: every player must be stopped and
     * joined before that. Each op stays alive until its pending message
     * (prepared or done) is handled. */
    while (c->plays) {
        play_op *op = c->plays;
        if (op->player) {
            media_player_stop(op->player);
            media_player_free(op->player);
            op->player = NULL;
        }
        emit_state(rd, op, PROTO_PLAY_ERROR); /* cut short by the hangup */
        op_unlink(op);
    }
}
