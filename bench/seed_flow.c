/*
 * The application of bench/seed_flow.sh, the seed flow under load: answer
 * every inbound call on CONTEXT, play PLAY_SECONDS of silence, refer the
 * call to TARGET (a SIP URI), hang up once the transfer has an outcome.
 * Every step is the callback form of a request, so a few threads carry
 * every call.
 *
 *   seed_flow HOST PORT PROJECT TOKEN CONTEXT PLAY_SECONDS TARGET
 *
 * Prints "connected" once the session is up. On SIGUSR2 (and at exit)
 * prints "step answered=A refer_ok=O refer_failed=F failed=X
 * refer_p50_us=P refer_p99_us=Q" for the calls since the previous line:
 * the refer latency runs from sending calling.refer to the action's
 * completion (relayd's REFER, the 202, the final NOTIFY and its event).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/relay.h"

#define MAX_SAMPLES (1 << 20)

static atomic_int answered, refer_ok, refer_failed, failed;
static volatile sig_atomic_t stop_requested, stats_requested;
static relay_media silence = {.type = "silence"};
static char refer_params[512];

static pthread_mutex_t samples_lock = PTHREAD_MUTEX_INITIALIZER;
static double *samples; /* [samples_lock] refer latencies, microseconds */
static size_t n_samples; /* [samples_lock] */

typedef struct call_ctx {
    relay_call *call; /* ref held until the hangup's answer */
    double refer_sent_us;
} call_ctx;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void finish(call_ctx *cc)
{
    relay_call_unref(cc->call);
    free(cc);
}

static void on_hung_up(relay_status st, relay_result *res, void *user)
{
    (void)res;
    if (st != RELAY_OK)
        atomic_fetch_add(&failed, 1);
    finish(user);
}

static void hang_up(call_ctx *cc)
{
    if (relay_call_hangup_async(cc->call, NULL, on_hung_up, cc) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        finish(cc);
    }
}

static void on_referred(relay_action *a, void *user)
{
    call_ctx *cc = user;
    double took = now_us() - cc->refer_sent_us;
    if (strcmp(relay_action_state(a), "success") == 0) {
        atomic_fetch_add(&refer_ok, 1);
        pthread_mutex_lock(&samples_lock);
        if (n_samples < MAX_SAMPLES)
            samples[n_samples++] = took;
        pthread_mutex_unlock(&samples_lock);
    } else {
        atomic_fetch_add(&refer_failed, 1);
    }
    relay_action_free(a);
    hang_up(cc);
}

/* The start's answer needs nothing: a refused start completes the action
 * too, and on_referred counts it. */
static void on_refer_started(relay_status st, relay_result *res, void *user)
{
    (void)st;
    (void)res;
    (void)user;
}

static void on_played(relay_action *a, void *user)
{
    call_ctx *cc = user;
    relay_action_free(a);
    relay_action *refer = NULL;
    cc->refer_sent_us = now_us();
    if (relay_call_start_async(cc->call, "calling.refer", refer_params, on_refer_started, NULL,
                               &refer) !=
            RELAY_OK ||
        relay_action_on_completed(refer, on_referred, cc) != RELAY_OK) {
        relay_action_free(refer);
        atomic_fetch_add(&refer_failed, 1);
        hang_up(cc);
    }
}

static void on_answered(relay_status st, relay_result *res, void *user)
{
    (void)res;
    call_ctx *cc = user;
    relay_action *a = NULL;
    relay_play_params params = {0};
    if (st != RELAY_OK || relay_call_play_async(cc->call, &silence, 1, &params, &a) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        finish(cc);
        return;
    }
    atomic_fetch_add(&answered, 1);
    if (relay_action_on_completed(a, on_played, cc) != RELAY_OK) {
        relay_action_free(a);
        atomic_fetch_add(&failed, 1);
        hang_up(cc);
    }
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    call_ctx *cc = calloc(1, sizeof *cc);
    if (!cc) {
        atomic_fetch_add(&failed, 1);
        return;
    }
    relay_call_ref(call);
    cc->call = call;
    if (relay_call_answer_async(call, on_answered, cc) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        finish(cc);
    }
}

static void on_signal(int sig)
{
    if (sig == SIGUSR2)
        stats_requested = 1;
    else
        stop_requested = 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One line for the calls since the last one, then starts a new step. */
static void print_step(void)
{
    pthread_mutex_lock(&samples_lock);
    size_t n = n_samples;
    qsort(samples, n, sizeof *samples, cmp_double);
    double p50 = n ? samples[n / 2] : 0, p99 = n ? samples[n * 99 / 100] : 0;
    n_samples = 0;
    pthread_mutex_unlock(&samples_lock);
    printf("step answered=%d refer_ok=%d refer_failed=%d failed=%d refer_p50_us=%.0f "
           "refer_p99_us=%.0f\n",
           atomic_exchange(&answered, 0), atomic_exchange(&refer_ok, 0),
           atomic_exchange(&refer_failed, 0), atomic_exchange(&failed, 0), p50, p99);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN CONTEXT PLAY_SECONDS TARGET\n", argv[0]);
        return 2;
    }
    silence.duration = atof(argv[6]);
    if (strpbrk(argv[7], "\"\\") ||
        snprintf(refer_params, sizeof refer_params,
                 "{\"device\":{\"type\":\"sip\",\"params\":{\"uri\":\"%s\"}}}",
                 argv[7]) >= (int)sizeof refer_params) {
        fprintf(stderr, "TARGET must be a plain SIP URI\n");
        return 2;
    }
    samples = calloc(MAX_SAMPLES, sizeof *samples);
    if (!samples)
        return 1;
    const char *contexts[] = {argv[5], NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = argv[1];
    o.port = atoi(argv[2]);
    o.project = argv[3];
    o.token = argv[4];
    o.contexts = contexts;
    o.plain_ws = 1;
    o.request_timeout_ms = 30000;
    relay_client *client = NULL;
    if (relay_client_new(&o, &client) != RELAY_OK)
        return 1;
    relay_client_on_call(client, on_call, NULL);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    relay_status st = relay_client_connect(client);
    if (st != RELAY_OK) {
        fprintf(stderr, "connect: %s\n", relay_strerror(st));
        relay_client_free(client);
        free(samples);
        return 1;
    }
    printf("connected\n");
    fflush(stdout);
    while (!stop_requested) {
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        if (stats_requested) {
            stats_requested = 0;
            print_step();
        }
    }
    relay_client_free(client);
    print_step();
    free(samples);
    return 0;
}
