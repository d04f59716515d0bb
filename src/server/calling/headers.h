/*
 * Client-supplied SIP headers ([{name, value}], as refer and dial devices
 * carry them) turned into header lines that cannot break out of their
 * line or reshape the request that carries them.
 */
#ifndef RELAYD_CALLING_HEADERS_H
#define RELAYD_CALLING_HEADERS_H

#include <jansson.h>

#define CALL_HEADERS_MAX 16

/* headers (may be NULL: *out NULL) → "Name: value" lines joined by CRLF in
 * *out (malloc'd). NULL on success; else a message for a 400 (static
 * text) and *out NULL. Names are RFC 3261 tokens, values have no control
 * characters, and the headers that shape a request (Via, From, To,
 * Call-ID, CSeq, Contact, Refer-To...) are refused. */
const char *call_headers_build(json_t *headers, char **out);

#endif
