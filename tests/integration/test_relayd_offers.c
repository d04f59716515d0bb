/*
 * How relayd offers inbound calls (calling/call.c), against the real
 * process with real sipp callers and raw WebSocket clients:
 *
 *  - round robin: four calls on a context with two clients go two to each;
 *  - offer_timeout_ms: an offer its client sits on moves to the other
 *    client; when that one sits on it too, the caller hears 480 and the
 *    last client sees the call end with noAnswer;
 *  - ring_timeout_ms: a call nobody answers stops ringing (480, noAnswer);
 *  - a session that expires with an offer pending: the offer goes to the
 *    other client at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define PROJECT "offers-project"
#define TOKEN "offers-token-0123456789"
#define WS 61550
#define SIP 57021

static const char connect_frame[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
    "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
    "\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"},"
    "\"contexts\":[\"offers\"]}}";

static void field(const char *text, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(text, pat);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(pat);
    size_t len = strcspn(p, "\"");
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

/* The next frame, requests from relayd acknowledged; NULL on timeout. */
static char *next(int fd, int timeout_ms)
{
    char *m = ws_raw_recv(fd, timeout_ms);
    if (m && strstr(m, "\"method\":\"signalwire.")) {
        char id[64], ack[160];
        field(m, "id", id, sizeof id);
        snprintf(ack, sizeof ack, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{}}", id);
        ws_raw_send(fd, ack, strlen(ack));
    }
    return m;
}

/* Waits for a frame containing needle; its call_id into call_id. */
static int wait_for(int fd, const char *needle, int timeout_ms, char *call_id, size_t n)
{
    int64_t until = now_ms() + timeout_ms;
    while (now_ms() < until) {
        char *m = next(fd, (int)(until - now_ms()));
        if (!m)
            continue;
        int hit = strstr(m, needle) != NULL;
        if (hit && call_id)
            field(m, "call_id", call_id, n);
        free(m);
        if (hit)
            return 1;
    }
    return 0;
}

static int login(void)
{
    int fd = ws_raw_connect("127.0.0.1", WS);
    assert_true(fd >= 0);
    assert_int_equal(ws_raw_send(fd, connect_frame, sizeof connect_frame - 1), 0);
    char *m = ws_raw_recv_match(fd, "\"id\":\"c1\"", 5000);
    assert_non_null(m);
    assert_non_null(strstr(m, "\"protocol\""));
    free(m);
    return fd;
}

static void end_call(int fd, const char *call_id)
{
    char frame[300];
    snprintf(frame, sizeof frame,
             "{\"jsonrpc\":\"2.0\",\"id\":\"e-%s\",\"method\":\"calling.end\",\"params\":"
             "{\"call_id\":\"%s\",\"node_id\":\"relayd-local\",\"reason\":\"hangup\"}}",
             call_id, call_id);
    assert_int_equal(ws_raw_send(fd, frame, strlen(frame)), 0);
}

static pid_t caller(int calls, const char *log)
{
    char scenario[600], target[64], n[16];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_expect_480.xml",
             getenv("RELAY_SOURCE_DIR"));
    snprintf(target, sizeof target, "127.0.0.1:%d", SIP);
    snprintf(n, sizeof n, "%d", calls);
    const char *argv[] = {"sipp", target, "-sf", scenario, "-s", "offers", "-i", "127.0.0.1",
                          "-mi", "127.0.0.1", "-p", "57022", "-mp", "57600", "-m", n, "-l", "1",
                          "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

static void start(relayd_proc *p, const char *offer_ms, const char *ring_ms, const char *log)
{
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61550", "--sip-listen",
                          "127.0.0.1:57021", "--rtp-ports", "57500-57599", "--auth",
                          PROJECT ":" TOKEN, "--offer-timeout-ms", offer_ms, "--ring-timeout-ms",
                          ring_ms, "--resume-grace-ms", "500", NULL};
    assert_int_equal(relayd_proc_start(p, args, log), 0);
}

