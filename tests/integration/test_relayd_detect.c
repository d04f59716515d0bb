/*
 * calling.detect against a real relayd, a librelay client and sipp
 * callers. The test writes what each caller says (digits, fax tones,
 * speech-like noise, a beep) as raw u-law that sipp streams as RTP; the
 * RFC 4733 digits are sipp's own telephone-event captures. Each case is
 * one call: the application answers, starts a detect, and records every
 * calling.call.detect event with when it arrived, measured from the
 * answer (about when sipp starts streaming: it streams on its ACK).
 *
 * Ports: relayd WS 64100, SIP 22101, RTP 22200-22299; sipp 22102 (media
 * 22300).
 */
#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 64100
#define SIP_PORT "22101"
#define SIPP_PORT "22102"
#define SIPP_MEDIA_PORT "22300"
#define PROJECT "detect-project"
#define TOKEN "detect-token-3f19"
#define RATE 8000

static relayd_proc server;

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static void scenario_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 60000) : -1;
}

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64100", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "22200-22299", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-detect.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------ what the caller says */

#define MAX_SAMPLES (RATE * 20)
static int16_t pcm[MAX_SAMPLES];
static size_t n_pcm;

static void add_silence(double s)
{
    for (size_t i = 0; i < (size_t)(s * RATE) && n_pcm < MAX_SAMPLES; i++)
        pcm[n_pcm++] = 0;
}

static void add_tones(double s, double f1, double f2, double amp)
{
    for (size_t i = 0; i < (size_t)(s * RATE) && n_pcm < MAX_SAMPLES; i++) {
        double t = (double)i / RATE;
        double v = sin(2 * M_PI * f1 * t) + (f2 > 0 ? sin(2 * M_PI * f2 * t) : 0);
        pcm[n_pcm++] = (int16_t)(amp * v / (f2 > 0 ? 2 : 1));
    }
}

/* Speech-like: noise, low-passed (a voice's energy is mostly below 1 kHz),
 * in syllables of 180 ms under a raised-cosine envelope with 50 ms dips
 * between them, `syllables` per word; words 200 ms apart. Nothing tonal
 * holds: no beep, no fax tone, no DTMF. */
static unsigned seed = 12345;
static double noise(void)
{
    seed = seed * 1103515245u + 12345u;
    return ((double)(seed >> 8 & 0xFFFF) / 32768.0) - 1.0;
}

static void add_speech(double s, int syllables)
{
    size_t end = n_pcm + (size_t)(s * RATE);
    double lp = 0;
    while (n_pcm < end && n_pcm < MAX_SAMPLES) {
        for (int k = 0; k < syllables && n_pcm < end; k++) {
            int len = (int)(0.18 * RATE);
            for (int i = 0; i < len && n_pcm < end; i++) {
                lp = 0.75 * lp + 0.25 * noise();
                double env = 0.5 - 0.5 * cos(2 * M_PI * (i + 0.5) / len);
                pcm[n_pcm++] = (int16_t)(14000 * env * lp);
            }
            for (int i = 0; i < (int)(0.05 * RATE) && n_pcm < end; i++)
                pcm[n_pcm++] = (int16_t)(300 * noise());
        }
        for (int i = 0; i < (int)(0.2 * RATE) && n_pcm < end; i++)
            pcm[n_pcm++] = 0;
    }
}

/* pcm as raw u-law (sox converts: the test's audio does not go through
 * relayd's codec on the way in), `name` in the build folder. */
static void write_audio(const char *name, char *path, size_t n)
{
    char raw[600];
    build_path(raw, sizeof raw, "detect-audio.s16");
    build_path(path, n, name);
    FILE *f = fopen(raw, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(pcm, sizeof pcm[0], n_pcm, f), n_pcm);
    fclose(f);
    const char *argv[] = {"sox", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c",
                          "1", raw, "-e", "u-law", "-t", "raw", path, NULL};
    assert_int_equal(run(argv, "sox-detect.log"), 0);
    n_pcm = 0;
}

