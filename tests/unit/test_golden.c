/*
 * The golden frames: tests/golden/<method>.json holds, for every method a
 * client sends (the common table's rows not of role SERVER), the params
 * the reference Python SDK sends for one documented call. Here librelay
 * builds each of those frames with its typed wrapper (or, where it has
 * none, relay_client_execute; some through their callback form) against an
 * in-process fake server that captures what arrives, and the method and
 * params must equal the file's:
 * JSON equality after the placeholders NODE and CALL become the fake
 * call's ids; "CONTROL" means a control_id the client made (a v4 uuid, and
 * the action's own for sub-methods). The test fails when a table method
 * has no file, a file names no table method, or a file is not exercised.
 *
 * The fake server is tests/support/fake_relay.c (ports 38000-38999 here).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "client/client.h"
#include "fake_relay.h"

/* ------------------------------------------------------------ golden files */

#include <ctype.h>
#include <dirent.h>

#define NODE_ID "node-g1"
#define CALL_ID "call-g1"

static char *golden_path(const char *method)
{
    const char *dir = getenv("RELAY_SOURCE_DIR");
    assert_non_null(dir);
    size_t n = strlen(dir) + strlen(method) + sizeof "/tests/golden/.json";
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/tests/golden/%s.json", dir, method);
    return path;
}

static json_t *golden_load(const char *method)
{
    char *path = golden_path(method);
    json_error_t err;
    json_t *g = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!g)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    free(path);
    assert_string_equal(json_string_value(json_object_get(g, "method")), method);
    assert_true(json_is_string(json_object_get(g, "args")));
    assert_true(json_is_object(json_object_get(g, "params")));
    return g;
}

static int is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* NODE and CALL become the call's ids, wherever they stand as a value. */
static void substitute(json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, x) {
            if (json_is_string(x) && strcmp(json_string_value(x), "NODE") == 0)
                json_object_set_new(v, key, json_string(NODE_ID));
            else if (json_is_string(x) && strcmp(json_string_value(x), "CALL") == 0)
                json_object_set_new(v, key, json_string(CALL_ID));
            else
                substitute(x);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) substitute(x);
    }
}

/* JSON equality, numbers by value (Python's 5.0 and 5 are one number to a
 * JSON reader; jansson's json_equal tells integer from real). */
static int same_json(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return 0;
    const char *key;
    json_t *x;
    size_t i;
    switch (json_typeof(a)) {
    case JSON_OBJECT:
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach(a, key, x) {
            json_t *y = json_object_get(b, key);
            if (!y || !same_json(x, y))
                return 0;
        }
        return 1;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        json_array_foreach(a, i, x) if (!same_json(x, json_array_get(b, i))) return 0;
        return 1;
    default:
        return json_equal(a, b);
    }
}

/* What one golden entry has at hand while it sends its frame. */
typedef struct golden_ctx {
    relay_client *client;
    relay_call *call;
    /* Actions started by the start entries, for their sub-methods. */
    relay_action *play, *record, *collect, *prompt, *detect, *tap, *stream, *send_fax,
        *receive_fax, *pay, *transcribe, *ai;
    const char *expect_control; /* a sub-method's: its action's control_id */
} golden_ctx;

static void ok(relay_status st)
{
    assert_int_equal(st, RELAY_OK);
}

static const char *control_of(golden_ctx *t, relay_action *a)
{
    assert_non_null(a);
    return t->expect_control = relay_action_control_id(a);
}

static void client_exec(golden_ctx *t, const char *method, const char *params)
{
    ok(relay_client_execute(t->client, method, params, NULL));
}

