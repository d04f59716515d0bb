/*
 * calling.dial and calling.begin against a real relayd, with sipp as the
 * dialled SIP peers and the test as a raw WebSocket client (so it sees the
 * exact frames): a target that answers (then a play to it is heard as RTP
 * on the test's own socket), one that is busy, one that never answers
 * (the device's timeout makes relayd CANCEL it: the sipp scenario fails
 * without the CANCEL), two in parallel (the loser is CANCELled), two
 * groups in series, calling.begin, and refused requests.
 *
 * Ports: relayd ws 61400, SIP 50001, RTP 50100-50199; sipp targets
 * 50010-50012; the test's RTP socket 50050.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "child.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 61400
#define SIP_PORT "50001"
#define TARGET_A "50010"
#define TARGET_B "50011"
#define TRUNK "50012"
#define RTP_PORT 50050
#define RTP_PORT_S "50050"
#define PROJECT "dial-project"
#define TOKEN "dial-token-51f0"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61400", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "50100-50199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", "--phone-trunk",
                          "sip:{number}@127.0.0.1:" TRUNK, NULL};
    return relayd_proc_start(&server, args, "relayd-dial.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- client
 * A raw client (tests/support/rpc_client.h) on this test's relayd. */
typedef rpc_client client;

static void client_open(client *c) { rpc_client_open(c, WS_PORT, PROJECT, TOKEN, NULL); }
static void client_close(client *c) { rpc_client_close(c); }
static json_t *pump(client *c, const char *want_id, int timeout_ms)
{
    return rpc_client_pump(c, want_id, timeout_ms);
}
static json_t *request(client *c, const char *method, json_t *params)
{
    return rpc_client_request(c, method, params);
}

static const char *code_of(json_t *res) { return rpc_code_of(res); }

static int matches(json_t *ev, const char *type, const char *key, const char *value)
{
    return rpc_event_matches(ev, type, key, value);
}

/* Index of the first recorded event after `from` of this type whose key
 * has this value (and, when call_id is not NULL, of that call), waiting
 * up to timeout_ms for it. -1 if none came. */
static int wait_event(client *c, int from, const char *type, const char *key, const char *value,
                      const char *call_id, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            if (matches(ev, type, key, value) &&
                (!call_id || matches(ev, type, "call_id", call_id)))
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(pump(c, NULL, 200));
    }
}

static json_t *event_at(client *c, int i) { return json_array_get(c->events, (size_t)i); }

/* The tag of every calling.call.state event of call_id is the dial's. */
static void states_carry_tag(client *c, const char *call_id, const char *tag)
{
    int n = 0;
    for (size_t i = 0; i < json_array_size(c->events); i++) {
        json_t *ev = json_array_get(c->events, i);
        if (!matches(ev, "calling.call.state", "call_id", call_id))
            continue;
        n++;
        assert_string_equal(json_string_value(json_object_get(ev, "tag")), tag);
        assert_string_equal(json_string_value(json_object_get(ev, "direction")), "outbound");
        assert_true(json_is_object(json_object_get(ev, "device")));
    }
    assert_true(n >= 2);
}

/* ------------------------------------------------------------- targets */

/* A sipp UAS on port with scenario; extra: -d pause for the answer. */
static pid_t target(const char *scenario, const char *port, const char *pause_ms,
                    const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", port,
                          "-key", "rtp_port", RTP_PORT_S, "-d", pause_ms, "-m", "1",
                          "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* let it bind */
    return pid;
}

static json_t *sip_device(const char *port, int timeout_s)
{
    char to[64];
    snprintf(to, sizeof to, "sip:target@127.0.0.1:%s", port);
    json_t *p = json_pack("{s:s, s:s, s:s}", "from", "sip:relay@127.0.0.1", "to", to,
                          "from_name", "Relay Test");
    if (timeout_s)
        json_object_set_new(p, "timeout", json_integer(timeout_s));
    return json_pack("{s:s, s:o}", "type", "sip", "params", p);
}

static json_t *dial(client *c, const char *tag, json_t *devices)
{
    return request(c, "calling.dial", json_pack("{s:s, s:o}", "tag", tag, "devices", devices));
}

static void end_call(client *c, const char *call_id)
{
    json_t *res = request(c, "calling.end",
                          json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id",
                                    "relayd-local", "reason", "hangup"));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
}

/* RTP packets arriving on sock within ms. */
static int count_rtp(int sock, int ms)
{
    int n = 0;
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        unsigned char buf[2048];
        ssize_t len = recv(sock, buf, sizeof buf, 0);
        if (len >= 12 && (buf[0] & 0xc0) == 0x80 && (buf[1] & 0x7f) == 0)
            n++; /* RTP version 2, PCMU */
    }
    return n;
}

