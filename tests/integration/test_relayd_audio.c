/*
 * Audio items and ringtones against a real relayd, through librelay's
 * public API, with a sipp caller whose SDP points RTP at this test: what
 * relayd plays is decoded here and its frequencies measured (Goertzel).
 *
 *   - a 1 kHz WAV (16 kHz stereo, made with sox) served over http by
 *     tests/tools/file_server → 1 kHz on the wire, for its length;
 *   - the same through a 302 redirect → played;
 *   - the `us` ringtone → 440+480 Hz, 2 s on then 4 s off, then on again;
 *   - relay_call_play_silence(1) and relay_call_play_ringtone("us", 1), the
 *     typed helpers' blocking forms → finished after their second;
 *   - a 404 URL, a file that is not audio, a file over --media-max-bytes,
 *     an html page served as text/html, a server that accepts and never
 *     answers (given up at --media-fetch-timeout-ms) → each play ends in
 *     `error`, with the reason in params.reason;
 *   - request-time checks → 400 (unknown ringtone lists the names, a URL
 *     with a space, file:// with no media_dir, a bad direction);
 *   - a hangup while relayd still fetches (tests/tools/file_server's
 *     /slow/) → the play ends in error, nothing leaks.
 * relayd must then exit 0 (no leaks under ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "g711_oracle.h"

#define WS_PORT 61220
#define SIP_PORT "37101"
#define SIPP_PORT "37102"
#define SIPP_MEDIA_PORT "37110"
#define RTP_LISTEN_PORT 37120
#define HTTP_PORT "61223"
#define BASE "http://127.0.0.1:" HTTP_PORT "/"
#define MAX_BYTES "200000"
#define STUB_PORT 64202 /* the html page and the silent server (helper dsp's block) */
#define STUB "http://127.0.0.1:64202/"
#define FETCH_TIMEOUT_MS 3000 /* the silent server costs the call this long */
#define PROJECT "audio-project"
#define TOKEN "audio-token-51be"

static relayd_proc server;
static char dir[64];

static void sh(const char *fmt, const char *arg)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, arg, arg);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

static int stub_start(void);
static void stub_stop(void);

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/relay-audio-it-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* 2 s of 1 kHz, 16 kHz stereo: decoded, downmixed and resampled */
    sh("sox -n -r 16000 -c 2 -b 16 %s/tone.wav synth 2 sine 1000 vol 0.5", dir);
    sh("sox -n -r 8000 -c 1 -b 16 %s/short.wav synth 0.5 sine 1000 vol 0.5", dir);
    /* 10 s at 44.1 kHz stereo: 1.7 MB, over the 200000 bytes allowed */
    sh("sox -n -r 44100 -c 2 -b 16 %s/big.wav synth 10 sine 1000", dir);
    sh("echo '<html><body>hello, not audio at all</body></html>' > %s/page.wav", dir);
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61220", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "37200-37299", "--auth",
                          PROJECT ":" TOKEN, "--media-max-bytes", MAX_BYTES,
                          "--media-fetch-timeout-ms", "3000", "--log-level", "debug",
                          /* the audio is served by this test, on loopback */
                          "--webhook-allow", "127.0.0.1/32", NULL};
    _Static_assert(FETCH_TIMEOUT_MS == 3000, "the flag above");
    if (stub_start() != 0)
        return -1;
    return relayd_proc_start(&server, args, "relayd-audio.log");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return -1;
    stub_stop();
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------------ RTP */

#define MAX_PACKETS 3000 /* 60 s */
static struct {
    int fd;
    volatile int stop;
    pthread_mutex_t lock;
    int n;
    int64_t at[MAX_PACKETS];
    int16_t pcm[MAX_PACKETS][160];
} rtp = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *rtp_main(void *arg)
{
    (void)arg;
    unsigned char buf[2048];
    while (!rtp.stop) {
        ssize_t len = recv(rtp.fd, buf, sizeof buf, 0);
        if (len < 12 || (buf[1] & 0x7f) != 0)
            continue; /* timeout, not RTP, or not PCMU */
        size_t off = 12 + 4 * (size_t)(buf[0] & 0x0f);
        if ((size_t)len != off + 160)
            continue;
        pthread_mutex_lock(&rtp.lock);
        if (rtp.n < MAX_PACKETS) {
            for (int i = 0; i < 160; i++)
                rtp.pcm[rtp.n][i] = (int16_t)ulaw_to_linear(buf[off + (size_t)i]);
            rtp.at[rtp.n] = now_ms();
            rtp.n++;
        }
        pthread_mutex_unlock(&rtp.lock);
    }
    return NULL;
}

