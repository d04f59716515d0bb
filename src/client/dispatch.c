/*
 * Everything the server sends, routed: answers to the pending table,
 * server requests (event, ping, disconnect) answered at once, and events
 * routed by call_id to calls and by control_id to actions, so that new
 * methods become table rows rather than new mechanisms.
 */
#include "dispatch.h"
#include "action.h"
#include "call.h"
#include "client.h"
#include "dial.h"
#include "events.h"
#include "frames.h"
#include "messaging.h"
#include "session.h"
#include "workers.h"
#include "common/jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply(relay_client *c, char *frame)
{
    if (!frame) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory building a reply");
        return;
    }
    lr_client_send(c, frame, strlen(frame));
    free(frame);
}

int lr_dispatch_parse_event(json_t *params, relay_event *ev, json_t **inner)
{
    memset(ev, 0, sizeof *ev);
    *inner = NULL;
    if (!json_is_object(params))
        return -1;
    ev->event_type = json_string_value(json_object_get(params, "event_type"));
    if (!ev->event_type)
        return -1;
    json_t *ts = json_object_get(params, "timestamp");
    ev->timestamp = json_is_string(ts) ? strtod(json_string_value(ts), NULL) : json_number_value(ts);
    /* The event's own params are nested; accept a flat event as well. */
    json_t *in = json_object_get(params, "params");
    if (!json_is_object(in))
        in = params;
    ev->call_id = json_string_value(json_object_get(in, "call_id"));
    ev->control_id = json_string_value(json_object_get(in, "control_id"));
    ev->tag = json_string_value(json_object_get(in, "tag"));
    *inner = in;
    return 0;
}

/* SIP codes travel as strings; a server that sends numbers gets them
 * turned into strings so every reader sees one type. */
static void codes_as_strings(json_t *params)
{
    static const char *const keys[] = {"sip_refer_response_code", "sip_notify_response_code",
                                       NULL};
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(params, keys[i]);
        if (json_is_integer(v)) {
            char buf[24];
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            json_object_set_new(params, keys[i], json_string(buf));
        }
    }
}

void lr_dispatch_refer_event(json_t *params, relay_refer_event *ev)
{
    memset(ev, 0, sizeof *ev);
    codes_as_strings(params);
    ev->state_name = json_string_value(json_object_get(params, "state"));
    ev->state = proto_refer_state_from_name(ev->state_name);
    if (!ev->state_name)
        ev->state_name = "";
    ev->sip_refer_to = json_string_value(json_object_get(params, "sip_refer_to"));
    ev->sip_refer_response_code =
        json_string_value(json_object_get(params, "sip_refer_response_code"));
    ev->sip_notify_response_code =
        json_string_value(json_object_get(params, "sip_notify_response_code"));
    ev->direction = json_string_value(json_object_get(params, "direction"));
    ev->sip_referred_by = json_string_value(json_object_get(params, "sip_referred_by"));
}

static void on_call_receive(relay_client *c, json_t *in, const char *call_id)
{
    relay_call *call = lr_strmap_get(&c->calls, call_id);
    if (call) {
        /* Redelivered after a resume: already known and already handled. */
        lr_call_set_state(call, proto_call_state_from_name(
                                 json_string_value(json_object_get(in, "call_state"))));
        return;
    }
    if (c->calls.count - (size_t)c->lingering_calls >= (size_t)c->max_active_calls) {
        /* Full: hand it on (calling.pass) so that another client of the
         * context may take it, rather than leave the caller ringing. */
        CLOG(c, RELAY_LOG_WARN, "%d active calls (max_active_calls): passing inbound call %s on",
             c->max_active_calls, call_id);
        json_t *p = lr_frame_call_params(json_string_value(json_object_get(in, "node_id")),
                                         call_id);
        rpc_req *req = p ? lr_rpc_req_new(proto_method_name(PM_PASS), p, c->request_timeout_ms)
                         : NULL;
        json_decref(p);
        if (req)
            lr_rpc_take(c, req); /* nobody waits: its only reference goes to the I/O thread */
        return;
    }
    call = lr_call_new_from_event(c, in);
    if (!call)
        return;
    if (lr_strmap_put(&c->calls, call->call_id, call) != 0) {
        relay_call_unref(call);
        return;
    }
    call->in_map = 1; /* the map owns the reference call_new gave */
    if (!c->on_call)
        return;
    relay_call_ref(call); /* the handler's, dropped when it returns */
    if (lr_workers_submit(&c->pool, c->on_call, call, c->on_call_user) != 0) {
        CLOG(c, RELAY_LOG_ERROR, "could not hand call %s to a worker", call_id);
        relay_call_unref(call);
    }
}

