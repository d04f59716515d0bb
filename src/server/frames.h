/*
 * What relayd originates on top of the shared JSON-RPC envelopes
 * (common/jsonrpc.h): requests with a fresh id (events, pings, disconnect)
 * and the RELAY result body {"code":"200","message":...}.
 */
#ifndef RELAYD_FRAMES_H
#define RELAYD_FRAMES_H

#include <jansson.h>

#include "common/jsonrpc.h"

/* A request with a new uuid id, copied into id_out (37 bytes) when not
 * NULL. Steals params. */
char *frames_new_request(const char *method, json_t *params, char *id_out);
/* {"code":"<code>","message":message} */
json_t *frames_code_result(int code, const char *message);

#endif
