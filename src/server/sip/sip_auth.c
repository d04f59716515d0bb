#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_leg

#include "sip/sip_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

int sip_auth_set(sip_ua *ua, const char *username, const char *password, const char *realm)
{
    sip_auth_clear(ua);
    if (!username || !password)
        return 0;
    ua->auth_user = strdup(username);
    ua->auth_pass = strdup(password);
    ua->auth_realm = realm ? strdup(realm) : NULL;
    if (!ua->auth_user || !ua->auth_pass || (realm && !ua->auth_realm)) {
        sip_auth_clear(ua);
        return -1;
    }
    return 0;
}

void sip_auth_clear(sip_ua *ua)
{
    free(ua->auth_user);
    wipe_free(ua->auth_pass);
    free(ua->auth_realm);
    ua->auth_user = ua->auth_pass = ua->auth_realm = NULL;
}

static int answer(sip_ua *ua, nua_handle_t *nh, const sip_t *sip, char *realm_out, size_t n,
                  const char **why)
{
    if (!ua->auth_user) {
        *why = "no phone_trunk credentials configured";
        return -1;
    }
    const msg_auth_t *au = sip ? (sip->sip_www_authenticate ? sip->sip_www_authenticate
                                                            : sip->sip_proxy_authenticate)
                               : NULL;
    if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0) {
        *why = "not a digest challenge";
        return -1;
    }
    const char *realm = msg_params_find(au->au_params, "realm=");
    if (!realm) {
        *why = "the challenge names no realm";
        return -1;
    }
    size_t rl = strlen(realm);
    const char *bare = realm;
    if (rl >= 2 && realm[0] == '"' && realm[rl - 1] == '"') {
        bare = realm + 1;
        rl -= 2;
    }
    snprintf(realm_out, n, "%.*s", (int)rl, bare);
    if (ua->auth_realm && (strlen(ua->auth_realm) != rl || strncmp(ua->auth_realm, bare, rl) != 0)) {
        *why = "the challenge is for another realm than phone_trunk_realm";
        return -1;
    }
    /* "Digest:\"realm\":user:password", as nua_authenticate takes it */
    size_t len = strlen(au->au_scheme) + rl + strlen(ua->auth_user) + strlen(ua->auth_pass) + 8;
    char *cred = malloc(len);
    if (!cred) {
        *why = "out of memory";
        return -1;
    }
    snprintf(cred, len, "%s:\"%.*s\":%s:%s", au->au_scheme, (int)rl, bare, ua->auth_user,
             ua->auth_pass);
    nua_authenticate(nh, NUTAG_AUTH(cred), TAG_END());
    OPENSSL_cleanse(cred, len);
    free(cred);
    return 0;
}

int sip_auth_answer(sip_ua *ua, nua_handle_t *nh, const sip_t *sip, char *realm, size_t n,
                    const char **why)
{
    if (n)
        realm[0] = '\0';
    if (answer(ua, nh, sip, realm, n, why) == 0)
        return 0;
    /* without credentials nua gives the challenged request up */
    nua_authenticate(nh, TAG_END());
    return -1;
}
