#include "jsonrpc.h"

#include <stdio.h>
#include <string.h>

#include "common/protocol.h"
#include "common/uuid.h"

static char *dump_and_free(json_t *obj)
{
    if (!obj)
        return NULL;
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return text;
}

char *jsonrpc_result(json_t *id, json_t *result)
{
    return dump_and_free(json_pack("{s:s, s:O?, s:o}", "jsonrpc", PROTO_JSONRPC, "id", id,
                                   "result", result ? result : json_object()));
}

char *jsonrpc_error(json_t *id, int code, const char *message)
{
    return dump_and_free(json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", PROTO_JSONRPC, "id",
                                   id, "error", "code", code, "message", message));
}

char *jsonrpc_request(const char *method, json_t *params, char *id_out)
{
    char id[UUID_STR_LEN];
    if (uuid_v4(id) != 0) {
        json_decref(params);
        return NULL;
    }
    if (id_out)
        memcpy(id_out, id, UUID_STR_LEN);
    return dump_and_free(json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", PROTO_JSONRPC, "id", id,
                                   "method", method, "params", params ? params : json_object()));
}

json_t *jsonrpc_code_result(int code, const char *message)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", code);
    return json_pack("{s:s, s:s}", "code", buf, "message", message ? message : "");
}
