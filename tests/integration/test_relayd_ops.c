/*
 * relayd's operations interface over the real binary: --check-config on
 * good and bad files, the sd_notify datagrams a Type=notify unit waits
 * for, the log file reopened on SIGHUP, and a SIGHUP reload (new token, new
 * certificate) under a live call and session that both survive it, with
 * the metrics endpoint scraped during and after that call.
 *
 * Ports: 53000-53999 (this test's block).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <curl/curl.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"

#define PROJECT "ops-project"
#define TOKEN_OLD "ops-token-old-0123456789"
#define TOKEN_NEW "ops-token-new-9876543210"

static char work[512]; /* this test's files, under the build tree */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_file(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

/* The whole file, malloc'd ("" if missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
        buf[0] = '\0';
    fclose(f);
    return buf;
}

static void certs(const char *name, char *dir, size_t len)
{
    snprintf(dir, len, "%s/%s", work, name);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null",
             getenv("RELAY_SOURCE_DIR"), dir);
    assert_int_equal(system(cmd), 0);
}

/* Runs relayd --check-config with args; its stderr+stdout in *out. */
static int check_config(const char *const *args, char **out)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = getenv("RELAYD");
    argv[n++] = "--check-config";
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char log[600];
    snprintf(log, sizeof log, "%s/check-config.out", work);
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    int status = child_wait(pid, 20000);
    *out = slurp(log);
    return status;
}

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("RELAY_BUILD_DIR");
    if (!build || !getenv("RELAY_SOURCE_DIR") || !getenv("RELAYD"))
        return -1;
    snprintf(work, sizeof work, "%s/tests/integration/ops", build);
    mkdir(work, 0755);
    return 0;
}

/* ------------------------------------------------------------ check-config */

static void check_config_accepts_a_good_file_without_binding(void **state)
{
    (void)state;
    char dir[600], conf[700], rec[700];
    certs("certs-a", dir, sizeof dir);
    snprintf(conf, sizeof conf, "%s/good.conf", work);
    snprintf(rec, sizeof rec, "%s/recordings", work);
    write_file(conf,
               "# a production-like file\n"
               "ws_listen = 127.0.0.1:61460\n"
               "tls_cert = %s/server.pem\n"
               "tls_key = %s/server.key\n"
               "sip_listen = 127.0.0.1:53021\n"
               "rtp_ports = 53030-53039\n"
               "auth = " PROJECT ":" TOKEN_OLD "\n"
               "recordings_dir = %s\n"
               "log_file = %s/relayd-check.log\n",
               dir, dir, rec, work);

    /* the WebSocket port is taken by us: a check that bound would fail */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(61460)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int one = 1;
    setsockopt(busy, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(busy, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(busy, 1), 0);

    char *out = NULL;
    const char *args[] = {"--config", conf, NULL};
    int rc = check_config(args, &out);
    close(busy);
    if (rc != 0)
        fail_msg("check-config refused a good file: %s", out);
    assert_non_null(strstr(out, "configuration OK"));
    free(out);
}

static void check_config_names_every_problem_by_line(void **state)
{
    (void)state;
    char a[600], b[600], conf[700];
    certs("certs-a", a, sizeof a);
    certs("certs-b", b, sizeof b);
    snprintf(conf, sizeof conf, "%s/bad.conf", work);
    write_file(conf,
               "ws_listen = 0.0.0.0:61460\n"                     /* 1 */
               "tls_cert = %s/server.pem\n"                      /* 2 */
               "tls_key = %s/server.key\n"                       /* 3: the other pair's */
               "rtp_ports = 53100-53199\n"                       /* 4 */
               "sip_listen = 127.0.0.1:53150\n"                  /* 5: inside the range */
               "auth = " PROJECT ":tiny-secret\n"                /* 6: short, public */
               "recordings_dir = /etc/hostname/recordings\n"     /* 7 */
               "media_dir = %s/no-such-dir\n"                    /* 8 */
               "log_file = /etc/hostname/relayd.log\n"           /* 9 */
               "rtp_ports = nonsense\n"                          /* 10 */
               "no equals sign here\n"                           /* 11 */
               "frobnicate = 1\n",                               /* 12 */
               a, b, work);
    char *out = NULL;
    const char *args[] = {"--config", conf, NULL};
    assert_int_equal(check_config(args, &out), 2);
    const char *want[] = {
        ":10: rtp_ports: bad value",
        ":11: expected key = value",
        ":12: frobnicate: unknown setting",
        ":3: tls_key: the key in",
        ":5: sip_listen: ", /* or rtp_ports: the range names the SIP port */
        ":6: auth: entry 1: token shorter than 16",
        ":7: recordings_dir: /etc/hostname/recordings",
        ":8: media_dir:",
        ":9: log_file: cannot create /etc/hostname/relayd.log",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (i == 4) {
            if (!strstr(out, ":4: rtp_ports: the range 53100-53199 contains the SIP port 53150"))
                fail_msg("missing the RTP/SIP overlap in:\n%s", out);
            continue;
        }
        if (!strstr(out, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], out);
    }
    /* every line names the file; the secret never appears */
    assert_non_null(strstr(out, conf));
    assert_null(strstr(out, "tiny-secret"));
    free(out);

    /* a flag is named as the flag */
    const char *flags[] = {"--plain", "--ws-listen", "0.0.0.0:61460", NULL};
    assert_int_equal(check_config(flags, &out), 2);
    if (!strstr(out, "--ws-listen: ws_listen: plain ws:// is only allowed on loopback"))
        fail_msg("flag problem not named: %s", out);
    free(out);

    /* a missing file */
    const char *missing[] = {"--config", "/nonexistent/relayd.conf", NULL};
    assert_int_equal(check_config(missing, &out), 2);
    assert_non_null(strstr(out, "cannot open config file /nonexistent/relayd.conf"));
    free(out);
}

/* ---------------------------------------------- sd_notify and the log file */

static int notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    return fd;
}

