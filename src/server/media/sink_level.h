/*
 * A level meter sink: counts the frames of each direction and their energy
 * and peak. The first real media_sink, and the simplest proof that what a
 * leg receives arrives decoded; later, the base of silence detection.
 * Readable from any thread while attached (atomics); written only by the
 * session's media thread.
 */
#ifndef RELAYD_MEDIA_SINK_LEVEL_H
#define RELAYD_MEDIA_SINK_LEVEL_H

#include <stdatomic.h>
#include <stdint.h>

#include "media/session.h"

typedef struct media_level_sink {
    media_sink sink; /* first: attach &level->sink */
    _Atomic uint64_t frames[2];   /* by media_direction */
    _Atomic uint64_t sum_sq[2];   /* sum over frames of the frame's mean square */
    _Atomic int peak[2];          /* largest |sample| seen */
    atomic_int detached;          /* on_detach has run: safe to free */
} media_level_sink;

void media_level_sink_init(media_level_sink *l);
/* Root mean square of every sample seen in dir (0 if none). */
double media_level_sink_rms(media_level_sink *l, media_direction dir);

#endif
