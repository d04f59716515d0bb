/*
 * calling.connect: relayd dials devices for an answered call exactly as
 * calling.dial does (calling/dial.h), plays the optional ringback to the
 * call meanwhile, and on the first answer bridges the two legs' audio both
 * ways (media/bridge.h). calling.call.connect events go to the call:
 * connecting, then connected {peer} or failed {reason}; the peer is a call
 * of the session like a dial's winner (its own calling.call.state events).
 *
 * RELAY semantics: when either leg hangs up while connected, the other is
 * not hung up; it gets connect_state "disconnected" and stays up for the
 * application. calling.disconnect unbridges a connected pair the same way
 * with both legs up.
 *
 * Ownership: one connect_op with two call_op halves, `a` on the original
 * call from the start, `b` on the peer once connected (so either leg's
 * hangup reaches it). It is freed when both halves are released and the
 * ringback's preparation message (its one message in flight) has landed.
 * The dial and the media threads hold no pointer to it: the dial is
 * cancelled (its observer cleared) before the op goes, and the bridge's
 * and ringback's players report to nobody.
 *
 * A device {type: "queue"} (calling/queue.h) dials nothing: the caller
 * waiting at the head of that queue is taken out of it and bridged at
 * once, as a dial's winner would be (it stays its own session's call).
 *
 * Core thread only (except rb_prepare_main, on the preparation pool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/connect.h"
#include "calling/dial.h"
#include "calling/media_items.h"
#include "calling/queue.h"
#include "common/protocol.h"
#include "common/uuid.h"
#include "families.h"
#include "frames.h"
#include "media/bridge.h"
#include "media/player.h"
#include "media/prep.h"
#include "server_log.h"
#include "session.h"
#include "sip/sip_ua.h"

#define CONNECT_TAG_MAX 128
/* A ringback is a short item repeated until the answer: loops bound it
 * (the dial's timeouts end it long before). */
#define RINGBACK_LOOPS 1000

typedef struct connect_op connect_op;

typedef struct cn_half {
    call_op op; /* first: the call's list holds &op */
    connect_op *cn;
    int live;   /* not freed yet */
} cn_half;

struct connect_op {
    cn_half a, b;
    relayd *rd;
    dial *dial;                /* while connecting */
    char tag[CONNECT_TAG_MAX + 1];
    json_t *ringback;          /* media items, owned; NULL: none */
    int preparing;             /* the ringback's preparation is in flight */
    media_source **rb_sources; /* written by the pool, read once it posted */
    size_t rb_n;
    const char *rb_err;
    media_player *ringback_player;
    media_bridge *bridge;      /* while connected */
    int end_together;          /* a transfer's: one leg's end ends the other */
};

static void cn_maybe_free(connect_op *cn)
{
    if (cn->a.live || cn->b.live || cn->preparing)
        return;
    media_items_free(cn->rb_sources, cn->rb_n);
    json_decref(cn->ringback);
    free(cn);
}

static void half_free(call_op *op)
{
    cn_half *h = (cn_half *)op;
    call_op_cleanup(op);
    h->live = 0;
    cn_maybe_free(h->cn);
}

/* calling.call.connect {connect_state, tag, peer?, reason?} on h's call */
static void emit(cn_half *h, const char *state, const call *peer, const char *reason)
{
    connect_op *cn = h->cn;
    json_t *p = json_pack("{s:s, s:s}", "connect_state", state, "tag", cn->tag);
    if (p && peer)
        json_object_set_new(p, "peer",
                            json_pack("{s:s, s:s, s:s, s:O}", "call_id", peer->id, "node_id",
                                      cn->rd->cfg->node_id, "tag", peer->tag ? peer->tag : "",
                                      "device", peer->device ? peer->device : json_null()));
    if (p && reason)
        json_object_set_new(p, "reason", json_string(reason));
    call_op_emit(&h->op, p);
}

static void ringback_stop(connect_op *cn)
{
    if (!cn->ringback_player)
        return;
    media_player_stop(cn->ringback_player);
    media_player_free(cn->ringback_player);
    cn->ringback_player = NULL;
}

/* Connecting is over without a bridge: the call stays as it was (a
 * transfer's caller, whom no client holds any more, is hung up). */
static void connect_fail(connect_op *cn, const char *reason)
{
    ringback_stop(cn);
    server_log(RELAY_LOG_INFO, "connect %s failed (%s)", cn->tag, reason);
    emit(&cn->a, "failed", NULL, reason);
    call *a = cn->a.op.call;
    relayd *rd = cn->rd;
    int end = cn->end_together;
    call_op_release(&cn->a.op); /* may free cn */
    if (end && a)
        call_hangup(rd, a, 480); /* may free a */
}

