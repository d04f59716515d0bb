/*
 * calling.echo, calling.denoise and calling.tap against a real relayd, a
 * librelay client and sipp callers. The test owns UDP sockets that stand
 * in for the caller's RTP (echo: it sends a 440 Hz tone to relayd and
 * hears what comes back) or for a tap's receiver; it decodes what relayd
 * sends with its own u-law oracle and measures tones with Goertzel.
 *
 * Ports: relayd WS 65530, SIP 24101, RTP 24200-24299; sipp 24102 (media
 * 24300); the test's receivers 24400-24499.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <sndfile.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "g711_oracle.h"

#define WS_PORT 65530 /* 65600 (the brief) is past 65535: the nearest valid */
#define SIP_PORT "24101"
#define SIPP_PORT "24102"
#define SIPP_MEDIA_PORT "24300"
#define PEER_PORT 24400 /* the caller's RTP, played by the test (echo) */
#define TAP_PORT 24402  /* where the tap sends */
#define PROJECT "media-ops-project"
#define TOKEN "media-ops-token-7c21"

static relayd_proc server;
static char rec_dir[600];

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 30000) : -1;
}

static int setup(void **state)
{
    (void)state;
    build_path(rec_dir, sizeof rec_dir, "recordings-media-ops");
    const char *rm[] = {"rm", "-rf", rec_dir, NULL};
    run(rm, "rm-recordings-media-ops.log");
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:65530", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "24200-24299", "--auth",
                          PROJECT ":" TOKEN, "--recordings-dir", rec_dir, "--log-level",
                          "debug", "--webhook-allow", "127.0.0.1/32", /* taps to us */
                          NULL};
    return relayd_proc_start(&server, args, "relayd-media-ops.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------ analysis */

static double goertzel(const double *x, int n, double f)
{
    double k = 2 * cos(2 * M_PI * f / 8000), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/* The share of the block's energy at f: about 1 for a pure tone there. */
static double tone_share(const double *x, int n, double f)
{
    double e = 0;
    for (int i = 0; i < n; i++)
        e += x[i] * x[i];
    return e > 0 ? 2 * goertzel(x, n, f) / (n * e) : 0;
}

static double rms_of(const double *x, int n)
{
    double e = 0;
    for (int i = 0; i < n; i++)
        e += x[i] * x[i];
    return sqrt(e / n);
}

/* ------------------------------------------------- the test's RTP peer */

#define MAX_PKTS 1500
typedef struct rtp_peer {
    int fd;
    volatile int stop;
    pthread_t thread;
    /* what arrived: per packet, when, how loud, how much of it is 440 Hz */
    int n;
    int64_t at[MAX_PKTS];
    double rms[MAX_PKTS], share[MAX_PKTS];
    uint32_t ssrc;
    int pt, from_port;
    /* the tone to send back to whoever sent to us (echo); NULL: listen only */
    const unsigned char *tone;
    size_t tone_len, sent;
    int64_t last_sent_at;
} rtp_peer;

static void peer_receive(rtp_peer *p, struct sockaddr_in *from, int *have_from)
{
    unsigned char buf[2048];
    socklen_t len = sizeof *from;
    ssize_t got;
    while ((got = recvfrom(p->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)from,
                           &len)) > 0) {
        *have_from = 1;
        p->from_port = ntohs(from->sin_port);
        if (got < 12 + 160 || p->n >= MAX_PKTS)
            continue;
        double x[160];
        for (int i = 0; i < 160; i++)
            x[i] = ulaw_to_linear(buf[12 + i]);
        p->pt = buf[1] & 0x7f;
        p->ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 |
                  buf[11];
        p->at[p->n] = now_ms();
        p->rms[p->n] = rms_of(x, 160);
        p->share[p->n] = tone_share(x, 160, 440);
        p->n++;
    }
}

/* Sends the next 20 ms of the tone as PCMU RTP, if any is left. */
static void peer_send(rtp_peer *p, const struct sockaddr_in *to)
{
    if (!p->tone || p->sent + 160 > p->tone_len)
        return;
    unsigned char pkt[12 + 160] = {0x80, 0};
    uint16_t seq = (uint16_t)(p->sent / 160);
    uint32_t ts = (uint32_t)p->sent, ssrc = 0x5eed1234;
    pkt[2] = (unsigned char)(seq >> 8);
    pkt[3] = (unsigned char)seq;
    for (int i = 0; i < 4; i++) {
        pkt[4 + i] = (unsigned char)(ts >> (24 - 8 * i));
        pkt[8 + i] = (unsigned char)(ssrc >> (24 - 8 * i));
    }
    memcpy(pkt + 12, p->tone + p->sent, 160);
    sendto(p->fd, pkt, sizeof pkt, 0, (const struct sockaddr *)to, sizeof *to);
    p->sent += 160;
    p->last_sent_at = now_ms();
}

static void *peer_main(void *arg)
{
    rtp_peer *p = arg;
    struct sockaddr_in from;
    int have_from = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!p->stop) {
        peer_receive(p, &from, &have_from);
        if (have_from) /* relayd's address, learnt from what it sends */
            peer_send(p, &from);
        next.tv_nsec += 20000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

static void peer_start(rtp_peer *p, int port, const unsigned char *tone, size_t tone_len)
{
    memset(p, 0, sizeof *p);
    p->tone = tone;
    p->tone_len = tone_len;
    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(p->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_stop(rtp_peer *p)
{
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->fd);
}

/* Packets received in [from, to) ms; how many of them carry the tone
 * (loud, mostly 440 Hz) and how many are loud at all. */
static void peer_count(const rtp_peer *p, int64_t from, int64_t to, int *total, int *tone,
                       int *loud)
{
    *total = *tone = *loud = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->at[i] < from || p->at[i] >= to)
            continue;
        (*total)++;
        *loud += p->rms[i] > 300;
        *tone += p->rms[i] > 2000 && p->share[i] > 0.5;
    }
}

/* ---------------------------------------------------------- the calls */

typedef enum { CASE_ECHO, CASE_HANGUP, CASE_RECORD_PLAIN, CASE_RECORD_DENOISED, CASE_TAP } op_case;

#define MAX_EVENTS 64
static struct {
    pthread_mutex_t lock;
    op_case which;
    int done;
    relay_status answer;
    char code[8], msg[160];
    char bad_code[12][8], bad_msg[12][160];
    char src_port[16], src_addr[32], src_codec[16], stop_code2[8];
    int64_t t_stop;
    int64_t t_start;
    char url[700], stop_code[8], denoise_code[8], undenoise_code[8];
    int n_ev;
    struct { char type[40], state[24], control[40]; int64_t at; } ev[MAX_EVENTS];
} rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    pthread_mutex_lock(&rc.lock);
    if (rc.n_ev < MAX_EVENTS && ev->event_type) {
        snprintf(rc.ev[rc.n_ev].type, sizeof rc.ev[0].type, "%s", ev->event_type);
        const char *state = ev->state;
        const char *den = relay_result_get(ev->params, "denoised");
        snprintf(rc.ev[rc.n_ev].state, sizeof rc.ev[0].state, "%s",
                 state ? state : den ? den : "");
        snprintf(rc.ev[rc.n_ev].control, sizeof rc.ev[0].control, "%s",
                 ev->control_id ? ev->control_id : "");
        rc.ev[rc.n_ev].at = now_ms();
        rc.n_ev++;
    }
    pthread_mutex_unlock(&rc.lock);
}

