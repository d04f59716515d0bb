/*
 * send_message: send one message and wait until it is delivered or not.
 *
 *   send_message --to +15559870000 --from +15551230000 --body "Hello" \
 *                --context office [--plain]
 *
 * Connection from the environment, as the other examples:
 *   SIGNALWIRE_SPACE         host[:port] of the RELAY server
 *   SIGNALWIRE_PROJECT_ID    project id
 *   SIGNALWIRE_API_TOKEN     API token (or SIGNALWIRE_TOKEN)
 *   SIGNALWIRE_RELAY_CA_FILE CA bundle to verify the server with (optional)
 *   SIGNALWIRE_LOG_LEVEL     error, warn (default), info or debug
 * --plain speaks ws:// without TLS (a relayd on loopback started --plain).
 * With relayd, --to and --from may be sip: URIs as well as numbers.
 *
 * Prints "message <id>: <state>" (and the reason when not delivered);
 * exits 0 when delivered, 1 when not, 2 on a usage or connection error.
 */
#include <relay/relay.h>

#include <stdio.h>
#include <string.h>

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --to NUMBER|URI --from NUMBER|URI --body TEXT --context NAME [--plain]\n",
            prog);
    return 2;
}

int main(int argc, char **argv)
{
    relay_message_params p = {0};
    int plain = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--plain") == 0) {
            plain = 1;
            continue;
        }
        if (!v)
            return usage(argv[0]);
        if (strcmp(a, "--to") == 0)
            p.to_number = v;
        else if (strcmp(a, "--from") == 0)
            p.from_number = v;
        else if (strcmp(a, "--body") == 0)
            p.body = v;
        else if (strcmp(a, "--context") == 0)
            p.context = v;
        else
            return usage(argv[0]);
        i++;
    }
    if (!p.to_number || !p.from_number || !p.body || !p.context)
        return usage(argv[0]);

    relay_client_options opts;
    relay_client_options_init(&opts);
    if (relay_client_options_from_env(&opts) != RELAY_OK) {
        fprintf(stderr, "environment: %s\n", relay_last_error());
        return 2;
    }
    opts.plain_ws = plain;
    relay_client *client = NULL;
    if (relay_client_new(&opts, &client) != RELAY_OK) {
        fprintf(stderr, "options: %s\n", relay_last_error());
        return 2;
    }
    relay_status st = relay_client_connect(client);
    if (st != RELAY_OK) {
        fprintf(stderr, "connect: %s %s\n", relay_strerror(st), relay_last_error());
        relay_client_free(client);
        return 2;
    }

    relay_message *msg = NULL;
    st = relay_client_send_message(client, &p, &msg);
    if (st != RELAY_OK) {
        printf("refused: %s (%s)\n", relay_strerror(st), relay_last_error());
        relay_client_free(client);
        return 1;
    }
    /* queued and sent come first; wait for what the far end said */
    st = relay_message_wait(msg, 60000, NULL);
    printf("message %s: %s", relay_message_id(msg), relay_message_state(msg));
    if (st != RELAY_OK)
        printf(" (%s)", relay_message_reason(msg)[0] ? relay_message_reason(msg)
                                                       : relay_strerror(st));
    printf("\n");
    relay_message_free(msg);
    relay_client_free(client);
    return st == RELAY_OK ? 0 : 1;
}
