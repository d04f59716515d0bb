/*
 * The dialling machinery of calling.dial, for other operations that place
 * calls the same way (calling.connect): groups of devices tried in series,
 * the devices of a group in parallel, the first answer wins and the rest
 * are CANCELled. Each leg is an ordinary outbound call of the session,
 * with the dial's tag on its calling.call.state events.
 *
 * Core thread only.
 */
#ifndef RELAYD_CALLING_DIAL_H
#define RELAYD_CALLING_DIAL_H

#include <jansson.h>

#include "relayd.h"

typedef struct dial dial;

/* How a dial started by dial_start reports its end; exactly one of the
 * two runs, once, unless dial_cancel came first. After it the dial frees
 * itself: the handle must not be used again. */
typedef struct dial_observer {
    /* winner: the answered call, now the session's like any other */
    void (*answered)(void *user, call *winner);
    /* reason: the last leg's end reason (busy, noAnswer, ...) */
    void (*failed)(void *user, const char *reason);
} dial_observer;

/* devices: [[device, ...], ...] as calling.dial takes it. NULL if fine,
 * else a message (static or in buf) and *code (400, or 501 for a device
 * type or a phone trunk this relayd lacks). */
const char *dial_devices_check(json_t *devices, const char *trunk, int *code, char *buf,
                               size_t n);

/* Starts dialling checked devices for session s with tag on the legs. The
 * first group is placed from the core's queue, after the caller has
 * answered its request; obs/user hear the end. NULL when out of memory. */
dial *dial_start(relayd *rd, session *s, const char *tag, json_t *devices,
                 const dial_observer *obs, void *user);
/* Gives up: every leg still ringing is CANCELled and the observer hears
 * nothing more. The dial frees itself once its legs are gone. */
void dial_cancel(dial *d);

#endif
