/*
 * A recording sink: writes what a leg hears and/or says to a WAV (8 kHz,
 * 16-bit) or MP3 file (mono, or stereo with RX left and TX right), and watches
 * the level so the core can apply initial/end-silence timeouts.
 *
 * Three threads touch it, each with its own part:
 *   - the media thread feeds frames (on_frame) into a single-producer
 *     single-consumer ring and never blocks: no lock, no disk;
 *   - one thread of the disk-writer pool (media/disk_writer.h) drains that
 *     ring into the file (a disk write can stall for many milliseconds,
 *     which would make every other leg on the media thread late: that is
 *     why the write is not done in on_frame);
 *   - the core creates it, reads its atomics (last voice, samples) and,
 *     once on_detach has told it the media thread is done with it, calls
 *     media_record_sink_close (waits for the last write) and frees it.
 */
#ifndef RELAYD_MEDIA_SINK_RECORD_H
#define RELAYD_MEDIA_SINK_RECORD_H

#include <stdint.h>

#include "media/disk_writer.h"
#include "media/session.h"

typedef enum media_rec_dir {
    MEDIA_REC_LISTEN, /* RX: what the peer says */
    MEDIA_REC_SPEAK,  /* TX: what relayd sends */
    MEDIA_REC_BOTH    /* mixed (mono) or RX/TX (stereo) */
} media_rec_dir;

typedef enum media_rec_format {
    MEDIA_REC_WAV,
    MEDIA_REC_MP3 /* libsndfile >= 1.1 built with LAME: ask first */
} media_rec_format;

typedef struct media_record_sink media_record_sink;

/* 1 if this libsndfile can write the format at 8 kHz with `channels`. */
int media_record_format_available(media_rec_format f, int channels);

/* Media thread, after the last frame: the sink is the core's to close now.
 * Must not block (post to the core). */
typedef void (*media_record_detached_fn)(media_record_sink *r, void *user);

/* Creates the file at path and hands it to one of writer's threads. NULL
 * and *err (static text) on failure; nothing to undo. */
media_record_sink *media_record_sink_open(media_disk_writer *writer, const char *path,
                                          media_rec_format format, media_rec_dir dir, int stereo,
                                          media_record_detached_fn detached, void *user,
                                          const char **err);
media_sink *media_record_sink_base(media_record_sink *r);

/* Any thread. Paused: frames are dropped (not written, not timed). */
void media_record_sink_pause(media_record_sink *r, int paused);
/* DTMF digits that end the recording (NULL or "": none); before attach. */
void media_record_sink_set_terminators(media_record_sink *r, const char *digits);
/* The terminator the peer pressed, or 0 (any thread). */
char media_record_sink_terminated(media_record_sink *r);
/* Monotonic ms of the last frame above the voice threshold; 0 if none yet. */
int64_t media_record_sink_last_voice_ms(media_record_sink *r);
/* Sample frames (per channel) handed to the writer so far. */
uint64_t media_record_sink_frames(media_record_sink *r);
int media_record_sink_channels(media_record_sink *r);

/* Core thread, after the detached callback (or if the sink was never
 * attached): the writer writes what is left and closes the file; waited
 * for here (at most one ring's worth of audio to write). Frees r. *frames
 * gets the sample frames in the file, *dropped those lost to a full ring. */
void media_record_sink_close(media_record_sink *r, uint64_t *frames, uint64_t *dropped);

/* The size of a 16-bit PCM WAV of `frames` sample frames, as libsndfile
 * writes it (the 44-byte canonical header). */
uint64_t media_record_wav_size(uint64_t frames, int channels);

#endif
