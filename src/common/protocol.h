/*
 * The RELAY vocabulary: every method, every event type, every family of
 * operations that reports progress by events, and the states and
 * result-code rules. One table, used by librelay and relayd alike, so the
 * two halves cannot drift apart and a method name is spelt once in the
 * tree (libuv's UV_ERRNO_MAP and redis's command table are the models).
 * See docs/relay-protocol.md for the wire contract and docs/architecture.md
 * for the rule for adding a method.
 */
#ifndef RELAY_COMMON_PROTOCOL_H
#define RELAY_COMMON_PROTOCOL_H

#include <stddef.h>
#include <relay/types.h>

#define PROTO_JSONRPC "2.0"
#define PROTO_VERSION_MAJOR 2
#define PROTO_VERSION_MINOR 0
#define PROTO_VERSION_REVISION 0

/* Limits shared by both sides (reference client values). */
#define PROTO_MAX_FRAME (10 * 1024 * 1024)
#define PROTO_DEFAULT_TIMEOUT_MS 10000
#define PROTO_MAX_OFFLINE_QUEUE 500
#define PROTO_MAX_ACTIVE_CALLS 1000
#define PROTO_PING_INTERVAL_MS 30000 /* the reference client's */

/* ------------------------------------------------------------------ events */

/* X(ID, "event_type") */
#define PROTO_EVENTS(X)                                                        \
    X(CALL_RECEIVE, "calling.call.receive")                                   \
    X(CALL_STATE, "calling.call.state")                                       \
    X(CALL_PLAY, "calling.call.play")                                         \
    X(CALL_RECORD, "calling.call.record")                                     \
    X(CALL_COLLECT, "calling.call.collect")                                   \
    X(CALL_DETECT, "calling.call.detect")                                     \
    X(CALL_TAP, "calling.call.tap")                                           \
    X(CALL_STREAM, "calling.call.stream")                                     \
    X(CALL_FAX, "calling.call.fax")                                           \
    X(CALL_SEND_DIGITS, "calling.call.send_digits")                           \
    X(CALL_PAY, "calling.call.pay")                                           \
    X(CALL_TRANSCRIBE, "calling.call.transcribe")                             \
    X(CALL_AI, "calling.call.ai")                                             \
    X(CALL_REFER, "calling.call.refer")                                       \
    X(CALL_DIAL, "calling.call.dial")                                         \
    X(CALL_CONNECT, "calling.call.connect")                                   \
    X(CALL_HOLD, "calling.call.hold")                                         \
    X(CALL_DENOISE, "calling.call.denoise")                                   \
    X(CALL_ECHO, "calling.call.echo")                                         \
    X(CALL_QUEUE, "calling.call.queue")                                       \
    X(CONFERENCE, "calling.conference")                                       \
    X(CALLING_ERROR, "calling.error")                                         \
    X(MESSAGING_RECEIVE, "messaging.receive")                                 \
    X(MESSAGING_STATE, "messaging.state")                                     \
    X(AUTHORIZATION_STATE, "signalwire.authorization.state")

typedef enum proto_event {
    PE_UNKNOWN = 0,
#define PROTO_X_ENUM(id, name) PE_##id,
    PROTO_EVENTS(PROTO_X_ENUM)
#undef PROTO_X_ENUM
    PE__COUNT
} proto_event;

/* ---------------------------------------------------------------- families */

/* How the events of a family find the operation they report on. */
typedef enum proto_route {
    PROTO_ROUTE_NONE = 0,
    PROTO_ROUTE_CONTROL_ID, /* the event carries the client's control_id */
    PROTO_ROUTE_CALL_EVENT, /* no control_id: the call's running op of the family */
    PROTO_ROUTE_TAG         /* the dial tag (no call exists yet) */
} proto_route;

/* When an operation of the family is complete. */
typedef enum proto_done {
    PROTO_DONE_ON_STATE = 0, /* an event whose state is terminal */
    PROTO_DONE_ON_RESULT,    /* also: the first event with a non-empty "result" (collect) */
    PROTO_DONE_ON_DETECT     /* also: the first event with a non-empty "detect" object: a
                                detector reports {detect: {type, params: {event}}} and
                                may never send a terminal state after it */
} proto_done;

