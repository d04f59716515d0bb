/*
 * calling.refer completed, against the real relayd with real sipp peers
 * (each scenario checks the exact SIP it receives and fails otherwise) and
 * a raw RELAY client:
 *
 *  - attended transfer: a refer naming another call on relayd
 *    (device.params.replaces_call_id) sends a REFER whose Refer-To is the
 *    consult leg's far end with Replaces = that dialog's Call-ID, relayd's
 *    tag there as from-tag and the consult caller's tag as to-tag; an
 *    unknown call is 404 and nothing is sent;
 *  - NOTIFYs are matched to their REFER by Event id: an interim NOTIFY
 *    with no body and one with 100 Trying do not end the refer; a late
 *    final NOTIFY of an earlier REFER does not decide the next one;
 *  - a command_id seen before on the call returns the first answer (and
 *    the refer's state) and sends no second REFER;
 *  - a REFER never answered ends the refer in error after
 *    sip_transaction_timeout_ms (sofia's timer F, 2 s here);
 *  - a REFER from the far end reaches the client as calling.call.refer
 *    (direction inbound, state requested, Refer-To, Referred-By and the
 *    Replaces part as sipp sent them); calling.refer.answer accept ends
 *    it with a final NOTIFY 200, decline with 603, no answer in
 *    refer_timeout_ms with 480; a second REFER while one is pending is
 *    491. sipp checks the NOTIFY (terminated, message/sipfrag, status).
 *
 * Ports: relayd ws 62200, SIP 58001; sipp 58002, 58004 and 58006, their
 * media 58100, 58120 and 58140; relayd's RTP 58200-58299.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "child.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"

#define WS_PORT 62200
#define SIP_PORT "58001"
#define SIPP_PORT "58002"
#define CONSULT_PORT "58004"
#define REFERRER_PORT "58006"
#define PROJECT "refer-project"
#define TOKEN "refer-token-51c3"
#define NODE "relayd-local"
#define REFER_TIMEOUT_MS 1500
#define TRANSACTION_TIMEOUT_MS 2000

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:62200", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "58200-58299", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", "--refer-timeout-ms", "1500",
                          "--sip-transaction-timeout-ms", "2000", NULL};
    return relayd_proc_start(&server, args, "relayd-refer.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- client */

static void expect_code(json_t *res, const char *code)
{
    const char *got = rpc_code_of(res);
    if (!got || strcmp(got, code) != 0)
        fail_msg("expected code %s, got %s", code, got ? got : "(none)");
    json_decref(res);
}

/* Index of the first event from `from` on of this type for call_id,
 * waiting up to timeout_ms. -1 if none came. */
static int wait_event(rpc_client *c, int from, const char *type, const char *call_id,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++)
            if (rpc_event_matches(json_array_get(c->events, i), type, call_id ? "call_id" : NULL,
                                  call_id))
                return (int)i;
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 50));
    }
}

static json_t *event_at(rpc_client *c, int i) { return json_array_get(c->events, (size_t)i); }

static const char *str_at(rpc_client *c, int i, const char *key)
{
    return json_string_value(json_object_get(event_at(c, i), key));
}

/* Waits for the next offered call and answers it; returns its call_id
 * (valid while the client's events are). */
static const char *answer_next(rpc_client *c, int *from)
{
    int i = wait_event(c, *from, "calling.call.receive", NULL, 10000);
    assert_true(i >= 0);
    *from = i + 1;
    const char *id = str_at(c, i, "call_id");
    expect_code(rpc_client_request(c, "calling.answer",
                                   json_pack("{s:s, s:s}", "call_id", id, "node_id", NODE)),
                "200");
    /* the ACK confirms the dialog: a refer needs it (refer.c) */
    assert_true(wait_event(c, *from, "calling.call.state", id, 5000) >= 0);
    return id;
}

static json_t *refer_params(const char *call_id, const char *uri, const char *replaces,
                            const char *command_id)
{
    json_t *dp = json_object();
    if (uri)
        json_object_set_new(dp, "uri", json_string(uri));
    if (replaces)
        json_object_set_new(dp, "replaces_call_id", json_string(replaces));
    json_t *p = json_pack("{s:s, s:s, s:{s:s, s:o}}", "call_id", call_id, "node_id", NODE,
                          "device", "type", "sip", "params", dp);
    if (command_id)
        json_object_set_new(p, "command_id", json_string(command_id));
    return p;
}

