/*
 * relayd's two signed credentials over real sockets (raw WebSocket frames):
 * HS256 JWTs in signalwire.connect (valid, expired, not yet valid, badly
 * signed, alg:none, another algorithm, malformed, hostile) and the
 * signalwire.authorization.state it issues and takes back on reconnect
 * (genuine, forged, another session's, another project's). Every refusal
 * is -32002 with a reason; neither secret nor token ever reaches the log.
 * The tokens are built here with OpenSSL, independently of relayd's parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"
#include "ws_raw.h"

#define WS_PORT 61280
#define CUT_PORT 61282 /* tests/tools/tcp_cut in front of relayd */
#define SECRET "jwt-test-secret-0123456789abcdef-0123456789"
#define PROJECT "proj-auth-7c1d"
#define TOKEN "PT-auth-test-token-fedcba9876"
#define PROJECT2 "proj-auth-other-42"
#define TOKEN2 "PT-auth-test-token-second-1111"
#define JWT_PROJECT "proj-jwt-5e5e"

static relayd_proc server;
static pid_t cutter = -1;
static char secret_file[256];

static int setup(void **state)
{
    (void)state;
    snprintf(secret_file, sizeof secret_file, "jwt-secret-%d.txt", (int)getpid());
    FILE *f = fopen(secret_file, "w");
    if (!f)
        return -1;
    fputs(SECRET "\n", f);
    fclose(f);
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61280", "--sip-listen",
                          "127.0.0.1:46001", "--rtp-ports", "46100-46199", "--auth",
                          PROJECT ":" TOKEN, "--auth", PROJECT2 ":" TOKEN2, "--jwt-secret-file",
                          secret_file, "--log-level", "debug",
                          /* hundreds of refused tokens from 127.0.0.1 are this test's
                           * point; the per-address slowdown has its own test */
                          "--login-delay-max-ms", "0", NULL};
    if (relayd_proc_start(&server, args, "relayd-auth.log") != 0)
        return -1;
    char cut_bin[512];
    snprintf(cut_bin, sizeof cut_bin, "%s/tests/tools/tcp_cut", getenv("RELAY_BUILD_DIR"));
    const char *cut_argv[] = {cut_bin, "61282", "61280", NULL};
    cutter = child_spawn(cut_argv, "tcp_cut-auth.log");
    return cutter > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(secret_file);
    if (cutter > 0) {
        kill(cutter, SIGTERM);
        child_wait(cutter, 5000);
    }
    return relayd_proc_stop(&server) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ token making */

static char *b64url(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

/* header.claims.signature, HMAC-SHA256 with key (NULL key: no signature). */
static char *make_jwt(const char *header, const char *claims, const char *key)
{
    char *h = b64url((const unsigned char *)header, strlen(header));
    char *c = b64url((const unsigned char *)claims, strlen(claims));
    size_t cap = strlen(h) + strlen(c) + 128;
    char *jwt = malloc(cap);
    assert_non_null(jwt);
    snprintf(jwt, cap, "%s.%s", h, c);
    unsigned char mac[32];
    unsigned int maclen = 0;
    if (key) {
        assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)jwt,
                             strlen(jwt), mac, &maclen));
        char *s = b64url(mac, maclen);
        strcat(jwt, ".");
        strcat(jwt, s);
        free(s);
    } else {
        strcat(jwt, ".");
    }
    free(h);
    free(c);
    return jwt;
}

static char *claims_with(long exp_from_now, const char *extra)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "{\"project_id\":\"" JWT_PROJECT "\",\"exp\":%ld%s}",
             (long)time(NULL) + exp_from_now, extra ? extra : "");
    return buf;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* --------------------------------------------------------------- exchange */

static int open_conn(void)
{
    int fd = ws_raw_connect("127.0.0.1", WS_PORT);
    assert_true(fd >= 0);
    return fd;
}

/* Sends a connect with the given params and returns the reply to it. */
static char *connect_with(int fd, const char *params)
{
    size_t cap = strlen(params) + 128;
    char *req = malloc(cap);
    assert_non_null(req);
    snprintf(req, cap,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":%s}",
             params);
    assert_int_equal(ws_raw_send(fd, req, strlen(req)), 0);
    free(req);
    char *reply = ws_raw_recv_match(fd, "\"id\":\"c1\"", 5000);
    assert_non_null(reply);
    return reply;
}

static char *connect_jwt(const char *jwt)
{
    int fd = open_conn();
    char *params = malloc(strlen(jwt) + 128);
    assert_non_null(params);
    sprintf(params, "{\"event_acks\":true,\"authentication\":{\"jwt_token\":\"%s\"}}", jwt);
    char *reply = connect_with(fd, params);
    free(params);
    ws_raw_close(fd);
    return reply;
}

