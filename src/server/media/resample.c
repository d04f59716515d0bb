/*
 * Windowed-sinc resampling. An output sample at input position t is
 *     y(t) = sum_k x[k] h(t - k),   h(d) = 2c sinc(2c d) w(d / H)
 * with c the cutoff in cycles per input sample and w a Blackman window
 * (stopband about -74 dB) over |d| < H.
 *
 * For rates in a rational ratio L/M (after dividing by their gcd) the
 * fractional part of t takes only L values, so the filter is tabulated once
 * per phase: 22050 -> 8000 Hz is L = 160 phases of ~150 taps. The table
 * depends only on the two rates, so it is built once per rate pair and
 * kept for the life of the process (relayd sees one or two pairs: the TTS
 * engine's rate, later a few file rates).
 */
#include "media/resample.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

/* Cutoff as a fraction of the lower Nyquist frequency, and filter length in
 * zero crossings each side: together a transition band of ~7% of the
 * output rate, so that what aliases lands above 3.8 kHz for 8 kHz output. */
#define CUTOFF_FRACTION 0.925
#define ZERO_CROSSINGS 24

static long gcd(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static double kernel(double d, double c, double half)
{
    if (fabs(d) >= half)
        return 0.0;
    double x = 2.0 * c * d;
    double sinc = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
    double r = (d / half + 1.0) / 2.0; /* 0..1 across the window */
    double w = 0.42 - 0.5 * cos(2 * M_PI * r) + 0.08 * cos(4 * M_PI * r);
    return 2.0 * c * sinc * w;
}

/* Taps for one fractional position; taps[j] weighs x[base - K + 1 + j].
 * Normalised to unit sum so every phase has exactly unity gain at DC. */
static void fill_taps(float *taps, int K, double frac, double c, double half)
{
    double sum = 0;
    for (int j = 0; j < 2 * K; j++) {
        double d = frac + (double)(K - 1 - j);
        double v = kernel(d, c, half);
        taps[j] = (float)v;
        sum += v;
    }
    if (sum != 0)
        for (int j = 0; j < 2 * K; j++)
            taps[j] = (float)(taps[j] / sum);
}

/* Built tables, shared read-only by every thread once published. The lock
 * covers the list and the building: two plays starting at once on the
 * preparation pool must not both build (or both publish) a table. */
#define MAX_TABLES 8
typedef struct filter_table {
    long L, M;
    int K;
    float *taps; /* L phases of 2K taps */
} filter_table;
static filter_table tables[MAX_TABLES];
static int n_tables;
static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;

/* The table for L/M, built on first use; NULL if too big or out of memory
 * (or more rate pairs than we cache): the caller then computes per sample. */
static const float *table_for(long L, long M, int K, double c, double half)
{
    if ((long long)L * 2 * K > 4 * 1024 * 1024)
        return NULL;
    const float *found = NULL;
    pthread_mutex_lock(&tables_lock);
    for (int i = 0; i < n_tables && !found; i++)
        if (tables[i].L == L && tables[i].M == M)
            found = tables[i].taps;
    if (!found && n_tables < MAX_TABLES) {
        float *t = malloc((size_t)L * 2 * (size_t)K * sizeof *t);
        if (t) {
            for (long p = 0; p < L; p++)
                fill_taps(t + (size_t)p * 2 * K, K, (double)p / L, c, half);
            tables[n_tables++] = (filter_table){.L = L, .M = M, .K = K, .taps = t};
            found = t;
        }
    }
    pthread_mutex_unlock(&tables_lock);
    return found;
}

int16_t *media_resample(const int16_t *in, size_t n, int in_rate, int out_rate, size_t *out_n)
{
    if (in_rate <= 0 || out_rate <= 0 || (n && !in))
        return NULL;
    long g = gcd(in_rate, out_rate);
    long L = out_rate / g, M = in_rate / g;
    size_t on = (size_t)((unsigned long long)n * (unsigned long long)L / (unsigned long long)M);
    int16_t *out = malloc(on ? on * sizeof *out : 1);
    if (!out)
        return NULL;
    *out_n = on;
    if (L == M) {
        for (size_t i = 0; i < on; i++)
            out[i] = in[i];
        return out;
    }

    double nyq = (in_rate < out_rate ? in_rate : out_rate) / 2.0;
    double c = CUTOFF_FRACTION * nyq / in_rate;      /* cycles per input sample */
    double half = ZERO_CROSSINGS / (2.0 * c);          /* in input samples */
    int K = (int)ceil(half);

    /* A table of all phases when it is of reasonable size, else per sample. */
    const float *table = table_for(L, M, K, c, half);
    float *scratch = table ? NULL : malloc(2 * (size_t)K * sizeof *scratch);
    if (!table && !scratch) {
        free(out);
        return NULL;
    }

    for (size_t i = 0; i < on; i++) {
        unsigned long long pos = (unsigned long long)i * (unsigned long long)M;
        long long base = (long long)(pos / (unsigned long long)L);
        long phase = (long)(pos % (unsigned long long)L);
        const float *taps;
        if (table) {
            taps = table + (size_t)phase * 2 * K;
        } else {
            fill_taps(scratch, K, (double)phase / L, c, half);
            taps = scratch;
        }
        double acc = 0;
        long long k0 = base - K + 1;
        for (int j = 0; j < 2 * K; j++) {
            long long k = k0 + j;
            if (k >= 0 && k < (long long)n)
                acc += taps[j] * in[k];
        }
        long v = lrint(acc);
        out[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    free(scratch);
    return out;
}
