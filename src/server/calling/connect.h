/*
 * What other call methods need of calling.connect (connect.c).
 */
#ifndef RELAYD_CALLING_CONNECT_H
#define RELAYD_CALLING_CONNECT_H

#include "calling/call.h"

/* For calling.transfer: the connect c just started ends with its bridge.
 * When either leg hangs up the other is hung up too (instead of staying
 * up for a client), a failed dial hangs c up, and the peer it bridges to
 * belongs to no session. No-op without a connect starting on c. */
void connect_end_together(call *c);

#endif