/* When the n-th (0-based) event of type with state arrived; 0 if none. */
static int64_t event_at(const char *type, const char *state)
{
    int64_t at = 0;
    pthread_mutex_lock(&rc.lock);
    for (int i = 0; i < rc.n_ev && !at; i++)
        if (strcmp(rc.ev[i].type, type) == 0 && strcmp(rc.ev[i].state, state) == 0)
            at = rc.ev[i].at;
    pthread_mutex_unlock(&rc.lock);
    return at;
}

static int64_t wait_event(const char *type, const char *state, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms, at;
    while (!(at = event_at(type, state)) && now_ms() < end)
        sleep_ms(20);
    return at;
}

static void execute_code(relay_call *call, const char *method, const char *params, char *code,
                         size_t n, char *msg, size_t m)
{
    relay_result *res = NULL;
    relay_call_execute(call, method, params, &res);
    snprintf(code, n, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    if (msg)
        snprintf(msg, m, "%s", res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

static void echo_call(relay_call *call)
{
    execute_code(call, "calling.echo", "{\"timeout\":-1}", rc.bad_code[0], sizeof rc.bad_code[0],
                 NULL, 0);
    execute_code(call, "calling.echo", "{\"timeout\":\"long\"}", rc.bad_code[1],
                 sizeof rc.bad_code[1], NULL, 0);
    rc.t_start = now_ms();
    execute_code(call, "calling.echo", "{\"timeout\":2}", rc.code, sizeof rc.code, rc.msg,
                 sizeof rc.msg);
    if (wait_event("calling.call.echo", "finished", 6000))
        sleep_ms(1000); /* the tone still comes in: none of it may go back */
}

/* Records what the caller sends for 3 s, denoised or not; then turns the
 * denoise off again. */
static void record_call(relay_call *call)
{
    if (rc.which == CASE_RECORD_DENOISED)
        execute_code(call, "calling.denoise", "{}", rc.denoise_code, sizeof rc.denoise_code,
                     NULL, 0);
    relay_action *a = NULL;
    if (relay_call_start(call, "calling.record",
                         "{\"record\":{\"audio\":{\"direction\":\"listen\","
                         "\"initial_timeout\":0,\"end_silence_timeout\":0}}}",
                         &a) != RELAY_OK)
        return;
    sleep_ms(3000);
    relay_result *res = NULL;
    relay_action_stop(a, &res);
    snprintf(rc.stop_code, sizeof rc.stop_code, "%s",
             res && relay_result_code(res) ? relay_result_code(res) : "");
    relay_result_free(res);
    res = NULL;
    relay_action_wait(a, 10000, &res);
    const char *url = res ? relay_result_get(res, "url") : NULL;
    snprintf(rc.url, sizeof rc.url, "%s", url ? url : "");
    relay_result_free(res);
    relay_action_free(a);
    if (rc.which == CASE_RECORD_DENOISED)
        execute_code(call, "calling.denoise.stop", "{}", rc.undenoise_code,
                     sizeof rc.undenoise_code, NULL, 0);
}

/* Refused taps: each with its code and a reason. */
#define TAP_OK_DEVICE "\"device\":{\"type\":\"rtp\",\"params\":{\"addr\":\"127.0.0.1\",\"port\":24402}}"
static const char *const bad_taps[] = {
    "{\"control_id\":\"t0\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"10.0.0.1\",\"port\":24402}}}",
    "{\"control_id\":\"t1\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"169.254.169.254\",\"port\":24402}}}",
    "{\"control_id\":\"t2\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"127.0.0.2\",\"port\":24402}}}",
    "{\"control_id\":\"t3\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"example.com\",\"port\":24402}}}",
    "{\"control_id\":\"t4\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"127.0.0.1\",\"port\":0}}}",
    "{\"control_id\":\"t5\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"127.0.0.1\",\"port\":70000}}}",
    "{\"control_id\":\"t6\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"rtp\","
    "\"params\":{\"addr\":\"127.0.0.1\",\"port\":24402,\"codec\":\"G729\"}}}",
    "{\"control_id\":\"t7\",\"tap\":{\"type\":\"audio\",\"params\":{\"direction\":\"up\"}},"
    TAP_OK_DEVICE "}",
    "{\"tap\":{\"type\":\"audio\"}," TAP_OK_DEVICE "}",
    "{\"control_id\":\"t9\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":\"ws\","
    "\"params\":{\"uri\":\"http://example.com/tap\"}}}", /* not ws:// */
    NULL,
};
static const char *const bad_tap_want[] = {"400", "400", "400", "400", "400",
                                           "400", "400", "400", "400", "400"};

/* Taps what the caller says (sipp streams a tone) to the test's socket for
 * 1.5 s, then stops it. */
static void tap_call(relay_call *call)
{
    for (int i = 0; bad_taps[i]; i++)
        execute_code(call, "calling.tap", bad_taps[i], rc.bad_code[i], sizeof rc.bad_code[i],
                     rc.bad_msg[i], sizeof rc.bad_msg[i]);
    relay_result *res = NULL;
    rc.t_start = now_ms();
    relay_call_execute(call, "calling.tap",
                       "{\"control_id\":\"tap-1\",\"tap\":{\"type\":\"audio\",\"params\":"
                       "{\"direction\":\"listen\"}}," TAP_OK_DEVICE "}",
                       &res);
    const char *v;
    snprintf(rc.code, sizeof rc.code, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    v = res ? relay_result_get(res, "source_device.params.port") : NULL;
    snprintf(rc.src_port, sizeof rc.src_port, "%s", v ? v : "");
    v = res ? relay_result_get(res, "source_device.params.addr") : NULL;
    snprintf(rc.src_addr, sizeof rc.src_addr, "%s", v ? v : "");
    v = res ? relay_result_get(res, "source_device.params.codec") : NULL;
    snprintf(rc.src_codec, sizeof rc.src_codec, "%s", v ? v : "");
    relay_result_free(res);
    sleep_ms(1500);
    rc.t_stop = now_ms();
    execute_code(call, "calling.tap.stop", "{\"control_id\":\"tap-1\"}", rc.stop_code,
                 sizeof rc.stop_code, NULL, 0);
    wait_event("calling.call.tap", "finished", 3000);
    sleep_ms(700); /* the tone goes on: none of it may reach the socket now */
    execute_code(call, "calling.tap.stop", "{\"control_id\":\"tap-1\"}", rc.stop_code2,
                 sizeof rc.stop_code2, NULL, 0);
}

static void hangup_call(relay_call *call)
{
    /* everything running when the caller hangs up (sipp, 2.5 s in) */
    execute_code(call, "calling.denoise", "{}", rc.denoise_code, sizeof rc.denoise_code, NULL, 0);
    execute_code(call, "calling.echo", "{}", rc.code, sizeof rc.code, rc.msg, sizeof rc.msg);
    execute_code(call, "calling.tap",
                 "{\"control_id\":\"tap-h\",\"tap\":{\"type\":\"audio\",\"params\":"
                 "{\"direction\":\"both\"}}," TAP_OK_DEVICE "}",
                 rc.stop_code, sizeof rc.stop_code, NULL, 0);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_on(call, RELAY_EVENT_UNKNOWN, on_event, NULL);
    rc.answer = relay_call_answer(call, NULL);
    if (rc.which == CASE_ECHO)
        echo_call(call);
    else if (rc.which == CASE_TAP)
        tap_call(call);
    else if (rc.which == CASE_RECORD_PLAIN || rc.which == CASE_RECORD_DENOISED)
        record_call(call);
    else
        hangup_call(call);
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&rc.lock);
    rc.done = 1;
    pthread_mutex_unlock(&rc.lock);
}

static relay_client *client_new(void)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, "office", on_call, NULL);
}

static const char *sipp_rtp_port; /* NULL, or -key rtp_port for uac_rtp_listener.xml */

static int sipp_call(const char *scenario, const char *log)
{
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                          "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s",
                          "-timeout_error", "-nostdin", NULL, NULL, NULL, NULL};
    if (sipp_rtp_port) {
        argv[20] = "-key";
        argv[21] = "rtp_port";
        argv[22] = sipp_rtp_port;
    }
    return run(argv, log);
}

