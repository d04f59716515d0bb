/* The parts every call operation shares: its place on the call's list, its
 * events and their webhooks, and the answer for sub-methods it lacks. */
#include "calling/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/emit.h"
#include "frames.h"
#include "webhook.h"

int call_op_init(call_op *op, const call_op_vtbl *vtbl, proto_family family, relayd *rd,
                 const char *control_id, const char *status_url)
{
    memset(op, 0, sizeof *op);
    op->vtbl = vtbl;
    op->family = family;
    op->rd = rd;
    snprintf(op->control_id, sizeof op->control_id, "%s", control_id ? control_id : "");
    if (status_url && !(op->status_url = strdup(status_url)))
        return -1;
    return 0;
}

void call_op_cleanup(call_op *op)
{
    free(op->status_url);
    op->status_url = NULL;
}

void call_op_attach(call *c, call_op *op)
{
    op->call = c;
    op->next = c->ops;
    c->ops = op;
}

void call_op_detach(call_op *op)
{
    if (!op->call)
        return;
    for (call_op **p = &op->call->ops; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    op->next = NULL;
    op->call = NULL;
}

void call_op_release(call_op *op)
{
    call_op_detach(op);
    op->vtbl->free(op);
}

call_op *call_op_find(const call *c, proto_family f, const char *control_id)
{
    for (call_op *op = c->ops; op; op = op->next)
        if (op->family == f && (!control_id || strcmp(op->control_id, control_id) == 0))
            return op;
    return NULL;
}

void call_op_emit(call_op *op, json_t *params)
{
    if (!params)
        return;
    if (!op->call) {
        json_decref(params);
        return;
    }
    if (op->control_id[0])
        json_object_set_new(params, "control_id", json_string(op->control_id));
    call_emit(op->rd, op->call, proto_family_get(op->family)->event, params, op->status_url);
}

json_t *call_op_unsupported(proto_role role, proto_family f)
{
    const char *name = proto_method_name(proto_family_method(f, role));
    char msg[160];
    snprintf(msg, sizeof msg, "%s is not implemented by this relayd",
             name ? name : "this sub-method");
    return frames_code_result(501, msg);
}

json_t *call_op_check_status_url(json_t *params, const char **url)
{
    json_t *v = json_object_get(params, "status_url");
    *url = json_string_value(v);
    if (v && !*url)
        return frames_code_result(400, "status_url must be a string");
    const char *why = NULL;
    if (*url && webhook_url_validate(*url, &why) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid status_url: %s", why);
        *url = NULL;
        return frames_code_result(400, msg);
    }
    return NULL;
}
