/*
 * Media sessions and the media threads that run them (see session.h).
 *
 * Ownership: a session's fields are split between two threads.
 *   - its SDP state (offer, o= id/version) is the creating thread's (the
 *     core): only SIP signalling reads or writes it;
 *   - its list link, its play and its sinks are its media thread's, changed
 *     only by commands that thread takes from its mailbox.
 * The RTP endpoint is shared only through media_rtp_set_remote, which rtp.c
 * locks. The session is freed by its media thread, so no other thread can
 * hold it past media_session_destroy.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "media/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <spandsp.h>

#include "media/denoise.h"
#include "media/player.h"
#include "sip/sdp.h"

/* Further behind than this (the machine was suspended, or the thread was
 * starved) the clock re-anchors instead of bursting to catch up. */
#define MAX_LAG_NS 200000000L
/* Packets read per session per tick: a flooding peer cannot hold the
 * thread; the kernel drops what does not fit in the socket buffer. */
#define RX_BUDGET 64

enum {
    CMD_ADD,
    CMD_REMOVE,
    CMD_PLAY,
    CMD_SINK_ATTACH,
    CMD_SINK_DETACH,
    CMD_DENOISE,
    CMD_TICKER_ATTACH,
    CMD_TICKER_DETACH
};

typedef struct media_thread {
    media_engine *engine;
    pthread_t thread;
    int started;
    mailbox inbox;
    media_session *sessions; /* this thread's only */
    media_ticker *tickers;   /* likewise */
    /* Written by this thread only; atomics so that stats can be read. */
    _Atomic uint64_t sent, late, max_late_ns, ticks, overruns;
    _Atomic uint64_t received, rx_lost;
} media_thread;

struct media_engine {
    media_thread *threads;
    int n;
    atomic_uint next; /* round-robin */
    atomic_int stopping;
};

struct media_session {
    media_thread *thread;
    media_rtp *rtp;
    media_cmd add_cmd, remove_cmd;
    /* media thread */
    media_session *next;
    media_player *play;
    media_sink *sinks;
    uint32_t te_last_ts;  /* RTP timestamp of the last digit reported */
    uint16_t rx_seq;      /* the highest sequence number received */
    int rx_seq_valid;     /* rx_seq holds one */
    dtmf_rx_state_t *dtmf_rx; /* in-band detector, made when first needed */
    media_denoise *denoise; /* calling.denoise: cleans RX before the sinks */
    int te_reported;      /* te_last_ts is valid */
    /* telephone-event's payload type (-1: none); set by the core at each
     * offer, read by the media thread */
    atomic_int te_pt;
    /* 1 while nothing may be sent: we hold the peer, or its SDP says it
     * does not receive (sendonly, inactive: it holds us); set by the core */
    atomic_int tx_off;
    /* creating (core) thread */
    int holding;
    char ip[INET6_ADDRSTRLEN];
    sdp_audio_offer media;
    int have_offer;
    unsigned offered;   /* our offer's codecs (1 << pt); 0: not an offer of ours */
    int offer_pts[2];   /* the codecs our offers list, in order (the dial's codecs) */
    size_t offer_n_pts; /* 0: PCMU then PCMA */
    uint64_t sdp_session;
    unsigned sdp_version;
    int sent_sdp;         /* sent_digest is that of the last SDP we sent */
    uint32_t sent_digest;
};

/* ------------------------------------------------------------ clock */

