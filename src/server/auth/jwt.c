#include "auth/jwt.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_MAX 1024 /* decoded bytes: {"alg":"HS256","typ":"JWT"} is 27 */
#define CLAIMS_MAX 4096
#define PROJECT_MAX 256

static void say(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
}

/* Decodes one base64url segment (RFC 7515: no padding). OpenSSL decodes
 * standard base64, so the segment is checked character by character,
 * translated and padded first; re-encoding the result and comparing
 * refuses non-canonical spellings (stray low bits), so each token has one
 * spelling. Returns the decoded length, or -1. out holds max bytes. */
static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t max)
{
    if (len == 0 || len % 4 == 1 || len > 4 * ((max + 2) / 3))
        return -1;
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    char *again = malloc(padded + 1);
    unsigned char *raw = malloc(padded / 4 * 3 + 1);
    int n = -1;
    if (!std || !again || !raw)
        goto out;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            std[i] = ch;
        else if (ch == '-')
            std[i] = '+';
        else if (ch == '_')
            std[i] = '/';
        else
            goto out;
    }
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int got = EVP_DecodeBlock(raw, (const unsigned char *)std, (int)padded);
    if (got < 0)
        goto out;
    size_t real = (size_t)got - (padded - len); /* DecodeBlock counts the padding as zeros */
    if (real > max)
        goto out;
    EVP_EncodeBlock((unsigned char *)again, raw, (int)real);
    if (memcmp(again, std, padded) != 0)
        goto out;
    memcpy(out, raw, real);
    n = (int)real;
out:
    free(std);
    free(again);
    free(raw);
    return n;
}

/* Decodes and parses a segment that must be a JSON object. */
static json_t *segment_object(const char *in, size_t len, size_t max)
{
    unsigned char *buf = malloc(max);
    if (!buf)
        return NULL;
    int n = b64url_decode(in, len, buf, max);
    json_t *obj = n > 0 ? json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL)
                        : NULL;
    free(buf);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* A NumericDate claim: a finite JSON number. */
static int numeric_date(json_t *v, double *out)
{
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

int jwt_verify_hs256(const char *token, const unsigned char *secret, size_t secret_len,
                     int64_t now_s, char **project, char *why, size_t whylen)
{
    *project = NULL;
    if (!token || !*token) {
        say(why, whylen, "empty JWT");
        return -1;
    }
    size_t len = strnlen(token, JWT_MAX_LEN + 1);
    if (len > JWT_MAX_LEN) {
        say(why, whylen, "JWT too long");
        return -1;
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        say(why, whylen, "malformed JWT: expected header.claims.signature");
        return -1;
    }
    size_t hlen = (size_t)(dot1 - token), clen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 + 1 - token);

    json_t *header = segment_object(token, hlen, HEADER_MAX);
    if (!header) {
        say(why, whylen, "malformed JWT header");
        return -1;
    }
    const char *alg = json_string_value(json_object_get(header, "alg"));
    int alg_ok = alg && strcmp(alg, "HS256") == 0;
    /* An extension we would have to understand to verify correctly. */
    int has_crit = json_object_get(header, "crit") != NULL;
    json_decref(header);
    if (!alg_ok) {
        say(why, whylen, "JWT algorithm must be HS256");
        return -1;
    }
    if (has_crit) {
        say(why, whylen, "JWT header has critical extensions this relayd does not support");
        return -1;
    }

    /* The signature, before anything in the claims is believed. */
    unsigned char given[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int glen = b64url_decode(dot2 + 1, slen, given, sizeof given);
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)token,
              hlen + 1 + clen, mac, &maclen)) {
        say(why, whylen, "cannot compute HMAC");
        return -1;
    }
    if (glen != (int)maclen || CRYPTO_memcmp(given, mac, maclen) != 0) {
        say(why, whylen, "JWT signature does not verify");
        return -1;
    }

    json_t *claims = segment_object(dot1 + 1, clen, CLAIMS_MAX);
    if (!claims) {
        say(why, whylen, "malformed JWT claims");
        return -1;
    }
    double exp, nbf;
    json_t *jnbf = json_object_get(claims, "nbf");
    const char *proj = json_string_value(json_object_get(claims, "project_id"));
    int rc = -1;
    if (numeric_date(json_object_get(claims, "exp"), &exp) != 0)
        say(why, whylen, "JWT has no numeric exp claim");
    else if ((double)now_s >= exp)
        say(why, whylen, "JWT expired");
    else if (jnbf && numeric_date(jnbf, &nbf) != 0)
        say(why, whylen, "JWT nbf claim is not a number");
    else if (jnbf && (double)now_s < nbf)
        say(why, whylen, "JWT not valid yet (nbf)");
    else if (!proj || !*proj || strlen(proj) > PROJECT_MAX)
        say(why, whylen, "JWT has no project_id claim");
    else if (!(*project = strdup(proj)))
        say(why, whylen, "out of memory");
    else
        rc = 0;
    json_decref(claims);
    return rc;
}
