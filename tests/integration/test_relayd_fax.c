/*
 * calling.send_fax and calling.receive_fax against a real relayd that
 * faxes to itself: the test, a raw WebSocket client, dials relayd's own SIP
 * listener (sip:fax@…, so the inbound leg is offered on context "fax"),
 * answers the inbound leg, starts receive_fax on it and send_fax on the
 * outbound one. The two T.30 terminals then talk over the two legs' G.711
 * RTP through the loopback. The document is a 2-page TIFF/F the test
 * writes with libtiff; the received one is read back with libtiff.
 *
 * Documents by URL and PDFs: three faxes at once, each on its own pair of
 * legs — the TIFF served over http by tests/tools/file_server, a 3-page
 * PDF (written here) over http and the same PDF by file://, both converted
 * by ghostscript — and the receiving side counts the pages sent; each side
 * reports a `page` event per page. A 404 URL, a file that is neither TIFF
 * nor PDF and a broken PDF end in `error` with the reason.
 *
 * Also: documents refused up front (missing, not a document, outside
 * media_dir, a URL without a host), and a send_fax stopped mid-fax
 * (finished, success false; the receiving side ends with the hangup),
 * after which relayd keeps serving and exits 0.
 *
 * Ports: relayd ws 64800, file_server 64801 (TCP); SIP 17000, RTP
 * 17100-17199 (UDP).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <tiffio.h>

#include "child.h"
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
#define HTTP_DIR "/tmp/relayd-fax-test-http"
#define HTTP_PORT "64801"
#define HTTP_URL "http://127.0.0.1:" HTTP_PORT "/"
#define PDF_PAGES 3
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

/* A PDF of `pages` US-letter pages, each a black bar at a different
 * height (no fonts: ghostscript needs nothing else to render it). */
static void write_pdf(const char *path, int pages)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    long off[64];
    int n = 0; /* objects written */
    fputs("%PDF-1.4\n", f);
    off[++n] = ftell(f);
    fputs("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n", f);
    off[++n] = ftell(f);
    fputs("2 0 obj << /Type /Pages /Kids [", f);
    for (int i = 0; i < pages; i++)
        fprintf(f, "%d 0 R ", 3 + 2 * i);
    fprintf(f, "] /Count %d >> endobj\n", pages);
    for (int i = 0; i < pages; i++) {
        char content[128];
        int len = snprintf(content, sizeof content, "0 0 0 rg 72 %d 468 72 re f", 600 - i * 150);
        off[++n] = ftell(f);
        fprintf(f,
                "%d 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                ">> endobj\n",
                3 + 2 * i, 4 + 2 * i);
        off[++n] = ftell(f);
        fprintf(f, "%d 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", 4 + 2 * i, len,
                content);
    }
    long xref = ftell(f);
    fprintf(f, "xref\n0 %d\n0000000000 65535 f \n", n + 1);
    for (int i = 1; i <= n; i++)
        fprintf(f, "%010ld 00000 n \n", off[i]);
    fprintf(f, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", n + 1, xref);
    fclose(f);
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
                          "--recordings-dir", REC_DIR,
                          /* file_server serves the documents on loopback */
                          "--webhook-allow", "127.0.0.1/32",
                          /* the raw client answers no signalwire.ping, and a
                           * case lasts longer than 3 of them */
                          "--ping-interval-ms", "0", NULL};
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

/* The page events of control_id, in order: their numbers, "1,2,3". */
static void page_numbers(client *c, const char *control_id, char *out, size_t n)
{
    out[0] = 0;
    for (size_t i = 0; i < json_array_size(c->events); i++) {
        json_t *ev = json_array_get(c->events, i);
        json_t *fax = json_object_get(ev, "fax");
        if (!matches(ev, "calling.call.fax", "control_id", control_id) ||
            strcmp(json_string_value(json_object_get(fax, "type")), "page") != 0)
            continue;
        snprintf(out + strlen(out), n - strlen(out), "%s%lld", out[0] ? "," : "",
                 (long long)json_integer_value(
                     json_object_get(json_object_get(fax, "params"), "number")));
    }
}

