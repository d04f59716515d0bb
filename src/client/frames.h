/*
 * The JSON params of the frames librelay sends (frames.c).
 */
#ifndef RELAY_CLIENT_FRAMES_H
#define RELAY_CLIENT_FRAMES_H

#include <relay/relay.h>

#include <jansson.h>

/* Everything signalwire.connect needs; strings borrowed. */
typedef struct connect_args {
    const char *agent;
    const char *project, *token, *jwt_token;
    const char *const *contexts;
    const char *protocol;            /* NULL or "": a fresh session */
    const char *authorization_state; /* idem */
} connect_args;

json_t *lr_frame_connect_params(const connect_args *a);
json_t *lr_frame_call_params(const char *node_id, const char *call_id);
json_t *lr_frame_play_params(const char *node_id, const char *call_id, const char *control_id,
                          const relay_media *media, size_t n_media,
                          const relay_play_params *params, relay_status *err);
json_t *lr_frame_refer_params(const char *node_id, const char *call_id, const relay_device *device,
                           const char *status_url, relay_status *err);
/* calling.refer.answer's params (a relayd extension): accept is 0 or 1. */
json_t *lr_frame_refer_answer_params(const char *node_id, const char *call_id, int accept);
/* The "play" list of n_media items (n_media >= 1), or NULL with *err. */
json_t *lr_frame_media_list(const relay_media *media, size_t n_media, relay_status *err);
/* params_json (NULL: {}) parsed as an object, or NULL. */
json_t *lr_frame_parse_object(const char *params_json);
/* Envelopes (request, response, error) come from common/jsonrpc.h. */

#endif
