/*
 * The session methods: signalwire.connect, ping, receive, unreceive. They
 * answer JSON-RPC results or errors (receive/unreceive: RELAY results).
 * The calling methods live in calling/, one file per family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_state.h"
#include "auth/jwt.h"
#include "auth/login_penalty.h"
#include "metrics.h"
#include "common/protocol.h"
#include "config.h"
#include "frames.h"
#include "families.h"
#include "rpc.h"
#include "server_log.h"
#include "session.h"
#include "ws.h"

/* ---------------------------------------------------------------- session */

/* Who the client is: the project its credentials name. 0 with *project
 * (malloc'd, the caller's), or -1 having answered -32002 with the reason
 * (never the credential itself). */
static int authenticate(rpc_req *r, char **project)
{
    relayd *rd = r->rd;
    json_t *auth = json_object_get(r->params, "authentication");
    json_t *jwt = json_object_get(auth, "jwt_token");
    char why[160];
    *project = NULL;
    if (jwt) {
        char reason[120];
        if (!rd->cfg->jwt_secret)
            snprintf(why, sizeof why,
                     "JWT authentication is not configured on this relayd; use project/token");
        else if (!json_is_string(jwt))
            snprintf(why, sizeof why, "jwt_token must be a string");
        else if (jwt_verify_hs256(json_string_value(jwt), rd->cfg->jwt_secret,
                                  rd->cfg->jwt_secret_len, (int64_t)core_wallclock(), project,
                                  reason, sizeof reason) != 0)
            snprintf(why, sizeof why, "authentication failed: %s", reason);
        else
            return 0;
    } else {
        const char *p = json_string_value(json_object_get(auth, "project"));
        const char *token = json_string_value(json_object_get(auth, "token"));
        if (config_auth_check(rd->cfg, p, token)) {
            if ((*project = strdup(p)))
                return 0;
            rpc_reply_error(rd, r->conn, r->id, PROTO_RPC_INTERNAL_ERROR, "out of memory");
            return -1;
        }
        snprintf(why, sizeof why, "authentication failed");
    }
    atomic_fetch_add(&rd->metrics.auth_failures, 1);
    login_penalty_failed(rd->login_penalty, r->conn->peer, core_now_ms());
    server_log(RELAY_LOG_WARN, "conn=%llu from %s: %s", (unsigned long long)r->conn->id,
               r->conn->peer, why);
    rpc_reply_error(rd, r->conn, r->id, PROTO_RPC_AUTH_FAILED, why);
    /* guessing credentials costs a new connection every few tries */
    if (++r->conn->failed_logins >= rd->cfg->max_login_attempts) {
        server_log(RELAY_LOG_WARN, "conn=%llu from %s: %d failed logins; closing",
                   (unsigned long long)r->conn->id, r->conn->peer, r->conn->failed_logins);
        ws_close(rd->ws, r->conn->id);
    }
    return -1;
}

/* Gives the client its authorization state, to bring back on reconnect. */
static void send_authorization_state(relayd *rd, session *s)
{
    char state[AUTH_STATE_MAX_LEN + 1];
    if (auth_state_issue(s->project, s->id, state, sizeof state) != 0) {
        server_log(RELAY_LOG_ERROR, "session %s: cannot seal an authorization state", s->id);
        return;
    }
    session_send_event(rd, s, proto_event_name(PE_AUTHORIZATION_STATE),
                       json_pack("{s:s}", "authorization_state", state));
}

/* What a refused receive/connect `contexts` tells the client. */
static void contexts_error(relayd *rd, int rc, char *msg, size_t n)
{
    if (rc == SESSION_CONTEXTS_TOO_MANY)
        snprintf(msg, n, "too many contexts: at most %d per session (max_contexts)",
                 rd->cfg->max_contexts);
    else
        snprintf(msg, n, "contexts must be an array of names");
}

