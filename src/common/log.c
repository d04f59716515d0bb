#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const secret_keys[] = {
    "token", "api_token", "jwt_token", "project", "project_id", "authorization_state",
    "password", "secret", "authorization", "signature", NULL,
};

int log_key_is_secret(const char *key, size_t len)
{
    for (size_t i = 0; secret_keys[i]; i++)
        if (strlen(secret_keys[i]) == len && strncmp(secret_keys[i], key, len) == 0)
            return 1;
    return 0;
}

/* Scans for "key" : "value" pairs textually rather than parsing, so that a
 * malformed or truncated frame is scrubbed just as well as a valid one. */
char *log_scrub(const char *text)
{
    if (!text)
        return NULL;
    size_t n = strlen(text);
    /* A masked value ("***" quoted, 5 bytes) can be up to 3 bytes longer
     * than the empty string it replaces; every such pair spends at least 8
     * bytes of input ("token":""), so n + n/2 is always enough. */
    char *out = malloc(n + n / 2 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    size_t i = 0;
    while (i < n) {
        if (text[i] != '"') {
            out[o++] = text[i++];
            continue;
        }
        /* a quoted string: copy it whole, remembering it as a possible key */
        size_t start = i + 1, j = start;
        while (j < n && text[j] != '"') {
            if (text[j] == '\\' && j + 1 < n)
                j++;
            j++;
        }
        size_t keylen = j - start;
        size_t end = j < n ? j + 1 : n;
        memcpy(out + o, text + i, end - i);
        o += end - i;
        i = end;
        if (!log_key_is_secret(text + start, keylen))
            continue;
        /* key found: copy up to the value, then mask a string value */
        size_t k = i;
        while (k < n && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r'))
            k++;
        if (k >= n || text[k] != ':')
            continue;
        k++;
        while (k < n && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r'))
            k++;
        memcpy(out + o, text + i, k - i);
        o += k - i;
        i = k;
        if (i < n && text[i] == '"') {
            size_t v = i + 1;
            while (v < n && text[v] != '"') {
                if (text[v] == '\\' && v + 1 < n)
                    v++;
                v++;
            }
            memcpy(out + o, "\"***\"", 5);
            o += 5;
            i = v < n ? v + 1 : n;
        }
    }
    out[o] = '\0';
    return out;
}

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
