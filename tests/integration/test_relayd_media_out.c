/*
 * What relayd sends around a record and as digits, against a real relayd,
 * a librelay client and a sipp caller whose SDP points relayd's RTP at this
 * test (a socket of its own, decoded here):
 *
 *   - calling.record beep: true → about 0.5 s of 1 kHz on the wire before
 *     the `recording` event; the file (direction speak) holds what was
 *     played after it (a 440+480 Hz ringtone) and no 1 kHz; a stop during
 *     the beep finishes at once; a hangup during the beep ends it cleanly;
 *   - calling.record format mp3 → an MP3 (libsndfile reads it back) of
 *     what the caller streamed, the event's url, duration and size
 *     describing it;
 *   - calling.send_digits to a peer that offered telephone-event → RFC 4733
 *     events (codes in order, marker on each first packet, durations, three
 *     end packets), no tones. Without the offer relayd still sends tones:
 *     test_relayd_media_in.c's send_digits_reach_the_peer_as_tones.
 * relayd must then exit 0 (no leaks under ASan).
 *
 * Ports: WS 65300, SIP 29101, RTP 29200-29299, sipp 29102 / 29300, the
 * test's RTP 29400.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

#define WS_PORT 65300
#define SIP_PORT "29101"
#define SIPP_PORT "29102"
#define SIPP_MEDIA_PORT "29300"
#define RTP_LISTEN_PORT 29400
#define PROJECT "media-out-project"
#define TOKEN "media-out-token-7c1d"

static relayd_proc server;
static char rec_dir[600];

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 40000) : -1;
}

static int setup(void **state)
{
    (void)state;
    build_path(rec_dir, sizeof rec_dir, "recordings-out");
    const char *rm[] = {"rm", "-rf", rec_dir, NULL};
    run(rm, "rm-recordings-out.log");
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:65300", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "29200-29299", "--auth",
                          PROJECT ":" TOKEN, "--recordings-dir", rec_dir, "--log-level",
                          "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-media-out.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------------ RTP */

/* Every packet relayd sent to the test's port, as it came. */
#define MAX_PKTS 1500 /* 30 s */
typedef struct pkt {
    int64_t at;
    int pt, marker;
    uint16_t seq;
    uint32_t ts;
    int len; /* payload bytes */
    unsigned char payload[160];
} pkt;
static struct {
    int fd;
    volatile int stop;
    pthread_mutex_t lock;
    int n;
    pkt p[MAX_PKTS];
} rx = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *rx_main(void *arg)
{
    (void)arg;
    unsigned char buf[2048];
    while (!rx.stop) {
        ssize_t len = recv(rx.fd, buf, sizeof buf, 0);
        if (len < 12 || (buf[0] & 0xC0) != 0x80)
            continue;
        size_t off = 12 + 4 * (size_t)(buf[0] & 0x0f);
        if ((size_t)len < off || (size_t)len - off > 160)
            continue;
        pthread_mutex_lock(&rx.lock);
        if (rx.n < MAX_PKTS) {
            pkt *p = &rx.p[rx.n++];
            p->at = now_ms();
            p->pt = buf[1] & 0x7f;
            p->marker = buf[1] >> 7;
            p->seq = (uint16_t)(buf[2] << 8 | buf[3]);
            p->ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
                    buf[7];
            p->len = (int)((size_t)len - off);
            memcpy(p->payload, buf + off, (size_t)p->len);
        }
        pthread_mutex_unlock(&rx.lock);
    }
    return NULL;
}

static pthread_t rx_thread;

static void rx_start(void)
{
    pthread_mutex_lock(&rx.lock);
    rx.n = 0;
    rx.stop = 0;
    pthread_mutex_unlock(&rx.lock);
    rx.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rx.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RTP_LISTEN_PORT)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rx.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 200 * 1000};
    setsockopt(rx.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(pthread_create(&rx_thread, NULL, rx_main, NULL), 0);
}

