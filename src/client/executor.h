/*
 * The executor: where user callbacks run. A fixed pool of delivery
 * threads serves strands; a strand is a serial queue (one per call, one
 * for the client): its tasks run one at a time, in the order they were
 * posted, while different strands run in parallel (nats.c's delivery
 * threads, asio's strands). The I/O thread only posts; it never runs a
 * user callback, so no callback has to avoid blocking.
 */
#ifndef RELAY_CLIENT_EXECUTOR_H
#define RELAY_CLIENT_EXECUTOR_H

#include <pthread.h>
#include <stdatomic.h>

typedef struct lr_task lr_task;
/* Runs the task and frees it (with whatever references it holds). */
typedef void (*lr_task_fn)(lr_task *t);
struct lr_task {
    lr_task *next;
    lr_task_fn run;
};

/* Reference-counted so that it outlives its owner while tasks are queued:
 * the executor holds a reference while the strand is ready or running. */
typedef struct lr_strand lr_strand;

lr_strand *lr_strand_new(void); /* NULL on ENOMEM */
void lr_strand_ref(lr_strand *s);
void lr_strand_unref(lr_strand *s);

typedef struct lr_executor {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lr_strand *ready_head, *ready_tail; /* [lock] strands with work, FIFO */
    pthread_t *threads;
    int started;                        /* threads running */
    int quit;                           /* [lock] finish the queue, then exit */
    int accepting;                      /* [lock] threads are there to run posts */
} lr_executor;

void lr_executor_init(lr_executor *x);
int lr_executor_start(lr_executor *x, int n); /* 0, or -1 */
/* Queues t on s. Once the executor has stopped (or before it started) the
 * task runs at once on the calling thread, which is then never the I/O
 * thread (that thread is gone by then). */
void lr_executor_post(lr_executor *x, lr_strand *s, lr_task *t);
/* Runs every queued task, then joins the threads. */
void lr_executor_stop(lr_executor *x);
void lr_executor_destroy(lr_executor *x); /* after stop */
/* 1 if the calling thread is one of this executor's (for tests). */
int lr_executor_owns_thread(const lr_executor *x);

#endif
