/*
 * config_check: what relayd --check-config and SIGHUP ask of a
 * configuration before it is used. Parsing (config.c) already refused
 * malformed values; this asks the filesystem and OpenSSL the questions only
 * they can answer, and names for every problem the file line or flag that
 * set the key, so the operator knows exactly what to edit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "media/source_tone.h"
#include "tls_pair.h"

/* Shortest token accepted off loopback: guessable secrets are refused
 * where a stranger can try them. */
#define MIN_TOKEN_LEN 16

typedef struct checker {
    const relayd_config *cfg;
    FILE *out;
    int problems;
} checker;

static void problem(checker *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(checker *ck, const char *key, const char *fmt, ...)
{
    char reason[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    fprintf(ck->out, "%s: %s: %s\n", config_where(ck->cfg, key), key, reason);
    ck->problems++;
}

static int valid_ip(const char *ip)
{
    unsigned char buf[16];
    return ip && (inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1);
}

/* 1 if path is a directory this user may create files in. */
static int writable_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

/* A directory relayd must write into: present and writable, or (when
 * relayd creates it on first use, create_ok) its parent is. */
static void check_dir(checker *ck, const char *key, const char *dir, int create_ok)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            problem(ck, key, "%s is not a directory", dir);
        else if (access(dir, W_OK | X_OK) != 0)
            problem(ck, key, "%s is not writable by this user", dir);
        return;
    }
    if (!create_ok || errno != ENOENT) {
        problem(ck, key, "%s: %s", dir, strerror(errno));
        return;
    }
    char *copy = strdup(dir);
    if (!copy)
        return;
    const char *parent = dirname(copy);
    if (!writable_dir(parent))
        problem(ck, key, "%s does not exist and %s is not a writable directory to create it in",
                dir, parent);
    free(copy);
}

/* A file relayd writes (log, ready file): writable if present, else its
 * directory must be. */
static void check_writable_file(checker *ck, const char *key, const char *path)
{
    if (access(path, F_OK) == 0) {
        if (access(path, W_OK) != 0)
            problem(ck, key, "%s is not writable by this user", path);
        return;
    }
    char *copy = strdup(path);
    if (!copy)
        return;
    const char *parent = dirname(copy);
    if (!writable_dir(parent))
        problem(ck, key, "cannot create %s: %s is not a writable directory", path, parent);
    free(copy);
}

/* "IP:PORT" or "[IPv6]:PORT" into host (no brackets) and port; -1 if
 * it is neither. */
static int split_hostport(const char *v, char *host, size_t size, int *port)
{
    const char *colon;
    const char *h = v;
    size_t hl;
    if (v[0] == '[') {
        const char *end = strchr(v, ']');
        if (!end || end[1] != ':')
            return -1;
        h = v + 1;
        hl = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - v);
    }
    if (hl >= size || sscanf(colon + 1, "%d", port) != 1 || *port < 1 || *port > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}

