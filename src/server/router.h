/* Which client gets an inbound call: round-robin among the attached
 * sessions subscribed to the call's context. Core thread. */
#ifndef RELAYD_ROUTER_H
#define RELAYD_ROUTER_H

#include "relayd.h"

session *router_pick(relayd *rd, const char *context);

#endif
