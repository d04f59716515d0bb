/* Media: G.711, the resampler, espeak-ng TTS, media sessions on shared
 * media threads (paced plays, received audio into a sink) against real UDP
 * sockets on loopback, and the preparation pool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "media/bridge.h"
#include "media/frame_ring.h"
#include "media/player.h"
#include "media/prep.h"
#include "media/resample.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/sink_level.h"
#include "media/source.h"
#include "media/source_events.h"

/* ------------------------------------------------------------------ G.711 */

static void g711_reference_values(void **state)
{
    (void)state;
    assert_int_equal(g711_linear_to_ulaw(0), 0xFF);
    assert_int_equal(g711_ulaw_to_linear(0xFF), 0);
    assert_int_equal(g711_ulaw_to_linear(0x80), 32124);
    assert_int_equal(g711_ulaw_to_linear(0x00), -32124);
    assert_int_equal(g711_linear_to_alaw(0), 0xD5);
    assert_int_equal(g711_linear_to_alaw(-1), 0x55);
    assert_int_equal(g711_alaw_to_linear(0xD5), 8);
    assert_int_equal(g711_alaw_to_linear(0x55), -8);
    assert_int_equal(g711_alaw_to_linear(0xAA), 32256);
    assert_int_equal(g711_alaw_to_linear(0x2A), -32256);
    assert_int_equal(g711_linear_to_ulaw(32767), 0x80);
    assert_int_equal(g711_linear_to_ulaw(-32768), 0x00);
    assert_int_equal(g711_linear_to_alaw(32767), 0xAA);
    assert_int_equal(g711_linear_to_alaw(-32768), 0x2A);
}

/* Every 16-bit value comes back within half a quantisation step, which for
 * G.711 is at most 1/16 of the magnitude plus the smallest step. */
static void g711_round_trip_every_sample(void **state)
{
    (void)state;
    for (int x = -32768; x <= 32767; x++) {
        int bound = 8 + abs(x) / 16;
        int u = g711_ulaw_to_linear(g711_linear_to_ulaw((int16_t)x));
        int a = g711_alaw_to_linear(g711_linear_to_alaw((int16_t)x));
        if (abs(u - x) > bound || abs(a - x) > bound)
            fail_msg("x=%d ulaw->%d alaw->%d", x, u, a);
    }
    /* decoded values are fixed points: encoding them again changes nothing */
    for (int c = 0; c < 256; c++) {
        int16_t u = g711_ulaw_to_linear((uint8_t)c);
        assert_int_equal(g711_ulaw_to_linear(g711_linear_to_ulaw(u)), u);
        int16_t a = g711_alaw_to_linear((uint8_t)c);
        assert_int_equal(g711_linear_to_alaw(a), c);
    }
}

static double snr_db(int law)
{
    double sig = 0, err = 0;
    for (int i = 0; i < 8000; i++) {
        int16_t x = (int16_t)lrint(10000 * sin(2 * M_PI * 1000.0 * i / 8000.0 + 0.3));
        int16_t y = law ? g711_alaw_to_linear(g711_linear_to_alaw(x))
                        : g711_ulaw_to_linear(g711_linear_to_ulaw(x));
        sig += (double)x * x;
        err += (double)(y - x) * (y - x);
    }
    return 10 * log10(sig / err);
}

static void g711_sine_snr(void **state)
{
    (void)state;
    double u = snr_db(0), a = snr_db(1);
    printf("# G.711 SNR of a 1 kHz sine at -10 dBFS: mu-law %.1f dB, A-law %.1f dB\n", u, a);
    assert_true(u > 33);
    assert_true(a > 33);
}

/* -------------------------------------------------------------- resampler */

static int16_t *sine(int rate, double freq, double seconds, size_t *n)
{
    *n = (size_t)(rate * seconds);
    int16_t *s = malloc(*n * sizeof *s);
    for (size_t i = 0; i < *n; i++)
        s[i] = (int16_t)lrint(16000 * sin(2 * M_PI * freq * (double)i / rate));
    return s;
}

/* RMS of the middle of a signal (edges carry the filter's ramp). */
static double rms_mid(const int16_t *s, size_t n)
{
    double acc = 0;
    size_t a = n / 4, b = 3 * n / 4;
    for (size_t i = a; i < b; i++)
        acc += (double)s[i] * s[i];
    return sqrt(acc / (double)(b - a));
}

