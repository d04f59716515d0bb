/*
 * Calls: one per SIP dialog, owned by the core thread. A call is offered to
 * one session at a time (calling.call.receive); its state machine (created
 * → ringing → answered → ending → ended) is reported to that session as
 * calling.call.state events. What runs on a call (play, refer...) is a list
 * of operations behind an interface (op.h); this file knows none by name.
 */
#ifndef RELAYD_CALLING_CALL_H
#define RELAYD_CALLING_CALL_H

#include <jansson.h>
#include <relay/types.h>

#include "calling/op.h"
#include "relayd.h"
#include "sip/sip_ua.h"

/* Sessions that declined the call with calling.pass, by session id (a
 * session may be freed and its address reused; its id is never reused). */
typedef struct call_passed {
    char (*ids)[37];
    size_t n;
} call_passed;

struct call {
    call *next;
    char id[37];
    char *context;
    char *from, *to, *from_name;
    char *project;
    session *owner;          /* the session it is offered to; NULL once gone */
    relay_call_state state;
    int established;         /* the caller's ACK to our 200 has arrived */
    sip_leg *leg;            /* NULL once the dialog is over */
    char *end_reason;
    call_op *ops;            /* running operations */
    call_passed passed;
    int outbound;            /* relayd placed it (calling.dial, begin, connect) */
    int held;                /* calling.hold: the peer is held (hold.c) */
    int denoised;            /* calling.denoise: RX is cleaned (denoise.c) */
    char *tag;               /* outbound: the client's dial tag ("" if none) */
    json_t *device;          /* outbound: the device dialled, as the client sent it */
    int64_t created_at;      /* core_now_ms of the INVITE: ring_timeout_ms counts from it */
    int64_t offered_at;      /* of the current offer: offer_timeout_ms counts from it */
    json_t *refer_keys;      /* calling.refer: what each command_id got (refer.c) */
};

/* A call relayd places for session s. to/from are validated SIP URIs
 * (from may be NULL), headers validated header lines or NULL; device is
 * what the events report (borrowed: the call keeps its own reference). */
typedef struct call_place_params {
    const char *to, *from, *from_name, *headers;
    const char *tag;
    json_t *device;
    int trunk;         /* through phone_trunk (its credentials answer a challenge) */
    const int *codecs; /* RTP payload types to offer in order; NULL: PCMU, PCMA */
    size_t n_codecs;
} call_place_params;

/* The SIP UA's callbacks (see sip/sip_ua.h); user is the relayd.
 * on_refer_progress is refer.c's (calling/refer.h). */
int calls_on_incoming(void *user, sip_leg *leg, const sip_leg_info *info);
void calls_on_established(void *user, sip_leg *leg);
void calls_on_terminated(void *user, sip_leg *leg, const char *end_reason);

void calls_on_progress(void *user, sip_leg *leg, int status);

/* Places a call (INVITE) for s: reports created, then ringing (18x),
 * answered (ops' on_established runs then) and ending/ended like any
 * call. NULL if it could not be placed (reason logged). */
call *call_place(relayd *rd, session *s, const call_place_params *p);

/* The call with this id visible to session s (same project), or NULL. */
call *calls_find(relayd *rd, const char *call_id, const session *s);
/* Moves the call to `state`, reporting it to the owner. */
void call_set_state(relayd *rd, call *c, relay_call_state state);
/* Records why the call ends (first reason wins unless force). */
void call_set_end_reason(call *c, const char *reason, int force);
/* Ends the call: moves it to ending and hangs the leg up (BYE once
 * answered, else rejects with sip_status). The call may be freed before
 * this returns. */
void call_hangup(relayd *rd, call *c, int sip_status);

/* Offers the call to the next session on its context that has not passed
 * it, with a fresh calling.call.receive. The current owner is recorded as
 * having passed and stops getting the call's events. 0 if a session took
 * the offer; -1 if none is left (the call is unchanged but unowned). */
int call_offer_next(relayd *rd, call *c);
/* calling.transfer to a context: the call leaves its session and is
 * offered (calling.call.receive, in its current state) to another session
 * of its project on `context`. -1 if there is none: nothing changed. */
int call_transfer_to_context(relayd *rd, call *c, const char *context);

/* Ends every call of a session that is going away. */
void calls_session_gone(relayd *rd, session *s);
/* Housekeeping (core tick): an inbound call whose offer has waited
 * offer_timeout_ms for its session goes to the next session on the context
 * (or, none left, the caller hears 480); one ringing for ring_timeout_ms in
 * all stops ringing (480, end reason noAnswer). */
void calls_check_timeouts(relayd *rd, int64_t now);
/* Hangs up every call (shutdown). */
void calls_hangup_all(relayd *rd);

#endif
