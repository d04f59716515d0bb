/*
 * Runs a real relayd for a test: fork/exec with arguments, wait for its
 * ready file, stop it by PID with SIGTERM and report how it exited (so a
 * test also proves a clean shutdown: under ASan a leak makes the exit
 * status non-zero).
 */
#ifndef TESTS_RELAYD_PROC_H
#define TESTS_RELAYD_PROC_H

#include <sys/types.h>

typedef struct relayd_proc {
    pid_t pid;
    char ready_file[128];
    char log_file[128];
} relayd_proc;

/* args: NULL-terminated extra arguments after the binary. The binary is
 * $RELAYD. stderr goes to log_file. 0 when ready within 10 s. */
int relayd_proc_start(relayd_proc *p, const char *const *args, const char *log_file);
/* SIGTERM, wait up to 10 s (then SIGKILL). Returns the exit status, or -1
 * if it had to be killed or died by a signal. */
int relayd_proc_stop(relayd_proc *p);
/* 1 if the log file contains needle. */
int relayd_proc_log_contains(const relayd_proc *p, const char *needle);

#endif