static void resample_passes_speech_band_and_stops_aliases(void **state)
{
    (void)state;
    size_t n, on;
    int16_t *in = sine(22050, 1000, 1.0, &n);
    int16_t *out = media_resample(in, n, 22050, 8000, &on);
    assert_non_null(out);
    assert_true(on >= 7999 && on <= 8000);
    double pass = rms_mid(out, on) / rms_mid(in, n);
    /* and it is still a 1 kHz tone: correlate with the ideal one */
    double dot = 0, norm = 0;
    for (size_t i = on / 4; i < 3 * on / 4; i++) {
        double ref = 16000 * sin(2 * M_PI * 1000.0 * (double)i / 8000);
        dot += out[i] * ref;
        norm += ref * ref;
    }
    free(in);
    free(out);

    in = sine(22050, 4600, 1.0, &n); /* would alias to 3.4 kHz */
    out = media_resample(in, n, 22050, 8000, &on);
    double stop = rms_mid(out, on) / rms_mid(in, n);
    free(in);
    free(out);
    printf("# resampler 22050->8000: 1 kHz gain %.3f (correlation %.4f), 4.6 kHz %.1f dB\n",
           pass, dot / norm, 20 * log10(stop + 1e-12));
    assert_true(pass > 0.97 && pass < 1.03);
    assert_true(dot / norm > 0.97);
    assert_true(20 * log10(stop + 1e-12) < -50);

    /* upsampling and identity work too */
    in = sine(8000, 500, 0.5, &n);
    out = media_resample(in, n, 8000, 16000, &on);
    assert_int_equal(on, 2 * n);
    free(out);
    out = media_resample(in, n, 8000, 8000, &on);
    assert_int_equal(on, n);
    assert_memory_equal(out, in, n * sizeof *in);
    free(out);
    free(in);
    assert_null(media_resample(NULL, 0, 0, 8000, &on));
}

/* -------------------------------------------------------------------- TTS */

static void tts_speaks_a_sentence(void **state)
{
    (void)state;
    const char *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    media_source *s = media_source_tts("Hello. Please hold while we transfer your call.", "en-US",
                                       NULL, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!s)
        fail_msg("tts: %s", err);
    size_t frames = 0;
    double energy = 0;
    int16_t frame[MEDIA_FRAME_SAMPLES];
    while (s->read(s, frame)) {
        frames++;
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
            energy += (double)frame[i] * frame[i];
    }
    double seconds = frames * 0.02;
    double rms = sqrt(energy / (frames * MEDIA_FRAME_SAMPLES + 1));
    printf("# tts: %.2f s of 8 kHz audio (%zu frames), rms %.0f, synthesised in %.0f ms\n",
           seconds, frames, rms,
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    /* eight words at a normal rate: two to five seconds */
    assert_true(seconds > 1.5 && seconds < 6.0);
    assert_true(rms > 300);
    /* a rewound source plays the same again */
    assert_int_equal(s->rewind(s), 0);
    size_t again = 0;
    while (s->read(s, frame))
        again++;
    assert_int_equal(again, frames);
    s->destroy(s);

    /* unknown cloud voice names fall back to the language */
    s = media_source_tts("Yes.", "en-US", "Polly.Joanna", &err);
    assert_non_null(s);
    s->destroy(s);
    assert_null(media_source_tts("", NULL, NULL, &err));
    assert_string_equal(err, "empty text");
}

static void basic_sources(void **state)
{
    (void)state;
    int16_t frame[MEDIA_FRAME_SAMPLES];
    media_source *s = media_source_silence(0.1);
    int n = 0;
    while (s->read(s, frame)) {
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
            assert_int_equal(frame[i], 0);
        n++;
    }
    assert_int_equal(n, 5);
    s->destroy(s);
    assert_null(media_source_silence(-1));

    int16_t pcm[200];
    for (int i = 0; i < 200; i++)
        pcm[i] = (int16_t)(i + 1);
    s = media_source_pcm(pcm, 200);
    assert_int_equal(s->read(s, frame), 1);
    assert_int_equal(frame[159], 160);
    assert_int_equal(s->read(s, frame), 1);
    assert_int_equal(frame[39], 200);
    assert_int_equal(frame[40], 0); /* padded */
    assert_int_equal(s->read(s, frame), 0);
    s->destroy(s);
}

/* ----------------------------------------------------------------- player */

typedef struct done_box {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    media_play_end how;
} done_box;

static void on_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    done_box *d = user;
    pthread_mutex_lock(&d->lock);
    d->done = 1;
    d->how = how;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static int is_done(done_box *d)
{
    pthread_mutex_lock(&d->lock);
    int v = d->done;
    pthread_mutex_unlock(&d->lock);
    return v;
}

typedef struct rx_packet {
    uint16_t seq;
    uint32_t ts, ssrc;
    int marker, pt;
    size_t len;
    double at_ms;
    int16_t first_sample;
} rx_packet;

/* One media thread for every test below: sessions share it, as calls do. */
static media_engine *engine;

typedef struct receiver {
    int fd;
    struct sockaddr_in addr;
    media_session *s;
} receiver;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void receiver_open(receiver *r, int pt)
{
    r->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(r->fd >= 0);
    r->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(r->fd, (struct sockaddr *)&r->addr, sizeof r->addr), 0);
    socklen_t sl = sizeof r->addr;
    getsockname(r->fd, (struct sockaddr *)&r->addr, &sl);
    r->s = media_session_create(engine, "127.0.0.1", 40400, 40900);
    assert_non_null(r->s);
    assert_int_equal(media_rtp_local_port(media_session_rtp(r->s)) % 2, 0);
    struct sockaddr_storage remote = {0};
    memcpy(&remote, &r->addr, sizeof r->addr);
    assert_int_equal(media_rtp_set_remote(media_session_rtp(r->s), &remote, pt), 0);
}

