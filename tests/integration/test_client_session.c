/*
 * librelay's session layer against a real relayd, with real network faults
 * made by tests/tools/tcp_cut between the two:
 *   - run() on a server that is not there yet keeps trying with backoff
 *     (with jitter) and connects once it is;
 *   - three rejected logins end run() and connect() with RELAY_ERR_AUTH and
 *     a reason;
 *   - an outage in the middle of a real SIP call: the session resumes, the
 *     play event sent during the outage arrives, a request issued while
 *     disconnected is delivered after the resume, and the call goes on;
 *   - a half-open connection (the path goes silent, nothing is closed) is
 *     found by pings and replaced;
 *   - signalwire.disconnect from a relayd that drains, then a new relayd:
 *     a new session;
 *   - max_active_calls: a call past the limit is passed on, and with no
 *     other client the caller hears 480 instead of ringing on; the call
 *     that is taken shows typed events to a listener and to
 *     relay_call_wait_for_event.
 * The connection-state callback reports each of these.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"

#define WS_PORT 61490
#define SIP_PORT "56001"
#define CUT_PORT 61491  /* tcp_cut in front of relayd */
#define LATE_PORT 61492 /* tcp_cut started only later */
#define PROJECT "session-project"
#define TOKEN "session-token-5a4b3c"

static relayd_proc server;
static char cut_bin[512];

static const char *const relayd_args[] = {
    "--plain", "--ws-listen", "127.0.0.1:61490", "--sip-listen", "127.0.0.1:" SIP_PORT,
    "--rtp-ports", "56100-56199", "--auth", PROJECT ":" TOKEN, "--login-delay-max-ms", "0",
    "--drain-timeout-ms", "3000", "--log-level", "debug", NULL};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static pid_t start_cut(int listen_port, const char *log)
{
    char lp[16], tp[16];
    snprintf(lp, sizeof lp, "%d", listen_port);
    snprintf(tp, sizeof tp, "%d", WS_PORT);
    const char *argv[] = {cut_bin, lp, tp, NULL};
    pid_t pid = child_spawn(argv, log);
    for (int i = 0; pid > 0 && i < 100 && !port_open(listen_port); i++)
        sleep_ms(20);
    return pid;
}

static void stop_cut(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    child_wait(pid, 5000);
}

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("RELAY_BUILD_DIR");
    if (!build)
        return -1;
    snprintf(cut_bin, sizeof cut_bin, "%s/tests/tools/tcp_cut", build);
    return relayd_proc_start(&server, relayd_args, "relayd-session.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1;
}

/* ------------------------------------------------ connection states seen */

#define MAX_SEEN 64
typedef struct conn_log {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int n;
    relay_connection_state state[MAX_SEEN];
    int retry_in_ms[MAX_SEEN];
    int attempt[MAX_SEEN];
    long long at_ms[MAX_SEEN];
    char reason[MAX_SEEN][160];
    /* a request issued from the first DISCONNECTED callback */
    relay_call *call_for_offline;
    int offline_issued;
    relay_status offline_send, offline_st;
    char offline_code[8];
    int offline_done;
    int malformed; /* events whose name or reason was wrong */
} conn_log;

static conn_log seen;

static void log_reset(void)
{
    pthread_mutex_destroy(&seen.lock);
    pthread_cond_destroy(&seen.cond);
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.lock, NULL);
    pthread_cond_init(&seen.cond, NULL);
}

static void on_offline_answer(relay_status st, relay_result *res, void *user)
{
    (void)user;
    pthread_mutex_lock(&seen.lock);
    seen.offline_st = st;
    snprintf(seen.offline_code, sizeof seen.offline_code, "%s",
             res && relay_result_code(res) ? relay_result_code(res) : "");
    seen.offline_done = 1;
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
}