static void expect_refused(const char *jwt, const char *reason)
{
    char *reply = connect_jwt(jwt);
    if (!strstr(reply, "\"code\":-32002") || !strstr(reply, reason))
        fail_msg("token %s\ngot %s\nwanted -32002 and '%s'", jwt, reply, reason);
    free(reply);
}

/* Copies the string value of "key" in json (first occurrence) into out. */
static void copy_value(const char *json, const char *key, char *out, size_t outlen)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\":\"", key);
    const char *p = strstr(json, needle);
    if (!p)
        fail_msg("no %s in %s", key, json);
    p += strlen(needle);
    size_t n = strcspn(p, "\"");
    assert_true(n < outlen);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* ---------------------------------------------------------------- the JWT */

static void valid_jwt_connects_as_its_project(void **state)
{
    (void)state;
    char *jwt = make_jwt(HS256, claims_with(600, ",\"nbf\":1"), SECRET);
    char *reply = connect_jwt(jwt);
    if (!strstr(reply, "\"result\""))
        fail_msg("valid JWT refused: %s", reply);
    char project[64], signature[64], protocol[96];
    copy_value(reply, "project_id", project, sizeof project);
    copy_value(reply, "signature", signature, sizeof signature);
    copy_value(reply, "protocol", protocol, sizeof protocol);
    assert_string_equal(project, JWT_PROJECT);
    /* realtime-api resumes only when protocol's second '_' field is the signature */
    char expect[96];
    snprintf(expect, sizeof expect, "signalwire_%s_", signature);
    assert_true(strncmp(protocol, expect, strlen(expect)) == 0);
    free(reply);
    free(jwt);
}

static void expired_and_early_jwts_are_refused(void **state)
{
    (void)state;
    char *jwt = make_jwt(HS256, claims_with(-5, NULL), SECRET);
    expect_refused(jwt, "JWT expired");
    free(jwt);
    char nbf[64];
    snprintf(nbf, sizeof nbf, ",\"nbf\":%ld", (long)time(NULL) + 600);
    jwt = make_jwt(HS256, claims_with(1200, nbf), SECRET);
    expect_refused(jwt, "not valid yet");
    free(jwt);
    jwt = make_jwt(HS256, "{\"project_id\":\"" JWT_PROJECT "\"}", SECRET);
    expect_refused(jwt, "no numeric exp");
    free(jwt);
    jwt = make_jwt(HS256, "{\"project_id\":\"p\",\"exp\":\"tomorrow\"}", SECRET);
    expect_refused(jwt, "no numeric exp");
    free(jwt);
    jwt = make_jwt(HS256, claims_with(600, ",\"nbf\":\"now\""), SECRET);
    expect_refused(jwt, "nbf claim is not a number");
    free(jwt);
    char noproj[64];
    snprintf(noproj, sizeof noproj, "{\"sub\":\"x\",\"exp\":%ld}", (long)time(NULL) + 600);
    jwt = make_jwt(HS256, noproj, SECRET);
    expect_refused(jwt, "no project_id claim");
    free(jwt);
}

static void badly_signed_and_other_algorithms_are_refused(void **state)
{
    (void)state;
    char *jwt = make_jwt(HS256, claims_with(600, NULL), "another-secret-of-enough-length-000000");
    expect_refused(jwt, "signature does not verify");
    free(jwt);
    /* alg:none with no signature, and with the right signature anyway */
    jwt = make_jwt("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims_with(600, NULL), NULL);
    expect_refused(jwt, "algorithm must be HS256");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"none\"}", claims_with(600, NULL), SECRET);
    expect_refused(jwt, "algorithm must be HS256");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS512\"}", claims_with(600, NULL), SECRET);
    expect_refused(jwt, "algorithm must be HS256");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"RS256\"}", claims_with(600, NULL), SECRET);
    expect_refused(jwt, "algorithm must be HS256");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"hs256\"}", claims_with(600, NULL), SECRET);
    expect_refused(jwt, "algorithm must be HS256");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", claims_with(600, NULL), SECRET);
    expect_refused(jwt, "critical extensions");
    free(jwt);
    /* a claims segment changed after signing */
    jwt = make_jwt(HS256, claims_with(600, NULL), SECRET);
    char *dot = strchr(jwt, '.');
    dot[1] = dot[1] == 'e' ? 'f' : 'e';
    expect_refused(jwt, "signature does not verify");
    free(jwt);
    /* the right signature with one more base64url character on it */
    jwt = make_jwt(HS256, claims_with(600, NULL), SECRET);
    char *longer = malloc(strlen(jwt) + 2);
    sprintf(longer, "%sA", jwt);
    expect_refused(longer, "signature does not verify");
    free(longer);
    free(jwt);
}