static void m_connect(rpc_req *r)
{
    relayd *rd = r->rd;
    conn_entry *c = r->conn;
    json_t *id = r->id, *params = r->params;
    if (c->session) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_REQUEST, "this connection has a session");
        return;
    }
    if (rd->draining) { /* no login and no resume: relayd is going away */
        rpc_reply_error(rd, c, id, PROTO_RPC_SHUTTING_DOWN,
                        "relayd is shutting down: connect again later");
        ws_close(rd->ws, c->id);
        return;
    }
    char *project = NULL;
    if (authenticate(r, &project) != 0)
        return;
    login_penalty_succeeded(rd->login_penalty, c->peer);
    json_t *contexts = json_object_get(params, "contexts");
    if (contexts && !json_is_array(contexts)) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, "contexts must be an array of names");
        goto out;
    }
    int acks = json_is_true(json_object_get(params, "event_acks"));

    /* An authorization state must be one we issued, to this project. */
    json_t *jstate = json_object_get(params, "authorization_state");
    char state_session[37] = "";
    if (jstate && auth_state_verify(json_string_value(jstate), project, state_session) != 0) {
        server_log(RELAY_LOG_WARN, "conn=%llu from %s: authorization_state refused",
                   (unsigned long long)c->id, c->peer);
        rpc_reply_error(rd, c, id, PROTO_RPC_AUTH_FAILED,
                        "authorization_state refused: not issued by this relayd to this project");
        goto out;
    }

    /* A known protocol resumes that session, with its unacknowledged events. */
    const char *protocol = json_string_value(json_object_get(params, "protocol"));
    session *s = session_find_by_protocol(rd, protocol);
    int resumed = s && strcmp(s->project, project) == 0;
    if (resumed && jstate && strcmp(state_session, s->id) != 0) {
        server_log(RELAY_LOG_WARN, "conn=%llu from %s: authorization_state of another session",
                   (unsigned long long)c->id, c->peer);
        rpc_reply_error(rd, c, id, PROTO_RPC_AUTH_FAILED,
                        "authorization_state refused: it belongs to another session");
        goto out;
    }
    if (resumed && s->lost_events) {
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_REQUEST,
                        "session cannot be resumed: " SESSION_LOST_EVENTS_REASON);
        goto out;
    }
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
            goto out;
        }
    }
    int crc = contexts ? session_add_contexts(s, contexts, (size_t)rd->cfg->max_contexts) : 0;
    if (crc != 0) {
        if (!resumed)
            session_destroy(rd, s);
        char msg[96];
        contexts_error(rd, crc, msg, sizeof msg);
        rpc_reply_error(rd, c, id, PROTO_RPC_INVALID_PARAMS, msg);
        goto out;
    }
    ws_authenticated(rd->ws, c->id); /* before the reply: the client's next frame may be big */
    char identity[128];
    snprintf(identity, sizeof identity, "%s@%s", s->id, rd->cfg->node_id);
    /* `authorization` is what @signalwire/realtime-api reads on every
     * connect; its signature is also protocol's second '_' field. */
    rpc_reply(rd, c, id,
              json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "protocol", s->protocol, "identity",
                        identity, "sessionid", s->id, "authorization", "project_id", s->project,
                        "signature", s->signature));
    server_log(RELAY_LOG_INFO, "conn=%llu: session %s %s (%zu contexts)",
               (unsigned long long)c->id, s->id, resumed ? "resumed" : "established",
               s->contexts.count);
    session_attach(rd, s, c);
    send_authorization_state(rd, s);
out:
    free(project);
}

static void m_ping(rpc_req *r)
{
    rpc_answer(r, json_object());
}

static void m_receive(rpc_req *r)
{
    int rc = session_add_contexts(r->conn->session, json_object_get(r->params, "contexts"),
                                  (size_t)r->rd->cfg->max_contexts);
    if (rc != 0) {
        char msg[96];
        contexts_error(r->rd, rc, msg, sizeof msg);
        rpc_answer(r, frames_code_result(400, msg));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Receiving all inbound related to the contexts"));
}

static void m_unreceive(rpc_req *r)
{
    if (session_remove_contexts(r->conn->session, json_object_get(r->params, "contexts")) != 0) {
        rpc_answer(r, frames_code_result(400, "contexts must be an array of names"));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Not receiving anymore on the contexts"));
}

const server_family_desc session_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_CONNECT, m_connect},
        {PM_PING, m_ping},
        {PM_RECEIVE, m_receive},
        {PM_UNRECEIVE, m_unreceive},
        {PM_UNKNOWN, NULL},
    },
};

