/*
 * calling.bind_digit / calling.clear_digit_bindings against a real relayd,
 * a librelay client and a sipp caller that presses 1, 2, 3 and 9 by RFC
 * 2833 while streaming a tone (uac_stream_digits.xml.in):
 *
 *  - "1" bound to calling.end in realm "other", then that realm cleared:
 *    pressing 1 must not end the call;
 *  - "23" bound to calling.play (realm "menu", max_triggers 1): the client
 *    gets the play's events (playing, finished) under the binding's
 *    control_id although it never sent a play;
 *  - "9" bound to calling.end: the call ends when 9 is pressed, sipp gets
 *    relayd's BYE (its scenario fails otherwise);
 *  - bad bindings are refused with 400 and say why.
 *
 * Ports: WebSocket 64600, SIP 19001, sipp 19002 / media 19010, RTP
 * 19100-19199.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 64600
#define SIP_PORT "19001"
#define PROJECT "bind-project"
#define TOKEN "bind-token-5e1f"

static relayd_proc server;

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 40000) : -1;
}

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64600", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "19100-19199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-bind-digit.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

#define MAX_BAD 6
static const char *const bad_bindings[MAX_BAD] = {
    "{\"digits\":\"12x\",\"bind_method\":\"calling.play\"}",
    "{\"digits\":\"12345678901234567\",\"bind_method\":\"calling.play\"}",
    "{\"digits\":\"1\",\"bind_method\":\"calling.ai\"}",
    "{\"digits\":\"1\",\"bind_method\":\"calling.bind_digit\"}",
    "{\"digits\":\"1\",\"bind_method\":\"calling.end\",\"max_triggers\":0}",
    "{\"digits\":\"1\",\"bind_method\":\"calling.end\",\"params\":\"x\"}",
};

static struct {
    pthread_mutex_t lock;
    int done;
    relay_status answer, ended;
    char bind_code[3][8], clear_msg[64];
    char bad_code[MAX_BAD][8], bad_msg[MAX_BAD][160];
    char play_states[128], play_control[64];
    int64_t t_answer, t_playing, t_end;
} bc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_field(relay_result *res, const char *key, char *out, size_t n)
{
    const char *v = res ? relay_result_get(res, key) : NULL;
    snprintf(out, n, "%s", v ? v : "");
}

static void on_play(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    pthread_mutex_lock(&bc.lock);
    if (!bc.t_playing && ev->state && strcmp(ev->state, "playing") == 0)
        bc.t_playing = now_ms();
    size_t n = strlen(bc.play_states);
    snprintf(bc.play_states + n, sizeof bc.play_states - n, "%s%s", n ? "," : "",
             ev->state ? ev->state : "?");
    snprintf(bc.play_control, sizeof bc.play_control, "%s", ev->control_id ? ev->control_id : "");
    pthread_mutex_unlock(&bc.lock);
}

static void bind_one(relay_call *call, int i, const char *digits, const char *method,
                 const char *params, const char *realm, int max)
{
    relay_bind_digit_params p = {.digits = digits, .bind_method = method,
                                 .bind_params_json = params, .realm = realm,
                                 .max_triggers = max};
    relay_result *res = NULL;
    relay_call_bind_digit(call, &p, &res);
    copy_field(res, "code", bc.bind_code[i], sizeof bc.bind_code[i]);
    relay_result_free(res);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_result *res = NULL;
    bc.answer = relay_call_answer(call, &res);
    relay_result_free(res);
    bc.t_answer = now_ms();
    relay_call_on(call, RELAY_EVENT_CALL_PLAY, on_play, NULL);
    for (int i = 0; i < MAX_BAD; i++) {
        res = NULL;
        relay_call_execute(call, "calling.bind_digit", bad_bindings[i], &res);
        copy_field(res, "code", bc.bad_code[i], sizeof bc.bad_code[i]);
        copy_field(res, "message", bc.bad_msg[i], sizeof bc.bad_msg[i]);
        relay_result_free(res);
    }
    bind_one(call, 0, "1", "calling.end", "{\"reason\":\"hangup\"}", "other", 0);
    bind_one(call, 1, "23", "calling.play",
         "{\"play\":[{\"type\":\"silence\",\"params\":{\"duration\":0.3}}]}", "menu", 1);
    bind_one(call, 2, "9", "calling.end", NULL, "menu", 0);
    res = NULL;
    relay_call_clear_digit_bindings(call, "other", &res);
    copy_field(res, "message", bc.clear_msg, sizeof bc.clear_msg);
    relay_result_free(res);
    bc.ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 20000);
    pthread_mutex_lock(&bc.lock);
    bc.t_end = now_ms();
    bc.done = 1;
    pthread_mutex_unlock(&bc.lock);
}

static relay_client *client_new(void)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, "office", on_call, NULL);
}

/* uac_stream_digits.xml.in with a 4 s tone written in (sipp reads
 * rtp_stream's file name when it loads the scenario). */
static void make_scenario(char *out, size_t n)
{
    char tone[600];
    build_path(tone, sizeof tone, "bind-tone-4s.ul");
    const char *sox[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                         tone, "synth", "4", "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(sox, "sox-bind-tone.log"), 0);
    char tpl[600];
    snprintf(tpl, sizeof tpl, "%s/tests/integration/sip/uac_stream_digits.xml.in",
             getenv("RELAY_SOURCE_DIR"));
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(out, n, "bind_uac_stream_digits.xml");
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, tone, at + strlen("@AUDIO@"));
    fclose(f);
}

static void bound_digits_run_their_methods(void **state)
{
    (void)state;
    char scenario[600];
    make_scenario(scenario, sizeof scenario);
    relay_client *c = client_new();
    const char *sipp[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", "19002", "-mp", "19010",
                          "-m", "1", "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    int sipp_status = run(sipp, "sipp-bind-digit.log");
    for (int i = 0; i < 200 && !bc.done; i++)
        sleep_ms(50);
    relay_client_free(c);

    for (int i = 0; i < MAX_BAD; i++) {
        printf("%s -> %s %s\n", bad_bindings[i], bc.bad_code[i], bc.bad_msg[i]);
        assert_string_equal(bc.bad_code[i], "400");
    }
    printf("bindings %s %s %s; clear: %s; play events [%s] control_id %s\n", bc.bind_code[0],
           bc.bind_code[1], bc.bind_code[2], bc.clear_msg, bc.play_states, bc.play_control);
    printf("play %lld ms after the answer, call ended %lld ms after it\n",
           (long long)(bc.t_playing - bc.t_answer), (long long)(bc.t_end - bc.t_answer));
    assert_int_equal(sipp_status, 0); /* relayd's BYE reached the caller */
    assert_true(bc.done);
    assert_int_equal(bc.answer, RELAY_OK);
    for (int i = 0; i < 3; i++)
        assert_string_equal(bc.bind_code[i], "200");
    assert_string_equal(bc.clear_msg, "1 digit binding(s) cleared");
    assert_int_equal(bc.ended, RELAY_OK);
    /* 2 then 3 (1.5 s and 2 s into the stream) started one play... */
    assert_string_equal(bc.play_states, "playing,finished");
    assert_string_equal(bc.play_control, "digit-bindings-1");
    assert_true(bc.t_playing - bc.t_answer >= 1500);
    /* ...and 9 (2.5 s in) ended the call; 1 (1 s in) did not, its realm
     * was cleared */
    assert_true(bc.t_end - bc.t_answer >= 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bound_digits_run_their_methods),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
