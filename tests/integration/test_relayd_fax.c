/*
 * calling.send_fax and calling.receive_fax against a real relayd that
 * faxes to itself: the test, a raw WebSocket client, dials relayd's own SIP
 * listener (sip:fax@…, so the inbound leg is offered on context "fax"),
 * answers the inbound leg, starts receive_fax on it and send_fax on the
 * outbound one. The two T.30 terminals then talk over the two legs' G.711
 * RTP through the loopback. The document is a 2-page TIFF/F the test
 * writes with libtiff; the received one is read back with libtiff.
 *
 * Also: documents refused up front (missing, PDF, not a TIFF, http), and a
 * send_fax stopped mid-fax (finished, success false; the receiving side
 * ends with the hangup), after which relayd keeps serving and exits 0.
 *
 * Ports: relayd ws 64800 (TCP); SIP 17000, RTP 17100-17199 (UDP).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <tiffio.h>

#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"
#include "ws_raw.h"

#define WS_PORT 64800
#define SIP_PORT "17000"
#define PROJECT "fax-project"
#define TOKEN "fax-token-7c1e"
#define NODE "relayd-local"
#define MEDIA_DIR "/tmp/relayd-fax-test-media"
#define REC_DIR "/tmp/relayd-fax-test-rec"
#define DOC MEDIA_DIR "/two-pages.tif"
#define FAX_WIDTH 1728
#define PAGE_ROWS 240
#define STOP_AFTER_MS 10000 /* a whole fax takes ~20 s: mid-transfer */

static relayd_proc server;

/* A 2-page bilevel TIFF/F: 1728 wide, 204x98 dpi, CCITT G3 1-D, each page
 * a few black bars on white. */
static void write_tiff(const char *path)
{
    TIFF *t = TIFFOpen(path, "w");
    assert_non_null(t);
    unsigned char row[FAX_WIDTH / 8];
    for (int page = 0; page < 2; page++) {
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, FAX_WIDTH);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, PAGE_ROWS);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
        TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, 0);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0f);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, 98.0f);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, PAGE_ROWS);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, page, 2);
        for (int y = 0; y < PAGE_ROWS; y++) {
            memset(row, 0, sizeof row);
            if ((y / 20) % 2 == page) /* bars, a different phase per page */
                memset(row + 20 + page * 40, 0xff, 60);
            assert_true(TIFFWriteScanline(t, row, (uint32_t)y, 0) == 1);
        }
        assert_true(TIFFWriteDirectory(t) == 1);
    }
    TIFFClose(t);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    mkdir(MEDIA_DIR, 0755);
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:64800", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "17100-17199", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug", "--media-dir", MEDIA_DIR,
                          "--recordings-dir", REC_DIR, NULL};
    return relayd_proc_start(&server, args, "relayd-fax.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
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

/* Sends, checks the answer's code, returns its message (static copy). */
static const char *expect_code(client *c, const char *method, json_t *params, const char *code)
{
    static char msg[256];
    json_t *res = request(c, method, params);
    const char *got = code_of(res);
    if (!got || strcmp(got, code) != 0)
        fail_msg("%s answered %s (%s), expected %s", method, got ? got : "?",
                 json_string_value(json_object_get(res, "message")), code);
    snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(res, "message")));
    json_decref(res);
    return msg;
}

static int matches(json_t *ev, const char *type, const char *key, const char *value)
{
    return rpc_event_matches(ev, type, key, value);
}

static int wait_event(client *c, int from, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = (size_t)from; i < json_array_size(c->events); i++)
            if (matches(json_array_get(c->events, i), type, key, value))
                return (int)i;
        if (now_ms() >= end)
            return -1;
        json_decref(pump(c, NULL, 200));
    }
}

static json_t *event_at(client *c, int i) { return json_array_get(c->events, (size_t)i); }

/* Dials relayd's own listener and answers the inbound leg: the two legs'
 * call ids (out: the dialled leg, in: the one offered on "fax"). */