static void receiver_close(receiver *r)
{
    media_session_destroy(r->s);
    close(r->fd);
}

/* Receives packets until the player is done and the socket is quiet. */
static size_t receive_all(receiver *r, done_box *d, rx_packet *out, size_t max)
{
    size_t n = 0;
    int quiet_after_done = 0;
    while (quiet_after_done < 3) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            if (is_done(d))
                quiet_after_done++;
            continue;
        }
        uint8_t buf[1500];
        ssize_t len = recv(r->fd, buf, sizeof buf, 0);
        if (len < 12 || n >= max)
            continue;
        rx_packet *k = &out[n++];
        k->at_ms = now_ms();
        k->len = (size_t)len;
        k->marker = buf[1] >> 7;
        k->pt = buf[1] & 0x7F;
        k->seq = (uint16_t)(buf[2] << 8 | buf[3]);
        k->ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
        k->ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
        k->first_sample = k->pt == RTP_PT_PCMA ? g711_alaw_to_linear(buf[12]) : g711_ulaw_to_linear(buf[12]);
        assert_int_equal(buf[0], 0x80);
    }
    return n;
}

static media_source **one_source(media_source *s)
{
    media_source **v = malloc(sizeof *v);
    v[0] = s;
    return v;
}

static void player_paces_one_second(void **state)
{
    (void)state;
    receiver r;
    receiver_open(&r, RTP_PT_PCMA);
    int16_t pcm[8000];
    for (int i = 0; i < 8000; i++)
        pcm[i] = 8000;
    done_box d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p = media_player_start(r.s, one_source(media_source_pcm(pcm, 8000)), 1, 0, 0,
                                         on_done, &d);
    assert_non_null(p);
    static rx_packet pk[200];
    size_t n = receive_all(&r, &d, pk, 200);
    media_player_free(p);
    assert_int_equal(d.how, MEDIA_PLAY_FINISHED);
    assert_int_equal(n, 50);
    double worst = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pk[i].len, 172);
        assert_int_equal(pk[i].pt, RTP_PT_PCMA);
        assert_int_equal(pk[i].marker, i == 0);
        assert_int_equal(pk[i].ssrc, pk[0].ssrc);
        assert_true(abs(pk[i].first_sample - 8000) < 300);
        if (i) {
            assert_int_equal((uint16_t)(pk[i].seq - pk[i - 1].seq), 1);
            assert_int_equal(pk[i].ts - pk[i - 1].ts, 160);
            double dev = fabs((pk[i].at_ms - pk[0].at_ms) - 20.0 * (double)i);
            sum += dev;
            if (dev > worst)
                worst = dev;
        }
    }
    double total = pk[n - 1].at_ms - pk[0].at_ms;
    printf("# player: 50 packets over %.1f ms (ideal 980); deviation from the 20 ms grid: "
           "mean %.3f ms, worst %.3f ms\n", total, sum / (double)(n - 1), worst);
    assert_true(total > 900 && total < 2000); /* sanity only: CI machines stall */
    receiver_close(&r);
}

