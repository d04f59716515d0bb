/* Audio items and ringtones: files made at test time (a WAV with sox, an
 * MP3 with libsndfile's own encoder, as Debian's sox has no MP3 writer)
 * decoded to 8 kHz with the expected length and frequency; ringtones whose
 * tones are found by a Goertzel filter at the national cadence; audio URL
 * checks; the cache's eviction; file:// confined to media_dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "media/cache.h"
#include "media/fetch.h"
#include "media/source.h"
#include "media/source_file.h"
#include "media/source_tone.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/relay-audio-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Amplitude of the f Hz component of x[0..n) at 8 kHz (Goertzel). */
static double tone_amp(const int16_t *x, size_t n, double f)
{
    double w = 2 * M_PI * f / 8000, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2 * sqrt(power > 0 ? power : 0) / (double)n;
}

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static void sox(const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sox %s", args);
    assert_int_equal(system(cmd), 0);
}

/* 8 kHz samples of the file at path; asserts it decodes. */
static int16_t *decode_path(const char *path, size_t *n)
{
    size_t len;
    void *data = slurp(path, &len);
    const char *err = NULL;
    int16_t *pcm = media_decode_audio(data, len, n, &err);
    free(data);
    if (!pcm)
        fail_msg("%s: %s", path, err);
    return pcm;
}

/* 1 kHz dominates, nothing at 440 Hz, over the middle of the file. */
static void assert_1khz(const int16_t *pcm, size_t n)
{
    double a1k = tone_amp(pcm + n / 4, n / 2, 1000), a440 = tone_amp(pcm + n / 4, n / 2, 440);
    printf("1000 Hz amplitude %.0f, 440 Hz %.0f\n", a1k, a440);
    assert_true(a1k > 5000);
    assert_true(a440 * 50 < a1k);
}

static void wav_stereo_44k_decodes_to_8k_mono(void **state)
{
    (void)state;
    char path[128], args[256];
    snprintf(path, sizeof path, "%s/tone.wav", dir);
    /* 1.5 s of 1 kHz at half scale, 44.1 kHz stereo, the right channel silent:
     * the downmix halves it */
    snprintf(args, sizeof args, "-n -r 44100 -c 2 -b 16 %s synth 1.5 sine 1000 vol 0.5 remix 1 0",
             path);
    sox(args);
    size_t n;
    int16_t *pcm = decode_path(path, &n);
    printf("WAV: %zu samples at 8 kHz\n", n);
    assert_true(n >= 11990 && n <= 12010);
    assert_1khz(pcm, n);
    double a = tone_amp(pcm + n / 4, n / 2, 1000);
    assert_true(a > 6000 && a < 10500); /* 16384 / 2 by the downmix */
    free(pcm);
}

static void mp3_decodes_to_8k(void **state)
{
    (void)state;
    char wav[128], mp3[128], args[256];
    snprintf(wav, sizeof wav, "%s/src.wav", dir);
    snprintf(mp3, sizeof mp3, "%s/tone.mp3", dir);
    snprintf(args, sizeof args, "-n -r 48000 -c 1 -b 16 %s synth 2 sine 1000 vol 0.5", wav);
    sox(args);
    size_t n;
    void *data = slurp(wav, &n);
    free(data);
    /* encode with libsndfile (lame) */
    SF_INFO in_info = {0};
    SNDFILE *in = sf_open(wav, SFM_READ, &in_info);
    assert_non_null(in);
    SF_INFO out_info = {.samplerate = 48000, .channels = 1,
                        .format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III};
    SNDFILE *out = sf_open(mp3, SFM_WRITE, &out_info);
    if (!out)
        fail_msg("libsndfile cannot write MP3: %s", sf_strerror(NULL));
    short buf[4096];
    sf_count_t got;
    while ((got = sf_readf_short(in, buf, 4096)) > 0)
        assert_int_equal(sf_writef_short(out, buf, got), got);
    sf_close(in);
    sf_close(out);

    size_t len;
    data = slurp(mp3, &len);
    assert_true(len > 1000 && memcmp(data, "RIFF", 4) != 0);
    free(data);
    int16_t *pcm = decode_path(mp3, &n);
    printf("MP3: %zu samples at 8 kHz\n", n);
    /* 2 s, give or take the encoder's padding frames */
    assert_true(n >= 15800 && n <= 16800);
    assert_1khz(pcm, n);
    free(pcm);
}

