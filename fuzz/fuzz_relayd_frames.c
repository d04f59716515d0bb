/* relayd's handling of client frames, through the same entry the WebSocket
 * thread's frames take on the core thread (rpc.c): parse, envelope checks,
 * session methods, the calling family's descriptor checks, with logging at
 * debug so every frame also goes through the scrubber.
 *
 * One relayd is created once (its listeners on loopback, never used: the
 * frames are handed in directly, and this thread acts as its core thread,
 * which never runs). Each input is a connection: its lines are frames;
 * when the first byte is odd a valid signalwire.connect goes first, so the
 * fuzzer reaches the methods behind a session at once. The connection and
 * every session are gone before the next input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_wait.h>

#include "config.h"
#include "log_file.h"
#include "relayd.h"
#include "rpc.h"
#include "session.h"

#define MAX_FRAMES 32

static relayd_config cfg;
static relayd *rd;
static uint64_t next_conn = 1;

/* Delivers what sofia posted to the root (nua's start and stop messages):
 * relayd's loop would have, and undelivered they are leaks. */
static void settle(void)
{
    for (int i = 0; i < 5; i++)
        su_root_step(rd->root, 10);
}

static void finish(void)
{
    settle();
    relayd_destroy(rd);
    config_free(&cfg);
    log_file_stop();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *args[] = {"relayd", "--plain", "--ws-listen", "127.0.0.1:61670", "--sip-listen",
                    "127.0.0.1:34002", "--rtp-ports", "34010-34019", "--log-level", "debug",
                    "--ping-interval-ms", "0", NULL};
    char err[1024];
    if (config_load(&cfg, 12, args, err, sizeof err) != 0 ||
        config_validate(&cfg, err, sizeof err) != 0 ||
        log_file_start("/dev/null", err, sizeof err) != 0)
        abort();
    rd = relayd_create(&cfg);
    if (!rd)
        abort();
    settle();
    atexit(finish);
    return 0;
}

static const char connect_frame[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"fz-c\",\"method\":\"signalwire.connect\",\"params\":"
    "{\"version\":{\"major\":2,\"minor\":0,\"revision\":0},\"event_acks\":true,"
    "\"authentication\":{\"project\":\"dev\",\"token\":\"dev\"},\"contexts\":[\"office\"]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conn_entry *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    c->id = next_conn++;
    c->next = rd->conns;
    rd->conns = c;
    if (size && (data[0] & 1))
        rpc_on_frame(rd, c, connect_frame, sizeof connect_frame - 1);
    size_t off = size ? 1 : 0;
    for (int n = 0; off < size && n < MAX_FRAMES; n++) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        /* a copy of exactly the frame, as the WebSocket thread hands it */
        char *frame = malloc(len + 1);
        if (!frame)
            break;
        memcpy(frame, data + off, len);
        frame[len] = '\0';
        rpc_on_frame(rd, c, frame, len);
        free(frame);
        off += len + 1;
    }
    /* the connection closes; nothing of it or its sessions outlives it */
    for (conn_entry **p = &rd->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c);
    while (rd->sessions)
        session_destroy(rd, rd->sessions);
    return 0;
}
