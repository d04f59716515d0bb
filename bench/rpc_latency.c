/*
 * RPC round-trip latency and throughput, librelay → relayd over a real
 * WebSocket: N blocking signalwire.ping requests from one thread, then the
 * same from T threads at once. Prints percentiles; asserts nothing.
 *
 *   rpc_latency HOST PORT PROJECT TOKEN [CA_FILE|-] [N] [THREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <relay/relay.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct job {
    relay_client *client;
    int n;
    double *samples;
    int failures;
} job;

static void *run(void *arg)
{
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        double t0 = now_us();
        if (relay_client_execute(j->client, "signalwire.ping", "{}", NULL) != RELAY_OK)
            j->failures++;
        j->samples[i] = now_us() - t0;
    }
    return NULL;
}

static void report(const char *label, double *s, int n, double wall_us, int failures)
{
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    printf("%-22s n=%d  p50=%.0f us  p90=%.0f us  p99=%.0f us  max=%.0f us  %.0f req/s  failures=%d\n",
           label, n, s[n / 2], s[n * 9 / 10], s[n * 99 / 100], s[n - 1], n / (wall_us / 1e6),
           failures);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN [CA_FILE|-] [N] [THREADS]\n", argv[0]);
        return 2;
    }
    int n = argc > 6 ? atoi(argv[6]) : 5000;
    int threads = argc > 7 ? atoi(argv[7]) : 4;
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = argv[1];
    o.port = atoi(argv[2]);
    o.project = argv[3];
    o.token = argv[4];
    if (argc > 5 && strcmp(argv[5], "-") != 0)
        o.ca_file = argv[5];
    else
        o.plain_ws = 1;
    relay_client *c = NULL;
    if (relay_client_new(&o, &c) != RELAY_OK || relay_client_connect(c) != RELAY_OK) {
        fprintf(stderr, "cannot connect\n");
        relay_client_free(c);
        return 1;
    }
    /* warm-up */
    for (int i = 0; i < 200; i++)
        relay_client_execute(c, "signalwire.ping", "{}", NULL);

    job one = {c, n, calloc((size_t)n, sizeof(double)), 0};
    double t0 = now_us();
    run(&one);
    report("1 thread, sequential", one.samples, n, now_us() - t0, one.failures);

    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    int per = n / threads;
    t0 = now_us();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){c, per, calloc((size_t)per, sizeof(double)), 0};
        pthread_create(&tids[t], NULL, run, &jobs[t]);
    }
    double *all = calloc((size_t)(per * threads), sizeof(double));
    int failures = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        memcpy(all + t * per, jobs[t].samples, (size_t)per * sizeof(double));
        failures += jobs[t].failures;
        free(jobs[t].samples);
    }
    double wall = now_us() - t0;
    char label[32];
    snprintf(label, sizeof label, "%d threads, concurrent", threads);
    report(label, all, per * threads, wall, failures);
    free(all);
    free(jobs);
    free(tids);
    free(one.samples);
    relay_client_free(c);
    return 0;
}
