#include "auth/auth_state.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION "v1"
#define SESSION_ID_LEN 36 /* a uuid */

static unsigned char key[32];
static int have_key;

int auth_state_init(void)
{
    if (have_key)
        return 0;
    if (RAND_bytes(key, sizeof key) != 1)
        return -1;
    have_key = 1;
    return 0;
}

/* HMAC-SHA256 over the parts, each followed by a NUL so that no two lists
 * of parts are spelled the same. */
static int seal(const char *const *parts, unsigned char mac[32])
{
    if (auth_state_init() != 0)
        return -1;
    size_t total = 0;
    for (size_t i = 0; parts[i]; i++)
        total += strlen(parts[i]) + 1;
    unsigned char *msg = malloc(total);
    if (!msg)
        return -1;
    size_t at = 0;
    for (size_t i = 0; parts[i]; i++) {
        size_t n = strlen(parts[i]) + 1;
        memcpy(msg + at, parts[i], n);
        at += n;
    }
    unsigned int len = 0;
    int ok = HMAC(EVP_sha256(), key, sizeof key, msg, total, mac, &len) && len == 32;
    free(msg);
    return ok ? 0 : -1;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int auth_signature(const char *session_id, char out[AUTH_SIGNATURE_LEN + 1])
{
    unsigned char mac[32];
    const char *parts[] = {"signature", session_id, NULL};
    if (seal(parts, mac) != 0)
        return -1;
    hex(mac, AUTH_SIGNATURE_LEN / 2, out);
    return 0;
}

int auth_state_issue(const char *project, const char *session_id, char *out, size_t outlen)
{
    unsigned char mac[32];
    char machex[65];
    const char *parts[] = {STATE_VERSION, project, session_id, NULL};
    if (strlen(session_id) != SESSION_ID_LEN || seal(parts, mac) != 0)
        return -1;
    hex(mac, sizeof mac, machex);
    int n = snprintf(out, outlen, "%s.%s.%s", STATE_VERSION, session_id, machex);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int auth_state_verify(const char *state, const char *project, char session_id[37])
{
    /* v1.<36-char session id>.<64 hex> */
    const size_t vlen = sizeof STATE_VERSION - 1;
    if (!state || !project || strnlen(state, AUTH_STATE_MAX_LEN + 1) != vlen + 1 + SESSION_ID_LEN + 1 + 64 ||
        strncmp(state, STATE_VERSION ".", vlen + 1) != 0 || state[vlen + 1 + SESSION_ID_LEN] != '.')
        return -1;
    char id[SESSION_ID_LEN + 1];
    memcpy(id, state + vlen + 1, SESSION_ID_LEN);
    id[SESSION_ID_LEN] = '\0';
    unsigned char mac[32];
    char machex[65];
    const char *parts[] = {STATE_VERSION, project, id, NULL};
    if (seal(parts, mac) != 0)
        return -1;
    hex(mac, sizeof mac, machex);
    if (CRYPTO_memcmp(machex, state + vlen + 1 + SESSION_ID_LEN + 1, 64) != 0)
        return -1;
    memcpy(session_id, id, sizeof id);
    return 0;
}
