/*
 * Two legs' audio joined both ways (calling.connect): what leg A's peer
 * sends reaches leg B's peer and the other way round.
 *
 * Each direction is a pipe: a sink on the sending leg's session takes its
 * decoded RX frames (whatever its codec: PCMU or PCMA), and a source on
 * the other leg's session, played there like any play, yields them one
 * per tick to be encoded with that leg's codec. The two sessions may run
 * on different media threads, so a pipe is a bounded single-producer
 * single-consumer ring: no lock, no waiting, and a slow or silent side
 * only ever costs silence or a dropped frame.
 *
 * rtp.c and session.c know nothing of bridges: it is one sink and one
 * play per leg, through their ordinary interfaces.
 */
#ifndef RELAYD_MEDIA_BRIDGE_H
#define RELAYD_MEDIA_BRIDGE_H

#include "media/session.h"

typedef struct media_bridge media_bridge;

/* Joins a and b both ways; the bridge's plays replace whatever either leg
 * was playing (a ringback). Core thread (the owner of both sessions'
 * lives). NULL when out of memory. */
media_bridge *media_bridge_start(media_session *a, media_session *b);
/* Unjoins and frees the bridge; never waits (the media threads let go of
 * the pipes on their own). Must come before either session is destroyed.
 * NULL is a no-op. */
void media_bridge_stop(media_bridge *br);


#endif
