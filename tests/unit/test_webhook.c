/* status_url webhooks against a real HTTP receiver (tests/tools/webhook_sink)
 * started by the test on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "webhook.h"

/* ------------------------------------------------------------ the sink */

typedef struct sink {
    pid_t pid;
    int port;
    char file[256];
} sink;

static void sink_start(sink *s, const char *fail_status, const char *fail_count)
{
    const char *build = getenv("RELAY_BUILD_DIR");
    assert_non_null(build);
    char prog[512];
    snprintf(prog, sizeof prog, "%s/tests/tools/webhook_sink", build);
    snprintf(s->file, sizeof s->file, "/tmp/relay-webhook-%d-XXXXXX", (int)getpid());
    int tmp = mkstemp(s->file);
    assert_true(tmp >= 0);
    close(tmp);
    int out[2];
    assert_int_equal(pipe(out), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        if (fail_status)
            execl(prog, prog, "0", s->file, fail_status, fail_count, (char *)NULL);
        else
            execl(prog, prog, "0", s->file, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[32] = "";
    ssize_t n = read(out[0], line, sizeof line - 1); /* "PORT\n" once listening */
    close(out[0]);
    assert_true(n > 0);
    line[n] = '\0';
    s->port = atoi(line);
    assert_true(s->port > 0);
}

/* Stops the sink by PID and returns what it recorded (malloc'd). */
static char *sink_stop(sink *s)
{
    kill(s->pid, SIGTERM);
    int status = 0;
    waitpid(s->pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *f = fopen(s->file, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(s->file);
    return strdup(buf);
}

static void sink_url(const sink *s, char *buf, size_t size, const char *extra)
{
    snprintf(buf, size, "http://127.0.0.1:%d/status%s", s->port, extra ? extra : "");
}

/* ------------------------------------------------------- captured log */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void capture(relay_log_level level, const char *line, void *user)
{
    (void)level;
    (void)user;
    pthread_mutex_lock(&log_lock);
    strncat(log_text, line, sizeof log_text - strlen(log_text) - 2);
    strcat(log_text, "\n");
    pthread_mutex_unlock(&log_lock);
}

static const log_sink test_log = {.fn = capture, .level = RELAY_LOG_DEBUG};

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The sink listens on loopback, which status_url may reach only when the
 * operator allows it (webhook_allow); the tests that deliver allow it. */
static addr_allow loopback;

/* -------------------------------------------------------------- tests */

static void delivers_in_order(void **state)
{
    (void)state;
    sink s;
    sink_start(&s, NULL, NULL);
    webhook *w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log});
    assert_non_null(w);
    char url[128];
    sink_url(&s, url, sizeof url, "?token=abc");
    for (int i = 0; i < 20; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"n\":%d,\"state\":\"inProgress\"}", i);
        assert_int_equal(webhook_post(w, url, body), 0);
    }
    webhook_stop(w, 5000);
    char *got = sink_stop(&s);
    char want[4096] = "";
    for (int i = 0; i < 20; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"n\":%d,\"state\":\"inProgress\"}\n", i);
        strcat(want, line);
    }
    assert_string_equal(got, want);
    free(got);
}

static void retries_after_503(void **state)
{
    (void)state;
    sink s;
    sink_start(&s, "503", "2");
    log_text[0] = '\0';
    webhook *w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log, .backoff_ms = 50, .max_attempts = 4});
    char url[128];
    sink_url(&s, url, sizeof url, NULL);
    assert_int_equal(webhook_post(w, url, "{\"state\":\"success\"}"), 0);
    assert_int_equal(webhook_post(w, url, "{\"state\":\"after\"}"), 0);
    webhook_stop(w, 5000);
    char *got = sink_stop(&s);
    assert_string_equal(got, "{\"state\":\"success\"}\n{\"state\":\"after\"}\n");
    free(got);
    assert_int_equal(count(log_text, "HTTP 503; retry"), 2);
    assert_int_equal(count(log_text, "giving up"), 0);
}

