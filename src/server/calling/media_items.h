/*
 * The media items of calling.play (and of calling.play_and_collect's
 * prompt): checked on the core before the answer, turned into media
 * sources on the preparation pool (synthesis and fetching are slow), and
 * the volume both methods take. One place, so the two methods accept and
 * sound exactly the same.
 */
#ifndef RELAYD_CALLING_MEDIA_ITEMS_H
#define RELAYD_CALLING_MEDIA_ITEMS_H

#include <jansson.h>

#include "media/source.h"
#include "relayd.h"

#define MEDIA_ITEMS_MAX 32

/* Core thread: why the play array is unfit (static text), or NULL. */
const char *media_items_invalid(relayd *rd, json_t *items);

/* Preparation pool: one source per item, in a malloc'd array of *n
 * entries (the caller owns both, also on failure, where *err says why and
 * the entries not built are NULL). NULL only when the array itself could
 * not be allocated. */
media_source **media_items_build(relayd *rd, json_t *items, size_t *n, const char **err);

/* Frees what media_items_build returned. */
void media_items_free(media_source **sources, size_t n);

/* params.volume in dB, -40..40, into *db (0 when absent). -1 if it is
 * malformed, out of range, or absent while required. */
int media_items_volume(json_t *params, int required, double *db);

#endif
