/*
 * Plays a list of media sources into an RTP endpoint, paced at one packet
 * every 20 ms on an absolute clock (so jitter does not accumulate), on a
 * thread of its own. The done callback runs on that thread: hand the result
 * to the core thread from there (see core_post).
 */
#ifndef RELAYD_MEDIA_PLAYER_H
#define RELAYD_MEDIA_PLAYER_H

#include "media/rtp.h"
#include "media/source.h"

typedef struct media_player media_player;

typedef enum media_play_end {
    MEDIA_PLAY_FINISHED, /* every source played */
    MEDIA_PLAY_STOPPED,  /* media_player_stop was called */
    MEDIA_PLAY_ERROR     /* sending failed */
} media_play_end;

typedef void (*media_player_done)(media_player *p, media_play_end how, void *user);

/* Starts playing; takes ownership of the sources array (malloc'd) and of
 * each source, also on failure (NULL). volume_db scales the samples (0:
 * unchanged). loop: 0 or 1 once, n > 1 n times (sources must rewind).
 * While paused nothing is sent; the first packet after a pause or at the
 * start carries the RTP marker. */
media_player *media_player_start(media_rtp *rtp, media_source **sources, size_t n,
                                 double volume_db, int loop, media_player_done done,
                                 void *user);
/* Asks the player to stop (returns at once; done follows with STOPPED). */
void media_player_stop(media_player *p);
void media_player_pause(media_player *p, int paused);
/* Changes the volume of a running play (calling.play.volume), in dB. */
void media_player_set_volume(media_player *p, double volume_db);
/* Joins the thread and frees. Call after done has been delivered. */
void media_player_free(media_player *p);

#endif
