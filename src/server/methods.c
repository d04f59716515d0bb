/*
 * The methods relayd serves. Session methods answer JSON-RPC results or
 * errors; calling methods answer RELAY results {code, message} where a
 * missing call is "404" and a bad parameter "400", as the cloud does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "common/protocol.h"
#include "frames.h"
#include "rpc.h"
#include "server_log.h"
#include "session.h"

/* ---------------------------------------------------------------- session */

static void m_connect(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    if (c->session) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_REQUEST, "this connection has a session");
        return;
    }
    json_t *auth = json_object_get(params, "authentication");
    if (json_object_get(auth, "jwt_token")) {
        rpc_reply_error(rd, c, id, PROTO_RPC_UNAUTHORIZED,
                        "JWT authentication is not supported by this relayd; use project/token");
        return;
    }
    const char *project = json_string_value(json_object_get(auth, "project"));
    const char *token = json_string_value(json_object_get(auth, "token"));
    if (!config_auth_check(rd->cfg, project, token)) {
        server_log(RELAY_LOG_WARN, "conn=%llu from %s: authentication failed",
                   (unsigned long long)c->id, c->peer);
        rpc_reply_error(rd, c, id, PROTO_RPC_UNAUTHORIZED, "authentication failed");
        return;
    }
    json_t *contexts = json_object_get(params, "contexts");
    if (contexts && !json_is_array(contexts)) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, "contexts must be an array of names");
        return;
    }
    int acks = json_is_true(json_object_get(params, "event_acks"));

    /* A known protocol resumes that session, with its unacknowledged events. */
    const char *protocol = json_string_value(json_object_get(params, "protocol"));
    session *s = session_find_by_protocol(rd, protocol);
    int resumed = s && strcmp(s->project, project) == 0;
    if (resumed) {
        if (s->conn) { /* the old socket has not noticed it is dead yet */
            for (conn_entry *o = rd->conns; o; o = o->next)
                if (o->session == s)
                    o->session = NULL;
            session_detach(rd, s);
        }
        s->event_acks = acks;
    } else {
        s = session_create(rd, project, acks);
        if (!s) {
            rpc_reply_error(rd, c, id, PROTO_RPC_INTERNAL_ERROR, "out of memory");
            return;
        }
    }
    if (contexts && session_add_contexts(s, contexts) != 0) {
        if (!resumed)
            session_destroy(rd, s);
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, "contexts must be an array of names");
        return;
    }
    char identity[128];
    snprintf(identity, sizeof identity, "%s@%s", s->id, rd->cfg->node_id);
    rpc_reply(rd, c, id,
              json_pack("{s:s, s:s, s:s}", "protocol", s->protocol, "identity", identity,
                        "sessionid", s->id));
    server_log(RELAY_LOG_INFO, "conn=%llu: session %s %s (%zu contexts)",
               (unsigned long long)c->id, s->id, resumed ? "resumed" : "established",
               s->n_contexts);
    session_attach(rd, s, c);
}

static void m_ping(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    (void)params;
    rpc_reply(rd, c, id, json_object());
}

static void m_receive(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    if (session_add_contexts(c->session, json_object_get(params, "contexts")) != 0) {
        rpc_reply(rd, c, id, frames_code_result(400, "contexts must be an array of names"));
        return;
    }
    rpc_reply(rd, c, id, frames_code_result(200, "Receiving all inbound related to the contexts"));
}

static void m_unreceive(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    if (session_remove_contexts(c->session, json_object_get(params, "contexts")) != 0) {
        rpc_reply(rd, c, id, frames_code_result(400, "contexts must be an array of names"));
        return;
    }
    rpc_reply(rd, c, id, frames_code_result(200, "Not receiving anymore on the contexts"));
}

/* ---------------------------------------------------------------- calling */

/* The call a calling.* request names, or NULL after replying 404/400. */
static call *target_call(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    const char *call_id = json_string_value(json_object_get(params, "call_id"));
    if (!call_id) {
        rpc_reply(rd, c, id, frames_code_result(400, "call_id is required"));
        return NULL;
    }
    call *k = calls_find(rd, call_id, c->session);
    if (!k)
        rpc_reply(rd, c, id, frames_code_result(404, "call not found"));
    return k;
}

