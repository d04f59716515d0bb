#include "pcap_writer.h"

#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for the IP and UDP headers in front of each datagram. */
#define IP4_HEADER 20
#define IP6_HEADER 40
#define UDP_HEADER 8
#define SNAPLEN 65535

typedef struct packet {
    struct packet *next;
    struct pcap_pkthdr hdr;
    uint8_t data[];
} packet;

static struct {
    pthread_mutex_t lock; /* the queue and the running flag */
    pthread_cond_t wake;
    packet *head, *tail;
    size_t queued, limit;
    int running;
    pthread_t thread;
    /* The file: the writer thread uses it between batches; a reopen swaps
     * it under file_lock, so it never meets a write. */
    pthread_mutex_t file_lock;
    pcap_t *dead;
    pcap_dumper_t *dumper;
} w = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .file_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Read on every packet a media thread sends: atomics, no lock. */
static atomic_int active, rtp_on;
static atomic_uint_fast64_t written, dropped;

static pcap_dumper_t *open_dumper(pcap_t *dead, const char *path, char *why, size_t whylen)
{
    /* Append: a restart or a reload keeps what is there; a new or empty
     * file gets the header. */
    pcap_dumper_t *d = pcap_dump_open_append(dead, path);
    if (!d)
        snprintf(why, whylen, "cannot open pcap_file %s: %s", path, pcap_geterr(dead));
    return d;
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&w.lock);
    for (;;) {
        while (w.running && !w.head)
            pthread_cond_wait(&w.wake, &w.lock);
        packet *batch = w.head;
        w.head = w.tail = NULL;
        w.queued = 0;
        int stop = !w.running;
        pthread_mutex_unlock(&w.lock);

        pthread_mutex_lock(&w.file_lock);
        uint64_t n = 0;
        for (packet *p = batch, *next; p; p = next) {
            next = p->next;
            pcap_dump((u_char *)w.dumper, &p->hdr, p->data);
            free(p);
            n++;
        }
        /* a reader (tshark on a live file, sngrep) sees whole batches */
        if (n)
            pcap_dump_flush(w.dumper);
        pthread_mutex_unlock(&w.file_lock);
        atomic_fetch_add(&written, n);

        pthread_mutex_lock(&w.lock);
        if (stop && !w.head)
            break;
    }
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

int pcap_writer_start(const char *path, size_t queue_bytes, char *why, size_t whylen)
{
    pcap_t *dead = pcap_open_dead(DLT_RAW, SNAPLEN);
    if (!dead) {
        snprintf(why, whylen, "pcap_file: libpcap cannot start");
        return -1;
    }
    pcap_dumper_t *d = open_dumper(dead, path, why, whylen);
    if (!d) {
        pcap_close(dead);
        return -1;
    }
    w.dead = dead;
    w.dumper = d;
    w.limit = queue_bytes;
    w.running = 1;
    if (pthread_create(&w.thread, NULL, writer_main, NULL) != 0) {
        snprintf(why, whylen, "pcap_file: cannot start the writer thread");
        pcap_dump_close(d);
        pcap_close(dead);
        w.dumper = NULL;
        w.dead = NULL;
        w.running = 0;
        return -1;
    }
    atomic_store(&active, 1);
    return 0;
}

int pcap_writer_reopen(const char *path, char *why, size_t whylen)
{
    if (!atomic_load(&active))
        return -1;
    pcap_dumper_t *d = open_dumper(w.dead, path, why, whylen);
    if (!d)
        return -1;
    pthread_mutex_lock(&w.file_lock);
    pcap_dumper_t *old = w.dumper;
    w.dumper = d;
    pthread_mutex_unlock(&w.file_lock);
    pcap_dump_close(old);
    return 0;
}

void pcap_writer_stop(void)
{
    if (!atomic_exchange(&active, 0))
        return;
    pthread_mutex_lock(&w.lock);
    w.running = 0;
    pthread_cond_signal(&w.wake);
    pthread_mutex_unlock(&w.lock);
    pthread_join(w.thread, NULL);
    pcap_dump_close(w.dumper);
    pcap_close(w.dead);
    w.dumper = NULL;
    w.dead = NULL;
}

int pcap_writer_active(void)
{
    return atomic_load(&active);
}

void pcap_writer_set_rtp(int on)
{
    atomic_store(&rtp_on, on ? 1 : 0);
}

int pcap_writer_rtp(void)
{
    return atomic_load(&active) && atomic_load(&rtp_on);
}

