/*
 * calling.queue.enter / calling.queue.leave and connecting to a queue,
 * against a real relayd with real sipp callers. The test is a raw
 * WebSocket client (it sees the exact frames) answering every call on
 * context "support". Caller 1 (sipp, hangs up by itself) and caller 2
 * (sipp, its media on the test's own UDP socket W) enter queue "support":
 * positions 1 and 2, size 2; caller 2 hears the hold audio (the us
 * ringtone: 440 + 480 Hz, measured on W). With queue_max_callers 2 and
 * queue_max_queues 1, a third caller (the agent, media on socket G) is
 * refused both a place in "support" (full) and a new queue (too many).
 * Caller 1 hangs up: caller 2 is told position 1. The agent connects with
 * a queue device: caller 2 is dequeued and bridged; a tone sent as each
 * side is measured (Goertzel) at the other's socket, and the hold audio
 * is gone. Then caller 2 enters again and leaves with queue.leave (the
 * hold audio stops), a connect to the now empty queue is refused with the
 * reason, malformed requests get 400, and a caller hung up the moment it
 * enters leaves the queue. relayd's clean exit (ASan) is checked last.
 *
 * Ports: relayd ws 62100, SIP 34001, RTP 34100-34299; sipp caller 1 34010
 * (media 34400), caller 2 34011 (media 34410), agent 34012 (media 34420);
 * the test's RTP sockets 34301 (caller 2's media) and 34302 (the agent's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
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
#include "rtp_ear.h"
#include "test_time.h"

#define WS_PORT 62100
#define SIP_PORT "34001"
#define RTP_W 34301
#define RTP_W_S "34301"
#define RTP_G 34302
#define RTP_G_S "34302"
#define PROJECT "queue-project"
#define TOKEN "queue-token-5e2a"
#define NODE "relayd-local"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:62100", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "34100-34299", "--auth",
                          PROJECT ":" TOKEN, "--queue-max-callers", "2", "--queue-max-queues",
                          "1", "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-queue.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- client */

typedef rpc_client client;

static int quiet_waits; /* set while an event is expected not to come */

/* Index of the first event after `from` of this type, of call_id (when
 * not NULL), whose key has this value (key NULL: any), waiting up to
 * timeout_ms. -1 if none came. */
static int wait_event(client *c, int from, const char *type, const char *key, const char *value,
                      const char *call_id, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            if (rpc_event_matches(ev, type, key, value) &&
                (!call_id || rpc_event_matches(ev, type, "call_id", call_id)))
                return (int)i;
        }
        if (now_ms() >= end) {
            if (timeout_ms > 0 && !quiet_waits)
                for (size_t i = 0; i < json_array_size(c->events); i++) {
                    char *t = json_dumps(json_array_get(c->events, i), JSON_COMPACT);
                    print_message("event %zu: %.300s\n", i, t);
                    free(t);
                }
            return -1;
        }
        json_decref(rpc_client_pump(c, NULL, 200));
    }
}

static json_t *event_at(client *c, int i) { return json_array_get(c->events, (size_t)i); }
static int events_now(client *c) { return (int)json_array_size(c->events); }

