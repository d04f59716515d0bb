/*
 * Recordings over http (recordings_listen): a sipp caller streams 2 s of
 * tone, calling.record ends on the silence after it, and the finished
 * event's url is http:// on relayd's recordings listener. The test GETs it
 * over a plain socket and compares the bytes with the file relayd wrote;
 * then tries what must not be served (paths, encoded slashes, `..`, an
 * absolute-form request, a file in the folder relayd did not record, an
 * unknown name) and holds more connections open than the listener allows.
 * relayd must then exit 0 (no leaks under ASan).
 *
 * Ports: TCP 64200-64209, UDP 21000-21199 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "office_client.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_PORT 64200
#define REC_PORT 64201
#define REC_LISTEN "127.0.0.1:64201"
#define SIP_PORT "21000"
#define SIPP_PORT "21002"
#define SIPP_MEDIA_PORT "21010"
#define PROJECT "rec-http-project"
#define TOKEN "rec-http-token-7c1d"
#define URL_PREFIX "http://" REC_LISTEN "/recordings/"
#define MAX_CONNECTIONS 32 /* RECORDINGS_HTTP_MAX_CONNECTIONS */

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
    build_path(rec_dir, sizeof rec_dir, "recordings-http");
    const char *rm[] = {"rm", "-rf", rec_dir, NULL};
    run(rm, "rm-recordings-http.log");
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64200", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "21100-21199", "--auth",
                          PROJECT ":" TOKEN, "--recordings-dir", rec_dir,
                          "--recordings-listen", REC_LISTEN, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-recordings-http.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------ the call */

static struct {
    pthread_mutex_t lock;
    int done;
    relay_status answer, start, wait;
    char state[32], url[700], size[32];
} rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_field(relay_result *res, const char *key, char *out, size_t n)
{
    const char *v = res ? relay_result_get(res, key) : NULL;
    snprintf(out, n, "%s", v ? v : "");
}