/* The callback forms: cb records the answer; async_done() waits for it. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    relay_status st;
    char code[8];
} CB = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, RELAY_OK, ""};

static void on_answer(relay_status st, relay_result *res, void *user)
{
    (void)user;
    pthread_mutex_lock(&CB.lock);
    CB.calls++;
    CB.st = st;
    snprintf(CB.code, sizeof CB.code, "%s", res ? relay_result_code(res) : "");
    pthread_cond_broadcast(&CB.cond);
    pthread_mutex_unlock(&CB.lock);
}

/* Waits for the callback of the _async request just made (st: its return). */
static void async_done(relay_status st)
{
    assert_int_equal(st, RELAY_OK);
    struct timespec dl = fake_deadline(3000);
    pthread_mutex_lock(&CB.lock);
    while (CB.calls == 0 && pthread_cond_timedwait(&CB.cond, &CB.lock, &dl) != ETIMEDOUT)
        ;
    int calls = CB.calls;
    relay_status got = CB.st;
    char code[8];
    snprintf(code, sizeof code, "%s", CB.code);
    CB.calls = 0;
    pthread_mutex_unlock(&CB.lock);
    assert_int_equal(calls, 1);
    assert_int_equal(got, RELAY_OK);
    assert_string_equal(code, "200");
}

#define TTS "[{\"type\":\"tts\",\"params\":{\"text\":\"Welcome\"}}]"
#define DIGITS "{\"max\":4,\"terminators\":\"#\",\"digit_timeout\":5.0}"

