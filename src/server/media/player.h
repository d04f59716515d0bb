/*
 * A play: a list of media sources sent as RTP on a call leg's media
 * session, one frame per 20 ms tick of the session's media thread (see
 * media/session.h). It has no thread of its own. The done callback runs on
 * that media thread: hand the result to the core thread from there (see
 * core_post).
 */
#ifndef RELAYD_MEDIA_PLAYER_H
#define RELAYD_MEDIA_PLAYER_H

#include "media/rtp.h"
#include "media/session.h"
#include "media/source.h"

typedef struct media_player media_player;

typedef enum media_play_end {
    MEDIA_PLAY_FINISHED, /* every source played */
    MEDIA_PLAY_STOPPED,  /* media_player_stop was called, a newer play took
                          * over, or the session ended */
    MEDIA_PLAY_ERROR     /* sending failed */
} media_play_end;

typedef void (*media_player_done)(media_player *p, media_play_end how, void *user);

/* Starts playing on the session; takes ownership of the sources array
 * (malloc'd) and of each source, also on failure (NULL). volume_db scales
 * the samples (0: unchanged). loop: 0 or 1 once, n > 1 n times (sources
 * must rewind). While paused nothing is sent; the first packet after a
 * pause or at the start carries the RTP marker. done is called exactly
 * once, on the media thread. */
media_player *media_player_start(media_session *s, media_source **sources, size_t n,
                                 double volume_db, int loop, media_player_done done,
                                 void *user);
/* Asks the player to stop (returns at once; done follows with STOPPED). */
void media_player_stop(media_player *p);
void media_player_pause(media_player *p, int paused);
/* Changes the volume of a running play (calling.play.volume), in dB. */
void media_player_set_volume(media_player *p, double volume_db);
/* Drops the caller's hold on p; never blocks. May be called before done
 * has run (after media_player_stop): the media thread then frees p once it
 * has called done. p must not be used afterwards. */
void media_player_free(media_player *p);

/* For media/session.c, on the media thread only. */
typedef enum media_tick {
    MEDIA_TICK_SEND,  /* frame filled: send it with *marker */
    MEDIA_TICK_EVENT, /* event[4] filled: an RFC 4733 packet, *marker: its first */
    MEDIA_TICK_QUIET, /* paused: send nothing */
    MEDIA_TICK_END    /* the play is over: *how says why */
} media_tick;
media_tick media_player_tick(media_player *p, int16_t frame[MEDIA_FRAME_SAMPLES],
                             uint8_t event[4], int *marker, media_play_end *how);
/* Calls done (once) and drops the media thread's hold on p. */
void media_player_finish(media_player *p, media_play_end how);

#endif
