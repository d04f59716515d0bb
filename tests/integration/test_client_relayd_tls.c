/*
 * librelay against a real relayd over a real TLS WebSocket: certificates
 * from scripts/gen-certs.sh, the client verifying relayd against the CA,
 * credentials checked, and one real SIP call placed by sipp that the
 * application answers, plays speech to (RTP) and hangs up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"

#define WS_PORT 61130
#define PROJECT "integration-project"
#define TOKEN "integration-token-1f2e3d"

static relayd_proc server;
static char ca_file[512];

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RELAY_SOURCE_DIR");
    const char *build = getenv("RELAY_BUILD_DIR");
    if (!src || !build)
        return -1;
    char dir[400], cmd[1200], cert[512], key[512];
    snprintf(dir, sizeof dir, "%s/tests/integration/certs", build);
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null", src, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    const char *args[] = {"--ws-listen", "127.0.0.1:61130", "--tls-cert", cert, "--tls-key", key,
                          "--sip-listen", "127.0.0.1:35301", "--rtp-ports", "35400-35499",
                          "--auth", PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-tls.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1;
}

static void options(relay_client_options *o, const char *token, const char *ca)
{
    static const char *const contexts[] = {"office", NULL};
    relay_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = WS_PORT;
    o->project = PROJECT;
    o->token = token;
    o->contexts = contexts;
    o->ca_file = ca;
    o->request_timeout_ms = 5000;
}

static void connects_over_tls_and_speaks_rpc(void **state)
{
    (void)state;
    relay_client_options o;
    options(&o, TOKEN, ca_file);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    assert_true(strncmp(relay_client_protocol(c), "signalwire_", 11) == 0);

    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);

    /* a call that does not exist: 404 is "gone", not an error */
    res = NULL;
    assert_int_equal(relay_client_execute(c, "calling.answer",
                                          "{\"node_id\":\"n\",\"call_id\":\"no-such-call\"}", &res),
                     RELAY_OK);
    assert_non_null(res);
    assert_string_equal(relay_result_code(res), "404");
    assert_true(relay_result_call_gone(res));
    relay_result_free(res);

    /* an unknown method is the server's error, with its message */
    res = NULL;
    assert_int_equal(relay_client_execute(c, "calling.teleport", "{}", &res), RELAY_ERR_SERVER);
    assert_non_null(res);
    assert_non_null(strstr(relay_result_message(res), "method not found"));
    relay_result_free(res);
    relay_client_free(c);
}

static void wrong_token_is_an_auth_error(void **state)
{
    (void)state;
    relay_client_options o;
    options(&o, "not-the-token", ca_file);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_ERR_AUTH);
    relay_client_free(c);
}

static void untrusted_certificate_is_refused(void **state)
{
    (void)state;
    /* the system store does not know our local CA */
    relay_client_options o;
    options(&o, TOKEN, NULL);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_ERR_CONNECT);
    relay_client_free(c);
}

/* What the inbound-call handler saw (worker thread → test thread). */
static struct {
    pthread_mutex_t lock;
    int calls;
    relay_status answer, play, hangup, ended;
    char play_state[32];
    char context[32];
    char events[2048];
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)c;
    (void)user;
    pthread_mutex_lock(&seen.lock);
    size_t n = strlen(seen.events);
    /* record type and, for state/play events, the state: a compact trace */
    const char *key = "\"call_state\":\"";
    const char *state = strstr(ev->params_json, key);
    if (!state) {
        key = "\"state\":\"";
        state = strstr(ev->params_json, key);
    }
    char st[32] = "";
    if (state)
        sscanf(state + strlen(key), "%31[^\"]", st);
    snprintf(seen.events + n, sizeof seen.events - n, "%s%s%s%s", n ? " " : "", ev->event_type,
             st[0] ? ":" : "", st);
    pthread_mutex_unlock(&seen.lock);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_status answer = relay_call_answer(call, NULL);
    relay_result *res = NULL;
    relay_status play = relay_call_play_tts(call, "Hello from the integration test.", &res);
    char state[32] = "";
    if (res && relay_result_get(res, "state"))
        snprintf(state, sizeof state, "%s", relay_result_get(res, "state"));
    relay_result_free(res);
    relay_status hangup = relay_call_hangup(call, NULL, NULL);
    relay_status ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&seen.lock);
    seen.calls++;
    seen.answer = answer;
    seen.play = play;
    seen.hangup = hangup;
    seen.ended = ended;
    snprintf(seen.play_state, sizeof seen.play_state, "%s", state);
    snprintf(seen.context, sizeof seen.context, "%s", relay_call_context(call));
    pthread_mutex_unlock(&seen.lock);
}

