/*
 * Audio streams out over WebSocket (calling.stream, calling.tap's ws
 * device): relayd is the client, connecting to a URL the RELAY client
 * named, and writes the Twilio Media Streams shape as JSON text frames —
 * {"event":"connected"}, {"event":"start", start:{streamSid, callSid,
 * tracks, mediaFormat}}, {"event":"media", media:{track, chunk, timestamp,
 * payload}} every 20 ms per track, {"event":"stop"} — then closes.
 *
 * One thread, with an lws context of its own, owns every connection: it
 * resolves, connects, writes and closes. The media threads hand it frames
 * through each stream's bounded single-producer ring (never a lock, never
 * a wait: a full ring drops the frame and counts it); the core asks it to
 * open and close through a mailbox.
 *
 * Why a context of its own rather than client connections on ws.c's: that
 * context serves the RELAY clients with the server certificate and vhost
 * options, and a stream's peer is somebody else's server (client TLS, the
 * system CA store, name resolution); a slow or hostile stream endpoint
 * then shares no loop with the RELAY connections, and ws.c's drain (which
 * waits for its queued bytes to go) knows nothing of streams.
 */
#ifndef RELAYD_STREAM_OUT_H
#define RELAYD_STREAM_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "addr_policy.h"

/* Streams open at once, relayd-wide, by default (stream_max): each holds a
 * socket and ~21 KB. */
#define STREAM_OUT_MAX 64

typedef struct stream_out stream_out;
typedef struct ws_stream ws_stream;

typedef enum { WS_STREAM_PCMU, WS_STREAM_PCMA, WS_STREAM_L16 } ws_stream_codec;
typedef enum { WS_STREAM_INBOUND = 1, WS_STREAM_OUTBOUND = 2, WS_STREAM_BOTH = 3 } ws_stream_tracks;

/* What happened to a stream, reported on the stream thread (post to the
 * core from there). STREAMING once the handshake is done; ENDED exactly
 * once, the stream thread's last touch of the stream: reason is why
 * ("stopped", "remote closed", "connect failed: ..."), failed is 1 when it
 * ended for any other reason than a close asked for. */
typedef enum { WS_STREAM_STREAMING, WS_STREAM_ENDED } ws_stream_event;
typedef void (*ws_stream_event_fn)(ws_stream *s, ws_stream_event ev, int failed,
                                   const char *reason, void *user);

/* The thread and its context; allow: the ranges of internal addresses a
 * stream may reach (webhook_allow, read-only while streams run); max: the
 * streams open at once (stream_max); ca_file: PEM CAs that wss peers may
 * also be signed by (stream_ca_file; NULL: the system store only). NULL on
 * failure (logged). */
stream_out *stream_out_start(const addr_allow *allow, int max, const char *ca_file);
/* The limit given to stream_out_start. */
int stream_out_max(const stream_out *so);
/* Every open stream is closed (stop written when it can be, within a
 * second) and reports ENDED; commands still queued are ended too; then
 * the thread is joined. */
void stream_out_stop(stream_out *so);

/* Checks a ws:// or wss:// URL before anything is opened: NULL if it may
 * be used, else why not (into why). A host that is an IP literal is judged
 * here by the address rule (addr_policy.h, allow); a name is judged on the
 * stream thread on the address it resolves to (an ENDED, failed). */
const char *ws_stream_url_check(const char *url, const addr_allow *allow, char *why,
                                size_t why_len);

/* Core thread. Opens a stream to url (checked above); call_id and
 * stream_id go in the start message. NULL when stream_out_max() are open or
 * out of memory. The caller holds one reference (ws_stream_release). */
ws_stream *ws_stream_open(stream_out *so, const char *url, const char *call_id,
                          const char *stream_id, ws_stream_codec codec, ws_stream_tracks tracks,
                          ws_stream_event_fn fn, void *user);
/* Core thread, at most once: finish (what is queued now, then stop) and
 * close. Frames pushed from now on are discarded. */
void ws_stream_close(ws_stream *s);
/* Core thread: drops the caller's reference (after ENDED, and after the
 * media thread's last push). */
void ws_stream_release(ws_stream *s);

/* Media thread: a media_tap output (media/tap.h); user is the ws_stream.
 * rx goes as the inbound track, tx as the outbound one. Never blocks. */
int ws_stream_tap_out(void *user, const int16_t *rx, const int16_t *tx, int marker);

/* Counters, any thread: media messages written, frames dropped (ring full). */
unsigned long ws_stream_sent(ws_stream *s);
unsigned long ws_stream_dropped(ws_stream *s);

#endif
