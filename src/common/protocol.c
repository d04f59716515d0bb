#include "protocol.h"

#include <stdlib.h>
#include <string.h>

static const proto_method_info methods[PM__COUNT] = {
#define PROTO_X_ROW(id, name, fam, role, flags) \
    [PM_##id] = {PM_##id, name, PF_##fam, PROTO_ROLE_##role, flags},
    PROTO_METHODS(PROTO_X_ROW)
#undef PROTO_X_ROW
};

static const proto_family_info families[PF__COUNT] = {
#define PROTO_X_ROW(id, ev, route, done, terminal, failure) \
    [PF_##id] = {PF_##id, PE_##ev, PROTO_ROUTE_##route, PROTO_DONE_##done, terminal, failure},
    PROTO_FAMILIES(PROTO_X_ROW)
#undef PROTO_X_ROW
};

static const char *const event_names[PE__COUNT] = {
#define PROTO_X_ROW(id, name) [PE_##id] = name,
    PROTO_EVENTS(PROTO_X_ROW)
#undef PROTO_X_ROW
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

const proto_method_info *proto_method_get(proto_method m)
{
    return (m > PM_UNKNOWN && m < PM__COUNT) ? &methods[m] : NULL;
}

const char *proto_method_name(proto_method m)
{
    const proto_method_info *mi = proto_method_get(m);
    return mi ? mi->name : NULL;
}

proto_method proto_method_from_name(const char *name)
{
    if (!name)
        return PM_UNKNOWN;
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++)
        if (strcmp(methods[m].name, name) == 0)
            return (proto_method)m;
    return PM_UNKNOWN;
}

proto_method proto_family_method(proto_family f, proto_role role)
{
    if (f == PF_NONE)
        return PM_UNKNOWN;
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++)
        if (methods[m].family == f && methods[m].role == role)
            return (proto_method)m;
    return PM_UNKNOWN;
}

size_t proto_client_method_count(void)
{
    size_t n = 0;
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++)
        n += methods[m].role != PROTO_ROLE_SERVER;
    return n;
}

const proto_family_info *proto_family_get(proto_family f)
{
    return (f > PF_NONE && f < PF__COUNT) ? &families[f] : NULL;
}

proto_family proto_family_for_event(proto_event e)
{
    for (int f = PF_NONE + 1; f < PF__COUNT; f++)
        if (e != PE_UNKNOWN && families[f].event == e)
            return (proto_family)f;
    return PF_NONE;
}

/* 1 if word is one of the space-separated words of list. */
static int word_in(const char *list, const char *word)
{
    if (!list || !word || !*word)
        return 0;
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

int proto_family_state_is_terminal(proto_family f, const char *state)
{
    const proto_family_info *fi = proto_family_get(f);
    return fi && word_in(fi->terminal, state);
}

int proto_family_state_is_failure(proto_family f, const char *state)
{
    const proto_family_info *fi = proto_family_get(f);
    return fi && word_in(fi->failure, state);
}

/* The public relay_event_type (types.h) is this table's order: librelay
 * casts between the two. */
#define PROTO_X_SAME(id, name)                                                 \
    _Static_assert((int)PE_##id == (int)RELAY_EVENT_##id, "relay_event_type order: " #id);
PROTO_EVENTS(PROTO_X_SAME)
#undef PROTO_X_SAME
_Static_assert((int)PE__COUNT == (int)RELAY_EVENT_AUTHORIZATION_STATE + 1,
               "relay_event_type lists every event of the table");

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
    return proto_family_state_is_terminal(PF_PLAY, state);
}

int proto_message_state_is_failure(const char *state)
{
    return state && (strcmp(state, PROTO_MESSAGE_UNDELIVERED) == 0 ||
                     strcmp(state, PROTO_MESSAGE_FAILED) == 0);
}

int proto_message_state_is_final(const char *state)
{
    return state && (proto_message_state_is_failure(state) ||
                     strcmp(state, PROTO_MESSAGE_DELIVERED) == 0 ||
                     strcmp(state, PROTO_MESSAGE_RECEIVED) == 0);
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

const char *proto_event_state_key(proto_event e)
{
    switch (e) {
    case PE_CALL_CONNECT:
        return "connect_state";
    case PE_CALL_DIAL:
        return "dial_state";
    case PE_CALL_STATE:
    case PE_CALL_RECEIVE:
        return "call_state";
    default:
        return "state";
    }
}