static void scenario_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), name);
}

static void run_case(op_case which, const char *scenario, const char *log)
{
    pthread_mutex_lock(&rc.lock);
    memset((char *)&rc + sizeof rc.lock, 0, sizeof rc - sizeof rc.lock);
    rc.which = which;
    pthread_mutex_unlock(&rc.lock);
    relay_client *c = client_new();
    int sipp_status = sipp_call(scenario, log);
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&rc.lock);
        int done = rc.done;
        pthread_mutex_unlock(&rc.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    assert_int_equal(sipp_status, 0);
    assert_true(rc.done);
    assert_int_equal(rc.answer, RELAY_OK);
}

/* Raw u-law made by sox: `seconds` of a 440 Hz tone at half scale, read
 * into a malloc'd buffer. */
static unsigned char *make_tone(double seconds, size_t *len)
{
    char path[600], secs[32];
    build_path(path, sizeof path, "media-ops-tone.ul");
    snprintf(secs, sizeof secs, "%.2f", seconds);
    const char *argv[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                          path, "synth", secs, "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(argv, "sox-media-ops-tone.log"), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc((size_t)(seconds * 8000) + 160);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)(seconds * 8000) + 160, f);
    fclose(f);
    return buf;
}

/* -------------------------------------------------------------- echo */

/* The caller (the test's socket) sends 5 s of 440 Hz; calling.echo with a
 * 2 s timeout sends it back: the tone is in what relayd sends during the
 * echo, and nothing loud comes after the finished event though the tone
 * keeps coming in. */
static void echo_sends_the_caller_back_until_the_timeout(void **state)
{
    (void)state;
    size_t len;
    unsigned char *tone = make_tone(5.0, &len);
    static rtp_peer peer;
    peer_start(&peer, PEER_PORT, tone, len);
    char scenario[600];
    scenario_path(scenario, sizeof scenario, "uac_rtp_listener.xml");
    sipp_rtp_port = "24400";
    run_case(CASE_ECHO, scenario, "sipp-media-ops-echo.log");
    sipp_rtp_port = NULL;
    peer_stop(&peer);
    free(tone);

    assert_string_equal(rc.bad_code[0], "400");
    assert_string_equal(rc.bad_code[1], "400");
    printf("echo: %s %s\n", rc.code, rc.msg);
    assert_string_equal(rc.code, "200");
    int64_t playing = event_at("calling.call.echo", "playing");
    int64_t finished = event_at("calling.call.echo", "finished");
    assert_true(playing > 0 && finished > 0);
    printf("echo finished %lld ms after the start\n", (long long)(finished - rc.t_start));
    assert_true(finished - rc.t_start >= 1800 && finished - rc.t_start < 3500);
    int total, with_tone, loud;
    peer_count(&peer, rc.t_start + 300, finished - 100, &total, &with_tone, &loud);
    printf("during: %d packets, %d with the tone\n", total, with_tone);
    assert_true(total >= 60);
    assert_true(with_tone >= total * 8 / 10);
    peer_count(&peer, finished + 200, INT64_MAX, &total, &with_tone, &loud);
    printf("after: %d packets, %d loud; the peer sent until +%lld ms\n", total, loud,
           (long long)(peer.last_sent_at - finished));
    assert_true(peer.last_sent_at - finished > 500); /* the tone was still coming in */
    assert_int_equal(loud, 0);
}

/* The caller hangs up while the echo runs (no timeout): the echo reports
 * finished, and relayd's clean exit at the end shows nothing leaked. */
static void a_hangup_ends_what_runs(void **state)
{
    (void)state;
    char scenario[600];
    scenario_path(scenario, sizeof scenario, "uac_hangup_mid_prompt.xml");
    run_case(CASE_HANGUP, scenario, "sipp-media-ops-hangup.log");
    assert_string_equal(rc.code, "200");
    assert_string_equal(rc.denoise_code, "200");
    assert_string_equal(rc.stop_code, "200"); /* the tap */
    assert_true(wait_event("calling.call.echo", "finished", 3000) > 0);
    assert_true(wait_event("calling.call.tap", "finished", 3000) > 0);
}

/* ----------------------------------------------------------- denoise */

/* A stream scenario (uac_stream_audio.xml.in) with the audio file's name
 * written in, as name in the build folder. */
static void make_stream_scenario(char *out, size_t n, const char *audio)
{
    char tpl[600];
    scenario_path(tpl, sizeof tpl, "uac_stream_audio.xml.in");
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(out, n, "media-ops-stream.xml");
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, audio, at + strlen("@AUDIO@"));
    fclose(f);
}

