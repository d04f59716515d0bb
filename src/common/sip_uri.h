/*
 * Validation of SIP URIs that come from clients before they go into a SIP
 * header (Refer-To, To). A URI that passes cannot break out of its header:
 * no CR, LF, NUL, spaces, angle brackets or quotes, bounded length, and a
 * sip:/sips: scheme with a non-empty host.
 */
#ifndef RELAY_COMMON_SIP_URI_H
#define RELAY_COMMON_SIP_URI_H

#include <stddef.h>

#define SIP_URI_MAX_LEN 256

/* 0 if uri is acceptable; else -1 and a short reason in *why (static text). */
int sip_uri_validate(const char *uri, const char **why);

#endif
