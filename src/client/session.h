/*
 * The connection's life and the RELAY session on it (session.c).
 */
#ifndef RELAY_CLIENT_SESSION_H
#define RELAY_CLIENT_SESSION_H

#include <relay/relay.h>

#include <stdint.h>

/* session.c [io]: the connection's life (attempts, backoff, closing) and
 * the RELAY session on top of it. */
void lr_session_connect(relay_client *c);
void lr_session_close(relay_client *c, int flush_first);
/* Ends the I/O thread's life: refuses new messages, fails everything still
 * waiting with RELAY_ERR_CLOSED. */
void lr_session_teardown(relay_client *c);
void lr_session_on_open(relay_client *c);
void lr_session_on_transport_down(relay_client *c, const char *why);
void lr_session_on_authorization_state(relay_client *c, const char *state);
void lr_session_on_disconnect_request(relay_client *c, int restart);
void lr_session_start_pings(relay_client *c);
/* A seed for the client's backoff jitter (any thread, at creation). */
uint64_t lr_jitter_seed(const relay_client *c);
/* [io] A request (ping or any other) got no answer in time on this
 * connection: three in a row force a reconnect (a half-open socket). */
void lr_session_on_request_timeout(relay_client *c);
/* [io] Any answer: the peer is alive. */
void lr_session_on_answer(relay_client *c);

/* Drops every call and action: the server forgot this session. */
void lr_session_forget_calls(relay_client *c, relay_status st);

#endif
