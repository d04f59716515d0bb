#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg

#include "sip/sip_register.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>

#include "sip/sip_auth.h"

#define BACKOFF_FIRST_S 2
#define BACKOFF_MAX_S 120

struct sip_reg {
    nua_handle_t *nh;   /* the current attempt's handle; NULL between attempts */
    su_timer_t *retry;
    char *registrar;
    char *aor;          /* To and From: sip:user@registrar-host */
    char *user;         /* Contact user: what the trunk's INVITEs are for */
    int expires;
    int backoff_s;
    int auth_tried;     /* this attempt answered a challenge already */
    int registered;
    int unregistering;
    int done;           /* the un-REGISTER was answered */
};

static void report(sip_ua *ua, int registered, int status)
{
    ua->reg->registered = registered;
    if (ua->cb.on_registration)
        ua->cb.on_registration(ua->cb.user, registered, status);
}

static void attempt(sip_ua *ua)
{
    sip_reg *r = ua->reg;
    char expires[16];
    snprintf(expires, sizeof expires, "%d", r->expires);
    r->auth_tried = 0;
    r->nh = nua_handle(ua->nua, NULL, SIPTAG_TO_STR(r->aor), SIPTAG_FROM_STR(r->aor), TAG_END());
    if (!r->nh) {
        log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot create the REGISTER handle");
        return;
    }
    ladder(ua, "sip -> REGISTER %s as %s (expires %s)", r->registrar, r->aor, expires);
    nua_register(r->nh, NUTAG_REGISTRAR(r->registrar), NUTAG_M_USERNAME(r->user),
                 SIPTAG_EXPIRES_STR(expires), TAG_END());
}

static void retry_fire(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    sip_ua *ua = (sip_ua *)arg;
    if (ua->reg && !ua->reg->nh && !ua->reg->unregistering)
        attempt(ua);
}

static void fail_attempt(sip_ua *ua, int status, const char *phrase, const char *why)
{
    sip_reg *r = ua->reg;
    if (r->nh) {
        nua_handle_destroy(r->nh);
        r->nh = NULL;
    }
    r->backoff_s = r->backoff_s ? r->backoff_s * 2 : BACKOFF_FIRST_S;
    if (r->backoff_s > BACKOFF_MAX_S)
        r->backoff_s = BACKOFF_MAX_S;
    log_write(ua->log, RELAY_LOG_WARN,
              "sip: registration with %s failed: %d %s%s%s; trying again in %d s", r->registrar,
              status, phrase ? phrase : "", why ? ": " : "", why ? why : "", r->backoff_s);
    report(ua, 0, status);
    if (su_timer_set_interval(r->retry, retry_fire, (su_timer_arg_t *)ua,
                              (su_duration_t)r->backoff_s * 1000) != 0)
        log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot arm the registration retry");
}

int sip_register_start(sip_ua *ua, const char *registrar, int expires)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *url = url_hdup(home, (const url_t *)registrar);
    sip_reg *r = calloc(1, sizeof *r);
    const char *user = ua->auth_user ? ua->auth_user : "relayd";
    int rc = -1;
    if (r && url && url->url_host) {
        url->url_user = user;
        url->url_password = NULL;
        url->url_params = NULL;
        url->url_headers = NULL;
        char *aor = url_as_string(home, url);
        r->registrar = strdup(registrar);
        r->user = strdup(user);
        r->aor = aor ? malloc(strlen(aor) + 3) : NULL;
        if (r->aor)
            sprintf(r->aor, "<%s>", aor);
        r->retry = su_timer_create(su_root_task(ua->root), 0);
        rc = r->registrar && r->user && r->aor && r->retry ? 0 : -1;
    }
    su_home_deinit(home);
    if (rc != 0) {
        log_write(ua->log, RELAY_LOG_ERROR, "sip: cannot register with %s", registrar);
        if (r) {
            if (r->retry)
                su_timer_destroy(r->retry);
            free(r->registrar);
            free(r->user);
            free(r->aor);
            free(r);
        }
        return -1;
    }
    r->expires = expires;
    ua->reg = r;
    attempt(ua);
    return 0;
}

int sip_register_owns(const sip_ua *ua, const nua_handle_t *nh)
{
    return ua->reg && nh && ua->reg->nh == nh;
}

/* The Expires the registrar granted: our Contact's, else the header's. */
static long granted(const sip_t *sip)
{
    if (sip && sip->sip_contact && sip->sip_contact->m_expires)
        return strtol(sip->sip_contact->m_expires, NULL, 10);
    if (sip && sip->sip_expires)
        return (long)sip->sip_expires->ex_delta;
    return -1;
}

void sip_register_on_response(sip_ua *ua, nua_event_t event, int status, const char *phrase,
                              const sip_t *sip)
{
    sip_reg *r = ua->reg;
    if (status < 200)
        return;
    ladder(ua, "sip <- %d %s (%s)%s [%s]", status, phrase ? phrase : "",
           event == nua_r_unregister ? "un-REGISTER" : "REGISTER", sip ? "" : " local",
           r->registrar);
    if (event == nua_r_unregister) {
        if (status == 401 || status == 407) {
            char realm[128];
            const char *why;
            if (!r->auth_tried && sip_auth_answer(ua, r->nh, sip, realm, sizeof realm, &why) == 0) {
                r->auth_tried = 1;
                return;
            }
        }
        r->done = 1;
        report(ua, 0, status);
        return;
    }
    if (status == 401 || status == 407) {
        char realm[128];
        const char *why = "the registrar refused the credentials";
        if (!r->auth_tried && sip_auth_answer(ua, r->nh, sip, realm, sizeof realm, &why) == 0) {
            r->auth_tried = 1;
            ladder(ua, "sip -> REGISTER (with credentials for %s) [%s]", realm, r->registrar);
            return;
        }
        if (r->auth_tried)
            nua_authenticate(r->nh, TAG_END());
        fail_attempt(ua, status, phrase, why);
        return;
    }
    if (status >= 300) {
        fail_attempt(ua, status, phrase, NULL);
        return;
    }
    r->backoff_s = 0;
    r->auth_tried = 0; /* nua answers the refreshes' challenges from its cache */
    long g = granted(sip);
    if (!r->registered || g == 0)
        log_write(ua->log, RELAY_LOG_INFO, "sip: registered with %s as %s for %ld s",
                  r->registrar, r->aor, g);
    report(ua, g != 0, status);
}

void sip_register_stop(sip_ua *ua, int timeout_ms)
{
    sip_reg *r = ua->reg;
    if (!r)
        return;
    su_timer_destroy(r->retry);
    r->retry = NULL;
    if (r->nh && r->registered) {
        r->unregistering = 1;
        r->auth_tried = 0;
        ladder(ua, "sip -> REGISTER %s (expires 0: unregister)", r->registrar);
        nua_unregister(r->nh, TAG_END());
        su_time_t start = su_now();
        while (!r->done && su_duration(su_now(), start) < timeout_ms)
            su_root_step(ua->root, 50);
        if (!r->done)
            log_write(ua->log, RELAY_LOG_WARN, "sip: no answer to the un-REGISTER from %s",
                      r->registrar);
    }
    if (r->nh)
        nua_handle_destroy(r->nh);
    free(r->registrar);
    free(r->user);
    free(r->aor);
    free(r);
    ua->reg = NULL;
}
