/*
 * calling.refer: a SIP REFER in the call's dialog (RFC 3515), its 202 and
 * NOTIFY progress turned into calling.call.refer events and status_url
 * webhooks. The target comes from a client, so it is validated before it
 * can reach a header.
 *
 * Refer events carry no control_id: they are routed by call and event
 * type, so a refer op has control_id "" and at most one runs on a call at
 * a time. The op leaves the call as soon as its state is final.
 *
 * An attended transfer names another call on this relayd (the consult
 * leg, device.params.replaces_call_id): its dialog goes into the
 * Refer-To as Replaces (RFC 5589 7). A client that retries a request it
 * got no answer to sends the same command_id: the call remembers what
 * each of its last REFER_KEYS_MAX keys got, so a retry never sends a
 * second REFER.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"
#include "calling/refer.h"

#include "calling/call.h"
#include "calling/headers.h"
#include "common/protocol.h"
#include "common/sip_uri.h"
#include "families.h"
#include "frames.h"
#include "server_log.h"
#include "session.h"


#define REFER_KEYS_MAX 16
#define REFER_KEY_MAX 64

typedef struct refer_op {
    call_op base;      /* first: the call_op is the refer_op */
    json_t *key_entry; /* the command_id's entry in call.refer_keys, or NULL */
    char *target;      /* the validated Refer-To URI */
    /* what the REFER carries, kept until it is sent (see refer_send) */
    char *referred_by, *username, *password, *headers;
    int sent;
    int response_code; /* the REFER's final response, 0 until known */
    int notify_code;   /* the last NOTIFY's sipfrag status, 0 until known */
    relay_refer_state state;
} refer_op;

static void refer_free(call_op *base)
{
    refer_op *r = (refer_op *)base;
    free(r->target);
    free(r->referred_by);
    free(r->username);
    free(r->password);
    free(r->headers);
    json_decref(r->key_entry);
    call_op_cleanup(base);
    free(r);
}

/* Puts the REFER on the wire. Its credentials are dropped once sent: they
 * are not kept a moment longer than needed. */