static void rtp_listen(pthread_t *t)
{
    rtp.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rtp.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RTP_LISTEN_PORT)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rtp.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 200 * 1000};
    setsockopt(rtp.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(pthread_create(t, NULL, rtp_main, NULL), 0);
}

/* Amplitude of f Hz in one 20 ms packet (Goertzel). */
static double tone_amp(const int16_t *x, double f)
{
    double w = 2 * M_PI * f / 8000, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < 160; i++) {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2 * sqrt(p > 0 ? p : 0) / 160;
}

/* The packets that arrived in [from, to]: index of the first, count. */
static int packets_between(int64_t from, int64_t to, int *first)
{
    int n = 0;
    *first = -1;
    for (int i = 0; i < rtp.n; i++)
        if (rtp.at[i] >= from && rtp.at[i] <= to) {
            if (*first < 0)
                *first = i;
            n++;
        }
    return n;
}

/* --------------------------------------------------------------- the call */

/* ------------------------------------------------- a stub http server */

/* Answers /html with a text/html page; on /silent accepts, reads the
 * request and never answers (until teardown), as a stuck server does. */
static struct {
    int fd;
    volatile int stop;
    pthread_t thread;
    int held[8], n_held;
} stub = {.fd = -1};

static void *stub_main(void *arg)
{
    (void)arg;
    while (!stub.stop) {
        struct pollfd p = {.fd = stub.fd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1)
            continue;
        int c = accept(stub.fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[2048];
        struct pollfd q = {.fd = c, .events = POLLIN};
        ssize_t n = poll(&q, 1, 2000) == 1 ? recv(c, req, sizeof req - 1, 0) : -1;
        req[n > 0 ? n : 0] = 0;
        if (strstr(req, "GET /silent") && stub.n_held < 8) {
            stub.held[stub.n_held++] = c;
            continue;
        }
        static const char page[] = "<!DOCTYPE html><html><body>Not Found</body></html>\n";
        char head[256];
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         sizeof page - 1);
        if (send(c, head, (size_t)h, MSG_NOSIGNAL) == h)
            send(c, page, sizeof page - 1, MSG_NOSIGNAL);
        close(c);
    }
    for (int i = 0; i < stub.n_held; i++)
        close(stub.held[i]);
    return NULL;
}

