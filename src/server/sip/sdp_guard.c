/*
 * The SDP grammar relayd accepts (RFC 4566 section 9, narrowed):
 *   session = 1*line, the first "v=0"
 *   line    = type "=" value (CRLF / LF); type one of the letters below
 *   value   = printable bytes (no NUL or other control characters but TAB)
 *   m= value = media SP port ["/" count] SP proto 1*(SP fmt)
 *   proto   = token *("/" token),  media = fmt = token
 * Sizes are capped so a peer cannot make us hold or scan more than an
 * audio offer needs.
 */
#include "sip/sdp_guard.h"

#include <string.h>

/* RFC 4566 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 /
 * %x41-5A / %x5E-7E. Note that ':' and '/' are not in it. */
static int token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D ||
           c == 0x2E || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) ||
           (c >= 0x5E && c <= 0x7E);
}

/* Length of the token at p (up to end), 0 if none. */
static size_t token_len(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && token_char((unsigned char)*q))
        q++;
    return (size_t)(q - p);
}

/* Reads 1..max_digits decimal digits into *value. Returns the count, 0 if none. */
static size_t digits(const char *p, const char *end, size_t max_digits, unsigned long *value)
{
    size_t n = 0;
    *value = 0;
    while (p + n < end && p[n] >= '0' && p[n] <= '9') {
        if (++n > max_digits)
            return 0;
        *value = *value * 10 + (unsigned long)(p[n - 1] - '0');
    }
    return n;
}

static int check_media_line(const char *p, const char *end, const char **why)
{
    size_t n = token_len(p, end);
    if (!n) {
        *why = "m= line: bad media type";
        return -1;
    }
    p += n;
    if (p >= end || *p++ != ' ') {
        *why = "m= line: no port";
        return -1;
    }
    unsigned long v;
    n = digits(p, end, 5, &v);
    if (!n || v > 65535) {
        *why = "m= line: bad port";
        return -1;
    }
    p += n;
    if (p < end && *p == '/') {
        p++;
        n = digits(p, end, 5, &v);
        if (!n || v == 0) {
            *why = "m= line: bad port count";
            return -1;
        }
        p += n;
    }
    if (p >= end || *p++ != ' ') {
        *why = "m= line: no transport";
        return -1;
    }
    for (;;) { /* proto: token *("/" token) */
        n = token_len(p, end);
        if (!n) {
            *why = "m= line: bad transport";
            return -1;
        }
        p += n;
        if (p < end && *p == '/') {
            p++;
            continue;
        }
        break;
    }
    size_t fmts = 0;
    while (p < end) {
        if (*p++ != ' ') {
            *why = "m= line: bad transport";
            return -1;
        }
        n = token_len(p, end);
        if (!n) {
            *why = "m= line: bad format";
            return -1;
        }
        p += n;
        if (++fmts > SDP_GUARD_MAX_FMTS) {
            *why = "m= line: too many formats";
            return -1;
        }
    }
    if (!fmts) {
        *why = "m= line: no format";
        return -1;
    }
    return 0;
}

int sdp_guard_check(const char *text, size_t len, const char **why)
{
    if (!text || !len) {
        *why = "empty SDP";
        return -1;
    }
    if (len > SDP_GUARD_MAX_BYTES) {
        *why = "SDP too large";
        return -1;
    }
    const char *p = text, *end = text + len;
    size_t lines = 0, media = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol == p) { /* an empty line is tolerated only as the body's last */
            if (next != end) {
                *why = "SDP: empty line";
                return -1;
            }
            break;
        }
        if ((size_t)(eol - p) > SDP_GUARD_MAX_LINE) {
            *why = "SDP: line too long";
            return -1;
        }
        if (++lines > SDP_GUARD_MAX_LINES) {
            *why = "SDP: too many lines";
            return -1;
        }
        if (eol - p < 2 || p[1] != '=' || !strchr("vosiuepcbtrzkam", p[0]) || p[0] == '\0') {
            *why = "SDP: line is not <type>=<value> of a known type";
            return -1;
        }
        for (const char *q = p + 2; q < eol; q++) {
            unsigned char c = (unsigned char)*q;
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                *why = "SDP: control character in a line";
                return -1;
            }
        }
        if (lines == 1 && (eol - p != 3 || p[0] != 'v' || p[2] != '0')) {
            *why = "SDP: does not start with v=0";
            return -1;
        }
        if (p[0] == 'm') {
            if (++media > SDP_GUARD_MAX_MEDIA) {
                *why = "SDP: too many m= lines";
                return -1;
            }
            if (check_media_line(p + 2, eol, why) < 0)
                return -1;
        }
        p = next;
    }
    if (!lines) {
        *why = "empty SDP";
        return -1;
    }
    return 0;
}