static void rx_end(void)
{
    rx.stop = 1;
    pthread_join(rx_thread, NULL);
    close(rx.fd);
}

/* Amplitude of f Hz in n samples (Goertzel). */
static double tone_amp(const double *x, int n, double f)
{
    double w = 2 * M_PI * f / 8000, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2 * sqrt(p > 0 ? p : 0) / n;
}

static double pkt_amp(const pkt *p, double f)
{
    double x[160];
    for (int i = 0; i < 160; i++)
        x[i] = i < p->len ? ulaw_to_linear(p->payload[i]) : 0;
    return tone_amp(x, 160, f);
}

/* ------------------------------------------------------------ the cases */

typedef enum { CASE_BEEP, CASE_BEEP_HANGUP, CASE_MP3, CASE_EVENTS } out_case;

typedef struct run_facts {
    relay_status start, wait;
    char state[32], url[700], duration[32], size[32], format[16];
} run_facts;

static struct {
    pthread_mutex_t lock;
    out_case which;
    int done;
    relay_status answer;
    run_facts early_stop, main;
    int64_t t_start, t_recording, t_end;
    char stop_code[8], bad_code[8], bad_msg[160];
} oc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void take_final(relay_result *res, run_facts *f)
{
    json_error_t err;
    json_t *p = res ? json_loads(relay_result_json(res), 0, &err) : NULL;
    snprintf(f->state, sizeof f->state, "%s", json_string_value(json_object_get(p, "state")) ?: "");
    snprintf(f->url, sizeof f->url, "%s", json_string_value(json_object_get(p, "url")) ?: "");
    snprintf(f->duration, sizeof f->duration, "%.3f",
             json_number_value(json_object_get(p, "duration")));
    snprintf(f->size, sizeof f->size, "%lld",
             (long long)json_integer_value(json_object_get(p, "size")));
    json_t *audio = json_object_get(json_object_get(p, "record"), "audio");
    snprintf(f->format, sizeof f->format, "%s",
             json_string_value(json_object_get(audio, "format")) ?: "");
    json_decref(p);
}

/* Starts a record, stops it after stop_after_ms (0: not), waits for its end. */
static void record_run(relay_call *call, const char *params, int stop_after_ms, run_facts *f)
{
    relay_action *a = NULL;
    f->start = relay_call_start(call, "calling.record", params, &a);
    if (f->start != RELAY_OK)
        return;
    if (stop_after_ms) {
        sleep_ms(stop_after_ms);
        relay_result *res = NULL;
        relay_action_stop(a, &res);
        relay_result_free(res);
    }
    relay_result *res = NULL;
    f->wait = relay_action_wait(a, 15000, &res);
    take_final(res, f);
    relay_result_free(res);
    relay_action_free(a);
}

#define BEEP_RECORD                                                                        \
    "{\"record\":{\"audio\":{\"beep\":true,\"direction\":\"speak\",\"initial_timeout\":0," \
    "\"end_silence_timeout\":0}}}"

/* A beep stopped at once, then a beep, a ringtone recorded, the record
 * stopped. */
static void beep_call(relay_call *call)
{
    record_run(call, BEEP_RECORD, 100, &oc.early_stop);
    sleep_ms(300);
    relay_action *a = NULL;
    oc.t_start = now_ms();
    oc.main.start = relay_call_start(call, "calling.record", BEEP_RECORD, &a);
    if (oc.main.start != RELAY_OK)
        return;
    while (strcmp(relay_action_state(a), "recording") != 0 && now_ms() - oc.t_start < 5000)
        sleep_ms(5);
    oc.t_recording = now_ms();
    relay_result *res = NULL;
    relay_call_play_ringtone(call, "us", 1, &res);
    relay_result_free(res);
    res = NULL;
    relay_action_stop(a, &res);
    snprintf(oc.stop_code, sizeof oc.stop_code, "%s",
             res && relay_result_code(res) ? relay_result_code(res) : "");
    relay_result_free(res);
    res = NULL;
    oc.main.wait = relay_action_wait(a, 15000, &res);
    oc.t_end = now_ms();
    take_final(res, &oc.main);
    relay_result_free(res);
    relay_action_free(a);
}

