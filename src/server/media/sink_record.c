#include "media/sink_record.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sndfile.h>

/* 2 s per channel (32 KB mono, 64 KB stereo): the disk writer drains every
 * 20 ms, so only a disk stalled for seconds fills it; then frames are
 * dropped (counted), never waited for. */
#define RING_SECONDS 2
/* A frame whose RMS is above this counts as voice (about -36 dBFS). */
#define VOICE_RMS 500
/* BOTH: one direction may run ahead of the other by this many frames
 * before it is written alone (the other side silent: no play running). */
#define MAX_AHEAD 4

struct media_record_sink {
    media_sink sink; /* first: the session calls back with &sink */
    media_rec_dir dir;
    int channels;
    SNDFILE *file;
    media_disk_job job; /* the disk writer drains the ring through it */
    size_t ring_samples;
    media_record_detached_fn detached;
    void *user;

    /* media thread only: BOTH's frames waiting for the other direction */
    int16_t pend[2][MAX_AHEAD + 1][MEDIA_FRAME_SAMPLES];
    int n_pend[2];

    /* ring: head written by the media thread, tail by the writer */
    int16_t *ring;
    _Atomic size_t head, tail;
    _Atomic uint64_t frames, dropped;
    _Atomic int64_t last_voice_ms;
    atomic_int paused;
    char terminators[17];
    atomic_char terminated; /* the terminator pressed; the core's timer reads it */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int voiced(const int16_t *pcm)
{
    int64_t sq = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
        sq += (int64_t)pcm[i] * pcm[i];
    return sq / MEDIA_FRAME_SAMPLES > (int64_t)VOICE_RMS * VOICE_RMS;
}

/* media thread: one output frame (MEDIA_FRAME_SAMPLES per channel) */
static void ring_put(media_record_sink *r, const int16_t *a, const int16_t *b)
{
    size_t n = (size_t)MEDIA_FRAME_SAMPLES * (size_t)r->channels;
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (r->ring_samples - (head - tail) < n) {
        atomic_fetch_add_explicit(&r->dropped, MEDIA_FRAME_SAMPLES, memory_order_relaxed);
        return;
    }
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        int16_t *out = &r->ring[(head + (size_t)i * (size_t)r->channels) % r->ring_samples];
        if (r->channels == 2) {
            out[0] = a ? a[i] : 0;
            r->ring[(head + (size_t)i * 2 + 1) % r->ring_samples] = b ? b[i] : 0;
        } else {
            int v = (a ? a[i] : 0) + (b ? b[i] : 0);
            out[0] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        }
    }
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    atomic_fetch_add_explicit(&r->frames, MEDIA_FRAME_SAMPLES, memory_order_relaxed);
}

static void pend_pop(media_record_sink *r, int d)
{
    r->n_pend[d]--;
    memmove(r->pend[d][0], r->pend[d][1], (size_t)r->n_pend[d] * sizeof r->pend[d][0]);
}

/* BOTH: pairs an RX frame with a TX frame; a direction that gets MAX_AHEAD
 * frames ahead goes out alone (the other side is quiet). */
static void both_frame(media_record_sink *r, const int16_t *pcm, media_direction dir)
{
    int d = dir == MEDIA_DIR_RX ? 0 : 1;
    memcpy(r->pend[d][r->n_pend[d]++], pcm, sizeof r->pend[d][0]);
    while (r->n_pend[0] && r->n_pend[1]) {
        ring_put(r, r->pend[0][0], r->pend[1][0]);
        pend_pop(r, 0);
        pend_pop(r, 1);
    }
    if (r->n_pend[d] > MAX_AHEAD) {
        ring_put(r, d == 0 ? r->pend[0][0] : NULL, d == 1 ? r->pend[1][0] : NULL);
        pend_pop(r, d);
    }
}

static void record_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                            media_direction dir)
{
    media_record_sink *r = (media_record_sink *)sink;
    if (atomic_load_explicit(&r->paused, memory_order_relaxed))
        return;
    if ((r->dir == MEDIA_REC_LISTEN && dir != MEDIA_DIR_RX) ||
        (r->dir == MEDIA_REC_SPEAK && dir != MEDIA_DIR_TX))
        return;
    if (voiced(pcm))
        atomic_store_explicit(&r->last_voice_ms, mono_ms(), memory_order_relaxed);
    if (r->dir != MEDIA_REC_BOTH)
        ring_put(r, pcm, NULL);
    else
        both_frame(r, pcm, dir);
}