/* 4 s of a 440 Hz tone (0.3 of full scale) in 0.4 s bursts 0.4 s apart
 * with white noise (0.1) over it all,
 * raw u-law, made by sox. */
static void make_noisy_tone(char *path, size_t n)
{
    char tone[600], noise[600];
    build_path(tone, sizeof tone, "media-ops-tone.wav");
    build_path(noise, sizeof noise, "media-ops-noise.wav");
    build_path(path, n, "media-ops-noisy.ul");
    /* bursts, as speech comes: a steady tone would be learnt as noise */
    const char *t[] = {"sox", "-n", "-r", "8000", "-c", "1", tone, "synth", "0.4", "sine",
                       "440", "vol", "0.3", "pad", "0", "0.4", "repeat", "4", NULL};
    const char *w[] = {"sox", "-n", "-r", "8000", "-c", "1", noise, "synth", "4",
                       "whitenoise", "vol", "0.1", NULL};
    const char *m[] = {"sox", "-m", "-v", "1", tone, "-v", "1", noise, "-e", "u-law", "-t",
                       "raw", path, NULL};
    assert_int_equal(run(t, "sox-media-ops.log"), 0);
    assert_int_equal(run(w, "sox-media-ops.log"), 0);
    assert_int_equal(run(m, "sox-media-ops.log"), 0);
}