static void on_connection(relay_client *c, const relay_connection_event *ev, void *user)
{
    (void)c;
    (void)user;
    pthread_mutex_lock(&seen.lock);
    /* no cmocka assert off the test's thread: remembered, checked later */
    if (strcmp(ev->state_name, relay_connection_state_name(ev->state)) != 0 || !ev->reason)
        seen.malformed++;
    if (seen.n < MAX_SEEN) {
        seen.state[seen.n] = ev->state;
        seen.retry_in_ms[seen.n] = ev->retry_in_ms;
        seen.attempt[seen.n] = ev->attempt;
        seen.at_ms[seen.n] = now_ms();
        snprintf(seen.reason[seen.n], sizeof seen.reason[0], "%s", ev->reason);
        seen.n++;
    }
    relay_call *call = NULL;
    if (ev->state == RELAY_CONNECTION_DISCONNECTED && seen.call_for_offline &&
        !seen.offline_issued) {
        seen.offline_issued = 1;
        call = seen.call_for_offline;
    }
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
    if (call) {
        /* Issued while the connection is down: queued, sent after the
         * resume, answered by relayd on the same call. */
        relay_status st = relay_call_execute_async(
            call, "calling.play",
            "{\"control_id\":\"offline-play\",\"play\":[{\"type\":\"silence\","
            "\"params\":{\"duration\":0.2}}]}",
            on_offline_answer, NULL);
        pthread_mutex_lock(&seen.lock);
        seen.offline_send = st;
        pthread_mutex_unlock(&seen.lock);
    }
}

/* Index of the first `st` at or after `from`, waiting up to timeout_ms; -1. */
static int wait_state(relay_connection_state st, int from, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    pthread_mutex_lock(&seen.lock);
    for (;;) {
        for (int i = from; i < seen.n; i++)
            if (seen.state[i] == st) {
                pthread_mutex_unlock(&seen.lock);
                return i;
            }
        long long left = end - now_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(left / 1000);
        ts.tv_nsec += (long)(left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&seen.cond, &seen.lock, &ts);
    }
    pthread_mutex_unlock(&seen.lock);
    return -1;
}

