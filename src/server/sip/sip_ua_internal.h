/*
 * The UA's insides, shared by the files that make up the UA (sip_ua.c: the
 * dialogs; sip_pager.c: MESSAGE outside dialogs). Nothing else includes
 * this. Include it after defining NUA_MAGIC_T / NUA_HMAGIC_T as sip_ua.c
 * does, so that every file sees nua's callback with the same types.
 */
#ifndef RELAYD_SIP_UA_INTERNAL_H
#define RELAYD_SIP_UA_INTERNAL_H

#include <sofia-sip/nua.h>

#include "sip/sip_ua.h"

#include <sofia-sip/su_wait.h>

typedef struct sip_page sip_page;
typedef struct sip_reg sip_reg;

struct sip_ua {
    su_root_t *root;
    nua_t *nua;
    const log_sink *log;
    sip_ua_callbacks cb;
    media_engine *media;
    char *media_ip;
    char *media_ip6;        /* RTP of IPv6 calls; NULL: they are refused */
    char *bind_url;         /* relayd's own URI: From of calls placed without one */
    char *tls_url;          /* the TLS listener's sips: URI, NULL: none */
    int rtp_min, rtp_max;
    int refer_timeout_ms;
    sip_leg *legs;
    sip_page *pages;        /* MESSAGEs we sent that await their answer */
    char *auth_user, *auth_pass, *auth_realm; /* the trunk's (sip_auth.h) */
    sip_reg *reg;           /* registration with the trunk, or NULL */
    int shutdown_done;
};

typedef enum leg_state {
    LEG_OFFERED,  /* INVITE received, not answered yet */
    LEG_ANSWERED, /* 200 sent */
    LEG_ENDING,   /* BYE or final error sent: waiting for nua to finish */
} leg_state;

/* A REFER from the far end awaiting the core's answer (sip_refer_in.c). */
typedef struct leg_inrefer {
    int pending;
    char event[48];    /* its implied subscription's Event, for our NOTIFY */
    char *refer_to, *referred_by, *replaces; /* bounded, printable ASCII */
    su_timer_t *timer; /* refer_timeout_ms: unanswered, it is declined */
} leg_inrefer;

typedef struct leg_refer {
    int active;        /* a REFER is in progress */
    int done;          /* its final progress was reported */
    int auth_tried;    /* one nua_authenticate() per REFER */
    char *username;
    char *password;
    su_timer_t *timer; /* NOTIFY timeout, armed by the 2xx to the REFER */
    /* the id of its implied subscription ("refer;id=<CSeq>", RFC 3515
     * 2.4.6) as nua reports it: NOTIFYs carrying another id belong to an
     * earlier REFER in the dialog */
    char event_id[16];
    int first;         /* the dialog's first REFER: a NOTIFY may omit the id */
} leg_refer;

struct sip_leg {
    sip_ua *ua;
    sip_leg *next, **pprev;
    nua_handle_t *nh;
    void *user;
    leg_state state;
    int owned;              /* the core took it (on_incoming returned 0) */
    const char *end_reason; /* what on_terminated will say */
    char *offer;            /* the INVITE's SDP body */
    size_t offer_len;
    char *local_uri, *remote_uri;
    char *contact;          /* our Contact for this dialog, set when sofia
                             * would pick the wrong one (sip_ua.c
                             * leg_contact); NULL: sofia's */
    char peer[64];          /* transport address of the other side, for logs */
    media_session *media;   /* from answer on; ours to destroy */
    media_session *reserved; /* inbound: the RTP port held from the INVITE on,
                              * so that running out is a 503 before anyone is
                              * offered the call; becomes media at answer */
    int awaiting_ack_answer; /* we offered in a 200 (offerless re-INVITE):
                              * the ACK brings the answer */
    int established;        /* on_established was reported */
    int outbound;           /* we sent the INVITE (sip_ua_invite) */
    int reinviting;         /* our re-INVITE (hold/unhold) awaits its answer */
    int trunk;              /* placed through the trunk: its challenge gets credentials */
    int auth_tried;         /* our INVITE answered a challenge already */
    leg_refer refer;
    unsigned refers_sent;   /* REFERs sent in this dialog, for leg_refer.first */
    leg_inrefer inrefer;
};

/* TAG_IF for a leg's own Contact (leg->contact), in every response and
 * request that sets up or refreshes the dialog's target. */
#define LEG_CONTACT(leg) TAG_IF((leg)->contact, SIPTAG_CONTACT_STR((leg)->contact))

#define ladder(ua, ...) log_write((ua)->log, RELAY_LOG_INFO, __VA_ARGS__)

/* The offer/answer exchanges inside an established dialog (sip_reoffer.c):
 * a re-INVITE with or without an offer, an UPDATE, and the ACK that may
 * carry the answer to our offer. */
#define SIP_SDP_MAX 2048
void sip_reoffer_on_invite(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip);
void sip_reoffer_on_update(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip);
void sip_reoffer_on_ack(sip_ua *ua, sip_leg *leg, const sip_t *sip);

/* REFERs from the far end (sip_refer_in.c): nua hands them over
 * unanswered (NUTAG_APPL_METHOD); the answer and the final NOTIFY are
 * ours. clear drops a pending one without a NOTIFY (the dialog is over). */
void sip_refer_in_on_request(sip_ua *ua, nua_handle_t *nh, sip_leg *leg, const sip_t *sip,
                             tagi_t tags[]);
void sip_refer_in_clear(sip_leg *leg);

#endif