static void call_self(client *c, const char *tag, char *out, char *in, size_t n)
{
    int from = (int)json_array_size(c->events);
    json_t *dev = json_pack("{s:s, s:{s:s, s:s, s:i}}", "type", "sip", "params", "from",
                            "sip:sender@127.0.0.1", "to", "sip:fax@127.0.0.1:" SIP_PORT,
                            "timeout", 10);
    expect_code(c, "calling.dial", json_pack("{s:s, s:[[o]]}", "tag", tag, "devices", dev), "200");
    int i = wait_event(c, from, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    snprintf(in, n, "%s", json_string_value(json_object_get(event_at(c, i), "call_id")));
    expect_code(c, "calling.answer", json_pack("{s:s, s:s}", "call_id", in, "node_id", NODE),
                "200");
    i = wait_event(c, from, "calling.call.dial", "dial_state", "answered", 10000);
    assert_true(i >= 0);
    json_t *call = json_object_get(event_at(c, i), "call");
    snprintf(out, n, "%s", json_string_value(json_object_get(call, "call_id")));
}

static void end_call(client *c, const char *call_id)
{
    expect_code(c, "calling.end",
                json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE, "reason",
                          "hangup"),
                "200");
}

static json_t *send_fax_params(const char *call_id, const char *control_id, const char *doc)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "call_id", call_id, "node_id", NODE,
                     "control_id", control_id, "document", doc, "identity", "+15551230000",
                     "header_info", "relayd fax test");
}

/* The fax.params of the finished event for control_id (waits). */
static json_t *fax_finished(client *c, const char *control_id, int timeout_ms)
{
    int i = wait_event(c, 0, "calling.call.fax", "control_id", control_id, timeout_ms);
    if (i < 0)
        fail_msg("no calling.call.fax for %s", control_id);
    json_t *fax = json_object_get(event_at(c, i), "fax");
    assert_string_equal(json_string_value(json_object_get(fax, "type")), "finished");
    return json_object_get(fax, "params");
}

static void print_result(const char *who, json_t *p)
{
    char *s = json_dumps(p, JSON_COMPACT);
    print_message("%s: %s\n", who, s);
    free(s);
}

/* --------------------------------------------------------------- tests */

static void fax_to_self(void **state)
{
    (void)state;
    write_tiff(DOC);
    client c;
    client_open(&c);
    expect_code(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "fax"), "200");
    char out[64], in[64];
    call_self(&c, "tag-fax", out, in, sizeof out);

    int64_t t0 = now_ms();
    expect_code(&c, "calling.receive_fax",
                json_pack("{s:s, s:s, s:s}", "call_id", in, "node_id", NODE, "control_id", "rx-1"),
                "200");
    /* one fax op per call */
    expect_code(&c, "calling.send_fax", send_fax_params(in, "tx-x", "file://" DOC), "409");
    expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-1", "file://" DOC), "200");

    json_t *tx = fax_finished(&c, "tx-1", 90000);
    json_t *rx = fax_finished(&c, "rx-1", 10000);
    print_message("fax took %lld ms\n", (long long)(now_ms() - t0));
    print_result("send", tx);
    print_result("receive", rx);

    assert_string_equal(json_string_value(json_object_get(tx, "direction")), "send");
    assert_string_equal(json_string_value(json_object_get(rx, "direction")), "receive");
    assert_true(json_is_true(json_object_get(tx, "success")));
    assert_true(json_is_true(json_object_get(rx, "success")));
    assert_int_equal(json_integer_value(json_object_get(tx, "pages")), 2);
    assert_int_equal(json_integer_value(json_object_get(rx, "pages")), 2);
    assert_string_equal(json_string_value(json_object_get(tx, "document")), "file://" DOC);
    assert_string_equal(json_string_value(json_object_get(tx, "identity")), "+15551230000");
    /* each side heard the other's T.30 identity (the receiver sent none) */
    assert_string_equal(json_string_value(json_object_get(rx, "remote_identity")),
                        "+15551230000");

    const char *url = json_string_value(json_object_get(rx, "document"));
    assert_non_null(url);
    assert_true(strncmp(url, "file://" REC_DIR "/", strlen("file://" REC_DIR "/")) == 0);
    TIFF *t = TIFFOpen(url + 7, "r");
    assert_non_null(t);
    assert_int_equal(TIFFNumberOfDirectories(t), 2);
    do {
        uint32_t w = 0;
        TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
        assert_int_equal(w, FAX_WIDTH);
    } while (TIFFReadDirectory(t));
    TIFFClose(t);
    unlink(url + 7);

    end_call(&c, out);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 10000) >= 0);
    client_close(&c);
}