static void a_real_call_answered_played_and_hung_up(void **state)
{
    (void)state;
    relay_client_options o;
    options(&o, TOKEN, ca_file);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call, NULL), RELAY_OK);
    assert_int_equal(relay_client_on_event(c, on_event, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);

    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:35301", "-sf", scenario, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "35302", "-mp", "35500", "-m",
                          "1", "-timeout", "30s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-tls-call.log");
    assert_true(sipp > 0);
    int sipp_status = child_wait(sipp, 40000);

    /* the handler finishes on its worker thread after the BYE completes */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&seen.lock);
        int done = seen.calls;
        pthread_mutex_unlock(&seen.lock);
        if (done)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    relay_client_free(c);

    assert_int_equal(sipp_status, 0); /* sipp saw 200 with G.711 SDP, then our BYE */
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.context, "office");
    assert_int_equal(seen.answer, RELAY_OK);
    assert_int_equal(seen.play, RELAY_OK);
    assert_string_equal(seen.play_state, "finished");
    assert_int_equal(seen.hangup, RELAY_OK);
    assert_int_equal(seen.ended, RELAY_OK);
    const char *want[] = {"calling.call.receive:created", "calling.call.state:ringing",
                          "calling.call.state:answered", "calling.call.play:playing",
                          "calling.call.play:finished", "calling.call.state:ending",
                          "calling.call.state:ended"};
    const char *at = seen.events;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("event %s missing or out of order in: %s", want[i], seen.events);
        at = hit + strlen(want[i]);
    }
}

/* The generic start and the refer action against relayd and a sipp
 * caller that accepts the transfer (202, NOTIFY 100, NOTIFY 200). */
static struct {
    pthread_mutex_t lock;
    int done;
    relay_status answer, start, play_wait, refer_start, refer_wait, ended;
    char play_state[32], play_result_state[32], refer_state[32], notify[8];
    int ctl_nonempty;
    /* the callback form of the generic start */
    relay_status async_start, async_wait;
    char async_code[8];      /* the server's answer, through the start callback */
    char progress[128];      /* every state the progress callback saw, in order */
    int completed_after_progress; /* on_completed ran after the last progress */
} gen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_async_started(relay_status st, relay_result *res, void *user)
{
    (void)st;
    (void)user;
    pthread_mutex_lock(&gen.lock);
    snprintf(gen.async_code, sizeof gen.async_code, "%s",
             relay_result_code(res) ? relay_result_code(res) : "");
    pthread_mutex_unlock(&gen.lock);
}

static void on_async_progress(relay_action *a, void *user)
{
    (void)user;
    relay_result *last = relay_action_result(a);
    const char *st = relay_result_get(last, "state");
    pthread_mutex_lock(&gen.lock);
    size_t n = strlen(gen.progress);
    snprintf(gen.progress + n, sizeof gen.progress - n, "%s,", st ? st : "?");
    pthread_mutex_unlock(&gen.lock);
    relay_result_free(last);
}

static void on_async_completed(relay_action *a, void *user)
{
    (void)a;
    (void)user;
    pthread_mutex_lock(&gen.lock);
    gen.completed_after_progress = strstr(gen.progress, "finished,") != NULL;
    pthread_mutex_unlock(&gen.lock);
}

