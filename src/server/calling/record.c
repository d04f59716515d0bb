/*
 * calling.record: a recording sink (media/sink_record.h) on the leg's media
 * session writes a WAV (or, with format mp3, an MP3 when this libsndfile
 * can) file under recordings_dir; calling.call.record
 * events report recording → finished (url, duration, size) or no_input.
 * The op serves .stop, .pause and .resume through its control.
 *
 * beep: true plays BEEP_MS of BEEP_HZ (media/source_tone.h) through a media
 * player first, and attaches the sink only once the beep's done message
 * reaches the core: the beep is in no direction of the file, and the
 * timeouts (and the `recording` event) start when the recording does. Like
 * any play, a newer play on the leg cuts the beep short; the recording
 * then starts at once.
 *
 * Timeouts run on the core: a 50 ms timer compares the sink's "last voice"
 * time with the clock. It cannot be the sink's job alone: when the peer
 * sends nothing at all, no frame arrives to notice that time has passed.
 *
 * Lifetime: the op has one message in flight at a time, and only it closes
 * the file and frees the op (the call may be gone by then): while beeping,
 * the beep player's done message; once the sink is attached, the sink's
 * detached callback (posted by the media thread, whether the record was
 * stopped or the session went with the call).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/player.h"
#include "media/sink_record.h"
#include "media/source_tone.h"
#include "recordings_http.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define RECORD_RECORDING "recording"
#define RECORD_FINISHED "finished"
#define RECORD_NO_INPUT "no_input"
#define CHECK_MS 50
#define MAX_TIMEOUT_S 3600.0
#define DEFAULT_INITIAL_S 5.0
#define DEFAULT_END_SILENCE_S 1.0

typedef struct record_op {
    call_op base; /* first: the call_op is the record_op */
    media_record_sink *rec;
    media_player *beep; /* while beeping: the core's hold on the beep */
    int beeping;        /* the beep's done message is the one in flight */
    su_timer_t *timer;
    char path[PATH_MAX];
    const char *direction; /* static: "listen", "speak", "both" */
    const char *format;    /* static: "wav", "mp3" */
    int stereo;
    int served; /* the file was given to recordings_http */
    double initial_s, end_silence_s; /* 0: off */
    int64_t started_ms, paused_at_ms;
    int64_t paused_total_ms; /* time paused does not count towards timeouts */
    int paused;
    const char *end_state; /* NULL while recording */
    const char *terminators; /* in the request's params: only read while starting */
} record_op;

static void record_free(call_op *base)
{
    record_op *op = (record_op *)base;
    if (op->timer)
        su_timer_destroy(op->timer);
    call_op_cleanup(base);
    free(op);
}

/* {url, duration, size} for finished: top level and in record.audio, as
 * the reference SDKs read either. */
static json_t *result_params(record_op *op, const char *state, uint64_t frames)
{
    json_t *p = json_pack("{s:s}", "state", state);
    if (strcmp(state, RECORD_FINISHED) != 0)
        return p;
    char url[PATH_MAX + 128];
    recordings_http *http = op->base.rd->recordings_http;
    if (http && recordings_http_url(http, op->path, url, sizeof url) == 0) {
        if (!op->served) /* servable before its url is out */
            recordings_http_add(http, op->path);
        op->served = 1;
    } else {
        snprintf(url, sizeof url, "file://%s", op->path);
    }
    double duration = (double)frames / 8000.0;
    json_int_t size = (json_int_t)media_record_wav_size(frames, op->stereo ? 2 : 1);
    struct stat st;
    /* An MP3's size is known only from the file: exact once the writer has
     * closed it, short of its last ~50 ms before that (a hangup reports
     * while the writer still finishes). */
    if (strcmp(op->format, "mp3") == 0)
        size = stat(op->path, &st) == 0 ? (json_int_t)st.st_size : 0;
    json_object_set_new(p, "url", json_string(url));
    json_object_set_new(p, "duration", json_real(duration));
    json_object_set_new(p, "size", json_integer(size));
    json_object_set_new(p, "record",
                        json_pack("{s:{s:s,s:s,s:b,s:s,s:f,s:I}}", "audio", "format", op->format,
                                  "direction", op->direction, "stereo", op->stereo, "url", url,
                                  "duration", duration, "size", size));
    return p;
}

