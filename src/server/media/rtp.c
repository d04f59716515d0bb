/*
 * RTP endpoint (RFC 3550) for one leg: one UDP socket, G.711 payloads.
 *
 * Timestamps follow the media clock: +160 per 20 ms frame while a stream
 * plays, and across a gap (between two plays, or a pause) the first packet
 * of the new talkspurt carries the marker bit and a timestamp advanced by
 * the wall-clock time that passed, as RFC 3551 asks, so that receivers'
 * jitter buffers see a consistent clock.
 *
 * RFC 4733 telephone-events share that clock and sequence: every packet of
 * an event carries the event's start timestamp, while the clock goes on
 * moving 160 per packet underneath for whatever follows.
 */
#include "media/rtp.h"
#include "capture/pcap_writer.h"
#include "media/source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct media_rtp {
    int fd;
    int local_port;
    struct sockaddr_storage local; /* for pcap_rtp's records */
    pthread_mutex_t lock; /* guards everything below */
    struct sockaddr_storage remote; /* of the socket's family (set_remote checks) */
    int has_remote;
    int pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    int sent_any;
    struct timespec last_sent; /* CLOCK_MONOTONIC of the last packet */
    uint32_t event_ts; /* the telephone-event being sent: its start */
};

static uint32_t random_u32(void)
{
    uint32_t v;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        v = (uint32_t)t.tv_nsec ^ (uint32_t)getpid() << 16;
    }
    return v;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void set_port(struct sockaddr_storage *a, int port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
}

media_rtp *media_rtp_open(const char *ip, int port_min, int port_max)
{
    /* An IPv6 address (media_ip6) makes an IPv6 socket: one family per
     * call, as its SDP says (c=IN IP6). */
    struct sockaddr_storage sa = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
    if (ip && inet_pton(AF_INET, ip, &v4->sin_addr) == 1)
        sa.ss_family = AF_INET;
    else if (ip && inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1)
        sa.ss_family = AF_INET6;
    if (!sa.ss_family || port_min < 1 || port_max > 65536 || port_min >= port_max)
        return NULL;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    /* Start at a random even port so that concurrent legs (and a restarted
     * relayd, whose old ports may still receive stray packets) spread out. */
    int first = port_min + (port_min & 1);
    int count = (port_max - first + 1) / 2;
    if (count <= 0) {
        close(fd);
        return NULL;
    }
    int start = (int)(random_u32() % (uint32_t)count);
    int port = -1;
    for (int i = 0; i < count; i++) {
        int p = first + 2 * ((start + i) % count);
        set_port(&sa, p);
        if (bind(fd, (struct sockaddr *)&sa, addr_len(&sa)) == 0) {
            port = p;
            break;
        }
        if (errno != EADDRINUSE && errno != EACCES)
            break;
    }
    if (port < 0) {
        close(fd);
        return NULL;
    }
    media_rtp *rtp = calloc(1, sizeof *rtp);
    if (!rtp) {
        close(fd);
        return NULL;
    }
    rtp->fd = fd;
    rtp->local_port = port;
    rtp->local = sa;
    pthread_mutex_init(&rtp->lock, NULL);
    rtp->pt = RTP_PT_PCMU;
    rtp->seq = (uint16_t)random_u32();
    rtp->ts = random_u32();
    rtp->ssrc = random_u32();
    return rtp;
}

void media_rtp_close(media_rtp *rtp)
{
    if (!rtp)
        return;
    close(rtp->fd);
    pthread_mutex_destroy(&rtp->lock);
    free(rtp);
}

int media_rtp_local_port(const media_rtp *rtp) { return rtp->local_port; }

int media_rtp_family(const media_rtp *rtp) { return rtp->local.ss_family; }

int media_rtp_set_remote(media_rtp *rtp, const struct sockaddr_storage *remote, int payload_type)
{
    if (remote->ss_family != rtp->local.ss_family)
        return -1;
    pthread_mutex_lock(&rtp->lock);
    rtp->remote = *remote;
    rtp->has_remote = 1;
    rtp->pt = payload_type;
    pthread_mutex_unlock(&rtp->lock);
    return 0;
}

int media_rtp_payload_type(const media_rtp *rtp)
{
    media_rtp *m = (media_rtp *)rtp; /* the lock is logically const */
    pthread_mutex_lock(&m->lock);
    int pt = m->pt;
    pthread_mutex_unlock(&m->lock);
    return pt;
}

/* Samples of 8 kHz clock between two monotonic times. */
static uint32_t elapsed_samples(const struct timespec *a, const struct timespec *b)
{
    int64_t ns = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
    if (ns < 0)
        ns = 0;
    return (uint32_t)(ns / 125000); /* 125 us per sample */
}

enum { AUDIO, EVENT_FIRST, EVENT_NEXT };

/* One packet's header, under the lock: the clock and sequence advance, the
 * marker and timestamp follow `kind`. pt < 0: the negotiated codec's (in
 * *codec). -1 if no remote is set. */