/* session */
static void g_ping(golden_ctx *t) { client_exec(t, "signalwire.ping", "{}"); }
static void g_receive(golden_ctx *t)
{
    static const char *const ctx[] = {"sales", "support", NULL};
    ok(relay_client_receive(t->client, ctx, NULL));
}
static void g_unreceive(golden_ctx *t)
{
    static const char *const ctx[] = {"sales", NULL};
    ok(relay_client_unreceive(t->client, ctx, NULL));
}
/* call control */
static void g_answer(golden_ctx *t) { ok(relay_call_answer(t->call, NULL)); }
static void g_end(golden_ctx *t) { ok(relay_call_hangup(t->call, NULL, NULL)); }
static void g_pass(golden_ctx *t) { ok(relay_call_pass(t->call, NULL)); }
static void g_hold(golden_ctx *t) { async_done(relay_call_hold_async(t->call, on_answer, NULL)); }
static void g_unhold(golden_ctx *t) { ok(relay_call_unhold(t->call, NULL)); }
static void g_denoise(golden_ctx *t) { ok(relay_call_denoise(t->call, NULL)); }
static void g_denoise_stop(golden_ctx *t)
{
    async_done(relay_call_denoise_stop_async(t->call, on_answer, NULL));
}
static void g_echo(golden_ctx *t)
{
    relay_echo_params p = {.timeout = 30, .status_url = "https://example.com/echo"};
    async_done(relay_call_echo_async(t->call, &p, on_answer, NULL));
}
static void g_send_digits(golden_ctx *t)
{
    relay_action *a = NULL;
    ok(relay_call_send_digits_async(t->call, "1234#", &a));
    relay_action_free(a);
}
static void g_bind_digit(golden_ctx *t)
{
    relay_bind_digit_params p = {.digits = "*1",
                                 .bind_method = "calling.play",
                                 .bind_params_json = "{\"play\":" TTS "}",
                                 .realm = "menu",
                                 .max_triggers = 2};
    async_done(relay_call_bind_digit_async(t->call, &p, on_answer, NULL));
}
static void g_clear_digit_bindings(golden_ctx *t)
{
    ok(relay_call_clear_digit_bindings(t->call, "menu", NULL));
}
static void g_user_event(golden_ctx *t) { ok(relay_call_user_event(t->call, "checkout", NULL, NULL)); }
static void g_queue_enter(golden_ctx *t)
{
    relay_queue_params p = {.queue_name = "support", .status_url = "https://example.com/q"};
    ok(relay_call_queue_enter(t->call, &p, NULL));
}
static void g_queue_leave(golden_ctx *t)
{
    relay_queue_params p = {.queue_name = "support", .queue_id = "q-1"};
    ok(relay_call_queue_leave(t->call, &p, NULL));
}
static void g_transfer(golden_ctx *t)
{
    ok(relay_call_transfer(t->call, "https://example.com/swml", NULL, NULL));
}
static void g_refer(golden_ctx *t)
{
    relay_device d = {.type = "sip", .uri = "sip:support@example.com"};
    ok(relay_call_refer(t->call, &d, "https://example.com/refer", NULL));
}
/* a relayd extension: the frame is librelay's own (docs/relayd.md) */
static void g_refer_answer(golden_ctx *t) { ok(relay_call_refer_answer(t->call, 0, NULL)); }
static void g_begin(golden_ctx *t)
{
    client_exec(t, "calling.begin",
                "{\"tag\":\"TAG\",\"device\":{\"type\":\"phone\",\"params\":{\"from_number\":"
                "\"+15551230000\",\"to_number\":\"+15559870000\"}}}");
}
/* media */
static void g_play(golden_ctx *t)
{
    relay_media m = relay_media_tts("Welcome");
    relay_play_params p = {.volume = -6};
    ok(relay_call_play_async(t->call, &m, 1, &p, &t->play));
}
static void g_play_stop(golden_ctx *t) { control_of(t, t->play); ok(relay_action_stop(t->play, NULL)); }
static void g_play_pause(golden_ctx *t) { control_of(t, t->play); ok(relay_action_pause(t->play, NULL)); }
static void g_play_resume(golden_ctx *t) { control_of(t, t->play); ok(relay_action_resume(t->play, NULL)); }
static void g_play_volume(golden_ctx *t) { control_of(t, t->play); ok(relay_action_volume(t->play, -4, NULL)); }
static void g_record(golden_ctx *t)
{
    relay_record_params p = {.audio_json = "{\"beep\":true,\"terminators\":\"#\"}"};
    ok(relay_call_record_async(t->call, &p, &t->record));
}
static void g_record_stop(golden_ctx *t) { control_of(t, t->record); ok(relay_action_stop(t->record, NULL)); }
static void g_record_pause(golden_ctx *t) { control_of(t, t->record); ok(relay_action_pause(t->record, NULL)); }
static void g_record_resume(golden_ctx *t) { control_of(t, t->record); ok(relay_action_resume(t->record, NULL)); }
static void g_collect(golden_ctx *t)
{
    relay_collect_params p = {
        .digits_json = DIGITS, .initial_timeout = 10, .partial_results = RELAY_BOOL_TRUE};
    ok(relay_call_collect_async(t->call, &p, &t->collect));
}
static void g_collect_stop(golden_ctx *t) { control_of(t, t->collect); ok(relay_action_stop(t->collect, NULL)); }
static void g_collect_timers(golden_ctx *t)
{
    control_of(t, t->collect);
    ok(relay_action_start_input_timers(t->collect, NULL));
}
static void g_prompt(golden_ctx *t)
{
    ok(relay_call_prompt_tts_async(t->call, "Welcome", "{\"digits\":" DIGITS "}", -6, &t->prompt));
}
static void g_prompt_stop(golden_ctx *t) { control_of(t, t->prompt); ok(relay_action_stop(t->prompt, NULL)); }
static void g_prompt_volume(golden_ctx *t) { control_of(t, t->prompt); ok(relay_action_volume(t->prompt, 3, NULL)); }
static void g_detect(golden_ctx *t)
{
    relay_detect_machine_params p = {.initial_timeout = 4.5, .timeout = 30};
    ok(relay_call_detect_answering_machine_async(t->call, &p, &t->detect));
}
static void g_detect_stop(golden_ctx *t) { control_of(t, t->detect); ok(relay_action_stop(t->detect, NULL)); }
static void g_tap(golden_ctx *t)
{
    relay_tap_params p = {
        .tap_json = "{\"type\":\"audio\",\"params\":{\"direction\":\"both\"}}",
        .device_json = "{\"type\":\"ws\",\"params\":{\"uri\":\"wss://example.com/tap\"}}"};
    ok(relay_call_tap_async(t->call, &p, &t->tap));
}
static void g_tap_stop(golden_ctx *t) { control_of(t, t->tap); ok(relay_action_stop(t->tap, NULL)); }
static void g_stream(golden_ctx *t)
{
    relay_stream_params p = {
        .url = "wss://example.com/stream", .codec = "PCMU", .track = "both_tracks"};
    ok(relay_call_stream_async(t->call, &p, &t->stream));
}
static void g_stream_stop(golden_ctx *t) { control_of(t, t->stream); ok(relay_action_stop(t->stream, NULL)); }
static void g_send_fax(golden_ctx *t)
{
    relay_send_fax_params p = {.document = "https://example.com/doc.pdf",
                               .identity = "+15551230000"};
    ok(relay_call_send_fax_async(t->call, &p, &t->send_fax));
}
static void g_send_fax_stop(golden_ctx *t) { control_of(t, t->send_fax); ok(relay_action_stop(t->send_fax, NULL)); }
static void g_receive_fax(golden_ctx *t) { ok(relay_call_receive_fax_async(t->call, NULL, &t->receive_fax)); }
static void g_receive_fax_stop(golden_ctx *t)
{
    control_of(t, t->receive_fax);
    ok(relay_action_stop(t->receive_fax, NULL));
}
static void g_pay(golden_ctx *t)
{
    relay_pay_params p = {.payment_connector_url = "https://example.com/pay",
                          .charge_amount = "9.99",
                          .currency = "usd"};
    ok(relay_call_pay_async(t->call, &p, &t->pay));
}
static void g_pay_stop(golden_ctx *t) { control_of(t, t->pay); ok(relay_action_stop(t->pay, NULL)); }
static void g_transcribe(golden_ctx *t)
{
    relay_transcribe_params p = {.status_url = "https://example.com/tr"};
    ok(relay_call_transcribe_async(t->call, &p, &t->transcribe));
}
static void g_transcribe_stop(golden_ctx *t)
{
    control_of(t, t->transcribe);
    ok(relay_action_stop(t->transcribe, NULL));
}
static void g_live_transcribe(golden_ctx *t)
{
    ok(relay_call_live_transcribe(t->call, "{\"start\":{\"lang\":\"en-US\"}}", NULL, NULL));
}
static void g_live_translate(golden_ctx *t)
{
    ok(relay_call_live_translate(t->call, "{\"start\":{\"from_lang\":\"en-US\",\"to_lang\":\"es-ES\"}}",
                                 "https://example.com/lt", NULL, NULL));
}
/* outbound and bridging */
static void g_dial(golden_ctx *t)
{
    client_exec(t, "calling.dial",
                "{\"tag\":\"TAG\",\"devices\":[[{\"type\":\"phone\",\"params\":{\"from_number\":"
                "\"+15551230000\",\"to_number\":\"+15559870000\"}}]]}");
}
static void g_connect(golden_ctx *t)
{
    relay_connect_params p = {
        .devices_json = "[[{\"type\":\"sip\",\"params\":{\"from\":\"sip:a@example.com\","
                        "\"to\":\"sip:b@example.com\"}}]]",
        .ringback_json = "[{\"type\":\"ringtone\",\"params\":{\"name\":\"us\"}}]"};
    relay_action *a = NULL;
    ok(relay_call_connect_async(t->call, &p, &a));
    relay_action_free(a);
}
static void g_disconnect(golden_ctx *t) { ok(relay_call_disconnect(t->call, NULL)); }
static void g_join_conference(golden_ctx *t)
{
    relay_conference_params p = {.name = "team", .muted = RELAY_BOOL_FALSE, .beep = "true"};
    async_done(relay_call_join_conference_async(t->call, &p, on_answer, NULL));
}
static void g_leave_conference(golden_ctx *t)
{
    ok(relay_call_leave_conference(t->call, "conf-1", NULL, NULL));
}
static void g_join_room(golden_ctx *t)
{
    ok(relay_call_join_room(t->call, "standup", "https://example.com/room", NULL, NULL));
}
static void g_leave_room(golden_ctx *t)
{
    async_done(relay_call_leave_room_async(t->call, NULL, on_answer, NULL));
}
/* AI */
static void g_ai(golden_ctx *t)
{
    relay_ai_params p = {.prompt_json = "{\"text\":\"You are a helpful agent.\"}",
                         .hints_json = "[\"RELAY\"]"};
    ok(relay_call_ai_async(t->call, &p, &t->ai));
}
static void g_ai_stop(golden_ctx *t) { control_of(t, t->ai); ok(relay_action_stop(t->ai, NULL)); }
static void g_ai_message(golden_ctx *t)
{
    relay_ai_message_params p = {.message_text = "The caller is a VIP.", .role = "system"};
    async_done(relay_call_ai_message_async(t->call, &p, on_answer, NULL));
}
static void g_ai_hold(golden_ctx *t) { ok(relay_call_ai_hold(t->call, "30", "Please hold.", NULL)); }
static void g_ai_unhold(golden_ctx *t) { ok(relay_call_ai_unhold(t->call, "Thanks for holding.", NULL)); }
static void g_bedrock(golden_ctx *t)
{
    relay_bedrock_params p = {.prompt_json = "{\"text\":\"Be brief.\"}",
                              .post_prompt_url = "https://example.com/pp"};
    async_done(relay_call_amazon_bedrock_async(t->call, &p, on_answer, NULL));
}
static void g_messaging_send(golden_ctx *t)
{
    /* The fake's answer has no message_id: the send is answered, the
     * message is not followed (it completes at once). */
    relay_message_params p = {.context = "office", .to_number = "+15559870000",
                              .from_number = "+15551230000", .body = "Hello"};
    relay_message *m = NULL;
    ok(relay_client_send_message(t->client, &p, &m));
    assert_non_null(m);
    assert_int_equal(relay_message_wait(m, 1000, NULL), RELAY_ERR_PROTOCOL);
    relay_message_free(m);
}

