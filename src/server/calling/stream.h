/*
 * An audio stream over WebSocket on a leg (stream_out.h): calling.stream,
 * and calling.tap with a ws device, which is the same machinery reporting
 * as a tap (calling/tap.c hands its ws requests here).
 */
#ifndef RELAYD_CALLING_STREAM_H
#define RELAYD_CALLING_STREAM_H

#include "media/tap.h"
#include "rpc.h"

/* At most this many WebSocket streams (calling.stream and ws taps) on a
 * call at once; relayd-wide, stream_max (stream_out_max). */
#define STREAMS_PER_CALL 2

/* calling.tap, ws device: params checked by tap.c but for the device's
 * params.uri and params.codec, checked here. Answers r. */
void stream_tap_ws_start(rpc_req *r, media_tap_dir dir, const char *status_url);

#endif
