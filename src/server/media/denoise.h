/*
 * Noise suppression of what a leg receives (calling.denoise): speexdsp's
 * preprocessor at 8 kHz on 160-sample frames, denoise on and nothing else
 * (no AGC, no VAD: sinks see the caller's level as it was). The session
 * runs it on each decoded RX frame before its sinks (record, collect,
 * detect, echo) see it.
 *
 * Made on the core thread, then handed to the session's media thread with
 * media_session_set_denoise, which alone uses and frees it from then on.
 */
#ifndef RELAYD_MEDIA_DENOISE_H
#define RELAYD_MEDIA_DENOISE_H

#include <stdint.h>

#include "media/session.h"
#include "media/source.h"

typedef struct media_denoise media_denoise;

/* on: a working suppressor; off: a message that turns it off. NULL when
 * out of memory. */
media_denoise *media_denoise_new(int on);
/* Cleans one frame in place (a no-op for an "off" message). */
void media_denoise_frame(media_denoise *d, int16_t pcm[MEDIA_FRAME_SAMPLES]);
int media_denoise_on(const media_denoise *d);
void media_denoise_free(media_denoise *d);
/* The carrier that posts it to the media thread (media/session.c). */
media_cmd *media_denoise_cmd(media_denoise *d);

#endif
