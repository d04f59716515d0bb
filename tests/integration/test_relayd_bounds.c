/*
 * "No single peer can stall or exhaust relayd", against a real relayd and a
 * real sipp caller. Each case runs one attack on its own thread while, at
 * the same time,
 *   - a normal client (ws_raw) takes a call from sipp: offer, answer, a
 *     refer whose hostile headers are refused, hangup; sipp sees the BYE;
 *   - a monitor pings relayd every 20 ms over its own connection and
 *     records the slowest answer, and samples relayd's VmRSS;
 * and then asserts the call completed, every ping was answered within
 * 100 ms, and relayd's memory stayed within a bound far below what the
 * attack would cost if it were unbounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 61340
#define SIP_PORT "47001"
#define SIPP_PORT "47002"
#define SIPP_MEDIA_PORT "47010"
#define PROJECT "bounds-project"
#define TOKEN "bounds-token-4e1f"
#define MAX_CONTEXTS 3000
#define MAX_OUTBOUND (1024 * 1024)
#define PING_LIMIT_MS 100
#define MAX_UNACKED 40

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    /* ASan keeps freed memory in a quarantine (256 MB by default), which
     * would hide whether relayd itself holds memory; keep it small. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8", asan ? asan : "", asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61340", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "47100-47199", "--auth",
                          PROJECT ":" TOKEN, "--max-contexts", "3000", "--max-outbound-bytes",
                          "1048576", "--max-unacked-events", "40", "--resume-grace-ms", "2000",
                          "--login-timeout-ms", "1500", "--max-connections-per-address", "8",
                          "--log-level", "info", NULL};
    return relayd_proc_start(&server, args, "relayd-bounds.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- helpers */

static long vmrss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* The value of "key":"..." in text, copied to out; 0 if found. */
static int json_str(const char *text, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = text ? strstr(text, pat) : NULL;
    if (!p)
        return -1;
    p += strlen(pat);
    size_t len = strcspn(p, "\"");
    if (len >= n)
        return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

/* Sends a request and returns the reply carrying its id (malloc'd). */
static char *request(int fd, const char *id, const char *method, const char *params)
{
    size_t n = strlen(params) + 256;
    char *text = malloc(n);
    snprintf(text, n, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"method\":\"%s\",\"params\":%s}", id,
             method, params);
    int rc = ws_raw_send(fd, text, strlen(text));
    free(text);
    if (rc != 0)
        return NULL;
    char needle[96];
    snprintf(needle, sizeof needle, "\"id\":\"%s\"", id);
    return ws_raw_recv_match(fd, needle, 10000);
}

/* A connection with a session; contexts: a JSON array or NULL; protocol:
 * NULL, or where the session's protocol is copied (80 bytes). */
static int session_open_as(const char *contexts, int event_acks, char *protocol)
{
    int fd = ws_raw_connect("127.0.0.1", WS_PORT);
    if (fd < 0)
        return -1;
    char params[512];
    snprintf(params, sizeof params,
             "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":%s,"
             "\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"}%s%s}",
             event_acks ? "true" : "false", contexts ? ",\"contexts\":" : "",
             contexts ? contexts : "");
    char *reply = request(fd, "connect", "signalwire.connect", params);
    int ok = reply && strstr(reply, "\"protocol\":\"signalwire_");
    if (ok && protocol)
        ok = json_str(reply, "protocol", protocol, 80) == 0;
    free(reply);
    if (!ok) {
        ws_raw_close(fd);
        return -1;
    }
    return fd;
}

static int session_open(const char *contexts, int event_acks)
{
    return session_open_as(contexts, event_acks, NULL);
}

/* ------------------------------------------------------------- monitor */

static struct {
    pthread_t thread;
    atomic_int stop;
    int fd;
    _Atomic int pings;
    int failed;
    int64_t worst_ms;
    long rss_base_kb, rss_peak_kb;
} mon;

