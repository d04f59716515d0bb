/*
 * Ringtones: countries' call-progress ringback tones (the sound a caller
 * hears while the far end rings), and the beep before a recording,
 * synthesised with spandsp's cadenced tone generator.
 */
#ifndef RELAYD_MEDIA_SOURCE_TONE_H
#define RELAYD_MEDIA_SOURCE_TONE_H

#include "media/source.h"

#define RINGTONE_MAX_SECONDS 300

/* One country's ringback: two frequencies (f2 0: a single tone) and up to
 * two on/off pairs in ms (on2 0: a single pair), repeated. */
typedef struct ringtone_desc {
    const char *name;
    int f1, f2;
    int on1, off1, on2, off2;
} ringtone_desc;

/* The known ringtone, or NULL. */
const ringtone_desc *media_ringtone_find(const char *name);
/* The known names, comma separated ("us, uk, ..."), static. */
const char *media_ringtone_names(void);
/* Seconds of one cadence cycle. */
double media_ringtone_cycle_s(const ringtone_desc *d);

/* duration_s seconds (<= 0: one cadence cycle) of the named ringtone. NULL
 * with a static reason in *err. */
media_source *media_source_ringtone(const char *name, double duration_s, const char **err);

/* The record beep (calling.record beep: true): BEEP_MS of BEEP_HZ at the
 * ringtones' single-tone level. NULL with a static reason in *err. */
#define BEEP_HZ 1000
#define BEEP_MS 500
media_source *media_source_beep(const char **err);

#endif
