/*
 * calling.connect and calling.disconnect against a real relayd: a sipp
 * caller (A) rings a context, the test (a raw WebSocket client, so it sees
 * the exact frames) answers and connects it to a sipp target (B). Both
 * SIP peers put their media on the test's own UDP sockets, so the test
 * speaks and listens for both: A offers PCMA only, B answers PCMU, and a
 * tone sent as A reaches B's socket (and another as B reaches A's) only if
 * relayd bridges and transcodes both ways. Also: B busy → failed with A up;
 * B hanging up → A disconnected and up; calling.disconnect → both up and
 * no more audio across; the us ringback heard by A while B rings; the
 * caller hanging up while B rings → B CANCELled; refusals (409, 400).
 * Last, librelay's blocking relay_call_connect (returns at connected)
 * and relay_call_disconnect against the same relayd.
 *
 * Ports: relayd ws 65500, SIP 31101, RTP 31200-31399; sipp caller 31102
 * (media 31460-31463), target 31110 (media 31470-31473); the test's RTP
 * sockets 31401 (A's media) and 31402 (B's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "rtp_ear.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 65500
#define SIP_PORT "31101"
#define CALLER_PORT "31102"
#define CALLER_MEDIA "31460"
#define TARGET "31110"
#define TARGET_MEDIA "31470"
#define RTP_A 31401
#define RTP_A_S "31401"
#define RTP_B 31402
#define RTP_B_S "31402"
#define PROJECT "connect-project"
#define TOKEN "connect-token-7c1d"
#define NODE "relayd-local"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:65500", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "31200-31399", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-connect.log");
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

static int quiet_waits; /* set while an event is expected not to come */

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
        if (now_ms() >= end) {
            if (timeout_ms > 0 && !quiet_waits) /* a failure to come: say what arrived */
                for (size_t i = 0; i < json_array_size(c->events); i++) {
                    char *t = json_dumps(json_array_get(c->events, i), JSON_COMPACT);
                    print_message("event %zu: %.200s\n", i, t);
                    free(t);
                }
            return -1;
        }
        json_decref(pump(c, NULL, 200));
    }
}

static json_t *event_at(client *c, int i) { return json_array_get(c->events, (size_t)i); }

/* ------------------------------------------------------------- peers */

static void sip_path(char *out, size_t n, const char *scenario)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), scenario);
}

/* A sipp UAS on TARGET with its media at the test's RTP_B socket. */
static pid_t target(const char *scenario, const char *pause_ms, const char *log)
{
    char path[600];
    sip_path(path, sizeof path, scenario);
    const char *argv[] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p",
                          TARGET, "-mp", TARGET_MEDIA, "-key", "rtp_port", RTP_B_S, "-d",
                          pause_ms, "-m", "1", "-timeout", "40s", "-timeout_error", "-nostdin",
                          NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* let it bind */
    return pid;
}

/* The sipp caller A on context "office", its media at RTP_A. */
static pid_t caller(const char *log)
{
    char path[600];
    sip_path(path, sizeof path, "uac_connect_caller.xml");
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", CALLER_PORT, "-mp",
                          CALLER_MEDIA, "-key", "rtp_port", RTP_A_S, "-m", "1", "-timeout",
                          "60s", "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

static json_t *sip_device(int timeout_s)
{
    json_t *p = json_pack("{s:s, s:s}", "from", "sip:relay@127.0.0.1", "to",
                          "sip:target@127.0.0.1:" TARGET);
    if (timeout_s)
        json_object_set_new(p, "timeout", json_integer(timeout_s));
    return json_pack("{s:s, s:o}", "type", "sip", "params", p);
}

static void expect_code(json_t *res, const char *code)
{
    if (strcmp(code_of(res) ? code_of(res) : "", code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(res, JSON_COMPACT));
    json_decref(res);
}

static void end_call(client *c, const char *call_id)
{
    expect_code(request(c, "calling.end",
                        json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE,
                                  "reason", "hangup")),
                "200");
}

/* Subscribes to "office", lets the caller ring, answers: A's call_id. */
static void answer_caller(client *c, char *call_id, size_t n)
{
    expect_code(request(c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "office")),
                "200");
    int i = wait_event(c, 0, "calling.call.receive", NULL, NULL, NULL, 10000);
    assert_true(i >= 0);
    snprintf(call_id, n, "%s", json_string_value(json_object_get(event_at(c, i), "call_id")));
    expect_code(request(c, "calling.answer",
                        json_pack("{s:s, s:s}", "call_id", call_id, "node_id", NODE)),
                "200");
    assert_true(wait_event(c, 0, "calling.call.state", "call_state", "answered", call_id,
                           10000) >= 0);
}