static void *monitor_main(void *arg)
{
    (void)arg;
    for (int i = 0; !atomic_load(&mon.stop); i++) {
        char id[32];
        snprintf(id, sizeof id, "mon-%d", i);
        int64_t t0 = now_ms();
        char *reply = request(mon.fd, id, "signalwire.ping", "{}");
        int64_t took = now_ms() - t0;
        if (!reply)
            mon.failed++;
        free(reply);
        mon.pings++;
        if (took > mon.worst_ms)
            mon.worst_ms = took;
        long rss = vmrss_kb(server.pid);
        if (rss > mon.rss_peak_kb)
            mon.rss_peak_kb = rss;
        sleep_ms(20);
    }
    return NULL;
}

static void monitor_start(void)
{
    memset(&mon, 0, sizeof mon);
    mon.fd = session_open(NULL, 0);
    assert_true(mon.fd >= 0);
    mon.rss_base_kb = mon.rss_peak_kb = vmrss_kb(server.pid);
    assert_true(mon.rss_base_kb > 0);
    assert_int_equal(pthread_create(&mon.thread, NULL, monitor_main, NULL), 0);
}

/* Stops the monitor and checks what it saw. */
static void monitor_check(long rss_growth_limit_kb)
{
    while (mon.pings < 50) /* and at least a second of watching after the attack */
        sleep_ms(20);
    atomic_store(&mon.stop, 1);
    pthread_join(mon.thread, NULL);
    ws_raw_close(mon.fd);
    printf("monitor: %d pings, %d unanswered, slowest %lld ms; VmRSS %ld kB -> peak %ld kB\n",
           mon.pings, mon.failed, (long long)mon.worst_ms, mon.rss_base_kb, mon.rss_peak_kb);
    assert_true(mon.pings > 10);
    assert_int_equal(mon.failed, 0);
    assert_true(mon.worst_ms < PING_LIMIT_MS);
    assert_true(mon.rss_peak_kb - mon.rss_base_kb < rss_growth_limit_kb);
}

/* ------------------------------------------------------------ the call */

static void expect_code(char *reply, const char *code, const char *needle)
{
    char want[32];
    snprintf(want, sizeof want, "\"code\":\"%s\"", code);
    if (!reply || !strstr(reply, want) || (needle && !strstr(reply, needle)))
        fail_msg("got %s, wanted code %s %s", reply ? reply : "(nothing)", code,
                 needle ? needle : "");
    free(reply);
}

/* A refer of the answered call with one custom header: refused with 400. */
static void refer_header_refused(int fd, const char *ids, const char *name, const char *value)
{
    char params[1024];
    snprintf(params, sizeof params,
             "{%s,\"device\":{\"type\":\"sip\",\"params\":{\"uri\":\"sip:transfer@127.0.0.1:1\","
             "\"headers\":[{\"name\":\"X-Fine\",\"value\":\"1\"},{\"name\":\"%s\",\"value\":\"%s\"}]}}}",
             ids, name, value);
    expect_code(request(fd, "refer", "calling.refer", params), "400", "header");
}

