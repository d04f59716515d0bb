/*
 * Sample-rate conversion of 16-bit mono audio (speexdsp's resampler), for
 * bringing synthesised speech and audio files down to the 8 kHz of G.711.
 * Quality over speed: this runs once per prompt, not per packet.
 */
#ifndef RELAYD_MEDIA_RESAMPLE_H
#define RELAYD_MEDIA_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* Converts n samples at in_rate to out_rate; the result is malloc'd and its
 * length stored in *out_n. When downsampling, everything above 90% of the
 * new Nyquist frequency is filtered out first (no aliasing). NULL on bad
 * rates or out of memory. */
int16_t *media_resample(const int16_t *in, size_t n, int in_rate, int out_rate, size_t *out_n);

#endif
