/*
 * Media into relayd: calling.record against a real relayd, a librelay
 * client and a sipp caller that streams audio made by sox at test time
 * (sipp's rtp_stream, raw u-law). The test reads the WAV files relayd
 * wrote with libsndfile: their length, channels and loudness, and that the
 * event's url, duration and size describe the file on disk.
 *
 * Ports 61190-36299 only (other engineers' tests own the rest).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define WS_PORT 61190
#define SIP_PORT "36101"
#define SIPP_PORT "36102"
#define SIPP_MEDIA_PORT "36110"
#define PROJECT "media-in-project"
#define TOKEN "media-in-token-51aa"

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
    build_path(rec_dir, sizeof rec_dir, "recordings");
    const char *rm[] = {"rm", "-rf", rec_dir, NULL};
    run(rm, "rm-recordings.log");
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61190", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "36200-36299", "--auth",
                          PROJECT ":" TOKEN, "--recordings-dir", rec_dir, "--log-level",
                          "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-media-in.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------ the cases */

typedef enum { CASE_SILENCE_ENDS, CASE_NO_INPUT, CASE_STEREO_STOP, CASE_TERMINATOR,
               CASE_COLLECT_DIGITS, CASE_COLLECT_TIMERS, CASE_SEND_DIGITS,
               CASE_COLLECT_INBAND, CASE_LOOPBACK, CASE_HANGUP } rec_case;