/* The normal client's whole call flow with a real sipp caller. */
static void call_flow(void)
{
    int fd = session_open("[\"office\"]", 0);
    assert_true(fd >= 0);
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT, "-mp",
                          SIPP_MEDIA_PORT, "-m", "1", "-timeout", "30s", "-timeout_error",
                          "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-bounds.log");
    assert_true(sipp > 0);

    char *offer = ws_raw_recv_match(fd, "calling.call.receive", 15000);
    assert_non_null(offer);
    char call_id[64], node_id[128], ids[256];
    assert_int_equal(json_str(offer, "call_id", call_id, sizeof call_id), 0);
    assert_int_equal(json_str(offer, "node_id", node_id, sizeof node_id), 0);
    free(offer);
    snprintf(ids, sizeof ids, "\"call_id\":\"%s\",\"node_id\":\"%s\"", call_id, node_id);
    char params[512];
    snprintf(params, sizeof params, "{%s}", ids);
    expect_code(request(fd, "answer", "calling.answer", params), "200", NULL);

    /* SIP compact forms would replace or add the headers relayd builds:
     * i: the Call-ID, v: a Via, f:/t: the dialog's ends, l: the body length */
    refer_header_refused(fd, ids, "i", "evil@host");
    refer_header_refused(fd, ids, "v", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx");
    refer_header_refused(fd, ids, "F", "<sip:boss@example.com>");
    refer_header_refused(fd, ids, "t", "<sip:x@y>");
    refer_header_refused(fd, ids, "l", "0");
    refer_header_refused(fd, ids, "CALL-ID", "evil@host");
    refer_header_refused(fd, ids, "X-Split", "a\\r\\nVia: SIP/2.0/UDP evil");

    /* status_url aimed at loopback in decimal notation: relayd (no
     * webhook_allow) refuses it at connect time; the play itself runs */
    snprintf(params, sizeof params,
             "{%s,\"control_id\":\"p1\",\"status_url\":\"http://2130706433:47050/hook\","
             "\"play\":[{\"type\":\"silence\",\"params\":{\"duration\":0.2}}]}",
             ids);
    expect_code(request(fd, "play", "calling.play", params), "200", NULL);
    char *finished = ws_raw_recv_match(fd, "\"finished\"", 10000);
    assert_non_null(finished);
    free(finished);

    snprintf(params, sizeof params, "{%s,\"reason\":\"hangup\"}", ids);
    expect_code(request(fd, "end", "calling.end", params), "200", NULL);
    char *ended = ws_raw_recv_match(fd, "\"ended\"", 10000);
    assert_non_null(ended);
    free(ended);
    assert_int_equal(child_wait(sipp, 40000), 0); /* sipp got its BYE */
    ws_raw_close(fd);
}

/* Runs attack() on a thread while the call flow runs, under the monitor. */
static void under_attack(void *(*attack)(void *), void *arg, long rss_growth_limit_kb)
{
    monitor_start();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, attack, arg), 0);
    call_flow();
    void *result = NULL;
    pthread_join(t, &result);
    monitor_check(rss_growth_limit_kb);
    assert_null(result); /* the attack's own findings: NULL or what went wrong */
}

/* ------------------------------------------------------ contexts flood */

/* One receive of `n` new names starting at `first`; returns the reply. */
static char *receive_names(int fd, const char *method, int first, int n)
{
    size_t cap = (size_t)n * 24 + 64;
    char *params = malloc(cap);
    size_t len = (size_t)snprintf(params, cap, "{\"contexts\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(params + len, cap - len, "%s\"flood-%d\"", i ? "," : "", first + i);
    snprintf(params + len, cap - len, "]}");
    char id[32];
    snprintf(id, sizeof id, "rcv-%d", first);
    char *reply = request(fd, id, method, params);
    free(params);
    return reply;
}

static void *contexts_flood(void *arg)
{
    (void)arg;
    int fd = session_open(NULL, 0);
    if (fd < 0)
        return "attacker could not connect";
    const char *why = NULL;
    int added = 0;
    /* add 500 at a time until refused: the bound is max_contexts */
    for (; added <= MAX_CONTEXTS && !why; added += 500) {
        char *r = receive_names(fd, "signalwire.receive", added, 500);
        int ok = r && strstr(r, "\"code\":\"200\"");
        int refused = r && strstr(r, "\"code\":\"400\"") && strstr(r, "too many contexts");
        free(r);
        if (refused) {
            if (added != MAX_CONTEXTS)
                why = "refused before max_contexts";
            break;
        }
        if (!ok)
            why = "receive failed";
    }
    if (!why && added != MAX_CONTEXTS)
        why = "never refused past max_contexts";
    /* a refused receive added nothing: removing 500 makes room for 500 */
    for (int round = 0; !why && round < 40; round++) {
        char *r = receive_names(fd, "signalwire.unreceive", 0, 500);
        int ok = r && strstr(r, "\"code\":\"200\"");
        free(r);
        r = receive_names(fd, "signalwire.receive", 0, 500);
        ok = ok && r && strstr(r, "\"code\":\"200\"");
        free(r);
        if (!ok)
            why = "receive/unreceive churn failed";
    }
    ws_raw_close(fd);
    return (void *)why;
}

static void contexts_are_bounded_and_cheap(void **state)
{
    (void)state;
    under_attack(contexts_flood, NULL, 64 * 1024);
    /* the call flow's play had a loopback status_url (see call_flow) */
    for (int i = 0; i < 50 && !relayd_proc_log_contains(&server, "refused: it resolves to a loopback address"); i++)
        sleep_ms(100);
    assert_true(relayd_proc_log_contains(&server, "refused: it resolves to a loopback address"));
}

