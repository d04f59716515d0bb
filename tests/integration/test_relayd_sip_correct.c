/*
 * relayd as a well-mannered SIP UA, against the real process with real
 * sipp callers (each scenario checks the exact SIP answer, SDP bodies
 * included, and fails otherwise) and a raw WebSocket client that answers:
 *
 *  - an offer of audio and video (either order) is answered with as many
 *    m= lines in the same order, the video rejected with port 0;
 *  - under an answered call that plays to the caller: a hold re-INVITE
 *    (sendonly) is answered recvonly and RTP stops; inactive likewise;
 *    sendrecv resumes it; a re-INVITE to another port moves the RTP; an
 *    UPDATE offering PCMA only switches the RTP to payload type 8; a
 *    re-INVITE without SDP gets relayd's offer and the ACK's answer (PCMU
 *    at the first port) is followed. The test counts the RTP at its two
 *    ports in each phase;
 *  - an offer with no codec relayd speaks is refused 488 (with a Warning)
 *    and no client hears of the call;
 *  - with every RTP port taken, a call is refused 503, and the log says
 *    why;
 *  - with sip_log = 1, an OPTIONS and sofia's own 200 to it are in the log.
 *
 * Ports: relayd ws 64300 (64301 for the small one), SIP 20001 (20003);
 * sipp 20002/20004, its media 20400+; the test's RTP sockets 20050 and
 * 20060; relayd's RTP 20100-20199 (20200-20202: one port).
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

#define WS_PORT 64300
#define SIP_PORT "20001"
#define SIPP_PORT "20002"
#define SMALL_WS_PORT 64301
#define SMALL_SIP_PORT "20003"
#define SMALL_SIPP_PORT "20004"
#define RTP_A 20050
#define RTP_A_S "20050"
#define RTP_B 20060
#define RTP_B_S "20060"
#define PROJECT "sipok-project"
#define TOKEN "sipok-token-7d21"
#define NODE "relayd-local"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64300", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "20100-20199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", "--sip-log", "1", NULL};
    return relayd_proc_start(&server, args, "relayd-sip-correct.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- client
 * A raw client (tests/support/rpc_client.h) on this test's relayd. */
typedef rpc_client client;

static void client_open(client *c, int port)
{
    rpc_client_open(c, port, PROJECT, TOKEN, "[\"office\"]");
}
static void client_close(client *c) { rpc_client_close(c); }
static json_t *pump(client *c, const char *want_id, int timeout_ms)
{
    return rpc_client_pump(c, want_id, timeout_ms);
}
static json_t *request(client *c, const char *method, json_t *params)
{
    return rpc_client_request(c, method, params);
}

static void expect_code(json_t *res, const char *code)
{
    const char *got = json_string_value(json_object_get(res, "code"));
    if (!got || strcmp(got, code) != 0)
        fail_msg("expected code %s, got %s", code, got ? got : "(none)");
    json_decref(res);
}

/* Index of the first event from `from` on of this type (and key = value
 * when key is given), waiting up to timeout_ms. -1 if none came. */
static int wait_event(client *c, int from, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            if (strcmp(json_string_value(json_object_get(ev, "event_type")), type) != 0)
                continue;
            const char *v = key ? json_string_value(json_object_get(ev, key)) : NULL;
            if (!key || (v && strcmp(v, value) == 0))
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(pump(c, NULL, 100));
    }
}

static const char *call_id_at(client *c, int i)
{
    return json_string_value(json_object_get(json_array_get(c->events, (size_t)i), "call_id"));
}

