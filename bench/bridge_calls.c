/*
 * The client side of bench/bridged_calls.sh: answers every inbound call on
 * context "bench" and connects it to PEER (a sip: URI) with calling.connect,
 * through the public librelay API only, so relayd bridges the two legs'
 * RTP for as long as the caller stays. Runs until SIGINT/SIGTERM, then
 * prints how many calls it answered and how many connects relayd accepted.
 *
 *   bridge_calls HOST PORT PROJECT TOKEN PEER
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay.h"

static relay_client *client;
static atomic_int answered, connecting, failed;
static char devices[512];

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
    relay_connect_params p = {.devices_json = devices};
    relay_action *a = NULL;
    /* connect_async: the handler returns at once; the bridge lasts until a
     * side hangs up, and nobody here needs its outcome. */
    if (relay_call_connect_async(call, &p, &a) == RELAY_OK)
        atomic_fetch_add(&connecting, 1);
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
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT PROJECT TOKEN PEER\n", argv[0]);
        return 2;
    }
    snprintf(devices, sizeof devices,
             "[[{\"type\":\"sip\",\"params\":{\"to\":\"%s\",\"from\":\"sip:bench@127.0.0.1\"}}]]",
             argv[5]);
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
    printf("answered %d connecting %d failed %d\n", atomic_load(&answered),
           atomic_load(&connecting), atomic_load(&failed));
    return 0;
}
