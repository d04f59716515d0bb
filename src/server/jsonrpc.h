/*
 * Building JSON-RPC 2.0 frames on the server side. Every function returns a
 * malloc'd JSON text (caller frees) or NULL when out of memory.
 */
#ifndef RELAYD_JSONRPC_H
#define RELAYD_JSONRPC_H

#include <jansson.h>

/* {"jsonrpc":"2.0","id":id,"result":result}; steals result. id may be NULL
 * (then "id":null). */
char *jsonrpc_result(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}} */
char *jsonrpc_error(json_t *id, int code, const char *message);
/* {"jsonrpc":"2.0","id":<new uuid>,"method":method,"params":params}; steals
 * params. The new id is copied into id_out when non-NULL (37 bytes). */
char *jsonrpc_request(const char *method, json_t *params, char *id_out);
/* The RELAY-style result body {"code":"200","message":...}. */
json_t *jsonrpc_code_result(int code, const char *message);

#endif
