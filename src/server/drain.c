/*
 * Graceful shutdown. SIGTERM does not stop relayd at once: it drains.
 *
 *  1. New WebSocket connections are refused at accept, and a
 *     signalwire.connect (a login or a resume) on one already open is
 *     answered -32000 "shutting down" and closed.
 *  2. Every client with a session gets signalwire.disconnect; connections
 *     that never logged in are closed.
 *  3. Every call is ended (BYE, or 503 to one still ringing), so the SIP
 *     peers hear it and the clients get each call's ending/ended events.
 *  4. Once no call is left, every event has been acknowledged by clients
 *     that acknowledge them, and nothing queued is unwritten, every
 *     connection is closed with 1001 "going away".
 *  5. When the last one has closed, the core stops; relayd_destroy then
 *     tears down what is left.
 *
 * Each step waits at most until drain_timeout_ms after the signal: a client
 * that does not read, or a peer that does not answer the BYE, cannot hold
 * the shutdown. Everything here runs on the core thread.
 */
#include <jansson.h>

#include "calling/call.h"
#include "common/protocol.h"
#include "frames.h"
#include "relayd.h"
#include "server_log.h"
#include "session.h"
#include "ws.h"

#define DRAIN_POLL_MS 50

static size_t count_calls(const relayd *rd)
{
    size_t n = 0;
    for (const call *c = rd->calls; c; c = c->next)
        n++;
    return n;
}

/* Events still waiting for a client's acknowledgement. */
static size_t unacked(const relayd *rd)
{
    size_t n = 0;
    for (const session *s = rd->sessions; s; s = s->next)
        if (s->conn)
            n += s->outbox_len;
    return n;
}

static void close_all(relayd *rd)
{
    rd->drain_closing = 1;
    for (conn_entry *c = rd->conns; c; c = c->next)
        ws_close(rd->ws, c->id);
}

static void drain_poll(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    relayd *rd = (relayd *)arg;
    int over = core_now_ms() >= rd->drain_deadline;
    if (!rd->drain_closing) {
        size_t calls = count_calls(rd), events = unacked(rd), bytes = ws_unwritten(rd->ws);
        if (calls || events || bytes) {
            if (!over)
                return;
            server_log(RELAY_LOG_WARN,
                       "drain: drain_timeout_ms (%d) over with %zu call(s), %zu unacknowledged "
                       "event(s), %zu unwritten byte(s); closing anyway",
                       rd->cfg->drain_timeout_ms, calls, events, bytes);
        }
        close_all(rd);
        return;
    }
    if (rd->conns && !over)
        return;
    if (rd->conns)
        server_log(RELAY_LOG_WARN, "drain: connections still open at drain_timeout_ms; stopping");
    else
        server_log(RELAY_LOG_INFO, "drain: done; stopping");
    su_timer_reset(rd->drain_timer);
    relayd_request_stop(rd);
}

static void core_drain(relayd *rd, void *arg)
{
    (void)arg;
    if (rd->draining || rd->stopping)
        return;
    rd->draining = 1;
    rd->drain_deadline = core_now_ms() + rd->cfg->drain_timeout_ms;
    server_log(RELAY_LOG_INFO, "drain: %zu call(s) to end, at most %d ms", count_calls(rd),
               rd->cfg->drain_timeout_ms);
    ws_drain(rd->ws);
    for (conn_entry *c = rd->conns; c; c = c->next) {
        if (c->session)
            conn_send(rd, c->id,
                      frames_new_request(proto_method_name(PM_DISCONNECT),
                                         json_pack("{s:b}", "restart", 0), NULL));
        else
            ws_close(rd->ws, c->id);
    }
    calls_hangup_all(rd);
    rd->drain_timer = su_timer_create(su_root_task(rd->root), DRAIN_POLL_MS);
    if (!rd->drain_timer ||
        su_timer_set_for_ever(rd->drain_timer, drain_poll, (su_timer_arg_t *)rd) != 0) {
        server_log(RELAY_LOG_ERROR, "drain: no timer; stopping at once");
        relayd_request_stop(rd);
    }
}

void relayd_request_drain(relayd *rd)
{
    core_post(rd, core_drain, NULL);
}
