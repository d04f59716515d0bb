/*
 * relayd configuration: built-in defaults (a safe loopback-only development
 * instance), then a config file of `key = value` lines, then command-line
 * flags (--key value, the same names with - for _). Later sources win.
 */
#ifndef RELAYD_CONFIG_H
#define RELAYD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "addr_policy.h"

#define CONFIG_MAX_AUTH 16
#define CONFIG_MAX_ROUTES 64
#define CONFIG_MAX_ORIGINS 128
#define CONFIG_WHERE_LEN 300

typedef struct config_auth {
    char *project;
    char *token;
} config_auth;

typedef struct config_route {
    char *sip_user; /* request-URI user */
    char *context;  /* context it is offered on */
} config_route;

/* Where a setting came from ("relayd.conf:12" or "--tls-key"), so that a
 * problem found after parsing can still name the line to fix. */
typedef struct config_origin {
    char key[32];
    char where[CONFIG_WHERE_LEN];
} config_origin;

typedef struct relayd_config {
    char *ws_ip;           /* "127.0.0.1" */
    int ws_port;           /* 8080 plain / 8443 TLS */
    int plain;             /* 1: ws:// (only allowed on loopback) */
    char *tls_cert;
    char *tls_key;
    char *sip_listen;      /* "127.0.0.1:5070" */
    char *media_ip;        /* "127.0.0.1" */
    char *media_ip6;       /* RTP address of IPv6 calls ("::1"); NULL: refused */
    char *sip_tls_listen;  /* "127.0.0.1:5071": SIP over TLS (sips:); NULL: none */
    char *sip_tls_cert_dir; /* agent.pem and cafile.pem for sip_tls_listen */
    int sip_tls_verify;    /* 1: TLS peers' certificates must verify */
    int rtp_port_min, rtp_port_max;
    int media_threads;     /* RTP pacing threads shared by every call */
    int prep_threads;      /* TTS synthesis / decoding pool */
    char *media_dir;       /* file:// play audio only under here; NULL: refused */
    int media_max_bytes;   /* largest audio file fetched or read */
    int media_fetch_timeout_ms; /* whole transfer of one audio URL */
    int media_cache_entries;    /* decoded audio files kept in memory */
    int stream_max;        /* calling.stream / ws taps open at once, relayd-wide */
    char *stream_ca_file;  /* PEM CAs trusted for wss streams, besides the system's */
    int media_cache_bytes;      /* and their total size */
    char *queue_hold_audio;     /* what queue.enter's callers hear: a ringtone name or an audio URL */
    int queue_max_queues;       /* named queues waited in at once (all projects) */
    int queue_max_callers;      /* callers waiting in one queue */
    config_auth auth[CONFIG_MAX_AUTH];
    size_t n_auth;
    config_route routes[CONFIG_MAX_ROUTES];
    size_t n_routes;
    char *default_context; /* NULL: the request-URI user is the context */
    int refer_timeout_ms;
    int sip_transaction_timeout_ms; /* timers B and F: no answer to our request */
    int offer_timeout_ms;  /* an unanswered offer moves to the next client; 0 off */
    int ring_timeout_ms;   /* an inbound call nobody answers ends (480); 0 off */
    int login_delay_max_ms; /* longest wait a failing address's logins get; 0 off */
    int drain_timeout_ms;  /* SIGTERM: how long to wait for calls and clients */
    int ping_interval_ms;  /* server pings to clients; 0: off */
    int resume_grace_ms;   /* a detached session waits this long for its client */
    int max_frame;         /* bytes */
    /* Limits a single peer cannot exceed (docs/relayd.md, "Limits and
     * security model"). */
    int max_contexts;      /* contexts one session receives on */
    int max_calls_per_session; /* calls a session owns at once */
    int max_calls;         /* calls relayd carries at once */
    int max_conferences;   /* calling.join_conference: conferences at once */
    int max_conference_participants; /* calls in one conference */
    int max_outbound_bytes;/* replies/events queued for one connection */
    int max_requests_in_flight; /* frames of one connection queued for the core */
    int max_frame_unauthenticated; /* message buffer before signalwire.connect */
    int max_connections;      /* WebSocket connections open at once */
    int max_connections_per_address; /* from one peer address */
    int login_timeout_ms;     /* a connection must signalwire.connect within it */
    int max_login_attempts;   /* failed signalwire.connect per connection */
    int max_unacked_events;   /* kept for resume; past it the session is closed */
    addr_allow webhook_allow; /* internal ranges status_url may still reach */
    int log_level;         /* relay_log_level */
    char *ready_file;      /* written once listening */
    char *node_id;
    char *phone_trunk;     /* "sip:{number}@host": phone devices; NULL: 501 */
    /* Digest credentials the trunk's 401/407 is answered with (INVITE,
     * MESSAGE, REGISTER); never logged. realm NULL: whatever the trunk says. */
    char *phone_trunk_username;
    char *phone_trunk_password;
    char *phone_trunk_realm;
    char *phone_trunk_register;      /* registrar URI; NULL: relayd does not register */
    int phone_trunk_register_expires; /* seconds asked for in REGISTER */
    char *phone_trunk_context;       /* inbound calls to the trunk's numbers; NULL: off */
    char *recordings_dir;  /* calling.record's files; absolute */
    unsigned char *jwt_secret; /* HS256 key read from jwt_secret_file; NULL: no JWTs */
    size_t jwt_secret_len;
    char *log_file;        /* NULL: stderr; else appended to, reopened on SIGHUP */
    char *pcap_file;       /* SIP (and RTP) capture; NULL: off; reopened on SIGHUP */
    int pcap_rtp;          /* 1: RTP into pcap_file too */
    int sip_log;           /* 1: every SIP message, whole, into the log at info */
    char *metrics_ip;      /* Prometheus endpoint (metrics_listen); NULL: off */
    int metrics_port;
    char *recordings_ip;   /* recordings_listen: records' urls are http:// there */
    int recordings_port;
    int check_only;        /* --check-config: validate, bind nothing, exit */
    /* what SIGHUP reloads from: the command line as given (not owned) */
    int argc;
    char **argv;
    config_origin origins[CONFIG_MAX_ORIGINS];
    size_t n_origins;
} relayd_config;

