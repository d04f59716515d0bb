#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <relay/types.h>

#include "common/protocol.h"
#include "phone.h"
#include "stream_out.h"

/* The development credentials used when none are configured. relayd refuses
 * to use them on anything but loopback. */
#define DEV_PROJECT "dev"
#define DEV_TOKEN "dev"

static int set_str(char **dst, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* A credential: the old one is wiped before it is freed. */
static int set_secret(char **dst, const char *v)
{
    if (!*v || strlen(v) >= 128)
        return -1;
    char *copy = strdup(v);
    if (!copy)
        return -1;
    if (*dst) {
        OPENSSL_cleanse(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = copy;
    return 0;
}

static int parse_int(const char *v, int min, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || !end || *end || n < min || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

static int parse_hostport(const char *v, char **ip, int *port)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return -1;
    char host[64];
    size_t len = (size_t)(colon - v);
    if (len >= sizeof host)
        return -1;
    memcpy(host, v, len);
    host[len] = '\0';
    if (parse_int(colon + 1, 1, 65535, port) != 0)
        return -1;
    return set_str(ip, host);
}

static int parse_pair(const char *v, char **a, char **b)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v || !colon[1])
        return -1;
    *a = strndup(v, (size_t)(colon - v));
    *b = strdup(colon + 1);
    if (!*a || !*b) {
        free(*a);
        free(*b);
        return -1;
    }
    return 0;
}

static int parse_level(const char *v, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

/* The JWT secret is only ever read from a file: on the command line it
 * would show in every process listing. Trailing newlines are not part of
 * it (editors add one). HS256 wants a key as long as its hash. */
#define JWT_SECRET_MIN 32
#define JWT_SECRET_MAX 4096
static int load_jwt_secret(relayd_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "jwt_secret_file: cannot open %s", path);
        return -2;
    }
    unsigned char *buf = malloc(JWT_SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, JWT_SECRET_MAX + 1, f) : 0;
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (!buf || n < JWT_SECRET_MIN || n > JWT_SECRET_MAX) {
        if (buf)
            OPENSSL_cleanse(buf, JWT_SECRET_MAX + 1);
        free(buf);
        snprintf(err, errlen, "jwt_secret_file: the secret must be %d to %d bytes", JWT_SECRET_MIN,
                 JWT_SECRET_MAX);
        return -2;
    }
    if (cfg->jwt_secret) {
        OPENSSL_cleanse(cfg->jwt_secret, cfg->jwt_secret_len);
        free(cfg->jwt_secret);
    }
    cfg->jwt_secret = buf;
    cfg->jwt_secret_len = n;
    return 0;
}

static void note_origin(relayd_config *cfg, const char *key, const char *where)
{
    config_origin *o = NULL;
    for (size_t i = 0; i < cfg->n_origins; i++)
        if (strcmp(cfg->origins[i].key, key) == 0)
            o = &cfg->origins[i];
    if (!o && cfg->n_origins < CONFIG_MAX_ORIGINS)
        o = &cfg->origins[cfg->n_origins++];
    if (!o)
        return; /* only more repeats of known keys can get here */
    snprintf(o->key, sizeof o->key, "%s", key);
    snprintf(o->where, sizeof o->where, "%s", where);
}

const char *config_where(const relayd_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_origins; i++)
        if (strcmp(cfg->origins[i].key, key) == 0)
            return cfg->origins[i].where;
    return "default";
}

/* One setting. Returns 0, or -1 with a message naming the key (never the
 * value: it may be a credential). where: the file line or flag it came from. */
