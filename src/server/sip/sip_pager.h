/*
 * MESSAGE (RFC 3428) outside dialogs: the pager half of the UA. sip_ua.c
 * hands it nua's MESSAGE events; sip_ua_message() (sip_ua.h) is its API.
 * Internal to the UA: include after sip_ua_internal.h's prerequisites.
 */
#ifndef RELAYD_SIP_PAGER_H
#define RELAYD_SIP_PAGER_H

#include "sip/sip_ua_internal.h"

/* nua_r_message: the answer to a MESSAGE we sent (provisional ones ignored). */
void sip_pager_on_response(sip_ua *ua, nua_handle_t *nh, int status, const char *phrase,
                           const sip_t *sip);
/* nua_i_message: asks the core (on_message) and answers; lets go of nh. */
void sip_pager_on_request(sip_ua *ua, nua_handle_t *nh, const sip_t *sip);
/* sip_ua_destroy: every MESSAGE still unanswered ends as local 503. */
void sip_pager_finish_all(sip_ua *ua);

#endif
