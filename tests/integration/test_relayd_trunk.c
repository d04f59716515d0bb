/*
 * Dialling through a SIP trunk that wants more than an address, against a
 * real relayd with sipp as the trunk: digest credentials answer the
 * trunk's 401, and a proxy's 407 with Proxy-Authorization (sipp's
 * verify_auth checks them; the dial is answered); a challenge for a realm
 * other than phone_trunk_realm gets no credentials (one INVITE only); a
 * wrong password ends the dial failed after exactly two INVITEs; relayd
 * registers with a sipp registrar (challenge, short expiry, refreshes,
 * un-REGISTER at SIGTERM), shows it in its metrics, and offers a call to a
 * trunk number on phone_trunk_context; a device's `codecs` shapes the
 * offer (sipp checks the SDP) and bad ones are refused. No log relayd
 * writes (nor sofia's, with TPORT_LOG on) holds the password or a digest
 * answer.
 *
 * Ports: relayd ws 64400, metrics 64401; SIP 23001, RTP 23100-23199; sipp
 * trunk 23010, registrar 23011, codec target 23012, caller 23013 (their
 * media ports 23300, 23320, 23340, 23360); the test's RTP socket 23050.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "child.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 64400
#define WS_LISTEN "127.0.0.1:64400"
#define METRICS_PORT 64401
#define SIP_PORT "23001"
#define TRUNK "23010"
#define REGISTRAR "23011"
#define CODEC_TARGET "23012"
#define CALLER "23013"
#define RTP_PORT_S "23050"
#define PROJECT "trunk-project"
#define TOKEN "trunk-token-9c1d"
#define TRUNK_USER "relay-trunk"
#define TRUNK_PASSWORD "Tr0mb0ne-s3cret-41"
#define WRONG_PASSWORD "Kaz00-wr0ng-77"

static relayd_proc server;

/* relayd with the trunk and credentials, plus extra arguments. */
static void start_relayd(const char *password, const char *const *extra, const char *log)
{
    const char *args[40] = {"--plain", "--ws-listen", WS_LISTEN, "--sip-listen",
                            "127.0.0.1:" SIP_PORT, "--rtp-ports", "23100-23199", "--auth",
                            PROJECT ":" TOKEN, "--log-level", "debug", "--phone-trunk",
                            "sip:{number}@127.0.0.1:" TRUNK, "--phone-trunk-username",
                            TRUNK_USER, "--phone-trunk-password", password};
    int n = 17;
    for (; extra && *extra; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    /* sofia logs every message it sends (relayd's debug log) */
    setenv("TPORT_LOG", "1", 1);
    assert_int_equal(relayd_proc_start(&server, args, log), 0);
}

/* After a failed test: the next one needs the ports. */
static int teardown(void **state)
{
    (void)state;
    if (server.pid > 0)
        relayd_proc_stop(&server);
    return 0;
}

static void stop_relayd(void)
{
    assert_int_equal(relayd_proc_stop(&server), 0); /* clean exit, no leaks */
}

/* Neither the password nor a digest answer made of it is in the log. */
static void log_holds_no_secret(const char *password)
{
    assert_false(relayd_proc_log_contains(&server, password));
    assert_false(relayd_proc_log_contains(&server, "response=\""));
}

/* ------------------------------------------------------------- client
 * A raw client (tests/support/rpc_client.h) on this test's relayd. */
typedef rpc_client client;

static void client_open(client *c) { rpc_client_open(c, WS_PORT, PROJECT, TOKEN, NULL); }
static void client_close(client *c) { rpc_client_close(c); }
static json_t *pump(client *c, const char *want_id, int timeout_ms)
{
    return rpc_client_pump(c, want_id, timeout_ms);
}
static json_t *request(client *c, const char *method, json_t *params)
{
    return rpc_client_request(c, method, params);
}

static const char *code_of(json_t *res) { return rpc_code_of(res); }

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Index of the first event of this type whose key has this value, waiting
 * up to timeout_ms. -1 if none came. */
static int wait_event(client *c, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            const char *v = key ? str(ev, key) : "";
            if (strcmp(str(ev, "event_type"), type) == 0 && v && strcmp(v, key ? value : "") == 0)
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(pump(c, NULL, 200));
    }
}

