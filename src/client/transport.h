/*
 * The transport: one WebSocket connection at a time (ws:// or wss://) and
 * the wait for I/O. The only module that touches libwebsockets. It calls
 * upward through lr_transport_cbs (relayd's ws.h does the same), so it
 * knows nothing of sessions, requests or calls.
 *
 * Everything runs on the I/O thread except lr_transport_wake(), which any
 * thread may call while the transport exists (the owner serializes wake
 * against lr_transport_free).
 */
#ifndef RELAY_CLIENT_TRANSPORT_H
#define RELAY_CLIENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

typedef struct lr_transport_cbs {
    void (*on_open)(void *user);  /* the WebSocket handshake completed */
    void (*on_frame)(void *user, const char *text, size_t len); /* one whole message */
    /* The connection is gone or never came (exactly once per connect). */
    void (*on_down)(void *user, const char *why);
    void (*on_wake)(void *user);     /* lr_transport_wake() was called */
    void (*on_deadline)(void *user); /* the armed deadline has passed */
    void *user;
} lr_transport_cbs;

typedef struct lr_transport lr_transport;

/* Creates the transport and its (client-only) lws context. ca_file: the
 * CA to verify servers against (NULL: the system store). NULL on failure.
 * cbs and log are copied / borrowed respectively. */
lr_transport *lr_transport_new(const lr_transport_cbs *cbs, const char *ca_file,
                               const log_sink *log);
/* Drops any connection without calling on_down, destroys the context. */
void lr_transport_free(lr_transport *t);

/* Starts connecting; the outcome is reported by on_open or on_down (which
 * may be called before this returns). host_header is sent as Host/Origin. */
void lr_transport_connect(lr_transport *t, const char *host, int port, const char *host_header,
                          int tls);
/* 1 between on_open and on_down. */
int lr_transport_is_open(const lr_transport *t);
/* Queues a text message (copied); dropped when not open. */
void lr_transport_send(lr_transport *t, const char *text, size_t len);
/* flush_first: close once the queue is out (on_down follows later);
 * otherwise abandon the connection now, on_down called before return. */
void lr_transport_close(lr_transport *t, int flush_first);
/* From any thread: on_wake runs soon on the I/O thread. */
void lr_transport_wake(lr_transport *t);
/* on_deadline runs at deadline_us (lr_now_us clock); -1 disarms. One
 * deadline at a time: the owner arms its earliest timer. */
void lr_transport_arm(lr_transport *t, int64_t deadline_us);
/* Waits for and handles I/O once (I/O thread). */
void lr_transport_service(lr_transport *t);

#endif
