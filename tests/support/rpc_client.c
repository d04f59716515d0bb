#include "rpc_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_time.h"
#include "ws_raw.h"

void rpc_client_open(rpc_client *c, int port, const char *project, const char *token,
                     const char *contexts_json)
{
    memset(c, 0, sizeof *c);
    c->fd = ws_raw_connect("127.0.0.1", port);
    assert_true(c->fd >= 0);
    c->events = json_array();
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\","
                     "\"params\":{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},"
                     "\"authentication\":{\"project\":\"%s\",\"token\":\"%s\"}%s%s}}",
                     project, token, contexts_json ? ",\"contexts\":" : "",
                     contexts_json ? contexts_json : "");
    assert_true(n > 0 && (size_t)n < sizeof req);
    assert_int_equal(ws_raw_send(c->fd, req, strlen(req)), 0);
    char *reply = ws_raw_recv_match(c->fd, "\"c1\"", 5000);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "protocol"));
    free(reply);
}

void rpc_client_close(rpc_client *c)
{
    ws_raw_close(c->fd);
    json_decref(c->events);
    c->events = NULL;
}

json_t *rpc_client_pump(rpc_client *c, const char *want_id, int timeout_ms)
{
    char *text = ws_raw_recv(c->fd, timeout_ms);
    if (!text)
        return NULL;
    json_t *m = json_loads(text, 0, NULL);
    free(text);
    if (!m)
        return NULL;
    json_t *out = NULL;
    const char *method = json_string_value(json_object_get(m, "method"));
    if (method && strcmp(method, "signalwire.event") == 0) {
        json_t *p = json_object_get(m, "params");
        json_t *inner = json_deep_copy(json_object_get(p, "params"));
        json_object_set(inner, "event_type", json_object_get(p, "event_type"));
        json_array_append_new(c->events, inner);
    } else if (want_id && json_is_string(json_object_get(m, "id")) &&
               strcmp(json_string_value(json_object_get(m, "id")), want_id) == 0) {
        out = json_incref(json_object_get(m, "result"));
        if (!out)
            out = json_pack("{s:s, s:O}", "code", "rpc-error", "error", json_object_get(m, "error"));
    }
    json_decref(m);
    return out;
}

json_t *rpc_client_request(rpc_client *c, const char *method, json_t *params)
{
    char id[16];
    snprintf(id, sizeof id, "r%d", ++c->next_id);
    json_t *req = json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method", method,
                            "params", params);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    assert_int_equal(ws_raw_send(c->fd, text, strlen(text)), 0);
    free(text);
    int64_t end = now_ms() + 10000;
    json_t *res = NULL;
    while (!res && now_ms() < end)
        res = rpc_client_pump(c, id, 500);
    assert_non_null(res);
    return res;
}

const char *rpc_code_of(json_t *res) { return json_string_value(json_object_get(res, "code")); }

int rpc_event_matches(json_t *ev, const char *type, const char *key, const char *value)
{
    if (strcmp(json_string_value(json_object_get(ev, "event_type")), type) != 0)
        return 0;
    if (!key)
        return 1;
    const char *v = json_string_value(json_object_get(ev, key));
    return v && strcmp(v, value) == 0;
}