/* In this order: starts before their sub-methods; pass, transfer and end
 * last (a successful pass or transfer makes the client forget the call). */
static const struct {
    const char *method;
    void (*send)(golden_ctx *t);
} ENTRIES[] = {
    {"signalwire.ping", g_ping},
    {"signalwire.receive", g_receive},
    {"signalwire.unreceive", g_unreceive},
    {"calling.answer", g_answer},
    {"calling.hold", g_hold},
    {"calling.unhold", g_unhold},
    {"calling.denoise", g_denoise},
    {"calling.denoise.stop", g_denoise_stop},
    {"calling.echo", g_echo},
    {"calling.send_digits", g_send_digits},
    {"calling.bind_digit", g_bind_digit},
    {"calling.clear_digit_bindings", g_clear_digit_bindings},
    {"calling.user_event", g_user_event},
    {"calling.queue.enter", g_queue_enter},
    {"calling.queue.leave", g_queue_leave},
    {"calling.refer", g_refer},
    {"calling.refer.answer", g_refer_answer},
    {"calling.begin", g_begin},
    {"calling.play", g_play},
    {"calling.play.pause", g_play_pause},
    {"calling.play.resume", g_play_resume},
    {"calling.play.volume", g_play_volume},
    {"calling.play.stop", g_play_stop},
    {"calling.record", g_record},
    {"calling.record.pause", g_record_pause},
    {"calling.record.resume", g_record_resume},
    {"calling.record.stop", g_record_stop},
    {"calling.collect", g_collect},
    {"calling.collect.start_input_timers", g_collect_timers},
    {"calling.collect.stop", g_collect_stop},
    {"calling.play_and_collect", g_prompt},
    {"calling.play_and_collect.volume", g_prompt_volume},
    {"calling.play_and_collect.stop", g_prompt_stop},
    {"calling.detect", g_detect},
    {"calling.detect.stop", g_detect_stop},
    {"calling.tap", g_tap},
    {"calling.tap.stop", g_tap_stop},
    {"calling.stream", g_stream},
    {"calling.stream.stop", g_stream_stop},
    {"calling.send_fax", g_send_fax},
    {"calling.send_fax.stop", g_send_fax_stop},
    {"calling.receive_fax", g_receive_fax},
    {"calling.receive_fax.stop", g_receive_fax_stop},
    {"calling.pay", g_pay},
    {"calling.pay.stop", g_pay_stop},
    {"calling.transcribe", g_transcribe},
    {"calling.transcribe.stop", g_transcribe_stop},
    {"calling.live_transcribe", g_live_transcribe},
    {"calling.live_translate", g_live_translate},
    {"calling.dial", g_dial},
    {"calling.connect", g_connect},
    {"calling.disconnect", g_disconnect},
    {"calling.join_conference", g_join_conference},
    {"calling.leave_conference", g_leave_conference},
    {"calling.join_room", g_join_room},
    {"calling.leave_room", g_leave_room},
    {"calling.ai", g_ai},
    {"calling.ai_message", g_ai_message},
    {"calling.ai_hold", g_ai_hold},
    {"calling.ai_unhold", g_ai_unhold},
    {"calling.ai.stop", g_ai_stop},
    {"calling.amazon_bedrock", g_bedrock},
    {"messaging.send", g_messaging_send},
    {"calling.pass", g_pass},
    {"calling.transfer", g_transfer},
    {"calling.end", g_end},
};
#define N_ENTRIES (sizeof ENTRIES / sizeof ENTRIES[0])