static void player_loops_pauses_stops_and_scales(void **state)
{
    (void)state;
    receiver r;
    receiver_open(&r, RTP_PT_PCMU);
    static rx_packet pk[400];

    /* two loops of 5 frames + 3 frames of silence, at -6 dB */
    int16_t pcm[800];
    for (int i = 0; i < 800; i++)
        pcm[i] = 16000;
    media_source **v = malloc(2 * sizeof *v);
    v[0] = media_source_pcm(pcm, 800);
    v[1] = media_source_silence(0.06);
    done_box d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p = media_player_start(r.s, v, 2, -6.0206, 2, on_done, &d);
    size_t n = receive_all(&r, &d, pk, 400);
    media_player_free(p);
    assert_int_equal(d.how, MEDIA_PLAY_FINISHED);
    assert_int_equal(n, 16);
    assert_true(abs(pk[0].first_sample - 8000) < 300);
    assert_int_equal(pk[5].first_sample, 0);
    assert_true(abs(pk[8].first_sample - 8000) < 300);
    uint32_t last_ts = pk[n - 1].ts;

    /* pause: nothing is sent; on resume the marker is set and the timestamp
     * has moved on with the clock */
    d.done = 0;
    p = media_player_start(r.s, one_source(media_source_silence(0.4)), 1, 0, 0, on_done, &d);
    usleep(100000);
    media_player_pause(p, 1);
    usleep(200000);
    media_player_pause(p, 0);
    n = receive_all(&r, &d, pk, 400);
    media_player_free(p);
    assert_int_equal(n, 20);
    assert_int_equal(pk[0].marker, 1);
    assert_true(pk[0].ts - last_ts >= 160);
    size_t resumed = 0;
    for (size_t i = 1; i < n; i++) {
        assert_int_equal((uint16_t)(pk[i].seq - pk[i - 1].seq), 1);
        if (pk[i].marker) {
            resumed = i;
            /* ~200 ms of pause: well over one frame of timestamp */
            assert_true(pk[i].ts - pk[i - 1].ts > 160 * 5);
        } else {
            assert_int_equal(pk[i].ts - pk[i - 1].ts, 160);
        }
    }
    assert_true(resumed > 0);

    /* stop: done follows promptly with STOPPED */
    d.done = 0;
    p = media_player_start(r.s, one_source(media_source_silence(30)), 1, 0, 0, on_done, &d);
    usleep(60000);
    double t0 = now_ms();
    media_player_stop(p);
    while (!is_done(&d))
        usleep(1000);
    double latency = now_ms() - t0;
    media_player_free(p);
    assert_int_equal(d.how, MEDIA_PLAY_STOPPED);
    printf("# player stop latency %.1f ms\n", latency);
    assert_true(latency < 500);
    receiver_close(&r);
}

static void player_reports_send_failure(void **state)
{
    (void)state;
    media_session *s = media_session_create(engine, "127.0.0.1", 40400, 40900);
    done_box d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p = media_player_start(s, one_source(media_source_silence(1)), 1, 0, 0, on_done, &d);
    while (!is_done(&d))
        usleep(1000);
    media_player_free(p);
    assert_int_equal(d.how, MEDIA_PLAY_ERROR); /* no remote address */
    /* a NULL source is refused and everything is freed */
    media_source **v = malloc(2 * sizeof *v);
    v[0] = media_source_silence(1);
    v[1] = NULL;
    assert_null(media_player_start(s, v, 2, 0, 0, on_done, &d));
    media_session_destroy(s);
}

/* Reads every packet from r until it has been quiet for 200 ms after done. */
static size_t drain_packets(receiver *r, rx_packet *out, size_t max)
{
    size_t n = 0;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    while (poll(&p, 1, 200) > 0) {
        uint8_t buf[1500];
        ssize_t len = recv(r->fd, buf, sizeof buf, 0);
        if (len < 12 || n >= max)
            continue;
        rx_packet *k = &out[n++];
        k->len = (size_t)len;
        k->marker = buf[1] >> 7;
        k->seq = (uint16_t)(buf[2] << 8 | buf[3]);
        k->ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    }
    return n;
}

typedef struct resample_job {
    const int16_t *in;
    size_t n;
    int16_t *out;
    size_t on;
} resample_job;

static void *resample_thread(void *arg)
{
    resample_job *j = arg;
    j->out = media_resample(j->in, j->n, 22050, 8000, &j->on);
    return NULL;
}

/* Plays starting together on the preparation pool resample at the same
 * time: each gets the output it would get alone. */
static void resample_is_reentrant(void **state)
{
    (void)state;
    size_t n, on;
    int16_t *in = sine(22050, 700, 0.3, &n);
    int16_t *ref = media_resample(in, n, 11025 * 2, 8000, &on);
    resample_job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (resample_job){.in = in, .n = n};
        assert_int_equal(pthread_create(&t[i], NULL, resample_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].on, on);
        assert_memory_equal(jobs[i].out, ref, on * sizeof *ref);
        free(jobs[i].out);
    }
    free(ref);
    free(in);
}

/* The media session answers the remote offer: codec and address from the
 * offer, our port in the answer; a re-offer moves the remote; an offer
 * without G.711 is refused as no_codec (488). */