static int stub_start(void)
{
    stub.fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(stub.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(STUB_PORT),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (stub.fd < 0 || bind(stub.fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(stub.fd, 8) != 0)
        return -1;
    return pthread_create(&stub.thread, NULL, stub_main, NULL);
}

static void stub_stop(void)
{
    if (stub.fd < 0)
        return;
    stub.stop = 1;
    pthread_join(stub.thread, NULL);
    close(stub.fd);
    stub.fd = -1;
}

typedef struct play_run {
    relay_status status;
    char state[32];
    char reason[128]; /* the error event's reason */
    int64_t t0, t1; /* asked .. final event */
} play_run;

static struct {
    pthread_mutex_t lock;
    int done;
    relay_status answer;
    play_run tone, redirected, ring, missing, page, big, first_short, looped, quiet;
    play_run html, silent; /* the stub server's text/html page and its silence */
    play_run silence1, ring1s; /* the typed helpers' blocking forms */
    char bad_ring[8], bad_ring_msg[200], bad_url[8], bad_url_msg[200];
    char file_url[8], file_url_msg[200], bad_dir[8];
    relay_status slow_started, slow_wait;
    char slow_state[32];
} t = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void play_with(relay_call *call, const relay_media *m, play_run *run, int loop,
                      double volume)
{
    relay_result *res = NULL;
    relay_play_params params = {.direction = "listen", .loop = loop, .volume = volume};
    run->t0 = now_ms();
    run->status = relay_call_play(call, m, 1, &params, &res);
    run->t1 = now_ms();
    snprintf(run->state, sizeof run->state, "%s",
             res && relay_result_get(res, "state") ? relay_result_get(res, "state") : "");
    snprintf(run->reason, sizeof run->reason, "%s",
             res && relay_result_get(res, "reason") ? relay_result_get(res, "reason") : "");
    relay_result_free(res);
    sleep_ms(300); /* a gap on the wire between plays */
}

static void play(relay_call *call, const relay_media *m, play_run *run)
{
    play_with(call, m, run, 0, 0);
}

/* The end of a run started at run->t0 by a blocking helper: st, and its
 * final event's params in *res (freed). */
static void ran(play_run *run, relay_status st, relay_result **res)
{
    run->t1 = now_ms();
    run->status = st;
    snprintf(run->state, sizeof run->state, "%s",
             *res && relay_result_get(*res, "state") ? relay_result_get(*res, "state") : "");
    relay_result_free(*res);
    *res = NULL;
    sleep_ms(300);
}

static void execute_code(relay_call *call, const char *params, char *code, size_t n, char *msg,
                         size_t m)
{
    relay_result *res = NULL;
    relay_call_execute(call, "calling.play", params, &res);
    snprintf(code, n, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    if (msg)
        snprintf(msg, m, "%s", res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    t.answer = relay_call_answer(call, NULL);
    relay_media tone = {.type = "audio", .url = BASE "tone.wav"};
    play(call, &tone, &t.tone);
    relay_media redirected = {.type = "audio", .url = BASE "redirect/short.wav"};
    play(call, &redirected, &t.redirected);
    relay_media ring = {.type = "ringtone", .name = "us", .duration = 6.5};
    play(call, &ring, &t.ring);
    /* loop and volume work on the new sources: 0.5 s twice, and a
     * ringtone at -20 dB. The URL played before: served from the cache. */
    relay_media short_wav = {.type = "audio", .url = BASE "short.wav"};
    play(call, &short_wav, &t.first_short);
    play_with(call, &short_wav, &t.looped, 2, 0);
    relay_media ring1 = {.type = "ringtone", .name = "us", .duration = 1};
    play_with(call, &ring1, &t.quiet, 0, -20);
    relay_media missing = {.type = "audio", .url = BASE "no-such.wav"};
    play(call, &missing, &t.missing);
    relay_media page = {.type = "audio", .url = BASE "page.wav"};
    play(call, &page, &t.page);
    relay_media big = {.type = "audio", .url = BASE "big.wav"};
    play(call, &big, &t.big);
    relay_media html = {.type = "audio", .url = STUB "html/prompt.wav"};
    play(call, &html, &t.html);
    relay_media silent = {.type = "audio", .url = STUB "silent/prompt.wav"};
    play(call, &silent, &t.silent);
    /* Python's call.play_silence(1) and call.play_ringtone("us", duration=1)
     * through the typed helpers' blocking forms */
    relay_result *res = NULL;
    t.silence1.t0 = now_ms();
    ran(&t.silence1, relay_call_play_silence(call, 1, &res), &res);
    t.ring1s.t0 = now_ms();
    ran(&t.ring1s, relay_call_play_ringtone(call, "us", 1, &res), &res);

    execute_code(call,
                 "{\"control_id\":\"r1\",\"play\":[{\"type\":\"ringtone\","
                 "\"params\":{\"name\":\"atlantis\"}}]}",
                 t.bad_ring, sizeof t.bad_ring, t.bad_ring_msg, sizeof t.bad_ring_msg);
    execute_code(call,
                 "{\"control_id\":\"u1\",\"play\":[{\"type\":\"audio\","
                 "\"params\":{\"url\":\"http://127.0.0.1/a b.wav\"}}]}",
                 t.bad_url, sizeof t.bad_url, t.bad_url_msg, sizeof t.bad_url_msg);
    execute_code(call,
                 "{\"control_id\":\"f1\",\"play\":[{\"type\":\"audio\","
                 "\"params\":{\"url\":\"file:///etc/passwd\"}}]}",
                 t.file_url, sizeof t.file_url, t.file_url_msg, sizeof t.file_url_msg);
    execute_code(call,
                 "{\"control_id\":\"d1\",\"direction\":\"sideways\",\"play\":[{\"type\":"
                 "\"ringtone\",\"params\":{\"name\":\"uk\"}}]}",
                 t.bad_dir, sizeof t.bad_dir, NULL, 0);

    /* hang up while relayd is still fetching: the play ends, nothing leaks
     * (relayd's exit status at teardown) */
    relay_media slow = {.type = "audio", .url = BASE "slow/tone.wav"};
    relay_action *pending = NULL;
    t.slow_started = relay_call_play_async(call, &slow, 1, NULL, &pending);
    sleep_ms(300);
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    if (pending) {
        t.slow_wait = relay_action_wait(pending, 10000, NULL);
        snprintf(t.slow_state, sizeof t.slow_state, "%s", relay_action_state(pending));
        relay_action_free(pending);
    }
    pthread_mutex_lock(&t.lock);
    t.done = 1;
    pthread_mutex_unlock(&t.lock);
}

static relay_client *client_new(void)
{
    return office_client_connect(WS_PORT, PROJECT, TOKEN, "office", on_call, NULL);
}

/* Share of the run's packets (skipping the first and last 3) whose 1 kHz
 * amplitude is over 3000 while 440 Hz stays under 1000 (over one 20 ms
 * packet a strong 1 kHz leaks a few hundred into 440 Hz's bin). */
static double share_1khz(const play_run *run, int *packets)
{
    int first, n = packets_between(run->t0, run->t1, &first);
    *packets = n;
    int hits = 0, counted = 0;
    for (int i = first + 3; n > 6 && i < first + n - 3; i++, counted++)
        hits += tone_amp(rtp.pcm[i], 1000) > 3000 && tone_amp(rtp.pcm[i], 440) < 1000;
    return counted ? (double)hits / counted : 0;
}

/* Lines of file that contain needle. */
static int log_count(const char *file, const char *needle)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void audio_and_ringtones_on_a_real_call(void **state)
{
    (void)state;
    char server_bin[600];
    snprintf(server_bin, sizeof server_bin, "%s/tests/tools/file_server",
             getenv("RELAY_BUILD_DIR"));
    pthread_t rx;
    rtp_listen(&rx);
    const char *fs_argv[] = {server_bin, HTTP_PORT, dir, NULL};
    pid_t fs = child_spawn(fs_argv, "file-server-audio.log");
    relay_client *c = client_new();
    /* no assert until the helpers are stopped: they must not outlive us */
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_rtp_listener.xml",
             getenv("RELAY_SOURCE_DIR"));
    char port[16];
    snprintf(port, sizeof port, "%d", RTP_LISTEN_PORT);
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT, "-mp",
                          SIPP_MEDIA_PORT, "-m", "1", "-timeout", "50s", "-timeout_error",
                          "-nostdin", "-key", "rtp_port", port, NULL};
    pid_t sipp = child_spawn(argv, "sipp-audio.log");
    int sipp_status = sipp > 0 ? child_wait(sipp, 60000) : -1;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&t.lock);
        int done = t.done;
        pthread_mutex_unlock(&t.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    rtp.stop = 1;
    pthread_join(rx, NULL);
    close(rtp.fd);
    int fs_status = -1;
    if (fs > 0) {
        kill(fs, SIGTERM);
        fs_status = child_wait(fs, 5000);
    }

    assert_int_equal(sipp_status, 0);
    assert_int_equal(fs_status, 0);
    assert_true(t.done);
    assert_int_equal(t.answer, RELAY_OK);

    /* 1 kHz WAV over http: finished, about 2 s of 1 kHz on the wire */
    assert_int_equal(t.tone.status, RELAY_OK);
    assert_string_equal(t.tone.state, "finished");
    int n;
    double share = share_1khz(&t.tone, &n);
    printf("tone.wav: %d packets, %.0f%% with 1 kHz\n", n, share * 100);
    assert_true(n >= 90 && n <= 115);
    assert_true(share > 0.9);

    /* through a redirect */
    assert_string_equal(t.redirected.state, "finished");
    share = share_1khz(&t.redirected, &n);
    printf("redirect/short.wav: %d packets, %.0f%% with 1 kHz\n", n, share * 100);
    assert_true(n >= 20 && n <= 35);
    assert_true(share > 0.8);

    /* us ringtone: 440+480 for 2 s, quiet for 4 s, on again for 0.5 s */
    assert_int_equal(t.ring.status, RELAY_OK);
    assert_string_equal(t.ring.state, "finished");
    int first;
    n = packets_between(t.ring.t0, t.ring.t1, &first);
    printf("ringtone us: %d packets\n", n);
    assert_true(n >= 310 && n <= 340);
    /* skip leading silence, if any, to the first tone packet */
    while (first < rtp.n && tone_amp(rtp.pcm[first], 440) < 300)
        first++;
    int on = 0, off = 0, on_again = 0, on_both = 0;
    for (int i = 0; i < 325 && first + i < rtp.n; i++) {
        double a = tone_amp(rtp.pcm[first + i], 440), b = tone_amp(rtp.pcm[first + i], 480);
        int sounding = a > 1000 && b > 1000;
        int quiet = a < 100 && b < 100;
        if (i >= 3 && i < 97)
            on += sounding, on_both += tone_amp(rtp.pcm[first + i], 1000) < 300;
        else if (i >= 103 && i < 297)
            off += quiet;
        else if (i >= 303 && i < 322)
            on_again += sounding;
    }
    printf("ringtone us: on %d/94, off %d/194, on again %d/19\n", on, off, on_again);
    assert_true(on >= 90 && on_both >= 90);
    assert_true(off >= 190);
    assert_true(on_again >= 17);

    /* short.wav was asked for by the redirect (cached under the redirect's
     * URL) and by two plays of its own URL, of which only the first
     * fetched: the second came from the cache */
    assert_string_equal(t.first_short.state, "finished");
    assert_int_equal(log_count("file-server-audio.log", "GET /short.wav "), 2);
    assert_int_equal(log_count("file-server-audio.log", "GET /redirect/short.wav "), 1);
    /* loop 2 of 0.5 s: 1 s of 1 kHz */
    assert_string_equal(t.looped.state, "finished");
    share = share_1khz(&t.looped, &n);
    printf("short.wav loop 2: %d packets, %.0f%% with 1 kHz\n", n, share * 100);
    assert_true(n >= 47 && n <= 56);
    assert_true(share > 0.8);
    /* -20 dB: a tenth of the ringtone's amplitude (about 3600 at full) */
    assert_string_equal(t.quiet.state, "finished");
    n = packets_between(t.quiet.t0, t.quiet.t1, &first);
    double peak440 = 0;
    for (int i = first; n > 0 && i < first + n; i++)
        peak440 = fmax(peak440, tone_amp(rtp.pcm[i], 440));
    printf("ringtone us at -20 dB: %d packets, 440 Hz amplitude %.0f\n", n, peak440);
    assert_true(n >= 45 && n <= 56);
    assert_true(peak440 > 150 && peak440 < 600);

    /* relay_call_play_silence(1): finished after about a second, no tone */
    assert_int_equal(t.silence1.status, RELAY_OK);
    assert_string_equal(t.silence1.state, "finished");
    n = packets_between(t.silence1.t0, t.silence1.t1, &first);
    peak440 = 0;
    for (int i = first; n > 0 && i < first + n; i++)
        peak440 = fmax(peak440, fmax(tone_amp(rtp.pcm[i], 440), tone_amp(rtp.pcm[i], 1000)));
    printf("play_silence(1): %lld ms, %d packets, peak %.0f\n",
           (long long)(t.silence1.t1 - t.silence1.t0), n, peak440);
    assert_true(t.silence1.t1 - t.silence1.t0 >= 950);
    assert_true(t.silence1.t1 - t.silence1.t0 < 3000);
    assert_true(peak440 < 100);
    /* relay_call_play_ringtone("us", 1): finished, a second of 440 Hz */
    assert_int_equal(t.ring1s.status, RELAY_OK);
    assert_string_equal(t.ring1s.state, "finished");
    n = packets_between(t.ring1s.t0, t.ring1s.t1, &first);
    peak440 = 0;
    for (int i = first; n > 0 && i < first + n; i++)
        peak440 = fmax(peak440, tone_amp(rtp.pcm[i], 440));
    printf("play_ringtone(us, 1): %d packets, 440 Hz amplitude %.0f\n", n, peak440);
    assert_true(n >= 45 && n <= 56);
    assert_true(peak440 > 1000);

    /* failures: each play ends in error, nothing crashes */
    assert_string_equal(t.missing.state, "error");
    assert_string_equal(t.page.state, "error");
    assert_string_equal(t.big.state, "error");
    /* and each error event says why (params.reason) */
    printf("error reasons: 404 \"%s\", not audio \"%s\", too big \"%s\", html \"%s\", "
           "silent \"%s\"\n", t.missing.reason, t.page.reason, t.big.reason, t.html.reason,
           t.silent.reason);
    assert_string_equal(t.missing.reason, "audio fetch did not answer 200");
    assert_string_equal(t.page.reason, "not an audio file this relayd can decode");
    assert_string_equal(t.big.reason, "audio file too large");
    assert_string_equal(t.html.reason, "not an audio file this relayd can decode");
    assert_string_equal(t.silent.reason, "audio fetch timed out");
    assert_string_equal(t.tone.reason, ""); /* none on finished */
    assert_int_not_equal(t.missing.status, RELAY_OK);
    assert_true(relayd_proc_log_contains(&server, "HTTP status 404"));
    assert_true(relayd_proc_log_contains(&server, "not an audio file"));
    assert_true(relayd_proc_log_contains(&server, "larger than " MAX_BYTES " bytes"));
    /* a text/html answer is not played as audio; a server that never
     * answers is given up at the fetch timeout, and the play ends */
    assert_string_equal(t.html.state, "error");
    assert_true(relayd_proc_log_contains(&server, STUB "html/prompt.wav: not an audio file"));
    int64_t silent_ms = t.silent.t1 - t.silent.t0;
    printf("silent server: play %s after %lld ms (fetch timeout %d ms)\n", t.silent.state,
           (long long)silent_ms, FETCH_TIMEOUT_MS);
    assert_string_equal(t.silent.state, "error");
    assert_true(silent_ms >= FETCH_TIMEOUT_MS - 500 && silent_ms < FETCH_TIMEOUT_MS + 4000);
    assert_true(relayd_proc_log_contains(&server, "audio fetch timed out"));

    /* the call ended while relayd fetched: the play was accepted and ended
     * (not finished) without waiting for the fetch */
    printf("play during a slow fetch, call hung up: wait %d, state %s\n", t.slow_wait,
           t.slow_state);
    assert_int_equal(t.slow_started, RELAY_OK);
    assert_int_not_equal(t.slow_wait, RELAY_ERR_TIMEOUT);
    assert_string_not_equal(t.slow_state, "finished");
    assert_string_not_equal(t.slow_state, "playing");

    /* request-time checks */
    assert_string_equal(t.bad_ring, "400");
    assert_non_null(strstr(t.bad_ring_msg, "us, uk, de, fr, it, jp"));
    assert_string_equal(t.bad_url, "400");
    assert_non_null(strstr(t.bad_url_msg, "spaces"));
    assert_string_equal(t.file_url, "400");
    assert_non_null(strstr(t.file_url_msg, "media_dir"));
    assert_string_equal(t.bad_dir, "400");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audio_and_ringtones_on_a_real_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
