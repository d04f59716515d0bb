/*
 * Audio files (WAV, FLAC, OGG, MP3 and whatever else this libsndfile reads)
 * decoded from memory: the bytes come from an HTTP fetch or a file under
 * media_dir (media/fetch.c), never from a path a client names. Everything
 * is decoded at once on the preparation pool, downmixed to mono, resampled
 * to 8 kHz and served as a pcm source.
 */
#include "media/source_file.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "media/resample.h"

/* Decoded samples (mono, before resampling) per file: 10 minutes at 48 kHz,
 * an hour at 8 kHz. A compressed file is small on the wire and large once
 * decoded (an hour of 384 kHz audio is 2.7 GB): max_bytes alone does not
 * bound memory, this does. */
#define DECODE_MAX_SAMPLES ((size_t)48000 * 600)
#define DECODE_CHUNK 4096 /* frames per sf_readf_short */

typedef struct mem_file {
    const unsigned char *data;
    sf_count_t len, pos;
} mem_file;

static sf_count_t mem_len(void *user) { return ((mem_file *)user)->len; }

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    mem_file *m = user;
    sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset
                                                                       : m->len + offset;
    if (to < 0 || to > m->len)
        return -1;
    m->pos = to;
    return to;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    mem_file *m = user;
    if (count > m->len - m->pos)
        count = m->len - m->pos;
    if (count <= 0)
        return 0;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0; /* read only */
}

static sf_count_t mem_tell(void *user) { return ((mem_file *)user)->pos; }

/* Reads every frame, averaging the channels. Frame counts are not trusted
 * (MP3 reports an estimate): read until the decoder stops, up to a bound. */
static int16_t *read_mono(SNDFILE *sf, const SF_INFO *info, size_t *out_n, const char **err)
{
    size_t max = DECODE_MAX_SAMPLES;
    size_t cap = 0, n = 0;
    int16_t *mono = NULL;
    short *chunk = malloc((size_t)DECODE_CHUNK * (size_t)info->channels * sizeof *chunk);
    if (!chunk) {
        *err = "out of memory";
        return NULL;
    }
    for (;;) {
        sf_count_t got = sf_readf_short(sf, chunk, DECODE_CHUNK);
        if (got <= 0)
            break;
        if (n + (size_t)got > max) {
            *err = "audio too long (10 minutes at 48 kHz, an hour at 8 kHz)";
            goto fail;
        }
        if (n + (size_t)got > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            while (ncap < n + (size_t)got)
                ncap *= 2;
            int16_t *p = realloc(mono, ncap * sizeof *p);
            if (!p) {
                *err = "out of memory";
                goto fail;
            }
            mono = p;
            cap = ncap;
        }
        for (sf_count_t f = 0; f < got; f++) {
            long sum = 0;
            for (int c = 0; c < info->channels; c++)
                sum += chunk[f * info->channels + c];
            mono[n++] = (int16_t)(sum / info->channels);
        }
    }
    free(chunk);
    if (n == 0) {
        free(mono);
        *err = "the audio file holds no samples";
        return NULL;
    }
    *out_n = n;
    return mono;
fail:
    free(chunk);
    free(mono);
    return NULL;
}

int16_t *media_decode_audio(const void *data, size_t len, size_t *out_n, const char **err)
{
    mem_file m = {.data = data, .len = (sf_count_t)len};
    SF_VIRTUAL_IO io = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&io, SFM_READ, &info, &m);
    if (!sf) {
        *err = "not an audio file this relayd can decode";
        return NULL;
    }
    if (info.channels < 1 || info.channels > 16 || info.samplerate < 4000 ||
        info.samplerate > 384000) {
        sf_close(sf);
        *err = "unsupported channel count or sample rate";
        return NULL;
    }
    size_t n = 0;
    int16_t *mono = read_mono(sf, &info, &n, err);
    sf_close(sf);
    if (!mono)
        return NULL;
    int16_t *pcm = media_resample(mono, n, info.samplerate, 8000, out_n);
    free(mono);
    if (!pcm)
        *err = "out of memory";
    return pcm;
}
