/*
 * relayd's optional log file (log_file): the same scrubbed lines that go to
 * stderr otherwise, with a full UTC date, appended to a file that SIGHUP
 * reopens (logrotate moves the file, then its postrotate sends HUP).
 */
#ifndef RELAYD_LOG_FILE_H
#define RELAYD_LOG_FILE_H

#include <stddef.h>

/* Opens path for appending and routes server_log there. Call before any
 * other thread starts (it installs the sink). -1 with why on failure. */
int log_file_start(const char *path, char *why, size_t whylen);
/* Reopens at path (the same one after a rotation, or a new one). On
 * failure the old file stays in use. Any thread. */
int log_file_reopen(const char *path, char *why, size_t whylen);
/* 1 once log_file_start succeeded. */
int log_file_active(void);
/* Back to stderr; closes the file. At exit, after the other threads. */
void log_file_stop(void);

#endif
