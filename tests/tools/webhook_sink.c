/*
 * webhook_sink: the status_url receiver for tests and the demo.
 *
 *   webhook_sink PORT OUTFILE [FAIL_STATUS FAIL_COUNT]
 *
 * Listens on 127.0.0.1:PORT (0: any free port) and prints the port it got on
 * stdout, one line, once it is listening. Each POST's body is appended to
 * OUTFILE as one line (CR/LF in the body become spaces) and answered 200 —
 * except the first FAIL_COUNT requests, which are answered FAIL_STATUS and
 * not recorded, so tests can exercise retries. Exits 0 on SIGTERM/SIGINT.
 *
 * One connection at a time, HTTP/1.1 with keep-alive; enough for a test
 * receiver, not a web server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

/* Reads more into buf; -1 on close/error/quit. Waits in short polls so a
 * signal is noticed promptly. */
static int read_more(int fd, char *buf, size_t *len, size_t cap)
{
    while (!quit) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n <= 0)
            return -1;
        *len += (size_t)n;
        return 0;
    }
    return -1;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static const char *phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Serves requests on one connection until it closes. */
static void serve(int fd, int out_fd, int fail_status, int *fail_left)
{
    char *buf = malloc(MAX_REQUEST + 1);
    size_t len = 0;
    if (!buf)
        return;
    while (!quit) {
        char *end;
        while (!(buf[len] = '\0', end = strstr(buf, "\r\n\r\n")))
            if (len >= MAX_REQUEST || read_more(fd, buf, &len, MAX_REQUEST) < 0)
                goto out;
        size_t head = (size_t)(end - buf) + 4;
        size_t body_len = 0;
        int close_after = 0;
        for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
            if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
                body_len = strtoul(line + 17, NULL, 10);
            else if (strncasecmp(line + 2, "Connection: close", 17) == 0)
                close_after = 1;
        }
        if (body_len > MAX_REQUEST - head)
            goto out;
        while (len < head + body_len)
            if (read_more(fd, buf, &len, MAX_REQUEST) < 0)
                goto out;
        int is_post = strncmp(buf, "POST ", 5) == 0;
        int status = 200;
        if (!is_post) {
            status = 404;
        } else if (*fail_left > 0) {
            (*fail_left)--;
            status = fail_status;
        } else {
            char *body = buf + head;
            for (size_t i = 0; i < body_len; i++)
                if (body[i] == '\r' || body[i] == '\n')
                    body[i] = ' ';
            char saved = body[body_len];
            body[body_len] = '\n';
            write_all(out_fd, body, body_len + 1); /* one write: whole lines */
            body[body_len] = saved;
        }
        char resp[256];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s\r\n", status, phrase(status),
                         close_after ? "Connection: close\r\n" : "");
        fprintf(stderr, "webhook_sink: %.*s -> %d\n", (int)strcspn(buf, "\r"), buf, status);
        if (write_all(fd, resp, (size_t)n) < 0 || close_after)
            goto out;
        memmove(buf, buf + head + body_len, len - head - body_len);
        len -= head + body_len;
    }
out:
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s PORT OUTFILE [FAIL_STATUS FAIL_COUNT]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int fail_status = argc == 5 ? atoi(argv[3]) : 200;
    int fail_left = argc == 5 ? atoi(argv[4]) : 0;
    int out_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        perror(argv[2]);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wake poll */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&sin, &sl) < 0) {
        perror("webhook_sink: listen");
        return 1;
    }
    printf("%d\n", ntohs(sin.sin_port));
    fflush(stdout);

    while (!quit) {
        struct pollfd p = {.fd = ls, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve(fd, out_fd, fail_status, &fail_left);
        close(fd);
    }
    close(ls);
    close(out_fd);
    return 0;
}