static void ts_add(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static long ts_diff(const struct timespec *a, const struct timespec *b) /* a - b */
{
    return (long)(a->tv_sec - b->tv_sec) * 1000000000L + (a->tv_nsec - b->tv_nsec);
}

static void bump(_Atomic uint64_t *v) { atomic_fetch_add_explicit(v, 1, memory_order_relaxed); }

/* Counts one sent packet against the tick's deadline. */
static void count_send(media_thread *t, const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long late = ts_diff(&now, deadline);
    bump(&t->sent);
    if (late > MEDIA_TICK_NS)
        bump(&t->late);
    if (late > 0 && (uint64_t)late > atomic_load_explicit(&t->max_late_ns, memory_order_relaxed))
        atomic_store_explicit(&t->max_late_ns, (uint64_t)late, memory_order_relaxed);
}

/* ------------------------------------------------- media thread side */

static void feed_sinks(media_session *s, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                       media_direction dir)
{
    for (media_sink *k = s->sinks; k; k = k->next)
        k->on_frame(k, pcm, dir);
}

static void end_play(media_session *s, media_play_end how)
{
    media_player *p = s->play;
    s->play = NULL;
    if (p)
        media_player_finish(p, how);
}

static void feed_digit(media_session *s, char digit)
{
    for (media_sink *k = s->sinks; k; k = k->next)
        if (k->on_digit)
            k->on_digit(k, digit);
}

/* An RFC 4733 telephone-event packet: 1 if it was one (consumed). The
 * digit is reported on the first packet with the end bit; its
 * retransmissions share the event's timestamp and are ignored. */
static int receive_event(media_session *s, const uint8_t *pkt, size_t len)
{
    int te = atomic_load_explicit(&s->te_pt, memory_order_relaxed);
    if (te < 0 || len < 12 || (pkt[1] & 0x7F) != te)
        return 0;
    size_t head = 12 + 4 * (size_t)(pkt[0] & 0x0F);
    if (len < head + 4)
        return 1;
    static const char digits[] = "0123456789*#ABCD";
    uint8_t event = pkt[head];
    int end = pkt[head + 1] & 0x80;
    uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
    if (!end || event > 15 || (s->te_reported && ts == s->te_last_ts))
        return 1;
    s->te_last_ts = ts;
    s->te_reported = 1;
    feed_digit(s, digits[event]);
    return 1;
}

/* spandsp's detector, from dtmf_rx() below: same thread */
static void on_inband_digits(void *user, const char *digits, int len)
{
    for (int i = 0; i < len; i++)
        feed_digit(user, digits[i]);
}

/* In-band DTMF on decoded RX audio, for a peer that did not negotiate
 * telephone-event (one that did signals its digits that way, and may also
 * leave the tones in the audio: detecting both would count each twice).
 * Only while some sink wants digits: the detector costs every frame. */
static void detect_inband(media_session *s, const int16_t pcm[MEDIA_FRAME_SAMPLES])
{
    if (atomic_load_explicit(&s->te_pt, memory_order_relaxed) >= 0)
        return;
    int wanted = 0;
    for (media_sink *k = s->sinks; k && !wanted; k = k->next)
        wanted = k->on_digit != NULL;
    if (!wanted)
        return;
    if (!s->dtmf_rx && !(s->dtmf_rx = dtmf_rx_init(NULL, on_inband_digits, s)))
        return;
    dtmf_rx(s->dtmf_rx, pcm, MEDIA_FRAME_SAMPLES);
}

/* Counts what arrived and what never did: a forward jump in the sequence
 * number is packets lost before they reached us (on loopback: a receive
 * buffer that overflowed). Reordered or repeated packets, and a jump too
 * large to be loss (a new stream after a re-INVITE, a restarted peer),
 * restart the count instead. */
static void count_receive(media_thread *t, media_session *s, const uint8_t *pkt, int n)
{
    if (n < 12 || (pkt[0] & 0xC0) != 0x80)
        return;
    bump(&t->received);
    uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    uint16_t ahead = (uint16_t)(seq - s->rx_seq);
    if (!s->rx_seq_valid || ahead >= 3000) {
        if (s->rx_seq_valid && ahead > 0xFF00u)
            return; /* late: counted lost when the gap showed */
        s->rx_seq = seq; /* the first packet, or a new stream */
        s->rx_seq_valid = 1;
        return;
    }
    if (ahead > 1)
        atomic_fetch_add_explicit(&t->rx_lost, ahead - 1u, memory_order_relaxed);
    if (ahead > 0)
        s->rx_seq = seq;
}

/* Reads what arrived; decodes it only if someone listens. */
static void session_receive(media_thread *t, media_session *s)
{
    uint8_t buf[1500];
    int16_t pcm[MEDIA_FRAME_SAMPLES];
    for (int i = 0; i < RX_BUDGET; i++) {
        int n = media_rtp_recv(s->rtp, buf, sizeof buf);
        if (n < 0)
            return;
        count_receive(t, s, buf, n);
        if (s->sinks && receive_event(s, buf, (size_t)n))
            continue;
        if (s->sinks && media_rtp_decode(buf, (size_t)n, pcm) == 0) {
            media_denoise_frame(s->denoise, pcm);
            detect_inband(s, pcm);
            feed_sinks(s, pcm, MEDIA_DIR_RX);
        }
    }
}

/* An RFC 4733 packet: no audio, so nothing for the sinks. Should the peer
 * have dropped telephone-event in a re-offer since the play started, the
 * events go nowhere (a payload type it no longer knows would be garbage). */
static void send_event(media_thread *t, media_session *s, const uint8_t event[4], int first,
                       const struct timespec *deadline)
{
    int te = atomic_load_explicit(&s->te_pt, memory_order_relaxed);
    if (te < 0 || atomic_load_explicit(&s->tx_off, memory_order_relaxed))
        return;
    if (media_rtp_send_event(s->rtp, te, event, first) < 0) {
        end_play(s, MEDIA_PLAY_ERROR);
        return;
    }
    count_send(t, deadline);
}

static void session_send(media_thread *t, media_session *s, const struct timespec *deadline)
{
    if (!s->play)
        return;
    int16_t frame[MEDIA_FRAME_SAMPLES];
    uint8_t event[4];
    int marker = 0;
    media_play_end how = MEDIA_PLAY_FINISHED;
    switch (media_player_tick(s->play, frame, event, &marker, &how)) {
    case MEDIA_TICK_QUIET:
        return;
    case MEDIA_TICK_END:
        end_play(s, how);
        return;
    case MEDIA_TICK_EVENT:
        send_event(t, s, event, marker, deadline);
        return;
    case MEDIA_TICK_SEND:
        break;
    }
    if (atomic_load_explicit(&s->tx_off, memory_order_relaxed))
        return; /* on hold: the play goes on, silently */
    if (media_rtp_send_frame(s->rtp, frame, marker) < 0) {
        end_play(s, MEDIA_PLAY_ERROR);
        return;
    }
    count_send(t, deadline);
    feed_sinks(s, frame, MEDIA_DIR_TX);
}

/* Ends a session on its media thread: play, sinks, socket, memory. */
static void session_end(media_thread *t, media_session *s)
{
    for (media_session **p = &t->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    end_play(s, MEDIA_PLAY_STOPPED);
    while (s->sinks) {
        media_sink *k = s->sinks;
        s->sinks = k->next;
        k->on_detach(k);
    }
    media_rtp_close(s->rtp);
    if (s->dtmf_rx)
        dtmf_rx_free(s->dtmf_rx);
    media_denoise_free(s->denoise);
    free(s);
}

static void sink_detach(media_session *s, media_sink *sink)
{
    for (media_sink **p = &s->sinks; *p; p = &(*p)->next)
        if (*p == sink) {
            *p = sink->next;
            sink->on_detach(sink);
            return;
        }
}

static void ticker_detach(media_thread *t, media_ticker *k)
{
    for (media_ticker **p = &t->tickers; *p; p = &(*p)->next)
        if (*p == k) {
            *p = k->next;
            k->on_detach(k);
            return;
        }
}

static void run_command(media_thread *t, media_cmd *c)
{
    media_session *s = c->session;
    switch (c->kind) {
    case CMD_TICKER_ATTACH: {
        media_ticker *k = c->obj;
        k->next = t->tickers;
        t->tickers = k;
        break;
    }
    case CMD_TICKER_DETACH:
        ticker_detach(t, c->obj);
        break;
    case CMD_ADD:
        s->next = t->sessions;
        t->sessions = s;
        break;
    case CMD_REMOVE:
        session_end(t, s);
        break;
    case CMD_PLAY:
        end_play(s, MEDIA_PLAY_STOPPED); /* a newer play takes the leg */
        s->play = c->obj;
        break;
    case CMD_SINK_ATTACH: {
        media_sink *k = c->obj;
        k->next = s->sinks;
        s->sinks = k;
        break;
    }
    case CMD_SINK_DETACH:
        sink_detach(s, c->obj);
        break;
    case CMD_DENOISE: { /* the newer setting replaces the older; "off" is not kept */
        media_denoise *d = c->obj;
        media_denoise_free(s->denoise);
        s->denoise = media_denoise_on(d) ? d : NULL;
        if (!s->denoise)
            media_denoise_free(d);
        break;
    }
    }
}

static void run_commands(media_thread *t)
{
    mailbox_msg *m = mailbox_take_all(&t->inbox);
    while (m) {
        mailbox_msg *next = m->next; /* the command may free its carrier */
        run_command(t, (media_cmd *)m);
        m = next;
    }
}

static void tick(media_thread *t, const struct timespec *deadline)
{
    for (media_session *s = t->sessions, *next; s; s = next) {
        next = s->next; /* sending may end a play, never the session */
        session_receive(t, s);
        session_send(t, s, deadline);
        for (media_sink *k = s->sinks; k; k = k->next)
            if (k->on_tick)
                k->on_tick(k);
    }
    for (media_ticker *k = t->tickers; k; k = k->next)
        k->on_tick(k);
}

static void sleep_until(struct timespec *next, media_thread *t)
{
    ts_add(next, MEDIA_TICK_NS);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long lag = ts_diff(&now, next);
    if (lag > MEDIA_TICK_NS)
        bump(&t->overruns);
    if (lag > MAX_LAG_NS)
        *next = now;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
        ;
}

static void *thread_main(void *arg)
{
    media_thread *t = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&t->engine->stopping)) {
        run_commands(t);
        tick(t, &next);
        bump(&t->ticks);
        sleep_until(&next, t);
    }
    run_commands(t); /* destroys posted before the engine stopped */
    while (t->sessions)
        session_end(t, t->sessions);
    while (t->tickers)
        ticker_detach(t, t->tickers);
    return NULL;
}

