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

/* With TPORT_LOG set, sofia logs whole messages: a digest answer (the
 * hash a password can be guessed from offline) stays out of relayd's log. */
static int is_credentials(const char *s, size_t n)
{
    static const char *const names[] = {"Authorization:", "Proxy-Authorization:"};
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(names[i]);
        if (n >= k && strncasecmp(s, names[i], k) == 0)
            return 1;
    }
    return 0;
}

static void flush_line(void)
{
    while (used && (line[used - 1] == '\n' || line[used - 1] == ' '))
        used--;
    if (used && is_credentials(line, used))
        server_log(RELAY_LOG_DEBUG, "sofia: %.*s <redacted>",
                   (int)(strchr(line, ':') - line + 1), line);
    else if (used)
        server_log(RELAY_LOG_DEBUG, "sofia: %.*s", (int)used, line);
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