static int count_state(relay_connection_state st)
{
    int n = 0;
    pthread_mutex_lock(&seen.lock);
    for (int i = 0; i < seen.n; i++)
        n += seen.state[i] == st;
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static void options(relay_client_options *o, int port, const char *token)
{
    static const char *const contexts[] = {"office", NULL};
    relay_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = port;
    o->plain_ws = 1;
    o->project = PROJECT;
    o->token = token;
    o->contexts = contexts;
    o->request_timeout_ms = 3000;
}

typedef struct runner {
    relay_client *c;
    relay_status st;
    char last_error[256];
    pthread_t thread;
} runner;

static void *run_main(void *arg)
{
    runner *r = arg;
    r->st = relay_client_run(r->c);
    snprintf(r->last_error, sizeof r->last_error, "%s", relay_last_error());
    return NULL;
}

/* ------------------------------------------------------------- the tests */

static void run_keeps_trying_until_the_server_is_there(void **state)
{
    (void)state;
    log_reset();
    relay_client_options o;
    options(&o, LATE_PORT, TOKEN);
    runner r = {0};
    assert_int_equal(relay_client_new(&o, &r.c), RELAY_OK);
    assert_int_equal(relay_client_on_connection_state(r.c, on_connection, NULL), RELAY_OK);
    assert_int_equal(pthread_create(&r.thread, NULL, run_main, &r), 0);

    /* nobody listens: attempts fail and are retried with growing delays */
    int d1 = wait_state(RELAY_CONNECTION_DISCONNECTED, 0, 5000);
    assert_true(d1 >= 0);
    int d2 = wait_state(RELAY_CONNECTION_DISCONNECTED, d1 + 1, 5000);
    assert_true(d2 >= 0);
    /* the first delay is 1 s with equal jitter (0.5 to 1 s), the next 2 s */
    assert_in_range(seen.retry_in_ms[d1], 500, 1000);
    assert_in_range(seen.retry_in_ms[d2], 1000, 2000);
    assert_int_equal(seen.attempt[d2], 2);
    assert_true(seen.reason[d1][0] != '\0');
    assert_int_equal(count_state(RELAY_CONNECTION_FAILED), 0);

    pid_t cut = start_cut(LATE_PORT, "tcp_cut-late.log");
    assert_true(cut > 0);
    int ok = wait_state(RELAY_CONNECTION_CONNECTED, d2, 10000);
    assert_true(ok > d2);
    assert_int_equal(seen.state[0], RELAY_CONNECTION_CONNECTING);

    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(r.c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);

    relay_client_stop(r.c);
    pthread_join(r.thread, NULL);
    assert_int_equal(r.st, RELAY_OK);
    relay_client_free(r.c);
    stop_cut(cut);
    assert_int_equal(seen.malformed, 0);
}

static void rejected_credentials_end_run_and_connect(void **state)
{
    (void)state;
    log_reset();
    relay_client_options o;
    options(&o, WS_PORT, "not-the-token");
    runner r = {0};
    assert_int_equal(relay_client_new(&o, &r.c), RELAY_OK);
    assert_int_equal(relay_client_on_connection_state(r.c, on_connection, NULL), RELAY_OK);
    long long t0 = now_ms();
    assert_int_equal(pthread_create(&r.thread, NULL, run_main, &r), 0);
    pthread_join(r.thread, NULL);
    assert_int_equal(r.st, RELAY_ERR_AUTH);
    assert_non_null(strstr(r.last_error, "rejected 3 times"));
    assert_null(strstr(r.last_error, "not-the-token"));
    assert_true(now_ms() - t0 < 8000); /* two backoff steps, not forever */
    int f = wait_state(RELAY_CONNECTION_FAILED, 0, 2000);
    assert_true(f >= 0);
    assert_non_null(strstr(seen.reason[f], "rejected"));
    assert_int_equal(count_state(RELAY_CONNECTION_CONNECTED), 0);
    relay_client_free(r.c);

    /* connect() says the same, and why */
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_ERR_AUTH);
    assert_non_null(strstr(relay_last_error(), "rejected"));
    relay_client_free(c);
}

/* The inbound call's handler: answer, play 1 s of silence, wait for its
 * end across the outage, then hang up. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int playing, done;
    long long play_started_ms;
    relay_status answer, play_start, play_wait, hangup, ended;
    char play_state[32];
} flow = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_call(relay_call *call, void *user)
{
    (void)user;
    flow.answer = relay_call_answer(call, NULL);
    pthread_mutex_lock(&seen.lock);
    seen.call_for_offline = call;
    pthread_mutex_unlock(&seen.lock);
    relay_media silence = relay_media_silence(1.0);
    relay_action *a = NULL;
    flow.play_start = relay_call_play_async(call, &silence, 1, NULL, &a);
    pthread_mutex_lock(&flow.lock);
    flow.playing = 1;
    flow.play_started_ms = now_ms();
    pthread_cond_broadcast(&flow.cond);
    pthread_mutex_unlock(&flow.lock);
    relay_result *res = NULL;
    flow.play_wait = a ? relay_action_wait(a, 20000, &res) : RELAY_ERR_STATE;
    snprintf(flow.play_state, sizeof flow.play_state, "%s", a ? relay_action_state(a) : "");
    relay_result_free(res);
    relay_action_free(a);
    /* the offline request's answer first: it plays on the same call */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&seen.lock);
        int d = seen.offline_done;
        pthread_mutex_unlock(&seen.lock);
        if (d)
            break;
        sleep_ms(50);
    }
    pthread_mutex_lock(&seen.lock);
    seen.call_for_offline = NULL;
    pthread_mutex_unlock(&seen.lock);
    flow.hangup = relay_call_hangup(call, NULL, NULL);
    flow.ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&flow.lock);
    flow.done = 1;
    pthread_cond_broadcast(&flow.cond);
    pthread_mutex_unlock(&flow.lock);
}

