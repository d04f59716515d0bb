#include "sip/sofia_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_log.h>

#include "server_log.h"

/* sofia writes a line in pieces (a prefix, then the text, then "\n") from
 * whichever thread logs, so each thread assembles its own line. */
static _Thread_local char line[1024];
static _Thread_local size_t used;

/* Where we are in a message tport logs (TPTAG_LOG): its stamp line
 * ("recv 412 bytes from udp/[127.0.0.1]:5062 at 10:31:02.118532:"), a
 * separator of dashes, the message's lines indented by three spaces, and
 * the same separator again. */
enum { OUTSIDE, STAMPED, INSIDE };
static _Thread_local int msg_state = OUTSIDE;

static int is_stamp(const char *s, size_t n)
{
    unsigned long bytes;
    char dir[8];
    char copy[64];
    size_t k = n < sizeof copy - 1 ? n : sizeof copy - 1;
    memcpy(copy, s, k);
    copy[k] = '\0';
    return (sscanf(copy, "recv %lu bytes from %7s", &bytes, dir) == 2 ||
            sscanf(copy, "send %lu bytes to %7s", &bytes, dir) == 2 ||
            sscanf(copy, "sent %lu bytes to %7s", &bytes, dir) == 2);
}

static int is_separator(const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    return n >= 16 && strspn(s, "-") >= 16;
}

/* A message line with a credential in it (our REFER's or the trunk's
 * digest answer, a peer's: the hash a password can be guessed from
 * offline): its name only, in every form sofia logs it. */
static int is_credential(const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    return (n >= 14 && strncasecmp(s, "Authorization:", 14) == 0) ||
           (n >= 20 && strncasecmp(s, "Proxy-Authorization:", 20) == 0);
}

static void flush_line(void)
{
    while (used && (line[used - 1] == '\n' || line[used - 1] == ' ' || line[used - 1] == '\r'))
        used--;
    if (!used) {
        used = 0;
        return;
    }
    if (is_stamp(line, used)) {
        msg_state = STAMPED;
        if (line[used - 1] == ':')
            used--;
        server_log(RELAY_LOG_INFO, "sip: %.*s", (int)used, line);
    } else if (is_separator(line, used)) {
        msg_state = msg_state == STAMPED ? INSIDE : OUTSIDE;
    } else if (msg_state == INSIDE) {
        const char *s = line;
        size_t n = used;
        if (n >= 3 && memcmp(s, "   ", 3) == 0)
            s += 3, n -= 3;
        if (is_credential(s, n))
            server_log(RELAY_LOG_INFO, "sip| %.*s <redacted>", (int)strcspn(s, ":") + 1, s);
        else
            server_log(RELAY_LOG_INFO, "sip| %.*s", (int)n, s);
    } else if (is_credential(line, used)) {
        msg_state = OUTSIDE;
        server_log(RELAY_LOG_DEBUG, "sofia: %.*s <redacted>", (int)strcspn(line, ":") + 1, line);
    } else {
        msg_state = OUTSIDE;
        server_log(RELAY_LOG_DEBUG, "sofia: %.*s", (int)used, line);
    }
    used = 0;
}

static void to_server_log(void *stream, char const *fmt, va_list ap)
{
    (void)stream;
    char piece[1024];
    int n = vsnprintf(piece, sizeof piece, fmt, ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1;
    for (size_t i = 0; i < len; i++) {
        if (used < sizeof line - 1)
            line[used++] = piece[i];
        if (piece[i] == '\n')
            flush_line();
    }
    if (used >= sizeof line - 1) /* an overlong line: what fits */
        flush_line();
}

void sofia_log_capture(void)
{
    su_log_redirect(su_log_default, to_server_log, NULL);
}
