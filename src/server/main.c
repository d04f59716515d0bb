/*
 * relayd: a RELAY server that terminates real SIP calls. See docs/relayd.md.
 *
 * Signals are blocked in every thread; one small thread waits for them and
 * posts the work to the core, so shutdown and reload always run on the core
 * thread in a known order: SIGINT/SIGTERM stop, SIGHUP reloads.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log_file.h"
#include "relayd.h"
#include "sd_notify.h"
#include "server_log.h"

/* Exit codes (also in man/relayd.8). */
enum {
    EXIT_OK = 0,
    EXIT_STARTUP = 1, /* could not bind or start a part */
    EXIT_CONFIG = 2,  /* the configuration is wrong */
};

static void *signal_main(void *arg)
{
    relayd *rd = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    int draining = 0;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            relayd_request_reload(rd);
            continue;
        }
        if (!draining) {
            /* the first SIGTERM/SIGINT drains (drain.c); a second one stops
             * without waiting for clients and calls */
            server_log(RELAY_LOG_INFO, "signal %d: draining, then shutting down", sig);
            sd_notify_send("STOPPING=1");
            relayd_request_drain(rd);
            draining = 1;
            continue;
        }
        server_log(RELAY_LOG_INFO, "signal %d again: shutting down now", sig);
        relayd_request_stop(rd);
        return NULL;
    }
}

/* --check-config: every problem on stderr, one per line; binds nothing. */
static int check_config(relayd_config *cfg, int load_rc, const char *load_err)
{
    int problems = 0;
    if (load_rc != 0) {
        fprintf(stderr, "%s\n", load_err);
        problems++;
    }
    /* a file that did not parse still gets the rest checked */
    problems += config_check(cfg, stderr);
    if (problems) {
        fprintf(stderr, "relayd: configuration has %d problem(s)\n", problems);
        return EXIT_CONFIG;
    }
    printf("relayd: configuration OK\n");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    relayd_config cfg;
    char err[4096] = "";
    int rc = config_load(&cfg, argc, argv, err, sizeof err);
    if (rc == 1) {
        config_usage(argv[0]);
        config_free(&cfg);
        return EXIT_OK;
    }
    if (cfg.check_only) {
        int code = check_config(&cfg, rc, err);
        config_free(&cfg);
        return code;
    }
    if (rc != 0 || config_validate(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "relayd: %s\n", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    /* before any thread starts: the sink is installed once */
    if (cfg.log_file && log_file_start(cfg.log_file, err, sizeof err) != 0) {
        fprintf(stderr, "relayd: %s\n", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    relayd *rd = relayd_create(&cfg);
    if (!rd) {
        log_file_stop();
        config_free(&cfg);
        return EXIT_STARTUP;
    }
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_main, rd);
    /* every listener is bound: tell systemd (Type=notify) we are up */
    sd_notify_send("READY=1");
    relayd_run(rd);
    relayd_destroy(rd);
    /* the signal thread has done its one job, or is still waiting: either
     * way it holds nothing; cancel it so the process can exit cleanly */
    pthread_cancel(sig_thread);
    pthread_join(sig_thread, NULL);
    server_log(RELAY_LOG_INFO, "stopped");
    log_file_stop();
    config_free(&cfg);
    return EXIT_OK;
}