/* The recording from 1 s on (the suppressor has learnt the noise by
 * then): the tone's power (blocks of 400 samples hold exactly 22 periods
 * of 440 Hz) and the noise floor, the mean power at frequencies far from
 * the tone (1-3.5 kHz), where nothing but the white noise is. */
static void tone_and_noise(const char *url, double *tone, double *noise)
{
    assert_true(strncmp(url, "file:///", 8) == 0);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(url + 7, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.samplerate, 8000);
    short buf[400];
    double x[400], sum_tone = 0, sum_off = 0;
    int blocks = 0, n_off = 0;
    sf_seek(f, 8000, SEEK_SET);
    while (sf_readf_short(f, buf, 400) == 400) {
        for (int i = 0; i < 400; i++)
            x[i] = buf[i];
        sum_tone += goertzel(x, 400, 440);
        for (double hz = 1000; hz <= 3500; hz += 250, n_off++)
            sum_off += goertzel(x, 400, hz);
        blocks++;
    }
    sf_close(f);
    assert_true(blocks >= 8); /* 1.6 s at least */
    *tone = sum_tone / blocks;
    *noise = sum_off / n_off;
    printf("%s: %d blocks, tone %.3g, noise floor %.3g\n", url, blocks, *tone, *noise);
}

static void record_noisy(op_case which, double *tone, double *noise)
{
    char audio[600], scenario[600];
    make_noisy_tone(audio, sizeof audio);
    make_stream_scenario(scenario, sizeof scenario, audio);
    run_case(which, scenario, which == CASE_RECORD_PLAIN ? "sipp-media-ops-plain.log"
                                                         : "sipp-media-ops-denoised.log");
    assert_string_equal(rc.stop_code, "200");
    tone_and_noise(rc.url, tone, noise);
}