static int next_header(media_rtp *rtp, int pt, int kind, int marker, uint8_t pkt[12],
                       struct sockaddr_storage *to, int *codec)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&rtp->lock);
    if (!rtp->has_remote) {
        pthread_mutex_unlock(&rtp->lock);
        return -1;
    }
    if (rtp->sent_any) {
        /* In a stream: one frame later. After a gap: the clock's advance,
         * never less than one frame. */
        uint32_t adv = MEDIA_FRAME_SAMPLES;
        if (marker) {
            uint32_t e = elapsed_samples(&rtp->last_sent, &now);
            if (e > adv)
                adv = e;
        }
        rtp->ts += adv;
        rtp->seq++;
    }
    if (kind == EVENT_FIRST)
        rtp->event_ts = rtp->ts;
    uint32_t ts = kind == AUDIO ? rtp->ts : rtp->event_ts;
    *codec = rtp->pt;
    if (pt < 0)
        pt = rtp->pt;
    pkt[0] = 0x80; /* V=2, no padding, no extension, no CSRC */
    pkt[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7F));
    pkt[2] = (uint8_t)(rtp->seq >> 8);
    pkt[3] = (uint8_t)rtp->seq;
    pkt[4] = (uint8_t)(ts >> 24);
    pkt[5] = (uint8_t)(ts >> 16);
    pkt[6] = (uint8_t)(ts >> 8);
    pkt[7] = (uint8_t)ts;
    pkt[8] = (uint8_t)(rtp->ssrc >> 24);
    pkt[9] = (uint8_t)(rtp->ssrc >> 16);
    pkt[10] = (uint8_t)(rtp->ssrc >> 8);
    pkt[11] = (uint8_t)rtp->ssrc;
    *to = rtp->remote;
    rtp->sent_any = 1;
    rtp->last_sent = now;
    pthread_mutex_unlock(&rtp->lock);
    return 0;
}

static int send_packet(media_rtp *rtp, const uint8_t *pkt, size_t len,
                       const struct sockaddr_storage *to)
{
    ssize_t n = sendto(rtp->fd, pkt, len, 0, (const struct sockaddr *)to, addr_len(to));
    if (n == (ssize_t)len) {
        if (pcap_writer_rtp())
            pcap_writer_udp((struct sockaddr *)&rtp->local, (const struct sockaddr *)to, NULL,
                            pkt, len);
        return 0;
    }
    /* A full socket buffer drops this one packet, like the network would;
     * only a real error ends the play. */
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return 0;
    return -1;
}

int media_rtp_send_frame(media_rtp *rtp, const int16_t pcm[160], int marker)
{
    uint8_t pkt[12 + MEDIA_FRAME_SAMPLES];
    struct sockaddr_storage to;
    int pt;
    if (next_header(rtp, -1, AUDIO, marker, pkt, &to, &pt) < 0)
        return -1;
    uint8_t *payload = pkt + 12;
    if (pt == RTP_PT_PCMA)
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
            payload[i] = g711_linear_to_alaw(pcm[i]);
    else
        for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
            payload[i] = g711_linear_to_ulaw(pcm[i]);
    return send_packet(rtp, pkt, sizeof pkt, &to);
}

int media_rtp_send_event(media_rtp *rtp, int pt, const uint8_t payload[4], int first)
{
    uint8_t pkt[12 + 4];
    struct sockaddr_storage to;
    int codec;
    if (next_header(rtp, pt, first ? EVENT_FIRST : EVENT_NEXT, first, pkt, &to, &codec) < 0)
        return -1;
    memcpy(pkt + 12, payload, 4);
    return send_packet(rtp, pkt, sizeof pkt, &to);
}

int media_rtp_recv(media_rtp *rtp, uint8_t *buf, size_t size)
{
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(rtp->fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
    if (n < 0)
        return -1;
    if (pcap_writer_rtp() && from.ss_family == rtp->local.ss_family)
        pcap_writer_udp((struct sockaddr *)&from, (struct sockaddr *)&rtp->local, NULL, buf,
                        (size_t)n);
    return (int)n;
}

int media_rtp_decode(const uint8_t *pkt, size_t len, int16_t pcm[160])
{
    if (len < 12 || (pkt[0] & 0xC0) != 0x80)
        return -1;
    size_t head = 12 + 4 * (size_t)(pkt[0] & 0x0F); /* CSRCs */
    if (pkt[0] & 0x10) { /* header extension: 4 bytes + its length in words */
        if (len < head + 4)
            return -1;
        head += 4 + 4 * (size_t)(pkt[head + 2] << 8 | pkt[head + 3]);
    }
    if (pkt[0] & 0x20 && len > head) /* padding: its count is the last byte */
        len -= pkt[len - 1];
    if (len < head)
        return -1;
    int pt = pkt[1] & 0x7F;
    if (pt != RTP_PT_PCMU && pt != RTP_PT_PCMA)
        return -1;
    size_t n = len - head;
    if (n > MEDIA_FRAME_SAMPLES)
        n = MEDIA_FRAME_SAMPLES;
    const uint8_t *payload = pkt + head;
    if (pt == RTP_PT_PCMA)
        for (size_t i = 0; i < n; i++)
            pcm[i] = g711_alaw_to_linear(payload[i]);
    else
        for (size_t i = 0; i < n; i++)
            pcm[i] = g711_ulaw_to_linear(payload[i]);
    for (size_t i = n; i < MEDIA_FRAME_SAMPLES; i++)
        pcm[i] = 0;
    return 0;
}
