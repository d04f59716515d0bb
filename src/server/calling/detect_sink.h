/*
 * The media-thread half of calling.detect: a sink on the leg that runs one
 * detector on what the caller sends and hands what it finds to the core,
 * as the wire's event names ("1", "CNG", "MACHINE"...). digit: the
 * session's own DTMF path (RFC 4733, else spandsp's in-band detector),
 * as collect uses; fax: spandsp's modem connect tone detectors for CNG
 * (1100 Hz) and CED (2100 Hz); machine: media/amd.h.
 *
 * Embed it in the op that owns it (as digit_sink.h): events, then the
 * detach, reach the owner's core callbacks in that order, and on_detached
 * is the last call about the sink.
 */
#ifndef RELAYD_CALLING_DETECT_SINK_H
#define RELAYD_CALLING_DETECT_SINK_H

#include <spandsp.h>

#include "media/amd.h"
#include "media/session.h"
#include "relayd.h"

typedef enum detect_kind { DETECT_DIGIT, DETECT_FAX, DETECT_MACHINE } detect_kind;

typedef struct detect_sink {
    media_sink sink; /* first */
    relayd *rd;
    void *owner;
    detect_kind kind;
    amd amd;                              /* machine */
    modem_connect_tones_rx_state_t *cng;  /* fax */
    modem_connect_tones_rx_state_t *ced;
    void (*on_event)(void *owner, const char *event); /* core thread */
    void (*on_detached)(void *owner);                 /* core thread; the last call */
} detect_sink;

/* Fills the sink (amd_params only for machine). -1 when out of memory
 * (nothing to release). Attach it with media_session_attach_sink. */
int detect_sink_init(detect_sink *ds, relayd *rd, detect_kind kind, const amd_params *machine,
                     void *owner, void (*on_event)(void *owner, const char *event),
                     void (*on_detached)(void *owner));
/* Frees the detectors; only once detached (or never attached). */
void detect_sink_release(detect_sink *ds);

#endif