static json_t *connect_req(client *c, const char *call_id, json_t *devices, json_t *ringback)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:o}", "call_id", call_id, "node_id", NODE, "tag",
                          "tag-connect", "devices", devices);
    if (ringback)
        json_object_set_new(p, "ringback", ringback);
    return request(c, "calling.connect", p);
}

/* Connects A to the target and waits for connected: B's call_id. */
static void connect_answered(client *c, const char *a_id, char *b_id, size_t n)
{
    expect_code(connect_req(c, a_id, json_pack("[[o]]", sip_device(10)), NULL), "200");
    int ci = wait_event(c, 0, "calling.call.connect", "connect_state", "connecting", a_id, 5000);
    int co = wait_event(c, 0, "calling.call.connect", "connect_state", "connected", a_id, 10000);
    assert_true(ci >= 0 && co > ci);
    json_t *peer = json_object_get(event_at(c, co), "peer");
    assert_non_null(peer);
    snprintf(b_id, n, "%s", json_string_value(json_object_get(peer, "call_id")));
    assert_string_equal(json_string_value(json_object_get(peer, "node_id")), NODE);
    assert_string_equal(json_string_value(json_object_get(peer, "tag")), "tag-connect");
    assert_true(json_is_object(json_object_get(peer, "device")));
    assert_string_not_equal(b_id, a_id);
    /* the peer is a call of the session, like a dial's winner */
    assert_true(wait_event(c, 0, "calling.call.state", "call_state", "answered", b_id, 0) >= 0);
}

/* No calling.call.state ending/ended for call_id within ms: it is up. */
static void stays_up(client *c, const char *call_id, int ms)
{
    quiet_waits = 1;
    int i = wait_event(c, 0, "calling.call.state", "call_state", "ending", call_id, ms);
    quiet_waits = 0;
    assert_int_equal(i, -1);
}

/* --------------------------------------------------------------- audio */

/* For ms: A's socket speaks freq_a (PCMA), B's freq_b (PCMU), both listen. */
static void converse(rtp_ear *a, rtp_ear *b, double freq_a, double freq_b, int ms)
{
    int64_t start = now_ms(), next = start;
    while (now_ms() < start + ms) {
        rtp_ear_drain(a);
        rtp_ear_drain(b);
        if (now_ms() >= next) {
            rtp_ear_speak(a, 8, freq_a, 8000);
            rtp_ear_speak(b, 0, freq_b, 8000);
            next += 20;
        }
        sleep_ms(2);
    }
}

/* --------------------------------------------------------------- tests */

