/*
 * The recordings' disk-writer pool (media/disk_writer.c) and the recording
 * sink on top of it: a fixed number of threads however many recordings are
 * open; each job drained while open, finished exactly once, with its last
 * audio in the file; a job still open at shutdown is finished, not lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sndfile.h>

#include "media/disk_writer.h"
#include "media/sink_record.h"

typedef struct counting_job {
    media_disk_job job; /* first */
    atomic_int drains, finishes;
} counting_job;

static void count_drain(media_disk_job *j) { atomic_fetch_add(&((counting_job *)j)->drains, 1); }
static void count_finish(media_disk_job *j)
{
    atomic_fetch_add(&((counting_job *)j)->finishes, 1);
}

static int threads_now(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void jobs_are_drained_and_finished_once(void **state)
{
    (void)state;
    media_disk_writer *w = media_disk_writer_create(2);
    assert_non_null(w);
    counting_job jobs[8];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 8; i++) {
        jobs[i].job.drain = count_drain;
        jobs[i].job.finish = count_finish;
        media_disk_writer_add(w, &jobs[i].job);
    }
    sleep_ms(120); /* several 20 ms polls */
    for (int i = 0; i < 8; i++) {
        assert_true(atomic_load(&jobs[i].drains) >= 2);
        assert_int_equal(atomic_load(&jobs[i].finishes), 0);
    }
    /* closed out of order: each returns once its own job is finished */
    for (int i = 7; i >= 1; i -= 2) {
        int before = atomic_load(&jobs[i].drains);
        media_disk_writer_close(&jobs[i].job);
        assert_int_equal(atomic_load(&jobs[i].finishes), 1);
        assert_true(atomic_load(&jobs[i].drains) > before); /* a last drain first */
    }
    sleep_ms(60);
    for (int i = 7; i >= 1; i -= 2)
        assert_int_equal(atomic_load(&jobs[i].finishes), 1); /* not again */
    /* the even ones are still open at shutdown: finished there */
    media_disk_writer_destroy(w);
    for (int i = 0; i < 8; i += 2)
        assert_int_equal(atomic_load(&jobs[i].finishes), 1);
}

static void detached(media_record_sink *r, void *user)
{
    (void)r;
    (void)user;
}

/* Forty open recordings add no thread (there used to be one each), and each
 * file holds what was fed to it once closed. */
static void recordings_share_the_pool(void **state)
{
    (void)state;
    char dir[] = "/tmp/relay-disk-writer-XXXXXX";
    assert_non_null(mkdtemp(dir));
    media_disk_writer *w = media_disk_writer_create(2);
    assert_non_null(w);
    int before = threads_now();
    enum { N = 40, FRAMES = 25 };
    media_record_sink *recs[N];
    char paths[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/r%d.wav", dir, i);
        const char *err = NULL;
        recs[i] = media_record_sink_open(w, paths[i], MEDIA_REC_WAV, MEDIA_REC_LISTEN, i % 2,
                                         detached, NULL, &err);
        assert_non_null(recs[i]);
    }
    assert_int_equal(threads_now(), before);
    int16_t pcm[MEDIA_FRAME_SAMPLES];
    for (int k = 0; k < MEDIA_FRAME_SAMPLES; k++)
        pcm[k] = (int16_t)(k * 100);
    for (int f = 0; f < FRAMES; f++)
        for (int i = 0; i < N; i++) {
            media_sink *s = media_record_sink_base(recs[i]);
            s->on_frame(s, pcm, MEDIA_DIR_RX);
        }
    for (int i = 0; i < N; i++) {
        uint64_t frames = 0, dropped = 0;
        media_record_sink_close(recs[i], &frames, &dropped);
        assert_int_equal(frames, FRAMES * MEDIA_FRAME_SAMPLES);
        assert_int_equal(dropped, 0);
        SF_INFO info = {0};
        SNDFILE *f = sf_open(paths[i], SFM_READ, &info);
        assert_non_null(f);
        assert_int_equal(info.frames, FRAMES * MEDIA_FRAME_SAMPLES);
        assert_int_equal(info.channels, i % 2 ? 2 : 1);
        sf_close(f);
        unlink(paths[i]);
    }
    media_disk_writer_destroy(w);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobs_are_drained_and_finished_once),
        cmocka_unit_test(recordings_share_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
