/*
 * Offer/answer for one audio stream (RFC 3264) with G.711 only. The offer
 * is parsed by sofia's SDP parser; the answer is short enough to print.
 */
#include "sip/sdp.h"
#include "sip/sdp_guard.h"

#include "media/rtp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

/* The G.711 payload type an rtpmap stands for, or -1. We send what we
 * negotiate under the static numbers 0 and 8 only, so a dynamic type mapped
 * to PCMU/PCMA (rare) does not count. */
static int g711_pt(const sdp_rtpmap_t *rm)
{
    if (rm->rm_pt != RTP_PT_PCMU && rm->rm_pt != RTP_PT_PCMA)
        return -1;
    if (rm->rm_encoding && *rm->rm_encoding) {
        const char *want = rm->rm_pt == RTP_PT_PCMU ? "PCMU" : "PCMA";
        if (strcasecmp(rm->rm_encoding, want) != 0 || (rm->rm_rate && rm->rm_rate != 8000))
            return -1;
    }
    return (int)rm->rm_pt;
}

/* The m= line (without "m=") that rejects the stream m in an answer:
 * same media and proto, port 0, and one of its formats (RFC 3264 6:
 * "at least one format must be listed", the offer's first will do). */
static int reject_line(const sdp_media_t *m, char *buf, size_t size)
{
    char fmt[16] = "0";
    if (m->m_rtpmaps)
        snprintf(fmt, sizeof fmt, "%u", (unsigned)m->m_rtpmaps->rm_pt);
    const char *f = m->m_rtpmaps ? fmt : m->m_format && m->m_format->l_text ? m->m_format->l_text : fmt;
    const char *type = m->m_type_name ? m->m_type_name : "audio";
    const char *proto = m->m_proto_name ? m->m_proto_name : "RTP/AVP";
    int n = snprintf(buf, size, "%s 0 %s %s", type, proto, f);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int sdp_audio_offer_parse(const char *text, size_t len, sdp_audio_offer *out, int *no_codec,
                          const char **why)
{
    *no_codec = 0;
    if (!text || !len) {
        /* an INVITE without an offer wants ours in the 200: not supported */
        *why = "no SDP offer (late offer is not supported)";
        *no_codec = 1;
        return -1;
    }
    /* sofia's sdp_parse() can spin forever on malformed input: it only
     * ever sees bodies that keep to the grammar relayd needs. */
    if (sdp_guard_check(text, len, why) < 0)
        return -1;
    su_home_t *home = su_home_new(sizeof *home);
    if (!home) {
        *why = "out of memory";
        return -1;
    }
    int rc = -1;
    sdp_parser_t *parser = sdp_parse(home, text, (issize_t)len, 0);
    sdp_session_t *sess = parser ? sdp_session(parser) : NULL;
    if (!sess) {
        *why = "malformed SDP";
        goto done;
    }
    const sdp_media_t *audio = NULL;
    out->n_media = 0;
    out->audio_index = -1;
    for (const sdp_media_t *m = sess->sdp_media; m; m = m->m_next) {
        int i = out->n_media++;
        if (i >= SDP_GUARD_MAX_MEDIA) { /* the guard let no more through */
            *why = "too many m= lines";
            goto done;
        }
        if (!audio && m->m_type == sdp_media_audio && m->m_proto == sdp_proto_rtp &&
            m->m_port != 0 && !m->m_rejected) {
            audio = m;
            out->audio_index = i;
            out->rejected[i][0] = '\0';
            continue;
        }
        if (reject_line(m, out->rejected[i], sizeof out->rejected[i]) < 0) {
            *why = "an m= line too long to answer";
            goto done;
        }
    }
    if (!audio) {
        *why = "no RTP/AVP audio stream";
        *no_codec = 1;
        goto done;
    }
    const sdp_connection_t *c = audio->m_connections ? audio->m_connections : sess->sdp_connection;
    memset(&out->remote, 0, sizeof out->remote);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->remote;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->remote;
    int on_hold_address = 0; /* c=0.0.0.0 or c=::, the RFC 2543 way to hold */
    if (c && c->c_address && c->c_addrtype == sdp_addr_ip4 &&
        inet_pton(AF_INET, c->c_address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)audio->m_port);
        on_hold_address = v4->sin_addr.s_addr == htonl(INADDR_ANY);
    } else if (c && c->c_address && c->c_addrtype == sdp_addr_ip6 &&
               inet_pton(AF_INET6, c->c_address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)audio->m_port);
        on_hold_address = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
    } else {
        *why = "no IPv4 or IPv6 connection address";
        *no_codec = 1;
        goto done;
    }
    out->pt = -1;
    out->te_pt = -1;
    /* For RTP media sofia turns the m= format list into rtpmaps, in the
     * m= order (the offerer's preference), with entries for static payload
     * types that have no a=rtpmap line. */
    for (const sdp_rtpmap_t *rm = audio->m_rtpmaps; rm; rm = rm->rm_next) {
        if (out->pt < 0)
            out->pt = g711_pt(rm);
        if (out->te_pt < 0 && rm->rm_encoding &&
            strcasecmp(rm->rm_encoding, "telephone-event") == 0 && rm->rm_rate == 8000)
            out->te_pt = (int)rm->rm_pt;
    }
    if (out->pt < 0) {
        *why = "no common codec (PCMU/PCMA)";
        *no_codec = 1;
        goto done;
    }
    /* sofia folds a=sendonly/recvonly/inactive into m_mode (session-level
     * attributes included) */
    out->peer_sends = (audio->m_mode & sdp_sendonly) != 0;
    out->peer_receives = (audio->m_mode & sdp_recvonly) != 0 && !on_hold_address;
    rc = 0;