static void connected_legs_hear_each_other(void **state)
{
    (void)state;
    rtp_ear a, b;
    rtp_ear_open(&a, RTP_A);
    rtp_ear_open(&b, RTP_B);
    pid_t t = target("uas_dial_answer.xml", "500", "sipp-connect-target.log");
    pid_t k = caller("sipp-connect-caller.log");
    client c;
    client_open(&c);
    char a_id[64], b_id[64];
    answer_caller(&c, a_id, sizeof a_id);
    connect_answered(&c, a_id, b_id, sizeof b_id);

    /* relayd's bridge sends both sockets its (silent) frames: they tell
     * the test where each leg is; then each side speaks its own tone */
    converse(&a, &b, 0, 0, 500);
    assert_true(a.has_relayd && b.has_relayd);
    rtp_ear_reset(&a);
    rtp_ear_reset(&b);
    converse(&a, &b, 1000, 600, 2000);
    print_message("A heard %d packets, B heard %d\n", a.packets, b.packets);
    static const double off[] = {1000, 600, 1400, 300};
    assert_true(rtp_ear_hears(&b, 1000, off + 1, 3)); /* A's PCMA reached B as PCMU */
    assert_true(rtp_ear_hears(&a, 600, (const double[]){1000, 1400, 300}, 3)); /* and back */

    /* refusals while connected: a second connect on either leg, bad devices */
    expect_code(connect_req(&c, a_id, json_pack("[[o]]", sip_device(10)), NULL), "409");
    expect_code(connect_req(&c, b_id, json_pack("[[o]]", sip_device(10)), NULL), "409");
    expect_code(connect_req(&c, a_id, json_pack("[[]]"), NULL), "400");
    expect_code(connect_req(&c, a_id, json_pack("[]"), NULL), "400");
    expect_code(connect_req(&c, a_id, json_pack("[[{s:s}]]", "type", "sip"), NULL), "400");
    expect_code(connect_req(&c, a_id, json_pack("[[{s:s, s:{s:s}}]]", "type", "sip", "params",
                                                "to", "not a uri"), NULL),
                "400");

    /* the client unbridges: both legs up, both told, no more audio across */
    expect_code(request(&c, "calling.disconnect",
                        json_pack("{s:s, s:s}", "call_id", a_id, "node_id", NODE)),
                "200");
    assert_true(wait_event(&c, 0, "calling.call.connect", "connect_state", "disconnected", a_id,
                           5000) >= 0);
    assert_true(wait_event(&c, 0, "calling.call.connect", "connect_state", "disconnected", b_id,
                           5000) >= 0);
    converse(&a, &b, 0, 0, 300); /* what was in flight */
    rtp_ear_reset(&a);
    rtp_ear_reset(&b);
    converse(&a, &b, 1000, 600, 1000);
    assert_int_equal(b.packets, 0);
    assert_int_equal(a.packets, 0);
    stays_up(&c, a_id, 500);
    stays_up(&c, b_id, 0);
    /* not connected any more: disconnect is refused, with a reason */
    json_t *res = request(&c, "calling.disconnect",
                          json_pack("{s:s, s:s}", "call_id", a_id, "node_id", NODE));
    assert_non_null(json_object_get(res, "message"));
    expect_code(res, "409");

    end_call(&c, b_id);
    end_call(&c, a_id);
    assert_int_equal(child_wait(t, 10000), 0); /* each sipp got its BYE */
    assert_int_equal(child_wait(k, 10000), 0);
    client_close(&c);
    rtp_ear_close(&a);
    rtp_ear_close(&b);
}

static void busy_target_fails_and_caller_stays(void **state)
{
    (void)state;
    pid_t t = target("uas_dial_busy.xml", "0", "sipp-connect-busy.log");
    pid_t k = caller("sipp-connect-caller-busy.log");
    client c;
    client_open(&c);
    char a_id[64];
    answer_caller(&c, a_id, sizeof a_id);
    expect_code(connect_req(&c, a_id, json_pack("[[o]]", sip_device(10)), NULL), "200");
    int f = wait_event(&c, 0, "calling.call.connect", "connect_state", "failed", a_id, 10000);
    assert_true(f >= 0);
    assert_string_equal(json_string_value(json_object_get(event_at(&c, f), "reason")), "busy");
    assert_null(json_object_get(event_at(&c, f), "peer"));
    stays_up(&c, a_id, 500);
    /* a failed connect leaves nothing behind: disconnect is refused, and
     * a new connect would be accepted (not tried: no target left) */
    expect_code(request(&c, "calling.disconnect",
                        json_pack("{s:s, s:s}", "call_id", a_id, "node_id", NODE)),
                "409");
    end_call(&c, a_id);
    assert_int_equal(child_wait(t, 10000), 0);
    assert_int_equal(child_wait(k, 10000), 0);
    client_close(&c);
}

