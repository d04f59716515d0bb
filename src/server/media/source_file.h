/*
 * Decoding audio files held in memory to 8 kHz mono (libsndfile, then the
 * resampler). Runs on the preparation pool.
 */
#ifndef RELAYD_MEDIA_SOURCE_FILE_H
#define RELAYD_MEDIA_SOURCE_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes `len` bytes of an audio file (any format libsndfile reads: WAV,
 * FLAC, OGG, MP3...), downmixed to mono and resampled to 8000 Hz. Returns
 * malloc'd samples and their count in *out_n; NULL with a static reason in
 * *err (not audio, no samples, too long, out of memory). */
int16_t *media_decode_audio(const void *data, size_t len, size_t *out_n, const char **err);

#endif
