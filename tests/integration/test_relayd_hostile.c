/*
 * A hostile client against a real relayd process: every kind of bad frame
 * gets a JSON-RPC error that says what went wrong, nothing is lost, the
 * connection keeps being served, secrets never reach the log, and relayd
 * still shuts down cleanly (exit 0, which under ASan also means no leaks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "relayd_proc.h"
#include "ws_raw.h"

#define WS_PORT 61100
#define TOKEN "PT-hostile-test-token-0123456789"
#define PROJECT "proj-hostile-5a9c"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61100", "--sip-listen",
                          "127.0.0.1:35101", "--rtp-ports", "35200-35299", "--auth",
                          PROJECT ":" TOKEN, "--max-frame", "65536", "--log-level", "debug",
                          NULL};
    return relayd_proc_start(&server, args, "relayd-hostile.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1;
}

static int open_conn(void)
{
    int fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(fd >= 0);
    return fd;
}

/* Sends text and expects a reply containing every needle. */
static void expect_reply(int fd, const char *text, const char *needle1, const char *needle2)
{
    assert_int_equal(ws_raw_send(fd, text, strlen(text)), 0);
    char *reply = ws_raw_recv(fd, 5000);
    assert_non_null(reply);
    if (!strstr(reply, needle1) || (needle2 && !strstr(reply, needle2)))
        fail_msg("sent %s\ngot %s\nwanted %s %s", text, reply, needle1, needle2 ? needle2 : "");
    free(reply);
}

static void connect_ok(int fd)
{
    expect_reply(fd,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
                 "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
                 "\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"},"
                 "\"contexts\":[\"office\"]}}",
                 "\"protocol\":\"signalwire_", "\"id\":\"c1\"");
    /* every connect is followed by the session's authorization state */
    char *ev = ws_raw_recv_match(fd, "signalwire.authorization.state", 5000);
    assert_non_null(ev);
    free(ev);
}

static void bad_frames_get_clear_errors(void **state)
{
    (void)state;
    int fd = open_conn();
    expect_reply(fd, "this is not json", "-32700", "parse error");
    expect_reply(fd, "[1,2,3]", "-32600", "invalid request");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"signalwire.ping\"}",
                 "-32600", NULL);
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"n1\"}", "-32600", "no method");
    /* the envelope, field by field (JSON-RPC 2.0's own codes) */
    expect_reply(fd, "[{\"jsonrpc\":\"2.0\",\"id\":\"b1\",\"method\":\"signalwire.ping\"}]",
                 "-32600", "batches are not supported");
    expect_reply(fd, "{\"jsonrpc\":\"1.0\",\"id\":\"v1\",\"method\":\"signalwire.ping\"}",
                 "-32600", "jsonrpc must be");
    expect_reply(fd, "{\"id\":\"v2\",\"method\":\"signalwire.ping\"}", "\"id\":\"v2\"",
                 "jsonrpc must be");
    expect_reply(fd, "{\"jsonrpc\":2,\"id\":\"v3\",\"method\":\"signalwire.ping\"}", "-32600",
                 "jsonrpc must be");
    /* response-shaped, but with a method that is not a string */
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"m1\",\"method\":7,\"result\":{}}", "-32600",
                 "method must be a string");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"m2\",\"method\":null}", "-32600",
                 "method must be a string");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"r2\",\"result\":{},\"error\":{}}", "-32600",
                 "not both");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", "-32600",
                 "needs the id of the request");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"signalwire.ping\"}",
                 "\"id\":null", "id must be");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"d1\",\"id\":\"d2\",\"method\":\"x\"}",
                 "-32700", "duplicate");
    expect_reply(fd, "\"just a string\"", "-32700", NULL); /* jansson wants an object or array */
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"p0\",\"method\":\"signalwire.ping\",\"params\":5}",
                 "-32602", "params must be an object");
    /* and the connection is still served */
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"pg0\",\"method\":\"signalwire.ping\"}",
                 "\"id\":\"pg0\"", "\"result\":{}");
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"p1\",\"method\":\"calling.answer\",\"params\":[]}",
                 "-32602", "params must be an object");
    /* calling before a session exists */
    expect_reply(fd,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"a1\",\"method\":\"calling.answer\",\"params\":"
                 "{\"call_id\":\"x\",\"node_id\":\"y\"}}",
                 "-32002", "signalwire.connect first");
    /* wrong credentials, then right ones on the same connection */
    expect_reply(fd,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"c0\",\"method\":\"signalwire.connect\",\"params\":"
                 "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"wrong\"}}}",
                 "-32002", "authentication failed"); /* the code realtime-api looks for */
    connect_ok(fd);
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"u1\",\"method\":\"calling.teleport\",\"params\":{}}",
                 "-32601", "method not found: calling.teleport");
    expect_reply(fd,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"a2\",\"method\":\"calling.answer\",\"params\":"
                 "{\"call_id\":\"no-such-call\",\"node_id\":\"n\"}}",
                 "\"code\":\"404\"", "call not found");
    expect_reply(fd,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"method\":\"calling.refer\",\"params\":"
                 "{\"call_id\":\"no-such-call\",\"node_id\":\"n\",\"device\":{\"type\":\"sip\","
                 "\"params\":{\"uri\":\"sip:a@b\\r\\nX: y\"}}}}",
                 "\"code\":\"404\"", NULL);
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"pg\",\"method\":\"signalwire.ping\",\"params\":{}}",
                 "\"id\":\"pg\"", "\"result\":{}");
    ws_raw_close(fd);
}

