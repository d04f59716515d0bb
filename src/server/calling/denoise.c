/*
 * calling.denoise / calling.denoise.stop: speexdsp noise suppression of
 * what the caller sends (media/denoise.h), before the leg's sinks (record,
 * collect, detect, echo) hear it. Each answers 200 and reports
 * calling.call.denoise {denoised: true | false}. Plain methods: the state
 * is the call's flag and the suppressor the media session's, which frees
 * it with itself, so nothing is left to clean when the caller hangs up.
 */
#include "calling/call.h"
#include "calling/emit.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/denoise.h"
#include "server_log.h"
#include "sip/sip_ua.h"

static void set_denoise(rpc_req *r, int on)
{
    call *k = r->call;
    if (!k->leg || !sip_leg_media(k->leg) || k->state >= RELAY_CALL_ENDING) {
        rpc_answer(r, frames_code_result(410, "the call has ended"));
        return;
    }
    if (k->denoised != on) {
        media_denoise *d = media_denoise_new(on);
        if (!d) {
            rpc_answer(r, frames_code_result(500, "out of memory"));
            return;
        }
        media_session_set_denoise(sip_leg_media(k->leg), d); /* the session takes it */
        k->denoised = on;
        server_log(RELAY_LOG_INFO, "call %s: denoise %s", k->id, on ? "on" : "off");
    }
    rpc_answer(r, frames_code_result(200, on ? "Denoising" : "Not denoising"));
    call_emit(r->rd, k, PE_CALL_DENOISE, json_pack("{s:b}", "denoised", on), NULL);
}

static void m_denoise(rpc_req *r) { set_denoise(r, 1); }
static void m_denoise_stop(rpc_req *r) { set_denoise(r, 0); }

const server_family_desc denoise_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_DENOISE, m_denoise},
        {PM_DENOISE_STOP, m_denoise_stop},
        {PM_UNKNOWN, NULL},
    },
};
