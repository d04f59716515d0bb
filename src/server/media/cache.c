/*
 * A small LRU list. Why LRU, and why bounded both ways: the same prompts
 * (a menu, a hold message) are played again and again, so the recently used
 * ones are the ones worth keeping; and a client that plays a new URL on
 * every call must not grow relayd's memory without end, whether it uses
 * many short files (the count bound) or a few long ones (the byte bound).
 * A linear list is enough for a few hundred entries; lookups happen once
 * per play item, not per packet.
 */
#include "media/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry {
    struct cache_entry *prev, *next; /* head: most recently used */
    char *url;
    int16_t *pcm;
    size_t n;
} cache_entry;

struct media_cache {
    pthread_mutex_t lock;
    cache_entry *head, *tail;
    size_t entries, bytes, max_entries, max_bytes;
};

media_cache *media_cache_create(size_t max_entries, size_t max_bytes)
{
    media_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    return c;
}

static void entry_free(cache_entry *e)
{
    free(e->url);
    free(e->pcm);
    free(e);
}

static void unlink_entry(media_cache *c, cache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
    c->entries--;
    c->bytes -= e->n * sizeof *e->pcm;
}

static void push_front(media_cache *c, cache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
    c->entries++;
    c->bytes += e->n * sizeof *e->pcm;
}

void media_cache_destroy(media_cache *c)
{
    if (!c)
        return;
    while (c->head) {
        cache_entry *e = c->head;
        unlink_entry(c, e);
        entry_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static cache_entry *find(media_cache *c, const char *url)
{
    for (cache_entry *e = c->head; e; e = e->next)
        if (strcmp(e->url, url) == 0)
            return e;
    return NULL;
}

int16_t *media_cache_get(media_cache *c, const char *url, size_t *n)
{
    int16_t *copy = NULL;
    pthread_mutex_lock(&c->lock);
    cache_entry *e = find(c, url);
    if (e && (copy = malloc(e->n * sizeof *copy)) != NULL) {
        memcpy(copy, e->pcm, e->n * sizeof *copy);
        *n = e->n;
        unlink_entry(c, e);
        push_front(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return copy;
}

int media_cache_put(media_cache *c, const char *url, const int16_t *pcm, size_t n)
{
    size_t bytes = n * sizeof *pcm;
    if (c->max_entries == 0 || n == 0 || bytes > c->max_bytes)
        return -1;
    cache_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->url = strdup(url)) || !(e->pcm = malloc(bytes))) {
        if (e)
            entry_free(e);
        return -1;
    }
    memcpy(e->pcm, pcm, bytes);
    e->n = n;
    pthread_mutex_lock(&c->lock);
    cache_entry *old = find(c, url);
    if (old) {
        unlink_entry(c, old);
        entry_free(old);
    }
    while (c->tail && (c->entries + 1 > c->max_entries || c->bytes + bytes > c->max_bytes)) {
        cache_entry *lru = c->tail;
        unlink_entry(c, lru);
        entry_free(lru);
    }
    push_front(c, e);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

size_t media_cache_entries(media_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t v = c->entries;
    pthread_mutex_unlock(&c->lock);
    return v;
}

size_t media_cache_bytes(media_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t v = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return v;
}
