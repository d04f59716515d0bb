/* librelay without a server: result classification, the exact JSON of the
 * frames it sends, and the parsing and typing of the events it receives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/client.h"
#include "client/dispatch.h"
#include "client/frames.h"
#include "client/map.h"
#include "client/result.h"
#include "common/jsonrpc.h"

/* Serializes and frees v; the caller frees the text. */
static char *dump(json_t *v)
{
    assert_non_null(v);
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    assert_non_null(s);
    return s;
}

static void assert_json(json_t *v, const char *expected)
{
    char *s = dump(v);
    assert_string_equal(s, expected);
    free(s);
}

static relay_status classify_text(const char *result, const char *error, relay_result **out)
{
    json_t *r = result ? json_loads(result, 0, NULL) : NULL;
    json_t *e = error ? json_loads(error, 0, NULL) : NULL;
    relay_status st = lr_result_classify(r, e, out);
    json_decref(r);
    json_decref(e);
    return st;
}

static void results_follow_the_code_rules(void **state)
{
    (void)state;
    relay_result *res = NULL;
    assert_int_equal(classify_text("{\"code\":\"200\",\"message\":\"Ok\"}", NULL, &res), RELAY_OK);
    assert_string_equal(relay_result_code(res), "200");
    assert_string_equal(relay_result_message(res), "Ok");
    assert_false(relay_result_call_gone(res));
    relay_result_free(res);

    assert_int_equal(classify_text("{\"code\":\"202\"}", NULL, NULL), RELAY_OK);
    assert_int_equal(classify_text("{}", NULL, NULL), RELAY_OK); /* ping, connect */

    for (const char *const *c = (const char *const[]){"404", "410", NULL}; *c; c++) {
        char text[64];
        snprintf(text, sizeof text, "{\"code\":\"%s\",\"message\":\"gone\"}", *c);
        assert_int_equal(classify_text(text, NULL, &res), RELAY_OK);
        assert_true(relay_result_call_gone(res));
        relay_result_free(res);
    }

    assert_int_equal(classify_text("{\"code\":\"409\",\"message\":\"busy\"}", NULL, &res),
                     RELAY_ERR_SERVER);
    assert_string_equal(relay_result_code(res), "409");
    assert_string_equal(relay_result_message(res), "busy");
    relay_result_free(res);

    /* numeric codes from lenient servers, and a doubly wrapped answer */
    assert_int_equal(classify_text("{\"code\":500}", NULL, NULL), RELAY_ERR_SERVER);
    assert_int_equal(classify_text("{\"result\":{\"code\":\"404\"}}", NULL, &res), RELAY_OK);
    assert_true(relay_result_call_gone(res));
    relay_result_free(res);

    assert_int_equal(classify_text(NULL, "{\"code\":-32001,\"message\":\"unauthorized\"}", &res),
                     RELAY_ERR_SERVER);
    assert_string_equal(relay_result_code(res), "-32001");
    assert_string_equal(relay_result_message(res), "unauthorized");
    assert_false(relay_result_call_gone(res));
    relay_result_free(res);

    assert_int_equal(classify_text("[1]", NULL, &res), RELAY_ERR_PROTOCOL);
    assert_null(res);
}

static void result_accessors(void **state)
{
    (void)state;
    relay_result *res = lr_result_new(json_loads(
        "{\"code\":\"200\",\"n\":7,\"f\":1.5,\"b\":true,\"o\":{},\"s\":\"x\"}", 0, NULL));
    assert_non_null(res);
    assert_string_equal(relay_result_get(res, "s"), "x");
    assert_string_equal(relay_result_get(res, "n"), "7");
    assert_string_equal(relay_result_get(res, "n"), "7"); /* cached, same text */
    assert_string_equal(relay_result_get(res, "f"), "1.5");
    assert_string_equal(relay_result_get(res, "b"), "true");
    assert_null(relay_result_get(res, "o"));
    assert_null(relay_result_get(res, "missing"));
    assert_non_null(strstr(relay_result_json(res), "\"code\":\"200\""));
    relay_result_free(res);
    assert_string_equal(relay_result_code(NULL), "");
    relay_result_free(NULL);
}