/* The refer event states for call_id from `from` on, joined by ","
 * with each NOTIFY status after a ':' ("inProgress,inProgress:100,busy:486"). */
static void refer_states(rpc_client *c, int from, const char *call_id, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
        json_t *ev = json_array_get(c->events, i);
        if (!rpc_event_matches(ev, "calling.call.refer", "call_id", call_id))
            continue;
        const char *n = json_string_value(json_object_get(ev, "sip_notify_response_code"));
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s%s%s", len ? "," : "",
                 json_string_value(json_object_get(ev, "state")), n ? ":" : "", n ? n : "");
    }
}

/* Waits for a final refer event for call_id; its index, -1 if none came. */
static int wait_refer_final(rpc_client *c, int from, const char *call_id, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            const char *st = json_string_value(json_object_get(ev, "state"));
            if (rpc_event_matches(ev, "calling.call.refer", "call_id", call_id) && st &&
                strcmp(st, "inProgress") != 0)
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 50));
    }
}

/* ---------------------------------------------------------------- sipp */

static pid_t sipp(const char *scenario, const char *port, const char *media_port,
                  const char *const *extra, const char *log, const char *msg_log)
{
    char path[600];
    if (scenario[0] == '/')
        snprintf(path, sizeof path, "%s", scenario);
    else
        snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
                 scenario);
    const char *argv[52] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                            "127.0.0.1", "-mi", "127.0.0.1", "-p", port, "-mp", media_port, "-m",
                            "1", "-timeout", "40s", "-timeout_error", "-nostdin", "-trace_logs",
                            "-log_file", msg_log, "-trace_msg", "-message_file", NULL};
    char msgs[128];
    snprintf(msgs, sizeof msgs, "%s.sip", msg_log);
    argv[25] = msgs;
    int n = 26;
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    remove(msg_log);
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

/* The value after `key` in a sipp log file, up to a space or line end. */
static int log_value(const char *file, const char *key, char *out, size_t size)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[1024];
    int rc = -1;
    while (rc != 0 && fgets(line, sizeof line, f)) {
        char *p = strstr(line, key);
        if (!p)
            continue;
        p += strlen(key);
        size_t n = strcspn(p, " \r\n");
        if (n > 0 && n < size) {
            memcpy(out, p, n);
            out[n] = '\0';
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* -------------------------------------------------------------- tests */

static void attended_transfer_carries_the_consult_dialog(void **state)
{
    (void)state;
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"office\"]");
    int from = 0;
    /* the consult leg: Call-ID "consult-1@refer.test", tag "ctag77" */
    const char *consult_extra[] = {"-cid_str", "consult-%u@refer.test", "-key", "consult_tag",
                                   "ctag77", NULL};
    pid_t consult = sipp("uac_refer_consult.xml", CONSULT_PORT, "58120", consult_extra,
                         "sipp-refer-consult.log", "sipp-refer-consult-msgs.log");
    const char *consult_id = answer_next(&c, &from);
    pid_t transferee = sipp("uac_refer_replaces.xml", SIPP_PORT, "58100", NULL,
                            "sipp-refer-replaces.log", "sipp-refer-replaces-msgs.log");
    const char *call_id = answer_next(&c, &from);

    /* a call that is not there: 404, and the transferee sees no REFER */
    json_t *res = rpc_client_request(
        &c, "calling.refer",
        refer_params(call_id, NULL, "00000000-0000-4000-8000-000000000000", NULL));
    expect_code(res, "404");
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, NULL, call_id, NULL)),
                "400");

    int before = (int)json_array_size(c.events);
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, NULL, consult_id, NULL)),
                "200");
    int fin = wait_refer_final(&c, before, call_id, 10000);
    assert_true(fin >= 0);
    char states[256];
    refer_states(&c, before, call_id, states, sizeof states);
    assert_string_equal(states, "inProgress,success:200");
    const char *refer_to = str_at(&c, fin, "sip_refer_to");
    assert_non_null(refer_to);
    printf("Refer-To reported: %s\n", refer_to);
    assert_int_equal(child_wait(transferee, 15000), 0); /* the Refer-To matched, then BYE */

    expect_code(rpc_client_request(&c, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", consult_id, "node_id",
                                             NODE, "reason", "hangup")),
                "200");
    assert_int_equal(child_wait(consult, 15000), 0);
    /* what the transferee saw is the consult dialog: its Call-ID, relayd's
     * tag there as from-tag, the consult caller's tag as to-tag */
    char seen[128], relayd_tag[128];
    assert_int_equal(log_value("sipp-refer-replaces-msgs.log", "REPLACES call_id=", seen,
                               sizeof seen), 0);
    assert_string_equal(seen, "consult-1%40refer.test");
    assert_int_equal(log_value("sipp-refer-replaces-msgs.log", "to_tag=", seen, sizeof seen), 0);
    assert_string_equal(seen, "ctag77");
    assert_int_equal(log_value("sipp-refer-replaces-msgs.log", "from_tag=", seen, sizeof seen),
                     0);
    assert_int_equal(log_value("sipp-refer-consult-msgs.log", "relayd_tag=", relayd_tag,
                               sizeof relayd_tag), 0);
    printf("Replaces from-tag %s, relayd's tag in the consult dialog %s\n", seen, relayd_tag);
    assert_string_equal(seen, relayd_tag);
    char want[256];
    snprintf(want, sizeof want,
             "sip:consult@127.0.0.1:" CONSULT_PORT
             "?Replaces=consult-1%%40refer.test%%3Bfrom-tag%%3D%s%%3Bto-tag%%3Dctag77",
             relayd_tag);
    assert_string_equal(refer_to, want);
    rpc_client_close(&c);
}

