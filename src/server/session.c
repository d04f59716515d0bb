#include "metrics.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_state.h"
#include "calling/call.h"
#include "common/protocol.h"
#include "common/uuid.h"
#include "frames.h"
#include "server_log.h"
#include "ws.h"

void conn_send(relayd *rd, uint64_t conn, char *text)
{
    if (!text)
        return;
    server_log(RELAY_LOG_DEBUG, "send conn=%llu: %s", (unsigned long long)conn, text);
    ws_send(rd->ws, conn, text);
}

session *session_create(relayd *rd, const char *project, int event_acks)
{
    session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char rnd[UUID_STR_LEN];
    if (uuid_v4(s->id) != 0 || uuid_v4(rnd) != 0 || auth_signature(s->id, s->signature) != 0 ||
        !(s->project = strdup(project))) {
        free(s);
        return NULL;
    }
    snprintf(s->protocol, sizeof s->protocol, "signalwire_%s_%s", s->signature, rnd);
    s->event_acks = event_acks;
    s->next = rd->sessions;
    rd->sessions = s;
    atomic_fetch_add(&rd->metrics.sessions, 1);
    return s;
}

session *session_find_by_protocol(relayd *rd, const char *protocol)
{
    if (!protocol)
        return NULL;
    for (session *s = rd->sessions; s; s = s->next)
        if (strcmp(s->protocol, protocol) == 0)
            return s;
    return NULL;
}

void session_attach(relayd *rd, session *s, conn_entry *c)
{
    s->conn = c->id;
    s->detached_at = 0;
    c->session = s;
    for (pending_event *e = s->outbox_head; e; e = e->next) {
        char *copy = strdup(e->frame);
        if (copy)
            conn_send(rd, s->conn, copy);
    }
    if (s->outbox_len)
        server_log(RELAY_LOG_INFO, "session %s resumed: %zu unacknowledged events resent", s->id,
                   s->outbox_len);
}

void session_detach(relayd *rd, session *s)
{
    (void)rd;
    s->conn = 0;
    s->detached_at = core_now_ms();
}

static void outbox_pop(session *s)
{
    pending_event *e = s->outbox_head;
    s->outbox_head = e->next;
    if (!s->outbox_head)
        s->outbox_tail = NULL;
    s->outbox_len--;
    free(e->frame);
    free(e);
}

void session_destroy(relayd *rd, session *s)
{
    calls_session_gone(rd, s);
    for (session **p = &rd->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    for (conn_entry *c = rd->conns; c; c = c->next)
        if (c->session == s)
            c->session = NULL;
    while (s->outbox_head)
        outbox_pop(s);
    context_set_clear(&s->contexts);
    free(s->project);
    free(s);
    atomic_fetch_sub(&rd->metrics.sessions, 1);
}

int session_has_context(const session *s, const char *context)
{
    return context_set_has(&s->contexts, context);
}

static int contexts_valid(json_t *contexts)
{
    if (!json_is_array(contexts))
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(contexts, i, v)
    {
        size_t len = json_string_length(v); /* 0 for a non-string */
        if (!json_is_string(v) || len == 0 || len > 128)
            return 0;
    }
    return 1;
}

int session_add_contexts(session *s, json_t *contexts, size_t max)
{
    if (!contexts_valid(contexts))
        return SESSION_CONTEXTS_INVALID;
    /* Added names are remembered (by index) so that a refused request is
     * undone whole: the client learns the limit and holds what it held. */
    size_t n = json_array_size(contexts), n_added = 0, i;
    size_t *added = calloc(n ? n : 1, sizeof *added);
    if (!added)
        return SESSION_CONTEXTS_INVALID;
    int rc = 0;
    json_t *v;
    json_array_foreach(contexts, i, v)
    {
        const char *name = json_string_value(v);
        if (context_set_has(&s->contexts, name))
            continue;
        if (s->contexts.count >= max) {
            rc = SESSION_CONTEXTS_TOO_MANY;
            break;
        }
        if (context_set_add(&s->contexts, name) != 1) {
            rc = SESSION_CONTEXTS_INVALID;
            break;
        }
        added[n_added++] = i;
    }
    if (rc != 0)
        for (size_t k = 0; k < n_added; k++)
            context_set_remove(&s->contexts, json_string_value(json_array_get(contexts, added[k])));
    free(added);
    return rc;
}

int session_remove_contexts(session *s, json_t *contexts)
{
    if (!contexts_valid(contexts))
        return SESSION_CONTEXTS_INVALID;
    size_t i;
    json_t *v;
    json_array_foreach(contexts, i, v)
        context_set_remove(&s->contexts, json_string_value(v));
    return 0;
}

void session_lose_events(relayd *rd, session *s)
{
    server_log(RELAY_LOG_WARN,
               "session %s: %zu events unacknowledged (max_unacked_events); the session is "
               "closed rather than lose events silently",
               s->id, s->outbox_len);
    s->lost_events = 1;
    while (s->outbox_head)
        outbox_pop(s);
    if (s->conn) {
        conn_send(rd, s->conn,
                  frames_new_request(proto_method_name(PM_DISCONNECT),
                                     json_pack("{s:b, s:s}", "restart", 0, "reason",
                                               SESSION_LOST_EVENTS_REASON),
                                     NULL));
        ws_close(rd->ws, s->conn);
    }
}

void session_send_event(relayd *rd, session *s, const char *event_type, json_t *params)
{
    json_t *body = json_pack("{s:s, s:f, s:o}", "event_type", event_type, "timestamp",
                             core_wallclock(), "params", params ? params : json_object());
    char id[UUID_STR_LEN];
    char *frame = frames_new_request(proto_method_name(PM_EVENT), body, id);
    if (!frame)
        return;
    if (s->lost_events) { /* closed for overflow: the client was told */
        free(frame);
        return;
    }
    if (s->event_acks && s->outbox_len >= (size_t)rd->cfg->max_unacked_events) {
        session_lose_events(rd, s);
        free(frame);
        return;
    }
    if (s->event_acks) {
        pending_event *e = calloc(1, sizeof *e);
        char *copy = strdup(frame);
        if (e && copy) {
            memcpy(e->id, id, sizeof e->id);
            e->frame = copy;
            if (s->outbox_tail)
                s->outbox_tail->next = e;
            else
                s->outbox_head = e;
            s->outbox_tail = e;
            s->outbox_len++;
        } else {
            free(e);
            free(copy);
        }
    }
    if (s->conn)
        conn_send(rd, s->conn, frame);
    else
        free(frame);
}

void session_on_response(session *s, const char *id)
{
    if (!id)
        return;
    /* acks normally arrive in order: look at the head first */
    pending_event *prev = NULL;
    for (pending_event *e = s->outbox_head; e; prev = e, e = e->next) {
        if (strcmp(e->id, id) != 0)
            continue;
        if (!prev) {
            outbox_pop(s);
        } else {
            prev->next = e->next;
            if (s->outbox_tail == e)
                s->outbox_tail = prev;
            s->outbox_len--;
            free(e->frame);
            free(e);
        }
        return;
    }
}
