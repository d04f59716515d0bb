#include "calling/call.h"

#include <stdlib.h>
#include <string.h>

#include "calling/emit.h"
#include "common/protocol.h"
#include "common/uuid.h"
#include "router.h"
#include "server_log.h"
#include "metrics.h"
#include "session.h"

static void call_free(call *c)
{
    /* Every op left the list in on_leg_gone (op.h); one still here would be
     * a family breaking that contract, and freeing it could free memory a
     * thread of its still uses: leak it, loudly, instead. */
    if (c->ops)
        server_log(RELAY_LOG_ERROR, "call %s freed with operations still on it", c->id);
    free(c->context);
    free(c->from);
    free(c->to);
    free(c->from_name);
    free(c->project);
    free(c->end_reason);
    free(c->passed.ids);
    free(c->tag);
    json_decref(c->device);
    json_decref(c->refer_keys);
    free(c);
}

static void call_unlink(relayd *rd, call *c)
{
    for (call **p = &rd->calls; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            rd->n_calls--;
            metrics_call_moved(&rd->metrics, c->state, METRICS_CALL_GONE);
            return;
        }
}

call *calls_find(relayd *rd, const char *call_id, const session *s)
{
    if (!call_id)
        return NULL;
    for (call *c = rd->calls; c; c = c->next)
        if (strcmp(c->id, call_id) == 0)
            return (s && strcmp(c->project, s->project) == 0) ? c : NULL;
    return NULL;
}

static json_t *device_json(const call *c)
{
    if (c->device)
        return json_incref(c->device);
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "sip", "params", "from", c->from, "to",
                     c->to, "from_name", c->from_name ? c->from_name : "");
}

void call_set_state(relayd *rd, call *c, relay_call_state state)
{
    if (state <= c->state)
        return; /* states only move forward */
    metrics_call_moved(&rd->metrics, c->state, state);
    c->state = state;
    json_t *p = json_pack("{s:s, s:s, s:s, s:o}", "call_state", proto_call_state_name(state),
                          "direction", c->outbound ? "outbound" : "inbound", "context",
                          c->context, "device", device_json(c));
    if (p && c->tag)
        json_object_set_new(p, "tag", json_string(c->tag));
    if (p && c->end_reason && state >= RELAY_CALL_ENDING)
        json_object_set_new(p, "end_reason", json_string(c->end_reason));
    call_emit(rd, c, PE_CALL_STATE, p, NULL);
}

void call_set_end_reason(call *c, const char *reason, int force)
{
    if (c->end_reason && !force)
        return;
    char *copy = strdup(reason);
    if (!copy)
        return; /* keep the old reason rather than none */
    free(c->end_reason);
    c->end_reason = copy;
}

void call_hangup(relayd *rd, call *c, int sip_status)
{
    if (!c->leg || c->state >= RELAY_CALL_ENDING)
        return;
    sip_leg *leg = c->leg;
    call_set_state(rd, c, RELAY_CALL_ENDING);
    sip_leg_hangup(leg, sip_status); /* on_terminated may free c in here */
}

/* calling.call.receive to the owner, with the call's current state. */
static void call_offer(relayd *rd, call *c)
{
    c->offered_at = core_now_ms();
    json_t *p = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "context", c->context,
                          "direction", "inbound", "tag", c->id, "device", device_json(c),
                          "call_state", proto_call_state_name(c->state), "segment_id", c->id,
                          "project_id", c->project);
    call_emit(rd, c, PE_CALL_RECEIVE, p, NULL);
}

static int has_passed(const call *c, const session *s)
{
    for (size_t i = 0; i < c->passed.n; i++)
        if (strcmp(c->passed.ids[i], s->id) == 0)
            return 1;
    return 0;
}