done:
    if (parser)
        sdp_parser_free(parser);
    su_home_unref(home);
    return rc;
}

const char *sdp_answer_direction(const sdp_audio_offer *offer, int holding)
{
    int we_send = offer->peer_receives && !holding;
    int we_receive = offer->peer_sends;
    return we_send ? (we_receive ? "sendrecv" : "sendonly")
                   : (we_receive ? "recvonly" : "inactive");
}

int sdp_audio_answer_write(char *buf, size_t size, const char *ip, int port, int pt, int te_pt,
                           const char *direction, uint64_t session_id, unsigned version)
{
    return sdp_audio_answer_write_all(buf, size, ip, port, pt, te_pt, direction, session_id,
                                      version, NULL);
}

/* RFC 4566 addrtype of our own address: media_ip6 calls are IP6. */
static const char *sdp_addrtype(const char *ip) { return strchr(ip, ':') ? "IP6" : "IP4"; }

/* v=, o=, s=, t=: the session part. The connection address goes with our
 * audio stream (c= per m=), so that a rejected stream needs none. */
static int put_head(char *buf, size_t size, int *at, const char *ip, uint64_t session_id,
                    unsigned version)
{
    int n = snprintf(buf, size,
                     "v=0\r\n"
                     "o=relayd %llu %u IN %s %s\r\n"
                     "s=relayd\r\n"
                     "t=0 0\r\n",
                     (unsigned long long)session_id, version, sdp_addrtype(ip), ip);
    if (n < 0 || (size_t)n >= size)
        return -1;
    *at = n;
    return 0;
}

/* Appends the layout's m= lines before (before = 1) or after our audio
 * block; -1 when buf is full. */
static int put_rejected(char *buf, size_t size, int *at, const sdp_audio_offer *layout,
                        int before)
{
    if (!layout)
        return 0;
    int from = before ? 0 : layout->audio_index + 1;
    int to = before ? layout->audio_index : layout->n_media;
    for (int i = from; i < to; i++) {
        int n = snprintf(buf + *at, size - (size_t)*at, "m=%s\r\n", layout->rejected[i]);
        if (n < 0 || (size_t)n >= size - (size_t)*at)
            return -1;
        *at += n;
    }
    return 0;
}

