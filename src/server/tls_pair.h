/*
 * A server certificate (leaf and chain) with its private key, loaded and
 * checked to match. relayd keeps the current pair and hands it to every new
 * TLS handshake, so SIGHUP can replace it without touching the listener or
 * the connections already up (see ws.c).
 */
#ifndef RELAYD_TLS_PAIR_H
#define RELAYD_TLS_PAIR_H

#include <stddef.h>

typedef struct tls_pair tls_pair;
typedef struct ssl_st SSL;

/* Loads a PEM certificate chain file (leaf first) and a PEM key file. NULL,
 * with the reason in why, when a file cannot be read, holds no certificate
 * or key, or the key is not the certificate's; *key_at_fault (if given)
 * then says which file to blame: 0 the certificate, 1 the key. */
tls_pair *tls_pair_load(const char *cert_path, const char *key_path, char *why, size_t whylen,
                        int *key_at_fault);
/* Makes ssl present this pair (each part is referenced, not moved). 0 ok. */
int tls_pair_use(const tls_pair *p, SSL *ssl);
void tls_pair_free(tls_pair *p);

#endif
