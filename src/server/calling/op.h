/*
 * A call operation: something running on a call that reports progress by
 * events (play, refer; later record, collect, connect...). The call keeps
 * a list of them and talks to each only through its vtable, so the call's
 * own file knows no operation by name (Janus's plugin interface is the
 * model; its 2,578-line SIP handler is the counter-example).
 *
 * Ownership: an op on a call's list belongs to the call's lifetime; it
 * leaves the list with call_op_detach() and is destroyed only by its own
 * family code, through call_op_release() (detach + vtbl->free) once nothing
 * refers to it any more (a play op, for instance, waits for the message its
 * player thread has in flight). call.c never frees an op.
 *
 * Core thread only.
 */
#ifndef RELAYD_CALLING_OP_H
#define RELAYD_CALLING_OP_H

#include <jansson.h>

#include "common/protocol.h"
#include "relayd.h"

typedef struct call_op call_op;

typedef struct call_op_vtbl {
    /* Optional: the caller's ACK to our 200 arrived (the dialog is
     * confirmed). The op may release itself in here. */
    void (*on_established)(call_op *op);
    /* Required: the dialog is over and the leg's media is about to go.
     * Called with the op still on the call (so it can report): stop, emit
     * the final state, and leave the call's list (call_op_detach or
     * call_op_release) before returning. */
    void (*on_leg_gone)(call_op *op);
    /* Optional: a sub-method of the family (stop, pause, resume, volume...)
     * named this op by control_id. Returns a RELAY result {code, message};
     * call_op_unsupported() answers roles the op does not know. */
    json_t *(*control)(call_op *op, proto_role role, json_t *params);
    /* Required: frees the op (it is off the list by then). */
    void (*free)(call_op *op);
} call_op_vtbl;

/* Embedded as the first member of each family's own op struct. */
struct call_op {
    call_op *next;             /* in call->ops */
    const call_op_vtbl *vtbl;
    proto_family family;
    char control_id[64];       /* "" for call-event-routed families (refer) */
    relayd *rd;
    call *call;                /* NULL once detached */
    char *status_url;          /* NULL: no webhooks; owned */
};

/* Fills the common part; control_id may be NULL (""), status_url NULL. -1
 * when out of memory (nothing to undo). */
int call_op_init(call_op *op, const call_op_vtbl *vtbl, proto_family family, relayd *rd,
                 const char *control_id, const char *status_url);
/* Frees what call_op_init allocated (for a family's vtbl->free). */
void call_op_cleanup(call_op *op);

/* Puts the op on the call's list; the call reports to it from now on. */
void call_op_attach(call *c, call_op *op);
/* Takes the op off its call's list (no-op if it is not on one). */
void call_op_detach(call_op *op);
/* Detach, then vtbl->free: the op's work is over. */
void call_op_release(call_op *op);
/* The op of family f on the call with this control_id (NULL: the first of
 * the family), or NULL. */
call_op *call_op_find(const call *c, proto_family f, const char *control_id);

/* Sends an event of the op's family (the family's event type) to the
 * call's session, with control_id when the op has one, and POSTs it to
 * the op's status_url. Steals params. Nothing is sent once detached. */
void call_op_emit(call_op *op, json_t *params);

/* params.status_url into *url (NULL when absent). NULL if it is absent or
 * fit to post to; else a 400 result saying why. */
json_t *call_op_check_status_url(json_t *params, const char **url);

/* The 501 result for a role the op's family does not serve. */
json_t *call_op_unsupported(proto_role role, proto_family f);

#endif
