/*
 * Offer/answer inside an established dialog (RFC 3264 8), for sip_ua.c:
 *
 *  - a re-INVITE or UPDATE (RFC 3311) with an offer: hold (sendonly,
 *    inactive), a new RTP address or port, another codec. The session
 *    follows it and the 200 carries our answer, one m= line per offered
 *    one; an offer we cannot take is answered 488 and changes nothing.
 *  - a re-INVITE without an offer (a session refresh, RFC 4028, or a peer
 *    asking for our current SDP): the 200 carries our offer and the ACK
 *    its answer.
 *
 * nua's own offer/answer engine is off (NUTAG_MEDIA_ENABLE(0)), so nua
 * only carries these bodies: the media session (media/session.c) is the
 * one that reads and writes them.
 */
#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg
#define SU_TIMER_ARG_T struct sip_leg

#include "sip/sip_ua_internal.h"

#include "media/session.h"

#include <sofia-sip/sip_status.h>

static int has_body(const sip_t *sip)
{
    return sip && sip->sip_payload && sip->sip_payload->pl_len;
}

/* Answers an offer (re-INVITE or UPDATE, what names it in the ladder). */
static void answer_offer(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip,
                         const char *what)
{
    char sdp[SIP_SDP_MAX];
    int no_codec = 0;
    const char *why = "";
    if (media_session_offer(leg->media, sip->sip_payload->pl_data, sip->sip_payload->pl_len, sdp,
                            sizeof sdp, &no_codec, &why) < 0) {
        char warning[128];
        snprintf(warning, sizeof warning, "399 relayd \"%s\"", why);
        ladder(ua, "sip -> 488 Not Acceptable Here (%s: %s; the session is unchanged) [%s]", what,
               why, leg->peer);
        nua_respond(nh, SIP_488_NOT_ACCEPTABLE, SIPTAG_WARNING_STR(warning),
                    NUTAG_WITH_THIS(ua->nua), TAG_END());
        return;
    }
    char desc[128];
    media_session_describe(leg->media, desc, sizeof desc);
    ladder(ua, "sip -> 200 OK (%s: %s) [%s]", what, desc, leg->peer);
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp), LEG_CONTACT(leg), NUTAG_WITH_THIS(ua->nua), TAG_END());
}

void sip_reoffer_on_invite(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip)
{
    ladder(ua, "sip <- re-INVITE%s [%s]", has_body(sip) ? "" : " without SDP", leg->peer);
    if (leg->state != LEG_ANSWERED || !leg->media || leg->reinviting) {
        /* ours crossed it, or the call is not up: RFC 3261 14.2 */
        ladder(ua, "sip -> 491 Request Pending [%s]", leg->peer);
        nua_respond(nh, SIP_491_REQUEST_PENDING, TAG_END());
        return;
    }
    if (has_body(sip)) {
        leg->awaiting_ack_answer = 0;
        answer_offer(ua, nh, leg, sip, "re-INVITE");
        return;
    }
    char sdp[SIP_SDP_MAX];
    if (media_session_write_reoffer(leg->media, sdp, sizeof sdp) < 0) {
        ladder(ua, "sip -> 500 (re-INVITE: cannot write an offer) [%s]", leg->peer);
        nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        return;
    }
    leg->awaiting_ack_answer = 1;
    ladder(ua, "sip -> 200 OK (re-INVITE, our offer; the answer comes in the ACK) [%s]",
           leg->peer);
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp), LEG_CONTACT(leg), TAG_END());
}

void sip_reoffer_on_update(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip)
{
    ladder(ua, "sip <- UPDATE%s [%s]", has_body(sip) ? "" : " without SDP", leg->peer);
    if (!has_body(sip)) { /* a session refresh by UPDATE (RFC 4028): nothing to negotiate */
        ladder(ua, "sip -> 200 OK (UPDATE) [%s]", leg->peer);
        nua_respond(nh, SIP_200_OK, LEG_CONTACT(leg), NUTAG_WITH_THIS(ua->nua), TAG_END());
        return;
    }
    if (!leg->media || leg->reinviting || leg->awaiting_ack_answer) {
        /* an offer of ours is outstanding (RFC 3311 5.2), or no media yet:
         * relayd sends no early media, so an UPDATE before the answer has
         * nothing to change */
        ladder(ua, "sip -> 491 Request Pending (UPDATE) [%s]", leg->peer);
        nua_respond(nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(ua->nua), TAG_END());
        return;
    }
    answer_offer(ua, nh, leg, sip, "UPDATE");
}

void sip_reoffer_on_ack(sip_ua *ua, sip_leg *leg, const sip_t *sip)
{
    ladder(ua, "sip <- ACK%s [%s]", has_body(sip) ? " with SDP" : "", leg->peer);
    if (!leg->awaiting_ack_answer)
        return;
    leg->awaiting_ack_answer = 0;
    const char *why = "the ACK has no SDP";
    if (!has_body(sip) || media_session_take_answer(leg->media, sip->sip_payload->pl_data,
                                                    sip->sip_payload->pl_len, &why) != 0) {
        /* an ACK cannot be refused: the previous media stays */
        log_write(ua->log, RELAY_LOG_WARN,
                  "sip: unusable answer in the ACK from [%s]: %s; keeping the previous media",
                  leg->peer, why);
        return;
    }
    char desc[128];
    media_session_describe(leg->media, desc, sizeof desc);
    ladder(ua, "sip: the ACK's answer taken (%s) [%s]", desc, leg->peer);
}