/* The same noisy tone recorded without and with calling.denoise: the
 * noise is well down with it, the tone mostly kept. */
static void denoise_lowers_the_noise_the_sinks_hear(void **state)
{
    (void)state;
    double tone_plain, noise_plain, tone_clean, noise_clean;
    record_noisy(CASE_RECORD_PLAIN, &tone_plain, &noise_plain);
    assert_int_equal(event_at("calling.call.denoise", "true"), 0);
    record_noisy(CASE_RECORD_DENOISED, &tone_clean, &noise_clean);
    assert_string_equal(rc.denoise_code, "200");
    assert_string_equal(rc.undenoise_code, "200");
    int64_t on = event_at("calling.call.denoise", "true");
    int64_t off = event_at("calling.call.denoise", "false");
    assert_true(on > 0 && off > on);
    double db = 10 * log10(noise_plain / noise_clean);
    printf("noise %.1f dB lower; tone kept at %.0f%%\n", db, 100 * tone_clean / tone_plain);
    assert_true(db >= 3); /* ~5 dB with bursts (speex lets more through while the tone sounds); 0 without */
    assert_true(tone_clean > 0.3 * tone_plain);
}

/* --------------------------------------------------------------- tap */

/* The caller streams a tone; a listen tap sends it to the test's socket as
 * RTP from the port the answer named; after .stop (finished) nothing more
 * arrives. Hostile or malformed destinations are refused with 400, a ws
 * device with a URI that is not ws:// too (test_relayd_stream.c has ws taps). */
