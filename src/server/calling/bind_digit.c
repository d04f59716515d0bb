/*
 * calling.bind_digit / calling.clear_digit_bindings: digit bindings kept by
 * relayd. When the caller's latest digits end with a binding's `digits`,
 * relayd runs the bound method on the call itself, with the binding's
 * `params`, as if the client had sent it (rpc_run_for_session: the same
 * checks, and that method's events go to the call's session as usual, so a
 * bound calling.play reports calling.call.play). A binding fires at most
 * `max_triggers` times (absent: for the life of the call); `realm` names a
 * group that clear_digit_bindings removes together (absent: all).
 *
 * One op per call holds every binding: a digit sink on the leg's media
 * session (digit_sink.c, the same digits collect sees: RFC 4733 and
 * in-band) feeds a rolling buffer of the last digits. The op is found by
 * its fixed control_id, so call.c knows nothing of it.
 *
 * Lifetime as in collect.c: the sink is embedded in the op, and its
 * detached message, the last one about the op, frees it. The op leaves the
 * call's list when its last binding goes (cleared or used up) or the leg
 * goes; a later bind_digit starts a new op.
 *
 * Bounds: 16 bindings per call, 16 digits per binding, a 64-byte realm,
 * the bound params within the frame size relayd already accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/digit_sink.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/session.h"
#include "rpc.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define MAX_BINDINGS 16
#define MAX_DIGITS 16
#define MAX_REALM 64
#define MAX_TRIGGERS 1000000
#define BINDINGS_ID "digit-bindings"

typedef struct binding {
    char digits[MAX_DIGITS + 1];
    char realm[MAX_REALM + 1];
    char method[64];
    json_t *params;   /* owned */
    int max_triggers; /* 0: no limit */
    int triggered;
} binding;

typedef struct bindings_op {
    call_op base; /* first */
    digit_sink sink;
    binding b[MAX_BINDINGS];
    int n;
    char heard[MAX_DIGITS + 1]; /* the latest digits, oldest first */
    unsigned fired;             /* for the control_ids of what fired */
    int detaching;              /* the sink is leaving the session */
} bindings_op;

static void binding_clear(binding *b)
{
    json_decref(b->params);
    memset(b, 0, sizeof *b);
}

static void remove_at(bindings_op *op, int i)
{
    binding_clear(&op->b[i]);
    memmove(&op->b[i], &op->b[i + 1], (size_t)(op->n - i - 1) * sizeof op->b[0]);
    op->n--;
    memset(&op->b[op->n], 0, sizeof op->b[0]);
}

static void bindings_free(call_op *base)
{
    bindings_op *op = (bindings_op *)base;
    while (op->n > 0)
        remove_at(op, op->n - 1);
    call_op_cleanup(base);
    free(op);
}

/* No binding left: the sink leaves the session (its detached message frees
 * the op) and the op leaves the call, so a new bind_digit starts afresh. */
static void retire(bindings_op *op)
{
    if (op->detaching)
        return;
    op->detaching = 1;
    call *c = op->base.call;
    if (c && c->leg && sip_leg_media(c->leg))
        media_session_detach_sink(sip_leg_media(c->leg), &op->sink.sink);
    call_op_detach(&op->base);
}

static void on_detached(void *owner) { call_op_release(owner); }

/* Runs binding i; 0 if the op can go on (the call may be gone otherwise). */
static int fire(bindings_op *op, int i)
{
    call *c = op->base.call;
    binding *b = &op->b[i];
    json_t *params = json_deep_copy(b->params);
    if (!params)
        return -1;
    json_object_set_new(params, "call_id", json_string(c->id));
    if (!json_object_get(params, "control_id")) { /* started ops need one */
        char id[64];
        snprintf(id, sizeof id, "%s-%u", BINDINGS_ID, ++op->fired);
        json_object_set_new(params, "control_id", json_string(id));
    }
    char method[sizeof b->method], digits[sizeof b->digits];
    snprintf(method, sizeof method, "%s", b->method);
    snprintf(digits, sizeof digits, "%s", b->digits);
    if (b->max_triggers && ++b->triggered >= b->max_triggers)
        remove_at(op, i);
    char call_id[sizeof c->id];
    snprintf(call_id, sizeof call_id, "%s", c->id);
    /* May end the call: nothing of it is touched afterwards but through
     * op->base.call, which leg_gone clears. */
    json_t *res = rpc_run_for_session(op->base.rd, c->owner, method, params);
    json_decref(params);
    const char *code = json_string_value(json_object_get(res, "code"));
    const char *msg = json_string_value(json_object_get(res, "message"));
    server_log(code && code[0] == '2' ? RELAY_LOG_INFO : RELAY_LOG_WARN,
               "call %s: digits %s ran %s: %s %s", call_id, digits, method, code ? code : "?",
               msg ? msg : "");
    json_decref(res);
    return op->base.call ? 0 : -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return m <= n && memcmp(s + n - m, suffix, m) == 0;
}

static void on_digit(void *owner, char digit)
{
    bindings_op *op = owner;
    if (op->detaching || !op->base.call || !op->base.call->owner)
        return;
    size_t n = strlen(op->heard);
    if (n == MAX_DIGITS) {
        memmove(op->heard, op->heard + 1, MAX_DIGITS - 1);
        n--;
    }
    op->heard[n] = digit;
    op->heard[n + 1] = '\0';
    for (int i = 0; i < op->n; i++) {
        if (!ends_with(op->heard, op->b[i].digits))
            continue;
        op->heard[0] = '\0'; /* these digits are used up */
        if (fire(op, i) != 0)
            return;
        break; /* one binding per digit: the first bound wins */
    }
    if (op->n == 0)
        retire(op);
}

