/* See media/denoise.h. */
#include "media/denoise.h"

#include <stdlib.h>

#include <speex/speex_preprocess.h>

struct media_denoise {
    media_cmd cmd; /* embedded: posting it never allocates */
    SpeexPreprocessState *st; /* NULL: the "off" message */
};

media_denoise *media_denoise_new(int on)
{
    media_denoise *d = calloc(1, sizeof *d);
    if (!d || !on)
        return d;
    d->st = speex_preprocess_state_init(MEDIA_FRAME_SAMPLES, 8000);
    if (!d->st) {
        free(d);
        return NULL;
    }
    int yes = 1, no = 0;
    speex_preprocess_ctl(d->st, SPEEX_PREPROCESS_SET_DENOISE, &yes);
    speex_preprocess_ctl(d->st, SPEEX_PREPROCESS_SET_AGC, &no);
    speex_preprocess_ctl(d->st, SPEEX_PREPROCESS_SET_VAD, &no);
    speex_preprocess_ctl(d->st, SPEEX_PREPROCESS_SET_DEREVERB, &no);
    return d;
}

void media_denoise_frame(media_denoise *d, int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    if (d && d->st)
        speex_preprocess_run(d->st, pcm);
}

int media_denoise_on(const media_denoise *d) { return d && d->st; }

void media_denoise_free(media_denoise *d)
{
    if (!d)
        return;
    if (d->st)
        speex_preprocess_state_destroy(d->st);
    free(d);
}

media_cmd *media_denoise_cmd(media_denoise *d) { return &d->cmd; }
