/*
 * REFERs from the far end (RFC 3515). nua hands them to us unanswered
 * (NUTAG_APPL_METHOD "REFER") so that a second one while the first awaits
 * the client can be refused with 491 (RFC 3515 2.4.7 allows a UA to
 * refuse a REFER it cannot take). The first is accepted with 202 and
 * reported to the core; the core's answer, or refer_timeout_ms without
 * one, ends the implied subscription with one final NOTIFY.
 *
 * What the far end wrote goes into JSON events: each value is bounded
 * (SIP_REFER_IN_MAX) and kept to printable ASCII, other bytes %-escaped,
 * so that jansson (UTF-8 only) never refuses it and no control byte
 * reaches a log line.
 */
#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg
#define SU_TIMER_ARG_T struct sip_leg

#include "sip/sip_ua.h"
#include "sip/sip_ua_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

void sip_refer_in_clear(sip_leg *leg)
{
    leg_inrefer *in = &leg->inrefer;
    if (in->timer)
        su_timer_destroy(in->timer);
    free(in->refer_to);
    free(in->referred_by);
    free(in->replaces);
    memset(in, 0, sizeof *in);
}

/* A copy of s with every byte outside printable ASCII %-escaped; NULL if
 * that is longer than SIP_REFER_IN_MAX (or out of memory). */
static char *printable(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p > 0x20 && *p < 0x7f) ? 1 : 3;
    if (n > SIP_REFER_IN_MAX)
        return NULL;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p > 0x20 && *p < 0x7f)
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

static char *url_printable(const url_t *url)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *text = url ? url_as_string(home, url) : NULL;
    char *out = text ? printable(text) : NULL;
    su_home_deinit(home);
    return out;
}

/* The Replaces header part of the Refer-To URI (RFC 5589 7), unescaped;
 * NULL if it has none. */
static char *replaces_of(const url_t *url)
{
    if (!url || !url->url_headers)
        return NULL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *out = NULL;
    char *value = url_query_as_header_string(home, url->url_headers);
    /* one header per line: the Replaces one */
    for (char *line = value; line && *line && !out;) {
        char *end = strstr(line, "\r\n");
        if (end)
            *end = '\0';
        if (strncasecmp(line, "Replaces:", 9) == 0) {
            line += 9;
            line += strspn(line, " \t");
            out = printable(line);
        }
        line = end ? end + 2 : NULL;
    }
    su_home_deinit(home);
    return out;
}

static const sip_inbound_refer *pending_info(sip_leg *leg, sip_inbound_refer *r, int expired)
{
    r->expired = expired;
    r->refer_to = leg->inrefer.refer_to;
    r->referred_by = leg->inrefer.referred_by;
    r->replaces = leg->inrefer.replaces;
    return r;
}

static void notify_final(sip_leg *leg, int status, const char *phrase)
{
    char frag[128];
    snprintf(frag, sizeof frag, "SIP/2.0 %d %s\r\n", status, phrase);
    ladder(leg->ua, "sip -> NOTIFY %s %d %s (terminated) [%s]", leg->inrefer.event, status, phrase,
           leg->peer);
    nua_notify(leg->nh, SIPTAG_EVENT_STR(leg->inrefer.event),
               NUTAG_SUBSTATE(nua_substate_terminated),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"), SIPTAG_PAYLOAD_STR(frag),
               TAG_END());
}

static void inrefer_timeout(su_root_magic_t *magic, su_timer_t *t, sip_leg *leg)
{
    (void)magic;
    (void)t;
    if (!leg->inrefer.pending)
        return;
    log_write(leg->ua->log, RELAY_LOG_WARN,
              "sip: REFER from [%s] not answered by the client in %d ms: declined", leg->peer,
              leg->ua->refer_timeout_ms);
    notify_final(leg, 480, "Temporarily Unavailable");
    sip_inbound_refer r;
    if (leg->owned && leg->ua->cb.on_inbound_refer)
        leg->ua->cb.on_inbound_refer(leg->ua->cb.user, leg, pending_info(leg, &r, 1));
    sip_refer_in_clear(leg);
}

