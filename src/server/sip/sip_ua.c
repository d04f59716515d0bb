/*
 * relayd's SIP user agent over sofia-sip nua (see sip_ua.h).
 *
 * nua runs its own SIP stack on the su_root it is given and reports every
 * incoming request, response and state change through one callback
 * (ua_event). Each leg is bound to its nua handle as the handle's magic, so
 * an event finds its leg directly. Media is ours, not sofia's: the UA only
 * carries SDP; the leg's media session (media/session.c) takes the remote
 * offer, writes the answer and owns the RTP socket.
 *
 * Lifetime of a leg: created on an inbound INVITE; freed when nua reports
 * the call state "terminated" (after a BYE either way, a CANCEL, a
 * rejection or a failure), right after on_terminated.
 *
 * Every SIP message we send or receive is logged at info level in one line
 * ("sip -> REFER <sip:bob@...> [127.0.0.1:5062]"): the call ladder. Messages
 * nua sends on its own (200 to BYE and NOTIFY, 487 after CANCEL) are logged
 * as "auto".
 */
#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg
#define SU_TIMER_ARG_T struct sip_leg

#include "sip/sip_ua.h"
#include "sip/sip_ua_internal.h"
#include "sip/sip_pager.h"
#include "sip/sip_auth.h"
#include "sip/sip_register.h"
#include "sip/sdp_guard.h"
#include "sip/sipfrag.h"
#include "sip/sofia_log.h"
#include "sip/sdp.h"

#include "common/protocol.h"
#include "media/session.h"
#include "server_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>
#include <sofia-sip/tport_tag.h>


/* ------------------------------------------------------------------ legs */

static void refer_reset(sip_leg *leg)
{
    if (leg->refer.timer)
        su_timer_destroy(leg->refer.timer);
    free(leg->refer.username);
    if (leg->refer.password) {
        memset(leg->refer.password, 0, strlen(leg->refer.password));
        free(leg->refer.password);
    }
    memset(&leg->refer, 0, sizeof leg->refer);
}

/* Reports the end (once, if the core owns the leg) and frees the leg. */
static void leg_finish(sip_leg *leg)
{
    sip_ua *ua = leg->ua;
    if (leg->owned && ua->cb.on_terminated)
        ua->cb.on_terminated(ua->cb.user, leg, leg->end_reason ? leg->end_reason : "error");
    refer_reset(leg);
    sip_refer_in_clear(leg);
    if (leg->nh) {
        nua_handle_bind(leg->nh, NULL);
        nua_handle_destroy(leg->nh);
    }
    media_session_destroy(leg->media);
    media_session_destroy(leg->reserved);
    if ((*leg->pprev = leg->next))
        leg->next->pprev = leg->pprev;
    free(leg->offer);
    free(leg->local_uri);
    free(leg->remote_uri);
    free(leg->contact);
    free(leg);
}

static char *leg_url_text(const url_t *url)
{
    if (!url)
        return strdup("");
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *s = url_as_string(home, url);
    char *copy = strdup(s ? s : "");
    su_home_deinit(home);
    return copy;
}

static void peer_of_current(nua_t *nua, char *buf, size_t size)
{
    snprintf(buf, size, "?");
    msg_t *msg = nua_current_request(nua);
    su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
    if (!ai || !ai->ai_addr)
        return;
    char ip[INET6_ADDRSTRLEN];
    if (ai->ai_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
        if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip))
            snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (ai->ai_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
        if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip))
            snprintf(buf, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    }
}

/* "UDP", "TCP", "TLS": the transport the peer's Via names (it sent the
 * request over it), for the ladder. */
static const char *via_transport(const sip_t *sip)
{
    const char *proto = sip && sip->sip_via ? sip->sip_via->v_protocol : NULL;
    const char *slash = proto ? strrchr(proto, '/') : NULL;
    return slash ? slash + 1 : "?";
}

/* Our Contact for a dialog over `transport` ("UDP", "TCP", "TLS"), or
 * NULL to leave it to sofia. With a TLS listener, sofia's choice is wrong
 * on loopback and other local addresses: it keeps one Contact for all
 * its transports there (nua_registration_from_via drops local
 * candidates but the last), the sips: one, which a peer on plain SIP
 * cannot reach. Without TLS its choice is right. */
static char *leg_contact(const sip_ua *ua, const char *transport)
{
    if (!ua->tls_url || !transport)
        return NULL;
    const char *url = strcasecmp(transport, "TLS") == 0 ? ua->tls_url : ua->bind_url;
    int add_tcp = strcasecmp(transport, "TCP") == 0 && !strstr(url, ";transport=");
    size_t n = strlen(url) + 20;
    char *c = malloc(n);
    if (c)
        snprintf(c, n, "<%s%s>", url, add_tcp ? ";transport=tcp" : "");
    return c;
}

/* The transport a call to uri goes over: TLS for sips: or
 * ;transport=tls, TCP for ;transport=tcp, else UDP. */
static const char *uri_transport(const char *uri)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *url = url_hdup(home, (const url_t *)uri);
    char t[8] = "";
    if (url && url->url_params)
        url_param(url->url_params, "transport", t, sizeof t);
    const char *r = url && (url->url_type == url_sips || strcasecmp(t, "tls") == 0) ? "TLS"
                    : strcasecmp(t, "tcp") == 0                                   ? "TCP"
                                                                                  : "UDP";
    su_home_deinit(home);
    return r;
}

/* The RTP address for a call whose media is of `family`: media_ip6 for an
 * IPv6 peer (its SDP says c=IN IP6), else media_ip. NULL: none set. */
static const char *media_ip_for(const sip_ua *ua, int family)
{
    return family == AF_INET6 ? ua->media_ip6 : ua->media_ip;
}

