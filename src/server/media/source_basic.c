/*
 * The simplest sources: silence of a given length, and samples in memory
 * (which is also what TTS and decoded files end up as).
 */
#include "media/source.h"

#include <stdlib.h>
#include <string.h>

typedef struct pcm_source {
    media_source base;
    int16_t *pcm; /* NULL for silence */
    size_t n;     /* samples */
    size_t pos;
} pcm_source;

static int pcm_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    pcm_source *s = (pcm_source *)src;
    if (s->pos >= s->n)
        return 0;
    size_t take = s->n - s->pos;
    if (take > MEDIA_FRAME_SAMPLES)
        take = MEDIA_FRAME_SAMPLES;
    if (s->pcm)
        memcpy(frame, s->pcm + s->pos, take * sizeof *frame);
    else
        memset(frame, 0, take * sizeof *frame);
    if (take < MEDIA_FRAME_SAMPLES)
        memset(frame + take, 0, (MEDIA_FRAME_SAMPLES - take) * sizeof *frame);
    s->pos += take;
    return 1;
}

static int pcm_rewind(media_source *src)
{
    ((pcm_source *)src)->pos = 0;
    return 0;
}

static void pcm_destroy(media_source *src)
{
    pcm_source *s = (pcm_source *)src;
    free(s->pcm);
    free(s);
}

static media_source *pcm_new(int16_t *pcm, size_t n)
{
    pcm_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.read = pcm_read;
    s->base.rewind = pcm_rewind;
    s->base.destroy = pcm_destroy;
    s->pcm = pcm;
    s->n = n;
    return &s->base;
}

media_source *media_source_silence(double duration_s)
{
    if (!(duration_s >= 0) || duration_s > 24 * 3600) /* also rejects NaN */
        return NULL;
    return pcm_new(NULL, (size_t)(duration_s * 8000 + 0.5));
}

media_source *media_source_pcm_take(int16_t *pcm, size_t n)
{
    media_source *s = pcm_new(pcm, n);
    if (!s)
        free(pcm);
    return s;
}

media_source *media_source_pcm(const int16_t *pcm, size_t n)
{
    int16_t *copy = malloc(n ? n * sizeof *copy : 1);
    if (!copy)
        return NULL;
    if (n)
        memcpy(copy, pcm, n * sizeof *copy);
    return media_source_pcm_take(copy, n);
}