/* The next datagram within timeout_ms, or "" (static buffer). */
static const char *notify_recv(int fd, int timeout_ms)
{
    static char buf[512];
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void notify_and_log_reopen(void **state)
{
    (void)state;
    char sock[108], logf[700], rotated[720];
    snprintf(sock, sizeof sock, "/tmp/relayd-ops-notify-%d", (int)getpid());
    snprintf(logf, sizeof logf, "%s/relayd-file.log", work);
    snprintf(rotated, sizeof rotated, "%s.1", logf);
    unlink(logf);
    unlink(rotated);
    int fd = notify_socket(sock);
    assert_true(fd >= 0);
    setenv("NOTIFY_SOCKET", sock, 1);
    relayd_proc p;
    const char *args[] = {"--ws-listen", "127.0.0.1:61469", "--sip-listen", "127.0.0.1:53311",
                          "--rtp-ports", "53320-53339", "--log-file", logf, NULL};
    int started = relayd_proc_start(&p, args, "relayd-ops-notify.log");
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(started, 0);

    assert_string_equal(notify_recv(fd, 10000), "READY=1");

    /* logrotate: move the file away, then HUP */
    assert_int_equal(rename(logf, rotated), 0);
    kill(p.pid, SIGHUP);
    const char *reloading = notify_recv(fd, 10000);
    if (strncmp(reloading, "RELOADING=1\nMONOTONIC_USEC=", 27) != 0)
        fail_msg("expected RELOADING=1, got '%s'", reloading);
    assert_string_equal(notify_recv(fd, 10000), "READY=1");
    sleep_ms(200);
    char *old = slurp(rotated), *fresh = slurp(logf);
    assert_non_null(strstr(old, "relayd INFO  listening: ws://127.0.0.1:61469"));
    assert_non_null(strstr(fresh, "reload: configuration in effect"));
    assert_null(strstr(fresh, "listening: ws://"));
    /* the full date: journald adds its own, a plain file needs one */
    assert_true(fresh[4] == '-' && fresh[10] == 'T' && strstr(fresh, "Z relayd ") != NULL);
    free(old);
    free(fresh);

    assert_int_equal(relayd_proc_stop(&p), 0);
    assert_string_equal(notify_recv(fd, 5000), "STOPPING=1");
    fresh = slurp(logf);
    assert_non_null(strstr(fresh, "stopped"));
    free(fresh);
    close(fd);
    unlink(sock);
}

/* ---------------------------------------------------------------- metrics */

static size_t gather(char *data, size_t size, size_t n, void *user)
{
    char **text = user;
    size_t old = *text ? strlen(*text) : 0;
    char *grown = realloc(*text, old + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, data, size * n);
    grown[old + size * n] = '\0';
    *text = grown;
    return size * n;
}

/* GET /metrics (malloc'd body); fails the test on anything but a 200 in
 * the Prometheus text format. */
static char *scrape(void)
{
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    char *text = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, "http://127.0.0.1:61466/metrics");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, gather);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    int text_format = type && strncmp(type, "text/plain; version=0.0.4", 25) == 0;
    curl_easy_cleanup(curl);
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(status, 200);
    assert_true(text_format);
    assert_non_null(text);
    return text;
}

