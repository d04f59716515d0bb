/*
 * calling.play_and_collect against a real relayd (over TLS) with real sipp
 * callers: the prompt's play events and the collect's result as librelay
 * receives them, with their timing (when the prompt ended, when the
 * result came), for digits with a terminator, no_input counted from the
 * prompt's end, barge-in, stop and volume, refused starts, and a caller
 * who hangs up mid-prompt (relayd goes on serving; its clean exit under
 * ASan at teardown shows nothing leaked). Then examples/ivr against the
 * same relayd, with a caller pressing 1.
 *
 * Ports: relayd wss 65200, SIP 28101, RTP 28200-28299; sipp 28102, media
 * 28300 and up.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 65200
#define SIP_PORT "28101"
#define SIPP_PORT "28102"
#define SIPP_MEDIA_PORT "28300"
#define PROJECT "pac-project"
#define TOKEN "pac-token-7c1e"

static relayd_proc server;
static char ca_file[512];

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RELAY_SOURCE_DIR");
    char dir[400], cmd[1200], cert[512], key[512];
    build_path(dir, sizeof dir, "certs-pac");
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null", src, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    const char *args[] = {"--ws-listen", "127.0.0.1:65200", "--tls-cert", cert, "--tls-key", key,
                          "--sip-listen", "127.0.0.1:" SIP_PORT, "--rtp-ports", "28200-28299",
                          "--auth", PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-play-and-collect.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------ the cases */

typedef enum { PC_DIGITS, PC_NO_INPUT, PC_BARGE, PC_STOP, PC_HANGUP } pc_case;

#define MAX_EV 32
#define MAX_BAD 8

typedef struct pc_event {
    char type[32];  /* "play" or "collect" */
    char state[32];
    char control_id[64];
    int final;
    int64_t at;
} pc_event;

static struct {
    pthread_mutex_t lock;
    pc_case which;
    int done;
    relay_status answer, start, wait;
    char control_id[64];
    int64_t t_start, t_end, t_stop;
    char state[32], result_type[32], digits[80], terminator[8];
    char stop_code[8], volume_code[8], bad_volume_code[8];
    char bad_code[MAX_BAD][8], bad_msg[MAX_BAD][160];
    int n_ev;
    pc_event ev[MAX_EV];
} pc = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Every calling.call.play and calling.call.collect event, as it arrives. */
static void on_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)c;
    (void)user;
    const char *type = strcmp(ev->event_type, "calling.call.play") == 0      ? "play"
                       : strcmp(ev->event_type, "calling.call.collect") == 0 ? "collect"
                                                                              : NULL;
    if (!type)
        return;
    json_t *p = json_loads(ev->params_json, 0, NULL);
    pthread_mutex_lock(&pc.lock);
    if (pc.n_ev < MAX_EV) {
        pc_event *e = &pc.ev[pc.n_ev++];
        snprintf(e->type, sizeof e->type, "%s", type);
        snprintf(e->state, sizeof e->state, "%s",
                 json_string_value(json_object_get(p, "state")) ?: "");
        snprintf(e->control_id, sizeof e->control_id, "%s", ev->control_id ? ev->control_id : "");
        e->final = json_is_true(json_object_get(p, "final"));
        e->at = now_ms();
    }
    pthread_mutex_unlock(&pc.lock);
    json_decref(p);
}

/* The index of the first event of type in state (NULL: any), or -1. */
static int find_event(const char *type, const char *state)
{
    for (int i = 0; i < pc.n_ev; i++)
        if (strcmp(pc.ev[i].type, type) == 0 && (!state || strcmp(pc.ev[i].state, state) == 0))
            return i;
    return -1;
}

