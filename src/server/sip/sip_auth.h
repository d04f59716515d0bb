/*
 * Digest credentials for the trunk: relayd answers a 401/407 from the
 * trunk (to an INVITE, MESSAGE or REGISTER sent there) with sofia's own
 * digest (nua_authenticate with NUTAG_AUTH); nothing here computes a hash.
 * The password is never logged, and is wiped when the UA goes away.
 */
#ifndef RELAYD_SIP_AUTH_H
#define RELAYD_SIP_AUTH_H

#include "sip/sip_ua_internal.h"

/* Keeps copies of the credentials in ua (username and password both, or
 * none; realm may be NULL: any). 0, or -1 when out of memory. */
int sip_auth_set(sip_ua *ua, const char *username, const char *password, const char *realm);
/* Wipes and frees them. */
void sip_auth_clear(sip_ua *ua);
/* Answers the challenge in sip (a 401 or 407) on nh. 0 if the request is
 * on its way again with credentials; -1 with *why (no credentials, no
 * digest challenge, another realm than phone_trunk_realm), and then nh's
 * request is given up (nua holds a challenged request until told). realm
 * receives the challenge's realm for the ladder. */
int sip_auth_answer(sip_ua *ua, nua_handle_t *nh, const sip_t *sip, char *realm, size_t n,
                    const char **why);

#endif