/* The value of the sample named exactly `name` (with its labels). */
static double sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
    fail_msg("no sample %s in:\n%s", name, text);
    return -1;
}

/* ---------------------------------------------- SIGHUP under a live call */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int answered, go, done;
    relay_status answer, play, hangup, ended;
    char play_state[32];
} live = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* Answers, then holds the call until the test has reloaded relayd, then
 * uses it (a play needs the call, its media and the session intact). */
static void on_call(relay_call *call, void *user)
{
    (void)user;
    relay_status answer = relay_call_answer(call, NULL);
    pthread_mutex_lock(&live.lock);
    live.answered = 1;
    pthread_cond_broadcast(&live.cond);
    while (!live.go)
        pthread_cond_wait(&live.cond, &live.lock);
    pthread_mutex_unlock(&live.lock);
    relay_result *res = NULL;
    relay_status play = relay_call_play_tts(call, "Still here after the reload.", &res);
    char st[32] = "";
    if (res && relay_result_get(res, "state"))
        snprintf(st, sizeof st, "%s", relay_result_get(res, "state"));
    relay_result_free(res);
    relay_status hangup = relay_call_hangup(call, NULL, NULL);
    relay_status ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&live.lock);
    live.answer = answer;
    live.play = play;
    live.hangup = hangup;
    live.ended = ended;
    snprintf(live.play_state, sizeof live.play_state, "%s", st);
    live.done = 1;
    pthread_cond_broadcast(&live.cond);
    pthread_mutex_unlock(&live.lock);
}

static relay_status try_connect(const char *token, const char *ca)
{
    static const char *const contexts[] = {"ops", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = 61463;
    o.project = PROJECT;
    o.token = token;
    o.contexts = contexts;
    o.ca_file = ca;
    o.request_timeout_ms = 5000;
    relay_client *c = NULL;
    if (relay_client_new(&o, &c) != RELAY_OK)
        return RELAY_ERR_NO_MEMORY;
    relay_status st = relay_client_connect(c);
    relay_client_free(c);
    return st;
}

/* pcap_file of the reload test, and where "logrotate" moves it */
static char pcap_path[700], pcap_rotated[720];

/* SIP packets to or from relayd's port (those starting with "BYE " counted
 * apart) and RTP packets in a pcap file relayd wrote. */
typedef struct capture_count {
    int sip, bye, rtp;
} capture_count;

static capture_count count_capture(const char *path, int sip_port, int rtp_min, int rtp_max)
{
    capture_count n = {0};
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline(path, err);
    if (!r)
        fail_msg("cannot read %s: %s", path, err);
    assert_int_equal(pcap_datalink(r), DLT_RAW);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(r, &h, &d) == 1) {
        assert_true(h->caplen >= 28 && d[0] == 0x45 && d[9] == 17); /* IPv4, UDP */
        int sport = d[20] << 8 | d[21], dport = d[22] << 8 | d[23];
        if (sport == sip_port || dport == sip_port) {
            n.sip++;
            n.bye += h->caplen >= 32 && memcmp(d + 28, "BYE ", 4) == 0;
        } else if ((sport >= rtp_min && sport <= rtp_max) || (dport >= rtp_min && dport <= rtp_max)) {
            n.rtp++;
        }
    }
    pcap_close(r);
    return n;
}

