/*
 * The bounded pool for inbound-call handlers (workers.c).
 */
#ifndef RELAY_CLIENT_WORKERS_H
#define RELAY_CLIENT_WORKERS_H

#include <relay/relay.h>

#include <pthread.h>

typedef struct worker_job worker_job;
typedef struct workers {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t *threads;
    int n, started;
    int quit;
    worker_job *head, *tail;
} workers;

void lr_workers_init(workers *w);
int lr_workers_start(workers *w, int n);            /* 0, or -1 */
/* Runs fn(call, user) on a worker, then drops the call ref (taken over). */
int lr_workers_submit(workers *w, relay_call_handler fn, relay_call *call, void *user);
void lr_workers_stop(workers *w); /* joins; unrun jobs are dropped */

#endif