/* ------------------------------------------------- a client that won't read */

static void *no_read_flood(void *arg)
{
    (void)arg;
    int fd = session_open(NULL, 1);
    if (fd < 0)
        return "attacker could not connect";
    struct timeval tv = {.tv_sec = 15};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* Each ping's reply echoes its 16 KiB id: 4000 of them are 64 MiB of
     * replies relayd would hold for us if nothing bounded it. */
    size_t idlen = 16 * 1024;
    char *frame = malloc(idlen + 128);
    int sent = 0;
    for (; sent < 4000; sent++) {
        int n = snprintf(frame, 64, "{\"jsonrpc\":\"2.0\",\"id\":\"%06d", sent);
        memset(frame + n, 'x', idlen);
        n += (int)idlen;
        n += snprintf(frame + n, 64, "\",\"method\":\"signalwire.ping\",\"params\":{}}");
        if (ws_raw_send(fd, frame, (size_t)n) != 0)
            break; /* relayd dropped us: what it should do */
    }
    free(frame);
    ws_raw_close(fd);
    printf("no-read attacker: dropped after %d pings of 16 KiB\n", sent);
    return sent < 4000 ? NULL : "relayd kept queueing for a client that does not read";
}

static void a_client_that_does_not_read_is_dropped(void **state)
{
    (void)state;
    under_attack(no_read_flood, NULL, 32 * 1024);
    assert_true(relayd_proc_log_contains(&server, "does not read"));
}

/* ------------------------------------------- unacknowledged events bound */

/* A client asked for event acks and never sends one. At the bound relayd
 * does not drop events quietly: it tells the client (signalwire.disconnect
 * with the reason), closes the connection, refuses to resume the session,
 * and the session's call ends when the session expires. */
static void unacknowledged_events_past_the_bound_close_the_session(void **state)
{
    (void)state;
    char protocol[80];
    int fd = session_open_as("[\"office\"]", 1, protocol);
    assert_true(fd >= 0);
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT, "-mp",
                          SIPP_MEDIA_PORT, "-m", "1", "-timeout", "30s", "-timeout_error",
                          "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-bounds-acks.log");
    assert_true(sipp > 0);
    char *offer = ws_raw_recv_match(fd, "calling.call.receive", 15000);
    assert_non_null(offer);
    char call_id[64], node_id[128], ids[256], params[512];
    assert_int_equal(json_str(offer, "call_id", call_id, sizeof call_id), 0);
    assert_int_equal(json_str(offer, "node_id", node_id, sizeof node_id), 0);
    free(offer);
    /* unacknowledged so far: the authorization state sent after connect
     * (skipped by the match above) and the offer */
    int events = 2;
    snprintf(ids, sizeof ids, "\"call_id\":\"%s\",\"node_id\":\"%s\"", call_id, node_id);
    snprintf(params, sizeof params, "{%s}", ids);
    char text[600];
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":\"answer\",\"method\":\"calling.answer\",\"params\":%s}",
             params);
    assert_int_equal(ws_raw_send(fd, text, strlen(text)), 0);
    /* plays of a little silence until relayd gives up on us: each brings
     * events (playing, finished) that we never acknowledge */
    int disconnected = 0, plays = 0;
    int64_t deadline = now_ms() + 20000;
    while (!disconnected && now_ms() < deadline) {
        if (plays < 100) {
            snprintf(text, sizeof text,
                     "{\"jsonrpc\":\"2.0\",\"id\":\"play-%d\",\"method\":\"calling.play\","
                     "\"params\":{%s,\"control_id\":\"c%d\",\"play\":[{\"type\":\"silence\","
                     "\"params\":{\"duration\":0.02}}]}}",
                     plays, ids, plays);
            plays++;
            if (ws_raw_send(fd, text, strlen(text)) != 0)
                break;
        }
        char *m;
        while ((m = ws_raw_recv(fd, 50))) {
            if (strstr(m, "signalwire.disconnect")) {
                assert_non_null(strstr(m, "max_unacked_events"));
                disconnected = 1;
            } else if (strstr(m, "\"signalwire.event\"")) {
                events++;
            }
            free(m);
        }
    }
    printf("unacked: %d events received, then disconnect=%d (after %d plays)\n", events,
           disconnected, plays);
    assert_true(disconnected);
    assert_int_equal(events, MAX_UNACKED); /* every kept event, none past the bound */
    ws_raw_close(fd);
    assert_true(relayd_proc_log_contains(&server, "the session is closed rather than lose"));
    /* resuming it would hide the gap: refused, saying why */
    fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(fd >= 0);
    snprintf(text, sizeof text,
             "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"},"
             "\"event_acks\":true,\"protocol\":\"%s\"}",
             protocol);
    char *reply = request(fd, "resume", "signalwire.connect", text);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "session cannot be resumed"));
    free(reply);
    ws_raw_close(fd);
    /* the call ends when the session expires (resume grace 2 s): sipp's BYE */
    assert_int_equal(child_wait(sipp, 40000), 0);
}

