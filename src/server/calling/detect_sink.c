/* Detections from the media thread to the core (see detect_sink.h). */
#include "calling/detect_sink.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct detect_msg {
    detect_sink *ds;
    char event[12];
} detect_msg;

static void on_event_core(relayd *rd, void *arg)
{
    (void)rd;
    detect_msg *m = arg;
    detect_sink *ds = m->ds;
    char event[sizeof m->event];
    snprintf(event, sizeof event, "%s", m->event);
    free(m);
    ds->on_event(ds->owner, event);
}

/* media thread */
static void post_event(detect_sink *ds, const char *event)
{
    detect_msg *m = malloc(sizeof *m);
    if (!m)
        return; /* lost; the detect's timeout still ends it */
    m->ds = ds;
    snprintf(m->event, sizeof m->event, "%s", event);
    core_post(ds->rd, on_event_core, m);
}

static void sink_on_digit(media_sink *sink, char digit)
{
    char event[2] = {digit, 0};
    post_event((detect_sink *)sink, event);
}

/* spandsp's tone callback, from modem_connect_tones_rx() on the media
 * thread; it also reports the tone's end (NONE), which says nothing new. */
static void on_tone(void *user, int code, int level, int delay)
{
    (void)level;
    (void)delay;
    detect_sink *ds = user;
    if (code == MODEM_CONNECT_TONES_FAX_CNG)
        post_event(ds, "CNG");
    else if (code == MODEM_CONNECT_TONES_FAX_CED || code == MODEM_CONNECT_TONES_ANS_PR)
        post_event(ds, "CED");
}

static void sink_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                          media_direction dir)
{
    detect_sink *ds = (detect_sink *)sink;
    if (dir != MEDIA_DIR_RX)
        return; /* what the caller sends, never our own play */
    if (ds->kind == DETECT_FAX) {
        modem_connect_tones_rx(ds->cng, pcm, MEDIA_FRAME_SAMPLES);
        modem_connect_tones_rx(ds->ced, pcm, MEDIA_FRAME_SAMPLES);
    } else if (ds->kind == DETECT_MACHINE) {
        amd_frame(&ds->amd, pcm);
    }
}

/* The machine detector's clock: the leg's ticks, so that silence passes
 * even while the caller sends nothing at all. */
static void sink_on_tick(media_sink *sink)
{
    detect_sink *ds = (detect_sink *)sink;
    amd_event e = amd_tick(&ds->amd);
    if (e != AMD_NONE)
        post_event(ds, amd_event_name(e));
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    detect_sink *ds = arg;
    ds->on_detached(ds->owner);
}

static void sink_on_detach(media_sink *sink)
{
    core_post(((detect_sink *)sink)->rd, on_detached_core, sink);
}

int detect_sink_init(detect_sink *ds, relayd *rd, detect_kind kind, const amd_params *machine,
                     void *owner, void (*on_event)(void *owner, const char *event),
                     void (*on_detached)(void *owner))
{
    *ds = (detect_sink){0};
    ds->sink.on_frame = sink_on_frame;
    ds->sink.on_detach = sink_on_detach;
    ds->rd = rd;
    ds->owner = owner;
    ds->kind = kind;
    ds->on_event = on_event;
    ds->on_detached = on_detached;
    switch (kind) {
    case DETECT_DIGIT:
        /* having on_digit is what turns the session's in-band detector on */
        ds->sink.on_digit = sink_on_digit;
        break;
    case DETECT_FAX:
        ds->cng = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CNG, on_tone, ds);
        ds->ced = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CED, on_tone, ds);
        if (!ds->cng || !ds->ced) {
            detect_sink_release(ds);
            return -1;
        }
        break;
    case DETECT_MACHINE:
        amd_init(&ds->amd, machine);
        ds->sink.on_tick = sink_on_tick;
        break;
    }
    return 0;
}

void detect_sink_release(detect_sink *ds)
{
    if (ds->cng)
        modem_connect_tones_rx_free(ds->cng);
    if (ds->ced)
        modem_connect_tones_rx_free(ds->ced);
    ds->cng = ds->ced = NULL;
}