static void peer_hangup_disconnects_and_caller_stays(void **state)
{
    (void)state;
    pid_t t = target("uas_connect_hangup.xml", "200", "sipp-connect-hangup.log");
    pid_t k = caller("sipp-connect-caller-hangup.log");
    client c;
    client_open(&c);
    char a_id[64], b_id[64];
    answer_caller(&c, a_id, sizeof a_id);
    connect_answered(&c, a_id, b_id, sizeof b_id);
    /* B sends its BYE 3 s after answering */
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", b_id, 10000) >= 0);
    int d = wait_event(&c, 0, "calling.call.connect", "connect_state", "disconnected", a_id, 5000);
    assert_true(d >= 0);
    assert_int_equal(child_wait(t, 10000), 0);
    stays_up(&c, a_id, 1000); /* RELAY: the remaining call is the app's to end */
    end_call(&c, a_id);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", a_id, 5000) >= 0);
    assert_int_equal(child_wait(k, 10000), 0);
    client_close(&c);
}

static void caller_hears_ringback_while_peer_rings(void **state)
{
    (void)state;
    rtp_ear a, b;
    rtp_ear_open(&a, RTP_A);
    rtp_ear_open(&b, RTP_B);
    pid_t t = target("uas_dial_answer.xml", "4000", "sipp-connect-ringback.log");
    pid_t k = caller("sipp-connect-caller-ringback.log");
    client c;
    client_open(&c);
    char a_id[64];
    answer_caller(&c, a_id, sizeof a_id);
    converse(&a, &b, 0, 0, 300);
    assert_int_equal(a.packets, 0); /* nothing plays to A before the connect */
    json_t *rb = json_pack("[{s:s, s:{s:s}}]", "type", "ringtone", "params", "name", "us");
    expect_code(connect_req(&c, a_id, json_pack("[[o]]", sip_device(10)), rb), "200");
    /* the us ring: 440 + 480 Hz, 2 s on; B answers after 4 s */
    converse(&a, &b, 0, 0, 1800);
    print_message("A heard %d ringback packets\n", a.packets);
    assert_true(a.packets >= 40);
    assert_true(rtp_ear_hears(&a, 440, (const double[]){1000, 600, 300}, 3));
    assert_true(rtp_ear_hears(&a, 480, (const double[]){1000, 600, 300}, 3));
    assert_int_equal(wait_event(&c, 0, "calling.call.connect", "connect_state", "connected",
                                a_id, 0), -1);
    assert_true(wait_event(&c, 0, "calling.call.connect", "connect_state", "connected", a_id,
                           10000) >= 0);
    end_call(&c, a_id); /* the caller goes: the peer is not hung up with it */
    int pd = -1;
    json_t *ev;
    size_t i;
    json_array_foreach(c.events, i, ev)
    {
        if (matches(ev, "calling.call.connect", "connect_state", "connected") &&
            strcmp(json_string_value(json_object_get(ev, "call_id")), a_id) != 0)
            pd = (int)i;
    }
    assert_true(pd >= 0);
    char b_id[64];
    snprintf(b_id, sizeof b_id, "%s", json_string_value(json_object_get(event_at(&c, pd), "call_id")));
    assert_true(wait_event(&c, 0, "calling.call.connect", "connect_state", "disconnected", b_id,
                           5000) >= 0);
    stays_up(&c, b_id, 500);
    end_call(&c, b_id);
    assert_int_equal(child_wait(t, 10000), 0);
    assert_int_equal(child_wait(k, 10000), 0);
    client_close(&c);
    rtp_ear_close(&a);
    rtp_ear_close(&b);
}