/* Routes an event of an action family by the table: by control_id to the
 * action map, or to the call's most recent running action of the family. */
static void route_to_action(relay_client *c, proto_event type, const relay_event *ev,
                            relay_call *call, json_t *in)
{
    proto_family f = proto_family_for_event(type);
    const proto_family_info *fi = proto_family_get(f);
    if (!fi)
        return;
    relay_action *a = NULL;
    switch (fi->route) {
    case PROTO_ROUTE_CONTROL_ID:
        /* The map knows the exact family (play_and_collect shares collect's
         * events): only the event type has to agree. */
        a = ev->control_id ? lr_strmap_get(&c->actions, ev->control_id) : NULL;
        if (a && a->info->event != type)
            a = NULL;
        break;
    case PROTO_ROUTE_CALL_EVENT:
        a = call ? lr_call_running_action(call, f) : NULL;
        /* a REFER from the far end is not the progress of the call's own */
        if (a && type == PE_CALL_REFER &&
            json_is_string(json_object_get(in, "direction")) &&
            strcmp(json_string_value(json_object_get(in, "direction")), "inbound") == 0)
            a = NULL;
        break;
    default:
        break; /* dial tags: no action on the client yet */
    }
    if (call)
        lr_call_on_family_event(call, f, in); /* listeners first: they see every event */
    if (a)
        lr_action_on_event(a, in);
}

/* relay_client_on_event's delivery. The event's tree is shared with the
 * I/O thread, not copied: once on_event has typed it (codes_as_strings)
 * nobody writes to it again, and since jansson 2.11 reference counts are
 * atomic and json_dumps is safe on a value other threads read, so a
 * reference is as safe as a copy and saves a deep copy per event
 * (bench/RESULTS.md). */
typedef struct event_task {
    lr_task task;
    relay_client *c;
    relay_call *call; /* ref held, may be NULL */
    json_t *params;   /* ref held: the signalwire.event params, read only */
} event_task;

static void run_event(lr_task *t)
{
    event_task *et = (event_task *)t;
    relay_event ev;
    if (lr_event_fill(et->params, &ev) == 0) {
        if (et->c->on_event)
            et->c->on_event(et->c, &ev, et->c->on_event_user);
        if (et->call)
            lr_event_hub_deliver(&et->call->events, et->call, &ev);
        lr_event_done(&ev);
    }
    json_decref(et->params);
    relay_call_unref(et->call);
    free(et);
}

static void post_event(relay_client *c, relay_call *call, json_t *params)
{
    event_task *et = malloc(sizeof *et);
    if (!et) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory: an event is not delivered");
        return;
    }
    et->task.run = run_event;
    et->c = c;
    et->call = call;
    if (call)
        relay_call_ref(call);
    et->params = json_incref(params);
    lr_client_post(c, call ? call->strand : NULL, &et->task);
}