static void session_answers_the_offer(void **state)
{
    (void)state;
    media_session *s = media_session_create(engine, "127.0.0.1", 40400, 40900);
    assert_non_null(s);
    char answer[1024], expect[64], what[128];
    int no_codec = -1;
    const char *why = NULL;
    const char *g729 = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
                       "t=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
    assert_int_equal(media_session_offer(s, g729, strlen(g729), answer, sizeof answer, &no_codec,
                                         &why), -1);
    assert_int_equal(no_codec, 1);
    assert_non_null(why);
    const char *offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
                        "t=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n"
                        "a=rtpmap:101 telephone-event/8000\r\n";
    assert_true(media_session_offer(s, offer, strlen(offer), answer, sizeof answer, &no_codec,
                                    &why) > 0);
    int port = media_rtp_local_port(media_session_rtp(s));
    snprintf(expect, sizeof expect, "m=audio %d RTP/AVP 8 101\r\n", port);
    assert_non_null(strstr(answer, expect));
    assert_non_null(strstr(answer, "c=IN IP4 127.0.0.1\r\n"));
    assert_int_equal(media_rtp_payload_type(media_session_rtp(s)), RTP_PT_PCMA);
    media_session_describe(s, what, sizeof what);
    snprintf(expect, sizeof expect, "PCMA, rtp %d -> 10.0.0.2:4000, telephone-event", port);
    assert_string_equal(what, expect);

    const char *moved = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.9\r\n"
                        "t=0 0\r\nm=audio 4100 RTP/AVP 8\r\n";
    assert_true(media_session_offer(s, moved, strlen(moved), answer, sizeof answer, &no_codec,
                                    &why) > 0);
    media_session_describe(s, what, sizeof what);
    snprintf(expect, sizeof expect, "PCMA, rtp %d -> 10.0.0.9:4100", port);
    assert_string_equal(what, expect);
    /* no offer is no offer to answer (a bodiless re-INVITE gets our
     * re-offer instead, sip_reoffer.c): the session stays as it was */
    assert_int_equal(media_session_offer(s, NULL, 0, answer, sizeof answer, &no_codec, &why), -1);
    media_session_describe(s, what, sizeof what);
    assert_string_equal(what, expect);
    assert_true(media_session_write_reoffer(s, answer, sizeof answer) > 0);
    snprintf(expect, sizeof expect, "m=audio %d RTP/AVP 0 8 101\r\n", port);
    assert_non_null(strstr(answer, expect));
    media_session_destroy(s);
}

/* Two legs on the one media thread: both get every packet of their play,
 * in sequence, on the 20 ms media clock. */
static void two_sessions_on_one_thread_are_both_paced(void **state)
{
    (void)state;
    assert_int_equal(media_engine_threads(engine), 1);
    media_engine_stats before, after;
    media_engine_get_stats(engine, &before);
    receiver a, b;
    receiver_open(&a, RTP_PT_PCMU);
    receiver_open(&b, RTP_PT_PCMA);
    done_box da = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    done_box db = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    double t0 = now_ms();
    media_player *pa = media_player_start(a.s, one_source(media_source_silence(0.5)), 1, 0, 0,
                                          on_done, &da);
    media_player *pb = media_player_start(b.s, one_source(media_source_silence(0.5)), 1, 0, 0,
                                          on_done, &db);
    while (!is_done(&da) || !is_done(&db))
        usleep(2000);
    double took = now_ms() - t0;
    media_player_free(pa);
    media_player_free(pb);
    static rx_packet ka[100], kb[100];
    size_t na = drain_packets(&a, ka, 100), nb = drain_packets(&b, kb, 100);
    assert_int_equal(da.how, MEDIA_PLAY_FINISHED);
    assert_int_equal(db.how, MEDIA_PLAY_FINISHED);
    assert_int_equal(na, 25);
    assert_int_equal(nb, 25);
    for (size_t i = 1; i < 25; i++) {
        assert_int_equal((uint16_t)(ka[i].seq - ka[i - 1].seq), 1);
        assert_int_equal((uint16_t)(kb[i].seq - kb[i - 1].seq), 1);
        assert_int_equal(ka[i].ts - ka[i - 1].ts, 160);
        assert_int_equal(kb[i].ts - kb[i - 1].ts, 160);
    }
    assert_int_equal(ka[0].marker, 1);
    assert_int_equal(kb[0].marker, 1);
    /* Paced, not burst: 25 ticks each, run side by side (not one after the
     * other, which would take a second). Generous: CI machines stall. */
    printf("# two sessions, one thread: 2 x 25 packets in %.1f ms\n", took);
    assert_true(took > 440 && took < 900);
    media_engine_get_stats(engine, &after);
    assert_true(after.sent - before.sent == 50);
    assert_true(after.ticks > before.ticks);
    receiver_close(&a);
    receiver_close(&b);
}

/* A newer play on the same leg takes over: the one playing ends STOPPED
 * (play.c reports it finished) and the stream continues without a gap in
 * sequence numbers, the new play's first packet marked. */
static void newer_play_replaces_the_playing_one(void **state)
{
    (void)state;
    receiver r;
    receiver_open(&r, RTP_PT_PCMU);
    done_box d1 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    done_box d2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p1 = media_player_start(r.s, one_source(media_source_silence(30)), 1, 0, 0,
                                          on_done, &d1);
    usleep(100000);
    media_player *p2 = media_player_start(r.s, one_source(media_source_silence(0.2)), 1, 0, 0,
                                          on_done, &d2);
    while (!is_done(&d2))
        usleep(2000);
    assert_true(is_done(&d1));
    assert_int_equal(d1.how, MEDIA_PLAY_STOPPED);
    assert_int_equal(d2.how, MEDIA_PLAY_FINISHED);
    media_player_free(p1);
    media_player_free(p2);
    static rx_packet pk[100];
    size_t n = drain_packets(&r, pk, 100);
    size_t markers = 0;
    for (size_t i = 0; i < n; i++) {
        markers += (size_t)pk[i].marker;
        if (i)
            assert_int_equal((uint16_t)(pk[i].seq - pk[i - 1].seq), 1);
    }
    assert_int_equal(markers, 2);
    assert_true(n >= 10 + 2 && n < 30); /* 0.2 s of the second, a few of the first */
    receiver_close(&r);
}