uint64_t pcap_writer_written(void)
{
    return atomic_load(&written);
}

uint64_t pcap_writer_dropped(void)
{
    return atomic_load(&dropped);
}

static uint32_t sum16(uint32_t sum, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (len & 1)
        sum += (uint32_t)(b[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Writes IP + UDP headers for len bytes of payload at out; returns the
 * header length, or 0 if the addresses are unusable. */
static size_t build_headers(uint8_t *out, const struct sockaddr *src, const struct sockaddr *dst,
                            const uint8_t *payload, size_t len, size_t wire_len)
{
    const uint8_t *sa, *da;
    size_t alen, ip;
    unsigned sport, dport;
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)src, *d4 = (const void *)dst;
        sa = (const uint8_t *)&s4->sin_addr;
        da = (const uint8_t *)&d4->sin_addr;
        sport = ntohs(s4->sin_port);
        dport = ntohs(d4->sin_port);
        alen = 4;
        ip = IP4_HEADER;
        memset(out, 0, IP4_HEADER);
        out[0] = 0x45; /* version 4, 5 words */
        put16(out + 2, (unsigned)(IP4_HEADER + UDP_HEADER + wire_len));
        out[6] = 0x40; /* don't fragment */
        out[8] = 64;   /* TTL */
        out[9] = IPPROTO_UDP;
        memcpy(out + 12, sa, 4);
        memcpy(out + 16, da, 4);
        put16(out + 10, fold(sum16(0, out, IP4_HEADER)));
    } else if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)src, *d6 = (const void *)dst;
        sa = (const uint8_t *)&s6->sin6_addr;
        da = (const uint8_t *)&d6->sin6_addr;
        sport = ntohs(s6->sin6_port);
        dport = ntohs(d6->sin6_port);
        alen = 16;
        ip = IP6_HEADER;
        memset(out, 0, IP6_HEADER);
        out[0] = 0x60;
        put16(out + 4, (unsigned)(UDP_HEADER + wire_len));
        out[6] = IPPROTO_UDP;
        out[7] = 64; /* hop limit */
        memcpy(out + 8, sa, 16);
        memcpy(out + 24, da, 16);
    } else {
        return 0;
    }
    uint8_t *udp = out + ip;
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (unsigned)(UDP_HEADER + wire_len));
    put16(udp + 6, 0);
    if (wire_len != len)
        return ip + UDP_HEADER; /* part of the datagram: no checksum to give */
    /* the pseudo-header: addresses, protocol, UDP length */
    uint32_t sum = sum16(0, sa, alen);
    sum = sum16(sum, da, alen);
    sum += IPPROTO_UDP + (uint32_t)(UDP_HEADER + len);
    sum = sum16(sum, udp, UDP_HEADER);
    sum = sum16(sum, payload, len);
    uint16_t c = fold(sum);
    put16(udp + 6, c ? c : 0xFFFF); /* 0 means "no checksum" */
    return ip + UDP_HEADER;
}

void pcap_writer_udp(const struct sockaddr *src, const struct sockaddr *dst,
                     const struct timeval *tv, const void *data, size_t len)
{
    pcap_writer_udp_partial(src, dst, tv, data, len, len);
}

void pcap_writer_udp_partial(const struct sockaddr *src, const struct sockaddr *dst,
                             const struct timeval *tv, const void *data, size_t len,
                             size_t wire_len)
{
    if (!atomic_load(&active))
        return;
    if (wire_len < len || wire_len > SNAPLEN - IP6_HEADER - UDP_HEADER) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    packet *p = malloc(sizeof *p + IP6_HEADER + UDP_HEADER + len);
    if (!p) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    size_t head = build_headers(p->data, src, dst, data, len, wire_len);
    if (!head) {
        free(p);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    memcpy(p->data + head, data, len);
    p->next = NULL;
    if (tv)
        p->hdr.ts = *tv;
    else
        gettimeofday(&p->hdr.ts, NULL);
    p->hdr.caplen = (bpf_u_int32)(head + len);
    p->hdr.len = (bpf_u_int32)(head + wire_len);
    size_t cost = sizeof *p + head + len;

    pthread_mutex_lock(&w.lock);
    if (!w.running || w.queued + cost > w.limit) {
        pthread_mutex_unlock(&w.lock);
        free(p);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    if (w.tail)
        w.tail->next = p;
    else
        w.head = p;
    w.tail = p;
    w.queued += cost;
    pthread_cond_signal(&w.wake);
    pthread_mutex_unlock(&w.lock);
}
