/* G.711 (mu-law and A-law, both ways), written from the ITU-T rules
 * independently of relayd's codec (spandsp's): the tests encode what they
 * send and decode what relayd sent with their own oracle, so a bug in how
 * relayd uses the library cannot hide behind the same library here.
 * Deliberately not spandsp. */
#ifndef RELAY_TESTS_G711_ORACLE_H
#define RELAY_TESTS_G711_ORACLE_H

int ulaw_to_linear(unsigned char u);
int alaw_to_linear(unsigned char a);
unsigned char linear_to_ulaw(int v);
unsigned char linear_to_alaw(int v);

#endif
