/* See media/fax.h. */
#include "media/fax.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

struct media_fax {
    media_sink sink;
    media_source source;
    atomic_int holders; /* the session (sink) and the player (source) */
    atomic_int done;    /* phase E reached: res is final */
    fax_state_t *fs;    /* media thread while held; NULL once closed */
    int sending;
    int rx_this_tick;   /* media thread only */
    media_fax_closed closed;
    media_fax_page page;
    atomic_int pages;   /* by phase D */
    void *user;
    media_fax_result res;
};

/* media thread, from inside fax_rx/fax_tx */
static void on_phase_e(t30_state_t *t30, void *user, int code)
{
    media_fax *f = user;
    if (atomic_load(&f->done))
        return;
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    f->res.code = code;
    f->res.text = t30_completion_code_to_str(code);
    f->res.pages = f->sending ? st.pages_tx : st.pages_rx;
    const char *id = t30_get_rx_ident(t30);
    snprintf(f->res.remote_ident, sizeof f->res.remote_ident, "%s", id ? id : "");
    atomic_store_explicit(&f->done, 1, memory_order_release);
}

/* media thread, from inside fax_rx/fax_tx: a page is done */
static int on_phase_d(t30_state_t *t30, void *user, int result)
{
    (void)result;
    media_fax *f = user;
    t30_stats_t st;
    t30_get_transfer_statistics(t30, &st);
    int pages = f->sending ? st.pages_tx : st.pages_rx;
    if (pages > atomic_load(&f->pages)) {
        atomic_store(&f->pages, pages);
        if (f->page)
            f->page(f, f->user);
    }
    return T30_ERR_OK;
}

static void release(media_fax *f)
{
    if (atomic_fetch_sub(&f->holders, 1) != 1)
        return;
    /* A fax cut short (stop, hangup) has not reached phase E: terminating
     * it reports one (call dropped) with the pages so far, and closes the
     * file. */
    if (!atomic_load(&f->done))
        t30_terminate(fax_get_t30_state(f->fs));
    fax_free(f->fs);
    f->fs = NULL;
    if (!atomic_load(&f->done)) { /* never got going */
        f->res.code = T30_ERR_CALLDROPPED;
        f->res.text = t30_completion_code_to_str(T30_ERR_CALLDROPPED);
        atomic_store_explicit(&f->done, 1, memory_order_release);
    }
    f->closed(f, f->user);
}

static media_fax *of_sink(media_sink *s) { return (media_fax *)((char *)s - offsetof(media_fax, sink)); }
static media_fax *of_source(media_source *s)
{
    return (media_fax *)((char *)s - offsetof(media_fax, source));
}

static void on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                     media_direction dir)
{
    media_fax *f = of_sink(sink);
    if (dir != MEDIA_DIR_RX || atomic_load_explicit(&f->done, memory_order_relaxed))
        return;
    int16_t buf[MEDIA_FRAME_SAMPLES]; /* fax_rx takes a writable buffer */
    memcpy(buf, pcm, sizeof buf);
    fax_rx(f->fs, buf, MEDIA_FRAME_SAMPLES);
    f->rx_this_tick = 1;
}

static void on_tick(media_sink *sink)
{
    media_fax *f = of_sink(sink);
    if (!f->rx_this_tick && !atomic_load_explicit(&f->done, memory_order_relaxed))
        fax_rx_fillin(f->fs, MEDIA_FRAME_SAMPLES);
    f->rx_this_tick = 0;
}

static void on_detach(media_sink *sink) { release(of_sink(sink)); }

static int source_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    media_fax *f = of_source(src);
    if (atomic_load_explicit(&f->done, memory_order_relaxed))
        return 0;
    int n = fax_tx(f->fs, frame, MEDIA_FRAME_SAMPLES);
    if (n < 0)
        n = 0;
    if (n < MEDIA_FRAME_SAMPLES)
        memset(frame + n, 0, (size_t)(MEDIA_FRAME_SAMPLES - n) * sizeof *frame);
    return 1;
}

static void source_destroy(media_source *src) { release(of_source(src)); }

media_fax *media_fax_new(int sending, const char *file, const char *ident, const char *header,
                         media_fax_closed closed, media_fax_page page, void *user,
                         const char **why)
{
    media_fax *f = calloc(1, sizeof *f);
    if (!f) {
        *why = "out of memory";
        return NULL;
    }
    f->fs = fax_init(NULL, sending);
    if (!f->fs) {
        free(f);
        *why = "could not start the fax modem";
        return NULL;
    }
    t30_state_t *t30 = fax_get_t30_state(f->fs);
    /* Plain T.30 over audio for now: ECM retransmits in T.30 frames and
     * needs nothing from us, but is left off until it is tested. */
    t30_set_ecm_capability(t30, 0);
    if ((ident && *ident && t30_set_tx_ident(t30, ident) != 0) ||
        (header && *header && t30_set_tx_page_header_info(t30, header) != 0)) {
        fax_free(f->fs);
        free(f);
        *why = "identity or header_info is not acceptable to T.30";
        return NULL;
    }
    if (sending)
        t30_set_tx_file(t30, file, -1, -1);
    else
        t30_set_rx_file(t30, file, -1);
    t30_set_phase_e_handler(t30, on_phase_e, f);
    t30_set_phase_d_handler(t30, on_phase_d, f);
    fax_set_transmit_on_idle(f->fs, 1); /* keep RTP flowing between phases */
    f->sending = sending;
    f->closed = closed;
    f->page = page;
    f->user = user;
    f->sink.on_frame = on_frame;
    f->sink.on_detach = on_detach;
    f->sink.on_tick = on_tick;
    f->source.read = source_read;
    f->source.destroy = source_destroy; /* no rewind: a live modem */
    atomic_init(&f->holders, 2);
    atomic_init(&f->done, 0);
    atomic_init(&f->pages, 0);
    return f;
}

media_sink *media_fax_sink(media_fax *f) { return &f->sink; }
int media_fax_pages(media_fax *f) { return atomic_load(&f->pages); }
media_source *media_fax_source(media_fax *f) { return &f->source; }

int media_fax_result_get(media_fax *f, media_fax_result *out)
{
    if (!atomic_load_explicit(&f->done, memory_order_acquire))
        return 0;
    *out = f->res;
    return 1;
}

void media_fax_free(media_fax *f) { free(f); }
