/*
 * calling.send_fax and calling.receive_fax: a T.30 fax terminal
 * (media/fax.h) on the leg's media session, over its G.711 audio (no T.38,
 * no ECM). send_fax transmits a TIFF or a PDF named by a file:// URL under
 * media_dir or an http(s) URL; a URL is fetched and a PDF converted to a
 * fax TIFF on the preparation pool first (media/fax_doc.h), and the fax
 * starts when that is done. receive_fax writes what arrives as a TIFF under
 * recordings_dir. One fax op per call, either way. Each serves .stop.
 *
 * Events: calling.call.fax {control_id, fax: {type: "page", params:
 * {direction, number}}} after each page sent or received (the reference
 * SDKs' CallFaxState.PAGE); then once, at the end (phase E, stop or
 * hangup), {control_id, state: "finished", fax: {type: "finished", params:
 * {direction, identity, remote_identity, document, pages, success, result,
 * result_code, result_text}}}; or, when the document could not be had
 * (fetch failed, not a TIFF nor a PDF, conversion failed), state and type
 * "error" with the same params (pages 0, success false) and the reason in
 * result_text and reason.
 *
 * Lifetime (as calling/echo.c): the op holds the player; the player's done
 * message (phase E ended the source, or a stop/newer play) detaches the
 * sink; when both media holds are gone the modem closes its file and the
 * `closed` message reports and frees the op. A hangup reports at once
 * (while the call can carry the event) with what phase E gave, if it came;
 * the session's end then detaches the sink and the same message frees the
 * op. While the document is being prepared the one message in flight is
 * the prepared one: it starts the fax, or reports and frees the op.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/fax.h"
#include "media/fax_doc.h"
#include "media/fetch.h"
#include "media/player.h"
#include "media/prep.h"
#include "recordings_http.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define IDENT_MAX 20  /* T.30's TSI/CSI: 20 digits or spaces */
#define HEADER_MAX 50 /* spandsp's page header */
#define T30_OK 0      /* T30_ERR_OK, without pulling spandsp.h in here */

typedef struct fax_op {
    call_op base; /* first */
    media_fax *fax;
    media_player *player;
    media_sink *sink;  /* on the session until the done message detaches it */
    int sending;
    int leg_gone;      /* the session took the sink with it */
    int stopped;
    int reported;
    int preparing;     /* the document is on the preparation pool */
    int last_page;     /* pages reported by "page" events */
    const char *prep_error; /* static: the document could not be had */
    char tmp[PATH_MAX];     /* the prepared TIFF, removed with the op */
    char identity[IDENT_MAX + 1];
    char header[HEADER_MAX + 1];
    char document[PATH_MAX + 16]; /* as given (send), or the file written (receive) */
    char path[PATH_MAX];
} fax_op;

static void fax_free_op(call_op *base)
{
    fax_op *op = (fax_op *)base;
    if (op->fax)
        media_fax_free(op->fax);
    if (op->tmp[0])
        unlink(op->tmp);
    call_op_cleanup(base);
    free(op);
}

/* The `page` events up to the pages done so far (the reference SDKs keep
 * an action going on them). Core thread. */
static void report_pages(fax_op *op, int pages)
{
    while (op->base.call && op->last_page < pages) {
        op->last_page++;
        call_op_emit(&op->base, json_pack("{s:{s:s, s:{s:s, s:i}}}", "fax", "type", "page",
                                          "params", "direction",
                                          op->sending ? "send" : "receive", "number",
                                          op->last_page));
    }
}

/* The end of a fax whose document could not be had: `error`, with why. */
static void report_error(fax_op *op, const char *why)
{
    if (op->reported || !op->base.call)
        return;
    op->reported = 1;
    server_log(RELAY_LOG_WARN, "call %s: fax %s not sent: %s", op->base.call->id,
               op->document, why);
    json_t *params = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:s, s:s}", "direction", "send", "identity",
        op->identity, "remote_identity", "", "document", op->document, "pages", 0, "success", 0,
        "result", "-1", "result_code", "-1", "result_text", why, "reason", why);
    call_op_emit(&op->base, json_pack("{s:s, s:{s:s, s:o}}", "state", "error", "fax", "type",
                                      "error", "params", params));
}