static int apply(relayd_config *cfg, const char *key, const char *v, const char *where,
                 char *err, size_t errlen)
{
    int rc = 0;
    if (strcmp(key, "ws_listen") == 0)
        rc = parse_hostport(v, &cfg->ws_ip, &cfg->ws_port);
    else if (strcmp(key, "tls_cert") == 0)
        rc = set_str(&cfg->tls_cert, v);
    else if (strcmp(key, "tls_key") == 0)
        rc = set_str(&cfg->tls_key, v);
    else if (strcmp(key, "plain") == 0)
        rc = parse_int(v, 0, 1, &cfg->plain);
    else if (strcmp(key, "sip_listen") == 0)
        rc = set_str(&cfg->sip_listen, v);
    else if (strcmp(key, "media_ip") == 0)
        rc = set_str(&cfg->media_ip, v);
    else if (strcmp(key, "media_ip6") == 0)
        rc = set_str(&cfg->media_ip6, v);
    else if (strcmp(key, "sip_tls_listen") == 0)
        rc = set_str(&cfg->sip_tls_listen, v);
    else if (strcmp(key, "sip_tls_cert_dir") == 0)
        rc = *v == '/' ? set_str(&cfg->sip_tls_cert_dir, v) : -1;
    else if (strcmp(key, "sip_tls_verify") == 0)
        rc = parse_int(v, 0, 1, &cfg->sip_tls_verify);
    else if (strcmp(key, "rtp_ports") == 0) {
        rc = sscanf(v, "%d-%d", &cfg->rtp_port_min, &cfg->rtp_port_max) == 2 &&
                     cfg->rtp_port_min > 1023 && cfg->rtp_port_max <= 65535 &&
                     cfg->rtp_port_max - cfg->rtp_port_min >= 2
                 ? 0
                 : -1;
    } else if (strcmp(key, "auth") == 0) {
        if (cfg->n_auth >= CONFIG_MAX_AUTH)
            rc = -1;
        else if ((rc = parse_pair(v, &cfg->auth[cfg->n_auth].project,
                                  &cfg->auth[cfg->n_auth].token)) == 0)
            cfg->n_auth++;
    } else if (strcmp(key, "route") == 0) {
        if (cfg->n_routes >= CONFIG_MAX_ROUTES)
            rc = -1;
        else if ((rc = parse_pair(v, &cfg->routes[cfg->n_routes].sip_user,
                                  &cfg->routes[cfg->n_routes].context)) == 0)
            cfg->n_routes++;
    } else if (strcmp(key, "default_context") == 0)
        rc = set_str(&cfg->default_context, v);
    else if (strcmp(key, "refer_timeout_ms") == 0)
        rc = parse_int(v, 100, 600000, &cfg->refer_timeout_ms);
    else if (strcmp(key, "sip_transaction_timeout_ms") == 0)
        rc = parse_int(v, 1000, 64000, &cfg->sip_transaction_timeout_ms);
    else if (strcmp(key, "jwt_secret_file") == 0)
        rc = load_jwt_secret(cfg, v, err, errlen);
    else if (strcmp(key, "ping_interval_ms") == 0)
        rc = parse_int(v, 0, 3600000, &cfg->ping_interval_ms);
    else if (strcmp(key, "resume_grace_ms") == 0)
        rc = parse_int(v, 0, 3600000, &cfg->resume_grace_ms);
    else if (strcmp(key, "max_frame") == 0)
        rc = parse_int(v, 1024, 64 * 1024 * 1024, &cfg->max_frame);
    else if (strcmp(key, "max_contexts") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->max_contexts);
    else if (strcmp(key, "max_calls_per_session") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->max_calls_per_session);
    else if (strcmp(key, "max_calls") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->max_calls);
    else if (strcmp(key, "max_conferences") == 0)
        rc = parse_int(v, 1, 100000, &cfg->max_conferences);
    else if (strcmp(key, "max_conference_participants") == 0)
        rc = parse_int(v, 2, 1000, &cfg->max_conference_participants);
    else if (strcmp(key, "max_outbound_bytes") == 0)
        rc = parse_int(v, 64 * 1024, 1024 * 1024 * 1024, &cfg->max_outbound_bytes);
    else if (strcmp(key, "max_requests_in_flight") == 0)
        rc = parse_int(v, 1, 10000, &cfg->max_requests_in_flight);
    else if (strcmp(key, "max_frame_unauthenticated") == 0)
        rc = parse_int(v, 1024, 64 * 1024 * 1024, &cfg->max_frame_unauthenticated);
    else if (strcmp(key, "max_connections") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->max_connections);
    else if (strcmp(key, "max_connections_per_address") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->max_connections_per_address);
    else if (strcmp(key, "login_timeout_ms") == 0)
        rc = parse_int(v, 100, 600000, &cfg->login_timeout_ms);
    else if (strcmp(key, "max_login_attempts") == 0)
        rc = parse_int(v, 1, 100, &cfg->max_login_attempts);
    else if (strcmp(key, "max_unacked_events") == 0)
        rc = parse_int(v, 1, 10000000, &cfg->max_unacked_events);
    else if (strcmp(key, "webhook_allow") == 0) {
        if (cfg->webhook_allow.n >= ADDR_ALLOW_MAX)
            rc = -1;
        else if ((rc = addr_range_parse(v, &cfg->webhook_allow.ranges[cfg->webhook_allow.n])) == 0)
            cfg->webhook_allow.n++;
    } else if (strcmp(key, "media_threads") == 0)
        rc = parse_int(v, 1, 64, &cfg->media_threads);
    else if (strcmp(key, "prep_threads") == 0)
        rc = parse_int(v, 1, 64, &cfg->prep_threads);
    else if (strcmp(key, "media_dir") == 0)
        rc = v[0] == '/' ? set_str(&cfg->media_dir, v) : -1; /* absolute only */
    else if (strcmp(key, "media_max_bytes") == 0)
        rc = parse_int(v, 1024, 1024 * 1024 * 1024, &cfg->media_max_bytes);
    else if (strcmp(key, "media_fetch_timeout_ms") == 0)
        rc = parse_int(v, 100, 600000, &cfg->media_fetch_timeout_ms);
    else if (strcmp(key, "media_cache_entries") == 0)
        rc = parse_int(v, 0, 100000, &cfg->media_cache_entries);
    else if (strcmp(key, "stream_max") == 0)
        rc = parse_int(v, 1, 1024, &cfg->stream_max);
    else if (strcmp(key, "stream_ca_file") == 0)
        rc = *v == '/' ? set_str(&cfg->stream_ca_file, v) : -1;
    else if (strcmp(key, "media_cache_bytes") == 0)
        rc = parse_int(v, 0, 1024 * 1024 * 1024, &cfg->media_cache_bytes);
    else if (strcmp(key, "queue_hold_audio") == 0)
        rc = *v && strlen(v) < 1024 ? set_str(&cfg->queue_hold_audio, v) : -1;
    else if (strcmp(key, "queue_max_queues") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->queue_max_queues);
    else if (strcmp(key, "queue_max_callers") == 0)
        rc = parse_int(v, 1, 1000000, &cfg->queue_max_callers);
    else if (strcmp(key, "log_level") == 0)
        rc = parse_level(v, &cfg->log_level);
    else if (strcmp(key, "ready_file") == 0)
        rc = set_str(&cfg->ready_file, v);
    else if (strcmp(key, "node_id") == 0)
        rc = set_str(&cfg->node_id, v);
    else if (strcmp(key, "phone_trunk") == 0) {
        /* a SIP URI with one {number}: where phone devices are dialled */
        const char *at = strstr(v, "{number}");
        rc = (strncmp(v, "sip:", 4) == 0 || strncmp(v, "sips:", 5) == 0) && at &&
                     !strstr(at + 1, "{number}") && strlen(v) < 200
                 ? set_str(&cfg->phone_trunk, v)
                 : -1;
    }
    else if (strcmp(key, "phone_trunk_username") == 0)
        rc = *v && strlen(v) < 128 && !strpbrk(v, "\"\\:@ ") ? set_str(&cfg->phone_trunk_username, v)
                                                                : -1;
    else if (strcmp(key, "phone_trunk_password") == 0)
        rc = set_secret(&cfg->phone_trunk_password, v);
    else if (strcmp(key, "phone_trunk_realm") == 0)
        rc = *v && strlen(v) < 128 && !strpbrk(v, "\"\\") ? set_str(&cfg->phone_trunk_realm, v)
                                                             : -1;
    else if (strcmp(key, "phone_trunk_register") == 0)
        rc = (strncmp(v, "sip:", 4) == 0 || strncmp(v, "sips:", 5) == 0) && strlen(v) < 200 &&
                     !strpbrk(v, " <>\"")
                 ? set_str(&cfg->phone_trunk_register, v)
                 : -1;
    else if (strcmp(key, "phone_trunk_register_expires") == 0)
        rc = parse_int(v, 5, 86400, &cfg->phone_trunk_register_expires);
    else if (strcmp(key, "phone_trunk_context") == 0)
        rc = *v && strlen(v) < 128 ? set_str(&cfg->phone_trunk_context, v) : -1;
    else if (strcmp(key, "recordings_dir") == 0)
        rc = *v == '/' ? set_str(&cfg->recordings_dir, v) : -1; /* file:// URLs need it absolute */
    else if (strcmp(key, "metrics_listen") == 0)
        rc = parse_hostport(v, &cfg->metrics_ip, &cfg->metrics_port);
    else if (strcmp(key, "recordings_listen") == 0)
        rc = parse_hostport(v, &cfg->recordings_ip, &cfg->recordings_port);
    else if (strcmp(key, "offer_timeout_ms") == 0)
        rc = parse_int(v, 0, 3600000, &cfg->offer_timeout_ms);
    else if (strcmp(key, "ring_timeout_ms") == 0)
        rc = parse_int(v, 0, 3600000, &cfg->ring_timeout_ms);
    else if (strcmp(key, "login_delay_max_ms") == 0)
        rc = parse_int(v, 0, 60000, &cfg->login_delay_max_ms);
    else if (strcmp(key, "drain_timeout_ms") == 0)
        rc = parse_int(v, 0, 600000, &cfg->drain_timeout_ms);
    else if (strcmp(key, "log_file") == 0)
        rc = *v == '/' ? set_str(&cfg->log_file, v) : -1; /* reopened after a chdir-free restart too */
    else if (strcmp(key, "pcap_file") == 0)
        rc = *v == '/' ? set_str(&cfg->pcap_file, v) : -1;
    else if (strcmp(key, "pcap_rtp") == 0)
        rc = parse_int(v, 0, 1, &cfg->pcap_rtp);
    else if (strcmp(key, "sip_log") == 0)
        rc = parse_int(v, 0, 1, &cfg->sip_log);
    else {
        snprintf(err, errlen, "%s: unknown setting", key);
        return -1;
    }
    if (rc == -2) /* the setter already said what was wrong */
        return -1;
    if (rc != 0)
        snprintf(err, errlen, "%s: bad value", key);
    else
        note_origin(cfg, key, where);
    return rc;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int load_file(relayd_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    /* Every bad line is reported, one per line of err, so that one run of
     * --check-config lists all there is to fix. */
    char line[1024];
    int lineno = 0, rc = 0;
    size_t used = strlen(err);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char msg[200] = "";
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        char where[CONFIG_WHERE_LEN];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!eq)
            snprintf(msg, sizeof msg, "expected key = value");
        else {
            *eq = '\0';
            if (apply(cfg, trim(s), trim(eq + 1), where, msg, sizeof msg) == 0)
                continue;
        }
        rc = -1;
        if (used < errlen) {
            int n = snprintf(err + used, errlen - used, "%s%s: %s", used ? "\n" : "", where, msg);
            used = n < 0 ? errlen : used + (size_t)n;
        }
    }
    fclose(f);
    return rc;
}

