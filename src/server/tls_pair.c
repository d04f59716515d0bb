#include "tls_pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct tls_pair {
    X509 *leaf;
    STACK_OF(X509) *chain; /* intermediates after the leaf, maybe empty */
    EVP_PKEY *key;
};

void tls_pair_free(tls_pair *p)
{
    if (!p)
        return;
    X509_free(p->leaf);
    sk_X509_pop_free(p->chain, X509_free);
    EVP_PKEY_free(p->key);
    free(p);
}

/* OpenSSL's own words for the last error, so the operator reads e.g.
 * "bad decrypt" or "no start line" rather than a guess of ours. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unreadable";
}

tls_pair *tls_pair_load(const char *cert_path, const char *key_path, char *why, size_t whylen,
                        int *key_at_fault)
{
    int key_fault = 0;
    ERR_clear_error();
    tls_pair *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    FILE *f = fopen(cert_path, "r");
    if (!f) {
        snprintf(why, whylen, "cannot open %s: %s", cert_path, strerror(errno));
        goto fail;
    }
    p->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    p->chain = sk_X509_new_null();
    X509 *extra;
    while (p->leaf && p->chain && (extra = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(p->chain, extra))
            X509_free(extra);
    fclose(f);
    if (!p->leaf) {
        snprintf(why, whylen, "%s holds no PEM certificate (%s)", cert_path, ssl_reason());
        goto fail;
    }
    ERR_clear_error(); /* the loop ends on "no start line" at end of file */
    key_fault = 1;
    f = fopen(key_path, "r");
    if (!f) {
        snprintf(why, whylen, "cannot open %s: %s", key_path, strerror(errno));
        goto fail;
    }
    /* no passphrase callback: relayd starts unattended, so an encrypted
     * key is an error here rather than a prompt */
    p->key = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
    fclose(f);
    if (!p->key) {
        snprintf(why, whylen, "%s holds no usable PEM private key (%s)", key_path,
                 ssl_reason());
        goto fail;
    }
    if (X509_check_private_key(p->leaf, p->key) != 1) {
        snprintf(why, whylen, "the key in %s does not match the certificate in %s", key_path,
                 cert_path);
        goto fail;
    }
    ERR_clear_error();
    return p;
fail:
    if (key_at_fault)
        *key_at_fault = key_fault;
    ERR_clear_error();
    tls_pair_free(p);
    return NULL;
}

int tls_pair_use(const tls_pair *p, SSL *ssl)
{
    if (SSL_use_certificate(ssl, p->leaf) != 1 || SSL_use_PrivateKey(ssl, p->key) != 1 ||
        SSL_set1_chain(ssl, p->chain) != 1)
        return -1;
    return 0;
}
