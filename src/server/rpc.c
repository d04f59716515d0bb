#include "rpc.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "frames.h"
#include "server_log.h"

void rpc_reply(relayd *rd, conn_entry *c, json_t *id, json_t *result)
{
    if (!id) { /* a notification: no answer expected */
        json_decref(result);
        return;
    }
    conn_send(rd, c->id, jsonrpc_response(id, result));
    json_decref(result);
}

void rpc_reply_error(relayd *rd, conn_entry *c, json_t *id, int code, const char *message)
{
    server_log(RELAY_LOG_INFO, "conn=%llu: error %d: %s", (unsigned long long)c->id, code,
               message);
    conn_send(rd, c->id, jsonrpc_error(id, code, message));
}

/* The frame as the log shows it: parsed and written again, so every escape
 * is plain text when log_scrub looks for credentials ("tok\u0065n" is
 * "token" by then). Only at debug level: it costs a serialisation. */
static void log_frame(const conn_entry *c, json_t *msg)
{
    if (server_log_sink.level < RELAY_LOG_DEBUG)
        return;
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    server_log(RELAY_LOG_DEBUG, "recv conn=%llu: %s", (unsigned long long)c->id,
               text ? text : "(unprintable)");
    free(text);
}

/* What is wrong with the envelope of a parsed frame, or NULL. *id_ok is 0
 * when the id itself is unusable (the error then carries a null id). */
static const char *envelope_problem(json_t *msg, int *id_ok)
{
    *id_ok = 1;
    if (json_is_array(msg)) {
        *id_ok = 0;
        return "invalid request: batches are not supported; send one request per message";
    }
    if (!json_is_object(msg)) {
        *id_ok = 0;
        return "invalid request: expected a JSON-RPC 2.0 object";
    }
    json_t *id = json_object_get(msg, "id");
    if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) {
        *id_ok = 0;
        return "invalid request: id must be a string, an integer or null";
    }
    const char *version = json_string_value(json_object_get(msg, "jsonrpc"));
    if (!version || strcmp(version, PROTO_JSONRPC) != 0)
        return "invalid request: jsonrpc must be \"2.0\"";
    json_t *method = json_object_get(msg, "method");
    if (method && !json_is_string(method))
        return "invalid request: method must be a string";
    if (!method) {
        int has_result = json_object_get(msg, "result") != NULL;
        int has_error = json_object_get(msg, "error") != NULL;
        if (!has_result && !has_error)
            return "invalid request: no method, and not a response";
        if (has_result && has_error)
            return "invalid request: a response has a result or an error, not both";
        if (!json_is_string(id))
            return "invalid request: a response needs the id of the request it answers";
    }
    return NULL;
}

static void on_response(relayd *rd, conn_entry *c, json_t *msg)
{
    (void)rd;
    const char *id = json_string_value(json_object_get(msg, "id"));
    if (!id)
        return;
    if (c->ping_id[0] && strcmp(c->ping_id, id) == 0) {
        c->ping_id[0] = '\0';
        c->pings_unanswered = 0;
        return;
    }
    if (c->session)
        session_on_response(c->session, id);
}

void rpc_answer(rpc_req *r, json_t *result)
{
    if (r->answer) { /* run for the server itself (rpc_run_for_session) */
        json_decref(*r->answer);
        *r->answer = result;
        return;
    }
    rpc_reply(r->rd, r->conn, r->id, result);
}

/* ------------------------------------------------------------- dispatch */

static void run_control(rpc_req *r)
{
    call_op *op = r->op;
    json_t *res = op->vtbl->control ? op->vtbl->control(op, r->info->role, r->params)
                                    : call_op_unsupported(r->info->role, op->family);
    rpc_answer(r, res);
}

/* The handler for a method in the table, or NULL if relayd does not serve it. */
static server_method_fn lookup(const proto_method_info *mi)
{
    for (size_t i = 0; server_families[i]; i++) {
        const server_family_desc *d = server_families[i];
        for (const server_method *m = d->methods; m->fn; m++)
            if (m->method == mi->method)
                return m->fn;
        if ((mi->flags & PROTO_MF_CONTROL) && d->family != PF_NONE && d->family == mi->family)
            return run_control;
    }
    return NULL;
}

static void answer_code(rpc_req *r, int code, const char *message)
{
    rpc_answer(r, frames_code_result(code, message));
}

/* PROTO_MF_CALL and PROTO_MF_ANSWERED. 0 once answered with why not. */
static int resolve_call(rpc_req *r)
{
    const char *call_id = json_string_value(json_object_get(r->params, "call_id"));
    if (!call_id) {
        answer_code(r, 400, "call_id is required");
        return 0;
    }
    r->call = calls_find(r->rd, call_id, r->conn->session);
    if (!r->call) {
        answer_code(r, 404, "call not found");
        return 0;
    }
    if ((r->info->flags & PROTO_MF_ANSWERED) &&
        (r->call->state != RELAY_CALL_ANSWERED || !r->call->leg)) {
        char why[160];
        snprintf(why, sizeof why, "%s needs an answered call (this one is %s)", r->info->name,
                 proto_call_state_name(r->call->state));
        answer_code(r, 409, why);
        return 0;
    }
    return 1;
}

/* PROTO_MF_CONTROL: the operation of the method's family named by control_id. */
static int resolve_op(rpc_req *r)
{
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!r->call) { /* a table row with CONTROL but not CALL: nothing to look in */
        answer_code(r, 500, "this method names no call");
        return 0;
    }
    if (!control_id || !*control_id) {
        answer_code(r, 400, "control_id is required");
        return 0;
    }
    r->op = call_op_find(r->call, r->info->family, control_id);
    if (!r->op) {
        const char *start = proto_method_name(proto_family_method(r->info->family,
                                                                   PROTO_ROLE_START));
        char why[160];
        snprintf(why, sizeof why, "no %s with this control_id on the call",
                 start ? start : "operation");
        answer_code(r, 404, why);
        return 0;
    }
    return 1;
}