/*
 * Operations that report progress by events: on the client each is a
 * relay_action, on the server a call operation.
 * X(ID, EVENT, ROUTE, DONE, "terminal states", "failure states")
 * States are space-separated words as they travel; a failure state ends
 * the operation with an error status instead of success.
 */
#define PROTO_FAMILIES(X)                                                                     \
    X(PLAY, CALL_PLAY, CONTROL_ID, ON_STATE, "finished error", "error")                      \
    X(RECORD, CALL_RECORD, CONTROL_ID, ON_STATE, "finished no_input error", "error")         \
    X(COLLECT, CALL_COLLECT, CONTROL_ID, ON_RESULT, "finished error no_input no_match",      \
      "error")                                                                                \
    X(PLAY_AND_COLLECT, CALL_COLLECT, CONTROL_ID, ON_RESULT,                                  \
      "finished error no_input no_match", "error")                                           \
    X(DETECT, CALL_DETECT, CONTROL_ID, ON_DETECT, "finished error", "error")                 \
    X(TAP, CALL_TAP, CONTROL_ID, ON_STATE, "finished error", "error")                        \
    X(STREAM, CALL_STREAM, CONTROL_ID, ON_STATE, "finished error", "error")                  \
    X(SEND_FAX, CALL_FAX, CONTROL_ID, ON_STATE, "finished error", "error")                   \
    X(RECEIVE_FAX, CALL_FAX, CONTROL_ID, ON_STATE, "finished error", "error")                \
    X(SEND_DIGITS, CALL_SEND_DIGITS, CONTROL_ID, ON_STATE, "finished error", "error")        \
    X(PAY, CALL_PAY, CONTROL_ID, ON_STATE, "finished error", "error")                        \
    X(TRANSCRIBE, CALL_TRANSCRIBE, CONTROL_ID, ON_STATE, "finished error", "error")          \
    X(AI, CALL_AI, CONTROL_ID, ON_STATE, "finished error", "error")                          \
    X(REFER, CALL_REFER, CALL_EVENT, ON_STATE,                                                \
      "success completed finished cancel busy noAnswer error", "")                           \
    X(CONNECT, CALL_CONNECT, CALL_EVENT, ON_STATE, "connected failed disconnected", "failed") \
    X(DIAL, CALL_DIAL, TAG, ON_STATE, "answered failed", "failed")

typedef enum proto_family {
    PF_NONE = 0,
#define PROTO_X_ENUM(id, ev, route, done, terminal, failure) PF_##id,
    PROTO_FAMILIES(PROTO_X_ENUM)
#undef PROTO_X_ENUM
    PF__COUNT
} proto_family;

typedef struct proto_family_info {
    proto_family family;
    proto_event event;
    proto_route route;
    proto_done done;
    const char *terminal; /* space-separated */
    const char *failure;  /* space-separated, "" if none */
} proto_family_info;

/* NULL for PF_NONE or out of range. */
const proto_family_info *proto_family_get(proto_family f);
/* The family whose events are of this type and route that way (the first
 * one in table order when several share an event: collect before
 * play_and_collect, send_fax before receive_fax). PF_NONE if none. */
proto_family proto_family_for_event(proto_event e);
/* The key under which an event of type e carries its state: "state" for
 * most, but calling.call.connect says "connect_state", calling.call.dial
 * "dial_state", calling.call.state and .receive "call_state". */
const char *proto_event_state_key(proto_event e);
int proto_family_state_is_terminal(proto_family f, const char *state);
int proto_family_state_is_failure(proto_family f, const char *state);

/* ----------------------------------------------------------------- methods */

/* What a method does to its family's operation. */
typedef enum proto_role {
    PROTO_ROLE_PLAIN = 0,     /* a request with an answer, nothing more */
    PROTO_ROLE_SERVER,        /* sent by the server to the client */
    PROTO_ROLE_START,         /* starts an operation of the family */
    PROTO_ROLE_STOP,          /* .stop */
    PROTO_ROLE_PAUSE,         /* .pause */
    PROTO_ROLE_RESUME,        /* .resume */
    PROTO_ROLE_VOLUME,        /* .volume */
    PROTO_ROLE_START_TIMERS   /* .start_input_timers */
} proto_role;

