/*
 * JSON-RPC 2.0 envelopes, the same for librelay and relayd: one place that
 * knows what a request, a response and an error look like on the wire.
 * Each returns compact JSON text (malloc'd; the caller frees) or NULL when
 * out of memory. Arguments are borrowed, never stolen.
 */
#ifndef RELAY_COMMON_JSONRPC_H
#define RELAY_COMMON_JSONRPC_H

#include <jansson.h>

/* {"jsonrpc":"2.0","id":id,"method":method,"params":params} (NULL params: {}) */
char *jsonrpc_request(const char *id, const char *method, json_t *params);
/* {"jsonrpc":"2.0","id":id,"result":result} (NULL id: null; NULL result: {}) */
char *jsonrpc_response(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}} (NULL id: null) */
char *jsonrpc_error(json_t *id, int code, const char *message);

#endif