static void put_rtp(uint8_t *pkt, int pt, uint16_t seq, uint32_t ts, int16_t value)
{
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)pt;
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++)
        pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
    memset(pkt + 8, 0x5A, 4); /* SSRC */
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        int16_t v = (i & 1) ? value : (int16_t)-value; /* a 4 kHz square wave */
        pkt[12 + i] = pt == RTP_PT_PCMA ? g711_linear_to_alaw(v) : g711_linear_to_ulaw(v);
    }
}

/* What the peer sends reaches an attached sink decoded to PCM (both codecs,
 * telephone-events skipped), and what we send is seen as TX. */
static void received_rtp_is_decoded_into_a_sink(void **state)
{
    (void)state;
    receiver r;
    receiver_open(&r, RTP_PT_PCMU);
    media_level_sink level;
    media_level_sink_init(&level);
    media_session_attach_sink(r.s, &level.sink);
    usleep(50000); /* attached on the media thread's next tick */

    int port = media_rtp_local_port(media_session_rtp(r.s));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    uint8_t pkt[12 + MEDIA_FRAME_SAMPLES];
    for (int i = 0; i < 10; i++) {
        put_rtp(pkt, i < 5 ? RTP_PT_PCMU : RTP_PT_PCMA, (uint16_t)i, (uint32_t)i * 160, 4000);
        assert_int_equal(sendto(r.fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to),
                         (ssize_t)sizeof pkt);
    }
    pkt[1] = 101; /* telephone-event: not audio, not a frame */
    sendto(r.fd, pkt, 16, 0, (struct sockaddr *)&to, sizeof to);
    for (int i = 0; i < 100 && atomic_load(&level.frames[MEDIA_DIR_RX]) < 10; i++)
        usleep(10000);
    usleep(60000); /* anything extra would have arrived by now */
    assert_int_equal(atomic_load(&level.frames[MEDIA_DIR_RX]), 10);
    double rms = media_level_sink_rms(&level, MEDIA_DIR_RX);
    printf("# sink: 10 frames received, rms %.0f (sent 4000), peak %d\n", rms,
           atomic_load(&level.peak[MEDIA_DIR_RX]));
    assert_true(fabs(rms - 4000) < 150);
    assert_int_equal(atomic_load(&level.frames[MEDIA_DIR_TX]), 0);

    /* our own play shows up as TX */
    int16_t tone[800];
    for (int i = 0; i < 800; i++)
        tone[i] = 1000;
    done_box d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p = media_player_start(r.s, one_source(media_source_pcm(tone, 800)), 1, 0, 0,
                                         on_done, &d);
    while (!is_done(&d))
        usleep(2000);
    media_player_free(p);
    assert_int_equal(atomic_load(&level.frames[MEDIA_DIR_TX]), 5);
    assert_true(fabs(media_level_sink_rms(&level, MEDIA_DIR_TX) - 1000) < 1);

    media_session_detach_sink(r.s, &level.sink);
    for (int i = 0; i < 100 && !atomic_load(&level.detached); i++)
        usleep(5000);
    assert_true(atomic_load(&level.detached));
    receiver_close(&r);
}

/* Sends n PCMU frames of `value` from fd to port, one per 20 ms on the
 * clock (burst: all at once), numbering them from *seq. */
static void send_frames(int fd, int port, uint16_t *seq, int n, int burst, int16_t value)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    uint8_t pkt[12 + MEDIA_FRAME_SAMPLES];
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int i = 0; i < n; i++) {
        put_rtp(pkt, RTP_PT_PCMU, *seq, (uint32_t)*seq * 160, value);
        (*seq)++;
        assert_int_equal(sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to),
                         (ssize_t)sizeof pkt);
        if (burst)
            continue;
        next.tv_nsec += 20000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
}

/* Frames of audio (not the bridge's filler silence) that reach fd until
 * the line has carried only silence for 300 ms. */
static int count_audio_frames(int fd)
{
    int audio = 0, quiet_ms = 0;
    while (quiet_ms < 300) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) {
            quiet_ms += 20;
            continue;
        }
        uint8_t buf[1500];
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len < 12 + MEDIA_FRAME_SAMPLES)
            continue;
        if (abs(g711_ulaw_to_linear(buf[12])) > 1000) {
            audio++;
            quiet_ms = 0;
        } else {
            quiet_ms += 20;
        }
    }
    return audio;
}

