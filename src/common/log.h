/*
 * Logging shared by librelay and relayd. Every line passes through
 * log_scrub() before it reaches a sink, so credentials (tokens, JWTs,
 * project ids, authorization state, passwords) never reach a log.
 */
#ifndef RELAY_COMMON_LOG_H
#define RELAY_COMMON_LOG_H

#include <stddef.h>
#include <relay/types.h>

typedef struct log_sink {
    relay_log_fn fn; /* NULL: stderr */
    void *user;
    relay_log_level level;
    const char *prefix; /* e.g. "relayd", "librelay"; may be NULL */
} log_sink;

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

void log_write(const log_sink *sink, relay_log_level level, const char *fmt, ...) LOG_PRINTF(3, 4);

/* A malloc'd copy of text with the values of sensitive JSON keys replaced
 * by "***". Works on any text (also malformed or truncated JSON). */
char *log_scrub(const char *text);

/* 1 if key names a credential that must never be logged. */
int log_key_is_secret(const char *key, size_t len);

#endif
