/*
 * relayd: a RELAY server that terminates real SIP calls. See docs/relayd.md.
 *
 * Signals are blocked in every thread; one small thread waits for SIGINT or
 * SIGTERM and asks the core to stop, so shutdown always runs on the core
 * thread in a known order.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "relayd.h"
#include "server_log.h"

static void *signal_main(void *arg)
{
    relayd *rd = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    server_log(RELAY_LOG_INFO, "signal %d: shutting down", sig);
    relayd_request_stop(rd);
    return NULL;
}

int main(int argc, char **argv)
{
    relayd_config cfg;
    char err[256] = "";
    int rc = config_load(&cfg, argc, argv, err, sizeof err);
    if (rc == 1) {
        config_usage(argv[0]);
        config_free(&cfg);
        return 0;
    }
    if (rc != 0 || config_validate(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "relayd: %s\n", err);
        config_free(&cfg);
        return 2;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    relayd *rd = relayd_create(&cfg);
    if (!rd) {
        config_free(&cfg);
        return 1;
    }
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_main, rd);
    relayd_run(rd);
    relayd_destroy(rd);
    /* the signal thread has done its one job, or is still waiting: either
     * way it holds nothing; cancel it so the process can exit cleanly */
    pthread_cancel(sig_thread);
    pthread_join(sig_thread, NULL);
    config_free(&cfg);
    server_log(RELAY_LOG_INFO, "stopped");
    return 0;
}