static void execute_code(relay_call *call, const char *method, const char *params, char *code,
                         size_t n, char *msg, size_t m)
{
    relay_result *res = NULL;
    relay_call_execute(call, method, params, &res);
    snprintf(code, n, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    snprintf(msg, m, "%s", res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

#define TTS(text) "{\"type\":\"tts\",\"params\":{\"text\":\"" text "\"}}"
#define SILENCE(s) "{\"type\":\"silence\",\"params\":{\"duration\":" s "}}"
#define LONG_PROMPT "[" TTS("Please listen carefully, as our menu options have changed.") \
    "," SILENCE("8") "]"

/* Refused starts, on the stop case's call: each a code with a reason, and
 * nothing left running (relayd's clean exit at teardown). */
static const char *const bad_starts[MAX_BAD] = {
    "{\"control_id\":\"p0\",\"play\":[" TTS("Hi") "],\"collect\":{\"speech\":{}}}",
    "{\"control_id\":\"p1\",\"play\":[" TTS("Hi") "]}",
    "{\"control_id\":\"p2\",\"play\":[],\"collect\":{\"digits\":{\"max\":1}}}",
    "{\"control_id\":\"p3\",\"play\":[" TTS("Hi") "],\"collect\":{\"digits\":{\"max\":0}}}",
    "{\"control_id\":\"p4\",\"play\":[" TTS("Hi") "],\"collect\":{\"digits\":{\"max\":1}},"
    "\"volume\":99}",
    "{\"play\":[" TTS("Hi") "],\"collect\":{\"digits\":{\"max\":1}}}",
    "{\"control_id\":\"p6\",\"play\":[{\"type\":\"video\",\"params\":{}}],"
    "\"collect\":{\"digits\":{\"max\":1}}}",
    NULL,
};
static const char *const bad_want[MAX_BAD] = {"501", "400", "400", "400", "400", "400", "400"};

static const char *case_params(pc_case which)
{
    switch (which) {
    case PC_DIGITS:
        return "{\"play\":[" TTS("Enter your code, then 9.") "],\"collect\":{\"digits\":"
               "{\"max\":5,\"terminators\":\"9\",\"digit_timeout\":3},\"initial_timeout\":8}}";
    case PC_NO_INPUT: /* a prompt longer than initial_timeout */
        return "{\"play\":[" TTS("Hello.") "," SILENCE("1.5") "],\"collect\":{\"digits\":"
               "{\"max\":3},\"initial_timeout\":1}}";
    case PC_BARGE:
        return "{\"play\":" LONG_PROMPT ",\"collect\":{\"digits\":{\"max\":2,"
               "\"digit_timeout\":1},\"initial_timeout\":5}}";
    case PC_STOP:
    case PC_HANGUP:
    default:
        return "{\"play\":" LONG_PROMPT ",\"collect\":{\"digits\":{\"max\":4},"
               "\"initial_timeout\":5}}";
    }
}

static void take_result(relay_result *res)
{
    json_t *p = res ? json_loads(relay_result_json(res), 0, NULL) : NULL;
    json_t *result = json_object_get(p, "result");
    json_t *params = json_object_get(result, "params");
    snprintf(pc.state, sizeof pc.state, "%s", json_string_value(json_object_get(p, "state")) ?: "");
    snprintf(pc.result_type, sizeof pc.result_type, "%s",
             json_string_value(json_object_get(result, "type")) ?: "");
    snprintf(pc.digits, sizeof pc.digits, "%s",
             json_string_value(json_object_get(params, "digits")) ?: "");
    snprintf(pc.terminator, sizeof pc.terminator, "%s",
             json_string_value(json_object_get(params, "terminator")) ?: "");
    json_decref(p);
}

static void stop_midway(relay_call *call)
{
    char body[160], msg[160];
    sleep_ms(1500);
    snprintf(body, sizeof body, "{\"control_id\":\"%s\",\"volume\":-6}", pc.control_id);
    execute_code(call, "calling.play_and_collect.volume", body, pc.volume_code,
                 sizeof pc.volume_code, msg, sizeof msg);
    snprintf(body, sizeof body, "{\"control_id\":\"%s\",\"volume\":99}", pc.control_id);
    execute_code(call, "calling.play_and_collect.volume", body, pc.bad_volume_code,
                 sizeof pc.bad_volume_code, msg, sizeof msg);
    pc.t_stop = now_ms();
    snprintf(body, sizeof body, "{\"control_id\":\"%s\"}", pc.control_id);
    execute_code(call, "calling.play_and_collect.stop", body, pc.stop_code, sizeof pc.stop_code,
                 msg, sizeof msg);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    pc.answer = relay_call_answer(call, NULL);
    if (pc.which == PC_STOP)
        for (int i = 0; bad_starts[i]; i++)
            execute_code(call, "calling.play_and_collect", bad_starts[i], pc.bad_code[i],
                         sizeof pc.bad_code[i], pc.bad_msg[i], sizeof pc.bad_msg[i]);
    relay_action *a = NULL;
    pc.t_start = now_ms();
    pc.start = relay_call_start(call, "calling.play_and_collect", case_params(pc.which), &a);
    if (pc.start == RELAY_OK) {
        snprintf(pc.control_id, sizeof pc.control_id, "%s", relay_action_control_id(a));
        if (pc.which == PC_STOP)
            stop_midway(call);
        relay_result *res = NULL;
        pc.wait = relay_action_wait(a, 20000, &res);
        pc.t_end = now_ms();
        take_result(res);
        relay_result_free(res);
        relay_action_free(a);
    }
    if (pc.which != PC_HANGUP) {
        relay_call_hangup(call, NULL, NULL);
        relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    }
    pthread_mutex_lock(&pc.lock);
    pc.done = 1;
    pthread_mutex_unlock(&pc.lock);
}

static relay_client *client_new(void)
{
    static const char *const contexts[] = {"office", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = WS_PORT;
    o.ca_file = ca_file;
    o.project = PROJECT;
    o.token = TOKEN;
    o.contexts = contexts;
    o.request_timeout_ms = 5000;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call, NULL), RELAY_OK);
    assert_int_equal(relay_client_on_event(c, on_event, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    return c;
}

/* ------------------------------------------------------------- helpers */

static int run(const char *const *argv, const char *log, int timeout_ms)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, timeout_ms) : -1;
}

/* 4 s of u-law silence for the stream scenarios (the caller's audio does
 * not matter here, only its digits). */
static void make_silence(char *path, size_t n)
{
    build_path(path, n, "pac-silence.ul");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4 * 8000; i++)
        fputc(0xFF, f);
    fclose(f);
}

/* A stream scenario (sip/name.in) with the audio file's path written in. */
static void make_scenario(const char *name, char *out, size_t n)
{
    char tpl[600], audio[600];
    make_silence(audio, sizeof audio);
    snprintf(tpl, sizeof tpl, "%s/tests/integration/sip/%s.in", getenv("RELAY_SOURCE_DIR"),
             name);
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    char file[128];
    snprintf(file, sizeof file, "pac-%s", name);
    build_path(out, n, file);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, audio, at + strlen("@AUDIO@"));
    fclose(f);
}

