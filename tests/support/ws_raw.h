/*
 * A deliberately small WebSocket client over a plain TCP socket, for tests
 * that must send what a well-behaved client never would: malformed JSON,
 * oversized messages, a socket dropped mid-frame. (librelay itself uses
 * libwebsockets; this exists only to misbehave on cue.)
 */
#ifndef TESTS_WS_RAW_H
#define TESTS_WS_RAW_H

#include <stddef.h>

/* Connects and completes the opening handshake. Returns an fd, or -1. */
int ws_raw_connect(const char *host, int port);
/* Sends one text message (masked, as clients must). 0 on success. */
int ws_raw_send(int fd, const char *text, size_t len);
/* Sends only the first `partial` bytes of a frame's payload, then stops. */
int ws_raw_send_partial(int fd, const char *text, size_t len, size_t partial);
/* Receives the next text message (malloc'd, NUL-terminated), skipping
 * control frames. NULL on timeout, close or error. */
char *ws_raw_recv(int fd, int timeout_ms);
/* The same; when it returns NULL because the server closed, *close_code
 * (if not NULL) is the close frame's code (1005 if it had none), else 0. */
char *ws_raw_recv_ex(int fd, int timeout_ms, int *close_code);
/* Receives until a message containing `needle` arrives (others dropped). */
char *ws_raw_recv_match(int fd, const char *needle, int timeout_ms);
void ws_raw_close(int fd);

#endif
