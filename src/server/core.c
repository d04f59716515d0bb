/*
 * The core thread: a sofia su_root that also serves the core mailbox, so
 * SIP events, client frames, media completions and timers are handled one
 * at a time on one thread.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "calling/call.h"
#include "capture/pcap_writer.h"
#include "capture/sip_tap.h"
#include "auth/login_penalty.h"
#include "calling/refer.h"
#include "common/protocol.h"
#include "frames.h"
#include "media/frame_ring.h"
#include "media/disk_writer.h"
#include "media/fetch.h"
#include "messaging/message.h"
#include "media/prep.h"
#include "calling/queue_dir.h"
#include "media/session.h"
#include "metrics_http.h"
#include "recordings_http.h"
#include "relayd.h"
#include "rpc.h"
#include "server_log.h"
#include "stream_out.h"
#include "session.h"
#include "sip/sip_ua.h"
#include "webhook.h"
#include "ws.h"

/* Packets waiting for the pcap writer: past it they are dropped and
 * counted, so a slow disk costs the capture, never the calls. */
#define PCAP_QUEUE_BYTES (8u << 20)

typedef struct core_msg {
    mailbox_msg link;
    core_fn fn;
    void *arg;
} core_msg;

int64_t core_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double core_wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wake_core(void *arg)
{
    relayd *rd = arg;
    uint64_t one = 1;
    ssize_t n = write(rd->wake_fd, &one, sizeof one);
    (void)n; /* a full counter still wakes the loop */
}

void core_post(relayd *rd, core_fn fn, void *arg)
{
    core_msg *m = malloc(sizeof *m);
    if (!m) {
        server_log(RELAY_LOG_ERROR, "out of memory posting to the core");
        return;
    }
    m->fn = fn;
    m->arg = arg;
    mailbox_push(&rd->inbox, &m->link);
}

static void drain_mailbox(relayd *rd)
{
    mailbox_msg *m = mailbox_take_all(&rd->inbox);
    while (m) {
        core_msg *cm = (core_msg *)m;
        m = m->next;
        cm->fn(rd, cm->arg);
        free(cm);
    }
}

static int on_wake(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
    (void)magic;
    (void)w;
    relayd *rd = (relayd *)arg;
    uint64_t count;
    ssize_t n = read(rd->wake_fd, &count, sizeof count);
    (void)n;
    drain_mailbox(rd);
    return 0;
}

/* ------------------------------------------------- WebSocket → core thread */

typedef struct frame_msg {
    struct frame_msg *next; /* held frames of one connection (login_penalty) */
    uint64_t conn;
    char *text;
    size_t len;
    char peer[64];
} frame_msg;

