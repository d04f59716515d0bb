/*
 * The JSON of what librelay sends. Kept apart from the transport so the
 * exact frames can be unit-tested: they must match what the reference
 * SDKs send, key for key.
 */
#include "frames.h"
#include "common/protocol.h"

#include <string.h>

/* json_object_set_new that tolerates a NULL value (an allocation failure
 * surfaces later as a missing key rather than a crash). */
static void set(json_t *obj, const char *key, json_t *v)
{
    if (v)
        json_object_set_new(obj, key, v);
}

static void set_str(json_t *obj, const char *key, const char *s)
{
    if (s && *s)
        set(obj, key, json_string(s));
}

json_t *lr_frame_connect_params(const connect_args *a)
{
    json_t *p = json_object();
    if (!p)
        return NULL;
    set(p, "version", json_pack("{s:i,s:i,s:i}", "major", PROTO_VERSION_MAJOR, "minor",
                                PROTO_VERSION_MINOR, "revision", PROTO_VERSION_REVISION));
    set_str(p, "agent", a->agent);
    set(p, "event_acks", json_true());
    if (a->jwt_token && *a->jwt_token)
        set(p, "authentication", json_pack("{s:s}", "jwt_token", a->jwt_token));
    else
        set(p, "authentication", json_pack("{s:s,s:s}", "project", a->project ? a->project : "",
                                           "token", a->token ? a->token : ""));
    if (a->contexts && a->contexts[0]) {
        json_t *ctx = json_array();
        for (size_t i = 0; ctx && a->contexts[i]; i++)
            json_array_append_new(ctx, json_string(a->contexts[i]));
        set(p, "contexts", ctx);
    }
    set_str(p, "protocol", a->protocol);
    set_str(p, "authorization_state", a->authorization_state);
    return p;
}

json_t *lr_frame_call_params(const char *node_id, const char *call_id)
{
    return json_pack("{s:s,s:s}", "node_id", node_id ? node_id : "", "call_id",
                     call_id ? call_id : "");
}

json_t *lr_frame_refer_answer_params(const char *node_id, const char *call_id, int accept)
{
    return json_pack("{s:s,s:s,s:b}", "node_id", node_id ? node_id : "", "call_id",
                     call_id ? call_id : "", "accept", accept != 0);
}

static json_t *media_json(const relay_media *m, relay_status *err)
{
    const char *type = m->type ? m->type : "tts";
    json_t *params = json_object();
    if (!params)
        return NULL;
    if (strcmp(type, "tts") == 0) {
        if (!m->text)
            goto invalid;
        set_str(params, "text", m->text);
        set_str(params, "language", m->language);
        set_str(params, "gender", m->gender);
        set_str(params, "voice", m->voice);
    } else if (strcmp(type, "audio") == 0) {
        if (!m->url)
            goto invalid;
        set_str(params, "url", m->url);
    } else if (strcmp(type, "silence") == 0) {
        set(params, "duration", json_real(m->duration));
    } else if (strcmp(type, "ringtone") == 0) {
        set_str(params, "name", m->name ? m->name : "us");
        if (m->duration > 0)
            set(params, "duration", json_real(m->duration));
    } else {
        goto invalid;
    }
    return json_pack("{s:s,s:o}", "type", type, "params", params);
invalid:
    json_decref(params);
    *err = RELAY_ERR_INVALID_ARG;
    return NULL;
}

json_t *lr_frame_media_list(const relay_media *media, size_t n_media, relay_status *err)
{
    *err = RELAY_ERR_INVALID_ARG;
    if (!media || n_media == 0)
        return NULL;
    *err = RELAY_ERR_NO_MEMORY;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n_media; i++) {
        json_t *m = media_json(&media[i], err);
        if (!m) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, m);
    }
    if (list)
        *err = RELAY_OK;
    return list;
}

json_t *lr_frame_play_params(const char *node_id, const char *call_id, const char *control_id,
                          const relay_media *media, size_t n_media,
                          const relay_play_params *pp, relay_status *err)
{
    *err = RELAY_ERR_NO_MEMORY;
    if (!media || n_media == 0) {
        *err = RELAY_ERR_INVALID_ARG;
        return NULL;
    }
    json_t *p = lr_frame_call_params(node_id, call_id);
    json_t *list = json_array();
    if (!p || !list)
        goto fail;
    set_str(p, "control_id", control_id);
    for (size_t i = 0; i < n_media; i++) {
        json_t *m = media_json(&media[i], err);
        if (!m)
            goto fail;
        json_array_append_new(list, m);
    }
    json_object_set_new(p, "play", list);
    list = NULL;
    if (pp) {
        if (pp->volume != 0)
            set(p, "volume", json_real(pp->volume));
        set_str(p, "direction", pp->direction);
        if (pp->loop > 0)
            set(p, "loop", json_integer(pp->loop));
        set_str(p, "status_url", pp->status_url);
    }
    *err = RELAY_OK;
    return p;
fail:
    json_decref(list);
    json_decref(p);
    return NULL;
}

json_t *lr_frame_parse_object(const char *params_json)
{
    if (!params_json || !*params_json)
        return json_object();
    json_t *v = json_loads(params_json, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *lr_frame_refer_params(const char *node_id, const char *call_id, const relay_device *d,
                           const char *status_url, relay_status *err)
{
    *err = RELAY_ERR_INVALID_ARG;
    if (!d)
        return NULL;
    const char *type = d->type && *d->type ? d->type : "sip";
    /* Extra params first, so the typed fields win where both are given. */
    json_t *dp = lr_frame_parse_object(d->params_json);
    if (!dp)
        return NULL;
    set_str(dp, "uri", d->uri);
    set_str(dp, "username", d->username);
    set_str(dp, "password", d->password);
    if (d->headers_json) {
        json_t *h = json_loads(d->headers_json, 0, NULL);
        if (!json_is_array(h)) {
            json_decref(h);
            json_decref(dp);
            return NULL;
        }
        json_object_set_new(dp, "headers", h);
    }
    /* The target may come typed or, under any accepted key, in params_json;
     * an attended transfer may leave it to the consult call's far end. */
    int has_target = json_is_string(json_object_get(dp, "replaces_call_id"));
    for (size_t i = 0; proto_refer_uri_keys[i]; i++)
        if (json_is_string(json_object_get(dp, proto_refer_uri_keys[i])))
            has_target = 1;
    if (!has_target) {
        json_decref(dp);
        return NULL;
    }
    *err = RELAY_ERR_NO_MEMORY;
    json_t *p = lr_frame_call_params(node_id, call_id);
    json_t *dev = json_pack("{s:s,s:o}", "type", type, "params", dp);
    if (!p || !dev) {
        json_decref(p);
        json_decref(dev);
        return NULL;
    }
    json_object_set_new(p, "device", dev);
    set_str(p, "status_url", status_url);
    *err = RELAY_OK;
    return p;
}
