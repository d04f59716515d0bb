#include "media/source_events.h"

#include <stdlib.h>
#include <string.h>

#define TICK_MS 20

typedef struct events_source {
    media_source base; /* first */
    char *digits;
    const char *at;  /* the digit being sent */
    int tick;        /* ticks into it */
    int tone_ticks, slot_ticks;
} events_source;

static const char KEYS[] = "0123456789*#ABCD"; /* index = RFC 4733 event code */

static int pause_ticks(char d) { return (d == 'w' ? 500 : 1000) / TICK_MS; }

/* One tick of the digit at s->at: 1 and a payload, or 2 (quiet). */
static int digit_tick(events_source *s, uint8_t payload[4], int *first)
{
    if (*s->at == 'w' || *s->at == 'W')
        return 2;
    int sent = s->tick + 1; /* packets of this event so far, this one included */
    if (sent > s->tone_ticks + EVENT_END_PACKETS - 1)
        return 2; /* the rest of the gap */
    int end = sent >= s->tone_ticks;
    unsigned duration = (unsigned)(end ? s->tone_ticks : sent) * 160;
    payload[0] = (uint8_t)(strchr(KEYS, *s->at) - KEYS);
    payload[1] = (uint8_t)((end ? 0x80 : 0) | EVENT_VOLUME);
    payload[2] = (uint8_t)(duration >> 8);
    payload[3] = (uint8_t)duration;
    *first = s->tick == 0;
    return 1;
}

static int events_read_event(media_source *src, uint8_t payload[4], int *first)
{
    events_source *s = (events_source *)src;
    for (;;) {
        if (!*s->at)
            return 0;
        int len = *s->at == 'w' || *s->at == 'W' ? pause_ticks(*s->at) : s->slot_ticks;
        if (s->tick < len)
            break;
        s->at++;
        s->tick = 0;
    }
    int r = digit_tick(s, payload, first);
    s->tick++;
    return r;
}

static int events_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    (void)src;
    (void)frame;
    return 0; /* not audio: the player uses read_event */
}

static void events_destroy(media_source *src)
{
    events_source *s = (events_source *)src;
    free(s->digits);
    free(s);
}

media_source *media_source_digit_events(const char *digits, int tone_ms, int gap_ms)
{
    events_source *s = calloc(1, sizeof *s);
    if (!s || !(s->digits = strdup(digits))) {
        free(s);
        return NULL;
    }
    s->base.read = events_read;
    s->base.read_event = events_read_event;
    s->base.destroy = events_destroy;
    s->at = s->digits;
    s->tone_ticks = tone_ms / TICK_MS;
    s->slot_ticks = (tone_ms + gap_ms) / TICK_MS;
    return &s->base;
}