/* A stream scenario with the audio file's name written in. */
static void make_scenario(const char *tpl_name, const char *audio, char *out, size_t n)
{
    char tpl[600];
    scenario_path(tpl, sizeof tpl, tpl_name);
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(out, n, "detect-stream.xml");
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, audio, at + strlen("@AUDIO@"));
    fclose(f);
}

/* ----------------------------------------------------------- the calls */

#define MAX_EVENTS 64
#define MAX_BAD 12
static struct {
    pthread_mutex_t lock;
    const char *detect; /* the calling.detect params, or NULL: the bad-input case */
    int stop_after_ms;  /* > 0: .stop then */
    int wait_end;       /* how long to wait for the finished event */
    const relay_detect_machine_params *action; /* start it with librelay's
                                                * detect_answering_machine */
    relay_status action_wait;
    char action_event[16], control_id[48];
    int64_t action_done;
    int done;
    relay_status answer;
    int64_t t0; /* the answer */
    char code[8], msg[160], stop_code[8], stop_code2[8];
    char bad_code[MAX_BAD][8], bad_msg[MAX_BAD][160];
    int n_ev;
    struct { char type[16], event[16], state[16], control[48]; int64_t at; } ev[MAX_EVENTS];
} rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    if (!ev->event_type || strcmp(ev->event_type, "calling.call.detect") != 0)
        return;
    const char *type = relay_result_get(ev->params, "detect.type");
    const char *event = relay_result_get(ev->params, "detect.params.event");
    pthread_mutex_lock(&rc.lock);
    if (rc.n_ev < MAX_EVENTS) {
        snprintf(rc.ev[rc.n_ev].type, sizeof rc.ev[0].type, "%s", type ? type : "");
        snprintf(rc.ev[rc.n_ev].event, sizeof rc.ev[0].event, "%s", event ? event : "");
        snprintf(rc.ev[rc.n_ev].state, sizeof rc.ev[0].state, "%s", ev->state ? ev->state : "");
        snprintf(rc.ev[rc.n_ev].control, sizeof rc.ev[0].control, "%s",
                 ev->control_id ? ev->control_id : "");
        rc.ev[rc.n_ev].at = now_ms() - rc.t0;
        rc.n_ev++;
    }
    pthread_mutex_unlock(&rc.lock);
}

/* ms after the answer at which `event` arrived; -1 if it did not. */
static int64_t event_at(const char *event)
{
    int64_t at = -1;
    pthread_mutex_lock(&rc.lock);
    for (int i = 0; i < rc.n_ev && at < 0; i++)
        if (strcmp(rc.ev[i].event, event) == 0)
            at = rc.ev[i].at;
    pthread_mutex_unlock(&rc.lock);
    return at;
}

static int64_t wait_event(const char *event, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms, at;
    while ((at = event_at(event)) < 0 && now_ms() < end)
        sleep_ms(20);
    return at;
}