static void beep_hangup_call(relay_call *call)
{
    relay_action *a = NULL;
    oc.main.start = relay_call_start(call, "calling.record", BEEP_RECORD, &a);
    if (oc.main.start != RELAY_OK)
        return;
    sleep_ms(200); /* mid-beep */
    relay_call_hangup(call, NULL, NULL);
    relay_result *res = NULL;
    oc.main.wait = relay_action_wait(a, 15000, &res);
    take_final(res, &oc.main);
    relay_result_free(res);
    relay_action_free(a);
}

static void mp3_call(relay_call *call)
{
    relay_result *res = NULL;
    relay_call_execute(call, "calling.record",
                       "{\"control_id\":\"ogg\",\"record\":{\"audio\":{\"format\":\"ogg\"}}}",
                       &res);
    snprintf(oc.bad_code, sizeof oc.bad_code, "%s",
             res && relay_result_code(res) ? relay_result_code(res) : "");
    snprintf(oc.bad_msg, sizeof oc.bad_msg, "%s",
             res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
    oc.t_start = now_ms();
    record_run(call,
               "{\"record\":{\"audio\":{\"format\":\"mp3\",\"direction\":\"listen\","
               "\"initial_timeout\":5,\"end_silence_timeout\":1}}}",
               0, &oc.main);
    oc.t_end = now_ms();
}

static void events_call(relay_call *call)
{
    relay_action *a = NULL;
    oc.t_start = now_ms();
    oc.main.start = relay_call_start(call, "calling.send_digits", "{\"digits\":\"1w9#\"}", &a);
    if (oc.main.start != RELAY_OK)
        return;
    relay_result *res = NULL;
    oc.main.wait = relay_action_wait(a, 10000, &res);
    oc.t_end = now_ms();
    take_final(res, &oc.main);
    relay_result_free(res);
    relay_action_free(a);
    sleep_ms(300); /* the last packets reach the listener */
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    oc.answer = relay_call_answer(call, NULL);
    switch (oc.which) {
    case CASE_BEEP:
        beep_call(call);
        break;
    case CASE_BEEP_HANGUP:
        beep_hangup_call(call);
        break;
    case CASE_MP3:
        mp3_call(call);
        break;
    case CASE_EVENTS:
        events_call(call);
        break;
    }
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&oc.lock);
    oc.done = 1;
    pthread_mutex_unlock(&oc.lock);
}

static relay_client *client_new(void)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, "office", on_call, NULL);
}

/* scenario: a file in the source tree, or (absolute) one made here;
 * listen: -key rtp_port for the uac_rtp_listener scenarios. */
static void run_case(out_case which, const char *scenario, int listen, const char *log)
{
    pthread_mutex_lock(&oc.lock);
    memset((char *)&oc + sizeof oc.lock, 0, sizeof oc - sizeof oc.lock);
    oc.which = which;
    pthread_mutex_unlock(&oc.lock);
    char path[600];
    if (scenario[0] == '/')
        snprintf(path, sizeof path, "%s", scenario);
    else
        snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
                 scenario);
    char port[16];
    snprintf(port, sizeof port, "%d", RTP_LISTEN_PORT);
    relay_client *c = client_new();
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT, "-mp",
                          SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s", "-timeout_error",
                          "-nostdin", listen ? "-key" : NULL, "rtp_port", port, NULL};
    int sipp_status = run(argv, log);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&oc.lock);
        int done = oc.done;
        pthread_mutex_unlock(&oc.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    assert_int_equal(sipp_status, 0);
    assert_true(oc.done);
    assert_int_equal(oc.answer, RELAY_OK);
    assert_int_equal(oc.main.start, RELAY_OK);
}

