/*
 * RELAY messaging end to end: librelay → a real relayd → SIP MESSAGE to
 * sipp targets, and sipp senders → relayd → librelay's on_message.
 *   (a) a target that answers 200 (and checks the body and its type:
 *       every body sent to it starts "Hello from librelay"):
 *       delivered, the states queued → sent → delivered in that order;
 *   (b) targets answering 486 and 404: undelivered, with the code;
 *   (c) a sipp MESSAGE to a subscribed context reaches on_message with its
 *       body, from and to, and sipp gets 200; to a context nobody is on,
 *       sipp gets 480;
 *   (d) hostile sends (oversized body, URIs that would break a header,
 *       NULs, bad media) are 400s and relayd keeps serving;
 *   (e) examples/send_message as a process exits 0 on delivered.
 * relayd is stopped by PID at the end and must exit 0 (ASan leak check).
 *
 * Ports: relayd ws 65400, SIP 30101, RTP 30200-30299; sipp targets 30102
 * and 30103, the sipp sender 30104.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_SPACE "127.0.0.1:65400"
#define SIP_PORT "30101"
#define TARGET_OK "30102"
#define TARGET_NO "30103"
#define SENDER "30104"
#define PROJECT "messaging-project"
#define TOKEN "messaging-token-51d0"

static relayd_proc server;
static relay_client *client;

/* ------------------------------------------------- what the client saw */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static char states[4096];     /* "id:state " for every messaging.state, in order */
static int inbound_count;
static char inbound_body[256], inbound_from[256], inbound_to[256], inbound_context[64];

static void on_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)c;
    (void)user;
    if (ev->type != RELAY_EVENT_MESSAGING_STATE)
        return;
    pthread_mutex_lock(&seen_lock);
    size_t n = strlen(states);
    snprintf(states + n, sizeof states - n, "%s:%s ",
             relay_result_get(ev->params, "message_id"), ev->state ? ev->state : "?");
    pthread_mutex_unlock(&seen_lock);
}

static void on_message(relay_client *c, const relay_message *m, void *user)
{
    (void)c;
    (void)user;
    pthread_mutex_lock(&seen_lock);
    inbound_count++;
    snprintf(inbound_body, sizeof inbound_body, "%s", relay_message_body(m));
    snprintf(inbound_from, sizeof inbound_from, "%s", relay_message_from(m));
    snprintf(inbound_to, sizeof inbound_to, "%s", relay_message_to(m));
    snprintf(inbound_context, sizeof inbound_context, "%s", relay_message_context(m));
    assert_string_equal(relay_message_state(m), "received");
    pthread_cond_broadcast(&seen_cond);
    pthread_mutex_unlock(&seen_lock);
}

/* The states recorded for id, "queued sent delivered ", waiting up to 2 s
 * for the last to have been delivered to on_event (a delivery thread). */
static void states_of(const char *id, const char *last, char *out, size_t n)
{
    char want[128];
    snprintf(want, sizeof want, "%s:%s ", id, last);
    int64_t until = now_ms() + 2000;
    for (;;) {
        pthread_mutex_lock(&seen_lock);
        int there = strstr(states, want) != NULL;
        out[0] = '\0';
        size_t idn = strlen(id);
        for (const char *p = states; (p = strstr(p, id)) != NULL; p += idn) {
            const char *st = p + idn + 1, *end = strchr(st, ' ');
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%.*s ", (int)(end - st), st);
        }
        pthread_mutex_unlock(&seen_lock);
        if (there || now_ms() > until)
            return;
        sleep_ms(20);
    }
}

/* ------------------------------------------------------------ setup */

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", WS_SPACE, "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "30200-30299", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    if (relayd_proc_start(&server, args, "relayd-messaging.log") != 0)
        return -1;
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = WS_SPACE;
    o.plain_ws = 1;
    o.project = PROJECT;
    o.token = TOKEN;
    o.contexts_csv = "office";
    o.request_timeout_ms = 5000;
    if (relay_client_new(&o, &client) != RELAY_OK ||
        relay_client_on_event(client, on_event, NULL) != RELAY_OK ||
        relay_client_on_message(client, on_message, NULL) != RELAY_OK ||
        relay_client_connect(client) != RELAY_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    relay_client_free(client);
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* clean exit, no leaks */
}

static pid_t sipp(const char *scenario, const char *port, const char *const *extra,
                  const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[40] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-p", port, "-m", "1",
                            "-timeout", "20s", "-timeout_error", "-nostdin"};
    size_t n = 13;
    for (size_t i = 0; extra && extra[i] && n < 38; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* let it bind */
    return pid;
}

static relay_message *send_to(const char *to, const char *body)
{
    relay_message_params p = {.context = "office", .from_number = "+15551230000",
                              .to_number = to, .body = body};
    relay_message *m = NULL;
    assert_int_equal(relay_client_send_message(client, &p, &m), RELAY_OK);
    assert_non_null(m);
    assert_int_equal(strlen(relay_message_id(m)), 36);
    return m;
}