static json_int_t int_of(json_t *ev, const char *key)
{
    json_t *v = json_object_get(ev, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *str_of(json_t *ev, const char *key)
{
    const char *s = json_string_value(json_object_get(ev, key));
    assert_non_null(s);
    return s;
}

static void expect_code(json_t *res, const char *code)
{
    const char *got = rpc_code_of(res);
    if (strcmp(got ? got : "", code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(res, JSON_COMPACT));
    json_decref(res);
}

/* A refusal: the code, and a message containing `says`. */
static void expect_refusal(json_t *res, const char *code, const char *says)
{
    const char *msg = json_string_value(json_object_get(res, "message"));
    if (!msg || !strstr(msg, says))
        fail_msg("expected a message with \"%s\", got %s", says, json_dumps(res, JSON_COMPACT));
    print_message("refused %s: %s\n", code, msg);
    expect_code(res, code);
}

static json_t *call_req(client *c, const char *method, const char *call_id, json_t *params)
{
    json_object_set_new(params, "call_id", json_string(call_id));
    json_object_set_new(params, "node_id", json_string(NODE));
    return rpc_client_request(c, method, params);
}

static json_t *enter(client *c, const char *call_id, const char *name, const char *control_id)
{
    return call_req(c, "calling.queue.enter", call_id,
                    json_pack("{s:s, s:s}", "queue_name", name, "control_id", control_id));
}

static json_t *connect_queue(client *c, const char *call_id, json_t *queue_params)
{
    return call_req(c, "calling.connect", call_id,
                    json_pack("{s:s, s:[[{s:s, s:o}]]}", "tag", "tag-agent", "devices", "type",
                              "queue", "params", queue_params));
}

/* The next call offered after event index *from: answered; its call_id. */
static void answer_next(client *c, int *from, char *call_id, size_t n, int enter_first)
{
    int i = wait_event(c, *from, "calling.call.receive", NULL, NULL, NULL, 10000);
    assert_true(i >= 0);
    *from = i + 1;
    snprintf(call_id, n, "%s", str_of(event_at(c, i), "call_id"));
    if (enter_first) /* not answered yet: no queue */
        expect_refusal(enter(c, call_id, "support", "early"), "409", "answered");
    expect_code(call_req(c, "calling.answer", call_id, json_object()), "200");
    assert_true(wait_event(c, 0, "calling.call.state", "call_state", "answered", call_id,
                           10000) >= 0);
}

/* The first calling.call.queue event after `from` of call_id with this
 * status and position; its index. */
static int wait_queue_event(client *c, int from, const char *call_id, const char *status,
                            json_int_t position, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        int i = wait_event(c, from, "calling.call.queue", "status", status, call_id,
                           (int)(end - now_ms() > 0 ? end - now_ms() : 0));
        if (i < 0)
            return -1;
        if (int_of(event_at(c, i), "position") == position)
            return i;
        from = i + 1;
    }
}

/* ------------------------------------------------------------- peers */

static void sip_path(char *out, size_t n, const char *scenario)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), scenario);
}

/* A sipp caller to "support" on port; media at the test's socket rtp (a
 * PCMA caller waiting for relayd's BYE), or, rtp NULL, a caller hanging
 * up by itself hangup_ms after its ACK. */