void config_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--config FILE] [options]\n"
            "  --ws-listen IP:PORT      WebSocket listener (default 127.0.0.1:8080 plain, :8443 TLS)\n"
            "  --tls-cert FILE --tls-key FILE   serve wss:// with this certificate\n"
            "  --plain                  serve ws:// without TLS (loopback only)\n"
            "  --sip-listen IP:PORT     SIP over UDP and TCP; [IPv6]:PORT for IPv6, a\n"
            "                           ;transport=udp or tcp suffix for one (default\n"
            "                           127.0.0.1:5070)\n"
            "  --sip-tls-listen IP:PORT SIP over TLS (sips:) here too (default off)\n"
            "  --sip-tls-cert-dir DIR   its agent.pem (certificate and key) and cafile.pem\n"
            "                           (absolute; scripts/gen-certs.sh writes one)\n"
            "  --sip-tls-verify 0|1     TLS peers' certificates must verify against\n"
            "                           cafile.pem (default 0)\n"
            "  --media-ip IP            RTP address put in SDP (default 127.0.0.1)\n"
            "  --media-ip6 IP           RTP address of IPv6 calls (default none: refused)\n"
            "  --rtp-ports MIN-MAX      RTP port range (default 40000-40999)\n"
"  --media-threads N        threads pacing every call's RTP (default 2)\n"
            "  --prep-threads N         threads synthesising speech (default 2)\n"
            "  --media-dir DIR          file:// play audio allowed under DIR (default: none)\n"
            "  --media-max-bytes N      largest audio file fetched (default 50 MiB)\n"
            "  --media-fetch-timeout-ms MS  whole fetch of one audio URL (default 15000)\n"
            "  --media-cache-entries N  decoded audio files cached (default 64; 0 off)\n"
            "  --media-cache-bytes N    their total size (default 64 MiB)\n"
            "  --stream-max N           calling.stream / ws tap streams open at once (default 64)\n"
            "  --stream-ca-file FILE    PEM CAs trusted for wss:// streams, besides the system's\n"
            "  --queue-hold-audio WHAT  what callers waiting in a calling.queue.enter queue hear,\n"
            "                           looped: a ringtone name (us, uk, ...) or an audio URL\n"
            "                           (http(s), or file:// under media_dir; default us)\n"
            "  --queue-max-queues N     named queues with callers waiting, in all (default 1000)\n"
            "  --queue-max-callers N    callers waiting in one queue (default 1000)\n"
            "  --auth PROJECT:TOKEN     accepted credentials (repeatable)\n"
            "  --route USER:CONTEXT     offer calls to sip:USER@ on CONTEXT (repeatable)\n"
            "  --default-context NAME   context for unrouted calls (default: the URI user)\n"
            "  --refer-timeout-ms MS    wait this long for the final NOTIFY (default 32000)\n"
            "  --sip-transaction-timeout-ms MS  a request we send gets no answer: given up\n"
            "                           after this (SIP timer B/F, default 32000)\n"
            "  --jwt-secret-file FILE   accept HS256 JWTs signed with the secret in FILE\n"
            "  --ping-interval-ms MS    ping clients this often (default 10000; 0 off)\n"
            "  --offer-timeout-ms MS    an inbound call not answered, passed or ended by the\n"
            "                           client it is offered to within MS goes to the next\n"
            "                           client on its context (default 30000; 0 off)\n"
            "  --ring-timeout-ms MS     an inbound call nobody answers within MS ends with 480\n"
            "                           (default 60000; 0 off)\n"
            "  --drain-timeout-ms MS    on SIGTERM, wait this long for calls to end and clients\n"
            "                           to take their last events (default 10000)\n"
            "  --resume-grace-ms MS     keep a dropped session this long (default 30000)\n"
            "  --max-frame BYTES        largest WebSocket message accepted (default 10 MiB)\n"
            "  --max-contexts N         contexts one session may receive on (default 1000)\n"
            "  --max-calls-per-session N calls one session may own at once (default 1000)\n"
            "  --max-calls N            calls relayd carries at once (default 10000)\n"
            "  --max-conferences N      audio conferences (calling.join_conference) at once\n"
            "                           (default 64)\n"
            "  --max-conference-participants N  calls in one conference (default 32)\n"
            "  --max-outbound-bytes N   unsent replies/events kept for one connection before\n"
            "                           it is dropped (session kept for resume; default 16 MiB)\n"
            "  --max-requests-in-flight N frames of one connection queued for the core before\n"
            "                           relayd stops reading it (default 16)\n"
            "  --max-frame-unauthenticated BYTES  largest message before signalwire.connect\n"
            "                           (default 64 KiB)\n"
            "  --max-connections N      WebSocket connections open at once (default 1000)\n"
            "  --max-connections-per-address N  from one address (default 100)\n"
            "  --login-timeout-ms MS    close a connection not logged in by then (default 10000)\n"
            "  --max-login-attempts N   failed signalwire.connect before the close (default 3)\n"
            "  --login-delay-max-ms MS  after 3 failed logins from an address within a minute,\n"
            "                           its connections wait 250 ms, doubling per failure, up\n"
            "                           to MS before they are served (default 5000; 0 off)\n"
            "  --max-unacked-events N   events kept for resume until acknowledged; past it the\n"
            "                           session is closed and the client told (default 100000)\n"
            "  --webhook-allow ADDR[/PREFIX]  let status_url, taps, streams and media fetches (audio,\n"
            "                           fax documents) reach this loopback/private range\n"
            "                           (repeatable; default: only public addresses)\n"
            "  --log-level LEVEL        error|warn|info|debug (debug shows every frame)\n"
            "  --ready-file PATH        written once relayd is listening\n"
            "  --node-id ID             node id reported to clients\n"
            "  --phone-trunk URI        SIP URI template for phone devices, e.g.\n"
            "                           sip:{number}@trunk.example.com (calling.dial)\n"
            "  --phone-trunk-username USER --phone-trunk-password PASS\n"
            "                           digest credentials answering the trunk's 401/407\n"
            "                           (INVITE, MESSAGE, REGISTER); never logged; prefer\n"
            "                           the config file: argv shows in process listings\n"
            "  --phone-trunk-realm REALM answer only challenges of this realm (default: any\n"
            "                           realm the trunk names)\n"
            "  --phone-trunk-register URI REGISTER with this registrar at start, refresh,\n"
            "                           retry with backoff, unREGISTER on shutdown (off)\n"
            "  --phone-trunk-register-expires S  Expires asked for (5-86400; default 600)\n"
            "  --phone-trunk-context NAME inbound calls to a phone number or to the\n"
            "                           registered user go to this context (off)\n"
            "  --recordings-dir DIR     where calling.record writes (absolute; /tmp/relayd-recordings)\n"
            "  --log-file PATH          log here instead of stderr (absolute; reopened on SIGHUP)\n"
            "  --metrics-listen IP:PORT Prometheus text at http://IP:PORT/metrics (loopback; off)\n"
            "  --recordings-listen IP:PORT  serve recordings at http://IP:PORT/recordings/NAME;\n"
            "                           records' urls then name it (not 0.0.0.0; off: file://)\n"
            "  --pcap-file PATH         capture SIP to this pcap file (absolute; reopened on\n"
            "                           SIGHUP; default off)\n"
            "  --pcap-rtp 0|1           put every call's RTP into pcap_file too (default 0)\n"
            "  --sip-log 0|1            log every SIP message sent or received, whole, at info\n"
            "                           (sofia's own 100 Trying, OPTIONS answers and\n"
            "                           retransmissions too; default 0)\n"
            "  --check-config           check the configuration, print every problem, exit\n"
            "                           (0: fine, 2: problems); binds nothing\n"
            "Environment: RELAYD_AUTH=\"PROJECT:TOKEN [PROJECT:TOKEN ...]\" adds credentials\n"
            "without putting them on the command line.\n"
            "With no configuration relayd is a loopback-only development instance\n"
            "accepting project 'dev' with token 'dev'.\n",
            prog);
}

