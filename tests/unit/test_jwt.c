/*
 * The JWT verifier and the authorization-state seal, driven directly with
 * hostile input: every one-character change to a valid token is refused
 * (strict, canonical base64url: no two spellings of one token), as is every
 * truncation and random garbage, all under ASan; states verify only for the
 * project and session they were issued to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth_state.h"
#include "auth/jwt.h"

static const unsigned char secret[] = "unit-test-secret-0123456789abcdef0123";
#define SECRET_LEN (sizeof secret - 1)

static void b64url(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* A valid HS256 token for project "p-unit", expiring in an hour. */
static void make_token(char *out, size_t outlen)
{
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char claims[128];
    snprintf(claims, sizeof claims, "{\"project_id\":\"p-unit\",\"exp\":%ld}",
             (long)time(NULL) + 3600);
    char h[128], c[256], s[64];
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)claims, strlen(claims), c);
    snprintf(out, outlen, "%s.%s", h, c);
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), secret, (int)SECRET_LEN, (unsigned char *)out, strlen(out), mac, &maclen);
    b64url(mac, maclen, s);
    strncat(out, ".", outlen - strlen(out) - 1);
    strncat(out, s, outlen - strlen(out) - 1);
}

static int verify(const char *token, char **project)
{
    char why[128];
    return jwt_verify_hs256(token, secret, SECRET_LEN, (int64_t)time(NULL), project, why,
                            sizeof why);
}

static void valid_token_names_its_project(void **state)
{
    (void)state;
    char tok[512];
    make_token(tok, sizeof tok);
    char *project = NULL;
    assert_int_equal(verify(tok, &project), 0);
    assert_string_equal(project, "p-unit");
    free(project);
}

static void every_one_character_change_is_refused(void **state)
{
    (void)state;
    char tok[512];
    make_token(tok, sizeof tok);
    size_t len = strlen(tok);
    static const char subst[] = "AQgwBz09-_.=+/ \x01\xff";
    int tried = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            if (subst[k] == tok[i])
                continue;
            char copy[512];
            memcpy(copy, tok, len + 1);
            copy[i] = subst[k];
            char *project = NULL;
            if (verify(copy, &project) == 0)
                fail_msg("accepted a token changed at %zu to '%c': %s", i, subst[k], copy);
            assert_null(project);
            tried++;
        }
    }
    assert_true(tried > 1000);
}

static void every_truncation_and_extension_is_refused(void **state)
{
    (void)state;
    char tok[512];
    make_token(tok, sizeof tok);
    size_t len = strlen(tok);
    for (size_t n = 0; n < len; n++) {
        char copy[512];
        memcpy(copy, tok, n);
        copy[n] = '\0';
        char *project = NULL;
        assert_int_not_equal(verify(copy, &project), 0);
        assert_null(project);
    }
    const char *tails[] = {"A", "AA", "AAA", "=", ".", ".x", NULL};
    for (int i = 0; tails[i]; i++) {
        char copy[600];
        snprintf(copy, sizeof copy, "%s%s", tok, tails[i]);
        char *project = NULL;
        assert_int_not_equal(verify(copy, &project), 0);
    }
}

static void random_garbage_is_refused(void **state)
{
    (void)state;
    static const char alphabet[] = "ABCxyz019-_.=+/";
    srand(12345);
    for (int round = 0; round < 20000; round++) {
        char buf[300];
        size_t n = (size_t)(rand() % (int)(sizeof buf - 1));
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        buf[n] = '\0';
        char *project = NULL;
        assert_int_not_equal(verify(buf, &project), 0);
        assert_null(project);
    }
}

static void state_verifies_only_for_its_project_and_session(void **state)
{
    (void)state;
    const char *sid = "0b6e6c2a-4b1e-4a57-9d7e-3f3c1d2e4a5b";
    char st[AUTH_STATE_MAX_LEN + 1], got[37];
    assert_int_equal(auth_state_issue("proj-a", sid, st, sizeof st), 0);
    assert_int_equal(auth_state_verify(st, "proj-a", got), 0);
    assert_string_equal(got, sid);
    assert_int_not_equal(auth_state_verify(st, "proj-b", got), 0);
    assert_int_not_equal(auth_state_verify(st, "proj-", got), 0);
    for (size_t i = 0; st[i]; i++) {
        char copy[sizeof st];
        memcpy(copy, st, sizeof st);
        copy[i] = copy[i] == 'a' ? 'b' : 'a';
        assert_int_not_equal(auth_state_verify(copy, "proj-a", got), 0);
    }
    assert_int_not_equal(auth_state_verify(NULL, "proj-a", got), 0);
    assert_int_not_equal(auth_state_verify("", "proj-a", got), 0);

    char sig1[AUTH_SIGNATURE_LEN + 1], sig2[AUTH_SIGNATURE_LEN + 1];
    assert_int_equal(auth_signature(sid, sig1), 0);
    assert_int_equal(auth_signature("another-session", sig2), 0);
    assert_int_equal(strlen(sig1), AUTH_SIGNATURE_LEN);
    assert_null(strchr(sig1, '_')); /* realtime-api splits protocol on '_' */
    assert_string_not_equal(sig1, sig2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_token_names_its_project),
        cmocka_unit_test(every_one_character_change_is_refused),
        cmocka_unit_test(every_truncation_and_extension_is_refused),
        cmocka_unit_test(random_garbage_is_refused),
        cmocka_unit_test(state_verifies_only_for_its_project_and_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