/* Method flags. */
#define PROTO_MF_NO_SESSION 0x1 /* allowed before signalwire.connect */
#define PROTO_MF_CALL 0x2       /* names a call: node_id + call_id */
#define PROTO_MF_ANSWERED 0x4   /* the call must be answered */
#define PROTO_MF_CONTROL 0x8    /* names an operation: control_id (sub-methods) */
#define PROTO_MF_RELEASES 0x10  /* on success the call leaves this session (pass, transfer) */

#define PROTO_C (PROTO_MF_CALL)
#define PROTO_CA (PROTO_MF_CALL | PROTO_MF_ANSWERED)
#define PROTO_CC (PROTO_MF_CALL | PROTO_MF_CONTROL)

/* X(ID, "method", FAMILY, ROLE, flags) — every method either side sends. */
#define PROTO_METHODS(X)                                                          \
    /* session */                                                                 \
    X(CONNECT, "signalwire.connect", NONE, PLAIN, PROTO_MF_NO_SESSION)            \
    X(PING, "signalwire.ping", NONE, PLAIN, PROTO_MF_NO_SESSION)                  \
    X(RECEIVE, "signalwire.receive", NONE, PLAIN, 0)                              \
    X(UNRECEIVE, "signalwire.unreceive", NONE, PLAIN, 0)                          \
    X(EVENT, "signalwire.event", NONE, SERVER, 0)                                 \
    X(DISCONNECT, "signalwire.disconnect", NONE, SERVER, 0)                       \
    /* call control */                                                            \
    X(ANSWER, "calling.answer", NONE, PLAIN, PROTO_C)                             \
    X(END, "calling.end", NONE, PLAIN, PROTO_C)                                   \
    X(PASS, "calling.pass", NONE, PLAIN, PROTO_C | PROTO_MF_RELEASES)             \
    X(HOLD, "calling.hold", NONE, PLAIN, PROTO_CA)                                \
    X(UNHOLD, "calling.unhold", NONE, PLAIN, PROTO_CA)                            \
    X(DENOISE, "calling.denoise", NONE, PLAIN, PROTO_CA)                          \
    X(DENOISE_STOP, "calling.denoise.stop", NONE, PLAIN, PROTO_CA)                \
    X(ECHO, "calling.echo", NONE, PLAIN, PROTO_CA)                                \
    X(SEND_DIGITS, "calling.send_digits", SEND_DIGITS, START, PROTO_CA)           \
    X(BIND_DIGIT, "calling.bind_digit", NONE, PLAIN, PROTO_C)                     \
    X(CLEAR_DIGIT_BINDINGS, "calling.clear_digit_bindings", NONE, PLAIN, PROTO_C) \
    X(USER_EVENT, "calling.user_event", NONE, PLAIN, PROTO_C)                     \
    X(QUEUE_ENTER, "calling.queue.enter", NONE, PLAIN, PROTO_C)                   \
    X(QUEUE_LEAVE, "calling.queue.leave", NONE, PLAIN, PROTO_C)                   \
    X(TRANSFER, "calling.transfer", NONE, PLAIN, PROTO_C | PROTO_MF_RELEASES)     \
    X(REFER, "calling.refer", REFER, START, PROTO_CA)                             \
    /* a relayd extension: the client's answer to the far end's REFER */          \
    X(REFER_ANSWER, "calling.refer.answer", NONE, PLAIN, PROTO_CA)                \
    X(BEGIN, "calling.begin", NONE, PLAIN, 0)                                     \
    /* media */                                                                   \
    X(PLAY, "calling.play", PLAY, START, PROTO_CA)                                \
    X(PLAY_STOP, "calling.play.stop", PLAY, STOP, PROTO_CC)                       \
    X(PLAY_PAUSE, "calling.play.pause", PLAY, PAUSE, PROTO_CC)                    \
    X(PLAY_RESUME, "calling.play.resume", PLAY, RESUME, PROTO_CC)                 \
    X(PLAY_VOLUME, "calling.play.volume", PLAY, VOLUME, PROTO_CC)                 \
    X(RECORD, "calling.record", RECORD, START, PROTO_CA)                          \
    X(RECORD_STOP, "calling.record.stop", RECORD, STOP, PROTO_CC)                 \
    X(RECORD_PAUSE, "calling.record.pause", RECORD, PAUSE, PROTO_CC)              \
    X(RECORD_RESUME, "calling.record.resume", RECORD, RESUME, PROTO_CC)           \
    X(COLLECT, "calling.collect", COLLECT, START, PROTO_CA)                       \
    X(COLLECT_STOP, "calling.collect.stop", COLLECT, STOP, PROTO_CC)              \
    X(COLLECT_START_INPUT_TIMERS, "calling.collect.start_input_timers", COLLECT,  \
      START_TIMERS, PROTO_CC)                                                     \
    X(PLAY_AND_COLLECT, "calling.play_and_collect", PLAY_AND_COLLECT, START,      \
      PROTO_CA)                                                                   \
    X(PLAY_AND_COLLECT_STOP, "calling.play_and_collect.stop", PLAY_AND_COLLECT,   \
      STOP, PROTO_CC)                                                             \
    X(PLAY_AND_COLLECT_VOLUME, "calling.play_and_collect.volume",                 \
      PLAY_AND_COLLECT, VOLUME, PROTO_CC)                                         \
    X(DETECT, "calling.detect", DETECT, START, PROTO_CA)                          \
    X(DETECT_STOP, "calling.detect.stop", DETECT, STOP, PROTO_CC)                 \
    X(TAP, "calling.tap", TAP, START, PROTO_CA)                                   \
    X(TAP_STOP, "calling.tap.stop", TAP, STOP, PROTO_CC)                          \
    X(STREAM, "calling.stream", STREAM, START, PROTO_CA)                          \
    X(STREAM_STOP, "calling.stream.stop", STREAM, STOP, PROTO_CC)                 \
    X(SEND_FAX, "calling.send_fax", SEND_FAX, START, PROTO_CA)                    \
    X(SEND_FAX_STOP, "calling.send_fax.stop", SEND_FAX, STOP, PROTO_CC)           \
    X(RECEIVE_FAX, "calling.receive_fax", RECEIVE_FAX, START, PROTO_CA)           \
    X(RECEIVE_FAX_STOP, "calling.receive_fax.stop", RECEIVE_FAX, STOP, PROTO_CC)  \
    X(PAY, "calling.pay", PAY, START, PROTO_CA)                                   \
    X(PAY_STOP, "calling.pay.stop", PAY, STOP, PROTO_CC)                          \
    X(TRANSCRIBE, "calling.transcribe", TRANSCRIBE, START, PROTO_CA)              \
    X(TRANSCRIBE_STOP, "calling.transcribe.stop", TRANSCRIBE, STOP, PROTO_CC)     \
    X(LIVE_TRANSCRIBE, "calling.live_transcribe", NONE, PLAIN, PROTO_CA)          \
    X(LIVE_TRANSLATE, "calling.live_translate", NONE, PLAIN, PROTO_CA)            \
    /* outbound and bridging */                                                   \
    X(DIAL, "calling.dial", DIAL, START, 0)                                       \
    X(CONNECT_CALL, "calling.connect", CONNECT, START, PROTO_CA)                  \
    X(DISCONNECT_CALL, "calling.disconnect", NONE, PLAIN, PROTO_CA)               \
    /* rooms and conferences */                                                   \
    X(JOIN_CONFERENCE, "calling.join_conference", NONE, PLAIN, PROTO_CA)          \
    X(LEAVE_CONFERENCE, "calling.leave_conference", NONE, PLAIN, PROTO_CA)        \
    X(JOIN_ROOM, "calling.join_room", NONE, PLAIN, PROTO_CA)                      \
    X(LEAVE_ROOM, "calling.leave_room", NONE, PLAIN, PROTO_CA)                    \
    /* AI */                                                                      \
    X(AI, "calling.ai", AI, START, PROTO_CA)                                      \
    X(AI_STOP, "calling.ai.stop", AI, STOP, PROTO_CC)                             \
    X(AI_MESSAGE, "calling.ai_message", NONE, PLAIN, PROTO_CA)                    \
    X(AI_HOLD, "calling.ai_hold", NONE, PLAIN, PROTO_CA)                          \
    X(AI_UNHOLD, "calling.ai_unhold", NONE, PLAIN, PROTO_CA)                      \
    X(AMAZON_BEDROCK, "calling.amazon_bedrock", NONE, PLAIN, PROTO_CA)            \
    /* messaging */                                                               \
    X(MESSAGING_SEND, "messaging.send", NONE, PLAIN, 0)

