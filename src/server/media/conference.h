/*
 * An audio conference's mixer (calling.join_conference): every participant
 * hears the sum of the others, never itself.
 *
 * Participants are legs on any media thread; the mixer is a media_ticker
 * on one media thread of its own choosing. Each participant is two pipes
 * as in media/bridge.c, bounded single-producer single-consumer rings: a
 * sink on the leg's session puts its decoded RX frames (G.711 decoded by
 * the session with spandsp, whatever the leg's codec) in one; the mixer
 * takes one frame per tick from each, sums them in 32 bits, and for each
 * participant writes the total less its own frame, saturated to 16 bits,
 * into the other; a source played on the leg yields those frames, which
 * the session encodes with the leg's codec. No lock, no waiting: a late
 * or silent side only costs silence or a dropped frame.
 *
 * The core changes a participant (mute, deaf, held) and the conference
 * (started, a beep) through atomics and the mixer's own mailbox; the
 * mixer never touches the core's state.
 */
#ifndef RELAYD_MEDIA_CONFERENCE_H
#define RELAYD_MEDIA_CONFERENCE_H

#include "media/session.h"

typedef struct media_mixer media_mixer;
typedef struct media_mix_part media_mix_part;

/* Beep: what a participant's arrival or departure sounds like to the
 * others (calling.join_conference beep). */
#define CONF_BEEP_HZ 1000
#define CONF_BEEP_MS 200

/* Core thread. NULL when out of memory. */
media_mixer *media_mixer_new(media_engine *e);
/* Stops mixing and frees the mixer on its thread; every participant must
 * have left first. NULL is a no-op. */
void media_mixer_free(media_mixer *m);

/* Puts the leg in the conference: its sink and its play (replacing
 * whatever the leg played). NULL when out of memory. */
media_mix_part *media_mixer_join(media_mixer *m, media_session *s);
/* Takes it out (before the session is destroyed); never waits: the media
 * threads let go of the pipes on their own. */
void media_mixer_leave(media_mixer *m, media_mix_part *p);

/* muted: the others do not hear it; deaf: it hears nothing; held: both. */
void media_mix_part_set(media_mix_part *p, int muted, int deaf, int held);
/* Until started, nobody hears anyone (start_on_enter: false). */
void media_mixer_set_started(media_mixer *m, int started);
/* A CONF_BEEP_MS beep to every participant but `except` (NULL: all). */
void media_mixer_beep(media_mixer *m, const media_mix_part *except);

#endif
