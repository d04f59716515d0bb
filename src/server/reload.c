/*
 * SIGHUP: read the configuration again, exactly as at startup (the same
 * command line, so the same --config file and flags), check it as
 * --check-config would, and only then put the parts that can change under
 * a running server into effect. Runs on the core thread, which owns
 * rd->cfg, so credentials and limits change between two events and never
 * under one; calls and sessions are not touched.
 *
 * A configuration that fails any check is refused whole, logged line by
 * line, and the running one stays.
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcap_writer.h"
#include "log_file.h"
#include "relayd.h"
#include "sd_notify.h"
#include "server_log.h"
#include "ws.h"

static int str_differs(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* Settings a running server was built with (sockets, threads, pools). A
 * change is reported, not applied: it needs a restart. */
static void warn_fixed(const relayd_config *old, const relayd_config *fresh)
{
    struct {
        const char *key;
        int changed;
    } fixed[] = {
        {"ws_listen", str_differs(old->ws_ip, fresh->ws_ip) || old->ws_port != fresh->ws_port},
        {"plain", old->plain != fresh->plain},
        {"sip_listen", str_differs(old->sip_listen, fresh->sip_listen)},
        {"media_ip", str_differs(old->media_ip, fresh->media_ip)},
        {"media_ip6", str_differs(old->media_ip6, fresh->media_ip6)},
        {"sip_tls_listen", str_differs(old->sip_tls_listen, fresh->sip_tls_listen)},
        {"sip_tls_cert_dir", str_differs(old->sip_tls_cert_dir, fresh->sip_tls_cert_dir)},
        {"sip_tls_verify", old->sip_tls_verify != fresh->sip_tls_verify},
        {"rtp_ports", old->rtp_port_min != fresh->rtp_port_min ||
                          old->rtp_port_max != fresh->rtp_port_max},
        {"media_threads", old->media_threads != fresh->media_threads},
        {"prep_threads", old->prep_threads != fresh->prep_threads},
        {"media_dir", str_differs(old->media_dir, fresh->media_dir)},
        {"media_max_bytes", old->media_max_bytes != fresh->media_max_bytes},
        {"media_fetch_timeout_ms", old->media_fetch_timeout_ms != fresh->media_fetch_timeout_ms},
        {"media_cache_entries", old->media_cache_entries != fresh->media_cache_entries},
        {"media_cache_bytes", old->media_cache_bytes != fresh->media_cache_bytes},
        {"stream_max", old->stream_max != fresh->stream_max},
        {"stream_ca_file", str_differs(old->stream_ca_file, fresh->stream_ca_file)},
        {"max_frame", old->max_frame != fresh->max_frame},
        {"max_frame_unauthenticated",
         old->max_frame_unauthenticated != fresh->max_frame_unauthenticated},
        {"max_outbound_bytes", old->max_outbound_bytes != fresh->max_outbound_bytes},
        {"max_requests_in_flight", old->max_requests_in_flight != fresh->max_requests_in_flight},
        {"max_connections", old->max_connections != fresh->max_connections},
        {"max_connections_per_address",
         old->max_connections_per_address != fresh->max_connections_per_address},
        {"login_timeout_ms", old->login_timeout_ms != fresh->login_timeout_ms},
        {"max_login_attempts", old->max_login_attempts != fresh->max_login_attempts},
        {"max_contexts", old->max_contexts != fresh->max_contexts},
        {"max_calls", old->max_calls != fresh->max_calls},
        {"max_calls_per_session", old->max_calls_per_session != fresh->max_calls_per_session},
        {"max_conferences", old->max_conferences != fresh->max_conferences},
        {"max_conference_participants",
         old->max_conference_participants != fresh->max_conference_participants},
        {"max_unacked_events", old->max_unacked_events != fresh->max_unacked_events},
        {"webhook_allow", memcmp(&old->webhook_allow, &fresh->webhook_allow,
                                 sizeof old->webhook_allow) != 0},
        {"refer_timeout_ms", old->refer_timeout_ms != fresh->refer_timeout_ms},
        {"sip_transaction_timeout_ms",
         old->sip_transaction_timeout_ms != fresh->sip_transaction_timeout_ms},
        {"node_id", str_differs(old->node_id, fresh->node_id)},
        {"ready_file", str_differs(old->ready_file, fresh->ready_file)},
        {"log_file", !old->log_file != !fresh->log_file},
        {"pcap_file", !old->pcap_file != !fresh->pcap_file},
        {"sip_log", old->sip_log != fresh->sip_log},
        {"metrics_listen", str_differs(old->metrics_ip, fresh->metrics_ip) ||
                               old->metrics_port != fresh->metrics_port},
        {"recordings_listen", str_differs(old->recordings_ip, fresh->recordings_ip) ||
                                  old->recordings_port != fresh->recordings_port},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].changed)
            server_log(RELAY_LOG_WARN, "reload: %s changed; it takes effect after a restart",
                       fixed[i].key);
}

/* Logs each line of a multi-line report. */
static void log_lines(relay_log_level level, const char *what, char *text)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        server_log(level, "reload refused: %s%s", what, line);
}

