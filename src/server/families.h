/* The family descriptors relayd serves, one per family file (rpc.h has the
 * shape; registry.c lists them). */
#ifndef RELAYD_FAMILIES_H
#define RELAYD_FAMILIES_H

#include "rpc.h"

extern const server_family_desc session_family; /* session_methods.c */
extern const server_family_desc control_family; /* calling/control.c */
extern const server_family_desc play_family;    /* calling/play.c */
extern const server_family_desc refer_family;   /* calling/refer.c */
extern const server_family_desc refer_answer_family; /* calling/refer_in.c */
extern const server_family_desc record_family;  /* calling/record.c */
extern const server_family_desc collect_family; /* calling/collect.c */
extern const server_family_desc detect_family;  /* calling/detect.c */
extern const server_family_desc play_and_collect_family; /* calling/play_and_collect.c */
extern const server_family_desc send_digits_family; /* calling/send_digits.c */
extern const server_family_desc dial_family;    /* calling/dial.c */
extern const server_family_desc begin_family;   /* calling/dial.c */
extern const server_family_desc hold_family;    /* calling/hold.c */
extern const server_family_desc echo_family;    /* calling/echo.c */
extern const server_family_desc denoise_family; /* calling/denoise.c */
extern const server_family_desc tap_family;     /* calling/tap.c */
extern const server_family_desc stream_family;  /* calling/stream.c */
extern const server_family_desc messaging_family; /* messaging/send.c */
extern const server_family_desc connect_family; /* calling/connect.c */
extern const server_family_desc disconnect_family; /* calling/connect.c */
extern const server_family_desc bind_digit_family; /* calling/bind_digit.c */
extern const server_family_desc transfer_family; /* calling/transfer.c */
extern const server_family_desc send_fax_family; /* calling/fax.c */
extern const server_family_desc receive_fax_family; /* calling/fax.c */
extern const server_family_desc queue_family;   /* calling/queue.c */
extern const server_family_desc conference_family; /* calling/conference.c */

#endif
