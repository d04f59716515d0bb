/* Cost of media_resample per 20 ms of output audio: the preparation pool
 * resamples a whole prompt at once, so the figure is the total time over a
 * long signal divided by its 20 ms frames. Input is a speech-band chirp plus
 * noise at the rates relayd meets (espeak-ng's 22050 Hz, files at 44100,
 * 48000 and 16000 Hz). Usage: resample [seconds] [repeats] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "media/resample.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60;
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    static const int rates[] = {22050, 44100, 48000, 16000};
    srand(1);
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
        int rate = rates[r];
        size_t n = (size_t)(seconds * rate);
        int16_t *in = malloc(n * sizeof *in);
        if (!in)
            return 1;
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / rate;
            double f = 200 + 3000 * fmod(t, 1.0);
            in[i] = (int16_t)(8000 * sin(2 * M_PI * f * t) + (rand() % 2001 - 1000));
        }
        size_t on = 0;
        int16_t *warm = media_resample(in, n / 10, rate, 8000, &on); /* first-use setup */
        free(warm);
        double best = 1e30;
        for (int k = 0; k < repeats; k++) {
            double t0 = now();
            int16_t *out = media_resample(in, n, rate, 8000, &on);
            double dt = now() - t0;
            free(out);
            if (dt < best)
                best = dt;
        }
        double frames = (double)on / 160;
        printf("%5d -> 8000 Hz: %.0f s of audio in %.1f ms (best of %d), %.2f us per 20 ms frame\n",
               rate, seconds, best * 1e3, repeats, best * 1e6 / frames);
        free(in);
    }
    return 0;
}