static int count_method(fake *f, const char *method)
{
    int n = 0;
    size_t i;
    json_t *m;
    pthread_mutex_lock(&f->lock);
    json_array_foreach(f->received, i, m) {
        const char *mm = json_string_value(json_object_get(m, "method"));
        n += mm && strcmp(mm, method) == 0;
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* The frame's params against the golden file's. */
static void compare(const char *method, json_t *frame, const char *expect_control)
{
    json_t *g = golden_load(method);
    json_t *want = json_deep_copy(json_object_get(g, "params"));
    json_t *got = json_object_get(frame, "params");
    assert_string_equal(json_string_value(json_object_get(frame, "method")), method);
    substitute(want);
    json_t *wc = json_object_get(want, "control_id");
    if (json_is_string(wc) && strcmp(json_string_value(wc), "CONTROL") == 0) {
        const char *cid = json_string_value(json_object_get(got, "control_id"));
        if (!is_uuid(cid))
            fail_msg("%s: control_id %s is not a uuid", method, cid ? cid : "(none)");
        if (expect_control)
            assert_string_equal(cid, expect_control);
        json_object_set_new(want, "control_id", json_string(cid));
    }
    if (!same_json(want, got)) {
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        char *h = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("%s\n  golden: %s\n  sent:   %s\n", method, w, h);
        free(w);
        free(h);
        fail_msg("%s: the frame differs from tests/golden/%s.json", method, method);
    }
    json_decref(want);
    json_decref(g);
}

/* ------------------------------------------------------------ the tests */

static int in_table(const char *name)
{
    const proto_method_info *mi = proto_method_get(proto_method_from_name(name));
    return mi && mi->role != PROTO_ROLE_SERVER;
}

static void every_table_method_has_a_golden_file_and_no_more(void **state)
{
    (void)state;
    size_t methods = 0;
    for (int m = 1; m < PM__COUNT; m++) {
        const proto_method_info *mi = proto_method_get((proto_method)m);
        if (mi->role == PROTO_ROLE_SERVER)
            continue;
        methods++;
        json_t *g = golden_load(mi->name); /* fails when missing or malformed */
        json_decref(g);
    }
    assert_int_equal(methods, proto_client_method_count());

    char *dir = golden_path("x");
    *strrchr(dir, '/') = '\0';
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            fail_msg("tests/golden/%s is not a golden file", e->d_name);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), e->d_name);
        if (!in_table(name))
            fail_msg("tests/golden/%s names no client method of the table", e->d_name);
        files++;
    }
    closedir(d);
    free(dir);
    assert_int_equal(files, methods);
}

