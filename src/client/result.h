/*
 * relay_result: the server's answer or an event's params, and the
 * result-code rules (result.c).
 */
#ifndef RELAY_CLIENT_RESULT_H
#define RELAY_CLIENT_RESULT_H

#include <relay/relay.h>

#include <jansson.h>

struct relay_result {
    json_t *json;   /* the result object or event params, owned */
    char *text;     /* relay_result_json(), made on first use */
    char code[16];  /* "" when the result carries none */
    const char *message;
    int call_gone;
    struct result_str *strs; /* texts made by relay_result_get() */
};

/* Wraps obj (reference stolen; NULL makes an empty object). */
relay_result *lr_result_new(json_t *obj);

/* Applies the result-code rules of relay.h to a JSON-RPC answer: exactly one
 * of result/error is non-NULL (both borrowed). When out is not NULL it
 * receives a relay_result (for an error object: its code and message). */
relay_status lr_result_classify(json_t *result, json_t *error, relay_result **out);

#endif