static int wait_flow(int *field, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    pthread_mutex_lock(&flow.lock);
    while (!*field && now_ms() < end) {
        pthread_mutex_unlock(&flow.lock);
        sleep_ms(20);
        pthread_mutex_lock(&flow.lock);
    }
    int v = *field;
    pthread_mutex_unlock(&flow.lock);
    return v;
}

static void an_outage_mid_call_resumes_with_nothing_lost(void **state)
{
    (void)state;
    log_reset();
    pid_t cut = start_cut(CUT_PORT, "tcp_cut-outage.log");
    assert_true(cut > 0);
    relay_client_options o;
    options(&o, CUT_PORT, TOKEN);
    /* a request's timeout counts its time in the offline queue too: the
     * outage plus the backoff steps (up to 1 + 2 + 4 s) must fit in it */
    o.request_timeout_ms = 10000;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_connection_state(c, on_connection, NULL), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    assert_true(wait_state(RELAY_CONNECTION_CONNECTED, 0, 2000) >= 0);

    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "56002", "-mp", "56300", "-m",
                          "1", "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-session-call.log");
    assert_true(sipp > 0);
    assert_true(wait_flow(&flow.playing, 15000));
    assert_int_equal(flow.play_start, RELAY_OK);

    /* The network goes away for 2.5 s: every connection reset, nobody
     * listening. The 1 s play ends in the middle of it. */
    kill(cut, SIGUSR1);
    sleep_ms(100);
    stop_cut(cut);
    long long outage_start = now_ms();
    sleep_ms(2500);
    cut = start_cut(CUT_PORT, "tcp_cut-outage2.log");
    assert_true(cut > 0);

    int d = wait_state(RELAY_CONNECTION_DISCONNECTED, 0, 1000);
    assert_true(d >= 0);
    int resumed = wait_state(RELAY_CONNECTION_RESUMED, d, 15000);
    assert_true(resumed > d);
    assert_true(seen.at_ms[resumed] - outage_start >= 2400);
    /* the play's end was sent while we were away: it came on the resume */
    assert_true(seen.at_ms[resumed] - flow.play_started_ms > 1200);
    assert_true(wait_flow(&flow.done, 20000));
    int sipp_status = child_wait(sipp, 20000);
    relay_client_free(c);
    stop_cut(cut);

    assert_int_equal(count_state(RELAY_CONNECTION_CONNECTED), 1); /* never a new session */
    assert_int_equal(flow.answer, RELAY_OK);
    assert_int_equal(flow.play_wait, RELAY_OK);
    assert_string_equal(flow.play_state, "finished");
    assert_int_equal(seen.offline_issued, 1);
    assert_int_equal(seen.offline_send, RELAY_OK);
    assert_true(seen.offline_done);
    assert_int_equal(seen.offline_st, RELAY_OK);
    assert_string_equal(seen.offline_code, "200");
    assert_int_equal(flow.hangup, RELAY_OK);
    assert_int_equal(flow.ended, RELAY_OK);
    assert_int_equal(sipp_status, 0);
}

static void a_half_open_connection_is_found_by_pings(void **state)
{
    (void)state;
    log_reset();
    pid_t cut = start_cut(CUT_PORT, "tcp_cut-halfopen.log");
    assert_true(cut > 0);
    relay_client_options o;
    options(&o, CUT_PORT, TOKEN);
    o.ping_interval_ms = 300;
    o.request_timeout_ms = 500;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_connection_state(c, on_connection, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    sleep_ms(1000); /* pings answered: nothing happens */
    assert_int_equal(count_state(RELAY_CONNECTION_DISCONNECTED), 0);

    kill(cut, SIGUSR2); /* silence, no close on either side */
    long long frozen_at = now_ms();
    int d = wait_state(RELAY_CONNECTION_DISCONNECTED, 0, 6000);
    assert_true(d >= 0);
    assert_non_null(strstr(seen.reason[d], "unanswered"));
    /* three pings of 300 ms spacing, 500 ms each to answer */
    assert_true(seen.at_ms[d] - frozen_at >= 900);
    int r = wait_state(RELAY_CONNECTION_RESUMED, d, 5000);
    assert_true(r > d);
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);
    relay_client_free(c);
    stop_cut(cut);
}


