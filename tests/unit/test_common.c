/* Credential scrubbing, SIP URI validation, uuids, JSON-RPC envelopes, the mailbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/jsonrpc.h"
#include "common/log.h"
#include "common/mailbox.h"
#include "common/sip_header.h"
#include "common/sip_uri.h"
#include "common/uuid.h"

static void scrub_masks_every_secret(void **state)
{
    (void)state;
    const char *frame =
        "{\"method\":\"signalwire.connect\",\"params\":{\"authentication\":"
        "{\"project\":\"p-123-secret\",\"token\":\"PT-tok\"},\"jwt_token\" : \"eyJhbGci\","
        "\"authorization_state\":\"c3RhdGU=\",\"contexts\":[\"office\"]}}";
    char *s = log_scrub(frame);
    assert_non_null(s);
    assert_null(strstr(s, "p-123-secret"));
    assert_null(strstr(s, "PT-tok"));
    assert_null(strstr(s, "eyJhbGci"));
    assert_null(strstr(s, "c3RhdGU="));
    assert_non_null(strstr(s, "\"authentication\":\"***\"")); /* the whole object */
    assert_non_null(strstr(s, "\"jwt_token\" : \"***\""));
    assert_non_null(strstr(s, "\"contexts\":[\"office\"]"));
    free(s);
}

static void scrub_handles_short_truncated_and_escaped(void **state)
{
    (void)state;
    /* empty secrets grow on masking; the buffer must hold them */
    char *s = log_scrub("{\"token\":\"\",\"token\":\"\",\"token\":\"\"}");
    assert_string_equal(s, "{\"token\":\"***\",\"token\":\"***\",\"token\":\"***\"}");
    free(s);
    s = log_scrub("{\"token\":\"abc\\\"def\",\"x\":1}");
    assert_string_equal(s, "{\"token\":\"***\",\"x\":1}");
    free(s);
    s = log_scrub("{\"token\":\"unterminated");
    assert_null(strstr(s, "unterminated"));
    free(s);
    s = log_scrub("plain text \"token\"");
    assert_string_equal(s, "plain text \"token\"");
    free(s);
    assert_null(log_scrub(NULL));
}

/* Every form a credential can take in a frame: an escaped key name, a key
 * in other case, an array, an object or a number as its value, a JWT
 * inside an unrelated string or bare in text. */
static void scrub_masks_every_form(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"{\"tok\\u0065n\":\"S1\"}", "{\"tok\\u0065n\":\"***\"}"},
        {"{\"TOKEN\":\"S1\",\"a\":1}", "{\"TOKEN\":\"***\",\"a\":1}"},
        {"{\"token\":[\"S1\",\"S2\"],\"a\":1}", "{\"token\":\"***\",\"a\":1}"},
        {"{\"password\":{\"x\":\"S1\",\"y\":[\"}\"]},\"a\":1}", "{\"password\":\"***\",\"a\":1}"},
        {"{\"project\":12345,\"a\":1}", "{\"project\":\"***\",\"a\":1}"},
        {"{\"token\":[\"S1\",", "{\"token\":\"***\""},
        {"{\"note\":\"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln more\"}",
         "{\"note\":\"Bearer *** more\"}"},
        {"jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln;x", "jwt=***;x"},
        {"eyJust a word, and eyJ.x not a token", "eyJust a word, and eyJ.x not a token"},
        {"\"token\"", "\"token\""},
        /* quotes paired wrongly from the start: the key is still found */
        {"{\"id\":\"c1:\"x\",\"token\":\"t\"}", "{\"id\":\"c1:\"x\",\"token\":\"***\"}"},
        {"\"token\":", "\"token\":"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = log_scrub(cases[i].in);
        assert_non_null(s);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("case %zu: %s\n  gave %s\n  want %s", i, cases[i].in, s, cases[i].want);
        free(s);
    }
}

static void sip_uri_accepts_valid(void **state)
{
    (void)state;
    const char *ok[] = {"sip:support@example.com", "sips:bob@10.0.0.1:5061",
                        "sip:127.0.0.1:5080", "sip:alice@[::1]:5060;transport=udp",
                        "sip:+15551234567@carrier.example;user=phone", NULL};
    for (int i = 0; ok[i]; i++)
        assert_int_equal(sip_uri_validate(ok[i], NULL), 0);
}

