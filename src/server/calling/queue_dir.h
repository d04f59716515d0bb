/*
 * The named queues of calling.queue.enter: per project, a first-in
 * first-out line of waiting entries, each embedded in the queue op of one
 * call (calling/queue.c). A queue exists while someone waits in it: the
 * first entry creates it (with a fresh queue_id), the last one to leave
 * frees it. Both counts are bounded (queue_max_queues queues in all,
 * queue_max_callers entries in one).
 *
 * It holds no call and no op: only the entries their owners embed, linked
 * in. Positions are not stored (they would all change at every leave):
 * they are counted from the head, so a line is never out of step.
 *
 * Core thread only (the owner of every call and op), so no lock.
 */
#ifndef RELAYD_CALLING_QUEUE_DIR_H
#define RELAYD_CALLING_QUEUE_DIR_H

#include <stddef.h>

#define QUEUE_NAME_MAX 128

typedef struct queue_dir queue_dir;
typedef struct queue_line queue_line;

typedef struct queue_entry {
    struct queue_entry *prev, *next;
    queue_line *line; /* NULL while in no queue */
} queue_entry;

typedef enum queue_join {
    QUEUE_JOINED = 0,
    QUEUE_FULL,     /* the queue has max_callers entries */
    QUEUE_TOO_MANY, /* a new queue, and there are max_queues already */
    QUEUE_NOMEM
} queue_join;

queue_dir *queue_dir_new(size_t max_queues, size_t max_callers);
/* Frees the directory and any queue left; entries still linked are only
 * unlinked (their owners free them). NULL is a no-op. */
void queue_dir_free(queue_dir *d);
/* New bounds (SIGHUP); queues already longer keep their entries. */
void queue_dir_set_limits(queue_dir *d, size_t max_queues, size_t max_callers);

/* Puts e (in no queue) at the tail of project's queue `name`, creating
 * the queue if needed. */
queue_join queue_dir_join(queue_dir *d, const char *project, const char *name, queue_entry *e);

/* Called for each entry that moved up a place, with its new position; it
 * must not change the queue. */
typedef void (*queue_moved_fn)(queue_entry *e, size_t position, size_t size, void *user);

/* Takes e out of its queue (no-op if in none); each entry that was behind
 * it then hears its new position through moved (may be NULL). A queue
 * left empty is freed before moved runs. */
void queue_dir_leave(queue_dir *d, queue_entry *e, queue_moved_fn moved, void *user);

/* The first entry of project's queue `name`, or NULL (no such queue). */
queue_entry *queue_dir_head(queue_dir *d, const char *project, const char *name);

/* 1 for the head; 0 when e is in no queue. */
size_t queue_entry_position(const queue_entry *e);
/* How many wait in e's queue; 0 when e is in none. */
size_t queue_entry_size(const queue_entry *e);
/* e's queue's id and name; "" when e is in none. Valid while e is in it. */
const char *queue_entry_queue_id(const queue_entry *e);
const char *queue_entry_queue_name(const queue_entry *e);

/* Queues that exist (someone waits in them). */
size_t queue_dir_count(const queue_dir *d);

#endif
