/* The answering-machine heuristic (see amd.h). */
#include "media/amd.h"

/* A frame whose RMS is above this is voice (about -36 dBFS, as record's). */
#define VOICE_MEAN_SQ (500.0 * 500.0)
#define TICK_MS 20
#define WORD_GAP_MS 100

enum { WAIT_VOICE, GREETING, MACHINE_TALKING, MACHINE_READY };

void amd_default_params(amd_params *p)
{
    *p = (amd_params){
        .initial_timeout_ms = 4500,
        .end_silence_timeout_ms = 1000,
        .machine_ready_timeout_ms = 1000,
        .machine_voice_threshold_ms = 1250,
        .machine_words_threshold = 6,
    };
}

void amd_init(amd *a, const amd_params *p)
{
    *a = (amd){.p = *p, .stage = WAIT_VOICE, .quiet_since = 0};
    beep_init(&a->beep);
}

void amd_frame(amd *a, const int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    if (a->done)
        return;
    double sq = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
        sq += (double)pcm[i] * pcm[i];
    if (sq / MEDIA_FRAME_SAMPLES >= VOICE_MEAN_SQ)
        a->loud = 1;
    /* only after MACHINE: before it a beep would be just voice */
    if ((a->stage == MACHINE_TALKING || a->stage == MACHINE_READY) && beep_frame(&a->beep, pcm))
        a->beeped = 1;
}

static amd_event finish(amd *a, amd_event e)
{
    a->done = 1;
    return e;
}

amd_event amd_tick(amd *a)
{
    if (a->done)
        return AMD_NONE;
    int loud = a->loud, beeped = a->beeped;
    a->loud = a->beeped = 0;
    a->now += TICK_MS;
    if (loud) {
        if (a->quiet_since >= 0 && a->now - a->quiet_since >= WORD_GAP_MS)
            a->words++;
        a->quiet_since = -1;
        a->last_voice = a->now;
    } else if (a->quiet_since < 0) {
        a->quiet_since = a->now;
    }
    int64_t quiet = a->quiet_since < 0 ? 0 : a->now - a->quiet_since;

    switch (a->stage) {
    case WAIT_VOICE:
        if (loud) {
            a->stage = GREETING;
            a->first_voice = a->now;
            a->words = 1;
            return AMD_NONE;
        }
        return a->now >= a->p.initial_timeout_ms ? finish(a, AMD_UNKNOWN) : AMD_NONE;
    case GREETING:
        if (a->last_voice - a->first_voice >= a->p.machine_voice_threshold_ms ||
            a->words >= a->p.machine_words_threshold) {
            a->stage = MACHINE_TALKING;
            return AMD_MACHINE;
        }
        return quiet >= a->p.end_silence_timeout_ms ? finish(a, AMD_HUMAN) : AMD_NONE;
    case MACHINE_TALKING:
        if (beeped || (!a->p.wait_for_beep && quiet >= a->p.machine_ready_timeout_ms)) {
            if (!a->p.detect_interruptions)
                return finish(a, AMD_READY);
            a->stage = MACHINE_READY;
            return AMD_READY;
        }
        return AMD_NONE;
    case MACHINE_READY: /* detect_interruptions only */
        if (loud && !beeped && a->beep.run == 0) { /* the beep's tail is no voice */
            a->stage = MACHINE_TALKING;
            return AMD_NOT_READY;
        }
        return AMD_NONE;
    }
    return AMD_NONE;
}

const char *amd_event_name(amd_event e)
{
    switch (e) {
    case AMD_HUMAN:
        return "HUMAN";
    case AMD_MACHINE:
        return "MACHINE";
    case AMD_UNKNOWN:
        return "UNKNOWN";
    case AMD_READY:
        return "READY";
    case AMD_NOT_READY:
        return "NOT_READY";
    case AMD_NONE:
        break;
    }
    return "";
}