static void bindings_leg_gone(call_op *base)
{
    /* The session detaches the sink as it goes; that message frees the op. */
    bindings_op *op = (bindings_op *)base;
    op->detaching = 1;
    call_op_detach(base);
}

static const call_op_vtbl bindings_vtbl = {
    .on_leg_gone = bindings_leg_gone,
    .free = bindings_free,
};

static int valid_digits(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= MAX_DIGITS && strspn(s, "0123456789*#ABCD") == n;
}

/* params into a binding; NULL, or a 400 result saying what is wrong. */
static json_t *parse_binding(json_t *params, binding *out)
{
    const char *digits = json_string_value(json_object_get(params, "digits"));
    const char *method = json_string_value(json_object_get(params, "bind_method"));
    json_t *bound = json_object_get(params, "params");
    json_t *realm = json_object_get(params, "realm");
    json_t *max = json_object_get(params, "max_triggers");
    if (!digits || !valid_digits(digits))
        return frames_code_result(400, "digits must be 1 to 16 of 0-9 * # A-D");
    if (!method || strlen(method) >= sizeof out->method)
        return frames_code_result(400, "bind_method is required");
    if (strcmp(method, proto_method_name(PM_BIND_DIGIT)) == 0 ||
        strcmp(method, proto_method_name(PM_CLEAR_DIGIT_BINDINGS)) == 0)
        return frames_code_result(400, "a binding cannot bind or clear bindings");
    if (!rpc_serves_call_method(method)) {
        char why[160];
        snprintf(why, sizeof why, "bind_method %.80s is not a call method this relayd carries out",
                 method);
        return frames_code_result(400, why);
    }
    if (bound && !json_is_object(bound))
        return frames_code_result(400, "params must be an object");
    if (realm && (!json_is_string(realm) || strlen(json_string_value(realm)) > MAX_REALM))
        return frames_code_result(400, "realm must be a string of at most 64 characters");
    if (max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
                json_integer_value(max) > MAX_TRIGGERS))
        return frames_code_result(400, "max_triggers must be an integer from 1 to 1000000");
    snprintf(out->digits, sizeof out->digits, "%s", digits);
    snprintf(out->method, sizeof out->method, "%s", method);
    snprintf(out->realm, sizeof out->realm, "%s", realm ? json_string_value(realm) : "");
    out->params = bound ? json_deep_copy(bound) : json_object();
    out->max_triggers = max ? (int)json_integer_value(max) : 0;
    if (!out->params)
        return frames_code_result(500, "out of memory");
    /* the call is the one the binding fires on, whatever params say */
    json_object_del(out->params, "call_id");
    return NULL;
}

static bindings_op *bindings_of(call *c)
{
    return (bindings_op *)call_op_find(c, PF_NONE, BINDINGS_ID);
}

static void bind_digit(rpc_req *r)
{
    call *c = r->call;
    binding b = {0};
    json_t *bad = parse_binding(r->params, &b);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    media_session *s = c->leg ? sip_leg_media(c->leg) : NULL;
    if (!s) {
        binding_clear(&b);
        rpc_answer(r, frames_code_result(409, "the call has no media to hear digits on yet"));
        return;
    }
    bindings_op *op = bindings_of(c);
    if (op && op->n == MAX_BINDINGS) {
        binding_clear(&b);
        rpc_answer(r, frames_code_result(429, "a call has at most 16 digit bindings"));
        return;
    }
    if (!op) {
        op = calloc(1, sizeof *op);
        if (!op || call_op_init(&op->base, &bindings_vtbl, PF_NONE, r->rd, BINDINGS_ID, NULL)) {
            free(op);
            binding_clear(&b);
            rpc_answer(r, frames_code_result(500, "out of memory"));
            return;
        }
        digit_sink_init(&op->sink, r->rd, op, on_digit, on_detached);
        media_session_attach_sink(s, &op->sink.sink);
        call_op_attach(c, &op->base);
    }
    op->b[op->n++] = b;
    server_log(RELAY_LOG_INFO, "call %s: digits %s bound to %s (realm '%s', %d binding(s))",
               c->id, b.digits, b.method, b.realm, op->n);
    rpc_answer(r, frames_code_result(200, "Digits bound"));
}

static void clear_digit_bindings(rpc_req *r)
{
    json_t *realm = json_object_get(r->params, "realm");
    if (realm && !json_is_string(realm)) {
        rpc_answer(r, frames_code_result(400, "realm must be a string"));
        return;
    }
    bindings_op *op = bindings_of(r->call);
    int cleared = 0;
    for (int i = op ? op->n - 1 : -1; i >= 0; i--) {
        if (realm && strcmp(op->b[i].realm, json_string_value(realm)) != 0)
            continue;
        remove_at(op, i);
        cleared++;
    }
    if (op && op->n == 0)
        retire(op);
    char msg[64];
    snprintf(msg, sizeof msg, "%d digit binding(s) cleared", cleared);
    rpc_answer(r, frames_code_result(200, msg));
}

const server_family_desc bind_digit_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_BIND_DIGIT, bind_digit},
        {PM_CLEAR_DIGIT_BINDINGS, clear_digit_bindings},
        {PM_UNKNOWN, NULL},
    },
};