static void source_scenario(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), name);
}

static int sipp_call(const char *scenario, const char *log)
{
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                          "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s",
                          "-timeout_error", "-nostdin", NULL};
    return run(argv, log, 45000);
}

static void run_case(pc_case which, const char *scenario, const char *log)
{
    pthread_mutex_lock(&pc.lock);
    memset((char *)&pc + sizeof pc.lock, 0, sizeof pc - sizeof pc.lock);
    pc.which = which;
    pthread_mutex_unlock(&pc.lock);
    relay_client *c = client_new();
    int sipp_status = sipp_call(scenario, log);
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&pc.lock);
        int done = pc.done;
        pthread_mutex_unlock(&pc.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    sleep_ms(300); /* events after the result (none expected) would land by now */
    relay_client_free(c);
    for (int i = 0; i < pc.n_ev; i++)
        printf("  +%5lld ms %-7s %-9s%s\n", (long long)(pc.ev[i].at - pc.t_start), pc.ev[i].type,
               pc.ev[i].state, pc.ev[i].final ? " final" : "");
    printf("result: wait %d state %s type %s digits \"%s\" terminator \"%s\" after %lld ms\n",
           pc.wait, pc.state, pc.result_type, pc.digits, pc.terminator,
           (long long)(pc.t_end - pc.t_start));
    assert_int_equal(sipp_status, 0);
    assert_true(pc.done);
    assert_int_equal(pc.answer, RELAY_OK);
    assert_int_equal(pc.start, RELAY_OK);
    /* every event names the operation */
    for (int i = 0; i < pc.n_ev; i++)
        assert_string_equal(pc.ev[i].control_id, pc.control_id);
}

