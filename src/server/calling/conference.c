/*
 * calling.join_conference {name, muted?, beep?, start_on_enter?,
 * end_on_exit?, max_participants?} / calling.leave_conference
 * {conference_id}: named audio conferences that relayd mixes itself
 * (media/conference.h). (calling.join_room / leave_room are SignalWire's
 * video rooms: rpc.c refuses them, 501, saying so.)
 *
 * A conference is named within its project; the first join creates it
 * (a fresh conference_id), it ends when its last participant leaves or
 * one that joined with end_on_exit leaves (the others are taken out).
 * Bounds: max_conferences at once (503 past it), and per conference the
 * smaller of max_conference_participants and the creator's
 * max_participants (403 past it).
 *
 * Events, calling.conference {conference_id, name, status} on each
 * participant's call: participant-join, participant-leave, and
 * conference-start (when a start_on_enter participant joins; until then
 * everyone hears silence) and conference-end to every call in it at the
 * end. The status names are those of the protocol reference's
 * ("conference-start").
 *
 * A participant is an op on its call (family NONE: plain methods); the
 * call's hangup (on_leg_gone) is a leave. Core thread only.
 */
#include "calling/conference.h"

#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/emit.h"
#include "common/protocol.h"
#include "common/uuid.h"
#include "families.h"
#include "frames.h"
#include "media/conference.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define NAME_MAX_LEN 128

typedef struct member member;

struct conference {
    conference *next;
    char id[UUID_STR_LEN];
    char *name;
    char *project;
    media_mixer *mixer;
    member *members;
    size_t n;
    size_t max;  /* participants */
    int started; /* a start_on_enter participant joined */
    int ending;
};

struct member {
    call_op base; /* first */
    member *next; /* in the conference */
    conference *cf;
    media_mix_part *part;
    int muted;
    int beep_exit;
    int end_on_exit;
};

static void member_free(call_op *base)
{
    call_op_cleanup(base);
    free(base);
}

static void emit(member *m, const char *status)
{
    if (m->base.call)
        call_emit(m->base.rd, m->base.call, PE_CONFERENCE,
                  json_pack("{s:s, s:s, s:s}", "conference_id", m->cf->id, "name", m->cf->name,
                            "status", status),
                  NULL);
}

static void conference_destroy(relayd *rd, conference *cf)
{
    for (conference **p = &rd->conferences; *p; p = &(*p)->next)
        if (*p == cf) {
            *p = cf->next;
            rd->n_conferences--;
            break;
        }
    server_log(RELAY_LOG_INFO, "conference %s (%s) ended", cf->name, cf->id);
    media_mixer_free(cf->mixer);
    free(cf->name);
    free(cf->project);
    free(cf);
}

/* Takes m out of its conference (participant-leave) and off its call;
 * does not free it. */
static void unlink_member(member *m)
{
    conference *cf = m->cf;
    for (member **p = &cf->members; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            cf->n--;
            break;
        }
    media_mixer_leave(cf->mixer, m->part);
    m->part = NULL;
    emit(m, "participant-leave");
    server_log(RELAY_LOG_INFO, "call %s left conference %s",
               m->base.call ? m->base.call->id : "?", cf->name);
}

/* m leaves; the conference ends with it when it was the last or had
 * end_on_exit (the others taken out). */
static void member_leave(member *m)
{
    conference *cf = m->cf;
    relayd *rd = m->base.rd;
    unlink_member(m);
    int ends = cf->n == 0 || (m->end_on_exit && !cf->ending);
    if (!ends) {
        if (m->beep_exit)
            media_mixer_beep(cf->mixer, NULL);
        call_op_release(&m->base);
        return;
    }
    cf->ending = 1;
    /* the others, then conference-end to every call that was in it */
    member *gone = NULL;
    while (cf->members) {
        member *o = cf->members;
        unlink_member(o);
        o->next = gone;
        gone = o;
    }
    emit(m, "conference-end");
    call_op_release(&m->base);
    while (gone) {
        member *o = gone;
        gone = o->next;
        emit(o, "conference-end");
        call_op_release(&o->base);
    }
    conference_destroy(rd, cf);
}

static void member_leg_gone(call_op *base) { member_leave((member *)base); }

static const call_op_vtbl member_vtbl = {
    .on_leg_gone = member_leg_gone,
    .free = member_free,
};