/* FLAC and OGG/Vorbis (sox writes both) at 22.05 kHz. */
static void flac_and_ogg_decode_to_8k(void **state)
{
    (void)state;
    const char *exts[] = {"flac", "ogg"};
    for (int i = 0; i < 2; i++) {
        char path[128], args[256];
        snprintf(path, sizeof path, "%s/tone.%s", dir, exts[i]);
        snprintf(args, sizeof args, "-n -r 22050 -c 1 %s synth 1 sine 1000 vol 0.5", path);
        sox(args);
        size_t n;
        int16_t *pcm = decode_path(path, &n);
        printf("%s: %zu samples at 8 kHz\n", exts[i], n);
        assert_true(n >= 7900 && n <= 8100);
        assert_1khz(pcm, n);
        free(pcm);
    }
}

/* The settings that go with audio items, and their defaults. */
static void media_settings(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[200];
    char *argv1[] = {"relayd", NULL};
    assert_int_equal(config_load(&cfg, 1, argv1, err, sizeof err), 0);
    assert_null(cfg.media_dir); /* file:// refused by default */
    assert_int_equal(cfg.media_max_bytes, 50 * 1024 * 1024);
    assert_int_equal(cfg.media_cache_entries, 64);
    config_free(&cfg);
    char *argv2[] = {"relayd", "--media-dir", "/srv/prompts", "--media-max-bytes", "4096",
                     "--media-fetch-timeout-ms", "2500", "--media-cache-entries", "0", NULL};
    assert_int_equal(config_load(&cfg, 9, argv2, err, sizeof err), 0);
    assert_string_equal(cfg.media_dir, "/srv/prompts");
    assert_int_equal(cfg.media_max_bytes, 4096);
    assert_int_equal(cfg.media_fetch_timeout_ms, 2500);
    assert_int_equal(cfg.media_cache_entries, 0);
    config_free(&cfg);
    char *argv3[] = {"relayd", "--media-dir", "prompts", NULL}; /* relative: refused */
    assert_int_equal(config_load(&cfg, 3, argv3, err, sizeof err), -1);
    config_free(&cfg);
}

static void not_audio_is_refused(void **state)
{
    (void)state;
    const char *html = "<html><body>404 Not Found</body></html>";
    size_t n = 0;
    const char *err = NULL;
    assert_null(media_decode_audio(html, strlen(html), &n, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "not an audio file"));
    err = NULL;
    assert_null(media_decode_audio("", 0, &n, &err));
    assert_non_null(err);
}

/* ------------------------------------------------------------ ringtones */

/* The frame-by-frame on/off pattern of a ringtone, from Goertzel amplitudes
 * at its two frequencies over 20 ms frames: '#' both present, '.' neither,
 * '?' one without the other (should not happen). */
static void pattern(const int16_t *pcm, size_t n, double f1, double f2, char *out)
{
    size_t frames = n / 160;
    for (size_t i = 0; i < frames; i++) {
        double a = tone_amp(pcm + i * 160, 160, f1), b = f2 ? tone_amp(pcm + i * 160, 160, f2) : a;
        int on1 = a > 500, on2 = b > 500;
        out[i] = on1 && on2 ? '#' : !on1 && !on2 ? '.' : '?';
    }
    out[frames] = '\0';
}

static int16_t *render(media_source *s, size_t max, size_t *n)
{
    int16_t *pcm = calloc(max, sizeof *pcm);
    *n = 0;
    while (*n + 160 <= max && s->read(s, pcm + *n))
        *n += 160;
    return pcm;
}

/* Counts runs of c at frame positions of the expected lengths. */
static void assert_run(const char *p, size_t from, size_t len, char c)
{
    /* a frame either side may straddle the edge */
    for (size_t i = from + 1; i + 1 < from + len; i++)
        if (p[i] != c)
            fail_msg("frame %zu is '%c', expected '%c' in [%zu, %zu): %s", i, p[i], c, from,
                     from + len, p);
}

