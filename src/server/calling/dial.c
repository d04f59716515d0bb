/*
 * calling.dial: relayd places calls for a client. `devices` is a list of
 * groups tried in series; the devices of a group ring in parallel. Each leg
 * is an ordinary outbound call (call_place) whose calling.call.state events
 * carry the dial's tag; the first leg to answer wins, the others of its
 * group are CANCELled, and calling.call.dial reports answered with the
 * winning call. When every leg of every group has failed (busy, declined,
 * no answer within the device's timeout...), calling.call.dial reports
 * failed. The winner is then a normal call: play, record, refer, end.
 *
 * calling.begin (the older form: one device, answered with the call_id) is
 * a dial of one group of one device that reports by call state only.
 *
 * Ownership: a dial exists while it has legs ringing. Each leg carries a
 * dial_leg op (op.h) on its call; the op tells the dial of the leg's
 * answer (on_established) or end (on_leg_gone) and leaves the call then.
 * The dial frees itself once it is decided and no leg points at it. It
 * knows its session by id, not by pointer: the session may go first (its
 * calls are then hung up, which ends the dial without another group).
 *
 * Core thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "calling/dial.h"
#include "calling/headers.h"
#include "common/protocol.h"
#include "common/sip_uri.h"
#include "families.h"
#include "frames.h"
#include "media/rtp.h"
#include "phone.h"
#include "server_log.h"
#include "session.h"

#define DIAL_MAX_GROUPS 10
#define DIAL_MAX_PARALLEL 10
#define DIAL_TAG_MAX 128
#define DIAL_NAME_MAX 64
#define DIAL_DEFAULT_TIMEOUT_S 30
#define DIAL_MAX_TIMEOUT_S 600

typedef struct dial_leg dial_leg;

struct dial_leg {
    call_op op;        /* first: the call's list holds &op */
    dial *d;
    su_timer_t *timer; /* the device's ring timeout */
    dial_leg *next;    /* in d->legs */
};

struct dial {
    relayd *rd;
    char session_id[37];
    char *tag;
    json_t *devices; /* validated: an array of non-empty arrays */
    size_t next_group;
    dial_leg *legs;  /* legs still ringing */
    int decided;     /* answered (or given up): no more groups */
    int report;      /* calling.call.dial events (dial, not begin) */
    int posted;      /* dial_advance_later messages in flight: they hold d */
    char last_reason[16];
    const dial_observer *obs; /* dial_start's owner (calling.connect), or NULL */
    void *obs_user;
};

/* ------------------------------------------------------------ devices */

/* The SIP target and options of one device, borrowed from its JSON. */
typedef struct device_spec {
    const char *to, *from, *from_name;
    json_t *headers;
    int timeout_s;
    int trunk;      /* a phone device: through phone_trunk */
    int codecs[2];  /* payload types to offer, in order */
    size_t n_codecs;/* 0: relayd's default offer */
    char to_buf[256], from_buf[256]; /* phone devices: the trunk's URIs */
} device_spec;