/* Unbridges a connected pair: both legs stay up (whichever is going away
 * goes on its own), both hear "disconnected". Frees cn. */
static void unbridge(connect_op *cn)
{
    media_bridge_stop(cn->bridge); /* before either leg's media goes */
    cn->bridge = NULL;
    call *a = cn->a.op.call, *b = cn->b.op.call;
    relayd *rd = cn->rd;
    int end = cn->end_together;
    server_log(RELAY_LOG_INFO, "connect %s: disconnected", cn->tag);
    emit(&cn->a, "disconnected", b, NULL);
    emit(&cn->b, "disconnected", a, NULL);
    call_op_release(&cn->b.op);
    call_op_release(&cn->a.op); /* frees cn (the pool has no message: see half_free) */
    if (end) { /* the one going goes on its own; call_hangup skips it */
        if (a)
            call_hangup(rd, a, 0);
        if (b)
            call_hangup(rd, b, 0);
    }
}

static void b_gone(call_op *op) { unbridge(((cn_half *)op)->cn); }

static void a_gone(call_op *op)
{
    connect_op *cn = ((cn_half *)op)->cn;
    if (cn->bridge) {
        unbridge(cn);
        return;
    }
    /* the caller went while the devices rang: nobody is left to connect */
    if (cn->dial)
        dial_cancel(cn->dial);
    cn->dial = NULL;
    connect_fail(cn, PROTO_END_HANGUP);
}

static const call_op_vtbl a_vtbl = {.on_leg_gone = a_gone, .free = half_free};
static const call_op_vtbl b_vtbl = {.on_leg_gone = b_gone, .free = half_free};

/* ------------------------------------------------------------- the dial */

static void on_answered(void *user, call *winner)
{
    connect_op *cn = user;
    call *a = cn->a.op.call;
    cn->dial = NULL; /* it frees itself */
    ringback_stop(cn);
    media_session *ma = a && a->leg ? sip_leg_media(a->leg) : NULL;
    media_session *mb = winner->leg ? sip_leg_media(winner->leg) : NULL;
    cn->bridge = ma && mb ? media_bridge_start(ma, mb) : NULL;
    if (!cn->bridge) {
        /* the winner stays the session's call: the client may end it */
        connect_fail(cn, PROTO_END_ERROR);
        return;
    }
    call_op_init(&cn->b.op, &b_vtbl, PF_CONNECT, cn->rd, NULL, NULL); /* no status_url: no allocation */
    cn->b.cn = cn;
    cn->b.live = 1;
    call_op_attach(winner, &cn->b.op);
    if (cn->end_together)
        winner->owner = NULL; /* no client holds a transferred pair */
    server_log(RELAY_LOG_INFO, "connect %s: call %s bridged to %s", cn->tag, a->id, winner->id);
    emit(&cn->a, "connected", winner, NULL);
    emit(&cn->b, "connected", a, NULL);
}

static void on_failed(void *user, const char *reason)
{
    connect_op *cn = user;
    cn->dial = NULL; /* it frees itself */
    connect_fail(cn, reason);
}

static const dial_observer connect_observer = {.answered = on_answered, .failed = on_failed};

/* ------------------------------------------------------------- ringback */

static void ringback_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    (void)user; /* stopped by the connect, or replaced: nobody waits */
}

static void rb_prepared(relayd *rd, void *arg)
{
    connect_op *cn = arg;
    rd->preparing--;
    cn->preparing = 0;
    call *a = cn->a.op.call;
    media_session *ma = a && a->leg ? sip_leg_media(a->leg) : NULL;
    if (cn->rb_err)
        server_log(RELAY_LOG_WARN, "connect %s: no ringback: %s", cn->tag, cn->rb_err);
    else if (cn->dial && ma) { /* still ringing */
        cn->ringback_player = media_player_start(ma, cn->rb_sources, cn->rb_n, 0,
                                                 RINGBACK_LOOPS, ringback_done, NULL);
        cn->rb_sources = NULL; /* the player took them */
        cn->rb_n = 0;
    }
    cn_maybe_free(cn);
}

/* preparation pool: synthesis and fetching take time */
static void rb_prepare_main(void *arg)
{
    connect_op *cn = arg;
    cn->rb_sources = media_items_build(cn->rd, cn->ringback, &cn->rb_n, &cn->rb_err);
    core_post(cn->rd, rb_prepared, cn);
}

/* -------------------------------------------------------------- methods */

/* Everything checkable before the op exists; NULL if fine. *queue: the
 * name of the queue the devices name, or NULL (devices to dial). */
