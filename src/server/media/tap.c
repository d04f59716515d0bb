/* See media/tap.h. */
#include "media/tap.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"

/* RX frames waiting for the tick: a peer's burst is spread over ticks, and
 * past this many (80 ms) the oldest go (the tap stays near real time). */
#define TAP_QUEUE 4

struct media_tap {
    media_sink sink; /* first */
    media_rtp *rtp; /* the rtp output; NULL for the caller's own */
    media_tap_out out;
    void *out_user;
    media_tap_dir dir;
    void (*detached)(media_tap *t, void *user);
    void *user;
    atomic_ulong sent;
    /* media thread only */
    int16_t rx[TAP_QUEUE][MEDIA_FRAME_SAMPLES];
    unsigned rx_head, rx_count;
    int16_t tx[MEDIA_FRAME_SAMPLES];
    int have_tx;
    int gap; /* the last tick sent nothing: the next packet starts a talkspurt */
};

static void on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                     media_direction dir)
{
    media_tap *t = (media_tap *)sink;
    if (dir == MEDIA_DIR_TX) {
        if (t->dir != MEDIA_TAP_LISTEN) {
            memcpy(t->tx, pcm, sizeof t->tx);
            t->have_tx = 1;
        }
        return;
    }
    if (t->dir == MEDIA_TAP_SPEAK)
        return;
    if (t->rx_count == TAP_QUEUE) {
        t->rx_head = (t->rx_head + 1) % TAP_QUEUE;
        t->rx_count--;
    }
    memcpy(t->rx[(t->rx_head + t->rx_count) % TAP_QUEUE], pcm, sizeof t->rx[0]);
    t->rx_count++;
}

/* The rtp output: one packet, both directions mixed (with saturation). */
static int rtp_out(void *user, const int16_t *rx, const int16_t *tx, int marker)
{
    media_tap *t = user;
    int16_t out[MEDIA_FRAME_SAMPLES];
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        int v = (rx ? rx[i] : 0) + (tx ? tx[i] : 0);
        out[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    return t->rtp ? media_rtp_send_frame(t->rtp, out, marker) : -1;
}

/* Per tick: the oldest RX frame and this tick's TX frame. */
static void on_tick(media_sink *sink)
{
    media_tap *t = (media_tap *)sink;
    if (!t->rx_count && !t->have_tx) {
        t->gap = 1;
        return;
    }
    const int16_t *rx = t->rx_count ? t->rx[t->rx_head] : NULL;
    int marker = t->gap;
    if (t->out(t->out_user, rx, t->have_tx ? t->tx : NULL, marker) == 0)
        atomic_fetch_add_explicit(&t->sent, 1, memory_order_relaxed);
    if (rx) {
        t->rx_head = (t->rx_head + 1) % TAP_QUEUE;
        t->rx_count--;
    }
    t->have_tx = 0;
    t->gap = 0;
}

static void on_detach(media_sink *sink)
{
    media_tap *t = (media_tap *)sink;
    if (t->rtp)
        media_rtp_close(t->rtp); /* nothing more goes out, whenever the owner frees */
    t->rtp = NULL;
    t->detached(t, t->user);
}

media_tap *media_tap_new_out(media_tap_dir dir, media_tap_out out, void *out_user,
                             void (*detached)(media_tap *t, void *user), void *user)
{
    media_tap *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->out = out;
    t->out_user = out_user;
    t->dir = dir;
    t->gap = 1;
    t->detached = detached;
    t->user = user;
    t->sink.on_frame = on_frame;
    t->sink.on_tick = on_tick;
    t->sink.on_detach = on_detach;
    atomic_init(&t->sent, 0);
    return t;
}

media_tap *media_tap_new(const char *ip, int port_min, int port_max,
                         const struct sockaddr_in *to, int payload_type, media_tap_dir dir,
                         void (*detached)(media_tap *t, void *user), void *user)
{
    media_tap *t = media_tap_new_out(dir, rtp_out, NULL, detached, user);
    if (!t)
        return NULL;
    t->out_user = t;
    t->rtp = media_rtp_open(ip, port_min, port_max);
    if (!t->rtp) {
        free(t);
        return NULL;
    }
    struct sockaddr_storage remote = {0};
    memcpy(&remote, to, sizeof *to);
    if (media_rtp_set_remote(t->rtp, &remote, payload_type) != 0) {
        media_rtp_close(t->rtp);
        free(t);
        return NULL;
    }
    return t;
}

void media_tap_set_out_user(media_tap *t, void *out_user) { t->out_user = out_user; }
media_sink *media_tap_sink(media_tap *t) { return &t->sink; }
int media_tap_port(const media_tap *t) { return t->rtp ? media_rtp_local_port(t->rtp) : 0; }
unsigned long media_tap_sent(media_tap *t) { return atomic_load(&t->sent); }

void media_tap_free(media_tap *t)
{
    if (!t)
        return;
    if (t->rtp)
        media_rtp_close(t->rtp);
    free(t);
}
