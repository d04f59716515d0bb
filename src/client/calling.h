/*
 * What the typed calling wrappers (calling_*.c) share: a params builder
 * that turns zero-default C fields into the keys the reference SDKs send,
 * and the two ways a wrapper reaches the one request path — a plain
 * request, or a start that returns a relay_action.
 */
#ifndef RELAY_CLIENT_CALLING_H
#define RELAY_CLIENT_CALLING_H

#include <relay/relay.h>

#include <jansson.h>

#include "common/protocol.h"

/* Builds one params object. Each setter skips its key when the value is
 * the C zero ("not given", as Python's None); a JSON-text field that does
 * not parse marks the builder bad. */
typedef struct lr_pb {
    json_t *p;
    int bad;
} lr_pb;

void lr_pb_init(lr_pb *b);
void lr_pb_str(lr_pb *b, const char *key, const char *s);
void lr_pb_num(lr_pb *b, const char *key, double v);
void lr_pb_int(lr_pb *b, const char *key, long long v);
void lr_pb_bool(lr_pb *b, const char *key, relay_bool v);
void lr_pb_json(lr_pb *b, const char *key, const char *json_text);
/* Like lr_pb_str/lr_pb_json, but the key is required: absent marks it bad. */
void lr_pb_req_str(lr_pb *b, const char *key, const char *s);
void lr_pb_req_json(lr_pb *b, const char *key, const char *json_text);
/* Merges extra_json (an object) over what is there — Python's
 * params.update(**kwargs) — and returns the params (owned by the caller),
 * or NULL when the builder went bad. */
json_t *lr_pb_finish(lr_pb *b, const char *extra_json);

/* A plain request on the call; p is stolen (NULL: RELAY_ERR_INVALID_ARG).
 * Blocking without cb. */
relay_status lr_call_plain(relay_call *call, proto_method m, json_t *p, relay_result_callback cb,
                           void *user, relay_result **out);
/* Starts an operation of m's family; p is stolen (NULL: invalid). A
 * control_id already in p is kept (extra_json may name one), else families
 * routed by control_id get a fresh one. */
relay_status lr_call_action(relay_call *call, proto_method m, json_t *p, relay_action **out);
/* The blocking form: starts, waits for the operation's end; *out is the
 * final event's params. */
relay_status lr_call_action_wait(relay_call *call, proto_method m, json_t *p, relay_result **out);
/* The rest of every blocking form: st and a are what its _async start
 * returned; on RELAY_OK waits for the end (*out: the final event's
 * params) and frees the action. *out is NULL on a failed start. */
relay_status lr_action_wait_free(relay_status st, relay_action *a, relay_result **out);

#endif
