/*
 * The official Node.js SDK, @signalwire/realtime-api v4 from npm, unchanged,
 * against a real relayd over wss:// (the test CA from scripts/gen-certs.sh),
 * with real SIP calls from sipp. The application (tests/node/
 * realtime_api_app.js) listens on a context and answers, plays speech to and
 * hangs up every call. Between calls: a minute idle (relayd's pings must
 * keep realtime-api's 15 s ping watchdog fed), then a TCP connection cut for
 * real by tests/tools/tcp_cut sitting between the two, which the SDK must
 * survive by resuming its session. Last, a wrong token must end in the SDK's
 * auth error, once, not in retries. Each step is checked from both sides:
 * sipp's exit status (200 OK with SDP, relayd's BYE), relayd's log and the
 * application's output.
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

#define WS_PORT 61310  /* relayd, wss:// */
#define CUT_PORT 61311 /* tcp_cut in front of it */
#define SIP_PORT "46202"
#define PROJECT "rtapi-project-31"
#define TOKEN "PT-rtapi-token-0a1b2c3d"
#define CONTEXT "office"

static relayd_proc server;
static pid_t cutter = -1;
static char ca_file[512], node_path[512], app[512], scenario[512];

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RELAY_SOURCE_DIR");
    const char *build = getenv("RELAY_BUILD_DIR");
    if (!src || !build)
        return -1;
    char dir[400], cmd[1400], cert[512], key[512], cut_bin[512];
    snprintf(dir, sizeof dir, "%s/tests/integration/certs", build);
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null", src, dir);
    if (system(cmd) != 0)
        return -1;
    /* npm ci into the build folder, once per lock file */
    snprintf(cmd, sizeof cmd, "bash %s/tests/node/setup.sh %s/node-realtime-api", src, build);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot install @signalwire/realtime-api (tests/node/setup.sh)\n");
        return -1;
    }
    snprintf(node_path, sizeof node_path, "%s/node-realtime-api/node_modules", build);
    snprintf(app, sizeof app, "%s/tests/node/realtime_api_app.js", src);
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml", src);
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    const char *args[] = {"--ws-listen", "127.0.0.1:61310", "--tls-cert", cert, "--tls-key", key,
                          "--sip-listen", "127.0.0.1:" SIP_PORT, "--rtp-ports", "46300-46399",
                          "--auth", PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    if (relayd_proc_start(&server, args, "relayd-realtime-api.log") != 0)
        return -1;
    snprintf(cut_bin, sizeof cut_bin, "%s/tests/tools/tcp_cut", build);
    const char *cut_argv[] = {cut_bin, "61311", "61310", NULL};
    cutter = child_spawn(cut_argv, "tcp_cut.log");
    return cutter > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (cutter > 0) {
        kill(cutter, SIGTERM);
        child_wait(cutter, 5000);
    }
    return relayd_proc_stop(&server) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ log reading */

static int count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* Waits until path has at least `count` lines containing needle. */
static int wait_for_count(const char *path, const char *needle, int count, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if (count_in_file(path, needle) >= count)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

#define APP_LOG "realtime-api-app.log"

static void expect_app(const char *needle, int count, int timeout_ms)
{
    if (!wait_for_count(APP_LOG, needle, count, timeout_ms))
        fail_msg("the application did not print '%s' (x%d) within %d ms; see %s", needle, count,
                 timeout_ms, APP_LOG);
}

static pid_t start_app(const char *mode, const char *host, const char *token)
{
    setenv("NODE_PATH", node_path, 1);
    setenv("NODE_EXTRA_CA_CERTS", ca_file, 1);
    setenv("RELAY_HOST", host, 1);
    setenv("RELAY_PROJECT", PROJECT, 1);
    setenv("RELAY_TOKEN", token, 1);
    setenv("RELAY_CONTEXT", CONTEXT, 1);
    setenv("CALLS", "3", 1);
    const char *argv[] = {"node", app, mode, NULL};
    pid_t pid = child_spawn(argv, APP_LOG);
    assert_true(pid > 0);
    return pid;
}

/* One call from sipp to the context: 0 if sipp saw 200 OK (with an SDP
 * answer) and then relayd's BYE. */
static int place_call(int n)
{
    char log[64];
    snprintf(log, sizeof log, "sipp-realtime-api-%d.log", n);
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", CONTEXT, "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "46203", "-mp", "46210", "-m",
                          "1", "-timeout", "30s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, log);
    assert_true(sipp > 0);
    return child_wait(sipp, 40000);
}

static void one_call(int n)
{
    assert_int_equal(place_call(n), 0);
    char line[64];
    const char *steps[] = {"received", "answered", "playing", "played finished", "ended", NULL};
    for (int i = 0; steps[i]; i++) {
        snprintf(line, sizeof line, "call %d %s", n, steps[i]);
        expect_app(line, 1, 10000);
    }
}

/* ------------------------------------------------------------------ tests */

static void official_sdk_takes_calls_across_idle_and_a_dropped_connection(void **state)
{
    (void)state;
    char host[64];
    snprintf(host, sizeof host, "wss://127.0.0.1:%d", CUT_PORT);
    pid_t node = start_app("calls", host, TOKEN);
    expect_app("listening " CONTEXT, 1, 30000);
    expect_app("session connected", 1, 1000);

    one_call(1);

    /* A minute with nothing to do: relayd's pings must keep the SDK's
     * watchdog (15 s) from closing the connection. */
    sleep(60);
    assert_int_equal(count_in_file(APP_LOG, "session reconnecting"), 0);
    assert_int_equal(count_in_file(APP_LOG, "session connected"), 1);
    assert_true(count_in_file(server.log_file, "\"method\":\"signalwire.ping\"") >= 5);
    one_call(2);

    /* The network drops the connection: the SDK reconnects and resumes. */
    assert_int_equal(kill(cutter, SIGUSR1), 0);
    expect_app("session reconnecting", 1, 10000);
    expect_app("session connected", 2, 15000);
    assert_true(wait_for_count(server.log_file, "resumed", 1, 2000));
    assert_int_equal(count_in_file("tcp_cut.log", "cut 1 connection(s)"), 1);
    one_call(3);

    expect_app("disconnected", 1, 10000);
    assert_int_equal(child_wait(node, 10000), 0);
    assert_int_equal(count_in_file(APP_LOG, "FAIL"), 0);
    /* every session relayd made was this one: the cut resumed it */
    assert_int_equal(count_in_file(server.log_file, "established"), 1);
}

static void wrong_token_ends_in_an_auth_error_not_retries(void **state)
{
    (void)state;
    /* relayd's warning names the peer; its reply frame does not */
    int before = count_in_file(server.log_file, "127.0.0.1: authentication failed");
    char host[64];
    snprintf(host, sizeof host, "wss://127.0.0.1:%d", WS_PORT);
    pid_t node = start_app("bad-token", host, "not-the-token");
    int status = child_wait(node, 30000);
    if (status != 0)
        fail_msg("the application exited %d; see %s", status, APP_LOG);
    expect_app("auth_error -32002", 1, 0);
    expect_app("gave up", 1, 0);
    /* one refused connect, and no attempt in the 6 s after it */
    assert_int_equal(count_in_file(server.log_file, "127.0.0.1: authentication failed") - before, 1);
}

static void credentials_never_reach_the_log(void **state)
{
    (void)state;
    assert_true(count_in_file(server.log_file, "signalwire.connect") > 0);
    assert_int_equal(count_in_file(server.log_file, TOKEN), 0);
    assert_int_equal(count_in_file(server.log_file, PROJECT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(official_sdk_takes_calls_across_idle_and_a_dropped_connection),
        cmocka_unit_test(wrong_token_ends_in_an_auth_error_not_retries),
        cmocka_unit_test(credentials_never_reach_the_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