static void us_ringtone_is_440_480_two_on_four_off(void **state)
{
    (void)state;
    const char *err = NULL;
    media_source *s = media_source_ringtone("us", 12, &err);
    assert_non_null(s);
    size_t n;
    int16_t *pcm = render(s, 8000 * 13, &n);
    assert_int_equal(n, 8000 * 12);
    /* the pair and nothing else: 440/480 loud, 350 (dial tone) and 1000 not */
    double a440 = tone_amp(pcm + 800, 8000, 440), a480 = tone_amp(pcm + 800, 8000, 480);
    double a350 = tone_amp(pcm + 800, 8000, 350), a1k = tone_amp(pcm + 800, 8000, 1000);
    printf("us: 440 %.0f, 480 %.0f, 350 %.0f, 1000 %.0f\n", a440, a480, a350, a1k);
    assert_true(a440 > 1000 && a480 > 1000);
    assert_true(a350 * 20 < a440 && a1k * 20 < a440);
    char p[700];
    pattern(pcm, n, 440, 480, p);
    /* 2 s on (100 frames), 4 s off (200), twice */
    assert_run(p, 0, 100, '#');
    assert_run(p, 100, 200, '.');
    assert_run(p, 300, 100, '#');
    assert_run(p, 400, 200, '.');
    free(pcm);
    /* rewinds for loop */
    assert_int_equal(s->rewind(s), 0);
    int16_t frame[160];
    assert_int_equal(s->read(s, frame), 1);
    s->destroy(s);
}

static void uk_ringtone_double_ring(void **state)
{
    (void)state;
    const char *err = NULL;
    media_source *s = media_source_ringtone("uk", 0, &err); /* one cycle: 3 s */
    assert_non_null(s);
    size_t n;
    int16_t *pcm = render(s, 8000 * 4, &n);
    assert_int_equal(n, 8000 * 3);
    char p[400];
    pattern(pcm, n, 400, 450, p);
    assert_run(p, 0, 20, '#');   /* 0.4 on */
    assert_run(p, 20, 10, '.');  /* 0.2 off */
    assert_run(p, 30, 20, '#');  /* 0.4 on */
    assert_run(p, 50, 100, '.'); /* 2.0 off */
    free(pcm);
    s->destroy(s);
}

static void every_known_ringtone_sounds(void **state)
{
    (void)state;
    const char *names[] = {"us", "uk", "de", "fr", "it", "jp", "es", "nl", "au", "in"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const ringtone_desc *d = media_ringtone_find(names[i]);
        assert_non_null(d);
        assert_non_null(strstr(media_ringtone_names(), names[i]));
        const char *err = NULL;
        media_source *s = media_source_ringtone(names[i], 0, &err);
        assert_non_null(s);
        size_t n;
        int16_t *pcm = render(s, 8000 * 8, &n);
        assert_int_equal(n, (size_t)(media_ringtone_cycle_s(d) * 8000 + 0.5) / 160 * 160 +
                                ((size_t)(media_ringtone_cycle_s(d) * 8000 + 0.5) % 160 ? 160 : 0));
        /* the first on period carries f1 */
        double a = tone_amp(pcm + 160, (size_t)d->on1 * 8 - 320, d->f1);
        if (a < 500)
            fail_msg("%s: %d Hz amplitude %.0f", names[i], d->f1, a);
        free(pcm);
        s->destroy(s);
    }
    const char *err = NULL;
    assert_null(media_ringtone_find("xx"));
    assert_null(media_source_ringtone("xx", 1, &err));
    assert_null(media_source_ringtone("us", RINGTONE_MAX_SECONDS + 1, &err));
}

/* ------------------------------------------------------------------ URLs */

static void audio_url_checks(void **state)
{
    (void)state;
    assert_null(media_url_invalid("http://127.0.0.1:37000/tone.wav", 0));
    assert_null(media_url_invalid("HTTPS://example.com/a.mp3?x=1", 0));
    assert_non_null(media_url_invalid(NULL, 0));
    assert_non_null(media_url_invalid("", 0));
    assert_non_null(media_url_invalid("ftp://example.com/a.wav", 0));
    assert_non_null(media_url_invalid("gopher://x", 0));
    assert_non_null(media_url_invalid("/etc/passwd", 0));
    assert_non_null(media_url_invalid("http://", 0));
    assert_non_null(media_url_invalid("http:///a.wav", 0));
    assert_non_null(media_url_invalid("http://exa mple.com/a.wav", 0));
    assert_non_null(media_url_invalid("http://example.com/a.wav\r\nX-Evil: 1", 0));
    assert_non_null(media_url_invalid("http://example.com/\ta.wav", 0));
    /* file:// only with a media_dir, and only absolute */
    assert_non_null(strstr(media_url_invalid("file:///srv/a.wav", 0), "media_dir"));
    assert_null(media_url_invalid("file:///srv/a.wav", 1));
    assert_non_null(media_url_invalid("file://a.wav", 1));
    char big[MEDIA_URL_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "http://x/", 9);
    big[sizeof big - 1] = '\0';
    assert_non_null(media_url_invalid(big, 0));
    big[MEDIA_URL_MAX] = '\0';
    assert_null(media_url_invalid(big, 0));
}

