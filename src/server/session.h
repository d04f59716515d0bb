/*
 * A RELAY session: what a client established with signalwire.connect. It is
 * kept apart from the connection carrying it, so it can outlive a dropped
 * socket: events are numbered (by their JSON-RPC id) and kept until the
 * client acknowledges them, and a client that reconnects with the session's
 * `protocol` within the grace period gets every unacknowledged event again,
 * in order. Core thread only.
 */
#ifndef RELAYD_SESSION_H
#define RELAYD_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "auth/auth_state.h"
#include "context_set.h"
#include "relayd.h"

/* An open WebSocket connection, before and after it has a session. */
struct conn_entry {
    conn_entry *next;
    uint64_t id;
    relayd *rd;
    /* frames waiting out a login penalty (core.c, auth/login_penalty.h) */
    struct frame_msg *held_head, *held_tail;
    su_timer_t *held_timer;
    session *session;     /* NULL until signalwire.connect succeeds */
    char peer[64];
    int64_t opened_at;    /* core_now_ms; a connection must log in within
                             cfg->login_timeout_ms of it */
    int failed_logins;    /* closed at cfg->max_login_attempts */
    int login_expired;    /* closed for not logging in; close already asked */
    int pings_unanswered;
    char ping_id[37];     /* the ping in flight, "" if none */
};

typedef struct pending_event {
    struct pending_event *next;
    char id[37];
    char *frame;
} pending_event;

struct session {
    session *next;
    char id[37];
    char protocol[80];    /* signalwire_<signature>_<uuid>: realtime-api splits it */
    char signature[AUTH_SIGNATURE_LEN + 1]; /* auth_signature(id): authorization.signature */
    char *project;        /* scopes calls; never logged */
    uint64_t conn;        /* 0 while detached */
    int64_t detached_at;  /* core_now_ms when detached */
    int event_acks;
    context_set contexts; /* at most cfg->max_contexts */
    pending_event *outbox_head, *outbox_tail;
    size_t outbox_len;    /* at most cfg->max_unacked_events */
    int lost_events;      /* the outbox overflowed: the session cannot be
                             resumed whole, so it is closed (never a silent
                             gap in the client's event stream) */
};

session *session_create(relayd *rd, const char *project, int event_acks);
session *session_find_by_protocol(relayd *rd, const char *protocol);
/* Binds the session to a connection and resends what was not acknowledged. */
void session_attach(relayd *rd, session *s, conn_entry *c);
void session_detach(relayd *rd, session *s);
/* Ends the session: its calls are hung up. */
void session_destroy(relayd *rd, session *s);

/* contexts: a JSON array of strings. Returns 0, SESSION_CONTEXTS_INVALID if
 * it is not one, or SESSION_CONTEXTS_TOO_MANY (nothing added) if the session
 * would hold more than `max`. */
#define SESSION_CONTEXTS_INVALID (-1)
#define SESSION_CONTEXTS_TOO_MANY (-2)
int session_add_contexts(session *s, json_t *contexts, size_t max);
int session_remove_contexts(session *s, json_t *contexts);
int session_has_context(const session *s, const char *context);

/* Sends signalwire.event {event_type, timestamp, params} (steals params),
 * keeping it until acknowledged when the client asked for acks. */
void session_send_event(relayd *rd, session *s, const char *event_type, json_t *params);
/* The client left more than max_unacknowledged events: it is sent
 * signalwire.disconnect with this reason and its connection closed; a
 * resume of the session is refused with it; its calls end when it expires. */
#define SESSION_LOST_EVENTS_REASON \
    "too many unacknowledged events (max_unacked_events); events would be lost"
void session_lose_events(relayd *rd, session *s);
/* A response to one of our requests arrived on the session's connection. */
void session_on_response(session *s, const char *id);

/* Sends a frame on a connection (takes ownership of text; logs it at debug). */
void conn_send(relayd *rd, uint64_t conn, char *text);

#endif
