/*
 * An in-process fake RELAY server (libwebsockets, plain ws:// on
 * 127.0.0.1) for librelay's unit tests: for what a real server will not do
 * on cue (reject credentials, send garbage, drop the socket mid-request,
 * never answer) and for capturing the exact frames a client sends. Shared
 * by test_client_fake.c and test_golden.c. Use fake_setup/fake_teardown as
 * a cmocka test's setup and teardown; F is the running test's fake.
 */
#ifndef RELAY_TESTS_FAKE_RELAY_H
#define RELAY_TESTS_FAKE_RELAY_H

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct fake fake;
/* Runs on the fake's thread after the default answer to a request is queued. */
typedef void (*fake_hook)(fake *f, const char *method, json_t *msg);

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE, then the text */
} outmsg;

struct fake {
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int quit;
    int port;

    /* server thread only */
    struct lws *wsi;
    char *rx;
    size_t rx_len;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    outmsg *out_head, *out_tail; /* [lock] */
    int drop;                    /* [lock] close the connection now */
    json_t *received;            /* [lock] every frame from the client */
    int connects;                /* [lock] */
    int reject_connect;          /* [lock] */
    int connections;             /* [lock] */
    int events_sent;             /* [lock] */
    fake_hook hook;              /* set before the client connects */
    char protocol[64];
};

extern fake *F;           /* the fake of the running test */
extern int fake_port_base; /* ports tried: [base, base + 1000); default 18000 */

void fake_send(fake *f, const char *text);
void fake_send_json(fake *f, json_t *v); /* steals v */
void fake_drop(fake *f);                 /* close the client's connection now */
/* Sends signalwire.event {event_type: type, params: <params_text>}. */
void fake_event(fake *f, const char *type, const char *params_text);
int fake_setup(void **state);
int fake_teardown(void **state);
struct timespec fake_deadline(int ms);   /* CLOCK_REALTIME, ms from now */
/* The nth (0-based) frame received with this method, or, with method
 * NULL, the answer whose id is `id`. A new reference, or NULL on timeout. */
json_t *fake_wait(fake *f, const char *method, const char *id, int nth, int ms);

#endif