/* Waits for the next offered call, answers it: its index in events. */
static int answer_next(client *c, int from)
{
    int i = wait_event(c, from, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    expect_code(request(c, "calling.answer",
                        json_pack("{s:s, s:s}", "call_id", call_id_at(c, i), "node_id", NODE)),
                "200");
    return i;
}

static void play_ringtone(client *c, const char *call_id)
{
    expect_code(request(c, "calling.play",
                        json_pack("{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:i}}]}", "call_id", call_id,
                                  "node_id", NODE, "control_id", "ring", "play", "type",
                                  "ringtone", "params", "name", "us", "duration", 60)),
                "200");
}

/* ---------------------------------------------------------------- sipp */

static pid_t caller(const char *scenario, const char *target, const char *port,
                    const char *media_port, const char *const *keys, const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[40] = {"sipp", target, "-sf", path, "-s", "office", "-i", "127.0.0.1",
                            "-mi", "127.0.0.1", "-p", port, "-mp", media_port, "-m", "1",
                            "-timeout", "40s", "-timeout_error", "-nostdin"};
    int n = 20;
    for (int i = 0; keys && keys[i]; i += 2) {
        argv[n++] = "-key";
        argv[n++] = keys[i];
        argv[n++] = keys[i + 1];
    }
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

/* ----------------------------------------------------------------- RTP */

static int rtp_socket(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    return s;
}

typedef struct rtp_count {
    int pcmu, pcma, other;
} rtp_count;

/* Reads both sockets until `until` (ms since the epoch of now_ms),
 * counting RTP packets by payload type. */
static void count_until(int a, int b, int64_t until, rtp_count *ca, rtp_count *cb)
{
    memset(ca, 0, sizeof *ca);
    memset(cb, 0, sizeof *cb);
    while (now_ms() < until) {
        struct pollfd pfd[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
        if (poll(pfd, 2, 20) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            unsigned char buf[2048];
            ssize_t len = recv(pfd[i].fd, buf, sizeof buf, 0);
            rtp_count *c = i == 0 ? ca : cb;
            if (len < 12 || (buf[0] & 0xc0) != 0x80)
                continue;
            int pt = buf[1] & 0x7f;
            if (pt == 0)
                c->pcmu++;
            else if (pt == 8)
                c->pcma++;
            else
                c->other++;
        }
    }
}

/* --------------------------------------------------------------- tests */

static void audio_and_video_are_answered_line_for_line(void **state)
{
    (void)state;
    client c;
    client_open(&c, WS_PORT);
    const char *keys[] = {"rtp_port", RTP_A_S, "video_port", "20070", NULL};
    const char *scenarios[] = {"uac_offer_audio_video.xml", "uac_offer_video_audio.xml"};
    int from = 0;
    for (int k = 0; k < 2; k++) {
        char log[64];
        snprintf(log, sizeof log, "sipp-sip-correct-av%d.log", k);
        pid_t p = caller(scenarios[k], "127.0.0.1:" SIP_PORT, SIPP_PORT, "20400", keys, log);
        from = answer_next(&c, from) + 1;
        assert_int_equal(child_wait(p, 15000), 0); /* the scenario checked the m= lines */
    }
    client_close(&c);
}

/* Phase windows, in ms after the call was answered, where the caller's
 * re-offers have taken effect (they come every 2 s; see uac_reoffers.xml). */
static void reoffers_are_followed(void **state)
{
    (void)state;
    int a = rtp_socket(RTP_A), b = rtp_socket(RTP_B);
    client c;
    client_open(&c, WS_PORT);
    const char *keys[] = {"rtp_port", RTP_A_S, "new_port", RTP_B_S, NULL};
    pid_t p = caller("uac_reoffers.xml", "127.0.0.1:" SIP_PORT, SIPP_PORT, "20410", keys,
                     "sipp-sip-correct-reoffers.log");
    int i = answer_next(&c, 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", call_id_at(&c, i));
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "answered", 5000) >= 0);
    int64_t t0 = now_ms(); /* the ACK: sipp's clock starts here too */
    play_ringtone(&c, call_id);

    struct {
        const char *what;
        int from_ms, to_ms;
        int a_pcmu_min, a_pcmu_max, b_pcmu_min, b_pcmu_max, b_pcma_min, b_pcma_max;
    } phase[] = {
        {"talking", 600, 1800, 30, 1000, 0, 0, 0, 0},
        {"held (sendonly)", 2500, 3800, 0, 0, 0, 0, 0, 0},
        {"held (inactive)", 4500, 5800, 0, 0, 0, 0, 0, 0},
        {"resumed", 6500, 7800, 30, 1000, 0, 0, 0, 0},
        {"moved to the new port", 8500, 9800, 0, 0, 30, 1000, 0, 0},
        {"PCMA by UPDATE", 10500, 11800, 0, 0, 0, 0, 30, 1000},
        {"the ACK's answer: PCMU at the first port", 12500, 13800, 30, 1000, 0, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof phase / sizeof phase[0]; k++) {
        rtp_count ca, cb;
        count_until(a, b, t0 + phase[k].from_ms, &ca, &cb); /* the change, in flight */
        count_until(a, b, t0 + phase[k].to_ms, &ca, &cb);
        print_message("%-42s port A: %d PCMU %d PCMA; port B: %d PCMU %d PCMA\n", phase[k].what,
                      ca.pcmu, ca.pcma, cb.pcmu, cb.pcma);
        if (ca.pcmu < phase[k].a_pcmu_min || ca.pcmu > phase[k].a_pcmu_max ||
            cb.pcmu < phase[k].b_pcmu_min || cb.pcmu > phase[k].b_pcmu_max ||
            cb.pcma < phase[k].b_pcma_min || cb.pcma > phase[k].b_pcma_max || ca.pcma ||
            ca.other || cb.other)
            fail_msg("%s: port A %d PCMU %d PCMA %d other, port B %d PCMU %d PCMA %d other",
                     phase[k].what, ca.pcmu, ca.pcma, ca.other, cb.pcmu, cb.pcma, cb.other);
    }
    assert_int_equal(child_wait(p, 15000), 0); /* every SDP answer was as expected */
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 5000) >= 0);
    /* The reference (relay-protocol.md) has no event for a hold by the far
     * end: relayd sends none, only the call's own states. */
    assert_int_equal(wait_event(&c, 0, "calling.call.hold", NULL, NULL, 0), -1);
    client_close(&c);
    close(a);
    close(b);
}

static void an_offer_without_our_codec_is_488_before_any_client(void **state)
{
    (void)state;
    client c;
    client_open(&c, WS_PORT);
    const char *keys[] = {"m_line", "m=audio " RTP_A_S " RTP/AVP 18", NULL};
    pid_t p = caller("uac_offer_488.xml", "127.0.0.1:" SIP_PORT, SIPP_PORT, "20420", keys,
                     "sipp-sip-correct-488.log");
    assert_int_equal(child_wait(p, 15000), 0); /* 488 with a Warning naming the codec */
    assert_int_equal(wait_event(&c, 0, "calling.call.receive", NULL, NULL, 1000), -1);
    assert_true(relayd_proc_log_contains(&server, "no common codec (PCMU/PCMA)"));
    client_close(&c);
}

static void no_free_rtp_port_is_503(void **state)
{
    (void)state;
    relayd_proc small;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64301", "--sip-listen",
                          "127.0.0.1:" SMALL_SIP_PORT, "--rtp-ports", "20200-20202", "--auth",
                          PROJECT ":" TOKEN, NULL};
    assert_int_equal(relayd_proc_start(&small, args, "relayd-sip-correct-503.log"), 0);
    client c;
    client_open(&c, SMALL_WS_PORT);
    /* the first call takes relayd's one RTP port and keeps it */
    pid_t first = caller("uac_wait_bye.xml", "127.0.0.1:" SMALL_SIP_PORT, SMALL_SIPP_PORT,
                         "20430", NULL, "sipp-sip-correct-503-first.log");
    int i = answer_next(&c, 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", call_id_at(&c, i));
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "answered", 5000) >= 0);

    pid_t second = caller("uac_expect_503.xml", "127.0.0.1:" SMALL_SIP_PORT, "20006", "20440",
                          NULL, "sipp-sip-correct-503-second.log");
    assert_int_equal(child_wait(second, 15000), 0); /* 503, not 488 or 480 */
    assert_int_equal(wait_event(&c, i + 1, "calling.call.receive", NULL, NULL, 500), -1);
    assert_true(relayd_proc_log_contains(&small, "no free RTP port in 20200-20202"));

    expect_code(request(&c, "calling.end",
                        json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE,
                                  "reason", "hangup")),
                "200");
    assert_int_equal(child_wait(first, 15000), 0);
    client_close(&c);
    assert_int_equal(relayd_proc_stop(&small), 0);
}