#define MAX_BAD 12
static struct {
    pthread_mutex_t lock;
    rec_case which;
    int done;
    relay_status answer, start, wait;
    char state[32], url[700], duration[32], size[32];
    int64_t t_start, t_end;
    char stop_code[8];
    char bad_code[MAX_BAD][8], bad_msg[MAX_BAD][160];
    char unwritable_code[8], unwritable_msg[160];
    char digits[80], terminator[8], result_type[32];
    char timers_code[8];
    int completed_before_timers;
    int64_t t_timers;
} rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Refused starts: each answers 4xx/5xx with a message, and leaves nothing
 * running (relayd's clean exit at teardown checks the leaks). */
static const char *const bad_params[MAX_BAD] = {
    "{\"control_id\":\"b0\",\"record\":{\"audio\":{\"initial_timeout\":-1}}}",
    "{\"control_id\":\"b1\",\"record\":{\"audio\":{\"end_silence_timeout\":1e9}}}",
    "{\"control_id\":\"b2\",\"record\":{\"audio\":{\"initial_timeout\":\"soon\"}}}",
    "{\"control_id\":\"b3\",\"record\":{\"audio\":{\"direction\":\"sideways\"}}}",
    "{\"control_id\":\"b4\",\"record\":{\"audio\":{\"terminators\":\"#x\"}}}",
    "{\"control_id\":\"b5\",\"record\":{\"audio\":{\"format\":\"flac\"}}}",
    "{\"control_id\":\"b6\",\"record\":{\"audio\":{\"stereo\":true,\"direction\":\"listen\"}}}",
    "{\"control_id\":\"b7\",\"record\":{}}",
    "{\"record\":{\"audio\":{}}}",
    "{\"control_id\":\"b9\",\"record\":{\"audio\":{\"beep\":\"yes\"}}}",
    NULL,
};
static const char *const bad_want[MAX_BAD] = {"400", "400", "400", "400", "400",
                                              "400", "400", "400", "400", "400"};

static void execute_code(relay_call *call, const char *method, const char *params, char *code,
                         size_t n, char *msg, size_t m)
{
    relay_result *res = NULL;
    relay_call_execute(call, method, params, &res);
    snprintf(code, n, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    snprintf(msg, m, "%s", res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

static void bad_input_checks(relay_call *call)
{
    for (int i = 0; bad_params[i]; i++)
        execute_code(call, "calling.record", bad_params[i], rc.bad_code[i],
                     sizeof rc.bad_code[i], rc.bad_msg[i], sizeof rc.bad_msg[i]);
    /* the folder replaced by a file: checked at each start */
    char moved[700];
    snprintf(moved, sizeof moved, "%s.away", rec_dir);
    mkdir(rec_dir, 0750); /* relayd makes it at the first record; this may be the first */
    if (rename(rec_dir, moved) == 0) {
        FILE *f = fopen(rec_dir, "w");
        if (f)
            fclose(f);
        execute_code(call, "calling.record",
                     "{\"control_id\":\"nowhere\",\"record\":{\"audio\":{}}}",
                     rc.unwritable_code, sizeof rc.unwritable_code, rc.unwritable_msg,
                     sizeof rc.unwritable_msg);
        unlink(rec_dir);
        rename(moved, rec_dir);
    }
}

static const char *record_params(rec_case which)
{
    switch (which) {
    case CASE_SILENCE_ENDS:
        return "{\"record\":{\"audio\":{\"direction\":\"listen\",\"initial_timeout\":5,"
               "\"end_silence_timeout\":1}}}";
    case CASE_NO_INPUT:
        return "{\"record\":{\"audio\":{\"direction\":\"listen\",\"initial_timeout\":1}}}";
    case CASE_TERMINATOR:
        return "{\"record\":{\"audio\":{\"direction\":\"listen\",\"terminators\":\"#1\","
               "\"initial_timeout\":5,\"end_silence_timeout\":0}}}";
    case CASE_HANGUP:
        return "{\"record\":{\"audio\":{\"direction\":\"listen\",\"initial_timeout\":0,"
               "\"end_silence_timeout\":0}}}";
    case CASE_STEREO_STOP:
    default:
        return "{\"record\":{\"audio\":{\"direction\":\"both\",\"stereo\":true,"
               "\"initial_timeout\":0,\"end_silence_timeout\":0}}}";
    }
}

static void copy_field(relay_result *res, const char *key, char *out, size_t n)
{
    const char *v = res ? relay_result_get(res, key) : NULL;
    snprintf(out, n, "%s", v ? v : "");
}

/* Refused collects, checked on the timers case's call. */
static const char *const bad_collect[] = {
    "{\"control_id\":\"c0\",\"speech\":{}}",
    "{\"control_id\":\"c1\",\"digits\":{\"max\":0}}",
    "{\"control_id\":\"c2\",\"digits\":{\"max\":4,\"digit_timeout\":-1}}",
    "{\"control_id\":\"c3\",\"digits\":{\"max\":4,\"terminators\":\"x\"}}",
    "{\"control_id\":\"c4\",\"digits\":{\"max\":4},\"initial_timeout\":1e12}",
    "{\"control_id\":\"c5\"}",
    /* timeouts that are not numbers: a NaN spelt as a string (JSON has
     * no NaN), a number in a string, null, an object */
    "{\"control_id\":\"c6\",\"digits\":{\"max\":4},\"initial_timeout\":\"NaN\"}",
    "{\"control_id\":\"c7\",\"digits\":{\"max\":4,\"digit_timeout\":\"5\"}}",
    "{\"control_id\":\"c8\",\"digits\":{\"max\":4,\"digit_timeout\":null}}",
    "{\"control_id\":\"c9\",\"digits\":{\"max\":4},\"initial_timeout\":{\"s\":1}}",
    "{\"control_id\":\"c10\",\"digits\":{\"max\":4},\"initial_timeout\":-0.001}",
    NULL,
};
static const char *const bad_collect_want[] = {"501", "400", "400", "400", "400", "400",
                                               "400", "400", "400", "400", "400"};
/* what each 400 names: the field that was wrong */
static const char *const bad_collect_names[] = {"speech", "max", "digit_timeout",
                                                "terminators", "initial_timeout", "digits",
                                                "initial_timeout", "digit_timeout",
                                                "digit_timeout", "initial_timeout",
                                                "initial_timeout"};

/* The collect result's fields, from the final event's params. */
static void take_collect_result(relay_result *res)
{
    json_error_t err;
    json_t *p = res ? json_loads(relay_result_json(res), 0, &err) : NULL;
    json_t *result = json_object_get(p, "result");
    json_t *params = json_object_get(result, "params");
    snprintf(rc.result_type, sizeof rc.result_type, "%s",
             json_string_value(json_object_get(result, "type")) ?: "");
    snprintf(rc.digits, sizeof rc.digits, "%s",
             json_string_value(json_object_get(params, "digits")) ?: "");
    snprintf(rc.terminator, sizeof rc.terminator, "%s",
             json_string_value(json_object_get(params, "terminator")) ?: "");
    json_decref(p);
}

static void collect_call(relay_call *call)
{
    const char *params =
        rc.which == CASE_COLLECT_INBAND || rc.which == CASE_LOOPBACK
            ? "{\"digits\":{\"max\":3,\"terminators\":\"#\",\"digit_timeout\":3},"
              "\"initial_timeout\":8}"
        : rc.which == CASE_COLLECT_DIGITS
            ? "{\"digits\":{\"max\":5,\"terminators\":\"9\",\"digit_timeout\":3},"
              "\"initial_timeout\":8}"
            : "{\"digits\":{\"max\":5},\"initial_timeout\":0.5,"
              "\"start_input_timers\":false}";
    if (rc.which == CASE_COLLECT_TIMERS)
        for (int i = 0; bad_collect[i]; i++)
            execute_code(call, "calling.collect", bad_collect[i], rc.bad_code[i],
                         sizeof rc.bad_code[i], rc.bad_msg[i], sizeof rc.bad_msg[i]);
    relay_action *a = NULL;
    rc.t_start = now_ms();
    rc.start = relay_call_start(call, "calling.collect", params, &a);
    if (rc.start != RELAY_OK)
        return;
    if (rc.which == CASE_LOOPBACK) { /* relayd's tones come back through sipp's echo */
        relay_action *send = NULL;
        if (relay_call_start(call, "calling.send_digits", "{\"digits\":\"3*9\"}", &send) ==
            RELAY_OK) {
            relay_result *res = NULL;
            relay_action_wait(send, 10000, &res);
            relay_result_free(res);
            relay_action_free(send);
        }
    }
    if (rc.which == CASE_COLLECT_TIMERS) {
        sleep_ms(1500); /* three initial_timeouts: nothing may end it yet */
        rc.completed_before_timers = relay_action_completed(a);
        char body[160];
        snprintf(body, sizeof body, "{\"control_id\":\"%s\"}", relay_action_control_id(a));
        char msg[160];
        rc.t_timers = now_ms();
        execute_code(call, "calling.collect.start_input_timers", body, rc.timers_code,
                     sizeof rc.timers_code, msg, sizeof msg);
    }
    relay_result *res = NULL;
    rc.wait = relay_action_wait(a, 15000, &res);
    rc.t_end = now_ms();
    copy_field(res, "state", rc.state, sizeof rc.state);
    take_collect_result(res);
    relay_result_free(res);
    relay_action_free(a);
}

static const char *const bad_send[] = {
    "{\"control_id\":\"s0\",\"digits\":\"12x\"}",
    "{\"control_id\":\"s1\",\"digits\":\"\"}",
    "{\"control_id\":\"s2\"}",
    "{\"control_id\":\"s3\",\"digits\":"
    "\"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789012345678901234567890\"}",
    NULL,
};

static void send_digits_call(relay_call *call)
{
    for (int i = 0; bad_send[i]; i++)
        execute_code(call, "calling.send_digits", bad_send[i], rc.bad_code[i],
                     sizeof rc.bad_code[i], rc.bad_msg[i], sizeof rc.bad_msg[i]);
    relay_action *a = NULL;
    rc.t_start = now_ms();
    rc.start = relay_call_start(call, "calling.send_digits", "{\"digits\":\"1w9#\"}", &a);
    if (rc.start != RELAY_OK)
        return;
    relay_result *res = NULL;
    rc.wait = relay_action_wait(a, 10000, &res);
    rc.t_end = now_ms();
    copy_field(res, "state", rc.state, sizeof rc.state);
    relay_result_free(res);
    relay_action_free(a);
    sleep_ms(300); /* the last packets reach the listener */
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    rc.answer = relay_call_answer(call, NULL);
    if (rc.which == CASE_SEND_DIGITS) {
        send_digits_call(call);
        relay_call_hangup(call, NULL, NULL);
        relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
        pthread_mutex_lock(&rc.lock);
        rc.done = 1;
        pthread_mutex_unlock(&rc.lock);
        return;
    }
    if (rc.which == CASE_COLLECT_DIGITS || rc.which == CASE_COLLECT_TIMERS ||
        rc.which == CASE_COLLECT_INBAND || rc.which == CASE_LOOPBACK) {
        collect_call(call);
        relay_call_hangup(call, NULL, NULL);
        relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
        pthread_mutex_lock(&rc.lock);
        rc.done = 1;
        pthread_mutex_unlock(&rc.lock);
        return;
    }
    if (rc.which == CASE_NO_INPUT)
        bad_input_checks(call);
    relay_action *a = NULL;
    rc.t_start = now_ms();
    rc.start = relay_call_start(call, "calling.record", record_params(rc.which), &a);
    if (rc.start == RELAY_OK) {
        if (rc.which == CASE_HANGUP) { /* the record is still running when the call ends */
            sleep_ms(1000);
            relay_call_hangup(call, NULL, NULL);
        }
        if (rc.which == CASE_STEREO_STOP) {
            sleep_ms(1500);
            relay_result *res = NULL;
            relay_action_stop(a, &res);
            snprintf(rc.stop_code, sizeof rc.stop_code, "%s",
                     res && relay_result_code(res) ? relay_result_code(res) : "");
            relay_result_free(res);
        }
        relay_result *res = NULL;
        rc.wait = relay_action_wait(a, 15000, &res);
        rc.t_end = now_ms();
        copy_field(res, "state", rc.state, sizeof rc.state);
        copy_field(res, "url", rc.url, sizeof rc.url);
        copy_field(res, "duration", rc.duration, sizeof rc.duration);
        copy_field(res, "size", rc.size, sizeof rc.size);
        relay_result_free(res);
        relay_action_free(a);
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

/* ------------------------------------------------------------- helpers */

/* Raw u-law audio made by sox: `seconds` of a 440 Hz tone. */
static void make_tone(char *path, size_t n, double seconds)
{
    char name[64], secs[32];
    snprintf(name, sizeof name, "tone-%.1fs.ul", seconds);
    build_path(path, n, name);
    snprintf(secs, sizeof secs, "%.2f", seconds);
    const char *argv[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                          path, "synth", secs, "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(argv, "sox-tone.log"), 0);
}

/* A stream scenario (template name.in) with the audio file's name written
 * in, as name in the build folder. */
static void make_scenario_from(const char *name, char *out, size_t n, const char *audio)
{
    char tpl[600];
    snprintf(tpl, sizeof tpl, "%s/tests/integration/sip/%s.in", getenv("RELAY_SOURCE_DIR"),
             name);
    FILE *in = fopen(tpl, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(out, n, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, audio, at + strlen("@AUDIO@"));
    fclose(f);
}

static void make_scenario(char *out, size_t n, const char *audio)
{
    make_scenario_from("uac_stream_audio.xml", out, n, audio);
}

static const char *sipp_rtp_port; /* NULL, or -key rtp_port for uac_rtp_listener.xml */
static int sipp_echo;             /* 1: -rtp_echo (sends relayd's RTP back) */

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
    } else if (sipp_echo) {
        argv[20] = "-rtp_echo";
    }
    return run(argv, log);
}

static void run_case(rec_case which, const char *scenario, const char *log)
{
    pthread_mutex_lock(&rc.lock);
    rec_case keep = which;
    memset((char *)&rc + sizeof rc.lock, 0, sizeof rc - sizeof rc.lock);
    rc.which = keep;
    pthread_mutex_unlock(&rc.lock);
    relay_client *c = client_new();
    int sipp_status = sipp_call(scenario, log);
    for (int i = 0; i < 200; i++) {
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
    assert_int_equal(rc.start, RELAY_OK);
}

typedef struct wav_facts {
    int channels, rate;
    double seconds;
    double rms[2];
    long long bytes;
} wav_facts;

/* What the file at the event's url holds. */
static void read_wav(const char *url, wav_facts *w)
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
    w->seconds = (double)info.frames / info.samplerate;
    double sq[2] = {0, 0};
    short buf[320];
    sf_count_t got, total = 0;
    while ((got = sf_readf_short(f, buf, 160)) > 0) {
        for (sf_count_t i = 0; i < got; i++)
            for (int ch = 0; ch < info.channels && ch < 2; ch++) {
                double v = buf[i * info.channels + ch];
                sq[ch] += v * v;
            }
        total += got;
    }
    sf_close(f);
    for (int ch = 0; ch < 2 && total; ch++)
        w->rms[ch] = sqrt(sq[ch] / (double)total);
    printf("WAV %s: %d ch, %d Hz, %.3f s, %lld bytes, RMS %.0f / %.0f\n", path, w->channels,
           w->rate, w->seconds, w->bytes, w->rms[0], w->rms[1]);
}

/* -------------------------------------------------------------- tests */

/* The caller speaks 2 s then falls silent: the record ends by itself
 * after end_silence_timeout, and the file holds those 2 s, loud. */
static void a_record_ends_after_the_caller_falls_silent(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 2.0);
    make_scenario(scenario, sizeof scenario, tone);
    run_case(CASE_SILENCE_ENDS, scenario, "sipp-record-silence.log");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    wav_facts w;
    read_wav(rc.url, &w);
    assert_int_equal(w.channels, 1);
    assert_int_equal(w.rate, 8000);
    assert_true(fabs(w.seconds - 2.0) <= 0.3);
    assert_true(w.rms[0] > 3000); /* a 440 Hz sine at half scale: ~11000 */
    /* the event describes the file on disk */
    assert_true(fabs(atof(rc.duration) - w.seconds) < 0.05);
    assert_int_equal(atoll(rc.size), w.bytes);
    /* ended by the silence: about 1 s after the 2 s of tone, not at 15 s */
    printf("record took %lld ms\n", (long long)(rc.t_end - rc.t_start));
    assert_true(rc.t_end - rc.t_start < 5000);
}

/* The caller sends nothing: no_input after initial_timeout (1 s), and the
 * refused starts before it answer with a code and a reason. */
static void a_silent_caller_gives_no_input_and_bad_starts_are_refused(void **state)
{
    (void)state;
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    run_case(CASE_NO_INPUT, scenario, "sipp-record-no-input.log");
    for (int i = 0; bad_params[i]; i++) {
        printf("%s -> %s %s\n", bad_params[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], bad_want[i]);
        assert_true(strlen(rc.bad_msg[i]) > 5);
    }
    assert_string_equal(rc.unwritable_code, "500");
    assert_string_equal(rc.unwritable_msg, "the recordings folder is not writable");
    assert_int_equal(rc.wait, RELAY_OK); /* no_input is terminal, not a failure (the table) */
    assert_string_equal(rc.state, "no_input");
    int64_t took = rc.t_end - rc.t_start;
    printf("no_input after %lld ms\n", (long long)took);
    assert_true(took >= 900 && took < 2500);
}

/* Stereo, both directions, stopped by the client after 1.5 s: the caller
 * on the left, relayd's silence (nothing played) on the right. */
static void a_stereo_record_stopped_by_the_client(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 4.0);
    make_scenario(scenario, sizeof scenario, tone);
    run_case(CASE_STEREO_STOP, scenario, "sipp-record-stereo.log");
    assert_string_equal(rc.stop_code, "200");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    wav_facts w;
    read_wav(rc.url, &w);
    assert_int_equal(w.channels, 2);
    assert_true(fabs(w.seconds - 1.5) <= 0.3);
    assert_true(w.rms[0] > 3000);
    assert_true(w.rms[1] < 1);
    assert_int_equal(atoll(rc.size), w.bytes);
}

/* The caller talks, then presses 1 (RFC 4733, sipp's dtmf_2833_1.pcap,
 * 1.5 s into a 4 s tone): "1" is a terminator, so the record finishes
 * there, holding about 1.5 s rather than the whole tone. */
static void a_terminator_digit_ends_the_record(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 4.0);
    make_scenario_from("uac_stream_dtmf.xml", scenario, sizeof scenario, tone);
    run_case(CASE_TERMINATOR, scenario, "sipp-record-terminator.log");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    wav_facts w;
    read_wav(rc.url, &w);
    printf("record took %lld ms\n", (long long)(rc.t_end - rc.t_start));
    assert_true(w.seconds >= 1.3 && w.seconds <= 2.1);
    assert_true(w.rms[0] > 3000);
    assert_true(rc.t_end - rc.t_start < 3000);
}

/* The caller presses 1, 2, 3 and then 9, a terminator (RFC 2833): the
 * result is those digits and the terminator, as soon as 9 arrives. */
static void a_collect_gets_the_digits_the_caller_pressed(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 4.0);
    make_scenario_from("uac_stream_digits.xml", scenario, sizeof scenario, tone);
    run_case(CASE_COLLECT_DIGITS, scenario, "sipp-collect-digits.log");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    assert_string_equal(rc.result_type, "digit");
    assert_string_equal(rc.digits, "123");
    assert_string_equal(rc.terminator, "9");
    printf("collect took %lld ms\n", (long long)(rc.t_end - rc.t_start));
    assert_true(rc.t_end - rc.t_start < 4500); /* the terminator, not digit_timeout */
}

/* start_input_timers false: nothing ends the collect until
 * .start_input_timers, then no_input after initial_timeout (0.5 s). And
 * the refused collects before it. */
static void collect_timers_wait_for_start_input_timers(void **state)
{
    (void)state;
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    run_case(CASE_COLLECT_TIMERS, scenario, "sipp-collect-timers.log");
    for (int i = 0; bad_collect[i]; i++) {
        printf("%s -> %s %s\n", bad_collect[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], bad_collect_want[i]);
        if (!strstr(rc.bad_msg[i], bad_collect_names[i]))
            fail_msg("%s: message '%s' does not name %s", bad_collect[i], rc.bad_msg[i],
                     bad_collect_names[i]);
    }
    assert_false(rc.completed_before_timers);
    assert_string_equal(rc.timers_code, "200");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "no_input");
    assert_string_equal(rc.result_type, "no_input");
    int64_t after = rc.t_end - rc.t_timers;
    printf("no_input %lld ms after start_input_timers\n", (long long)after);
    assert_true(after >= 400 && after < 1500);
}

/* ------------------------------------------------- what relayd sends */

/* The test's own RTP socket (the SDP offer points relayd at it): each
 * PCMU packet decoded and classified as a DTMF key (Goertzel) or none. */
#define RTP_LISTEN_PORT 36150
#define MAX_PKTS 3000
static struct {
    int fd;
    volatile int stop;
    int n;
    char key[MAX_PKTS];
    int64_t at[MAX_PKTS];
} rx;

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

/* The key whose row and column tones carry most of the packet's energy. */
static char dtmf_key(const double *x, int n)
{
    static const double rows[4] = {697, 770, 852, 941}, cols[4] = {1209, 1336, 1477, 1633};
    static const char keys[] = "123A456B789C*0#D";
    double energy = 0;
    for (int i = 0; i < n; i++)
        energy += x[i] * x[i];
    if (energy / n < 1e5) /* quieter than about -50 dBFS: silence */
        return 0;
    int r = 0, c = 0;
    double pr[4], pc[4];
    for (int i = 0; i < 4; i++) {
        pr[i] = goertzel(x, n, rows[i]);
        pc[i] = goertzel(x, n, cols[i]);
        r = pr[i] > pr[r] ? i : r;
        c = pc[i] > pc[c] ? i : c;
    }
    for (int i = 0; i < 4; i++) /* each a clear winner */
        if ((i != r && pr[i] * 10 > pr[r]) || (i != c && pc[i] * 10 > pc[c]))
            return 0;
    return keys[r * 4 + c];
}

static void *rx_main(void *arg)
{
    (void)arg;
    unsigned char buf[2048];
    while (!rx.stop) {
        ssize_t len = recv(rx.fd, buf, sizeof buf, 0);
        if (len < 12 + 160 || (buf[1] & 0x7f) != 0 || rx.n >= MAX_PKTS)
            continue;
        double x[160];
        for (int i = 0; i < 160; i++)
            x[i] = ulaw_to_linear(buf[12 + i]);
        rx.key[rx.n] = dtmf_key(x, 160);
        rx.at[rx.n] = now_ms();
        rx.n++;
    }
    return NULL;
}

/* relayd sends 1, a 0.5 s pause, 9 and # as tones: the test hears exactly
 * those keys, the pause between 1 and 9. Bad digit strings are refused. */
static void send_digits_reach_the_peer_as_tones(void **state)
{
    (void)state;
    memset(&rx, 0, sizeof rx);
    rx.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rx.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RTP_LISTEN_PORT)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rx.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 200 * 1000};
    setsockopt(rx.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rx_main, NULL), 0);
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_rtp_listener.xml",
             getenv("RELAY_SOURCE_DIR"));
    sipp_rtp_port = "36150";
    run_case(CASE_SEND_DIGITS, scenario, "sipp-send-digits.log");
    sipp_rtp_port = NULL;
    rx.stop = 1;
    pthread_join(t, NULL);
    close(rx.fd);

    for (int i = 0; bad_send[i]; i++) {
        printf("%.60s -> %s %s\n", bad_send[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], "400");
    }
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    /* runs of packets with one key, collapsed */
    char heard[32] = "";
    int64_t at[32];
    size_t h = 0;
    for (int i = 0; i < rx.n && h < sizeof heard - 1; i++)
        if (rx.key[i] && (i == 0 || rx.key[i - 1] != rx.key[i])) {
            at[h] = rx.at[i];
            heard[h++] = rx.key[i];
            heard[h] = 0;
        }
    printf("%d packets; heard \"%s\"\n", rx.n, heard);
    assert_string_equal(heard, "19#");
    printf("1 to 9: %lld ms\n", (long long)(at[1] - at[0]));
    assert_true(at[1] - at[0] >= 550); /* tone 100 + gap 60 + w 500, less jitter */
}

