/*
 * The conference mixer. A participant (media_mix_part) is held by three:
 * its sink (until on_detach), its source (until destroy) and the mixer
 * (until it takes the participant's leave, or is itself detached); the
 * last to let go frees it, so the core never waits for a media thread.
 */
#include "media/conference.h"

#include <spandsp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "media/frame_ring.h"
#include "media/player.h"

#define BEEP_LEVEL_DBM0 -13

enum { MIX_JOIN, MIX_LEAVE, MIX_BEEP };

typedef struct mix_cmd {
    mailbox_msg link; /* first: the mailbox casts */
    int kind;
    media_mix_part *part;
    tone_gen_state_t *beep; /* MIX_BEEP: the mixer takes it */
    unsigned except;        /* MIX_BEEP: participant id spared, 0: none */
} mix_cmd;

struct media_mix_part {
    media_sink sink;  /* on the participant's leg */
    media_source src; /* played on it */
    atomic_int holders;
    atomic_int flags; /* PART_* set by the core */
    unsigned id;
    frame_ring in;  /* sink -> mixer */
    frame_ring out; /* mixer -> source */
    mix_cmd join_cmd, leave_cmd;
    media_player *play; /* the core's */
    media_session *session;
    /* mixer thread */
    media_mix_part *next;
    int16_t frame[MEDIA_FRAME_SAMPLES];
    int speaks;
};

enum { PART_MUTED = 1, PART_DEAF = 2, PART_HELD = 4 };

struct media_mixer {
    media_ticker ticker; /* first */
    mailbox inbox;       /* the core's commands */
    atomic_int started;
    unsigned next_id;    /* core */
    /* mixer thread */
    media_mix_part *parts;
    tone_gen_state_t *beep;
    unsigned beep_except;
    int beep_left; /* frames */
};

static void part_unhold(media_mix_part *p)
{
    if (atomic_fetch_sub(&p->holders, 1) == 1)
        free(p);
}

/* the participant's media thread */
static void part_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                          media_direction dir)
{
    if (dir == MEDIA_DIR_RX) /* TX is the conference already */
        frame_ring_put(&((media_mix_part *)sink)->in, pcm);
}

static void part_on_detach(media_sink *sink) { part_unhold((media_mix_part *)sink); }

static media_mix_part *part_of(media_source *src)
{
    return (media_mix_part *)((char *)src - offsetof(media_mix_part, src));
}

/* One frame per tick, silence when the mixer had none; never ends: the
 * core stops the play when the participant leaves. */
static int part_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    frame_ring_get(&part_of(src)->out, frame);
    return 1;
}

static void part_destroy(media_source *src) { part_unhold(part_of(src)); }

/* ------------------------------------------------------- mixer thread */

static void mixer_take(media_mixer *m, mix_cmd *c)
{
    switch (c->kind) {
    case MIX_JOIN:
        c->part->next = m->parts;
        m->parts = c->part;
        break;
    case MIX_LEAVE:
        for (media_mix_part **p = &m->parts; *p; p = &(*p)->next)
            if (*p == c->part) {
                *p = c->part->next;
                break;
            }
        part_unhold(c->part);
        break;
    case MIX_BEEP:
        if (m->beep)
            tone_gen_free(m->beep);
        m->beep = c->beep;
        m->beep_except = c->except;
        m->beep_left = CONF_BEEP_MS / 20;
        free(c);
        break;
    }
}

static void mixer_commands(media_mixer *m)
{
    mailbox_msg *msg = mailbox_take_all(&m->inbox);
    while (msg) {
        mailbox_msg *next = msg->next; /* a command may free its carrier */
        mixer_take(m, (mix_cmd *)msg);
        msg = next;
    }
}

static void mixer_on_tick(media_ticker *t)
{
    media_mixer *m = (media_mixer *)t;
    mixer_commands(m);
    int started = atomic_load_explicit(&m->started, memory_order_relaxed);
    int32_t total[MEDIA_FRAME_SAMPLES] = {0};
    for (media_mix_part *p = m->parts; p; p = p->next) {
        int flags = atomic_load_explicit(&p->flags, memory_order_relaxed);
        int got = frame_ring_get(&p->in, p->frame);
        p->speaks = got && started && !(flags & (PART_MUTED | PART_HELD));
        if (p->speaks)
            for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
                total[i] += p->frame[i];
    }
    int16_t beep[MEDIA_FRAME_SAMPLES];
    int beeping = m->beep_left > 0;
    if (beeping) {
        int n = tone_gen(m->beep, beep, MEDIA_FRAME_SAMPLES);
        if (n < MEDIA_FRAME_SAMPLES)
            memset(beep + n, 0, (size_t)(MEDIA_FRAME_SAMPLES - n) * sizeof beep[0]);
        m->beep_left--;
    }
    int16_t out[MEDIA_FRAME_SAMPLES];
    for (media_mix_part *p = m->parts; p; p = p->next) {
        int flags = atomic_load_explicit(&p->flags, memory_order_relaxed);
        int hears = started && !(flags & (PART_DEAF | PART_HELD));
        int beeps = beeping && p->id != m->beep_except && !(flags & (PART_DEAF | PART_HELD));
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
            int32_t v = hears ? total[i] - (p->speaks ? p->frame[i] : 0) : 0;
            if (beeps)
                v += beep[i];
            out[i] = saturate16(v);
        }
        frame_ring_put(&p->out, out);
    }
}

