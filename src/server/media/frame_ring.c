/*
 * The delay rule. A backlog above RING_KEEP frames that stands for
 * STANDING_TICKS is cut back, the way a jitter buffer adapts: quiet frames
 * go first, one a tick, so speech loses nothing; at RING_HARD frames
 * (200 ms) the oldest go whatever they hold. A burst that the consumer's
 * own catch-up ticks drain within that time loses nothing. Standing
 * backlogs come from the two threads stalling at different moments (each
 * stall of the producer's thread leaves one frame more queued) and from
 * peers whose clocks run fast. bench/bridged_calls.sh measures it: cutting
 * any backlog above 3 frames at once lost 0.04-0.1% of 100 bridged calls'
 * audio on a loaded 2-core machine; this rule, none.
 */
#include "media/frame_ring.h"

#include <string.h>

#define RING_KEEP 3
#define RING_HARD 10
#define STANDING_TICKS 25
/* Mean magnitude under which a frame counts as quiet (about -45 dBFS). */
#define QUIET_LEVEL 180

static _Atomic uint64_t dropped;

uint64_t frame_ring_dropped_total(void) { return atomic_load(&dropped); }

static void drop(unsigned n) { atomic_fetch_add_explicit(&dropped, n, memory_order_relaxed); }

int frame_ring_put(frame_ring *r, const int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    unsigned head = atomic_load_explicit(&r->head, memory_order_relaxed);
    unsigned tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail >= FRAME_RING_FRAMES) {
        drop(1);
        return -1; /* the consumer cuts the backlog, see frame_ring_get */
    }
    memcpy(r->frames[head % FRAME_RING_FRAMES], pcm, sizeof r->frames[0]);
    long level = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
        level += pcm[i] < 0 ? -pcm[i] : pcm[i];
    r->quiet[head % FRAME_RING_FRAMES] = level < (long)QUIET_LEVEL * MEDIA_FRAME_SAMPLES;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return 0;
}

int frame_ring_get(frame_ring *r, int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail) {
        memset(pcm, 0, sizeof r->frames[0]);
        return 0;
    }
    if (head - tail <= RING_KEEP) {
        r->over = 0;
    } else if (++r->over >= STANDING_TICKS) {
        if (head - tail >= RING_HARD) {
            drop(head - tail - RING_KEEP);
            tail = head - RING_KEEP;
            r->over = 0;
        } else if (r->quiet[tail % FRAME_RING_FRAMES]) {
            drop(1);
            tail++; /* head - tail stays above RING_KEEP: a frame to play */
        }
    }
    memcpy(pcm, r->frames[tail % FRAME_RING_FRAMES], sizeof r->frames[0]);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 1;
}
