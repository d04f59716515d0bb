/*
 * A ring of 20 ms PCM frames between two media threads (one producer, one
 * consumer, no lock), with the rule that keeps the delay across it short
 * without throwing audio away for nothing. Bridges (media/bridge.c) and
 * conference participants (media/conference.c) carry audio through it.
 */
#ifndef RELAY_MEDIA_FRAME_RING_H
#define RELAY_MEDIA_FRAME_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "media/session.h"

/* 16 frames (320 ms): room for the burst a media thread reads when it
 * catches up after a stall (it re-anchors past 200 ms, see session.c). */
#define FRAME_RING_FRAMES 16

typedef struct frame_ring {
    atomic_uint head;   /* written by the producer only */
    atomic_uint tail;   /* written by the consumer only */
    unsigned over;      /* consumer: ticks in a row above the kept delay */
    int16_t frames[FRAME_RING_FRAMES][MEDIA_FRAME_SAMPLES];
    uint8_t quiet[FRAME_RING_FRAMES]; /* written with its frame */
} frame_ring;

/* A zeroed frame_ring is empty and ready (calloc, or = {0}). */

/* Producer: queues a copy of pcm. -1 (and the frame counted dropped)
 * when the ring is full. */
int frame_ring_put(frame_ring *r, const int16_t pcm[MEDIA_FRAME_SAMPLES]);
/* Consumer, once a tick: the next frame into pcm and 1, or silence and 0
 * when nothing is queued. */
int frame_ring_get(frame_ring *r, int16_t pcm[MEDIA_FRAME_SAMPLES]);
/* Frames every ring has dropped since start. Any thread. */
uint64_t frame_ring_dropped_total(void);

#endif