/* Sends a final error to an unanswered INVITE. */
static void leg_reject(sip_leg *leg, int status)
{
    if (status < 300 || status > 699)
        status = 480;
    const char *phrase = sip_status_phrase(status);
    ladder(leg->ua, "sip -> %d %s [%s]", status, phrase ? phrase : "", leg->peer);
    nua_respond(leg->nh, status, phrase ? phrase : "Rejected", TAG_END());
    leg->state = LEG_ENDING;
}

/* RFC 4028 refreshes that relayd sends (the peer made it the refresher)
 * go as UPDATE without SDP when the peer allows UPDATE: nothing is
 * negotiated, so the media cannot change under the call. nua's own refresh
 * by re-INVITE carries no SDP on a call we answered (the peer then offers
 * in its 200 and nua's ACK, ours being no answer, breaks the exchange) and
 * a stale copy of our first offer on a call we placed, whose answer we
 * never see. */
static void leg_refresh_by_update(sip_leg *leg, const sip_t *sip)
{
    if (sip && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE"))
        nua_set_hparams(leg->nh, NUTAG_UPDATE_REFRESH(1), TAG_END());
}

/* ------------------------------------------------------------- inbound */

/* 488 with a Warning for an initial INVITE whose offer we could not
 * answer (an IPv6 one too, without media_ip6); 0 when it is answerable,
 * with *family its media's address family. */
static int refuse_unanswerable(sip_ua *ua, nua_handle_t *nh, const sip_t *sip, int *family)
{
    sdp_audio_offer o;
    int no_codec = 0;
    const char *why = "";
    int has_body = sip->sip_payload && sip->sip_payload->pl_len;
    if (sdp_audio_offer_parse(has_body ? sip->sip_payload->pl_data : NULL,
                              has_body ? sip->sip_payload->pl_len : 0, &o, &no_codec, &why) == 0) {
        *family = o.remote.ss_family;
        if (media_ip_for(ua, *family))
            return 0;
        why = "an IPv6 offer, and no media_ip6 is set";
        no_codec = 1;
    }
    char peer[64], warning[128];
    peer_of_current(ua->nua, peer, sizeof peer);
    int status = no_codec ? 488 : 400;
    ladder(ua, "sip <- INVITE with an offer relayd cannot answer (%s) [%s]", why, peer);
    ladder(ua, "sip -> %d %s [%s]", status, sip_status_phrase(status), peer);
    snprintf(warning, sizeof warning, "399 relayd \"%s\"", why);
    nua_respond(nh, status, sip_status_phrase(status), SIPTAG_WARNING_STR(warning), TAG_END());
    nua_handle_destroy(nh);
    return -1;
}

static void on_invite(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip)
{
    if (leg) {
        sip_reoffer_on_invite(ua, nh, leg, sip);
        return;
    }

    /* A malformed offer is refused at once, before a client is told of the
     * call: answering it later would only fail, and sofia's SDP parser must
     * never see it (sdp_guard.h says why). */
    const char *bad_sdp;
    if (sip->sip_payload && sip->sip_payload->pl_len &&
        sdp_guard_check(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &bad_sdp) < 0) {
        char peer[sizeof leg->peer], warning[128];
        peer_of_current(ua->nua, peer, sizeof peer);
        ladder(ua, "sip <- INVITE with a malformed offer (%s) [%s]", bad_sdp, peer);
        ladder(ua, "sip -> 488 Not Acceptable Here [%s]", peer);
        snprintf(warning, sizeof warning, "399 relayd \"%s\"", bad_sdp);
        nua_respond(nh, SIP_488_NOT_ACCEPTABLE, SIPTAG_WARNING_STR(warning), TAG_END());
        nua_handle_destroy(nh);
        return;
    }
    /* So is an offer we could never answer (no G.711, no audio, none at
     * all): no client should be offered a call it cannot take. */
    int family = AF_INET;
    if (refuse_unanswerable(ua, nh, sip, &family) < 0)
        return;

    leg = calloc(1, sizeof *leg);
    if (!leg) {
        nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        nua_handle_destroy(nh);
        return;
    }
    leg->ua = ua;
    leg->nh = nh;
    leg->state = LEG_OFFERED;
    if ((leg->next = ua->legs))
        ua->legs->pprev = &leg->next;
    ua->legs = leg;
    leg->pprev = &ua->legs;
    nua_handle_bind(nh, leg);
    leg_refresh_by_update(leg, sip);
    peer_of_current(ua->nua, leg->peer, sizeof leg->peer);
    leg->contact = leg_contact(ua, via_transport(sip));
    leg->local_uri = leg_url_text(sip->sip_to ? sip->sip_to->a_url : NULL);
    leg->remote_uri = leg_url_text(sip->sip_from ? sip->sip_from->a_url : NULL);
    if (sip->sip_payload && sip->sip_payload->pl_len) {
        leg->offer = malloc(sip->sip_payload->pl_len + 1);
        if (leg->offer) {
            memcpy(leg->offer, sip->sip_payload->pl_data, sip->sip_payload->pl_len);
            leg->offer[sip->sip_payload->pl_len] = '\0';
            leg->offer_len = sip->sip_payload->pl_len;
        }
    }

    char *ruri = leg_url_text(sip->sip_request ? sip->sip_request->rq_url : NULL);
    ladder(ua, "sip <- INVITE %s from %s [%s] over %s", ruri ? ruri : "",
           leg->remote_uri ? leg->remote_uri : "", leg->peer, via_transport(sip));
    if (!leg->local_uri || !leg->remote_uri || !ruri) {
        free(ruri);
        leg_reject(leg, 500);
        return;
    }
    /* The call's RTP port is taken now: without one the call could not be
     * answered, and that is 503 (try elsewhere), not the client's affair. */
    const char *media_ip = media_ip_for(ua, family);
    leg->reserved = media_session_create(ua->media, media_ip, ua->rtp_min, ua->rtp_max);
    if (!leg->reserved) {
        log_write(ua->log, RELAY_LOG_ERROR,
                  "sip: no free RTP port in %d-%d on %s: INVITE from %s refused with 503",
                  ua->rtp_min, ua->rtp_max, media_ip, leg->remote_uri);
        free(ruri);
        leg_reject(leg, 503);
        return;
    }
    sip_leg_info info = {
        .request_user = sip->sip_request && sip->sip_request->rq_url->url_user
                            ? sip->sip_request->rq_url->url_user
                            : "",
        .request_uri = ruri,
        .from_uri = leg->remote_uri,
        .from_name = sip->sip_from && sip->sip_from->a_display ? sip->sip_from->a_display : "",
        .to_uri = leg->local_uri,
        .sip_call_id = sip->sip_call_id ? sip->sip_call_id->i_id : "",
    };
    int status = ua->cb.on_incoming ? ua->cb.on_incoming(ua->cb.user, leg, &info) : 480;
    free(ruri);
    if (status != 0)
        leg_reject(leg, status);
    else
        leg->owned = 1;
}

/* --------------------------------------------------------------- refer */

static void refer_report(sip_leg *leg, sip_refer_kind kind, int status, const char *phrase,
                         int final)
{
    if (leg->refer.done)
        return;
    if (final) {
        leg->refer.done = 1;
        leg->refer.active = 0;
        if (leg->refer.timer)
            su_timer_reset(leg->refer.timer);
    }
    sip_refer_progress p = {.kind = kind, .status = status, .phrase = phrase ? phrase : "",
                            .final = final};
    if (leg->owned && leg->ua->cb.on_refer_progress)
        leg->ua->cb.on_refer_progress(leg->ua->cb.user, leg, &p);
}

static void refer_timeout(su_root_magic_t *magic, su_timer_t *t, sip_leg *leg)
{
    (void)magic;
    (void)t;
    if (!leg->refer.active || leg->refer.done)
        return;
    log_write(leg->ua->log, RELAY_LOG_WARN, "sip: REFER to [%s] got no final NOTIFY in %d ms",
              leg->peer, leg->ua->refer_timeout_ms);
    refer_report(leg, SIP_REFER_TIMEOUT, 0, "no final NOTIFY", 1);
}

/* Answers a digest challenge on the REFER with the credentials given to
 * sip_leg_refer. 0 if an authenticated REFER is on its way. */
static int refer_authenticate(sip_leg *leg, const sip_t *sip)
{
    if (!leg->refer.username || !leg->refer.password || leg->refer.auth_tried || !sip)
        return -1;
    const msg_auth_t *au = sip->sip_www_authenticate ? sip->sip_www_authenticate
                                                     : sip->sip_proxy_authenticate;
    if (!au || !au->au_scheme)
        return -1;
    const char *realm = msg_params_find(au->au_params, "realm=");
    if (!realm)
        return -1;
    /* "scheme:realm:user:password", the realm quoted as in the challenge */
    size_t n = strlen(au->au_scheme) + strlen(realm) + strlen(leg->refer.username) +
               strlen(leg->refer.password) + 8;
    char *cred = malloc(n);
    if (!cred)
        return -1;
    int quoted = realm[0] == '"';
    snprintf(cred, n, "%s:%s%s%s:%s:%s", au->au_scheme, quoted ? "" : "\"", realm,
             quoted ? "" : "\"", leg->refer.username, leg->refer.password);
    leg->refer.auth_tried = 1;
    ladder(leg->ua, "sip -> REFER (with credentials for %s) [%s]", realm, leg->peer);
    nua_authenticate(leg->nh, NUTAG_AUTH(cred), TAG_END());
    memset(cred, 0, n);
    free(cred);
    return 0;
}

static void on_refer_response(sip_leg *leg, int status, const char *phrase, const sip_t *sip,
                              tagi_t tags[])
{
    if (status == 100 && !sip && leg->refer.active) {
        /* nua's own 100, sent again when a challenge makes it resend the
         * REFER with a new CSeq: the Event its NOTIFYs must carry */
        sip_event_t const *ev = NULL;
        tl_gets(tags, NUTAG_REFER_EVENT_REF(ev), TAG_END());
        if (ev && ev->o_id)
            snprintf(leg->refer.event_id, sizeof leg->refer.event_id, "%s", ev->o_id);
    }
    if (status < 200)
        return; /* provisional answers carry nothing for us */
    ladder(leg->ua, "sip <- %d %s (REFER)%s [%s]", status, phrase ? phrase : "", sip ? "" : " local",
           leg->peer);
    if (!leg->refer.active || leg->refer.done)
        return;
    if (status == 401 || status == 407) {
        if (refer_authenticate(leg, sip) == 0)
            return;
        /* nua holds a challenged request (and every later one in the
         * dialog, our BYE included) until it is told what to do: an
         * authenticate without credentials makes it give the REFER up. */
        nua_authenticate(leg->nh, TAG_END());
    }
    if (status >= 300) {
        refer_report(leg, SIP_REFER_RESPONSE, status, phrase, 1);
        return;
    }
    refer_report(leg, SIP_REFER_RESPONSE, status, phrase, 0);
    /* Accepted: the outcome comes by NOTIFY, and must come in time. */
    if (!leg->refer.done && leg->ua->refer_timeout_ms > 0) {
        leg->refer.timer = su_timer_create(su_root_task(leg->ua->root), leg->ua->refer_timeout_ms);
        if (!leg->refer.timer || su_timer_set(leg->refer.timer, refer_timeout, leg) < 0)
            log_write(leg->ua->log, RELAY_LOG_ERROR, "sip: cannot arm the REFER timeout");
    }
}

static void on_notify(sip_ua *ua, sip_leg *leg, const sip_t *sip)
{
    if (!sip)
        return;
    char phrase[64];
    int status = sip->sip_payload && sip->sip_payload->pl_data
                     ? sipfrag_status(sip->sip_payload->pl_data, sip->sip_payload->pl_len, phrase,
                                      sizeof phrase)
                     : (phrase[0] = '\0', 0);
    const char *substate = sip->sip_subscription_state ? sip->sip_subscription_state->ss_substate : "";
    int terminated = substate && strcasecmp(substate, "terminated") == 0;
    const char *event = sip->sip_event ? sip->sip_event->o_type : "";
    ladder(ua, "sip <- NOTIFY %s %d %s (%s) [%s]", event ? event : "", status, phrase,
           substate ? substate : "", leg ? leg->peer : "?");
    ladder(ua, "sip -> 200 OK (NOTIFY, auto) [%s]", leg ? leg->peer : "?");
    if (!leg || !event || strcmp(event, "refer") != 0 || !leg->refer.active || leg->refer.done)
        return;
    const char *id = sip->sip_event->o_id;
    if (id ? strcmp(id, leg->refer.event_id) != 0 : !leg->refer.first) {
        /* a late NOTIFY of an earlier REFER must not decide this one */
        log_write(ua->log, RELAY_LOG_INFO,
                  "sip: NOTIFY (refer;id=%s) from [%s] is not for the REFER in progress (id=%s)",
                  id ? id : "none", leg->peer, leg->refer.event_id);
        return;
    }
    if (status == 0 && !terminated)
        return; /* an interim NOTIFY without a status line: nothing to report */
    int final = status >= 200 || terminated;
    refer_report(leg, SIP_REFER_NOTIFY, status, phrase, final);
}

/* ------------------------------------------------------------ outbound */

static const char *end_reason_for_status(int status)
{
    switch (status) {
    case 486:
    case 600:
        return PROTO_END_BUSY;
    case 603:
        return PROTO_END_DECLINE;
    case 408:
    case 480:
    case 487:
        return PROTO_END_NOANSWER;
    default:
        return PROTO_END_ERROR;
    }
}

/* Answers to an INVITE we sent: 18x reported as progress, a 2xx with a
 * usable SDP answer makes the leg answered (nua has ACKed it), a failure
 * ends it (nua reports terminated next). */
static void on_invite_response(sip_ua *ua, sip_leg *leg, int status, const char *phrase,
                               const sip_t *sip)
{
    if (status < 100)
        return;
    if (leg->reinviting) {
        if (status < 200)
            return;
        ladder(ua, "sip <- %d %s (re-INVITE)%s [%s]", status, phrase ? phrase : "",
               sip ? "" : " local", leg->peer);
        leg->reinviting = 0;
        const char *why = "no SDP";
        if (status < 300 && (!sip || !sip->sip_payload || !sip->sip_payload->pl_len ||
                             media_session_take_answer(leg->media, sip->sip_payload->pl_data,
                                                       sip->sip_payload->pl_len, &why) != 0))
            log_write(ua->log, RELAY_LOG_WARN, "sip: unusable re-INVITE answer from [%s]: %s",
                      leg->peer, why);
        return;
    }
    if (!leg->outbound)
        return;
    if (status != 100)
        ladder(ua, "sip <- %d %s (INVITE)%s [%s]", status, phrase ? phrase : "", sip ? "" : " local",
               leg->peer);
    if (status < 200) {
        if (status != 100 && leg->state == LEG_OFFERED && ua->cb.on_progress)
            ua->cb.on_progress(ua->cb.user, leg, status);
        return;
    }
    if ((status == 401 || status == 407) && leg->state == LEG_OFFERED) {
        char realm[128];
        const char *why = "the trunk refused the credentials";
        if (!leg->trunk) {
            why = "a challenge from a sip device is not answered";
            nua_authenticate(leg->nh, TAG_END()); /* nua gives the INVITE up */
        } else if (!leg->auth_tried &&
                   sip_auth_answer(ua, leg->nh, sip, realm, sizeof realm, &why) == 0) {
            leg->auth_tried = 1;
            ladder(ua, "sip -> INVITE (with credentials for %s) [%s]", realm, leg->peer);
            return;
        } else if (leg->auth_tried) {
            nua_authenticate(leg->nh, TAG_END());
        }
        log_write(ua->log, RELAY_LOG_WARN, "sip: INVITE to [%s] failed: %d %s: %s", leg->peer,
                  status, phrase ? phrase : "", why);
    } else if (status >= 300 && leg->auth_tried && status == 403) {
        log_write(ua->log, RELAY_LOG_WARN,
                  "sip: INVITE to [%s] failed: 403 %s: the trunk refused the credentials",
                  leg->peer, phrase ? phrase : "");
    }
    if (status >= 300) {
        if (!leg->end_reason)
            leg->end_reason = end_reason_for_status(status);
        leg->state = LEG_ENDING;
        return;
    }
    if (leg->state != LEG_OFFERED)
        return; /* a 200 crossing our CANCEL: nua ACKs and BYEs it */
    const char *why = "";
    int has_body = sip && sip->sip_payload && sip->sip_payload->pl_len;
    if (!has_body || media_session_take_answer(leg->media, sip->sip_payload->pl_data,
                                               sip->sip_payload->pl_len, &why) != 0) {
        log_write(ua->log, RELAY_LOG_WARN, "sip: unusable answer from [%s]: %s", leg->peer,
                  has_body ? why : "no SDP");
        leg->end_reason = PROTO_END_ERROR;
        leg->state = LEG_ANSWERED;
        sip_leg_hangup(leg, 0);
        return;
    }
    leg->state = LEG_ANSWERED;
    leg->established = 1;
    leg_refresh_by_update(leg, sip);
    if (ua->cb.on_established)
        ua->cb.on_established(ua->cb.user, leg);
}

/* "Name" <uri> for From, or <uri>. NULL when out of memory. */
static char *name_addr(const char *name, const char *uri)
{
    size_t n = strlen(uri) + (name ? strlen(name) : 0) + 8;
    char *s = malloc(n);
    if (!s)
        return NULL;
    if (name && *name)
        snprintf(s, n, "\"%s\" <%s>", name, uri);
    else
        snprintf(s, n, "<%s>", uri);
    return s;
}

static int target_family(const char *uri)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *url = url_hdup(home, (const url_t *)uri);
    int family = url && url->url_host && url->url_host[0] == '[' ? AF_INET6 : AF_INET;
    su_home_deinit(home);
    return family;
}