typedef enum proto_method {
    PM_UNKNOWN = 0,
#define PROTO_X_ENUM(id, name, family, role, flags) PM_##id,
    PROTO_METHODS(PROTO_X_ENUM)
#undef PROTO_X_ENUM
    PM__COUNT
} proto_method;

typedef struct proto_method_info {
    proto_method method;
    const char *name;
    proto_family family;
    proto_role role;
    unsigned flags;
} proto_method_info;

/* NULL for PM_UNKNOWN or out of range. */
const proto_method_info *proto_method_get(proto_method m);
const char *proto_method_name(proto_method m);
proto_method proto_method_from_name(const char *name);
/* The method that plays `role` for family f (e.g. PF_PLAY + STOP →
 * calling.play.stop), PM_UNKNOWN if the family has none. */
proto_method proto_family_method(proto_family f, proto_role role);
/* The number of methods clients send (rows not of role SERVER). */
size_t proto_client_method_count(void);

const char *proto_event_name(proto_event e);
proto_event proto_event_from_name(const char *name);

/* ------------------------------------------------------------------ states */

/* Call states (calling.call.state.call_state). */
const char *proto_call_state_name(relay_call_state s);
relay_call_state proto_call_state_from_name(const char *name);

/* Refer states. from_name accepts "completed"/"finished" as success. */
const char *proto_refer_state_name(relay_refer_state s);
relay_refer_state proto_refer_state_from_name(const char *name);
int proto_refer_state_is_final(relay_refer_state s);