/* ------------------------------------------------- malformed frames */

/* Every kind of malformed frame, over and over on one connection with a
 * session, each answered with its JSON-RPC code: the answers come, the
 * core keeps up, memory stays put. */
static void *malformed_flood(void *arg)
{
    (void)arg;
    static const struct {
        const char *frame, *code;
    } bad[] = {
        {"this is not json", "-32700"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"id\":\"d\",\"method\":\"x\"}", "-32700"},
        {"[{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"signalwire.ping\"}]", "-32600"},
        {"{\"jsonrpc\":\"1.0\",\"id\":\"v\",\"method\":\"signalwire.ping\"}", "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"m\",\"method\":7,\"result\":{}}", "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"signalwire.ping\"}", "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{},\"error\":{}}", "-32600"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"calling.answer\",\"params\":[]}", "-32602"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"method\":\"calling.teleport\"}", "-32601"},
    };
    int fd = session_open(NULL, 0);
    if (fd < 0)
        return "the flood's session did not open";
    const size_t kinds = sizeof bad / sizeof bad[0];
    for (int round = 0; round < 150; round++)
        for (size_t k = 0; k < kinds; k++) {
            if (ws_raw_send(fd, bad[k].frame, strlen(bad[k].frame)) != 0) {
                ws_raw_close(fd);
                return "relayd closed the flooding connection";
            }
            /* skip what relayd sends on its own (the authorization state
             * after login, pings) */
            char *reply;
            while ((reply = ws_raw_recv(fd, 5000)) && strstr(reply, "\"method\":\"signalwire."))
                free(reply);
            int ok = reply && strstr(reply, bad[k].code);
            free(reply);
            if (!ok) {
                ws_raw_close(fd);
                return "a malformed frame did not get its error code";
            }
        }
    /* still served */
    char *pong = request(fd, "after-flood", "signalwire.ping", "{}");
    int ok = pong && strstr(pong, "\"result\":{}");
    free(pong);
    ws_raw_close(fd);
    return ok ? NULL : "no ping answer after the flood";
}

/* Sockets that never log in, and a guesser, while the call runs: the idle
 * ones are closed at login_timeout_ms, the guesser after its third failure
 * (and the address's next logins are slowed: auth/login_penalty.h). */
static void *before_login_attack(void *arg)
{
    (void)arg;
    int idle[5];
    for (int i = 0; i < 5; i++)
        idle[i] = ws_raw_connect("127.0.0.1", WS_PORT);
    int fd = ws_raw_connect("127.0.0.1", WS_PORT);
    const char *why = NULL;
    for (int i = 0; fd >= 0 && i < 3 && !why; i++) {
        char id[16];
        snprintf(id, sizeof id, "g-%d", i);
        char *reply = request(fd, id, "signalwire.connect",
                              "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"no\"}}");
        if (!reply || !strstr(reply, "-32002"))
            why = "a wrong token was not refused with -32002";
        free(reply);
    }
    for (int i = 0; i < 5 && !why; i++) {
        char *m = idle[i] >= 0 ? ws_raw_recv(idle[i], 5000) : NULL;
        if (m) /* closed, nothing said */
            why = "an idle socket got a message";
        free(m);
    }
    for (int i = 0; i < 5; i++)
        ws_raw_close(idle[i]);
    ws_raw_close(fd);
    return (void *)why;
}