/* 1 if the log holds a message logged by sip_log: a line with `stamp`,
 * its start line `first` right after it, and `line` among its lines
 * (before the next stamp). */
static int log_has_message(const relayd_proc *p, const char *stamp, const char *first,
                           const char *line)
{
    FILE *f = fopen(p->log_file, "r");
    if (!f)
        return 0;
    char buf[2048];
    int state = 0, found = 0; /* 1: after the stamp; 2: inside the wanted message */
    while (!found && fgets(buf, sizeof buf, f)) {
        if (strstr(buf, "sip: recv ") || strstr(buf, "sip: send ")) {
            state = strstr(buf, stamp) ? 1 : 0;
            continue;
        }
        if (state == 1)
            state = strstr(buf, first) ? 2 : 0;
        else if (state == 2 && strstr(buf, line))
            found = 1;
    }
    fclose(f);
    return found;
}

static void options_and_sofias_answer_are_in_the_sip_log(void **state)
{
    (void)state;
    pid_t p = caller("uac_options.xml", "127.0.0.1:" SIP_PORT, SIPP_PORT, "20450", NULL,
                     "sipp-sip-correct-options.log");
    assert_int_equal(child_wait(p, 15000), 0); /* 200 with UPDATE in Allow */
    sleep_ms(200);
    /* the request as received, then sofia's own answer as sent, each
     * under its stamp line */
    assert_true(log_has_message(&server, "sip: recv ",
                                "sip| OPTIONS sip:office@127.0.0.1:" SIP_PORT " SIP/2.0",
                                "sip| CSeq: 1 OPTIONS"));
    assert_true(log_has_message(&server, "sip: send ", "sip| SIP/2.0 200 OK",
                                "sip| CSeq: 1 OPTIONS"));
    assert_true(relayd_proc_log_contains(&server, "sip <- OPTIONS; 200 OK (auto)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audio_and_video_are_answered_line_for_line),
        cmocka_unit_test(reoffers_are_followed),
        cmocka_unit_test(an_offer_without_our_codec_is_488_before_any_client),
        cmocka_unit_test(no_free_rtp_port_is_503),
        cmocka_unit_test(options_and_sofias_answer_are_in_the_sip_log),
    };
    if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='reoffers_*' to run some */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
