/*
 * An inbound SIP MESSAGE becomes messaging.receive on a context, found the
 * way an INVITE's is (config_context_for on the Request-URI's user, then
 * router_pick among the sessions subscribed to it). The sender's answer
 * says what happened at once: 200 handed to a client, 480 nobody is on
 * the context, 413/415/400 a body relayd will not carry. The event is
 * kept until acknowledged like any other (session.c), so a client that
 * resumes still gets it.
 */
#include <string.h>

#include "common/protocol.h"
#include "common/uuid.h"
#include "config.h"
#include "messaging/message.h"
#include "router.h"
#include "server_log.h"
#include "session.h"

/* Text of any kind (text/plain, text/html...), or no type at all. */
static int content_type_ok(const char *type)
{
    return !*type || strncasecmp(type, "text/", 5) == 0;
}

int messaging_on_sip_message(void *user, const sip_message_info *info)
{
    relayd *rd = user;
    if (rd->stopping || rd->draining)
        return 503;
    if (!content_type_ok(info->content_type))
        return 415;
    if (info->body_len > MESSAGING_MAX_BODY)
        return 413;
    const char *context = config_context_for(rd->cfg, info->request_user);
    session *s = router_pick(rd, context);
    if (!s) {
        server_log(RELAY_LOG_INFO, "message to %s: no client on context '%s'; 480",
                   info->request_uri, context ? context : "");
        return 480;
    }
    char id[UUID_STR_LEN];
    if (uuid_v4(id) != 0)
        return 500;
    /* NULL too when the body is not UTF-8 (JSON strings must be): 400 */
    json_t *ev = message_event(id, "received", "inbound", context, info->from_uri, info->to_uri,
                               info->body, info->body_len, NULL, NULL);
    if (!ev)
        return 400;
    server_log(RELAY_LOG_INFO, "message %s from %s (%zu bytes) to session %s on context '%s'",
               id, info->from_uri, info->body_len, s->id, context);
    session_send_event(rd, s, proto_event_name(PE_MESSAGING_RECEIVE), ev);
    return 200;
}
