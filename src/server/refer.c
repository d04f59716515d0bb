/*
 * calling.refer: a SIP REFER in the call's dialog (RFC 3515), its 202 and
 * NOTIFY progress turned into calling.call.refer events and status_url
 * webhooks. The target comes from a client, so it is validated before it
 * can reach a header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calls.h"
#include "common/protocol.h"
#include "common/sip_uri.h"
#include "frames.h"
#include "server_log.h"
#include "session.h"
#include "webhook.h"

#define MAX_REFER_HEADERS 16
#define MAX_HEADER_LINE 512

void refer_free(refer_op *r)
{
    if (!r)
        return;
    free(r->target);
    free(r->status_url);
    free(r->referred_by);
    free(r->username);
    free(r->password);
    free(r->headers);
    free(r);
}

/* Puts the REFER on the wire. Its credentials are dropped once sent: they
 * are not kept a moment longer than needed. */
static int refer_send(call *c)
{
    refer_op *r = c->refer;
    int rc = sip_leg_refer(c->leg, r->target, r->referred_by, r->username, r->password,
                           r->headers);
    r->sent = 1;
    free(r->password);
    r->password = NULL;
    if (rc == 0)
        server_log(RELAY_LOG_INFO, "call %s: REFER sent, Refer-To <%s>", c->id, r->target);
    return rc;
}

static const char *target_of(json_t *device_params)
{
    for (int i = 0; proto_refer_uri_keys[i]; i++) {
        const char *v = json_string_value(json_object_get(device_params, proto_refer_uri_keys[i]));
        if (v)
            return v;
    }
    return NULL;
}

/* Header names are RFC 3261 tokens; values may not break the line. The
 * headers that shape the REFER itself are not the client's to set. */