static void gives_up_and_does_not_retry_client_errors(void **state)
{
    (void)state;
    sink s;
    sink_start(&s, "500", "100");
    log_text[0] = '\0';
    webhook *w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log, .backoff_ms = 20, .max_attempts = 3});
    char url[128];
    sink_url(&s, url, sizeof url, NULL);
    assert_int_equal(webhook_post(w, url, "{}"), 0);
    webhook_stop(w, 5000);
    free(sink_stop(&s));
    assert_int_equal(count(log_text, "HTTP 500; retry"), 2);
    assert_int_equal(count(log_text, "HTTP 500; giving up after 3 attempts"), 1);

    sink_start(&s, "404", "1");
    log_text[0] = '\0';
    w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log, .backoff_ms = 20, .max_attempts = 3});
    sink_url(&s, url, sizeof url, NULL);
    assert_int_equal(webhook_post(w, url, "{\"a\":1}"), 0);
    assert_int_equal(webhook_post(w, url, "{\"b\":2}"), 0);
    webhook_stop(w, 5000);
    char *got = sink_stop(&s);
    assert_string_equal(got, "{\"b\":2}\n");
    free(got);
    assert_int_equal(count(log_text, "HTTP 404; giving up after 1 attempt"), 1);
}

static void connection_refused_is_retried_then_dropped(void **state)
{
    (void)state;
    sink s;
    sink_start(&s, NULL, NULL);
    free(sink_stop(&s)); /* now nothing listens on that port */
    log_text[0] = '\0';
    webhook *w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log, .backoff_ms = 20,
                                                 .max_attempts = 2, .timeout_ms = 1000});
    char url[160];
    snprintf(url, sizeof url, "http://alice:s3cret@127.0.0.1:%d/hook?sig=xyz", s.port);
    assert_int_equal(webhook_post(w, url, "{}"), 0);
    webhook_stop(w, 5000);
    assert_int_equal(count(log_text, "giving up after 2 attempts"), 1);
    /* the log never shows the userinfo or the query */
    assert_null(strstr(log_text, "s3cret"));
    assert_null(strstr(log_text, "sig=xyz"));
    assert_non_null(strstr(log_text, "http://127.0.0.1:"));
}

static void stop_does_not_wait_for_a_dead_receiver(void **state)
{
    (void)state;
    /* a receiver that keeps failing, and a long backoff */
    webhook *w = webhook_start(&(webhook_config){.allow = &loopback, .log = &test_log, .backoff_ms = 10000});
    sink s;
    sink_start(&s, "503", "100");
    char url[128];
    sink_url(&s, url, sizeof url, NULL);
    assert_int_equal(webhook_post(w, url, "{}"), 0);
    usleep(200000); /* first attempt fails, worker sleeps 10 s */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    webhook_stop(w, 100);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    free(sink_stop(&s));
    printf("# webhook_stop with a post in backoff took %.0f ms\n", ms);
    assert_true(ms < 1000);
}

