#include "context_set.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: context names are short; the table needs spread, not secrecy,
 * because its size is capped by max_contexts (a crafted collision set costs
 * the client's own session, bounded, not the server). */
static size_t hash_name(const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static size_t find_slot(const context_set *s, const char *name)
{
    size_t mask = s->cap - 1;
    size_t i = hash_name(name) & mask;
    while (s->slots[i] && strcmp(s->slots[i], name) != 0)
        i = (i + 1) & mask;
    return i;
}

int context_set_has(const context_set *s, const char *name)
{
    if (!name || s->cap == 0)
        return 0;
    return s->slots[find_slot(s, name)] != NULL;
}

/* Keeps the load at most 1/2 so probe runs stay short. */
static int grow(context_set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 8;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    context_set old = *s;
    s->slots = slots;
    s->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i])
            s->slots[find_slot(s, old.slots[i])] = old.slots[i];
    free(old.slots);
    return 0;
}

int context_set_add(context_set *s, const char *name)
{
    if (context_set_has(s, name))
        return 0;
    if ((s->count + 1) * 2 > s->cap && grow(s) != 0)
        return -1;
    char *copy = strdup(name);
    if (!copy)
        return -1;
    s->slots[find_slot(s, name)] = copy;
    s->count++;
    return 1;
}

int context_set_remove(context_set *s, const char *name)
{
    if (!context_set_has(s, name))
        return 0;
    size_t mask = s->cap - 1;
    size_t hole = find_slot(s, name);
    free(s->slots[hole]);
    s->slots[hole] = NULL;
    s->count--;
    /* Backward shift: move later members of the run into the hole when their
     * home slot does not lie between the hole and them (cyclically). */
    for (size_t j = (hole + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t home = hash_name(s->slots[j]) & mask;
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            s->slots[hole] = s->slots[j];
            s->slots[j] = NULL;
            hole = j;
        }
    }
    return 1;
}

void context_set_clear(context_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}