static void notifies_are_matched_to_their_refer(void **state)
{
    (void)state;
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"office\"]");
    int from = 0;
    pid_t p = sipp("uac_refer_notify.xml", SIPP_PORT, "58100", NULL, "sipp-refer-notify.log",
                   "sipp-refer-notify-msgs.log");
    const char *call_id = answer_next(&c, &from);

    /* the first refer, asked twice with one command_id: one REFER */
    int first = (int)json_array_size(c.events);
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, "sip:bob@127.0.0.1:5099", NULL, "k1")),
                "200");
    json_t *again = rpc_client_request(
        &c, "calling.refer", refer_params(call_id, "sip:bob@127.0.0.1:5099", NULL, "k1"));
    assert_string_equal(rpc_code_of(again), "200");
    assert_string_equal(json_string_value(json_object_get(again, "message")), "Referring");
    json_decref(again);
    int accepted = wait_event(&c, first, "calling.call.refer", call_id, 5000);
    assert_true(accepted >= 0);
    int64_t t_accepted = now_ms();
    /* no body, then 100 Trying: neither ends it; the timeout does */
    int fin = wait_refer_final(&c, first, call_id, 10000);
    assert_true(fin >= 0);
    int64_t waited = now_ms() - t_accepted;
    char states[256];
    refer_states(&c, first, call_id, states, sizeof states);
    printf("first refer: %s, final after %lld ms\n", states, (long long)waited);
    assert_string_equal(states, "inProgress,inProgress:100,error:100");
    assert_true(waited >= REFER_TIMEOUT_MS - 300);

    /* the second: the first's late 200 must not decide it, its own 486 does */
    int second = (int)json_array_size(c.events);
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, "sip:carol@127.0.0.1:5099", NULL, "k2")),
                "200");
    assert_true(wait_refer_final(&c, second, call_id, 10000) >= 0);
    refer_states(&c, second, call_id, states, sizeof states);
    printf("second refer: %s\n", states);
    assert_string_equal(states, "inProgress,busy:486");

    /* a replay of k1 now: the first answer and the refer's final state */
    again = rpc_client_request(&c, "calling.refer",
                               refer_params(call_id, "sip:bob@127.0.0.1:5099", NULL, "k1"));
    assert_string_equal(rpc_code_of(again), "200");
    assert_string_equal(json_string_value(json_object_get(again, "state")), "error");
    json_decref(again);
    /* an attended transfer naming no call: 404, no REFER */
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, NULL, "no-such-call", NULL)),
                "404");

    expect_code(rpc_client_request(&c, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id",
                                             NODE, "reason", "hangup")),
                "200");
    assert_int_equal(child_wait(p, 15000), 0); /* one REFER each time, then BYE */
    assert_true(relayd_proc_log_contains(&server, "is not for the REFER in progress"));
    rpc_client_close(&c);
}