static void connect_frame_matches_the_reference_sdk(void **state)
{
    (void)state;
    const char *ctx[] = {"office", "sales", NULL};
    connect_args a = {.agent = "librelay-c/0.1.0", .project = "P", .token = "T", .contexts = ctx};
    assert_json(lr_frame_connect_params(&a),
                "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},"
                "\"agent\":\"librelay-c/0.1.0\",\"event_acks\":true,"
                "\"authentication\":{\"project\":\"P\",\"token\":\"T\"},"
                "\"contexts\":[\"office\",\"sales\"]}");

    /* resuming, with a JWT and no contexts */
    connect_args r = {.agent = "a", .jwt_token = "J", .protocol = "signalwire_abc",
                      .authorization_state = "state=="};
    assert_json(lr_frame_connect_params(&r),
                "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"agent\":\"a\","
                "\"event_acks\":true,\"authentication\":{\"jwt_token\":\"J\"},"
                "\"protocol\":\"signalwire_abc\",\"authorization_state\":\"state==\"}");
}

static void request_and_reply_frames(void **state)
{
    (void)state;
    json_t *p = lr_frame_call_params("n1", "c1");
    char *s = jsonrpc_request("id-1", "calling.answer", p);
    assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":\"id-1\",\"method\":\"calling.answer\","
                           "\"params\":{\"node_id\":\"n1\",\"call_id\":\"c1\"}}");
    free(s);
    json_decref(p);

    json_t *id = json_string("ev-9");
    s = jsonrpc_response(id, NULL);
    assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":\"ev-9\",\"result\":{}}");
    free(s);
    s = jsonrpc_error(id, -32601, "method not found");
    assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":\"ev-9\",\"error\":{\"code\":-32601,"
                           "\"message\":\"method not found\"}}");
    free(s);
    json_decref(id);
}

static void play_frame(void **state)
{
    (void)state;
    relay_status st;
    relay_media m[] = {
        {.type = "tts", .text = "Transferring to another line.", .language = "en-US"},
        {.type = "audio", .url = "https://example.com/a.wav"},
        {.type = "silence", .duration = 1.5},
    };
    relay_play_params pp = {.volume = -4, .loop = 2};
    assert_json(lr_frame_play_params("n1", "c1", "ctl", m, 3, &pp, &st),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"control_id\":\"ctl\",\"play\":["
                "{\"type\":\"tts\",\"params\":{\"text\":\"Transferring to another line.\","
                "\"language\":\"en-US\"}},"
                "{\"type\":\"audio\",\"params\":{\"url\":\"https://example.com/a.wav\"}},"
                "{\"type\":\"silence\",\"params\":{\"duration\":1.5}}],"
                "\"volume\":-4.0,\"loop\":2}");
    assert_int_equal(st, RELAY_OK);

    relay_media bad = {.type = "tts"}; /* no text */
    assert_null(lr_frame_play_params("n1", "c1", "ctl", &bad, 1, NULL, &st));
    assert_int_equal(st, RELAY_ERR_INVALID_ARG);
    assert_null(lr_frame_play_params("n1", "c1", "ctl", NULL, 0, NULL, &st));
    assert_int_equal(st, RELAY_ERR_INVALID_ARG);
}

static void refer_frame(void **state)
{
    (void)state;
    relay_status st;
    relay_device d = {.type = "sip", .uri = "sip:support@example.com"};
    assert_json(lr_frame_refer_params("n1", "c1", &d, NULL, &st),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"device\":{\"type\":\"sip\","
                "\"params\":{\"uri\":\"sip:support@example.com\"}}}");

    relay_device full = {
        .uri = "sip:bob@example.com",
        .username = "u",
        .password = "p",
        .headers_json = "[{\"name\":\"X-Id\",\"value\":\"7\"}]",
        .params_json = "{\"codecs\":[\"PCMU\"],\"uri\":\"sip:overridden@example.com\"}",
    };
    assert_json(lr_frame_refer_params("n1", "c1", &full, "https://hooks.example.com/r", &st),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"device\":{\"type\":\"sip\",\"params\":"
                "{\"codecs\":[\"PCMU\"],\"uri\":\"sip:bob@example.com\",\"username\":\"u\","
                "\"password\":\"p\",\"headers\":[{\"name\":\"X-Id\",\"value\":\"7\"}]}},"
                "\"status_url\":\"https://hooks.example.com/r\"}");

    /* the target may come under another accepted key, via params_json */
    relay_device legacy = {.params_json = "{\"to\":\"sip:a@example.com\"}"};
    assert_json(lr_frame_refer_params("n1", "c1", &legacy, NULL, &st),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"device\":{\"type\":\"sip\","
                "\"params\":{\"to\":\"sip:a@example.com\"}}}");

    relay_device none = {.type = "sip"};
    assert_null(lr_frame_refer_params("n1", "c1", &none, NULL, &st));
    assert_int_equal(st, RELAY_ERR_INVALID_ARG);
    relay_device badh = {.uri = "sip:a@b", .headers_json = "{}"};
    assert_null(lr_frame_refer_params("n1", "c1", &badh, NULL, &st));
    assert_int_equal(st, RELAY_ERR_INVALID_ARG);
    relay_device badp = {.uri = "sip:a@b", .params_json = "[]"};
    assert_null(lr_frame_refer_params("n1", "c1", &badp, NULL, &st));
    assert_null(lr_frame_refer_params("n1", "c1", NULL, NULL, &st));
}