static conn_entry *find_conn(relayd *rd, uint64_t id)
{
    for (conn_entry *c = rd->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static void core_conn_open(relayd *rd, void *arg)
{
    frame_msg *f = arg;
    conn_entry *c = calloc(1, sizeof *c);
    if (c) {
        c->id = f->conn;
        c->rd = rd;
        c->opened_at = core_now_ms();
        snprintf(c->peer, sizeof c->peer, "%s", f->peer);
        c->next = rd->conns;
        rd->conns = c;
        atomic_fetch_add(&rd->metrics.connections, 1);
        server_log(RELAY_LOG_INFO, "conn=%llu: open from %s", (unsigned long long)c->id, c->peer);
    }
    free(f);
}

static void handle_frame(relayd *rd, conn_entry *c, frame_msg *f)
{
    if (c)
        rpc_on_frame(rd, c, f->text, f->len);
    if (rd->ws) /* NULL only in the last drain at shutdown */
        ws_frame_done(rd->ws, f->conn);
    free(f->text);
    free(f);
}

/* ---------------------------------------- frames held for login_penalty */

/* Frames of a connection without a session, from an address whose logins
 * keep failing, wait (auth/login_penalty.h); in order, one at a time, so a
 * guesser's next try waits for the delay its last failure earned. */
static int penalty_delay(relayd *rd, const conn_entry *c)
{
    return login_penalty_delay(rd->login_penalty, c->peer, core_now_ms(),
                               rd->cfg->login_delay_max_ms);
}

static void release_held(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg);

static void arm_held(relayd *rd, conn_entry *c, int delay_ms)
{
    if (!c->held_timer)
        c->held_timer = su_timer_create(su_root_task(rd->root), delay_ms);
    if (!c->held_timer ||
        su_timer_set_interval(c->held_timer, release_held, (su_timer_arg_t *)c, delay_ms) != 0) {
        /* no timer: serve the frames now rather than never */
        while (c->held_head) {
            frame_msg *f = c->held_head;
            c->held_head = f->next;
            handle_frame(rd, c, f);
        }
        c->held_tail = NULL;
    }
}

static void release_held(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    conn_entry *c = (conn_entry *)arg;
    relayd *rd = c->rd;
    frame_msg *f = c->held_head;
    if (!f)
        return;
    c->held_head = f->next;
    if (!c->held_head)
        c->held_tail = NULL;
    handle_frame(rd, c, f); /* may log in, or fail again (a longer delay) */
    if (c->held_head)
        arm_held(rd, c, c->session ? 1 : (penalty_delay(rd, c) > 0 ? penalty_delay(rd, c) : 1));
}

static void hold_frame(relayd *rd, conn_entry *c, frame_msg *f, int delay_ms)
{
    f->next = NULL;
    int first = !c->held_head;
    if (c->held_tail)
        c->held_tail->next = f;
    else
        c->held_head = f;
    c->held_tail = f;
    if (first) {
        server_log(RELAY_LOG_INFO, "conn=%llu from %s: logins from this address keep failing; "
                   "served in %d ms", (unsigned long long)c->id, c->peer, delay_ms);
        arm_held(rd, c, delay_ms);
    }
}

static void drop_held(conn_entry *c)
{
    if (c->held_timer)
        su_timer_destroy(c->held_timer);
    c->held_timer = NULL;
    while (c->held_head) {
        frame_msg *f = c->held_head;
        c->held_head = f->next;
        free(f->text);
        free(f);
    }
    c->held_tail = NULL;
}

static void core_conn_frame(relayd *rd, void *arg)
{
    frame_msg *f = arg;
    conn_entry *c = find_conn(rd, f->conn);
    int delay;
    if (c && !c->session && (c->held_head || (delay = penalty_delay(rd, c)) > 0)) {
        hold_frame(rd, c, f, c->held_head ? 0 : delay);
        return;
    }
    handle_frame(rd, c, f);
}


static void core_conn_oversize(relayd *rd, void *arg)
{
    frame_msg *f = arg;
    conn_entry *c = find_conn(rd, f->conn);
    if (c) {
        char why[128];
        int limit = rd->cfg->max_frame;
        if (!c->session && rd->cfg->max_frame_unauthenticated < limit)
            limit = rd->cfg->max_frame_unauthenticated;
        snprintf(why, sizeof why, "message of %zu bytes exceeds the limit of %d bytes%s", f->len,
                 limit, c->session ? "" : " before signalwire.connect");
        rpc_reply_error(rd, c, NULL, PROTO_RPC_INVALID_REQUEST, why);
    }
    free(f);
}

static void core_conn_close(relayd *rd, void *arg)
{
    frame_msg *f = arg;
    for (conn_entry **p = &rd->conns; *p; p = &(*p)->next) {
        conn_entry *c = *p;
        if (c->id != f->conn)
            continue;
        *p = c->next;
        drop_held(c);
        atomic_fetch_sub(&rd->metrics.connections, 1);
        if (c->session) {
            server_log(RELAY_LOG_INFO, "conn=%llu closed; session %s kept for %d ms",
                       (unsigned long long)c->id, c->session->id, rd->cfg->resume_grace_ms);
            session_detach(rd, c->session);
        } else {
            server_log(RELAY_LOG_INFO, "conn=%llu closed", (unsigned long long)c->id);
        }
        free(c);
        break;
    }
    free(f);
}

static frame_msg *frame_new(uint64_t conn)
{
    frame_msg *f = calloc(1, sizeof *f);
    if (f)
        f->conn = conn;
    return f;
}

static void ws_on_open(void *user, uint64_t conn, const char *peer)
{
    frame_msg *f = frame_new(conn);
    if (!f)
        return;
    snprintf(f->peer, sizeof f->peer, "%s", peer ? peer : "");
    core_post(user, core_conn_open, f);
}

static void ws_on_frame(void *user, uint64_t conn, char *text, size_t len)
{
    relayd *rd = user;
    frame_msg *f = frame_new(conn);
    if (!f) {
        free(text);
        ws_frame_done(rd->ws, conn); /* the core will never see it */
        return;
    }
    f->text = text;
    f->len = len;
    core_post(user, core_conn_frame, f);
}

static void ws_on_oversize(void *user, uint64_t conn, size_t len)
{
    frame_msg *f = frame_new(conn);
    if (!f)
        return;
    f->len = len;
    core_post(user, core_conn_oversize, f);
}

static void ws_on_close(void *user, uint64_t conn)
{
    frame_msg *f = frame_new(conn);
    if (f)
        core_post(user, core_conn_close, f);
}

/* ------------------------------------------------------------ housekeeping */

static void send_pings(relayd *rd)
{
    for (conn_entry *c = rd->conns; c; c = c->next) {
        if (!c->session)
            continue;
        if (c->ping_id[0] && ++c->pings_unanswered >= 3) {
            server_log(RELAY_LOG_WARN, "conn=%llu: 3 pings unanswered; closing",
                       (unsigned long long)c->id);
            ws_close(rd->ws, c->id);
            continue;
        }
        conn_send(rd, c->id,
                  frames_new_request(proto_method_name(PM_PING), json_object(), c->ping_id));
    }
}

static void on_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    relayd *rd = (relayd *)arg;
    static int64_t last_ping;
    int64_t now = core_now_ms();
    if (rd->cfg->ping_interval_ms && now - last_ping >= rd->cfg->ping_interval_ms) {
        if (last_ping)
            send_pings(rd);
        last_ping = now;
    }
    /* A socket that never logs in holds a descriptor and a buffer for
     * nothing: it gets login_timeout_ms (checked once a second). */
    for (conn_entry *c = rd->conns; c; c = c->next)
        if (!c->session && !c->login_expired && now - c->opened_at >= rd->cfg->login_timeout_ms) {
            server_log(RELAY_LOG_WARN, "conn=%llu from %s: no signalwire.connect within %d ms; "
                       "closing", (unsigned long long)c->id, c->peer, rd->cfg->login_timeout_ms);
            c->login_expired = 1;
            ws_close(rd->ws, c->id);
        }
    calls_check_timeouts(rd, now);
    session *next;
    for (session *s = rd->sessions; s; s = next) {
        next = s->next;
        if (!s->conn && now - s->detached_at >= rd->cfg->resume_grace_ms) {
            server_log(RELAY_LOG_INFO, "session %s expired (no client resumed it)", s->id);
            session_destroy(rd, s);
        }
    }
}

/* --------------------------------------------------------------- lifecycle */

static void write_ready_file(const relayd_config *cfg)
{
    if (!cfg->ready_file)
        return;
    FILE *f = fopen(cfg->ready_file, "w");
    if (!f) {
        server_log(RELAY_LOG_WARN, "cannot write ready file %s: %s", cfg->ready_file,
                   strerror(errno));
        return;
    }
    fprintf(f, "ws=%s://%s:%d sip=sip:%s pid=%ld\n", cfg->plain ? "ws" : "wss", cfg->ws_ip,
            cfg->ws_port, cfg->sip_listen, (long)getpid());
    fclose(f);
}

static void on_trunk_registration(void *user, int registered, int status)
{
    relayd *rd = user;
    atomic_store(&rd->metrics.trunk_registered, registered);
    if (!registered && status >= 300)
        atomic_fetch_add(&rd->metrics.trunk_register_failures, 1);
}

/* pcap_file: the writer, then the SIP tap whose pipe sofia will dump
 * into (sip_dump: the path for TPTAG_DUMP). */
static int start_capture(relayd *rd, char *sip_dump, size_t len)
{
    char why[600];
    if (pcap_writer_start(rd->cfg->pcap_file, PCAP_QUEUE_BYTES, why, sizeof why) != 0) {
        server_log(RELAY_LOG_ERROR, "%s", why);
        return -1;
    }
    pcap_writer_set_rtp(rd->cfg->pcap_rtp);
    rd->sip_tap = sip_tap_start(rd->cfg->sip_listen, sip_dump, len, why, sizeof why);
    if (!rd->sip_tap) {
        server_log(RELAY_LOG_ERROR, "%s", why);
        return -1;
    }
    server_log(RELAY_LOG_INFO, "capturing SIP%s to %s", rd->cfg->pcap_rtp ? " and RTP" : "",
               rd->cfg->pcap_file);
    return 0;
}

relayd *relayd_create(relayd_config *cfg)
{
    relayd *rd = calloc(1, sizeof *rd);
    if (!rd)
        return NULL;
    rd->cfg = cfg;
    rd->wake_fd = -1;
    rd->metrics.started_at = core_wallclock();
    server_log_sink.level = (relay_log_level)cfg->log_level;
    mailbox_init(&rd->inbox, wake_core, rd);

    su_init();
    rd->root = su_root_create(NULL);
    rd->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!rd->root || rd->wake_fd < 0)
        goto fail;
    su_wait_t w;
    if (su_wait_create(&w, rd->wake_fd, SU_WAIT_IN) != 0)
        goto fail;
    rd->wake_reg = su_root_register(rd->root, &w, on_wake, (su_wakeup_arg_t *)rd, 0);
    if (rd->wake_reg <= 0) {
        su_wait_destroy(&w);
        rd->wake_reg = 0;
        goto fail;
    }

    rd->login_penalty = login_penalty_new();
    if (!rd->login_penalty)
        goto fail;
    rd->media = media_engine_create(cfg->media_threads);
    rd->prep = media_prep_pool_create(cfg->prep_threads);
    /* Two: one disk stalled on a large write leaves the other writing. */
    rd->disk = media_disk_writer_create(2);
    media_fetch_config fcfg = {
        .media_dir = cfg->media_dir,
        .max_bytes = (size_t)cfg->media_max_bytes,
        .connect_timeout_ms = cfg->media_fetch_timeout_ms < 5000 ? cfg->media_fetch_timeout_ms
                                                                 : 5000,
        .timeout_ms = cfg->media_fetch_timeout_ms,
        .max_redirects = 3,
        .cache_entries = (size_t)cfg->media_cache_entries,
        .cache_bytes = (size_t)cfg->media_cache_bytes,
        .allow = &cfg->webhook_allow,
    };
    rd->fetch = media_fetcher_create(&fcfg);
    rd->queues = queue_dir_new((size_t)cfg->queue_max_queues, (size_t)cfg->queue_max_callers);
    if (!rd->media || !rd->prep || !rd->disk || !rd->fetch || !rd->queues)
        goto fail;

    char bind_url[300], tls_url[300];
    snprintf(bind_url, sizeof bind_url, "sip:%s", cfg->sip_listen);
    snprintf(tls_url, sizeof tls_url, "sips:%s", cfg->sip_tls_listen ? cfg->sip_tls_listen : "");
    sip_ua_config ucfg = {
        .bind_url = bind_url,
        .tls_url = cfg->sip_tls_listen ? tls_url : NULL,
        .tls_cert_dir = cfg->sip_tls_cert_dir,
        .tls_verify = cfg->sip_tls_verify,
        .media_ip = cfg->media_ip,
        .media_ip6 = cfg->media_ip6,
        .rtp_port_min = cfg->rtp_port_min,
        .rtp_port_max = cfg->rtp_port_max,
        .media = rd->media,
        .refer_timeout_ms = cfg->refer_timeout_ms,
        .transaction_timeout_ms = cfg->sip_transaction_timeout_ms,
        .user_agent = "relayd/" RELAY_VERSION,
        .trunk_username = cfg->phone_trunk_username,
        .trunk_password = cfg->phone_trunk_password,
        .trunk_realm = cfg->phone_trunk_realm,
        .trunk_register = cfg->phone_trunk_register,
        .trunk_register_expires = cfg->phone_trunk_register_expires,
        .sip_log = cfg->sip_log,
    };
    sip_ua_callbacks ucb = {
        .user = rd,
        .on_incoming = calls_on_incoming,
        .on_established = calls_on_established,
        .on_terminated = calls_on_terminated,
        .on_refer_progress = calls_on_refer_progress,
        .on_inbound_refer = calls_on_inbound_refer,
        .on_progress = calls_on_progress,
        .on_message = messaging_on_sip_message,
        .on_registration = on_trunk_registration,
    };
    char sip_dump[64];
    if (cfg->pcap_file && start_capture(rd, sip_dump, sizeof sip_dump) == 0)
        ucfg.sip_dump = sip_dump;
    else if (cfg->pcap_file)
        goto fail;
    rd->ua = sip_ua_create(rd->root, &ucfg, &ucb);
    if (!rd->ua)
        goto fail;
    sip_tap_opened(rd->sip_tap); /* sofia holds the dump open now */

    webhook_config wcfg = {.allow = &cfg->webhook_allow};
    rd->hooks = webhook_start(&wcfg);
    if (!rd->hooks)
        goto fail;
    rd->streams = stream_out_start(&cfg->webhook_allow, cfg->stream_max, cfg->stream_ca_file);
    if (!rd->streams)
        goto fail;

    ws_config wscfg = {
        .ip = cfg->ws_ip,
        .port = cfg->ws_port,
        .plain = cfg->plain,
        .cert = cfg->tls_cert,
        .key = cfg->tls_key,
        .max_frame = (size_t)cfg->max_frame,
        .max_frame_unauthenticated = (size_t)cfg->max_frame_unauthenticated,
        .max_outbound = (size_t)cfg->max_outbound_bytes,
        .max_in_flight = cfg->max_requests_in_flight,
        .max_connections = cfg->max_connections,
        .max_connections_per_address = cfg->max_connections_per_address,
    };
    ws_callbacks wcb = {
        .user = rd,
        .on_open = ws_on_open,
        .on_frame = ws_on_frame,
        .on_oversize = ws_on_oversize,
        .on_close = ws_on_close,
    };
    rd->ws = ws_start(&wscfg, &wcb);
    if (!rd->ws)
        goto fail;

    if (cfg->metrics_ip && !(rd->metrics_http = metrics_http_start(rd, cfg->metrics_ip,
                                                                  cfg->metrics_port)))
        goto fail;
    if (cfg->recordings_ip && !(rd->recordings_http = recordings_http_start(
                                    cfg->recordings_ip, cfg->recordings_port)))
        goto fail;

    rd->tick = su_timer_create(su_root_task(rd->root), 1000);
    if (!rd->tick || su_timer_set_for_ever(rd->tick, on_tick, (su_timer_arg_t *)rd) != 0)
        goto fail;

    server_log(RELAY_LOG_INFO, "listening: %s://%s:%d, SIP udp/tcp %s%s%s, RTP %s:%d-%d",
               cfg->plain ? "ws" : "wss", cfg->ws_ip, cfg->ws_port, cfg->sip_listen,
               cfg->sip_tls_listen ? ", tls " : "", cfg->sip_tls_listen ? cfg->sip_tls_listen : "",
               cfg->media_ip, cfg->rtp_port_min, cfg->rtp_port_max);
    write_ready_file(cfg);
    return rd;
fail:
    server_log(RELAY_LOG_ERROR, "startup failed");
    relayd_destroy(rd);
    return NULL;
}