static void sip_uri_rejects_hostile(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(sip_uri_validate("sip:a@b\r\nX-Evil: 1", &why), -1);
    assert_string_equal(why, "URI contains CR or LF");
    assert_int_equal(sip_uri_validate("sip:a@b\nVia: x", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:a b@c", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:a@b>;x=<y", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:a@\"b\"", NULL), -1);
    assert_int_equal(sip_uri_validate("http://example.com", &why), -1);
    assert_string_equal(why, "not a sip: or sips: URI");
    assert_int_equal(sip_uri_validate("tel:+1555", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:@host", NULL), -1);
    assert_int_equal(sip_uri_validate("sip:a@", NULL), -1);
    assert_int_equal(sip_uri_validate("", NULL), -1);
    assert_int_equal(sip_uri_validate(NULL, NULL), -1);
    char big[SIP_URI_MAX_LEN + 16] = "sip:";
    memset(big + 4, 'a', sizeof big - 5);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sip_uri_validate(big, &why), -1);
    assert_string_equal(why, "URI too long");
}

static int header_ok(const char *name, const char *value, const char **why)
{
    return sip_header_validate(name, strlen(name), value, strlen(value), why) == 0;
}

static void sip_header_accepts_custom(void **state)
{
    (void)state;
    assert_true(header_ok("X-Account", "42", NULL));
    assert_true(header_ok("User-to-User", "56a390f3d2b7310023a;encoding=hex", NULL));
    assert_true(header_ok("Reason", "SIP;cause=200;text=\"transfer\"\tok", NULL));
}

static void sip_header_refuses_reserved_long_and_compact(void **state)
{
    (void)state;
    const char *why = NULL;
    /* every long name the stack writes, in any case */
    const char *lng[] = {"Via", "FROM", "to", "call-id", "CSeq", "Contact", "Max-Forwards",
                         "Route", "Record-Route", "Content-Length", "content-type",
                         "Content-Encoding", "Supported", "Subject", "Event", "Allow-Events",
                         "Refer-To", "REFERRED-BY", "Session-Expires", "Identity",
                         "Proxy-Authorization", "Authorization", "Require"};
    for (size_t i = 0; i < sizeof lng / sizeof lng[0]; i++) {
        assert_false(header_ok(lng[i], "x", &why));
        assert_string_equal(why, "header is reserved (set by relayd itself)");
    }
    /* i: would replace the Call-ID, v: add a Via... and every other letter */
    const char *compact = "ivftmlckesorbxuyanjd";
    for (const char *p = compact; *p; p++) {
        char name[2] = {*p, 0};
        assert_false(header_ok(name, "x", NULL));
        name[0] = (char)(*p - 'a' + 'A');
        assert_false(header_ok(name, "x", NULL));
    }
    assert_true(sip_header_reserved("q"));
    assert_false(sip_header_reserved("X-i"));
}

static void sip_header_refuses_line_breaks_nul_and_size(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_false(header_ok("X-A", "1\r\nVia: SIP/2.0/UDP evil", &why));
    assert_string_equal(why, "header value contains CR, LF or NUL");
    assert_false(header_ok("X-A", "1\nVia: x", NULL));
    assert_false(header_ok("X-A", "a\x01b", NULL));
    /* a NUL inside the JSON string: the length says there is more */
    assert_int_equal(sip_header_validate("X-A", 3, "ok\0\r\nVia: x", 13, &why), -1);
    assert_string_equal(why, "header value contains CR, LF or NUL");
    assert_int_equal(sip_header_validate("X-A\0i", 5, "v", 1, NULL), -1);
    assert_false(header_ok("X A", "v", &why));
    assert_string_equal(why, "header name is not a SIP token");
    assert_false(header_ok("X-A:", "v", NULL));
    assert_false(header_ok("", "v", NULL));
    char big[SIP_HEADER_VALUE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(header_ok("X-A", big, &why));
    assert_string_equal(why, "header name or value too long");
    big[SIP_HEADER_VALUE_MAX] = '\0';
    assert_true(header_ok("X-A", big, NULL));
}

static void uuids_are_v4_and_distinct(void **state)
{
    (void)state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    assert_int_equal(uuid_v4(a), 0);
    assert_int_equal(uuid_v4(b), 0);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
}

/* jansson's own rendering of an envelope: what jsonrpc.c must write. */
static char *reference(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return text;
}

static void envelopes_match_jansson_byte_for_byte(void **state)
{
    (void)state;
    /* plain strings (the direct path) and strings that need escaping
     * (jansson's path) must give the same bytes as jansson itself */
    const char *ids[] = {"3f1c2e4a-9b1d-4c3e-8f00-0123456789ab", "ev-\"quoted\"", "caf\xc3\xa9",
                         "tab\there", "", NULL};
    const char *methods[] = {"signalwire.ping", "calling.play", "x\\y", NULL};
    json_t *params[] = {NULL, json_object(),
                        json_pack("{s:s, s:[i, f, b], s:n, s:{s:s}}", "call_id", "c-1", "list",
                                  7, 0.5, 1, "nothing", "nested", "k", "v\"/\u00e9")};
    for (size_t i = 0; ids[i]; i++) {
        for (size_t m = 0; methods[m]; m++) {
            for (size_t p = 0; p < 3; p++) {
                char *got = jsonrpc_request(ids[i], methods[m], params[p]);
                char *want = reference(json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id",
                                                 ids[i], "method", methods[m], "params",
                                                 params[p] ? json_incref(params[p])
                                                           : json_object()));
                assert_non_null(got);
                assert_string_equal(got, want);
                free(got);
                free(want);
            }
        }
        json_t *idv = json_string(ids[i]);
        for (size_t p = 0; p < 3; p++) {
            char *got = jsonrpc_response(idv, params[p]);
            char *want = reference(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", idv,
                                             "result",
                                             params[p] ? json_incref(params[p]) : json_object()));
            assert_string_equal(got, want);
            free(got);
            free(want);
        }
        json_decref(idv);
    }
    /* integer, null and missing ids */
    json_t *odd[] = {json_integer(42), json_null(), NULL};
    for (size_t i = 0; i < 3; i++) {
        char *got = jsonrpc_response(odd[i], NULL);
        char *want = reference(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                                         odd[i] ? odd[i] : json_null(), "result", json_object()));
        assert_string_equal(got, want);
        free(got);
        free(want);
        json_decref(odd[i]);
    }
    for (size_t p = 0; p < 3; p++)
        json_decref(params[p]);
}

