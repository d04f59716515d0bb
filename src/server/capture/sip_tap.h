/*
 * The SIP half of pcap_file: sofia-sip is told (TPTAG_DUMP) to dump every
 * message it sends and receives into a pipe; a reader thread parses the
 * dump (capture/sofia_dump.h) and hands each message to the pcap writer
 * as a UDP datagram between the peer and relayd's SIP address.
 *
 * The reader never blocks on anything but the pipe: it copies into the
 * writer's bounded queue and goes on. So sofia's write into the pipe (on
 * the core thread) waits only if this thread is not scheduled, and the
 * pipe is enlarged to ride that out.
 */
#ifndef RELAYD_CAPTURE_SIP_TAP_H
#define RELAYD_CAPTURE_SIP_TAP_H

#include <stddef.h>

typedef struct sip_tap sip_tap;

/* local: relayd's SIP address, "ip:port" or "[ipv6]:port" (sip_listen).
 * Fills dump_path (for TPTAG_DUMP) and starts the reader. NULL with why. */
sip_tap *sip_tap_start(const char *local, char *dump_path, size_t dump_path_len, char *why,
                       size_t whylen);
/* Once sofia has opened dump_path (after nua_create): drops our copy of
 * the pipe's write end, so the reader sees EOF when sofia closes its own. */
void sip_tap_opened(sip_tap *t);
/* Reads what is left in the pipe, stops the reader, frees. */
void sip_tap_stop(sip_tap *t);

#endif