static void stop_timer(record_op *op)
{
    if (op->timer) {
        su_timer_destroy(op->timer);
        op->timer = NULL;
    }
}

/* Ends the recording: the sink leaves the session, and its detached
 * message finishes the op with `state`. */
static void record_stop(record_op *op, const char *state)
{
    if (op->end_state)
        return;
    op->end_state = state;
    stop_timer(op);
    if (op->beeping) { /* the beep's done message finishes the op */
        media_player_stop(op->beep);
        return;
    }
    media_session_detach_sink(sip_leg_media(op->base.call->leg),
                              media_record_sink_base(op->rec));
}

/* Closes the file (the sink is detached, or was never attached), reports
 * the end if the op is still on its call, and frees the op. */
static void record_finish(record_op *op)
{
    uint64_t frames = 0, dropped = 0;
    media_record_sink_close(op->rec, &frames, &dropped);
    op->rec = NULL;
    if (dropped)
        server_log(RELAY_LOG_WARN, "record %s: %llu samples dropped (disk too slow)",
                   op->base.control_id, (unsigned long long)dropped);
    const char *state = op->end_state ? op->end_state : RECORD_FINISHED;
    if (strcmp(state, RECORD_NO_INPUT) == 0)
        unlink(op->path); /* nothing worth keeping, and no url to find it by */
    call_op_emit(&op->base, result_params(op, state, frames)); /* nothing if detached */
    call_op_release(&op->base);
}

static void on_detached_core(relayd *rd, void *arg)
{
    (void)rd;
    record_finish(arg);
}

/* media thread */
static void on_detached(media_record_sink *r, void *user)
{
    (void)r;
    record_op *op = user;
    core_post(op->base.rd, on_detached_core, op);
}

static void begin_recording(record_op *op)
{
    op->started_ms = core_now_ms();
    media_session_attach_sink(sip_leg_media(op->base.call->leg), media_record_sink_base(op->rec));
    call_op_emit(&op->base, json_pack("{s:s}", "state", RECORD_RECORDING));
}

/* The beep is over (played, cut short by a newer play, or stopped): record,
 * unless the op was stopped or its leg went meanwhile. */
static void on_beep_core(relayd *rd, void *arg)
{
    (void)rd;
    record_op *op = arg;
    op->beeping = 0;
    if (op->beep) {
        media_player_free(op->beep);
        op->beep = NULL;
    }
    if (op->end_state)
        record_finish(op); /* never attached: nothing more will come */
    else
        begin_recording(op);
}

/* media thread */
static void on_beep_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    record_op *op = user;
    core_post(op->base.rd, on_beep_core, op);
}

static void on_check(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    record_op *op = (record_op *)arg;
    if (op->end_state || op->beeping)
        return;
    if (media_record_sink_terminated(op->rec)) {
        record_stop(op, RECORD_FINISHED);
        return;
    }
    if (op->paused)
        return;
    int64_t now = core_now_ms();
    int64_t voice = media_record_sink_last_voice_ms(op->rec);
    int64_t since_start = now - op->started_ms - op->paused_total_ms;
    if (!voice) {
        if (op->initial_s > 0 && since_start >= (int64_t)(op->initial_s * 1000))
            record_stop(op, RECORD_NO_INPUT);
        return;
    }
    if (op->end_silence_s > 0 && now - voice >= (int64_t)(op->end_silence_s * 1000))
        record_stop(op, RECORD_FINISHED);
}

static json_t *record_control(call_op *base, proto_role role, json_t *params)
{
    (void)params;
    record_op *op = (record_op *)base;
    switch (role) {
    case PROTO_ROLE_STOP:
        record_stop(op, RECORD_FINISHED);
        return frames_code_result(200, "OK");
    case PROTO_ROLE_PAUSE:
    case PROTO_ROLE_RESUME: {
        int pause = role == PROTO_ROLE_PAUSE;
        if (op->paused != pause && !op->end_state) {
            op->paused = pause;
            media_record_sink_pause(op->rec, pause);
            if (pause)
                op->paused_at_ms = core_now_ms();
            else
                op->paused_total_ms += core_now_ms() - op->paused_at_ms;
        }
        return frames_code_result(200, "OK");
    }
    default:
        return call_op_unsupported(role, base->family);
    }
}

