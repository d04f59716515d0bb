/*
 * calling.join_conference / leave_conference against a real relayd: four
 * sipp callers ring context "conf" and the test (a raw WebSocket client)
 * answers them and puts them in conferences. Each caller's media is one of
 * the test's own UDP sockets, so the test speaks a distinct tone as each
 * participant (470, 1090, 1630, 730 Hz; callers 1, 3 and 4 PCMU, caller 2
 * PCMA) and measures with Goertzel filters what relayd sends each one:
 * every participant hears the others' tones and not its own; a muted
 * participant is heard by nobody but hears; a leave and a hangup take a
 * participant's tone out; the beep of an arrival reaches the others and
 * not the newcomer; an end_on_exit participant leaving ends the
 * conference for all (events, and no more audio); start_on_enter: false
 * participants hear silence until a starter joins; a held participant
 * neither hears nor is heard; relayd stopped mid-conference ends it cleanly.
 * Refusals: max_participants (403),
 * max_conferences (503), bad params (400), options relayd does not carry
 * out and rooms (501), a second join (409), leave of a wrong id (404).
 *
 * Ports: relayd ws 62000, SIP 33001, RTP 33100-33299; sipp callers
 * 33011-33014 (media 33400, 33410, 33420, 33430 and the ports after
 * each); the test's RTP sockets 33501-33504.
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

#define WS_PORT 62000
#define SIP_PORT "33001"
#define PROJECT "conference-project"
#define TOKEN "conference-token-5e2a"
#define NODE "relayd-local"
#define N_PARTS 4

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    /* one conference at a time: the fourth caller's own conference is
     * refused (503) while "team" runs */
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:62000", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "33100-33299", "--auth",
                          PROJECT ":" TOKEN, "--max-conferences", "1", "--log-level", "debug",
                          NULL};
    return relayd_proc_start(&server, args, "relayd-conference.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- client */

static rpc_client cl;

static void expect_code(json_t *res, const char *code)
{
    const char *got = rpc_code_of(res);
    if (strcmp(got ? got : "", code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(res, JSON_COMPACT));
    json_decref(res);
}

/* Index of the first event after `from` of this type whose key has this
 * value, for call_id (NULL: any call), waiting up to timeout_ms; -1. */
static int wait_event(int from, const char *type, const char *key, const char *value,
                      const char *call_id, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(cl.events); i++) {
            json_t *ev = json_array_get(cl.events, i);
            if (rpc_event_matches(ev, type, key, value) &&
                (!call_id || rpc_event_matches(ev, type, "call_id", call_id)))
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(&cl, NULL, 100));
    }
}

static int n_events(void) { return (int)json_array_size(cl.events); }

/* A calling.conference event of this status for call_id after `from`. */
static int conf_event(int from, const char *status, const char *call_id, int timeout_ms)
{
    return wait_event(from, "calling.conference", "status", status, call_id, timeout_ms);
}

/* ------------------------------------------------------------- audio */

/* G.711 encoders and the A-law decoder from the ITU-T rules: the test's
 * own oracle, independent of relayd's spandsp. */
/* One participant: its sipp caller, its call, and the test's socket that
 * is its media (what relayd sends it, decoded; relayd's address). */
typedef struct part {
    const char *sip_port, *media_port;
    int rtp_port;
    int pt; /* 0 PCMU, 8 PCMA */
    double tone;
    int speaking;
    pid_t sipp;
    char call_id[64];
    rtp_ear ear; /* its media */
} part;

/* The tones are chosen so that no difference or third-order product of two
 * of them (G.711's companding makes those, about 1e6 here) falls on a
 * third: with 500, 900 and 1400 Hz, 1400 - 500 lands on 900. */
static part parts[N_PARTS] = {
    {"33011", "33400", 33501, 0, 470, 0, 0, "", {.fd = -1}},
    {"33012", "33410", 33502, 8, 1090, 0, 0, "", {.fd = -1}},
    {"33013", "33420", 33503, 0, 1630, 0, 0, "", {.fd = -1}},
    {"33014", "33430", 33504, 0, 730, 0, 0, "", {.fd = -1}},
};

