/*
 * Typed wrappers for the plain calling requests (an answer, no events to
 * follow): hold, denoise, echo, digit bindings, user events, queues,
 * transfer, live transcription and translation, rooms and conferences,
 * disconnect. Each is its params builder plus lr_call_plain; the keys are
 * the Python SDK's (signalwire/relay/call.py).
 */
#include "calling.h"
#include "common/uuid.h"

static json_t *empty(const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    return lr_pb_finish(&b, extra_json);
}

static relay_status async_only(relay_call *call, proto_method m, json_t *p,
                               relay_result_callback cb, void *user)
{
    if (!cb) {
        json_decref(p);
        return RELAY_ERR_INVALID_ARG;
    }
    return lr_call_plain(call, m, p, cb, user, NULL);
}

/* ----------------------------------------------- no params of their own */

relay_status relay_call_hold(relay_call *call, relay_result **out)
{
    return lr_call_plain(call, PM_HOLD, empty(NULL), NULL, NULL, out);
}

relay_status relay_call_hold_async(relay_call *call, relay_result_callback cb, void *user)
{
    return async_only(call, PM_HOLD, empty(NULL), cb, user);
}

relay_status relay_call_unhold(relay_call *call, relay_result **out)
{
    return lr_call_plain(call, PM_UNHOLD, empty(NULL), NULL, NULL, out);
}

relay_status relay_call_unhold_async(relay_call *call, relay_result_callback cb, void *user)
{
    return async_only(call, PM_UNHOLD, empty(NULL), cb, user);
}

relay_status relay_call_denoise(relay_call *call, relay_result **out)
{
    return lr_call_plain(call, PM_DENOISE, empty(NULL), NULL, NULL, out);
}

relay_status relay_call_denoise_async(relay_call *call, relay_result_callback cb, void *user)
{
    return async_only(call, PM_DENOISE, empty(NULL), cb, user);
}

relay_status relay_call_denoise_stop(relay_call *call, relay_result **out)
{
    return lr_call_plain(call, PM_DENOISE_STOP, empty(NULL), NULL, NULL, out);
}

relay_status relay_call_denoise_stop_async(relay_call *call, relay_result_callback cb, void *user)
{
    return async_only(call, PM_DENOISE_STOP, empty(NULL), cb, user);
}

relay_status relay_call_disconnect(relay_call *call, relay_result **out)
{
    return lr_call_plain(call, PM_DISCONNECT_CALL, empty(NULL), NULL, NULL, out);
}

relay_status relay_call_disconnect_async(relay_call *call, relay_result_callback cb, void *user)
{
    return async_only(call, PM_DISCONNECT_CALL, empty(NULL), cb, user);
}

relay_status relay_call_leave_room(relay_call *call, const char *extra_json, relay_result **out)
{
    return lr_call_plain(call, PM_LEAVE_ROOM, empty(extra_json), NULL, NULL, out);
}

relay_status relay_call_leave_room_async(relay_call *call, const char *extra_json,
                                         relay_result_callback cb, void *user)
{
    return async_only(call, PM_LEAVE_ROOM, empty(extra_json), cb, user);
}

/* ------------------------------------------------------------ echo */

static json_t *echo_json(const relay_echo_params *p)
{
    static const relay_echo_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_num(&b, "timeout", p->timeout);
    lr_pb_str(&b, "status_url", p->status_url);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_echo(relay_call *call, const relay_echo_params *p, relay_result **out)
{
    return lr_call_plain(call, PM_ECHO, echo_json(p), NULL, NULL, out);
}

relay_status relay_call_echo_async(relay_call *call, const relay_echo_params *p,
                                   relay_result_callback cb, void *user)
{
    return async_only(call, PM_ECHO, echo_json(p), cb, user);
}

/* ------------------------------------------------------ digit bindings */

static json_t *bind_digit_json(const relay_bind_digit_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "digits", p->digits);
    lr_pb_req_str(&b, "bind_method", p->bind_method);
    lr_pb_json(&b, "params", p->bind_params_json);
    lr_pb_str(&b, "realm", p->realm);
    lr_pb_int(&b, "max_triggers", p->max_triggers);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_bind_digit(relay_call *call, const relay_bind_digit_params *p,
                                   relay_result **out)
{
    return lr_call_plain(call, PM_BIND_DIGIT, bind_digit_json(p), NULL, NULL, out);
}

relay_status relay_call_bind_digit_async(relay_call *call, const relay_bind_digit_params *p,
                                         relay_result_callback cb, void *user)
{
    return async_only(call, PM_BIND_DIGIT, bind_digit_json(p), cb, user);
}

static json_t *realm_json(const char *realm)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "realm", realm);
    return lr_pb_finish(&b, NULL);
}

