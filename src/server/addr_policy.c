#include "addr_policy.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_range_parse(const char *text, addr_range *out)
{
    char buf[64];
    if (!text || strlen(text) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash) {
        char *end = NULL;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > out->prefix)
            return -1;
        out->prefix = (int)p;
    }
    return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
    int bytes = prefix / 8, bits = prefix % 8;
    if (memcmp(a, net, (size_t)bytes) != 0)
        return 0;
    if (bits == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - bits));
    return (a[bytes] & mask) == (net[bytes] & mask);
}

static const char *v4_reason(const unsigned char *a)
{
    uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    static const struct {
        uint32_t net;
        int prefix;
        const char *why;
    } internal[] = {
        {0x00000000, 8, "unspecified or 'this network' address (0.0.0.0/8)"},
        {0x7f000000, 8, "loopback address"},
        {0x0a000000, 8, "private address (10/8)"},
        {0xac100000, 12, "private address (172.16/12)"},
        {0xc0a80000, 16, "private address (192.168/16)"},
        {0x64400000, 10, "shared address space (100.64/10)"},
        {0xa9fe0000, 16, "link-local or metadata address (169.254/16)"},
        {0xc0000000, 24, "IETF protocol assignment (192.0.0/24)"},
        {0xc6120000, 15, "benchmarking address (198.18/15)"},
        {0xe0000000, 4, "multicast address"},
        {0xf0000000, 4, "reserved or broadcast address"},
    };
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        uint32_t mask = internal[i].prefix ? ~0u << (32 - internal[i].prefix) : 0;
        if ((v & mask) == internal[i].net)
            return internal[i].why;
    }
    return NULL;
}

const char *addr_internal_reason(const struct sockaddr *sa)
{
    if (!sa)
        return "no address";
    if (sa->sa_family == AF_INET)
        return v4_reason((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family != AF_INET6)
        return "not an IP address";
    const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char zero[12] = {0};
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_reason(a + 12);
    if (memcmp(a, zero, 12) == 0) { /* ::, ::1 and the old IPv4-compatible ::a.b.c.d */
        if (memcmp(a + 12, zero, 3) == 0 && a[15] <= 1)
            return a[15] ? "loopback address" : "unspecified address";
        return v4_reason(a + 12);
    }
    if ((a[0] & 0xfe) == 0xfc)
        return "unique local address (fc00::/7)";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return "link-local address (fe80::/10)";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return "site-local address (fec0::/10)";
    if (a[0] == 0xff)
        return "multicast address";
    return NULL;
}

int addr_allowed(const addr_allow *allow, const struct sockaddr *sa)
{
    if (!allow || !sa)
        return 0;
    for (size_t i = 0; i < allow->n; i++) {
        const addr_range *r = &allow->ranges[i];
        if (r->family == AF_INET && sa->sa_family == AF_INET &&
            prefix_match((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr,
                         r->addr, r->prefix))
            return 1;
        if (r->family == AF_INET6 && sa->sa_family == AF_INET6 &&
            prefix_match(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, r->addr,
                         r->prefix))
            return 1;
    }
    return 0;
}
