/*
 * Hostile media URLs: a client names the URL relayd fetches (play audio,
 * send_fax documents), so relayd judges the address each connection goes
 * to, redirects included, as it does for webhooks.
 *
 * The test serves HTTP itself on port 62410 of 127.0.0.1, 127.0.0.2 and
 * [::1], recording which address each request came in on. It dials
 * relayd's own SIP listener, answers, and plays on the call:
 *
 *   - relayd with --webhook-allow 127.0.0.2/32: http://127.0.0.1/…,
 *     http://127.1/…, http://[::1]/… and http://127.0.0.2/redirect (a 302
 *     to http://127.0.0.1/tone.wav) each end in `error`, reason "audio URL
 *     refused: loopback address"; http://127.0.0.2/tone.wav plays
 *     (finished); a send_fax of http://127.0.0.1/doc.tif ends in `error`,
 *     "document URL refused: loopback address". The server saw only the
 *     two requests on 127.0.0.2, none on 127.0.0.1 or ::1.
 *   - relayd with 127.0.0.0/8 and ::1/128 allowed: the same four plays
 *     are fetched and finish.
 * Each relayd must exit 0 (no leaks under ASan).
 *
 * Ports: relayd ws 62400, http 62410 (TCP); SIP 34500, RTP 34600-34699
 * (UDP).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"

#define WS_PORT 62400
#define HTTP_PORT "62410"
#define SIP_PORT "34500"
#define PROJECT "guard-project"
#define TOKEN "guard-token-3a9f"
#define NODE "relayd-local"

/* ---------------------------------------------------------- http server */

enum { ON_127_0_0_1, ON_127_0_0_2, ON_V6_LOOPBACK, N_LISTENERS };
static const char *const listener_name[N_LISTENERS] = {"127.0.0.1", "127.0.0.2", "::1"};

static struct {
    int fds[N_LISTENERS];
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t lock;
    int hits[N_LISTENERS]; /* requests received on each address */
    char seen[1024];       /* "127.0.0.2 GET /redirect; ..." */
    char *wav;
    size_t wav_len;
} http = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int listen_on(int family, const char *addr)
{
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(atoi(HTTP_PORT));
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(atoi(HTTP_PORT));
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 8) != 0)
        fail_msg("http server: cannot listen on %s port %s", addr, HTTP_PORT);
    return fd;
}

static void answer(int fd, int on)
{
    char req[2048];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof req - 1 && (got = recv(fd, req + n, sizeof req - 1 - n, 0)) > 0) {
        n += (size_t)got;
        req[n] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = 0;
    char path[256] = "";
    sscanf(req, "GET %255s", path);
    pthread_mutex_lock(&http.lock);
    http.hits[on]++;
    snprintf(http.seen + strlen(http.seen), sizeof http.seen - strlen(http.seen), "%s GET %s; ",
             listener_name[on], path);
    pthread_mutex_unlock(&http.lock);
    char head[256];
    if (strcmp(path, "/tone.wav") == 0) {
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         http.wav_len);
        if (send(fd, head, (size_t)h, MSG_NOSIGNAL) == h)
            (void)!send(fd, http.wav, http.wav_len, MSG_NOSIGNAL);
    } else if (strcmp(path, "/redirect") == 0) {
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:" HTTP_PORT
                         "/tone.wav\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        (void)!send(fd, head, (size_t)h, MSG_NOSIGNAL);
    } else {
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        (void)!send(fd, head, (size_t)h, MSG_NOSIGNAL);
    }
    close(fd);
}

static void *http_main(void *arg)
{
    (void)arg;
    struct pollfd pfd[N_LISTENERS];
    for (int i = 0; i < N_LISTENERS; i++)
        pfd[i] = (struct pollfd){.fd = http.fds[i], .events = POLLIN};
    while (!http.stop) {
        if (poll(pfd, N_LISTENERS, 100) <= 0)
            continue;
        for (int i = 0; i < N_LISTENERS; i++)
            if (pfd[i].revents & POLLIN) {
                int fd = accept(http.fds[i], NULL, NULL);
                if (fd >= 0)
                    answer(fd, i);
            }
    }
    return NULL;
}

static void http_reset(void)
{
    pthread_mutex_lock(&http.lock);
    memset(http.hits, 0, sizeof http.hits);
    http.seen[0] = 0;
    pthread_mutex_unlock(&http.lock);
}