#define SWAP(a, b)                                                                             \
    do {                                                                                       \
        __typeof__(a) tmp_ = (a);                                                              \
        (a) = (b);                                                                             \
        (b) = tmp_;                                                                            \
    } while (0)

static void core_reload(relayd *rd, void *arg)
{
    (void)arg;
    if (rd->stopping)
        return;
    relayd_config *cur = rd->cfg;
    sd_notify_send("RELOADING=1");
    server_log(RELAY_LOG_INFO, "reload: reading the configuration again");

    relayd_config fresh;
    char err[4096];
    if (config_load(&fresh, cur->argc, cur->argv, err, sizeof err) != 0 ||
        config_validate(&fresh, err, sizeof err) != 0) {
        log_lines(RELAY_LOG_ERROR, "", err);
        goto keep;
    }
    char *report = NULL;
    size_t report_len = 0;
    FILE *mem = open_memstream(&report, &report_len);
    int problems = mem ? config_check(&fresh, mem) : -1;
    if (mem)
        fclose(mem);
    if (problems != 0) {
        if (report)
            log_lines(RELAY_LOG_ERROR, "", report);
        else
            server_log(RELAY_LOG_ERROR, "reload refused: out of memory");
        free(report);
        goto keep;
    }
    free(report);

    /* The one step that can still fail comes first, so a refusal leaves
     * everything as it was. */
    if (!cur->plain) {
        char why[700];
        if (ws_reload_tls(rd->ws, fresh.tls_cert, fresh.tls_key, why, sizeof why) != 0) {
            server_log(RELAY_LOG_ERROR, "reload refused: TLS: %s", why);
            goto keep;
        }
    }
    warn_fixed(cur, &fresh);

    /* logrotate has moved the file away: open the path afresh */
    if (log_file_active() && fresh.log_file) {
        char why[600];
        if (log_file_reopen(fresh.log_file, why, sizeof why) != 0)
            server_log(RELAY_LOG_WARN, "reload: %s; still logging to the old file", why);
        else
            SWAP(cur->log_file, fresh.log_file);
    }

    /* pcap_file: the same, for the capture */
    if (pcap_writer_active() && fresh.pcap_file) {
        char why[600];
        if (pcap_writer_reopen(fresh.pcap_file, why, sizeof why) != 0)
            server_log(RELAY_LOG_WARN, "reload: %s; still capturing to the old file", why);
        else
            SWAP(cur->pcap_file, fresh.pcap_file);
    }
    cur->pcap_rtp = fresh.pcap_rtp;
    pcap_writer_set_rtp(cur->pcap_rtp);

    /* What can change under a running server; the old values end up in
     * fresh and are freed with it. */
    config_auth auth_tmp[CONFIG_MAX_AUTH];
    memcpy(auth_tmp, cur->auth, sizeof auth_tmp);
    memcpy(cur->auth, fresh.auth, sizeof auth_tmp);
    memcpy(fresh.auth, auth_tmp, sizeof auth_tmp);
    SWAP(cur->n_auth, fresh.n_auth);
    config_route routes_tmp[CONFIG_MAX_ROUTES];
    memcpy(routes_tmp, cur->routes, sizeof routes_tmp);
    memcpy(cur->routes, fresh.routes, sizeof routes_tmp);
    memcpy(fresh.routes, routes_tmp, sizeof routes_tmp);
    SWAP(cur->n_routes, fresh.n_routes);
    SWAP(cur->default_context, fresh.default_context);
    SWAP(cur->jwt_secret, fresh.jwt_secret); /* a credential like the rest */
    SWAP(cur->jwt_secret_len, fresh.jwt_secret_len);
    SWAP(cur->recordings_dir, fresh.recordings_dir);
    SWAP(cur->tls_cert, fresh.tls_cert);
    SWAP(cur->tls_key, fresh.tls_key);
    cur->ping_interval_ms = fresh.ping_interval_ms;
    cur->drain_timeout_ms = fresh.drain_timeout_ms;
    cur->login_delay_max_ms = fresh.login_delay_max_ms;
    cur->offer_timeout_ms = fresh.offer_timeout_ms;
    cur->ring_timeout_ms = fresh.ring_timeout_ms;
    cur->resume_grace_ms = fresh.resume_grace_ms;
    cur->log_level = fresh.log_level;
    /* an int store other threads read at their next log line */
    server_log_sink.level = (relay_log_level)cur->log_level;
    memcpy(cur->origins, fresh.origins, sizeof cur->origins);
    cur->n_origins = fresh.n_origins;
    server_log(RELAY_LOG_INFO,
               "reload: configuration in effect (%zu credential(s), %zu route(s)%s); "
               "calls and sessions kept",
               cur->n_auth, cur->n_routes, cur->plain ? "" : ", TLS certificate reloaded");
    config_free(&fresh);
    sd_notify_send("READY=1");
    return;
keep:
    config_free(&fresh);
    server_log(RELAY_LOG_WARN, "reload: keeping the running configuration");
    sd_notify_send("READY=1");
}

void relayd_request_reload(relayd *rd)
{
    core_post(rd, core_reload, NULL);
}