static void record_on_digit(media_sink *sink, char digit)
{
    media_record_sink *r = (media_record_sink *)sink;
    if (strchr(r->terminators, digit) && !atomic_load(&r->terminated))
        atomic_store(&r->terminated, digit);
}

static void record_on_detach(media_sink *sink)
{
    media_record_sink *r = (media_record_sink *)sink;
    r->detached(r, r->user);
}

/* disk writer thread: writes what the ring holds */
static void record_drain(media_disk_job *job)
{
    media_record_sink *r = (media_record_sink *)((char *)job - offsetof(media_record_sink, job));
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    while (tail != head) {
        size_t at = tail % r->ring_samples;
        size_t n = head - tail;
        if (n > r->ring_samples - at)
            n = r->ring_samples - at; /* up to the wrap; the rest next turn */
        sf_write_short(r->file, r->ring + at, (sf_count_t)n);
        tail += n;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
}

/* disk writer thread, after the last drain */
static void record_finish(media_disk_job *job)
{
    media_record_sink *r = (media_record_sink *)((char *)job - offsetof(media_record_sink, job));
    sf_close(r->file);
    r->file = NULL;
}

static int sf_format_of(media_rec_format f)
{
    return f == MEDIA_REC_MP3 ? SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III
                              : SF_FORMAT_WAV | SF_FORMAT_PCM_16;
}

int media_record_format_available(media_rec_format f, int channels)
{
    SF_INFO info = {.samplerate = 8000, .channels = channels, .format = sf_format_of(f)};
    return sf_format_check(&info) != 0;
}

media_record_sink *media_record_sink_open(media_disk_writer *writer, const char *path,
                                          media_rec_format format, media_rec_dir dir, int stereo,
                                          media_record_detached_fn detached, void *user,
                                          const char **err)
{
    media_record_sink *r = calloc(1, sizeof *r);
    size_t ring_samples = (size_t)8000 * RING_SECONDS * (stereo ? 2 : 1);
    if (!r || !(r->ring = malloc(ring_samples * sizeof *r->ring))) {
        free(r);
        *err = "out of memory";
        return NULL;
    }
    r->ring_samples = ring_samples;
    r->sink.on_frame = record_on_frame;
    r->sink.on_detach = record_on_detach;
    r->sink.on_digit = record_on_digit;
    r->dir = dir;
    r->channels = stereo ? 2 : 1;
    r->detached = detached;
    r->user = user;
    SF_INFO info = {.samplerate = 8000,
                    .channels = r->channels,
                    .format = sf_format_of(format)};
    r->file = sf_open(path, SFM_WRITE, &info);
    if (r->file) {
        r->job.drain = record_drain;
        r->job.finish = record_finish;
        media_disk_writer_add(writer, &r->job);
        return r;
    }
    *err = "could not create the recording file";
    free(r->ring);
    free(r);
    return NULL;
}

media_sink *media_record_sink_base(media_record_sink *r) { return &r->sink; }

void media_record_sink_set_terminators(media_record_sink *r, const char *digits)
{
    snprintf(r->terminators, sizeof r->terminators, "%s", digits ? digits : "");
}

char media_record_sink_terminated(media_record_sink *r) { return atomic_load(&r->terminated); }

void media_record_sink_pause(media_record_sink *r, int paused)
{
    atomic_store(&r->paused, paused);
}

int64_t media_record_sink_last_voice_ms(media_record_sink *r)
{
    return atomic_load_explicit(&r->last_voice_ms, memory_order_relaxed);
}

uint64_t media_record_sink_frames(media_record_sink *r)
{
    return atomic_load_explicit(&r->frames, memory_order_relaxed);
}

int media_record_sink_channels(media_record_sink *r) { return r->channels; }

void media_record_sink_close(media_record_sink *r, uint64_t *frames, uint64_t *dropped)
{
    media_disk_writer_close(&r->job);
    *frames = atomic_load(&r->frames);
    *dropped = atomic_load(&r->dropped);
    free(r->ring);
    free(r);
}

uint64_t media_record_wav_size(uint64_t frames, int channels)
{
    return 44 + frames * (uint64_t)channels * 2;
}
