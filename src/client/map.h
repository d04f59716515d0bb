/*
 * Two small containers for the I/O thread's tables: a string-keyed hash
 * map and an append-only string pool (map.c).
 */
#ifndef RELAY_CLIENT_MAP_H
#define RELAY_CLIENT_MAP_H

#include <stddef.h>

/* A string-keyed hash map. Keys are not copied: each key must stay valid
 * while its entry exists (it normally points into the value). */
typedef struct strmap_entry strmap_entry;
typedef struct strmap {
    strmap_entry **buckets;
    size_t nbuckets;
    size_t count;
} strmap;

void lr_strmap_init(strmap *m);
void lr_strmap_destroy(strmap *m); /* frees the table, not the values */
int lr_strmap_put(strmap *m, const char *key, void *value); /* 0, or -1 on ENOMEM */
void *lr_strmap_get(const strmap *m, const char *key);
void *lr_strmap_remove(strmap *m, const char *key);
/* A malloc'd snapshot of every value (NULL when empty); *n gets the count. */
void **lr_strmap_values(const strmap *m, size_t *n);

/* An append-only set of strings whose pointers stay valid until the pool is
 * freed: lets one thread publish a changing string (a session's protocol, an
 * action's state) that other threads may read at any time. */
typedef struct strpool_node strpool_node;
typedef struct strpool {
    strpool_node *head;
} strpool;

const char *lr_strpool_intern(strpool *p, const char *s); /* NULL on ENOMEM */
void lr_strpool_free(strpool *p);

#endif