/* ------------------------------------------------------------ tests */

static void delivered_to_a_target_that_answers_200(void **state)
{
    (void)state;
    pid_t t = sipp("uas_message_200.xml", TARGET_OK, NULL, "sipp-msg-200.log");
    relay_message *m = send_to("sip:bob@127.0.0.1:" TARGET_OK, "Hello from librelay 42");
    relay_result *res = NULL;
    assert_int_equal(relay_message_wait(m, 10000, &res), RELAY_OK);
    assert_string_equal(relay_message_state(m), "delivered");
    assert_string_equal(relay_message_reason(m), "");
    assert_string_equal(relay_result_get(res, "direction"), "outbound");
    assert_string_equal(relay_result_get(res, "body"), "Hello from librelay 42");
    assert_string_equal(relay_result_get(res, "to_number"), "sip:bob@127.0.0.1:" TARGET_OK);
    assert_string_equal(relay_result_get(res, "from_number"), "+15551230000");
    assert_string_equal(relay_result_get(res, "context"), "office");
    assert_string_equal(relay_result_get(res, "message_id"), relay_message_id(m));
    relay_result_free(res);
    char seen[256];
    states_of(relay_message_id(m), "delivered", seen, sizeof seen);
    assert_string_equal(seen, "queued sent delivered ");
    assert_string_equal(relay_message_body(m), "Hello from librelay 42");
    relay_message_free(m);
    assert_int_equal(child_wait(t, 10000), 0); /* sipp checked the body and its type */
}

static void a_target_that_refuses_leaves_it_undelivered(void **state)
{
    (void)state;
    static const char *const codes[][2] = {{"486", "Busy Here"}, {"404", "Not Found"}};
    for (size_t i = 0; i < 2; i++) {
        char scenario[64];
        snprintf(scenario, sizeof scenario, "uas_message_%s.xml", codes[i][0]);
        pid_t t = sipp(scenario, TARGET_NO, NULL, "sipp-msg-reject.log");
        relay_message *m = send_to("sip:carol@127.0.0.1:" TARGET_NO, "are you there?");
        relay_result *res = NULL;
        assert_int_equal(relay_message_wait(m, 10000, &res), RELAY_ERR_SERVER);
        assert_string_equal(relay_message_state(m), "undelivered");
        assert_string_equal(relay_result_get(res, "sip_response_code"), codes[i][0]);
        char reason[64];
        snprintf(reason, sizeof reason, "%s %s", codes[i][0], codes[i][1]);
        assert_string_equal(relay_message_reason(m), reason);
        relay_result_free(res);
        char seen[256];
        states_of(relay_message_id(m), "undelivered", seen, sizeof seen);
        assert_string_equal(seen, "queued sent undelivered ");
        relay_message_free(m);
        assert_int_equal(child_wait(t, 10000), 0);
    }
}

static void a_sip_message_reaches_the_context(void **state)
{
    (void)state;
    const char *to_office[] = {"-s", "office", "127.0.0.1:" SIP_PORT, NULL};
    pid_t s = sipp("uac_message_200.xml", SENDER, to_office, "sipp-msg-uac.log");
    assert_int_equal(child_wait(s, 10000), 0); /* relayd answered 200 */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&seen_lock);
    while (inbound_count == 0 && pthread_cond_timedwait(&seen_cond, &seen_lock, &dl) == 0)
        ;
    assert_int_equal(inbound_count, 1);
    assert_non_null(strstr(inbound_body, "hello from sipp"));
    assert_string_equal(inbound_from, "sip:alice@127.0.0.1:" SENDER);
    assert_string_equal(inbound_to, "sip:office@127.0.0.1:" SIP_PORT);
    assert_string_equal(inbound_context, "office");
    pthread_mutex_unlock(&seen_lock);

    /* nobody is on "warehouse": the sender hears 480, the client nothing */
    const char *to_nobody[] = {"-s", "warehouse", "127.0.0.1:" SIP_PORT, NULL};
    s = sipp("uac_message_480.xml", SENDER, to_nobody, "sipp-msg-uac-480.log");
    assert_int_equal(child_wait(s, 10000), 0);
    sleep_ms(200);
    pthread_mutex_lock(&seen_lock);
    assert_int_equal(inbound_count, 1);
    pthread_mutex_unlock(&seen_lock);
}

static void expect_400(const char *params_json, const char *why_part)
{
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(client, "messaging.send", params_json, &res),
                     RELAY_ERR_SERVER);
    assert_string_equal(relay_result_code(res), "400");
    if (!strstr(relay_result_message(res), why_part))
        fail_msg("400 for %.80s says \"%s\", not \"%s\"", params_json, relay_result_message(res),
                 why_part);
    relay_result_free(res);
}

