/*
 * relay_message (messaging.c): messages sent with
 * relay_client_send_message, tracked by message_id, and inbound messages
 * for relay_client_on_message. A message is not an action: it has no call
 * and no control_id, and its id is the server's, known only from the
 * answer to messaging.send. So the answer's hook (on the I/O thread,
 * before any later frame is read) puts it in the client's message map,
 * and messaging.state events find it there.
 */
#ifndef RELAY_CLIENT_MESSAGING_H
#define RELAY_CLIENT_MESSAGING_H

#include <jansson.h>

#include <relay/relay.h>

/* Messages followed at once; past it a send is answered but not followed
 * (its wait gives RELAY_ERR_LIMIT): a server that never reports a final
 * state cannot grow the map without bound. */
#define LR_MAX_TRACKED_MESSAGES 1000

/* [io] A messaging.state event's params. */
void lr_messaging_on_state(relay_client *c, json_t *params);
/* [io] A messaging.receive event's params: to the on_message handler. */
void lr_messaging_on_receive(relay_client *c, json_t *params);
/* [io] The session is gone (a new one, or the client closing): every
 * followed message completes with st. */
void lr_messaging_forget(relay_client *c, relay_status st);

#endif
