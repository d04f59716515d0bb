/*
 * Two small containers the I/O thread lives on: a string-keyed hash map for
 * the id -> object tables (pending requests, calls, actions), and an
 * append-only string pool for strings other threads may read while the
 * I/O thread moves on.
 */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_entry {
    strmap_entry *next;
    const char *key;
    uint32_t hash;
    void *value;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: ids are random already */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

void lr_strmap_init(strmap *m)
{
    m->buckets = NULL;
    m->nbuckets = 0;
    m->count = 0;
}

void lr_strmap_destroy(strmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        strmap_entry *e = m->buckets[i];
        while (e) {
            strmap_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    lr_strmap_init(m);
}

static int grow(strmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    strmap_entry **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < m->nbuckets; i++) {
        strmap_entry *e = m->buckets[i];
        while (e) {
            strmap_entry *next = e->next;
            size_t k = e->hash & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

static strmap_entry **find(const strmap *m, const char *key, uint32_t h)
{
    if (!m->nbuckets)
        return NULL;
    strmap_entry **p = &m->buckets[h & (m->nbuckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->next;
    return p;
}

int lr_strmap_put(strmap *m, const char *key, void *value)
{
    uint32_t h = hash_str(key);
    strmap_entry **p = find(m, key, h);
    if (p && *p) {
        (*p)->key = key;
        (*p)->value = value;
        return 0;
    }
    if (m->count + 1 > m->nbuckets * 3 / 4 && grow(m) != 0)
        return -1;
    strmap_entry *e = malloc(sizeof *e);
    if (!e)
        return -1;
    size_t k = h & (m->nbuckets - 1);
    e->key = key;
    e->hash = h;
    e->value = value;
    e->next = m->buckets[k];
    m->buckets[k] = e;
    m->count++;
    return 0;
}

void *lr_strmap_get(const strmap *m, const char *key)
{
    if (!key)
        return NULL;
    strmap_entry **p = find(m, key, hash_str(key));
    return p && *p ? (*p)->value : NULL;
}

void *lr_strmap_remove(strmap *m, const char *key)
{
    if (!key)
        return NULL;
    strmap_entry **p = find(m, key, hash_str(key));
    if (!p || !*p)
        return NULL;
    strmap_entry *e = *p;
    void *v = e->value;
    *p = e->next;
    free(e);
    m->count--;
    return v;
}

void **lr_strmap_values(const strmap *m, size_t *n)
{
    *n = 0;
    if (!m->count)
        return NULL;
    void **out = malloc(m->count * sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (strmap_entry *e = m->buckets[i]; e; e = e->next)
            out[(*n)++] = e->value;
    return out;
}

struct strpool_node {
    strpool_node *next;
    char s[];
};

const char *lr_strpool_intern(strpool *p, const char *s)
{
    for (strpool_node *n = p->head; n; n = n->next)
        if (strcmp(n->s, s) == 0)
            return n->s;
    size_t len = strlen(s);
    strpool_node *n = malloc(sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->s, s, len + 1);
    n->next = p->head;
    p->head = n;
    return n->s;
}

void lr_strpool_free(strpool *p)
{
    strpool_node *n = p->head;
    while (n) {
        strpool_node *next = n->next;
        free(n);
        n = next;
    }
    p->head = NULL;
}