static void documents_refused(void **state)
{
    (void)state;
    write_file(MEDIA_DIR "/doc.pdf", "%PDF-1.4\n");
    write_file(MEDIA_DIR "/notes.txt", "not an image\n");
    client c;
    client_open(&c);
    expect_code(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "fax"), "200");
    char out[64], in[64];
    call_self(&c, "tag-refused", out, in, sizeof out);

    const char *m = expect_code(&c, "calling.send_fax",
                                send_fax_params(out, "tx-missing", "file://" MEDIA_DIR "/nope.tif"),
                                "404");
    assert_non_null(strstr(m, "not found"));
    m = expect_code(&c, "calling.send_fax",
                    send_fax_params(out, "tx-pdf", "file://" MEDIA_DIR "/doc.pdf"), "415");
    assert_non_null(strstr(m, "TIFF"));
    expect_code(&c, "calling.send_fax",
                send_fax_params(out, "tx-txt", "file://" MEDIA_DIR "/notes.txt"), "415");
    expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-etc", "file:///etc/passwd"),
                "404"); /* outside media_dir */
    expect_code(&c, "calling.send_fax",
                send_fax_params(out, "tx-http", "https://example.com/doc.tif"), "501");
    json_t *p = send_fax_params(out, "tx-noid", "file://" DOC);
    json_object_set_new(p, "identity", json_string("an identity far longer than T.30 allows"));
    expect_code(&c, "calling.send_fax", p, "400");
    /* nothing was started: no fax event */
    assert_int_equal(wait_event(&c, 0, "calling.call.fax", NULL, NULL, 300), -1);

    end_call(&c, out);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 10000) >= 0);
    client_close(&c);
    unlink(MEDIA_DIR "/doc.pdf");
    unlink(MEDIA_DIR "/notes.txt");
}

static void stopped_mid_fax(void **state)
{
    (void)state;
    write_tiff(DOC);
    client c;
    client_open(&c);
    expect_code(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "fax"), "200");
    char out[64], in[64];
    call_self(&c, "tag-stop", out, in, sizeof out);
    expect_code(&c, "calling.receive_fax",
                json_pack("{s:s, s:s, s:s}", "call_id", in, "node_id", NODE, "control_id", "rx-2"),
                "200");
    expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-2", "file://" DOC), "200");
    sleep_ms(STOP_AFTER_MS);
    assert_int_equal(wait_event(&c, 0, "calling.call.fax", NULL, NULL, 0), -1); /* still going */
    expect_code(&c, "calling.send_fax.stop",
                json_pack("{s:s, s:s, s:s}", "call_id", out, "node_id", NODE, "control_id", "tx-2"),
                "200");
    json_t *tx = fax_finished(&c, "tx-2", 5000);
    print_result("stopped send", tx);
    assert_true(json_is_false(json_object_get(tx, "success")));
    assert_string_equal(json_string_value(json_object_get(tx, "result_text")), "stopped");

    /* the receiving side ends with its call */
    end_call(&c, in);
    json_t *rx = fax_finished(&c, "rx-2", 5000);
    print_result("receive cut by hangup", rx);
    assert_true(json_is_false(json_object_get(rx, "success")));
    const char *partial = json_string_value(json_object_get(rx, "document"));
    assert_non_null(partial);
    unlink(partial + 7); /* if T.30 got as far as opening it */
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 10000) >= 0);
    client_close(&c);

    /* relayd still serves: a new session, a new call, answered */
    client_open(&c);
    expect_code(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "fax"), "200");
    call_self(&c, "tag-after", out, in, sizeof out);
    end_call(&c, out);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 10000) >= 0);
    client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documents_refused),
        cmocka_unit_test(fax_to_self),
        cmocka_unit_test(stopped_mid_fax),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