static relay_call *G_CALL;
static pthread_mutex_t G_LOCK = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t G_COND = PTHREAD_COND_INITIALIZER;

static void keep_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_ref(call);
    pthread_mutex_lock(&G_LOCK);
    G_CALL = call;
    pthread_cond_broadcast(&G_COND);
    pthread_mutex_unlock(&G_LOCK);
}

static void typed_frames_equal_the_golden_files(void **state)
{
    fake *f = *state;
    static const char *const ctx[] = {"office", NULL};
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", f->port);
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = host;
    o.plain_ws = 1;
    /* The Python SDK's values, so the connect frame is comparable whole. */
    o.project = "PROJECT";
    o.token = "TOKEN";
    o.agent = "signalwire-agents-python/1.0";
    o.contexts = ctx;
    o.request_timeout_ms = 3000;
    o.log_level = getenv("TEST_DEBUG") ? RELAY_LOG_DEBUG : RELAY_LOG_ERROR;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    relay_client_on_call(c, keep_call, NULL);
    assert_int_equal(relay_client_connect(c), RELAY_OK);

    size_t used = 0;
    json_t *frame = fake_wait(f, "signalwire.connect", NULL, 0, 2000);
    assert_non_null(frame);
    compare("signalwire.connect", frame, NULL);
    json_decref(frame);
    used++;

    fake_event(f, "calling.call.receive",
               "{\"call_id\":\"" CALL_ID "\",\"node_id\":\"" NODE_ID "\",\"context\":\"office\","
               "\"direction\":\"inbound\",\"call_state\":\"ringing\",\"device\":{\"type\":\"sip\","
               "\"params\":{\"from\":\"sip:alice@example.com\",\"to\":\"sip:office@local\"}}}");
    struct timespec dl = fake_deadline(5000);
    pthread_mutex_lock(&G_LOCK);
    while (!G_CALL && pthread_cond_timedwait(&G_COND, &G_LOCK, &dl) != ETIMEDOUT)
        ;
    golden_ctx t = {.client = c, .call = G_CALL};
    pthread_mutex_unlock(&G_LOCK);
    assert_non_null(t.call);

    for (size_t i = 0; i < N_ENTRIES; i++) {
        assert_true(in_table(ENTRIES[i].method));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ENTRIES[i].method, ENTRIES[j].method);
        int before = count_method(f, ENTRIES[i].method);
        t.expect_control = NULL;
        ENTRIES[i].send(&t);
        frame = fake_wait(f, ENTRIES[i].method, NULL, before, 2000);
        if (!frame)
            fail_msg("%s: no frame reached the server", ENTRIES[i].method);
        compare(ENTRIES[i].method, frame, t.expect_control);
        json_decref(frame);
        used++;
    }
    /* Every golden file was exercised (the connect frame above included). */
    assert_int_equal(used, proto_client_method_count());

    relay_action *acts[] = {t.play,     t.record,      t.collect, t.prompt, t.detect,
                            t.tap,      t.stream,      t.send_fax, t.receive_fax, t.pay,
                            t.transcribe, t.ai};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        relay_action_free(acts[i]);
    relay_call_unref(t.call);
    G_CALL = NULL;
    relay_client_free(c);
}