relay_status relay_call_clear_digit_bindings(relay_call *call, const char *realm,
                                             relay_result **out)
{
    return lr_call_plain(call, PM_CLEAR_DIGIT_BINDINGS, realm_json(realm), NULL, NULL, out);
}

relay_status relay_call_clear_digit_bindings_async(relay_call *call, const char *realm,
                                                   relay_result_callback cb, void *user)
{
    return async_only(call, PM_CLEAR_DIGIT_BINDINGS, realm_json(realm), cb, user);
}

/* ------------------------------------------------------------ user_event */

static json_t *user_event_json(const char *event, const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "event", event);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_user_event(relay_call *call, const char *event, const char *extra_json,
                                   relay_result **out)
{
    return lr_call_plain(call, PM_USER_EVENT, user_event_json(event, extra_json), NULL, NULL, out);
}

relay_status relay_call_user_event_async(relay_call *call, const char *event,
                                         const char *extra_json, relay_result_callback cb,
                                         void *user)
{
    return async_only(call, PM_USER_EVENT, user_event_json(event, extra_json), cb, user);
}

/* ------------------------------------------------------------ queues */

/* Python sends a control_id with queue.enter and queue.leave although they
 * are plain requests (no events follow by it); a fresh one each time. */
static json_t *queue_json(const relay_queue_params *p, int leave)
{
    if (!p)
        return NULL;
    char control_id[UUID_STR_LEN];
    lr_pb b;
    lr_pb_init(&b);
    if (uuid_v4(control_id) != 0)
        b.bad = 1;
    else
        lr_pb_str(&b, "control_id", control_id);
    lr_pb_req_str(&b, "queue_name", p->queue_name);
    if (leave)
        lr_pb_str(&b, "queue_id", p->queue_id);
    else if (p->queue_id)
        b.bad = 1; /* queue_id names the queue to leave only */
    lr_pb_str(&b, "status_url", p->status_url);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_queue_enter(relay_call *call, const relay_queue_params *p,
                                    relay_result **out)
{
    return lr_call_plain(call, PM_QUEUE_ENTER, queue_json(p, 0), NULL, NULL, out);
}

relay_status relay_call_queue_enter_async(relay_call *call, const relay_queue_params *p,
                                          relay_result_callback cb, void *user)
{
    return async_only(call, PM_QUEUE_ENTER, queue_json(p, 0), cb, user);
}

relay_status relay_call_queue_leave(relay_call *call, const relay_queue_params *p,
                                    relay_result **out)
{
    return lr_call_plain(call, PM_QUEUE_LEAVE, queue_json(p, 1), NULL, NULL, out);
}

relay_status relay_call_queue_leave_async(relay_call *call, const relay_queue_params *p,
                                          relay_result_callback cb, void *user)
{
    return async_only(call, PM_QUEUE_LEAVE, queue_json(p, 1), cb, user);
}

/* ------------------------------------------------------------ transfer */

static json_t *transfer_json(const char *dest, const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "dest", dest);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_transfer(relay_call *call, const char *dest, const char *extra_json,
                                 relay_result **out)
{
    return lr_call_plain(call, PM_TRANSFER, transfer_json(dest, extra_json), NULL, NULL, out);
}

relay_status relay_call_transfer_async(relay_call *call, const char *dest,
                                       const char *extra_json, relay_result_callback cb,
                                       void *user)
{
    return async_only(call, PM_TRANSFER, transfer_json(dest, extra_json), cb, user);
}

/* ------------------------------------------- live transcribe / translate */

static json_t *live_json(const char *action_json, const char *status_url, const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_json(&b, "action", action_json);
    lr_pb_str(&b, "status_url", status_url);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_live_transcribe(relay_call *call, const char *action_json,
                                        const char *extra_json, relay_result **out)
{
    return lr_call_plain(call, PM_LIVE_TRANSCRIBE, live_json(action_json, NULL, extra_json), NULL,
                         NULL, out);
}

relay_status relay_call_live_transcribe_async(relay_call *call, const char *action_json,
                                              const char *extra_json, relay_result_callback cb,
                                              void *user)
{
    return async_only(call, PM_LIVE_TRANSCRIBE, live_json(action_json, NULL, extra_json), cb,
                      user);
}

relay_status relay_call_live_translate(relay_call *call, const char *action_json,
                                       const char *status_url, const char *extra_json,
                                       relay_result **out)
{
    return lr_call_plain(call, PM_LIVE_TRANSLATE, live_json(action_json, status_url, extra_json),
                         NULL, NULL, out);
}

relay_status relay_call_live_translate_async(relay_call *call, const char *action_json,
                                             const char *status_url, const char *extra_json,
                                             relay_result_callback cb, void *user)
{
    return async_only(call, PM_LIVE_TRANSLATE, live_json(action_json, status_url, extra_json),
                      cb, user);
}

/* ------------------------------------------------- rooms and conferences */

static json_t *join_room_json(const char *name, const char *status_url, const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "name", name);
    lr_pb_str(&b, "status_url", status_url);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_join_room(relay_call *call, const char *name, const char *status_url,
                                  const char *extra_json, relay_result **out)
{
    return lr_call_plain(call, PM_JOIN_ROOM, join_room_json(name, status_url, extra_json), NULL,
                         NULL, out);
}

relay_status relay_call_join_room_async(relay_call *call, const char *name,
                                        const char *status_url, const char *extra_json,
                                        relay_result_callback cb, void *user)
{
    return async_only(call, PM_JOIN_ROOM, join_room_json(name, status_url, extra_json), cb,
                      user);
}

static json_t *conference_json(const relay_conference_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "name", p->name);
    lr_pb_bool(&b, "muted", p->muted);
    lr_pb_str(&b, "beep", p->beep);
    lr_pb_bool(&b, "start_on_enter", p->start_on_enter);
    lr_pb_bool(&b, "end_on_exit", p->end_on_exit);
    lr_pb_str(&b, "wait_url", p->wait_url);
    lr_pb_int(&b, "max_participants", p->max_participants);
    lr_pb_str(&b, "record", p->record);
    lr_pb_str(&b, "region", p->region);
    lr_pb_str(&b, "trim", p->trim);
    lr_pb_str(&b, "coach", p->coach);
    lr_pb_str(&b, "status_callback", p->status_callback);
    lr_pb_json(&b, "stream", p->stream_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_join_conference(relay_call *call, const relay_conference_params *p,
                                        relay_result **out)
{
    return lr_call_plain(call, PM_JOIN_CONFERENCE, conference_json(p), NULL, NULL, out);
}

relay_status relay_call_join_conference_async(relay_call *call, const relay_conference_params *p,
                                              relay_result_callback cb, void *user)
{
    return async_only(call, PM_JOIN_CONFERENCE, conference_json(p), cb, user);
}

static json_t *leave_conference_json(const char *conference_id, const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "conference_id", conference_id);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_leave_conference(relay_call *call, const char *conference_id,
                                         const char *extra_json, relay_result **out)
{
    return lr_call_plain(call, PM_LEAVE_CONFERENCE,
                         leave_conference_json(conference_id, extra_json), NULL, NULL, out);
}

relay_status relay_call_leave_conference_async(relay_call *call, const char *conference_id,
                                               const char *extra_json, relay_result_callback cb,
                                               void *user)
{
    return async_only(call, PM_LEAVE_CONFERENCE, leave_conference_json(conference_id, extra_json),
                      cb, user);
}