static int setup(void **state)
{
    (void)state;
    /* 0.4 s of 1 kHz: short, so a play that works finishes soon */
    const char *wav = "/tmp/relayd-fetch-guard-tone.wav";
    if (system("sox -n -r 8000 -c 1 -b 16 /tmp/relayd-fetch-guard-tone.wav synth 0.4 sine 1000 "
               "vol 0.5") != 0)
        return -1;
    FILE *f = fopen(wav, "rb");
    if (!f)
        return -1;
    http.wav = malloc(65536);
    http.wav_len = fread(http.wav, 1, 65536, f);
    fclose(f);
    unlink(wav);
    http.fds[ON_127_0_0_1] = listen_on(AF_INET, "127.0.0.1");
    http.fds[ON_127_0_0_2] = listen_on(AF_INET, "127.0.0.2");
    http.fds[ON_V6_LOOPBACK] = listen_on(AF_INET6, "::1");
    return pthread_create(&http.thread, NULL, http_main, NULL);
}

static int teardown(void **state)
{
    (void)state;
    http.stop = 1;
    pthread_join(http.thread, NULL);
    for (int i = 0; i < N_LISTENERS; i++)
        close(http.fds[i]);
    free(http.wav);
    return 0;
}

/* --------------------------------------------------------------- relayd */

static relayd_proc server;

/* allow: NULL-terminated --webhook-allow ranges. */
static void relayd_start(const char *const *allow, const char *log)
{
    const char *args[32] = {"--plain",      "--ws-listen",  "127.0.0.1:62400",
                            "--sip-listen", "127.0.0.1:" SIP_PORT,
                            "--rtp-ports",  "34600-34699",  "--auth",
                            PROJECT ":" TOKEN, "--log-level", "debug",
                            /* the raw client answers no signalwire.ping */
                            "--ping-interval-ms", "0"};
    size_t n = 0;
    while (args[n])
        n++;
    for (size_t i = 0; allow[i]; i++) {
        args[n++] = "--webhook-allow";
        args[n++] = allow[i];
    }
    args[n] = NULL;
    assert_int_equal(relayd_proc_start(&server, args, log), 0);
}

/* A case that failed midway leaves its relayd running: stop it, so the
 * next case can listen. */
static int relayd_cleanup(void **state)
{
    (void)state;
    if (server.pid > 0)
        relayd_proc_stop(&server);
    return 0;
}

/* ---------------------------------------------------------------- client */

static void expect_code(rpc_client *c, const char *method, json_t *params, const char *code)
{
    json_t *res = rpc_client_request(c, method, params);
    const char *got = rpc_code_of(res);
    if (!got || strcmp(got, code) != 0)
        fail_msg("%s answered %s (%s), expected %s", method, got ? got : "?",
                 json_string_value(json_object_get(res, "message")), code);
    json_decref(res);
}

static int wait_event(rpc_client *c, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++)
            if (rpc_event_matches(json_array_get(c->events, i), type, key, value))
                return (int)i;
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 200));
    }
}

/* Dials relayd's own listener and answers: the dialled leg's call id. */
static void call_self(rpc_client *c, char *out, size_t n)
{
    json_t *dev = json_pack("{s:s, s:{s:s, s:s, s:i}}", "type", "sip", "params", "from",
                            "sip:guard@127.0.0.1", "to", "sip:in@127.0.0.1:" SIP_PORT,
                            "timeout", 10);
    expect_code(c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", "g", "devices", dev), "200");
    int i = wait_event(c, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    const char *in = json_string_value(json_object_get(json_array_get(c->events, (size_t)i),
                                                       "call_id"));
    expect_code(c, "calling.answer", json_pack("{s:s, s:s}", "call_id", in, "node_id", NODE),
                "200");
    i = wait_event(c, "calling.call.dial", "dial_state", "answered", 10000);
    assert_true(i >= 0);
    json_t *call = json_object_get(json_array_get(c->events, (size_t)i), "call");
    snprintf(out, n, "%s", json_string_value(json_object_get(call, "call_id")));
}

/* Plays url on the call; the final state ("finished"/"error") and reason. */
static void play(rpc_client *c, const char *call_id, const char *ctl, const char *url,
                 char *state, char *reason)
{
    json_t *item = json_pack("{s:s, s:{s:s}}", "type", "audio", "params", "url", url);
    expect_code(c, "calling.play",
                json_pack("{s:s, s:s, s:s, s:[o]}", "call_id", call_id, "node_id", NODE,
                          "control_id", ctl, "play", item),
                "200");
    int64_t end = now_ms() + 15000;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            const char *st = json_string_value(json_object_get(ev, "state"));
            if (rpc_event_matches(ev, "calling.call.play", "control_id", ctl) && st &&
                (strcmp(st, "finished") == 0 || strcmp(st, "error") == 0)) {
                strcpy(state, st);
                const char *r = json_string_value(json_object_get(ev, "reason"));
                snprintf(reason, 128, "%s", r ? r : "");
                print_message("play %s: %s \"%s\"\n", url, state, reason);
                return;
            }
        }
        if (now_ms() >= end)
            fail_msg("no final calling.call.play for %s", url);
        json_decref(rpc_client_pump(c, NULL, 200));
    }
}

