/* G.711 mu-law to linear, written from the ITU-T rule independently of
 * relayd's codec (spandsp's): the tests decode what relayd sent with their
 * own oracle, so a bug in how relayd uses the library cannot hide behind
 * the same library here. Deliberately not spandsp. */
#ifndef RELAY_TESTS_ULAW_H
#define RELAY_TESTS_ULAW_H

int ulaw_to_linear(unsigned char u);

#endif