/* The prompt's events: playing, then its end, both before the result. */
static void assert_prompt_then_result(const char *prompt_end, const char *final_state)
{
    int playing = find_event("play", "playing");
    int ended = find_event("play", prompt_end);
    int result = find_event("collect", final_state);
    assert_true(playing >= 0);
    assert_true(ended > playing);
    assert_true(result > ended);
    assert_true(pc.ev[result].final);
    assert_int_equal(find_event("collect", NULL), result); /* one collect event */
}

/* -------------------------------------------------------------- tests */

/* The caller presses 1, 2, 3 and 9 (RFC 4733) around a short tts prompt:
 * the result is 123 with the terminator 9, as soon as 9 arrives. */
static void digits_and_terminator_after_a_prompt(void **state)
{
    (void)state;
    char scenario[600];
    make_scenario("uac_stream_digits.xml", scenario, sizeof scenario);
    run_case(PC_DIGITS, scenario, "sipp-pac-digits.log");
    assert_int_equal(pc.wait, RELAY_OK);
    assert_string_equal(pc.state, "finished");
    assert_string_equal(pc.result_type, "digit");
    assert_string_equal(pc.digits, "123");
    assert_string_equal(pc.terminator, "9");
    assert_prompt_then_result("finished", "finished");
    assert_true(pc.t_end - pc.t_start < 5000); /* the terminator, not a timeout */
}

/* Nobody presses anything: no_input comes initial_timeout (1 s) after the
 * prompt (about 2 s) ends, not 1 s after the start. */
static void no_input_counts_from_the_prompts_end(void **state)
{
    (void)state;
    char scenario[600];
    source_scenario("uac_wait_bye.xml", scenario, sizeof scenario);
    run_case(PC_NO_INPUT, scenario, "sipp-pac-no-input.log");
    assert_int_equal(pc.wait, RELAY_OK); /* no_input is terminal, not a failure */
    assert_string_equal(pc.state, "no_input");
    assert_string_equal(pc.result_type, "no_input");
    assert_prompt_then_result("finished", "no_input");
    int64_t prompt = pc.ev[find_event("play", "finished")].at -
                     pc.ev[find_event("play", "playing")].at;
    int64_t after = pc.ev[find_event("collect", "no_input")].at -
                    pc.ev[find_event("play", "finished")].at;
    printf("prompt %lld ms; no_input %lld ms after its end\n", (long long)prompt,
           (long long)after);
    assert_true(prompt >= 1500);
    assert_true(after >= 850 && after < 1800);
}

/* A digit 1 s into a prompt of more than 10 s stops the prompt at once
 * (its finished event comes early) and counts: the result is that digit,
 * after digit_timeout (1 s). */
static void a_digit_during_the_prompt_barges_in(void **state)
{
    (void)state;
    char scenario[600];
    make_scenario("uac_stream_dtmf.xml", scenario, sizeof scenario);
    run_case(PC_BARGE, scenario, "sipp-pac-barge.log");
    assert_int_equal(pc.wait, RELAY_OK);
    assert_string_equal(pc.state, "finished");
    assert_string_equal(pc.result_type, "digit");
    assert_string_equal(pc.digits, "1");
    assert_prompt_then_result("finished", "finished");
    int64_t played = pc.ev[find_event("play", "finished")].at -
                     pc.ev[find_event("play", "playing")].at;
    int64_t result_after = pc.ev[find_event("collect", "finished")].at -
                           pc.ev[find_event("play", "finished")].at;
    printf("prompt cut after %lld ms; result %lld ms later\n", (long long)played,
           (long long)result_after);
    assert_true(played < 3500);                           /* not the 10 s it would take */
    assert_true(result_after >= 700 && result_after < 2000); /* digit_timeout after it */
}

/* The caller hangs up 2.5 s into a long prompt: the prompt reports error
 * and the collect error; relayd goes on serving (the cases after this
 * one) and exits cleanly at the end. */
