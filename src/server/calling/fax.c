/*
 * calling.send_fax and calling.receive_fax: a T.30 fax terminal
 * (media/fax.h) on the leg's media session, over its G.711 audio (no T.38,
 * no ECM). send_fax transmits a TIFF/F named by a file:// URL under
 * media_dir (http(s) is not fetched: relayd's fetcher decodes audio, and
 * has no use for an image); receive_fax writes what arrives as a TIFF under
 * recordings_dir. One fax op per call, either way. Each serves .stop.
 *
 * Events: calling.call.fax {control_id, state: "finished", fax: {type: "finished", params:
 * {direction, identity, remote_identity, document, pages, success, result,
 * result_code, result_text}}}, once, at the end (phase E, stop or hangup).
 *
 * Lifetime (as calling/echo.c): the op holds the player; the player's done
 * message (phase E ended the source, or a stop/newer play) detaches the
 * sink; when both media holds are gone the modem closes its file and the
 * `closed` message reports and frees the op. A hangup reports at once
 * (while the call can carry the event) with what phase E gave, if it came;
 * the session's end then detaches the sink and the same message frees the
 * op.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/fax.h"
#include "media/player.h"
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
    char identity[IDENT_MAX + 1];
    char document[PATH_MAX + 16]; /* as given (send), or the file written (receive) */
    char path[PATH_MAX];
} fax_op;

static void fax_free_op(call_op *base)
{
    fax_op *op = (fax_op *)base;
    if (op->fax)
        media_fax_free(op->fax);
    call_op_cleanup(base);
    free(op);
}

static void report(fax_op *op, const media_fax_result *res)
{
    if (op->reported || !op->base.call)
        return;
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
    const char *text = !res                          ? "the call ended before the fax did"
                       : op->stopped && !ok          ? "stopped"
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
    report(op, media_fax_result_get(op->fax, &res) ? &res : NULL); /* nothing once detached */
    call_op_release(&op->base);
}

/* media thread (or the core, when the start failed) */
static void on_closed(media_fax *f, void *user)
{
    (void)f;
    fax_op *op = user;
    core_post(op->base.rd, on_closed_core, op);
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
    report(op, media_fax_result_get(op->fax, &res) ? &res : NULL);
    call_op_detach(base);
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

/* The document's local path into op->path, checked: a file:// URL under
 * media_dir, no larger than media_max_bytes, that starts as a TIFF. NULL
 * if fit to send, else the answer. */
static json_t *document_check(fax_op *op, relayd *rd, const char *doc)
{
    if (strncmp(doc, "http://", 7) == 0 || strncmp(doc, "https://", 8) == 0)
        return frames_code_result(501, "this relayd sends file:// documents only (under "
                                       "media_dir); it does not fetch http(s) documents");
    if (strncmp(doc, "file:///", 8) != 0)
        return frames_code_result(400, "document must be a file:// URL with an absolute path");
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
    unsigned char magic[4] = {0};
    int fd = open(op->path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
    if (fd >= 0)
        close(fd);
    if (n == 4 && memcmp(magic, "%PDF", 4) == 0)
        return frames_code_result(415, "only TIFF documents can be faxed: this relayd has no "
                                       "PDF converter");
    if (n != 4 || (memcmp(magic, "II*\0", 4) != 0 && memcmp(magic, "MM\0*", 4) != 0))
        return frames_code_result(415, "document is not a TIFF");
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
    if (sending && (!doc || !*doc || strlen(doc) >= PATH_MAX)) {
        rpc_answer(r, frames_code_result(400, "document is required (a file:// URL of a TIFF)"));
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
    if (sending)
        snprintf(op->document, sizeof op->document, "%s", doc);
    bad = sending ? document_check(op, r->rd, doc) : receive_path(op, r->rd, c);
    const char *why = NULL;
    if (!bad && !(op->fax = media_fax_new(sending, op->path, identity, header, on_closed, op,
                                          &why)))
        bad = frames_code_result(500, why);
    if (bad) {
        fax_free_op(&op->base);
        rpc_answer(r, bad);
        return;
    }
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
         * message frees the op (it is on no call: nothing is reported) */
        op->sink->on_detach(op->sink);
        rpc_answer(r, frames_code_result(500, "could not start the fax"));
        return;
    }
    media_session_attach_sink(s, op->sink);
    call_op_attach(c, &op->base);
    server_log(RELAY_LOG_INFO, "call %s: fax %s %s", c->id, sending ? "sending" : "receiving",
               op->path);
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
