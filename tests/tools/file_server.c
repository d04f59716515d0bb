/*
 * file_server: serves the files of one directory over HTTP, for tests that
 * play audio by URL.
 *
 *   file_server PORT DIR
 *
 * Listens on 127.0.0.1:PORT. GET /NAME answers DIR/NAME (a plain name: no
 * '/', no leading '.') with 200, anything else 404. GET /redirect/NAME
 * answers 302 to /NAME; GET /slow/NAME answers /NAME after 3 s (a server
 * still working when the call ends). One connection at a time,
 * Connection: close. Prints
 * the port once listening; exits 0 on SIGTERM/SIGINT.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
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

/* Reads the request head (up to 8 KiB) or gives up after 2 s. */
static int read_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (int waited = 0; waited < 2000 && !quit;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r <= 0) {
            waited += 100;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return 0;
        if (len >= cap - 1)
            return -1;
    }
    return -1;
}

static void answer(int fd, int status, const char *extra, size_t body_len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : status == 302 ? "Found" : "Not Found",
                     body_len, extra);
    write_all(fd, head, (size_t)n);
}

static void serve(int fd, const char *dir)
{
    char req[8192], path[300];
    if (read_head(fd, req, sizeof req) < 0)
        return;
    char name[256] = "";
    int redirect = 0, slow = 0;
    if (sscanf(req, "GET /%255s HTTP/1.", name) != 1)
        name[0] = '\0';
    if (strncmp(name, "redirect/", 9) == 0) {
        redirect = 1;
        memmove(name, name + 9, strlen(name + 9) + 1);
    } else if (strncmp(name, "slow/", 5) == 0) {
        slow = 1;
        memmove(name, name + 5, strlen(name + 5) + 1);
    }
    fprintf(stderr, "file_server: %.*s\n", (int)strcspn(req, "\r"), req);
    if (!name[0] || name[0] == '.' || strchr(name, '/')) {
        answer(fd, 404, "", 0);
        return;
    }
    if (redirect) {
        char loc[300];
        snprintf(loc, sizeof loc, "Location: /%s\r\n", name);
        answer(fd, 302, loc, 0);
        return;
    }
    for (int i = 0; slow && i < 30 && !quit; i++)
        usleep(100 * 1000);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f < 0 || fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (f >= 0)
            close(f);
        answer(fd, 404, "", 0);
        return;
    }
    answer(fd, 200, "Content-Type: application/octet-stream\r\n", (size_t)st.st_size);
    char buf[65536];
    ssize_t n;
    while ((n = read(f, buf, sizeof buf)) > 0 && !quit)
        if (write_all(fd, buf, (size_t)n) < 0)
            break; /* the client gave up (too large): fine */
    close(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT DIR\n", argv[0]);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wake poll */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&sin, &sl) < 0) {
        perror("file_server: listen");
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
        serve(fd, argv[2]);
        close(fd);
    }
    close(ls);
    return 0;
}