/* Families that only a cloud service can carry out (an AI agent, speech
 * recognition, card payments): relayd will not grow them, so it says so
 * instead of "not implemented" (which promises nothing either way). */
static int needs_cloud(const proto_method_info *mi)
{
    static const proto_family cloud_families[] = {PF_AI, PF_PAY, PF_TRANSCRIBE};
    static const proto_method cloud_methods[] = {PM_AI_MESSAGE,    PM_AI_HOLD,
                                                 PM_AI_UNHOLD,     PM_AMAZON_BEDROCK,
                                                 PM_LIVE_TRANSCRIBE, PM_LIVE_TRANSLATE};
    for (size_t i = 0; i < sizeof cloud_families / sizeof cloud_families[0]; i++)
        if (mi->family == cloud_families[i])
            return 1;
    for (size_t i = 0; i < sizeof cloud_methods / sizeof cloud_methods[0]; i++)
        if (mi->method == cloud_methods[i])
            return 1;
    return 0;
}

/* A resolved request's checks and handler (dispatch, rpc_run_for_session). */
static void run(rpc_req *r)
{
    const proto_method_info *mi = r->info;
    server_method_fn fn = lookup(mi);
    if (!fn) { /* a RELAY method, just not one this relayd serves */
        char why[200];
        if (needs_cloud(mi))
            snprintf(why, sizeof why,
                     "%s needs a cloud service (AI, speech recognition or payments) that "
                     "this relayd does not have",
                     mi->name);
        else if (mi->method == PM_JOIN_ROOM || mi->method == PM_LEAVE_ROOM)
            /* rooms are SignalWire's video rooms: nothing here to join */
            snprintf(why, sizeof why,
                     "%s: rooms are video rooms; relayd mixes audio conferences only "
                     "(calling.join_conference)",
                     mi->name);
        else
            snprintf(why, sizeof why, "%s is not implemented by this relayd", mi->name);
        answer_code(r, 501, why);
        return;
    }
    if ((mi->flags & PROTO_MF_CALL) && !resolve_call(r))
        return;
    if ((mi->flags & PROTO_MF_CONTROL) && !resolve_op(r))
        return;
    fn(r);
}

static void dispatch(relayd *rd, conn_entry *c, json_t *id, const char *name, json_t *params)
{
    const proto_method_info *mi = proto_method_get(proto_method_from_name(name));
    if (!mi || mi->role == PROTO_ROLE_SERVER) {
        char why[200];
        snprintf(why, sizeof why, "method not found: %.120s", name);
        rpc_reply_error(rd, c, id, PROTO_RPC_METHOD_NOT_FOUND, why);
        return;
    }
    if (!(mi->flags & PROTO_MF_NO_SESSION) && !c->session) {
        rpc_reply_error(rd, c, id, PROTO_RPC_NOT_CONNECTED,
                        "no session: send signalwire.connect first");
        return;
    }
    rpc_req r = {.rd = rd, .conn = c, .id = id, .params = params, .info = mi};
    run(&r);
}

int rpc_serves_call_method(const char *name)
{
    const proto_method_info *mi = proto_method_get(proto_method_from_name(name));
    return mi && (mi->flags & PROTO_MF_CALL) && lookup(mi) != NULL;
}

json_t *rpc_run_for_session(relayd *rd, session *s, const char *name, json_t *params)
{
    const proto_method_info *mi = proto_method_get(proto_method_from_name(name));
    if (!mi || !(mi->flags & PROTO_MF_CALL) || !json_is_object(params))
        return frames_code_result(400, "not a method on a call");
    /* The handlers read the session through the connection; this one has
     * no socket, and no answer is sent: it is handed back instead. */
    conn_entry conn = {.rd = rd, .session = s};
    json_t *answer = NULL;
    rpc_req r = {.rd = rd, .conn = &conn, .params = params, .info = mi, .answer = &answer};
    run(&r);
    return answer ? answer : frames_code_result(500, "the method gave no answer");
}

void rpc_on_frame(relayd *rd, conn_entry *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        /* The client hears jansson's reason, which quotes its own bytes;
         * the log gets only where it broke: the bytes may be a credential. */
        server_log(RELAY_LOG_INFO, "conn=%llu: unparsable frame (%zu bytes), error at byte %d",
                   (unsigned long long)c->id, len, jerr.position);
        char why[220];
        snprintf(why, sizeof why, "parse error: %s (at byte %d)", jerr.text, jerr.position);
        conn_send(rd, c->id, jsonrpc_error(NULL, PROTO_RPC_PARSE_ERROR, why));
        return;
    }
    log_frame(c, msg);
    int id_ok;
    const char *problem = envelope_problem(msg, &id_ok);
    json_t *id = id_ok ? json_object_get(msg, "id") : NULL;
    if (problem) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_REQUEST, problem);
        goto out;
    }
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (!method) {
        on_response(rd, c, msg);
        goto out;
    }
    json_t *params = json_object_get(msg, "params");
    if (params && !json_is_object(params)) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, "params must be an object");
        goto out;
    }
    json_t *empty = NULL;
    if (!params)
        params = empty = json_object();
    dispatch(rd, c, id, method, params);
    json_decref(empty);
out:
    json_decref(msg);
}