static int refer_send(refer_op *r)
{
    call *c = r->base.call;
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

static json_t *bad(const char *message)
{
    return frames_code_result(400, message);
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
static void refer_report(refer_op *r)
{
    /* a refer reaches one final state once: its outcome is counted here */
    if (proto_refer_state_is_final(r->state) && r->state < METRICS_REFER_STATES)
        atomic_fetch_add(&r->base.rd->metrics.refers[r->state], 1);
    json_t *p = json_pack("{s:s, s:s}", "state", proto_refer_state_name(r->state), "sip_refer_to",
                          r->target);
    if (!p)
        return;
    code_field(p, "sip_refer_response_code", r->response_code);
    code_field(p, "sip_notify_response_code", r->notify_code);
    if (r->key_entry)
        json_object_set_new(r->key_entry, "state", json_string(proto_refer_state_name(r->state)));
    call_op_emit(&r->base, p);
}

/* The refer ends in error: report it, and the op is done. */
static void refer_fail(refer_op *r)
{
    r->state = RELAY_REFER_ERROR;
    refer_report(r);
    call_op_release(&r->base);
}

/* A REFER right after our 200 could overtake the caller's ACK; legal, but
 * phones handle it badly. So a refer started before the ACK is held until
 * the dialog is confirmed, and sent from here. */
static void refer_on_established(call_op *base)
{
    refer_op *r = (refer_op *)base;
    if (r->sent)
        return;
    if (r->base.call->leg && refer_send(r) == 0)
        return;
    server_log(RELAY_LOG_WARN, "call %s: the held REFER could not be sent", r->base.call->id);
    refer_fail(r);
}

static void refer_leg_gone(call_op *base)
{
    server_log(RELAY_LOG_INFO, "call %s: the dialog ended before the refer finished",
               base->call->id);
    refer_fail((refer_op *)base);
}

static const call_op_vtbl refer_vtbl = {
    .on_established = refer_on_established,
    .on_leg_gone = refer_leg_gone,
    .free = refer_free,
};

/* The request's target and credentials; NULL if fine, else a 400 result. */
static json_t *refer_params_invalid(call *c, json_t *params, const char **target,
                                    char **headers)
{
    json_t *device = json_object_get(params, "device");
    if (!json_is_object(device))
        return bad("device is required");
    const char *type = json_string_value(json_object_get(device, "type"));
    if (!type || strcmp(type, "sip") != 0)
        return bad("device.type must be \"sip\"");
    json_t *dp = json_object_get(device, "params");
    const char *why = NULL;
    json_t *rep = json_object_get(dp, "replaces_call_id");
    if (rep && (!json_is_string(rep) || json_string_length(rep) == 0 ||
                json_string_length(rep) > 36))
        return bad("device.params.replaces_call_id must be a call_id");
    if (!(*target = target_of(dp)) && !rep)
        return bad("device.params.uri is required");
    if (*target && sip_uri_validate(*target, &why) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid refer target: %s", why);
        server_log(RELAY_LOG_WARN, "call %s: refer refused: %s", c->id, why);
        return bad(msg);
    }
    const char *username = json_string_value(json_object_get(dp, "username"));
    const char *password = json_string_value(json_object_get(dp, "password"));
    if ((username && (strpbrk(username, "\r\n\":") || strlen(username) > 128)) ||
        (password && (strpbrk(password, "\r\n\"") || strlen(password) > 128)))
        return bad("invalid username or password");
    const char *herr = call_headers_build(json_object_get(dp, "headers"), headers);
    return herr ? bad(herr) : NULL;
}

/* Attended transfer: the Refer-To target with the consult call's dialog
 * as its Replaces header part, in *out (malloc'd). NULL if fine, else the
 * error result (nothing is sent then). */
static json_t *with_replaces(rpc_req *req, const char *replaces_id, const char *target,
                             char **out)
{
    call *c = req->call;
    call *consult = calls_find(req->rd, replaces_id, req->conn->session);
    if (consult == c)
        return bad("replaces_call_id names the call being referred");
    char query[512];
    if (!consult || !consult->leg || consult->state != RELAY_CALL_ANSWERED ||
        sip_leg_replaces_query(consult->leg, query, sizeof query) != 0) {
        server_log(RELAY_LOG_WARN, "call %s: refer refused: no answered call %s to replace",
                   c->id, replaces_id);
        return frames_code_result(404, "replaces_call_id: no such answered call");
    }
    /* without a uri the target is the consult call's far end */
    if (!target)
        target = sip_leg_remote_uri(consult->leg);
    size_t n = strlen(target) + strlen(query) + 2;
    if (!(*out = malloc(n)))
        return frames_code_result(500, "out of memory");
    snprintf(*out, n, "%s%c%s", target, strchr(target, '?') ? '&' : '?', query);
    return NULL;
}

/* A command_id this call has seen: its entry, else NULL. */
static json_t *key_find(call *c, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->refer_keys, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "command_id")), key) == 0)
            return e;
    }
    return NULL;
}

/* Remembers the key with the result it got; the oldest is forgotten past
 * REFER_KEYS_MAX. The new entry (borrowed), NULL when out of memory. */
static json_t *key_remember(call *c, const char *key, const char *code, const char *message)
{
    if (!c->refer_keys && !(c->refer_keys = json_array()))
        return NULL;
    if (json_array_size(c->refer_keys) >= REFER_KEYS_MAX)
        json_array_remove(c->refer_keys, 0);
    json_t *e = json_pack("{s:s, s:s, s:s}", "command_id", key, "code", code, "message", message);
    if (!e || json_array_append_new(c->refer_keys, e) != 0)
        return NULL;
    return e;
}

static refer_op *refer_new(relayd *rd, call *c, json_t *dp, const char *target,
                           const char *status_url)
{
    const char *username = json_string_value(json_object_get(dp, "username"));
    const char *password = json_string_value(json_object_get(dp, "password"));
    char referred_by[320];
    snprintf(referred_by, sizeof referred_by, "<%s>", sip_leg_local_uri(c->leg));
    refer_op *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (call_op_init(&r->base, &refer_vtbl, PF_REFER, rd, NULL, status_url) != 0 ||
        !(r->target = strdup(target)) || !(r->referred_by = strdup(referred_by)) ||
        (username && !(r->username = strdup(username))) ||
        (password && !(r->password = strdup(password)))) {
        refer_free(&r->base);
        return NULL;
    }
    r->state = RELAY_REFER_UNKNOWN;
    return r;
}