/* The final event of control_id (finished or error), waiting: its fax. */
static json_t *fax_end(client *c, const char *control_id, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++) {
            json_t *ev = json_array_get(c->events, i);
            if (matches(ev, "calling.call.fax", "control_id", control_id) &&
                json_object_get(ev, "state"))
                return json_object_get(ev, "fax");
        }
        if (now_ms() >= end)
            fail_msg("no final calling.call.fax for %s", control_id);
        json_decref(pump(c, NULL, 200));
    }
}

/* The fax.params of the finished event for control_id (waits). */
static json_t *fax_finished(client *c, const char *control_id, int timeout_ms)
{
    json_t *fax = fax_end(c, control_id, timeout_ms);
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
                    send_fax_params(out, "tx-txt", "file://" MEDIA_DIR "/notes.txt"), "415");
    assert_non_null(strstr(m, "neither a TIFF nor a PDF"));
    expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-etc", "file:///etc/passwd"),
                "404"); /* outside media_dir */
    m = expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-nohost", "http:///doc.tif"),
                    "400");
    assert_non_null(strstr(m, "no host"));
    expect_code(&c, "calling.send_fax", send_fax_params(out, "tx-ftp", "ftp://127.0.0.1/d.tif"),
                "400");
    json_t *p = send_fax_params(out, "tx-noid", "file://" DOC);
    json_object_set_new(p, "identity", json_string("an identity far longer than T.30 allows"));
    expect_code(&c, "calling.send_fax", p, "400");
    /* nothing was started: no fax event */
    assert_int_equal(wait_event(&c, 0, "calling.call.fax", NULL, NULL, 300), -1);

    end_call(&c, out);
    assert_true(wait_event(&c, 0, "calling.call.state", "call_state", "ended", 10000) >= 0);
    client_close(&c);
    unlink(MEDIA_DIR "/notes.txt");
}

typedef struct fax_pair {
    const char *doc, *tx, *rx;
    int pages;
    char out[64], in[64];
} fax_pair;