static void events_parse_nested_and_flat(void **state)
{
    (void)state;
    json_t *p = json_loads("{\"event_type\":\"calling.call.play\",\"timestamp\":1712.5,"
                           "\"params\":{\"call_id\":\"c1\",\"control_id\":\"k1\",\"tag\":\"t\","
                           "\"state\":\"playing\"}}",
                           0, NULL);
    relay_event ev;
    json_t *in;
    assert_int_equal(lr_dispatch_parse_event(p, &ev, &in), 0);
    assert_string_equal(ev.event_type, "calling.call.play");
    assert_true(ev.timestamp > 1712.4 && ev.timestamp < 1712.6);
    assert_string_equal(ev.call_id, "c1");
    assert_string_equal(ev.control_id, "k1");
    assert_string_equal(ev.tag, "t");
    assert_string_equal(json_string_value(json_object_get(in, "state")), "playing");
    json_decref(p);

    p = json_loads("{\"event_type\":\"calling.call.state\",\"call_id\":\"c2\"}", 0, NULL);
    assert_int_equal(lr_dispatch_parse_event(p, &ev, &in), 0);
    assert_string_equal(ev.call_id, "c2");
    assert_null(ev.control_id);
    json_decref(p);

    p = json_loads("{\"params\":{}}", 0, NULL);
    assert_int_equal(lr_dispatch_parse_event(p, &ev, &in), -1);
    json_decref(p);
    assert_int_equal(lr_dispatch_parse_event(NULL, &ev, &in), -1);
}

static void refer_answer_frame(void **state)
{
    (void)state;
    /* accept is a JSON boolean: relayd answers 400 to anything else */
    assert_json(lr_frame_refer_answer_params("n1", "c1", 1),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"accept\":true}");
    assert_json(lr_frame_refer_answer_params("n1", "c1", 0),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"accept\":false}");
    assert_json(lr_frame_refer_answer_params("n1", "c1", 7),
                "{\"node_id\":\"n1\",\"call_id\":\"c1\",\"accept\":true}");
    assert_string_equal(proto_method_name(PM_REFER_ANSWER), "calling.refer.answer");
}