static void url_scrubbing_and_validation(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } cases[] = {
        {"https://user:pw@example.com:8443/a/b?token=x#frag", "https://example.com:8443/a/b"},
        {"http://example.com/status", "http://example.com/status"},
        {"http://u@h/p@q?x=@", "http://h/p@q"},
        {"http://h?q", "http://h"},
        {"no-scheme?secret", "no-scheme"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = webhook_url_for_log(cases[i].in);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
    const char *why = NULL;
    assert_int_equal(webhook_url_validate("https://example.com/hook?x=1", &why), 0);
    assert_int_equal(webhook_url_validate("http://127.0.0.1:8080/", &why), 0);
    const char *bad[] = {"", "ftp://example.com/", "file:///etc/passwd", "http://exa mple.com/",
                         "http://example.com/\r\nX-Injected: 1", "http:///nohost", "javascript:alert(1)",
                         "http://example.com/\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        if (webhook_url_validate(bad[i], &why) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(webhook_url_validate(NULL, NULL), -1);
    char longurl[3000] = "http://example.com/";
    memset(longurl + strlen(longurl), 'a', 2500);
    longurl[2600] = '\0';
    assert_int_equal(webhook_url_validate(longurl, &why), -1);
    webhook *w = webhook_start(NULL);
    assert_int_equal(webhook_post(w, "ftp://x/", "{}"), -1);
    webhook_stop(w, 0);
}

static int internal(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        fail_msg("bad test address %s", ip);
    return addr_internal_reason((struct sockaddr *)&ss) != NULL;
}

static void address_classifier(void **state)
{
    (void)state;
    const char *inside[] = {"127.0.0.1", "127.255.0.9", "0.0.0.0", "0.1.2.3", "10.1.2.3",
                            "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
                            "169.254.169.254", "169.254.0.1", "224.0.0.1", "255.255.255.255",
                            "240.0.0.1", "::1", "::", "fe80::1", "febf::1", "fc00::1", "fd12::1",
                            "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
                            "::ffff:10.0.0.1", "64:ff9b::7f00:1", "::127.0.0.1", "fec0::1"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++)
        if (!internal(inside[i]))
            fail_msg("%s should be internal", inside[i]);
    const char *outside[] = {"8.8.8.8", "93.184.216.34", "172.32.0.1", "11.0.0.1",
                             "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                             "2606:4700::1111"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        if (internal(outside[i]))
            fail_msg("%s should be public", outside[i]);

    addr_allow allow = {0};
    assert_int_equal(addr_range_parse("127.0.0.0/8", &allow.ranges[allow.n++]), 0);
    assert_int_equal(addr_range_parse("fd00::/8", &allow.ranges[allow.n++]), 0);
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.9.9.9", &a4.sin_addr);
    assert_true(addr_allowed(&allow, (struct sockaddr *)&a4));
    inet_pton(AF_INET, "10.0.0.1", &a4.sin_addr);
    assert_false(addr_allowed(&allow, (struct sockaddr *)&a4));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "fd12::1", &a6.sin6_addr);
    assert_true(addr_allowed(&allow, (struct sockaddr *)&a6));
    inet_pton(AF_INET6, "::1", &a6.sin6_addr);
    assert_false(addr_allowed(&allow, (struct sockaddr *)&a6));
    assert_false(addr_allowed(NULL, (struct sockaddr *)&a6));
    addr_range r;
    assert_int_equal(addr_range_parse("127.0.0.1/33", &r), -1);
    assert_int_equal(addr_range_parse("::1/129", &r), -1);
    assert_int_equal(addr_range_parse("localhost", &r), -1);
    assert_int_equal(addr_range_parse("10.0.0.0/", &r), -1);
}

/* Every spelling of loopback reaches the same connect-time check: nothing
 * is posted, nothing retried, and the log says why. */
static void internal_targets_are_refused_in_any_notation(void **state)
{
    (void)state;
    sink s;
    sink_start(&s, NULL, NULL);
    log_text[0] = '\0';
    webhook *w = webhook_start(&(webhook_config){.log = &test_log, .backoff_ms = 20});
    assert_non_null(w);
    const char *hosts[] = {"127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1",
                           "localhost", "[::ffff:127.0.0.1]", "[::1]", "0.0.0.0"};
    size_t n = sizeof hosts / sizeof hosts[0];
    for (size_t i = 0; i < n; i++) {
        char url[128];
        snprintf(url, sizeof url, "http://%s:%d/status", hosts[i], s.port);
        assert_int_equal(webhook_post(w, url, "{\"x\":1}"), 0);
    }
    webhook_stop(w, 10000);
    char *got = sink_stop(&s);
    assert_string_equal(got, ""); /* the sink heard nothing */
    free(got);
    pthread_mutex_lock(&log_lock);
    int refused = count(log_text, "refused: it resolves to a");
    int retried = count(log_text, "retry");
    pthread_mutex_unlock(&log_lock);
    if (refused != (int)n || retried != 0)
        fail_msg("refused %d of %zu, retried %d; log:\n%s", refused, n, retried, log_text);
}

int main(void)
{
    if (addr_range_parse("127.0.0.1/32", &loopback.ranges[0]) != 0)
        return 1;
    loopback.n = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_in_order),
        cmocka_unit_test(retries_after_503),
        cmocka_unit_test(gives_up_and_does_not_retry_client_errors),
        cmocka_unit_test(connection_refused_is_retried_then_dropped),
        cmocka_unit_test(stop_does_not_wait_for_a_dead_receiver),
        cmocka_unit_test(url_scrubbing_and_validation),
        cmocka_unit_test(address_classifier),
        cmocka_unit_test(internal_targets_are_refused_in_any_notation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