/* Required arguments are required: nothing is sent without them, and bad
 * JSON text is refused before it reaches the wire. */
static void missing_required_arguments_send_nothing(void **state)
{
    (void)state;
    relay_action *a = (relay_action *)1;
    /* No call is needed: the params are checked first, then the call. */
    relay_detect_params dp = {.timeout = 5};
    assert_int_equal(relay_call_detect_async(NULL, &dp, &a), RELAY_ERR_INVALID_ARG);
    assert_null(a);
    relay_collect_params cp = {.digits_json = "{not json"};
    a = (relay_action *)1;
    assert_int_equal(relay_call_collect_async(NULL, &cp, &a), RELAY_ERR_INVALID_ARG);
    assert_null(a);
    relay_queue_params qp = {.status_url = "https://example.com"};
    assert_int_equal(relay_call_queue_enter(NULL, &qp, NULL), RELAY_ERR_INVALID_ARG);
    assert_int_equal(relay_call_transfer(NULL, NULL, NULL, NULL), RELAY_ERR_INVALID_ARG);
    assert_int_equal(relay_call_hold_async(NULL, NULL, NULL), RELAY_ERR_INVALID_ARG);
    assert_int_equal(relay_client_receive(NULL, NULL, NULL), RELAY_ERR_INVALID_ARG);
}


/* The fake's side for the blocking forms: each start is followed by the
 * event that ends it (record finished, collect's first result, connect
 * failed). */
