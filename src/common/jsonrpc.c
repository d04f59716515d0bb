#include "jsonrpc.h"

#include "protocol.h"

static char *dump(json_t *frame)
{
    if (!frame)
        return NULL;
    char *text = json_dumps(frame, JSON_COMPACT);
    json_decref(frame);
    return text;
}

char *jsonrpc_request(const char *id, const char *method, json_t *params)
{
    return dump(json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", PROTO_JSONRPC, "id", id, "method",
                          method, "params", params ? json_incref(params) : json_object()));
}

char *jsonrpc_response(json_t *id, json_t *result)
{
    return dump(json_pack("{s:s, s:O, s:o}", "jsonrpc", PROTO_JSONRPC, "id",
                          id ? id : json_null(), "result",
                          result ? json_incref(result) : json_object()));
}

char *jsonrpc_error(json_t *id, int code, const char *message)
{
    return dump(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", PROTO_JSONRPC, "id",
                          id ? id : json_null(), "error", "code", code, "message", message));
}
