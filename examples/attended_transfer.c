/*
 * attended_transfer: the caller is put on hold while the application
 * consults an agent; only if the agent accepts (presses 1) is the caller
 * connected to them. Otherwise the caller hears that nobody is available.
 * In the Python SDK's terms:
 *
 *   await call.answer()
 *   hold = await call.play_ringtone("us")                  # while we consult
 *   agent = await client.dial([[{"type": "sip", "params": {"to": AGENT}}]])
 *   r = await (await agent.prompt_tts("Transfer from ... press 1", collect)).wait()
 *   await agent.hangup()
 *   await hold.stop()
 *   if accepted: await (await call.connect([[{"type": "sip", ...AGENT}]])).wait()
 *
 * This is the consult-then-bridge form: the caller is bridged to the agent
 * through the RELAY server (calling.connect). The SIP form (a REFER whose
 * Refer-To carries Replaces) needs server support this example does not
 * assume.
 *
 * Settings come from the environment (relay_client_options_from_env).
 * Usage: attended_transfer --agent URI [--context NAME] [--from URI] [--plain] [--once]
 * With --once it exits after the first call: 0 when the caller was
 * connected to the agent and both legs ended cleanly.
 */
#include <relay/relay.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static relay_client *client;
static const char *agent_uri, *from_uri = "sip:relay@localhost";
static int once;
static volatile int outcome = 1; /* 0: transferred */

static void on_signal(int sig)
{
    (void)sig;
    relay_client_stop(client);
}

static int ok(const char *step, relay_status st)
{
    if (st == RELAY_OK) {
        printf("%s\n", step);
        return 1;
    }
    const char *detail = relay_last_error();
    printf("%s failed: %s %s\n", step, relay_strerror(st), detail);
    return 0;
}

static char *agent_devices(void)
{
    size_t n = strlen(agent_uri) + strlen(from_uri) + 96;
    char *json = malloc(n);
    if (json)
        snprintf(json, n, "[[{\"type\":\"sip\",\"params\":{\"to\":\"%s\",\"from\":\"%s\"}}]]",
                 agent_uri, from_uri);
    return json;
}

/* Dials the agent and asks; 1 when they pressed 1. The consult call is
 * hung up either way. */
static int agent_accepts(const char *devices)
{
    relay_dial_params dp = {.devices_json = devices, .timeout_ms = 30000};
    relay_call *agent = NULL;
    if (!ok("consult: agent answered", relay_client_dial(client, &dp, &agent, NULL)))
        return 0;
    relay_result *res = NULL;
    relay_status st = relay_call_prompt_tts(
        agent, "You have a transfer. Press 1 to accept.",
        "{\"digits\":{\"max\":1,\"digit_timeout\":5},\"initial_timeout\":10}", 0, &res);
    const char *digits = relay_result_get(res, "result.params.digits");
    int yes = st == RELAY_OK && digits && strcmp(digits, "1") == 0;
    printf("consult: agent %s\n", yes ? "accepted" : "declined");
    relay_result_free(res);
    ok("consult: hung up", relay_call_hangup(agent, NULL, NULL));
    relay_call_wait_for(agent, RELAY_CALL_ENDED, 10000);
    relay_call_unref(agent);
    return yes;
}

/* The bridge's end: the agent left, or the bridge failed. */
static int bridge_over(const relay_event *ev, void *user)
{
    (void)user;
    return ev->state && (strcmp(ev->state, "disconnected") == 0 ||
                         strcmp(ev->state, "failed") == 0);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    printf("call from %s\n", relay_call_from(call));
    char *devices = agent_devices();
    relay_action *hold = NULL;
    if (!devices || !ok("answered", relay_call_answer(call, NULL)))
        goto out;
    relay_call_play_ringtone_async(call, "us", 0, &hold); /* hold tone while we consult */

    int accepted = agent_accepts(devices);
    if (hold) {
        relay_action_stop(hold, NULL);
        relay_action_wait(hold, 5000, NULL);
    }
    if (!accepted) {
        relay_call_play_tts(call, "Sorry, nobody is available. Goodbye.", NULL);
        ok("hung up", relay_call_hangup(call, NULL, NULL));
        goto out;
    }

    relay_connect_params cp = {.devices_json = devices};
    relay_result *res = NULL;
    relay_status st = relay_call_connect(call, &cp, &res);
    char peer[128] = "", node[128] = "";
    if (st == RELAY_OK && !relay_result_call_gone(res)) {
        const char *p = relay_result_get(res, "peer.call_id");
        const char *n = relay_result_get(res, "peer.node_id");
        snprintf(peer, sizeof peer, "%s", p ? p : "");
        snprintf(node, sizeof node, "%s", n ? n : relay_call_node_id(call));
    }
    relay_result_free(res);
    if (!ok("transferred: connected to the agent", st) || !peer[0]) {
        relay_call_hangup(call, NULL, NULL);
        goto out;
    }

    /* Until one side leaves; then end whichever is still there (a bridge
     * ends neither; a leg already gone answers 404: RELAY_OK, call_gone). */
    st = relay_call_wait_for_event(call, RELAY_EVENT_CALL_CONNECT, bridge_over, NULL, 0, NULL);
    printf("bridge over\n");
    char params[320];
    snprintf(params, sizeof params, "{\"node_id\":\"%s\",\"call_id\":\"%s\"}", node, peer);
    ok("ended the agent's leg", relay_client_execute(client, "calling.end", params, NULL));
    if (relay_call_get_state(call) < RELAY_CALL_ENDING)
        ok("hung up the caller", relay_call_hangup(call, NULL, NULL));
    if (relay_call_wait_for(call, RELAY_CALL_ENDED, 10000) == RELAY_OK)
        outcome = 0;
out:
    relay_action_free(hold);
    free(devices);
    if (once)
        relay_client_stop(client);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --agent URI [--context NAME] [--from URI] [--plain] [--once]\n", argv0);
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
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--agent") == 0 && i + 1 < argc)
            agent_uri = argv[++i];
        else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
            opts.contexts_csv = argv[++i];
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from_uri = argv[++i];
        else if (strcmp(argv[i], "--plain") == 0)
            opts.plain_ws = 1;
        else if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else
            return usage(argv[0]);
    }
    /* the URIs go into JSON as they are: refuse what would need escaping */
    if (!agent_uri || strpbrk(agent_uri, "\"\\") || strpbrk(from_uri, "\"\\"))
        return usage(argv[0]);
    if (!opts.contexts_csv)
        opts.contexts_csv = "office";

    st = relay_client_new(&opts, &client);
    if (st != RELAY_OK) {
        fprintf(stderr, "cannot create the client: %s: %s\n", relay_strerror(st),
                relay_last_error());
        return 2;
    }
    relay_client_on_call(client, on_call, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("transferring calls on %s to %s\n", opts.contexts_csv, agent_uri);
    st = relay_client_run(client);
    if (st != RELAY_OK)
        fprintf(stderr, "run: %s: %s\n", relay_strerror(st), relay_last_error());
    relay_client_free(client);
    return st != RELAY_OK ? 1 : once ? outcome : 0;
}