int relayd_run(relayd *rd)
{
    su_root_run(rd->root);
    return 0;
}

static void core_stop(relayd *rd, void *arg)
{
    (void)arg;
    rd->stopping = 1;
    su_root_break(rd->root);
}

void relayd_request_stop(relayd *rd)
{
    core_post(rd, core_stop, NULL);
}

/* The pacing record of this run, for bench/media_threads. */
static void media_engine_destroy_logged(media_engine *e)
{
    if (!e)
        return;
    media_engine_stats st;
    media_engine_get_stats(e, &st);
    server_log(RELAY_LOG_INFO,
               "media: %d thread(s), %llu packets sent, %llu late (>20 ms after deadline), "
               "max lateness %llu us, %llu ticks, %llu overruns, %llu packets received, "
               "%llu lost in transit, %llu bridged frames dropped",
               media_engine_threads(e), (unsigned long long)st.sent, (unsigned long long)st.late,
               (unsigned long long)st.max_late_us, (unsigned long long)st.ticks,
               (unsigned long long)st.overruns, (unsigned long long)st.received,
               (unsigned long long)st.rx_lost,
               (unsigned long long)frame_ring_dropped_total());
    media_engine_destroy(e);
}

void relayd_destroy(relayd *rd)
{
    if (!rd)
        return;
    rd->stopping = 1;
    /* the endpoint reads the parts torn down below: it goes first */
    metrics_http_stop(rd->metrics_http);
    rd->metrics_http = NULL;
    recordings_http_stop(rd->recordings_http);
    rd->recordings_http = NULL;
    if (rd->drain_timer)
        su_timer_destroy(rd->drain_timer);
    /* Tell clients first, while the socket thread still runs (a drain has
     * told them already). */
    if (rd->ws && !rd->draining) {
        for (conn_entry *c = rd->conns; c; c = c->next)
            if (c->session)
                conn_send(rd, c->id,
                          frames_new_request(proto_method_name(PM_DISCONNECT),
                                          json_pack("{s:b}", "restart", 0), NULL));
    }
    if (rd->tick)
        su_timer_destroy(rd->tick);
    /* Calls end with BYE/480; the UA runs the root until they are done. */
    if (rd->ua) {
        calls_hangup_all(rd);
        sip_ua_destroy(rd->ua, 2000);
        rd->ua = NULL;
    }
    /* Queued preparations run to the end and post their results; then the
     * media threads end what is left (every play's done is posted) and
     * join. Both before the drain below, which frees those plays. A fetch
     * in progress is cut short rather than waited for. */
    if (rd->fetch)
        media_fetcher_cancel(rd->fetch);
    media_prep_pool_destroy(rd->prep);
    rd->prep = NULL;
    media_fetcher_destroy(rd->fetch);
    rd->fetch = NULL;
    media_engine_destroy_logged(rd->media);
    rd->media = NULL;
    /* every SIP message and RTP packet is in: the capture can end */
    sip_tap_stop(rd->sip_tap);
    rd->sip_tap = NULL;
    if (pcap_writer_active()) {
        if (pcap_writer_dropped())
            server_log(RELAY_LOG_WARN, "pcap_file: %llu packet(s) dropped (queue full)",
                       (unsigned long long)pcap_writer_dropped());
        pcap_writer_stop();
    }
    /* The calls are over and no media thread pushes any more: the streams
     * write their stop and close; their ends are in the mailbox below. */
    stream_out_stop(rd->streams);
    rd->streams = NULL;
    drain_mailbox(rd);
    if (rd->ws) {
        ws_stop(rd->ws);
        rd->ws = NULL;
    }
    drain_mailbox(rd); /* frames and closes that arrived meanwhile */
    queue_dir_free(rd->queues); /* empty: every waiting call has ended */
    rd->queues = NULL;
    while (rd->sessions)
        session_destroy(rd, rd->sessions);
    while (rd->conns) {
        conn_entry *c = rd->conns;
        rd->conns = c->next;
        drop_held(c);
        free(c);
    }
    /* every recording was closed above (its op ended with its call) */
    media_disk_writer_destroy(rd->disk);
    rd->disk = NULL;
    if (rd->hooks) {
        webhook_stop(rd->hooks, 3000);
        rd->hooks = NULL;
    }
    if (rd->root) {
        if (rd->wake_reg > 0)
            su_root_deregister(rd->root, rd->wake_reg);
        su_root_destroy(rd->root);
    }
    if (rd->wake_fd >= 0)
        close(rd->wake_fd);
    su_deinit();
    mailbox_destroy(&rd->inbox);
    login_penalty_free(rd->login_penalty);
    free(rd);
}
