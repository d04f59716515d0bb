/*
 * MESSAGE (RFC 3428) outside dialogs, both ways (sip_pager.h).
 *
 * Outbound: each MESSAGE gets its own nua handle, never bound to a magic
 * (handles carry sip_leg magic, and a page is not a leg): its answer is
 * found by handle in ua->pages, a short list bounded by the callers'
 * limits (messaging/send.c). The page is freed right after its done
 * callback, which runs exactly once: on the final answer, or from
 * sip_pager_finish_all when the UA goes away first. A timeout is nua's
 * own (timer F, 32 s): a local 408.
 *
 * Inbound: nua hands MESSAGE to us because sip_ua_create lists it in
 * NUTAG_APPL_METHOD; the core decides the status at once (on_message), so
 * the answer goes out from inside the event and the handle is let go.
 */
#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg

#include "sip/sip_pager.h"
#include "sip/sip_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

struct sip_page {
    sip_page *next, **pprev;
    nua_handle_t *nh;
    sip_message_done_fn done;
    void *user;
    int trunk;      /* a challenge is answered with the trunk's credentials */
    int auth_tried; /* ... once */
    char to[64];    /* for the ladder only */
};

static void page_finish(sip_page *pg, int status, const char *phrase, int local)
{
    if ((*pg->pprev = pg->next))
        pg->next->pprev = pg->pprev;
    nua_handle_destroy(pg->nh);
    sip_message_done_fn done = pg->done;
    void *user = pg->user;
    free(pg);
    done(user, status, phrase ? phrase : "", local);
}

/* From for a MESSAGE sent with from_user: that user at relayd's own
 * address (a phone number as sender when there is no trunk to name). */
static char *own_address_with_user(sip_ua *ua, const char *user)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *url = url_hdup(home, (const url_t *)ua->bind_url);
    char *out = NULL;
    if (url) {
        url->url_user = user;
        url->url_params = NULL; /* transport=... belongs to the listener, not the sender */
        char *s = url_as_string(home, url);
        if (s && (out = malloc(strlen(s) + 3)))
            sprintf(out, "<%s>", s);
    }
    su_home_deinit(home);
    return out;
}

int sip_ua_message(sip_ua *ua, const sip_message_params *p, sip_message_done_fn done, void *user)
{
    if (!ua || !p || !p->to || !done || (!p->body && p->body_len))
        return -1;
    sip_page *pg = calloc(1, sizeof *pg);
    size_t tn = strlen(p->to) + 3;
    char *to_hdr = malloc(tn);
    char *from_hdr = NULL;
    if (p->from && (from_hdr = malloc(strlen(p->from) + 3)))
        sprintf(from_hdr, "<%s>", p->from);
    else if (!p->from && p->from_user)
        from_hdr = own_address_with_user(ua, p->from_user);
    int want_from = p->from || p->from_user;
    if (!pg || !to_hdr || (want_from && !from_hdr)) {
        free(pg);
        free(to_hdr);
        free(from_hdr);
        return -1;
    }
    snprintf(to_hdr, tn, "<%s>", p->to);
    pg->nh = nua_handle(ua->nua, NULL, SIPTAG_TO_STR(to_hdr),
                        TAG_IF(from_hdr, SIPTAG_FROM_STR(from_hdr)), TAG_END());
    if (!pg->nh) {
        free(pg);
        free(to_hdr);
        free(from_hdr);
        return -1;
    }
    pg->done = done;
    pg->user = user;
    pg->trunk = p->trunk;
    snprintf(pg->to, sizeof pg->to, "%s", p->to);
    if ((pg->next = ua->pages))
        ua->pages->pprev = &pg->next;
    ua->pages = pg;
    pg->pprev = &ua->pages;
    /* The body is never logged: it is the user's message. */
    ladder(ua, "sip -> MESSAGE %s from %s (%zu bytes)", to_hdr, from_hdr ? from_hdr : "relayd",
           p->body_len);
    /* SIPTAG_PAYLOAD (not _STR): the length is the caller's, so the body is
     * sent as given. */
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_payload_t *pl = sip_payload_create(home, p->body, (isize_t)p->body_len);
    nua_message(pg->nh,
                SIPTAG_CONTENT_TYPE_STR(p->content_type ? p->content_type
                                                        : "text/plain;charset=UTF-8"),
                TAG_IF(pl, SIPTAG_PAYLOAD(pl)), TAG_END());
    su_home_deinit(home); /* nua copied the payload into its request */
    free(to_hdr);
    free(from_hdr);
    return 0;
}

