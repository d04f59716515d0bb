/* Which client gets an inbound call: round-robin among the attached
 * sessions subscribed to the call's context. Core thread. */
#ifndef RELAYD_ROUTER_H
#define RELAYD_ROUTER_H

#include "relayd.h"

/* Sessions for which keep(s, arg) is 0 are skipped. */
typedef int (*router_filter)(const session *s, void *arg);

session *router_pick(relayd *rd, const char *context);
/* As router_pick, among the sessions keep() accepts (keep may be NULL). */
session *router_pick_filtered(relayd *rd, const char *context, router_filter keep, void *arg);

#endif