static void an_unanswered_refer_is_an_error(void **state)
{
    (void)state;
    rpc_client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"office\"]");
    int from = 0;
    pid_t p = sipp("uac_refer_unanswered.xml", SIPP_PORT, "58100", NULL,
                   "sipp-refer-unanswered.log", "sipp-refer-unanswered-msgs.log");
    const char *call_id = answer_next(&c, &from);
    int before = (int)json_array_size(c.events);
    int64_t t0 = now_ms();
    expect_code(rpc_client_request(&c, "calling.refer",
                                   refer_params(call_id, "sip:bob@127.0.0.1:5099", NULL, NULL)),
                "200");
    int fin = wait_refer_final(&c, before, call_id, 10000);
    assert_true(fin >= 0);
    int64_t waited = now_ms() - t0;
    char states[256];
    refer_states(&c, before, call_id, states, sizeof states);
    const char *code = str_at(&c, fin, "sip_refer_response_code");
    printf("unanswered refer: %s (REFER %s) after %lld ms\n", states, code ? code : "-",
           (long long)waited);
    assert_string_equal(states, "error");
    assert_string_equal(code, "408");
    assert_true(waited >= TRANSACTION_TIMEOUT_MS - 200 && waited < TRANSACTION_TIMEOUT_MS + 1500);
    expect_code(rpc_client_request(&c, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id",
                                             NODE, "reason", "hangup")),
                "200");
    assert_int_equal(child_wait(p, 15000), 0);
    rpc_client_close(&c);
}

/* ------------------------------------------------- REFER from the far end */

/* Writes sip/<tpl> with @EXPECT@ and @REFER_TO@ filled in to out (an
 * absolute path in the test's directory). */
static void make_scenario(const char *tpl, const char *expect, const char *refer_to, char *out,
                          size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"), tpl);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = '\0';
    char cwd[400];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(out, n, "%s/refer-in-%s.xml", cwd, expect);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    for (const char *p = text; *p;) {
        if (strncmp(p, "@EXPECT@", 8) == 0) {
            fputs(expect, f);
            p += 8;
        } else if (strncmp(p, "@REFER_TO@", 10) == 0) {
            fputs(refer_to, f);
            p += 10;
        } else {
            fputc(*p++, f);
        }
    }
    fclose(f);
}

/* Index of the next inbound refer event for call_id in `state`, -1 if
 * none came in timeout_ms. */
static int wait_inbound_refer(rpc_client *c, int from, const char *call_id, const char *state,
                              int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            const char *d = json_string_value(json_object_get(ev, "direction"));
            const char *st = json_string_value(json_object_get(ev, "state"));
            if (rpc_event_matches(ev, "calling.call.refer", "call_id", call_id) && d &&
                strcmp(d, "inbound") == 0 && st && strcmp(st, state) == 0)
                return (int)i;
        }
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 50));
    }
}

static json_t *answer_params(const char *call_id, json_t *accept)
{
    return json_pack("{s:s, s:s, s:o}", "call_id", call_id, "node_id", NODE, "accept", accept);
}

static void end_call(rpc_client *c, const char *call_id)
{
    expect_code(rpc_client_request(c, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id",
                                             NODE, "reason", "hangup")),
                "200");
}

/* Where the far end's REFERs send the call. */
#define CAROL "sip:carol@127.0.0.1:5099"

/* An inbound-REFER case begins: sipp (the scenario template, the final
 * NOTIFY status it insists on, the Refer-To it sends) calls in as `name`,
 * and the client answers the call. */
