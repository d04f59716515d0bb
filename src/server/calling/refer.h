/* calling.refer (refer.c): what the rest of relayd needs from it besides
 * its family descriptor (families.h). */
#ifndef RELAYD_CALLING_REFER_H
#define RELAYD_CALLING_REFER_H

#include "sip/sip_ua.h"

/* The SIP UA's on_refer_progress callback; user is the relayd. Finds the
 * call's refer op through its op list. */
void calls_on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p);

#endif