static void report(fax_op *op, const media_fax_result *res)
{
    if (op->reported || !op->base.call)
        return;
    if (res)
        report_pages(op, res->pages);
    op->reported = 1;
    char url[PATH_MAX + 128];
    const char *doc = op->document;
    if (!op->sending) {
        recordings_http *http = op->base.rd->recordings_http;
        if (http && recordings_http_url(http, op->path, url, sizeof url) == 0)
            recordings_http_add(http, op->path);
        else
            snprintf(url, sizeof url, "file://%s", op->path);
        doc = url;
    }
    int ok = res && res->code == T30_OK;
    char code[16];
    snprintf(code, sizeof code, "%d", res ? res->code : -1);
    const char *text = op->stopped && !ok            ? "stopped"
                       : !res                        ? "the call ended before the fax did"
                       : res->text                   ? res->text
                                                     : "";
    json_t *params = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:s}", "direction",
        op->sending ? "send" : "receive", "identity", op->identity, "remote_identity",
        res ? res->remote_ident : "", "document", doc, "pages", res ? res->pages : 0, "success",
        ok, "result", code, "result_code", code, "result_text", text);
    server_log(RELAY_LOG_INFO, "call %s: fax %s %s: %d pages, %s", op->base.call->id,
               op->sending ? "sent" : "received", ok ? "ok" : "failed", res ? res->pages : 0,
               text);
    /* top-level state as well: the clients end an action on it */
    call_op_emit(&op->base, json_pack("{s:s, s:{s:s, s:o}}", "state", "finished", "fax", "type",
                                      "finished", "params", params));
}

static void on_closed_core(relayd *rd, void *arg)
{
    (void)rd;
    fax_op *op = arg;
    media_fax_result res;
    if (op->prep_error) /* the player could not start */
        report_error(op, op->prep_error);
    else /* nothing once detached */
        report(op, media_fax_result_get(op->fax, &res) ? &res : NULL);
    call_op_release(&op->base);
}

/* media thread (or the core, when the start failed) */
static void on_closed(media_fax *f, void *user)
{
    (void)f;
    fax_op *op = user;
    core_post(op->base.rd, on_closed_core, op);
}

static void on_page_core(relayd *rd, void *arg)
{
    (void)rd;
    fax_op *op = arg; /* alive: the closed message comes after this one */
    if (!op->reported)
        report_pages(op, media_fax_pages(op->fax));
}

/* media thread */
static void on_page(media_fax *f, void *user)
{
    (void)f;
    fax_op *op = user;
    core_post(op->base.rd, on_page_core, op);
}

static void on_done_core(relayd *rd, void *arg)
{
    (void)rd;
    fax_op *op = arg;
    media_player_free(op->player);
    op->player = NULL;
    if (!op->leg_gone)
        media_session_detach_sink(sip_leg_media(op->base.call->leg), op->sink);
}

/* media thread */
static void on_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    fax_op *op = user;
    core_post(op->base.rd, on_done_core, op);
}

static json_t *fax_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    fax_op *op = (fax_op *)base;
    if (role != PROTO_ROLE_STOP)
        return call_op_unsupported(role, base->family);
    op->stopped = 1;
    if (op->player)
        media_player_stop(op->player);
    return frames_code_result(200, "OK");
}

static void fax_leg_gone(call_op *base)
{
    /* As echo.c: the player goes before the RTP endpoint; the session's
     * end detaches the sink, and the closed message frees the op. */
    fax_op *op = (fax_op *)base;
    op->leg_gone = 1;
    if (op->player)
        media_player_stop(op->player);
    media_fax_result res;
    report(op, op->fax && media_fax_result_get(op->fax, &res) ? &res : NULL);
    call_op_detach(base); /* preparing: the prepared message frees the op */
}

static const call_op_vtbl fax_vtbl = {
    .on_leg_gone = fax_leg_gone,
    .control = fax_control,
    .free = fax_free_op,
};

