/*
 * calling.stream and calling.tap's ws device against a real relayd, a
 * librelay client and a sipp caller streaming a 440 Hz tone (sox, raw
 * u-law). The test runs the WebSocket server relayd streams to
 * (libwebsockets, on 127.0.0.1), keeps every message it receives with its
 * arrival time, and afterwards reads them as the Media Streams shape:
 * connected, start (its fields), media (payloads decoded with the test's
 * own u-law oracle, each 20 ms chunk's pitch estimated from its zero
 * crossings), stop.
 *
 * wss and the caps: relayd dials itself (a raw client, no sipp), one leg
 * plays a ringtone to the other, and that leg streams it over wss:// to the
 * test's TLS server, whose certificate is signed by a CA of
 * scripts/gen-certs.sh that relayd trusts through stream_ca_file only; a
 * third stream on one call is refused (429), and with stream_max 3 a
 * fourth relayd-wide (503) until one ends.
 *
 * Ports: relayd WS 64700, the test's WS server 64701, a closed port 64702,
 * the test's wss server 64703 (TCP); relayd SIP 18001, RTP 18100-18199;
 * sipp 18002, media 18300.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <libwebsockets.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"
#include "g711_oracle.h"

#define WS_PORT 64700
#define SINK_PORT 64701
#define CLOSED_PORT "64702"
#define SIP_PORT "18001"
#define SIPP_PORT "18002"
#define SIPP_MEDIA_PORT "18300"
#define PROJECT "stream-project"
#define TOKEN "stream-token-5e1a"
#define SINK "ws://127.0.0.1:64701"
#define TLS_SINK_PORT 64703
#define TLS_SINK "wss://127.0.0.1:64703"
#define NODE "relayd-local"
#define STREAM_MAX "3"

static relayd_proc server;

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 30000) : -1;
}

/* ------------------------------------------------- the WebSocket sink */

#define MAX_MSGS 2000
static struct {
    pthread_mutex_t lock;
    struct lws_context *ctx, *tls_ctx; /* ws:// and wss://, a thread each */
    pthread_t thread, tls_thread;
    volatile int stop, tls_stop;
    int n;
    struct { char path[32]; char *text; int64_t at; } msg[MAX_MSGS];
    int closed; /* connections the peer (relayd) closed */
} sink = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct sink_conn {
    char path[32];
    char buf[8192];
    size_t len;
    int count;
} sink_conn;

