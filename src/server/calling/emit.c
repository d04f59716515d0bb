#include "calling/emit.h"

#include <stdlib.h>

#include "calling/call.h"
#include "server_log.h"
#include "session.h"
#include "webhook.h"

/* The webhook body is the signalwire.event params a client would see. */
static void post_webhook(relayd *rd, const char *url, const char *event_type, json_t *params)
{
    json_t *body = json_pack("{s:s, s:f, s:O}", "event_type", event_type, "timestamp",
                             core_wallclock(), "params", params);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text || webhook_post(rd->hooks, url, text) != 0)
        server_log(RELAY_LOG_WARN, "a %s webhook could not be queued", event_type);
    free(text);
}

void call_emit(relayd *rd, call *c, proto_event ev, json_t *params, const char *status_url)
{
    if (!params)
        return;
    const char *event_type = proto_event_name(ev);
    json_object_set_new(params, "call_id", json_string(c->id));
    json_object_set_new(params, "node_id", json_string(rd->cfg->node_id));
    if (status_url && rd->hooks)
        post_webhook(rd, status_url, event_type, params);
    if (c->owner)
        session_send_event(rd, c->owner, event_type, params);
    else
        json_decref(params);
}
