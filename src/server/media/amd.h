/*
 * Answering-machine detection by the shape of what the callee says first,
 * the classic energy heuristic (Asterisk's app_amd and SignalWire's
 * parameters, not speech recognition): a person answers with a short
 * greeting ("hello?") and waits; a machine talks on. Sans IO: the media
 * thread feeds it the received frames and one tick per 20 ms of the
 * leg's clock (ticks also pass while nothing arrives: a silent callee
 * still gets its UNKNOWN).
 *
 *   - nothing louder than the voice threshold within initial_timeout:
 *     UNKNOWN (done);
 *   - voice, then end_silence_timeout of quiet, before the greeting grew
 *     past machine_voice_threshold (from its first voiced tick to its
 *     last) or machine_words_threshold words (voiced runs after at least
 *     100 ms of quiet): HUMAN (done);
 *   - past either threshold: MACHINE; then READY once the greeting ends,
 *     machine_ready_timeout of quiet (or on a beep, whichever comes
 *     first); with wait_for_beep only on a beep (a single steady tone,
 *     beep.h). After READY it is done, unless detect_interruptions: then
 *     voice again reports NOT_READY and the next end (or beep) READY.
 *
 * Limits, honestly: a person who answers with a long sentence is a
 * MACHINE, a terse machine ("leave a message") a HUMAN; loud background
 * noise counts as voice; a beep below 400 Hz or above 2 kHz, shorter than
 * 200 ms, or made of two tones is not heard as one.
 */
#ifndef RELAYD_MEDIA_AMD_H
#define RELAYD_MEDIA_AMD_H

#include <stdint.h>

#include "media/beep.h"

typedef struct amd_params {
    int initial_timeout_ms;      /* 4500 */
    int end_silence_timeout_ms;  /* 1000 */
    int machine_ready_timeout_ms; /* as end_silence_timeout_ms */
    int machine_voice_threshold_ms; /* 1250 */
    int machine_words_threshold; /* 6 */
    int detect_interruptions;    /* 0 */
    int wait_for_beep;           /* 0 */
} amd_params;

typedef enum amd_event {
    AMD_NONE,
    AMD_HUMAN,
    AMD_MACHINE,
    AMD_UNKNOWN,
    AMD_READY,
    AMD_NOT_READY,
} amd_event;

typedef struct amd {
    amd_params p;
    beep_detector beep;
    int stage;          /* private: see amd.c */
    int loud;           /* a voiced frame arrived since the last tick */
    int beeped;         /* a beep ended since the last tick */
    int64_t now;        /* ms since the start, by ticks */
    int64_t first_voice, last_voice;
    int words;
    int64_t quiet_since; /* start of the current quiet run, or -1 */
    int done;
} amd;

void amd_default_params(amd_params *p);
void amd_init(amd *a, const amd_params *p);
void amd_frame(amd *a, const int16_t pcm[MEDIA_FRAME_SAMPLES]);
/* 20 ms passed: what it concluded, if anything. AMD_NONE forever once done. */
amd_event amd_tick(amd *a);
/* Its name on the wire: "HUMAN", "MACHINE", ... */
const char *amd_event_name(amd_event e);

#endif