static int sink_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    sink_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        c->len = 0;
        if (lws_hdr_copy(wsi, c->path, sizeof c->path, WSI_TOKEN_GET_URI) < 0)
            c->path[0] = 0;
        break;
    case LWS_CALLBACK_RECEIVE:
        if (c->len + len < sizeof c->buf) {
            memcpy(c->buf + c->len, in, len);
            c->len += len;
        }
        if (lws_is_final_fragment(wsi)) {
            int bye = !strcmp(c->path, "/bye") && ++c->count >= 10;
            pthread_mutex_lock(&sink.lock);
            if (sink.n < MAX_MSGS) {
                snprintf(sink.msg[sink.n].path, sizeof sink.msg[0].path, "%s", c->path);
                sink.msg[sink.n].text = strndup(c->buf, c->len);
                sink.msg[sink.n].at = now_ms();
                sink.n++;
            }
            pthread_mutex_unlock(&sink.lock);
            c->len = 0;
            if (bye) /* this path's receiver hangs up after 10 messages */
                return -1;
        }
        break;
    case LWS_CALLBACK_CLOSED:
        pthread_mutex_lock(&sink.lock);
        sink.closed++;
        pthread_mutex_unlock(&sink.lock);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols sink_protocols[] = {
    {"sink", sink_cb, sizeof(sink_conn), 8192, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *sink_main(void *arg)
{
    struct lws_context *ctx = arg;
    while (!sink.stop)
        lws_service(ctx, 0);
    return NULL;
}

static void *tls_sink_main(void *arg)
{
    (void)arg;
    while (!sink.tls_stop)
        lws_service(sink.tls_ctx, 0);
    return NULL;
}

static char cert_dir[400];

static void sink_start(void)
{
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info = {
        .port = SINK_PORT,
        .iface = "127.0.0.1",
        .protocols = sink_protocols,
        .gid = -1,
        .uid = -1,
    };
    sink.ctx = lws_create_context(&info);
    assert_non_null(sink.ctx);
    sink.stop = 0;
    assert_int_equal(pthread_create(&sink.thread, NULL, sink_main, sink.ctx), 0);
}

static void sink_stop(void)
{
    sink.stop = 1;
    lws_cancel_service(sink.ctx);
    pthread_join(sink.thread, NULL);
    lws_context_destroy(sink.ctx);
}

/* The wss sink, with a certificate of gen-certs.sh's CA, on a thread of its
 * own. Started and stopped within one case, with no other lws context made
 * in between: lws 4.1 frees an SSL_CTX it built by an ex-data index that
 * each new context's SSL init re-allocates (see src/server/stream_out.c),
 * so a librelay client made meanwhile would leak it. */
static void tls_sink_start(void)
{
    struct lws_context_creation_info info = {
        .iface = "127.0.0.1",
        .protocols = sink_protocols,
        .gid = -1,
        .uid = -1,
    };
    char cert[600], key[600];
    snprintf(cert, sizeof cert, "%s/server.pem", cert_dir);
    snprintf(key, sizeof key, "%s/server.key", cert_dir);
    info.port = TLS_SINK_PORT;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = key;
    sink.tls_ctx = lws_create_context(&info);
    assert_non_null(sink.tls_ctx);
    sink.tls_stop = 0;
    assert_int_equal(pthread_create(&sink.tls_thread, NULL, tls_sink_main, NULL), 0);
}

static void tls_sink_stop(void)
{
    sink.tls_stop = 1;
    lws_cancel_service(sink.tls_ctx);
    pthread_join(sink.tls_thread, NULL);
    lws_context_destroy(sink.tls_ctx);
    sink.tls_ctx = NULL;
}

static void sink_clear(void)
{
    pthread_mutex_lock(&sink.lock);
    for (int i = 0; i < sink.n; i++)
        free(sink.msg[i].text);
    sink.n = 0;
    sink.closed = 0;
    pthread_mutex_unlock(&sink.lock);
}

static int setup(void **state)
{
    (void)state;
    snprintf(cert_dir, sizeof cert_dir, "%s/tests/integration/certs-stream",
             getenv("RELAY_BUILD_DIR"));
    char cmd[1200], ca[600];
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null",
             getenv("RELAY_SOURCE_DIR"), cert_dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(ca, sizeof ca, "%s/ca.pem", cert_dir);
    sink_start();
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64700", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "18100-18199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", "--webhook-allow",
                          "127.0.0.1/32", /* streams to the test's sinks */
                          "--stream-ca-file", ca, "--stream-max", STREAM_MAX, NULL};
    return relayd_proc_start(&server, args, "relayd-stream.log");
}

static int teardown(void **state)
{
    (void)state;
    int rc = relayd_proc_stop(&server);
    sink_stop();
    sink_clear();
    return rc == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------- the client */

typedef enum { CASE_STREAM, CASE_TAP } stream_case;

#define MAX_EVENTS 64
#define MAX_BAD 8
static struct {
    pthread_mutex_t lock;
    stream_case which;
    int done;
    relay_status answer;
    char call_id[64];
    char code[8], stop_code[8], fail_code[8], hangup_code[8];
    char bad_code[MAX_BAD][8], bad_msg[MAX_BAD][200];
    int64_t t_stop;
    int n_ev;
    struct { char type[40], state[24], control[40], reason[200], failed[8]; int64_t at; } ev[MAX_EVENTS];
} rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_event(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    pthread_mutex_lock(&rc.lock);
    if (rc.n_ev < MAX_EVENTS && ev->event_type) {
        __typeof__(rc.ev[0]) *e = &rc.ev[rc.n_ev++];
        const char *reason = relay_result_get(ev->params, "reason");
        const char *failed = relay_result_get(ev->params, "failed");
        snprintf(e->type, sizeof e->type, "%s", ev->event_type);
        snprintf(e->state, sizeof e->state, "%s", ev->state ? ev->state : "");
        snprintf(e->control, sizeof e->control, "%s", ev->control_id ? ev->control_id : "");
        snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
        snprintf(e->failed, sizeof e->failed, "%s", failed ? failed : "");
        e->at = now_ms();
    }
    pthread_mutex_unlock(&rc.lock);
}

/* The index of the first event of type, control and state; -1 if none. */
static int event_index(const char *type, const char *control, const char *state)
{
    int at = -1;
    pthread_mutex_lock(&rc.lock);
    for (int i = 0; i < rc.n_ev && at < 0; i++)
        if (!strcmp(rc.ev[i].type, type) && !strcmp(rc.ev[i].control, control) &&
            !strcmp(rc.ev[i].state, state))
            at = i;
    pthread_mutex_unlock(&rc.lock);
    return at;
}

static int wait_event(const char *type, const char *control, const char *state, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    int at;
    while ((at = event_index(type, control, state)) < 0 && now_ms() < end)
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

/* Refused streams: each a 400 with a reason. */
static const char *const bad_streams[] = {
    "{\"control_id\":\"b0\",\"url\":\"ws://10.0.0.1:" CLOSED_PORT "/x\"}",    /* private */
    "{\"control_id\":\"b1\",\"url\":\"ws://127.0.0.2:" CLOSED_PORT "/x\"}",   /* loopback, not allowed */
    "{\"control_id\":\"b2\",\"url\":\"ws://169.254.169.254/x\"}",            /* metadata */
    "{\"control_id\":\"b3\",\"url\":\"http://127.0.0.1:" CLOSED_PORT "/x\"}", /* not ws */
    "{\"control_id\":\"b4\",\"url\":\"" SINK "/s\",\"track\":\"sideways\"}",
    "{\"control_id\":\"b5\",\"url\":\"" SINK "/s\",\"codec\":\"G729\"}",
    "{\"url\":\"" SINK "/s\"}",
    NULL,
};

static void stream_call(relay_call *call)
{
    for (int i = 0; bad_streams[i]; i++)
        execute_code(call, "calling.stream", bad_streams[i], rc.bad_code[i],
                     sizeof rc.bad_code[i], rc.bad_msg[i], sizeof rc.bad_msg[i]);
    /* nobody listens there: the stream fails */
    execute_code(call, "calling.stream",
                 "{\"control_id\":\"s-closed\",\"url\":\"ws://127.0.0.1:" CLOSED_PORT "/x\"}",
                 rc.fail_code, sizeof rc.fail_code, NULL, 0);
    wait_event("calling.call.stream", "s-closed", "finished", 5000);
    execute_code(call, "calling.stream",
                 "{\"control_id\":\"s-1\",\"url\":\"" SINK "/stream\",\"codec\":\"PCMU\","
                 "\"track\":\"inbound_track\"}",
                 rc.code, sizeof rc.code, NULL, 0);
    wait_event("calling.call.stream", "s-1", "streaming", 3000);
    sleep_ms(2000);
    rc.t_stop = now_ms();
    execute_code(call, "calling.stream.stop", "{\"control_id\":\"s-1\"}", rc.stop_code,
                 sizeof rc.stop_code, NULL, 0);
    wait_event("calling.call.stream", "s-1", "finished", 3000);
    sleep_ms(600); /* the tone goes on: none of it may be streamed now */
}

static void tap_call(relay_call *call)
{
    execute_code(call, "calling.tap",
                 "{\"control_id\":\"tw-bad\",\"tap\":{\"type\":\"audio\"},\"device\":{\"type\":"
                 "\"ws\",\"params\":{\"uri\":\"ws://192.168.1.1/x\"}}}",
                 rc.bad_code[0], sizeof rc.bad_code[0], rc.bad_msg[0], sizeof rc.bad_msg[0]);
    execute_code(call, "calling.tap",
                 "{\"control_id\":\"tw-1\",\"tap\":{\"type\":\"audio\",\"params\":"
                 "{\"direction\":\"listen\"}},\"device\":{\"type\":\"ws\",\"params\":"
                 "{\"uri\":\"" SINK "/tap\"}}}",
                 rc.code, sizeof rc.code, NULL, 0);
    wait_event("calling.call.tap", "tw-1", "tapping", 3000);
    sleep_ms(1500);
    rc.t_stop = now_ms();
    execute_code(call, "calling.tap.stop", "{\"control_id\":\"tw-1\"}", rc.stop_code,
                 sizeof rc.stop_code, NULL, 0);
    wait_event("calling.call.tap", "tw-1", "finished", 3000);
    sleep_ms(600);
    /* one the remote closes, one the hangup ends */
    execute_code(call, "calling.stream",
                 "{\"control_id\":\"s-bye\",\"url\":\"" SINK "/bye\"}", rc.fail_code,
                 sizeof rc.fail_code, NULL, 0);
    execute_code(call, "calling.stream",
                 "{\"control_id\":\"s-h\",\"url\":\"" SINK "/hangup\",\"codec\":"
                 "\"L16@8000h\"}",
                 rc.hangup_code, sizeof rc.hangup_code, NULL, 0);
    wait_event("calling.call.stream", "s-bye", "finished", 3000);
    wait_event("calling.call.stream", "s-h", "streaming", 3000);
    sleep_ms(500);
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_on(call, RELAY_EVENT_UNKNOWN, on_event, NULL);
    snprintf(rc.call_id, sizeof rc.call_id, "%s", relay_call_id(call));
    rc.answer = relay_call_answer(call, NULL);
    if (rc.which == CASE_STREAM)
        stream_call(call);
    else
        tap_call(call);
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

/* 5 s of a 440 Hz tone at half scale, raw u-law, in a stream scenario
 * (uac_stream_audio.xml.in with the file's name written in). */
static void make_scenario(char *out, size_t n)
{
    char tone[600], tpl[600];
    build_path(tone, sizeof tone, "stream-tone.ul");
    const char *argv[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                          tone, "synth", "5", "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(argv, "sox-stream-tone.log"), 0);
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
    build_path(out, n, "stream-scenario.xml");
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, tone, at + strlen("@AUDIO@"));
    fclose(f);
}

static void run_case(stream_case which, const char *log)
{
    char scenario[600];
    make_scenario(scenario, sizeof scenario);
    sink_clear();
    pthread_mutex_lock(&rc.lock);
    memset((char *)&rc + sizeof rc.lock, 0, sizeof rc - sizeof rc.lock);
    rc.which = which;
    pthread_mutex_unlock(&rc.lock);
    relay_client *c = client_new();
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                          "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s",
                          "-timeout_error", "-nostdin", NULL};
    int sipp_status = run(argv, log);
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

/* ------------------------------------------------------ the analysis */

typedef struct stream_facts {
    int connected_at, start_at, stop_at; /* message indexes in path's order; -1 if none */
    json_t *start;                       /* the start message */
    int media, media_after_stop, tone_chunks, bad_chunk, bad_number;
    int64_t first_media_at, stop_msg_at;
} stream_facts;

/* The pitch of 160 samples from zero crossings; 0 when the chunk is quiet. */
static double chunk_hz(const short *x, int n)
{
    double e = 0;
    int crossings = 0;
    for (int i = 0; i < n; i++) {
        e += (double)x[i] * x[i];
        if (i && ((x[i - 1] < 0) != (x[i] < 0)))
            crossings++;
    }
    if (sqrt(e / n) < 1000) /* the tone is at half scale: ~11000 rms */
        return 0;
    return crossings / 2.0 / (n / 8000.0);
}

static void read_stream(const char *path, const char *track, stream_facts *f)
{
    memset(f, 0, sizeof *f);
    f->connected_at = f->start_at = f->stop_at = -1;
    int k = 0;
    unsigned expect_number = 1;
    int l16 = 0;
    pthread_mutex_lock(&sink.lock);
    for (int i = 0; i < sink.n; i++) {
        if (strcmp(sink.msg[i].path, path))
            continue;
        json_t *m = json_loads(sink.msg[i].text, 0, NULL);
        assert_non_null(m);
        const char *ev = json_string_value(json_object_get(m, "event"));
        assert_non_null(ev);
        if (!strcmp(ev, "connected") && f->connected_at < 0)
            f->connected_at = k;
        else if (!strcmp(ev, "start") && f->start_at < 0) {
            f->start_at = k;
            f->start = json_incref(json_object_get(m, "start"));
            const char *enc = json_string_value(
                json_object_get(json_object_get(f->start, "mediaFormat"), "encoding"));
            l16 = enc && !strcmp(enc, "audio/l16");
        } else if (!strcmp(ev, "stop")) {
            f->stop_at = k;
            f->stop_msg_at = sink.msg[i].at;
        } else if (!strcmp(ev, "media")) {
            if (f->stop_at >= 0)
                f->media_after_stop++;
            json_t *media = json_object_get(m, "media");
            const char *tr = json_string_value(json_object_get(media, "track"));
            const char *chunk = json_string_value(json_object_get(media, "chunk"));
            const char *b64 = json_string_value(json_object_get(media, "payload"));
            if (!tr || strcmp(tr, track) || !b64 || !chunk) {
                f->bad_chunk++;
            } else {
                if ((unsigned)atoi(chunk) != expect_number)
                    f->bad_number++;
                expect_number = (unsigned)atoi(chunk) + 1;
                unsigned char raw[400];
                int n = lws_b64_decode_string(b64, (char *)raw, sizeof raw);
                short pcm[400];
                if (l16) { /* network byte order */
                    for (int j = 0; j < n / 2; j++)
                        pcm[j] = (short)(raw[2 * j] << 8 | raw[2 * j + 1]);
                    n /= 2;
                } else {
                    for (int j = 0; j < n; j++)
                        pcm[j] = (short)ulaw_to_linear(raw[j]);
                }
                double hz = n == 160 ? chunk_hz(pcm, n) : 0;
                if (n != 160)
                    f->bad_chunk++;
                if (hz > 400 && hz < 480)
                    f->tone_chunks++;
            }
            if (!f->media)
                f->first_media_at = sink.msg[i].at;
            f->media++;
        }
        json_decref(m);
        k++;
    }
    pthread_mutex_unlock(&sink.lock);
}

/* ---------------------------------------------------------- the tests */

/* The caller streams 440 Hz; calling.stream (inbound, PCMU) sends it to the
 * test's server for 2 s: connected, a start naming the stream and the call,
 * 20 ms chunks of the tone, stop after calling.stream.stop and nothing
 * after it; streaming then finished. Internal and malformed URLs are
 * refused with 400; a closed port gives a failed finish. */
static void a_stream_carries_the_caller_until_stopped(void **state)
{
    (void)state;
    run_case(CASE_STREAM, "sipp-stream.log");

    for (int i = 0; bad_streams[i]; i++) {
        printf("%.60s -> %s %s\n", bad_streams[i], rc.bad_code[i], rc.bad_msg[i]);
        assert_string_equal(rc.bad_code[i], "400");
        assert_true(strlen(rc.bad_msg[i]) > 10);
    }
    assert_non_null(strstr(rc.bad_msg[0], "private"));
    assert_non_null(strstr(rc.bad_msg[1], "loopback"));

    /* the closed port: answered 200, then finished with a reason */
    assert_string_equal(rc.fail_code, "200");
    int fin = event_index("calling.call.stream", "s-closed", "finished");
    assert_true(fin >= 0);
    printf("closed port: %s (failed %s)\n", rc.ev[fin].reason, rc.ev[fin].failed);
    assert_non_null(strstr(rc.ev[fin].reason, "connect failed"));
    assert_string_equal(rc.ev[fin].failed, "true");
    assert_true(event_index("calling.call.stream", "s-closed", "streaming") < 0);

    assert_string_equal(rc.code, "200");
    assert_string_equal(rc.stop_code, "200");
    int on = event_index("calling.call.stream", "s-1", "streaming");
    int off = event_index("calling.call.stream", "s-1", "finished");
    assert_true(on >= 0 && off > on);
    assert_string_equal(rc.ev[off].reason, "stopped");
    assert_string_equal(rc.ev[off].failed, "");

    stream_facts f;
    read_stream("/stream", "inbound", &f);
    int64_t span = f.stop_msg_at - f.first_media_at;
    printf("stream: %d media (%d with the tone, %d bad, %d misnumbered) over %lld ms, "
           "connected %d start %d stop %d, %d after stop\n",
           f.media, f.tone_chunks, f.bad_chunk, f.bad_number, (long long)span, f.connected_at,
           f.start_at, f.stop_at, f.media_after_stop);
    assert_int_equal(f.connected_at, 0);
    assert_int_equal(f.start_at, 1);
    assert_non_null(f.start);
    assert_string_equal(json_string_value(json_object_get(f.start, "streamSid")), "s-1");
    assert_string_equal(json_string_value(json_object_get(f.start, "callSid")), rc.call_id);
    json_t *tracks = json_object_get(f.start, "tracks");
    assert_int_equal(json_array_size(tracks), 1);
    assert_string_equal(json_string_value(json_array_get(tracks, 0)), "inbound");
    json_t *fmt = json_object_get(f.start, "mediaFormat");
    assert_string_equal(json_string_value(json_object_get(fmt, "encoding")), "audio/x-mulaw");
    assert_int_equal(json_integer_value(json_object_get(fmt, "sampleRate")), 8000);
    assert_int_equal(json_integer_value(json_object_get(fmt, "channels")), 1);
    json_decref(f.start);
    /* 2 s at 20 ms: ~100 chunks */
    assert_true(f.media >= 85 && f.media <= 115);
    assert_true(span > 0 && abs(f.media - (int)(span / 20)) <= f.media / 8);
    assert_int_equal(f.bad_chunk, 0);
    assert_int_equal(f.bad_number, 0);
    assert_true(f.tone_chunks * 10 > f.media * 9); /* > 90% */
    assert_true(f.stop_at == f.media + 2); /* stop is the last message */
    assert_int_equal(f.media_after_stop, 0);
    pthread_mutex_lock(&sink.lock);
    int closed = sink.closed;
    pthread_mutex_unlock(&sink.lock);
    assert_true(closed >= 1); /* relayd closed the connection after stop */
}

/* A listen tap to a ws device: the same stream of the caller's tone,
 * reported as calling.call.tap tapping then finished; an internal URI is
 * refused with 400. Then two streams on the same call: one whose receiver
 * closes after 10 messages (finished, "remote closed", failed) and one in
 * L16 that the hangup ends ("call ended", its receiver still gets stop). */
static void a_ws_tap_carries_the_caller_until_stopped(void **state)
{
    (void)state;
    run_case(CASE_TAP, "sipp-stream-tap.log");
    printf("ws tap to 192.168.1.1 -> %s %s\n", rc.bad_code[0], rc.bad_msg[0]);
    assert_string_equal(rc.bad_code[0], "400");
    assert_non_null(strstr(rc.bad_msg[0], "private"));
    assert_string_equal(rc.code, "200");
    assert_string_equal(rc.stop_code, "200");
    int on = event_index("calling.call.tap", "tw-1", "tapping");
    int off = event_index("calling.call.tap", "tw-1", "finished");
    assert_true(on >= 0 && off > on);
    stream_facts f;
    read_stream("/tap", "inbound", &f);
    printf("tap: %d media (%d with the tone, %d bad), connected %d start %d stop %d, %d after "
           "stop\n",
           f.media, f.tone_chunks, f.bad_chunk, f.connected_at, f.start_at, f.stop_at,
           f.media_after_stop);
    assert_int_equal(f.start_at, 1);
    json_decref(f.start);
    assert_true(f.media >= 60 && f.media <= 90); /* 1.5 s: ~75 */
    assert_int_equal(f.bad_chunk, 0);
    assert_true(f.tone_chunks * 10 > f.media * 9);
    assert_true(f.stop_at == f.media + 2);
    assert_int_equal(f.media_after_stop, 0);

    /* the remote closed after 10 messages: a failed finish */
    assert_string_equal(rc.fail_code, "200");
    int bye = event_index("calling.call.stream", "s-bye", "finished");
    assert_true(bye >= 0);
    printf("remote close: %s (failed %s)\n", rc.ev[bye].reason, rc.ev[bye].failed);
    assert_string_equal(rc.ev[bye].reason, "remote closed");
    assert_string_equal(rc.ev[bye].failed, "true");
    /* the hangup: finished "call ended", and the receiver still gets stop */
    assert_string_equal(rc.hangup_code, "200");
    int h = event_index("calling.call.stream", "s-h", "finished");
    assert_true(h > event_index("calling.call.stream", "s-h", "streaming"));
    assert_string_equal(rc.ev[h].reason, "call ended");
    sleep_ms(300);
    read_stream("/hangup", "inbound", &f);
    printf("hangup (L16): %d media (%d with the tone, %d bad), stop %d\n", f.media,
           f.tone_chunks, f.bad_chunk, f.stop_at);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(f.start, "mediaFormat"), "encoding")),
        "audio/l16");
    json_decref(f.start);
    assert_true(f.media >= 15);
    assert_int_equal(f.bad_chunk, 0);
    assert_true(f.tone_chunks * 10 > f.media * 9);
    assert_true(f.stop_at == f.media + 2);
}

/* ------------------------------------------------ wss and the caps */

static json_t *rpc(rpc_client *c, const char *method, json_t *params, const char *want)
{
    json_t *res = rpc_client_request(c, method, params);
    const char *got = rpc_code_of(res);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s answered %s (%s), expected %s", method, got ? got : "?",
                 json_string_value(json_object_get(res, "message")), want);
    return res;
}

