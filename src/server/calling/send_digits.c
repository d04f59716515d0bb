/*
 * calling.send_digits: DTMF to the peer, 100 ms each with 60 ms between
 * (w pauses 0.5 s and W 1 s), sent by a media player like a play;
 * calling.call.send_digits reports finished (or error).
 *
 * As RFC 4733 telephone-events (media/source_events.h) when the peer's SDP
 * negotiated telephone-event: it told us it understands them, and events
 * survive codecs and jitter that can garble tones. Otherwise as in-band
 * tones (ITU-T Q.23 pairs), synthesised on the core (a few kB of samples:
 * cheap). Never both: a peer that gets events and also detects the tones
 * would count each digit twice. The choice is made at the start, from the
 * SDP as it stands.
 *
 * Like a play (play.c), a newer play on the leg replaces this one, and the
 * player's done message is the op's one message in flight: only it frees
 * the op.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "families.h"
#include "frames.h"
#include "media/player.h"
#include "media/source.h"
#include "media/source_events.h"
#include "server_log.h"
#include "sip/sip_ua.h"

#define MAX_DIGITS 128
#define TONE_MS 100
#define GAP_MS 60
#define RATE 8000
#define AMPLITUDE 8000.0 /* each of the pair: about -12 dBFS together */

typedef struct digits_op {
    call_op base; /* first */
    media_player *player;
    media_play_end how;
} digits_op;

static const char KEYS[] = "123A456B789C*0#D";
static const double ROWS[4] = {697, 770, 852, 941};
static const double COLS[4] = {1209, 1336, 1477, 1633};

static void digits_free(call_op *base)
{
    call_op_cleanup(base);
    free(base);
}

/* Samples the digits take: tones with their gaps, and the pauses. */
static size_t digits_samples(const char *digits)
{
    size_t n = 0;
    for (const char *d = digits; *d; d++)
        n += (size_t)(*d == 'w' ? 500 : *d == 'W' ? 1000 : TONE_MS + GAP_MS) * RATE / 1000;
    return n;
}

static int16_t *digits_pcm(const char *digits, size_t *n)
{
    *n = digits_samples(digits);
    int16_t *pcm = calloc(*n ? *n : 1, sizeof *pcm);
    if (!pcm)
        return NULL;
    size_t at = 0;
    for (const char *d = digits; *d; d++) {
        if (*d == 'w' || *d == 'W') {
            at += (size_t)(*d == 'w' ? 500 : 1000) * RATE / 1000; /* zeros already */
            continue;
        }
        int k = (int)(strchr(KEYS, *d) - KEYS);
        double r = 2 * M_PI * ROWS[k / 4] / RATE, c = 2 * M_PI * COLS[k % 4] / RATE;
        for (size_t i = 0; i < (size_t)TONE_MS * RATE / 1000; i++)
            pcm[at + i] = (int16_t)(AMPLITUDE * (sin(r * (double)i) + sin(c * (double)i)));
        at += (size_t)(TONE_MS + GAP_MS) * RATE / 1000;
    }
    return pcm;
}

static void on_done_core(relayd *rd, void *arg)
{
    (void)rd;
    digits_op *op = arg;
    if (op->player) {
        media_player_free(op->player);
        op->player = NULL;
    }
    call_op_emit(&op->base, json_pack("{s:s}", "state",
                                      op->how == MEDIA_PLAY_FINISHED ? "finished" : "error"));
    call_op_release(&op->base);
}

/* media thread */
static void on_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    digits_op *op = user;
    op->how = how;
    core_post(op->base.rd, on_done_core, op);
}

static void digits_leg_gone(call_op *base)
{
    /* As play.c: the player goes before the leg's RTP endpoint; its done
     * message still comes and frees the op. */
    digits_op *op = (digits_op *)base;
    if (op->player) {
        media_player_stop(op->player);
        media_player_free(op->player);
        op->player = NULL;
    }
    call_op_emit(base, json_pack("{s:s}", "state", "error"));
    call_op_detach(base);
}

static const call_op_vtbl digits_vtbl = {
    .on_leg_gone = digits_leg_gone,
    .free = digits_free,
};

static json_t *digits_invalid(json_t *params)
{
    const char *control_id = json_string_value(json_object_get(params, "control_id"));
    const char *digits = json_string_value(json_object_get(params, "digits"));
    if (!control_id || !*control_id || strlen(control_id) >= sizeof((call_op *)0)->control_id)
        return frames_code_result(400, "control_id is required");
    if (!digits || !*digits || strlen(digits) > MAX_DIGITS ||
        strspn(digits, "0123456789*#ABCDwW") != strlen(digits))
        return frames_code_result(400, "digits must be 1 to 128 of 0-9 * # A-D w W");
    return NULL;
}

/* calling.send_digits; the RPC layer has checked that the call is answered. */
static void digits_start(rpc_req *r)
{
    call *c = r->call;
    const char *status_url = NULL;
    json_t *bad = digits_invalid(r->params);
    if (!bad)
        bad = call_op_check_status_url(r->params, &status_url);
    const char *control_id = json_string_value(json_object_get(r->params, "control_id"));
    if (!bad && (!c->leg || !sip_leg_rtp(c->leg)))
        bad = frames_code_result(409, "the call has no media to send digits on");
    if (!bad && call_op_find(c, PF_SEND_DIGITS, control_id))
        bad = frames_code_result(409, "control_id already in use on this call");
    if (bad) {
        rpc_answer(r, bad);
        return;
    }
    const char *digits = json_string_value(json_object_get(r->params, "digits"));
    media_source *src = NULL;
    if (media_session_peer_events(sip_leg_media(c->leg))) {
        src = media_source_digit_events(digits, TONE_MS, GAP_MS);
    } else {
        size_t n = 0;
        int16_t *pcm = digits_pcm(digits, &n);
        if (pcm && !(src = media_source_pcm_take(pcm, n)))
            free(pcm);
    }
    media_source **sources = malloc(sizeof *sources);
    digits_op *op = calloc(1, sizeof *op);
    if (!src || !sources || !op ||
        call_op_init(&op->base, &digits_vtbl, PF_SEND_DIGITS, r->rd, control_id, status_url) !=
            0) {
        if (src)
            src->destroy(src);
        free(sources);
        free(op);
        rpc_answer(r, frames_code_result(500, "out of memory"));
        return;
    }
    sources[0] = src;
    /* the player takes the sources, array included */
    op->player = media_player_start(sip_leg_media(c->leg), sources, 1, 0, 0, on_done, op);
    if (!op->player) {
        digits_free(&op->base);
        rpc_answer(r, frames_code_result(500, "could not start sending digits"));
        return;
    }
    call_op_attach(c, &op->base);
    rpc_answer(r, frames_code_result(200, "Sending"));
}

const server_family_desc send_digits_family = {
    .family = PF_SEND_DIGITS,
    .methods = (const server_method[]){
        {PM_SEND_DIGITS, digits_start},
        {PM_UNKNOWN, NULL},
    },
};
