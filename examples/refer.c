/*
 * refer: answer each inbound call, tell the caller what is happening, and
 * transfer the call to another SIP endpoint with a SIP REFER.
 *
 *   SIGNALWIRE_SPACE         host[:port] of the RELAY server
 *   SIGNALWIRE_PROJECT_ID    project id
 *   SIGNALWIRE_API_TOKEN     API token (or SIGNALWIRE_TOKEN)
 *   SIGNALWIRE_RELAY_CA_FILE CA bundle to verify the server with (optional)
 *   SIGNALWIRE_CONTEXTS      contexts to take calls on, comma-separated ("office")
 *   REFER_TO / argv[1]       where to transfer ("sip:support@example.com")
 *   REFER_STATUS_URL / argv[2] webhook for refer progress (optional)
 *   RELAY_LOG_LEVEL          error, warn (default), info or debug (every frame)
 *
 * Runs until SIGINT or SIGTERM.
 */
#include <relay/relay.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTEXTS 16
#define REFER_WAIT_MS 60000

static relay_client *client;
static const char *refer_to;
static const char *status_url;

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void on_signal(int sig)
{
    (void)sig;
    relay_client_stop(client); /* async-signal-safe */
}

/* Runs on a delivery thread, in this call's order (never the I/O thread). */
static void on_refer_event(relay_call *call, const relay_refer_event *ev, void *user)
{
    (void)user;
    printf("refer event: call=%s state=%s sip_refer_to=%s sip_refer_response_code=%s "
           "sip_notify_response_code=%s\n",
           relay_call_id(call), ev->state_name, or_dash(ev->sip_refer_to),
           or_dash(ev->sip_refer_response_code), or_dash(ev->sip_notify_response_code));
}

/* Runs on a worker thread for each inbound call: blocking is fine here. */
static void on_call(relay_call *call, void *user)
{
    (void)user;
    printf("call: id=%s from=%s to=%s context=%s\n", relay_call_id(call),
           or_dash(relay_call_from(call)), or_dash(relay_call_to(call)),
           relay_call_context(call));

    relay_status st = relay_call_answer(call, NULL);
    if (st != RELAY_OK) {
        printf("answer failed: %s\n", relay_strerror(st));
        return;
    }
    st = relay_call_play_tts(call, "Transferring to another line.", NULL);
    if (st != RELAY_OK)
        printf("play failed: %s (transferring anyway)\n", relay_strerror(st));

    relay_call_on_refer(call, on_refer_event, NULL); /* before refer: see every event */
    relay_device target = {.type = "sip", .uri = refer_to};
    relay_result *res = NULL;
    st = relay_call_refer(call, &target, status_url, &res);
    printf("refer result: code=%s message=%s status=%s\n", or_dash(relay_result_code(res)),
           or_dash(relay_result_message(res)), relay_strerror(st));
    int gone = relay_result_call_gone(res);
    relay_result_free(res);
    if (gone)
        return; /* the caller hung up meanwhile */
    if (st != RELAY_OK) {
        relay_call_hangup(call, NULL, NULL);
        return;
    }

    res = NULL;
    st = relay_call_wait_refer(call, REFER_WAIT_MS, &res);
    if (st == RELAY_OK)
        printf("refer outcome: call=%s state=%s sip_notify_response_code=%s\n",
               relay_call_id(call), relay_refer_state_name(relay_call_refer_state(call)),
               or_dash(relay_result_get(res, "sip_notify_response_code")));
    else
        printf("refer outcome: call=%s none (%s)\n", relay_call_id(call), relay_strerror(st));
    relay_result_free(res);
}

static relay_log_level log_level_from_env(void)
{
    const char *v = getenv("RELAY_LOG_LEVEL");
    if (!v)
        return RELAY_LOG_WARN;
    if (strcmp(v, "debug") == 0)
        return RELAY_LOG_DEBUG;
    if (strcmp(v, "info") == 0)
        return RELAY_LOG_INFO;
    if (strcmp(v, "error") == 0)
        return RELAY_LOG_ERROR;
    return RELAY_LOG_WARN;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, also into a pipe */

    refer_to = argc > 1 ? argv[1] : getenv("REFER_TO");
    if (!refer_to || !*refer_to)
        refer_to = "sip:support@example.com";
    status_url = argc > 2 ? argv[2] : getenv("REFER_STATUS_URL");

    /* Contexts: "a,b,c" split in place in a copy of the variable. */
    const char *env = getenv("SIGNALWIRE_CONTEXTS");
    char *ctx_buf = strdup(env && *env ? env : "office");
    const char *contexts[MAX_CONTEXTS + 1] = {0};
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(ctx_buf, ",", &save); t && n < MAX_CONTEXTS;
         t = strtok_r(NULL, ",", &save))
        contexts[n++] = t;

    relay_client_options opts;
    relay_client_options_init(&opts);
    relay_client_options_from_env(&opts);
    opts.contexts = contexts;
    opts.log_level = log_level_from_env();
    if (!opts.host || !((opts.project && opts.token) || opts.jwt_token)) {
        fprintf(stderr, "usage: SIGNALWIRE_SPACE=host[:port] SIGNALWIRE_PROJECT_ID=... "
                        "SIGNALWIRE_API_TOKEN=... %s [refer-to-uri [status-url]]\n",
                argv[0]);
        free(ctx_buf);
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
        free(ctx_buf);
        return 1;
    }
    printf("connected to %s; waiting for calls (contexts:", opts.host);
    for (size_t i = 0; i < n; i++)
        printf(" %s", contexts[i]);
    printf("); transfers go to %s\n", refer_to);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    relay_client_run(client);
    printf("stopping\n");
    relay_client_free(client);
    free(ctx_buf);
    return 0;
}