static void record_leg_gone(call_op *base)
{
    /* The session goes with the leg and detaches the sink (if a stop has
     * not already): that message still comes and frees the op. Report now,
     * while the call can still carry the event: the file holds what the
     * ring holds, and the writer finishes it. */
    record_op *op = (record_op *)base;
    if (op->beep) { /* as play.c: the player goes before the RTP endpoint */
        media_player_stop(op->beep);
        media_player_free(op->beep);
        op->beep = NULL;
    }
    if (!op->end_state) {
        op->end_state = RECORD_FINISHED;
        stop_timer(op);
    }
    int no_input = strcmp(op->end_state, RECORD_NO_INPUT) == 0;
    call_op_emit(base, result_params(op, no_input ? RECORD_NO_INPUT : RECORD_FINISHED,
                                     media_record_sink_frames(op->rec)));
    call_op_detach(base);
}

static const call_op_vtbl record_vtbl = {
    .on_leg_gone = record_leg_gone,
    .control = record_control,
    .free = record_free,
};

/* A timeout in seconds: absent → dflt; else a number in [0, 3600]. */
static int timeout_of(json_t *audio, const char *key, double dflt, double *out)
{
    json_t *v = json_object_get(audio, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    *out = json_number_value(v);
    return json_is_number(v) && isfinite(*out) && *out >= 0 && *out <= MAX_TIMEOUT_S ? 0 : -1;
}

static int terminators_valid(json_t *v)
{
    if (!v)
        return 1;
    const char *s = json_string_value(v);
    if (!s || strlen(s) > 16)
        return 0;
    return strspn(s, "0123456789*#ABCD") == strlen(s);
}

/* Everything checkable before the op exists; NULL if the request is fine. */
static json_t *record_params_invalid(json_t *params, record_op *out)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof out->base.control_id)
        return frames_code_result(400, "control_id is required");
    json_t *audio = json_object_get(json_object_get(params, "record"), "audio");
    if (!json_is_object(audio))
        return frames_code_result(400, "record.audio is required (an object)");
    const char *format = json_string_value(json_object_get(audio, "format"));
    if (json_object_get(audio, "format") &&
        (!format || (strcmp(format, "wav") != 0 && strcmp(format, "mp3") != 0)))
        return frames_code_result(400, "format must be wav or mp3");
    out->format = format && strcmp(format, "mp3") == 0 ? "mp3" : "wav";
    json_t *stereo = json_object_get(audio, "stereo");
    if (stereo && !json_is_boolean(stereo))
        return frames_code_result(400, "stereo must be true or false");
    out->stereo = json_is_true(stereo);
    /* asked at each start: cheap, and says why in the answer rather than
     * failing later in the writer */
    if (out->format[0] == 'm' &&
        !media_record_format_available(MEDIA_REC_MP3, out->stereo ? 2 : 1))
        return frames_code_result(501, "this relayd's libsndfile cannot write MP3");
    json_t *dir = json_object_get(audio, "direction");
    const char *d = dir ? json_string_value(dir) : "speak"; /* the protocol's default */
    if (!d || (strcmp(d, "listen") && strcmp(d, "speak") && strcmp(d, "both")))
        return frames_code_result(400, "direction must be listen, speak or both");
    out->direction = strcmp(d, "listen") == 0 ? "listen" : strcmp(d, "speak") == 0 ? "speak"
                                                                                  : "both";
    if (out->stereo && strcmp(d, "both") != 0)
        return frames_code_result(400, "stereo records both directions: direction must be both");
    json_t *beep = json_object_get(audio, "beep");
    if (beep && !json_is_boolean(beep))
        return frames_code_result(400, "beep must be true or false");
    out->beeping = json_is_true(beep);
    if (timeout_of(audio, "initial_timeout", DEFAULT_INITIAL_S, &out->initial_s) != 0)
        return frames_code_result(400, "initial_timeout must be between 0 and 3600 seconds");
    if (timeout_of(audio, "end_silence_timeout", DEFAULT_END_SILENCE_S, &out->end_silence_s) !=
        0)
        return frames_code_result(400, "end_silence_timeout must be between 0 and 3600 seconds");
    if (!terminators_valid(json_object_get(audio, "terminators")))
        return frames_code_result(400, "terminators must be up to 16 of 0-9 * # A-D");
    out->terminators = json_string_value(json_object_get(audio, "terminators"));
    return NULL;
}

