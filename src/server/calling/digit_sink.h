/*
 * A media sink that hands the caller's DTMF digits to the core thread: the
 * session calls it on its media thread, and each digit, then the detach,
 * arrives at the owner's core callbacks in that order (one media thread
 * posts both, and the core's mailbox is FIFO). Embed it in the op that
 * owns it: on_detached is the last call about the sink, so the owner may
 * free itself (and the sink) there.
 */
#ifndef RELAYD_CALLING_DIGIT_SINK_H
#define RELAYD_CALLING_DIGIT_SINK_H

#include "media/session.h"
#include "relayd.h"

typedef struct digit_sink {
    media_sink sink; /* first */
    relayd *rd;
    void *owner;
    void (*on_digit)(void *owner, char digit); /* core thread */
    void (*on_detached)(void *owner);         /* core thread; the last call */
} digit_sink;

/* Fills the sink; attach it with media_session_attach_sink(&ds->sink). */
void digit_sink_init(digit_sink *ds, relayd *rd, void *owner,
                     void (*on_digit)(void *owner, char digit),
                     void (*on_detached)(void *owner));

#endif