static int rtp_socket(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(RTP_PORT)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    return s;
}

/* --------------------------------------------------------------- tests */

static void dial_answered_then_played_to(void **state)
{
    (void)state;
    int rtp = rtp_socket();
    pid_t t = target("uas_dial_answer.xml", TARGET_A, "200", "sipp-dial-answer.log");
    client c;
    client_open(&c);
    json_t *res = dial(&c, "tag-answer", json_pack("[[o]]", sip_device(TARGET_A, 10)));
    assert_string_equal(code_of(res), "200");
    assert_null(json_object_get(res, "call_id")); /* dial answers without a call */
    json_decref(res);

    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "answered", NULL, 10000);
    assert_true(i >= 0);
    json_t *ev = event_at(&c, i);
    assert_string_equal(json_string_value(json_object_get(ev, "tag")), "tag-answer");
    json_t *call = json_object_get(ev, "call");
    assert_true(json_is_true(json_object_get(call, "dial_winner")));
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", json_string_value(json_object_get(call, "call_id")));
    assert_string_equal(json_string_value(json_object_get(call, "tag")), "tag-answer");
    /* the leg went created → ringing → answered, each state with the tag,
     * before the dial's answer */
    int cr = wait_event(&c, 0, "calling.call.state", "call_state", "created", call_id, 0);
    int ri = wait_event(&c, 0, "calling.call.state", "call_state", "ringing", call_id, 0);
    int an = wait_event(&c, 0, "calling.call.state", "call_state", "answered", call_id, 0);
    assert_true(cr >= 0 && ri > cr && an > ri && i > an);
    states_carry_tag(&c, call_id, "tag-answer");

    /* the winner is a normal call: a play to it reaches the target's RTP port */
    res = request(&c, "calling.play",
                  json_pack("{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:i}}]}", "call_id", call_id,
                            "node_id", "relayd-local", "control_id", "play-1", "play", "type",
                            "ringtone", "params", "name", "us", "duration", 1));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int packets = count_rtp(rtp, 1500);
    assert_true(packets >= 40); /* 1 s of 20 ms packets, some slack */
    assert_true(wait_event(&c, 0, "calling.call.play", "state", "finished", call_id, 5000) >= 0);

    end_call(&c, call_id);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", call_id, 5000) >= 0);
    assert_int_equal(child_wait(t, 10000), 0); /* sipp got its BYE */
    client_close(&c);
    close(rtp);
}

static void dial_busy_fails_with_reason(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_busy.xml", TARGET_A, "0", "sipp-dial-busy.log");
    client c;
    client_open(&c);
    json_t *res = dial(&c, "tag-busy", json_pack("[[o]]", sip_device(TARGET_A, 10)));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "failed", NULL, 10000);
    assert_true(i >= 0);
    json_t *ev = event_at(&c, i);
    assert_string_equal(json_string_value(json_object_get(ev, "tag")), "tag-busy");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "busy");
    int e = wait_event(&c, 0, "calling.call.state", "call_state", "ended", NULL, 0);
    assert_true(e >= 0 && e < i);
    assert_string_equal(json_string_value(json_object_get(event_at(&c, e), "end_reason")), "busy");
    assert_string_equal(json_string_value(json_object_get(event_at(&c, e), "tag")), "tag-busy");
    assert_int_equal(child_wait(t, 10000), 0);
    client_close(&c);
}

static void dial_not_answered_is_cancelled_at_timeout(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_cancelled.xml", TARGET_A, "0", "sipp-dial-timeout.log");
    client c;
    client_open(&c);
    int64_t start = now_ms();
    json_t *res = dial(&c, "tag-timeout", json_pack("[[o]]", sip_device(TARGET_A, 2)));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "failed", NULL, 10000);
    int64_t took = now_ms() - start;
    assert_true(i >= 0);
    assert_true(took >= 1800 && took < 5000); /* the device's 2 s timeout */
    assert_string_equal(json_string_value(json_object_get(event_at(&c, i), "reason")), "noAnswer");
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ringing", NULL, 0) >= 0);
    assert_int_equal(child_wait(t, 10000), 0); /* the scenario received the CANCEL */
    client_close(&c);
}