static void malformed_and_hostile_tokens_are_refused(void **state)
{
    (void)state;
    expect_refused("", "empty JWT");
    expect_refused("abc", "malformed JWT");
    expect_refused("a.b", "malformed JWT");
    expect_refused("a.b.c.d", "malformed JWT");
    expect_refused("..", "malformed JWT header");
    expect_refused("!!!!.e30.AAAA", "malformed JWT header");
    expect_refused("eyJhbGciOiJIUzI1NiJ9=.e30.AAAA", "malformed JWT header"); /* padding */
    char *notjson = b64url((const unsigned char *)"not json", 8);
    char tok[256];
    snprintf(tok, sizeof tok, "%s.e30.AAAA", notjson);
    expect_refused(tok, "malformed JWT header");
    free(notjson);
    char *arr = b64url((const unsigned char *)"[1]", 3);
    snprintf(tok, sizeof tok, "%s.e30.AAAA", arr);
    expect_refused(tok, "malformed JWT header");
    free(arr);
    /* claims that are not an object, correctly signed */
    char *jwt = make_jwt(HS256, "[\"project_id\"]", SECRET);
    expect_refused(jwt, "malformed JWT claims");
    free(jwt);
    /* far too long: refused before it is decoded */
    size_t big = 20000;
    char *huge = malloc(big + 1);
    memset(huge, 'A', big);
    huge[100] = huge[200] = '.';
    huge[big] = '\0';
    expect_refused(huge, "JWT too long");
    free(huge);
    /* a jwt_token that is not a string */
    int fd = open_conn();
    char *reply = connect_with(fd, "{\"authentication\":{\"jwt_token\":42}}");
    assert_non_null(strstr(reply, "-32002"));
    assert_non_null(strstr(reply, "jwt_token must be a string"));
    free(reply);
    /* the connection is still served: right credentials work on it */
    reply = connect_with(fd, "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"" TOKEN
                             "\"}}");
    assert_non_null(strstr(reply, "\"result\""));
    free(reply);
    ws_raw_close(fd);
}

/* ---------------------------------------------------- authorization state */

typedef struct issued {
    char protocol[96];
    char state[160];
} issued;

/* Connects with project/token; returns the protocol and the state event. */
static int connect_and_get_state(const char *project, const char *token, issued *out)
{
    int fd = open_conn();
    char params[256];
    snprintf(params, sizeof params,
             "{\"event_acks\":true,\"authentication\":{\"project\":\"%s\",\"token\":\"%s\"}}",
             project, token);
    char *reply = connect_with(fd, params);
    copy_value(reply, "protocol", out->protocol, sizeof out->protocol);
    free(reply);
    char *ev = ws_raw_recv_match(fd, "signalwire.authorization.state", 5000);
    assert_non_null(ev);
    copy_value(ev, "authorization_state", out->state, sizeof out->state);
    free(ev);
    return fd;
}

static char *resume(const char *project, const char *token, const char *protocol,
                    const char *state_json)
{
    int fd = open_conn();
    char params[600];
    snprintf(params, sizeof params,
             "{\"event_acks\":true,\"authentication\":{\"project\":\"%s\",\"token\":\"%s\"},"
             "\"protocol\":\"%s\",\"authorization_state\":%s}",
             project, token, protocol, state_json);
    char *reply = connect_with(fd, params);
    ws_raw_close(fd);
    return reply;
}

static void authorization_state_resumes_its_own_session_only(void **state)
{
    (void)state;
    issued a, b, other;
    int fa = connect_and_get_state(PROJECT, TOKEN, &a);
    int fb = connect_and_get_state(PROJECT, TOKEN, &b);
    int fo = connect_and_get_state(PROJECT2, TOKEN2, &other);
    ws_raw_close(fa);
    ws_raw_close(fb);
    ws_raw_close(fo);
    assert_string_not_equal(a.state, b.state);

    char quoted[200];
    /* genuine: the same session comes back */
    snprintf(quoted, sizeof quoted, "\"%s\"", a.state);
    char *reply = resume(PROJECT, TOKEN, a.protocol, quoted);
    if (!strstr(reply, a.protocol))
        fail_msg("genuine state did not resume %s: %s", a.protocol, reply);
    free(reply);

    /* forged: one character of the seal changed */
    char forged[160];
    snprintf(forged, sizeof forged, "%s", a.state);
    size_t last = strlen(forged) - 1;
    forged[last] = forged[last] == '0' ? '1' : '0';
    snprintf(quoted, sizeof quoted, "\"%s\"", forged);
    reply = resume(PROJECT, TOKEN, a.protocol, quoted);
    assert_non_null(strstr(reply, "-32002"));
    assert_non_null(strstr(reply, "not issued by this relayd to this project"));
    free(reply);

    /* another session's state with this session's protocol */
    snprintf(quoted, sizeof quoted, "\"%s\"", b.state);
    reply = resume(PROJECT, TOKEN, a.protocol, quoted);
    assert_non_null(strstr(reply, "-32002"));
    assert_non_null(strstr(reply, "belongs to another session"));
    free(reply);

    /* another project's state, brought by this project */
    snprintf(quoted, sizeof quoted, "\"%s\"", other.state);
    reply = resume(PROJECT, TOKEN, other.protocol, quoted);
    assert_non_null(strstr(reply, "-32002"));
    free(reply);

    /* not a string, empty, garbage */
    const char *bad[] = {"42", "\"\"", "{}", "\"v1.x.y\"", NULL};
    for (int i = 0; bad[i]; i++) {
        reply = resume(PROJECT, TOKEN, a.protocol, bad[i]);
        if (!strstr(reply, "-32002"))
            fail_msg("state %s accepted: %s", bad[i], reply);
        free(reply);
    }

    /* after all that, the genuine state still works */
    snprintf(quoted, sizeof quoted, "\"%s\"", a.state);
    reply = resume(PROJECT, TOKEN, a.protocol, quoted);
    assert_non_null(strstr(reply, a.protocol));
    free(reply);
}

