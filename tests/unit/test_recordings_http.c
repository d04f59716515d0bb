/* recordings_http on its own, over a real socket (TCP 64203, helper dsp's
 * block): an MP3 is served as audio/mpeg with its length; a file deleted
 * since it was recorded answers 404; past RECORDINGS_HTTP_MAX_NAMES the
 * oldest name is forgotten (the list is bounded); the URL brackets IPv6.
 * The recorded-call path is in integration.test_relayd_recordings_http. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "recordings_http.h"

#define PORT 64203

static char response[65536];

/* GET target; the status, Content-Type and Content-Length, and the body's
 * length. */
static int get(const char *target, char *type, size_t type_size, long *length, size_t *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     target);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
            break;
        ssize_t r = recv(fd, response + got, sizeof response - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    response[got] = 0;
    int status = 0;
    sscanf(response, "HTTP/1.%*d %d", &status);
    *type = 0;
    *length = -1;
    *body = 0;
    char *end = strstr(response, "\r\n\r\n");
    if (end) {
        *body = got - (size_t)(end + 4 - response);
        for (char *l = strstr(response, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
            if (strncasecmp(l + 2, "content-type:", 13) == 0)
                snprintf(type, type_size, "%.*s", (int)strcspn(l + 2 + 14, "\r\n;"), l + 2 + 14);
            if (strncasecmp(l + 2, "content-length:", 15) == 0)
                *length = atol(l + 2 + 15);
        }
    }
    return status;
}

static void serves_only_what_it_was_told_of(void **state)
{
    (void)state;
    char dir[] = "/tmp/relay-rec-http-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char mp3[128], gone[128];
    snprintf(mp3, sizeof mp3, "%s/call-1-1.mp3", dir);
    snprintf(gone, sizeof gone, "%s/call-2-2.wav", dir);
    FILE *f = fopen(mp3, "w");
    assert_non_null(f);
    for (int i = 0; i < 5000; i++)
        fputc(i & 0xFF, f);
    fclose(f);
    f = fopen(gone, "w");
    assert_non_null(f);
    fputs("RIFF", f);
    fclose(f);

    recordings_http *h = recordings_http_start("127.0.0.1", PORT);
    assert_non_null(h);
    char url[256];
    assert_int_equal(recordings_http_url(h, mp3, url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:64203/recordings/call-1-1.mp3");
    recordings_http_add(h, mp3);
    recordings_http_add(h, gone);

    char type[64];
    long length;
    size_t body;
    int st = get("/recordings/call-1-1.mp3", type, sizeof type, &length, &body);
    printf("mp3: %d %s, Content-Length %ld, %zu bytes\n", st, type, length, body);
    assert_int_equal(st, 200);
    assert_string_equal(type, "audio/mpeg");
    assert_int_equal(length, 5000);
    assert_int_equal(body, 5000);

    /* recorded, then deleted (an operator cleaning up): a miss */
    unlink(gone);
    assert_int_equal(get("/recordings/call-2-2.wav", type, sizeof type, &length, &body), 404);

    /* bounded: after MAX_NAMES newer recordings the first is forgotten */
    char name[128];
    for (int i = 0; i < RECORDINGS_HTTP_MAX_NAMES; i++) {
        snprintf(name, sizeof name, "%s/other-%d.wav", dir, i);
        recordings_http_add(h, name);
    }
    assert_int_equal(get("/recordings/call-1-1.mp3", type, sizeof type, &length, &body), 404);

    /* names the endpoint could never serve get no http url */
    assert_int_equal(recordings_http_url(h, "/x/.hidden.wav", url, sizeof url), -1);
    assert_int_equal(recordings_http_url(h, "/x/a b.wav", url, sizeof url), -1);
    recordings_http_stop(h);

    h = recordings_http_start("::1", PORT);
    if (h) { /* where the host has IPv6 loopback */
        assert_int_equal(recordings_http_url(h, mp3, url, sizeof url), 0);
        assert_string_equal(url, "http://[::1]:64203/recordings/call-1-1.mp3");
        recordings_http_stop(h);
    }
    unlink(mp3);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_only_what_it_was_told_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