sip_leg *sip_ua_invite(sip_ua *ua, const sip_invite_params *p, void *user)
{
    if (!ua || !p || !p->to)
        return NULL;
    sip_leg *leg = calloc(1, sizeof *leg);
    if (!leg)
        return NULL;
    leg->ua = ua;
    leg->user = user;
    leg->outbound = 1;
    leg->owned = 1;
    leg->trunk = p->trunk;
    leg->state = LEG_OFFERED;
    leg->remote_uri = strdup(p->to);
    leg->local_uri = strdup(p->from ? p->from : ua->bind_url);
    char *to_hdr = name_addr(NULL, p->to);
    char *from_hdr = p->from ? name_addr(p->from_name, p->from) : NULL;
    /* An IPv6 literal target ("sip:[::1]:5060") gets IPv6 media; a host
     * name is taken to be IPv4, as media_ip is. */
    int family = target_family(p->to);
    const char *media_ip = media_ip_for(ua, family);
    leg->media = media_ip ? media_session_create(ua->media, media_ip, ua->rtp_min, ua->rtp_max)
                          : NULL;
    char sdp[SIP_SDP_MAX];
    if (!leg->remote_uri || !leg->local_uri || !to_hdr || (p->from && !from_hdr) || !leg->media ||
        media_session_write_offer(leg->media, p->codecs, p->n_codecs, sdp, sizeof sdp) < 0) {
        if (!media_ip)
            log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot call %s: no media_ip6 for IPv6 media",
                      p->to);
        else if (!leg->media)
            log_write(ua->log, RELAY_LOG_ERROR, "sip: no free RTP port in %d-%d on %s",
                      ua->rtp_min, ua->rtp_max, media_ip);
        media_session_destroy(leg->media);
        free(leg->remote_uri);
        free(leg->local_uri);
        free(to_hdr);
        free(from_hdr);
        free(leg);
        return NULL;
    }
    leg->nh = nua_handle(ua->nua, leg, SIPTAG_TO_STR(to_hdr), TAG_IF(from_hdr, SIPTAG_FROM_STR(from_hdr)),
                         TAG_END());
    if (!leg->nh) {
        media_session_destroy(leg->media);
        free(leg->remote_uri);
        free(leg->local_uri);
        free(to_hdr);
        free(from_hdr);
        free(leg);
        return NULL;
    }
    snprintf(leg->peer, sizeof leg->peer, "%s", p->to);
    if ((leg->next = ua->legs))
        ua->legs->pprev = &leg->next;
    ua->legs = leg;
    leg->pprev = &ua->legs;
    char what[128];
    media_session_describe(leg->media, what, sizeof what);
    ladder(ua, "sip -> INVITE %s from %s (rtp %d) [%s]", to_hdr, from_hdr ? from_hdr : "relayd",
           media_rtp_local_port(media_session_rtp(leg->media)), leg->peer);
    leg->contact = leg_contact(ua, uri_transport(p->to));
    nua_invite(leg->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
               LEG_CONTACT(leg),
               TAG_IF(p->headers && *p->headers, SIPTAG_HEADER_STR(p->headers)), TAG_END());
    free(to_hdr);
    free(from_hdr);
    return leg;
}

