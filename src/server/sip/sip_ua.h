/*
 * relayd's SIP user agent (sofia-sip nua). Everything here runs on the core
 * thread, the one that owns the su_root: nua is single-threaded.
 *
 * A sip_leg is one SIP dialog (one nua handle). The UA creates legs for
 * inbound INVITEs and hands them to the core through callbacks; the core
 * answers, ends and refers them. A leg is freed by the UA after it reported
 * on_terminated; the core must not touch it after that callback returns.
 */
#ifndef RELAYD_SIP_UA_H
#define RELAYD_SIP_UA_H

#include <sofia-sip/su_wait.h>

#include "common/log.h"

typedef struct sip_ua sip_ua;
typedef struct sip_leg sip_leg;
typedef struct media_rtp media_rtp;
typedef struct media_session media_session;
typedef struct media_engine media_engine;

typedef struct sip_ua_config {
    const char *bind_url;     /* nua URL to listen on (UDP and TCP), "sip:127.0.0.1:5070"
                               * or "sip:[::1]:5070" */
    const char *tls_url;      /* TLS listener, "sips:127.0.0.1:5071"; NULL: none */
    const char *tls_cert_dir; /* with tls_url: agent.pem (certificate and key)
                               * and cafile.pem, as sofia reads them */
    int tls_verify;           /* 1: TLS peers' certificates must verify
                               * against cafile.pem (both directions) */
    const char *media_ip;     /* the IPv4 address put in SDP and bound for RTP */
    const char *media_ip6;    /* the same for calls whose SDP is IPv6; NULL: none */
    int rtp_port_min;         /* even ports in [min, max) */
    int rtp_port_max;
    media_engine *media;      /* runs the legs' media sessions; must outlive the UA */
    int refer_timeout_ms;     /* REFER accepted but no final NOTIFY: error after this */
    int transaction_timeout_ms; /* SIP timers B and F (64*T1); 0: sofia's 32 s */
    const char *user_agent;   /* User-Agent header, may be NULL */
    const log_sink *log;      /* the SIP ladder and errors; NULL: server_log_sink.
                               * Must outlive the UA. */
    const char *sip_dump;     /* sofia's message dump goes here (pcap_file's
                               * SIP tap, capture/sip_tap.h); NULL: none */
    /* The trunk's digest credentials (both or neither), answering its
     * 401/407 to requests marked `trunk`; realm NULL: any. Copied. */
    const char *trunk_username, *trunk_password, *trunk_realm;
    const char *trunk_register; /* registrar URI; NULL: no registration */
    int trunk_register_expires; /* seconds */
    int sip_log;              /* 1: sofia logs every message it sends or
                               * receives (TPTAG_LOG), which sofia_log.c
                               * writes into the log at info */
} sip_ua_config;

/* What the INVITE said, for calling.call.receive. Strings valid during
 * on_incoming only. */
typedef struct sip_leg_info {
    const char *request_user; /* user part of the Request-URI ("" if none): the context key */
    const char *request_uri;  /* "sip:support@127.0.0.1:5070" */
    const char *from_uri;     /* From URI, as text */
    const char *from_name;    /* From display name, may be "" */
    const char *to_uri;       /* To URI, as text */
    const char *sip_call_id;  /* the Call-ID header */
} sip_leg_info;

typedef enum sip_refer_kind {
    SIP_REFER_RESPONSE, /* a final response to the REFER (status: 202, 603, 401...) */
    SIP_REFER_NOTIFY,   /* a NOTIFY: status is the sipfrag status line's code */
    SIP_REFER_TIMEOUT   /* no final NOTIFY in time (status 0) */
} sip_refer_kind;

typedef struct sip_refer_progress {
    sip_refer_kind kind;
    int status;         /* SIP status code as above */
    const char *phrase; /* reason phrase, may be "" */
    int final;          /* 1 when this ends the refer (final NOTIFY, failure response, timeout) */
} sip_refer_progress;

/* A REFER from the far end of an answered dialog (RFC 3515). Strings
 * are valid during the call only: at most SIP_REFER_IN_MAX characters of
 * printable ASCII (other bytes %-escaped). */
#define SIP_REFER_IN_MAX 1024
typedef struct sip_inbound_refer {
    int expired;             /* 1: not answered in refer_timeout_ms; the UA
                              * has sent the final NOTIFY (480) already */
    const char *refer_to;    /* the Refer-To URI, its headers included */
    const char *referred_by; /* the Referred-By URI (the From's if absent) */
    const char *replaces;    /* the Refer-To's Replaces part, unescaped, or NULL */
} sip_inbound_refer;

/* An inbound MESSAGE (RFC 3428) outside any dialog, for messaging.receive.
 * Strings valid during on_message only. */