/* The events in order, "MACHINE,READY,finished". */
static void events_seen(char *out, size_t n)
{
    out[0] = 0;
    pthread_mutex_lock(&rc.lock);
    for (int i = 0; i < rc.n_ev; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", rc.ev[i].event);
    pthread_mutex_unlock(&rc.lock);
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

/* Refused detects: each answers 400 (409 for the second of a type). */
static const char *const bad_detects[MAX_BAD] = {
    "{\"control_id\":\"b0\",\"detect\":{\"type\":\"speech\",\"params\":{}}}",
    "{\"control_id\":\"b1\",\"detect\":{\"type\":\"digit\",\"params\":{}},\"timeout\":-1}",
    "{\"control_id\":\"b2\",\"detect\":{\"type\":\"digit\",\"params\":{}},\"timeout\":\"x\"}",
    "{\"control_id\":\"b3\",\"detect\":{\"type\":\"machine\",\"params\":{\"initial_timeout\":-2}}}",
    "{\"control_id\":\"b4\",\"detect\":{\"type\":\"machine\",\"params\":"
    "{\"machine_words_threshold\":-1}}}",
    "{\"control_id\":\"b5\",\"detect\":{\"type\":\"machine\",\"params\":"
    "{\"end_silence_timeout\":1e9}}}",
    "{\"control_id\":\"b6\",\"detect\":{\"type\":\"digit\",\"params\":{\"digits\":\"12x\"}}}",
    "{\"control_id\":\"b7\",\"detect\":{\"type\":\"fax\",\"params\":{\"tone\":\"FOO\"}}}",
    "{\"control_id\":\"b8\"}",
    "{\"detect\":{\"type\":\"digit\",\"params\":{}}}",
    "{\"control_id\":\"d2\",\"detect\":{\"type\":\"digit\",\"params\":{}}}",
    NULL,
};
static const char *const bad_want[MAX_BAD] = {"400", "400", "400", "400", "400", "400",
                                              "400", "400", "400", "400", "409"};

/* Bad input first, with one digit detect running (so the last is the
 * second of its type); then .stop it after a second. */
static void bad_and_stop(relay_call *call)
{
    execute_code(call, "calling.detect",
                 "{\"control_id\":\"d1\",\"detect\":{\"type\":\"digit\",\"params\":{}},"
                 "\"timeout\":20}",
                 rc.code, sizeof rc.code, rc.msg, sizeof rc.msg);
    for (int i = 0; bad_detects[i]; i++)
        execute_code(call, "calling.detect", bad_detects[i], rc.bad_code[i],
                     sizeof rc.bad_code[i], rc.bad_msg[i], sizeof rc.bad_msg[i]);
}

/* librelay's own detect_answering_machine (the word count out of reach,
 * as the raw case below): its action completes on the first event with a
 * detect in it, MACHINE, though relayd goes on to READY. */
static void machine_action(relay_call *call, const relay_detect_machine_params *p)
{
    relay_action *a = NULL;
    relay_status st = relay_call_detect_answering_machine_async(call, p, &a);
    snprintf(rc.code, sizeof rc.code, "%s", st == RELAY_OK ? "200" : "fail");
    if (!a)
        return;
    snprintf(rc.control_id, sizeof rc.control_id, "%s", relay_action_control_id(a));
    relay_result *res = NULL;
    rc.action_wait = relay_action_wait(a, 10000, &res);
    rc.action_done = now_ms() - rc.t0;
    const char *ev = res ? relay_result_get(res, "detect.params.event") : NULL;
    snprintf(rc.action_event, sizeof rc.action_event, "%s", ev ? ev : "");
    relay_result_free(res);
    relay_action_free(a);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_on(call, RELAY_EVENT_UNKNOWN, on_event, NULL);
    rc.answer = relay_call_answer(call, NULL);
    rc.t0 = now_ms();
    if (rc.action)
        machine_action(call, rc.action);
    else if (rc.detect)
        execute_code(call, "calling.detect", rc.detect, rc.code, sizeof rc.code, rc.msg,
                     sizeof rc.msg);
    else
        bad_and_stop(call);
    if (rc.stop_after_ms > 0) {
        sleep_ms(rc.stop_after_ms);
        execute_code(call, "calling.detect.stop", "{\"control_id\":\"d1\"}", rc.stop_code,
                     sizeof rc.stop_code, NULL, 0);
    }
    wait_event("finished", rc.wait_end);
    if (rc.stop_after_ms > 0) { /* once it is over, the control_id is gone */
        sleep_ms(300);
        execute_code(call, "calling.detect.stop", "{\"control_id\":\"d1\"}", rc.stop_code2,
                     sizeof rc.stop_code2, NULL, 0);
    }
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

static int sipp_call(const char *scenario, const char *log)
{
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                          "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "60s",
                          "-timeout_error", "-nostdin", NULL};
    return run(argv, log);
}

/* run_case: start with librelay's wrapper, these params */
static const relay_detect_machine_params *use_action_next;

/* One call: the caller streams `audio` (through the scenario template
 * tpl) while the application runs `detect`; waits up to wait_end ms for
 * the detect's finished event, then hangs up. */
static void run_case(const char *tpl, const char *audio, const char *detect, int stop_after_ms,
                     int wait_end, const char *log)
{
    pthread_mutex_lock(&rc.lock);
    memset((char *)&rc + sizeof rc.lock, 0, sizeof rc - sizeof rc.lock);
    rc.detect = detect;
    rc.stop_after_ms = stop_after_ms;
    rc.wait_end = wait_end;
    rc.action = use_action_next;
    pthread_mutex_unlock(&rc.lock);
    char scenario[600];
    if (audio)
        make_scenario(tpl, audio, scenario, sizeof scenario);
    else
        scenario_path(scenario, sizeof scenario, tpl);
    relay_client *c = client_new();
    int sipp_status = sipp_call(scenario, log);
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&rc.lock);
        int done = rc.done;
        pthread_mutex_unlock(&rc.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    char seen[512];
    events_seen(seen, sizeof seen);
    printf("%s: answer %s %s; events %s\n", log, rc.code, rc.msg, seen);
    for (int i = 0; i < rc.n_ev; i++)
        printf("  %-9s at %5lld ms (state \"%s\", control_id %s)\n", rc.ev[i].event,
               (long long)rc.ev[i].at, rc.ev[i].state, rc.ev[i].control);
    assert_int_equal(sipp_status, 0);
    assert_true(rc.done);
    assert_int_equal(rc.answer, RELAY_OK);
}

/* Every event is a detect of type `type` with control_id d1; the last is
 * the finished one, with state finished. */
static void check_shape(const char *type)
{
    assert_true(rc.n_ev >= 1);
    for (int i = 0; i < rc.n_ev; i++) {
        assert_string_equal(rc.ev[i].type, type);
        assert_string_equal(rc.ev[i].control, rc.control_id[0] ? rc.control_id : "d1");
    }
    assert_string_equal(rc.ev[rc.n_ev - 1].event, "finished");
    assert_string_equal(rc.ev[rc.n_ev - 1].state, "finished");
}

static char seen[512];

/* The detect was accepted (200) and its events, in order, were `events`
 * (comma separated), each of type `type` and shaped as check_shape says. */
static void answered_with(const char *events, const char *type)
{
    assert_string_equal(rc.code, "200");
    events_seen(seen, sizeof seen);
    assert_string_equal(seen, events);
    check_shape(type);
}

/* -------------------------------------------------------------- digits */

/* sipp presses 1, 2, 3 and 9 as RFC 4733 telephone-events (its captures,
 * 0.5 s apart from 1 s in): four digit events in that order; the detect
 * runs on to its timeout (5 s) and then finishes. */
static void digits_sent_as_telephone_events_are_reported_in_order(void **state)
{
    (void)state;
    char audio[600];
    add_silence(4.0);
    write_audio("detect-quiet.ul", audio, sizeof audio);
    run_case("uac_stream_digits.xml.in", audio,
             "{\"control_id\":\"d1\",\"detect\":{\"type\":\"digit\",\"params\":{}},"
             "\"timeout\":5}",
             0, 8000, "sipp-detect-digits-te.log");
    answered_with("1,2,3,9,finished", "digit");
    int64_t fin = event_at("finished");
    assert_true(fin >= 4800 && fin < 6500); /* the timeout */
}

/* In-band DTMF (no telephone-event offered): 4, 7, # and 5, 150 ms each
 * with 150 ms between, from 1 s in; params.digits "47#" leaves the 5 out. */
static void in_band_digits_are_reported_in_order(void **state)
{
    (void)state;
    static const struct { double lo, hi; } keys[] = {{770, 1209}, {852, 1209}, {941, 1477},
                                                     {770, 1336}};
    char audio[600];
    add_silence(1.0);
    for (int i = 0; i < 4; i++) {
        add_tones(0.15, keys[i].lo, keys[i].hi, 12000);
        add_silence(0.15);
    }
    add_silence(1.5);
    write_audio("detect-dtmf.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             "{\"control_id\":\"d1\",\"detect\":{\"type\":\"digit\",\"params\":"
             "{\"digits\":\"47#\"}},\"timeout\":3.5}",
             0, 6000, "sipp-detect-digits-inband.log");
    answered_with("4,7,#,finished", "digit");
}

/* ----------------------------------------------------------------- fax */

/* A calling fax: CNG, 1100 Hz, 0.5 s on and 3 s off, from 1 s in. */
static void a_cng_tone_is_a_fax_calling(void **state)
{
    (void)state;
    char audio[600];
    add_silence(1.0);
    for (int i = 0; i < 2; i++) {
        add_tones(0.5, 1100, 0, 8000);
        add_silence(3.0);
    }
    write_audio("detect-cng.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             "{\"control_id\":\"d1\",\"detect\":{\"type\":\"fax\",\"params\":{}},\"timeout\":8}",
             0, 10000, "sipp-detect-cng.log");
    answered_with("CNG,finished", "fax");
    int64_t at = event_at("CNG");
    assert_true(at >= 1300 && at < 3000); /* on the first burst, not the timeout */
}

/* An answering fax: CED, 2100 Hz for 3 s, from 1 s in. */
static void a_ced_tone_is_a_fax_answering(void **state)
{
    (void)state;
    char audio[600];
    add_silence(1.0);
    add_tones(3.0, 2100, 0, 8000);
    add_silence(1.0);
    write_audio("detect-ced.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             "{\"control_id\":\"d1\",\"detect\":{\"type\":\"fax\",\"params\":{}},\"timeout\":8}",
             0, 10000, "sipp-detect-ced.log");
    answered_with("CED,finished", "fax");
    int64_t at = event_at("CED");
    assert_true(at >= 1300 && at < 4500);
}

/* Speech-like noise for 5 s: no fax tone; the timeout (4 s) finishes it. */
static void speech_is_no_fax(void **state)
{
    (void)state;
    char audio[600];
    add_silence(0.5);
    add_speech(5.0, 3);
    write_audio("detect-speech.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             "{\"control_id\":\"d1\",\"detect\":{\"type\":\"fax\",\"params\":{}},\"timeout\":4}",
             0, 7000, "sipp-detect-nofax.log");
    answered_with("finished", "fax");
    int64_t fin = event_at("finished");
    assert_true(fin >= 3800 && fin < 5500);
}

/* ------------------------------------------------------------- machine */

#define MACHINE_DETECT(extra)                                                               \
    "{\"control_id\":\"d1\",\"detect\":{\"type\":\"machine\",\"params\":{" extra "}},"      \
    "\"timeout\":15}"

/* A person: "hello" (0.8 s: three syllables, voiced to about 1.65 s) 1 s
 * in, then silence. HUMAN once end_silence_timeout (1 s) of quiet follows
 * it, well before machine_voice_threshold (1.25 s of voice) could say
 * MACHINE. */
static void a_short_hello_is_a_human(void **state)
{
    (void)state;
    char audio[600];
    add_silence(1.0);
    add_speech(0.8, 3);
    add_silence(4.0);
    write_audio("detect-hello.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio, MACHINE_DETECT(""), 0, 8000,
             "sipp-detect-human.log");
    answered_with("HUMAN,finished", "machine");
    int64_t at = event_at("HUMAN");
    assert_true(at >= 2500 && at < 3300); /* 1 s after the hello's end */
}

/* A machine's greeting (5 s of words, 1 s in), 2 s of quiet, a 1 kHz beep
 * (0.5 s, at 8 s), quiet. */
static void greeting_then_beep(char *audio, size_t n)
{
    add_silence(1.0);
    add_speech(5.0, 3);
    add_silence(2.0);
    add_tones(0.5, 1000, 0, 9000);
    add_silence(3.0);
    write_audio("detect-greeting.ul", audio, n);
}

/* MACHINE once the greeting passes machine_voice_threshold (1.25 s of
 * voice from about 1 s in; the word count is put out of reach), and READY
 * when it ends (1 s of quiet: about 7 s), before the beep. */
static void a_long_greeting_is_a_machine_then_ready(void **state)
{
    (void)state;
    char audio[600];
    greeting_then_beep(audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             MACHINE_DETECT("\"machine_words_threshold\":100"), 0, 12000,
             "sipp-detect-machine.log");
    answered_with("MACHINE,READY,finished", "machine");
    int64_t machine = event_at("MACHINE"), ready = event_at("READY");
    assert_true(machine >= 2200 && machine < 3200);
    assert_true(ready >= 6700 && ready < 7900); /* the greeting's end + 1 s, before the beep */
}

/* The same through librelay's relay_call_detect_answering_machine: the
 * action completes with MACHINE (its result), at the MACHINE event. Its
 * machine_ready_timeout (0.6 s, sent by librelay) is honoured: READY
 * comes 0.6 s after the greeting's end, not the default 1 s. Not shorter:
 * the greeting's own pauses between words, or a sipp sender stalled by a
 * loaded machine, reach 0.3 s (READY at 2.8 s in one CI run). */
static void librelay_completes_its_detect_on_machine(void **state)
{
    (void)state;
    char audio[600];
    greeting_then_beep(audio, sizeof audio);
    static const relay_detect_machine_params p = {
        .machine_words_threshold = 100, .machine_ready_timeout = 0.6, .timeout = 15};
    use_action_next = &p;
    run_case("uac_stream_audio.xml.in", audio, "", 0, 12000, "sipp-detect-librelay.log");
    use_action_next = NULL;
    assert_string_equal(rc.code, "200");
    printf("action: status %d, event %s at %lld ms, control_id %s\n", rc.action_wait,
           rc.action_event, (long long)rc.action_done, rc.control_id);
    assert_int_equal(rc.action_wait, RELAY_OK);
    assert_string_equal(rc.action_event, "MACHINE");
    int64_t machine = event_at("MACHINE"), ready = event_at("READY");
    assert_true(machine > 0 && llabs(rc.action_done - machine) < 500); /* not at READY */
    events_seen(seen, sizeof seen);
    assert_string_equal(seen, "MACHINE,READY,finished");
    check_shape("machine");
    printf("machine_ready_timeout 0.6 s: READY at %lld ms\n", (long long)ready);
    assert_true(ready >= 6300 && ready < 6900); /* the greeting's end + 0.6 s */
}

/* librelay's wait_for_beep (sent, and its blocking rule): the action goes
 * on past MACHINE and completes with READY, at the beep (8.2 s in). */
static void librelay_wait_for_beep_completes_on_ready(void **state)
{
    (void)state;
    char audio[600];
    greeting_then_beep(audio, sizeof audio);
    static const relay_detect_machine_params p = {
        .machine_voice_threshold = 10, .wait_for_beep = RELAY_BOOL_TRUE, .timeout = 15};
    use_action_next = &p;
    run_case("uac_stream_audio.xml.in", audio, "", 0, 12000, "sipp-detect-librelay-beep.log");
    use_action_next = NULL;
    assert_string_equal(rc.code, "200");
    printf("action: status %d, event %s at %lld ms\n", rc.action_wait, rc.action_event,
           (long long)rc.action_done);
    assert_int_equal(rc.action_wait, RELAY_OK);
    assert_string_equal(rc.action_event, "READY");
    int64_t machine = event_at("MACHINE"), ready = event_at("READY");
    events_seen(seen, sizeof seen);
    assert_string_equal(seen, "MACHINE,READY,finished");
    assert_true(machine > 0 && machine < 3600);
    assert_true(ready >= 8150 && ready < 9000);
    assert_true(llabs(rc.action_done - ready) < 500); /* not at MACHINE */
}

/* The same call with wait_for_beep: READY only after the beep has sounded
 * for 200 ms (8.2 s in), not at the greeting's end. Here the words make it
 * a MACHINE (machine_voice_threshold out of reach): the sixth voiced run
 * (each syllable is one, 230 ms apart) starts about 2.2 s in (measured:
 * 2.4-2.8 s). */
static void wait_for_beep_makes_ready_wait_for_the_beep(void **state)
{
    (void)state;
    char audio[600];
    greeting_then_beep(audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio,
             MACHINE_DETECT("\"wait_for_beep\":true,\"machine_voice_threshold\":10"), 0, 12000,
             "sipp-detect-beep.log");
    answered_with("MACHINE,READY,finished", "machine");
    int64_t machine = event_at("MACHINE"), ready = event_at("READY");
    assert_true(machine >= 2100 && machine < 3600);
    assert_true(ready >= 8150 && ready < 9000);
}

/* Nobody speaks: UNKNOWN at initial_timeout (here 2.5 s). */
static void silence_is_unknown(void **state)
{
    (void)state;
    char audio[600];
    add_silence(5.0);
    write_audio("detect-silence.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio, MACHINE_DETECT("\"initial_timeout\":2.5"), 0,
             8000, "sipp-detect-unknown.log");
    answered_with("UNKNOWN,finished", "machine");
    int64_t at = event_at("UNKNOWN");
    assert_true(at >= 2400 && at < 3300);
}

/* ---------------------------------------------------- stop, bad, hangup */

/* Refused detects answer 400 with a reason, a second digit detect 409;
 * .stop ends the running one: finished, and nothing after; a second .stop
 * finds nothing (404). */
static void bad_detects_are_refused_and_stop_finishes(void **state)
{
    (void)state;
    char audio[600];
    add_silence(4.0);
    write_audio("detect-quiet.ul", audio, sizeof audio);
    run_case("uac_stream_audio.xml.in", audio, NULL, 1500, 5000, "sipp-detect-stop.log");
    assert_string_equal(rc.code, "200");
    for (int i = 0; bad_detects[i]; i++) {
        printf("%.70s -> %s %s\n", bad_detects[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], bad_want[i]);
        assert_true(strlen(rc.bad_msg[i]) > 10);
    }
    assert_string_equal(rc.stop_code, "200");
    assert_string_equal(rc.stop_code2, "404");
    events_seen(seen, sizeof seen);
    assert_string_equal(seen, "finished");
    check_shape("digit");
    int64_t fin = event_at("finished");
    assert_true(fin >= 1500 && fin < 2500);
}

/* The caller hangs up (2.5 s in) while a machine detect runs: it
 * finishes; relayd serves the next call (the case after this one) and
 * exits cleanly at the end. */
static void a_hangup_mid_detect_finishes_it(void **state)
{
    (void)state;
    run_case("uac_hangup_mid_prompt.xml", NULL, MACHINE_DETECT("\"initial_timeout\":20"), 0,
             6000, "sipp-detect-hangup.log");
    answered_with("finished", "machine");
    int64_t fin = event_at("finished");
    assert_true(fin >= 2000 && fin < 4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digits_sent_as_telephone_events_are_reported_in_order),
        cmocka_unit_test(in_band_digits_are_reported_in_order),
        cmocka_unit_test(a_cng_tone_is_a_fax_calling),
        cmocka_unit_test(a_ced_tone_is_a_fax_answering),
        cmocka_unit_test(speech_is_no_fax),
        cmocka_unit_test(a_short_hello_is_a_human),
        cmocka_unit_test(a_long_greeting_is_a_machine_then_ready),
        cmocka_unit_test(librelay_completes_its_detect_on_machine),
        cmocka_unit_test(librelay_wait_for_beep_completes_on_ready),
        cmocka_unit_test(wait_for_beep_makes_ready_wait_for_the_beep),
        cmocka_unit_test(silence_is_unknown),
        cmocka_unit_test(a_hangup_mid_detect_finishes_it),
        cmocka_unit_test(bad_detects_are_refused_and_stop_finishes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