/* Creates the folder if need be; -1 (and errno) if it cannot be written.
 * Checked at each start, not once at startup: the folder may be removed,
 * fill up or change hands while relayd runs. */
static int dir_writable(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return -1;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return access(dir, W_OK | X_OK);
}

static json_t *record_open(record_op *op, relayd *rd, call *c)
{
    const char *dir = rd->cfg->recordings_dir;
    if (dir_writable(dir) != 0) {
        server_log(RELAY_LOG_WARN, "record: recordings_dir %s: %s", dir, strerror(errno));
        return frames_code_result(500, "the recordings folder is not writable");
    }
    static unsigned counter; /* core thread only */
    int n = snprintf(op->path, sizeof op->path, "%s/%s-%u-%lld.%s", dir, c->id, ++counter,
                     (long long)core_now_ms(), op->format);
    if (n < 0 || (size_t)n >= sizeof op->path)
        return frames_code_result(500, "recordings_dir is too long");
    media_rec_dir d = op->direction[0] == 'l' ? MEDIA_REC_LISTEN
                      : op->direction[0] == 's' ? MEDIA_REC_SPEAK
                                                : MEDIA_REC_BOTH;
    const char *why = NULL;
    media_rec_format f = op->format[0] == 'm' ? MEDIA_REC_MP3 : MEDIA_REC_WAV;
    op->rec = media_record_sink_open(rd->disk, op->path, f, d, op->stereo, on_detached, op, &why);
    if (!op->rec) {
        server_log(RELAY_LOG_WARN, "record: %s: %s", op->path, why);
        return frames_code_result(500, why);
    }
    media_record_sink_set_terminators(op->rec, op->terminators);
    op->timer = su_timer_create(su_root_task(rd->root), CHECK_MS);
    if (!op->timer || su_timer_set_for_ever(op->timer, on_check, (su_timer_arg_t *)op) != 0) {
        uint64_t frames, dropped;
        media_record_sink_close(op->rec, &frames, &dropped);
        op->rec = NULL;
        unlink(op->path);
        return frames_code_result(500, "could not start the record's timer");
    }
    return NULL;
}

/* Before the op is attached: closes and removes the file, frees the op. */
static void record_abandon(record_op *op)
{
    uint64_t frames, dropped;
    media_record_sink_close(op->rec, &frames, &dropped);
    op->rec = NULL;
    unlink(op->path);
    record_free(&op->base);
}

static json_t *start_beep(record_op *op, call *c)
{
    const char *why = NULL;
    media_source **sources = malloc(sizeof *sources);
    media_source *src = sources ? media_source_beep(&why) : NULL;
    if (!src) {
        free(sources);
        return frames_code_result(500, "out of memory");
    }
    sources[0] = src; /* the player takes the sources, array included */
    op->beep = media_player_start(sip_leg_media(c->leg), sources, 1, 0, 0, on_beep_done, op);
    return op->beep ? NULL : frames_code_result(500, "could not play the beep");
}

/* calling.record; the RPC layer has checked that the call is answered. */
static void record_start(rpc_req *r)
{
    call *c = r->call;
    record_op proto = {0};
    const char *status_url = NULL;
    json_t *bad = record_params_invalid(r->params, &proto);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!c->leg || !sip_leg_media(c->leg)) {
        rpc_answer(r, frames_code_result(409, "the call has no media to record"));
        return;
    }
    if (call_op_find(c, PF_RECORD, control_id)) {
        rpc_answer(r, frames_code_result(409, "control_id already in use on this call"));
        return;
    }
    record_op *op = malloc(sizeof *op);
    if (!op) {
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    *op = proto;
    if (call_op_init(&op->base, &record_vtbl, PF_RECORD, r->rd, control_id, status_url) != 0) {
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    if ((bad = record_open(op, r->rd, c))) {
        record_free(&op->base);
        rpc_answer(r, bad);
        return;
    }
    if (op->beeping && (bad = start_beep(op, c))) {
        record_abandon(op);
        rpc_answer(r, bad);
        return;
    }
    call_op_attach(c, &op->base);
    rpc_answer(r, frames_code_result(200, "Recording"));
    if (!op->beeping)
        begin_recording(op);
}

const server_family_desc record_family = {
    .family = PF_RECORD,
    .methods = (const server_method[]){
        {PM_RECORD, record_start},
        {PM_UNKNOWN, NULL},
    },
};
