/*
 * A play attached to a media session. The session's media thread pulls one
 * frame per tick through media_player_tick; pacing is the thread's (see
 * session.c). Control from other threads is by atomics only; the media
 * thread owns the sources while the play runs.
 *
 * Two holders share a player: the caller (until media_player_free) and the
 * media thread (until it has called done). Whoever lets go last frees it,
 * so stopping and freeing never has to wait for a tick.
 */
#include "media/player.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

struct media_player {
    media_cmd attach; /* the message that hands it to the media thread */
    media_source **sources;
    size_t n;
    int loops;
    media_player_done done;
    void *user;
    atomic_int holders;
    atomic_int stop;
    atomic_int paused;
    atomic_int gain_q16; /* linear gain, 16.16 fixed point */
    /* media thread only */
    size_t cur;
    int loop;
    int marker;
};

static int gain_from_db(double db)
{
    if (!isfinite(db))
        db = 0;
    if (db > 40)
        db = 40;
    if (db < -100)
        return 0;
    return (int)lrint(pow(10.0, db / 20.0) * 65536.0);
}

static void apply_gain(int16_t *pcm, int gain)
{
    if (gain == 65536)
        return;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        long v = ((long)pcm[i] * gain) >> 16;
        pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

static void free_sources(media_source **sources, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sources[i])
            sources[i]->destroy(sources[i]);
    free(sources);
}

static void release(media_player *p)
{
    if (atomic_fetch_sub(&p->holders, 1) != 1)
        return;
    free_sources(p->sources, p->n);
    free(p);
}

/* The next frame of the play, moving through sources and loops; 0 at the
 * end. */
static int next_frame(media_player *p, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    for (;;) {
        if (p->cur >= p->n) {
            if (++p->loop >= p->loops)
                return 0;
            for (size_t i = 0; i < p->n; i++)
                if (!p->sources[i]->rewind || p->sources[i]->rewind(p->sources[i]) < 0)
                    return 0;
            p->cur = 0;
        }
        if (p->sources[p->cur]->read(p->sources[p->cur], frame))
            return 1;
        p->cur++;
    }
}

/* A telephone-event play: its one source's next packet, if any. */
static media_tick event_tick(media_player *p, uint8_t event[4], int *marker,
                             media_play_end *how)
{
    switch (p->sources[0]->read_event(p->sources[0], event, marker)) {
    case 0:
        *how = MEDIA_PLAY_FINISHED;
        return MEDIA_TICK_END;
    case 1:
        return MEDIA_TICK_EVENT;
    default:
        return MEDIA_TICK_QUIET;
    }
}

media_tick media_player_tick(media_player *p, int16_t frame[MEDIA_FRAME_SAMPLES],
                             uint8_t event[4], int *marker, media_play_end *how)
{
    if (atomic_load(&p->stop)) {
        *how = MEDIA_PLAY_STOPPED;
        return MEDIA_TICK_END;
    }
    if (atomic_load(&p->paused)) {
        p->marker = 1; /* the next packet starts a new talkspurt */
        return MEDIA_TICK_QUIET;
    }
    if (p->n == 1 && p->sources[0]->read_event)
        return event_tick(p, event, marker, how);
    if (!next_frame(p, frame)) {
        *how = MEDIA_PLAY_FINISHED;
        return MEDIA_TICK_END;
    }
    apply_gain(frame, atomic_load(&p->gain_q16));
    *marker = p->marker;
    p->marker = 0;
    return MEDIA_TICK_SEND;
}

void media_player_finish(media_player *p, media_play_end how)
{
    p->done(p, how, p->user);
    release(p);
}

media_player *media_player_start(media_session *s, media_source **sources, size_t n,
                                 double volume_db, int loop, media_player_done done,
                                 void *user)
{
    media_player *p = NULL;
    if (!s || !done || (n && !sources))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (!sources[i])
            goto fail;
    p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->sources = sources;
    p->n = n;
    p->loops = loop > 1 ? loop : 1;
    p->done = done;
    p->user = user;
    p->marker = 1;
    atomic_init(&p->holders, 2); /* the caller and the media thread */
    atomic_init(&p->stop, 0);
    atomic_init(&p->paused, 0);
    atomic_init(&p->gain_q16, gain_from_db(volume_db));
    media_session_attach_play(s, p, &p->attach);
    return p;
fail:
    free(p);
    free_sources(sources, n);
    return NULL;
}

void media_player_stop(media_player *p) { atomic_store(&p->stop, 1); }

void media_player_pause(media_player *p, int paused) { atomic_store(&p->paused, paused ? 1 : 0); }

void media_player_set_volume(media_player *p, double volume_db)
{
    atomic_store(&p->gain_q16, gain_from_db(volume_db));
}

void media_player_free(media_player *p)
{
    if (p)
        release(p);
}
