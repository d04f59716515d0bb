#define _GNU_SOURCE /* close_range */
#include "relayd_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int relayd_proc_start(relayd_proc *p, const char *const *args, const char *log_file)
{
    memset(p, 0, sizeof *p);
    const char *bin = getenv("RELAYD");
    if (!bin) {
        fprintf(stderr, "RELAYD is not set (run through ctest)\n");
        return -1;
    }
    snprintf(p->ready_file, sizeof p->ready_file, "/tmp/relayd-ready-%d-%ld", (int)getpid(),
             (long)time(NULL));
    snprintf(p->log_file, sizeof p->log_file, "%s", log_file);
    unlink(p->ready_file);
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 60; i++)
        argv[n++] = args[i];
    argv[n++] = "--ready-file";
    argv[n++] = p->ready_file;
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        /* A test that dies (a crash, ctest's timeout) must not leave its
         * servers behind: they would keep ports, and inherited descriptors such
         * as a flock(1) lock that serialises test runs, for good. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close_range(3, ~0U, 0);
        int fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct stat st;
        if (stat(p->ready_file, &st) == 0 && st.st_size > 0)
            return 0;
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        sleep_ms(50);
    }
    relayd_proc_stop(p);
    return -1;
}

int relayd_proc_stop(relayd_proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            unlink(p->ready_file);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        sleep_ms(50);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    unlink(p->ready_file);
    return -1;
}

int relayd_proc_log_contains(const relayd_proc *p, const char *needle)
{
    FILE *f = fopen(p->log_file, "r");
    if (!f)
        return 0;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}
