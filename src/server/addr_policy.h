/*
 * Which network addresses relayd may connect to on a client's behalf
 * (status_url webhooks). A client names the URL, so without a check it
 * could make relayd POST to loopback services, the private network or a
 * cloud metadata endpoint. The check is made on the address actually being
 * connected to (after resolution, whatever notation the URL used: 127.1,
 * 2130706433, 0x7f000001, 0177.0.0.1, ::ffff:127.0.0.1 all arrive here as
 * the same sockaddr), and an operator may allow chosen ranges.
 */
#ifndef RELAYD_ADDR_POLICY_H
#define RELAYD_ADDR_POLICY_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADDR_ALLOW_MAX 16

/* One allowed range, IPv4 or IPv6, as parsed from "ADDR/PREFIX". */
typedef struct addr_range {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char addr[16];   /* network byte order; 4 used for AF_INET */
    int prefix;
} addr_range;

typedef struct addr_allow {
    addr_range ranges[ADDR_ALLOW_MAX];
    size_t n;
} addr_allow;

/* Parses "127.0.0.1", "127.0.0.0/8", "::1/128"... 0, or -1 if malformed. */
int addr_range_parse(const char *text, addr_range *out);

/* The reason a connection to sa is refused (static text), or NULL if it is
 * a public address. Loopback, unspecified, private (RFC 1918, fc00::/7),
 * shared (100.64/10), link-local (169.254/16 — the metadata endpoints —
 * and fe80::/10), multicast, reserved and broadcast addresses are internal;
 * IPv4-mapped, IPv4-compatible and NAT64 IPv6 addresses are judged by the
 * IPv4 address inside. */
const char *addr_internal_reason(const struct sockaddr *sa);

/* 1 if allow (may be NULL) contains sa. */
int addr_allowed(const addr_allow *allow, const struct sockaddr *sa);

#endif
