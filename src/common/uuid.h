/* Random (version 4) UUIDs for request ids, control ids and call ids. */
#ifndef RELAY_COMMON_UUID_H
#define RELAY_COMMON_UUID_H

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Writes a lowercase v4 UUID into out. Returns 0, or -1 if no randomness. */
int uuid_v4(char out[UUID_STR_LEN]);

#endif