static void on_call_generic(relay_call *call, void *user)
{
    (void)user;
    relay_status answer = relay_call_answer(call, NULL);
    relay_action *a = NULL;
    relay_status start = relay_call_start(
        call, "calling.play", "{\"play\":[{\"type\":\"silence\",\"params\":{\"duration\":0.5}}]}",
        &a);
    relay_result *res = NULL;
    relay_status play_wait = a ? relay_action_wait(a, 10000, &res) : RELAY_ERR_STATE;
    pthread_mutex_lock(&gen.lock);
    gen.answer = answer;
    gen.start = start;
    gen.play_wait = play_wait;
    snprintf(gen.play_state, sizeof gen.play_state, "%s", relay_action_state(a));
    const char *rs = relay_result_get(res, "state");
    snprintf(gen.play_result_state, sizeof gen.play_result_state, "%s", rs ? rs : "");
    gen.ctl_nonempty = a && relay_action_control_id(a)[0] != '\0';
    pthread_mutex_unlock(&gen.lock);
    relay_result_free(res);
    relay_action_free(a);

    /* The callback form: returns at once; the answer comes to a callback,
     * every event to the progress callback, in order, then completion. */
    a = NULL;
    /* (Callbacks are set right after the start returns: the first event
     * cannot arrive before the server's answer, a round trip later.) */
    relay_status async_start = relay_call_start_async(
        call, "calling.play", "{\"play\":[{\"type\":\"silence\",\"params\":{\"duration\":0.3}}]}",
        on_async_started, NULL, &a);
    if (a) {
        relay_action_on_progress(a, on_async_progress, NULL);
        relay_action_on_completed(a, on_async_completed, NULL);
    }
    relay_status async_wait = a ? relay_action_wait(a, 10000, NULL) : RELAY_ERR_STATE;
    relay_action_free(a);
    pthread_mutex_lock(&gen.lock);
    gen.async_start = async_start;
    gen.async_wait = async_wait;
    pthread_mutex_unlock(&gen.lock);

    relay_device d = {.type = "sip", .uri = "sip:support@127.0.0.1:35399"};
    relay_action *r = NULL;
    relay_status refer_start = relay_call_refer_async(call, &d, NULL, &r);
    res = NULL;
    relay_status refer_wait = r ? relay_action_wait(r, 15000, &res) : RELAY_ERR_STATE;
    const char *nc = relay_result_get(res, "sip_notify_response_code");
    pthread_mutex_lock(&gen.lock);
    gen.refer_start = refer_start;
    gen.refer_wait = refer_wait;
    snprintf(gen.refer_state, sizeof gen.refer_state, "%s", relay_action_state(r));
    snprintf(gen.notify, sizeof gen.notify, "%s", nc ? nc : "");
    pthread_mutex_unlock(&gen.lock);
    relay_result_free(res);
    relay_action_free(r);
    relay_status ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&gen.lock);
    gen.ended = ended;
    gen.done = 1;
    pthread_mutex_unlock(&gen.lock);
}

static void a_real_call_generic_play_then_refer_action(void **state)
{
    (void)state;
    relay_client_options o;
    options(&o, TOKEN, ca_file);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call_generic, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);

    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/e2e/sip/uac_refer_accept.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:35301", "-sf", scenario, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "35303", "-mp", "35510", "-m",
                          "1", "-timeout", "30s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-tls-generic.log");
    assert_true(sipp > 0);
    int sipp_status = child_wait(sipp, 40000);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&gen.lock);
        int done = gen.done;
        pthread_mutex_unlock(&gen.lock);
        if (done)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    relay_client_free(c);

    assert_int_equal(sipp_status, 0); /* REFER seen, 202 + NOTIFYs sent, BYE received */
    assert_true(gen.done);
    assert_int_equal(gen.answer, RELAY_OK);
    assert_int_equal(gen.start, RELAY_OK);
    assert_true(gen.ctl_nonempty);
    assert_int_equal(gen.play_wait, RELAY_OK);
    assert_string_equal(gen.play_state, "finished");
    assert_string_equal(gen.play_result_state, "finished");
    assert_int_equal(gen.async_start, RELAY_OK);
    assert_int_equal(gen.async_wait, RELAY_OK);
    assert_string_equal(gen.async_code, "200");
    assert_string_equal(gen.progress, "playing,finished,");
    assert_true(gen.completed_after_progress);
    assert_int_equal(gen.refer_start, RELAY_OK);
    assert_int_equal(gen.refer_wait, RELAY_OK);
    assert_string_equal(gen.refer_state, "success");
    assert_string_equal(gen.notify, "200");
    assert_int_equal(gen.ended, RELAY_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connects_over_tls_and_speaks_rpc),
        cmocka_unit_test(wrong_token_is_an_auth_error),
        cmocka_unit_test(untrusted_certificate_is_refused),
        cmocka_unit_test(a_real_call_answered_played_and_hung_up),
        cmocka_unit_test(a_real_call_generic_play_then_refer_action),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