static const char *refer_in_call(rpc_client *c, const char *tmpl, const char *notify,
                                 const char *refer_to, const char *name, pid_t *sipp_pid,
                                 int *from)
{
    char scenario[600], log[96], msgs[96];
    make_scenario(tmpl, notify, refer_to, scenario, sizeof scenario);
    rpc_client_open(c, WS_PORT, PROJECT, TOKEN, "[\"office\"]");
    snprintf(log, sizeof log, "sipp-refer-in-%s.log", name);
    snprintf(msgs, sizeof msgs, "sipp-refer-in-%s-msgs.log", name);
    *sipp_pid = sipp(scenario, REFERRER_PORT, "58140", NULL, log, msgs);
    return answer_next(c, from);
}

/* The far end's REFER put to the client: its event's index. */
static int wait_requested(rpc_client *c, int from, const char *call_id)
{
    int i = wait_inbound_refer(c, from, call_id, "requested", 10000);
    assert_true(i >= 0);
    return i;
}

/* The far end's REFER with a Replaces part and escapes in its Refer-To:
 * the client sees it as sent; accepted, sipp gets NOTIFY 200. */
static void an_inbound_refer_accepted(void **state)
{
    (void)state;
    static const char refer_to[] = "sip:carol@127.0.0.1:5099;x=%22q"
                                   "?Replaces=call7%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1";
    rpc_client c;
    int from = 0;
    pid_t p;
    const char *call_id =
        refer_in_call(&c, "uac_refer_in.xml.in", "200", refer_to, "200", &p, &from);
    /* nothing pending yet: 404 */
    expect_code(rpc_client_request(&c, "calling.refer.answer", answer_params(call_id, json_true())),
                "404");
    int i = wait_requested(&c, from, call_id);
    printf("inbound refer: Refer-To %s, Referred-By %s, Replaces %s\n",
           str_at(&c, i, "sip_refer_to"), str_at(&c, i, "sip_referred_by"),
           str_at(&c, i, "sip_refer_replaces"));
    assert_string_equal(str_at(&c, i, "sip_refer_to"), refer_to);
    assert_string_equal(str_at(&c, i, "sip_referred_by"),
                        "sip:transferor@127.0.0.1:" REFERRER_PORT);
    assert_string_equal(str_at(&c, i, "sip_refer_replaces"), "call7@host;to-tag=t1;from-tag=f1");
    expect_code(rpc_client_request(&c, "calling.refer.answer",
                                   answer_params(call_id, json_string("yes"))),
                "400");
    expect_code(rpc_client_request(&c, "calling.refer.answer", answer_params(call_id, json_true())),
                "200");
    int a = wait_inbound_refer(&c, i + 1, call_id, "accepted", 5000);
    assert_true(a >= 0);
    assert_string_equal(str_at(&c, a, "sip_notify_response_code"), "200");
    assert_string_equal(str_at(&c, a, "sip_refer_to"), refer_to);
    /* answered once */
    expect_code(rpc_client_request(&c, "calling.refer.answer", answer_params(call_id, json_true())),
                "404");
    /* the transfer is the client's: the call stays up until it ends it */
    end_call(&c, call_id);
    assert_int_equal(child_wait(p, 15000), 0); /* sipp saw 202, NOTIFY 200 terminated, BYE */
    rpc_client_close(&c);
}

static void an_inbound_refer_declined(void **state)
{
    (void)state;
    rpc_client c;
    int from = 0;
    pid_t p;
    const char *call_id = refer_in_call(&c, "uac_refer_in.xml.in", "603", CAROL, "603", &p, &from);
    int i = wait_requested(&c, from, call_id);
    assert_null(str_at(&c, i, "sip_refer_replaces"));
    expect_code(rpc_client_request(&c, "calling.refer.answer",
                                   answer_params(call_id, json_false())),
                "200");
    int d = wait_inbound_refer(&c, i + 1, call_id, "declined", 5000);
    assert_true(d >= 0);
    assert_string_equal(str_at(&c, d, "sip_notify_response_code"), "603");
    end_call(&c, call_id);
    assert_int_equal(child_wait(p, 15000), 0); /* NOTIFY 603 terminated */
    rpc_client_close(&c);
}

