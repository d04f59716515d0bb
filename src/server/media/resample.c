/*
 * Whole-prompt resampling with speexdsp's resampler (the one used by
 * PulseAudio, Asterisk and FreeSWITCH) rather than a filter of our own.
 *
 * A prompt is converted at once on the preparation pool, so the resampler's
 * filter delay is taken out: speex_resampler_skip_zeros() makes the first
 * output sample line up with the first input sample, and the tail is flushed
 * with the filter's input latency worth of zeros. The output then has
 * exactly n * out_rate / in_rate samples, aligned with the input, as the
 * callers (and the pacing of plays) expect.
 */
#include "media/resample.h"

#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>

/* Speex's "desktop" level: for 22050 -> 8000 Hz it is flat to 3.3 kHz
 * (levels 3 and below lose 0.2 dB there) and a 4.6 kHz tone, which would
 * alias to 3.4 kHz, comes out below one LSB (< -90 dB); higher levels cost
 * 1.2 .. 4x as much for nothing audible at 8 kHz (bench/resample.c, figures
 * in bench/RESULTS.md). */
#define QUALITY SPEEX_RESAMPLER_QUALITY_DESKTOP

/* Input fed per call: the resampler takes 32-bit counts, a prompt may not. */
#define CHUNK 4096

int16_t *media_resample(const int16_t *in, size_t n, int in_rate, int out_rate, size_t *out_n)
{
    if (in_rate <= 0 || out_rate <= 0 || (n && !in))
        return NULL;
    size_t on = (size_t)((unsigned long long)n * (unsigned)out_rate / (unsigned)in_rate);
    int16_t *out = malloc(on ? on * sizeof *out : 1);
    if (!out)
        return NULL;
    *out_n = on;
    if (in_rate == out_rate) {
        if (n)
            memcpy(out, in, n * sizeof *out);
        return out;
    }

    int err = 0;
    SpeexResamplerState *st =
        speex_resampler_init(1, (spx_uint32_t)in_rate, (spx_uint32_t)out_rate, QUALITY, &err);
    if (!st) {
        free(out);
        return NULL;
    }
    speex_resampler_skip_zeros(st);

    static const spx_int16_t zeros[CHUNK];
    size_t done = 0, fed = 0;
    size_t tail = (size_t)speex_resampler_get_input_latency(st) + 1;
    /* Runs until the output is full: after the input, zeros flush the
     * filter (tail bounds them, a guard against a resampler that stalls). */
    while (done < on) {
        const spx_int16_t *src;
        spx_uint32_t in_len;
        if (fed < n) {
            src = in + fed;
            in_len = (spx_uint32_t)(n - fed < CHUNK ? n - fed : CHUNK);
        } else if (tail) {
            src = zeros;
            in_len = (spx_uint32_t)(tail < CHUNK ? tail : CHUNK);
        } else {
            break;
        }
        spx_uint32_t out_len = (spx_uint32_t)(on - done < 0xFFFFFFFFu ? on - done : 0xFFFFFFFFu);
        if (speex_resampler_process_int(st, 0, src, &in_len, out + done, &out_len) !=
            RESAMPLER_ERR_SUCCESS)
            break;
        done += out_len;
        if (fed < n)
            fed += in_len;
        else
            tail -= in_len < tail ? in_len : tail;
    }
    speex_resampler_destroy(st);
    /* Rounding may leave the last sample or so unproduced: silence. */
    if (done < on)
        memset(out + done, 0, (on - done) * sizeof *out);
    return out;
}