/* A bridge carries what one leg receives to the other. A burst that the
 * following gap drains (what a media thread catching up after a stall
 * produces) costs delay for a moment, not audio; a backlog that stands
 * (the peer's clock runs ahead) is cut back, and every frame is either
 * delivered or counted as dropped. The receive counters see the gaps in
 * the peer's sequence numbers. */
static void bridge_rides_out_a_burst_and_cuts_a_standing_delay(void **state)
{
    (void)state;
    receiver a, b;
    receiver_open(&a, RTP_PT_PCMU);
    receiver_open(&b, RTP_PT_PCMU);
    media_bridge *br = media_bridge_start(a.s, b.s);
    assert_non_null(br);
    usleep(60000); /* attached on the media thread's next tick */
    int a_port = media_rtp_local_port(media_session_rtp(a.s));
    uint16_t seq = 1;
    uint64_t dropped0 = frame_ring_dropped_total();

    /* steady, a burst of 6 with the gap it stands for, steady again */
    send_frames(a.fd, a_port, &seq, 10, 0, 8000);
    send_frames(a.fd, a_port, &seq, 6, 1, 8000);
    usleep(5 * 20000);
    send_frames(a.fd, a_port, &seq, 10, 0, 8000);
    int heard = count_audio_frames(b.fd);
    uint64_t dropped = frame_ring_dropped_total() - dropped0;
    printf("# burst: 26 frames sent, %d heard at the other leg, %llu dropped\n", heard,
           (unsigned long long)dropped);
    assert_int_equal(dropped, 0);
    assert_int_equal(heard, 26);

    /* 7 at once, steady speech, then a pause: the backlog stands until
     * the pause reaches the head of the line, and only quiet goes */
    dropped0 = frame_ring_dropped_total();
    send_frames(a.fd, a_port, &seq, 7, 1, 8000);
    send_frames(a.fd, a_port, &seq, 30, 0, 8000);
    send_frames(a.fd, a_port, &seq, 30, 0, 0);
    heard = count_audio_frames(b.fd);
    dropped = frame_ring_dropped_total() - dropped0;
    printf("# standing, then a pause: 37 loud frames sent, %d heard, %llu quiet dropped\n", heard,
           (unsigned long long)dropped);
    assert_int_equal(heard, 37);
    assert_true(dropped >= 1);

    /* 12 at once, then steady: past 200 ms of delay the oldest go */
    dropped0 = frame_ring_dropped_total();
    send_frames(a.fd, a_port, &seq, 12, 1, 8000);
    send_frames(a.fd, a_port, &seq, 40, 0, 8000);
    heard = count_audio_frames(b.fd);
    dropped = frame_ring_dropped_total() - dropped0;
    printf("# standing 240 ms: 52 frames sent, %d heard, %llu dropped\n", heard,
           (unsigned long long)dropped);
    assert_true(dropped >= 5);
    assert_int_equal((uint64_t)heard + dropped, 52);

    /* a jump of 4 in the sequence: 3 packets that never arrived */
    media_engine_stats st0, st1;
    media_engine_get_stats(engine, &st0);
    send_frames(a.fd, a_port, &seq, 2, 0, 8000);
    seq += 3;
    send_frames(a.fd, a_port, &seq, 2, 0, 8000);
    usleep(60000);
    media_engine_get_stats(engine, &st1);
    assert_int_equal(st1.received - st0.received, 4);
    assert_int_equal(st1.rx_lost - st0.rx_lost, 3);

    media_bridge_stop(br);
    receiver_close(&a);
    receiver_close(&b);
}

typedef struct heap_sink {
    media_level_sink level;
    atomic_int *detached;
} heap_sink;

static void heap_sink_detach(media_sink *sink)
{
    heap_sink *h = (heap_sink *)sink;
    atomic_store(h->detached, 1);
    free(h); /* the session never touches it again */
}

/* The leg hangs up mid-play: the session goes at once (the caller's last
 * use), the play ends STOPPED, the sink is detached; nothing leaks (ASan),
 * and the player may be freed before its done has run. */
