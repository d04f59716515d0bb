/*
 * calling.join_conference / calling.leave_conference: named audio
 * conferences mixed by relayd (media/conference.h). The directory of
 * conferences is the core thread's, like the calls.
 */
#ifndef RELAYD_CALLING_CONFERENCE_H
#define RELAYD_CALLING_CONFERENCE_H

#include "relayd.h"

/* calling.hold / unhold changed c->held: a held participant neither hears
 * nor is heard. No-op for a call in no conference. */
void conference_call_held(call *c);

#endif
