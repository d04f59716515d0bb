/*
 * What calling.connect needs of the queues of calling.queue.enter
 * (queue.c): a device {type: "queue", params: {queue_name}} takes the
 * caller at the head of that queue out of it and bridges to them.
 *
 * Core thread only.
 */
#ifndef RELAYD_CALLING_QUEUE_H
#define RELAYD_CALLING_QUEUE_H

#include <jansson.h>

#include "calling/call.h"

/* devices (as calling.connect takes them) naming a queue: 1 with *name
 * (borrowed from devices); 0 when no device is of type "queue"; -1 with
 * *why (static text) when a queue device is malformed or not the only
 * device (a queue is not rung: there is nothing to try in series or in
 * parallel with it). */
int queue_device(json_t *devices, const char **name, const char **why);

/* 1 while c waits in a queue. */
int queue_has_call(const call *c);

/* 1 when someone waits in project's queue `name`. */
int queue_head_waits(relayd *rd, const char *project, const char *name);

/* Takes the caller at the head of project's queue `name` out of it for a
 * bridge: its hold audio stops, it hears status "dequeue" and those behind
 * move up. NULL when nobody waits there. */
call *queue_take_head(relayd *rd, const char *project, const char *name);

#endif
