/*
 * calling.transfer {dest}: control of the call leaves the client (librelay
 * and the reference SDKs forget the call on success) and stays inside
 * relayd:
 *
 *   - "context:<name>": the call, in its current state, is offered to
 *     another session of its project receiving <name>
 *     (calling.call.receive); 404 when no other session receives it;
 *   - a SIP URI ("sip:", "sips:") or a number ("tel:+...", "+..."): relayd
 *     dials it and bridges it to the caller, as calling.connect does for
 *     one device (the connect's checks and answer codes apply: a number
 *     needs phone_trunk and a from_number). No session holds the pair
 *     afterwards: when either leg hangs up the other is hung up, and a
 *     dial that fails hangs the caller up (connect_end_together);
 *   - anything else (a URL of SWML or LaML, inline SWML): 501, relayd runs
 *     no call-flow documents.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "calling/call.h"
#include "calling/connect.h"
#include "families.h"
#include "frames.h"
#include "rpc.h"
#include "server_log.h"

#define MAX_CONTEXT 128

static int valid_context(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_CONTEXT)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
            return 0;
    return 1;
}

static void to_context(rpc_req *r, const char *name)
{
    call *c = r->call;
    if (!valid_context(name)) {
        rpc_answer(r, frames_code_result(400, "context:<name>: a name of 1 to 128 letters, "
                                              "digits, '-', '_' or '.'"));
        return;
    }
    if (!c->leg || c->state >= RELAY_CALL_ENDING) {
        rpc_answer(r, frames_code_result(410, "the call has ended"));
        return;
    }
    if (call_transfer_to_context(r->rd, c, name) != 0) {
        char why[200];
        snprintf(why, sizeof why, "no other client receives context '%s'", name);
        rpc_answer(r, frames_code_result(404, why));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Transferred"));
}

/* The connect a SIP or number destination becomes. */
static void to_endpoint(rpc_req *r, const char *dest, int is_number)
{
    const char *number = dest + (strncmp(dest, "tel:", 4) == 0 ? 4 : 0);
    json_t *device =
        is_number ? json_pack("{s:s,s:{s:s}}", "type", "phone", "params", "to_number", number)
                  : json_pack("{s:s,s:{s:s}}", "type", "sip", "params", "to", dest);
    json_t *from = json_object_get(r->params, "from_number");
    if (is_number && json_is_string(from))
        json_object_set(json_object_get(device, "params"), "from_number", from);
    json_t *params = json_pack("{s:s,s:[[o]]}", "call_id", r->call->id, "devices", device);
    json_t *res = params ? rpc_run_for_session(r->rd, r->conn->session,
                                               proto_method_name(PM_CONNECT_CALL), params)
                         : frames_code_result(500, "out of memory");
    json_decref(params);
    const char *code = json_string_value(json_object_get(res, "code"));
    if (code && code[0] == '2') {
        json_decref(res);
        /* no client holds the call now: the bridge lives and ends alone */
        connect_end_together(r->call);
        r->call->owner = NULL;
        rpc_answer(r, frames_code_result(200, "Transferring"));
        return;
    }
    rpc_answer(r, res); /* connect's own code and reason */
}

static void transfer(rpc_req *r)
{
    const char *dest = json_string_value(json_object_get(r->params, "dest"));
    if (!dest || !*dest) {
        rpc_answer(r, frames_code_result(400, "dest is required"));
        return;
    }
    if (strncmp(dest, "context:", 8) == 0) {
        to_context(r, dest + 8);
        return;
    }
    if (strncmp(dest, "sip:", 4) == 0 || strncmp(dest, "sips:", 5) == 0) {
        to_endpoint(r, dest, 0);
        return;
    }
    if (dest[0] == '+' || strncmp(dest, "tel:", 4) == 0) {
        to_endpoint(r, dest, 1);
        return;
    }
    server_log(RELAY_LOG_INFO, "call %s: transfer to a call-flow document refused", r->call->id);
    rpc_answer(r, frames_code_result(501, "relayd runs no SWML or LaML: transfer to "
                                          "context:<name>, a sip: URI or a number"));
}

const server_family_desc transfer_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_TRANSFER, transfer},
        {PM_UNKNOWN, NULL},
    },
};
