/* Running a helper program (a SIP peer) from a test, stopped by PID. */
#ifndef TESTS_CHILD_H
#define TESTS_CHILD_H

#include <sys/types.h>

/* Starts argv[0] (looked up in PATH) with output to log_file. */
pid_t child_spawn(const char *const *argv, const char *log_file);
/* Waits up to timeout_ms; then kills it. Returns its exit status, or -1. */
int child_wait(pid_t pid, int timeout_ms);

#endif
