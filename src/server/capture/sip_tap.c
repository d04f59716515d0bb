#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include "sip_tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pcap_writer.h"
#include "server_log.h"
#include "sofia_dump.h"

/* The largest SIP message kept: a UDP datagram's payload. */
#define MAX_SIP_MESSAGE 65507

struct sip_tap {
    int pipe_r, pipe_w; /* pipe_w: -1 once sofia holds its own copy */
    int stop_fd;        /* eventfd: tells the reader to finish */
    pthread_t thread;
    struct sockaddr_storage local;
    sofia_dump *parser;
};

/* local "ip:port" / "[v6]:port" into a socket address; a host name or a
 * wildcard leaves the address unspecified, which the capture then shows. */
static int parse_local(const char *s, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    char host[64];
    const char *colon;
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (!end || end - s - 1 >= (long)sizeof host || end[1] != ':')
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon - s >= (long)sizeof host)
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535)
        return -1;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
    } else {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
    }
    return 0;
}

/* sofia stamps the time of day (UTC) only: put it on the day it is
 * closest to now, so a message just before midnight keeps its date. */
static struct timeval stamp_time(int64_t tod_us)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_usec;
    const int64_t day = 86400LL * 1000000;
    int64_t t = now_us - now_us % day + tod_us;
    if (t - now_us > day / 2)
        t -= day;
    else if (now_us - t > day / 2)
        t += day;
    return (struct timeval){.tv_sec = (time_t)(t / 1000000), .tv_usec = (suseconds_t)(t % 1000000)};
}

static void on_record(const sofia_dump_record *rec, void *user)
{
    sip_tap *t = user;
    if (strcmp(rec->proto, "udp") != 0)
        return; /* relayd listens on UDP only (sip_listen) */
    struct sockaddr_storage peer;
    memset(&peer, 0, sizeof peer);
    if (rec->family == AF_INET) {
        struct sockaddr_in *p4 = (struct sockaddr_in *)&peer;
        p4->sin_family = AF_INET;
        p4->sin_port = htons(rec->port);
        memcpy(&p4->sin_addr, rec->addr, 4);
    } else {
        struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&peer;
        p6->sin6_family = AF_INET6;
        p6->sin6_port = htons(rec->port);
        memcpy(&p6->sin6_addr, rec->addr, 16);
    }
    struct timeval tv = stamp_time(rec->time_of_day_us);
    const struct sockaddr *local = (const struct sockaddr *)&t->local;
    const struct sockaddr *remote = (const struct sockaddr *)&peer;
    if (rec->sent)
        pcap_writer_udp_partial(local, remote, &tv, rec->data, rec->len, rec->wire_len);
    else
        pcap_writer_udp_partial(remote, local, &tv, rec->data, rec->len, rec->wire_len);
}

static void *reader_main(void *arg)
{
    sip_tap *t = arg;
    static const size_t chunk = 16384;
    uint8_t *buf = malloc(chunk);
    int stopping = 0;
    while (buf) {
        struct pollfd pf[2] = {{.fd = t->pipe_r, .events = POLLIN}, {.fd = t->stop_fd, .events = POLLIN}};
        /* once told to stop, only read what is already in the pipe */
        if (poll(pf, stopping ? 1 : 2, stopping ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!stopping && pf[1].revents)
            stopping = 1;
        if (pf[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(t->pipe_r, buf, chunk);
            if (n > 0) {
                sofia_dump_feed(t->parser, buf, (size_t)n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN && !stopping)
                continue;
            break; /* EOF: sofia closed the dump */
        }
        if (stopping)
            break;
    }
    free(buf);
    return NULL;
}

sip_tap *sip_tap_start(const char *local, char *dump_path, size_t dump_path_len, char *why,
                       size_t whylen)
{
    sip_tap *t = calloc(1, sizeof *t);
    int fds[2] = {-1, -1};
    if (!t)
        goto fail;
    t->stop_fd = -1;
    if (parse_local(local, &t->local) != 0) {
        snprintf(why, whylen, "pcap_file: sip_listen %s is not ip:port", local);
        goto fail;
    }
    t->parser = sofia_dump_new(MAX_SIP_MESSAGE, on_record, t);
    if (!t->parser || pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0 ||
        (t->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
        snprintf(why, whylen, "pcap_file: cannot create the SIP tap: %s", strerror(errno));
        goto fail;
    }
    /* sofia writes blocking (stdio); only the reader's end is non-blocking */
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) & ~O_NONBLOCK);
    /* room for a burst while the reader is not scheduled (best effort: an
     * unprivileged process may be held to a smaller size) */
    fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    t->pipe_r = fds[0];
    t->pipe_w = fds[1];
    /* sofia fopen()s a path: this one reopens our pipe's write end */
    snprintf(dump_path, dump_path_len, "/proc/self/fd/%d", t->pipe_w);
    if (pthread_create(&t->thread, NULL, reader_main, t) != 0) {
        snprintf(why, whylen, "pcap_file: cannot start the SIP tap thread");
        goto fail;
    }
    return t;
fail:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (t) {
        if (t->stop_fd >= 0)
            close(t->stop_fd);
        sofia_dump_free(t->parser);
        free(t);
    }
    return NULL;
}

void sip_tap_opened(sip_tap *t)
{
    if (t && t->pipe_w >= 0) {
        close(t->pipe_w);
        t->pipe_w = -1;
    }
}

void sip_tap_stop(sip_tap *t)
{
    if (!t)
        return;
    uint64_t one = 1;
    if (write(t->stop_fd, &one, sizeof one) < 0)
        server_log(RELAY_LOG_WARN, "pcap_file: cannot stop the SIP tap: %s", strerror(errno));
    pthread_join(t->thread, NULL);
    if (sofia_dump_rejected(t->parser))
        server_log(RELAY_LOG_WARN, "pcap_file: %llu SIP dump record(s) unreadable, not captured",
                   (unsigned long long)sofia_dump_rejected(t->parser));
    sip_tap_opened(t);
    close(t->pipe_r);
    close(t->stop_fd);
    sofia_dump_free(t->parser);
    free(t);
}
