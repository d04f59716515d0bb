/*
 * The Prometheus endpoint: GET /metrics on metrics_listen (loopback only),
 * served by libwebsockets on a thread of its own, apart from the RELAY
 * listener so a scraper can never hold up a client. Off unless configured.
 */
#ifndef RELAYD_METRICS_HTTP_H
#define RELAYD_METRICS_HTTP_H

typedef struct metrics_http metrics_http;
typedef struct relayd relayd;

/* Binds ip:port and starts serving rd's metrics. NULL on failure (logged). */
metrics_http *metrics_http_start(relayd *rd, const char *ip, int port);
/* Stops the thread and closes the listener; before rd's parts go away. */
void metrics_http_stop(metrics_http *m);

#endif
