/*
 * The server as a whole and its core thread.
 *
 * Threads and who owns what:
 *   core thread  — runs the sofia su_root: the SIP stack, every session,
 *                  every call and its operations (calling/). All protocol
 *                  state lives here, so none of it needs a lock.
 *   ws thread    — libwebsockets: connections and frames only (ws.c).
 *   media threads— a fixed few (media/session.c), each pacing its share of
 *                  the legs' RTP on one 20 ms clock.
 *   prep threads — a fixed pool (media/prep.c): TTS synthesis, decoding.
 *   disk writers — two (media/disk_writer.c): every recording's file writes.
 *   webhook      — one thread POSTing status_url bodies (webhook.c).
 *   streams      — one lws thread writing audio streams out (stream_out.c).
 *   signals      — waits for SIGTERM/SIGINT/SIGHUP, posts to the core (main.c).
 *   metrics      — optional lws HTTP thread for /metrics (metrics_http.c);
 *                  reads only the atomics in rd->metrics and media stats.
 *   recordings   — optional lws HTTP thread serving recorded files
 *                  (recordings_http.c); told each finished file's path.
 * Other threads reach the core only through core_post().
 */
#ifndef RELAYD_RELAYD_H
#define RELAYD_RELAYD_H

#include <stdint.h>
#include <sofia-sip/su_wait.h>

#include "common/mailbox.h"
#include "config.h"
#include "metrics.h"

typedef struct ws_server ws_server;
typedef struct sip_ua sip_ua;
typedef struct webhook webhook;
typedef struct session session;
typedef struct call call;
typedef struct conn_entry conn_entry;
typedef struct media_engine media_engine;
typedef struct media_prep_pool media_prep_pool;
typedef struct media_disk_writer media_disk_writer;
typedef struct media_fetcher media_fetcher;
typedef struct metrics_http metrics_http;
typedef struct recordings_http recordings_http;
typedef struct msg_out msg_out;
typedef struct stream_out stream_out;
typedef struct conference conference;

typedef struct relayd {
    relayd_config *cfg;
    su_root_t *root;
    int wake_fd;            /* eventfd: wakes the su_root for the mailbox */
    int wake_reg;           /* its su_root registration, 0 if none */
    mailbox inbox;          /* core_post messages */
    ws_server *ws;
    sip_ua *ua;
    media_engine *media;    /* the media threads; outlives the UA */
    media_prep_pool *prep;  /* play preparation; joined at shutdown */
    media_disk_writer *disk; /* recordings' file writes; after every call */
    media_fetcher *fetch;   /* audio URLs and their cache, used on the pool */
    webhook *hooks;
    stream_out *streams;    /* calling.stream, ws taps: their thread (stream_out.h) */
    su_timer_t *tick;       /* housekeeping: pings, session expiry */
    conn_entry *conns;      /* open WebSocket connections */
    session *sessions;
    call *calls;
    size_t n_calls;
    struct queue_dir *queues; /* calling.queue.enter's named queues (calling/queue_dir.h) */
    conference *conferences; /* calling.join_conference (calling/conference.c) */
    size_t n_conferences;
    msg_out *msgs_out;      /* messaging.send: MESSAGEs awaiting their answer */
    size_t n_msgs_out;
    unsigned route_counter; /* round-robin among a context's sessions */
    int preparing;          /* plays queued or preparing on the pool */
    int stopping;
    int draining;           /* SIGTERM: ending calls and sessions (drain.c) */
    int64_t drain_deadline; /* core_now_ms when the drain gives up waiting */
    int drain_closing;      /* every connection told to close (1001) */
    su_timer_t *drain_timer;
    struct login_penalty *login_penalty; /* failed logins by address */
    relayd_metrics metrics; /* counters, atomics: bumped on any thread */
    metrics_http *metrics_http; /* the endpoint, when metrics_listen is set */
    recordings_http *recordings_http; /* GET of recordings, when recordings_listen is set */
    struct sip_tap *sip_tap; /* pcap_file's SIP half; NULL when not capturing */
} relayd;

typedef void (*core_fn)(relayd *rd, void *arg);

/* Runs fn(rd, arg) on the core thread, soon. Safe from any thread. */
void core_post(relayd *rd, core_fn fn, void *arg);

/* Milliseconds on the monotonic clock / seconds since the epoch. */
int64_t core_now_ms(void);
double core_wallclock(void);

/* Lifecycle (main.c): create binds everything; run blocks until
 * core_request_stop; destroy tears down in order. */
relayd *relayd_create(relayd_config *cfg);
int relayd_run(relayd *rd);
void relayd_request_stop(relayd *rd); /* any thread */
/* SIGTERM (drain.c): refuse new connections and logins, tell every client
 * (signalwire.disconnect), end every call with its events delivered, close
 * the connections with 1001, then stop; at most drain_timeout_ms. */
void relayd_request_drain(relayd *rd); /* any thread */
/* SIGHUP (reload.c): re-read and check the configuration on the core
 * thread; apply what can change at run time, or keep the old one whole. */
void relayd_request_reload(relayd *rd); /* any thread */
void relayd_destroy(relayd *rd);

#endif
