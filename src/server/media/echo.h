/*
 * The leg's own audio sent back to it (calling.echo): one object that is
 * both a sink on the session (what the peer sends, RX) and the source of a
 * media player on the same session (what goes back). Both sides run on the
 * session's media thread, receive before send within a tick, so a frame
 * that arrives goes back in the same tick and the queue between them needs
 * no lock.
 *
 * The queue holds at most ECHO_QUEUE frames (160 ms): a peer that bursts
 * loses its oldest frames rather than growing the delay. When nothing has
 * arrived the source sends silence, so the peer hears the echo's pace and
 * a silent leg stays a leg with RTP.
 *
 * Two holders: the session (until the sink's on_detach) and the player
 * (until it destroys its source). The last to let go frees it.
 */
#ifndef RELAYD_MEDIA_ECHO_H
#define RELAYD_MEDIA_ECHO_H

#include "media/session.h"
#include "media/source.h"

typedef struct media_echo media_echo;

/* frames: how many frames the source yields before it ends (0: until the
 * play is stopped or replaced). NULL when out of memory. */
media_echo *media_echo_new(uint64_t frames);
/* Attach this to the session, then give the source to a media player; each
 * hands one hold to its owner. */
media_sink *media_echo_sink(media_echo *e);
media_source *media_echo_source(media_echo *e);

#endif
