/*
 * A pool of delivery threads serving strands (see executor.h).
 *
 * A strand is in the ready list at most once ("queued"): a delivery thread
 * takes the strand, runs its first task without the lock, then puts the
 * strand back at the tail if it has more. So a strand never runs on two
 * threads at once, and a busy strand cannot starve the others.
 */
#include "executor.h"

#include <stdlib.h>

struct lr_strand {
    atomic_int refs;
    lr_task *head, *tail; /* [executor lock] */
    int queued;           /* [executor lock] in the ready list or running */
    lr_strand *next;      /* [executor lock] ready-list link */
};

static _Thread_local const lr_executor *tls_executor;

lr_strand *lr_strand_new(void)
{
    lr_strand *s = calloc(1, sizeof *s);
    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

void lr_strand_ref(lr_strand *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void lr_strand_unref(lr_strand *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s); /* no tasks: a queued strand holds a reference */
}

void lr_executor_init(lr_executor *x)
{
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->cond, NULL);
    x->ready_head = x->ready_tail = NULL;
    x->threads = NULL;
    x->started = 0;
    x->quit = 0;
    x->accepting = 0;
}

void lr_executor_destroy(lr_executor *x)
{
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
}

static void ready_push(lr_executor *x, lr_strand *s)
{
    s->next = NULL;
    if (x->ready_tail)
        x->ready_tail->next = s;
    else
        x->ready_head = s;
    x->ready_tail = s;
}

static void *delivery_main(void *arg)
{
    lr_executor *x = arg;
    tls_executor = x;
    pthread_mutex_lock(&x->lock);
    for (;;) {
        while (!x->ready_head && !x->quit)
            pthread_cond_wait(&x->cond, &x->lock);
        if (!x->ready_head)
            break; /* quitting and drained */
        lr_strand *s = x->ready_head;
        x->ready_head = s->next;
        if (!x->ready_head)
            x->ready_tail = NULL;
        lr_task *t = s->head;
        s->head = t->next;
        if (!s->head)
            s->tail = NULL;
        pthread_mutex_unlock(&x->lock);
        t->run(t);
        pthread_mutex_lock(&x->lock);
        if (s->head) {
            ready_push(x, s);
            pthread_cond_signal(&x->cond);
        } else {
            s->queued = 0;
            /* Unref outside the lock: it may free the strand. */
            pthread_mutex_unlock(&x->lock);
            lr_strand_unref(s);
            pthread_mutex_lock(&x->lock);
        }
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

int lr_executor_start(lr_executor *x, int n)
{
    if (x->threads)
        return 0;
    x->threads = calloc((size_t)n, sizeof *x->threads);
    if (!x->threads)
        return -1;
    pthread_mutex_lock(&x->lock);
    x->quit = 0;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&x->threads[i], NULL, delivery_main, x) != 0)
            break;
        x->started++;
    }
    x->accepting = x->started > 0;
    pthread_mutex_unlock(&x->lock);
    return x->started > 0 ? 0 : -1;
}

void lr_executor_post(lr_executor *x, lr_strand *s, lr_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&x->lock);
    if (!x->accepting) {
        pthread_mutex_unlock(&x->lock);
        t->run(t);
        return;
    }
    if (s->tail)
        s->tail->next = t;
    else
        s->head = t;
    s->tail = t;
    if (!s->queued) {
        s->queued = 1;
        lr_strand_ref(s);
        ready_push(x, s);
        pthread_cond_signal(&x->cond);
    }
    pthread_mutex_unlock(&x->lock);
}

void lr_executor_stop(lr_executor *x)
{
    pthread_mutex_lock(&x->lock);
    x->quit = 1;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    /* Tasks posted by running tasks are still queued: a delivery thread
     * leaves only once the ready list is empty. */
    for (int i = 0; i < x->started; i++)
        pthread_join(x->threads[i], NULL);
    pthread_mutex_lock(&x->lock);
    x->accepting = 0;
    pthread_mutex_unlock(&x->lock);
    free(x->threads);
    x->threads = NULL;
    x->started = 0;
}

int lr_executor_owns_thread(const lr_executor *x)
{
    return x && tls_executor == x;
}
