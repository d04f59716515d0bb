/*
 * calling.transfer against a real relayd, librelay clients and sipp:
 *
 *  - to "context:sales": the client on "office" answers and transfers; the
 *    client on "sales" is offered the call already answered, plays to it
 *    and hangs it up (the caller's sipp gets that BYE); the transferring
 *    client's call is gone. Before that, bad destinations answer 400, 404
 *    (no other client on the context) and 501 (SWML), and the call stays;
 *  - to a sip: URI: relayd dials a sipp target and bridges it to the
 *    caller; when the target hangs up (3 s after answering), relayd hangs
 *    the caller up too (no client holds the call any more).
 *
 * Ports: WebSocket 64610, SIP 19201, sipp caller 19202 / media 19210,
 * sipp target 19220 (its SDP names 19240, where nobody listens), RTP
 * 19300-19399.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 64610
#define SIP_PORT "19201"
#define PROJECT "transfer-project"
#define TOKEN "transfer-token-77c1"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64610", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "19300-19399", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-transfer.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

static const char *const bad_dest[] = {"context:nobody", "context:bad name!",
                                       "https://example.com/swml.yaml", "", NULL};
static const char *const bad_want[] = {"404", "400", "501", "400"};

static struct {
    pthread_mutex_t lock;
    const char *dest; /* what office transfers to */
    char bad_code[4][8], bad_msg[4][160];
    char transfer_code[8];
    relay_status transfer;
    relay_call_state office_after, sales_state_at_offer;
    relay_status sales_play, sales_hangup;
    int office_done, sales_done;
} tc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_field(relay_result *res, const char *key, char *out, size_t n)
{
    const char *v = res ? relay_result_get(res, key) : NULL;
    snprintf(out, n, "%s", v ? v : "");
}

static void on_office_call(relay_call *call, void *user)
{
    (void)user;
    relay_result *res = NULL;
    relay_call_answer(call, &res);
    relay_result_free(res);
    if (strncmp(tc.dest, "context:", 8) == 0) {
        for (int i = 0; bad_dest[i]; i++) {
            res = NULL;
            if (*bad_dest[i])
                relay_call_transfer(call, bad_dest[i], NULL, &res);
            else /* no dest at all */
                relay_call_execute(call, "calling.transfer", "{}", &res);
            copy_field(res, "code", tc.bad_code[i], sizeof tc.bad_code[i]);
            copy_field(res, "message", tc.bad_msg[i], sizeof tc.bad_msg[i]);
            relay_result_free(res);
        }
    }
    res = NULL;
    tc.transfer = relay_call_transfer(call, tc.dest, NULL, &res);
    copy_field(res, "code", tc.transfer_code, sizeof tc.transfer_code);
    relay_result_free(res);
    sleep_ms(200);
    pthread_mutex_lock(&tc.lock);
    tc.office_after = relay_call_get_state(call);
    tc.office_done = 1;
    pthread_mutex_unlock(&tc.lock);
}

static void on_sales_call(relay_call *call, void *user)
{
    (void)user;
    tc.sales_state_at_offer = relay_call_get_state(call);
    relay_result *res = NULL;
    tc.sales_play = relay_call_play_silence(call, 0.3, &res);
    relay_result_free(res);
    res = NULL;
    tc.sales_hangup = relay_call_hangup(call, NULL, &res);
    relay_result_free(res);
    pthread_mutex_lock(&tc.lock);
    tc.sales_done = 1;
    pthread_mutex_unlock(&tc.lock);
}

static relay_client *client_new(const char *context, relay_call_handler fn)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, context, fn, NULL);
}

static void scenario(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), name);
}

static pid_t sipp_caller(const char *log)
{
    char sf[600];
    scenario(sf, sizeof sf, "uac_wait_bye.xml");
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", sf, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", "19202", "-mp", "19210",
                          "-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", NULL};
    return child_spawn(argv, log);
}

static void wait_flag(int *flag)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&tc.lock);
        int v = *flag;
        pthread_mutex_unlock(&tc.lock);
        if (v)
            return;
        sleep_ms(50);
    }
}

static void transfer_to_a_context(void **state)
{
    (void)state;
    tc.dest = "context:sales";
    relay_client *office = client_new("office", on_office_call);
    relay_client *sales = client_new("sales", on_sales_call);
    pid_t caller = sipp_caller("sipp-transfer-context.log");
    assert_true(caller > 0);
    int caller_rc = child_wait(caller, 30000);
    wait_flag(&tc.office_done);
    wait_flag(&tc.sales_done);
    relay_client_free(office);
    relay_client_free(sales);
    for (int i = 0; bad_dest[i]; i++) {
        printf("transfer '%s' -> %s %s\n", bad_dest[i], tc.bad_code[i], tc.bad_msg[i]);
        assert_string_equal(tc.bad_code[i], bad_want[i]);
    }
    printf("transfer: %s; office's call then %s; sales offered it %s\n", tc.transfer_code,
           relay_call_state_name(tc.office_after),
           relay_call_state_name(tc.sales_state_at_offer));
    assert_int_equal(tc.transfer, RELAY_OK);
    assert_string_equal(tc.transfer_code, "200");
    assert_true(tc.sales_done);
    assert_int_equal(tc.sales_state_at_offer, RELAY_CALL_ANSWERED);
    assert_int_equal(tc.sales_play, RELAY_OK);
    assert_int_equal(tc.sales_hangup, RELAY_OK);
    assert_int_equal(caller_rc, 0); /* the BYE sales asked for */
}

static void transfer_to_a_sip_uri(void **state)
{
    (void)state;
    memset((char *)&tc + sizeof tc.lock, 0, sizeof tc - sizeof tc.lock);
    tc.dest = "sip:agent@127.0.0.1:19220";
    char sf[600];
    scenario(sf, sizeof sf, "uas_connect_hangup.xml");
    const char *target_argv[] = {"sipp", "-sf", sf, "-i", "127.0.0.1", "-mi", "127.0.0.1",
                                 "-p", "19220", "-key", "rtp_port", "19240", "-d", "200",
                                 "-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin",
                                 NULL};
    pid_t target = child_spawn(target_argv, "sipp-transfer-target.log");
    assert_true(target > 0);
    sleep_ms(300); /* sipp binds its port */
    relay_client *office = client_new("office", on_office_call);
    int64_t t0 = now_ms();
    pid_t caller = sipp_caller("sipp-transfer-sip.log");
    assert_true(caller > 0);
    int caller_rc = child_wait(caller, 30000);
    int64_t t_caller = now_ms() - t0;
    int target_rc = child_wait(target, 10000);
    wait_flag(&tc.office_done);
    relay_client_free(office);
    printf("transfer: %s; caller ended after %lld ms\n", tc.transfer_code, (long long)t_caller);
    assert_int_equal(tc.transfer, RELAY_OK);
    assert_string_equal(tc.transfer_code, "200");
    assert_int_equal(target_rc, 0); /* answered, bridged, hung up */
    assert_int_equal(caller_rc, 0); /* relayd's BYE after the target's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfer_to_a_context),
        cmocka_unit_test(transfer_to_a_sip_uri),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
