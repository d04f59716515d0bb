/*
 * Incoming frames on the core thread: JSON-RPC parsing, the session gate
 * (nothing but signalwire.connect before a session exists), and dispatch of
 * requests to method handlers. Every bad frame gets a JSON-RPC error that
 * says what was wrong, and the connection keeps being served.
 */
#ifndef RELAYD_RPC_H
#define RELAYD_RPC_H

#include <jansson.h>

#include "relayd.h"
#include "session.h"

void rpc_on_frame(relayd *rd, conn_entry *c, const char *text, size_t len);

/* Replies for handlers. */
void rpc_reply(relayd *rd, conn_entry *c, json_t *id, json_t *result); /* steals result */
void rpc_reply_error(relayd *rd, conn_entry *c, json_t *id, int code, const char *message);

/* methods.c: the handler for a request, NULL if the method is unknown. */
typedef void (*method_handler)(relayd *rd, conn_entry *c, json_t *id, json_t *params);
method_handler methods_find(const char *name, int *needs_session);

#endif