static int header_ok(const char *name, const char *value)
{
    static const char *const reserved[] = {"refer-to", "referred-by", "via", "from", "to",
                                           "call-id", "cseq", "contact", "content-length",
                                           "max-forwards", "event", NULL};
    if (!name || !value || !*name || strlen(name) > 64 || strlen(value) > 256)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-.!%*_+`'~", *p)))
            return 0;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return 0;
    for (int i = 0; reserved[i]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return 0;
    return 1;
}

/* [{name,value}...] → "Name: value\r\n..." in *out (malloc'd, NULL if none). */
static const char *build_headers(json_t *headers, char **out)
{
    *out = NULL;
    if (!headers)
        return NULL;
    if (!json_is_array(headers) || json_array_size(headers) > MAX_REFER_HEADERS)
        return "headers must be an array of at most 16 {name, value} objects";
    size_t cap = json_array_size(headers) * (MAX_HEADER_LINE + 4) + 1;
    char *buf = calloc(1, cap);
    if (!buf)
        return "out of memory";
    size_t len = 0, i;
    json_t *h;
    json_array_foreach(headers, i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        const char *value = json_string_value(json_object_get(h, "value"));
        if (!header_ok(name, value)) {
            free(buf);
            return "invalid or reserved SIP header in headers";
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s: %s", len ? "\r\n" : "", name, value);
    }
    *out = buf;
    return NULL;
}

static json_t *bad(const char *message)
{
    return frames_code_result(400, message);
}

json_t *refer_start(relayd *rd, call *c, json_t *params)
{
    json_t *device = json_object_get(params, "device");
    if (!json_is_object(device))
        return bad("device is required");
    const char *type = json_string_value(json_object_get(device, "type"));
    if (!type || strcmp(type, "sip") != 0)
        return bad("device.type must be \"sip\"");
    json_t *dp = json_object_get(device, "params");
    const char *target = target_of(dp);
    const char *why = NULL;
    if (!target)
        return bad("device.params.uri is required");
    if (sip_uri_validate(target, &why) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid refer target: %s", why);
        server_log(RELAY_LOG_WARN, "call %s: refer refused: %s", c->id, why);
        return bad(msg);
    }
    const char *status_url = json_string_value(json_object_get(params, "status_url"));
    if (json_object_get(params, "status_url") && !status_url)
        return bad("status_url must be a string");
    if (status_url && webhook_url_validate(status_url, &why) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid status_url: %s", why);
        return bad(msg);
    }
    const char *username = json_string_value(json_object_get(dp, "username"));
    const char *password = json_string_value(json_object_get(dp, "password"));
    if ((username && (strpbrk(username, "\r\n\":") || strlen(username) > 128)) ||
        (password && (strpbrk(password, "\r\n\"") || strlen(password) > 128)))
        return bad("invalid username or password");
    char *headers = NULL;
    const char *herr = build_headers(json_object_get(dp, "headers"), &headers);
    if (herr)
        return bad(herr);

    if (!c->leg || c->state != RELAY_CALL_ANSWERED) {
        free(headers);
        return frames_code_result(409, "the call must be answered to refer it");
    }
    if (c->refer && !proto_refer_state_is_final(c->refer->state)) {
        free(headers);
        return frames_code_result(409, "a refer is already in progress on this call");
    }

    char referred_by[320];
    snprintf(referred_by, sizeof referred_by, "<%s>", sip_leg_local_uri(c->leg));
    refer_op *r = calloc(1, sizeof *r);
    if (!r || !(r->target = strdup(target)) ||
        (status_url && !(r->status_url = strdup(status_url))) ||
        !(r->referred_by = strdup(referred_by)) || (username && !(r->username = strdup(username))) ||
        (password && !(r->password = strdup(password)))) {
        refer_free(r);
        free(headers);
        return frames_code_result(500, "out of memory");
    }
    r->headers = headers;
    r->state = RELAY_REFER_UNKNOWN;
    refer_free(c->refer);
    c->refer = r;
    /* A REFER right after our 200 could overtake the caller's ACK; legal,
     * but phones handle it badly. Hold it until the dialog is confirmed. */
    if (!c->established) {
        server_log(RELAY_LOG_INFO, "call %s: REFER held until the caller's ACK", c->id);
        return frames_code_result(200, "Referring");
    }
    if (refer_send(c) != 0) {
        refer_free(c->refer);
        c->refer = NULL;
        return frames_code_result(500, "could not send the SIP REFER");
    }
    return frames_code_result(200, "Referring");
}

static void code_field(json_t *p, const char *key, int code)
{
    if (code > 0) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", code);
        json_object_set_new(p, key, json_string(buf));
    }
}

/* One calling.call.refer event (and webhook) for the refer's current state. */
static void refer_report(relayd *rd, call *c)
{
    refer_op *r = c->refer;
    json_t *p = json_pack("{s:s, s:s}", "state", proto_refer_state_name(r->state), "sip_refer_to",
                          r->target);
    if (!p)
        return;
    code_field(p, "sip_refer_response_code", r->response_code);
    code_field(p, "sip_notify_response_code", r->notify_code);
    if (r->status_url && rd->hooks) {
        json_t *hook = json_pack("{s:s, s:f, s:O}", "event_type",
                                 proto_event_name(PE_CALL_REFER), "timestamp", core_wallclock(),
                                 "params", p);
        if (hook) {
            json_object_set_new(json_object_get(hook, "params"), "call_id", json_string(c->id));
            json_object_set_new(json_object_get(hook, "params"), "node_id",
                                json_string(rd->cfg->node_id));
            char *body = json_dumps(hook, JSON_COMPACT);
            json_decref(hook);
            if (body)
                webhook_post(rd->hooks, r->status_url, body);
            free(body);
        }
    }
    call_emit(rd, c, proto_event_name(PE_CALL_REFER), p);
}

void calls_on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    if (!c || !c->refer || proto_refer_state_is_final(c->refer->state))
        return;
    refer_op *r = c->refer;
    switch (p->kind) {
    case SIP_REFER_RESPONSE:
        r->response_code = p->status;
        r->state = proto_refer_state_from_sip(p->status, 0);
        break;
    case SIP_REFER_NOTIFY:
        r->notify_code = p->status;
        r->state = proto_refer_state_from_sip(p->status, 1);
        /* a subscription that ends without a final status is a failure */
        if (p->final && !proto_refer_state_is_final(r->state))
            r->state = RELAY_REFER_ERROR;
        break;
    case SIP_REFER_TIMEOUT:
        server_log(RELAY_LOG_WARN, "call %s: no final NOTIFY for the REFER in time", c->id);
        r->state = RELAY_REFER_ERROR;
        break;
    }
    server_log(RELAY_LOG_INFO, "call %s: refer %s (REFER %d, NOTIFY %d)", c->id,
               proto_refer_state_name(r->state), r->response_code, r->notify_code);
    refer_report(rd, c);
    /* the transfer is done: the transferor's leg is no longer needed */
    if (r->state == RELAY_REFER_SUCCESS && c->leg && c->state < RELAY_CALL_ENDING) {
        free(c->end_reason);
        c->end_reason = strdup(PROTO_END_HANGUP);
        call_set_state(rd, c, RELAY_CALL_ENDING);
        sip_leg_hangup(c->leg, 0);
    }
}

void refer_send_held(relayd *rd, call *c)
{
    if (c->leg && refer_send(c) == 0)
        return;
    server_log(RELAY_LOG_WARN, "call %s: the held REFER could not be sent", c->id);
    c->refer->state = RELAY_REFER_ERROR;
    refer_report(rd, c);
}

void refer_abandon(relayd *rd, call *c)
{
    server_log(RELAY_LOG_INFO, "call %s: the dialog ended before the refer finished", c->id);
    c->refer->state = RELAY_REFER_ERROR;
    refer_report(rd, c);
}
