/*
 * relayd's WebSocket transport: a libwebsockets server on a thread of its
 * own. It knows connections and text frames, nothing of RELAY: every
 * complete frame goes to on_frame, and the core answers with ws_send.
 *
 * Connections are named by a 64-bit id that is never reused, so a late
 * ws_send to a closed connection is dropped harmlessly.
 */
#ifndef RELAYD_WS_H
#define RELAYD_WS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_server ws_server;

typedef struct ws_config {
    const char *ip;
    int port;
    int plain;          /* 1: no TLS */
    const char *cert;   /* PEM, with plain = 0 */
    const char *key;
    size_t max_frame;   /* larger messages are refused with on_oversize */
    size_t max_frame_unauthenticated; /* the same before ws_authenticated */
    size_t max_outbound;/* unsent bytes queued for one connection; past it
                           the connection is dropped (a peer that does not
                           read cannot make us hold more) */
    int max_connections;          /* open at once; more are refused at accept */
    int max_connections_per_address; /* from one peer address */
    int max_in_flight;  /* frames handed to on_frame and not yet reported
                           done; past it we stop reading that socket */
} ws_config;

/* Called on the WebSocket thread; they must not block. */
typedef struct ws_callbacks {
    void *user;
    void (*on_open)(void *user, uint64_t conn, const char *peer);
    /* text is malloc'd and NUL-terminated; the callee takes ownership */
    void (*on_frame)(void *user, uint64_t conn, char *text, size_t len);
    /* a message over max_frame was dropped whole (the connection stays) */
    void (*on_oversize)(void *user, uint64_t conn, size_t len);
    void (*on_close)(void *user, uint64_t conn);
} ws_callbacks;

/* Binds and starts the service thread. NULL on failure (logged). */
ws_server *ws_start(const ws_config *cfg, const ws_callbacks *cb);
/* Queues a text frame (takes ownership of text). Any thread. */
void ws_send(ws_server *ws, uint64_t conn, char *text);
/* The core has handled one frame of conn (every on_frame call gets exactly
 * one). Reading resumes once few enough are in flight. Any thread. */
void ws_frame_done(ws_server *ws, uint64_t conn);
/* conn has logged in: from now on messages up to max_frame are taken (an
 * anonymous peer only makes us buffer max_frame_unauthenticated). Frames
 * queued with ws_send after this call are written after it takes effect.
 * Any thread. */
void ws_authenticated(ws_server *ws, uint64_t conn);
/* Closes a connection after its queued frames are written. Any thread. */
void ws_close(ws_server *ws, uint64_t conn);
/* Loads cert/key and makes every later TLS handshake present them; open
 * connections keep theirs. Any thread. -1 (why says) keeps the old pair. */
int ws_reload_tls(ws_server *ws, const char *cert, const char *key, char *why, size_t whylen);
/* Graceful shutdown: from now on new connections are refused at accept,
 * and every connection closed (ws_close) gets close code 1001 "going
 * away". Any thread. */
void ws_drain(ws_server *ws);
/* Bytes queued for all connections and not yet written. Any thread. */
size_t ws_unwritten(ws_server *ws);
/* Stops the thread, closes every connection, frees. */
void ws_stop(ws_server *ws);

#endif