int config_load(relayd_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (errlen)
        err[0] = '\0';
    cfg->argc = argc;
    cfg->argv = argv;
    cfg->ws_port = 0; /* chosen by plain/TLS below */
    cfg->rtp_port_min = 40000;
    cfg->rtp_port_max = 40999;
    cfg->media_threads = 2;
    cfg->prep_threads = 2;
    cfg->media_max_bytes = 50 * 1024 * 1024;
    cfg->media_fetch_timeout_ms = 15000;
    cfg->media_cache_entries = 64;
    cfg->media_cache_bytes = 64 * 1024 * 1024;
    cfg->stream_max = STREAM_OUT_MAX;
    cfg->queue_max_queues = 1000;
    cfg->queue_max_callers = 1000;
    cfg->phone_trunk_register_expires = 600;
    cfg->refer_timeout_ms = 32000; /* 64*T1: a SIP transaction's own timeout */
    cfg->sip_transaction_timeout_ms = 32000; /* 64*T1, RFC 3261 */
    /* @signalwire/realtime-api drops a connection whose next server ping
     * is more than 15 s late; 10 s leaves room for a busy core. */
    cfg->ping_interval_ms = 10000;
    cfg->drain_timeout_ms = 10000;
    cfg->login_delay_max_ms = 5000;
    cfg->offer_timeout_ms = 30000;
    cfg->ring_timeout_ms = 60000;
    cfg->resume_grace_ms = 30000;
    cfg->max_frame = 10 * 1024 * 1024;
    cfg->max_contexts = 1000;
    cfg->max_calls_per_session = PROTO_MAX_ACTIVE_CALLS; /* what librelay itself tracks */
    cfg->max_calls = PROTO_MAX_ACTIVE_CALLS * 10;
    /* each participant costs its mixer a decode-sum-encode per tick on one
     * media thread: 64 x 32 stays well inside a thread's 20 ms */
    cfg->max_conferences = 64;
    cfg->max_conference_participants = 32;
    cfg->max_outbound_bytes = 16 * 1024 * 1024;
    cfg->max_requests_in_flight = 16;
    cfg->max_unacked_events = 100000;
    cfg->login_timeout_ms = 10000;
    cfg->max_connections = 1000;
    cfg->max_connections_per_address = 100;
    cfg->max_frame_unauthenticated = 64 * 1024;
    cfg->max_login_attempts = 3;
    cfg->log_level = RELAY_LOG_INFO;
    if (set_str(&cfg->ws_ip, "127.0.0.1") || set_str(&cfg->sip_listen, "127.0.0.1:5070") ||
        set_str(&cfg->media_ip, "127.0.0.1") || set_str(&cfg->node_id, "relayd-local") ||
        set_str(&cfg->recordings_dir, "/tmp/relayd-recordings") ||
        set_str(&cfg->queue_hold_audio, "us")) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* the file first, so that flags override it; --check-config goes on
     * past a bad file so that the rest is checked and reported too */
    int file_rc = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--check-config") == 0)
            cfg->check_only = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a file");
                return -1;
            }
            if (load_file(cfg, argv[i + 1], err, errlen) != 0) {
                file_rc = -1;
                if (!cfg->check_only)
                    return -1;
            }
        }
    }
    /* Credentials may come from the environment instead of a flag: a token
     * in argv shows in every process listing, one in the environment only to
     * its user. RELAYD_AUTH="project:token [project:token ...]". */
    const char *env_auth = getenv("RELAYD_AUTH");
    if (env_auth && *env_auth) {
        char *copy = strdup(env_auth), *save = NULL;
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (char *tok = strtok_r(copy, " \t\n,", &save); tok; tok = strtok_r(NULL, " \t\n,", &save)) {
            char msg[200];
            if (apply(cfg, "auth", tok, "RELAYD_AUTH", msg, sizeof msg) != 0) {
                /* never the value: it is a credential */
                snprintf(err, errlen, "RELAYD_AUTH: an entry is not project:token");
                free(copy);
                return -1;
            }
        }
        free(copy);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strcmp(a, "--plain") == 0) {
            cfg->plain = 1;
            note_origin(cfg, "plain", "--plain");
            continue;
        }
        if (strcmp(a, "--check-config") == 0) {
            cfg->check_only = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        char key[64];
        snprintf(key, sizeof key, "%s", a + 2);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        char msg[200];
        if (apply(cfg, key, argv[i + 1], a, msg, sizeof msg) != 0) {
            size_t used = file_rc ? strlen(err) : 0;
            if (used < errlen)
                snprintf(err + used, errlen - used, "%s%s: %s", used ? "\n" : "", a, msg);
            return -1;
        }
        i++;
    }
    /* no TLS material configured at all: the development instance is plain */
    if (!cfg->tls_cert && !cfg->tls_key)
        cfg->plain = 1;
    if (cfg->ws_port == 0)
        cfg->ws_port = cfg->plain ? 8080 : 8443;
    if (cfg->n_auth == 0) {
        cfg->auth[0].project = strdup(DEV_PROJECT);
        cfg->auth[0].token = strdup(DEV_TOKEN);
        cfg->n_auth = 1;
    }
    return file_rc;
}