static void rpc_ok(rpc_client *c, const char *method, json_t *params, const char *want)
{
    json_decref(rpc(c, method, params, want));
}

/* The index of the first event of type with key = value and (state NULL,
 * or its state), waiting up to timeout_ms; -1 if none came. */
static int raw_wait(rpc_client *c, const char *type, const char *key, const char *value,
                    const char *state, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            const char *st = json_string_value(json_object_get(ev, "state"));
            if (rpc_event_matches(ev, type, key, value) && (!state || (st && !strcmp(st, state))))
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 100));
    }
}

static json_t *stream_params(const char *call_id, const char *control_id, const char *url)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE,
                     "control_id", control_id, "url", url, "track", "inbound_track");
}

static void wss_with_a_private_ca_and_the_stream_caps(void **state)
{
    (void)state;
    sink_clear();
    tls_sink_start();
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"wss\"]");
    /* relayd calls itself: out (dialled) and in (offered on "wss") */
    json_t *dev = json_pack("{s:s, s:{s:s, s:s, s:i}}", "type", "sip", "params", "from",
                            "sip:streamer@127.0.0.1", "to", "sip:wss@127.0.0.1:" SIP_PORT,
                            "timeout", 10);
    rpc_ok(&c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", "tag-wss", "devices", dev),
           "200");
    int i = raw_wait(&c, "calling.call.receive", NULL, NULL, NULL, 10000);
    assert_true(i >= 0);
    char in[64], out[64];
    snprintf(in, sizeof in, "%s",
             json_string_value(json_object_get(json_array_get(c.events, (size_t)i), "call_id")));
    rpc_ok(&c, "calling.answer", json_pack("{s:s, s:s}", "call_id", in, "node_id", NODE), "200");
    i = raw_wait(&c, "calling.call.dial", "dial_state", "answered", NULL, 10000);
    assert_true(i >= 0);
    json_t *call = json_object_get(json_array_get(c.events, (size_t)i), "call");
    snprintf(out, sizeof out, "%s", json_string_value(json_object_get(call, "call_id")));
    /* what `out` hears, and so streams: the us ringtone */
    rpc_ok(&c, "calling.play",
           json_pack("{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:f}}]}", "call_id", in, "node_id", NODE,
                     "control_id", "ring", "play", "type", "ringtone", "params", "name", "us",
                     "duration", 20.0),
           "200");

    rpc_ok(&c, "calling.stream", stream_params(out, "w1", TLS_SINK "/wss"), "200");
    assert_true(raw_wait(&c, "calling.call.stream", "control_id", "w1", "streaming", 5000) >= 0);
    rpc_ok(&c, "calling.stream", stream_params(out, "w2", SINK "/second"), "200");
    /* a third on one call */
    json_t *res = rpc(&c, "calling.stream", stream_params(out, "w3", SINK "/third"), "429");
    const char *msg = json_string_value(json_object_get(res, "message"));
    printf("third stream on a call: 429 %s\n", msg);
    assert_non_null(strstr(msg, "at most 2"));
    json_decref(res);
    /* the third relayd-wide, on the other leg, fills stream_max (3) */
    rpc_ok(&c, "calling.stream", stream_params(in, "w4", SINK "/fourth"), "200");
    res = rpc(&c, "calling.stream", stream_params(in, "w5", SINK "/fifth"), "503");
    msg = json_string_value(json_object_get(res, "message"));
    printf("past stream_max: 503 %s\n", msg);
    assert_non_null(strstr(msg, "relayd has " STREAM_MAX " WebSocket streams open"));
    json_decref(res);

    sleep_ms(1500);
    rpc_ok(&c, "calling.stream.stop",
           json_pack("{s:s, s:s, s:s}", "call_id", out, "node_id", NODE, "control_id", "w1"),
           "200");
    i = raw_wait(&c, "calling.call.stream", "control_id", "w1", "finished", 5000);
    assert_true(i >= 0);
    const char *reason =
        json_string_value(json_object_get(json_array_get(c.events, (size_t)i), "reason"));
    printf("wss stream finished: %s\n", reason ? reason : "(no reason)");
    assert_string_equal(reason, "stopped");
    /* its slot is free again */
    rpc_ok(&c, "calling.stream", stream_params(in, "w6", SINK "/sixth"), "200");

    /* what the wss server got: connected, start, the ringtone's chunks, stop */
    sleep_ms(300);
    stream_facts f;
    read_stream("/wss", "inbound", &f);
    printf("wss: %d media, connected %d start %d stop %d\n", f.media, f.connected_at, f.start_at,
           f.stop_at);
    assert_int_equal(f.connected_at, 0);
    assert_int_equal(f.start_at, 1);
    assert_non_null(f.start);
    assert_string_equal(json_string_value(json_object_get(f.start, "streamSid")), "w1");
    assert_string_equal(json_string_value(json_object_get(f.start, "callSid")), out);
    json_decref(f.start);
    assert_true(f.media >= 50); /* ~1.5 s at 20 ms */
    assert_int_equal(f.bad_chunk, 0);
    assert_true(f.stop_at == f.media + 2);

    rpc_ok(&c, "calling.end",
           json_pack("{s:s, s:s, s:s}", "call_id", out, "node_id", NODE, "reason", "hangup"),
           "200");
    assert_true(raw_wait(&c, "calling.call.stream", "control_id", "w6", "finished", 10000) >= 0);
    assert_true(raw_wait(&c, "calling.call.state", "call_state", "ended", NULL, 10000) >= 0);
    rpc_client_close(&c);
    tls_sink_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_stream_carries_the_caller_until_stopped),
        cmocka_unit_test(a_ws_tap_carries_the_caller_until_stopped),
        cmocka_unit_test(wss_with_a_private_ca_and_the_stream_caps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