const char *sip_leg_end_reason(const sip_leg *leg) { return leg ? leg->end_reason : NULL; }

/* ---------------------------------------------------------- nua events */

static void on_state(sip_ua *ua, sip_leg *leg, tagi_t tags[])
{
    int state = -1;
    tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    if (state == nua_callstate_ready && leg->state == LEG_ANSWERED && leg->owned &&
        ua->cb.on_established) {
        /* only once: later "ready" states follow re-INVITEs */
        if (!leg->established) {
            leg->established = 1;
            ua->cb.on_established(ua->cb.user, leg);
        }
    }
    if (state == nua_callstate_terminated)
        leg_finish(leg);
}

static void ua_event(nua_event_t event, int status, char const *phrase, nua_t *nua, sip_ua *ua,
                     nua_handle_t *nh, sip_leg *leg, sip_t const *sip, tagi_t tags[])
{
    (void)nua;
    switch (event) {
    case nua_i_invite:
        on_invite(ua, nh, leg, sip);
        return;
    case nua_i_state:
        if (leg)
            on_state(ua, leg, tags);
        return;
    case nua_i_ack:
        if (leg)
            sip_reoffer_on_ack(ua, leg, sip);
        return;
    case nua_i_update:
        if (leg)
            sip_reoffer_on_update(ua, nh, leg, sip);
        else /* nua answered it (no dialog); the handle is ours to drop */
            nua_handle_destroy(nh);
        return;
    case nua_i_bye:
        if (leg) {
            ladder(ua, "sip <- BYE [%s]", leg->peer);
            ladder(ua, "sip -> 200 OK (BYE, auto) [%s]", leg->peer);
            if (!leg->end_reason)
                leg->end_reason = PROTO_END_HANGUP;
            leg->state = LEG_ENDING;
        }
        return;
    case nua_i_cancel:
        if (leg) {
            ladder(ua, "sip <- CANCEL [%s]", leg->peer);
            ladder(ua, "sip -> 200 OK (CANCEL, auto), 487 (INVITE, auto) [%s]", leg->peer);
            if (!leg->end_reason)
                leg->end_reason = PROTO_END_CANCEL;
            leg->state = LEG_ENDING;
        }
        return;
    case nua_i_notify:
        on_notify(ua, leg, sip);
        return;
    case nua_i_options: /* nua answered it already, with our Allow and Supported */
        ladder(ua, "sip <- OPTIONS%s; %d %s (auto)", leg ? " in a dialog" : "", status,
               phrase ? phrase : "");
        if (!leg && nh)
            nua_handle_destroy(nh);
        return;
    case nua_i_message:
        if (leg) { /* inside a call's dialog: not a page; nua answered nothing yet */
            ladder(ua, "sip <- MESSAGE in a dialog [%s]; 405", leg->peer);
            nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED, NUTAG_WITH_THIS(ua->nua), TAG_END());
            return;
        }
        sip_pager_on_request(ua, nh, sip);
        return;
    case nua_r_message:
        if (!leg)
            sip_pager_on_response(ua, nh, status, phrase, sip);
        return;
    case nua_r_register:
    case nua_r_unregister:
        if (sip_register_owns(ua, nh))
            sip_register_on_response(ua, event, status, phrase, sip);
        return;
    case nua_i_refer:
        sip_refer_in_on_request(ua, nh, leg, sip, tags);
        return;
    case nua_r_notify:
        if (status >= 200)
            ladder(ua, "sip <- %d %s (NOTIFY)%s [%s]", status, phrase ? phrase : "",
                   sip ? "" : " local", leg ? leg->peer : "?");
        return;
    case nua_r_refer:
        if (leg)
            on_refer_response(leg, status, phrase, sip, tags);
        return;
    case nua_r_invite:
        if (leg)
            on_invite_response(ua, leg, status, phrase, sip);
        return;
    case nua_r_cancel:
        if (leg && status >= 200)
            ladder(ua, "sip <- %d %s (CANCEL) [%s]", status, phrase ? phrase : "", leg->peer);
        return;
    case nua_r_bye:
        if (leg && status >= 200)
            ladder(ua, "sip <- %d %s (BYE)%s [%s]", status, phrase ? phrase : "", sip ? "" : " local",
                   leg->peer);
        return;
    case nua_r_shutdown:
        if (status >= 200)
            ua->shutdown_done = 1;
        return;
    case nua_i_error:
        log_write(ua->log, RELAY_LOG_WARN, "sip: nua error %d %s", status, phrase ? phrase : "");
        return;
    default:
        break;
    }
    if (event == nua_i_terminated && leg) {
        leg_finish(leg);
        return;
    }
    /* Requests outside our dialogs that nua hands to us (MESSAGE, out-of-
     * dialog REFER or SUBSCRIBE...) get a handle we never bound: nua has
     * answered them (or answers on destroy); let go of the handle. */
    if (!leg && nh && event < nua_r_set_params) {
        ladder(ua, "sip <- %s (not handled)", nua_event_name(event));
        nua_handle_destroy(nh);
    }
}

