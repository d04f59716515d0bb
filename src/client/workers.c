/*
 * A bounded pool of threads for inbound-call handlers. Handlers block
 * (answer, play and wait, refer and wait), so they must never run on the
 * I/O thread; a fixed number of workers bounds the threads a burst of
 * calls can create, and extra calls wait in FIFO order for a free worker.
 */
#include "workers.h"

#include <stdlib.h>

struct worker_job {
    worker_job *next;
    relay_call_handler fn;
    relay_call *call;
    void *user;
};

void lr_workers_init(workers *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->threads = NULL;
    w->n = w->started = 0;
    w->quit = 0;
    w->head = w->tail = NULL;
}

static void *worker_main(void *arg)
{
    workers *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->quit)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->quit)
            break;
        worker_job *job = w->head;
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        job->fn(job->call, job->user);
        relay_call_unref(job->call);
        free(job);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int lr_workers_start(workers *w, int n)
{
    if (w->threads)
        return 0;
    w->threads = calloc((size_t)n, sizeof *w->threads);
    if (!w->threads)
        return -1;
    w->n = n;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->started++;
    }
    return w->started > 0 ? 0 : -1;
}

int lr_workers_submit(workers *w, relay_call_handler fn, relay_call *call, void *user)
{
    worker_job *job = malloc(sizeof *job);
    if (!job)
        return -1;
    job->next = NULL;
    job->fn = fn;
    job->call = call;
    job->user = user;
    pthread_mutex_lock(&w->lock);
    if (w->quit || !w->started) {
        pthread_mutex_unlock(&w->lock);
        free(job);
        return -1;
    }
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void lr_workers_stop(workers *w)
{
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->started; i++)
        pthread_join(w->threads[i], NULL);
    /* Calls that never reached a handler. */
    worker_job *job = w->head;
    while (job) {
        worker_job *next = job->next;
        relay_call_unref(job->call);
        free(job);
        job = next;
    }
    w->head = w->tail = NULL;
    free(w->threads);
    w->threads = NULL;
    w->started = w->n = 0;
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}
