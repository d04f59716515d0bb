#define _GNU_SOURCE /* pthread_setname_np */
#include "media/disk_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define POLL_NS 20000000L

typedef struct disk_writer_thread {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a close or stop is waiting */
    pthread_cond_t done; /* a job was finished */
    /* under mu; new jobs go on the head. Only this thread unlinks, so
     * the nodes it saw stay valid while it writes outside the lock. */
    media_disk_job *jobs;
    int poke;
    int stop;
} disk_writer_thread;

struct media_disk_writer {
    int n;
    atomic_uint next;
    disk_writer_thread threads[];
};

static void unlink_job(disk_writer_thread *t, media_disk_job *job)
{
    for (media_disk_job **p = &t->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            return;
        }
    }
}

static void *writer_main(void *arg)
{
    disk_writer_thread *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        media_disk_job *seen = t->jobs;
        int stop = t->stop;
        t->poke = 0;
        pthread_mutex_unlock(&t->mu);

        for (media_disk_job *j = seen, *next; j; j = next) {
            next = j->next; /* j may leave the list below; next stays */
            /* closing is read before the drain: the producer had stopped
             * when it was set, so this drain takes the last of it */
            int closing = atomic_load_explicit(&j->closing, memory_order_acquire) || stop;
            j->drain(j);
            if (closing) {
                j->finish(j);
                pthread_mutex_lock(&t->mu);
                unlink_job(t, j);
                j->done = 1;
                pthread_cond_broadcast(&t->done);
                pthread_mutex_unlock(&t->mu);
            }
        }

        pthread_mutex_lock(&t->mu);
        if (stop && !t->jobs)
            break;
        if (!t->poke && !t->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += POLL_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!t->poke && !t->stop &&
                   pthread_cond_timedwait(&t->wake, &t->mu, &until) != ETIMEDOUT)
                ;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

media_disk_writer *media_disk_writer_create(int threads)
{
    if (threads < 1)
        threads = 1;
    media_disk_writer *w = calloc(1, sizeof *w + (size_t)threads * sizeof w->threads[0]);
    if (!w)
        return NULL;
    w->n = threads;
    for (int i = 0; i < threads; i++) {
        disk_writer_thread *t = &w->threads[i];
        pthread_mutex_init(&t->mu, NULL);
        pthread_cond_init(&t->wake, NULL);
        pthread_cond_init(&t->done, NULL);
        if (pthread_create(&t->thread, NULL, writer_main, t) != 0) {
            media_disk_writer_destroy(w);
            return NULL;
        }
        t->started = 1;
        pthread_setname_np(t->thread, "diskwriter");
    }
    return w;
}

void media_disk_writer_destroy(media_disk_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        disk_writer_thread *t = &w->threads[i];
        if (t->started) {
            pthread_mutex_lock(&t->mu);
            t->stop = 1;
            pthread_cond_signal(&t->wake);
            pthread_mutex_unlock(&t->mu);
            pthread_join(t->thread, NULL);
        }
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->wake);
        pthread_cond_destroy(&t->done);
    }
    free(w);
}

void media_disk_writer_add(media_disk_writer *w, media_disk_job *job)
{
    disk_writer_thread *t = &w->threads[atomic_fetch_add(&w->next, 1) % (unsigned)w->n];
    job->owner = t;
    job->done = 0;
    atomic_store(&job->closing, 0);
    pthread_mutex_lock(&t->mu);
    job->next = t->jobs;
    t->jobs = job;
    pthread_mutex_unlock(&t->mu);
}

void media_disk_writer_close(media_disk_job *job)
{
    disk_writer_thread *t = job->owner;
    atomic_store_explicit(&job->closing, 1, memory_order_release);
    pthread_mutex_lock(&t->mu);
    t->poke = 1;
    pthread_cond_signal(&t->wake);
    while (job->done != 1)
        pthread_cond_wait(&t->done, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

int media_disk_writer_threads(const media_disk_writer *w) { return w->n; }