/* --------------------------------------------------- other threads */

static void post(media_session *s, media_cmd *c, int kind, void *obj)
{
    c->kind = kind;
    c->session = s;
    c->obj = obj;
    /* No wake-up: the thread looks at its mailbox every tick, and 20 ms is
     * soon enough for anything posted to it. */
    mailbox_push(&s->thread->inbox, &c->link);
}

static void post_ticker(media_thread *t, media_cmd *c, int kind, media_ticker *k)
{
    c->kind = kind;
    c->session = NULL;
    c->obj = k;
    mailbox_push(&t->inbox, &c->link);
}

void media_engine_attach_ticker(media_engine *e, media_ticker *t)
{
    media_thread *th = &e->threads[atomic_fetch_add(&e->next, 1) % (unsigned)e->n];
    t->thread = th;
    post_ticker(th, &t->attach_cmd, CMD_TICKER_ATTACH, t);
}

void media_engine_detach_ticker(media_ticker *t)
{
    post_ticker(t->thread, &t->detach_cmd, CMD_TICKER_DETACH, t);
}

media_engine *media_engine_create(int threads)
{
    if (threads < 1)
        threads = 1;
    media_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->threads = calloc((size_t)threads, sizeof *e->threads);
    if (!e->threads) {
        free(e);
        return NULL;
    }
    e->n = threads;
    atomic_init(&e->next, 0);
    atomic_init(&e->stopping, 0);
    for (int i = 0; i < threads; i++) {
        media_thread *t = &e->threads[i];
        t->engine = e;
        mailbox_init(&t->inbox, NULL, NULL);
        if (pthread_create(&t->thread, NULL, thread_main, t) != 0) {
            media_engine_destroy(e);
            return NULL;
        }
        t->started = 1;
        char name[16];
        snprintf(name, sizeof name, "media%d", i);
        pthread_setname_np(t->thread, name);
    }
    return e;
}