static void documents_by_url_and_pdf(void **state)
{
    (void)state;
    mkdir(HTTP_DIR, 0755);
    write_tiff(HTTP_DIR "/two-pages.tif");
    write_pdf(HTTP_DIR "/three-pages.pdf", PDF_PAGES);
    write_pdf(MEDIA_DIR "/three-pages.pdf", PDF_PAGES);
    write_file(HTTP_DIR "/notes.txt", "not an image\n");
    write_file(HTTP_DIR "/broken.pdf", "%PDF-1.4\nthis is no PDF at all\n");
    char server_bin[600];
    snprintf(server_bin, sizeof server_bin, "%s/tests/tools/file_server",
             getenv("RELAY_BUILD_DIR"));
    const char *fs_argv[] = {server_bin, HTTP_PORT, HTTP_DIR, NULL};
    pid_t fs = child_spawn(fs_argv, "file-server-fax.log");
    assert_true(fs > 0);
    sleep_ms(300);

    client c;
    client_open(&c);
    expect_code(&c, "signalwire.receive", json_pack("{s:[s]}", "contexts", "fax"), "200");
    fax_pair pairs[] = {
        {HTTP_URL "two-pages.tif", "tx-http-tif", "rx-http-tif", 2, "", ""},
        {HTTP_URL "three-pages.pdf", "tx-http-pdf", "rx-http-pdf", PDF_PAGES, "", ""},
        {"file://" MEDIA_DIR "/three-pages.pdf", "tx-file-pdf", "rx-file-pdf", PDF_PAGES, "", ""},
    };
    size_t n = sizeof pairs / sizeof pairs[0];
    int64_t t0 = now_ms();
    for (size_t i = 0; i < n; i++) {
        fax_pair *p = &pairs[i];
        char tag[32];
        snprintf(tag, sizeof tag, "tag-doc-%zu", i);
        call_self(&c, tag, p->out, p->in, sizeof p->out);
        expect_code(&c, "calling.receive_fax",
                    json_pack("{s:s, s:s, s:s}", "call_id", p->in, "node_id", NODE, "control_id",
                              p->rx),
                    "200");
        expect_code(&c, "calling.send_fax", send_fax_params(p->out, p->tx, p->doc), "200");
    }
    for (size_t i = 0; i < n; i++) {
        fax_pair *p = &pairs[i];
        json_t *tx = fax_finished(&c, p->tx, 150000);
        json_t *rx = fax_finished(&c, p->rx, 10000);
        print_message("%s: done %lld ms after the start\n", p->doc, (long long)(now_ms() - t0));
        print_result("send", tx);
        print_result("receive", rx);
        assert_true(json_is_true(json_object_get(tx, "success")));
        assert_true(json_is_true(json_object_get(rx, "success")));
        assert_int_equal(json_integer_value(json_object_get(tx, "pages")), p->pages);
        assert_int_equal(json_integer_value(json_object_get(rx, "pages")), p->pages);
        assert_string_equal(json_string_value(json_object_get(tx, "document")), p->doc);
        /* a page event per page, on each side, before the end */
        char want[16], got[32];
        snprintf(want, sizeof want, p->pages == 2 ? "1,2" : "1,2,3");
        page_numbers(&c, p->tx, got, sizeof got);
        print_message("%s pages %s\n", p->tx, got);
        assert_string_equal(got, want);
        page_numbers(&c, p->rx, got, sizeof got);
        assert_string_equal(got, want);
        /* what arrived: that many fax pages, 1728 wide */
        const char *url = json_string_value(json_object_get(rx, "document"));
        TIFF *t = TIFFOpen(url + 7, "r");
        assert_non_null(t);
        assert_int_equal(TIFFNumberOfDirectories(t), p->pages);
        uint32_t w = 0;
        TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
        assert_int_equal(w, FAX_WIDTH);
        TIFFClose(t);
        unlink(url + 7);
    }

    /* documents that cannot be had: accepted, then `error` with the reason */
    static const struct {
        const char *doc, *ctl, *reason;
    } bad[] = {
        {HTTP_URL "missing.pdf", "tx-404", "document fetch did not answer 200"},
        {HTTP_URL "notes.txt", "tx-notdoc", "the document is neither a TIFF nor a PDF"},
        {HTTP_URL "broken.pdf", "tx-broken", "the PDF could not be converted"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_code(&c, "calling.send_fax", send_fax_params(pairs[0].out, bad[i].ctl, bad[i].doc),
                    "200");
        json_t *fax = fax_end(&c, bad[i].ctl, 70000);
        print_result(bad[i].ctl, fax);
        assert_string_equal(json_string_value(json_object_get(fax, "type")), "error");
        json_t *p = json_object_get(fax, "params");
        assert_true(json_is_false(json_object_get(p, "success")));
        assert_int_equal(json_integer_value(json_object_get(p, "pages")), 0);
        assert_string_equal(json_string_value(json_object_get(p, "reason")), bad[i].reason);
        assert_string_equal(json_string_value(json_object_get(p, "result_text")), bad[i].reason);
    }
    for (size_t i = 0; i < n; i++)
        end_call(&c, pairs[i].out);
    client_close(&c);
    kill(fs, SIGTERM);
    assert_int_equal(child_wait(fs, 5000), 0);
    assert_true(relayd_proc_log_contains(&server, "HTTP status 404"));
    assert_true(relayd_proc_log_contains(&server, "ghostscript rendered no page") ||
                relayd_proc_log_contains(&server, "ghostscript exited"));
    unlink(HTTP_DIR "/two-pages.tif");
    unlink(HTTP_DIR "/three-pages.pdf");
    unlink(HTTP_DIR "/notes.txt");
    unlink(HTTP_DIR "/broken.pdf");
    unlink(MEDIA_DIR "/three-pages.pdf");
    rmdir(HTTP_DIR);
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
    assert_int_equal(wait_event(&c, 0, "calling.call.fax", "state", "finished", 0),
                     -1); /* still going (a page event may have come) */
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
        cmocka_unit_test(documents_by_url_and_pdf),
        cmocka_unit_test(stopped_mid_fax),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