int config_is_loopback(const char *ip)
{
    return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
                  strcmp(ip, "localhost") == 0);
}

int config_is_wildcard(const char *ip)
{
    return ip && (strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0 || strcmp(ip, "[::]") == 0);
}

int config_dev_credentials(const relayd_config *cfg)
{
    return cfg->n_auth == 1 && strcmp(cfg->auth[0].project, DEV_PROJECT) == 0 &&
           strcmp(cfg->auth[0].token, DEV_TOKEN) == 0;
}

int config_validate(const relayd_config *cfg, char *err, size_t errlen)
{
    if (!cfg->plain && (!cfg->tls_cert || !cfg->tls_key)) {
        snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key");
        return -1;
    }
    if (cfg->plain && !config_is_loopback(cfg->ws_ip)) {
        snprintf(err, errlen, "plain ws:// is only allowed on loopback; configure TLS");
        return -1;
    }
    if (config_dev_credentials(cfg) && !config_is_loopback(cfg->ws_ip)) {
        snprintf(err, errlen, "the development credentials are loopback-only; set --auth");
        return -1;
    }
    if (cfg->metrics_ip && !config_is_loopback(cfg->metrics_ip)) {
        snprintf(err, errlen, "metrics_listen must be a loopback address (it has no access control)");
        return -1;
    }
    if (cfg->recordings_ip && config_is_wildcard(cfg->recordings_ip)) {
        snprintf(err, errlen, "recordings_listen must be the address clients fetch from, not a "
                              "wildcard (records' urls name it)");
        return -1;
    }
    if (cfg->rtp_port_min >= cfg->rtp_port_max) {
        snprintf(err, errlen, "empty RTP port range");
        return -1;
    }
    const char *params = strchr(cfg->sip_listen, ';');
    if (params && strcmp(params, ";transport=udp") != 0 && strcmp(params, ";transport=tcp") != 0) {
        snprintf(err, errlen, "sip_listen: only ;transport=udp or ;transport=tcp may follow the port");
        return -1;
    }
    if (cfg->sip_tls_listen && !cfg->sip_tls_cert_dir) {
        snprintf(err, errlen, "sip_tls_listen needs sip_tls_cert_dir");
        return -1;
    }
    if (!!cfg->phone_trunk_username != !!cfg->phone_trunk_password) {
        snprintf(err, errlen, "phone_trunk_username and phone_trunk_password go together");
        return -1;
    }
    return 0;
}

