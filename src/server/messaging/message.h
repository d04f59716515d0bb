/*
 * RELAY messaging in relayd: messaging.send turned into a SIP MESSAGE
 * (send.c) with messaging.state events back to the sender, and inbound SIP
 * MESSAGEs turned into messaging.receive on a context (receive.c). What a
 * client may ask for is checked in validate.c. Core thread only.
 *
 * The wire mapping, kept simple on purpose: the body travels as
 * text/plain;charset=UTF-8; media URLs (MMS has no SIP equivalent relayd
 * could rely on) are appended to the body, one per line after a blank
 * line. An inbound MESSAGE's body is taken as text whatever its media
 * URLs, so messaging.receive always has media [].
 */
#ifndef RELAYD_MESSAGING_MESSAGE_H
#define RELAYD_MESSAGING_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

#include "relayd.h"
#include "sip/sip_ua.h"

/* Bounds on what one client may ask for (docs/relayd.md, "Messaging"). */
#define MESSAGING_MAX_BODY 65536       /* bytes of UTF-8 */
#define MESSAGING_MAX_MEDIA 10
#define MESSAGING_MAX_URL 2048
#define MESSAGING_MAX_TAGS 10
#define MESSAGING_MAX_TAG 64
#define MESSAGING_MAX_CONTEXT 128
#define MESSAGING_MAX_REGION 64
#define MESSAGING_MAX_PER_SESSION 64   /* MESSAGEs awaiting their answer */
#define MESSAGING_MAX_IN_FLIGHT 1024   /* the same, all sessions together */

/* A messaging.send request, checked: every string borrowed from the
 * request's params except the URIs, which are built here. */
typedef struct message_request {
    const char *context, *from_number, *to_number, *body;
    size_t body_len;
    json_t *media;    /* an array of URL strings (may be empty) */
    json_t *tags;     /* an array of strings, or NULL */
    char to_uri[256];   /* where the MESSAGE goes */
    char from_uri[256]; /* its From; "" with from_user set: relayd's own address */
    const char *from_user; /* a phone number sent without a trunk, or NULL */
} message_request;

/* validate.c: fills *out from params. 0, or the status to answer (400 for
 * a malformed request, 501 for a phone number without phone_trunk) with
 * the reason in why. */
int message_request_check(json_t *params, const char *trunk, message_request *out, char *why,
                          size_t why_n);

/* The params of a messaging.state / messaging.receive event. NULL on ENOMEM. */
json_t *message_event(const char *id, const char *state, const char *direction,
                      const char *context, const char *from, const char *to, const char *body,
                      size_t body_len, json_t *media, json_t *tags);

/* receive.c: sip_ua_callbacks.on_message (user is the relayd). */
int messaging_on_sip_message(void *user, const sip_message_info *info);

#endif
