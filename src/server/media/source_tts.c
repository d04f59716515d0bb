/*
 * Text-to-speech with espeak-ng, synthesised completely before the play
 * starts (a sentence takes milliseconds), then resampled from espeak's rate
 * (22050 Hz) to 8 kHz and served as a pcm source.
 *
 * espeak-ng keeps its state in globals and is not thread-safe: one mutex
 * serialises every use, and the library is initialised once per process.
 * We use the espeak_ng_* initialisation calls rather than
 * espeak_Initialize(), which exit()s the process when its data is missing.
 */
#include "media/resample.h"
#include "media/source.h"

#include <ctype.h>
#include <espeak-ng/espeak_ng.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TTS_MAX_TEXT 8192      /* bytes of text per prompt */
#define TTS_MAX_SECONDS 600    /* of audio per prompt */

static pthread_mutex_t tts_lock = PTHREAD_MUTEX_INITIALIZER;
static int tts_state;          /* 0 untried, 1 ready, -1 failed */
static int tts_rate;           /* espeak's output rate */

/* The buffer the synth callback appends to; only touched under tts_lock. */
static struct {
    int16_t *pcm;
    size_t n, cap, max;
    int overflow;
} tts_buf;

static int tts_collect(short *wav, int count, espeak_EVENT *events)
{
    (void)events;
    if (!wav || count <= 0)
        return 0;
    if (tts_buf.n + (size_t)count > tts_buf.max) {
        tts_buf.overflow = 1;
        return 1; /* abort synthesis */
    }
    if (tts_buf.n + (size_t)count > tts_buf.cap) {
        size_t cap = tts_buf.cap ? tts_buf.cap * 2 : 65536;
        while (cap < tts_buf.n + (size_t)count)
            cap *= 2;
        int16_t *p = realloc(tts_buf.pcm, cap * sizeof *p);
        if (!p) {
            tts_buf.overflow = 1;
            return 1;
        }
        tts_buf.pcm = p;
        tts_buf.cap = cap;
    }
    memcpy(tts_buf.pcm + tts_buf.n, wav, (size_t)count * sizeof *wav);
    tts_buf.n += (size_t)count;
    return 0;
}

/* Under tts_lock. */
static int tts_init_locked(const char **err)
{
    if (tts_state == 0) {
        espeak_ng_ERROR_CONTEXT ctx = NULL;
        espeak_ng_InitializePath(NULL); /* ESPEAK_DATA_PATH or the built-in path */
        espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
        if (ctx)
            espeak_ng_ClearErrorContext(&ctx);
        if (st == ENS_OK)
            st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 200, NULL);
        if (st == ENS_OK) {
            tts_rate = espeak_ng_GetSampleRate();
            espeak_SetSynthCallback(tts_collect);
            tts_state = tts_rate > 0 ? 1 : -1;
        } else {
            tts_state = -1;
        }
    }
    if (tts_state < 0) {
        *err = "espeak-ng unavailable (is espeak-ng-data installed?)";
        return -1;
    }
    return 0;
}

/* Picks the voice: a voice name espeak knows, else the language, else
 * English. Cloud voice names ("Polly.Joanna") mean nothing to espeak, so an
 * unknown one falls back rather than failing the play. Under tts_lock. */
static int tts_select_voice(const char *language, const char *voice)
{
    if (voice && *voice && espeak_ng_SetVoiceByName(voice) == ENS_OK)
        return 0;
    if (language && *language) {
        char lang[32];
        size_t i = 0;
        for (; language[i] && i < sizeof lang - 1; i++)
            lang[i] = (char)tolower((unsigned char)language[i]);
        lang[i] = '\0';
        espeak_VOICE sel = {.languages = lang};
        if (espeak_ng_SetVoiceByProperties(&sel) == ENS_OK)
            return 0;
    }
    return espeak_ng_SetVoiceByName("en") == ENS_OK ? 0 : -1;
}

media_source *media_source_tts(const char *text, const char *language, const char *voice,
                               const char **err)
{
    const char *dummy;
    if (!err)
        err = &dummy;
    if (!text || !*text) {
        *err = "empty text";
        return NULL;
    }
    size_t len = strlen(text);
    if (len > TTS_MAX_TEXT) {
        *err = "text too long";
        return NULL;
    }

    pthread_mutex_lock(&tts_lock);
    if (tts_init_locked(err) < 0) {
        pthread_mutex_unlock(&tts_lock);
        return NULL;
    }
    if (tts_select_voice(language, voice) < 0) {
        pthread_mutex_unlock(&tts_lock);
        *err = "no espeak-ng voice";
        return NULL;
    }
    memset(&tts_buf, 0, sizeof tts_buf);
    tts_buf.max = (size_t)tts_rate * TTS_MAX_SECONDS;
    espeak_ng_STATUS st =
        espeak_ng_Synthesize(text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
    int16_t *raw = tts_buf.pcm;
    size_t raw_n = tts_buf.n;
    int overflow = tts_buf.overflow;
    int rate = tts_rate;
    memset(&tts_buf, 0, sizeof tts_buf);
    pthread_mutex_unlock(&tts_lock);

    if (st != ENS_OK || overflow || raw_n == 0) {
        free(raw);
        *err = overflow ? "speech too long" : "speech synthesis failed";
        return NULL;
    }
    size_t n8k = 0;
    int16_t *pcm = media_resample(raw, raw_n, rate, 8000, &n8k);
    free(raw);
    if (!pcm) {
        *err = "out of memory";
        return NULL;
    }
    media_source *src = media_source_pcm_take(pcm, n8k);
    if (!src)
        *err = "out of memory";
    return src;
}
