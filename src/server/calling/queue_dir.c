#include "calling/queue_dir.h"

#include <stdlib.h>
#include <string.h>

#include "common/uuid.h"

struct queue_line {
    queue_line *next; /* in the directory */
    queue_entry *head, *tail;
    size_t size;
    char id[UUID_STR_LEN];
    char *project, *name;
};

struct queue_dir {
    queue_line *lines;
    size_t n_lines;
    size_t max_queues, max_callers;
};

queue_dir *queue_dir_new(size_t max_queues, size_t max_callers)
{
    queue_dir *d = calloc(1, sizeof *d);
    if (d)
        queue_dir_set_limits(d, max_queues, max_callers);
    return d;
}

void queue_dir_set_limits(queue_dir *d, size_t max_queues, size_t max_callers)
{
    d->max_queues = max_queues;
    d->max_callers = max_callers;
}

static void line_free(queue_line *q)
{
    free(q->project);
    free(q->name);
    free(q);
}

void queue_dir_free(queue_dir *d)
{
    if (!d)
        return;
    while (d->lines) {
        queue_line *q = d->lines;
        d->lines = q->next;
        for (queue_entry *e = q->head, *n; e; e = n) {
            n = e->next;
            e->prev = e->next = NULL;
            e->line = NULL;
        }
        line_free(q);
    }
    free(d);
}

static queue_line *find(const queue_dir *d, const char *project, const char *name)
{
    for (queue_line *q = d->lines; q; q = q->next)
        if (strcmp(q->name, name) == 0 && strcmp(q->project, project) == 0)
            return q;
    return NULL;
}

queue_join queue_dir_join(queue_dir *d, const char *project, const char *name, queue_entry *e)
{
    queue_line *q = find(d, project, name);
    if (q && q->size >= d->max_callers)
        return QUEUE_FULL;
    if (!q) {
        if (d->n_lines >= d->max_queues)
            return QUEUE_TOO_MANY;
        q = calloc(1, sizeof *q);
        if (!q || !(q->project = strdup(project)) || !(q->name = strdup(name)) ||
            uuid_v4(q->id) != 0) {
            if (q)
                line_free(q);
            return QUEUE_NOMEM;
        }
        q->next = d->lines;
        d->lines = q;
        d->n_lines++;
    }
    e->line = q;
    e->next = NULL;
    e->prev = q->tail;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->size++;
    return QUEUE_JOINED;
}

void queue_dir_leave(queue_dir *d, queue_entry *e, queue_moved_fn moved, void *user)
{
    queue_line *q = e->line;
    if (!q)
        return;
    size_t pos = queue_entry_position(e);
    queue_entry *behind = e->next;
    if (e->prev)
        e->prev->next = e->next;
    else
        q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->tail = e->prev;
    e->prev = e->next = NULL;
    e->line = NULL;
    q->size--;
    if (!q->size) {
        for (queue_line **p = &d->lines; *p; p = &(*p)->next)
            if (*p == q) {
                *p = q->next;
                break;
            }
        d->n_lines--;
        line_free(q);
        return; /* nobody was behind */
    }
    size_t size = q->size;
    for (; behind && moved; behind = behind->next, pos++)
        moved(behind, pos, size, user);
}

queue_entry *queue_dir_head(queue_dir *d, const char *project, const char *name)
{
    queue_line *q = find(d, project, name);
    return q ? q->head : NULL;
}

size_t queue_entry_position(const queue_entry *e)
{
    if (!e->line)
        return 0;
    size_t pos = 1;
    for (const queue_entry *p = e->prev; p; p = p->prev)
        pos++;
    return pos;
}

size_t queue_entry_size(const queue_entry *e) { return e->line ? e->line->size : 0; }

const char *queue_entry_queue_id(const queue_entry *e) { return e->line ? e->line->id : ""; }

const char *queue_entry_queue_name(const queue_entry *e) { return e->line ? e->line->name : ""; }

size_t queue_dir_count(const queue_dir *d) { return d->n_lines; }
