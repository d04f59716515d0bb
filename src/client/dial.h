/*
 * relay_client_dial's waiting room: a dial has no call until it is
 * decided, so its outcome (calling.call.dial) is matched by tag to the
 * thread waiting for it. The list is under the client's dial_lock: the
 * waiting thread registers and leaves, the I/O thread delivers.
 */
#ifndef RELAY_CLIENT_DIAL_H
#define RELAY_CLIENT_DIAL_H

#include <jansson.h>

typedef struct relay_client relay_client;
typedef struct lr_dial_wait lr_dial_wait;

/* [io] A calling.call.dial event's params: wakes the dial with its tag. An
 * answered dial's winner joins the client's calls (made from the event's
 * `call` when no event announced it); a winner nobody waits for any more
 * (the waiter timed out) is hung up. */
void lr_dial_on_event(relay_client *c, json_t *params);
/* relay_client_free: frees the waiters left by timed-out dials. */
void lr_dial_free_all(relay_client *c);

#endif
