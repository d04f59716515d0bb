/*
 * Registration with the trunk's registrar (phone_trunk_register): one
 * REGISTER binding relayd's SIP address under the trunk user, made at
 * start, refreshed by nua before it expires, made again with backoff
 * (2 s doubling to 2 min) after a failure, and removed (Expires: 0) when
 * the UA shuts down. A challenge is answered with the trunk's credentials
 * once per attempt (sip_auth.h); a second one fails the attempt.
 */
#ifndef RELAYD_SIP_REGISTER_H
#define RELAYD_SIP_REGISTER_H

#include "sip/sip_ua_internal.h"

/* Starts registering with registrar (a SIP URI) for expires seconds. 0, or
 * -1 (logged) when the URI is unusable or out of memory. */
int sip_register_start(sip_ua *ua, const char *registrar, int expires);
/* Whether nh is the registration's handle. */
int sip_register_owns(const sip_ua *ua, const nua_handle_t *nh);
/* nua_r_register / nua_r_unregister on the registration's handle. */
void sip_register_on_response(sip_ua *ua, nua_event_t event, int status, const char *phrase,
                              const sip_t *sip);
/* Un-REGISTERs if registered and runs the root until the answer comes or
 * timeout_ms passes; then frees the registration. */
void sip_register_stop(sip_ua *ua, int timeout_ms);

#endif
