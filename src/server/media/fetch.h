/*
 * Audio by URL for play items: URL checks (core thread, at request time)
 * and the fetcher (preparation pool): http(s) with libcurl, file:// under
 * media_dir only, decoding, and the decoded-audio cache. Every connection
 * an http(s) fetch opens (redirects too) is judged by addr_policy on the
 * resolved address: internal ones are refused unless allowed.
 */
#ifndef RELAYD_MEDIA_FETCH_H
#define RELAYD_MEDIA_FETCH_H

#include <stddef.h>

#include "addr_policy.h"
#include "media/source.h"

#define MEDIA_URL_MAX 2048

typedef struct media_fetch_config {
    const char *media_dir;     /* NULL: file:// URLs are refused */
    size_t max_bytes;          /* largest file fetched or read */
    int connect_timeout_ms;
    int timeout_ms;            /* the whole transfer */
    int max_redirects;
    size_t cache_entries;      /* decoded files kept (0: no cache) */
    size_t cache_bytes;
    /* internal ranges http(s) fetches may still reach (webhook_allow); NULL:
     * none. Must outlive the fetcher. */
    const addr_allow *allow;
} media_fetch_config;

typedef struct media_fetcher media_fetcher;

/* NULL if the URL may be played (syntax only: nothing is fetched), else a
 * static reason. allow_file: a media_dir is configured. */
const char *media_url_invalid(const char *url, int allow_file);

/* Copies cfg (and media_dir). NULL when out of memory. */
media_fetcher *media_fetcher_create(const media_fetch_config *cfg);
void media_fetcher_destroy(media_fetcher *f);
/* Makes transfers in progress (and later ones) fail soon: shutdown does not
 * wait for a slow server. Any thread. */
void media_fetcher_cancel(media_fetcher *f);

/* The audio at url as a pcm source: from the cache, or fetched/read,
 * decoded and cached. Blocks for the transfer: call it on the preparation
 * pool only. NULL with a static reason in *err; the details (status, curl
 * error) are logged. Any thread. */
media_source *media_fetch_source(media_fetcher *f, const char *url, const char **err);

/* A fax document at an http(s) URL (checked by the caller), as bytes:
 * the same limits, redirect rules and logging as audio, not decoded nor
 * cached (a document is sent once). 0 with *data (malloc'd) and *n, or -1
 * with a static reason in *err. Blocks: preparation pool only. */
int media_fetch_document(media_fetcher *f, const char *url, unsigned char **data, size_t *n,
                         const char **err);
/* 1 once media_fetcher_cancel was called (shutdown): long jobs give up. */
int media_fetcher_cancelled(media_fetcher *f);

#endif