static void session_destroyed_while_playing(void **state)
{
    (void)state;
    receiver r;
    receiver_open(&r, RTP_PT_PCMU);
    atomic_int detached = 0;
    heap_sink *h = malloc(sizeof *h);
    media_level_sink_init(&h->level);
    h->level.sink.on_detach = heap_sink_detach;
    h->detached = &detached;
    media_session_attach_sink(r.s, &h->level.sink);
    done_box d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    media_player *p = media_player_start(r.s, one_source(media_source_silence(30)), 1, 0, 0,
                                         on_done, &d);
    struct pollfd pf = {.fd = r.fd, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 1000), 1); /* it is playing */
    media_player_stop(p);
    media_player_free(p); /* before done: the media thread frees it */
    media_session_destroy(r.s);
    for (int i = 0; i < 200 && (!is_done(&d) || !atomic_load(&detached)); i++)
        usleep(5000);
    assert_true(is_done(&d));
    assert_int_equal(d.how, MEDIA_PLAY_STOPPED);
    assert_true(atomic_load(&detached));

    /* and without a stop: destroying the session ends the play itself */
    receiver r2;
    receiver_open(&r2, RTP_PT_PCMU);
    done_box d2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    p = media_player_start(r2.s, one_source(media_source_silence(30)), 1, 0, 0, on_done, &d2);
    media_session_destroy(r2.s);
    while (!is_done(&d2))
        usleep(2000);
    media_player_free(p);
    assert_int_equal(d2.how, MEDIA_PLAY_STOPPED);
    close(r.fd);
    close(r2.fd);
}

typedef struct job_count {
    atomic_int ran;
    media_prep_pool *pool;
    atomic_int chained;
} job_count;

static void count_job(void *arg)
{
    job_count *c = arg;
    usleep(1000);
    atomic_fetch_add(&c->ran, 1);
}

static void chain_job(void *arg)
{
    job_count *c = arg;
    /* a job that queues another, as a multi-step preparation would */
    if (media_prep_submit(c->pool, count_job, c) == 0)
        atomic_fetch_add(&c->chained, 1);
}

static void prep_pool_runs_every_job_and_joins(void **state)
{
    (void)state;
    job_count c = {0};
    c.pool = media_prep_pool_create(3);
    assert_non_null(c.pool);
    for (int i = 0; i < 100; i++)
        assert_int_equal(media_prep_submit(c.pool, count_job, &c), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(media_prep_submit(c.pool, chain_job, &c), 0);
    /* Destroy runs what is queued (most of the 100 still are) and joins. */
    media_prep_pool_destroy(c.pool);
    assert_int_equal(atomic_load(&c.chained), 5);
    assert_int_equal(atomic_load(&c.ran), 105);
}


/* ------------------------------------------------- RFC 4733 events */

/* "5w#" at 100 ms + 60 ms: per digit 7 packets (durations 160..640, then
 * 800 with the end bit three times) and a quiet tick; w 25 quiet ticks. */
static void digit_events_follow_rfc_4733(void **state)
{
    (void)state;
    media_source *src = media_source_digit_events("5w#", 100, 60);
    assert_non_null(src);
    assert_non_null(src->read_event);
    char trace[128] = "";
    int firsts = 0, packets = 0;
    for (int tick = 0; tick < 200; tick++) {
        uint8_t p[4] = {0};
        int first = 0;
        int r = src->read_event(src, p, &first);
        if (r == 0)
            break;
        if (r == 2) {
            strcat(trace, ".");
            continue;
        }
        unsigned duration = (unsigned)p[2] << 8 | p[3];
        int k = packets++ % 7; /* packet index within its event */
        assert_int_equal(p[0], packets <= 7 ? 5 : 11);
        assert_int_equal(p[1] & 0x3f, 10);
        assert_int_equal(duration, k < 4 ? 160u * (unsigned)(k + 1) : 800u);
        assert_int_equal(p[1] >> 7, k >= 4);
        assert_int_equal(first, k == 0);
        firsts += first;
        strcat(trace, k >= 4 ? "E" : "p");
    }
    printf("%s\n", trace);
    assert_string_equal(trace, "ppppEEE." /* 5 */
                               "........................." /* w: 0.5 s */
                               "ppppEEE." /* # */);
    assert_int_equal(firsts, 2);
    src->destroy(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(g711_reference_values),
        cmocka_unit_test(g711_round_trip_every_sample),
        cmocka_unit_test(g711_sine_snr),
        cmocka_unit_test(resample_passes_speech_band_and_stops_aliases),
        cmocka_unit_test(tts_speaks_a_sentence),
        cmocka_unit_test(basic_sources),
        cmocka_unit_test(player_paces_one_second),
        cmocka_unit_test(player_loops_pauses_stops_and_scales),
        cmocka_unit_test(player_reports_send_failure),
        cmocka_unit_test(resample_is_reentrant),
        cmocka_unit_test(session_answers_the_offer),
        cmocka_unit_test(two_sessions_on_one_thread_are_both_paced),
        cmocka_unit_test(newer_play_replaces_the_playing_one),
        cmocka_unit_test(received_rtp_is_decoded_into_a_sink),
        cmocka_unit_test(session_destroyed_while_playing),
        cmocka_unit_test(bridge_rides_out_a_burst_and_cuts_a_standing_delay),
        cmocka_unit_test(prep_pool_runs_every_job_and_joins),
        cmocka_unit_test(digit_events_follow_rfc_4733),
    };
    engine = media_engine_create(1);
    if (!engine)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    media_engine_destroy(engine);
    return rc;
}
