/*
 * A raw RELAY client for relayd's integration tests: one WebSocket (ws_raw),
 * logged in with signalwire.connect, every event it receives kept in order
 * (the event's inner params with "event_type" added), requests answered by
 * id. For tests that check frames as they are, below librelay. Failures
 * are cmocka assertions.
 */
#ifndef RELAY_TESTS_RPC_CLIENT_H
#define RELAY_TESTS_RPC_CLIENT_H

#include <jansson.h>

typedef struct rpc_client {
    int fd;
    json_t *events; /* owned: every event so far */
    int next_id;
} rpc_client;

/* Connects to 127.0.0.1:port and logs in; contexts_json: a JSON array of
 * context names ("[\"office\"]") or NULL for none. */
void rpc_client_open(rpc_client *c, int port, const char *project, const char *token,
                     const char *contexts_json);
void rpc_client_close(rpc_client *c);

/* Receives one frame: an event is recorded; an answer to want_id is
 * returned (its result, or {code: "rpc-error", error} for a JSON-RPC
 * error; a new reference). NULL otherwise. */
json_t *rpc_client_pump(rpc_client *c, const char *want_id, int timeout_ms);
/* Sends method(params) (stolen) and returns its result (a new reference);
 * fails the test without an answer in 10 s. */
json_t *rpc_client_request(rpc_client *c, const char *method, json_t *params);

/* A result's "code". */
const char *rpc_code_of(json_t *res);
/* 1 if ev is of type and (key NULL, or ev[key] is the string value). */
int rpc_event_matches(json_t *ev, const char *type, const char *key, const char *value);

#endif
