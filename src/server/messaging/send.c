/*
 * messaging.send: answers 200 with a message_id, then reports the message
 * by messaging.state events to the sending session — queued, sent (the
 * MESSAGE is on its way), then delivered (a 2xx from the peer),
 * undelivered (the peer's failure answer: its code in sip_response_code
 * and reason) or failed (no answer: timeout, unreachable, relayd going
 * away). The answer goes out before the first event, so a client knows
 * the message_id of every event it gets.
 *
 * A msg_out lives from the answer to its MESSAGE's outcome: the UA calls
 * on_done exactly once for every MESSAGE it took (sip_ua.h), and on_done
 * frees it. It knows its session by id, as a dial does: the session may
 * end first, and its late events are then dropped. Bounded per session
 * and in all (message.h); over the bound the answer is 429.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/protocol.h"
#include "common/uuid.h"
#include "families.h"
#include "frames.h"
#include "messaging/message.h"
#include "phone.h"
#include "server_log.h"
#include "session.h"

struct msg_out {
    msg_out *next, **pprev; /* rd->msgs_out */
    relayd *rd;
    char session_id[UUID_STR_LEN];
    char id[UUID_STR_LEN];
    json_t *event; /* the event's params but the state: copied for each event */
};

static session *find_session(relayd *rd, const char *id)
{
    for (session *s = rd->sessions; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

static size_t in_flight_for(relayd *rd, const char *session_id)
{
    size_t n = 0;
    for (msg_out *m = rd->msgs_out; m; m = m->next)
        n += strcmp(m->session_id, session_id) == 0;
    return n;
}

/* messaging.state with state (and, for a failure, the SIP code and why). */
static void emit(msg_out *m, const char *state, int sip_code, const char *reason)
{
    session *s = find_session(m->rd, m->session_id);
    json_t *p = s ? json_deep_copy(m->event) : NULL;
    if (!p)
        return;
    json_object_set_new(p, "message_state", json_string(state));
    if (reason)
        json_object_set_new(p, "reason", json_string(reason));
    if (sip_code) {
        char code[8];
        snprintf(code, sizeof code, "%d", sip_code); /* SIP codes in events are strings */
        json_object_set_new(p, "sip_response_code", json_string(code));
    }
    session_send_event(m->rd, s, proto_event_name(PE_MESSAGING_STATE), p);
}

static void msg_free(msg_out *m)
{
    if (m->pprev && (*m->pprev = m->next))
        m->next->pprev = m->pprev;
    m->rd->n_msgs_out--;
    json_decref(m->event);
    free(m);
}

static void on_done(void *user, int status, const char *phrase, int local)
{
    msg_out *m = user;
    char reason[96];
    snprintf(reason, sizeof reason, "%d %s", status, phrase);
    if (status >= 200 && status < 300)
        emit(m, PROTO_MESSAGE_DELIVERED, status, NULL);
    else
        emit(m, local ? PROTO_MESSAGE_FAILED : PROTO_MESSAGE_UNDELIVERED, status, reason);
    server_log(RELAY_LOG_INFO, "message %s: %d %s%s", m->id, status, phrase,
               local ? " (no answer from the peer)" : "");
    msg_free(m);
}

/* The text the MESSAGE carries: the body, then each media URL on a line
 * of its own after a blank line (message.h). NULL on ENOMEM. */
static char *wire_body(const message_request *q, size_t *len)
{
    size_t n = q->body_len + 1, i;
    json_t *v;
    json_array_foreach(q->media, i, v) n += json_string_length(v) + 2;
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    memcpy(out, q->body, q->body_len);
    size_t at = q->body_len;
    json_array_foreach(q->media, i, v)
    {
        if (i == 0 && at)
            out[at++] = '\n';
        if (at)
            out[at++] = '\n';
        memcpy(out + at, json_string_value(v), json_string_length(v));
        at += json_string_length(v);
    }
    out[at] = '\0';
    *len = at;
    return out;
}

static void answer_code(rpc_req *r, int code, const char *why)
{
    rpc_answer(r, frames_code_result(code, why));
}

static void messaging_send(rpc_req *r)
{
    relayd *rd = r->rd;
    session *s = r->conn->session;
    char why[200];
    message_request q;
    int code = message_request_check(r->params, rd->cfg->phone_trunk, &q, why, sizeof why);
    if (code) {
        answer_code(r, code, why);
        return;
    }
    if (rd->stopping || rd->draining) {
        answer_code(r, 503, "relayd is shutting down");
        return;
    }
    if (rd->n_msgs_out >= MESSAGING_MAX_IN_FLIGHT ||
        in_flight_for(rd, s->id) >= MESSAGING_MAX_PER_SESSION) {
        snprintf(why, sizeof why, "too many messages awaiting delivery (at most %d per session)",
                 MESSAGING_MAX_PER_SESSION);
        answer_code(r, 429, why);
        return;
    }
    msg_out *m = calloc(1, sizeof *m);
    size_t len = 0;
    char *text = wire_body(&q, &len);
    if (!m || !text || uuid_v4(m->id) != 0 ||
        !(m->event = message_event(m->id, "queued", "outbound", q.context, q.from_number,
                                   q.to_number, q.body, q.body_len, q.media, q.tags))) {
        free(text);
        if (m)
            json_decref(m->event);
        free(m);
        answer_code(r, 500, "out of memory");
        return;
    }
    m->rd = rd;
    snprintf(m->session_id, sizeof m->session_id, "%s", s->id);
    if ((m->next = rd->msgs_out))
        rd->msgs_out->pprev = &m->next;
    rd->msgs_out = m;
    m->pprev = &rd->msgs_out;
    rd->n_msgs_out++;

    json_t *res = frames_code_result(200, "Message accepted");
    json_object_set_new(res, "message_id", json_string(m->id));
    rpc_answer(r, res);
    emit(m, PROTO_MESSAGE_QUEUED, 0, NULL);

    sip_message_params mp = {.to = q.to_uri,
                             .from = q.from_uri[0] ? q.from_uri : NULL,
                             .from_user = q.from_user,
                             .body = text,
                             .body_len = len,
                             /* a number went through the trunk template */
                             .trunk = q.to_number && phone_number_ok(q.to_number)};
    server_log(RELAY_LOG_INFO, "message %s to %s (%zu bytes, %zu media)", m->id, q.to_uri,
               q.body_len, json_array_size(q.media));
    if (sip_ua_message(rd->ua, &mp, on_done, m) != 0) {
        emit(m, PROTO_MESSAGE_FAILED, 0, "relayd could not send the MESSAGE");
        msg_free(m);
    } else {
        emit(m, PROTO_MESSAGE_SENT, 0, NULL);
    }
    free(text);
}

const server_family_desc messaging_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){{PM_MESSAGING_SEND, messaging_send}, {PM_UNKNOWN, NULL}},
};