static void on_call(relay_call *call, void *user)
{
    (void)user;
    rc.answer = relay_call_answer(call, NULL);
    relay_action *a = NULL;
    rc.start = relay_call_start(call, "calling.record",
                                "{\"record\":{\"audio\":{\"direction\":\"listen\","
                                "\"initial_timeout\":5,\"end_silence_timeout\":1}}}",
                                &a);
    if (rc.start == RELAY_OK) {
        relay_result *res = NULL;
        rc.wait = relay_action_wait(a, 15000, &res);
        copy_field(res, "state", rc.state, sizeof rc.state);
        copy_field(res, "url", rc.url, sizeof rc.url);
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

/* A sipp caller streaming 2 s of a 440 Hz tone (sox, raw u-law). */
static int record_a_call(void)
{
    char tone[600], tpl[600], scenario[600];
    build_path(tone, sizeof tone, "rec-http-tone.ul");
    const char *sox[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                         tone, "synth", "2", "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(sox, "sox-rec-http.log"), 0);
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
    build_path(scenario, sizeof scenario, "uac_stream_audio_rec_http.xml");
    FILE *f = fopen(scenario, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, tone, at + strlen("@AUDIO@"));
    fclose(f);

    relay_client *c = client_new();
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", scenario, "-s", "office",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                          "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s",
                          "-timeout_error", "-nostdin", NULL};
    int status = run(argv, "sipp-rec-http.log");
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&rc.lock);
        int done = rc.done;
        pthread_mutex_unlock(&rc.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    return status;
}

/* ------------------------------------------------------- plain http */

static int connect_rec(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(REC_PORT)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the peer closes or timeout_ms passes; the bytes read. */
static size_t read_all(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t got = 0;
    int64_t until = now_ms() + timeout_ms;
    while (got < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(until - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = recv(fd, buf + got, size - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

typedef struct reply {
    int status;
    char type[64];
    long long length; /* Content-Length, -1 if absent */
    char *body;
    size_t body_len;
} reply;

static char response[1 << 20];

/* Sends "GET target" exactly as written (no client-side normalising) and
 * parses the answer. status 0: no answer. */
static void get(const char *target, reply *r)
{
    memset(r, 0, sizeof *r);
    r->length = -1;
    int fd = connect_rec();
    assert_true(fd >= 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: " REC_LISTEN "\r\nConnection: close\r\n\r\n",
                     target);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    size_t got = read_all(fd, response, sizeof response - 1, 5000);
    close(fd);
    response[got] = 0;
    sscanf(response, "HTTP/1.%*d %d", &r->status);
    char *end = strstr(response, "\r\n\r\n");
    if (!end)
        return;
    r->body = end + 4;
    r->body_len = got - (size_t)(r->body - response);
    for (char *line = strstr(response, "\r\n"); line && line < end;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "content-type:", 13) == 0)
            sscanf(line + 2 + 13, " %63[^\r\n;]", r->type);
        if (strncasecmp(line + 2, "content-length:", 15) == 0)
            r->length = atoll(line + 2 + 15);
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char data[1 << 20];
    *len = fread(data, 1, sizeof data, f);
    fclose(f);
    return data;
}

/* ------------------------------------------------------------- tests */

static void a_recording_is_served_over_http_and_nothing_else_is(void **state)
{
    (void)state;
    assert_int_equal(record_a_call(), 0);
    assert_true(rc.done);
    assert_int_equal(rc.answer, RELAY_OK);
    assert_int_equal(rc.start, RELAY_OK);
    assert_int_equal(rc.wait, RELAY_OK);
    assert_string_equal(rc.state, "finished");
    printf("url %s, size %s\n", rc.url, rc.size);
    assert_true(strncmp(rc.url, URL_PREFIX, strlen(URL_PREFIX)) == 0);
    const char *name = rc.url + strlen(URL_PREFIX);

    /* the bytes served are the file's */
    char path[800];
    snprintf(path, sizeof path, "%s/%s", rec_dir, name);
    size_t file_len;
    char *file = read_file(path, &file_len);
    assert_true(file_len > 30000); /* 2 s of 8 kHz 16-bit */
    assert_int_equal((long long)file_len, atoll(rc.size));
    reply r;
    char target[800];
    snprintf(target, sizeof target, "/recordings/%s", name);
    get(target, &r);
    printf("GET %s -> %d %s, Content-Length %lld, %zu body bytes\n", target, r.status, r.type,
           r.length, r.body_len);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "audio/wav");
    assert_int_equal(r.length, (long long)file_len);
    assert_int_equal(r.body_len, file_len);
    assert_memory_equal(r.body, file, file_len);

    /* a file in the folder relayd did not record, and other names */
    char planted[800];
    snprintf(planted, sizeof planted, "%s/planted.wav", rec_dir);
    FILE *f = fopen(planted, "w");
    assert_non_null(f);
    fputs("RIFF not relayd's", f);
    fclose(f);
    char twice[900], dotted[900];
    snprintf(twice, sizeof twice, "/recordings/%s/%s", name, name);
    snprintf(dotted, sizeof dotted, "/recordings/.%s", name);
    const char *refused[] = {
        "/recordings/planted.wav",
        "/recordings/nope.wav",
        "/recordings/",
        "/recordings",
        "/",
        "/metrics",
        "/recordings/../../../../etc/passwd",
        "/recordings/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/recordings/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/recordings/%2Fetc%2Fpasswd",
        "/recordings//etc/passwd",
        "/recordings/%2e%2e",
        "/recordings/..",
        "/../../etc/passwd",
        "//etc/passwd",
        "http://127.0.0.1:64201/etc/passwd",
        "/etc/passwd",
        twice,
        dotted,
        NULL,
    };
    for (int i = 0; refused[i]; i++) {
        get(refused[i], &r);
        printf("GET %s -> %d (%.40s)\n", refused[i], r.status, response);
        /* 403: lws itself refuses an absolute-form target before relayd
         * sees it */
        if (r.status != 400 && r.status != 404 && r.status != 403)
            fail_msg("GET %s answered %d, not 400/403/404", refused[i], r.status);
        assert_null(r.body ? strstr(r.body, "root:") : NULL);
        assert_null(r.body ? strstr(r.body, "not relayd's") : NULL);
    }
    /* a name with a path in it is a bad request, not a miss */
    get("/recordings/a%2fb.wav", &r);
    assert_int_equal(r.status, 400);
    get("/recordings/nope.wav", &r);
    assert_int_equal(r.status, 404);
    unlink(planted);
}

/* The listener holds at most MAX_CONNECTIONS: one more is closed at once;
 * once they go, it serves again. */
static void connections_are_bounded(void **state)
{
    (void)state;
    int fds[MAX_CONNECTIONS];
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
        fds[i] = connect_rec();
        assert_true(fds[i] >= 0);
    }
    sleep_ms(300); /* relayd accepts and counts them */
    int extra = connect_rec();
    char buf[64];
    size_t got = 0;
    int closed = 0;
    if (extra >= 0) {
        const char *req = "GET /recordings/x.wav HTTP/1.1\r\nHost: x\r\n\r\n";
        send(extra, req, strlen(req), MSG_NOSIGNAL);
        struct pollfd p = {.fd = extra, .events = POLLIN};
        if (poll(&p, 1, 3000) == 1) {
            ssize_t n = recv(extra, buf, sizeof buf, 0);
            closed = n <= 0;
            got = n > 0 ? (size_t)n : 0;
        }
        close(extra);
    } else {
        closed = 1;
    }
    printf("connection %d: %s (%zu bytes)\n", MAX_CONNECTIONS + 1,
           closed ? "closed at once" : "served", got);
    assert_true(closed);
    assert_true(relayd_proc_log_contains(&server, "recordings: connection refused"));
    for (int i = 0; i < MAX_CONNECTIONS; i++)
        close(fds[i]);
    sleep_ms(300);
    reply r;
    get("/recordings/nope.wav", &r);
    assert_int_equal(r.status, 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_recording_is_served_over_http_and_nothing_else_is),
        cmocka_unit_test(connections_are_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