/* max_active_calls 1: the first call is held by its handler; the second
 * is passed on (calling.pass) and, with no other client on the context,
 * relayd refuses it with 480. The handler never sees it. */
static struct {
    pthread_mutex_t lock;
    int handled, release;
    relay_status waited; /* relay_call_wait_for_event on the play */
    char waited_state[16];
    char heard[256];     /* every event type the call listener saw */
} limit = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void hear(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    pthread_mutex_lock(&limit.lock);
    size_t n = strlen(limit.heard);
    snprintf(limit.heard + n, sizeof limit.heard - n, "%s:%s ", relay_event_type_name(ev->type),
             ev->state ? ev->state : "-");
    pthread_mutex_unlock(&limit.lock);
}

static int play_finished(const relay_event *ev, void *user)
{
    (void)user;
    return ev->state && strcmp(ev->state, "finished") == 0;
}

static void on_call_held(relay_call *call, void *user)
{
    (void)user;
    pthread_mutex_lock(&limit.lock);
    limit.handled++;
    pthread_mutex_unlock(&limit.lock);
    relay_call_on(call, RELAY_EVENT_UNKNOWN, hear, NULL);
    relay_call_answer(call, NULL);
    /* typed events on a real call: wait for the play's end by predicate */
    relay_media beat = relay_media_silence(0.3);
    relay_action *a = NULL;
    relay_result *fin = NULL;
    relay_status st = relay_call_play_async(call, &beat, 1, NULL, &a);
    if (st == RELAY_OK)
        st = relay_call_wait_for_event(call, RELAY_EVENT_CALL_PLAY, play_finished, NULL, 10000,
                                       &fin);
    pthread_mutex_lock(&limit.lock);
    limit.waited = st;
    snprintf(limit.waited_state, sizeof limit.waited_state, "%s",
             fin && relay_result_get(fin, "state") ? relay_result_get(fin, "state") : "");
    pthread_mutex_unlock(&limit.lock);
    relay_result_free(fin);
    relay_action_free(a);
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&limit.lock);
        int go = limit.release;
        pthread_mutex_unlock(&limit.lock);
        if (go)
            break;
        sleep_ms(25);
    }
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
}

static pid_t sipp_caller(const char *scenario_name, const char *local_port,
                         const char *media_port, const char *log)
{
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/%s",
             getenv("RELAY_SOURCE_DIR"), scenario_name);
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", local_port, "-mp", media_port,
                          "-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", NULL};
    return child_spawn(argv, log);
}

