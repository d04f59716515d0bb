/*
 * A session's contexts: a set of names with O(1) expected add, remove and
 * lookup (open addressing, linear probing, backward-shift deletion, so no
 * tombstones pile up under receive/unreceive churn). A client may add many
 * thousands of contexts; a list scanned per add made that quadratic and let
 * one client block the core for seconds. Core thread only.
 */
#ifndef RELAYD_CONTEXT_SET_H
#define RELAYD_CONTEXT_SET_H

#include <stddef.h>

typedef struct context_set {
    char **slots;   /* NULL: empty; each name malloc'd, owned by the set */
    size_t cap;     /* 0 or a power of two */
    size_t count;
} context_set;

/* 1 if present. */
int context_set_has(const context_set *s, const char *name);
/* 1 added, 0 already present, -1 out of memory. */
int context_set_add(context_set *s, const char *name);
/* 1 removed, 0 not present. */
int context_set_remove(context_set *s, const char *name);
void context_set_clear(context_set *s);

#endif
