/*
 * The paced player: one thread per play, one RTP packet per 20 ms tick.
 *
 * Ticks are computed on an absolute CLOCK_MONOTONIC schedule and slept to
 * with clock_nanosleep(TIMER_ABSTIME), so a late wake-up shortens the next
 * sleep instead of delaying every later packet. Control from other threads
 * is by atomics only; the thread owns the sources.
 */
#include "media/player.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define TICK_NS 20000000L
/* Further behind than this (the machine was suspended, or the thread was
 * starved) we re-anchor the schedule instead of bursting to catch up. */
#define MAX_LAG_NS 200000000L

struct media_player {
    pthread_t thread;
    int started;
    media_rtp *rtp;
    media_source **sources;
    size_t n;
    int loops;
    media_player_done done;
    void *user;
    atomic_int stop;
    atomic_int paused;
    atomic_int gain_q16; /* linear gain, 16.16 fixed point */
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

static void ts_add(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static long ts_diff(const struct timespec *a, const struct timespec *b) /* a - b */
{
    return (long)(a->tv_sec - b->tv_sec) * 1000000000L + (a->tv_nsec - b->tv_nsec);
}

/* The next frame of the play, moving through sources and loops; 0 at the
 * end. */
static int next_frame(media_player *p, size_t *cur, int *loop, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    for (;;) {
        if (*cur >= p->n) {
            if (++*loop >= p->loops)
                return 0;
            for (size_t i = 0; i < p->n; i++)
                if (!p->sources[i]->rewind || p->sources[i]->rewind(p->sources[i]) < 0)
                    return 0;
            *cur = 0;
        }
        if (p->sources[*cur]->read(p->sources[*cur], frame))
            return 1;
        ++*cur;
    }
}

static void *player_main(void *arg)
{
    media_player *p = arg;
    size_t cur = 0;
    int loop = 0;
    int marker = 1;
    media_play_end how = MEDIA_PLAY_FINISHED;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);

    for (;;) {
        if (atomic_load(&p->stop)) {
            how = MEDIA_PLAY_STOPPED;
            break;
        }
        media_rtp_drain(p->rtp);
        if (atomic_load(&p->paused)) {
            marker = 1;
        } else {
            int16_t frame[MEDIA_FRAME_SAMPLES];
            if (!next_frame(p, &cur, &loop, frame))
                break;
            apply_gain(frame, atomic_load(&p->gain_q16));
            if (media_rtp_send_frame(p->rtp, frame, marker) < 0) {
                how = MEDIA_PLAY_ERROR;
                break;
            }
            marker = 0;
        }
        ts_add(&next, TICK_NS);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts_diff(&now, &next) > MAX_LAG_NS)
            next = now;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    p->done(p, how, p->user);
    return NULL;
}

static void free_sources(media_source **sources, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sources[i])
            sources[i]->destroy(sources[i]);
    free(sources);
}

media_player *media_player_start(media_rtp *rtp, media_source **sources, size_t n,
                                 double volume_db, int loop, media_player_done done,
                                 void *user)
{
    media_player *p = NULL;
    if (!rtp || !done || (n && !sources))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (!sources[i])
            goto fail;
    p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->rtp = rtp;
    p->sources = sources;
    p->n = n;
    p->loops = loop > 1 ? loop : 1;
    p->done = done;
    p->user = user;
    atomic_init(&p->stop, 0);
    atomic_init(&p->paused, 0);
    atomic_init(&p->gain_q16, gain_from_db(volume_db));
    if (pthread_create(&p->thread, NULL, player_main, p) != 0)
        goto fail;
    p->started = 1;
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
    if (!p)
        return;
    if (p->started) {
        if (pthread_equal(pthread_self(), p->thread))
            pthread_detach(p->thread); /* freed from its own done callback */
        else
            pthread_join(p->thread, NULL);
    }
    free_sources(p->sources, p->n);
    free(p);
}