static void refer_events_are_typed(void **state)
{
    (void)state;
    static const struct {
        const char *state;
        relay_refer_state want;
        int final;
    } cases[] = {
        {"inProgress", RELAY_REFER_IN_PROGRESS, 0}, {"success", RELAY_REFER_SUCCESS, 1},
        {"completed", RELAY_REFER_SUCCESS, 1},      {"finished", RELAY_REFER_SUCCESS, 1},
        {"busy", RELAY_REFER_BUSY, 1},              {"noAnswer", RELAY_REFER_NO_ANSWER, 1},
        {"cancel", RELAY_REFER_CANCEL, 1},          {"error", RELAY_REFER_ERROR, 1},
        {"bogus", RELAY_REFER_UNKNOWN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *p = json_pack("{s:s,s:s,s:s,s:s}", "state", cases[i].state, "sip_refer_to",
                              "sip:support@example.com", "sip_refer_response_code", "202",
                              "sip_notify_response_code", "100");
        relay_refer_event ev;
        lr_dispatch_refer_event(p, &ev);
        assert_int_equal(ev.state, cases[i].want);
        assert_int_equal(proto_refer_state_is_final(ev.state), cases[i].final);
        assert_string_equal(ev.state_name, cases[i].state);
        assert_string_equal(ev.sip_refer_to, "sip:support@example.com");
        assert_string_equal(ev.sip_refer_response_code, "202");
        assert_string_equal(ev.sip_notify_response_code, "100");
        json_decref(p);
    }
    /* numeric codes become strings; missing fields are NULL */
    json_t *p = json_loads("{\"state\":\"busy\",\"sip_notify_response_code\":486}", 0, NULL);
    relay_refer_event ev;
    lr_dispatch_refer_event(p, &ev);
    assert_int_equal(ev.state, RELAY_REFER_BUSY);
    assert_string_equal(ev.sip_notify_response_code, "486");
    assert_null(ev.sip_refer_response_code);
    assert_null(ev.sip_refer_to);
    assert_null(ev.direction);
    json_decref(p);

    /* a REFER from the far end (relayd) */
    p = json_loads("{\"direction\":\"inbound\",\"state\":\"requested\","
                   "\"sip_refer_to\":\"sip:carol@example.com\","
                   "\"sip_referred_by\":\"sip:bob@example.com\"}",
                   0, NULL);
    lr_dispatch_refer_event(p, &ev);
    assert_string_equal(ev.direction, "inbound");
    assert_string_equal(ev.state_name, "requested");
    assert_int_equal(ev.state, RELAY_REFER_UNKNOWN);
    assert_string_equal(ev.sip_referred_by, "sip:bob@example.com");
    json_decref(p);
}

static void maps_and_pools(void **state)
{
    (void)state;
    strmap m;
    lr_strmap_init(&m);
    char keys[200][8];
    for (int i = 0; i < 200; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_int_equal(lr_strmap_put(&m, keys[i], keys[i]), 0);
    }
    assert_int_equal(m.count, 200);
    assert_ptr_equal(lr_strmap_get(&m, "k150"), keys[150]);
    assert_ptr_equal(lr_strmap_remove(&m, "k150"), keys[150]);
    assert_null(lr_strmap_get(&m, "k150"));
    assert_null(lr_strmap_remove(&m, "k150"));
    size_t n;
    void **all = lr_strmap_values(&m, &n);
    assert_int_equal(n, 199);
    free(all);
    lr_strmap_destroy(&m);

    strpool p = {0};
    const char *a = lr_strpool_intern(&p, "playing");
    assert_ptr_equal(lr_strpool_intern(&p, "playing"), a);
    assert_ptr_not_equal(lr_strpool_intern(&p, "finished"), a);
    lr_strpool_free(&p);
}

static void options_and_arguments(void **state)
{
    (void)state;
    relay_client_options o;
    relay_client_options_init(&o);
    assert_int_equal(o.log_level, RELAY_LOG_WARN);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_ERR_INVALID_ARG); /* no host */
    o.host = "example.signalwire.com:8443";
    assert_int_equal(relay_client_new(&o, &c), RELAY_ERR_INVALID_ARG); /* no credentials */
    o.project = "p";
    o.token = "t";
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_string_equal(c->host, "example.signalwire.com");
    assert_int_equal(c->port, 8443);
    assert_string_equal(c->host_header, "example.signalwire.com:8443");
    assert_string_equal(relay_client_protocol(c), "");
    /* not connected: requests are refused, not hung */
    assert_int_equal(relay_client_execute(c, "signalwire.ping", NULL, NULL), RELAY_ERR_CLOSED);
    assert_int_equal(relay_client_execute(c, "x", "[1]", NULL), RELAY_ERR_INVALID_ARG);
    relay_client_stop(c);
    assert_int_equal(relay_client_run(c), RELAY_OK); /* stop before run: returns at once */
    relay_client_free(c);

    o.host = "relay.example.com";
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(c->port, 443);
    assert_string_equal(c->host_header, "relay.example.com");
    relay_client_free(c);
    o.host = "h:notaport";
    assert_int_equal(relay_client_new(&o, &c), RELAY_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_follow_the_code_rules),
        cmocka_unit_test(result_accessors),
        cmocka_unit_test(connect_frame_matches_the_reference_sdk),
        cmocka_unit_test(request_and_reply_frames),
        cmocka_unit_test(play_frame),
        cmocka_unit_test(refer_frame),
        cmocka_unit_test(refer_answer_frame),
        cmocka_unit_test(events_parse_nested_and_flat),
        cmocka_unit_test(refer_events_are_typed),
        cmocka_unit_test(maps_and_pools),
        cmocka_unit_test(options_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