static void dial_parallel_first_answer_wins_other_cancelled(void **state)
{
    (void)state;
    pid_t winner = target("uas_dial_answer.xml", TARGET_A, "1000", "sipp-dial-par-a.log");
    pid_t loser = target("uas_dial_cancelled.xml", TARGET_B, "0", "sipp-dial-par-b.log");
    client c;
    client_open(&c);
    json_t *res = dial(&c, "tag-par", json_pack("[[o, o]]", sip_device(TARGET_A, 10),
                                                 sip_device(TARGET_B, 10)));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "answered", NULL, 10000);
    assert_true(i >= 0);
    json_t *call = json_object_get(event_at(&c, i), "call");
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", json_string_value(json_object_get(call, "call_id")));
    const char *to = json_string_value(
        json_object_get(json_object_get(json_object_get(call, "device"), "params"), "to"));
    assert_non_null(strstr(to, TARGET_A));
    /* the other leg ends cancelled, and its sipp saw the CANCEL */
    int e = wait_event(&c, 0, "calling.call.state", "end_reason", "cancel", NULL, 5000);
    assert_true(e >= 0);
    assert_string_not_equal(json_string_value(json_object_get(event_at(&c, e), "call_id")),
                            call_id);
    assert_int_equal(child_wait(loser, 10000), 0);
    end_call(&c, call_id);
    assert_int_equal(child_wait(winner, 10000), 0);
    client_close(&c);
}

static void dial_serial_tries_the_next_group(void **state)
{
    (void)state;
    pid_t busy = target("uas_dial_busy.xml", TARGET_A, "0", "sipp-dial-ser-a.log");
    pid_t ok = target("uas_dial_answer.xml", TARGET_B, "0", "sipp-dial-ser-b.log");
    client c;
    client_open(&c);
    json_t *res = dial(&c, "tag-ser", json_pack("[[o], [o]]", sip_device(TARGET_A, 10),
                                                 sip_device(TARGET_B, 10)));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "answered", NULL, 10000);
    assert_true(i >= 0);
    /* the busy leg ended before the second group's answer */
    int e = wait_event(&c, 0, "calling.call.state", "end_reason", "busy", NULL, 0);
    assert_true(e >= 0 && e < i);
    assert_int_equal(wait_event(&c, 0, "calling.call.dial", "dial_state", "failed", NULL, 0), -1);
    json_t *call = json_object_get(event_at(&c, i), "call");
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", json_string_value(json_object_get(call, "call_id")));
    end_call(&c, call_id);
    assert_int_equal(child_wait(busy, 10000), 0);
    assert_int_equal(child_wait(ok, 10000), 0);
    client_close(&c);
}

static void begin_answers_with_the_call_id(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_answer.xml", TARGET_A, "0", "sipp-begin.log");
    client c;
    client_open(&c);
    json_t *res = request(&c, "calling.begin",
                          json_pack("{s:s, s:o}", "tag", "tag-begin", "device",
                                    sip_device(TARGET_A, 10)));
    assert_string_equal(code_of(res), "200");
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", json_string_value(json_object_get(res, "call_id")));
    json_decref(res);
    assert_true(strlen(call_id) > 10);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "answered", call_id, 10000) >=
                0);
    states_carry_tag(&c, call_id, "tag-begin");
    assert_int_equal(wait_event(&c, 0, "calling.call.dial", NULL, NULL, NULL, 0), -1);
    end_call(&c, call_id);
    assert_int_equal(child_wait(t, 10000), 0);
    client_close(&c);
}

static json_t *call_params(const char *call_id)
{
    return json_pack("{s:s, s:s}", "call_id", call_id, "node_id", "relayd-local");
}

/* relayd holds a dialled call (sendonly re-INVITE, RTP stops), unholds it
 * (sendrecv, RTP again); then the target holds relayd (relayd answers
 * recvonly and stops sending) and resumes. The sipp scenario checks every
 * SDP direction; the test counts the RTP it receives as the target. */
