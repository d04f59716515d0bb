/*
 * DTMF as RFC 4733 telephone-events (calling.send_digits to a peer that
 * negotiated telephone-event): a media source that yields event payloads
 * instead of audio, one per 20 ms tick, on the same timing as the in-band
 * tones (a digit sounds tone_ms, then gap_ms before the next).
 *
 * Per digit: packets every 20 ms with durations 160, 320, ... up to
 * tone_ms; the one reaching tone_ms carries the end bit, and is sent three
 * times in all (RFC 4733 2.5.1.4: end packets are repeated, in case one is
 * lost), the repeats falling in the gap. The first packet of each event is
 * flagged so the RTP layer sets the marker and starts the event's
 * timestamp there. 'w' and 'W' send nothing for 0.5 s and 1 s.
 */
#ifndef RELAYD_MEDIA_SOURCE_EVENTS_H
#define RELAYD_MEDIA_SOURCE_EVENTS_H

#include "media/source.h"

#define EVENT_VOLUME 10 /* -10 dBm0, the payload's volume field */
#define EVENT_END_PACKETS 3

/* digits: 0-9 * # A-D w W, checked by the caller. tone_ms a multiple of
 * 20 (at least 20), gap_ms at least 40 (the repeated end packets are sent
 * in it). NULL if out of memory. */
media_source *media_source_digit_events(const char *digits, int tone_ms, int gap_ms);

#endif