/* The refer state implied by a SIP status: of the REFER's own final
 * response (is_notify = 0) or of the sipfrag status line in a NOTIFY
 * (is_notify = 1). 1xx in a NOTIFY and 2xx to the REFER are inProgress. */
relay_refer_state proto_refer_state_from_sip(int status, int is_notify);

/* Play states. */
#define PROTO_PLAY_PLAYING "playing"
#define PROTO_PLAY_PAUSED "paused"
#define PROTO_PLAY_FINISHED "finished"
#define PROTO_PLAY_ERROR "error"
int proto_play_state_is_final(const char *state);

/* Message states (messaging.state message_state): queued → initiated →
 * sent → delivered, or undelivered / failed; an inbound message is
 * received. Final: delivered, undelivered, failed (and received). */
#define PROTO_MESSAGE_QUEUED "queued"
#define PROTO_MESSAGE_SENT "sent"
#define PROTO_MESSAGE_DELIVERED "delivered"
#define PROTO_MESSAGE_UNDELIVERED "undelivered"
#define PROTO_MESSAGE_FAILED "failed"
#define PROTO_MESSAGE_RECEIVED "received"
int proto_message_state_is_final(const char *state);
int proto_message_state_is_failure(const char *state); /* undelivered, failed */

/* End reasons (calling.end reason, calling.call.state end_reason). */
#define PROTO_END_HANGUP "hangup"
#define PROTO_END_CANCEL "cancel"
#define PROTO_END_BUSY "busy"
#define PROTO_END_NOANSWER "noAnswer"
#define PROTO_END_DECLINE "decline"
#define PROTO_END_ERROR "error"
int proto_end_reason_valid(const char *reason);

/* Result codes travel as strings: "200". */
int proto_code_is_success(const char *code); /* 2xx */
int proto_code_is_gone(const char *code);    /* 404, 410 */

/* JSON-RPC error codes used by relayd. */
#define PROTO_RPC_PARSE_ERROR -32700
#define PROTO_RPC_INVALID_REQUEST -32600
#define PROTO_RPC_METHOD_NOT_FOUND -32601
#define PROTO_RPC_INVALID_PARAMS -32602
#define PROTO_RPC_INTERNAL_ERROR -32603
#define PROTO_RPC_NOT_CONNECTED -32002
/* A rejected signalwire.connect. @signalwire/realtime-api recognises an
 * authentication failure only by -32002 (any other code: retry forever),
 * so relayd answers rejected credentials with it. */
#define PROTO_RPC_AUTH_FAILED -32002
/* relayd is draining for shutdown: try again (elsewhere, or later). */
#define PROTO_RPC_SHUTTING_DOWN -32000

/* The device param keys that may carry a refer target, in preference order. */
extern const char *const proto_refer_uri_keys[]; /* "uri", "to", "to_uri", NULL */

#endif
