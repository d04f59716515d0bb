/*
 * A strict check of an SDP body before sofia's parser sees it. The packaged
 * sofia-sip (1.12.11) sdp_parse() never returns on some malformed m= lines
 * (e.g. `m=audio 4000 RTP/:/u 0`: a proto with ':' after a '/') and grows
 * its memory while it spins, which froze relayd's SIP thread. relayd only
 * needs a small part of RFC 4566, so anything outside that grammar is
 * refused here, with a reason, and never reaches sdp_parse().
 */
#ifndef RELAYD_SIP_SDP_GUARD_H
#define RELAYD_SIP_SDP_GUARD_H

#include <stddef.h>

#define SDP_GUARD_MAX_BYTES 8192 /* a real audio offer is < 1 KB */
#define SDP_GUARD_MAX_LINES 128
#define SDP_GUARD_MAX_LINE 1024
#define SDP_GUARD_MAX_MEDIA 16
#define SDP_GUARD_MAX_FMTS 64

/* 0 when text (len bytes, not necessarily NUL-terminated) keeps to the
 * grammar; -1 with *why (a static string, safe to log) otherwise. */
int sdp_guard_check(const char *text, size_t len, const char **why);

#endif
