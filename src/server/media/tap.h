/*
 * A tap (calling.tap, rtp device): a sink that copies the leg's audio, one
 * direction or both mixed, as an RTP stream of its own (own socket in the
 * RTP port range, own SSRC, sequence and timestamps, PCMU or PCMA) to an
 * address the client named. It sends on the session's tick (on_tick): at
 * most one packet per 20 ms, whatever bursts the peer sends, and nothing
 * on a tick that brought nothing in the tapped directions.
 *
 * Made on the core (binding its socket), attached to the session; from
 * then on only the media thread touches it. on_detach closes the socket
 * and calls the owner's detached callback (on the media thread; post to
 * the core from there), after which the owner frees it.
 */
#ifndef RELAYD_MEDIA_TAP_H
#define RELAYD_MEDIA_TAP_H

#include <netinet/in.h>

#include "media/session.h"

typedef struct media_tap media_tap;

typedef enum { MEDIA_TAP_LISTEN, MEDIA_TAP_SPEAK, MEDIA_TAP_BOTH } media_tap_dir;

/* Binds the tap's socket on ip in [port_min, port_max); payload_type is
 * RTP_PT_PCMU or RTP_PT_PCMA. NULL if no port is free (or no memory). */
media_tap *media_tap_new(const char *ip, int port_min, int port_max,
                         const struct sockaddr_in *to, int payload_type, media_tap_dir dir,
                         void (*detached)(media_tap *t, void *user), void *user);
media_sink *media_tap_sink(media_tap *t);
/* The local port it sends from. */
int media_tap_port(const media_tap *t);
/* Packets sent so far (readable from any thread). */
unsigned long media_tap_sent(media_tap *t);
/* Closes the socket (if not yet) and frees t: after detached, or if it was
 * never attached. */
void media_tap_free(media_tap *t);

#endif
