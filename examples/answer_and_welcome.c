/*
 * answer_and_welcome: answer each inbound call, say "Welcome to librelay"
 * and hang up. The C form of the Python SDK's first example:
 *
 *   async def on_incoming_call(call):
 *       await call.answer()
 *       await call.play_tts(text='Welcome to librelay')
 *       await call.hangup()
 *
 * Settings come from the environment (relay_client_options_from_env):
 *   SIGNALWIRE_SPACE         host[:port] of the RELAY server
 *   SIGNALWIRE_PROJECT_ID    project id
 *   SIGNALWIRE_API_TOKEN     API token (or SIGNALWIRE_TOKEN)
 *   SIGNALWIRE_CONTEXTS      contexts to take calls on, comma-separated
 *   SIGNALWIRE_RELAY_CA_FILE CA bundle to verify the server with (optional)
 *   SIGNALWIRE_LOG_LEVEL     error, warn (default), info or debug
 *
 * Usage: answer_and_welcome [--context NAME] [--plain] [--once]
 *   --context NAME  take calls on NAME (instead of SIGNALWIRE_CONTEXTS;
 *                   "office" when neither is given)
 *   --plain         ws:// without TLS: a local relayd started with --plain
 *   --once          handle one call, then exit (0 if every step succeeded)
 *
 * Otherwise runs until SIGINT or SIGTERM, reconnecting as needed.
 */
#include <relay/relay.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static relay_client *client;
static int once;
static volatile int call_failed;

static void on_signal(int sig)
{
    (void)sig;
    relay_client_stop(client); /* async-signal-safe */
}

/* One line per step; on failure, why. Returns 1 when st is RELAY_OK. */
static int report(relay_call *call, const char *step, relay_status st)
{
    if (st == RELAY_OK) {
        printf("call %s: %s\n", relay_call_id(call), step);
        return 1;
    }
    const char *detail = relay_last_error(); /* thread-local: read it first */
    printf("call %s: %s failed: %s %s\n", relay_call_id(call), step, relay_strerror(st),
           detail);
    call_failed = 1;
    return 0;
}

/* Every change of the connection (a delivery thread). */
static void on_connection(relay_client *c, const relay_connection_event *ev, void *user)
{
    (void)c;
    (void)user;
    if (ev->state == RELAY_CONNECTION_DISCONNECTED)
        printf("connection: %s (%s), retrying in %d ms\n", ev->state_name, ev->reason,
               ev->retry_in_ms);
    else
        printf("connection: %s%s%s\n", ev->state_name, *ev->reason ? ": " : "", ev->reason);
}

/* Runs on a worker thread for each inbound call: blocking is fine here. */
static void on_call(relay_call *call, void *user)
{
    (void)user;
    printf("call %s: from %s to %s (context %s)\n", relay_call_id(call), relay_call_from(call),
           relay_call_to(call), relay_call_context(call));

    if (report(call, "answered", relay_call_answer(call, NULL))) {
        report(call, "played welcome", relay_call_play_tts(call, "Welcome to librelay", NULL));
        if (report(call, "hung up", relay_call_hangup(call, NULL, NULL)))
            report(call, "ended", relay_call_wait_for(call, RELAY_CALL_ENDED, 10000));
    }

    if (once)
        relay_client_stop(client); /* run() returns; main frees the client */
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--context NAME] [--plain] [--once]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, also into a pipe */

    relay_client_options opts;
    relay_client_options_init(&opts);
    relay_status st = relay_client_options_from_env(&opts);
    if (st != RELAY_OK) {
        fprintf(stderr, "environment: %s: %s\n", relay_strerror(st), relay_last_error());
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
            opts.contexts_csv = argv[++i];
        else if (strcmp(argv[i], "--plain") == 0)
            opts.plain_ws = 1;
        else if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else
            return usage(argv[0]);
    }
    if (!opts.contexts_csv)
        opts.contexts_csv = "office";

    st = relay_client_new(&opts, &client);
    if (st != RELAY_OK) {
        fprintf(stderr, "cannot create the client: %s: %s\n", relay_strerror(st),
                relay_last_error());
        return 2;
    }
    if ((st = relay_client_on_connection_state(client, on_connection, NULL)) != RELAY_OK ||
        (st = relay_client_on_call(client, on_call, NULL)) != RELAY_OK) {
        fprintf(stderr, "cannot register handlers: %s: %s\n", relay_strerror(st),
                relay_last_error());
        relay_client_free(client);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("taking calls on %s at %s\n", opts.contexts_csv, opts.host ? opts.host : "?");
    st = relay_client_run(client); /* connects, then blocks until relay_client_stop() */
    if (st != RELAY_OK)
        fprintf(stderr, "run: %s: %s\n", relay_strerror(st), relay_last_error());
    printf("stopping\n");
    relay_client_free(client);
    return st != RELAY_OK || call_failed ? 1 : 0;
}