static void a_caller_hanging_up_mid_prompt_ends_it_cleanly(void **state)
{
    (void)state;
    char scenario[600];
    source_scenario("uac_hangup_mid_prompt.xml", scenario, sizeof scenario);
    run_case(PC_HANGUP, scenario, "sipp-pac-hangup.log");
    assert_true(pc.wait == RELAY_OK || pc.wait == RELAY_ERR_SERVER); /* completed, no timeout */
    assert_true(pc.t_end - pc.t_start < 6000);
    assert_prompt_then_result("error", "error");
}

/* Refused starts; then .volume mid-prompt (200, and 400 out of range) and
 * .stop: as calling.collect.stop, the digits so far, here none: no_input,
 * at once, the prompt's end reported first. */
static void stop_and_volume_and_refused_starts(void **state)
{
    (void)state;
    char scenario[600];
    source_scenario("uac_wait_bye.xml", scenario, sizeof scenario);
    run_case(PC_STOP, scenario, "sipp-pac-stop.log");
    for (int i = 0; bad_starts[i]; i++) {
        printf("%.70s -> %s %s\n", bad_starts[i], pc.bad_code[i], pc.bad_msg[i]);
        assert_string_equal(pc.bad_code[i], bad_want[i]);
        assert_true(strlen(pc.bad_msg[i]) > 5);
    }
    assert_string_equal(pc.volume_code, "200");
    assert_string_equal(pc.bad_volume_code, "400");
    assert_string_equal(pc.stop_code, "200");
    assert_int_equal(pc.wait, RELAY_OK);
    assert_string_equal(pc.state, "no_input");
    assert_string_equal(pc.result_type, "no_input");
    assert_prompt_then_result("finished", "no_input");
    assert_true(pc.t_end - pc.t_stop < 1000);
}

/* ------------------------------------------------------- examples/ivr */

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    return strstr(text, needle) != NULL;
}

static int wait_for_line(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (file_contains(path, needle))
            return 1;
        sleep_ms(50);
    }
    return 0;
}

/* examples/ivr answers, prompts, hears the caller's 1 (pressed during the
 * prompt), says so, hangs up (sipp's scenario ends with that BYE), and
 * exits 0 on SIGTERM (under ASan: nothing leaked). */
static void the_ivr_example_hears_1(void **state)
{
    (void)state;
    char ivr[600], scenario[600];
    snprintf(ivr, sizeof ivr, "%s/examples/ivr", getenv("RELAY_BUILD_DIR"));
    make_scenario("uac_stream_dtmf.xml", scenario, sizeof scenario);
    setenv("SIGNALWIRE_SPACE", "127.0.0.1:65200", 1);
    setenv("SIGNALWIRE_PROJECT_ID", PROJECT, 1);
    setenv("SIGNALWIRE_API_TOKEN", TOKEN, 1);
    setenv("SIGNALWIRE_RELAY_CA_FILE", ca_file, 1);
    setenv("SIGNALWIRE_CONTEXTS", "office", 1);
    const char *log = "ivr-example.log";
    const char *argv[] = {ivr, NULL};
    unlink(log); /* a previous run's "connected to" must not count */
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    int connected = wait_for_line(log, "connected to", 10000);
    int sipp_status = connected ? sipp_call(scenario, "sipp-pac-ivr.log") : -1;
    int hung_up = wait_for_line(log, "hung up", 10000);
    kill(pid, SIGTERM);
    int status = child_wait(pid, 15000);
    printf("ivr: connected %d, sipp %d, hung up %d, exit %d\n", connected, sipp_status, hung_up,
           status);
    assert_true(connected);
    assert_int_equal(sipp_status, 0);
    assert_true(file_contains(log, "pressed: 1\n"));
    assert_true(hung_up);
    assert_int_equal(status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digits_and_terminator_after_a_prompt),
        cmocka_unit_test(no_input_counts_from_the_prompts_end),
        cmocka_unit_test(a_digit_during_the_prompt_barges_in),
        cmocka_unit_test(a_caller_hanging_up_mid_prompt_ends_it_cleanly),
        cmocka_unit_test(stop_and_volume_and_refused_starts),
        cmocka_unit_test(the_ivr_example_hears_1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
