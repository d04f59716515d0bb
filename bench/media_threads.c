/*
 * The client side of bench/media_threads.sh: answers every inbound call on
 * context "bench" and plays silence on it for PLAY_SECONDS, through the
 * public librelay API only; with a sixth argument `record` it also records
 * each call, both directions as two channels, until the call ends. Runs
 * until SIGINT/SIGTERM, then prints how many calls it answered and how many
 * plays (and records) relayd accepted.
 *
 *   media_threads HOST PORT PROJECT TOKEN PLAY_SECONDS [record]
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay.h"

static relay_client *client;
static atomic_int answered, playing, recording, failed;
static double play_seconds;
static int record_too;

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_result *res = NULL;
    if (relay_call_answer(call, &res) != RELAY_OK) {
        atomic_fetch_add(&failed, 1);
        relay_result_free(res);
        return;
    }
    relay_result_free(res);
    atomic_fetch_add(&answered, 1);
    relay_media silence = {.type = "silence", .duration = play_seconds};
    relay_play_params params = {0};
    relay_action *a = NULL;
    /* play_async: the handler returns at once, so a few workers serve
     * every call; the action is refcounted and may be freed now. */
    if (relay_call_play_async(call, &silence, 1, &params, &a) == RELAY_OK)
        atomic_fetch_add(&playing, 1);
    else
        atomic_fetch_add(&failed, 1);
    relay_action_free(a);
    if (!record_too)
        return;
    /* No timeouts: the recording runs as long as the call, whatever the
     * caller streams, so every call records for the whole measurement. */
    relay_record_params rp = {.audio_json = "{\"direction\":\"both\",\"stereo\":true,"
                                            "\"format\":\"wav\",\"initial_timeout\":0,"
                                            "\"end_silence_timeout\":0}"};
    a = NULL;
    if (relay_call_record_async(call, &rp, &a) == RELAY_OK)
        atomic_fetch_add(&recording, 1);
    else
        atomic_fetch_add(&failed, 1);
    relay_action_free(a);
}

static void on_signal(int sig)
{
    (void)sig;
    relay_client_stop(client);
}

int main(int argc, char **argv)
{
    if (argc != 6 && !(argc == 7 && strcmp(argv[6], "record") == 0)) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN PLAY_SECONDS [record]\n", argv[0]);
        return 2;
    }
    play_seconds = atof(argv[5]);
    record_too = argc == 7;
    static const char *const contexts[] = {"bench", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = argv[1];
    o.port = atoi(argv[2]);
    o.project = argv[3];
    o.token = argv[4];
    o.contexts = contexts;
    o.plain_ws = 1;
    o.workers = 8;
    o.request_timeout_ms = 30000;
    if (relay_client_new(&o, &client) != RELAY_OK)
        return 1;
    relay_client_on_call(client, on_call, NULL);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    relay_status st = relay_client_connect(client);
    if (st != RELAY_OK) {
        fprintf(stderr, "connect: %s\n", relay_strerror(st));
        relay_client_free(client);
        return 1;
    }
    printf("connected\n");
    fflush(stdout);
    relay_client_run(client);
    relay_client_free(client);
    printf("answered %d playing %d recording %d failed %d\n", atomic_load(&answered),
           atomic_load(&playing), atomic_load(&recording), atomic_load(&failed));
    return 0;
}
