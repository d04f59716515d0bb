/*
 * The media side of one call leg, and the few media threads that run every
 * leg.
 *
 * A media_session is the one owner of the leg's RTP socket, in both
 * directions. It is created on the core thread (binding the socket and
 * answering the remote SDP offer: the SIP layer only carries SDP), then
 * handed to one media thread of a media_engine, chosen round-robin. From
 * then on only that thread reads or writes the socket.
 *
 * Every media thread runs one 20 ms clock on absolute deadlines and, on each
 * tick, for each of its sessions: reads what arrived (G.711 decoded to 8 kHz
 * PCM and given to the attached sinks), then sends one frame of the active
 * play (media/player.h). No thread per play, no thread per call.
 *
 * Other threads talk to a media thread only through its mailbox (attach a
 * play or a sink, destroy a session): each media thread owns its session
 * list, so that list needs no lock.
 */
#ifndef RELAYD_MEDIA_SESSION_H
#define RELAYD_MEDIA_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "common/mailbox.h"
#include "media/rtp.h"
#include "media/source.h"

typedef struct media_engine media_engine;
typedef struct media_session media_session;
typedef struct media_player media_player;

/* A message to a media thread. Embedded in what it carries, so posting
 * never allocates (and so a destroy can never fail for lack of memory). */
typedef struct media_cmd {
    mailbox_msg link; /* first: the mailbox casts */
    int kind;
    media_session *session;
    void *obj;
} media_cmd;

typedef enum media_direction {
    MEDIA_DIR_RX, /* what the peer sent us, decoded */
    MEDIA_DIR_TX  /* what we sent the peer */
} media_direction;

/* Something that wants the leg's audio: recording, DTMF/tone detection, a
 * tap, a bridge. Both callbacks run on the session's media thread and must
 * not block (they share the thread's 20 ms with every other leg). */
typedef struct media_sink media_sink;
struct media_sink {
    void (*on_frame)(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                     media_direction dir);
    /* The last callback: after it the session never touches the sink again,
     * so the sink may free itself here. */
    void (*on_detach)(media_sink *sink);
    /* Optional: a DTMF digit the peer sent ('0'-'9', '*', '#', 'A'-'D'),
     * once per key press: RFC 4733 telephone-event when it was negotiated
     * (reported at the event's end, its three end packets counted once). */
    void (*on_digit)(media_sink *sink, char digit);
    /* Optional: the end of each of the session's ticks (after it received
     * and sent), for a sink that sends on the leg's 20 ms clock (a tap). */
    void (*on_tick)(media_sink *sink);
    /* Private to the session. */
    media_sink *next;
    media_cmd attach_cmd, detach_cmd;
};

/* Something that runs on a media thread's clock without a leg of its own
 * (a conference's mixer, media/conference.h): on_tick once per tick, after
 * the thread's sessions, on the one thread it was given to. */
typedef struct media_ticker media_ticker;
struct media_ticker {
    void (*on_tick)(media_ticker *t);
    /* The last callback (detached, or the engine stopped): the ticker may
     * free itself here. */
    void (*on_detach)(media_ticker *t);
    /* Private to the engine. */
    media_ticker *next;
    void *thread;
    media_cmd attach_cmd, detach_cmd;
};

/* Counters of what the media threads sent, summed over threads. A packet is
 * late when it left more than one packet time (20 ms) after its deadline. */
typedef struct media_engine_stats {
    uint64_t sent;
    uint64_t late;
    uint64_t max_late_us;
    uint64_t ticks;
    uint64_t overruns; /* ticks that started more than 20 ms late */
    uint64_t received; /* RTP packets read */
    uint64_t rx_lost;  /* gaps in the peers' sequence numbers: sent, never read */
} media_engine_stats;

#define MEDIA_TICK_NS 20000000L

/* Starts `threads` media threads (1 if < 1). NULL on failure. */
media_engine *media_engine_create(int threads);
/* Stops and joins the threads. Destroy every session first; any left over
 * is ended (its play finishes STOPPED, its sinks detached) and freed. */
