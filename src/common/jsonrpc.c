#include "jsonrpc.h"

#include "protocol.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every request, answer and event acknowledgement goes through here, so
 * the envelope is written directly when its strings need no escaping (ids
 * are uuids, methods come from the protocol table): building a jansson
 * object and dumping it cost several times more than the message's own
 * parse (bench/RESULTS.md, callgrind). Any other string takes jansson's
 * path, which escapes it. Both paths write the same bytes.
 */

static char *dump(json_t *frame)
{
    if (!frame)
        return NULL;
    char *text = json_dumps(frame, JSON_COMPACT);
    json_decref(frame);
    return text;
}

/* Printable ASCII other than '"' and '\\': written as is by jansson too. */
static int plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

char *jsonrpc_request(const char *id, const char *method, json_t *params)
{
    if (plain(id) && plain(method)) {
        char *inner = params ? json_dumps(params, JSON_COMPACT) : NULL;
        if (params && !inner)
            return NULL;
        const char *p = inner ? inner : "{}";
        size_t n = strlen(id) + strlen(method) + strlen(p) + 64;
        char *text = malloc(n);
        if (text)
            snprintf(text, n, "{\"jsonrpc\":\"%s\",\"id\":\"%s\",\"method\":\"%s\",\"params\":%s}",
                     PROTO_JSONRPC, id, method, p);
        free(inner);
        return text;
    }
    return dump(json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", PROTO_JSONRPC, "id", id, "method",
                          method, "params", params ? json_incref(params) : json_object()));
}

char *jsonrpc_response(json_t *id, json_t *result)
{
    char idj[96];
    const char *s = json_string_value(id);
    if (s && json_string_length(id) < sizeof idj - 3 && strlen(s) == json_string_length(id) &&
        plain(s))
        snprintf(idj, sizeof idj, "\"%s\"", s);
    else if (json_is_integer(id))
        snprintf(idj, sizeof idj, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else
        return dump(json_pack("{s:s, s:O, s:o}", "jsonrpc", PROTO_JSONRPC, "id",
                              id ? id : json_null(), "result",
                              result ? json_incref(result) : json_object()));
    /* The common answer, an event's acknowledgement: an empty result. */
    int empty = !result || (json_is_object(result) && json_object_size(result) == 0);
    char *inner = empty ? NULL : json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!empty && !inner)
        return NULL;
    const char *r = inner ? inner : "{}";
    size_t n = strlen(idj) + strlen(r) + 48;
    char *text = malloc(n);
    if (text)
        snprintf(text, n, "{\"jsonrpc\":\"%s\",\"id\":%s,\"result\":%s}", PROTO_JSONRPC, idj, r);
    free(inner);
    return text;
}

char *jsonrpc_error(json_t *id, int code, const char *message)
{
    return dump(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", PROTO_JSONRPC, "id",
                          id ? id : json_null(), "error", "code", code, "message", message));
}
