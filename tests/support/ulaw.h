/* G.711 mu-law to linear, written from the ITU-T rule independently of
 * relayd's codec: the tests decode what relayd sent with their own oracle,
 * so a bug in relayd's encoder cannot hide behind the same bug here. */
#ifndef RELAY_TESTS_ULAW_H
#define RELAY_TESTS_ULAW_H

int ulaw_to_linear(unsigned char u);

#endif
