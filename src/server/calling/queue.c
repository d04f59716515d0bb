/*
 * calling.queue.enter / calling.queue.leave: an answered call waits in a
 * named queue of its project (calling/queue_dir.h), hearing the hold audio
 * (queue_hold_audio, looped), until a calling.connect with a queue device
 * takes it from the head (queue_take_head, for connect.c), the client
 * takes it out with queue.leave, or it hangs up.
 *
 * Events: calling.call.queue {status, id, name, queue_id, queue_name,
 * position, size, control_id}: "enqueue" on entering and again whenever
 * someone ahead goes (a new position), "dequeue" when a connect takes it,
 * "leave" on queue.leave or a hangup while waiting (position 0: out of the
 * line; size: those still in it). The Python SDK reads the queue's id and
 * name from `id` and `name`; `queue_id` and `queue_name` repeat them under
 * the names the requests use. The control_id is queue.enter's (the
 * reference SDK sends one with both methods and reads it from the events).
 *
 * Lifetime: a queue_op on the call (family NONE, found by its vtable) that
 * embeds its queue entry. Out of the line it leaves the call at once; it
 * is freed once also the hold audio's preparation (its one message in
 * flight) has landed. The hold player reports to nobody: it is stopped and
 * let go, as connect.c's ringback.
 *
 * Core thread only (except hold_prepare_main, on the preparation pool).
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "calling/emit.h"
#include "calling/media_items.h"
#include "calling/queue.h"
#include "calling/queue_dir.h"
#include "common/uuid.h"
#include "families.h"
#include "frames.h"
#include "media/player.h"
#include "media/prep.h"
#include "server_log.h"
#include "session.h"
#include "sip/sip_ua.h"

#define QUEUE_CONTROL_ID_MAX 63

typedef struct queue_op {
    call_op base; /* first: the call's list holds &base */
    queue_entry entry;
    relayd *rd;
    char queue_id[UUID_STR_LEN];
    char name[QUEUE_NAME_MAX + 1];
    int live;                /* on its call, not released */
    int preparing;           /* the hold audio's preparation is in flight */
    json_t *hold_items;      /* media items; owned */
    media_source **hold_src; /* written by the pool, read once it posted */
    size_t hold_n;
    const char *hold_err;
    media_player *hold;
} queue_op;

static const call_op_vtbl queue_vtbl;

static queue_op *of_entry(queue_entry *e)
{
    return (queue_op *)((char *)e - offsetof(queue_op, entry));
}

static queue_op *of_call(const call *c)
{
    for (call_op *op = c->ops; op; op = op->next)
        if (op->vtbl == &queue_vtbl)
            return (queue_op *)op;
    return NULL;
}

int queue_has_call(const call *c) { return of_call(c) != NULL; }

static void maybe_free(queue_op *q)
{
    if (q->live || q->preparing)
        return;
    media_items_free(q->hold_src, q->hold_n);
    json_decref(q->hold_items);
    free(q);
}

static void q_free(call_op *op)
{
    queue_op *q = (queue_op *)op;
    call_op_cleanup(op);
    q->live = 0;
    maybe_free(q);
}

/* Plain methods have no family row, so no call_op_emit: the event is
 * named here (as echo.c's). */
static void emit(queue_op *q, const char *status, size_t position, size_t size)
{
    if (!q->base.call)
        return;
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "status", status, "id",
                          q->queue_id, "name", q->name, "queue_id", q->queue_id, "queue_name",
                          q->name, "position", (json_int_t)position, "size", (json_int_t)size);
    if (p && q->base.control_id[0])
        json_object_set_new(p, "control_id", json_string(q->base.control_id));
    call_emit(q->rd, q->base.call, PE_CALL_QUEUE, p, q->base.status_url);
}

static void hold_stop(queue_op *q)
{
    if (!q->hold)
        return;
    media_player_stop(q->hold);
    media_player_free(q->hold);
    q->hold = NULL;
}

static void moved_up(queue_entry *e, size_t position, size_t size, void *user)
{
    (void)user;
    emit(of_entry(e), "enqueue", position, size);
}

/* The call is out of the line: it hears why, those behind move up, and
 * the op leaves the call (freed once no preparation is in flight). */
static void out_of_line(queue_op *q, const char *status)
{
    hold_stop(q);
    size_t size = queue_entry_size(&q->entry) - 1;
    emit(q, status, 0, size);
    queue_dir_leave(q->rd->queues, &q->entry, moved_up, NULL);
    server_log(RELAY_LOG_INFO, "queue %s: call %s out (%s), %zu waiting", q->name,
               q->base.call ? q->base.call->id : "-", status, size);
    call_op_release(&q->base);
}

