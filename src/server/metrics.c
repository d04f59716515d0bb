#define _GNU_SOURCE /* open_memstream */
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/protocol.h"
#include "media/frame_ring.h"
#include "media/session.h"
#include "relayd.h"
#include "webhook.h"

void metrics_call_moved(relayd_metrics *m, int from, int to)
{
    if (from > RELAY_CALL_NONE && from < METRICS_CALL_STATES)
        atomic_fetch_sub(&m->calls[from], 1);
    if (to > RELAY_CALL_NONE && to < METRICS_CALL_STATES)
        atomic_fetch_add(&m->calls[to], 1);
    if (from == RELAY_CALL_NONE && to != METRICS_CALL_GONE)
        atomic_fetch_add(&m->calls_total, 1);
}

/* Process basics, as Prometheus client libraries name them. */
static void process_metrics(FILE *f, double started_at)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(f,
                "# HELP process_cpu_seconds_total User and system CPU time spent.\n"
                "# TYPE process_cpu_seconds_total counter\n"
                "process_cpu_seconds_total %.3f\n",
                (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    long pages = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%ld %ld", &pages, &resident) == 2)
            fprintf(f,
                    "# HELP process_resident_memory_bytes Resident memory size.\n"
                    "# TYPE process_resident_memory_bytes gauge\n"
                    "process_resident_memory_bytes %ld\n"
                    "# HELP process_virtual_memory_bytes Virtual memory size.\n"
                    "# TYPE process_virtual_memory_bytes gauge\n"
                    "process_virtual_memory_bytes %ld\n",
                    resident * sysconf(_SC_PAGESIZE), pages * sysconf(_SC_PAGESIZE));
        fclose(statm);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long entries = 0;
        while (readdir(d))
            entries++;
        closedir(d);
        /* less ".", ".." and the listing's own descriptor */
        fprintf(f,
                "# HELP process_open_fds Open file descriptors.\n"
                "# TYPE process_open_fds gauge\n"
                "process_open_fds %ld\n",
                entries - 3);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fprintf(f,
                "# HELP process_max_fds Maximum open file descriptors.\n"
                "# TYPE process_max_fds gauge\n"
                "process_max_fds %llu\n",
                (unsigned long long)rl.rlim_cur);
    fprintf(f,
            "# HELP process_start_time_seconds Start time since the epoch.\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds %.3f\n",
            started_at);
}

char *metrics_render(relayd *rd, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    relayd_metrics *m = &rd->metrics;
    fprintf(f,
            "# HELP relayd_sessions RELAY sessions alive (attached or awaiting resume).\n"
            "# TYPE relayd_sessions gauge\n"
            "relayd_sessions %lld\n"
            "# HELP relayd_connections Open WebSocket connections.\n"
            "# TYPE relayd_connections gauge\n"
            "relayd_connections %lld\n"
            "# HELP relayd_auth_failures_total signalwire.connect attempts refused.\n"
            "# TYPE relayd_auth_failures_total counter\n"
            "relayd_auth_failures_total %llu\n",
            (long long)atomic_load(&m->sessions), (long long)atomic_load(&m->connections),
            (unsigned long long)atomic_load(&m->auth_failures));
    fprintf(f, "# HELP relayd_calls Calls now in each state.\n# TYPE relayd_calls gauge\n");
    /* no "ended": an ended call is freed in the same step */
    for (int s = RELAY_CALL_CREATED; s < RELAY_CALL_ENDED; s++)
        fprintf(f, "relayd_calls{state=\"%s\"} %lld\n", proto_call_state_name((relay_call_state)s),
                (long long)atomic_load(&m->calls[s]));
    fprintf(f,
            "# HELP relayd_calls_total Calls offered since start.\n"
            "# TYPE relayd_calls_total counter\n"
            "relayd_calls_total %llu\n",
            (unsigned long long)atomic_load(&m->calls_total));
    fprintf(f, "# HELP relayd_refers_total Refers ended, by outcome.\n"
               "# TYPE relayd_refers_total counter\n");
    for (int s = RELAY_REFER_SUCCESS; s < METRICS_REFER_STATES; s++)
        fprintf(f, "relayd_refers_total{outcome=\"%s\"} %llu\n",
                proto_refer_state_name((relay_refer_state)s),
                (unsigned long long)atomic_load(&m->refers[s]));
    if (rd->cfg->phone_trunk_register)
        fprintf(f,
                "# HELP relayd_trunk_registered 1 while registered with phone_trunk_register.\n"
                "# TYPE relayd_trunk_registered gauge\n"
                "relayd_trunk_registered %d\n"
                "# HELP relayd_trunk_register_failures_total REGISTER attempts that failed.\n"
                "# TYPE relayd_trunk_register_failures_total counter\n"
                "relayd_trunk_register_failures_total %llu\n",
                atomic_load(&m->trunk_registered),
                (unsigned long long)atomic_load(&m->trunk_register_failures));
    if (rd->media) {
        media_engine_stats st;
        media_engine_get_stats(rd->media, &st);
        fprintf(f,
                "# HELP relayd_rtp_packets_sent_total RTP packets sent.\n"
                "# TYPE relayd_rtp_packets_sent_total counter\n"
                "relayd_rtp_packets_sent_total %llu\n"
                "# HELP relayd_rtp_packets_late_total RTP packets sent over 20 ms after their "
                "deadline.\n"
                "# TYPE relayd_rtp_packets_late_total counter\n"
                "relayd_rtp_packets_late_total %llu\n"
                "# HELP relayd_rtp_max_lateness_seconds Latest any RTP packet has left.\n"
                "# TYPE relayd_rtp_max_lateness_seconds gauge\n"
                "relayd_rtp_max_lateness_seconds %.6f\n"
                "# HELP relayd_rtp_packets_received_total RTP packets read.\n"
                "# TYPE relayd_rtp_packets_received_total counter\n"
                "relayd_rtp_packets_received_total %llu\n"
                "# HELP relayd_rtp_packets_lost_total Gaps in the peers' RTP sequence numbers.\n"
                "# TYPE relayd_rtp_packets_lost_total counter\n"
                "relayd_rtp_packets_lost_total %llu\n"
                "# HELP relayd_bridge_frames_dropped_total Audio frames a bridge dropped "
                "behind a late leg.\n"
                "# TYPE relayd_bridge_frames_dropped_total counter\n"
                "relayd_bridge_frames_dropped_total %llu\n",
                (unsigned long long)st.sent, (unsigned long long)st.late,
                (double)st.max_late_us / 1e6, (unsigned long long)st.received,
                (unsigned long long)st.rx_lost, (unsigned long long)frame_ring_dropped_total());
    }
    if (rd->hooks)
        fprintf(f,
                "# HELP relayd_webhook_retries_total Webhook posts sent again after a "
                "failure.\n"
                "# TYPE relayd_webhook_retries_total counter\n"
                "relayd_webhook_retries_total %llu\n"
                "# HELP relayd_webhook_failures_total Webhook posts given up on.\n"
                "# TYPE relayd_webhook_failures_total counter\n"
                "relayd_webhook_failures_total %llu\n",
                webhook_retries(rd->hooks), webhook_failures(rd->hooks));
    process_metrics(f, m->started_at);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    *len = size;
    return text;
}