static member *member_of(const call *c)
{
    for (call_op *op = c->ops; op; op = op->next)
        if (op->vtbl == &member_vtbl)
            return (member *)op;
    return NULL;
}

void conference_call_held(call *c)
{
    member *m = member_of(c);
    if (m)
        media_mix_part_set(m->part, m->muted, 0, c->held);
}

/* ------------------------------------------------------------ params */

typedef struct join_params {
    const char *name;
    int muted, start_on_enter, end_on_exit;
    int beep_enter, beep_exit;
    long long max_participants; /* 0: not given */
} join_params;

/* An optional boolean: -1 when present and not one. */
static int opt_bool(json_t *params, const char *key, int dflt)
{
    json_t *v = json_object_get(params, key);
    if (!v)
        return dflt;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* Options of the reference's join_conference that relayd does not carry
 * out: refused rather than silently ignored. */
static const char *const unsupported[] = {
    "record", "coach", "wait_url", "stream", "status_callback", "recording_status_callback",
};

/* NULL, or the 4xx/5xx answer saying what is wrong. */
static json_t *parse_join(json_t *params, join_params *p, int max_allowed)
{
    json_t *name = json_object_get(params, "name");
    if (!json_is_string(name) || json_string_length(name) == 0)
        return frames_code_result(400, "name is required: the conference's name");
    if (json_string_length(name) > NAME_MAX_LEN)
        return frames_code_result(400, "name is longer than 128 characters");
    p->name = json_string_value(name);
    if (strlen(p->name) != json_string_length(name))
        return frames_code_result(400, "name must not contain NUL");
    p->muted = opt_bool(params, "muted", 0);
    p->start_on_enter = opt_bool(params, "start_on_enter", 1);
    p->end_on_exit = opt_bool(params, "end_on_exit", 0);
    if (p->muted < 0 || p->start_on_enter < 0 || p->end_on_exit < 0)
        return frames_code_result(400, "muted, start_on_enter and end_on_exit must be booleans");
    json_t *beep = json_object_get(params, "beep");
    const char *b = json_is_string(beep) ? json_string_value(beep) : NULL;
    if (json_is_boolean(beep))
        b = json_is_true(beep) ? "true" : "false";
    if (!beep)
        b = "true"; /* the reference's default */
    if (!b || (strcmp(b, "true") && strcmp(b, "false") && strcmp(b, "onEnter") &&
               strcmp(b, "onExit")))
        return frames_code_result(400, "beep must be \"true\", \"false\", \"onEnter\" or \"onExit\"");
    p->beep_enter = !strcmp(b, "true") || !strcmp(b, "onEnter");
    p->beep_exit = !strcmp(b, "true") || !strcmp(b, "onExit");
    json_t *mp = json_object_get(params, "max_participants");
    p->max_participants = 0;
    if (mp && !json_is_null(mp)) {
        if (!json_is_integer(mp) || json_integer_value(mp) < 1 ||
            json_integer_value(mp) > max_allowed) {
            char msg[96];
            snprintf(msg, sizeof msg, "max_participants must be an integer from 1 to %d",
                     max_allowed);
            return frames_code_result(400, msg);
        }
        p->max_participants = json_integer_value(mp);
    }
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        json_t *v = json_object_get(params, unsupported[i]);
        if (v && !json_is_null(v) && !json_is_false(v) &&
            !(json_is_string(v) && (json_string_length(v) == 0 ||
                                    !strcmp(json_string_value(v), "false") ||
                                    !strcmp(json_string_value(v), "do-not-record")))) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s is not implemented by relayd's conferences",
                     unsupported[i]);
            return frames_code_result(501, msg);
        }
    }
    return NULL;
}

/* ----------------------------------------------------------- methods */

static conference *find(relayd *rd, const char *project, const char *name)
{
    for (conference *cf = rd->conferences; cf; cf = cf->next)
        if (!cf->ending && strcmp(cf->name, name) == 0 && strcmp(cf->project, project) == 0)
            return cf;
    return NULL;
}