typedef struct sip_message_info {
    const char *request_user; /* user part of the Request-URI: the context key */
    const char *request_uri;
    const char *from_uri;
    const char *to_uri;
    const char *content_type; /* "type/subtype" without parameters, "" if none */
    const char *body;         /* NUL-terminated copy; may hold NULs before body_len */
    size_t body_len;
} sip_message_info;

typedef struct sip_ua_callbacks {
    void *user;
    /* A new inbound call. Return 0 to take it (the UA then sends 180 Ringing
     * when the core calls sip_leg_ring), or a SIP status (e.g. 480, 404) to
     * have the UA reject it. */
    int (*on_incoming)(void *user, sip_leg *leg, const sip_leg_info *info);
    /* Optional: the ACK to our 200 arrived; the dialog is confirmed (a REFER
     * sent before this may reach the peer ahead of its own ACK). For a leg
     * we placed (sip_ua_invite): the peer's 200 arrived with a usable SDP
     * answer and was ACKed: the call is answered. */
    void (*on_established)(void *user, sip_leg *leg);
    /* The leg's dialog is over: remote BYE or CANCEL, our BYE completed, or a
     * failure. end_reason is a protocol end reason ("hangup", "cancel",
     * "error"...). Called exactly once per leg the core took (not for legs
     * it rejected from on_incoming); the leg is freed afterwards, and its RTP
     * endpoint closed: stop and free any player using it in here. */
    void (*on_terminated)(void *user, sip_leg *leg, const char *end_reason);
    /* Progress of a REFER sent with sip_leg_refer: the final response to
     * the REFER (202 final = 0; >= 300 final = 1), then each NOTIFY, or a
     * timeout. Exactly one report has final = 1 per REFER. */
    void (*on_refer_progress)(void *user, sip_leg *leg, const sip_refer_progress *p);
    /* Optional: a REFER from the far end (expired 0). Return 0 to take it:
     * the UA answers 202 and the core must later call sip_leg_refer_answer
     * once; else a SIP status to refuse it with (403...). The UA itself
     * answers 491 to a second REFER while one is pending and 403 outside
     * an answered dialog. Without it every REFER is 403. expired 1: the
     * pending REFER went unanswered (see sip_inbound_refer); the return
     * value is ignored. */
    int (*on_inbound_refer)(void *user, sip_leg *leg, const sip_inbound_refer *r);
    /* Optional, legs we placed: a provisional answer (180 Ringing, 183
     * Session Progress) to our INVITE. */
    void (*on_progress)(void *user, sip_leg *leg, int status);
    /* Optional: an inbound MESSAGE. Returns the final status the UA sends
     * (200 taken; 480 nobody on the context, 413, 415...). Without it every
     * MESSAGE is answered 405. */
    int (*on_message)(void *user, const sip_message_info *info);
    /* Optional: the trunk registration changed or was refreshed:
     * registered 1 after a 2xx, 0 after a failure (status: the final
     * status, e.g. 403, or the stack's 408/503) or the un-REGISTER. */
    void (*on_registration)(void *user, int registered, int status);
} sip_ua_callbacks;

/* Creates the UA on root and binds bind_url. NULL on failure (port taken...),
 * with the reason logged. su_init() must have been called. */
sip_ua *sip_ua_create(su_root_t *root, const sip_ua_config *cfg, const sip_ua_callbacks *cb);
/* Ends every leg (BYE/486) and shuts nua down; runs the root until done or
 * timeout_ms passes (on_terminated is reported for every leg). Then frees
 * the UA. */
void sip_ua_destroy(sip_ua *ua, int timeout_ms);

/* A call relayd places (calling.dial, connect). Every string is already
 * validated (sip_uri_validate for URIs; headers as for sip_leg_refer). */
typedef struct sip_invite_params {
    const char *to;        /* Request-URI and To */
    const char *from;      /* From URI; NULL: relayd's own */
    const char *from_name; /* From display name, may be NULL; no quotes or controls */
    const char *headers;   /* extra "Name: value" lines joined by CRLF, may be NULL */
    int trunk;             /* to the trunk: its challenge is answered with its credentials */
    const int *codecs;     /* RTP payload types offered, in order (PCMU 0, PCMA 8);
                            * NULL: both G.711 codecs */
    size_t n_codecs;
} sip_invite_params;

/* Binds an RTP port and sends an INVITE with our offer (p->codecs or PCMU
 * and PCMA, then telephone-event). A 401/407 to a trunk INVITE is answered
 * once with the trunk's credentials; a second challenge, or none to answer
 * with, ends the leg (error). The core owns the leg from here: on_progress for 18x,
 * on_established when answered, on_terminated exactly once (a failure
 * answer: end reason busy for 486/600, decline for 603, noAnswer for
 * 408/480/487, else error). user is set as by sip_leg_set_user before any
 * callback. NULL if nothing was sent (no free RTP port), reason logged. */
