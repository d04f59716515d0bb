/*
 * A media source: something that yields 8 kHz mono 16-bit audio, 20 ms at a
 * time. Play items (tts, silence, audio files, ringtones...) are sources;
 * the player does not care which. New kinds plug in by implementing this.
 */
#ifndef RELAYD_MEDIA_SOURCE_H
#define RELAYD_MEDIA_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define MEDIA_FRAME_SAMPLES 160 /* 20 ms at 8000 Hz */

typedef struct media_source media_source;
struct media_source {
    /* Fills one frame. Returns 1 if a frame was produced, 0 at the end. */
    int (*read)(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES]);
    /* Back to the start, for looped plays. 0 on success; may be NULL for a
     * source that cannot replay (a live stream): the loop then ends. */
    int (*rewind)(media_source *src);
    void (*destroy)(media_source *src);
    /* Optional (NULL for audio): a source of RFC 4733 telephone-events
     * (media/source_events.h) fills one packet's 4-byte payload per tick
     * instead of a frame: 1 a packet (*first: its event's first packet,
     * which gets the RTP marker and starts the event's timestamp), 2
     * nothing to send this tick, 0 the end. The player then never calls
     * read, and plays it alone (no loop, no volume: not audio). */
    int (*read_event)(media_source *src, uint8_t payload[4], int *first);
};

/* Speech synthesised offline with espeak-ng. NULL on failure (reason in
 * *err, static text). voice/language may be NULL. Synthesis happens here,
 * before the call returns (espeak-ng is not thread-safe: serialised). */
media_source *media_source_tts(const char *text, const char *language, const char *voice,
                               const char **err);
/* duration_s seconds of silence. */
media_source *media_source_silence(double duration_s);
/* Samples already in memory (copied). The last frame is padded with
 * silence. */
media_source *media_source_pcm(const int16_t *pcm, size_t n);
/* Same, but takes ownership of a malloc'd buffer instead of copying. */
media_source *media_source_pcm_take(int16_t *pcm, size_t n);

#endif