/* calling.refer; the RPC layer has checked that the call is answered. */
static void refer_start(rpc_req *r)
{
    call *c = r->call;
    const char *target = NULL, *status_url = NULL;
    char *headers = NULL, *replaced = NULL;
    json_t *jkey = json_object_get(r->params, "command_id");
    const char *key = json_string_value(jkey);
    if (jkey && (!key || !*key || strlen(key) > REFER_KEY_MAX)) {
        rpc_answer(r, bad("command_id must be a string of 1-64 characters"));
        return;
    }
    json_t *seen = key ? key_find(c, key) : NULL;
    if (seen) {
        /* a retry: what the first got, and where that refer is now */
        server_log(RELAY_LOG_INFO, "call %s: refer command_id %s seen: nothing sent", c->id, key);
        json_t *res = json_deep_copy(seen);
        json_object_del(res, "command_id");
        rpc_answer(r, res);
        return;
    }
    json_t *res = refer_params_invalid(c, r->params, &target, &headers);
    json_t *dp = json_object_get(json_object_get(r->params, "device"), "params");
    const char *replaces_id = json_string_value(json_object_get(dp, "replaces_call_id"));
    if (!res)
        res = call_op_check_status_url(r->params, &status_url);
    if (!res && call_op_find(c, PF_REFER, NULL))
        res = frames_code_result(409, "a refer is already in progress on this call");
    if (!res && replaces_id && !(res = with_replaces(r, replaces_id, target, &replaced)))
        target = replaced;
    if (res) {
        free(headers);
        rpc_answer(r, res);
        return;
    }
    refer_op *op = refer_new(r->rd, c, dp, target, status_url);
    free(replaced);
    if (!op) {
        free(headers);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->headers = headers;
    if (key && (op->key_entry = key_remember(c, key, "200", "Referring")))
        json_incref(op->key_entry);
    call_op_attach(c, &op->base);
    if (!c->established) {
        server_log(RELAY_LOG_INFO, "call %s: REFER held until the caller's ACK", c->id);
    } else if (refer_send(op) != 0) {
        if (op->key_entry) { /* a retry gets this answer too */
            json_object_set_new(op->key_entry, "code", json_string("500"));
            json_object_set_new(op->key_entry, "message", json_string("could not send the SIP REFER"));
        }
        call_op_release(&op->base);
        rpc_answer(r, frames_code_result(500, "could not send the SIP REFER"));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Referring"));
}

static void refer_update(refer_op *r, const sip_refer_progress *p)
{
    switch (p->kind) {
    case SIP_REFER_RESPONSE:
        r->response_code = p->status;
        /* a REFER refused, or never answered (sofia's own 408 after the
         * transaction timeout), is an error: busy or noAnswer describe the
         * transfer target, which only a NOTIFY reports */
        r->state = p->status >= 300 ? RELAY_REFER_ERROR : proto_refer_state_from_sip(p->status, 0);
        break;
    case SIP_REFER_NOTIFY:
        r->notify_code = p->status;
        r->state = proto_refer_state_from_sip(p->status, 1);
        /* a subscription that ends without a final status is a failure */
        if (p->final && !proto_refer_state_is_final(r->state))
            r->state = RELAY_REFER_ERROR;
        break;
    case SIP_REFER_TIMEOUT:
        server_log(RELAY_LOG_WARN, "call %s: no final NOTIFY for the REFER in time",
                   r->base.call->id);
        r->state = RELAY_REFER_ERROR;
        break;
    }
}

void calls_on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p)
{
    relayd *rd = user;
    call *c = sip_leg_get_user(leg);
    refer_op *r = c ? (refer_op *)call_op_find(c, PF_REFER, NULL) : NULL;
    if (!r)
        return; /* no refer running: late progress of a finished one */
    refer_update(r, p);
    server_log(RELAY_LOG_INFO, "call %s: refer %s (REFER %d, NOTIFY %d)", c->id,
               proto_refer_state_name(r->state), r->response_code, r->notify_code);
    refer_report(r);
    if (!proto_refer_state_is_final(r->state))
        return;
    relay_refer_state state = r->state;
    call_op_release(&r->base); /* before a hangup that would report it as cut short */
    /* the transfer is done: the transferor's leg is no longer needed */
    if (state == RELAY_REFER_SUCCESS && c->leg && c->state < RELAY_CALL_ENDING) {
        call_set_end_reason(c, PROTO_END_HANGUP, 1);
        call_hangup(rd, c, 0);
    }
}

const server_family_desc refer_family = {
    .family = PF_REFER,
    .methods = (const server_method[]){
        {PM_REFER, refer_start},
        {PM_UNKNOWN, NULL},
    },
};
