/*
 * An answering machine's beep: one steady frequency (400-2000 Hz), loud,
 * holding for at least 200 ms. Fed 20 ms frames on the media thread; sans
 * IO, so a unit test can feed it samples.
 *
 * A bank of spandsp Goertzel filters 25 Hz apart measures, per frame, the
 * share of the frame's energy at the strongest frequency: close to 1 for a
 * pure tone, a few percent for noise or speech. Voiced speech can hold one
 * harmonic for a while; requiring the same frequency (within 50 Hz) for ten
 * frames in a row is what keeps vowels out.
 */
#ifndef RELAYD_MEDIA_BEEP_H
#define RELAYD_MEDIA_BEEP_H

#include <stdint.h>

#include <spandsp.h>

#include "media/source.h"

#define BEEP_BINS 65 /* 400 .. 2000 Hz, 25 Hz apart */

typedef struct beep_detector {
    goertzel_descriptor_t desc[BEEP_BINS];
    int run;      /* frames in a row with the tone */
    int run_bin;  /* its bin */
} beep_detector;

void beep_init(beep_detector *b);
/* 1 on the frame that completes a beep (once per beep: the run must break
 * before another counts). */
int beep_frame(beep_detector *b, const int16_t pcm[MEDIA_FRAME_SAMPLES]);

#endif