/* ------------------------------------------------------ in-band DTMF */

/* Raw u-law DTMF made by sox: 1 s of silence (the collect is running by
 * then), then each key 150 ms with 150 ms after it. */
static void make_dtmf(char *path, size_t n, const char *keys)
{
    static const char *const map = "123A456B789C*0#D";
    static const char *const rows[4] = {"697", "770", "852", "941"};
    static const char *const cols[4] = {"1209", "1336", "1477", "1633"};
    build_path(path, n, "dtmf-inband.ul");
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    for (int i = 0; i < 8000; i++)
        fputc(0xFF, out); /* u-law silence */
    for (const char *k = keys; *k; k++) {
        int at = (int)(strchr(map, *k) - map);
        char piece[600];
        build_path(piece, sizeof piece, "dtmf-key.ul");
        const char *argv[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                              piece, "synth", "0.15", "sine", rows[at / 4], "sine", "mix",
                              cols[at % 4], "vol", "0.4", "pad", "0", "0.15", NULL};
        assert_int_equal(run(argv, "sox-dtmf.log"), 0);
        FILE *in = fopen(piece, "rb");
        assert_non_null(in);
        int c;
        while ((c = fgetc(in)) != EOF)
            fputc(c, out);
        fclose(in);
    }
    fclose(out);
}