static int passed_add(call *c, const session *s)
{
    if (has_passed(c, s))
        return 0;
    char(*grown)[37] = realloc(c->passed.ids, (c->passed.n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    c->passed.ids = grown;
    memcpy(c->passed.ids[c->passed.n++], s->id, sizeof *grown);
    return 0;
}

/* router filter: a session of the call's project that has not passed it */
static int may_offer(const session *s, void *arg)
{
    const call *c = arg;
    return strcmp(s->project, c->project) == 0 && !has_passed(c, s);
}

/* The offer moves on from `from` (passed, timed out, or its session gone). */
static int offer_next_from(relayd *rd, call *c, const session *from, const char *why)
{
    /* Not knowing who had it could offer the call back to them forever. */
    if (from && passed_add(c, from) != 0)
        return -1;
    c->owner = router_pick_filtered(rd, c->context, may_offer, c);
    if (!c->owner)
        return -1;
    server_log(RELAY_LOG_INFO, "call %s %s; offered to session %s", c->id, why, c->owner->id);
    call_offer(rd, c);
    return 0;
}

/* router filter: a session of the call's project other than its owner */
static int may_take_transfer(const session *s, void *arg)
{
    const call *c = arg;
    return s != c->owner && strcmp(s->project, c->project) == 0;
}

int call_transfer_to_context(relayd *rd, call *c, const char *context)
{
    session *to = router_pick_filtered(rd, context, may_take_transfer, c);
    char *name = to ? strdup(context) : NULL;
    if (!name)
        return -1;
    free(c->context);
    c->context = name;
    free(c->passed.ids); /* a new context: who passed before does not count */
    c->passed.ids = NULL;
    c->passed.n = 0;
    server_log(RELAY_LOG_INFO, "call %s transferred from session %s to context '%s', session %s",
               c->id, c->owner ? c->owner->id : "-", context, to->id);
    c->owner = to;
    call_offer(rd, c);
    return 0;
}

int call_offer_next(relayd *rd, call *c)
{
    return offer_next_from(rd, c, c->owner, "passed");
}

/* Nobody is left to offer an unanswered inbound call to: the caller hears
 * 480 and the last owner (if any) sees it end with noAnswer. */
static void offer_exhausted(relayd *rd, call *c, const char *why)
{
    server_log(RELAY_LOG_INFO, "call %s: %s; 480", c->id, why);
    call_set_end_reason(c, PROTO_END_NOANSWER, 0);
    call_hangup(rd, c, 480); /* c may be freed in here */
}

void calls_check_timeouts(relayd *rd, int64_t now)
{
    int offer_ms = rd->cfg->offer_timeout_ms, ring_ms = rd->cfg->ring_timeout_ms;
    call *next;
    for (call *c = rd->calls; c; c = next) {
        next = c->next; /* a hangup may free c at once */
        if (c->outbound || !c->leg || c->state >= RELAY_CALL_ANSWERED)
            continue;
        if (ring_ms && now - c->created_at >= ring_ms) {
            offer_exhausted(rd, c, "nobody answered within ring_timeout_ms");
            continue;
        }
        if (offer_ms && c->owner && now - c->offered_at >= offer_ms) {
            session *silent = c->owner;
            if (offer_next_from(rd, c, silent, "not answered within offer_timeout_ms") != 0) {
                c->owner = silent; /* it hears how the call ends */
                offer_exhausted(rd, c, "offered to every session, answered by none");
            }
        }
    }
}

static call *call_new(const sip_leg_info *info, const char *context, session *owner)
{
    call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (uuid_v4(c->id) != 0 || !(c->context = strdup(context)) ||
        !(c->from = strdup(info->from_uri)) || !(c->to = strdup(info->to_uri)) ||
        !(c->from_name = strdup(info->from_name ? info->from_name : "")) ||
        !(c->project = strdup(owner->project))) {
        call_free(c);
        return NULL;
    }
    c->owner = owner;
    c->state = RELAY_CALL_CREATED;
    c->created_at = core_now_ms();
    return c;
}

/* Linear, but in calls relayd holds at most max_calls of, once per INVITE. */
static size_t calls_owned_by(const relayd *rd, const session *s)
{
    size_t n = 0;
    for (const call *c = rd->calls; c; c = c->next)
        n += c->owner == s;
    return n;
}

int calls_on_incoming(void *user, sip_leg *leg, const sip_leg_info *info)
{
    relayd *rd = user;
    if (rd->stopping)
        return 503;
    const char *context = config_context_for(rd->cfg, info->request_user);
    session *s = router_pick(rd, context);
    if (!s) {
        server_log(RELAY_LOG_INFO, "call to %s: no client on context '%s'; 480",
                   info->request_uri, context ? context : "");
        return 480;
    }
    if (rd->n_calls >= (size_t)rd->cfg->max_calls) {
        server_log(RELAY_LOG_WARN, "call to %s refused: max_calls (%d) reached",
                   info->request_uri, rd->cfg->max_calls);
        return 503;
    }
    if (calls_owned_by(rd, s) >= (size_t)rd->cfg->max_calls_per_session) {
        server_log(RELAY_LOG_WARN, "call to %s refused: session %s holds max_calls_per_session (%d)",
                   info->request_uri, s->id, rd->cfg->max_calls_per_session);
        return 503;
    }
    call *c = call_new(info, context, s);
    if (!c)
        return 500;
    c->leg = leg;
    sip_leg_set_user(leg, c);
    c->next = rd->calls;
    rd->calls = c;
    rd->n_calls++;
    metrics_call_moved(&rd->metrics, RELAY_CALL_NONE, c->state);
    server_log(RELAY_LOG_INFO, "call %s from %s offered on context '%s'", c->id, c->from,
               c->context);
    call_offer(rd, c);
    if (sip_leg_ring(leg) == 0)
        call_set_state(rd, c, RELAY_CALL_RINGING);
    return 0;
}

void calls_on_progress(void *user, sip_leg *leg, int status)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    (void)status; /* 180 or 183: both mean the far end is alerting */
    if (c)
        call_set_state(rd, c, RELAY_CALL_RINGING);
}

call *call_place(relayd *rd, session *s, const call_place_params *p)
{
    if (rd->n_calls >= PROTO_MAX_ACTIVE_CALLS * 10) {
        server_log(RELAY_LOG_WARN, "call to %s not placed: too many calls", p->to);
        return NULL;
    }
    call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (uuid_v4(c->id) != 0 || !(c->context = strdup("")) || !(c->to = strdup(p->to)) ||
        !(c->from = strdup(p->from ? p->from : "")) ||
        !(c->from_name = strdup(p->from_name ? p->from_name : "")) ||
        !(c->project = strdup(s->project)) || !(c->tag = strdup(p->tag ? p->tag : ""))) {
        call_free(c);
        return NULL;
    }
    c->outbound = 1;
    c->owner = s;
    c->state = RELAY_CALL_NONE;
    c->device = json_incref(p->device);
    sip_invite_params ip = {.to = p->to, .from = p->from, .from_name = p->from_name,
                            .headers = p->headers, .trunk = p->trunk, .codecs = p->codecs,
                            .n_codecs = p->n_codecs};
    c->leg = sip_ua_invite(rd->ua, &ip, c);
    if (!c->leg) {
        call_free(c);
        return NULL;
    }
    c->next = rd->calls;
    rd->calls = c;
    rd->n_calls++;
    server_log(RELAY_LOG_INFO, "call %s placed to %s", c->id, c->to);
    call_set_state(rd, c, RELAY_CALL_CREATED);
    return c;
}

void calls_on_established(void *user, sip_leg *leg)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c)
        return;
    c->established = 1;
    if (c->outbound)
        call_set_state(rd, c, RELAY_CALL_ANSWERED); /* the peer's 200 */
    call_op *next;
    for (call_op *op = c->ops; op; op = next) {
        next = op->next; /* the op may release itself */
        if (op->vtbl->on_established)
            op->vtbl->on_established(op);
    }
}