static void four_calls_go_two_to_each_client(void **state)
{
    (void)state;
    relayd_proc p;
    start(&p, "0", "0", "relayd-offers-rr.log");
    int a = login(), b = login();
    pid_t sipp = caller(4, "sipp-offers-rr.log");
    int got[2] = {0, 0};
    int fds[2] = {a, b};
    int64_t until = now_ms() + 30000;
    while (got[0] + got[1] < 4 && now_ms() < until) {
        for (int i = 0; i < 2; i++) {
            char *m = next(fds[i], 100);
            if (m && strstr(m, "calling.call.receive")) {
                char id[64];
                field(m, "call_id", id, sizeof id);
                got[i]++;
                end_call(fds[i], id); /* the caller hears 480 */
            }
            free(m);
        }
    }
    assert_int_equal(child_wait(sipp, 30000), 0);
    if (got[0] != 2 || got[1] != 2)
        fail_msg("offers: %d to the first client, %d to the second", got[0], got[1]);
    ws_raw_close(a);
    ws_raw_close(b);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

static void an_offer_sat_on_moves_on_then_ends(void **state)
{
    (void)state;
    relayd_proc p;
    start(&p, "1000", "0", "relayd-offers-timeout.log");
    int a = login(), b = login();
    pid_t sipp = caller(1, "sipp-offers-timeout.log");
    /* whoever gets it first sits on it; so does the other */
    int first = -1;
    char id[64] = "";
    int64_t until = now_ms() + 10000, t_first = 0;
    while (first < 0 && now_ms() < until) {
        int fds[2] = {a, b};
        for (int i = 0; i < 2 && first < 0; i++) {
            char *m = next(fds[i], 50);
            if (m && strstr(m, "calling.call.receive")) {
                first = i;
                t_first = now_ms();
                field(m, "call_id", id, sizeof id);
            }
            free(m);
        }
    }
    assert_true(first >= 0);
    int other = first == 0 ? b : a;
    char id2[64];
    assert_true(wait_for(other, "calling.call.receive", 5000, id2, sizeof id2));
    int64_t moved_after = now_ms() - t_first;
    assert_string_equal(id, id2);
    if (moved_after < 900)
        fail_msg("the offer moved after %lld ms (offer_timeout_ms 1000)", (long long)moved_after);
    /* the second sits on it too: nobody is left, the caller hears 480 */
    assert_true(wait_for(other, "\"end_reason\":\"noAnswer\"", 5000, NULL, 0));
    assert_int_equal(child_wait(sipp, 15000), 0);
    assert_true(relayd_proc_log_contains(&p, "not answered within offer_timeout_ms"));
    ws_raw_close(a);
    ws_raw_close(b);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

static void a_call_nobody_answers_stops_ringing(void **state)
{
    (void)state;
    relayd_proc p;
    start(&p, "0", "2000", "relayd-offers-ring.log");
    int a = login();
    int64_t t0 = now_ms();
    pid_t sipp = caller(1, "sipp-offers-ring.log");
    assert_true(wait_for(a, "calling.call.receive", 5000, NULL, 0));
    assert_true(wait_for(a, "\"end_reason\":\"noAnswer\"", 8000, NULL, 0));
    int64_t took = now_ms() - t0;
    if (took < 1900)
        fail_msg("the call ended after %lld ms (ring_timeout_ms 2000)", (long long)took);
    assert_int_equal(child_wait(sipp, 15000), 0); /* 480 */
    assert_true(relayd_proc_log_contains(&p, "nobody answered within ring_timeout_ms"));
    ws_raw_close(a);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

static void an_offer_to_an_expired_session_goes_to_the_other_client(void **state)
{
    (void)state;
    relayd_proc p;
    start(&p, "0", "0", "relayd-offers-gone.log");
    int a = login(); /* alone: it gets the offer */
    pid_t sipp = caller(1, "sipp-offers-gone.log");
    char id[64];
    assert_true(wait_for(a, "calling.call.receive", 5000, id, sizeof id));
    int b = login();
    ws_raw_close(a); /* its session expires after resume_grace_ms (500) */
    char id2[64];
    assert_true(wait_for(b, "calling.call.receive", 5000, id2, sizeof id2));
    assert_string_equal(id, id2);
    end_call(b, id2);
    assert_int_equal(child_wait(sipp, 15000), 0);
    assert_true(relayd_proc_log_contains(&p, "offered to a session that is gone"));
    ws_raw_close(b);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_calls_go_two_to_each_client),
        cmocka_unit_test(an_offer_sat_on_moves_on_then_ends),
        cmocka_unit_test(a_call_nobody_answers_stops_ringing),
        cmocka_unit_test(an_offer_to_an_expired_session_goes_to_the_other_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