/* ----------------------------------------------------------------- cache */

static void cache_evicts_least_recently_used(void **state)
{
    (void)state;
    int16_t pcm[1000] = {1, 2, 3};
    media_cache *c = media_cache_create(3, 4000); /* 3 entries, 2000 samples */
    assert_non_null(c);
    assert_int_equal(media_cache_put(c, "a", pcm, 1000), 0);
    assert_int_equal(media_cache_put(c, "b", pcm, 100), 0);
    assert_int_equal(media_cache_put(c, "c", pcm, 100), 0);
    size_t n = 0;
    int16_t *got = media_cache_get(c, "a", &n); /* a is now the most recent */
    assert_non_null(got);
    assert_int_equal(n, 1000);
    assert_int_equal(got[2], 3);
    free(got);
    /* the count bound: d pushes out b, the least recently used */
    assert_int_equal(media_cache_put(c, "d", pcm, 100), 0);
    assert_int_equal(media_cache_entries(c), 3);
    assert_null(media_cache_get(c, "b", &n));
    got = media_cache_get(c, "a", &n); /* order now a, d, c */
    assert_non_null(got);
    free(got);
    /* e (1000 samples): the count bound takes c (least recent); then a, d
     * and e are 2100 samples > 2000: the byte bound takes d too */
    assert_int_equal(media_cache_put(c, "e", pcm, 1000), 0);
    assert_null(media_cache_get(c, "c", &n));
    assert_null(media_cache_get(c, "d", &n));
    got = media_cache_get(c, "a", &n);
    assert_non_null(got);
    free(got);
    assert_int_equal(media_cache_entries(c), 2);
    assert_int_equal(media_cache_bytes(c), 4000);
    /* larger than the whole budget: not stored, nothing evicted */
    int16_t *huge = calloc(3000, sizeof *huge);
    assert_int_equal(media_cache_put(c, "huge", huge, 3000), -1);
    free(huge);
    assert_int_equal(media_cache_entries(c), 2);
    /* replacing an entry keeps one copy */
    assert_int_equal(media_cache_put(c, "a", pcm, 10), 0);
    assert_int_equal(media_cache_entries(c), 2);
    assert_int_equal(media_cache_bytes(c), 2020);
    media_cache_destroy(c);
}

/* ---------------------------------------------------- file:// and fetcher */

static void file_urls_stay_under_media_dir(void **state)
{
    (void)state;
    char media[128], outside[128], args[1024], url[300];
    snprintf(media, sizeof media, "%s/media", dir);
    snprintf(outside, sizeof outside, "%s/secret.wav", dir);
    snprintf(args, sizeof args, "-n -r 8000 -c 1 %s synth 0.5 sine 1000 vol 0.5", outside);
    sox(args);
    snprintf(args, sizeof args,
             "mkdir -p %s && cp %s %s/ok.wav && ln -sf %s %s/link.wav && mkfifo %s/pipe.wav",
             media, outside, media, outside, media, media);
    assert_int_equal(system(args), 0);
    media_fetch_config cfg = {.media_dir = media, .max_bytes = 1 << 20, .connect_timeout_ms = 1000,
                              .timeout_ms = 1000, .max_redirects = 1, .cache_entries = 4,
                              .cache_bytes = 1 << 20};
    media_fetcher *f = media_fetcher_create(&cfg);
    assert_non_null(f);
    const char *err = NULL;
    snprintf(url, sizeof url, "file://%s/ok.wav", media);
    media_source *s = media_fetch_source(f, url, &err);
    assert_non_null(s);
    s->destroy(s);
    /* out of media_dir by .., by a symlink, or a directory */
    snprintf(url, sizeof url, "file://%s/../secret.wav", media);
    assert_null(media_fetch_source(f, url, &err));
    snprintf(url, sizeof url, "file://%s/link.wav", media);
    assert_null(media_fetch_source(f, url, &err));
    snprintf(url, sizeof url, "file://%s", media);
    assert_null(media_fetch_source(f, url, &err));
    snprintf(url, sizeof url, "file://%s/", media);
    assert_null(media_fetch_source(f, url, &err));
    /* under media_dir but not a regular file: refused, not blocked on */
    snprintf(url, sizeof url, "file://%s/pipe.wav", media);
    assert_null(media_fetch_source(f, url, &err));
    media_fetcher_destroy(f);

    /* no media_dir: nothing local at all */
    cfg.media_dir = NULL;
    f = media_fetcher_create(&cfg);
    snprintf(url, sizeof url, "file://%s/ok.wav", media);
    assert_null(media_fetch_source(f, url, &err));
    media_fetcher_destroy(f);

    /* too big for max_bytes */
    cfg.media_dir = media;
    cfg.max_bytes = 2048;
    f = media_fetcher_create(&cfg);
    err = NULL;
    assert_null(media_fetch_source(f, url, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "too large"));
    media_fetcher_destroy(f);
}

