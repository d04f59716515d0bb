#include "protocol.h"

#include <stdlib.h>
#include <string.h>

static const char *const method_names[PM__COUNT] = {
    [PM_UNKNOWN] = NULL,
    [PM_CONNECT] = "signalwire.connect",
    [PM_PING] = "signalwire.ping",
    [PM_EVENT] = "signalwire.event",
    [PM_DISCONNECT] = "signalwire.disconnect",
    [PM_RECEIVE] = "signalwire.receive",
    [PM_UNRECEIVE] = "signalwire.unreceive",
    [PM_ANSWER] = "calling.answer",
    [PM_END] = "calling.end",
    [PM_PASS] = "calling.pass",
    [PM_DIAL] = "calling.dial",
    [PM_PLAY] = "calling.play",
    [PM_PLAY_STOP] = "calling.play.stop",
    [PM_PLAY_PAUSE] = "calling.play.pause",
    [PM_PLAY_RESUME] = "calling.play.resume",
    [PM_PLAY_VOLUME] = "calling.play.volume",
    [PM_RECORD] = "calling.record",
    [PM_RECORD_STOP] = "calling.record.stop",
    [PM_REFER] = "calling.refer",
};

static const char *const event_names[PE__COUNT] = {
    [PE_UNKNOWN] = NULL,
    [PE_CALL_RECEIVE] = "calling.call.receive",
    [PE_CALL_STATE] = "calling.call.state",
    [PE_CALL_PLAY] = "calling.call.play",
    [PE_CALL_RECORD] = "calling.call.record",
    [PE_CALL_REFER] = "calling.call.refer",
    [PE_CALL_DIAL] = "calling.call.dial",
    [PE_CALL_CONNECT] = "calling.call.connect",
    [PE_AUTHORIZATION_STATE] = "signalwire.authorization.state",
    [PE_CALLING_ERROR] = "calling.error",
};

static const char *const call_state_names[] = {
    [RELAY_CALL_NONE] = "none",         [RELAY_CALL_CREATED] = "created",
    [RELAY_CALL_RINGING] = "ringing",   [RELAY_CALL_ANSWERED] = "answered",
    [RELAY_CALL_ENDING] = "ending",     [RELAY_CALL_ENDED] = "ended",
};

static const char *const refer_state_names[] = {
    [RELAY_REFER_UNKNOWN] = "unknown",     [RELAY_REFER_IN_PROGRESS] = "inProgress",
    [RELAY_REFER_SUCCESS] = "success",     [RELAY_REFER_CANCEL] = "cancel",
    [RELAY_REFER_BUSY] = "busy",           [RELAY_REFER_NO_ANSWER] = "noAnswer",
    [RELAY_REFER_ERROR] = "error",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return 0;
}

const char *proto_method_name(proto_method m)
{
    return (m > PM_UNKNOWN && m < PM__COUNT) ? method_names[m] : NULL;
}

proto_method proto_method_from_name(const char *name)
{
    return (proto_method)lookup(method_names, PM__COUNT, name);
}

const char *proto_event_name(proto_event e)
{
    return (e > PE_UNKNOWN && e < PE__COUNT) ? event_names[e] : NULL;
}

proto_event proto_event_from_name(const char *name)
{
    return (proto_event)lookup(event_names, PE__COUNT, name);
}

const char *proto_call_state_name(relay_call_state s)
{
    return ((size_t)s < COUNT(call_state_names)) ? call_state_names[s] : "none";
}

relay_call_state proto_call_state_from_name(const char *name)
{
    return (relay_call_state)lookup(call_state_names, COUNT(call_state_names), name);
}

const char *proto_refer_state_name(relay_refer_state s)
{
    return ((size_t)s < COUNT(refer_state_names)) ? refer_state_names[s] : "unknown";
}

relay_refer_state proto_refer_state_from_name(const char *name)
{
    /* Newer servers report a finished transfer with these words. */
    if (name && (strcmp(name, "completed") == 0 || strcmp(name, "finished") == 0))
        return RELAY_REFER_SUCCESS;
    return (relay_refer_state)lookup(refer_state_names, COUNT(refer_state_names), name);
}

int proto_refer_state_is_final(relay_refer_state s)
{
    return s != RELAY_REFER_UNKNOWN && s != RELAY_REFER_IN_PROGRESS;
}

relay_refer_state proto_refer_state_from_sip(int status, int is_notify)
{
    if (status < 100 || status > 699)
        return RELAY_REFER_ERROR;
    if (status < 200)
        return RELAY_REFER_IN_PROGRESS;
    if (status < 300)
        /* 202 to the REFER only means "accepted"; the NOTIFY tells the end. */
        return is_notify ? RELAY_REFER_SUCCESS : RELAY_REFER_IN_PROGRESS;
    switch (status) {
    case 486:
    case 600:
        return RELAY_REFER_BUSY;
    case 408:
    case 480:
        return RELAY_REFER_NO_ANSWER;
    case 487:
        return RELAY_REFER_CANCEL;
    default:
        return RELAY_REFER_ERROR;
    }
}

int proto_play_state_is_final(const char *state)
{
    return state && (strcmp(state, PROTO_PLAY_FINISHED) == 0 || strcmp(state, PROTO_PLAY_ERROR) == 0);
}

int proto_end_reason_valid(const char *reason)
{
    static const char *const reasons[] = {PROTO_END_HANGUP, PROTO_END_CANCEL, PROTO_END_BUSY,
                                          PROTO_END_NOANSWER, PROTO_END_DECLINE, PROTO_END_ERROR};
    if (!reason)
        return 0;
    for (size_t i = 0; i < COUNT(reasons); i++)
        if (strcmp(reasons[i], reason) == 0)
            return 1;
    return 0;
}

static int code_number(const char *code)
{
    if (!code || !*code)
        return -1;
    char *end = NULL;
    long v = strtol(code, &end, 10);
    if (*end != '\0' || v < 0 || v > 999)
        return -1;
    return (int)v;
}

int proto_code_is_success(const char *code)
{
    int v = code_number(code);
    return v >= 200 && v < 300;
}

int proto_code_is_gone(const char *code)
{
    int v = code_number(code);
    return v == 404 || v == 410;
}

const char *const proto_refer_uri_keys[] = {"uri", "to", "to_uri", NULL};
