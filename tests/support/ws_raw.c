#include "ws_raw.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes before the deadline. */
static int read_all(int fd, void *buf, size_t len, int64_t deadline)
{
    char *p = buf;
    while (len) {
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, left) <= 0)
            return -1;
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ws_raw_connect(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     host, port);
    if (write_all(fd, req, (size_t)n) != 0) {
        close(fd);
        return -1;
    }
    /* read the response headers byte by byte up to the blank line */
    char resp[2048];
    size_t got = 0;
    int64_t deadline = now_ms() + 5000;
    while (got < sizeof resp - 1) {
        if (read_all(fd, resp + got, 1, deadline) != 0)
            break;
        got++;
        if (got >= 4 && memcmp(resp + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    resp[got] = '\0';
    if (!strstr(resp, " 101 ")) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_frame(int fd, const char *text, size_t len, size_t send_len)
{
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = 0x81; /* FIN, text */
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    unsigned char mask[4];
    if (getrandom(mask, 4, 0) != 4)
        return -1;
    memcpy(hdr + h, mask, 4);
    h += 4;
    unsigned char *buf = malloc(h + send_len);
    if (!buf)
        return -1;
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < send_len; i++)
        buf[h + i] = (unsigned char)text[i] ^ mask[i % 4];
    int rc = write_all(fd, buf, h + send_len);
    free(buf);
    return rc;
}

int ws_raw_send(int fd, const char *text, size_t len)
{
    return send_frame(fd, text, len, len);
}

int ws_raw_send_partial(int fd, const char *text, size_t len, size_t partial)
{
    return send_frame(fd, text, len, partial < len ? partial : len);
}

char *ws_raw_recv(int fd, int timeout_ms)
{
    return ws_raw_recv_ex(fd, timeout_ms, NULL);
}

char *ws_raw_recv_ex(int fd, int timeout_ms, int *close_code)
{
    if (close_code)
        *close_code = 0;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        unsigned char h[2];
        if (read_all(fd, h, 2, deadline) != 0)
            return NULL;
        /* A frame once begun is read whole: giving up between its header
         * and its payload (a deadline passing while the test was
         * descheduled) would leave the stream mid-frame, and every later
         * frame would be misread. */
        int64_t frame_deadline = now_ms() + 5000;
        if (frame_deadline < deadline)
            frame_deadline = deadline;
        int opcode = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        if (len == 126) {
            unsigned char e[2];
            if (read_all(fd, e, 2, frame_deadline) != 0)
                return NULL;
            len = ((uint64_t)e[0] << 8) | e[1];
        } else if (len == 127) {
            unsigned char e[8];
            if (read_all(fd, e, 8, frame_deadline) != 0)
                return NULL;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | e[i];
        }
        if (len > 64u * 1024 * 1024)
            return NULL;
        char *payload = malloc((size_t)len + 1);
        if (!payload || read_all(fd, payload, (size_t)len, frame_deadline) != 0) {
            free(payload);
            return NULL;
        }
        payload[len] = '\0';
        if (opcode == 0x1) /* servers send whole messages to us unfragmented */
            return payload;
        if (opcode == 0x8) { /* close: its first two bytes are the code */
            if (close_code)
                *close_code = len >= 2 ? ((unsigned char)payload[0] << 8 | (unsigned char)payload[1])
                                       : 1005; /* "no status received" */
            free(payload);
            return NULL;
        }
        free(payload);
    }
}

char *ws_raw_recv_match(int fd, const char *needle, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return NULL;
        char *m = ws_raw_recv(fd, left);
        if (!m || strstr(m, needle))
            return m;
        free(m);
    }
}

void ws_raw_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
