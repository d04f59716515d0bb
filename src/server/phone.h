/*
 * Phone numbers as RELAY carries them ("+15551230000") and relayd's
 * `phone_trunk` URI template ("sip:{number}@trunk.example.com") that turns
 * one into a SIP URI: shared by calling.dial's phone devices and
 * messaging.send's numbers, so both read a number the same way.
 */
#ifndef RELAYD_PHONE_H
#define RELAYD_PHONE_H

#include <stddef.h>

/* 1 for "+", then 1 to 20 digits (the "+" optional). */
int phone_number_ok(const char *s);
/* The trunk template with {number} replaced, into out. -1 if it does not fit. */
int phone_trunk_uri(const char *trunk, const char *number, char *out, size_t n);

#endif
