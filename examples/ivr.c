/*
 * ivr: answer each inbound call, ask the caller to press a key
 * (calling.play_and_collect: a spoken prompt that a key press cuts short),
 * say what was chosen, and hang up.
 *
 *   SIGNALWIRE_SPACE         host[:port] of the RELAY server
 *   SIGNALWIRE_PROJECT_ID    project id
 *   SIGNALWIRE_API_TOKEN     API token (or SIGNALWIRE_TOKEN)
 *   SIGNALWIRE_RELAY_CA_FILE CA bundle to verify the server with (optional)
 *   SIGNALWIRE_CONTEXTS      contexts to take calls on, comma-separated ("office")
 *   SIGNALWIRE_LOG_LEVEL     error, warn (default), info or debug (every frame)
 *
 * Prints "pressed: <digit>" (or "no input") for each call. Runs until
 * SIGINT or SIGTERM.
 */
#include <relay/relay.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT "Press 1 for sales, 2 for support."
/* One key; 10 s to start pressing once the prompt has ended. */
#define COLLECT "{\"digits\":{\"max\":1,\"digit_timeout\":5},\"initial_timeout\":10}"

static relay_client *client;

static void on_signal(int sig)
{
    (void)sig;
    relay_client_stop(client); /* async-signal-safe */
}

static const char *choice_text(const char *digits)
{
    if (strcmp(digits, "1") == 0)
        return "You chose sales. Goodbye.";
    if (strcmp(digits, "2") == 0)
        return "You chose support. Goodbye.";
    return "That is not an option. Goodbye.";
}

/* Runs on a worker thread for each inbound call: blocking is fine here. */
static void on_call(relay_call *call, void *user)
{
    (void)user;
    printf("call: id=%s from=%s\n", relay_call_id(call),
           relay_call_from(call) ? relay_call_from(call) : "-");
    relay_status st = relay_call_answer(call, NULL);
    if (st != RELAY_OK) {
        printf("answer failed: %s\n", relay_strerror(st));
        return;
    }
    relay_result *res = NULL;
    st = relay_call_prompt_tts(call, PROMPT, COLLECT, 0, &res);
    int gone = relay_result_call_gone(res);
    /* the collect result: {"result": {"type": "digit", "params": {"digits": "1"}}} */
    const char *pressed = relay_result_get(res, "result.params.digits");
    char digits[16];
    snprintf(digits, sizeof digits, "%s", pressed ? pressed : "");
    relay_result_free(res);
    if (st != RELAY_OK || gone) {
        printf("prompt failed: %s\n", gone ? "the caller hung up" : relay_strerror(st));
        if (!gone)
            relay_call_hangup(call, NULL, NULL);
        return;
    }
    if (digits[0])
        printf("pressed: %s\n", digits);
    else
        printf("no input\n");
    st = relay_call_play_tts(call, digits[0] ? choice_text(digits) : "Goodbye.", NULL);
    if (st != RELAY_OK)
        printf("play failed: %s\n", relay_strerror(st));
    relay_call_hangup(call, NULL, NULL);
    printf("hung up: id=%s\n", relay_call_id(call));
}

int main(int argc, char **argv)
{
    (void)argc;
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, also into a pipe */

    relay_client_options opts;
    relay_client_options_init(&opts);
    if (relay_client_options_from_env(&opts) != RELAY_OK) {
        fprintf(stderr, "%s\n", relay_last_error());
        return 2;
    }
    if (!opts.contexts_csv)
        opts.contexts_csv = "office";
    if (!opts.host || !((opts.project && opts.token) || opts.jwt_token)) {
        fprintf(stderr, "usage: SIGNALWIRE_SPACE=host[:port] SIGNALWIRE_PROJECT_ID=... "
                        "SIGNALWIRE_API_TOKEN=... %s\n",
                argv[0]);
        return 2;
    }

    relay_status st = relay_client_new(&opts, &client);
    if (st == RELAY_OK)
        st = relay_client_on_call(client, on_call, NULL);
    if (st == RELAY_OK)
        st = relay_client_connect(client);
    if (st != RELAY_OK) {
        fprintf(stderr, "cannot connect to %s: %s\n", opts.host, relay_strerror(st));
        relay_client_free(client);
        return 1;
    }
    printf("connected to %s; waiting for calls (contexts: %s)\n", opts.host, opts.contexts_csv);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    relay_client_run(client);
    printf("stopping\n");
    relay_client_free(client);
    return 0;
}
