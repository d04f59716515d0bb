/*
 * The params builder the typed calling wrappers share (calling.h).
 */
#include "calling.h"
#include "frames.h"

void lr_pb_init(lr_pb *b)
{
    b->p = json_object();
    b->bad = b->p == NULL;
}

static void put(lr_pb *b, const char *key, json_t *v)
{
    if (!v || !b->p || json_object_set_new(b->p, key, v) != 0)
        b->bad = 1;
}

void lr_pb_str(lr_pb *b, const char *key, const char *s)
{
    if (s)
        put(b, key, json_string(s));
}

void lr_pb_num(lr_pb *b, const char *key, double v)
{
    if (v != 0)
        put(b, key, json_real(v));
}

void lr_pb_int(lr_pb *b, const char *key, long long v)
{
    if (v != 0)
        put(b, key, json_integer(v));
}

void lr_pb_bool(lr_pb *b, const char *key, relay_bool v)
{
    if (v == RELAY_BOOL_TRUE || v == RELAY_BOOL_FALSE)
        put(b, key, json_boolean(v == RELAY_BOOL_TRUE));
    else if (v != RELAY_BOOL_UNSET)
        b->bad = 1;
}

void lr_pb_json(lr_pb *b, const char *key, const char *json_text)
{
    if (!json_text)
        return;
    json_t *v = json_loads(json_text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!v)
        b->bad = 1;
    else
        put(b, key, v);
}

void lr_pb_req_str(lr_pb *b, const char *key, const char *s)
{
    if (!s || !*s)
        b->bad = 1;
    lr_pb_str(b, key, s);
}

void lr_pb_req_json(lr_pb *b, const char *key, const char *json_text)
{
    if (!json_text)
        b->bad = 1;
    lr_pb_json(b, key, json_text);
}

json_t *lr_pb_finish(lr_pb *b, const char *extra_json)
{
    if (!b->bad && extra_json) {
        json_t *extra = lr_frame_parse_object(extra_json);
        if (!extra || json_object_update(b->p, extra) != 0)
            b->bad = 1;
        json_decref(extra);
    }
    if (b->bad) {
        json_decref(b->p);
        b->p = NULL;
    }
    return b->p;
}