static void q_leg_gone(call_op *op) { out_of_line((queue_op *)op, "leave"); }

static const call_op_vtbl queue_vtbl = {.on_leg_gone = q_leg_gone, .free = q_free};

/* ---------------------------------------------------------- hold audio */

static void hold_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    (void)user; /* stopped by the op, or replaced by a newer play: nobody waits */
}

static void hold_prepared(relayd *rd, void *arg)
{
    queue_op *q = arg;
    rd->preparing--;
    q->preparing = 0;
    call *c = q->live ? q->base.call : NULL;
    media_session *s = c && c->leg ? sip_leg_media(c->leg) : NULL;
    if (q->hold_err)
        server_log(RELAY_LOG_WARN, "queue %s: no hold audio: %s", q->name, q->hold_err);
    else if (s) { /* still waiting; as long as it waits, the audio repeats */
        q->hold = media_player_start(s, q->hold_src, q->hold_n, 0, INT_MAX, hold_done, NULL);
        q->hold_src = NULL; /* the player took them */
        q->hold_n = 0;
    }
    maybe_free(q);
}

/* preparation pool: fetching and decoding take time */
static void hold_prepare_main(void *arg)
{
    queue_op *q = arg;
    q->hold_src = media_items_build(q->rd, q->hold_items, &q->hold_n, &q->hold_err);
    core_post(q->rd, hold_prepared, q);
}

/* queue_hold_audio as media items: a URL is an audio item, else a ringtone */
static json_t *hold_items(relayd *rd)
{
    const char *what = rd->cfg->queue_hold_audio;
    if (!what || !*what)
        return NULL;
    json_t *items = strstr(what, "://")
                        ? json_pack("[{s:s, s:{s:s}}]", "type", "audio", "params", "url", what)
                        : json_pack("[{s:s, s:{s:s}}]", "type", "ringtone", "params", "name",
                                    what);
    const char *why = items ? media_items_invalid(rd, items) : "out of memory";
    if (why) {
        server_log(RELAY_LOG_WARN, "queue_hold_audio: %s; callers wait in silence", why);
        json_decref(items);
        return NULL;
    }
    return items;
}

static void hold_start(queue_op *q)
{
    if (!(q->hold_items = hold_items(q->rd)))
        return;
    if (media_prep_submit(q->rd->prep, hold_prepare_main, q) == 0) {
        q->preparing = 1;
        q->rd->preparing++;
    } else {
        server_log(RELAY_LOG_WARN, "queue %s: no hold audio: the pool refused it", q->name);
    }
}

/* -------------------------------------------------------------- methods */

/* params.queue_name: NULL with *why if missing or unfit */
static const char *name_param(json_t *params, const char **why)
{
    json_t *v = json_object_get(params, "queue_name");
    const char *name = json_string_value(v);
    if (!name || !*name || strlen(name) > QUEUE_NAME_MAX) {
        *why = "queue_name must be a string of 1 to 128 characters";
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            *why = "queue_name must not contain control characters";
            return NULL;
        }
    return name;
}

static json_t *enter_invalid(rpc_req *r, const char **name, const char **control_id,
                             const char **status_url)
{
    const char *why = NULL;
    if (!(*name = name_param(r->params, &why)))
        return frames_code_result(400, why);
    json_t *cid = json_object_get(r->params, "control_id");
    *control_id = json_string_value(cid);
    if (cid && (!*control_id || strlen(*control_id) > QUEUE_CONTROL_ID_MAX))
        return frames_code_result(400, "control_id must be a string of at most 63 characters");
    json_t *bad = call_op_check_status_url(r->params, status_url);
    if (bad)
        return bad;
    call *c = r->call;
    if (c->state != RELAY_CALL_ANSWERED || !c->leg || !sip_leg_media(c->leg)) {
        char msg[160];
        snprintf(msg, sizeof msg, "calling.queue.enter needs an answered call (this one is %s)",
                 proto_call_state_name(c->state));
        return frames_code_result(409, msg);
    }
    queue_op *in = of_call(c);
    if (in) {
        char msg[200];
        snprintf(msg, sizeof msg, "the call already waits in queue \"%s\"", in->name);
        return frames_code_result(409, msg);
    }
    if (call_op_find(c, PF_CONNECT, NULL))
        return frames_code_result(409, "the call is connecting or connected");
    return NULL;
}