static void a_tap_copies_the_caller_until_stopped(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    size_t len;
    free(make_tone(4.0, &len)); /* the file is what sipp streams */
    build_path(tone, sizeof tone, "media-ops-tone.ul");
    make_stream_scenario(scenario, sizeof scenario, tone);
    static rtp_peer peer;
    peer_start(&peer, TAP_PORT, NULL, 0);
    run_case(CASE_TAP, scenario, "sipp-media-ops-tap.log");
    peer_stop(&peer);

    for (int i = 0; bad_taps[i]; i++) {
        printf("%.70s -> %s %s\n", bad_taps[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], bad_tap_want[i]);
        assert_true(strlen(rc.bad_msg[i]) > 10);
    }
    printf("tap: %s from %s:%s %s\n", rc.code, rc.src_addr, rc.src_port, rc.src_codec);
    assert_string_equal(rc.code, "200");
    assert_string_equal(rc.src_addr, "127.0.0.1");
    assert_string_equal(rc.src_codec, "PCMU");
    assert_string_equal(rc.stop_code, "200");
    assert_string_equal(rc.stop_code2, "404"); /* gone once finished */
    int64_t tapping = event_at("calling.call.tap", "tapping");
    int64_t finished = event_at("calling.call.tap", "finished");
    assert_true(tapping > 0 && finished >= rc.t_stop);
    int total, with_tone, loud;
    peer_count(&peer, rc.t_start + 300, rc.t_stop, &total, &with_tone, &loud);
    printf("tapped: %d packets, %d with the tone; from port %d, pt %d\n", total, with_tone,
           peer.from_port, peer.pt);
    assert_true(total >= 50);
    assert_true(with_tone >= total * 8 / 10);
    assert_int_equal(peer.from_port, atoi(rc.src_port));
    assert_int_equal(peer.pt, 0);
    peer_count(&peer, finished + 100, INT64_MAX, &total, &with_tone, &loud);
    printf("after finished: %d packets\n", total);
    assert_int_equal(total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_sends_the_caller_back_until_the_timeout),
        cmocka_unit_test(denoise_lowers_the_noise_the_sinks_hear),
        cmocka_unit_test(a_tap_copies_the_caller_until_stopped),
        cmocka_unit_test(a_hangup_ends_what_runs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
