/* calling.refer (refer.c): what the rest of relayd needs from it besides
 * its family descriptor (families.h). */
#ifndef RELAYD_CALLING_REFER_H
#define RELAYD_CALLING_REFER_H

#include "sip/sip_ua.h"

/* The SIP UA's on_refer_progress callback; user is the relayd. Finds the
 * call's refer op through its op list. */
void calls_on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p);
/* The SIP UA's on_inbound_refer callback (refer_in.c): a REFER from the
 * far end is put to the call's session. */
int calls_on_inbound_refer(void *user, sip_leg *leg, const sip_inbound_refer *r);

#endif
