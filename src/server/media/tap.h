/*
 * A tap: a sink that copies the leg's audio, one direction or both, on the
 * session's tick (on_tick): at most one frame per direction per 20 ms,
 * whatever bursts the peer sends, and nothing on a tick that brought
 * nothing in the tapped directions. Where the frames go is the output:
 * an RTP stream of its own (calling.tap's rtp device: own socket in the
 * RTP port range, own SSRC, sequence and timestamps, PCMU or PCMA, both
 * directions mixed), or any function (a WebSocket stream: calling.stream
 * and the tap's ws device, stream_out.h), which gets the directions apart.
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
/* An output of the caller's: out(out_user, rx, tx, marker) on the media
 * thread, once per tick that brought something; rx / tx are NULL when that
 * direction brought nothing or is not tapped; marker: the first frame after
 * a gap. It must not block. Returns 0 when the frame went (counted in
 * media_tap_sent). NULL when out of memory. */
typedef int (*media_tap_out)(void *out_user, const int16_t *rx, const int16_t *tx, int marker);
media_tap *media_tap_new_out(media_tap_dir dir, media_tap_out out, void *out_user,
                             void (*detached)(media_tap *t, void *user), void *user);
/* Sets out_user (before the sink is attached). */
void media_tap_set_out_user(media_tap *t, void *out_user);
media_sink *media_tap_sink(media_tap *t);
/* The local port it sends from (0 for an output of the caller's). */
int media_tap_port(const media_tap *t);
/* Packets sent so far (readable from any thread). */
unsigned long media_tap_sent(media_tap *t);
/* Closes the socket (if not yet) and frees t: after detached, or if it was
 * never attached. */
void media_tap_free(media_tap *t);

#endif
