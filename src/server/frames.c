#include "frames.h"

#include <stdio.h>
#include <string.h>

#include "common/uuid.h"

char *frames_new_request(const char *method, json_t *params, char *id_out)
{
    char id[UUID_STR_LEN];
    char *text = NULL;
    if (uuid_v4(id) == 0) {
        text = jsonrpc_request(id, method, params);
        if (text && id_out)
            memcpy(id_out, id, UUID_STR_LEN);
    }
    json_decref(params);
    return text;
}

json_t *frames_code_result(int code, const char *message)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", code);
    return json_pack("{s:s, s:s}", "code", buf, "message", message ? message : "");
}