const char *config_context_for(const relayd_config *cfg, const char *user)
{
    for (size_t i = 0; i < cfg->n_routes; i++)
        if (user && strcmp(cfg->routes[i].sip_user, user) == 0)
            return cfg->routes[i].context;
    /* the trunk's numbers: a phone number, or the user relayd registers as */
    if (cfg->phone_trunk_context && user &&
        (phone_number_ok(user) ||
         (cfg->phone_trunk_username && strcmp(user, cfg->phone_trunk_username) == 0)))
        return cfg->phone_trunk_context;
    if (cfg->default_context)
        return cfg->default_context;
    return (user && *user) ? user : NULL;
}

/* Compares every byte of both strings so the time taken does not reveal
 * how much of a guess was right. */
static int ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

int config_auth_check(const relayd_config *cfg, const char *project, const char *token)
{
    if (!project || !token)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < cfg->n_auth; i++)
        ok |= ct_equal(project, cfg->auth[i].project) & ct_equal(token, cfg->auth[i].token);
    return ok;
}

void config_free(relayd_config *cfg)
{
    free(cfg->ws_ip);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->sip_listen);
    free(cfg->media_ip);
    free(cfg->media_ip6);
    free(cfg->sip_tls_listen);
    free(cfg->sip_tls_cert_dir);
    for (size_t i = 0; i < cfg->n_auth; i++) {
        free(cfg->auth[i].project);
        free(cfg->auth[i].token);
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        free(cfg->routes[i].sip_user);
        free(cfg->routes[i].context);
    }
    free(cfg->default_context);
    free(cfg->ready_file);
    free(cfg->node_id);
    free(cfg->phone_trunk);
    free(cfg->phone_trunk_username);
    if (cfg->phone_trunk_password)
        OPENSSL_cleanse(cfg->phone_trunk_password, strlen(cfg->phone_trunk_password));
    free(cfg->phone_trunk_password);
    free(cfg->phone_trunk_realm);
    free(cfg->phone_trunk_register);
    free(cfg->phone_trunk_context);
    free(cfg->media_dir);
    free(cfg->stream_ca_file);
    free(cfg->queue_hold_audio);
    free(cfg->recordings_dir);
    if (cfg->jwt_secret)
        OPENSSL_cleanse(cfg->jwt_secret, cfg->jwt_secret_len);
    free(cfg->jwt_secret);
    free(cfg->log_file);
    free(cfg->pcap_file);
    free(cfg->metrics_ip);
    free(cfg->recordings_ip);
    memset(cfg, 0, sizeof *cfg);
}