static json_t *connect_invalid(rpc_req *r, const char **tag, const char **queue)
{
    json_t *t = json_object_get(r->params, "tag");
    *tag = json_string_value(t);
    if (t && (!*tag || !**tag || strlen(*tag) > CONNECT_TAG_MAX))
        return frames_code_result(400, "tag must be a string of 1 to 128 characters");
    char buf[200];
    int code = 400;
    json_t *devices = json_object_get(r->params, "devices");
    const char *why = NULL;
    *queue = NULL;
    int qd = queue_device(devices, queue, &why);
    if (qd < 0)
        return frames_code_result(400, why);
    if (qd == 0 &&
        (why = dial_devices_check(devices, r->rd->cfg->phone_trunk, &code, buf, sizeof buf)))
        return frames_code_result(code, why);
    json_t *rb = json_object_get(r->params, "ringback");
    if (rb && !json_is_null(rb) && (why = media_items_invalid(r->rd, rb))) {
        snprintf(buf, sizeof buf, "ringback: %s", why);
        return frames_code_result(400, buf);
    }
    if (call_op_find(r->call, PF_CONNECT, NULL))
        return frames_code_result(409, "the call is already connecting or connected");
    if (!r->call->leg || !sip_leg_media(r->call->leg))
        return frames_code_result(409, "the call has no media to connect");
    if (queue_has_call(r->call))
        return frames_code_result(409, "the call waits in a queue (calling.queue.leave first)");
    if (*queue && !queue_head_waits(r->rd, r->call->project, *queue)) {
        snprintf(buf, sizeof buf, "no caller waits in queue \"%.128s\"", *queue);
        return frames_code_result(409, buf);
    }
    return NULL;
}

static connect_op *connect_new(rpc_req *r, const char *tag)
{
    connect_op *cn = calloc(1, sizeof *cn);
    if (!cn)
        return NULL;
    cn->rd = r->rd;
    if (tag)
        snprintf(cn->tag, sizeof cn->tag, "%s", tag);
    else
        uuid_v4(cn->tag);
    json_t *rb = json_object_get(r->params, "ringback");
    if (rb && json_array_size(rb) && !(cn->ringback = json_deep_copy(rb))) {
        free(cn);
        return NULL;
    }
    call_op_init(&cn->a.op, &a_vtbl, PF_CONNECT, r->rd, NULL, NULL);
    cn->a.cn = cn;
    cn->a.live = 1;
    return cn;
}

/* calling.connect; the RPC layer has checked that the call is answered. */
static void m_connect(rpc_req *r)
{
    const char *tag = NULL, *queue = NULL;
    json_t *bad = connect_invalid(r, &tag, &queue);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    connect_op *cn = connect_new(r, tag);
    if (!cn) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    if (queue) { /* nothing rings: the head of the queue is there already */
        call_op_attach(r->call, &cn->a.op);
        rpc_answer(r, frames_code_result(200, "Connecting"));
        emit(&cn->a, "connecting", NULL, NULL);
        on_answered(cn, queue_take_head(r->rd, r->call->project, queue));
        return;
    }
    cn->dial = dial_start(r->rd, r->conn->session, cn->tag,
                          json_object_get(r->params, "devices"), &connect_observer, cn);
    if (!cn->dial) {
        cn->a.live = 0;
        cn_maybe_free(cn);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    call_op_attach(r->call, &cn->a.op);
    if (cn->ringback) {
        if (media_prep_submit(r->rd->prep, rb_prepare_main, cn) == 0) {
            cn->preparing = 1;
            r->rd->preparing++;
        } else {
            server_log(RELAY_LOG_WARN, "connect %s: no ringback: the pool refused it", cn->tag);
        }
    }
    rpc_answer(r, frames_code_result(200, "Connecting"));
    emit(&cn->a, "connecting", NULL, NULL);
}

/* calling.disconnect: unbridges a connected call; both legs stay up. */
static void m_disconnect(rpc_req *r)
{
    call_op *op = call_op_find(r->call, PF_CONNECT, NULL);
    if (!op || !((cn_half *)op)->cn->bridge) {
        rpc_answer(r, frames_code_result(409, "the call is not connected"));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Disconnected"));
    unbridge(((cn_half *)op)->cn);
}

const server_family_desc connect_family = {
    .family = PF_CONNECT,
    .methods = (const server_method[]){
        {PM_CONNECT_CALL, m_connect},
        {PM_UNKNOWN, NULL},
    },
};

void connect_end_together(call *c)
{
    call_op *op = call_op_find(c, PF_CONNECT, NULL);
    if (op && op->vtbl == &a_vtbl)
        ((cn_half *)op)->cn->end_together = 1;
}

/* disconnect has no family of its own in the table (a plain method). */
const server_family_desc disconnect_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_DISCONNECT_CALL, m_disconnect},
        {PM_UNKNOWN, NULL},
    },
};
