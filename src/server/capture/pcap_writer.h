/*
 * relayd's packet capture (pcap_file): one pcap file that Wireshark, tshark
 * and sngrep open, with the SIP relayd sends and receives and, with
 * pcap_rtp, the RTP of every call.
 *
 * Process-wide, like the log sink, because its producers are everywhere:
 * the SIP tap's reader thread (capture/sip_tap.c) and every media thread.
 * A producer never touches the disk: pcap_writer_udp copies the packet into
 * a queue bounded in bytes, and one writer thread owns the file. When the
 * queue is full the packet is dropped and counted (pcap_writer_dropped),
 * never waited for: a slow disk must not delay RTP or the core thread.
 *
 * The file is LINKTYPE_RAW: each record an IPv4 or IPv6 header, a UDP
 * header with a correct checksum, and the datagram.
 */
#ifndef RELAYD_CAPTURE_PCAP_WRITER_H
#define RELAYD_CAPTURE_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Opens path for appending (a new or empty file gets the pcap header) and
 * starts the writer thread. queue_bytes: the bound on packets waiting.
 * 0, or -1 with why filled. */
int pcap_writer_start(const char *path, size_t queue_bytes, char *why, size_t whylen);
/* SIGHUP: what is queued goes to the old file, later packets to path
 * (logrotate has moved the old one away). -1 with why: the old file stays. */
int pcap_writer_reopen(const char *path, char *why, size_t whylen);
/* Writes what is queued, closes the file, joins the thread. */
void pcap_writer_stop(void);
int pcap_writer_active(void);

/* Whether RTP goes into the capture too (pcap_rtp); any thread. */
void pcap_writer_set_rtp(int on);
int pcap_writer_rtp(void);

/* One UDP datagram from src to dst (both AF_INET or both AF_INET6), seen
 * at tv (NULL: now). Copies it; never blocks on I/O. Any thread. */
void pcap_writer_udp(const struct sockaddr *src, const struct sockaddr *dst,
                     const struct timeval *tv, const void *data, size_t len);
/* The same for a datagram of wire_len bytes of which only the first len
 * are known: recorded as captured short (caplen < len, as a snap length
 * would), with the UDP checksum left out since it cannot be computed. */
void pcap_writer_udp_partial(const struct sockaddr *src, const struct sockaddr *dst,
                             const struct timeval *tv, const void *data, size_t len,
                             size_t wire_len);

uint64_t pcap_writer_written(void);
uint64_t pcap_writer_dropped(void);

#endif
