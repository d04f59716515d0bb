/*
 * librelay's typed dial (relay_client_dial) through a real relayd to sipp
 * targets: the answered winner comes back as a call the application hangs
 * up (sipp sees the BYE); a busy target is a failure with its reason; a
 * dial that outlives the caller's patience returns RELAY_ERR_TIMEOUT and
 * the leg that answers afterwards is hung up by the library.
 *
 * Ports: relayd ws 61430, SIP 50201, RTP 50300-50399; sipp 50210, its
 * media 50250.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 61430
#define SIP_PORT "50201"
#define TARGET "50210"
#define TARGET_RTP "50250"
#define PROJECT "client-dial-project"
#define TOKEN "client-dial-token-9a2e"
#define DEVICES                                                                                  \
    "[[{\"type\":\"sip\",\"params\":{\"from\":\"sip:app@127.0.0.1\","                            \
    "\"to\":\"sip:target@127.0.0.1:" TARGET "\",\"timeout\":10}}]]"

static relayd_proc server;
static relay_client *client;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61430", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "50300-50399", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    if (relayd_proc_start(&server, args, "relayd-client-dial.log") != 0)
        return -1;
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = WS_PORT;
    o.plain_ws = 1;
    o.project = PROJECT;
    o.token = TOKEN;
    o.request_timeout_ms = 5000;
    if (relay_client_new(&o, &client) != RELAY_OK || relay_client_connect(client) != RELAY_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    relay_client_free(client);
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* clean exit, no leaks */
}

static pid_t target(const char *scenario, const char *pause_ms, const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", TARGET,
                          "-key", "rtp_port", TARGET_RTP, "-d", pause_ms, "-m", "1",
                          "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* let it bind */
    return pid;
}

static void dial_returns_the_answered_call(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_answer.xml", "100", "sipp-client-dial-ok.log");
    relay_dial_params p = {.devices_json = DEVICES, .tag = "client-tag-1", .timeout_ms = 15000};
    relay_call *call = NULL;
    relay_result *res = NULL;
    assert_int_equal(relay_client_dial(client, &p, &call, &res), RELAY_OK);
    assert_non_null(call);
    assert_string_equal(relay_result_get(res, "dial_state"), "answered");
    relay_result_free(res);
    assert_int_equal(relay_call_get_state(call), RELAY_CALL_ANSWERED);
    assert_string_equal(relay_call_tag(call), "client-tag-1");
    assert_string_equal(relay_call_direction(call), "outbound");
    assert_non_null(strstr(relay_call_to(call), TARGET));
    assert_int_equal(relay_call_hangup(call, "hangup", NULL), RELAY_OK);
    assert_int_equal(relay_call_wait_for(call, RELAY_CALL_ENDED, 5000), RELAY_OK);
    relay_call_unref(call);
    assert_int_equal(child_wait(t, 10000), 0); /* the target got the BYE */
}

static void busy_target_fails_with_its_reason(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_busy.xml", "0", "sipp-client-dial-busy.log");
    relay_dial_params p = {.devices_json = DEVICES, .timeout_ms = 15000}; /* tag made up */
    relay_call *call = NULL;
    relay_result *res = NULL;
    assert_int_equal(relay_client_dial(client, &p, &call, &res), RELAY_ERR_SERVER);
    assert_null(call);
    assert_string_equal(relay_result_get(res, "dial_state"), "failed");
    assert_string_equal(relay_result_get(res, "reason"), "busy");
    relay_result_free(res);
    assert_int_equal(child_wait(t, 10000), 0);
}

static void refused_dial_returns_the_servers_answer(void **state)
{
    (void)state;
    relay_dial_params p = {.devices_json = "[[{\"type\":\"sip\",\"params\":{\"to\":\"nope\"}}]]"};
    relay_call *call = NULL;
    relay_result *res = NULL;
    assert_int_equal(relay_client_dial(client, &p, &call, &res), RELAY_ERR_SERVER);
    assert_null(call);
    assert_string_equal(relay_result_code(res), "400");
    relay_result_free(res);
    p.devices_json = "not json";
    assert_int_equal(relay_client_dial(client, &p, &call, NULL), RELAY_ERR_INVALID_ARG);
}

static void late_answer_after_giving_up_is_hung_up(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_answer.xml", "1500", "sipp-client-dial-late.log");
    relay_dial_params p = {.devices_json = DEVICES, .tag = "client-tag-late", .timeout_ms = 500};
    relay_call *call = NULL;
    int64_t start = now_ms();
    assert_int_equal(relay_client_dial(client, &p, &call, NULL), RELAY_ERR_TIMEOUT);
    assert_true(now_ms() - start < 1400);
    assert_null(call);
    /* the target answers at 1.5 s; the library hangs it up: sipp sees the BYE */
    assert_int_equal(child_wait(t, 10000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dial_returns_the_answered_call),
        cmocka_unit_test(busy_target_fails_with_its_reason),
        cmocka_unit_test(refused_dial_returns_the_servers_answer),
        cmocka_unit_test(late_answer_after_giving_up_is_hung_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