static void on_event(relay_client *c, json_t *params)
{
    relay_event ev;
    json_t *in;
    if (lr_dispatch_parse_event(params, &ev, &in) != 0) {
        CLOG(c, RELAY_LOG_WARN, "ignoring a signalwire.event without event_type");
        return;
    }
    proto_event type = proto_event_from_name(ev.event_type);
    /* Typing first (SIP codes as strings), so every reader sees one form. */
    if (type == PE_CALL_REFER)
        codes_as_strings(in);
    /* Waiters first: the state event that ends a call reaches them before
     * the call is marked gone below. */
    relay_call *known = ev.call_id ? lr_strmap_get(&c->calls, ev.call_id) : NULL;
    if (known)
        lr_event_hub_feed(&known->events, (relay_event_type)type, params);
    lr_event_hub_feed(&c->events, (relay_event_type)type, params);

    /* The call's own life and the session's stay special; every family
     * of operations is routed by its row of the table. */
    switch (type) {
    case PE_CALL_RECEIVE:
        if (ev.call_id)
            on_call_receive(c, in, ev.call_id);
        break;
    case PE_CALL_STATE: {
        relay_call *call = lr_strmap_get(&c->calls, ev.call_id);
        if (call)
            lr_call_set_state(call, proto_call_state_from_name(
                                        json_string_value(json_object_get(in, "call_state"))));
        break;
    }
    case PE_CALL_DIAL:
        lr_dial_on_event(c, in); /* by tag: the dial has no call of its own */
        break;
    case PE_MESSAGING_STATE:
        lr_messaging_on_state(c, in); /* by message_id: a message has no call */
        break;
    case PE_MESSAGING_RECEIVE:
        lr_messaging_on_receive(c, in);
        break;
    case PE_AUTHORIZATION_STATE:
        lr_session_on_authorization_state(
            c, json_string_value(json_object_get(in, "authorization_state")));
        break;
    default:
        route_to_action(c, type, &ev, lr_strmap_get(&c->calls, ev.call_id), in);
        break;
    }
    relay_call *call = lr_strmap_get(&c->calls, ev.call_id);
    if (c->on_event || (call && lr_event_hub_has_listeners(&call->events, (relay_event_type)type)))
        post_event(c, call, params);
}

static void on_server_request(relay_client *c, json_t *msg, const char *method)
{
    json_t *id = json_object_get(msg, "id");
    json_t *params = json_object_get(msg, "params");
    switch (proto_method_from_name(method)) {
    case PM_EVENT:
        /* Acknowledge first: the server redelivers unacknowledged events. */
        if (id)
            reply(c, jsonrpc_response(id, NULL));
        on_event(c, params);
        break;
    case PM_PING:
        if (id)
            reply(c, jsonrpc_response(id, NULL));
        break;
    case PM_DISCONNECT:
        if (id)
            reply(c, jsonrpc_response(id, NULL));
        lr_session_on_disconnect_request(c, json_is_true(json_object_get(params, "restart")));
        break;
    default:
        CLOG(c, RELAY_LOG_WARN, "server sent an unknown method %s", method);
        if (id)
            reply(c, jsonrpc_error(id, PROTO_RPC_METHOD_NOT_FOUND, "method not found"));
        break;
    }
}

void lr_dispatch_frame(relay_client *c, const char *text, size_t len)
{
    json_error_t err;
    json_t *msg = json_loadb(text, len, 0, &err);
    /* Logged parsed and written again, so escapes are plain text when
     * log_scrub looks for credentials; an unreadable frame only by where it
     * broke (jansson's reason quotes the bytes, which may be a credential). */
    if (msg && c->log.level >= RELAY_LOG_DEBUG) {
        char *again = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
        CLOG(c, RELAY_LOG_DEBUG, "recv: %s", again ? again : "(unprintable)");
        free(again);
    }
    if (!json_is_object(msg)) {
        if (msg)
            CLOG(c, RELAY_LOG_WARN, "ignoring a frame from the server that is not an object");
        else
            CLOG(c, RELAY_LOG_WARN,
                 "ignoring an unreadable frame from the server (%zu bytes, error at byte %d)",
                 len, err.position);
        json_decref(msg);
        return;
    }
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *idv = json_incref(json_object_get(msg, "id")); /* outlives the del below */
    const char *id = json_string_value(idv);
    if (method) {
        on_server_request(c, msg, method);
    } else if (id) {
        /* Detach result and error from msg: the waiter that receives them
         * must be their only owner, not share reference counts with msg. */
        json_t *result = json_incref(json_object_get(msg, "result"));
        json_t *error = json_incref(json_object_get(msg, "error"));
        json_object_del(msg, "result");
        json_object_del(msg, "error");
        if (!lr_rpc_answer(c, id, result, error))
            CLOG(c, RELAY_LOG_DEBUG, "answer to an unknown or expired request %s", id);
    } else {
        CLOG(c, RELAY_LOG_WARN, "ignoring a frame that is neither request nor answer");
    }
    json_decref(idv);
    json_decref(msg);
}
