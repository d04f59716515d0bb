/*
 * Recordings over http: GET /recordings/<name> on recordings_listen serves
 * a file calling.record wrote, so a record's `url` can be http:// instead of
 * file:// (a client on another host can fetch it). Its own libwebsockets
 * thread, like metrics_http: a slow download never holds up RELAY clients.
 *
 * Only names relayd itself recorded since it started are served (a bounded
 * list, oldest forgotten first): nothing else in recordings_dir, and no
 * path, is reachable. A name is the only secret (it holds the call's
 * random id), as with a pre-signed URL. Off unless configured.
 */
#ifndef RELAYD_RECORDINGS_HTTP_H
#define RELAYD_RECORDINGS_HTTP_H

#include <stddef.h>

typedef struct recordings_http recordings_http;

/* Names remembered; past it the oldest answers 404. */
#define RECORDINGS_HTTP_MAX_NAMES 4096
/* TCP connections open at once; more are closed at accept. */
#define RECORDINGS_HTTP_MAX_CONNECTIONS 32

/* Binds ip:port and starts serving. NULL on failure (logged). */
recordings_http *recordings_http_start(const char *ip, int port);
/* Stops the thread and closes the listener. NULL is fine. */
void recordings_http_stop(recordings_http *h);
/* The URL a file recorded at path is served at, into url; 0, or -1 if it
 * does not fit or its name is not one this endpoint serves. Thread-safe. */
int recordings_http_url(const recordings_http *h, const char *path, char *url, size_t size);
/* Lets the file just recorded at path be served. Thread-safe. */
void recordings_http_add(recordings_http *h, const char *path);

#endif