typedef struct file_facts {
    int channels, rate, major;
    double seconds, rms, peak1k, amp440;
    long long bytes;
} file_facts;

/* What the file at a file:// url holds: its length, loudness, and the
 * strongest 1 kHz and 440 Hz over its 20 ms frames. */
static void read_audio(const char *url, file_facts *w)
{
    memset(w, 0, sizeof *w);
    assert_true(strncmp(url, "file:///", 8) == 0);
    const char *path = url + 7;
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    w->bytes = (long long)st.st_size;
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    assert_non_null(f);
    w->channels = info.channels;
    w->rate = info.samplerate;
    w->major = info.format & SF_FORMAT_TYPEMASK;
    w->seconds = (double)info.frames / info.samplerate;
    double sq = 0, x[160];
    short buf[160];
    sf_count_t got, total = 0;
    while (info.channels == 1 && (got = sf_readf_short(f, buf, 160)) > 0) {
        for (sf_count_t i = 0; i < got; i++) {
            x[i] = buf[i];
            sq += x[i] * x[i];
        }
        total += got;
        if (got == 160) {
            w->peak1k = fmax(w->peak1k, tone_amp(x, 160, 1000));
            w->amp440 = fmax(w->amp440, tone_amp(x, 160, 440));
        }
    }
    sf_close(f);
    w->rms = total ? sqrt(sq / (double)total) : 0;
    printf("%s: format %#x, %d ch, %d Hz, %.3f s, %lld bytes, RMS %.0f, 1 kHz %.0f, "
           "440 Hz %.0f\n",
           path, w->major, w->channels, w->rate, w->seconds, w->bytes, w->rms, w->peak1k,
           w->amp440);
}

/* -------------------------------------------------------------- tests */

/* beep: true → 1 kHz for about 0.5 s on the wire, then `recording`; the
 * recording holds what relayd played after it, and no beep. */
static void a_beep_plays_before_the_recording_starts(void **state)
{
    (void)state;
    rx_start();
    run_case(CASE_BEEP, "uac_rtp_listener.xml", 1, "sipp-record-beep.log");
    rx_end();

    /* stopped during the beep: finished at once, nothing recorded */
    assert_int_equal(oc.early_stop.start, RELAY_OK);
    assert_int_equal(oc.early_stop.wait, RELAY_OK);
    assert_string_equal(oc.early_stop.state, "finished");
    printf("stopped mid-beep: duration %s\n", oc.early_stop.duration);
    assert_true(atof(oc.early_stop.duration) < 0.05);

    /* the beep: 1 kHz packets between the start and `recording` */
    int64_t waited = oc.t_recording - oc.t_start;
    int beep = 0, other = 0, first = -1, last = -1;
    for (int i = 0; i < rx.n; i++) {
        if (rx.p[i].at < oc.t_start || rx.p[i].at > oc.t_recording + 40 || rx.p[i].pt != 0)
            continue;
        if (pkt_amp(&rx.p[i], 1000) > 3000) {
            beep++;
            first = first < 0 ? i : first;
            last = i;
        } else {
            other++;
        }
    }
    printf("beep: `recording` after %lld ms; %d packets of 1 kHz (%lld ms), %d others\n",
           (long long)waited, beep, first >= 0 ? (long long)(rx.p[last].at - rx.p[first].at) : 0,
           other);
    assert_true(waited >= 450 && waited < 1500);
    assert_true(beep >= 22 && beep <= 26); /* 25 frames of 20 ms */
    assert_true(rx.p[first].marker);

    /* the record: the ringtone played after it, no beep */
    assert_string_equal(oc.stop_code, "200");
    assert_int_equal(oc.main.wait, RELAY_OK);
    assert_string_equal(oc.main.state, "finished");
    file_facts w;
    read_audio(oc.main.url, &w);
    assert_int_equal(w.channels, 1);
    assert_true(w.seconds >= 0.9 && w.seconds < 2.5);
    assert_true(w.amp440 > 1000); /* the ringtone */
    assert_true(w.peak1k < 1000); /* no beep (it would be over 5000) */
}