static void mixer_on_detach(media_ticker *t)
{
    media_mixer *m = (media_mixer *)t;
    mixer_commands(m); /* the leaves posted before the free */
    while (m->parts) {
        media_mix_part *p = m->parts;
        m->parts = p->next;
        part_unhold(p);
    }
    if (m->beep)
        tone_gen_free(m->beep);
    mailbox_destroy(&m->inbox);
    free(m);
}

/* --------------------------------------------------------------- core */

media_mixer *media_mixer_new(media_engine *e)
{
    media_mixer *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    mailbox_init(&m->inbox, NULL, NULL); /* read every tick: no wake-up */
    atomic_init(&m->started, 0);
    m->ticker.on_tick = mixer_on_tick;
    m->ticker.on_detach = mixer_on_detach;
    media_engine_attach_ticker(e, &m->ticker);
    return m;
}

void media_mixer_free(media_mixer *m)
{
    if (m)
        media_engine_detach_ticker(&m->ticker);
}

static void post(media_mixer *m, mix_cmd *c, int kind, media_mix_part *p)
{
    c->kind = kind;
    c->part = p;
    mailbox_push(&m->inbox, &c->link);
}

/* The play has no end of its own; nobody waits for it. */
static void play_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    (void)user;
}

media_mix_part *media_mixer_join(media_mixer *m, media_session *s)
{
    media_mix_part *p = calloc(1, sizeof *p);
    media_source **srcs = p ? malloc(sizeof *srcs) : NULL;
    if (!srcs) {
        free(p);
        return NULL;
    }
    p->sink.on_frame = part_on_frame;
    p->sink.on_detach = part_on_detach;
    p->src.read = part_read;
    p->src.destroy = part_destroy;
    p->session = s;
    p->id = ++m->next_id;
    if (p->id == 0)
        p->id = ++m->next_id;
    atomic_init(&p->holders, 3);
    atomic_init(&p->flags, 0);
    srcs[0] = &p->src;
    /* the player owns the source's hold from here, also on failure */
    p->play = media_player_start(s, srcs, 1, 0, 0, play_done, NULL);
    if (!p->play) {
        part_unhold(p); /* the sink's */
        part_unhold(p); /* the mixer's: the last */
        return NULL;
    }
    media_session_attach_sink(s, &p->sink);
    post(m, &p->join_cmd, MIX_JOIN, p);
    return p;
}

void media_mixer_leave(media_mixer *m, media_mix_part *p)
{
    media_session_detach_sink(p->session, &p->sink);
    media_player_stop(p->play);
    media_player_free(p->play);
    post(m, &p->leave_cmd, MIX_LEAVE, p);
}

void media_mix_part_set(media_mix_part *p, int muted, int deaf, int held)
{
    atomic_store_explicit(&p->flags,
                          (muted ? PART_MUTED : 0) | (deaf ? PART_DEAF : 0) |
                              (held ? PART_HELD : 0),
                          memory_order_relaxed);
}

void media_mixer_set_started(media_mixer *m, int started)
{
    atomic_store_explicit(&m->started, started != 0, memory_order_relaxed);
}

void media_mixer_beep(media_mixer *m, const media_mix_part *except)
{
    /* a beep is worth no more than a failed allocation: none */
    mix_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return;
    tone_gen_descriptor_t *desc = tone_gen_descriptor_init(NULL, CONF_BEEP_HZ, BEEP_LEVEL_DBM0,
                                                           0, 0, CONF_BEEP_MS, 0, 0, 0, 0);
    /* the state copies what it needs from the descriptor */
    c->beep = desc ? tone_gen_init(NULL, desc) : NULL;
    if (desc)
        tone_gen_descriptor_free(desc);
    if (!c->beep) {
        free(c);
        return;
    }
    c->except = except ? except->id : 0;
    post(m, c, MIX_BEEP, NULL);
}