static void calls_past_max_active_calls_are_passed_on(void **state)
{
    (void)state;
    relay_client_options o;
    options(&o, WS_PORT, TOKEN);
    o.max_active_calls = 1;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call_held, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);

    pid_t first = sipp_caller("uac_wait_bye.xml", "56003", "56310", "sipp-session-held.log");
    assert_true(first > 0);
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&limit.lock);
        int h = limit.handled;
        pthread_mutex_unlock(&limit.lock);
        if (h)
            break;
        sleep_ms(25);
    }
    pid_t second = sipp_caller("uac_expect_480.xml", "56004", "56320", "sipp-session-480.log");
    assert_true(second > 0);
    int second_status = child_wait(second, 20000);
    pthread_mutex_lock(&limit.lock);
    limit.release = 1;
    int handled = limit.handled;
    pthread_mutex_unlock(&limit.lock);
    int first_status = child_wait(first, 20000);
    relay_client_free(c);
    assert_int_equal(second_status, 0); /* 480: passed on, nobody else took it */
    assert_int_equal(first_status, 0);
    assert_int_equal(handled, 1);
    assert_true(relayd_proc_log_contains(&server, "calling.pass"));
    assert_int_equal(limit.waited, RELAY_OK);
    assert_string_equal(limit.waited_state, "finished");
    /* the listener, registered before the answer, saw the call in order */
    const char *want[] = {"calling.call.state:answered", "calling.call.play:playing",
                          "calling.call.play:finished", "calling.call.state:ending",
                          "calling.call.state:ended"};
    const char *at = limit.heard;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("%s missing or out of order in: %s", want[i], limit.heard);
        at = hit + strlen(want[i]);
    }
}

/* Two clients alive at once in one process, each with its session, then
 * freed: nothing may be left behind (the test runs under LeakSanitizer).
 * libwebsockets 4.1 lost one client TLS context per client freed while
 * another was alive (~700 KB each); librelay now lends it its own. */
static void two_clients_at_once_leave_nothing(void **state)
{
    (void)state;
    relay_client *c[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        relay_client_options o;
        options(&o, WS_PORT, TOKEN);
        assert_int_equal(relay_client_new(&o, &c[i]), RELAY_OK);
        assert_int_equal(relay_client_connect(c[i]), RELAY_OK);
    }
    for (int i = 0; i < 2; i++) {
        relay_result *res = NULL;
        assert_int_equal(relay_client_execute(c[i], "signalwire.ping", "{}", &res), RELAY_OK);
        relay_result_free(res);
    }
    assert_string_not_equal(relay_client_protocol(c[0]), relay_client_protocol(c[1]));
    relay_client_free(c[0]); /* the first one first: the case that leaked */
    relay_client_free(c[1]);
}

static void a_draining_server_disconnects_and_a_new_one_takes_over(void **state)
{
    (void)state;
    log_reset();
    relay_client_options o;
    options(&o, WS_PORT, TOKEN);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_connection_state(c, on_connection, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    const char *before = relay_client_protocol(c);
    char old_protocol[128];
    snprintf(old_protocol, sizeof old_protocol, "%s", before);

    /* SIGTERM: relayd drains, sending signalwire.disconnect first */
    assert_int_equal(relayd_proc_stop(&server), 0);
    int d = wait_state(RELAY_CONNECTION_DISCONNECTED, 0, 5000);
    assert_true(d >= 0);
    assert_non_null(strstr(seen.reason[d], "asked to disconnect"));
    /* asked to: the first attempt follows at once */
    assert_int_equal(seen.retry_in_ms[d], 0);

    assert_int_equal(relayd_proc_start(&server, relayd_args, "relayd-session2.log"), 0);
    int fresh = wait_state(RELAY_CONNECTION_CONNECTED, d, 15000);
    assert_true(fresh > d); /* the new relayd knows nothing of the old session */
    assert_int_equal(count_state(RELAY_CONNECTION_RESUMED), 0);
    assert_string_not_equal(relay_client_protocol(c), old_protocol);
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);
    relay_client_free(c);
}

int main(void)
{
    pthread_mutex_init(&seen.lock, NULL);
    pthread_cond_init(&seen.cond, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_keeps_trying_until_the_server_is_there),
        cmocka_unit_test(rejected_credentials_end_run_and_connect),
        cmocka_unit_test(an_outage_mid_call_resumes_with_nothing_lost),
        cmocka_unit_test(a_half_open_connection_is_found_by_pings),
        cmocka_unit_test(calls_past_max_active_calls_are_passed_on),
        cmocka_unit_test(two_clients_at_once_leave_nothing),
        cmocka_unit_test(a_draining_server_disconnects_and_a_new_one_takes_over),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