static void an_unanswered_inbound_refer_is_declined(void **state)
{
    (void)state;
    rpc_client c;
    int from = 0;
    pid_t p;
    const char *call_id = refer_in_call(&c, "uac_refer_in.xml.in", "480", CAROL, "480", &p, &from);
    int i = wait_requested(&c, from, call_id);
    int64_t t0 = now_ms();
    int d = wait_inbound_refer(&c, i + 1, call_id, "declined", 10000);
    int64_t waited = now_ms() - t0;
    assert_true(d >= 0);
    printf("unanswered inbound refer declined after %lld ms (refer_timeout_ms %d)\n",
           (long long)waited, REFER_TIMEOUT_MS);
    assert_true(waited >= REFER_TIMEOUT_MS - 300 && waited < REFER_TIMEOUT_MS + 1500);
    assert_string_equal(str_at(&c, d, "reason"), "timeout");
    assert_string_equal(str_at(&c, d, "sip_notify_response_code"), "480");
    /* too late now */
    expect_code(rpc_client_request(&c, "calling.refer.answer", answer_params(call_id, json_true())),
                "404");
    end_call(&c, call_id);
    assert_int_equal(child_wait(p, 15000), 0); /* NOTIFY 480 terminated */
    rpc_client_close(&c);
}

static void a_second_inbound_refer_while_one_is_pending_is_491(void **state)
{
    (void)state;
    rpc_client c;
    int from = 0;
    pid_t p;
    const char *call_id = refer_in_call(&c, "uac_refer_in_twice.xml.in", "603", CAROL, "twice",
                                        &p, &from);
    int i = wait_requested(&c, from, call_id);
    /* sipp's second REFER gets its 491 before the first is answered */
    int64_t end = now_ms() + 5000;
    while (!relayd_proc_log_contains(&server, "while another awaits the client's answer: 491") &&
           now_ms() < end)
        json_decref(rpc_client_pump(&c, NULL, 50));
    assert_true(relayd_proc_log_contains(&server, "while another awaits the client's answer: 491"));
    /* only the first was put to the client */
    assert_int_equal(wait_inbound_refer(&c, i + 1, call_id, "requested", 300), -1);
    expect_code(rpc_client_request(&c, "calling.refer.answer",
                                   answer_params(call_id, json_false())),
                "200");
    assert_true(wait_inbound_refer(&c, i + 1, call_id, "declined", 5000) >= 0);
    end_call(&c, call_id);
    assert_int_equal(child_wait(p, 15000), 0); /* 202, 491, NOTIFY 603 terminated */
    rpc_client_close(&c);
}

/* The call ends while the far end's REFER awaits the client: no NOTIFY
 * is sent (sipp, expecting one, sees the BYE instead and fails), nothing
 * is left to answer, and relayd's exit at teardown shows nothing leaked. */
static void a_pending_inbound_refer_ends_with_the_call(void **state)
{
    (void)state;
    rpc_client c;
    int from = 0;
    pid_t p;
    const char *call_id =
        refer_in_call(&c, "uac_refer_in.xml.in", "000", CAROL, "hangup", &p, &from);
    int i = wait_requested(&c, from, call_id);
    end_call(&c, call_id);
    assert_true(wait_event(&c, i + 1, "calling.call.state", call_id, 5000) >= 0);
    assert_int_not_equal(child_wait(p, 15000), 0); /* a BYE where it wanted the NOTIFY */
    json_t *res = rpc_client_request(&c, "calling.refer.answer",
                                     answer_params(call_id, json_true()));
    const char *code = rpc_code_of(res);
    printf("refer.answer after the call ended: %s\n", code ? code : "(none)");
    assert_true(code && (strcmp(code, "404") == 0 || strcmp(code, "410") == 0));
    json_decref(res);
    assert_int_equal(wait_inbound_refer(&c, i + 1, call_id, "declined", 300), -1);
    rpc_client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attended_transfer_carries_the_consult_dialog),
        cmocka_unit_test(notifies_are_matched_to_their_refer),
        cmocka_unit_test(an_unanswered_refer_is_an_error),
        cmocka_unit_test(an_inbound_refer_accepted),
        cmocka_unit_test(an_inbound_refer_declined),
        cmocka_unit_test(an_unanswered_inbound_refer_is_declined),
        cmocka_unit_test(a_second_inbound_refer_while_one_is_pending_is_491),
        cmocka_unit_test(a_pending_inbound_refer_ends_with_the_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