static void end_call(rpc_client *c, const char *call_id)
{
    expect_code(c, "calling.end",
                json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE, "reason",
                          "hangup"),
                "200");
}

#define BASE1 "http://127.0.0.1:" HTTP_PORT
static const char *const guarded[] = {
    BASE1 "/tone.wav",
    "http://127.1:" HTTP_PORT "/tone.wav",
    "http://[::1]:" HTTP_PORT "/tone.wav",
    "http://127.0.0.2:" HTTP_PORT "/redirect", /* allowed, to 127.0.0.1 */
};
#define N_GUARDED (sizeof guarded / sizeof guarded[0])

static void internal_urls_are_refused_without_the_allow(void **state)
{
    (void)state;
    const char *allow[] = {"127.0.0.2/32", NULL};
    relayd_start(allow, "relayd-fetch-guard-refused.log");
    http_reset();
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"in\"]");
    char call[128], st[32], reason[128], ctl[16];
    call_self(&c, call, sizeof call);
    for (size_t i = 0; i < N_GUARDED; i++) {
        snprintf(ctl, sizeof ctl, "r%zu", i);
        play(&c, call, ctl, guarded[i], st, reason);
        assert_string_equal(st, "error");
        assert_string_equal(reason, "audio URL refused: loopback address");
    }
    /* an allowed internal range is fetched and played */
    play(&c, call, "ok", "http://127.0.0.2:" HTTP_PORT "/tone.wav", st, reason);
    assert_string_equal(st, "finished");

    expect_code(&c, "calling.send_fax",
                json_pack("{s:s, s:s, s:s, s:s}", "call_id", call, "node_id", NODE, "control_id",
                          "fax", "document", BASE1 "/doc.tif"),
                "200");
    int i = -1;
    for (int64_t end = now_ms() + 15000; i < 0 && now_ms() < end;) {
        for (size_t k = 0; k < json_array_size(c.events) && i < 0; k++) {
            json_t *ev = json_array_get(c.events, k);
            if (rpc_event_matches(ev, "calling.call.fax", "control_id", "fax") &&
                json_object_get(ev, "state"))
                i = (int)k;
        }
        if (i < 0)
            json_decref(rpc_client_pump(&c, NULL, 200));
    }
    assert_true(i >= 0);
    json_t *fax = json_object_get(json_array_get(c.events, (size_t)i), "fax");
    json_t *p = json_object_get(fax, "params");
    print_message("send_fax %s/doc.tif: %s \"%s\"\n", BASE1,
                  json_string_value(json_object_get(fax, "type")),
                  json_string_value(json_object_get(p, "reason")));
    assert_string_equal(json_string_value(json_object_get(fax, "type")), "error");
    assert_string_equal(json_string_value(json_object_get(p, "reason")),
                        "document URL refused: loopback address");

    end_call(&c, call);
    rpc_client_close(&c);
    pthread_mutex_lock(&http.lock);
    print_message("http server saw: %s\n", http.seen);
    /* the redirect was asked of 127.0.0.2, its target never connected to */
    assert_int_equal(http.hits[ON_127_0_0_1], 0);
    assert_int_equal(http.hits[ON_V6_LOOPBACK], 0);
    assert_int_equal(http.hits[ON_127_0_0_2], 2);
    assert_string_equal(http.seen, "127.0.0.2 GET /redirect; 127.0.0.2 GET /tone.wav; ");
    pthread_mutex_unlock(&http.lock);
    assert_true(relayd_proc_log_contains(&server, "refused: it resolves to a loopback address"));
    assert_int_equal(relayd_proc_stop(&server), 0);
}

static void the_allow_lets_them_play(void **state)
{
    (void)state;
    const char *allow[] = {"127.0.0.0/8", "::1/128", NULL};
    relayd_start(allow, "relayd-fetch-guard-allowed.log");
    http_reset();
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"in\"]");
    char call[128], st[32], reason[128], ctl[16];
    call_self(&c, call, sizeof call);
    for (size_t i = 0; i < N_GUARDED; i++) {
        snprintf(ctl, sizeof ctl, "a%zu", i);
        play(&c, call, ctl, guarded[i], st, reason);
        assert_string_equal(st, "finished");
    }
    end_call(&c, call);
    rpc_client_close(&c);
    pthread_mutex_lock(&http.lock);
    print_message("http server saw: %s\n", http.seen);
    assert_int_equal(http.hits[ON_127_0_0_1], 3); /* 127.0.0.1, 127.1, the redirect's target */
    assert_int_equal(http.hits[ON_V6_LOOPBACK], 1);
    assert_int_equal(http.hits[ON_127_0_0_2], 1);
    pthread_mutex_unlock(&http.lock);
    assert_int_equal(relayd_proc_stop(&server), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(internal_urls_are_refused_without_the_allow, relayd_cleanup),
        cmocka_unit_test_teardown(the_allow_lets_them_play, relayd_cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