void media_engine_destroy(media_engine *e)
{
    if (!e)
        return;
    atomic_store(&e->stopping, 1);
    for (int i = 0; i < e->n; i++) {
        if (e->threads[i].started)
            pthread_join(e->threads[i].thread, NULL);
        else
            run_commands(&e->threads[i]); /* never ran: nothing was posted */
        mailbox_destroy(&e->threads[i].inbox);
    }
    free(e->threads);
    free(e);
}

void media_engine_get_stats(media_engine *e, media_engine_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < e->n; i++) {
        media_thread *t = &e->threads[i];
        out->sent += atomic_load(&t->sent);
        out->late += atomic_load(&t->late);
        out->ticks += atomic_load(&t->ticks);
        out->overruns += atomic_load(&t->overruns);
        out->received += atomic_load(&t->received);
        out->rx_lost += atomic_load(&t->rx_lost);
        uint64_t m = atomic_load(&t->max_late_ns) / 1000;
        if (m > out->max_late_us)
            out->max_late_us = m;
    }
}

int media_engine_threads(const media_engine *e) { return e->n; }

media_session *media_session_create(media_engine *e, const char *ip, int port_min, int port_max)
{
    if (!e || !ip || strlen(ip) >= INET6_ADDRSTRLEN)
        return NULL;
    media_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->rtp = media_rtp_open(ip, port_min, port_max);
    if (!s->rtp) {
        free(s);
        return NULL;
    }
    strcpy(s->ip, ip);
    atomic_init(&s->te_pt, -1);
    atomic_init(&s->tx_off, 0);
    if (getrandom(&s->sdp_session, sizeof s->sdp_session, 0) != sizeof s->sdp_session)
        s->sdp_session = (uint64_t)(uintptr_t)s;
    s->sdp_session &= 0x7fffffffffffffffULL; /* o= wants a decimal that fits 63 bits */
    s->sdp_version = 1;
    s->thread = &e->threads[atomic_fetch_add(&e->next, 1) % (unsigned)e->n];
    post(s, &s->add_cmd, CMD_ADD, NULL);
    return s;
}