/* ----------------------------------------------------------------- API */

/* Tries to bind the URL's address (UDP and TCP, as nua does for sip:; TCP
 * alone for sips:) before nua does: a taken port then gets a precise
 * message, and nua_create()'s own failure path, which leaks its event
 * port, is kept for the rare race. Hosts that are not IP literals are
 * left to nua. */
static int probe_bind_url(const char *bind_url, const char **why)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *url = url_hdup(home, (const url_t *)bind_url);
    int rc = 0;
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    char host[INET6_ADDRSTRLEN + 2] = "";
    if (!url || !url->url_host) {
        *why = "not a SIP URL";
        su_home_deinit(home);
        return -1;
    }
    size_t hl = strlen(url->url_host);
    if (url->url_host[0] == '[' && hl >= 2 && hl - 2 < sizeof host)
        memcpy(host, url->url_host + 1, hl - 2);
    else if (hl < sizeof host)
        memcpy(host, url->url_host, hl);
    int tls = url->url_type == url_sips;
    int port = url->url_port ? atoi(url->url_port) : tls ? 5061 : 5060;
    /* ";transport=udp" or "tcp" narrows nua's listeners to that one */
    char transport[8] = "";
    if (url->url_params)
        url_param(url->url_params, "transport", transport, sizeof transport);
    socklen_t len = 0;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
    }
    int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; len && i < (tls ? 1 : 2) && rc == 0; i++) {
        if (transport[0] && strcasecmp(transport, types[i] == SOCK_STREAM ? "tcp" : "udp") != 0)
            continue;
        int fd = socket(ss.ss_family, types[i] | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0 && types[i] == SOCK_STREAM)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as nua */
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
            *why = strerror(errno);
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    su_home_deinit(home);
    return rc;
}

