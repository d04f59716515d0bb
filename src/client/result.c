/*
 * relay_result: the server's answer to a request (or an event's params),
 * and the one place where result codes are turned into a relay_status.
 */
#include "result.h"
#include "common/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Texts made by relay_result_get() for non-string values: kept until the
 * result is freed so the returned pointers stay valid. */
struct result_str {
    struct result_str *next;
    char *key;
    char text[];
};

/* A code may come as "200" or, from lenient servers, as 200. */
static void code_text(json_t *v, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
}

relay_result *lr_result_new(json_t *obj)
{
    relay_result *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(obj);
        return NULL;
    }
    r->json = obj ? obj : json_object();
    if (!r->json) {
        free(r);
        return NULL;
    }
    code_text(json_object_get(r->json, "code"), r->code, sizeof r->code);
    r->message = json_string_value(json_object_get(r->json, "message"));
    if (!r->message)
        r->message = "";
    r->call_gone = proto_code_is_gone(r->code);
    return r;
}

relay_status lr_result_classify(json_t *result, json_t *error, relay_result **out)
{
    if (out)
        *out = NULL;
    if (error) {
        /* A JSON-RPC error object: {code:-32xxx, message}. */
        if (out) {
            *out = lr_result_new(json_deep_copy(error));
            if (*out)
                (*out)->call_gone = 0; /* a transport-level refusal, not a call state */
        }
        return RELAY_ERR_SERVER;
    }
    if (!json_is_object(result))
        return RELAY_ERR_PROTOCOL;
    /* Some servers wrap the calling answer once more: {"result":{"code":..}}. */
    json_t *body = result;
    json_t *inner = json_object_get(result, "result");
    if (!json_object_get(result, "code") && json_is_object(inner) &&
        json_object_get(inner, "code"))
        body = inner;

    char code[16];
    code_text(json_object_get(body, "code"), code, sizeof code);
    relay_status st = RELAY_OK;
    if (code[0] && !proto_code_is_success(code) && !proto_code_is_gone(code))
        st = RELAY_ERR_SERVER;
    if (out) {
        *out = lr_result_new(json_incref(body));
        if (!*out)
            return RELAY_ERR_NO_MEMORY;
    }
    return st;
}

const char *relay_result_code(const relay_result *res)
{
    return res ? res->code : "";
}

const char *relay_result_message(const relay_result *res)
{
    return res ? res->message : "";
}

const char *relay_result_json(const relay_result *res)
{
    if (!res)
        return "{}";
    if (!res->text) {
        /* Lazily made; the cast is the price of a const accessor over a
         * cache, and results belong to one thread at a time. */
        ((relay_result *)res)->text = json_dumps(res->json, JSON_COMPACT);
    }
    return res->text ? res->text : "{}";
}

/* "a.b.0.c": object members by name, array elements by index. */
static json_t *lookup_path(json_t *v, const char *path)
{
    const char *p = path;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n > 255 || (dot && !dot[1]))
            return NULL;
        char part[256];
        memcpy(part, p, n);
        part[n] = '\0';
        if (json_is_object(v)) {
            v = json_object_get(v, part);
        } else if (json_is_array(v)) {
            char *end = NULL;
            unsigned long i = strtoul(part, &end, 10);
            v = (*end || part[0] < '0' || part[0] > '9') ? NULL : json_array_get(v, i);
        } else {
            return NULL;
        }
        p = dot ? dot + 1 : p + n;
    }
    return v;
}

const char *relay_result_get(const relay_result *res, const char *key)
{
    if (!res || !key)
        return NULL;
    json_t *v = json_object_get(res->json, key);
    if (!v && strchr(key, '.'))
        v = lookup_path(res->json, key);
    if (!v)
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    for (struct result_str *s = res->strs; s; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s->text;
    char buf[64];
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    size_t n = strlen(buf);
    struct result_str *s = malloc(sizeof *s + n + 1);
    if (!s)
        return NULL;
    s->key = strdup(key);
    if (!s->key) {
        free(s);
        return NULL;
    }
    memcpy(s->text, buf, n + 1);
    relay_result *mut = (relay_result *)res; /* cache, as above */
    s->next = mut->strs;
    mut->strs = s;
    return s->text;
}

int relay_result_call_gone(const relay_result *res)
{
    return res ? res->call_gone : 0;
}

void relay_result_free(relay_result *res)
{
    if (!res)
        return;
    struct result_str *s = res->strs;
    while (s) {
        struct result_str *next = s->next;
        free(s->key);
        free(s);
        s = next;
    }
    free(res->text);
    json_decref(res->json);
    free(res);
}
