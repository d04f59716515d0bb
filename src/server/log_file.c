#include "log_file.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server_log.h"

/* The open file, shared by every thread that logs; the lock covers a whole
 * line so lines never interleave, and a reopen never meets a write. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *file;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static void write_line(relay_log_level level, const char *msg, void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    const char *name = (unsigned)level < 4 ? level_names[level] : "?";
    pthread_mutex_lock(&lock);
    FILE *f = file ? file : stderr;
    fprintf(f, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ relayd %-5s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            name, msg);
    fflush(f); /* a crash or a rotation must not lose buffered lines */
    pthread_mutex_unlock(&lock);
}

static FILE *open_append(const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "ae"); /* close-on-exec: no child inherits it */
    if (!f)
        snprintf(why, whylen, "cannot open log file %s: %s", path, strerror(errno));
    return f;
}

int log_file_start(const char *path, char *why, size_t whylen)
{
    FILE *f = open_append(path, why, whylen);
    if (!f)
        return -1;
    pthread_mutex_lock(&lock);
    file = f;
    pthread_mutex_unlock(&lock);
    server_log_sink.fn = write_line;
    return 0;
}

int log_file_reopen(const char *path, char *why, size_t whylen)
{
    FILE *f = open_append(path, why, whylen);
    if (!f)
        return -1;
    pthread_mutex_lock(&lock);
    FILE *old = file;
    file = f;
    pthread_mutex_unlock(&lock);
    if (old)
        fclose(old);
    return 0;
}

int log_file_active(void)
{
    return server_log_sink.fn == write_line;
}

void log_file_stop(void)
{
    server_log_sink.fn = NULL;
    pthread_mutex_lock(&lock);
    if (file)
        fclose(file);
    file = NULL;
    pthread_mutex_unlock(&lock);
}
