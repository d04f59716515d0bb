/*
 * calling.hold / calling.unhold: relayd holds the far end of the call with
 * a re-INVITE offering sendonly (RFC 3264 8.4) and stops sending it RTP (a
 * play goes on silently); unhold re-offers sendrecv and sending resumes.
 * Each change is reported as calling.call.hold {state: held | unheld}
 * once the re-INVITE is sent: the local side holds at once, whatever the
 * peer answers. A hold the peer asks for (its own sendonly/inactive
 * re-INVITE) is answered by the SIP layer (sip_ua.c, media/session.c).
 * Plain methods: no operation stays on the call.
 */
#include "calling/call.h"
#include "calling/conference.h"
#include "calling/emit.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "server_log.h"

static void set_hold(rpc_req *r, int hold)
{
    call *k = r->call;
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        rpc_answer(r, frames_code_result(410, "the call has ended"));
        return;
    }
    if (k->held == hold) {
        rpc_answer(r, frames_code_result(200, hold ? "Already held" : "Not held"));
        return;
    }
    if (sip_leg_hold(k->leg, hold) != 0) {
        rpc_answer(r, frames_code_result(409, "a hold or unhold is still in progress"));
        return;
    }
    k->held = hold;
    conference_call_held(k);
    server_log(RELAY_LOG_INFO, "call %s %s", k->id, hold ? "held" : "unheld");
    rpc_answer(r, frames_code_result(200, hold ? "Held" : "Unheld"));
    call_emit(r->rd, k, PE_CALL_HOLD, json_pack("{s:s}", "state", hold ? "held" : "unheld"), NULL);
}

static void m_hold(rpc_req *r) { set_hold(r, 1); }
static void m_unhold(rpc_req *r) { set_hold(r, 0); }

const server_family_desc hold_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_HOLD, m_hold},
        {PM_UNHOLD, m_unhold},
        {PM_UNKNOWN, NULL},
    },
};
