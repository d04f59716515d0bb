/*
 * SIGTERM drains relayd (src/server/drain.c), against the real process with
 * a real sipp caller and raw WebSocket clients:
 *
 *  - a client with an answered call gets signalwire.disconnect, then the
 *    call's ending and ended events, then a close frame with code 1001; the
 *    caller gets a BYE; a connection attempted meanwhile is refused, and one
 *    open without a session is closed (1001); relayd exits 0;
 *  - a client that never acknowledges its events holds the drain only
 *    until drain_timeout_ms: relayd still exits 0, soon after.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define PROJECT "drain-project"
#define TOKEN "drain-token-0123456789"

static const char connect_frame[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
    "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
    "\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"},"
    "\"contexts\":[\"drain\"]}}";

/* The value of "key":"..." in text (first occurrence), or "". */
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

/* The next frame; requests from relayd (events, disconnect, pings) are
 * answered first, as a well-behaved client does. NULL on close (with its
 * code in *close_code) or timeout. */
static char *next(int fd, int timeout_ms, int *close_code)
{
    char *m = ws_raw_recv_ex(fd, timeout_ms, close_code);
    if (m && strstr(m, "\"method\":\"signalwire.")) {
        char id[64], ack[160];
        field(m, "id", id, sizeof id);
        snprintf(ack, sizeof ack, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{}}", id);
        ws_raw_send(fd, ack, strlen(ack));
    }
    return m;
}

static int login(int port)
{
    int fd = ws_raw_connect("127.0.0.1", port);
    assert_true(fd >= 0);
    assert_int_equal(ws_raw_send(fd, connect_frame, sizeof connect_frame - 1), 0);
    char *m = ws_raw_recv_match(fd, "\"id\":\"c1\"", 5000);
    assert_non_null(m);
    assert_non_null(strstr(m, "\"protocol\""));
    free(m);
    return fd;
}

static pid_t start_caller(int relayd_sip, int local_sip, int media, const char *log)
{
    char scenario[600], target[64], port[16], mport[16];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    snprintf(target, sizeof target, "127.0.0.1:%d", relayd_sip);
    snprintf(port, sizeof port, "%d", local_sip);
    snprintf(mport, sizeof mport, "%d", media);
    const char *argv[] = {"sipp", target, "-sf", scenario, "-s", "drain", "-i", "127.0.0.1",
                          "-mi", "127.0.0.1", "-p", port, "-mp", mport, "-m", "1", "-timeout",
                          "30s", "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

static void sigterm_drains_a_live_call(void **state)
{
    (void)state;
    relayd_proc p;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61520", "--sip-listen",
                          "127.0.0.1:57001", "--rtp-ports", "57100-57199", "--auth",
                          PROJECT ":" TOKEN, "--drain-timeout-ms", "8000", "--log-level", "debug",
                          NULL};
    assert_int_equal(relayd_proc_start(&p, args, "relayd-drain.log"), 0);
    int fd = login(61520);
    /* a connection that never logs in */
    int late = ws_raw_connect("127.0.0.1", 61520);
    assert_true(late >= 0);

    pid_t sipp = start_caller(57001, 57002, 57300, "sipp-drain.log");
    char *m = NULL;
    int code = 0;
    while ((m = next(fd, 10000, &code)) && !strstr(m, "calling.call.receive"))
        free(m);
    assert_non_null(m);
    char call_id[64], node_id[64], answer[400];
    field(m, "call_id", call_id, sizeof call_id);
    field(m, "node_id", node_id, sizeof node_id);
    free(m);
    snprintf(answer, sizeof answer,
             "{\"jsonrpc\":\"2.0\",\"id\":\"a1\",\"method\":\"calling.answer\",\"params\":"
             "{\"call_id\":\"%s\",\"node_id\":\"%s\"}}",
             call_id, node_id);
    assert_int_equal(ws_raw_send(fd, answer, strlen(answer)), 0);
    while ((m = next(fd, 10000, &code)) && !strstr(m, "\"call_state\":\"answered\""))
        free(m);
    assert_non_null(m);
    free(m);

    int64_t signalled = now_ms();
    assert_int_equal(kill(p.pid, SIGTERM), 0);

    /* what the client sees, in order */
    const char *want[] = {"signalwire.disconnect", "\"call_state\":\"ending\"",
                          "\"call_state\":\"ended\""};
    size_t seen = 0;
    while ((m = next(fd, 10000, &code))) {
        if (seen < 3 && strstr(m, want[seen]))
            seen++;
        if (seen >= 1 && seen < 3) {
            /* meanwhile: no new connection, and the one that never logged
             * in is closed, going away */
            static int probed;
            if (!probed) {
                probed = 1;
                assert_true(ws_raw_connect("127.0.0.1", 61520) < 0);
                int late_code = 0;
                char *r = ws_raw_recv_ex(late, 5000, &late_code);
                if (r)
                    fail_msg("the connection without a session got %s", r);
                assert_int_equal(late_code, 1001);
            }
        }
        free(m);
    }
    if (seen != 3)
        fail_msg("the client saw %zu of: disconnect, ending, ended", seen);
    assert_int_equal(code, 1001);

    assert_int_equal(child_wait(sipp, 15000), 0); /* the caller got its BYE */
    int status = child_wait(p.pid, 15000);
    assert_int_equal(status, 0);
    int64_t took = now_ms() - signalled;
    if (took > 8000 + 6000)
        fail_msg("relayd took %lld ms to stop", (long long)took);
    assert_true(relayd_proc_log_contains(&p, "drain: done; stopping"));
    assert_true(relayd_proc_log_contains(&p, "connection refused: shutting down"));
    ws_raw_close(fd);
    ws_raw_close(late);
}

static void a_client_that_never_acknowledges_holds_the_drain_only_so_long(void **state)
{
    (void)state;
    relayd_proc p;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61521", "--sip-listen",
                          "127.0.0.1:57011", "--rtp-ports", "57200-57299", "--auth",
                          PROJECT ":" TOKEN, "--drain-timeout-ms", "1500", NULL};
    assert_int_equal(relayd_proc_start(&p, args, "relayd-drain-deaf.log"), 0);
    int fd = login(61521);
    /* never read again: the authorization state event stays unacknowledged */
    usleep(300 * 1000);
    int64_t signalled = now_ms();
    assert_int_equal(kill(p.pid, SIGTERM), 0);
    int status = child_wait(p.pid, 15000);
    int64_t took = now_ms() - signalled;
    assert_int_equal(status, 0);
    if (took < 1500 || took > 1500 + 6000)
        fail_msg("relayd stopped %lld ms after SIGTERM (drain_timeout_ms 1500)", (long long)took);
    assert_true(relayd_proc_log_contains(&p, "drain_timeout_ms (1500) over"));
    ws_raw_close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigterm_drains_a_live_call),
        cmocka_unit_test(a_client_that_never_acknowledges_holds_the_drain_only_so_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
