/* The beep detector (see beep.h). */
#include "media/beep.h"

#include <stdlib.h>

#define LOW_HZ 400
#define STEP_HZ 25
/* Per-frame mean square below this (RMS about 700, -33 dBFS) is not a beep. */
#define MIN_MEAN_SQ (700.0 * 700.0)
/* spandsp's float Goertzel gives twice the textbook |X|^2, so a pure tone in
 * the bin's centre scores 1 with result / (N * energy). Between two bins
 * 25 Hz apart a tone still scores above 0.9. */
#define MIN_SHARE 0.6
#define BEEP_FRAMES 10 /* 200 ms */

void beep_init(beep_detector *b)
{
    for (int i = 0; i < BEEP_BINS; i++)
        make_goertzel_descriptor(&b->desc[i], (float)(LOW_HZ + STEP_HZ * i), MEDIA_FRAME_SAMPLES);
    b->run = 0;
    b->run_bin = -1;
}

int beep_frame(beep_detector *b, const int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    double energy = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
        energy += (double)pcm[i] * pcm[i];
    int best = -1;
    double best_share = 0;
    if (energy / MEDIA_FRAME_SAMPLES >= MIN_MEAN_SQ) {
        for (int i = 0; i < BEEP_BINS; i++) {
            goertzel_state_t g;
            goertzel_init(&g, &b->desc[i]);
            goertzel_update(&g, pcm, MEDIA_FRAME_SAMPLES);
            double share = goertzel_result(&g) / (MEDIA_FRAME_SAMPLES * energy);
            if (share > best_share) {
                best_share = share;
                best = i;
            }
        }
    }
    if (best < 0 || best_share < MIN_SHARE) {
        b->run = 0;
        b->run_bin = -1;
        return 0;
    }
    if (b->run > 0 && abs(best - b->run_bin) <= 2) {
        b->run++;
    } else {
        b->run = 1;
        b->run_bin = best;
    }
    return b->run == BEEP_FRAMES;
}