void media_engine_destroy(media_engine *e);
void media_engine_get_stats(media_engine *e, media_engine_stats *out);
int media_engine_threads(const media_engine *e);

/* Gives t to one media thread (round-robin, as sessions): on_tick from
 * its next tick. Detach is asynchronous: on_detach follows. */
void media_engine_attach_ticker(media_engine *e, media_ticker *t);
void media_engine_detach_ticker(media_ticker *t);

/* Binds an even RTP port in [port_min, port_max) on ip and gives the session
 * to a media thread. NULL if no port is free. Core thread (or any one
 * thread that owns the session's life). */
media_session *media_session_create(media_engine *e, const char *ip, int port_min,
                                    int port_max);
/* Takes the remote SDP offer (where to send, which G.711 codec) and writes
 * our answer into answer[size]: one m= line per offered one, in order,
 * all but our audio stream rejected with port 0. On -1, *why says why and
 * *no_codec is 1 when the offer has no codec we speak (488 rather than
 * 400). A later offer (re-INVITE, UPDATE) replaces the earlier: a new
 * address, codec or direction is followed from the next packet; one that
 * cannot be taken (-1) leaves the session as it was. */
int media_session_offer(media_session *s, const char *offer, size_t len, char *answer,
                        size_t size, int *no_codec, const char **why);
/* The other way round, for a call we place: writes our offer (the payload
 * types pts in order, NULL: PCMU and PCMA; then telephone-event) into
 * offer[size]; length or -1. */
int media_session_write_offer(media_session *s, const int *pts, size_t n_pts, char *offer,
                              size_t size);
/* Our offer for a request that brought none (a re-INVITE without SDP, RFC
 * 3264 8: typically a session refresh): the codecs we speak, the streams
 * as they are, sendonly while we hold the peer. The answer comes in the
 * ACK (media_session_take_answer). Length, or -1 (no media yet). */
int media_session_write_reoffer(media_session *s, char *offer, size_t size);
/* Takes the peer's answer to that offer: where to send, the codec it
 * chose. 0, or -1 with *why (no usable audio, no codec we offered). */
int media_session_take_answer(media_session *s, const char *answer, size_t len,
                              const char **why);
/* A re-offer of the negotiated codec that holds the peer ("sendonly") or
 * takes it off hold ("sendrecv"). While held, nothing is sent to the peer
 * (the play goes on silently). The peer's answer goes through
 * media_session_take_answer. Length, or -1 (no negotiated media yet, or
 * offer too small). */
int media_session_hold_offer(media_session *s, int hold, char *offer, size_t size);
/* "PCMU, rtp 40002 -> 127.0.0.1:6000, telephone-event", for the SIP ladder. */
void media_session_describe(media_session *s, char *buf, size_t size);
/* 1 if the peer negotiated telephone-event (RFC 4733), so DTMF can go to it
 * as events. Core thread (the SDP state's). */
int media_session_peer_events(media_session *s);
/* The endpoint, for its port and remote; sending and receiving on it is the
 * media thread's. */
media_rtp *media_session_rtp(media_session *s);
/* Ends the session: the media thread stops its play (done: STOPPED), detaches
 * its sinks, closes the socket and frees it. Returns at once; the caller
 * must not use s afterwards. */
void media_session_destroy(media_session *s);

/* Sinks: on_frame starts on the next tick. Detach is asynchronous: wait for
 * on_detach before freeing the sink. */
void media_session_attach_sink(media_session *s, media_sink *sink);
void media_session_detach_sink(media_session *s, media_sink *sink);

/* calling.denoise: hands d (media/denoise.h, on or off) to the session's
 * thread, which takes it: from the next tick RX frames are cleaned before
 * the sinks see them, or no longer. */
typedef struct media_denoise media_denoise;
void media_session_set_denoise(media_session *s, media_denoise *d);

/* For media/player.c: hands a play to the session's thread. A newer play
 * replaces the one playing (which ends STOPPED). */
void media_session_attach_play(media_session *s, media_player *p, media_cmd *cmd);

#endif