/* For ms: every speaking participant sends its tone, everyone listens. */
static void converse(int ms)
{
    int64_t start = now_ms(), next = start;
    while (now_ms() < start + ms) {
        for (int i = 0; i < N_PARTS; i++)
            if (parts[i].ear.fd >= 0)
                rtp_ear_drain(&parts[i].ear);
        if (now_ms() >= next) {
            for (int i = 0; i < N_PARTS; i++)
                if (parts[i].ear.fd >= 0)
                    rtp_ear_speak(&parts[i].ear, parts[i].pt,
                                  parts[i].speaking ? parts[i].tone : 0, 6000);
            next += 20;
        }
        sleep_ms(2);
    }
}

/* What reaches every ear once the mix has settled: 400 ms to let what was
 * in flight arrive, then ms measured. */
static void measure(int ms)
{
    converse(400);
    for (int i = 0; i < N_PARTS; i++)
        rtp_ear_reset(&parts[i].ear);
    converse(ms);
}

/* A tone sent at amplitude 6000 for 1.5 s scores about 1e11 here
 * (6000^2 n / 4); a participant's own tone, were it mixed back, would too;
 * G.711's noise at another frequency stays near 1e4-1e6. */
#define PRESENT 1e9
#define ABSENT 1e7

#define T1 parts[0].tone
#define T2 parts[1].tone
#define T3 parts[2].tone
#define T4 parts[3].tone

static double level(const part *p, double f) { return rtp_ear_level(&p->ear, f); }

static void print_levels(const char *what)
{
    print_message("%s\n", what);
    for (int i = 0; i < N_PARTS; i++) {
        const part *p = &parts[i];
        if (p->ear.fd < 0)
            continue;
        print_message("  participant %d (%4.0f Hz): %4d packets, %.0f %.2g  %.0f %.2g  %.0f %.2g  "
                      "%.0f %.2g  beep %.2g\n",
                      i + 1, p->tone, p->ear.packets, parts[0].tone, level(p, parts[0].tone),
                      parts[1].tone, level(p, parts[1].tone), parts[2].tone,
                      level(p, parts[2].tone), parts[3].tone, level(p, parts[3].tone),
                      level(p, 1000));
    }
}

static void hears(int who, double f)
{
    double l = level(&parts[who], f);
    if (l < PRESENT)
        fail_msg("participant %d does not hear %.0f Hz (%.3g)", who + 1, f, l);
}

static void does_not_hear(int who, double f)
{
    double l = level(&parts[who], f);
    if (l > ABSENT)
        fail_msg("participant %d hears %.0f Hz (%.3g)", who + 1, f, l);
}

/* ------------------------------------------------------------- calls */

static void sip_path(char *out, size_t n, const char *scenario)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), scenario);
}

/* Starts participant i's caller, answers it: its call_id. */
static void call_in(int i)
{
    part *p = &parts[i];
    rtp_ear_open(&p->ear, p->rtp_port);
    char path[600], rtp[16], log[64];
    sip_path(path, sizeof path, "uac_conference.xml");
    snprintf(rtp, sizeof rtp, "%d", p->rtp_port);
    snprintf(log, sizeof log, "sipp-conference-%d.log", i + 1);
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "conf", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", p->sip_port, "-mp",
                          p->media_port, "-key", "rtp_port", rtp, "-key", "pt",
                          p->pt == 8 ? "8" : "0", "-key", "codec", p->pt == 8 ? "PCMA" : "PCMU",
                          "-m", "1", "-timeout", "100s", "-timeout_error", "-nostdin", NULL};
    int from = n_events();
    p->sipp = child_spawn(argv, log);
    assert_true(p->sipp > 0);
    int r = wait_event(from, "calling.call.receive", NULL, NULL, NULL, 10000);
    assert_true(r >= 0);
    snprintf(p->call_id, sizeof p->call_id, "%s",
             json_string_value(json_object_get(json_array_get(cl.events, (size_t)r), "call_id")));
    expect_code(rpc_client_request(&cl, "calling.answer",
                                   json_pack("{s:s, s:s}", "call_id", p->call_id, "node_id",
                                             NODE)),
                "200");
    assert_true(wait_event(from, "calling.call.state", "call_state", "answered", p->call_id,
                           10000) >= 0);
}

