/*
 * The preparation pool (see prep.h): a locked FIFO and a condition
 * variable. The lock guards the queue and the stopping flag only; jobs run
 * outside it.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "media/prep.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct prep_job {
    struct prep_job *next;
    media_prep_fn fn;
    void *arg;
} prep_job;

struct media_prep_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    prep_job *head, *tail;
    int stopping;
    int alive; /* threads that have not exited */
    int n;
    pthread_t *threads;
};

/* The next job, waiting for one; NULL once stopping and the queue is empty
 * (queued jobs are run, not cancelled: each one's arg is owned by the job,
 * and only the job knows how to give it back). */
static prep_job *take(media_prep_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->head && !p->stopping)
        pthread_cond_wait(&p->wake, &p->lock);
    prep_job *j = p->head;
    if (j && !(p->head = j->next))
        p->tail = NULL;
    if (!j)
        p->alive--; /* under the lock: submit sees it */
    pthread_mutex_unlock(&p->lock);
    return j;
}

static void *worker(void *arg)
{
    media_prep_pool *p = arg;
    prep_job *j;
    while ((j = take(p))) {
        j->fn(j->arg);
        free(j);
    }
    return NULL;
}

media_prep_pool *media_prep_pool_create(int n)
{
    if (n < 1)
        n = 1;
    media_prep_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (; p->n < n; p->n++) {
        pthread_mutex_lock(&p->lock);
        p->alive++;
        pthread_mutex_unlock(&p->lock);
        if (pthread_create(&p->threads[p->n], NULL, worker, p) != 0) {
            pthread_mutex_lock(&p->lock);
            p->alive--;
            pthread_mutex_unlock(&p->lock);
            media_prep_pool_destroy(p);
            return NULL;
        }
        char name[16];
        snprintf(name, sizeof name, "prep%d", p->n);
        pthread_setname_np(p->threads[p->n], name);
    }
    return p;
}

int media_prep_submit(media_prep_pool *p, media_prep_fn fn, void *arg)
{
    prep_job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (prep_job){.fn = fn, .arg = arg};
    pthread_mutex_lock(&p->lock);
    /* Accepted while draining: a job may chain another, and a pool thread
     * is still there to run it. */
    if (p->stopping && p->alive == 0) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void media_prep_pool_destroy(media_prep_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
