/*
 * The status line of a NOTIFY's message/sipfrag body (RFC 3515): how a
 * REFER's progress arrives. Apart from sip_ua.c so the fuzzer can reach it.
 */
#ifndef RELAYD_SIP_SIPFRAG_H
#define RELAYD_SIP_SIPFRAG_H

#include <stddef.h>

/* "SIP/2.0 200 OK..." -> 200, with "OK" in phrase (cut to size - 1).
 * 0 if the body does not start with a status line (100-699). */
int sipfrag_status(const char *body, size_t len, char *phrase, size_t size);

#endif