/* Each op reports its end and leaves the list (op.h). */
static void ops_leg_gone(call *c)
{
    while (c->ops) {
        call_op *op = c->ops;
        op->vtbl->on_leg_gone(op);
        if (c->ops == op) { /* the op broke its contract: do not loop forever */
            server_log(RELAY_LOG_ERROR, "call %s: an operation did not leave on hangup", c->id);
            call_op_detach(op);
        }
    }
}

void calls_on_terminated(void *user, sip_leg *leg, const char *end_reason)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c)
        return;
    ops_leg_gone(c); /* media first: players must stop before the RTP endpoint goes */
    c->leg = NULL;
    call_set_end_reason(c, end_reason ? end_reason : PROTO_END_HANGUP, 0);
    call_set_state(rd, c, RELAY_CALL_ENDING);
    call_set_state(rd, c, RELAY_CALL_ENDED);
    server_log(RELAY_LOG_INFO, "call %s ended (%s)", c->id, c->end_reason ? c->end_reason : "");
    call_unlink(rd, c);
    call_free(c);
}

void calls_session_gone(relayd *rd, session *s)
{
    call *next;
    for (call *c = rd->calls; c; c = next) {
        next = c->next; /* a hangup may end (and free) c at once */
        if (c->owner != s)
            continue;
        c->owner = NULL;
        /* an offer nobody took up yet goes on to the next session at once */
        if (c->leg && !c->outbound && c->state < RELAY_CALL_ANSWERED &&
            offer_next_from(rd, c, s, "offered to a session that is gone") == 0)
            continue;
        if (c->leg) {
            server_log(RELAY_LOG_INFO, "call %s: its session is gone; hanging up", c->id);
            sip_leg_hangup(c->leg, 480);
        }
    }
}

void calls_hangup_all(relayd *rd)
{
    call *next;
    for (call *c = rd->calls; c; c = next) {
        next = c->next;
        if (c->leg && c->state < RELAY_CALL_ENDING)
            sip_leg_hangup(c->leg, 503);
    }
}