static void hostile_sends_are_400s_and_relayd_serves_on(void **state)
{
    (void)state;
    /* oversized body, through the typed function: refused with the reason */
    size_t big = 70000;
    char *body = malloc(big + 1);
    memset(body, 'a', big);
    body[big] = '\0';
    relay_message_params p = {.context = "office", .from_number = "+15551230000",
                              .to_number = "sip:bob@127.0.0.1:" TARGET_OK, .body = body};
    relay_message *m = NULL;
    assert_int_equal(relay_client_send_message(client, &p, &m), RELAY_ERR_SERVER);
    assert_null(m);
    assert_non_null(strstr(relay_last_error(), "400"));
    assert_non_null(strstr(relay_last_error(), "body"));
    free(body);

#define BASE "\"context\":\"office\",\"from_number\":\"+15551230000\""
    /* URIs that would break out of the To header or the Request-URI */
    expect_400("{" BASE ",\"to_number\":\"sip:bob@127.0.0.1>\\r\\nX-Evil: 1\",\"body\":\"x\"}",
               "to_number");
    expect_400("{" BASE ",\"to_number\":\"sip:bob@127.0.0.1 ;x\",\"body\":\"x\"}", "to_number");
    expect_400("{" BASE ",\"to_number\":\"sip:\",\"body\":\"x\"}", "to_number");
    expect_400("{" BASE ",\"to_number\":\"tel:+1555\",\"body\":\"x\"}", "to_number");
    expect_400("{\"context\":\"office\",\"from_number\":\"sip:a@b\\r\\nVia: x\","
               "\"to_number\":\"sip:bob@127.0.0.1\",\"body\":\"x\"}",
               "from_number");
    /* (a NUL inside a string never gets this far: JSON parsers on both
     * sides refuse \u0000 unless asked to allow it) */
    /* nothing to send, bad media, bad tags, no context */
    expect_400("{" BASE ",\"to_number\":\"sip:bob@127.0.0.1\"}", "body or media");
    expect_400("{" BASE ",\"to_number\":\"sip:bob@127.0.0.1\",\"media\":[\"javascript:1\"]}",
               "media");
    expect_400("{" BASE ",\"to_number\":\"sip:bob@127.0.0.1\",\"body\":\"x\",\"tags\":[1]}",
               "tags");
    expect_400("{\"from_number\":\"+1555\",\"to_number\":\"sip:bob@127.0.0.1\",\"body\":\"x\"}",
               "context");
#undef BASE
    /* a phone number without a trunk: 501 names phone_trunk */
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(client, "messaging.send",
                                          "{\"context\":\"office\",\"from_number\":\"+1555\","
                                          "\"to_number\":\"+15559870000\",\"body\":\"x\"}",
                                          &res),
                     RELAY_ERR_SERVER);
    assert_string_equal(relay_result_code(res), "501");
    assert_non_null(strstr(relay_result_message(res), "phone_trunk"));
    relay_result_free(res);

    /* and relayd still serves: a real message is delivered */
    pid_t t = sipp("uas_message_200.xml", TARGET_OK, NULL, "sipp-msg-after.log");
    m = send_to("sip:bob@127.0.0.1:" TARGET_OK, "Hello from librelay, still serving");
    assert_int_equal(relay_message_wait(m, 10000, NULL), RELAY_OK);
    relay_message_free(m);
    assert_int_equal(child_wait(t, 10000), 0);
}

static void the_send_message_example_exits_0_on_delivered(void **state)
{
    (void)state;
    const char *example = getenv("EXAMPLE_SEND_MESSAGE");
    assert_non_null(example);
    pid_t t = sipp("uas_message_200.xml", TARGET_OK, NULL, "sipp-msg-example.log");
    setenv("SIGNALWIRE_SPACE", WS_SPACE, 1);
    setenv("SIGNALWIRE_PROJECT_ID", PROJECT, 1);
    setenv("SIGNALWIRE_API_TOKEN", TOKEN, 1);
    const char *argv[] = {example, "--to", "sip:bob@127.0.0.1:" TARGET_OK, "--from",
                          "+15551230000", "--body", "Hello from librelay's example", "--context", "office",
                          "--plain", NULL};
    pid_t ex = child_spawn(argv, "send_message-example.log");
    assert_true(ex > 0);
    assert_int_equal(child_wait(ex, 20000), 0);
    assert_int_equal(child_wait(t, 10000), 0);
    FILE *f = fopen("send_message-example.log", "r");
    assert_non_null(f);
    char out[512] = "";
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    assert_non_null(strstr(out, ": delivered"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivered_to_a_target_that_answers_200),
        cmocka_unit_test(a_target_that_refuses_leaves_it_undelivered),
        cmocka_unit_test(a_sip_message_reaches_the_context),
        cmocka_unit_test(hostile_sends_are_400s_and_relayd_serves_on),
        cmocka_unit_test(the_send_message_example_exits_0_on_delivered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
