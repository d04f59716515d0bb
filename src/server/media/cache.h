/*
 * The decoded-audio cache: 8 kHz samples by URL, bounded by entry count and
 * total bytes, least recently used evicted first. Shared by the preparation
 * threads, so every call takes its mutex.
 */
#ifndef RELAYD_MEDIA_CACHE_H
#define RELAYD_MEDIA_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct media_cache media_cache;

/* NULL when out of memory. max_entries 0 or max_bytes 0: caches nothing. */
media_cache *media_cache_create(size_t max_entries, size_t max_bytes);
void media_cache_destroy(media_cache *c);

/* A malloc'd copy of the samples stored under url (count in *n), or NULL
 * if absent. A hit makes the entry the most recently used. */
int16_t *media_cache_get(media_cache *c, const char *url, size_t *n);
/* Stores a copy of pcm under url (replacing an older one), evicting the
 * least recently used entries until it fits. An entry larger than the whole
 * budget is not stored. 0 if stored, -1 if not. */
int media_cache_put(media_cache *c, const char *url, const int16_t *pcm, size_t n);
/* Entries and bytes held now (tests). */
size_t media_cache_entries(media_cache *c);
size_t media_cache_bytes(media_cache *c);

#endif
