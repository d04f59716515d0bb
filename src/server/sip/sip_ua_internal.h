/*
 * The UA's insides, shared by the files that make up the UA (sip_ua.c: the
 * dialogs; sip_pager.c: MESSAGE outside dialogs). Nothing else includes
 * this. Include it after defining NUA_MAGIC_T / NUA_HMAGIC_T as sip_ua.c
 * does, so that every file sees nua's callback with the same types.
 */
#ifndef RELAYD_SIP_UA_INTERNAL_H
#define RELAYD_SIP_UA_INTERNAL_H

#include <sofia-sip/nua.h>

#include "sip/sip_ua.h"

typedef struct sip_page sip_page;
typedef struct sip_reg sip_reg;

struct sip_ua {
    su_root_t *root;
    nua_t *nua;
    const log_sink *log;
    sip_ua_callbacks cb;
    media_engine *media;
    char *media_ip;
    char *bind_url;         /* relayd's own URI: From of calls placed without one */
    int rtp_min, rtp_max;
    int refer_timeout_ms;
    sip_leg *legs;
    sip_page *pages;        /* MESSAGEs we sent that await their answer */
    char *auth_user, *auth_pass, *auth_realm; /* the trunk's (sip_auth.h) */
    sip_reg *reg;           /* registration with the trunk, or NULL */
    int shutdown_done;
};

#define ladder(ua, ...) log_write((ua)->log, RELAY_LOG_INFO, __VA_ARGS__)

#endif
