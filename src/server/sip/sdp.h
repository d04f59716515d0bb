/*
 * The SDP side of an audio call, done by hand (sofia's soa engine is off:
 * it advertised the wrong address and dropped telephone-event): pick a
 * G.711 codec from a remote offer, and write our answer.
 */
#ifndef RELAYD_SIP_SDP_H
#define RELAYD_SIP_SDP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sip/sdp_guard.h"

/* A rejected m= line as the answer repeats it: "video 0 RTP/AVP 31". */
#define SDP_MLINE_MAX 96

typedef struct sdp_audio_offer {
    struct sockaddr_storage remote; /* where to send RTP: AF_INET or AF_INET6 */
    int pt;                    /* RTP_PT_PCMU or RTP_PT_PCMA, the first the offer lists */
    int te_pt;                 /* telephone-event/8000 payload type, -1 if not offered */
    int peer_sends;            /* the peer will send RTP (sendrecv, sendonly) */
    int peer_receives;         /* the peer wants RTP (sendrecv, recvonly; not on c=0.0.0.0) */
    /* The offer's m= lines, which an answer must repeat one for one and in
     * order (RFC 3264 6): the one audio stream we take is audio_index;
     * every other is answered as rejected[i] (port 0). */
    int n_media;
    int audio_index;
    char rejected[SDP_GUARD_MAX_MEDIA][SDP_MLINE_MAX];
} sdp_audio_offer;

/* Parses an offer (text of len bytes). 0 on success; -1 with *why when it
 * cannot be parsed, has no usable audio stream, or no codec we speak (then
 * *no_codec is 1, meaning 488 rather than 400). */
int sdp_audio_offer_parse(const char *text, size_t len, sdp_audio_offer *out, int *no_codec,
                          const char **why);

/* Writes our answer (or a re-offer of the negotiated codec) into buf
 * (NUL-terminated), with the direction attribute given ("sendrecv",
 * "sendonly", "recvonly", "inactive"). session_id identifies the session
 * in o=; version increases when the SDP changes. Returns the length, or -1
 * if buf is too small. */
int sdp_audio_answer_write(char *buf, size_t size, const char *ip, int port, int pt, int te_pt,
                           const char *direction, uint64_t session_id, unsigned version);
/* The same, with every m= line of the offer `layout` in its place: ours
 * for its audio stream, the others rejected with port 0. NULL layout: the
 * audio stream alone. */
int sdp_audio_answer_write_all(char *buf, size_t size, const char *ip, int port, int pt,
                               int te_pt, const char *direction, uint64_t session_id,
                               unsigned version, const sdp_audio_offer *layout);
/* The direction that answers an offer's (RFC 3264 6.1), given whether we
 * are holding the peer: peer sendonly → recvonly, inactive → inactive... */
const char *sdp_answer_direction(const sdp_audio_offer *offer, int holding);

/* Our offer for an outbound call (RFC 3264): the G.711 payload types pts
 * in that order (pts NULL: PCMU then PCMA), and telephone-event/8000 as
 * payload type te_pt. direction is the attribute ("sendrecv", "sendonly"
 * to hold...). Returns the length, or -1 if buf is too small or a payload
 * type is not PCMU or PCMA. The answer is read back with
 * sdp_audio_offer_parse: an answer lists the one codec chosen first. */
int sdp_audio_offer_write(char *buf, size_t size, const char *ip, int port, const int *pts,
                          size_t n_pts, int te_pt, const char *direction, uint64_t session_id,
                          unsigned version);
/* The same with the m= lines of the session so far (layout, may be NULL)
 * kept in place, as a later offer in a dialog must (RFC 3264 8): the
 * streams rejected before stay rejected. */
int sdp_audio_offer_write_all(char *buf, size_t size, const char *ip, int port, const int *pts,
                              size_t n_pts, int te_pt, const char *direction,
                              uint64_t session_id, unsigned version,
                              const sdp_audio_offer *layout);

#endif
