/*
 * Events librelay receives, acknowledges and dispatches to a handler, per
 * second and per CPU-second, with the in-process fake server of the unit
 * tests (tests/support/fake_relay) as the source: the client side alone,
 * without relayd's cost in the figure.
 *
 *   event_dispatch [EVENTS] [CALLS]
 *
 * The fake offers CALLS inbound calls (calling.call.receive), then sends
 * EVENTS calling.call.play events spread over them (known calls, as in a
 * real session: each goes through the call's ordered strand to the
 * relay_client_on_event handler), as fast as it can. Client CPU is the
 * process's (getrusage) less the fake's thread and this main thread (which
 * queues the frames): their own CPU clocks. What is left is librelay's
 * I/O, acknowledgement and delivery threads.
 * Port: the fake picks one in 55000-55999. Asserts nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fake_relay.h"
#include "relay/relay.h"

static atomic_long delivered;
static long wanted;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void on_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)c;
    (void)ev;
    (void)user;
    if (atomic_fetch_add(&delivered, 1) + 1 == wanted) {
        pthread_mutex_lock(&done_lock);
        pthread_cond_signal(&done_cond);
        pthread_mutex_unlock(&done_lock);
    }
}

int main(int argc, char **argv)
{
    long events = argc > 1 ? atol(argv[1]) : 200000;
    int calls = argc > 2 ? atoi(argv[2]) : 100;
    fake_port_base = 55000;
    void *state = NULL;
    fake_setup(&state);
    fake *f = state;

    static const char *const contexts[] = {"bench", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = f->port;
    o.project = "p";
    o.token = "t";
    o.contexts = contexts;
    o.plain_ws = 1;
    relay_client *c = NULL;
    if (relay_client_new(&o, &c) != RELAY_OK) {
        fake_teardown(&state);
        return 1;
    }
    relay_client_on_event(c, on_event, NULL);
    if (relay_client_connect(c) != RELAY_OK) {
        fprintf(stderr, "cannot connect to the fake\n");
        relay_client_free(c);
        fake_teardown(&state);
        return 1;
    }
    char params[512];
    for (int i = 0; i < calls; i++) {
        snprintf(params, sizeof params,
                 "{\"call_id\":\"call-%d\",\"node_id\":\"n\",\"context\":\"bench\","
                 "\"tag\":\"t%d\",\"direction\":\"inbound\",\"call_state\":\"created\","
                 "\"device\":{\"type\":\"phone\",\"params\":{\"from_number\":\"+1\","
                 "\"to_number\":\"+2\"}}}",
                 i, i);
        fake_event(f, "calling.call.receive", params);
    }
    wanted = events + calls;

    /* Frames built up front: the fake's own cost is kept out of the loop. */
    char **frames = calloc((size_t)events, sizeof *frames);
    for (long i = 0; i < events; i++) {
        char text[512];
        int n = snprintf(text, sizeof text,
                         "{\"jsonrpc\":\"2.0\",\"id\":\"ev-b-%ld\",\"method\":\"signalwire.event\","
                         "\"params\":{\"event_type\":\"calling.call.play\",\"timestamp\":"
                         "1712345678.25,\"params\":{\"call_id\":\"call-%ld\",\"node_id\":\"n\","
                         "\"control_id\":\"ctl-%ld\",\"state\":\"%s\"}}}",
                         i, i % calls, i % calls, (i & 1) ? "finished" : "playing");
        frames[i] = malloc((size_t)n + 1);
        memcpy(frames[i], text, (size_t)n + 1);
    }

    clockid_t fake_clock;
    pthread_getcpuclockid(f->thread, &fake_clock);
    double t0 = now_s(), cpu0 = process_cpu_s(), fake0 = clock_s(fake_clock);
    double main0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < events; i++)
        fake_send(f, frames[i]);
    pthread_mutex_lock(&done_lock);
    while (atomic_load(&delivered) < wanted) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 1;
        pthread_cond_timedwait(&done_cond, &done_lock, &dl);
        if (now_s() - t0 > 120)
            break;
    }
    pthread_mutex_unlock(&done_lock);
    double wall = now_s() - t0;
    double main_cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - main0;
    double client_cpu = (process_cpu_s() - cpu0) - (clock_s(fake_clock) - fake0) - main_cpu;
    long got = atomic_load(&delivered) - calls;
    printf("event_dispatch: %ld events over %d calls, %ld delivered in %.3f s: %.0f events/s; "
           "client CPU %.3f s = %.2f us/event = %.0f events per CPU-second; fake server CPU %.3f s, "
           "sender %.3f s\n",
           events, calls, got, wall, got / wall, client_cpu, client_cpu * 1e6 / got,
           got / client_cpu, clock_s(fake_clock) - fake0, main_cpu);
    relay_client_free(c);
    fake_teardown(&state);
    for (long i = 0; i < events; i++)
        free(frames[i]);
    free(frames);
    return got == events ? 0 : 1;
}
