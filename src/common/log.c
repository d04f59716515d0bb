#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_write(const log_sink *sink, relay_log_level level, const char *fmt, ...)
{
    relay_log_level max = sink ? sink->level : RELAY_LOG_WARN;
    if (level > max)
        return;
    char stackbuf[1024];
    char *buf = stackbuf;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof stackbuf) {
        buf = malloc((size_t)len + 1);
        if (!buf)
            return;
        va_start(ap, fmt);
        vsnprintf(buf, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    char *clean = log_scrub(buf);
    if (buf != stackbuf)
        free(buf);
    if (!clean)
        return;
    if (sink && sink->fn) {
        sink->fn(level, clean, sink->user);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%-5s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                ts.tv_nsec / 1000000, sink && sink->prefix ? sink->prefix : "",
                sink && sink->prefix ? " " : "", level_names[level], clean);
    }
    free(clean);
}