/* ------------------------------------------------------------- librelay */

static void client_options(relay_client_options *o, int port)
{
    relay_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = port;
    o->plain_ws = 1;
    o->request_timeout_ms = 5000;
}

static void librelay_connects_with_a_jwt(void **state)
{
    (void)state;
    char *jwt = make_jwt(HS256, claims_with(600, NULL), SECRET);
    relay_client_options o;
    client_options(&o, WS_PORT);
    o.jwt_token = jwt;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);
    relay_client_free(c);
    free(jwt);

    jwt = make_jwt(HS256, claims_with(-60, NULL), SECRET);
    o.jwt_token = jwt;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_ERR_AUTH);
    relay_client_free(c);
    free(jwt);
}

/* Lines of relayd's log holding needle (and also needle2 unless NULL). */
static int count_in_log2(const char *needle, const char *needle2)
{
    FILE *f = fopen(server.log_file, "r");
    if (!f)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle) && (!needle2 || strstr(line, needle2)))
            n++;
    fclose(f);
    return n;
}

static int count_in_log(const char *needle)
{
    return count_in_log2(needle, NULL);
}

/* librelay keeps the state relayd gave it and brings it back when its TCP
 * connection is cut; relayd verifies it and resumes the same session. */
static void librelay_resumes_with_its_authorization_state(void **state)
{
    (void)state;
    relay_client_options o;
    client_options(&o, CUT_PORT);
    o.project = PROJECT;
    o.token = TOKEN;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    int resumed_before = count_in_log("resumed (");
    int states_before = count_in_log2("recv conn=", "\"authorization_state\":\"***\"");
    int refused_before = count_in_log("authorization_state refused");
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    char protocol[96];
    snprintf(protocol, sizeof protocol, "%s", relay_client_protocol(c));
    usleep(300 * 1000); /* the state event follows the connect result */

    assert_int_equal(kill(cutter, SIGUSR1), 0);
    int resumed = 0;
    for (int i = 0; i < 100 && !resumed; i++) {
        usleep(100 * 1000);
        resumed = count_in_log("resumed (") > resumed_before;
    }
    assert_true(resumed);
    /* the reconnect carried the state (masked in the log) and was not refused */
    assert_true(count_in_log2("recv conn=", "\"authorization_state\":\"***\"") > states_before);
    assert_int_equal(count_in_log("authorization_state refused"), refused_before);
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);
    assert_string_equal(relay_client_protocol(c), protocol);
    relay_client_free(c);
}

static void secrets_never_reach_the_log(void **state)
{
    (void)state;
    usleep(200 * 1000);
    assert_true(relayd_proc_log_contains(&server, "signalwire.connect"));
    assert_true(relayd_proc_log_contains(&server, "signalwire.authorization.state"));
    assert_true(relayd_proc_log_contains(&server, "JWT expired"));
    assert_false(relayd_proc_log_contains(&server, SECRET));
    assert_false(relayd_proc_log_contains(&server, TOKEN));
    assert_false(relayd_proc_log_contains(&server, PROJECT));
    assert_false(relayd_proc_log_contains(&server, JWT_PROJECT));
    assert_false(relayd_proc_log_contains(&server, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"));
    assert_false(relayd_proc_log_contains(&server, "\"v1."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_jwt_connects_as_its_project),
        cmocka_unit_test(expired_and_early_jwts_are_refused),
        cmocka_unit_test(badly_signed_and_other_algorithms_are_refused),
        cmocka_unit_test(malformed_and_hostile_tokens_are_refused),
        cmocka_unit_test(authorization_state_resumes_its_own_session_only),
        cmocka_unit_test(librelay_connects_with_a_jwt),
        cmocka_unit_test(librelay_resumes_with_its_authorization_state),
        cmocka_unit_test(secrets_never_reach_the_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