/* The caller's tones (sox) arrive in the audio, no telephone-event
 * offered: spandsp's detector in the media session finds 2, 7 and #. */
static void a_collect_hears_in_band_tones(void **state)
{
    (void)state;
    char audio[600], scenario[600];
    make_dtmf(audio, sizeof audio, "27#");
    make_scenario(scenario, sizeof scenario, audio);
    run_case(CASE_COLLECT_INBAND, scenario, "sipp-collect-inband.log");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    assert_string_equal(rc.result_type, "digit");
    assert_string_equal(rc.digits, "27");
    assert_string_equal(rc.terminator, "#");
}

/* send_digits and collect on one call: sipp echoes relayd's RTP, so the
 * tones relayd sends come back and its own detector reads them. */
static void sent_digits_come_back_through_an_echo(void **state)
{
    (void)state;
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    sipp_echo = 1;
    run_case(CASE_LOOPBACK, scenario, "sipp-digits-echo.log");
    sipp_echo = 0;
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    assert_string_equal(rc.digits, "3*9"); /* max 3 reached */
}

/* The call ends while recording: the record still reports finished with
 * its url, and the file (closed by the writer) holds what was heard. */
static void a_hangup_finishes_the_record(void **state)
{
    (void)state;
    char tone[600], scenario[600];
    make_tone(tone, sizeof tone, 4.0);
    make_scenario(scenario, sizeof scenario, tone);
    run_case(CASE_HANGUP, scenario, "sipp-record-hangup.log");
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    sleep_ms(300); /* the writer closes the file just after the event */
    wav_facts w;
    read_wav(rc.url, &w);
    assert_true(fabs(w.seconds - 1.0) <= 0.3);
    assert_true(w.rms[0] > 3000);
    assert_true(fabs(atof(rc.duration) - w.seconds) <= 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_ends_after_the_caller_falls_silent),
        cmocka_unit_test(a_silent_caller_gives_no_input_and_bad_starts_are_refused),
        cmocka_unit_test(a_stereo_record_stopped_by_the_client),
        cmocka_unit_test(a_terminator_digit_ends_the_record),
        cmocka_unit_test(a_collect_gets_the_digits_the_caller_pressed),
        cmocka_unit_test(collect_timers_wait_for_start_input_timers),
        cmocka_unit_test(send_digits_reach_the_peer_as_tones),
        cmocka_unit_test(a_collect_hears_in_band_tones),
        cmocka_unit_test(sent_digits_come_back_through_an_echo),
        cmocka_unit_test(a_hangup_finishes_the_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
