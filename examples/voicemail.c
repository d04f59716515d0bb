/*
 * voicemail: answer each inbound call, play a greeting and a beep, record
 * the caller's message and print where it was stored. The C form of:
 *
 *   await call.answer()
 *   await call.play_tts(text='Please leave a message after the beep.')
 *   await call.play_ringtone(name='us', duration=0.5)
 *   result = await call.record(audio={'end_silence_timeout': 2, ...})
 *   print(result.url, result.duration, result.size)
 *   await call.hangup()
 *
 * The message ends after 2 s of silence, when the caller presses #, or
 * when the caller hangs up; nothing said in the first 5 s is "no_input".
 *
 * Settings come from the environment (relay_client_options_from_env):
 *   SIGNALWIRE_SPACE, SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN,
 *   SIGNALWIRE_CONTEXTS, SIGNALWIRE_RELAY_CA_FILE, SIGNALWIRE_LOG_LEVEL
 *   (see answer_and_welcome.c).
 *
 * Usage: voicemail [--context NAME] [--plain] [--once]
 *   --context NAME  take calls on NAME (instead of SIGNALWIRE_CONTEXTS;
 *                   "office" when neither is given)
 *   --plain         ws:// without TLS: a local relayd started with --plain
 *   --once          handle one call, then exit (0 if every step succeeded)
 *
 * Otherwise runs until SIGINT or SIGTERM.
 */
#include <relay/relay.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record's "audio" object. "beep": false because the example plays its
 * own beep: SignalWire's cloud can beep by itself ("beep": true), relayd
 * does not yet (it answers 501). "listen" is what the caller says. */
#define RECORD_AUDIO                                                                      \
    "{\"beep\": false, \"format\": \"wav\", \"direction\": \"listen\","                    \
    " \"initial_timeout\": 5, \"end_silence_timeout\": 2, \"terminators\": \"#\"}"

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

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Greeting, beep, record; the recording's facts come from the final
 * calling.call.record event. */
static void take_message(relay_call *call)
{
    if (!report(call, "played greeting",
                relay_call_play_tts(call, "Please leave a message after the beep.", NULL)))
        return;
    if (!report(call, "beeped", relay_call_play_ringtone(call, "us", 0.5, NULL)))
        return;

    relay_record_params rec = {.audio_json = RECORD_AUDIO};
    relay_result *res = NULL;
    relay_status st = relay_call_record(call, &rec, &res); /* blocks until it ends */
    if (report(call, "recorded", st)) {
        const char *state = relay_result_get(res, "state");
        if (state && strcmp(state, "finished") == 0) /* numbers come as text */
            printf("call %s: message url=%s duration=%.2f s size=%s bytes\n",
                   relay_call_id(call), or_dash(relay_result_get(res, "url")),
                   atof(or_dash(relay_result_get(res, "duration"))),
                   or_dash(relay_result_get(res, "size")));
        else /* "no_input": the caller said nothing */
            printf("call %s: no message (%s) %s\n", relay_call_id(call), or_dash(state),
                   relay_result_json(res));
    }
    relay_result_free(res);
}

/* Runs on a worker thread for each inbound call: blocking is fine here. */
static void on_call(relay_call *call, void *user)
{
    (void)user;
    printf("call %s: from %s to %s (context %s)\n", relay_call_id(call), relay_call_from(call),
           relay_call_to(call), relay_call_context(call));

    if (report(call, "answered", relay_call_answer(call, NULL))) {
        take_message(call);
        if (relay_call_get_state(call) < RELAY_CALL_ENDING && /* the caller may have gone */
            report(call, "hung up", relay_call_hangup(call, NULL, NULL)))
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
    /* connect() reports a first failure at once; run() alone would keep trying */
    if ((st = relay_client_on_call(client, on_call, NULL)) != RELAY_OK ||
        (st = relay_client_connect(client)) != RELAY_OK) {
        fprintf(stderr, "cannot connect to %s: %s: %s\n", opts.host, relay_strerror(st),
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

    printf("voicemail: waiting for calls on %s\n", opts.contexts_csv);
    st = relay_client_run(client); /* blocks until relay_client_stop() */
    if (st != RELAY_OK)
        fprintf(stderr, "run: %s: %s\n", relay_strerror(st), relay_last_error());
    printf("stopping\n");
    relay_client_free(client);
    return st != RELAY_OK || call_failed ? 1 : 0;
}