static pid_t caller(const char *port, const char *media, const char *rtp, const char *hangup_ms,
                    const char *log)
{
    char path[600];
    sip_path(path, sizeof path, rtp ? "uac_connect_caller.xml" : "uac_hangs_up.xml");
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "support", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", port, "-mp", media, "-m", "1",
                          "-timeout", "60s", "-timeout_error", "-nostdin",
                          rtp ? "-key" : "-d", rtp ? "rtp_port" : hangup_ms, rtp, NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

/* --------------------------------------------------------------- audio */

/* For ms: w speaks freq_w, g speaks freq_g (PCMA both), both listen (and
 * the client keeps reading its events). */
static void converse(client *c, rtp_ear *w, rtp_ear *g, double freq_w, double freq_g, int ms)
{
    int64_t start = now_ms(), next = start;
    while (now_ms() < start + ms) {
        rtp_ear_drain(w);
        rtp_ear_drain(g);
        if (now_ms() >= next) {
            rtp_ear_speak(w, 8, freq_w, 8000);
            rtp_ear_speak(g, 8, freq_g, 8000);
            next += 20;
        }
        json_decref(rpc_client_pump(c, NULL, 2));
    }
}

/* --------------------------------------------------------------- tests */

static void check_enqueue(client *c, int i, const char *control_id, json_int_t position,
                          json_int_t size, const char *queue_id)
{
    json_t *ev = event_at(c, i);
    assert_string_equal(str_of(ev, "control_id"), control_id);
    assert_string_equal(str_of(ev, "name"), "support");
    assert_string_equal(str_of(ev, "queue_name"), "support");
    assert_string_equal(str_of(ev, "id"), queue_id);
    assert_string_equal(str_of(ev, "queue_id"), queue_id);
    assert_int_equal(int_of(ev, "position"), position);
    assert_int_equal(int_of(ev, "size"), size);
}

static void bad_requests(client *c, const char *id)
{
    expect_refusal(call_req(c, "calling.queue.enter", id, json_object()), "400", "queue_name");
    expect_refusal(call_req(c, "calling.queue.enter", id, json_pack("{s:i}", "queue_name", 42)),
                   "400", "queue_name");
    char long_name[200];
    memset(long_name, 'q', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    expect_refusal(enter(c, id, long_name, "x"), "400", "1 to 128");
    expect_refusal(enter(c, id, "bad\nname", "x"), "400", "control characters");
    expect_refusal(call_req(c, "calling.queue.enter", id,
                            json_pack("{s:s, s:i}", "queue_name", "sales", "control_id", 7)),
                   "400", "control_id");
    expect_refusal(call_req(c, "calling.queue.enter", id,
                            json_pack("{s:s, s:i}", "queue_name", "sales", "status_url", 5)),
                   "400", "status_url");
    expect_refusal(call_req(c, "calling.queue.leave", id, json_object()), "400", "queue_name");
    expect_refusal(call_req(c, "calling.queue.leave", id,
                            json_pack("{s:s, s:i}", "queue_name", "support", "queue_id", 3)),
                   "400", "queue_id");
}

static void support_queue(void **state)
{
    (void)state;
    rtp_ear w, g;
    rtp_ear_open(&w, RTP_W);
    rtp_ear_open(&g, RTP_G);
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, NULL);
    expect_code(rpc_client_request(&c, "signalwire.receive",
                                   json_pack("{s:[s]}", "contexts", "support")),
                "200");
    int offers = 0;

    /* caller 1 enters first; it hangs up 7 s after its ACK */
    pid_t k1 = caller("34010", "34400", NULL, "7000", "sipp-queue-caller1.log");
    char c1[64], c2[64], agent[64];
    answer_next(&c, &offers, c1, sizeof c1, 1);
    json_t *res = enter(&c, c1, "support", "ctl-1");
    char queue_id[64];
    snprintf(queue_id, sizeof queue_id, "%s", str_of(res, "queue_id"));
    expect_code(res, "200");
    int e1 = wait_queue_event(&c, 0, c1, "enqueue", 1, 5000);
    assert_true(e1 >= 0);
    check_enqueue(&c, e1, "ctl-1", 1, 1, queue_id);
    expect_refusal(enter(&c, c1, "support", "again"), "409", "already waits");
    expect_refusal(call_req(&c, "calling.queue.leave", c1,
                            json_pack("{s:s}", "queue_name", "sales")),
                   "409", "not that one");
    bad_requests(&c, c1);

    /* caller 2, media on W: second in line */
    pid_t k2 = caller("34011", "34410", RTP_W_S, NULL, "sipp-queue-caller2.log");
    answer_next(&c, &offers, c2, sizeof c2, 0);
    expect_code(enter(&c, c2, "support", "ctl-2"), "200");
    int e2 = wait_queue_event(&c, 0, c2, "enqueue", 2, 5000);
    assert_true(e2 >= 0);
    check_enqueue(&c, e2, "ctl-2", 2, 2, queue_id);

    /* the agent: the queue is full, and no second queue may open */
    pid_t ka = caller("34012", "34420", RTP_G_S, NULL, "sipp-queue-agent.log");
    answer_next(&c, &offers, agent, sizeof agent, 0);
    expect_refusal(enter(&c, agent, "support", "ctl-a"), "503", "queue_max_callers");
    expect_refusal(enter(&c, agent, "sales", "ctl-a"), "503", "queue_max_queues");
    /* a queue device must be alone and name its queue */
    expect_refusal(connect_queue(&c, agent, json_object()), "400", "queue_name");
    expect_refusal(call_req(&c, "calling.connect", agent,
                            json_pack("{s:[[{s:s, s:{s:s}}, {s:s, s:{s:s, s:s}}]]}", "devices",
                                      "type", "queue", "params", "queue_name", "support", "type",
                                      "sip", "params", "from", "sip:a@127.0.0.1", "to",
                                      "sip:b@127.0.0.1")),
                   "400", "only device");

    /* caller 2 hears the hold audio: the us ringtone, 440 + 480 Hz */
    converse(&c, &w, &g, 0, 0, 300);
    rtp_ear_reset(&w);
    converse(&c, &w, &g, 0, 0, 1500);
    double hold_rms = rtp_ear_rms(&w);
    print_message("caller 2 on hold: %d packets, rms %.0f, 440 Hz %.3g, 1000 Hz %.3g\n",
                  w.packets, hold_rms, rtp_ear_level(&w, 440), rtp_ear_level(&w, 1000));
    assert_true(w.packets >= 60);
    assert_true(hold_rms > 300);
    assert_true(rtp_ear_hears(&w, 440, (const double[]){1000, 600, 300}, 3));
    assert_true(rtp_ear_hears(&w, 480, (const double[]){1000, 600, 300}, 3));
    assert_int_equal(g.packets, 0); /* the agent, in no queue, hears nothing */

    /* caller 1 hangs up while waiting: it is out, caller 2 moves up */
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", c1, 15000) >= 0);
    int l1 = wait_queue_event(&c, 0, c1, "leave", 0, 2000);
    assert_true(l1 >= 0);
    assert_int_equal(int_of(event_at(&c, l1), "size"), 1);
    int up = wait_queue_event(&c, e2, c2, "enqueue", 1, 5000);
    assert_true(up >= 0);
    check_enqueue(&c, up, "ctl-2", 1, 1, queue_id);
    assert_int_equal(child_wait(k1, 10000), 0);

    /* the agent takes the head: caller 2, bridged */
    int before = events_now(&c);
    expect_code(connect_queue(&c, agent, json_pack("{s:s}", "queue_name", "support")), "200");
    int dq = wait_queue_event(&c, before, c2, "dequeue", 0, 5000);
    assert_true(dq >= 0);
    assert_int_equal(int_of(event_at(&c, dq), "size"), 0);
    int ci = wait_event(&c, before, "calling.call.connect", "connect_state", "connecting", agent,
                        5000);
    int co = wait_event(&c, before, "calling.call.connect", "connect_state", "connected", agent,
                        5000);
    assert_true(ci >= 0 && co > ci);
    json_t *peer = json_object_get(event_at(&c, co), "peer");
    assert_string_equal(str_of(peer, "call_id"), c2);
    assert_string_equal(str_of(event_at(&c, co), "tag"), "tag-agent");
    int co2 = wait_event(&c, before, "calling.call.connect", "connect_state", "connected", c2,
                         5000);
    assert_true(co2 >= 0);
    assert_string_equal(str_of(json_object_get(event_at(&c, co2), "peer"), "call_id"), agent);

    /* real audio both ways through the bridge, and no more hold audio */
    converse(&c, &w, &g, 0, 0, 500);
    assert_true(w.has_relayd && g.has_relayd);
    rtp_ear_reset(&w);
    rtp_ear_reset(&g);
    converse(&c, &w, &g, 1000, 600, 2000);
    print_message("bridged: caller 2 heard %d packets (600 Hz %.3g, 440 Hz %.3g), agent %d "
                  "(1000 Hz %.3g)\n",
                  w.packets, rtp_ear_level(&w, 600), rtp_ear_level(&w, 440), g.packets,
                  rtp_ear_level(&g, 1000));
    assert_true(rtp_ear_hears(&g, 1000, (const double[]){600, 440, 480}, 3)); /* caller 2 → agent */
    assert_true(rtp_ear_hears(&w, 600, (const double[]){1000, 440, 480}, 3)); /* agent → caller 2 */

    /* unbridged, caller 2 enters again (a new queue: the old one went
     * empty) and leaves with queue.leave: the hold audio stops */
    expect_code(call_req(&c, "calling.disconnect", agent, json_object()), "200");
    assert_true(wait_event(&c, before, "calling.call.connect", "connect_state", "disconnected",
                           c2, 5000) >= 0);
    before = events_now(&c);
    res = enter(&c, c2, "support", "ctl-3");
    char queue_id2[64];
    snprintf(queue_id2, sizeof queue_id2, "%s", str_of(res, "queue_id"));
    expect_code(res, "200");
    assert_string_not_equal(queue_id2, queue_id);
    int e3 = wait_queue_event(&c, before, c2, "enqueue", 1, 5000);
    assert_true(e3 >= 0);
    check_enqueue(&c, e3, "ctl-3", 1, 1, queue_id2);
    converse(&c, &w, &g, 0, 0, 300);
    rtp_ear_reset(&w);
    converse(&c, &w, &g, 0, 0, 1000);
    print_message("on hold again: %d packets, rms %.0f\n", w.packets, rtp_ear_rms(&w));
    assert_true(w.packets >= 40 && rtp_ear_rms(&w) > 300);
    expect_refusal(call_req(&c, "calling.queue.leave", c2,
                            json_pack("{s:s, s:s}", "queue_name", "support", "queue_id",
                                      queue_id)),
                   "409", "not that one"); /* the old queue's id */
    expect_code(call_req(&c, "calling.queue.leave", c2,
                         json_pack("{s:s, s:s}", "queue_name", "support", "queue_id", queue_id2)),
                "200");
    int lv = wait_queue_event(&c, before, c2, "leave", 0, 5000);
    assert_true(lv >= 0);
    assert_string_equal(str_of(event_at(&c, lv), "control_id"), "ctl-3");
    assert_int_equal(int_of(event_at(&c, lv), "size"), 0);
    converse(&c, &w, &g, 0, 0, 300); /* what was in flight */
    rtp_ear_reset(&w);
    converse(&c, &w, &g, 0, 0, 1000);
    print_message("after leave: %d packets\n", w.packets);
    assert_int_equal(w.packets, 0);
    expect_refusal(call_req(&c, "calling.queue.leave", c2,
                            json_pack("{s:s}", "queue_name", "support")),
                   "409", "no queue");

    /* nobody waits: a connect to the queue is refused with the reason */
    expect_refusal(connect_queue(&c, agent, json_pack("{s:s}", "queue_name", "support")), "409",
                   "no caller waits in queue \"support\"");
    expect_refusal(connect_queue(&c, agent, json_pack("{s:s}", "queue_name", "nowhere")), "409",
                   "no caller waits");

    /* the agent waits and is hung up at once, its hold audio likely still
     * in preparation: it leaves the queue (relayd's exit checks the rest) */
    before = events_now(&c);
    expect_code(enter(&c, agent, "support", "ctl-4"), "200");
    expect_code(call_req(&c, "calling.end", agent, json_pack("{s:s}", "reason", "hangup")),
                "200");
    assert_true(wait_queue_event(&c, before, agent, "leave", 0, 5000) >= 0);
    expect_code(call_req(&c, "calling.end", c2, json_pack("{s:s}", "reason", "hangup")), "200");
    assert_int_equal(child_wait(k2, 10000), 0); /* each sipp got its BYE */
    assert_int_equal(child_wait(ka, 10000), 0);
    rpc_client_close(&c);
    rtp_ear_close(&w);
    rtp_ear_close(&g);
}

/* A second relayd stopped (SIGTERM) while a caller waits, its hold audio
 * playing: the caller gets its BYE and relayd exits 0 (nothing leaks). */
static pid_t waiting_sipp;

static int teardown_with_waiting_caller(void **state)
{
    int rc = teardown(state);
    if (waiting_sipp > 0 && child_wait(waiting_sipp, 10000) != 0)
        rc = -1; /* no BYE came */
    return rc;
}

static void shutdown_while_waiting(void **state)
{
    (void)state;
    rtp_ear w;
    rtp_ear_open(&w, RTP_W);
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, NULL);
    expect_code(rpc_client_request(&c, "signalwire.receive",
                                   json_pack("{s:[s]}", "contexts", "support")),
                "200");
    int offers = 0;
    char id[64];
    waiting_sipp = caller("34011", "34410", RTP_W_S, NULL, "sipp-queue-shutdown.log");
    answer_next(&c, &offers, id, sizeof id, 0);
    expect_code(enter(&c, id, "support", "ctl-s"), "200");
    assert_true(wait_queue_event(&c, 0, id, "enqueue", 1, 5000) >= 0);
    int64_t end = now_ms() + 1000;
    while (now_ms() < end) { /* the hold audio is playing */
        rtp_ear_drain(&w);
        sleep_ms(5);
    }
    print_message("waiting caller heard %d packets before the shutdown\n", w.packets);
    assert_true(w.packets >= 25);
    rpc_client_close(&c);
    rtp_ear_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(support_queue),
    };
    const struct CMUnitTest at_shutdown[] = {
        cmocka_unit_test(shutdown_while_waiting),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("shutdown", at_shutdown, setup,
                                                teardown_with_waiting_caller);
}