static void ua_free(sip_ua *ua)
{
    free(ua->media_ip);
    free(ua->media_ip6);
    free(ua->bind_url);
    free(ua->tls_url);
    free(ua);
}

sip_ua *sip_ua_create(su_root_t *root, const sip_ua_config *cfg, const sip_ua_callbacks *cb)
{
    if (!root || !cfg || !cfg->bind_url || !cfg->media_ip || !cfg->media || !cb)
        return NULL;
    sip_ua *ua = calloc(1, sizeof *ua);
    if (!ua)
        return NULL;
    ua->root = root;
    ua->log = cfg->log ? cfg->log : &server_log_sink;
    ua->cb = *cb;
    ua->media = cfg->media;
    ua->media_ip = strdup(cfg->media_ip);
    ua->media_ip6 = cfg->media_ip6 ? strdup(cfg->media_ip6) : NULL;
    ua->bind_url = strdup(cfg->bind_url);
    ua->tls_url = cfg->tls_url ? strdup(cfg->tls_url) : NULL;
    ua->rtp_min = cfg->rtp_port_min;
    ua->rtp_max = cfg->rtp_port_max;
    ua->refer_timeout_ms = cfg->refer_timeout_ms;
    struct in_addr probe;
    struct in6_addr probe6;
    if (!ua->media_ip || !ua->bind_url || (cfg->media_ip6 && !ua->media_ip6) ||
        (cfg->tls_url && !ua->tls_url) ||
        inet_pton(AF_INET, cfg->media_ip, &probe) != 1) {
        log_write(ua->log, RELAY_LOG_ERROR, "sip: media_ip %s is not an IPv4 address",
                  cfg->media_ip);
        ua_free(ua);
        return NULL;
    }
    if (cfg->media_ip6 && inet_pton(AF_INET6, cfg->media_ip6, &probe6) != 1) {
        log_write(ua->log, RELAY_LOG_ERROR, "sip: media_ip6 %s is not an IPv6 address",
                  cfg->media_ip6);
        ua_free(ua);
        return NULL;
    }
    const char *why = NULL;
    const char *failed = NULL;
    if (probe_bind_url(cfg->bind_url, &why) < 0)
        failed = cfg->bind_url;
    else if (cfg->tls_url && probe_bind_url(cfg->tls_url, &why) < 0)
        failed = cfg->tls_url;
    if (failed) {
        log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot listen on %s: %s", failed, why);
        ua_free(ua);
        return NULL;
    }
    sofia_log_capture();
    /* TLS (sips:) is sofia's own transport: it reads agent.pem (the
     * certificate and its key) and cafile.pem (the CAs that peers'
     * certificates are checked against) from tls_cert_dir. */
    ua->nua = nua_create(root, ua_event, ua, NUTAG_URL(cfg->bind_url),
                         TAG_IF(cfg->tls_url, NUTAG_SIPS_URL(cfg->tls_url)),
                         TAG_IF(cfg->tls_url, TPTAG_CERTIFICATE(cfg->tls_cert_dir)),
                         TAG_IF(cfg->tls_url, TPTAG_TLS_VERIFY_POLICY(cfg->tls_verify
                                                                          ? TPTLS_VERIFY_ALL
                                                                          : TPTLS_VERIFY_NONE)),
                         NUTAG_MEDIA_ENABLE(0), /* our own SDP: see sdp.c */
                         /* any session interval RFC 4028 allows (nua's own
                          * floor is 120 s: a 90 s request got 422) */
                         NUTAG_MIN_SE(90),
                         NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
                         NUTAG_ALLOW("REFER, NOTIFY, INFO, MESSAGE, UPDATE"),
                         /* MESSAGE is answered by us (sip_pager.c), UPDATE by
                          * sip_reoffer.c (its offer needs our answer), REFER by
                          * sip_refer_in.c (491 to a second one), not by nua's
                          * own 200/202 */
                         NUTAG_APPL_METHOD("MESSAGE, UPDATE, REFER"),
                         TAG_IF(cfg->transaction_timeout_ms > 0,
                                NTATAG_SIP_T1X64((unsigned)cfg->transaction_timeout_ms)),
                         TAG_IF(cfg->user_agent, SIPTAG_USER_AGENT_STR(cfg->user_agent)),
                         TAG_IF(cfg->sip_dump, TPTAG_DUMP(cfg->sip_dump)),
                         TAG_IF(cfg->sip_log, TPTAG_LOG(1)),
                         TAG_END());
    if (!ua->nua) {
        log_write(ua->log, RELAY_LOG_ERROR,
                  "sip: cannot listen on %s%s%s (address in use or not local%s?)", cfg->bind_url,
                  cfg->tls_url ? " and " : "", cfg->tls_url ? cfg->tls_url : "",
                  cfg->tls_url ? ", or no agent.pem and cafile.pem in sip_tls_cert_dir" : "");
        ua_free(ua);
        return NULL;
    }
    log_write(ua->log, RELAY_LOG_INFO, "sip: listening on %s%s%s%s%s, media on %s%s%s:%d-%d",
              cfg->bind_url, strstr(cfg->bind_url, ";transport=") ? "" : " (udp, tcp)",
              cfg->tls_url ? ", " : "", cfg->tls_url ? cfg->tls_url : "",
              cfg->tls_url ? " (tls)" : "", ua->media_ip, ua->media_ip6 ? " and " : "",
              ua->media_ip6 ? ua->media_ip6 : "", ua->rtp_min, ua->rtp_max);
    if (sip_auth_set(ua, cfg->trunk_username, cfg->trunk_password, cfg->trunk_realm) != 0 ||
        (cfg->trunk_register &&
         sip_register_start(ua, cfg->trunk_register, cfg->trunk_register_expires) != 0)) {
        sip_ua_destroy(ua, 1000);
        return NULL;
    }
    return ua;
}

