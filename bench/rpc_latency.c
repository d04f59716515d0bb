/*
 * RPC round-trip latency and throughput, librelay → relayd over a real
 * WebSocket: N blocking signalwire.ping requests from one thread, then the
 * same from T threads at once, then N pipelined requests with WINDOW in
 * flight at once on the one connection (the callback form,
 * relay_client_execute_async: each answer sends the next request).
 * Prints percentiles and the process's CPU per request; asserts nothing.
 *
 *   rpc_latency HOST PORT PROJECT TOKEN [CA_FILE|-] [N] [THREADS] [WINDOW]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <relay/relay.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
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

static void report(const char *label, double *s, int n, double wall_us, double cpu, int failures)
{
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    printf("%-22s n=%d  p50=%.0f us  p90=%.0f us  p99=%.0f us  max=%.0f us  %.0f req/s  "
           "cpu=%.1f us/req  failures=%d\n",
           label, n, s[n / 2], s[n * 9 / 10], s[n * 99 / 100], s[n - 1], n / (wall_us / 1e6),
           cpu / n, failures);
}

/* Pipelined: WINDOW requests in flight; each answer (on a delivery
 * thread) records its latency and sends the next one. */
typedef struct pipe_state {
    relay_client *client;
    int total, sent, done, failures;
    double *sent_at; /* by sequence number */
    double *samples;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} pipe_state;

typedef struct pipe_req {
    pipe_state *p;
    int seq;
} pipe_req;

static void pipe_send_next(pipe_state *p);

static void on_pipe_answer(relay_status st, relay_result *res, void *user)
{
    (void)res;
    pipe_req *r = user;
    pipe_state *p = r->p;
    double t = now_us();
    pthread_mutex_lock(&p->lock);
    p->samples[p->done++] = t - p->sent_at[r->seq];
    if (st != RELAY_OK)
        p->failures++;
    if (p->done == p->total)
        pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    free(r);
    pipe_send_next(p);
}

static void pipe_send_next(pipe_state *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->sent == p->total) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    int seq = p->sent++;
    p->sent_at[seq] = now_us();
    pthread_mutex_unlock(&p->lock);
    pipe_req *r = malloc(sizeof *r);
    if (r)
        *r = (pipe_req){p, seq};
    if (!r || relay_client_execute_async(p->client, "signalwire.ping", "{}", on_pipe_answer, r) !=
                  RELAY_OK) {
        free(r);
        pthread_mutex_lock(&p->lock);
        p->failures++;
        p->samples[p->done++] = 0;
        if (p->done == p->total)
            pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

static void run_pipelined(relay_client *c, int n, int window)
{
    pipe_state p = {.client = c, .total = n};
    p.sent_at = calloc((size_t)n, sizeof(double));
    p.samples = calloc((size_t)n, sizeof(double));
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    double t0 = now_us(), c0 = cpu_us();
    for (int i = 0; i < window && i < n; i++)
        pipe_send_next(&p);
    pthread_mutex_lock(&p.lock);
    while (p.done < p.total)
        pthread_cond_wait(&p.cond, &p.lock);
    pthread_mutex_unlock(&p.lock);
    char label[40];
    snprintf(label, sizeof label, "pipelined, %d in flight", window);
    report(label, p.samples, n, now_us() - t0, cpu_us() - c0, p.failures);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.lock);
    free(p.sent_at);
    free(p.samples);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN [CA_FILE|-] [N] [THREADS] [WINDOW]\n",
                argv[0]);
        return 2;
    }
    int n = argc > 6 ? atoi(argv[6]) : 5000;
    int threads = argc > 7 ? atoi(argv[7]) : 4;
    int window = argc > 8 ? atoi(argv[8]) : 256;
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
    double t0 = now_us(), c0 = cpu_us();
    run(&one);
    report("1 thread, sequential", one.samples, n, now_us() - t0, cpu_us() - c0, one.failures);

    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    int per = n / threads;
    t0 = now_us();
    c0 = cpu_us();
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
    report(label, all, per * threads, wall, cpu_us() - c0, failures);
    free(all);
    free(jobs);
    free(tids);
    free(one.samples);
    if (window > 0)
        run_pipelined(c, n * 4, window);
    relay_client_free(c);
    return 0;
}
