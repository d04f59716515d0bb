/*
 * Calls: one per SIP dialog, owned by the core thread. A call belongs to the
 * session it was offered to; its state machine (created → ringing →
 * answered → ending → ended) is reported to that session as
 * calling.call.state events. Refer and play operations hang off the call.
 */
#ifndef RELAYD_CALLS_H
#define RELAYD_CALLS_H

#include <jansson.h>
#include <relay/types.h>

#include "relayd.h"
#include "sip/sip_ua.h"

typedef struct play_op play_op;

typedef struct refer_op {
    char *target;      /* the validated Refer-To URI */
    char *status_url;  /* NULL: no webhooks */
    /* what the REFER carries, kept until it is sent (see refer_send) */
    char *referred_by, *username, *password, *headers;
    int sent;
    int response_code; /* the REFER's final response, 0 until known */
    int notify_code;   /* the last NOTIFY's sipfrag status, 0 until known */
    relay_refer_state state;
} refer_op;

struct call {
    call *next;
    char id[37];
    char *context;
    char *from, *to, *from_name;
    char *project;
    session *owner;          /* NULL once the session has gone */
    relay_call_state state;
    int established;         /* the caller's ACK to our 200 has arrived */
    sip_leg *leg;            /* NULL once the dialog is over */
    char *end_reason;
    refer_op *refer;         /* the refer in progress, or the last one */
    play_op *plays;          /* running play operations */
};

/* The SIP UA's callbacks (see sip/sip_ua.h); user is the relayd. */
int calls_on_incoming(void *user, sip_leg *leg, const sip_leg_info *info);
void calls_on_established(void *user, sip_leg *leg);
void calls_on_terminated(void *user, sip_leg *leg, const char *end_reason);
void calls_on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p);

/* The call with this id visible to session s (same project), or NULL. */
call *calls_find(relayd *rd, const char *call_id, const session *s);
/* Moves the call to `state`, reporting it to the owner. */
void call_set_state(relayd *rd, call *c, relay_call_state state);
/* Sends an event about this call to its owner, adding call_id and node_id
 * (steals params). */
void call_emit(relayd *rd, call *c, const char *event_type, json_t *params);
/* Ends every call of a session that is going away. */
void calls_session_gone(relayd *rd, session *s);
/* Hangs up every call (shutdown). */
void calls_hangup_all(relayd *rd);

/* refer.c: starts a refer; returns a RELAY result ({code,message}). */
json_t *refer_start(relayd *rd, call *c, json_t *params);
/* refer.c: sends a refer that was held until the dialog was established. */
void refer_send_held(relayd *rd, call *c);
/* refer.c: the dialog ended with the refer unresolved. */
void refer_abandon(relayd *rd, call *c);
void refer_free(refer_op *r);

/* play.c */
json_t *play_start(relayd *rd, call *c, json_t *params);
json_t *play_control(relayd *rd, call *c, const char *control_id, const char *what);
/* The call's media is going away: stop and join every player now. */
void play_detach_all(relayd *rd, call *c);

#endif