void sip_ua_destroy(sip_ua *ua, int timeout_ms)
{
    if (!ua)
        return;
    for (sip_leg *leg = ua->legs; leg; leg = leg->next)
        if (leg->state != LEG_ENDING)
            sip_leg_hangup(leg, 486);
    sip_register_stop(ua, timeout_ms / 2);
    nua_shutdown(ua->nua);
    su_time_t start = su_now();
    while (!ua->shutdown_done && su_duration(su_now(), start) < timeout_ms)
        su_root_step(ua->root, 50);
    /* MESSAGEs still unanswered: their owners hear of it and free them. */
    sip_pager_finish_all(ua);
    /* Legs nua did not finish in time (it terminates them on shutdown). */
    while (ua->legs) {
        if (!ua->legs->end_reason)
            ua->legs->end_reason = PROTO_END_ERROR;
        leg_finish(ua->legs);
    }
    if (ua->shutdown_done) {
        nua_destroy(ua->nua);
    } else {
        /* nua_destroy() aborts unless shutdown completed: leak it instead. */
        log_write(ua->log, RELAY_LOG_ERROR, "sip: nua shutdown did not complete in %d ms",
                  timeout_ms);
    }
    sip_auth_clear(ua);
    ua_free(ua);
}

void sip_leg_set_user(sip_leg *leg, void *user) { leg->user = user; }
void *sip_leg_get_user(const sip_leg *leg) { return leg->user; }

