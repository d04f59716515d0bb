/*
 * Validation of SIP header fields that come from clients (calling.refer
 * `headers`) before they are added to a request we send. A field that passes
 * cannot add a line, cannot replace a header the stack builds itself (in its
 * long or its compact form), and is bounded in size.
 */
#ifndef RELAY_COMMON_SIP_HEADER_H
#define RELAY_COMMON_SIP_HEADER_H

#include <stddef.h>

#define SIP_HEADER_NAME_MAX 64
#define SIP_HEADER_VALUE_MAX 256

/* 1 if `name` (any case, long or compact form) is one the client may not
 * set. Every one-letter name counts: RFC 3261 and its extensions give them
 * out as compact forms, and a proxy expands one we never heard of. */
int sip_header_reserved(const char *name);

/* 0 if the field is acceptable; else -1 and a short reason in *why (static
 * text). Lengths are given so that a NUL inside a JSON string is caught
 * instead of silently cutting the value. */
int sip_header_validate(const char *name, size_t name_len, const char *value, size_t value_len,
                        const char **why);

#endif