int sdp_audio_answer_write_all(char *buf, size_t size, const char *ip, int port, int pt,
                               int te_pt, const char *direction, uint64_t session_id,
                               unsigned version, const sdp_audio_offer *layout)
{
    if (layout && (layout->audio_index < 0 || layout->audio_index >= layout->n_media))
        layout = NULL;
    char te_fmt[16] = "", te_lines[128] = "";
    if (te_pt >= 0) {
        snprintf(te_fmt, sizeof te_fmt, " %d", te_pt);
        snprintf(te_lines, sizeof te_lines,
                 "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", te_pt, te_pt);
    }
    int at = 0;
    if (put_head(buf, size, &at, ip, session_id, version) < 0 ||
        put_rejected(buf, size, &at, layout, 1) < 0)
        return -1;
    int n = snprintf(buf + at, size - (size_t)at,
                     "m=audio %d RTP/AVP %d%s\r\n"
                     "c=IN %s %s\r\n"
                     "a=rtpmap:%d %s/8000\r\n"
                     "%s"
                     "a=ptime:20\r\n"
                     "a=%s\r\n",
                     port, pt, te_fmt, sdp_addrtype(ip), ip, pt, pt == RTP_PT_PCMA ? "PCMA" : "PCMU", te_lines,
                     direction);
    if (n < 0 || (size_t)n >= size - (size_t)at)
        return -1;
    at += n;
    return put_rejected(buf, size, &at, layout, 0) < 0 ? -1 : at;
}

int sdp_audio_offer_write(char *buf, size_t size, const char *ip, int port, const int *pts,
                          size_t n_pts, int te_pt, const char *direction, uint64_t session_id,
                          unsigned version)
{
    return sdp_audio_offer_write_all(buf, size, ip, port, pts, n_pts, te_pt, direction,
                                     session_id, version, NULL);
}

int sdp_audio_offer_write_all(char *buf, size_t size, const char *ip, int port, const int *pts,
                              size_t n_pts, int te_pt, const char *direction,
                              uint64_t session_id, unsigned version,
                              const sdp_audio_offer *layout)
{
    static const int both[] = {RTP_PT_PCMU, RTP_PT_PCMA};
    if (!pts || n_pts == 0) {
        pts = both;
        n_pts = 2;
    }
    char fmts[32] = "", maps[128] = "";
    size_t fl = 0, ml = 0;
    for (size_t i = 0; i < n_pts && i < 2; i++) {
        if (pts[i] != RTP_PT_PCMU && pts[i] != RTP_PT_PCMA)
            return -1;
        fl += (size_t)snprintf(fmts + fl, sizeof fmts - fl, "%d ", pts[i]);
        ml += (size_t)snprintf(maps + ml, sizeof maps - ml, "a=rtpmap:%d %s/8000\r\n", pts[i],
                               pts[i] == RTP_PT_PCMU ? "PCMU" : "PCMA");
    }
    if (layout && (layout->audio_index < 0 || layout->audio_index >= layout->n_media))
        layout = NULL;
    int at = 0;
    if (put_head(buf, size, &at, ip, session_id, version) < 0 ||
        put_rejected(buf, size, &at, layout, 1) < 0)
        return -1;
    int n = snprintf(buf + at, size - (size_t)at,
                     "m=audio %d RTP/AVP %s%d\r\n"
                     "c=IN %s %s\r\n"
                     "%s"
                     "a=rtpmap:%d telephone-event/8000\r\n"
                     "a=fmtp:%d 0-15\r\n"
                     "a=ptime:20\r\n"
                     "a=%s\r\n",
                     port, fmts, te_pt, sdp_addrtype(ip), ip, maps, te_pt, te_pt, direction);
    if (n < 0 || (size_t)n >= size - (size_t)at)
        return -1;
    at += n;
    return put_rejected(buf, size, &at, layout, 0) < 0 ? -1 : at;
}