/* A hangup during the beep: the record reports finished, relayd frees it
 * (its clean exit at teardown). */
static void a_hangup_during_the_beep_ends_the_record(void **state)
{
    (void)state;
    run_case(CASE_BEEP_HANGUP, "uac_rtp_listener.xml", 1, "sipp-record-beep-hangup.log");
    assert_int_equal(oc.main.wait, RELAY_OK);
    printf("hangup mid-beep: state %s, duration %s\n", oc.main.state, oc.main.duration);
    assert_string_equal(oc.main.state, "finished");
}

/* Raw u-law made by sox: `seconds` of 440 Hz at half scale. */
static void make_tone(char *path, size_t n, double seconds)
{
    char secs[32];
    build_path(path, n, "out-tone.ul");
    snprintf(secs, sizeof secs, "%.2f", seconds);
    const char *argv[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                          path, "synth", secs, "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(argv, "sox-out-tone.log"), 0);
}

/* uac_stream_audio.xml.in with the audio file's name written in (sipp
 * reads rtp_stream's file when it loads the scenario), in the build folder. */
static void make_stream_scenario(char *out, size_t n, const char *audio)
{
    char tpl[600];
    snprintf(tpl, sizeof tpl, "%s/tests/integration/sip/uac_stream_audio.xml.in",
             getenv("RELAY_SOURCE_DIR"));
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(out, n, "uac_stream_audio_out.xml");
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, audio, at + strlen("@AUDIO@"));
    fclose(f);
}

/* format mp3: the caller streams 2 s of 440 Hz and falls silent; the
 * record ends after end_silence_timeout with an MP3 of those 2 s, which
 * the event describes. An unknown format is refused. */
static void a_record_in_mp3(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 2.0);
    make_stream_scenario(scenario, sizeof scenario, tone);
    run_case(CASE_MP3, scenario, 0, "sipp-record-mp3.log");
    printf("format ogg -> %s %s\n", oc.bad_code, oc.bad_msg);
    assert_string_equal(oc.bad_code, "400");
    assert_int_equal(oc.main.wait, RELAY_OK);
    assert_string_equal(oc.main.state, "finished");
    assert_string_equal(oc.main.format, "mp3");
    size_t len = strlen(oc.main.url);
    assert_true(len > 4 && strcmp(oc.main.url + len - 4, ".mp3") == 0);
    file_facts w;
    read_audio(oc.main.url, &w);
    assert_int_equal(w.major, SF_FORMAT_MPEG);
    assert_int_equal(w.channels, 1);
    assert_int_equal(w.rate, 8000);
    assert_true(fabs(w.seconds - 2.0) <= 0.3);
    assert_true(w.rms > 3000);    /* a 440 Hz sine at half scale: ~11000 */
    assert_true(w.amp440 > 5000); /* and it is 440 Hz */
    printf("event: duration %s, size %s\n", oc.main.duration, oc.main.size);
    assert_true(fabs(atof(oc.main.duration) - w.seconds) < 0.05);
    assert_int_equal(atoll(oc.main.size), w.bytes);
    assert_true(oc.t_end - oc.t_start < 5000); /* ended by the silence */
}

/* One telephone-event as the test received it. */
typedef struct te_event {
    int code, packets, ends, markers, first_marker, seq_ok, durations_ok, volume;
    uint32_t ts;
} te_event;

/* Groups relayd's telephone-event packets (payload type 101, as the SDP
 * offered) by timestamp, checking each event's packets as they come. */
