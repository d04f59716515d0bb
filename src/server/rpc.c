#include "rpc.h"

#include <stdio.h>
#include <string.h>

#include "common/protocol.h"
#include "frames.h"
#include "server_log.h"

void rpc_reply(relayd *rd, conn_entry *c, json_t *id, json_t *result)
{
    if (!id) { /* a notification: no answer expected */
        json_decref(result);
        return;
    }
    conn_send(rd, c->id, jsonrpc_response(id, result));
    json_decref(result);
}

void rpc_reply_error(relayd *rd, conn_entry *c, json_t *id, int code, const char *message)
{
    server_log(RELAY_LOG_INFO, "conn=%llu: error %d: %s", (unsigned long long)c->id, code,
               message);
    conn_send(rd, c->id, jsonrpc_error(id, code, message));
}

static void on_response(relayd *rd, conn_entry *c, json_t *msg)
{
    (void)rd;
    const char *id = json_string_value(json_object_get(msg, "id"));
    if (!id)
        return;
    if (c->ping_id[0] && strcmp(c->ping_id, id) == 0) {
        c->ping_id[0] = '\0';
        c->pings_unanswered = 0;
        return;
    }
    if (c->session)
        session_on_response(c->session, id);
}

void rpc_on_frame(relayd *rd, conn_entry *c, const char *text, size_t len)
{
    server_log(RELAY_LOG_DEBUG, "recv conn=%llu: %s", (unsigned long long)c->id, text);
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        char why[220];
        snprintf(why, sizeof why, "parse error: %s (at byte %d)", jerr.text, jerr.position);
        rpc_reply_error(rd, c, NULL, PROTO_RPC_PARSE_ERROR, why);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (!json_is_object(msg) ||
        (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id))) {
        rpc_reply_error(rd, c, NULL, PROTO_RPC_INVALID_REQUEST,
                        "invalid request: expected a JSON-RPC 2.0 object");
        goto out;
    }
    if (!method) {
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error")))
            on_response(rd, c, msg);
        else
            rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_REQUEST,
                            "invalid request: no method, and not a response");
        goto out;
    }
    json_t *params = json_object_get(msg, "params");
    if (params && !json_is_object(params)) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, "params must be an object");
        goto out;
    }
    int needs_session = 1;
    method_handler fn = methods_find(method, &needs_session);
    if (!fn) {
        char why[200];
        snprintf(why, sizeof why, "method not found: %.120s", method);
        rpc_reply_error(rd, c, id, PROTO_RPC_METHOD_NOT_FOUND, why);
        goto out;
    }
    if (needs_session && !c->session) {
        rpc_reply_error(rd, c, id, PROTO_RPC_NOT_CONNECTED,
                        "no session: send signalwire.connect first");
        goto out;
    }
    json_t *empty = NULL;
    if (!params)
        params = empty = json_object();
    fn(rd, c, id, params);
    json_decref(empty);
out:
    json_decref(msg);
}
