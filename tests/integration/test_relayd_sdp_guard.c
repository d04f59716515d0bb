/*
 * Malformed SDP offers against a real relayd and real sipp callers. The
 * packaged sofia-sip SDP parser never returns on some of them (a proto of
 * "RTP/:/u" froze relayd's core and grew its memory without bound), so
 * relayd checks every offer first (src/server/sip/sdp_guard.c). Here: each
 * hostile INVITE gets 488 without a client ever hearing of it, a normal
 * call still completes, the core answers a ping within 100 ms all along,
 * relayd's memory stays bounded, and it exits clean.
 *
 * The client answers every call it is offered, so without the guard a
 * hostile offer would reach sdp_parse() and this test would hang/fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 61370
#define SIP_PORT "49001"
#define SIPP_PORT "49002"
#define SIPP_MEDIA_PORT "49010"
#define PROJECT "sdp-guard-project"
#define TOKEN "sdp-guard-token-51c3"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61370", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "49100-49199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-sdp-guard.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ---------------------------------------------- the core's response time */

static struct {
    atomic_int stop;
    atomic_int worst_ms; /* slowest ping round trip seen */
    atomic_int pings;
    atomic_int lost; /* pings with no answer within 2 s */
    int fd;
} watch;

static void *ping_main(void *arg)
{
    (void)arg;
    char frame[128];
    for (int n = 0; !atomic_load(&watch.stop); n++) {
        snprintf(frame, sizeof frame,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"w%d\",\"method\":\"signalwire.ping\"}", n);
        char want[32];
        snprintf(want, sizeof want, "\"id\":\"w%d\"", n);
        int64_t t0 = now_ms();
        if (ws_raw_send(watch.fd, frame, strlen(frame)) != 0) {
            atomic_fetch_add(&watch.lost, 1);
            break;
        }
        char *reply = ws_raw_recv_match(watch.fd, want, 2000);
        int rtt = (int)(now_ms() - t0);
        if (!reply)
            atomic_fetch_add(&watch.lost, 1);
        free(reply);
        if (rtt > atomic_load(&watch.worst_ms))
            atomic_store(&watch.worst_ms, rtt);
        atomic_fetch_add(&watch.pings, 1);
        sleep_ms(20);
    }
    return NULL;
}

/* relayd's resident memory in KB, from /proc. */
static long relayd_rss_kb(void)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)server.pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ------------------------------------------------- a client that answers */

static atomic_int calls_offered, calls_done;

static void on_call(relay_call *call, void *user)
{
    (void)user;
    atomic_fetch_add(&calls_offered, 1);
    relay_call_answer(call, NULL);
    sleep_ms(200);
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    atomic_fetch_add(&calls_done, 1);
}

static relay_client *client_new(void)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, "office", on_call, NULL);
}

static int sipp_call(const char *scenario, const char *log, const char *bad_line)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[32] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office",
                            "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                            "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "20s",
                            "-timeout_error", "-nostdin"};
    int n = 20;
    if (bad_line) {
        argv[n++] = "-key";
        argv[n++] = "bad_line";
        argv[n++] = bad_line;
    }
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return child_wait(pid, 30000);
}

/* Offers relayd must refuse before sofia's parser sees them. */
static const char *const hostile_lines[] = {
    "m=audio 4000 RTP/:/u 0",   /* the one sofia-sip 1.12.11 spins on */
    "m=audio 4000 RTP/:/u",     /* the same without a format */
    "m=audio 99999 RTP/AVP 0",  /* port out of range */
    "m=audio 4000/0 RTP/AVP 0", /* zero port count */
    "m=audio 4000 RTP/AVP",     /* no format */
    "m=audio x RTP/AVP 0",      /* port not a number */
    "m=audio 4000 RTP//AVP 0",  /* empty proto part */
    "mm=audio 4000 RTP/AVP 0",  /* not <type>=<value> */
    "q=an unknown line type",
};

static void hostile_offers_get_488_and_the_core_stays_responsive(void **state)
{
    (void)state;
    relay_client *c = client_new();
    watch.fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(watch.fd >= 0);
    pthread_t pinger;
    assert_int_equal(pthread_create(&pinger, NULL, ping_main, NULL), 0);

    long rss_before = relayd_rss_kb();
    size_t n = sizeof hostile_lines / sizeof hostile_lines[0];
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < n; i++) {
            char log[64];
            snprintf(log, sizeof log, "sipp-sdp-guard-%d-%zu.log", round, i);
            if (sipp_call("uac_bad_sdp_488.xml", log, hostile_lines[i]) != 0)
                fail_msg("no 488 for an offer with \"%s\" (see %s)", hostile_lines[i], log);
        }
    long rss_after = relayd_rss_kb();

    /* a normal caller still gets a call that is answered and hung up */
    int normal = sipp_call("uac_wait_bye.xml", "sipp-sdp-guard-normal.log", NULL);
    for (int i = 0; i < 100 && atomic_load(&calls_done) < 1; i++)
        sleep_ms(50);

    atomic_store(&watch.stop, 1);
    pthread_join(pinger, NULL);
    ws_raw_close(watch.fd);
    relay_client_free(c);

    assert_int_equal(normal, 0);
    assert_int_equal(atomic_load(&calls_offered), 1); /* no hostile offer reached a client */
    assert_int_equal(atomic_load(&calls_done), 1);
    print_message("pings %d, slowest %d ms, lost %d; relayd RSS %ld -> %ld KB\n",
                  atomic_load(&watch.pings), atomic_load(&watch.worst_ms),
                  atomic_load(&watch.lost), rss_before, rss_after);
    assert_true(atomic_load(&watch.pings) > 10);
    assert_int_equal(atomic_load(&watch.lost), 0);
    assert_true(atomic_load(&watch.worst_ms) < 100);
    assert_true(rss_before > 0 && rss_after > 0);
    assert_true(rss_after - rss_before < 16 * 1024); /* the stall grew it by far more */
    assert_true(relayd_proc_log_contains(&server, "malformed offer (m= line: bad transport)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_offers_get_488_and_the_core_stays_responsive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