static int te_events(te_event *ev, int max)
{
    int n = 0;
    uint16_t last_seq = 0;
    for (int i = 0; i < rx.n; i++) {
        const pkt *p = &rx.p[i];
        if (p->pt != 101 || p->len != 4)
            continue;
        int code = p->payload[0], end = p->payload[1] >> 7;
        unsigned duration = (unsigned)p->payload[2] << 8 | p->payload[3];
        te_event *e = n ? &ev[n - 1] : NULL;
        if (!e || p->ts != e->ts) {
            if (n == max)
                break;
            e = &ev[n++];
            memset(e, 0, sizeof *e);
            e->code = code;
            e->ts = p->ts;
            e->first_marker = p->marker;
            e->seq_ok = e->durations_ok = 1;
            e->volume = p->payload[1] & 0x3f;
        } else if ((uint16_t)(last_seq + 1) != p->seq) {
            e->seq_ok = 0;
        }
        last_seq = p->seq;
        e->packets++;
        e->markers += p->marker;
        e->ends += end;
        /* 160 more per packet up to 800 (100 ms), which the end packets keep */
        unsigned want = e->packets < 5 ? 160u * (unsigned)e->packets : 800u;
        if (duration != want || end != (e->packets >= 5) || code != e->code)
            e->durations_ok = 0;
    }
    return n;
}

/* The peer offered telephone-event: relayd sends 1, a 0.5 s pause, 9 and #
 * as RFC 4733 events, and no tones. */
static void send_digits_go_as_telephone_events_when_negotiated(void **state)
{
    (void)state;
    rx_start();
    run_case(CASE_EVENTS, "uac_rtp_listener_te.xml", 1, "sipp-send-events.log");
    rx_end();
    assert_int_equal(oc.main.wait, RELAY_OK);
    assert_string_equal(oc.main.state, "finished");

    te_event ev[8];
    int n = te_events(ev, 8);
    int audio = 0;
    for (int i = 0; i < rx.n; i++)
        audio += rx.p[i].pt != 101;
    printf("%d packets, %d of them audio; %d events\n", rx.n, audio, n);
    for (int i = 0; i < n; i++)
        printf("event %d: ts %u, %d packets, %d end, marker first %d (%d in all), seq %s, "
               "durations %s, volume %d\n",
               ev[i].code, ev[i].ts, ev[i].packets, ev[i].ends, ev[i].first_marker,
               ev[i].markers, ev[i].seq_ok ? "ok" : "BAD", ev[i].durations_ok ? "ok" : "BAD",
               ev[i].volume);
    assert_int_equal(audio, 0); /* no in-band tones besides */
    assert_int_equal(n, 3);
    static const int codes[3] = {1, 9, 11}; /* '#' is event 11 */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ev[i].code, codes[i]);
        assert_int_equal(ev[i].packets, 7); /* 4 + the end packet, sent 3 times */
        assert_int_equal(ev[i].ends, 3);
        assert_true(ev[i].first_marker);
        assert_int_equal(ev[i].markers, 1);
        assert_true(ev[i].seq_ok);
        assert_true(ev[i].durations_ok);
        assert_int_equal(ev[i].volume, 10);
    }
    /* event timestamps on the 8 kHz clock: 1 to 9 is 100 + 60 + 500 ms,
     * 9 to # 160 ms (the media thread's ticks, give or take one) */
    uint32_t d19 = ev[1].ts - ev[0].ts, d9h = ev[2].ts - ev[1].ts;
    printf("timestamps: 1 to 9 %u, 9 to # %u\n", d19, d9h);
    assert_true(d19 >= 5280 - 160 && d19 <= 5280 + 320);
    assert_true(d9h >= 1280 - 160 && d9h <= 1280 + 320);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_beep_plays_before_the_recording_starts),
        cmocka_unit_test(a_hangup_during_the_beep_ends_the_record),
        cmocka_unit_test(a_record_in_mp3),
        cmocka_unit_test(send_digits_go_as_telephone_events_when_negotiated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