static void before_login_attacks_leave_a_call_alone(void **state)
{
    (void)state;
    under_attack(before_login_attack, NULL, 16 * 1024);
}

static void malformed_frames_are_answered_under_a_call(void **state)
{
    (void)state;
    under_attack(malformed_flood, NULL, 16 * 1024);
}

/* ------------------------------------------------------------- logins */

static void idle_and_guessing_connections_are_closed(void **state)
{
    (void)state;
    /* a socket that never logs in is closed after login_timeout_ms */
    int idle = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(idle >= 0);
    int64_t t0 = now_ms();
    char *m = ws_raw_recv(idle, 5000);
    int64_t took = now_ms() - t0;
    assert_null(m); /* closed, nothing said */
    printf("idle connection closed after %lld ms\n", (long long)took);
    assert_true(took >= 1400 && took < 4000);
    ws_raw_close(idle);

    /* three wrong guesses, each answered; then the connection is closed */
    int fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "guess-%d", i);
        char *reply = request(fd, id, "signalwire.connect",
                              "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"no\"}}");
        assert_non_null(reply);
        assert_non_null(strstr(reply, "-32002"));
        free(reply);
    }
    m = ws_raw_recv(fd, 3000);
    assert_null(m);
    ws_raw_close(fd);
    assert_true(relayd_proc_log_contains(&server, "3 failed logins; closing"));

    /* before login a peer may only make relayd buffer 64 KiB; after it, max_frame */
    fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(fd >= 0);
    size_t big = 100 * 1024;
    char *frame = malloc(big + 128);
    int n = snprintf(frame, 64, "{\"jsonrpc\":\"2.0\",\"id\":\"big");
    memset(frame + n, 'x', big);
    n += (int)big;
    n += snprintf(frame + n, 64, "\",\"method\":\"signalwire.ping\",\"params\":{}}");
    assert_int_equal(ws_raw_send(fd, frame, (size_t)n), 0);
    m = ws_raw_recv_match(fd, "exceeds", 5000);
    assert_non_null(m);
    assert_non_null(strstr(m, "exceeds the limit of 65536 bytes before signalwire.connect"));
    free(m);
    ws_raw_close(fd);
    fd = session_open(NULL, 0);
    assert_true(fd >= 0);
    assert_int_equal(ws_raw_send(fd, frame, (size_t)n), 0);
    m = ws_raw_recv_match(fd, "\"id\":\"bigxxx", 5000);
    assert_non_null(m);
    assert_non_null(strstr(m, "\"result\":{}"));
    free(m);
    free(frame);
    ws_raw_close(fd);
}

static void connections_per_address_are_bounded(void **state)
{
    (void)state;
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = ws_raw_connect("127.0.0.1", WS_PORT);
        assert_true(fds[i] >= 0);
    }
    int extra = ws_raw_connect("127.0.0.1", WS_PORT); /* the 9th from 127.0.0.1 */
    assert_true(extra < 0);
    assert_true(relayd_proc_log_contains(&server, "max_connections_per_address (8)"));
    for (int i = 0; i < 8; i++)
        ws_raw_close(fds[i]);
    /* their slots come back: a real client gets in */
    int fd = -1;
    for (int i = 0; i < 50 && fd < 0; i++) {
        fd = session_open(NULL, 0);
        if (fd < 0)
            sleep_ms(50);
    }
    assert_true(fd >= 0);
    ws_raw_close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contexts_are_bounded_and_cheap),
        cmocka_unit_test(malformed_frames_are_answered_under_a_call),
        cmocka_unit_test(before_login_attacks_leave_a_call_alone),
        cmocka_unit_test(a_client_that_does_not_read_is_dropped),
        cmocka_unit_test(unacknowledged_events_past_the_bound_close_the_session),
        cmocka_unit_test(idle_and_guessing_connections_are_closed),
        cmocka_unit_test(connections_per_address_are_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