typedef struct item {
    mailbox_msg link;
    int value;
} item;

static int wakes;
static void count_wake(void *arg) { (void)arg; wakes++; }

static void mailbox_keeps_order(void **state)
{
    (void)state;
    mailbox mb;
    mailbox_init(&mb, count_wake, NULL);
    item items[3] = {{.value = 1}, {.value = 2}, {.value = 3}};
    for (int i = 0; i < 3; i++)
        mailbox_push(&mb, &items[i].link);
    assert_int_equal(wakes, 3);
    int expect = 1;
    for (mailbox_msg *m = mailbox_take_all(&mb); m; m = m->next)
        assert_int_equal(((item *)m)->value, expect++);
    assert_int_equal(expect, 4);
    assert_null(mailbox_take_all(&mb));
    mailbox_destroy(&mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scrub_masks_every_secret),
        cmocka_unit_test(scrub_handles_short_truncated_and_escaped),
        cmocka_unit_test(scrub_masks_every_form),
        cmocka_unit_test(sip_uri_accepts_valid),
        cmocka_unit_test(sip_uri_rejects_hostile),
        cmocka_unit_test(sip_header_accepts_custom),
        cmocka_unit_test(sip_header_refuses_reserved_long_and_compact),
        cmocka_unit_test(sip_header_refuses_line_breaks_nul_and_size),
        cmocka_unit_test(uuids_are_v4_and_distinct),
        cmocka_unit_test(envelopes_match_jansson_byte_for_byte),
        cmocka_unit_test(mailbox_keeps_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