void sip_pager_on_response(sip_ua *ua, nua_handle_t *nh, int status, const char *phrase,
                           const sip_t *sip)
{
    if (status < 200)
        return;
    sip_page *pg = ua->pages;
    while (pg && pg->nh != nh)
        pg = pg->next;
    if (!pg)
        return; /* finished already (shutdown) */
    ladder(ua, "sip <- %d %s (MESSAGE)%s [%s]", status, phrase ? phrase : "", sip ? "" : " local",
           pg->to);
    if (status == 401 || status == 407) {
        char realm[128];
        const char *why = "the trunk refused the credentials";
        if (!pg->trunk) {
            why = "only the trunk's challenges are answered";
            nua_authenticate(nh, TAG_END());
        } else if (!pg->auth_tried &&
                   sip_auth_answer(ua, nh, sip, realm, sizeof realm, &why) == 0) {
            pg->auth_tried = 1;
            ladder(ua, "sip -> MESSAGE (with credentials for %s) [%s]", realm, pg->to);
            return;
        } else if (pg->auth_tried) {
            nua_authenticate(nh, TAG_END());
        }
        log_write(ua->log, RELAY_LOG_WARN, "sip: MESSAGE to [%s] failed: %d: %s", pg->to, status,
                  why);
    }
    page_finish(pg, status, phrase, sip == NULL);
}

void sip_pager_finish_all(sip_ua *ua)
{
    while (ua->pages)
        page_finish(ua->pages, 503, "relayd is shutting down", 1);
}

/* ------------------------------------------------------------- inbound */

static char *url_text(su_home_t *home, const url_t *url)
{
    char *s = url ? url_as_string(home, url) : NULL;
    return s ? s : "";
}

void sip_pager_on_request(sip_ua *ua, nua_handle_t *nh, const sip_t *sip)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    int status = 405;
    const url_t *ruri = sip && sip->sip_request ? sip->sip_request->rq_url : NULL;
    const char *from = url_text(home, sip && sip->sip_from ? sip->sip_from->a_url : NULL);
    ladder(ua, "sip <- MESSAGE %s from %s (%u bytes)", url_text(home, ruri), from,
           sip && sip->sip_payload ? (unsigned)sip->sip_payload->pl_len : 0u);
    if (sip && ua->cb.on_message) {
        size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
        /* NUL-terminated for the core; nua's payload need not be */
        char *body = su_alloc(home, len + 1);
        if (body) {
            if (len)
                memcpy(body, sip->sip_payload->pl_data, len);
            body[len] = '\0';
            sip_message_info info = {
                .request_user = ruri && ruri->url_user ? ruri->url_user : "",
                .request_uri = url_text(home, ruri),
                .from_uri = from,
                .to_uri = url_text(home, sip->sip_to ? sip->sip_to->a_url : NULL),
                .content_type = sip->sip_content_type && sip->sip_content_type->c_type
                                    ? sip->sip_content_type->c_type
                                    : "",
                .body = body,
                .body_len = len,
            };
            status = ua->cb.on_message(ua->cb.user, &info);
        } else {
            status = 500;
        }
    }
    if (status < 200 || status > 699)
        status = 500;
    const char *phrase = sip_status_phrase(status);
    ladder(ua, "sip -> %d %s (MESSAGE)", status, phrase ? phrase : "");
    nua_respond(nh, status, phrase ? phrase : "Rejected", NUTAG_WITH_THIS(ua->nua), TAG_END());
    nua_handle_destroy(nh);
    su_home_deinit(home);
}
