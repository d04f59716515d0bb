/*
 * A test's own end of one RTP leg: a socket on 127.0.0.1 whose port the
 * test's sipp peer put in its SDP, so relayd sends that leg's audio here.
 * The ear decodes what arrives (PCMU, PCMA, with the G.711 oracle), learns
 * relayd's address from it, speaks tones back to that address, and
 * measures tones in what it heard (Goertzel).
 */
#ifndef RELAY_TESTS_RTP_EAR_H
#define RELAY_TESTS_RTP_EAR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtp_ear {
    int fd;                    /* -1: closed */
    double *pcm;               /* what relayd sent, decoded, since the reset */
    size_t n, cap;
    struct sockaddr_in relayd; /* the source of its packets: where to speak */
    int has_relayd;
    int packets;               /* audio packets since the reset */
    unsigned seq;              /* of the next frame this ear speaks */
    uint32_t ssrc;
} rtp_ear;

/* Binds 127.0.0.1:port (the test fails if it cannot). */
void rtp_ear_open(rtp_ear *e, int port);
void rtp_ear_close(rtp_ear *e);
/* Forgets what was heard (relayd's address stays). */
void rtp_ear_reset(rtp_ear *e);
/* Reads every packet waiting; audio (payload types 0 and 8) is kept. */
void rtp_ear_drain(rtp_ear *e);
/* One 20 ms frame of a tone at amplitude, in the codec pt (0 or 8), to
 * relayd; nothing when freq is 0 or relayd has sent nothing yet (the
 * sequence advances anyway, as a muted source's would). */
void rtp_ear_speak(rtp_ear *e, int pt, double freq, double amplitude);
/* The power of frequency f in what was heard (Goertzel, per sample). */
double rtp_ear_level(const rtp_ear *e, double f);
double rtp_ear_rms(const rtp_ear *e);
/* f clearly present: at least 0.5 s heard, its level over 1e5 and over
 * ten times each of the others'. */
int rtp_ear_hears(const rtp_ear *e, double f, const double *others, int n_others);

#endif