static void write_reload_conf(const char *conf, const char *certdir, const char *token,
                              int pcap_rtp)
{
    write_file(conf,
               "ws_listen = 127.0.0.1:61463\n"
               "sip_listen = 127.0.0.1:53301\n"
               "rtp_ports = 53400-53499\n"
               "tls_cert = %s/server.pem\n"
               "tls_key = %s/server.key\n"
               "auth = " PROJECT ":%s\n"
               "route = ops:ops\n"
               "metrics_listen = 127.0.0.1:61466\n"
               "pcap_file = %s\n"
               "pcap_rtp = %d\n"
               "log_level = info\n",
               certdir, certdir, token, pcap_path, pcap_rtp);
}

static void sighup_swaps_token_and_certificate_under_a_live_call(void **state)
{
    (void)state;
    char a[600], b[600], conf[700], ca_a[700], ca_b[700];
    certs("certs-a", a, sizeof a);
    certs("certs-b", b, sizeof b);
    snprintf(ca_a, sizeof ca_a, "%s/ca.pem", a);
    snprintf(ca_b, sizeof ca_b, "%s/ca.pem", b);
    snprintf(conf, sizeof conf, "%s/reload.conf", work);
    snprintf(pcap_path, sizeof pcap_path, "%s/ops.pcap", work);
    snprintf(pcap_rotated, sizeof pcap_rotated, "%s.1", pcap_path);
    unlink(pcap_path);
    unlink(pcap_rotated);
    write_reload_conf(conf, a, TOKEN_OLD, 0);
    relayd_proc p;
    const char *args[] = {"--config", conf, NULL};
    assert_int_equal(relayd_proc_start(&p, args, "relayd-ops-reload.log"), 0);

    static const char *const contexts[] = {"ops", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = 61463;
    o.project = PROJECT;
    o.token = TOKEN_OLD;
    o.contexts = contexts;
    o.ca_file = ca_a;
    o.request_timeout_ms = 5000;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);

    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "127.0.0.1:53301", "-sf", scenario, "-s", "ops", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", "53302", "-mp", "53500", "-m",
                          "1", "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    pid_t sipp = child_spawn(argv, "sipp-ops-reload.log");
    assert_true(sipp > 0);

    pthread_mutex_lock(&live.lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    while (!live.answered)
        if (pthread_cond_timedwait(&live.cond, &live.lock, &until) == ETIMEDOUT)
            break;
    int answered = live.answered;
    pthread_mutex_unlock(&live.lock);
    assert_true(answered);

    /* what the metrics say with the call up: one session, the call answered */
    char *m = scrape();
    assert_true(sample(m, "relayd_sessions") == 1);
    assert_true(sample(m, "relayd_connections") == 1);
    assert_true(sample(m, "relayd_calls{state=\"answered\"}") == 1);
    assert_true(sample(m, "relayd_calls{state=\"ringing\"}") == 0);
    assert_true(sample(m, "relayd_calls_total") == 1);
    assert_true(sample(m, "relayd_auth_failures_total") == 0);
    assert_true(sample(m, "process_open_fds") > 5);
    assert_true(sample(m, "process_resident_memory_bytes") > 1e6);
    double sent_before = sample(m, "relayd_rtp_packets_sent_total");
    free(m);

    /* the call is up: new token, new certificate (another CA), RTP into
     * the capture, and the capture file rotated away; HUP */
    assert_int_equal(rename(pcap_path, pcap_rotated), 0);
    write_reload_conf(conf, b, TOKEN_NEW, 1);
    kill(p.pid, SIGHUP);
    int reloaded = 0;
    for (int i = 0; i < 100 && !reloaded; i++) {
        reloaded = relayd_proc_log_contains(&p, "reload: configuration in effect");
        if (!reloaded)
            sleep_ms(50);
    }
    assert_true(reloaded);

    /* new connections: the new certificate (only the new CA verifies it)
     * and the new token; the old token is refused */
    assert_int_equal(try_connect(TOKEN_NEW, ca_b), RELAY_OK);
    assert_int_equal(try_connect(TOKEN_NEW, ca_a), RELAY_ERR_CONNECT);
    assert_int_equal(try_connect(TOKEN_OLD, ca_b), RELAY_ERR_AUTH);

    /* the session that was up before the reload still speaks */
    relay_result *res = NULL;
    assert_int_equal(relay_client_execute(c, "signalwire.ping", "{}", &res), RELAY_OK);
    relay_result_free(res);

    /* and its call goes on: play, hang up */
    pthread_mutex_lock(&live.lock);
    live.go = 1;
    pthread_cond_broadcast(&live.cond);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    while (!live.done)
        if (pthread_cond_timedwait(&live.cond, &live.lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&live.lock);
    int sipp_status = child_wait(sipp, 30000);

    /* and after it: no call in any state, the played speech counted as
     * RTP, the three refused connects of the old token counted */
    m = scrape();
    assert_true(sample(m, "relayd_calls{state=\"answered\"}") == 0);
    assert_true(sample(m, "relayd_calls{state=\"ending\"}") == 0);
    assert_true(sample(m, "relayd_calls_total") == 1);
    assert_true(sample(m, "relayd_rtp_packets_sent_total") > sent_before + 50);
    assert_true(sample(m, "relayd_auth_failures_total") == 3);
    assert_true(sample(m, "relayd_sessions") >= 1);
    free(m);
    relay_client_free(c);

    /* a bad file on the next HUP is refused, the running one kept */
    write_file(conf, "auth = broken\n");
    kill(p.pid, SIGHUP);
    int refused = 0;
    for (int i = 0; i < 100 && !refused; i++) {
        refused = relayd_proc_log_contains(&p, "reload: keeping the running configuration");
        if (!refused)
            sleep_ms(50);
    }
    assert_true(refused);
    assert_true(relayd_proc_log_contains(&p, "reload refused: "));
    assert_int_equal(try_connect(TOKEN_NEW, ca_b), RELAY_OK);

    /* the client never had to reconnect: nothing was resumed */
    assert_false(relayd_proc_log_contains(&p, "resumed"));
    /* secrets stay out of the log */
    assert_false(relayd_proc_log_contains(&p, TOKEN_NEW));
    assert_false(relayd_proc_log_contains(&p, TOKEN_OLD));
    assert_int_equal(relayd_proc_stop(&p), 0);

    assert_true(live.done);
    assert_int_equal(live.answer, RELAY_OK);
    assert_int_equal(live.play, RELAY_OK);
    assert_string_equal(live.play_state, "finished");
    assert_int_equal(live.hangup, RELAY_OK);
    assert_int_equal(live.ended, RELAY_OK);
    assert_int_equal(sipp_status, 0); /* 200 with SDP, then our BYE: the call was never cut */

    /* the capture: the call's start in the rotated file, without RTP
     * (pcap_rtp was 0); after the HUP, the new file has the played speech
     * as RTP and relayd's BYE */
    capture_count before = count_capture(pcap_rotated, 53301, 53400, 53499);
    capture_count after = count_capture(pcap_path, 53301, 53400, 53499);
    if (before.sip < 4 || before.rtp != 0 || before.bye != 0)
        fail_msg("rotated capture: %d SIP (want >= 4: INVITE 100 180 200 ACK), %d RTP, %d BYE",
                 before.sip, before.rtp, before.bye);
    if (after.bye != 1 || after.rtp < 50)
        fail_msg("capture after the reload: %d BYE (want 1), %d RTP (want >= 50)", after.bye,
                 after.rtp);
    unlink(pcap_path);
    unlink(pcap_rotated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_config_accepts_a_good_file_without_binding),
        cmocka_unit_test(check_config_names_every_problem_by_line),
        cmocka_unit_test(notify_and_log_reopen),
        cmocka_unit_test(sighup_swaps_token_and_certificate_under_a_live_call),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
