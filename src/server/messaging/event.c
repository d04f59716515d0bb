/* The params of messaging.state and messaging.receive events: one shape
 * for both directions (docs/relay-protocol.md, section 4). */
#include "messaging/message.h"

json_t *message_event(const char *id, const char *state, const char *direction,
                      const char *context, const char *from, const char *to, const char *body,
                      size_t body_len, json_t *media, json_t *tags)
{
    json_t *p = json_object();
    json_t *b = json_stringn(body ? body : "", body ? body_len : 0);
    if (!p || !b) {
        json_decref(p);
        json_decref(b);
        return NULL;
    }
    json_object_set_new(p, "message_id", json_string(id));
    json_object_set_new(p, "message_state", json_string(state));
    json_object_set_new(p, "direction", json_string(direction));
    json_object_set_new(p, "context", json_string(context ? context : ""));
    json_object_set_new(p, "from_number", json_string(from ? from : ""));
    json_object_set_new(p, "to_number", json_string(to ? to : ""));
    json_object_set_new(p, "body", b);
    json_object_set_new(p, "media", media ? json_deep_copy(media) : json_array());
    json_object_set_new(p, "segments", json_integer(1));
    if (tags)
        json_object_set_new(p, "tags", json_deep_copy(tags));
    return p;
}
