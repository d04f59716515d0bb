#include "rtp_ear.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "g711_oracle.h"

void rtp_ear_open(rtp_ear *e, int port)
{
    *e = (rtp_ear){.fd = socket(AF_INET, SOCK_DGRAM, 0), .ssrc = 0x7e570000u | (uint32_t)port};
    assert_true(e->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof a), 0);
}

void rtp_ear_close(rtp_ear *e)
{
    if (e->fd >= 0)
        close(e->fd);
    free(e->pcm);
    *e = (rtp_ear){.fd = -1};
}

void rtp_ear_reset(rtp_ear *e)
{
    e->n = 0;
    e->packets = 0;
}

void rtp_ear_drain(rtp_ear *e)
{
    unsigned char buf[2048];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t len;
    while ((len = recvfrom(e->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >
           0) {
        fl = sizeof from;
        if (len < 12 || (buf[0] & 0xc0) != 0x80)
            continue;
        int pt = buf[1] & 0x7f;
        if (pt != 0 && pt != 8)
            continue;
        e->relayd = from;
        e->has_relayd = 1;
        e->packets++;
        for (ssize_t i = 12; i < len; i++) {
            if (e->n == e->cap) {
                e->cap = e->cap ? 2 * e->cap : 8000;
                e->pcm = realloc(e->pcm, e->cap * sizeof *e->pcm);
                assert_non_null(e->pcm);
            }
            e->pcm[e->n++] = pt == 8 ? alaw_to_linear(buf[i]) : ulaw_to_linear(buf[i]);
        }
    }
}

void rtp_ear_speak(rtp_ear *e, int pt, double freq, double amplitude)
{
    unsigned seq = e->seq++;
    if (!freq || !e->has_relayd)
        return;
    unsigned char pkt[12 + 160] = {0x80, (unsigned char)pt};
    pkt[2] = (unsigned char)(seq >> 8);
    pkt[3] = (unsigned char)seq;
    unsigned ts = seq * 160;
    for (int i = 0; i < 4; i++) {
        pkt[4 + i] = (unsigned char)(ts >> (24 - 8 * i));
        pkt[8 + i] = (unsigned char)(e->ssrc >> (24 - 8 * i));
    }
    for (int i = 0; i < 160; i++) {
        int v = (int)(amplitude * sin(2 * M_PI * freq * (double)(ts + (unsigned)i) / 8000.0));
        pkt[12 + i] = pt == 8 ? linear_to_alaw(v) : linear_to_ulaw(v);
    }
    sendto(e->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&e->relayd, sizeof e->relayd);
}

double rtp_ear_level(const rtp_ear *e, double f)
{
    double w = 2 * cos(2 * M_PI * f / 8000.0), s1 = 0, s2 = 0;
    for (size_t i = 0; i < e->n; i++) {
        double s = e->pcm[i] + w * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return e->n ? (s1 * s1 + s2 * s2 - w * s1 * s2) / (double)e->n : 0;
}

double rtp_ear_rms(const rtp_ear *e)
{
    double sum = 0;
    for (size_t i = 0; i < e->n; i++)
        sum += e->pcm[i] * e->pcm[i];
    return e->n ? sqrt(sum / (double)e->n) : 0;
}

int rtp_ear_hears(const rtp_ear *e, double f, const double *others, int n_others)
{
    if (e->n < 4000)
        return 0;
    double p = rtp_ear_level(e, f);
    for (int i = 0; i < n_others; i++)
        if (p < 10 * rtp_ear_level(e, others[i]))
            return 0;
    return p > 1e5;
}