/* A string param of at most max chars, printable ASCII; absent is "". */
static int text_param(json_t *params, const char *key, size_t max, const char **out)
{
    json_t *v = json_object_get(params, key);
    *out = v ? json_string_value(v) : "";
    if (!*out || strlen(*out) > max)
        return -1;
    for (const char *p = *out; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return -1;
    return 0;
}

/* The document checked at request time. An http(s) URL: its syntax (the
 * fetch comes later, on the pool); a file:// URL: its real path under
 * media_dir into op->path, no larger than media_max_bytes, starting as a
 * TIFF or a PDF. *prepare: the pool must fetch or convert it first. NULL if
 * fit to send, else the answer. */
static json_t *document_check(fax_op *op, relayd *rd, const char *doc, int *prepare)
{
    *prepare = 0;
    if (strncasecmp(doc, "http://", 7) == 0 || strncasecmp(doc, "https://", 8) == 0) {
        const char *why = media_url_invalid(doc, 0);
        if (why) {
            char msg[160];
            snprintf(msg, sizeof msg, "document: %s", why);
            return frames_code_result(400, msg);
        }
        *prepare = 1;
        return NULL;
    }
    if (strncmp(doc, "file:///", 8) != 0)
        return frames_code_result(400, "document must be an http(s) URL or a file:// URL with "
                                       "an absolute path");
    const char *media_dir = rd->cfg->media_dir;
    if (!media_dir)
        return frames_code_result(403, "file:// documents need media_dir to be configured");
    char *dir = realpath(media_dir, NULL);
    char *real = realpath(doc + 7, NULL);
    size_t dl = dir ? strlen(dir) : 0;
    int under = dir && real && strncmp(real, dir, dl) == 0 && real[dl] == '/';
    if (under)
        snprintf(op->path, sizeof op->path, "%s", real);
    free(dir);
    free(real);
    if (!under)
        return frames_code_result(404, "document not found under media_dir");
    struct stat st;
    if (stat(op->path, &st) != 0 || !S_ISREG(st.st_mode))
        return frames_code_result(404, "document not found under media_dir");
    if ((uint64_t)st.st_size > (uint64_t)rd->cfg->media_max_bytes)
        return frames_code_result(413, "document is larger than media_max_bytes");
    unsigned char magic[8] = {0};
    int fd = open(op->path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
    if (fd >= 0)
        close(fd);
    fax_doc_kind kind = fax_doc_kind_of(magic, n > 0 ? (size_t)n : 0);
    if (kind == FAX_DOC_OTHER)
        return frames_code_result(415, "document is neither a TIFF nor a PDF");
    *prepare = kind == FAX_DOC_PDF;
    return NULL;
}

static json_t *receive_path(fax_op *op, relayd *rd, call *c)
{
    const char *dir = rd->cfg->recordings_dir;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return frames_code_result(500, "the recordings folder is not writable");
    if (access(dir, W_OK | X_OK) != 0)
        return frames_code_result(500, "the recordings folder is not writable");
    static unsigned counter; /* core thread only */
    int n = snprintf(op->path, sizeof op->path, "%s/%s-fax-%u-%lld.tif", dir, c->id, ++counter,
                     (long long)core_now_ms());
    if (n < 0 || (size_t)n >= sizeof op->path)
        return frames_code_result(500, "recordings_dir is too long");
    return NULL;
}

/* The modem and its player on the call's media. 0; or -1 (nothing was
 * started: the op is the caller's) or -2 (the closed message will free the
 * op), with *why. */
static int fax_begin(fax_op *op, call *c, const char **why)
{
    if (!(op->fax = media_fax_new(op->sending, op->path, op->identity, op->header, on_closed,
                                  on_page, op, why)))
        return -1;
    op->sink = media_fax_sink(op->fax);
    media_source **sources = malloc(sizeof *sources);
    if (sources)
        sources[0] = media_fax_source(op->fax);
    else
        media_fax_source(op->fax)->destroy(media_fax_source(op->fax));
    /* the player takes the source (also on failure) */
    media_session *s = sip_leg_media(c->leg);
    op->player = sources ? media_player_start(s, sources, 1, 0, 0, on_done, op) : NULL;
    if (!op->player) {
        /* never attached: this drops the last media hold, and the closed
         * message frees the op */
        op->sink->on_detach(op->sink);
        *why = "could not start the fax";
        return -2;
    }
    media_session_attach_sink(s, op->sink);
    server_log(RELAY_LOG_INFO, "call %s: fax %s %s", c->id, op->sending ? "sending" : "receiving",
               op->path);
    return 0;
}

/* core: the document is ready (op->tmp), or not (op->prep_error) */
static void on_prepared(relayd *rd, void *arg)
{
    fax_op *op = arg;
    rd->preparing--;
    op->preparing = 0;
    call *c = op->base.call;
    if (!c || op->stopped) { /* a hangup has reported; a stop reports now */
        report(op, NULL);
        call_op_release(&op->base);
        return;
    }
    if (!op->prep_error && (!c->leg || !sip_leg_media(c->leg)))
        op->prep_error = "the call has no media any more";
    if (op->prep_error) {
        report_error(op, op->prep_error);
        call_op_release(&op->base);
        return;
    }
    snprintf(op->path, sizeof op->path, "%s", op->tmp);
    const char *why = NULL;
    int rc = fax_begin(op, c, &why);
    if (rc == -1) {
        report_error(op, why);
        call_op_release(&op->base);
    } else if (rc == -2) {
        op->prep_error = why; /* the closed message reports it */
    }
}

/* preparation pool: a fetch and a conversion take seconds */
static void prepare_main(void *arg)
{
    fax_op *op = arg;
    int url = strncasecmp(op->document, "file://", 7) != 0;
    const char *err = NULL;
    if (fax_doc_prepare(op->base.rd->fetch, url ? op->document : NULL, url ? NULL : op->path,
                        op->tmp, sizeof op->tmp, &err) != 0)
        op->prep_error = err ? err : "the document could not be prepared";
    core_post(op->base.rd, on_prepared, op);
}

static void fax_start(rpc_req *r, int sending)
{
    call *c = r->call;
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof ((call_op *)0)->control_id) {
        rpc_answer(r, frames_code_result(400, "control_id is required"));
        return;
    }
    const char *identity, *header;
    if (text_param(r->params, "identity", IDENT_MAX, &identity) != 0) {
        rpc_answer(r, frames_code_result(400, "identity must be up to 20 printable characters"));
        return;
    }
    if (text_param(r->params, "header_info", HEADER_MAX, &header) != 0) {
        rpc_answer(r, frames_code_result(400,
                                         "header_info must be up to 50 printable characters"));
        return;
    }
    const char *doc = json_string_value(json_object_get(r->params, "document"));
    if (sending && (!doc || !*doc || strlen(doc) > MEDIA_URL_MAX)) {
        rpc_answer(r, frames_code_result(400, "document is required (an http(s) or file:// URL "
                                              "of a TIFF or a PDF, at most 2048 characters)"));
        return;
    }
    const char *status_url = NULL;
    json_t *bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    if (!c->leg || !sip_leg_media(c->leg)) {
        rpc_answer(r, frames_code_result(409, "the call has no media to fax on"));
        return;
    }
    if (call_op_find(c, PF_SEND_FAX, NULL) || call_op_find(c, PF_RECEIVE_FAX, NULL)) {
        rpc_answer(r, frames_code_result(409, "a fax is already running on this call"));
        return;
    }
    fax_op *op = calloc(1, sizeof *op);
    if (!op || call_op_init(&op->base, &fax_vtbl, sending ? PF_SEND_FAX : PF_RECEIVE_FAX, r->rd,
                            control_id, status_url) != 0) {
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    op->sending = sending;
    snprintf(op->identity, sizeof op->identity, "%s", identity);
    snprintf(op->header, sizeof op->header, "%s", header);
    if (sending)
        snprintf(op->document, sizeof op->document, "%s", doc);
    int prepare = 0;
    bad = sending ? document_check(op, r->rd, doc, &prepare) : receive_path(op, r->rd, c);
    if (!bad && prepare) {
        if (media_prep_submit(r->rd->prep, prepare_main, op) != 0) {
            bad = frames_code_result(500, "could not start preparing the document");
        } else {
            op->preparing = 1;
            r->rd->preparing++;
            call_op_attach(c, &op->base);
            server_log(RELAY_LOG_INFO, "call %s: fax: preparing %s", c->id, doc);
            rpc_answer(r, frames_code_result(200, "Sending fax"));
            return;
        }
    }
    const char *why = NULL;
    int rc = bad ? -1 : fax_begin(op, c, &why);
    if (rc != 0) {
        if (!bad)
            bad = frames_code_result(500, why);
        if (rc == -1)
            fax_free_op(&op->base);
        /* -2: the op is on no call, nothing is reported; the closed message
         * frees it */
        rpc_answer(r, bad);
        return;
    }
    call_op_attach(c, &op->base);
    rpc_answer(r, frames_code_result(200, sending ? "Sending fax" : "Receiving fax"));
}

static void send_fax_start(rpc_req *r) { fax_start(r, 1); }
static void receive_fax_start(rpc_req *r) { fax_start(r, 0); }

const server_family_desc send_fax_family = {
    .family = PF_SEND_FAX,
    .methods = (const server_method[]){
        {PM_SEND_FAX, send_fax_start},
        {PM_UNKNOWN, NULL},
    },
};

const server_family_desc receive_fax_family = {
    .family = PF_RECEIVE_FAX,
    .methods = (const server_method[]){
        {PM_RECEIVE_FAX, receive_fax_start},
        {PM_UNKNOWN, NULL},
    },
};
