/* Digits from the media thread to the core (see digit_sink.h). */
#include "calling/digit_sink.h"

#include <stdlib.h>

typedef struct digit_msg {
    digit_sink *ds;
    char digit;
} digit_msg;

static void on_digit_core(relayd *rd, void *arg)
{
    (void)rd;
    digit_msg *m = arg;
    digit_sink *ds = m->ds;
    char d = m->digit;
    free(m);
    ds->on_digit(ds->owner, d);
}

/* media thread */
static void sink_on_digit(media_sink *sink, char digit)
{
    digit_sink *ds = (digit_sink *)sink;
    digit_msg *m = malloc(sizeof *m);
    if (!m)
        return; /* the digit is lost; the owner's timeouts still end it */
    m->ds = ds;
    m->digit = digit;
    core_post(ds->rd, on_digit_core, m);
}

static void sink_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                          media_direction dir)
{
    (void)sink;
    (void)pcm;
    (void)dir; /* digits only (the session's own detector finds in-band ones) */
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    digit_sink *ds = arg;
    ds->on_detached(ds->owner);
}

/* media thread */
static void sink_on_detach(media_sink *sink)
{
    digit_sink *ds = (digit_sink *)sink;
    core_post(ds->rd, on_detached_core, ds);
}

void digit_sink_init(digit_sink *ds, relayd *rd, void *owner,
                     void (*on_digit)(void *owner, char digit),
                     void (*on_detached)(void *owner))
{
    *ds = (digit_sink){0};
    ds->sink.on_frame = sink_on_frame;
    ds->sink.on_detach = sink_on_detach;
    ds->sink.on_digit = sink_on_digit;
    ds->rd = rd;
    ds->owner = owner;
    ds->on_digit = on_digit;
    ds->on_detached = on_detached;
}
