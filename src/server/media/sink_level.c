#include "media/sink_level.h"

#include <math.h>
#include <stdlib.h>

static void level_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                           media_direction dir)
{
    media_level_sink *l = (media_level_sink *)sink;
    uint64_t sq = 0;
    int peak = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        int v = abs(pcm[i]);
        sq += (uint64_t)v * (uint64_t)v;
        if (v > peak)
            peak = v;
    }
    /* Single writer (the media thread): plain load + store would do; the
     * atomics are for the readers. frames last, released: a reader that
     * sees the count sees the sums. */
    atomic_fetch_add_explicit(&l->sum_sq[dir], sq / MEDIA_FRAME_SAMPLES, memory_order_relaxed);
    if (peak > atomic_load_explicit(&l->peak[dir], memory_order_relaxed))
        atomic_store_explicit(&l->peak[dir], peak, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->frames[dir], 1, memory_order_release);
}

static void level_on_detach(media_sink *sink)
{
    atomic_store(&((media_level_sink *)sink)->detached, 1);
}

void media_level_sink_init(media_level_sink *l)
{
    *l = (media_level_sink){.sink = {.on_frame = level_on_frame, .on_detach = level_on_detach}};
}

double media_level_sink_rms(media_level_sink *l, media_direction dir)
{
    uint64_t n = atomic_load_explicit(&l->frames[dir], memory_order_acquire);
    if (!n)
        return 0;
    return sqrt((double)atomic_load_explicit(&l->sum_sq[dir], memory_order_relaxed) / (double)n);
}