sip_leg *sip_ua_invite(sip_ua *ua, const sip_invite_params *p, void *user);
/* Why the leg ends (as on_terminated will say), NULL while it is not
 * ending: e.g. busy from the peer's 486 to our INVITE. */
const char *sip_leg_end_reason(const sip_leg *leg);

/* A MESSAGE (RFC 3428) relayd sends outside any dialog. Every string is
 * already validated (sip_uri_validate for URIs). */
typedef struct sip_message_params {
    const char *to;           /* Request-URI and To */
    const char *from;         /* From URI; NULL: from_user at relayd's own address */
    const char *from_user;    /* with from NULL: the user part (a phone number), may be NULL */
    const char *content_type; /* "text/plain;charset=UTF-8" when NULL */
    const char *body;
    size_t body_len;
    int trunk;                /* to the trunk: a challenge is answered once */
} sip_message_params;

/* The outcome of a MESSAGE: the final status (2xx delivered), its phrase,
 * and local = 1 when no answer came from the peer (timeout, unreachable,
 * UA shutting down: the status is the stack's own, 408/503...). */
typedef void (*sip_message_done_fn)(void *user, int status, const char *phrase, int local);

/* Sends the MESSAGE. 0 if it is on its way: done then runs exactly once on
 * the core thread (at the latest from sip_ua_destroy). -1 if nothing was
 * sent (out of memory, the UA shutting down): done never runs. */
int sip_ua_message(sip_ua *ua, const sip_message_params *p, sip_message_done_fn done, void *user);

/* The core's pointer on the leg (e.g. its call object). */
void sip_leg_set_user(sip_leg *leg, void *user);
void *sip_leg_get_user(const sip_leg *leg);

/* 180 Ringing. 0 on success. The leg functions may be called from inside
 * the callbacks (nua queues what they send). */
int sip_leg_ring(sip_leg *leg);
/* 200 OK with an SDP answer (PCMU or PCMA, whichever the offer lists
 * first, and telephone-event when offered); opens the leg's RTP endpoint.
 * 0 on success; -1 when the offer has no codec we speak (the UA then
 * rejects with 488 and on_terminated follows). */
int sip_leg_answer(sip_leg *leg);
/* Ends the leg: BYE if answered, else rejects the INVITE with `status`
 * (486 busy, 603 decline, 480...), or for a leg we placed, CANCELs our
 * INVITE. on_terminated follows. 0 on success. */
int sip_leg_hangup(sip_leg *leg, int status);
/* Sends REFER in the leg's dialog with Refer-To: <target> and
 * Referred-By: <referred_by>. target must already be validated
 * (sip_uri_validate). username/password (may be NULL) answer a digest
 * challenge on the REFER. headers: extra "Name: value" header lines joined
 * by CRLF, already validated, may be NULL. Progress arrives by
 * on_refer_progress. 0 if the REFER was sent; -1 if the leg is not
 * answered or a REFER is already in progress on it. */
int sip_leg_refer(sip_leg *leg, const char *target, const char *referred_by,
                  const char *username, const char *password, const char *headers);

/* The REFER from the far end awaiting an answer on this leg, NULL if
 * none (valid until it is answered or the leg ends). */
const sip_inbound_refer *sip_leg_pending_refer(sip_leg *leg);
/* Ends it: a final NOTIFY whose message/sipfrag is "SIP/2.0 <status>
 * <phrase>" (200 OK: the transfer is taken over; 603 Declined...), with
 * Subscription-State terminated. 0 if sent; -1 if none is pending. */
int sip_leg_refer_answer(sip_leg *leg, int status, const char *phrase);

/* Holds the peer (hold 1: a re-INVITE offering sendonly; nothing is sent
 * to it from now on) or takes it off hold (0: sendrecv). The peer's answer
 * updates the media; a refusal leaves the local state as asked. 0 if the
 * re-INVITE was sent; -1 if the leg is not answered or a re-INVITE of
 * ours is still in progress. A peer's own hold re-INVITE is answered by
 * the UA (recvonly or inactive, and nothing sent while it holds). */
int sip_leg_hold(sip_leg *leg, int hold);

/* The leg's media session after answer (NULL before), and its RTP
 * endpoint. Owned by the leg: destroyed when the leg ends. */
media_session *sip_leg_media(sip_leg *leg);
media_rtp *sip_leg_rtp(sip_leg *leg);
/* The leg's dialog as a URI header part for an attended transfer's
 * Refer-To (RFC 5589 7): "Replaces=" and the escaped Replaces value
 * (Call-ID;from-tag=<ours>;to-tag=<the far end's>, RFC 3891), written to
 * buf. -1 if the leg is not an established dialog or buf is too small. */
int sip_leg_replaces_query(sip_leg *leg, char *buf, size_t size);

/* The leg's local and remote URIs, for Referred-By and logs. */
const char *sip_leg_local_uri(const sip_leg *leg);
const char *sip_leg_remote_uri(const sip_leg *leg);

#endif