static void oversized_frame_is_refused_and_connection_survives(void **state)
{
    (void)state;
    int fd = open_conn();
    connect_ok(fd);
    size_t big = 100 * 1024;
    char *blob = malloc(big + 1);
    memset(blob, 'x', big);
    blob[big] = '\0';
    assert_int_equal(ws_raw_send(fd, blob, big), 0);
    free(blob);
    char *reply = ws_raw_recv_match(fd, "exceeds", 5000);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "102400 bytes exceeds the limit of 65536"));
    free(reply);
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"pg2\",\"method\":\"signalwire.ping\"}",
                 "\"id\":\"pg2\"", NULL);
    ws_raw_close(fd);
}

static void socket_dropped_mid_frame_does_not_hurt_others(void **state)
{
    (void)state;
    int bad = open_conn();
    const char *frame = "{\"jsonrpc\":\"2.0\",\"id\":\"half\",\"method\":\"signalwire.ping\"}";
    assert_int_equal(ws_raw_send_partial(bad, frame, strlen(frame), 10), 0);
    ws_raw_close(bad);
    int good = open_conn();
    connect_ok(good);
    ws_raw_close(good);
}

static void resumed_session_keeps_its_protocol(void **state)
{
    (void)state;
    int fd = open_conn();
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
                      "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN "\"}}}";
    assert_int_equal(ws_raw_send(fd, req, strlen(req)), 0);
    char *reply = ws_raw_recv(fd, 5000);
    assert_non_null(reply);
    char *p = strstr(reply, "signalwire_");
    assert_non_null(p);
    char protocol[80];
    size_t n = strcspn(p, "\"");
    assert_true(n < sizeof protocol);
    memcpy(protocol, p, n);
    protocol[n] = '\0';
    free(reply);
    ws_raw_close(fd);

    fd = open_conn();
    char resume[512];
    snprintf(resume, sizeof resume,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c2\",\"method\":\"signalwire.connect\",\"params\":"
             "{\"protocol\":\"%s\",\"authentication\":{\"project\":\"" PROJECT
             "\",\"token\":\"" TOKEN "\"}}}",
             protocol);
    expect_reply(fd, resume, protocol, "\"id\":\"c2\"");
    ws_raw_close(fd);
}

/* Credentials in every form a hostile or careless client can give them:
 * none may reach the (debug) log, whatever the frame's fate. */
#define SECRET(n) "S3CR3T-" #n "-7f1c"
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM0NSM1QtSldULTdmMWMifQ.c2lnbmF0dXJlLTdmMWM"

static void secrets_in_any_form_never_reach_the_log(void **state)
{
    (void)state;
    int fd = open_conn();
    static const char *const frames[] = {
        /* an escaped key name */
        "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"signalwire.ping\",\"params\":"
        "{\"auth\":{\"project_\\u0069d\":\"p\",\"tok\\u0065n\":\"" SECRET(1) "\"}}}",
        /* an array value, under a key in other case */
        "{\"jsonrpc\":\"2.0\",\"id\":\"s2\",\"method\":\"signalwire.ping\",\"params\":"
        "{\"Token\":[\"" SECRET(2) "\",\"x\"]}}",
        /* a parse error whose reason quotes the bytes */
        "{\"jsonrpc\":\"2.0\",\"token\":" SECRET(3) "}",
        /* a JWT where no key says so, and as a method name */
        "{\"jsonrpc\":\"2.0\",\"id\":\"s4\",\"method\":\"signalwire.ping\",\"params\":"
        "{\"note\":\"Bearer " JWT "\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"s5\",\"method\":\"" JWT "\"}",
        /* a response-shaped frame carrying one */
        "{\"jsonrpc\":\"2.0\",\"id\":\"s6\",\"result\":{\"password\":{\"v\":\"" SECRET(6) "\"}}}",
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        assert_int_equal(ws_raw_send(fd, frames[i], strlen(frames[i])), 0);
        if (i != 5) { /* all but the response are answered */
            char *reply = ws_raw_recv(fd, 5000);
            assert_non_null(reply);
            free(reply);
        }
    }
    /* a NUL byte inside the frame: the rest is not JSON, nor logged */
    static const char nul_frame[] = "{\"jsonrpc\":\"2.0\",\"id\":\"s7\",\"token\":\"ab\0" SECRET(7) "\"}";
    assert_int_equal(ws_raw_send(fd, nul_frame, sizeof nul_frame - 1), 0);
    char *reply = ws_raw_recv(fd, 5000);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "-32700"));
    free(reply);
    expect_reply(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"pg9\",\"method\":\"signalwire.ping\"}",
                 "\"id\":\"pg9\"", NULL);
    ws_raw_close(fd);

    /* the debug log holds every frame, including the connects above */
    usleep(200 * 1000);
    assert_true(relayd_proc_log_contains(&server, "signalwire.connect"));
    assert_true(relayd_proc_log_contains(&server, "unparsable frame"));
    static const char *const secrets[] = {TOKEN,     PROJECT,   SECRET(1), SECRET(2), SECRET(3),
                                          SECRET(6), SECRET(7), JWT,       "c2lnbmF0dXJlLTdmMWM"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (relayd_proc_log_contains(&server, secrets[i]))
            fail_msg("the log holds %s", secrets[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_frames_get_clear_errors),
        cmocka_unit_test(oversized_frame_is_refused_and_connection_survives),
        cmocka_unit_test(socket_dropped_mid_frame_does_not_hurt_others),
        cmocka_unit_test(resumed_session_keeps_its_protocol),
        cmocka_unit_test(secrets_in_any_form_never_reach_the_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