static void caller_hangup_while_ringing_cancels_the_peer(void **state)
{
    (void)state;
    /* uas_dial_cancelled.xml fails unless relayd CANCELs it */
    pid_t t = target("uas_dial_cancelled.xml", "0", "sipp-connect-cancelled.log");
    pid_t k = caller("sipp-connect-caller-cancel.log");
    client c;
    client_open(&c);
    char a_id[64];
    answer_caller(&c, a_id, sizeof a_id);
    expect_code(connect_req(&c, a_id, json_pack("[[o]]", sip_device(30)), NULL), "200");
    int r = wait_event(&c, 0, "calling.call.state", "call_state", "ringing", NULL, 5000);
    assert_true(r >= 0);
    end_call(&c, a_id);
    assert_true(wait_event(&c, 0, "calling.call.connect", "connect_state", "failed", a_id, 5000) >=
                0);
    assert_int_equal(child_wait(t, 10000), 0);
    assert_int_equal(child_wait(k, 10000), 0);
    client_close(&c);
}

/* ------------------------------------------------------------ librelay */

static struct {
    pthread_mutex_t lock;
    int done;
    relay_status answer, connect, disconnect;
    char state[32], disconnect_code[8];
    int has_peer;
} lc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void lc_on_call(relay_call *call, void *user)
{
    (void)user;
    lc.answer = relay_call_answer(call, NULL);
    relay_connect_params p = {
        .devices_json = "[[{\"type\":\"sip\",\"params\":{\"to\":\"sip:target@127.0.0.1:" TARGET
                        "\",\"timeout\":10}}]]",
        .tag = "lib-connect"};
    relay_result *res = NULL;
    lc.connect = relay_call_connect(call, &p, &res); /* returns once connected or failed */
    const char *state = res ? relay_result_get(res, "connect_state") : NULL;
    snprintf(lc.state, sizeof lc.state, "%s", state ? state : "");
    lc.has_peer = res && strstr(relay_result_json(res), "\"peer\"") != NULL;
    relay_result_free(res);
    res = NULL;
    lc.disconnect = relay_call_disconnect(call, &res);
    snprintf(lc.disconnect_code, sizeof lc.disconnect_code, "%s",
             res && relay_result_code(res) ? relay_result_code(res) : "");
    relay_result_free(res);
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&lc.lock);
    lc.done = 1;
    pthread_mutex_unlock(&lc.lock);
}

static void librelay_connect_blocks_until_connected(void **state)
{
    (void)state;
    relay_client *rc =
        office_client_connect(WS_PORT, PROJECT, TOKEN, "office", lc_on_call, NULL);
    /* the target hangs up by itself 3 s after answering: by then the
     * client has disconnected the pair and hung the caller up */
    pid_t t = target("uas_connect_hangup.xml", "300", "sipp-connect-lib-target.log");
    pid_t k = caller("sipp-connect-lib-caller.log");
    int64_t end = now_ms() + 20000;
    int done = 0;
    while (!done && now_ms() < end) {
        sleep_ms(50);
        pthread_mutex_lock(&lc.lock);
        done = lc.done;
        pthread_mutex_unlock(&lc.lock);
    }
    assert_true(done);
    assert_int_equal(lc.answer, RELAY_OK);
    assert_int_equal(lc.connect, RELAY_OK);
    assert_string_equal(lc.state, "connected");
    assert_true(lc.has_peer);
    assert_int_equal(lc.disconnect, RELAY_OK);
    assert_string_equal(lc.disconnect_code, "200");
    assert_int_equal(child_wait(k, 10000), 0);
    assert_int_equal(child_wait(t, 10000), 0);
    relay_client_free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connected_legs_hear_each_other),
        cmocka_unit_test(busy_target_fails_and_caller_stays),
        cmocka_unit_test(peer_hangup_disconnects_and_caller_stays),
        cmocka_unit_test(caller_hears_ringback_while_peer_rings),
        cmocka_unit_test(caller_hangup_while_ringing_cancels_the_peer),
        cmocka_unit_test(librelay_connect_blocks_until_connected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