/* A server that accepts the connection and never answers: the fetch gives
 * up at timeout_ms; a cancelled fetcher gives up at once. */
static void a_silent_server_times_out(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 4), 0); /* the kernel completes the handshake */
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tone.wav", ntohs(sa.sin_port));
    addr_allow loopback = {.n = 1};
    assert_int_equal(addr_range_parse("127.0.0.1/32", &loopback.ranges[0]), 0);
    media_fetch_config cfg = {.max_bytes = 1 << 20, .connect_timeout_ms = 300,
                              .timeout_ms = 600, .max_redirects = 1, .cache_entries = 4,
                              .cache_bytes = 1 << 20, .allow = &loopback};
    media_fetcher *f = media_fetcher_create(&cfg);
    assert_non_null(f);
    const char *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_null(media_fetch_source(f, url, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("timed out after %.2f s: %s\n", s, err);
    assert_string_equal(err, "audio fetch timed out");
    assert_true(s >= 0.5 && s < 3);

    cfg.timeout_ms = 20000;
    media_fetcher_destroy(f);
    f = media_fetcher_create(&cfg);
    media_fetcher_cancel(f);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    err = NULL;
    assert_null(media_fetch_source(f, url, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("cancelled: gave up after %.2f s: %s\n", s, err);
    assert_non_null(err);
    assert_true(s < 3);
    media_fetcher_destroy(f);
    close(ls);
}

/* A client names the URL: without an allow, no notation of an internal
 * address gets a connection, and the reason names the refusal. */
static void internal_addresses_are_refused(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 4), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    int port = ntohs(sa.sin_port);
    media_fetch_config cfg = {.max_bytes = 1 << 20, .connect_timeout_ms = 300,
                              .timeout_ms = 600, .max_redirects = 1};
    media_fetcher *f = media_fetcher_create(&cfg);
    assert_non_null(f);
    static const char *const hosts[] = {"127.0.0.1", "127.1", "0x7f000001", "2130706433",
                                        "[::ffff:127.0.0.1]"};
    char url[96];
    const char *err;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        snprintf(url, sizeof url, "http://%s:%d/tone.wav", hosts[i], port);
        err = NULL;
        assert_null(media_fetch_source(f, url, &err));
        printf("%s: %s\n", url, err);
        assert_string_equal(err, "audio URL refused: loopback address");
    }
    err = NULL;
    assert_null(media_fetch_source(f, "http://169.254.169.254/latest/meta-data/", &err));
    assert_string_equal(err, "audio URL refused: link-local or metadata address (169.254/16)");
    unsigned char *doc = NULL;
    size_t n = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/doc.tif", port);
    assert_int_equal(media_fetch_document(f, url, &doc, &n, &err), -1);
    assert_string_equal(err, "document URL refused: loopback address");
    /* refused before connecting: nothing reached the listener */
    assert_int_equal(accept(ls, NULL, NULL), -1);
    media_fetcher_destroy(f);
    close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wav_stereo_44k_decodes_to_8k_mono),
        cmocka_unit_test(mp3_decodes_to_8k),
        cmocka_unit_test(flac_and_ogg_decode_to_8k),
        cmocka_unit_test(not_audio_is_refused),
        cmocka_unit_test(media_settings),
        cmocka_unit_test(us_ringtone_is_440_480_two_on_four_off),
        cmocka_unit_test(uk_ringtone_double_ring),
        cmocka_unit_test(every_known_ringtone_sounds),
        cmocka_unit_test(audio_url_checks),
        cmocka_unit_test(cache_evicts_least_recently_used),
        cmocka_unit_test(file_urls_stay_under_media_dir),
        cmocka_unit_test(a_silent_server_times_out),
        cmocka_unit_test(internal_addresses_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