static void check_listen(checker *ck)
{
    const relayd_config *cfg = ck->cfg;
    if (!valid_ip(cfg->ws_ip))
        problem(ck, "ws_listen", "'%s' is not an IP address", cfg->ws_ip);
    /* sip_listen is stored as given: check its host:port here */
    char host[64] = "";
    int port = 0;
    if (split_hostport(cfg->sip_listen, host, sizeof host, &port) < 0) {
        problem(ck, "sip_listen", "expected IP:PORT or [IPv6]:PORT");
        return;
    }
    const char *params = strchr(cfg->sip_listen, ';');
    if (params && strcmp(params, ";transport=udp") != 0 && strcmp(params, ";transport=tcp") != 0)
        problem(ck, "sip_listen", "only ;transport=udp or ;transport=tcp may follow the port");
    unsigned char v6[16];
    if (!valid_ip(host))
        problem(ck, "sip_listen", "'%s' is not an IP address", host);
    else if (inet_pton(AF_INET6, host, v6) == 1 && cfg->sip_listen[0] != '[')
        problem(ck, "sip_listen", "an IPv6 address goes in brackets: [%s]:%d", host, port);
    unsigned char v4[4];
    if (inet_pton(AF_INET, cfg->media_ip, v4) != 1)
        problem(ck, "media_ip", "'%s' is not an IPv4 address", cfg->media_ip);
    if (cfg->media_ip6 && inet_pton(AF_INET6, cfg->media_ip6, v6) != 1)
        problem(ck, "media_ip6", "'%s' is not an IPv6 address", cfg->media_ip6);
    if (port >= cfg->rtp_port_min && port <= cfg->rtp_port_max)
        problem(ck, "rtp_ports", "the range %d-%d contains the SIP port %d", cfg->rtp_port_min,
                cfg->rtp_port_max, port);
    if (strcmp(host, cfg->ws_ip) == 0 && port == cfg->ws_port)
        problem(ck, "sip_listen", "same address and port as ws_listen");
    if (!cfg->sip_tls_listen)
        return;
    char tls_host[64] = "";
    int tls_port = 0;
    if (split_hostport(cfg->sip_tls_listen, tls_host, sizeof tls_host, &tls_port) < 0 ||
        !valid_ip(tls_host))
        problem(ck, "sip_tls_listen", "expected IP:PORT or [IPv6]:PORT");
    else if (strcmp(tls_host, host) == 0 && tls_port == port)
        problem(ck, "sip_tls_listen", "same address and port as sip_listen (TCP)");
    if (!cfg->sip_tls_cert_dir) {
        problem(ck, "sip_tls_cert_dir", "sip_tls_listen needs it");
        return;
    }
    /* the file names sofia's TLS transport reads */
    const char *files[] = {"agent.pem", "cafile.pem"};
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", cfg->sip_tls_cert_dir, files[i]);
        if (access(path, R_OK) != 0)
            problem(ck, "sip_tls_cert_dir", "cannot read %s: %s", path, strerror(errno));
    }
}

static void check_tls(checker *ck)
{
    const relayd_config *cfg = ck->cfg;
    if (cfg->plain)
        return;
    if (!cfg->tls_cert || !cfg->tls_key) {
        problem(ck, cfg->tls_cert ? "tls_key" : "tls_cert",
                "TLS needs both tls_cert and tls_key (or plain = 1 on loopback)");
        return;
    }
    char why[700];
    int key_at_fault = 0;
    tls_pair *p = tls_pair_load(cfg->tls_cert, cfg->tls_key, why, sizeof why, &key_at_fault);
    if (!p)
        problem(ck, key_at_fault ? "tls_key" : "tls_cert", "%s", why);
    tls_pair_free(p);
}

static void check_credentials(checker *ck)
{
    const relayd_config *cfg = ck->cfg;
    if (config_dev_credentials(cfg)) {
        if (!config_is_loopback(cfg->ws_ip))
            problem(ck, "auth", "no credentials configured; the development pair is loopback-only");
        return;
    }
    for (size_t i = 0; i < cfg->n_auth; i++) {
        /* never the token itself: name the entry by its position */
        const char *t = cfg->auth[i].token;
        if (strcspn(t, " \t") != strlen(t) || strcspn(cfg->auth[i].project, " \t") !=
                                                  strlen(cfg->auth[i].project))
            problem(ck, "auth", "entry %zu contains whitespace", i + 1);
        if (!config_is_loopback(cfg->ws_ip) && strlen(t) < MIN_TOKEN_LEN)
            problem(ck, "auth", "entry %zu: token shorter than %d characters on a public listener",
                    i + 1, MIN_TOKEN_LEN);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->auth[j].project, cfg->auth[i].project) == 0 &&
                strcmp(cfg->auth[j].token, t) == 0)
                problem(ck, "auth", "entry %zu repeats entry %zu", i + 1, j + 1);
    }
}

