/*
 * The one way an event about a call leaves relayd: to the session the call
 * is offered to, and, when the operation has a status_url, as the same
 * event POSTed to that URL (webhook.c delivers it off the core thread).
 */
#ifndef RELAYD_CALLING_EMIT_H
#define RELAYD_CALLING_EMIT_H

#include <jansson.h>

#include "common/protocol.h"
#include "relayd.h"

/* Adds call_id and node_id to params (stolen), sends
 * {event_type, timestamp, params} to the call's owner (if any) and POSTs
 * it to status_url (if not NULL). */
void call_emit(relayd *rd, call *c, proto_event ev, json_t *params, const char *status_url);

#endif