static conference *create(relayd *rd, const char *project, const join_params *p)
{
    conference *cf = calloc(1, sizeof *cf);
    if (!cf)
        return NULL;
    cf->name = strdup(p->name);
    cf->project = strdup(project);
    cf->mixer = cf->name && cf->project ? media_mixer_new(rd->media) : NULL;
    if (!cf->mixer || uuid_v4(cf->id) != 0) {
        media_mixer_free(cf->mixer);
        free(cf->name);
        free(cf->project);
        free(cf);
        return NULL;
    }
    cf->max = (size_t)rd->cfg->max_conference_participants;
    if (p->max_participants > 0 && (size_t)p->max_participants < cf->max)
        cf->max = (size_t)p->max_participants;
    cf->next = rd->conferences;
    rd->conferences = cf;
    rd->n_conferences++;
    server_log(RELAY_LOG_INFO, "conference %s (%s) created, at most %zu participants", cf->name,
               cf->id, cf->max);
    return cf;
}

static void m_join(rpc_req *r)
{
    relayd *rd = r->rd;
    call *c = r->call;
    join_params p = {0}; /* -O2 cannot see parse_join fill it on success */
    json_t *bad = parse_join(r->params, &p, rd->cfg->max_conference_participants);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    media_session *s = c->leg ? sip_leg_media(c->leg) : NULL;
    if (!s || c->state >= RELAY_CALL_ENDING) {
        rpc_answer(r, frames_code_result(410, "the call has ended"));
        return;
    }
    member *already = member_of(c);
    if (already) {
        char msg[256];
        snprintf(msg, sizeof msg, "the call is in conference %s already: leave it first",
                 already->cf->name);
        rpc_answer(r, frames_code_result(409, msg));
        return;
    }
    conference *cf = find(rd, c->project, p.name);
    int created = 0;
    if (!cf) {
        if (rd->n_conferences >= (size_t)rd->cfg->max_conferences) {
            char msg[128];
            snprintf(msg, sizeof msg, "relayd mixes at most %d conferences at once (max_conferences)",
                     rd->cfg->max_conferences);
            rpc_answer(r, frames_code_result(503, msg));
            return;
        }
        cf = create(rd, c->project, &p);
        if (!cf) {
            rpc_answer(r, frames_code_result(500, "out of memory"));
            return;
        }
        created = 1;
    } else if (cf->n >= cf->max) {
        char msg[256];
        snprintf(msg, sizeof msg, "conference %s is full: %zu participants (max_participants)",
                 cf->name, cf->max);
        rpc_answer(r, frames_code_result(403, msg));
        return;
    }
    member *m = calloc(1, sizeof *m);
    if (!m || call_op_init(&m->base, &member_vtbl, PF_NONE, rd, NULL, NULL) != 0 ||
        !(m->part = media_mixer_join(cf->mixer, s))) {
        if (m)
            call_op_cleanup(&m->base);
        free(m);
        if (created)
            conference_destroy(rd, cf);
        rpc_answer(r, frames_code_result(500, "could not join the conference"));
        return;
    }
    m->cf = cf;
    m->muted = p.muted;
    m->beep_exit = p.beep_exit;
    m->end_on_exit = p.end_on_exit;
    media_mix_part_set(m->part, m->muted, 0, c->held);
    m->next = cf->members;
    cf->members = m;
    cf->n++;
    call_op_attach(c, &m->base);
    server_log(RELAY_LOG_INFO, "call %s joined conference %s (%zu of %zu)%s", c->id, cf->name,
               cf->n, cf->max, p.muted ? ", muted" : "");

    json_t *res = frames_code_result(200, "Joining conference");
    json_object_set_new(res, "conference_id", json_string(cf->id));
    rpc_answer(r, res);
    emit(m, "participant-join");
    if (p.beep_enter && cf->n > 1)
        media_mixer_beep(cf->mixer, m->part);
    if (!cf->started && p.start_on_enter) {
        cf->started = 1;
        media_mixer_set_started(cf->mixer, 1);
        for (member *o = cf->members; o; o = o->next)
            emit(o, "conference-start");
    }
}

static void m_leave(rpc_req *r)
{
    json_t *id = json_object_get(r->params, "conference_id");
    if (!json_is_string(id) || json_string_length(id) == 0) {
        rpc_answer(r, frames_code_result(400, "conference_id is required"));
        return;
    }
    member *m = member_of(r->call);
    if (!m || strcmp(m->cf->id, json_string_value(id)) != 0) {
        rpc_answer(r, frames_code_result(404, m ? "the call is not in that conference"
                                                : "the call is in no conference"));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Leaving conference"));
    member_leave(m);
}

const server_family_desc conference_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_JOIN_CONFERENCE, m_join},
        {PM_LEAVE_CONFERENCE, m_leave},
        {PM_UNKNOWN, NULL},
    },
};
