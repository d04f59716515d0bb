/*
 * The preparation pool: a fixed set of threads for media work too slow for
 * the core thread and too bursty for the media threads (speech synthesis,
 * decoding and resampling files). Jobs run in submission order, on
 * whichever pool thread is free.
 */
#ifndef RELAYD_MEDIA_PREP_H
#define RELAYD_MEDIA_PREP_H

typedef struct media_prep_pool media_prep_pool;
typedef void (*media_prep_fn)(void *arg);

/* Starts n threads (1 if n < 1). NULL on failure. */
media_prep_pool *media_prep_pool_create(int n);
/* Queues fn(arg). 0 on success; -1 if out of memory or the pool is being
 * destroyed (fn is then not called: the caller still owns arg). */
int media_prep_submit(media_prep_pool *pool, media_prep_fn fn, void *arg);
/* Runs every job still queued, then joins the threads and frees the pool.
 * Jobs may still submit while it drains; those run too. */
void media_prep_pool_destroy(media_prep_pool *pool);

#endif
