/*
 * An RTP endpoint of one call leg: a UDP socket on media_ip, the remote
 * address from the SDP offer, the negotiated G.711 payload type, and the
 * sequence/timestamp/SSRC state of what we send.
 *
 * A media_session owns it (media/session.h): the session's media thread is
 * the only one that sends and receives on it.
 */
#ifndef RELAYD_MEDIA_RTP_H
#define RELAYD_MEDIA_RTP_H

#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

typedef struct media_rtp media_rtp;

enum { RTP_PT_PCMU = 0, RTP_PT_PCMA = 8 };

/* Binds an even port in [port_min, port_max) on ip. NULL if none is free. */
media_rtp *media_rtp_open(const char *ip, int port_min, int port_max);
void media_rtp_close(media_rtp *rtp);
int media_rtp_local_port(const media_rtp *rtp);
/* Where RTP goes from now on; -1 (nothing changed) when remote is not of
 * the socket's address family (an IPv4 call cannot switch to IPv6). */
int media_rtp_set_remote(media_rtp *rtp, const struct sockaddr_storage *remote, int payload_type);
/* AF_INET or AF_INET6, as the address given to media_rtp_open. */
int media_rtp_family(const media_rtp *rtp);
int media_rtp_payload_type(const media_rtp *rtp);
/* Encodes 160 samples (20 ms at 8 kHz) with the negotiated codec and sends
 * one packet. marker: first packet of a talkspurt (start of a play, resume
 * after pause); its timestamp then also advances by the wall-clock time
 * since the previous packet. Thread-safe against set_remote. 0 on success
 * (a packet dropped because the socket buffer is full counts as sent); -1
 * if no remote is set or sending failed. */
int media_rtp_send_frame(media_rtp *rtp, const int16_t pcm[160], int marker);
/* Sends one RFC 4733 telephone-event packet (payload: event, E|R|volume,
 * duration) with payload type pt. first: the event's first packet: it
 * carries the marker, and its timestamp (advanced as a new talkspurt's) is
 * the one every packet of the event carries. The stream's clock still
 * moves 160 per packet, so audio after the events continues in time. 0 on
 * success, -1 as media_rtp_send_frame. */
int media_rtp_send_event(media_rtp *rtp, int pt, const uint8_t payload[4], int first);
/* Reads one waiting packet into buf; never blocks. Returns its length, or
 * -1 when nothing is waiting. */
int media_rtp_recv(media_rtp *rtp, uint8_t *buf, size_t size);
/* Decodes an RTP packet's G.711 payload (PCMU or PCMA) into one frame,
 * zero-filling a short payload. 0 on success, -1 if it is not G.711 RTP
 * (telephone-event, comfort noise, garbage). */
int media_rtp_decode(const uint8_t *pkt, size_t len, int16_t pcm[160]);

/* G.711 (ITU-T): linear 16-bit to mu-law / A-law and back, by spandsp's
 * companding (its inline functions, so a frame costs no calls). These names
 * stay so callers and tests read the same as before spandsp did the work. */
static inline uint8_t g711_linear_to_ulaw(int16_t pcm) { return linear_to_ulaw(pcm); }
static inline uint8_t g711_linear_to_alaw(int16_t pcm) { return linear_to_alaw(pcm); }
static inline int16_t g711_ulaw_to_linear(uint8_t u) { return ulaw_to_linear(u); }
static inline int16_t g711_alaw_to_linear(uint8_t a) { return alaw_to_linear(a); }

#endif