int sip_leg_ring(sip_leg *leg)
{
    if (!leg || leg->state != LEG_OFFERED)
        return -1;
    ladder(leg->ua, "sip -> 180 Ringing [%s]", leg->peer);
    nua_respond(leg->nh, SIP_180_RINGING, LEG_CONTACT(leg), TAG_END());
    return 0;
}

int sip_leg_answer(sip_leg *leg)
{
    if (!leg || leg->state != LEG_OFFERED)
        return -1;
    sip_ua *ua = leg->ua;
    leg->media = leg->reserved; /* taken at the INVITE */
    leg->reserved = NULL;
    if (!leg->media) {
        leg->end_reason = PROTO_END_ERROR;
        leg_reject(leg, 503);
        return -1;
    }
    char sdp[SIP_SDP_MAX];
    int no_codec = 0;
    const char *why = "";
    if (media_session_offer(leg->media, leg->offer, leg->offer_len, sdp, sizeof sdp, &no_codec,
                            &why) < 0) {
        log_write(ua->log, RELAY_LOG_WARN, "sip: cannot answer [%s]: %s", leg->peer, why);
        media_session_destroy(leg->media);
        leg->media = NULL;
        leg->end_reason = PROTO_END_ERROR;
        leg_reject(leg, no_codec ? 488 : 400);
        return -1;
    }
    char what[128];
    media_session_describe(leg->media, what, sizeof what);
    ladder(ua, "sip -> 200 OK (%s) [%s]", what, leg->peer);
    nua_respond(leg->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp), LEG_CONTACT(leg), TAG_END());
    leg->state = LEG_ANSWERED;
    return 0;
}

int sip_leg_hangup(sip_leg *leg, int status)
{
    if (!leg || leg->state == LEG_ENDING)
        return -1;
    if (!leg->end_reason)
        leg->end_reason = PROTO_END_HANGUP;
    if (leg->state == LEG_ANSWERED) {
        ladder(leg->ua, "sip -> BYE [%s]", leg->peer);
        nua_bye(leg->nh, TAG_END());
        leg->state = LEG_ENDING;
    } else if (leg->outbound) {
        ladder(leg->ua, "sip -> CANCEL [%s]", leg->peer);
        nua_cancel(leg->nh, TAG_END());
        leg->state = LEG_ENDING;
    } else {
        leg_reject(leg, status);
    }
    return 0;
}

int sip_leg_refer(sip_leg *leg, const char *target, const char *referred_by,
                  const char *username, const char *password, const char *headers)
{
    if (!leg || !target || leg->state != LEG_ANSWERED || leg->refer.active)
        return -1;
    refer_reset(leg);
    size_t tn = strlen(target);
    char *refer_to = malloc(tn + 3);
    char *by = NULL;
    if (!refer_to)
        return -1;
    snprintf(refer_to, tn + 3, "<%s>", target);
    if (referred_by && *referred_by) {
        size_t bn = strlen(referred_by) + 3;
        by = malloc(bn);
        if (!by) {
            free(refer_to);
            return -1;
        }
        /* name-addr form, so that URI parameters stay with the URI */
        snprintf(by, bn, referred_by[0] == '<' ? "%s" : "<%s>", referred_by);
    }
    if (username && password) {
        leg->refer.username = strdup(username);
        leg->refer.password = strdup(password);
    }
    leg->refer.active = 1;
    leg->refer.first = leg->refers_sent++ == 0;
    ladder(leg->ua, "sip -> REFER %s%s%s [%s]", refer_to, by ? " by " : "", by ? by : "", leg->peer);
    nua_refer(leg->nh, SIPTAG_REFER_TO_STR(refer_to), TAG_IF(by, SIPTAG_REFERRED_BY_STR(by)),
              TAG_IF(headers && *headers, SIPTAG_HEADER_STR(headers)), TAG_END());
    free(refer_to);
    free(by);
    return 0;
}

int sip_leg_hold(sip_leg *leg, int hold)
{
    if (!leg || leg->state != LEG_ANSWERED || leg->reinviting || !leg->media)
        return -1;
    char sdp[SIP_SDP_MAX];
    if (media_session_hold_offer(leg->media, hold, sdp, sizeof sdp) < 0)
        return -1;
    leg->reinviting = 1;
    ladder(leg->ua, "sip -> re-INVITE (%s) [%s]", hold ? "sendonly: hold" : "sendrecv: unhold",
           leg->peer);
    nua_invite(leg->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
               LEG_CONTACT(leg), TAG_END());
    return 0;
}

media_rtp *sip_leg_rtp(sip_leg *leg) { return leg ? media_session_rtp(leg->media) : NULL; }
media_session *sip_leg_media(sip_leg *leg) { return leg ? leg->media : NULL; }
int sip_leg_replaces_query(sip_leg *leg, char *buf, size_t size)
{
    if (!leg || !leg->nh || leg->state != LEG_ANSWERED || !leg->established)
        return -1;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    /* nua knows the dialog: Call-ID, from-tag = our tag, to-tag = the far
     * end's, as the target (that far end) matches them (RFC 3891 3) */
    sip_replaces_t *rp = nua_handle_make_replaces(leg->nh, home, 0);
    char *value = rp ? sip_header_as_string(home, (sip_header_t *)rp) : NULL;
    /* escaped as a URI header value (RFC 3261 25.1: hvalue): every
     * delimiter, '@' and ';' '=' of the parameters included. Three bytes
     * at most per byte. */
    static const char prefix[] = "Replaces=";
    int rc = -1;
    if (value && sizeof prefix - 1 + 3 * strlen(value) < size) {
        memcpy(buf, prefix, sizeof prefix - 1);
        url_escape(buf + sizeof prefix - 1, value, ";/?:@&=+$,[]");
        rc = 0;
    }
    su_home_deinit(home);
    return rc;
}

const char *sip_leg_local_uri(const sip_leg *leg) { return leg->local_uri; }
const char *sip_leg_remote_uri(const sip_leg *leg) { return leg->remote_uri; }
