/*
 * The librelay side of bench/peer.sh: listens on a context, answers every
 * inbound call, plays PLAY_SECONDS of silence, hangs up. Calls to the
 * context CONTEXT-hold play HOLD_SECONDS instead (the memory phase: many
 * calls at once, in the same warm process). The same work as
 * bench/node/answer_play_hangup.js (the official Node.js SDK), against the
 * same relayd and the same sipp load.
 *
 * Written the way an application that wants many calls per thread would:
 * each step is the callback form of a request, so no thread waits on a
 * call and a handful of threads serve every call.
 *
 *   answer_play_hangup HOST PORT PROJECT TOKEN CONTEXT PLAY_SECONDS HOLD_SECONDS
 *
 * Prints "connected" once the session is up. On SIGUSR2 prints one line
 * "stats answered=A hung_up=H failed=F heap_used=B" (B: bytes in use in
 * malloc's arenas, mallinfo2(), every arena summed). Exits on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/relay.h"

static atomic_int answered, hung_up, failed;
static volatile sig_atomic_t stop_requested, stats_requested;
static relay_media silence = {.type = "silence"}, long_silence = {.type = "silence"};
static char hold_context[128];

static void on_hung_up(relay_status st, relay_result *res, void *user)
{
    (void)res;
    relay_call *call = user;
    atomic_fetch_add(st == RELAY_OK ? &hung_up : &failed, 1);
    relay_call_unref(call); /* the reference on_call took */
}

static void on_played(relay_action *a, void *user)
{
    relay_call *call = user;
    relay_action_free(a); /* the queued callback holds its own reference */
    if (relay_call_hangup_async(call, NULL, on_hung_up, call) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        relay_call_unref(call);
    }
}

static void on_answered(relay_status st, relay_result *res, void *user)
{
    (void)res;
    relay_call *call = user;
    relay_action *a = NULL;
    relay_play_params params = {0};
    const relay_media *m =
        strcmp(relay_call_context(call), hold_context) == 0 ? &long_silence : &silence;
    if (st != RELAY_OK || relay_call_play_async(call, m, 1, &params, &a) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        relay_call_unref(call);
        return;
    }
    atomic_fetch_add(&answered, 1);
    if (relay_action_on_completed(a, on_played, call) != RELAY_OK) {
        relay_action_free(a);
        atomic_fetch_add(&failed, 1);
        relay_call_unref(call);
    }
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_ref(call); /* kept until the hangup's answer */
    if (relay_call_answer_async(call, on_answered, call) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        relay_call_unref(call);
    }
}

static void on_signal(int sig)
{
    if (sig == SIGUSR2)
        stats_requested = 1;
    else
        stop_requested = 1;
}

static void print_stats(void)
{
    struct mallinfo2 mi = mallinfo2();
    printf("stats answered=%d hung_up=%d failed=%d heap_used=%zu\n", atomic_load(&answered),
           atomic_load(&hung_up), atomic_load(&failed), mi.uordblks + mi.hblkhd);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN CONTEXT PLAY_SECONDS HOLD_SECONDS\n",
                argv[0]);
        return 2;
    }
    silence.duration = atof(argv[6]);
    long_silence.duration = atof(argv[7]);
    snprintf(hold_context, sizeof hold_context, "%s-hold", argv[5]);
    const char *contexts[] = {argv[5], hold_context, NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = argv[1];
    o.port = atoi(argv[2]);
    o.project = argv[3];
    o.token = argv[4];
    o.contexts = contexts;
    o.plain_ws = 1; /* as the Node peer: both on ws:// so TLS costs neither */
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
        return 1;
    }
    printf("connected\n");
    fflush(stdout);
    /* The library's threads do the work; this one only answers signals. */
    while (!stop_requested) {
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        if (stats_requested) {
            stats_requested = 0;
            print_stats();
        }
    }
    print_stats();
    relay_client_free(client);
    return 0;
}
