/*
 * A fixed pool of disk-writer threads that drain every recording's ring
 * into its file (media/sink_record.c). A disk write can stall for many
 * milliseconds, so it is never done on a media thread; and a thread per
 * recording would let callers make relayd hold a thread each (200 calls
 * recording: 200 threads). Each job is handed to one writer thread,
 * round-robin, and that thread alone drains and closes it.
 *
 * Ownership: the core creates the pool at start and destroys it after the
 * last recording was closed. A job's memory is its owner's; the pool only
 * links it while it is registered (media_disk_writer_add until
 * media_disk_writer_close returns).
 */
#ifndef RELAYD_MEDIA_DISK_WRITER_H
#define RELAYD_MEDIA_DISK_WRITER_H

#include <stdatomic.h>

typedef struct media_disk_writer media_disk_writer;
typedef struct media_disk_job media_disk_job;

struct media_disk_job {
    /* Writer thread: write what is waiting. Called about every 20 ms. */
    void (*drain)(media_disk_job *job);
    /* Writer thread, once, after the last drain that followed close: the
     * file is finished here (sf_close). */
    void (*finish)(media_disk_job *job);

    /* the pool's, from add until close returns */
    media_disk_job *next;
    struct disk_writer_thread *owner;
    atomic_int closing;
    int done; /* under the owner's lock */
};

/* threads >= 1. NULL if a thread cannot be started. */
media_disk_writer *media_disk_writer_create(int threads);
/* After every job was closed; a job still registered is finished first. */
void media_disk_writer_destroy(media_disk_writer *w);

/* Any thread: the job is drained from now on. */
void media_disk_writer_add(media_disk_writer *w, media_disk_job *job);
/* Any thread but a writer's, once the job's producer has stopped: drains
 * what is left, finishes the job and returns (at most one poll period plus
 * the last write). The job may be freed afterwards. */
void media_disk_writer_close(media_disk_job *job);

int media_disk_writer_threads(const media_disk_writer *w);

#endif