/* calling.join_conference for participant i with params (stolen; name
 * and the call added): the result. */
static json_t *join(int i, const char *name, json_t *params)
{
    if (!params)
        params = json_object();
    json_object_set_new(params, "call_id", json_string(parts[i].call_id));
    json_object_set_new(params, "node_id", json_string(NODE));
    if (name)
        json_object_set_new(params, "name", json_string(name));
    return rpc_client_request(&cl, "calling.join_conference", params);
}

/* Joins and expects 200: the conference_id (static buffer per call). */
static const char *join_ok(int i, const char *name, json_t *params)
{
    static char ids[N_PARTS][64];
    int from = n_events();
    json_t *res = join(i, name, params);
    const char *id = json_string_value(json_object_get(res, "conference_id"));
    if (!id)
        fail_msg("no conference_id in %s", json_dumps(res, JSON_COMPACT));
    snprintf(ids[i], sizeof ids[i], "%s", id);
    expect_code(res, "200");
    int e = conf_event(from, "participant-join", parts[i].call_id, 5000);
    assert_true(e >= 0);
    json_t *ev = json_array_get(cl.events, (size_t)e);
    assert_string_equal(json_string_value(json_object_get(ev, "conference_id")), ids[i]);
    assert_string_equal(json_string_value(json_object_get(ev, "name")), name);
    return ids[i];
}

static json_t *leave(int i, const char *conference_id)
{
    json_t *p = json_pack("{s:s, s:s}", "call_id", parts[i].call_id, "node_id", NODE);
    if (conference_id)
        json_object_set_new(p, "conference_id", json_string(conference_id));
    return rpc_client_request(&cl, "calling.leave_conference", p);
}

static void hang_up(int i)
{
    expect_code(rpc_client_request(&cl, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", parts[i].call_id,
                                             "node_id", NODE, "reason", "hangup")),
                "200");
}

/* --------------------------------------------------------------- test */

static void refusals(const char *team)
{
    /* the conference is full: team was made with max_participants 3 */
    json_t *res = join(3, "team", NULL);
    assert_non_null(json_object_get(res, "message"));
    print_message("full: %s\n", json_string_value(json_object_get(res, "message")));
    expect_code(res, "403");
    /* and a second conference is one past max_conferences */
    expect_code(join(3, "side", NULL), "503");
    /* bad params */
    expect_code(join(3, NULL, NULL), "400");
    expect_code(join(3, "", NULL), "400");
    expect_code(join(3, "x", json_pack("{s:s}", "beep", "loud")), "400");
    expect_code(join(3, "x", json_pack("{s:s}", "muted", "yes")), "400");
    expect_code(join(3, "x", json_pack("{s:i}", "max_participants", 0)), "400");
    expect_code(join(3, "x", json_pack("{s:i}", "max_participants", 1000)), "400");
    expect_code(join(3, "x", json_pack("{s:s}", "max_participants", "3")), "400");
    expect_code(join(3, "x", json_pack("{s:s}", "end_on_exit", "yes")), "400");
    /* what relayd does not carry out is refused, not ignored */
    expect_code(join(3, "x", json_pack("{s:s}", "record", "record-from-start")), "501");
    expect_code(join(3, "x", json_pack("{s:s}", "wait_url", "http://example.com/hold.mp3")),
                "501");
    /* one conference per call; leave names the conference */
    expect_code(join(0, "other", NULL), "409");
    expect_code(leave(0, NULL), "400");
    expect_code(leave(0, "no-such-conference"), "404");
    expect_code(leave(3, team), "404"); /* not in it */
    /* rooms are video */
    res = rpc_client_request(&cl, "calling.join_room",
                             json_pack("{s:s, s:s, s:s}", "call_id", parts[3].call_id, "node_id",
                                       NODE, "name", "standup"));
    const char *msg = json_string_value(json_object_get(res, "message"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "video"));
    expect_code(res, "501");
    expect_code(rpc_client_request(&cl, "calling.leave_room",
                                   json_pack("{s:s, s:s}", "call_id", parts[3].call_id,
                                             "node_id", NODE)),
                "501");
}

