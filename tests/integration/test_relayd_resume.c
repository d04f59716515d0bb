/*
 * A session resumed with more unacknowledged events than relayd ever used
 * to keep (2000; the bound is now max_unacked_events, default 100000): a
 * raw client with event_acks answers a real sipp call, starts a long play
 * and pauses and resumes it 1300 times without acknowledging anything
 * (2600 play events and more), drops its socket, resumes the session on a
 * new one, and must get every one of those events again, exactly once and
 * in the order first sent. Then it acknowledges them and ends the call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <poll.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define PROJECT "resume-project"
#define TOKEN "resume-token-0123456789"
#define WS 61610
#define TOGGLES 1300
#define MAX_EVENTS 8000

typedef struct event_list {
    int n;
    char id[MAX_EVENTS][40];
} event_list;

static event_list before, after;

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

/* The next frame if one starts arriving within wait_ms, else NULL. Once a
 * frame has begun it is read whole: a timeout in the middle of one would
 * leave the stream out of step. */
static char *next_frame(int fd, int wait_ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, wait_ms) <= 0)
        return NULL;
    return ws_raw_recv(fd, 5000);
}

static int is_event(const char *m)
{
    return strstr(m, "\"method\":\"signalwire.event\"") != NULL;
}

static void record(event_list *l, const char *m)
{
    assert_true(l->n < MAX_EVENTS);
    field(m, "id", l->id[l->n], sizeof l->id[0]);
    l->n++;
}

static void send_text(int fd, const char *text)
{
    assert_int_equal(ws_raw_send(fd, text, strlen(text)), 0);
}

static void ack(int fd, const char *m)
{
    char id[40], text[128];
    field(m, "id", id, sizeof id);
    snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{}}", id);
    send_text(fd, text);
}

static void resume_redelivers_every_unacknowledged_event_in_order(void **state)
{
    (void)state;
    relayd_proc p;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61610", "--sip-listen",
                          "127.0.0.1:57041", "--rtp-ports", "57800-57899", "--auth",
                          PROJECT ":" TOKEN, "--ping-interval-ms", "0", NULL};
    assert_int_equal(relayd_proc_start(&p, args, "relayd-resume.log"), 0);
    char connect[400];
    snprintf(connect, sizeof connect,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
             "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
             "\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"},"
             "\"contexts\":[\"resume\"]}}");
    int fd = ws_raw_connect("127.0.0.1", WS);
    assert_true(fd >= 0);
    send_text(fd, connect);
    char protocol[128] = "";
    char *m;
    while (!protocol[0] && (m = ws_raw_recv(fd, 5000))) {
        if (is_event(m))
            record(&before, m);
        else
            field(m, "protocol", protocol, sizeof protocol);
        free(m);
    }
    assert_true(protocol[0]);

    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:57041", "-sf", scenario, "-s", "resume", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "57042", "-mp", "57900", "-m",
                          "1", "-timeout", "60s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-resume.log");
    assert_true(sipp > 0);
    char call_id[64] = "", node_id[64] = "";
    while (!call_id[0] && (m = ws_raw_recv(fd, 15000))) {
        if (is_event(m)) {
            record(&before, m);
            if (strstr(m, "calling.call.receive")) {
                field(m, "call_id", call_id, sizeof call_id);
                field(m, "node_id", node_id, sizeof node_id);
            }
        }
        free(m);
    }
    assert_true(call_id[0]);
    char ids[200], text[600];
    snprintf(ids, sizeof ids, "\"call_id\":\"%s\",\"node_id\":\"%s\"", call_id, node_id);
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":\"ans\",\"method\":\"calling.answer\",\"params\":{%s}}",
             ids);
    send_text(fd, text);
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":\"play\",\"method\":\"calling.play\",\"params\":{%s,"
             "\"control_id\":\"long\",\"play\":[{\"type\":\"silence\",\"params\":"
             "{\"duration\":600}}]}}",
             ids);
    send_text(fd, text);
    /* pause and resume, reading as we go (replies and events), never acking */
    int replies = 0, sent = 0;
    int64_t deadline = now_ms() + 60000;
    while ((sent < 2 * TOGGLES || replies < 2 + 2 * TOGGLES) && now_ms() < deadline) {
        if (sent < 2 * TOGGLES && sent - replies < 8) {
            snprintf(text, sizeof text,
                     "{\"jsonrpc\":\"2.0\",\"id\":\"t%d\",\"method\":\"calling.play.%s\","
                     "\"params\":{%s,\"control_id\":\"long\"}}",
                     sent, sent % 2 ? "resume" : "pause", ids);
            send_text(fd, text);
            sent++;
        }
        while ((m = next_frame(fd, sent < 2 * TOGGLES ? 0 : 200))) {
            if (is_event(m))
                record(&before, m);
            else
                replies++;
            free(m);
        }
    }
    assert_int_equal(replies, 2 + 2 * TOGGLES);
    /* the last events may still be on their way: read until quiet */
    while ((m = next_frame(fd, 500))) {
        if (is_event(m))
            record(&before, m);
        free(m);
    }
    printf("resume: %d events unacknowledged before the drop\n", before.n);
    assert_true(before.n > 2 * TOGGLES); /* more than the old bound of 2000 */
    ws_raw_close(fd);

    /* a new socket resumes the session: every event again, in order */
    fd = ws_raw_connect("127.0.0.1", WS);
    assert_true(fd >= 0);
    snprintf(connect, sizeof connect,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c2\",\"method\":\"signalwire.connect\",\"params\":"
             "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
             "\"protocol\":\"%s\",\"authentication\":{\"project\":\"" PROJECT
             "\",\"token\":\"" TOKEN "\"}}}",
             protocol);
    send_text(fd, connect);
    int resumed = 0;
    deadline = now_ms() + 30000;
    while ((after.n < before.n || !resumed) && now_ms() < deadline &&
           (m = ws_raw_recv(fd, 5000))) {
        if (strstr(m, "\"id\":\"c2\"")) {
            assert_non_null(strstr(m, protocol));
            resumed = 1;
        } else if (is_event(m)) {
            record(&after, m);
            ack(fd, m);
        }
        free(m);
    }
    assert_true(resumed);
    /* exactly the events sent before, in the same order (the authorization
     * state a resume issues may follow them) */
    if (after.n < before.n)
        fail_msg("after the resume: %d of %d events", after.n, before.n);
    for (int i = 0; i < before.n; i++)
        if (strcmp(before.id[i], after.id[i]) != 0)
            fail_msg("event %d: %s redelivered as %s", i, before.id[i], after.id[i]);
    for (int i = 0; i < after.n; i++)
        for (int j = i + 1; j < after.n; j++)
            if (strcmp(after.id[i], after.id[j]) == 0)
                fail_msg("event %s delivered twice after the resume", after.id[i]);
    assert_true(relayd_proc_log_contains(&p, "unacknowledged events resent"));

    /* the call is still there: end it; sipp gets its BYE */
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":\"end\",\"method\":\"calling.end\",\"params\":{%s,"
             "\"reason\":\"hangup\"}}",
             ids);
    send_text(fd, text);
    while ((m = next_frame(fd, 2000))) {
        if (is_event(m))
            ack(fd, m);
        free(m);
    }
    assert_int_equal(child_wait(sipp, 20000), 0);
    ws_raw_close(fd);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_redelivers_every_unacknowledged_event_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