static void m_answer(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    call *k = target_call(rd, c, id, params);
    if (!k)
        return;
    if (k->state == RELAY_CALL_ANSWERED) {
        rpc_reply(rd, c, id, frames_code_result(200, "Answered"));
        return;
    }
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        rpc_reply(rd, c, id, frames_code_result(410, "the call has ended"));
        return;
    }
    if (sip_leg_answer(k->leg) != 0) {
        rpc_reply(rd, c, id, frames_code_result(500, "could not answer: no common codec"));
        return;
    }
    rpc_reply(rd, c, id, frames_code_result(200, "Answered"));
    call_set_state(rd, k, RELAY_CALL_ANSWERED);
}

static int sip_status_for(const char *reason, int answered)
{
    if (answered)
        return 0; /* a BYE */
    if (strcmp(reason, PROTO_END_BUSY) == 0)
        return 486;
    if (strcmp(reason, PROTO_END_DECLINE) == 0)
        return 603;
    if (strcmp(reason, PROTO_END_ERROR) == 0)
        return 500;
    return 480;
}

static void m_end(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    call *k = target_call(rd, c, id, params);
    if (!k)
        return;
    const char *reason = json_string_value(json_object_get(params, "reason"));
    if (!reason)
        reason = PROTO_END_HANGUP;
    if (!proto_end_reason_valid(reason)) {
        rpc_reply(rd, c, id, frames_code_result(400, "unknown end reason"));
        return;
    }
    if (!k->leg || k->state >= RELAY_CALL_ENDING) {
        rpc_reply(rd, c, id, frames_code_result(200, "Ending"));
        return;
    }
    free(k->end_reason);
    k->end_reason = strdup(reason);
    int status = sip_status_for(reason, k->state >= RELAY_CALL_ANSWERED);
    /* reply first: ending may complete (and free the call) at once */
    rpc_reply(rd, c, id, frames_code_result(200, "Ending"));
    call_set_state(rd, k, RELAY_CALL_ENDING);
    sip_leg_hangup(k->leg, status);
}

static void m_play(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    call *k = target_call(rd, c, id, params);
    if (k)
        rpc_reply(rd, c, id, play_start(rd, k, params));
}

static void play_ctl(relayd *rd, conn_entry *c, json_t *id, json_t *params, const char *what)
{
    call *k = target_call(rd, c, id, params);
    if (!k)
        return;
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id) {
        rpc_reply(rd, c, id, frames_code_result(400, "control_id is required"));
        return;
    }
    rpc_reply(rd, c, id, play_control(rd, k, control_id, what));
}

static void m_play_stop(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    play_ctl(rd, c, id, params, "stop");
}

static void m_play_pause(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    play_ctl(rd, c, id, params, "pause");
}

static void m_play_resume(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    play_ctl(rd, c, id, params, "resume");
}

static void m_refer(relayd *rd, conn_entry *c, json_t *id, json_t *params)
{
    call *k = target_call(rd, c, id, params);
    if (k)
        rpc_reply(rd, c, id, refer_start(rd, k, params));
}

/* ------------------------------------------------------------------ table */

static const struct {
    proto_method method;
    method_handler fn;
    int needs_session;
} table[] = {
    {PM_CONNECT, m_connect, 0},      {PM_PING, m_ping, 0},
    {PM_RECEIVE, m_receive, 1},      {PM_UNRECEIVE, m_unreceive, 1},
    {PM_ANSWER, m_answer, 1},        {PM_END, m_end, 1},
    {PM_PLAY, m_play, 1},            {PM_PLAY_STOP, m_play_stop, 1},
    {PM_PLAY_PAUSE, m_play_pause, 1}, {PM_PLAY_RESUME, m_play_resume, 1},
    {PM_REFER, m_refer, 1},
};

method_handler methods_find(const char *name, int *needs_session)
{
    proto_method m = proto_method_from_name(name);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].method == m && m != PM_UNKNOWN) {
            *needs_session = table[i].needs_session;
            return table[i].fn;
        }
    return NULL;
}
