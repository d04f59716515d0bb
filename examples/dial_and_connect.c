/*
 * dial_and_connect: place a call, and when it is answered connect it to a
 * second party, with a ringback tone while the second party rings. The C
 * form of the Python SDK's
 *
 *   call = await client.dial([[{"type": "sip", "params": {"to": TO, "from": FROM}}]])
 *   action = await call.connect([[{"type": "sip", "params": {"to": PEER, ...}}]],
 *                               ringback=[{"type": "ringtone", "params": {"name": "us"}}])
 *   await action.wait()
 *
 * The bridge lasts until one side hangs up (or --seconds pass); then the
 * example hangs up whichever leg is still there (a bridge ends neither).
 *
 * Settings come from the environment (relay_client_options_from_env):
 * SIGNALWIRE_SPACE, SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN,
 * SIGNALWIRE_RELAY_CA_FILE, SIGNALWIRE_LOG_LEVEL.
 *
 * Usage: dial_and_connect --to URI --peer URI [--from URI] [--seconds N] [--plain]
 *   --to URI      the first party, e.g. sip:alice@example.com
 *   --peer URI    who to connect it to, e.g. sip:bob@example.com
 *   --from URI    the caller id to present (default sip:relay@localhost)
 *   --seconds N   hang up after N seconds of bridge (default: when a side leaves)
 *   --plain       ws:// without TLS: a local relayd started with --plain
 * Exits 0 when the bridge was made and ended cleanly.
 */
#include <relay/relay.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The connect's end: the peer left, or the bridge was undone. */
static int bridge_over(const relay_event *ev, void *user)
{
    (void)user;
    return ev->state && (strcmp(ev->state, "disconnected") == 0 ||
                         strcmp(ev->state, "failed") == 0);
}

static int fail(const char *what, relay_status st)
{
    const char *detail = relay_last_error(); /* thread-local: read it first */
    printf("%s failed: %s %s\n", what, relay_strerror(st), detail);
    return 1;
}

/* A device list: one group of one sip device. */
static char *sip_devices(const char *to, const char *from)
{
    size_t n = strlen(to) + strlen(from) + 96;
    char *json = malloc(n);
    if (json)
        snprintf(json, n, "[[{\"type\":\"sip\",\"params\":{\"to\":\"%s\",\"from\":\"%s\"}}]]", to,
                 from);
    return json;
}

static int bridge(relay_client *c, const char *to, const char *peer, const char *from,
                  int seconds)
{
    char *first = sip_devices(to, from), *second = sip_devices(peer, from);
    relay_call *call = NULL;
    relay_result *res = NULL;
    int rc = 1;
    if (!first || !second)
        goto out;

    relay_dial_params dp = {.devices_json = first, .timeout_ms = 30000};
    relay_status st = relay_client_dial(c, &dp, &call, &res);
    if (st != RELAY_OK) {
        rc = fail("dial", st);
        goto out;
    }
    printf("dialled: %s answered (call %s)\n", to, relay_call_id(call));
    relay_result_free(res);
    res = NULL;

    relay_connect_params cp = {
        .devices_json = second,
        .ringback_json = "[{\"type\":\"ringtone\",\"params\":{\"name\":\"us\"}}]",
    };
    st = relay_call_connect(call, &cp, &res); /* waits for connected or failed */
    if (st != RELAY_OK || relay_result_call_gone(res)) {
        rc = fail("connect", st == RELAY_OK ? RELAY_ERR_STATE : st);
        relay_call_hangup(call, NULL, NULL);
        goto out;
    }
    const char *peer_id = relay_result_get(res, "peer.call_id");
    const char *peer_node = relay_result_get(res, "peer.node_id");
    char end_peer[320];
    snprintf(end_peer, sizeof end_peer, "{\"node_id\":\"%s\",\"call_id\":\"%s\"}",
             peer_node ? peer_node : relay_call_node_id(call), peer_id ? peer_id : "");
    printf("connected: %s <-> %s (peer call %s)\n", to, peer, peer_id ? peer_id : "?");

    /* Until a side leaves ("disconnected") or the time is up. */
    relay_result *end = NULL;
    st = relay_call_wait_for_event(call, RELAY_EVENT_CALL_CONNECT, bridge_over, NULL,
                                   seconds > 0 ? seconds * 1000 : 0, &end);
    if (st == RELAY_OK)
        printf("bridge over: %s\n", relay_result_get(end, "connect_state"));
    else if (st == RELAY_ERR_TIMEOUT)
        printf("bridge over: %d s passed\n", seconds);
    else
        printf("bridge over: %s hung up\n", to);
    relay_result_free(end);

    /* A bridge ends no leg by itself: hang up whichever is still there (a
     * leg already gone answers 404, which is RELAY_OK with call_gone). */
    if (peer_id && (st = relay_client_execute(c, "calling.end", end_peer, NULL)) != RELAY_OK) {
        rc = fail("hanging up the peer", st);
        goto out;
    }
    if (relay_call_get_state(call) < RELAY_CALL_ENDING) {
        st = relay_call_hangup(call, NULL, NULL);
        if (st != RELAY_OK) {
            rc = fail("hangup", st);
            goto out;
        }
    }
    st = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    printf("ended: call %s\n", relay_call_id(call));
    rc = st == RELAY_OK ? 0 : 1;
out:
    relay_result_free(res);
    relay_call_unref(call);
    free(first);
    free(second);
    return rc;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --to URI --peer URI [--from URI] [--seconds N] [--plain]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    relay_client_options opts;
    relay_client_options_init(&opts);
    relay_status st = relay_client_options_from_env(&opts);
    if (st != RELAY_OK) {
        fprintf(stderr, "environment: %s: %s\n", relay_strerror(st), relay_last_error());
        return 2;
    }
    const char *to = NULL, *peer = NULL, *from = "sip:relay@localhost";
    int seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc)
            peer = argv[++i];
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--plain") == 0)
            opts.plain_ws = 1;
        else
            return usage(argv[0]);
    }
    /* the URIs go into JSON as they are: refuse what would need escaping */
    if (!to || !peer || strpbrk(to, "\"\\") || strpbrk(peer, "\"\\") || strpbrk(from, "\"\\"))
        return usage(argv[0]);

    relay_client *c = NULL;
    st = relay_client_new(&opts, &c);
    if (st != RELAY_OK) {
        fprintf(stderr, "cannot create the client: %s: %s\n", relay_strerror(st),
                relay_last_error());
        return 2;
    }
    st = relay_client_connect(c);
    int rc = st == RELAY_OK ? bridge(c, to, peer, from, seconds) : fail("connecting", st);
    relay_client_free(c);
    return rc;
}