static int name_ok(const char *s)
{
    if (strlen(s) > DIAL_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
            return 0;
    return 1;
}

/* The SDKs' codec names (SipCodec): relayd speaks the G.711 pair only;
 * the others are skipped when listed, so a list must name one of those. */
static const char *const known_codecs[] = {"OPUS", "G729", "G722", "VP8", "H264"};
#define CODECS_MAX 16

static int codec_pt(const char *name, size_t len)
{
    if (len == 4 && strncasecmp(name, "PCMU", 4) == 0)
        return RTP_PT_PCMU;
    if (len == 4 && strncasecmp(name, "PCMA", 4) == 0)
        return RTP_PT_PCMA;
    for (size_t i = 0; i < sizeof known_codecs / sizeof known_codecs[0]; i++)
        if (strlen(known_codecs[i]) == len && strncasecmp(name, known_codecs[i], len) == 0)
            return -1;
    return -2;
}

/* Adds one name to spec's offer. NULL, or why not (in buf). */
static const char *codec_add(device_spec *spec, const char *name, size_t len, char *buf,
                             size_t n)
{
    int pt = codec_pt(name, len);
    if (pt == -2) {
        snprintf(buf, n, "unknown codec '%.*s' (relayd speaks PCMU and PCMA)",
                 (int)(len > 16 ? 16 : len), name);
        return buf;
    }
    if (pt < 0)
        return NULL;
    for (size_t i = 0; i < spec->n_codecs; i++)
        if (spec->codecs[i] == pt)
            return NULL;
    spec->codecs[spec->n_codecs++] = pt;
    return NULL;
}

/* params.codecs: "PCMA,PCMU" or ["PCMA", "PCMU"] (the SDKs' form). Fills
 * spec's offer; NULL if fine. */
static const char *codecs_check(json_t *codecs, device_spec *spec, char *buf, size_t n)
{
    if (!codecs)
        return NULL;
    size_t count = 0;
    const char *why = NULL;
    if (json_is_string(codecs)) {
        const char *s = json_string_value(codecs);
        if (strlen(s) != json_string_length(codecs))
            return "codecs must not contain a NUL character";
        while (*s && !why) {
            size_t len = strcspn(s, ",");
            const char *name = s;
            while (len && *name == ' ')
                name++, len--;
            while (len && name[len - 1] == ' ')
                len--;
            if (++count > CODECS_MAX)
                return "codecs: at most 16 names";
            why = codec_add(spec, name, len, buf, n);
            s += strcspn(s, ",");
            if (*s)
                s++;
        }
    } else if (json_is_array(codecs)) {
        size_t i;
        json_t *c;
        if (json_array_size(codecs) > CODECS_MAX)
            return "codecs: at most 16 names";
        json_array_foreach(codecs, i, c)
        {
            if (!json_is_string(c))
                return "codecs must be a string or an array of strings";
            count++;
            if ((why = codec_add(spec, json_string_value(c), json_string_length(c), buf, n)))
                break;
        }
    } else {
        return "codecs must be a string or an array of strings";
    }
    if (why)
        return why;
    if (count == 0)
        return "codecs is empty";
    if (spec->n_codecs == 0)
        return "codecs names no codec relayd speaks (PCMU, PCMA)";
    return NULL;
}

/* Checks one device; fills *spec. NULL if fine, else a message and, in
 * *code, 400 or 501. */
static const char *device_check(json_t *dev, const char *trunk, device_spec *spec, int *code,
                                char *buf, size_t n)
{
    *code = 400;
    memset(spec, 0, sizeof *spec);
    const char *type = json_string_value(json_object_get(dev, "type"));
    json_t *p = json_object_get(dev, "params");
    if (!json_is_object(dev) || !type || !json_is_object(p))
        return "each device must be {type, params}";
    int phone = strcmp(type, "phone") == 0;
    if (phone && !trunk) {
        *code = 501;
        return "phone devices need a SIP trunk (phone_trunk), which this relayd does not have";
    }
    if (!phone && strcmp(type, "sip") != 0) {
        *code = 501;
        snprintf(buf, n, "%.32s devices are not implemented by this relayd", type);
        return buf;
    }
    const char *why = NULL;
    if (phone) {
        const char *to = json_string_value(json_object_get(p, "to_number"));
        const char *from = json_string_value(json_object_get(p, "from_number"));
        if (!phone_number_ok(to) || (json_object_get(p, "from_number") && !phone_number_ok(from)))
            return "to_number and from_number must be +digits (at most 20)";
        if (phone_trunk_uri(trunk, to, spec->to_buf, sizeof spec->to_buf) != 0 ||
            (from && phone_trunk_uri(trunk, from, spec->from_buf, sizeof spec->from_buf) != 0))
            return "the number does not fit the trunk URI";
        spec->to = spec->to_buf;
        spec->from = from ? spec->from_buf : NULL;
        spec->trunk = 1;
    } else {
        spec->to = json_string_value(json_object_get(p, "to"));
        spec->from = json_string_value(json_object_get(p, "from"));
    }
    if (!spec->to)
        return "a sip device needs params.to";
    if (sip_uri_validate(spec->to, &why) != 0) {
        snprintf(buf, n, "invalid to: %s", why);
        return buf;
    }
    json_t *from = phone ? NULL : json_object_get(p, "from");
    if (from && !spec->from)
        return "invalid from: not a string";
    if (spec->from && sip_uri_validate(spec->from, &why) != 0) {
        snprintf(buf, n, "invalid from: %s", why);
        return buf;
    }
    json_t *name = json_object_get(p, "from_name");
    spec->from_name = json_string_value(name);
    if (name && (!spec->from_name || !name_ok(spec->from_name)))
        return "from_name must be a string of at most 64 characters without quotes or controls";
    spec->headers = json_object_get(p, "headers");
    char *lines = NULL;
    const char *herr = call_headers_build(spec->headers, &lines);
    free(lines);
    if (herr)
        return herr;
    const char *cerr = codecs_check(json_object_get(p, "codecs"), spec, buf, n);
    if (cerr)
        return cerr;
    json_t *t = json_object_get(p, "timeout");
    spec->timeout_s = DIAL_DEFAULT_TIMEOUT_S;
    if (t) {
        if (!json_is_number(t) || json_number_value(t) < 1 ||
            json_number_value(t) > DIAL_MAX_TIMEOUT_S)
            return "timeout must be a number of seconds from 1 to 600";
        spec->timeout_s = (int)json_number_value(t);
    }
    return NULL;
}

/* devices: [[device, ...], ...] within the bounds. NULL if every device is
 * fine, else a message (and *code). */
const char *dial_devices_check(json_t *devices, const char *trunk, int *code, char *buf,
                                 size_t n)
{
    *code = 400;
    if (!json_is_array(devices) || json_array_size(devices) == 0 ||
        json_array_size(devices) > DIAL_MAX_GROUPS)
        return "devices must be an array of 1 to 10 arrays of devices";
    size_t i, j;
    json_t *group, *dev;
    json_array_foreach(devices, i, group)
    {
        if (!json_is_array(group) || json_array_size(group) == 0 ||
            json_array_size(group) > DIAL_MAX_PARALLEL)
            return "each entry of devices must be an array of 1 to 10 devices";
        json_array_foreach(group, j, dev)
        {
            device_spec spec;
            const char *why = device_check(dev, trunk, &spec, code, buf, n);
            if (why)
                return why;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- dial */

static session *dial_session(dial *d)
{
    for (session *s = d->rd->sessions; s; s = s->next)
        if (strcmp(s->id, d->session_id) == 0)
            return s;
    return NULL;
}

static void dial_free(dial *d)
{
    free(d->tag);
    json_decref(d->devices);
    free(d);
}

/* calling.call.dial {tag, node_id, dial_state, call?, reason?} */
static void dial_report(dial *d, const char *state, call *winner)
{
    if (d->obs) {
        const dial_observer *obs = d->obs;
        d->obs = NULL; /* exactly one end is reported */
        if (winner)
            obs->answered(d->obs_user, winner);
        else if (strcmp(state, "failed") == 0)
            obs->failed(d->obs_user, d->last_reason[0] ? d->last_reason : PROTO_END_ERROR);
        else
            d->obs = obs; /* "dialing": not an end */
        return;
    }
    session *s = d->report ? dial_session(d) : NULL;
    if (!s)
        return;
    json_t *p = json_pack("{s:s, s:s, s:s}", "tag", d->tag, "node_id", d->rd->cfg->node_id,
                          "dial_state", state);
    if (p && winner)
        json_object_set_new(
            p, "call",
            json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:b}", "call_id", winner->id, "node_id",
                      d->rd->cfg->node_id, "tag", d->tag, "device", winner->device, "direction",
                      "outbound", "call_state", proto_call_state_name(winner->state),
                      "dial_winner", 1));
    if (p && !winner && strcmp(state, "failed") == 0 && d->last_reason[0])
        json_object_set_new(p, "reason", json_string(d->last_reason));
    if (p)
        session_send_event(d->rd, s, proto_event_name(PE_CALL_DIAL), p);
}

static void leg_free(call_op *base)
{
    dial_leg *l = (dial_leg *)base;
    if (l->timer)
        su_timer_destroy(l->timer);
    call_op_cleanup(&l->op);
    free(l);
}

static void legs_remove(dial *d, dial_leg *l)
{
    for (dial_leg **p = &d->legs; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            return;
        }
}

/* CANCELs every leg still ringing; none reports to d any more. */
static void legs_cancel(dial *d)
{
    while (d->legs) {
        dial_leg *loser = d->legs;
        d->legs = loser->next;
        call *c = loser->op.call;
        call_op_release(&loser->op);
        call_set_end_reason(c, PROTO_END_CANCEL, 0);
        call_hangup(d->rd, c, 487); /* CANCEL; c may be gone after this */
    }
}

static void dial_advance(dial *d);

static void dial_advance_later(relayd *rd, void *arg)
{
    (void)rd;
    dial *d = arg;
    d->posted--;
    dial_advance(d);
}

/* The first leg to answer wins: the others of its group are cancelled. */
static void leg_answered(call_op *base)
{
    dial_leg *l = (dial_leg *)base;
    dial *d = l->d;
    call *winner = l->op.call;
    relayd *rd = d->rd;
    legs_remove(d, l);
    call_op_release(&l->op);
    if (d->decided) {
        /* a 200 that crossed our CANCEL: the dial has its call already */
        call_set_end_reason(winner, PROTO_END_CANCEL, 0);
        call_hangup(rd, winner, 0);
        dial_advance(d);
        return;
    }
    d->decided = 1;
    server_log(RELAY_LOG_INFO, "dial %s: call %s answered", d->tag, winner->id);
    legs_cancel(d);
    dial_report(d, "answered", winner);
    dial_advance(d);
}

static void leg_gone(call_op *base)
{
    dial_leg *l = (dial_leg *)base;
    dial *d = l->d;
    call *c = l->op.call;
    const char *reason = c->end_reason ? c->end_reason
                         : c->leg && sip_leg_end_reason(c->leg) ? sip_leg_end_reason(c->leg)
                                                                 : PROTO_END_ERROR;
    snprintf(d->last_reason, sizeof d->last_reason, "%s", reason);
    legs_remove(d, l);
    call_op_release(&l->op);
    /* After the call has reported its own end: the client hears the leg
     * end before the next group rings or the dial fails. */
    d->posted++;
    core_post(d->rd, dial_advance_later, d);
}

static void leg_timeout(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    dial_leg *l = (dial_leg *)arg;
    call *c = l->op.call;
    if (!c)
        return;
    server_log(RELAY_LOG_INFO, "dial %s: call %s not answered in time; cancelling", l->d->tag,
               c->id);
    call_set_end_reason(c, PROTO_END_NOANSWER, 0);
    call_hangup(l->op.rd, c, 487); /* on_leg_gone follows when the CANCEL is done */
}

static const call_op_vtbl dial_leg_vtbl = {
    .on_established = leg_answered,
    .on_leg_gone = leg_gone,
    .free = leg_free,
};

/* Places one device's call and puts it in the dial. 0 if placed. */
static int dial_place(dial *d, session *s, json_t *dev)
{
    device_spec spec;
    int code;
    char buf[128];
    if (device_check(dev, d->rd->cfg->phone_trunk, &spec, &code, buf, sizeof buf))
        return -1; /* checked at request time: cannot happen */
    char *headers = NULL;
    if (call_headers_build(spec.headers, &headers))
        return -1;
    dial_leg *l = calloc(1, sizeof *l);
    if (!l || call_op_init(&l->op, &dial_leg_vtbl, PF_DIAL, d->rd, NULL, NULL) != 0) {
        free(l);
        free(headers);
        return -1;
    }
    l->d = d;
    call_place_params pp = {.to = spec.to, .from = spec.from, .from_name = spec.from_name,
                            .headers = headers, .tag = d->tag, .device = dev,
                            .trunk = spec.trunk, .codecs = spec.codecs,
                            .n_codecs = spec.n_codecs};
    call *c = call_place(d->rd, s, &pp);
    free(headers);
    if (!c) {
        leg_free(&l->op);
        return -1;
    }
    call_op_attach(c, &l->op);
    l->timer = su_timer_create(su_root_task(d->rd->root), (su_duration_t)spec.timeout_s * 1000);
    if (!l->timer || su_timer_set(l->timer, leg_timeout, (su_timer_arg_t *)l) != 0)
        server_log(RELAY_LOG_ERROR, "dial %s: cannot arm the ring timeout", d->tag);
    l->next = d->legs;
    d->legs = l;
    return 0;
}

/* Nothing rings any more: the next group, or the end of the dial. */
static void dial_advance(dial *d)
{
    if (d->legs || d->posted)
        return;
    while (!d->decided && d->next_group < json_array_size(d->devices)) {
        session *s = dial_session(d);
        if (!s || d->rd->stopping)
            break;
        json_t *group = json_array_get(d->devices, d->next_group++);
        size_t i;
        json_t *dev;
        json_array_foreach(group, i, dev)
        {
            if (dial_place(d, s, dev) != 0)
                snprintf(d->last_reason, sizeof d->last_reason, "%s", PROTO_END_ERROR);
        }
        if (d->legs)
            return;
    }
    if (!d->decided) {
        d->decided = 1;
        server_log(RELAY_LOG_INFO, "dial %s failed (%s)", d->tag, d->last_reason);
        dial_report(d, "failed", NULL);
    }
    dial_free(d);
}

/* -------------------------------------------------------------- methods */

static dial *dial_new(relayd *rd, session *s, const char *tag, json_t *devices, int report)
{
    dial *d = calloc(1, sizeof *d);
    if (!d || !(d->tag = strdup(tag))) {
        free(d);
        return NULL;
    }
    d->rd = rd;
    snprintf(d->session_id, sizeof d->session_id, "%s", s->id);
    d->devices = json_incref(devices);
    d->report = report;
    return d;
}

static const char *tag_check(json_t *params, const char **tag, int required)
{
    json_t *t = json_object_get(params, "tag");
    *tag = json_string_value(t);
    if (!t && !required) {
        *tag = "";
        return NULL;
    }
    if (!*tag || !**tag || strlen(*tag) > DIAL_TAG_MAX)
        return "tag must be a string of 1 to 128 characters";
    return NULL;
}

static void m_dial(rpc_req *r)
{
    const char *tag;
    char buf[160];
    int code = 400;
    const char *why = tag_check(r->params, &tag, 1);
    json_t *devices = json_object_get(r->params, "devices");
    if (!why)
        why = dial_devices_check(devices, r->rd->cfg->phone_trunk, &code, buf, sizeof buf);
    if (why) {
        rpc_answer(r, frames_code_result(code, why));
        return;
    }
    dial *d = dial_new(r->rd, r->conn->session, tag, devices, 1);
    if (!d) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Dialing"));
    server_log(RELAY_LOG_INFO, "dial %s: %zu group(s)", d->tag, json_array_size(devices));
    dial_report(d, "dialing", NULL);
    dial_advance(d); /* d may be freed in here */
}

dial *dial_start(relayd *rd, session *s, const char *tag, json_t *devices,
                 const dial_observer *obs, void *user)
{
    dial *d = dial_new(rd, s, tag, devices, 0);
    if (!d)
        return NULL;
    d->obs = obs;
    d->obs_user = user;
    server_log(RELAY_LOG_INFO, "dial %s: %zu group(s)", d->tag, json_array_size(devices));
    /* from the queue: the caller answers its request before any leg's
     * created event, and holds a handle that outlives this call */
    d->posted++;
    core_post(rd, dial_advance_later, d);
    return d;
}

void dial_cancel(dial *d)
{
    d->obs = NULL;
    d->decided = 1;
    legs_cancel(d);
    dial_advance(d); /* frees d unless a message or a leg still holds it */
}

static json_t *device_group(dial *d) { return json_array_get(d->devices, 0); }

/* calling.begin {tag?, device}: one device, answered with its call_id. */
static void m_begin(rpc_req *r)
{
    const char *tag;
    char buf[160];
    int code = 400;
    json_t *device = json_object_get(r->params, "device");
    const char *why = tag_check(r->params, &tag, 0);
    json_t *devices = json_pack("[[O]]", device ? device : json_null());
    if (!why && !device)
        why = "device is required";
    if (!why)
        why = dial_devices_check(devices, r->rd->cfg->phone_trunk, &code, buf, sizeof buf);
    dial *d = why ? NULL : dial_new(r->rd, r->conn->session, tag, devices, 0);
    json_decref(devices);
    if (why || !d) {
        rpc_answer(r, frames_code_result(why ? code : 500, why ? why : "out of memory"));
        return;
    }
    d->next_group = 1;
    if (dial_place(d, r->conn->session, json_array_get(device_group(d), 0)) != 0) {
        dial_free(d);
        rpc_answer(r, frames_code_result(500, "the call could not be placed"));
        return;
    }
    json_t *res = frames_code_result(200, "Calling");
    json_object_set_new(res, "call_id", json_string(d->legs->op.call->id));
    rpc_answer(r, res);
}

const server_family_desc dial_family = {
    .family = PF_DIAL,
    .methods = (const server_method[]){
        {PM_DIAL, m_dial},
        {PM_UNKNOWN, NULL},
    },
};

/* begin has no family of its own in the table (it answers with the call). */
const server_family_desc begin_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_BEGIN, m_begin},
        {PM_UNKNOWN, NULL},
    },
};