static void participants_hear_the_others_not_themselves(void **state)
{
    (void)state;
    rpc_client_open(&cl, WS_PORT, PROJECT, TOKEN, NULL);
    expect_code(rpc_client_request(&cl, "signalwire.receive",
                                   json_pack("{s:[s]}", "contexts", "conf")),
                "200");
    for (int i = 0; i < N_PARTS; i++)
        call_in(i);

    /* three in "team", no beeps; the first starts it */
    const char *team = join_ok(0, "team", json_pack("{s:i, s:s}", "max_participants", 3, "beep",
                                                    "false"));
    char team_id[64];
    snprintf(team_id, sizeof team_id, "%s", team);
    assert_true(conf_event(0, "conference-start", parts[0].call_id, 2000) >= 0);
    assert_string_equal(join_ok(1, "team", json_pack("{s:s}", "beep", "false")), team_id);
    assert_string_equal(join_ok(2, "team", json_pack("{s:s}", "beep", "false")), team_id);

    for (int i = 0; i < 3; i++)
        parts[i].speaking = 1;
    converse(400); /* relayd's frames tell each socket where its leg is */
    for (int i = 0; i < 3; i++)
        assert_true(parts[i].ear.has_relayd);
    measure(1500);
    print_levels("three in the conference, each speaking:");
    for (int i = 0; i < 3; i++) {
        assert_true(parts[i].ear.packets >= 60);
        for (int j = 0; j < 3; j++)
            if (j == i)
                does_not_hear(i, parts[j].tone);
            else
                hears(i, parts[j].tone);
    }

    refusals(team_id);

    /* 3 leaves (events), so nobody hears 1400 and 3 hears nothing */
    int from = n_events();
    expect_code(leave(2, team_id), "200");
    assert_true(conf_event(from, "participant-leave", parts[2].call_id, 5000) >= 0);
    measure(1000);
    print_levels("3 left:");
    does_not_hear(0, T3);
    hears(0, T2);
    does_not_hear(1, T3);
    hears(1, T1);
    assert_int_equal(parts[2].ear.packets, 0);

    /* 3 comes back muted: it hears both, nobody hears it */
    assert_string_equal(join_ok(2, "team", json_pack("{s:b, s:s}", "muted", 1, "beep", "false")),
                        team_id);
    measure(1000);
    print_levels("3 back, muted:");
    hears(2, T1);
    hears(2, T2);
    does_not_hear(2, T3);
    does_not_hear(0, T3);
    does_not_hear(1, T3);
    hears(0, T2);
    hears(1, T1);

    /* 2 hangs up mid-conference: it leaves; the others go on */
    from = n_events();
    hang_up(1);
    assert_true(conf_event(from, "participant-leave", parts[1].call_id, 5000) >= 0);
    assert_int_equal(child_wait(parts[1].sipp, 10000), 0);
    rtp_ear_close(&parts[1].ear);
    measure(1000);
    print_levels("2 hung up:");
    does_not_hear(2, T2);
    hears(2, T1);

    /* 4 joins with the default beep and end_on_exit: the others hear the
     * beep, 4 does not; everyone quiet meanwhile */
    for (int i = 0; i < N_PARTS; i++)
        parts[i].speaking = 0;
    converse(300);
    for (int i = 0; i < N_PARTS; i++)
        rtp_ear_reset(&parts[i].ear);
    assert_string_equal(join_ok(3, "team", json_pack("{s:b}", "end_on_exit", 1)), team_id);
    converse(600);
    print_levels("4 joined (beep):");
    /* 200 ms of a -13 dBm0 beep in 600 ms scores about 3e9 */
    assert_true(level(&parts[0], 1000) > 3e8);
    assert_true(level(&parts[2], 1000) > 3e8);
    does_not_hear(3, 1000);

    /* 4 leaves: the conference ends for all, with events, and no audio */
    from = n_events();
    expect_code(leave(3, team_id), "200");
    int ends[3] = {0, 2, 3};
    for (int k = 0; k < 3; k++) {
        const char *id = parts[ends[k]].call_id;
        int l = conf_event(from, "participant-leave", id, 5000);
        int e = conf_event(from, "conference-end", id, 5000);
        if (l < 0 || e < 0)
            fail_msg("participant %d: participant-leave %d, conference-end %d", ends[k] + 1, l,
                     e);
    }
    parts[0].speaking = parts[2].speaking = 1;
    measure(600);
    print_levels("4 (end_on_exit) left:");
    assert_int_equal(parts[0].ear.packets + parts[2].ear.packets + parts[3].ear.packets, 0);

    /* a new "team": two that do not start it hear silence until a
     * starter joins (then conference-start reaches all three) */
    const char *again = join_ok(0, "team", json_pack("{s:b, s:s}", "start_on_enter", 0, "beep",
                                                     "false"));
    assert_string_not_equal(again, team_id); /* the old one was destroyed */
    join_ok(2, "team", json_pack("{s:b, s:s}", "start_on_enter", 0, "beep", "false"));
    parts[3].speaking = 1;
    measure(1000);
    print_levels("new team, not started:");
    assert_true(parts[0].ear.packets >= 40);
    does_not_hear(0, T3);
    does_not_hear(2, T1);
    assert_int_equal(conf_event(0, "conference-start", parts[2].call_id, 0), -1);
    from = n_events();
    join_ok(3, "team", json_pack("{s:s}", "beep", "false"));
    for (int k = 0; k < 3; k++)
        assert_true(conf_event(from, "conference-start", parts[ends[k]].call_id, 5000) >= 0);
    measure(1000);
    print_levels("started:");
    hears(0, T3);
    hears(0, T4);
    hears(2, T1);
    hears(3, T1);
    hears(3, T3);
    does_not_hear(3, T4);

    /* 4 held: it neither hears nor is heard */
    expect_code(rpc_client_request(&cl, "calling.hold",
                                   json_pack("{s:s, s:s}", "call_id", parts[3].call_id,
                                             "node_id", NODE)),
                "200");
    measure(1000);
    print_levels("4 held:");
    does_not_hear(0, T4);
    does_not_hear(2, T4);
    hears(0, T3);
    does_not_hear(3, T1);
    does_not_hear(3, T3);

    /* every call hangs up: the last one's leave ends the conference */
    from = n_events();
    hang_up(0);
    hang_up(2);
    hang_up(3);
    assert_true(conf_event(from, "conference-end", NULL, 5000) >= 0);
    for (int i = 0; i < N_PARTS; i++) {
        if (i != 1)
            assert_int_equal(child_wait(parts[i].sipp, 10000), 0);
        rtp_ear_close(&parts[i].ear);
    }
    rpc_client_close(&cl);
}

/* relayd stopped (SIGTERM) while two calls are in a conference: both get
 * their BYE, and relayd still exits 0 (under ASan: nothing leaked). */
static void relayd_stops_with_a_conference_running(void **state)
{
    (void)state;
    rpc_client_open(&cl, WS_PORT, PROJECT, TOKEN, NULL);
    expect_code(rpc_client_request(&cl, "signalwire.receive",
                                   json_pack("{s:[s]}", "contexts", "conf")),
                "200");
    for (int i = 0; i < 2; i++) {
        call_in(i); /* a fresh ear */
        join_ok(i, "last", NULL);
        parts[i].speaking = 1;
    }
    measure(600);
    hears(0, T2);
    hears(1, T1);
    rpc_client_close(&cl);
    assert_int_equal(relayd_proc_stop(&server), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(child_wait(parts[i].sipp, 10000), 0);
        rtp_ear_close(&parts[i].ear);
    }
    assert_int_equal(setup(NULL), 0); /* for teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(participants_hear_the_others_not_themselves),
        cmocka_unit_test(relayd_stops_with_a_conference_running),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
