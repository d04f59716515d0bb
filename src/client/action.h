/*
 * relay_action internals: one machinery for every family (action.c).
 */
#ifndef RELAY_CLIENT_ACTION_H
#define RELAY_CLIENT_ACTION_H

#include <relay/relay.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/protocol.h"
#include "executor.h"
#include "map.h"
#include "rpc.h"

struct relay_action {
    atomic_int refs;                  /* the caller's and, while running, the I/O thread's */
    relay_client *client;             /* [const] */
    proto_family family;              /* [const] */
    const proto_family_info *info;    /* [const] its row of the table */
    char *control_id;                 /* [const] "" for families routed by call */
    char *call_id, *node_id;          /* [const] for sub-methods */
    int wait_ready;                   /* [const] a machine detect with wait_for_beep:
                                       * MACHINE and NOT_READY do not complete it */
    lr_strand *strand;                /* [const] its call's; ref held */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    strpool states;                   /* [lock] every state string seen */
    const char *state;                /* [lock] points into states */
    json_t *last;                     /* [lock] last event params (copy) */
    int completed;                    /* [lock] */
    relay_status final_status;        /* [lock] */
    relay_action_callback done_fn;    /* [lock] */
    void *done_user;                  /* [lock] */
    int done_fired;                   /* [lock] */
    relay_action_callback progress_fn;/* [lock] every event of the action */
    void *progress_user;              /* [lock] */

    /* [io] */
    relay_call *call;                 /* borrowed: valid while running (the
                                       * start request holds a ref until then) */
    int running;                      /* in its call's list (and maybe the map) */
    int in_map;                       /* in the control_id map */
    relay_action *call_prev, *call_next; /* the call's running actions */
};

/* control_id NULL: a fresh one (families routed by control_id only). */
relay_action *lr_action_new(relay_call *call, proto_family f, const char *control_id);
void lr_action_ref(relay_action *a);
void lr_action_unref(relay_action *a);
/* [io] The hook of a start request: a refused start completes the action. */
void lr_action_start_done(relay_client *c, rpc_req *req);
/* Sends the start request (params borrowed); the action runs once the I/O
 * thread takes it. Blocking (cb NULL, *out = the server's answer) or not. */
relay_status lr_action_start(relay_action *a, relay_call *call, proto_method m, json_t *params,
                             relay_result_callback cb, void *user, relay_result **out);
/* [io] Registers a running action (control_id map + its call's list). */
void lr_action_register(relay_client *c, relay_action *a);
/* [io] An event for this action (params borrowed). */
void lr_action_on_event(relay_action *a, json_t *params);
/* [io] Completes with st; final (borrowed, may be NULL) becomes the result. */
void lr_action_complete(relay_action *a, relay_status st, json_t *final);

#endif
