/*
 * Call control: calling.answer, calling.end, calling.pass. Plain methods
 * (no operation, no events of their own beyond the call's state). The RPC
 * layer has resolved r->call before any of these runs.
 */
#include <stdio.h>
#include <string.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "server_log.h"

static void answer_code(rpc_req *r, int code, const char *message)
{
    rpc_answer(r, frames_code_result(code, message));
}

static void m_answer(rpc_req *r)
{
    call *k = r->call;
    if (k->state == RELAY_CALL_ANSWERED) {
        answer_code(r, 200, "Answered");
        return;
    }
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        answer_code(r, 410, "the call has ended");
        return;
    }
    if (sip_leg_answer(k->leg) != 0) {
        answer_code(r, 500, "could not answer: no common codec");
        return;
    }
    answer_code(r, 200, "Answered");
    call_set_state(r->rd, k, RELAY_CALL_ANSWERED);
}

static int sip_status_for(const char *reason, int answered)
{
    if (answered)
        return 0; /* a BYE */
    if (strcmp(reason, PROTO_END_BUSY) == 0)
        return 486;
    if (strcmp(reason, PROTO_END_DECLINE) == 0)
        return 603;
    if (strcmp(reason, PROTO_END_ERROR) == 0)
        return 500;
    return 480;
}

static void m_end(rpc_req *r)
{
    call *k = r->call;
    const char *reason = json_string_value(json_object_get(r->params, "reason"));
    if (!reason)
        reason = PROTO_END_HANGUP;
    if (!proto_end_reason_valid(reason)) {
        answer_code(r, 400, "unknown end reason");
        return;
    }
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        answer_code(r, 200, "Ending");
        return;
    }
    call_set_end_reason(k, reason, 1);
    int status = sip_status_for(reason, k->state >= RELAY_CALL_ANSWERED);
    /* answer first: ending may complete (and free the call) at once */
    answer_code(r, 200, "Ending");
    call_hangup(r->rd, k, status);
}

/* The session declines an inbound call it was offered: the next session on
 * the context gets it; when none is left the caller hears 480. */
static void m_pass(rpc_req *r)
{
    call *k = r->call;
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        answer_code(r, 410, "the call has ended");
        return;
    }
    if (k->state >= RELAY_CALL_ANSWERED) {
        answer_code(r, 409, "calling.pass is only allowed before the call is answered");
        return;
    }
    if (k->owner != r->conn->session) {
        answer_code(r, 409, "the call is not offered to this session");
        return;
    }
    answer_code(r, 200, "Passed");
    if (call_offer_next(r->rd, k) == 0)
        return;
    server_log(RELAY_LOG_INFO, "call %s: passed by every session on '%s'; 480", k->id,
               k->context);
    call_set_end_reason(k, PROTO_END_NOANSWER, 0);
    call_hangup(r->rd, k, 480); /* k may be freed in here */
}

const server_family_desc control_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_ANSWER, m_answer},
        {PM_END, m_end},
        {PM_PASS, m_pass},
        {PM_UNKNOWN, NULL},
    },
};