/* Defaults, then file (if any --config in argv), then flags. On error, a
 * message in err (returned -1). --help prints usage and returns 1. */
int config_load(relayd_config *cfg, int argc, char **argv, char *err, size_t errlen);
void config_free(relayd_config *cfg);
void config_usage(const char *prog);

/* Checks the whole configuration for consistency (TLS files present unless
 * plain, plain only on loopback, credentials only default on loopback...). */
int config_validate(const relayd_config *cfg, char *err, size_t errlen);

/* The thorough check behind --check-config and SIGHUP: everything
 * config_validate checks, plus what only the filesystem can answer (TLS
 * files readable and the key matching the certificate, directories present
 * and writable, addresses well formed, credentials sane). Prints one line
 * per problem to out as "where: key: reason" and returns how many. Binds
 * nothing. */
int config_check(const relayd_config *cfg, FILE *out);

/* 1 for 127.x, ::1 and localhost. */
int config_is_loopback(const char *ip);
/* 1 for 0.0.0.0 and :: (every address: no address to put in a URL). */
int config_is_wildcard(const char *ip);
/* 1 when the only credentials are the built-in development pair. */
int config_dev_credentials(const relayd_config *cfg);

/* "path:line", "--flag" or "default": where key was last set. */
const char *config_where(const relayd_config *cfg, const char *key);

/* The context for an inbound call to request-URI user `user`. */
const char *config_context_for(const relayd_config *cfg, const char *user);

/* Constant-time check of a project/token pair against the configured ones. */
int config_auth_check(const relayd_config *cfg, const char *project, const char *token);

#endif
