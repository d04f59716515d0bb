/*
 * tcp_cut: a TCP relay a test puts between a client and relayd so that it
 * can drop the client's connection for real, the way a failing network
 * does, without the client's cooperation.
 *
 *   tcp_cut LISTEN_PORT TARGET_PORT
 *
 * Listens on 127.0.0.1:LISTEN_PORT and copies bytes both ways between each
 * accepted client and 127.0.0.1:TARGET_PORT. On SIGUSR1 it resets every
 * open pair at once (SO_LINGER 0: both peers see a reset, not a polite
 * close) and goes on accepting, so the client can reconnect through it.
 * On SIGUSR2 it freezes every open pair instead: nothing more is copied
 * and nothing is closed, the way a path that silently drops packets looks
 * to both ends (a half-open connection); new pairs work normally.
 * Stops on SIGTERM. Single-threaded; at most MAX_PAIRS pairs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_PAIRS 16

static volatile sig_atomic_t cut_requested, freeze_requested, stop_requested;

static void on_usr2(int sig)
{
    (void)sig;
    freeze_requested = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    cut_requested = 1;
}

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct pair {
    int client, server; /* -1 when free */
    int frozen;         /* kept open, never read again */
} pair;

static void reset_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void pair_close(pair *p, int reset)
{
    if (p->client < 0)
        return;
    if (reset) {
        reset_close(p->client);
        reset_close(p->server);
    } else {
        close(p->client);
        close(p->server);
    }
    p->client = p->server = -1;
}

static int connect_target(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Copies what is readable on from to to. 0, or -1 when the pair is done. */
static int pump(int from, int to)
{
    char buf[16384];
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0)
        return -1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT\n", argv[0]);
        return 2;
    }
    int listen_port = atoi(argv[1]), target_port = atoi(argv[2]);
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0) {
        perror("tcp_cut: listen");
        return 1;
    }
    fprintf(stderr, "tcp_cut: 127.0.0.1:%d -> 127.0.0.1:%d\n", listen_port, target_port);

    pair pairs[MAX_PAIRS];
    for (int i = 0; i < MAX_PAIRS; i++)
        pairs[i] = (pair){.client = -1, .server = -1};

    while (!stop_requested) {
        if (cut_requested) {
            cut_requested = 0;
            int n = 0;
            for (int i = 0; i < MAX_PAIRS; i++)
                if (pairs[i].client >= 0) {
                    pair_close(&pairs[i], 1);
                    n++;
                }
            fprintf(stderr, "tcp_cut: cut %d connection(s)\n", n);
        }
        if (freeze_requested) {
            freeze_requested = 0;
            int n = 0;
            for (int i = 0; i < MAX_PAIRS; i++)
                if (pairs[i].client >= 0 && !pairs[i].frozen) {
                    pairs[i].frozen = 1;
                    n++;
                }
            fprintf(stderr, "tcp_cut: froze %d connection(s)\n", n);
        }
        struct pollfd pfd[1 + 2 * MAX_PAIRS];
        int idx[1 + 2 * MAX_PAIRS];
        int n = 0;
        pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        idx[n++] = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (pairs[i].client < 0 || pairs[i].frozen)
                continue;
            pfd[n] = (struct pollfd){.fd = pairs[i].client, .events = POLLIN};
            idx[n++] = i;
            pfd[n] = (struct pollfd){.fd = pairs[i].server, .events = POLLIN};
            idx[n++] = i;
        }
        if (poll(pfd, (nfds_t)n, 200) < 0) {
            if (errno == EINTR)
                continue;
            perror("tcp_cut: poll");
            break;
        }
        for (int k = 1; k < n; k++) {
            pair *p = &pairs[idx[k]];
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) || p->client < 0)
                continue;
            int from = pfd[k].fd, to = from == p->client ? p->server : p->client;
            if (pump(from, to) != 0)
                pair_close(p, 0);
        }
        if (pfd[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            if (c < 0)
                continue;
            int slot = -1;
            for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
                if (pairs[i].client < 0)
                    slot = i;
            int s = slot >= 0 ? connect_target(target_port) : -1;
            if (s < 0) {
                close(c); /* full, or relayd not there: the client sees a close */
                continue;
            }
            pairs[slot].client = c;
            pairs[slot].server = s;
            pairs[slot].frozen = 0;
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        pair_close(&pairs[i], 0);
    close(lfd);
    return 0;
}
