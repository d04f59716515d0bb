/*
 * The RELAY vocabulary: method names, event types, states and result-code
 * rules. One table, used by librelay and relayd alike, so the two halves
 * cannot drift apart. See docs/relay-protocol.md.
 */
#ifndef RELAY_COMMON_PROTOCOL_H
#define RELAY_COMMON_PROTOCOL_H

#include <stddef.h>
#include <relay/relay.h>

#define PROTO_JSONRPC "2.0"
#define PROTO_VERSION_MAJOR 2
#define PROTO_VERSION_MINOR 0
#define PROTO_VERSION_REVISION 0

/* Limits shared by both sides (reference client values). */
#define PROTO_MAX_FRAME (10 * 1024 * 1024)
#define PROTO_DEFAULT_TIMEOUT_MS 10000
#define PROTO_MAX_OFFLINE_QUEUE 500
#define PROTO_MAX_ACTIVE_CALLS 1000

typedef enum proto_method {
    PM_UNKNOWN = 0,
    /* session */
    PM_CONNECT,
    PM_PING,
    PM_EVENT,
    PM_DISCONNECT,
    PM_RECEIVE,
    PM_UNRECEIVE,
    /* calling */
    PM_ANSWER,
    PM_END,
    PM_PASS,
    PM_DIAL,
    PM_PLAY,
    PM_PLAY_STOP,
    PM_PLAY_PAUSE,
    PM_PLAY_RESUME,
    PM_PLAY_VOLUME,
    PM_RECORD,
    PM_RECORD_STOP,
    PM_REFER,
    PM__COUNT
} proto_method;

typedef enum proto_event {
    PE_UNKNOWN = 0,
    PE_CALL_RECEIVE,
    PE_CALL_STATE,
    PE_CALL_PLAY,
    PE_CALL_RECORD,
    PE_CALL_REFER,
    PE_CALL_DIAL,
    PE_CALL_CONNECT,
    PE_AUTHORIZATION_STATE,
    PE_CALLING_ERROR,
    PE__COUNT
} proto_event;

const char *proto_method_name(proto_method m);
proto_method proto_method_from_name(const char *name);

const char *proto_event_name(proto_event e);
proto_event proto_event_from_name(const char *name);

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
#define PROTO_RPC_UNAUTHORIZED -32001
#define PROTO_RPC_NOT_CONNECTED -32002

/* The device param keys that may carry a refer target, in preference order. */
extern const char *const proto_refer_uri_keys[]; /* "uri", "to", "to_uri", NULL */

#endif
