/*
 * relay_call internals (call.c).
 */
#ifndef RELAY_CLIENT_CALL_H
#define RELAY_CLIENT_CALL_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/protocol.h"
#include "events.h"
#include "executor.h"
#include "timer.h"

/* A per-call handler for the events of one family (relay_call_on_refer):
 * deliver types the event and calls the user's fn, on the call's strand. */
typedef struct lr_listener lr_listener;
typedef struct rpc_req rpc_req; /* rpc.h */
struct lr_listener {
    void (*deliver)(relay_call *call, json_t *params, const lr_listener *l);
    void (*fn)(void); /* the user's handler, cast back by deliver */
    void *user;
};

struct relay_call {
    atomic_int refs;
    relay_client *client;             /* [const] */
    char *call_id, *node_id, *context, *tag, *direction, *from, *to; /* [const] */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    relay_call_state state;           /* [lock] */
    int gone;                         /* [lock] no more events will come */
    lr_strand *strand;                /* [const] its callbacks run here, in order */
    lr_listener listeners[PF__COUNT]; /* [lock] per-family event handlers */
    relay_action *last[PF__COUNT];    /* [lock] last action started per family; ref held */
    lr_event_hub events;              /* listeners and waiters by event type (own lock) */

    /* [io] */
    int in_map;
    int lingering;                    /* ended, counted in client lingering_calls */
    relay_action *actions;            /* running actions of this call */
    lr_timer linger;                  /* keeps an ended call for late events */
};

/* [io] A call from calling.call.receive params; NULL on ENOMEM or no call_id. */
relay_call *lr_call_new_from_event(relay_client *c, json_t *params);
/* [io] Sets the state, wakes waiters; an ended call resolves its actions. */
void lr_call_set_state(relay_call *call, relay_call_state st);
/* [io] An event of family f for this call: posts its listener, if any. */
void lr_call_on_family_event(relay_call *call, proto_family f, json_t *params);
/* [io] The call's most recent running action of family f, or NULL. */
relay_action *lr_call_running_action(relay_call *call, proto_family f);
/* The call's last action of family f (a new reference), or NULL. */
relay_action *lr_call_last_action(relay_call *call, proto_family f);
/* Posts t to the call's strand. */
void lr_call_post(relay_call *call, lr_task *t);
/* [io] The call will see no more events: wake every waiter. */
void lr_call_mark_gone(relay_call *call);
/* [io] Drops the call from the client's map at once (linger cancelled) and
 * marks it gone. */
void lr_call_forget(relay_call *call);
/* [io] Request hook for methods the table flags PROTO_MF_RELEASES: a
 * successful pass or transfer forgets the call. */
void lr_call_release_done(relay_client *c, rpc_req *req);

#endif