/* Never the password itself, nor the username next to it. */
static void check_trunk(checker *ck)
{
    const relayd_config *cfg = ck->cfg;
    if (!!cfg->phone_trunk_username != !!cfg->phone_trunk_password)
        problem(ck, cfg->phone_trunk_username ? "phone_trunk_password" : "phone_trunk_username",
                "phone_trunk_username and phone_trunk_password go together");
    if (cfg->phone_trunk_realm && !cfg->phone_trunk_password)
        problem(ck, "phone_trunk_realm", "a realm without credentials does nothing");
}

int config_check(const relayd_config *cfg, FILE *out)
{
    checker ck = {.cfg = cfg, .out = out};
    if (cfg->plain && !config_is_loopback(cfg->ws_ip))
        problem(&ck, "ws_listen", "plain ws:// is only allowed on loopback; configure TLS");
    check_listen(&ck);
    if (cfg->metrics_ip && !config_is_loopback(cfg->metrics_ip))
        problem(&ck, "metrics_listen", "must be a loopback address (it has no access control)");
    else if (cfg->metrics_ip && !valid_ip(cfg->metrics_ip))
        problem(&ck, "metrics_listen", "'%s' is not an IP address", cfg->metrics_ip);
    else if (cfg->metrics_ip && strcmp(cfg->metrics_ip, cfg->ws_ip) == 0 &&
             cfg->metrics_port == cfg->ws_port)
        problem(&ck, "metrics_listen", "same address and port as ws_listen");
    if (cfg->recordings_ip && config_is_wildcard(cfg->recordings_ip))
        problem(&ck, "recordings_listen", "must be the address clients fetch from, not a wildcard");
    else if (cfg->recordings_ip && !valid_ip(cfg->recordings_ip))
        problem(&ck, "recordings_listen", "'%s' is not an IP address", cfg->recordings_ip);
    else if (cfg->recordings_ip && strcmp(cfg->recordings_ip, cfg->ws_ip) == 0 &&
             cfg->recordings_port == cfg->ws_port)
        problem(&ck, "recordings_listen", "same address and port as ws_listen");
    else if (cfg->recordings_ip && cfg->metrics_ip &&
             strcmp(cfg->recordings_ip, cfg->metrics_ip) == 0 &&
             cfg->recordings_port == cfg->metrics_port)
        problem(&ck, "recordings_listen", "same address and port as metrics_listen");
    check_tls(&ck);
    check_credentials(&ck);
    check_trunk(&ck);
    if (cfg->media_dir) {
        struct stat st;
        if (stat(cfg->media_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
            access(cfg->media_dir, R_OK | X_OK) != 0)
            problem(&ck, "media_dir", "%s is not a readable directory", cfg->media_dir);
    }
    check_dir(&ck, "recordings_dir", cfg->recordings_dir, 1);
    /* a name is a ringtone; a URL is fetched (and checked) when a caller waits */
    const char *hold = cfg->queue_hold_audio;
    if (hold && !strstr(hold, "://") && !media_ringtone_find(hold))
        problem(&ck, "queue_hold_audio", "'%s' is neither a URL nor a ringtone (%s)", hold,
                media_ringtone_names());
    else if (hold && strncmp(hold, "file://", 7) == 0 && !cfg->media_dir)
        problem(&ck, "queue_hold_audio", "a file:// URL needs media_dir");
    if (cfg->log_file)
        check_writable_file(&ck, "log_file", cfg->log_file);
    if (cfg->pcap_file)
        check_writable_file(&ck, "pcap_file", cfg->pcap_file);
    if (cfg->ready_file)
        check_writable_file(&ck, "ready_file", cfg->ready_file);
    for (size_t i = 0; i < cfg->n_routes; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->routes[i].sip_user, cfg->routes[j].sip_user) == 0)
                problem(&ck, "route", "entry %zu repeats the SIP user of entry %zu (only the "
                                      "first is used)", i + 1, j + 1);
    return ck.problems;
}
