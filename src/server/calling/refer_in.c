/*
 * A REFER from the far end of a call (RFC 3515) and calling.refer.answer,
 * a relayd extension: the call's session hears of the REFER as a
 * calling.call.refer event (direction "inbound", state "requested") and
 * accepts or declines it. relayd itself transfers nothing: a client that
 * accepts takes the transfer over (e.g. connects the call to the
 * Refer-To target); the far end is told the outcome by the final NOTIFY
 * (200 accepted, 603 declined, 480 when nobody answered in
 * refer_timeout_ms). The SIP layer (sip/sip_refer_in.c) keeps the pending
 * REFER, one per leg, and answers 491 to a second one.
 */
#include "calling/refer.h"

#include "calling/call.h"
#include "calling/emit.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "server_log.h"

/* The params of a calling.call.refer event about the far end's REFER
 * (copies: the REFER may be forgotten before it is sent). */
static json_t *event_params(const sip_inbound_refer *r, const char *state,
                            const char *notify_code, const char *reason)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "direction", "inbound", "state", state,
                          "sip_refer_to", r->refer_to, "sip_referred_by", r->referred_by);
    if (!p)
        return NULL;
    if (r->replaces)
        json_object_set_new(p, "sip_refer_replaces", json_string(r->replaces));
    if (notify_code)
        json_object_set_new(p, "sip_notify_response_code", json_string(notify_code));
    if (reason)
        json_object_set_new(p, "reason", json_string(reason));
    return p;
}

static void report(relayd *rd, call *c, const sip_inbound_refer *r, const char *state,
                   const char *notify_code, const char *reason)
{
    call_emit(rd, c, PE_CALL_REFER, event_params(r, state, notify_code, reason), NULL);
}

int calls_on_inbound_refer(void *user, sip_leg *leg, const sip_inbound_refer *r)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c || !c->owner || c->state != RELAY_CALL_ANSWERED)
        return 403; /* nobody to ask */
    if (r->expired) {
        server_log(RELAY_LOG_INFO, "call %s: inbound refer declined: no answer in time", c->id);
        report(rd, c, r, "declined", "480", "timeout");
        return 0;
    }
    server_log(RELAY_LOG_INFO, "call %s: inbound REFER to <%s>, by <%s>: asking the client",
               c->id, r->refer_to, r->referred_by);
    report(rd, c, r, "requested", NULL, NULL);
    return 0;
}

/* calling.refer.answer {node_id, call_id, accept}. */
static void refer_answer(rpc_req *req)
{
    call *c = req->call;
    json_t *accept = json_object_get(req->params, "accept");
    if (!json_is_boolean(accept)) {
        rpc_answer(req, frames_code_result(400, "accept must be true or false"));
        return;
    }
    const sip_inbound_refer *pending = c->leg ? sip_leg_pending_refer(c->leg) : NULL;
    if (!pending) {
        rpc_answer(req, frames_code_result(404, "no inbound refer awaits an answer on this call"));
        return;
    }
    int yes = json_is_true(accept);
    json_t *ev = event_params(pending, yes ? "accepted" : "declined", yes ? "200" : "603",
                              yes ? NULL : "declined");
    if (sip_leg_refer_answer(c->leg, yes ? 200 : 603, yes ? "OK" : "Declined") != 0) {
        json_decref(ev);
        rpc_answer(req, frames_code_result(410, "the call has ended"));
        return;
    }
    server_log(RELAY_LOG_INFO, "call %s: inbound refer %s by the client", c->id,
               yes ? "accepted" : "declined");
    rpc_answer(req, frames_code_result(200, yes ? "Refer accepted" : "Refer declined"));
    call_emit(req->rd, c, PE_CALL_REFER, ev, NULL);
}

const server_family_desc refer_answer_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_REFER_ANSWER, refer_answer},
        {PM_UNKNOWN, NULL},
    },
};
