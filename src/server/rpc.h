/*
 * Incoming frames on the core thread: JSON-RPC parsing, the session gate
 * (nothing but signalwire.connect before a session exists), and dispatch of
 * requests through the method descriptors. Every bad frame gets a JSON-RPC
 * error that says what was wrong, and the connection keeps being served.
 *
 * Dispatch is driven by the common method table (common/protocol.h): before
 * a handler runs, the flags of its row decide what is checked and resolved
 * (PROTO_MF_CALL: call_id → the call, 400/404; PROTO_MF_ANSWERED: 409
 * unless answered; PROTO_MF_CONTROL: control_id → the family's operation on
 * the call, 400/404, and the sub-method goes to op->vtbl->control). A name
 * in the table that no descriptor serves answers code "501"; a name not in
 * the table is JSON-RPC -32601.
 */
#ifndef RELAYD_RPC_H
#define RELAYD_RPC_H

#include <jansson.h>

#include "common/protocol.h"
#include "relayd.h"
#include "session.h"

typedef struct call_op call_op;

void rpc_on_frame(relayd *rd, conn_entry *c, const char *text, size_t len);

/* Replies for handlers. */
void rpc_reply(relayd *rd, conn_entry *c, json_t *id, json_t *result); /* steals result */
void rpc_reply_error(relayd *rd, conn_entry *c, json_t *id, int code, const char *message);

/* One request, with what the descriptor checks resolved. */
typedef struct rpc_req {
    relayd *rd;
    conn_entry *conn;
    json_t *id;                     /* NULL for a notification */
    json_t *params;                 /* an object, never NULL */
    const proto_method_info *info;  /* the method's row in the common table */
    call *call;                     /* PROTO_MF_CALL: the call named by call_id */
    call_op *op;                    /* PROTO_MF_CONTROL: the operation named by control_id */
    json_t **answer;                /* rpc_run_for_session: the answer goes here */
} rpc_req;

/* Answers the request with result (stolen). The call may be gone once a
 * handler has answered and acted: answer first when acting ends the call. */
void rpc_answer(rpc_req *r, json_t *result);

typedef void (*server_method_fn)(rpc_req *r);

/* Runs a method on a call for session s as if its client had sent it
 * (params carry call_id), with every check a client's request gets; no
 * answer frame is sent: the handler's result {code, message, ...} is
 * returned instead (a new reference). Its events go to the session as
 * usual. For what relayd starts by itself: digit bindings
 * (calling/bind_digit.c). Core thread. */
json_t *rpc_run_for_session(relayd *rd, session *s, const char *name, json_t *params);
/* 1 if name is a method on a call that this relayd carries out. */
int rpc_serves_call_method(const char *name);

typedef struct server_method {
    proto_method method;
    server_method_fn fn;
} server_method;

/* What one family file serves. A family other than PF_NONE also gets every
 * PROTO_MF_CONTROL sub-method of its family in the common table routed to
 * its ops' vtbl->control: no handler is listed for those. */
typedef struct server_family_desc {
    proto_family family;            /* PF_NONE: plain methods only */
    const server_method *methods;   /* ends with {PM_UNKNOWN, NULL} */
} server_family_desc;

/* The registry (registry.c): every family relayd serves, NULL-terminated. */
extern const server_family_desc *const server_families[];

#endif
