/*
 * A parser for the message dump sofia-sip writes when TPTAG_DUMP names a
 * file: relayd points it at a pipe (capture/sip_tap.c) and turns every
 * message into a pcap record.
 *
 * Why parse a text dump: the packaged sofia-sip 1.12.11 has no capture hook
 * (TPTAG_CAPT came later, and only as HEP over UDP); its dump is the one
 * place that sees every SIP message exactly as sent and received. Each
 * message is written as
 *
 *     recv 595 bytes from udp/[127.0.0.1]:25102 at 01:56:51.789504:\n
 *     <the 595 bytes>\v\n
 *
 * ("sent N bytes to ..." for ours), and the file starts with a
 * "dump started at <ctime>" line.
 *
 * One flaw of 1.12.11 shapes the parser: for a message it sends, sofia
 * writes only the first of the message's buffers (a wrong fwrite() return
 * check, fixed upstream in 2019), so a sent message with a body (a 200 OK
 * with SDP) arrives as its headers alone, still stamped with the whole
 * length. A sent record therefore ends at the first "\v\n" within its
 * announced length and is reported with len < wire_len; the pcap keeps it
 * as a packet captured short (caplen < len), as Wireshark shows a snapped
 * capture. Received messages are always whole: they are read by length, so
 * nothing a peer puts in a message can end or forge a record.
 *
 * Sans-IO: feed it bytes in any slicing; it calls back once per complete,
 * well-formed record. The bytes come from SIP peers, so it trusts nothing:
 * a header line longer than a stamp can be is skipped, a length above the
 * bound is skipped, a body not followed by the "\v\n" trailer is dropped
 * (never emitted) and the parser finds the next record. Memory is one
 * buffer of max_message bytes, allocated up front.
 */
#ifndef RELAYD_CAPTURE_SOFIA_DUMP_H
#define RELAYD_CAPTURE_SOFIA_DUMP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sofia_dump_record {
    int sent;            /* 1: relayd sent it to the peer; 0: received from it */
    char proto[8];       /* "udp", "tcp", "tls", "sctp" as sofia names them */
    int family;          /* AF_INET or AF_INET6 */
    uint8_t addr[16];    /* the peer's address (4 bytes used for AF_INET) */
    uint16_t port;       /* the peer's port, host order */
    int64_t time_of_day_us; /* UTC microseconds since midnight */
    const uint8_t *data; /* the message; valid during the callback only */
    size_t len;          /* bytes in data */
    size_t wire_len;     /* the message's real length (> len: sofia dumped a part) */
} sofia_dump_record;

typedef void (*sofia_dump_fn)(const sofia_dump_record *rec, void *user);

typedef struct sofia_dump sofia_dump;

/* NULL if out of memory. max_message: the largest message kept (larger
 * ones are counted and skipped). */
sofia_dump *sofia_dump_new(size_t max_message, sofia_dump_fn fn, void *user);
void sofia_dump_free(sofia_dump *p);
void sofia_dump_feed(sofia_dump *p, const void *data, size_t len);

/* Records emitted, and records seen but not emitted (too large, a wrong
 * length, a malformed stamp). */
uint64_t sofia_dump_emitted(const sofia_dump *p);
uint64_t sofia_dump_rejected(const sofia_dump *p);

#endif