static json_t *event_at(client *c, int i) { return json_array_get(c->events, (size_t)i); }

/* ------------------------------------------------------------- sipp */

static pid_t sipp(const char *scenario, const char *port, const char *media_port, const char *log,
                  const char *const *keys)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[40] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p",
                            port, "-mp", media_port, "-m", "1", "-timeout", "40s",
                            "-timeout_error", "-nostdin"};
    int n = 17;
    for (; keys && *keys; keys += 2) {
        argv[n++] = "-key";
        argv[n++] = keys[0];
        argv[n++] = keys[1];
    }
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* let it bind */
    return pid;
}

static pid_t trunk(const char *expect, const char *log)
{
    const char *keys[] = {"user", TRUNK_USER, "password", TRUNK_PASSWORD, "rtp_port", RTP_PORT_S,
                          "expect", expect, NULL};
    return sipp("uas_trunk_auth.xml", TRUNK, "23300", log, keys);
}

static json_t *phone_dial(client *c, const char *tag)
{
    json_t *dev = json_pack("{s:s, s:{s:s, s:s, s:i}}", "type", "phone", "params", "from_number",
                            "+15559990000", "to_number", "+15550001111", "timeout", 10);
    return request(c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", tag, "devices", dev));
}

/* How many lines of the log hold needle. */
static int log_count(const char *needle)
{
    FILE *f = fopen(server.log_file, "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* --------------------------------------------------------------- tests */

/* A phone dial tagged `tag`, accepted (200), and its outcome `state`
 * (answered, failed): the event's index. */
static int dial_outcome(client *c, const char *tag, const char *state)
{
    json_t *res = phone_dial(c, tag);
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(c, "calling.call.dial", "dial_state", state, 10000);
    assert_true(i >= 0);
    return i;
}

/* Hangs up the leg the dial event at i answered with (calling.end). */
static void end_dialled(client *c, int i)
{
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", str(json_object_get(event_at(c, i), "call"), "call_id"));
    json_t *res = request(c, "calling.end", json_pack("{s:s, s:s, s:s}", "call_id", call_id,
                                                      "node_id", "relayd-local", "reason", "hangup"));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
}

/* The trunk challenges the INVITE; relayd answers with the credentials
 * (sipp verifies them) and the dial is answered. */
static void trunk_challenge_is_answered(void **state)
{
    (void)state;
    pid_t t = trunk("ok", "sipp-trunk-auth-ok.log");
    start_relayd(TRUNK_PASSWORD, NULL, "relayd-trunk-auth.log");
    client c;
    client_open(&c);
    int i = dial_outcome(&c, "tag-auth", "answered");
    assert_int_equal(wait_event(&c, "calling.call.dial", "dial_state", "failed", 0), -1);
    end_dialled(&c, i);
    assert_int_equal(child_wait(t, 10000), 0); /* the credentials verified; BYE came */
    client_close(&c);
    stop_relayd();
    assert_int_equal(log_count("sip -> INVITE (with credentials for trunk.test)"), 1);
    /* sofia did log the request with credentials, redacted */
    assert_true(relayd_proc_log_contains(&server, "Authorization: <redacted>"));
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* A wrong password: the trunk forbids the second INVITE and the dial
 * fails; no third INVITE (sipp waits 2 s for one). */
static void wrong_password_fails_after_two_invites(void **state)
{
    (void)state;
    pid_t t = trunk("forbidden", "sipp-trunk-auth-wrong.log");
    start_relayd(WRONG_PASSWORD, NULL, "relayd-trunk-wrong.log");
    client c;
    client_open(&c);
    int i = dial_outcome(&c, "tag-wrong", "failed");
    assert_string_equal(str(event_at(&c, i), "reason"), "error");
    assert_int_equal(child_wait(t, 10000), 0); /* verified wrong; no third INVITE */
    client_close(&c);
    stop_relayd();
    assert_int_equal(log_count("sip -> INVITE"), 2);
    assert_true(relayd_proc_log_contains(&server, "the trunk refused the credentials"));
    log_holds_no_secret(WRONG_PASSWORD);
}

/* A trunk that challenges the answer too: relayd gives up after its one
 * try (2 INVITEs); a sip device's challenge is not answered at all. */
static void rechallenge_is_not_looped(void **state)
{
    (void)state;
    pid_t t = sipp("uas_trunk_rechallenge.xml", TRUNK, "23300", "sipp-trunk-rechallenge.log", NULL);
    start_relayd(TRUNK_PASSWORD, NULL, "relayd-trunk-rechallenge.log");
    client c;
    client_open(&c);
    int i = dial_outcome(&c, "tag-again", "failed");
    assert_string_equal(str(event_at(&c, i), "reason"), "error");
    assert_int_equal(child_wait(t, 10000), 0); /* no third INVITE */
    assert_int_equal(log_count("sip -> INVITE"), 2);

    /* the same trunk as a sip device: the credentials are not for it */
    t = sipp("uas_trunk_rechallenge.xml", TRUNK, "23300", "sipp-trunk-rechallenge-sip.log", NULL);
    json_t *dev = json_pack("{s:s, s:{s:s}}", "type", "sip", "params", "to",
                            "sip:target@127.0.0.1:" TRUNK);
    json_t *res = request(&c, "calling.dial",
                          json_pack("{s:s, s:[[o]]}", "tag", "tag-sipdev", "devices", dev));
    json_decref(res);
    int64_t end = now_ms() + 10000;
    while (!relayd_proc_log_contains(&server, "dial tag-sipdev failed") && now_ms() < end)
        json_decref(pump(&c, NULL, 200));
    assert_true(relayd_proc_log_contains(&server, "dial tag-sipdev failed (error)"));
    assert_int_equal(child_wait(t, 10000), 0);
    assert_int_equal(log_count("sip -> INVITE"), 3);
    assert_true(relayd_proc_log_contains(&server, "a challenge from a sip device is not answered"));
    client_close(&c);
    stop_relayd();
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* The quoted value of name="..." in a digest header, into out. */
static void digest_param(const char *hdr, const char *name, char *out, size_t size)
{
    char key[32];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *p = strstr(hdr, key);
    assert_non_null(p);
    p += strlen(key);
    const char *e = strchr(p, '"');
    assert_non_null(e);
    assert_true((size_t)(e - p) < size);
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
}

static void md5_hex(const char *text, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), d, &n, EVP_md5(), NULL), 1);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A trunk that is a proxy answers 407 Proxy-Authenticate: relayd retries
 * with Proxy-Authorization (sipp insists on the header and hands it over;
 * the test checks its digest, RFC 2617 without qop, against the password)
 * and the dial is answered. */
static void proxy_challenge_is_answered(void **state)
{
    (void)state;
    char pa_file[256], cwd[200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(pa_file, sizeof pa_file, "%s/trunk-proxy-authorization.txt", cwd);
    unlink(pa_file);
    const char *keys[] = {"pa_file", pa_file, "rtp_port", RTP_PORT_S, NULL};
    pid_t t = sipp("uas_trunk_proxy_auth.xml", TRUNK, "23300", "sipp-trunk-proxy-auth.log", keys);
    start_relayd(TRUNK_PASSWORD, NULL, "relayd-trunk-proxy-auth.log");
    client c;
    client_open(&c);
    int i = dial_outcome(&c, "tag-proxy", "answered");
    end_dialled(&c, i);
    assert_int_equal(child_wait(t, 10000), 0); /* Proxy-Authorization came; BYE came */
    client_close(&c);
    stop_relayd();
    char hdr[1024] = "";
    FILE *f = fopen(pa_file, "r");
    assert_non_null(f);
    assert_non_null(fgets(hdr, sizeof hdr, f));
    fclose(f);
    char user[64], realm[64], nonce[64], uri[128], response[64], a1[256], a2[256], h1[33], h2[33],
        want[33], all[200];
    digest_param(hdr, "username", user, sizeof user);
    digest_param(hdr, "realm", realm, sizeof realm);
    digest_param(hdr, "nonce", nonce, sizeof nonce);
    digest_param(hdr, "uri", uri, sizeof uri);
    digest_param(hdr, "response", response, sizeof response);
    assert_string_equal(user, TRUNK_USER);
    assert_string_equal(realm, "proxy.test");
    assert_non_null(strstr(nonce, "pr0xy"));
    snprintf(a1, sizeof a1, "%s:%s:%s", user, realm, TRUNK_PASSWORD);
    snprintf(a2, sizeof a2, "INVITE:%s", uri);
    md5_hex(a1, h1);
    md5_hex(a2, h2);
    snprintf(all, sizeof all, "%s:%s:%s", h1, nonce, h2);
    md5_hex(all, want);
    assert_string_equal(response, want);
    assert_int_equal(log_count("sip -> INVITE (with credentials for proxy.test)"), 1);
    assert_true(relayd_proc_log_contains(&server, "Proxy-Authorization: <redacted>"));
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* phone_trunk_realm names the realm the credentials are for: a challenge
 * for another one is not answered (no second INVITE: sipp waits 2 s for
 * one), and the dial fails, the log saying why. */
static void other_realm_gets_no_credentials(void **state)
{
    (void)state;
    const char *keys[] = {"realm", "elsewhere.test", NULL};
    pid_t t = sipp("uas_trunk_realm.xml", TRUNK, "23300", "sipp-trunk-realm.log", keys);
    const char *extra[] = {"--phone-trunk-realm", "trunk.test", NULL};
    start_relayd(TRUNK_PASSWORD, extra, "relayd-trunk-realm.log");
    client c;
    client_open(&c);
    int i = dial_outcome(&c, "tag-realm", "failed");
    assert_string_equal(str(event_at(&c, i), "reason"), "error");
    assert_int_equal(child_wait(t, 10000), 0); /* no second INVITE */
    client_close(&c);
    stop_relayd();
    assert_int_equal(log_count("sip -> INVITE"), 1);
    assert_true(relayd_proc_log_contains(
        &server, "the challenge is for another realm than phone_trunk_realm"));
    assert_false(relayd_proc_log_contains(&server, "Authorization: <redacted>"));
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* messaging.send to a number goes through the trunk, which challenges
 * the MESSAGE: relayd answers (sipp verifies) and it is delivered. */
static void message_challenge_is_answered(void **state)
{
    (void)state;
    const char *keys[] = {"user", TRUNK_USER, "password", TRUNK_PASSWORD, NULL};
    pid_t t = sipp("uas_message_auth.xml", TRUNK, "23300", "sipp-trunk-message.log", keys);
    start_relayd(TRUNK_PASSWORD, NULL, "relayd-trunk-message.log");
    client c;
    client_open(&c);
    json_t *res = request(&c, "messaging.send",
                          json_pack("{s:s, s:s, s:s, s:s}", "context", "office", "from_number",
                                    "+15559990000", "to_number", "+15550001111", "body",
                                    "through the trunk"));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    assert_true(wait_event(&c, "messaging.state", "message_state", "delivered", 10000) >= 0);
    assert_int_equal(child_wait(t, 10000), 0);
    assert_int_equal(log_count("sip -> MESSAGE (with credentials for trunk.test)"), 1);
    client_close(&c);
    stop_relayd();
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* GET path from the metrics endpoint; the body (caller frees). */
static char *http_get(const char *path)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(METRICS_PORT)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(send(s, req, (size_t)n, 0), n);
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t got;
    while (used < cap - 1 && (got = recv(s, buf + used, cap - 1 - used, 0)) > 0)
        used += (size_t)got;
    buf[used] = '\0';
    close(s);
    return buf;
}

/* relayd registers at start (refused once: it tries again 2 s later; then
 * the registrar challenges, verifies and grants 5 s), refreshes, shows it in its metrics, offers a call to a trunk
 * number on phone_trunk_context, and un-REGISTERs at SIGTERM. */
static void registers_refreshes_and_unregisters(void **state)
{
    (void)state;
    /* the first attempt is refused (403): relayd tries again after 2 s */
    pid_t refuse = sipp("uas_registrar_403.xml", REGISTRAR, "23320", "sipp-trunk-registrar-403.log",
                        NULL);
    const char *extra[] = {"--phone-trunk-register", "sip:127.0.0.1:" REGISTRAR,
                           "--phone-trunk-register-expires", "600", "--phone-trunk-context",
                           "trunk-in", "--metrics-listen", "127.0.0.1:64401", NULL};
    start_relayd(TRUNK_PASSWORD, extra, "relayd-trunk-register.log");
    int64_t end = now_ms() + 5000;
    while (!relayd_proc_log_contains(&server, "failed: 403") && now_ms() < end)
        sleep_ms(20);
    int64_t refused = now_ms();
    assert_true(relayd_proc_log_contains(&server, "failed: 403 Forbidden; trying again in 2 s"));
    char *m = http_get("/metrics");
    assert_non_null(strstr(m, "relayd_trunk_registered 0\n"));
    assert_non_null(strstr(m, "relayd_trunk_register_failures_total 1\n"));
    free(m);
    assert_int_equal(child_wait(refuse, 5000), 0);

    /* the registrar proper: challenge, verified credentials, 5 s */
    const char *keys[] = {"user", TRUNK_USER, "password", TRUNK_PASSWORD, NULL};
    pid_t reg = sipp("uas_registrar.xml", REGISTRAR, "23320", "sipp-trunk-registrar.log", keys);
    end = now_ms() + 5000;
    while (!relayd_proc_log_contains(&server, "sip: registered with") && now_ms() < end)
        sleep_ms(20);
    int64_t registered = now_ms();
    int64_t backoff = registered - refused;
    print_message("registered %lld ms after the 403\n", (long long)backoff);
    assert_true(backoff >= 1700 && backoff < 3500);
    assert_true(relayd_proc_log_contains(&server, "registered with sip:127.0.0.1:" REGISTRAR " as <sip:" TRUNK_USER "@127.0.0.1:" REGISTRAR "> for 5 s"));
    m = http_get("/metrics");
    assert_non_null(strstr(m, "relayd_trunk_registered 1\n"));
    assert_non_null(strstr(m, "relayd_trunk_register_failures_total 1\n"));
    free(m);

    /* a call for a trunk number goes to phone_trunk_context */
    client c;
    client_open(&c);
    json_t *res = request(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "trunk-in"));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_expect_480.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "+15550001111",
                          "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", CALLER, "-mp", "23360",
                          "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin", NULL};
    pid_t caller = child_spawn(argv, "sipp-trunk-inbound.log");
    assert_true(caller > 0);
    int i = wait_event(&c, "calling.call.receive", "context", "trunk-in", 5000);
    assert_true(i >= 0);
    res = request(&c, "calling.end",
                  json_pack("{s:s, s:s, s:s}", "call_id", str(event_at(&c, i), "call_id"),
                            "node_id", "relayd-local", "reason", "busy"));
    json_decref(res);
    child_wait(caller, 10000); /* the call only had to reach the context */
    client_close(&c);

    /* 5 s granted: nua refreshes within it; the registrar saw a refresh by
     * the time it gets the un-REGISTER (else it fails) */
    sleep_ms((int)(registered + 4000 - now_ms()));
    assert_true(log_count("sip <- 200 OK (REGISTER)") >= 2);
    stop_relayd();
    assert_int_equal(child_wait(reg, 10000), 0);
    assert_int_equal(log_count("sip <- 200 OK (un-REGISTER)"), 1);
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* codecs "PCMA": the INVITE offers PCMA only (sipp checks the SDP); bad
 * lists are refused before anything is sent. */
static void codecs_shape_the_offer(void **state)
{
    (void)state;
    pid_t t = sipp("uas_codecs_pcma.xml", CODEC_TARGET, "23340", "sipp-trunk-codecs.log", NULL);
    start_relayd(TRUNK_PASSWORD, NULL, "relayd-trunk-codecs.log");
    client c;
    client_open(&c);
    json_t *dev = json_pack("{s:s, s:{s:s, s:s}}", "type", "sip", "params", "to",
                            "sip:target@127.0.0.1:" CODEC_TARGET, "codecs", "PCMA");
    json_t *res = request(&c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", "tag-codecs",
                                                        "devices", dev));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int i = wait_event(&c, "calling.call.dial", "dial_state", "failed", 10000);
    assert_true(i >= 0);
    assert_string_equal(str(event_at(&c, i), "reason"), "busy");
    assert_int_equal(child_wait(t, 10000), 0); /* the offer was PCMA only */

    /* a target that answers PCMU to that offer: the answer is refused
     * (relayd ACKs and BYEs it) and the dial fails */
    const char *keys[] = {"rtp_port", RTP_PORT_S, NULL};
    t = sipp("uas_dial_answer.xml", CODEC_TARGET, "23340", "sipp-trunk-codecs-pcmu.log", keys);
    dev = json_pack("{s:s, s:{s:s, s:[s]}}", "type", "sip", "params", "to",
                    "sip:target@127.0.0.1:" CODEC_TARGET, "codecs", "PCMA");
    res = request(&c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", "tag-pcmu", "devices",
                                                dev));
    assert_string_equal(code_of(res), "200");
    json_decref(res);
    int64_t end = now_ms() + 10000;
    while (!relayd_proc_log_contains(&server, "dial tag-pcmu failed") && now_ms() < end)
        json_decref(pump(&c, NULL, 200));
    assert_true(relayd_proc_log_contains(&server, "dial tag-pcmu failed (error)"));
    assert_true(relayd_proc_log_contains(&server, "the answer chose a codec that was not offered"));
    assert_int_equal(child_wait(t, 10000), 0); /* it got relayd's BYE */

    struct {
        const char *codecs; /* JSON */
        const char *words;
    } cases[] = {
        {"\"PCMA,FOO\"", "unknown codec 'FOO'"},
        {"[\"OPUS\", \"G729\"]", "no codec relayd speaks"},
        {"\"\"", "codecs is empty"},
        {"[]", "codecs is empty"},
        {"12", "codecs must be"},
        {"[\"PCMU\", 8]", "codecs must be"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dev = json_pack("{s:s, s:{s:s, s:o}}", "type", "sip", "params", "to",
                        "sip:nobody@127.0.0.1:" CODEC_TARGET, "codecs",
                        json_loads(cases[k].codecs, JSON_DECODE_ANY, NULL));
        res = request(&c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", "t", "devices", dev));
        assert_string_equal(code_of(res), "400");
        const char *msg = str(res, "message");
        if (!msg || !strstr(msg, cases[k].words))
            fail_msg("case %zu: message '%s' lacks '%s'", k, msg ? msg : "", cases[k].words);
        json_decref(res);
    }
    client_close(&c);
    stop_relayd();
    assert_false(relayd_proc_log_contains(&server, "sip -> INVITE <sip:nobody"));
    log_holds_no_secret(TRUNK_PASSWORD);
}

/* --check-config names the trunk keys but never prints the password. */
static void check_config_keeps_the_password(void **state)
{
    (void)state;
    char conf[] = "/tmp/relayd-trunk-conf-XXXXXX";
    int fd = mkstemp(conf);
    assert_true(fd >= 0);
    const char *text = "phone_trunk = sip:{number}@127.0.0.1:5060\n"
                       "phone_trunk_password = " TRUNK_PASSWORD "\n"
                       "phone_trunk_realm = trunk.test\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const char *argv[] = {getenv("RELAYD"), "--config", conf, "--check-config", NULL};
    pid_t pid = child_spawn(argv, "relayd-trunk-check.log");
    assert_true(pid > 0);
    assert_int_equal(child_wait(pid, 10000), 2); /* problems found */
    FILE *f = fopen("relayd-trunk-check.log", "r");
    assert_non_null(f);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    unlink(conf);
    assert_non_null(strstr(out, "phone_trunk_username and phone_trunk_password go together"));
    assert_null(strstr(out, TRUNK_PASSWORD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(trunk_challenge_is_answered, teardown),
        cmocka_unit_test_teardown(wrong_password_fails_after_two_invites, teardown),
        cmocka_unit_test_teardown(rechallenge_is_not_looped, teardown),
        cmocka_unit_test_teardown(proxy_challenge_is_answered, teardown),
        cmocka_unit_test_teardown(other_realm_gets_no_credentials, teardown),
        cmocka_unit_test_teardown(message_challenge_is_answered, teardown),
        cmocka_unit_test_teardown(registers_refreshes_and_unregisters, teardown),
        cmocka_unit_test_teardown(codecs_shape_the_offer, teardown),
        cmocka_unit_test(check_config_keeps_the_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
