/*
 * Everything the server sends, routed (dispatch.c).
 */
#ifndef RELAY_CLIENT_DISPATCH_H
#define RELAY_CLIENT_DISPATCH_H

#include <relay/relay.h>

#include <jansson.h>

/* dispatch.c [io] */
/* Handles one complete text frame from the server. */
void lr_dispatch_frame(relay_client *c, const char *text, size_t len);
/* Parses signalwire.event params into ev (strings borrowed from params);
 * *inner gets the nested params object. Exposed for tests. */
int lr_dispatch_parse_event(json_t *params, relay_event *ev, json_t **inner);
/* Types a calling.call.refer params object (strings borrowed). */
void lr_dispatch_refer_event(json_t *params, relay_refer_event *ev);

#endif