/* FNV-1a of our SDP after its o= line: what the peer sees change. */
static uint32_t sdp_digest(const char *sdp)
{
    const char *p = strstr(sdp, "\r\ns=");
    uint32_t h = 2166136261u;
    for (p = p ? p : sdp; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

/* Writes our SDP with write_fn's shape; o='s version goes up whenever the
 * SDP differs from the last one we sent (RFC 3264 8), and only then. */
static int write_local(media_session *s, char *buf, size_t size, int offer, int te_pt,
                       const char *direction)
{
    for (int pass = 0; pass < 2; pass++) {
        int port = media_rtp_local_port(s->rtp);
        int n = offer ? sdp_audio_offer_write_all(buf, size, s->ip, port, s->offer_pts,
                                                  s->offer_n_pts, te_pt, direction,
                                                  s->sdp_session, s->sdp_version, &s->media)
                      : sdp_audio_answer_write_all(buf, size, s->ip, port, s->media.pt, te_pt,
                                                   direction, s->sdp_session, s->sdp_version,
                                                   &s->media);
        if (n < 0)
            return -1;
        uint32_t d = sdp_digest(buf);
        if (!s->sent_sdp || d == s->sent_digest || pass == 1) {
            s->sent_sdp = 1;
            s->sent_digest = d;
            return n;
        }
        s->sdp_version++;
    }
    return -1;
}

int media_session_offer(media_session *s, const char *offer, size_t len, char *answer,
                        size_t size, int *no_codec, const char **why)
{
    sdp_audio_offer o;
    int nc = 0;
    const char *w = "no offer";
    if (!offer || sdp_audio_offer_parse(offer, len, &o, &nc, &w) != 0) {
        /* a later offer we cannot take leaves the session as it was
         * (RFC 3261 14.2: the caller answers 488) */
        *no_codec = nc;
        *why = w;
        return -1;
    }
    if (o.remote.ss_family != media_rtp_family(s->rtp)) {
        /* the RTP socket is of one family, chosen at the INVITE */
        *no_codec = 1;
        *why = o.remote.ss_family == AF_INET6 ? "an IPv6 connection address on an IPv4 call"
                                              : "an IPv4 connection address on an IPv6 call";
        return -1;
    }
    /* first offer, or a later one (hold, refresh, a new address or codec):
     * it replaces what we send and where */
    s->media = o;
    s->have_offer = 1;
    atomic_store(&s->te_pt, o.te_pt);
    media_rtp_set_remote(s->rtp, &o.remote, o.pt);
    /* RFC 3264: a peer that holds us (sendonly, inactive) gets recvonly or
     * inactive back, and no RTP until it offers to receive again */
    atomic_store(&s->tx_off, !s->media.peer_receives || s->holding);
    int n = write_local(s, answer, size, 0, s->media.te_pt,
                        sdp_answer_direction(&s->media, s->holding));
    if (n < 0) {
        *no_codec = 0;
        *why = "SDP answer too long";
    }
    return n;
}

/* The telephone-event payload type we offer (a common choice; any
 * dynamic number would do, the answer repeats it). */
#define OFFER_TE_PT 101

int media_session_write_offer(media_session *s, const int *pts, size_t n_pts, char *offer,
                              size_t size)
{
    s->offered = 0;
    for (size_t i = 0; pts && i < n_pts; i++)
        if (pts[i] >= 0 && pts[i] < 32)
            s->offered |= 1u << pts[i];
    if (!s->offered)
        s->offered = 1u << RTP_PT_PCMU | 1u << RTP_PT_PCMA;
    s->offer_n_pts = 0; /* kept for re-offers in the dialog too */
    for (size_t i = 0; pts && i < n_pts && s->offer_n_pts < 2; i++)
        s->offer_pts[s->offer_n_pts++] = pts[i];
    return write_local(s, offer, size, 1, OFFER_TE_PT, "sendrecv");
}

int media_session_write_reoffer(media_session *s, char *offer, size_t size)
{
    if (!s->have_offer)
        return -1;
    return write_local(s, offer, size, 1, s->media.te_pt >= 0 ? s->media.te_pt : OFFER_TE_PT,
                       s->holding ? "sendonly" : "sendrecv");
}

int media_session_take_answer(media_session *s, const char *answer, size_t len,
                              const char **why)
{
    sdp_audio_offer o;
    int no_codec = 0;
    if (!answer || sdp_audio_offer_parse(answer, len, &o, &no_codec, why) != 0) {
        if (!answer)
            *why = "the answer has no SDP";
        return -1;
    }
    if (o.remote.ss_family != media_rtp_family(s->rtp)) {
        *why = "the answer's connection address is of another address family than our offer";
        return -1;
    }
    if (s->offered && !(s->offered & 1u << o.pt)) {
        *why = "the answer chose a codec that was not offered";
        return -1;
    }
    s->media = o;
    s->have_offer = 1;
    atomic_store(&s->te_pt, o.te_pt);
    atomic_store(&s->tx_off, !o.peer_receives || s->holding);
    media_rtp_set_remote(s->rtp, &o.remote, o.pt);
    return 0;
}

int media_session_hold_offer(media_session *s, int hold, char *offer, size_t size)
{
    if (!s->have_offer)
        return -1;
    s->holding = hold;
    atomic_store(&s->tx_off, hold || !s->media.peer_receives);
    return write_local(s, offer, size, 0, s->media.te_pt, hold ? "sendonly" : "sendrecv");
}

void media_session_describe(media_session *s, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    const struct sockaddr_storage *r = &s->media.remote;
    if (r->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)r)->sin6_addr, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in6 *)r)->sin6_port);
    } else if (r->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)r)->sin_addr, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in *)r)->sin_port);
    }
    snprintf(buf, size, "%s, rtp %d -> %s%s%s:%u%s", s->media.pt == RTP_PT_PCMA ? "PCMA" : "PCMU",
             media_rtp_local_port(s->rtp), r->ss_family == AF_INET6 ? "[" : "", ip,
             r->ss_family == AF_INET6 ? "]" : "", port,
             s->media.te_pt >= 0 ? ", telephone-event" : "");
}

media_rtp *media_session_rtp(media_session *s) { return s ? s->rtp : NULL; }

int media_session_peer_events(media_session *s)
{
    return s && s->have_offer && s->media.te_pt >= 0;
}

void media_session_destroy(media_session *s)
{
    if (s)
        post(s, &s->remove_cmd, CMD_REMOVE, NULL);
}

void media_session_attach_sink(media_session *s, media_sink *sink)
{
    post(s, &sink->attach_cmd, CMD_SINK_ATTACH, sink);
}

void media_session_detach_sink(media_session *s, media_sink *sink)
{
    post(s, &sink->detach_cmd, CMD_SINK_DETACH, sink);
}

void media_session_set_denoise(media_session *s, media_denoise *d)
{
    post(s, media_denoise_cmd(d), CMD_DENOISE, d);
}

void media_session_attach_play(media_session *s, media_player *p, media_cmd *cmd)
{
    post(s, cmd, CMD_PLAY, p);
}
