/*
 * calling.echo: the caller hears themself. A media echo (media/echo.h) is
 * a sink on the leg's session and the source of a player on it, so what
 * the caller sends goes back on the next send of the same tick. It ends
 * after `timeout` seconds (absent: when replaced or the call ends), or as
 * soon as a newer play takes the leg (the player's usual rule). Events:
 * calling.call.echo {state: playing → finished}, the protocol reference's
 * echo event (it names no control_id: echo is a plain method).
 *
 * Lifetime: an op on the call (family NONE, found by nothing but its
 * on_leg_gone), whose one message in flight is its player's done: that
 * message reports `finished`, takes the sink off the session if the leg is
 * still there (else the session's end did), and frees the op.
 */
#include <math.h>
#include <stdlib.h>

#include "calling/call.h"
#include "calling/emit.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/echo.h"
#include "media/player.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define MAX_TIMEOUT_S 3600.0

typedef struct echo_op {
    call_op base; /* first */
    media_player *player;
    media_sink *sink;  /* on the session until the done message detaches it */
    int leg_gone;      /* the session took the sink with it */
    int reported;      /* finished went out */
} echo_op;

static void echo_free(call_op *base)
{
    call_op_cleanup(base);
    free(base);
}

static void report(echo_op *op, const char *state)
{
    if (op->base.call)
        call_emit(op->base.rd, op->base.call, PE_CALL_ECHO, json_pack("{s:s}", "state", state),
                  op->base.status_url);
}

static void on_done_core(relayd *rd, void *arg)
{
    (void)rd;
    echo_op *op = arg;
    media_player_free(op->player);
    op->player = NULL;
    if (!op->leg_gone)
        media_session_detach_sink(sip_leg_media(op->base.call->leg), op->sink);
    if (!op->reported)
        report(op, "finished");
    call_op_release(&op->base);
}

/* media thread */
static void on_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    echo_op *op = user;
    core_post(op->base.rd, on_done_core, op);
}

static void echo_leg_gone(call_op *base)
{
    /* As play.c: the player goes before the RTP endpoint; its done message
     * still comes and frees the op. */
    echo_op *op = (echo_op *)base;
    op->leg_gone = 1;
    media_player_stop(op->player);
    report(op, "finished");
    op->reported = 1;
    call_op_detach(base);
}

static const call_op_vtbl echo_vtbl = {
    .on_leg_gone = echo_leg_gone,
    .free = echo_free,
};

static void echo_start(rpc_req *r)
{
    call *c = r->call;
    json_t *t = json_object_get(r->params, "timeout");
    double timeout = t ? json_number_value(t) : 0;
    if (t && (!json_is_number(t) || !isfinite(timeout) || timeout < 0 || timeout > MAX_TIMEOUT_S)) {
        rpc_answer(r, frames_code_result(400, "timeout must be between 0 and 3600 seconds"));
        return;
    }
    const char *status_url = NULL;
    json_t *bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    if (!c->leg || !sip_leg_media(c->leg)) {
        rpc_answer(r, frames_code_result(409, "the call has no media to echo"));
        return;
    }
    echo_op *op = calloc(1, sizeof *op);
    long long frames = timeout > 0 ? llround(timeout * 1000 / 20) : 0; /* 0: no limit */
    media_echo *e = op ? media_echo_new(frames > 0 ? (uint64_t)frames : (timeout > 0)) : NULL;
    if (!e || call_op_init(&op->base, &echo_vtbl, PF_NONE, r->rd, NULL, status_url) != 0) {
        if (e) { /* neither side is attached: drop both holds */
            media_echo_sink(e)->on_detach(media_echo_sink(e));
            media_echo_source(e)->destroy(media_echo_source(e));
        }
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->sink = media_echo_sink(e);
    media_source **sources = malloc(sizeof *sources);
    if (sources)
        sources[0] = media_echo_source(e);
    else
        media_echo_source(e)->destroy(media_echo_source(e));
    /* the player takes the source (also on failure) */
    media_session *s = sip_leg_media(c->leg);
    op->player = sources ? media_player_start(s, sources, 1, 0, 0, on_done, op) : NULL;
    if (!op->player) {
        op->sink->on_detach(op->sink); /* never attached */
        echo_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start the echo"));
        return;
    }
    media_session_attach_sink(s, op->sink);
    call_op_attach(c, &op->base);
    server_log(RELAY_LOG_INFO, "call %s: echo for %s", c->id, t ? "timeout" : "the call");
    rpc_answer(r, frames_code_result(200, "Echoing"));
    report(op, "playing");
}

const server_family_desc echo_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_ECHO, echo_start},
        {PM_UNKNOWN, NULL},
    },
};