static void hold_and_unhold_both_ways(void **state)
{
    (void)state;
    int rtp = rtp_socket();
    pid_t t = target("uas_dial_hold.xml", TARGET_A, "0", "sipp-dial-hold.log");
    client c;
    client_open(&c);
    json_t *res = dial(&c, "tag-hold", json_pack("[[o]]", sip_device(TARGET_A, 10)));
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "answered", NULL, 10000);
    assert_true(i >= 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s",
             json_string_value(json_object_get(json_object_get(event_at(&c, i), "call"), "call_id")));
    json_t *pp = call_params(call_id);
    json_object_set_new(pp, "control_id", json_string("hold-play"));
    json_object_set_new(pp, "play", json_pack("[{s:s, s:{s:s, s:i}}]", "type", "ringtone",
                                              "params", "name", "us", "duration", 30));
    res = request(&c, "calling.play", pp);
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    assert_true(count_rtp(rtp, 1000) >= 30);

    res = request(&c, "calling.hold", call_params(call_id));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    assert_true(wait_event(&c, 0, "calling.call.hold", "state", "held", call_id, 2000) >= 0);
    count_rtp(rtp, 200); /* what was in flight */
    assert_int_equal(count_rtp(rtp, 1000), 0);

    res = request(&c, "calling.unhold", call_params(call_id));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int64_t unheld = now_ms();
    assert_true(wait_event(&c, 0, "calling.call.hold", "state", "unheld", call_id, 2000) >= 0);
    assert_true(count_rtp(rtp, 1000) >= 30);

    /* the target holds relayd 1.5 s after the unhold, for 2.5 s */
    sleep_ms((int)(unheld + 2100 - now_ms()));
    count_rtp(rtp, 100); /* what queued up in the socket before the hold */
    assert_int_equal(count_rtp(rtp, 1000), 0);
    sleep_ms((int)(unheld + 4600 - now_ms()));
    assert_true(count_rtp(rtp, 1000) >= 30);

    end_call(&c, call_id);
    assert_int_equal(child_wait(t, 10000), 0); /* every SDP direction was as expected */
    client_close(&c);
    close(rtp);
}

/* A phone device goes to the configured trunk with the numbers as users. */
static void phone_device_goes_through_the_trunk(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_number.xml", TRUNK, "0", "sipp-dial-trunk.log");
    client c;
    client_open(&c);
    json_t *dev = json_pack("{s:s, s:{s:s, s:s}}", "type", "phone", "params", "from_number",
                            "+15559990000", "to_number", "+15550001111");
    json_t *res = dial(&c, "tag-phone", json_pack("[[o]]", dev));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, 0, "calling.call.dial", "dial_state", "failed", NULL, 10000);
    assert_true(i >= 0);
    assert_string_equal(json_string_value(json_object_get(event_at(&c, i), "reason")), "busy");
    assert_int_equal(child_wait(t, 10000), 0); /* the trunk saw both numbers */
    client_close(&c);
}

static void bad_dials_are_refused_and_nothing_is_sent(void **state)
{
    (void)state;
    client c;
    client_open(&c);
    struct {
        const char *json;
        const char *code;
        const char *words;
    } cases[] = {
        {"{\"devices\":[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:a@127.0.0.1\"}}]]}", "400",
         "tag"},
        {"{\"tag\":\"t\",\"devices\":[]}", "400", "devices"},
        {"{\"tag\":\"t\",\"devices\":[[]]}", "400", "devices"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:a b@x\"}}]]}",
         "400", "invalid to"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:a@x\","
         "\"headers\":[{\"name\":\"Via\",\"value\":\"x\"}]}}]]}",
         "400", "header"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:a@x\","
         "\"timeout\":0}}]]}",
         "400", "timeout"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:a@x\","
         "\"from_name\":\"a\\\"b\"}}]]}",
         "400", "from_name"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"phone\",\"params\":{\"from_number\":\"+1555\","
         "\"to_number\":\"+1666@evil\"}}]]}",
         "400", "to_number"},
        {"{\"tag\":\"t\",\"devices\":[[{\"type\":\"webrtc\",\"params\":{}}]]}", "501",
         "webrtc"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *res = request(&c, "calling.dial", json_loads(cases[k].json, 0, NULL));
        assert_string_equal(code_of(res), cases[k].code);
        const char *msg = json_string_value(json_object_get(res, "message"));
        if (!msg || !strstr(msg, cases[k].words))
            fail_msg("case %zu: message '%s' lacks '%s'", k, msg ? msg : "", cases[k].words);
        json_decref(res);
    }
    /* nothing was placed: no call state at all */
    assert_int_equal(wait_event(&c, 0, "calling.call.state", NULL, NULL, NULL, 500), -1);
    assert_false(relayd_proc_log_contains(&server, "sip -> INVITE <sip:a"));
    client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dial_answered_then_played_to),
        cmocka_unit_test(dial_busy_fails_with_reason),
        cmocka_unit_test(dial_not_answered_is_cancelled_at_timeout),
        cmocka_unit_test(dial_parallel_first_answer_wins_other_cancelled),
        cmocka_unit_test(dial_serial_tries_the_next_group),
        cmocka_unit_test(begin_answers_with_the_call_id),
        cmocka_unit_test(hold_and_unhold_both_ways),
        cmocka_unit_test(phone_device_goes_through_the_trunk),
        cmocka_unit_test(bad_dials_are_refused_and_nothing_is_sent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
