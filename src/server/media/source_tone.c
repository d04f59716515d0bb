/*
 * Ringback tones generated with spandsp 0.0.6's tone generator, rendered
 * completely before the play starts (at most RINGTONE_MAX_SECONDS, 4.8 MB)
 * and served as a pcm source, so loop, volume and pause work as for any
 * other item.
 *
 * Frequencies and cadences are the national ones (ITU-T E.180 supplement 2
 * and the operators' specifications). Japan's 400 Hz is amplitude-modulated
 * by 16 Hz, which spandsp expresses as a negative second frequency.
 */
#include "media/source_tone.h"

#include <spandsp.h>
#include <stdlib.h>
#include <string.h>

#define TONE_LEVEL_DBM0 -13       /* a single tone */
#define TONE_LEVEL_DUAL_DBM0 -16  /* each of two */
#define JP_MOD_HZ -16             /* negative: AM at 16 Hz (spandsp's convention) */
#define JP_MOD_DEPTH 85           /* percent */

static const ringtone_desc ringtones[] = {
    {"us", 440, 480, 2000, 4000, 0, 0},
    {"uk", 400, 450, 400, 200, 400, 2000},
    {"de", 425, 0, 1000, 4000, 0, 0},
    {"fr", 440, 0, 1500, 3500, 0, 0},
    {"it", 425, 0, 1000, 4000, 0, 0},
    {"jp", 400, JP_MOD_HZ, 1000, 2000, 0, 0},
    {"es", 425, 0, 1500, 3000, 0, 0},
    {"nl", 425, 0, 1000, 4000, 0, 0},
    {"au", 400, 450, 400, 200, 400, 2000},
    {"in", 400, 440, 400, 200, 400, 2000},
};
#define N_RINGTONES (sizeof ringtones / sizeof ringtones[0])

const ringtone_desc *media_ringtone_find(const char *name)
{
    for (size_t i = 0; name && i < N_RINGTONES; i++)
        if (strcmp(ringtones[i].name, name) == 0)
            return &ringtones[i];
    return NULL;
}

const char *media_ringtone_names(void) { return "us, uk, de, fr, it, jp, es, nl, au, in"; }

double media_ringtone_cycle_s(const ringtone_desc *d)
{
    return (d->on1 + d->off1 + d->on2 + d->off2) / 1000.0;
}

/* n samples of desc's tone as a pcm source; takes desc (NULL: out of
 * memory). Fewer samples if the tone ends first (a non-repeating one). */
static media_source *render(tone_gen_descriptor_t *desc, size_t n, const char **err)
{
    int16_t *pcm = malloc((n ? n : 1) * sizeof *pcm);
    /* the state copies what it needs from the descriptor */
    tone_gen_state_t *gen = desc ? tone_gen_init(NULL, desc) : NULL;
    if (desc)
        tone_gen_descriptor_free(desc);
    if (!pcm || !gen) {
        free(pcm);
        if (gen)
            tone_gen_free(gen);
        *err = "out of memory";
        return NULL;
    }
    size_t done = 0;
    while (done < n) {
        int want = n - done > 8000 ? 8000 : (int)(n - done);
        int got = tone_gen(gen, pcm + done, want);
        if (got <= 0)
            break; /* the tone is over (or cannot go on): never loop forever */
        done += (size_t)got;
    }
    tone_gen_free(gen);
    media_source *src = media_source_pcm_take(pcm, done);
    if (!src)
        *err = "out of memory";
    return src;
}

media_source *media_source_ringtone(const char *name, double duration_s, const char **err)
{
    const ringtone_desc *d = media_ringtone_find(name);
    if (!d) {
        *err = "unknown ringtone";
        return NULL;
    }
    if (duration_s <= 0)
        duration_s = media_ringtone_cycle_s(d);
    if (!(duration_s <= RINGTONE_MAX_SECONDS)) {
        *err = "ringtone duration too long";
        return NULL;
    }
    size_t n = (size_t)(duration_s * 8000 + 0.5);
    int l1 = d->f2 > 0 ? TONE_LEVEL_DUAL_DBM0 : TONE_LEVEL_DBM0;
    int l2 = d->f2 > 0 ? TONE_LEVEL_DUAL_DBM0 : d->f2 < 0 ? JP_MOD_DEPTH : 0;
    tone_gen_descriptor_t *desc = tone_gen_descriptor_init(NULL, d->f1, l1, d->f2, l2, d->on1,
                                                           d->off1, d->on2, d->off2, 1);
    return render(desc, n, err);
}

media_source *media_source_beep(const char **err)
{
    /* one burst, no repeat: spandsp then yields exactly BEEP_MS */
    tone_gen_descriptor_t *desc =
        tone_gen_descriptor_init(NULL, BEEP_HZ, TONE_LEVEL_DBM0, 0, 0, BEEP_MS, 0, 0, 0, 0);
    return render(desc, (size_t)BEEP_MS * 8, err);
}
