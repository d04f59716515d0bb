#include "calls.h"

#include <stdlib.h>
#include <string.h>

#include "common/protocol.h"
#include "common/uuid.h"
#include "router.h"
#include "server_log.h"
#include "session.h"

static void call_free(call *c)
{
    free(c->context);
    free(c->from);
    free(c->to);
    free(c->from_name);
    free(c->project);
    free(c->end_reason);
    refer_free(c->refer);
    free(c);
}

static void call_unlink(relayd *rd, call *c)
{
    for (call **p = &rd->calls; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            rd->n_calls--;
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
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "sip", "params", "from", c->from, "to",
                     c->to, "from_name", c->from_name ? c->from_name : "");
}

void call_emit(relayd *rd, call *c, const char *event_type, json_t *params)
{
    if (!params)
        return;
    json_object_set_new(params, "call_id", json_string(c->id));
    json_object_set_new(params, "node_id", json_string(rd->cfg->node_id));
    if (c->owner)
        session_send_event(rd, c->owner, event_type, params);
    else
        json_decref(params);
}

void call_set_state(relayd *rd, call *c, relay_call_state state)
{
    if (state <= c->state)
        return; /* states only move forward */
    c->state = state;
    json_t *p = json_pack("{s:s, s:s, s:s, s:o}", "call_state", proto_call_state_name(state),
                          "direction", "inbound", "context", c->context, "device", device_json(c));
    if (p && c->end_reason && state >= RELAY_CALL_ENDING)
        json_object_set_new(p, "end_reason", json_string(c->end_reason));
    call_emit(rd, c, proto_event_name(PE_CALL_STATE), p);
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
    if (rd->n_calls >= PROTO_MAX_ACTIVE_CALLS * 10) {
        server_log(RELAY_LOG_WARN, "call to %s refused: too many calls", info->request_uri);
        return 503;
    }
    call *c = calloc(1, sizeof *c);
    if (!c || uuid_v4(c->id) != 0 || !(c->context = strdup(context)) ||
        !(c->from = strdup(info->from_uri)) || !(c->to = strdup(info->to_uri)) ||
        !(c->from_name = strdup(info->from_name ? info->from_name : "")) ||
        !(c->project = strdup(s->project))) {
        if (c)
            call_free(c);
        return 500;
    }
    c->owner = s;
    c->leg = leg;
    c->state = RELAY_CALL_CREATED;
    sip_leg_set_user(leg, c);
    c->next = rd->calls;
    rd->calls = c;
    rd->n_calls++;
    server_log(RELAY_LOG_INFO, "call %s from %s offered on context '%s'", c->id, c->from,
               c->context);

    json_t *p = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "context", c->context,
                          "direction", "inbound", "tag", c->id, "device", device_json(c),
                          "call_state", proto_call_state_name(RELAY_CALL_CREATED), "segment_id",
                          c->id, "project_id", c->project);
    call_emit(rd, c, proto_event_name(PE_CALL_RECEIVE), p);
    if (sip_leg_ring(leg) == 0)
        call_set_state(rd, c, RELAY_CALL_RINGING);
    return 0;
}

void calls_on_established(void *user, sip_leg *leg)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c)
        return;
    c->established = 1;
    if (c->refer && !c->refer->sent)
        refer_send_held(rd, c);
}

void calls_on_terminated(void *user, sip_leg *leg, const char *end_reason)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c)
        return;
    play_detach_all(rd, c);
    c->leg = NULL;
    if (!c->end_reason)
        c->end_reason = strdup(end_reason ? end_reason : PROTO_END_HANGUP);
    if (c->refer && !proto_refer_state_is_final(c->refer->state))
        refer_abandon(rd, c);
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