static void ending_script(fake *f, const char *method, json_t *msg)
{
    json_t *p = json_object_get(msg, "params");
    const char *ctl = json_string_value(json_object_get(p, "control_id"));
    char buf[512];
    if (strcmp(method, "calling.record") == 0) {
        snprintf(buf, sizeof buf,
                 "{\"call_id\":\"" CALL_ID "\",\"node_id\":\"" NODE_ID "\",\"control_id\":\"%s\","
                 "\"state\":\"finished\",\"url\":\"https://example.com/r.wav\"}", ctl);
        fake_event(f, "calling.call.record", buf);
    } else if (strcmp(method, "calling.collect") == 0) {
        snprintf(buf, sizeof buf,
                 "{\"call_id\":\"" CALL_ID "\",\"node_id\":\"" NODE_ID "\",\"control_id\":\"%s\","
                 "\"result\":{\"type\":\"digit\",\"params\":{\"digits\":\"1234\"}}}", ctl);
        fake_event(f, "calling.call.collect", buf);
    } else if (strcmp(method, "calling.connect") == 0) {
        fake_event(f, "calling.call.connect",
                   "{\"call_id\":\"" CALL_ID "\",\"node_id\":\"" NODE_ID "\","
                   "\"connect_state\":\"failed\"}"); /* as relayd and SignalWire send it */
    }
}

static void blocking_forms_wait_for_the_end(void **state)
{
    fake *f = *state;
    f->hook = ending_script;
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", f->port);
    static const char *const ctx[] = {"office", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = host;
    o.plain_ws = 1;
    o.project = "PROJECT";
    o.token = "TOKEN";
    o.contexts = ctx;
    o.request_timeout_ms = 3000;
    o.log_level = RELAY_LOG_ERROR;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    relay_client_on_call(c, keep_call, NULL);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    fake_event(f, "calling.call.receive",
               "{\"call_id\":\"" CALL_ID "\",\"node_id\":\"" NODE_ID "\",\"context\":\"office\","
               "\"direction\":\"inbound\",\"call_state\":\"answered\"}");
    struct timespec dl = fake_deadline(5000);
    pthread_mutex_lock(&G_LOCK);
    while (!G_CALL && pthread_cond_timedwait(&G_COND, &G_LOCK, &dl) != ETIMEDOUT)
        ;
    relay_call *call = G_CALL;
    G_CALL = NULL;
    pthread_mutex_unlock(&G_LOCK);
    assert_non_null(call);

    relay_result *r = NULL;
    assert_int_equal(relay_call_record(call, NULL, &r), RELAY_OK);
    assert_string_equal(relay_result_get(r, "state"), "finished");
    assert_string_equal(relay_result_get(r, "url"), "https://example.com/r.wav");
    relay_result_free(r);

    relay_collect_params cp = {.digits_json = "{\"max\":4}"};
    assert_int_equal(relay_call_collect(call, &cp, &r), RELAY_OK);
    assert_non_null(strstr(relay_result_json(r), "\"1234\""));
    relay_result_free(r);

    relay_connect_params np = {.devices_json = "[[{\"type\":\"sip\",\"params\":{}}]]"};
    assert_int_equal(relay_call_connect(call, &np, &r), RELAY_ERR_SERVER);
    assert_string_equal(relay_result_get(r, "connect_state"), "failed");
    relay_result_free(r);

    /* record without params sends {"record": {"audio": {}}}, as Python. */
    json_t *frame = fake_wait(f, "calling.record", NULL, 0, 1000);
    assert_non_null(frame);
    json_t *audio = json_object_get(json_object_get(json_object_get(frame, "params"), "record"),
                                    "audio");
    assert_true(json_is_object(audio) && json_object_size(audio) == 0);
    json_decref(frame);

    relay_call_unref(call);
    relay_client_free(c);
}

int main(void)
{
    fake_port_base = 38000; /* apart from test_client_fake's fakes */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_table_method_has_a_golden_file_and_no_more),
        cmocka_unit_test_setup_teardown(typed_frames_equal_the_golden_files, fake_setup,
                                        fake_teardown),
        cmocka_unit_test(missing_required_arguments_send_nothing),
        cmocka_unit_test_setup_teardown(blocking_forms_wait_for_the_end, fake_setup,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