static void m_enter(rpc_req *r)
{
    const char *name = NULL, *control_id = NULL, *status_url = NULL;
    json_t *bad = enter_invalid(r, &name, &control_id, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    queue_op *q = calloc(1, sizeof *q);
    if (!q || call_op_init(&q->base, &queue_vtbl, PF_NONE, r->rd, control_id, status_url) != 0) {
        free(q);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    q->rd = r->rd;
    snprintf(q->name, sizeof q->name, "%s", name);
    const relayd_config *cfg = r->rd->cfg;
    queue_dir_set_limits(r->rd->queues, (size_t)cfg->queue_max_queues,
                         (size_t)cfg->queue_max_callers);
    queue_join j = queue_dir_join(r->rd->queues, r->call->project, name, &q->entry);
    if (j != QUEUE_JOINED) {
        char msg[240];
        int code = 503;
        if (j == QUEUE_FULL)
            snprintf(msg, sizeof msg, "queue \"%s\" is full (%d callers: queue_max_callers)",
                     name, cfg->queue_max_callers);
        else if (j == QUEUE_TOO_MANY)
            snprintf(msg, sizeof msg,
                     "too many queues: %d have callers waiting (queue_max_queues)",
                     cfg->queue_max_queues);
        else {
            code = 500;
            snprintf(msg, sizeof msg, "out of memory");
        }
        call_op_cleanup(&q->base);
        free(q);
        rpc_answer(r, frames_code_result(code, msg));
        return;
    }
    snprintf(q->queue_id, sizeof q->queue_id, "%s", queue_entry_queue_id(&q->entry));
    q->live = 1;
    call_op_attach(r->call, &q->base);
    size_t pos = queue_entry_position(&q->entry), size = queue_entry_size(&q->entry);
    json_t *res = frames_code_result(200, "Enqueued");
    json_object_set_new(res, "queue_id", json_string(q->queue_id));
    rpc_answer(r, res);
    server_log(RELAY_LOG_INFO, "queue %s: call %s enters at %zu of %zu", name, r->call->id, pos,
               size);
    emit(q, "enqueue", pos, size);
    hold_start(q);
}

static void m_leave(rpc_req *r)
{
    const char *why = NULL, *name = name_param(r->params, &why);
    if (!name) {
        rpc_answer(r, frames_code_result(400, why));
        return;
    }
    json_t *qid = json_object_get(r->params, "queue_id");
    if (qid && !json_is_string(qid)) {
        rpc_answer(r, frames_code_result(400, "queue_id must be a string"));
        return;
    }
    queue_op *q = of_call(r->call);
    char msg[240];
    if (!q || strcmp(q->name, name) != 0 ||
        (qid && strcmp(json_string_value(qid), q->queue_id) != 0)) {
        if (!q)
            snprintf(msg, sizeof msg, "the call waits in no queue");
        else
            snprintf(msg, sizeof msg, "the call waits in queue \"%s\" (queue_id %s), not that one",
                     q->name, q->queue_id);
        rpc_answer(r, frames_code_result(409, msg));
        return;
    }
    rpc_answer(r, frames_code_result(200, "Left the queue"));
    out_of_line(q, "leave");
}

const server_family_desc queue_family = {
    .family = PF_NONE,
    .methods = (const server_method[]){
        {PM_QUEUE_ENTER, m_enter},
        {PM_QUEUE_LEAVE, m_leave},
        {PM_UNKNOWN, NULL},
    },
};

/* ---------------------------------------------------- for calling.connect */

int queue_device(json_t *devices, const char **name, const char **why)
{
    size_t i, j, n = 0, queues = 0;
    json_t *group, *dev, *queue_dev = NULL;
    if (!json_is_array(devices))
        return 0;
    json_array_foreach(devices, i, group)
    {
        if (!json_is_array(group))
            return 0; /* the dial's own check says what is wrong */
        json_array_foreach(group, j, dev)
        {
            n++;
            const char *type = json_string_value(json_object_get(dev, "type"));
            if (type && strcmp(type, "queue") == 0) {
                queues++;
                queue_dev = dev;
            }
        }
    }
    if (!queues)
        return 0;
    if (n != 1) {
        *why = "a queue device must be the only device";
        return -1;
    }
    *name = name_param(json_object_get(queue_dev, "params"), why);
    if (!*name) {
        *why = "a queue device needs params.queue_name, a string of 1 to 128 characters";
        return -1;
    }
    return 1;
}

int queue_head_waits(relayd *rd, const char *project, const char *name)
{
    return queue_dir_head(rd->queues, project, name) != NULL;
}

call *queue_take_head(relayd *rd, const char *project, const char *name)
{
    queue_entry *e = queue_dir_head(rd->queues, project, name);
    if (!e)
        return NULL;
    queue_op *q = of_entry(e);
    call *c = q->base.call;
    out_of_line(q, "dequeue");
    return c;
}