static void respond(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, int status, const char *phrase)
{
    ladder(ua, "sip -> %d %s (REFER) [%s]", status, phrase, leg ? leg->peer : "?");
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(ua->nua), TAG_END());
}

/* Takes the REFER as the leg's pending one: 0, or the status to refuse it. */
static int take(sip_ua *ua, sip_leg *leg, const sip_t *sip, tagi_t tags[])
{
    sip_event_t const *ev = NULL;
    sip_referred_by_t const *by = NULL;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(ev), SIPTAG_REFERRED_BY_REF(by), TAG_END());
    leg_inrefer *in = &leg->inrefer;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *event = ev ? sip_header_as_string(home, (sip_header_t const *)ev) : NULL;
    int ok = event && strlen(event) < sizeof in->event;
    if (ok)
        snprintf(in->event, sizeof in->event, "%s", event);
    su_home_deinit(home);
    if (!ok)
        return 500;
    const url_t *to = sip->sip_refer_to->r_url;
    in->refer_to = url_printable(to);
    in->referred_by = url_printable(by ? by->b_url : sip->sip_from->a_url);
    in->replaces = replaces_of(to);
    if (!in->refer_to || !in->referred_by) {
        log_write(ua->log, RELAY_LOG_WARN,
                  "sip: REFER from [%s]: Refer-To or Referred-By over %d characters", leg->peer,
                  SIP_REFER_IN_MAX);
        sip_refer_in_clear(leg);
        return 400;
    }
    sip_inbound_refer r;
    int status = ua->cb.on_inbound_refer
                     ? ua->cb.on_inbound_refer(ua->cb.user, leg, pending_info(leg, &r, 0))
                     : 403;
    if (status != 0) {
        sip_refer_in_clear(leg);
        return status;
    }
    in->pending = 1;
    if (ua->refer_timeout_ms > 0) {
        in->timer = su_timer_create(su_root_task(ua->root), ua->refer_timeout_ms);
        if (!in->timer || su_timer_set(in->timer, inrefer_timeout, leg) < 0)
            log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot arm the inbound REFER timeout");
    }
    return 0;
}

void sip_refer_in_on_request(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip,
                             tagi_t tags[])
{
    if (!sip || !sip->sip_refer_to) {
        respond(ua, nh, leg, 400, "Missing Refer-To");
    } else if (!leg || !leg->owned || leg->state != LEG_ANSWERED) {
        ladder(ua, "sip <- REFER outside an answered call [%s]", leg ? leg->peer : "?");
        respond(ua, nh, leg, SIP_403_FORBIDDEN);
    } else if (leg->inrefer.pending) {
        log_write(ua->log, RELAY_LOG_WARN,
                  "sip: REFER from [%s] while another awaits the client's answer: 491",
                  leg->peer);
        respond(ua, nh, leg, SIP_491_REQUEST_PENDING);
    } else {
        ladder(ua, "sip <- REFER [%s]", leg->peer);
        int status = take(ua, leg, sip, tags);
        if (status == 0)
            respond(ua, nh, leg, SIP_202_ACCEPTED);
        else
            respond(ua, nh, leg, status, status == 400   ? "Bad Refer-To or Referred-By"
                                         : status == 500 ? "Internal Server Error"
                                                         : "Forbidden");
    }
    if (!leg && nh) /* outside any dialog: the handle is nobody's */
        nua_handle_destroy(nh);
}

const sip_inbound_refer *sip_leg_pending_refer(sip_leg *leg)
{
    static sip_inbound_refer r; /* core thread only, like all of the UA */
    return leg && leg->inrefer.pending ? pending_info(leg, &r, 0) : NULL;
}

int sip_leg_refer_answer(sip_leg *leg, int status, const char *phrase)
{
    if (!leg || !leg->inrefer.pending || leg->state != LEG_ANSWERED)
        return -1;
    notify_final(leg, status, phrase ? phrase : "");
    sip_refer_in_clear(leg);
    return 0;
}
