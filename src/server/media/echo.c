/* See media/echo.h. */
#include "media/echo.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_QUEUE 8

struct media_echo {
    media_sink sink;
    media_source source;
    atomic_int holders; /* the session (sink) and the player (source) */
    uint64_t left;      /* frames still to send; counting only when limited */
    int limited;
    /* media thread only */
    int16_t queue[ECHO_QUEUE][MEDIA_FRAME_SAMPLES];
    unsigned head, count;
};

static void release(media_echo *e)
{
    if (atomic_fetch_sub(&e->holders, 1) == 1)
        free(e);
}

static void on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                     media_direction dir)
{
    media_echo *e = (media_echo *)((char *)sink - offsetof(media_echo, sink));
    if (dir != MEDIA_DIR_RX)
        return; /* what we send is the echo itself */
    if (e->count == ECHO_QUEUE) { /* drop the oldest: the delay stays bounded */
        e->head = (e->head + 1) % ECHO_QUEUE;
        e->count--;
    }
    memcpy(e->queue[(e->head + e->count) % ECHO_QUEUE], pcm, sizeof e->queue[0]);
    e->count++;
}

static void on_detach(media_sink *sink)
{
    release((media_echo *)((char *)sink - offsetof(media_echo, sink)));
}

static int source_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    media_echo *e = (media_echo *)((char *)src - offsetof(media_echo, source));
    if (e->limited && e->left-- == 0)
        return 0;
    if (!e->count) {
        memset(frame, 0, sizeof e->queue[0]);
        return 1;
    }
    memcpy(frame, e->queue[e->head], sizeof e->queue[0]);
    e->head = (e->head + 1) % ECHO_QUEUE;
    e->count--;
    return 1;
}

static void source_destroy(media_source *src)
{
    release((media_echo *)((char *)src - offsetof(media_echo, source)));
}

media_echo *media_echo_new(uint64_t frames)
{
    media_echo *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->sink.on_frame = on_frame;
    e->sink.on_detach = on_detach;
    e->source.read = source_read;
    e->source.destroy = source_destroy; /* no rewind: a live stream */
    e->left = frames;
    e->limited = frames > 0;
    atomic_init(&e->holders, 2);
    return e;
}

media_sink *media_echo_sink(media_echo *e) { return &e->sink; }
media_source *media_echo_source(media_echo *e) { return &e->source; }
