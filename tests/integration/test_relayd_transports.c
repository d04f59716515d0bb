/*
 * SIP over TCP, TLS and IPv6 against a real relayd: sipp callers over TCP
 * (-t t1) and IPv6 (-i ::1), and a TLS caller that is this test over
 * OpenSSL (the sipp here is built without TLS), each answered by a RELAY
 * client and played to, the test counting the RTP it receives; calls
 * relayd dials to sipp targets over TCP (sip:...;transport=tcp) and IPv6
 * (sip:[::1]:PORT). sipp hands the test what it saw (the top Via's
 * transport, the c= line, the Contact) through a file: the test checks the
 * transport and the address family, not just that a call happened.
 *
 * Ports: TCP: relayd ws 62300, SIP TCP 62310 (";transport=tcp"), SIP TLS
 * 62311, sipp target 62320, sipp caller 62321. UDP: relayd SIP [::1]:58510
 * (";transport=udp") or 127.0.0.1:58511 (session timers), RTP
 * 58600-58699; sipp caller 58520, target 58521, timer caller 58522; sipp
 * media 58700/58720/58740/58760/58780; the test's RTP sockets 58550
 * (127.0.0.1) and 58552 ([::1]).
 *
 * And a session timer cycle (RFC 4028): a sipp caller asks for 90 s with
 * itself as refresher, refreshes by re-INVITE with SDP and by UPDATE
 * without; each 200 carries Session-Expires (and SDP for the re-INVITE),
 * and the call still carries RTP after.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "child.h"
#include "relayd_proc.h"
#include "rpc_client.h"
#include "test_time.h"

#define WS_PORT 62300
#define WS_LISTEN "127.0.0.1:62300"
#define SIP_TCP "62310"
#define SIP_TLS 62311
#define SIP_TLS_S "62311"
#define TARGET_TCP "62320"
#define CALLER_TCP "62321"
#define SIP_V6 "58510"
#define SIP_UDP "58511"
#define CALLER_TIMER "58522"
#define CALLER_V6 "58520"
#define TARGET_V6 "58521"
#define RTP_V4 58550
#define RTP_V4_S "58550"
#define RTP_V6 58552
#define RTP_V6_S "58552"
#define PROJECT "transports-project"
#define TOKEN "transports-token-3e7a"
#define NODE "relayd-local"

static relayd_proc server;
static char certs[512];

static int teardown(void **state)
{
    (void)state;
    if (server.pid > 0)
        relayd_proc_stop(&server);
    return 0;
}

/* relayd on TCP and TLS (v4: 1) or on IPv6 UDP (v4: 0). */
static void start_relayd(int v4, const char *log)
{
    char cert_dir[600];
    snprintf(cert_dir, sizeof cert_dir, "%s/sip", certs);
    const char *tcp[] = {"--plain", "--ws-listen", WS_LISTEN, "--sip-listen",
                         "127.0.0.1:" SIP_TCP ";transport=tcp", "--sip-tls-listen",
                         "127.0.0.1:" SIP_TLS_S, "--sip-tls-cert-dir", cert_dir,
                         "--rtp-ports", "58600-58699", "--auth", PROJECT ":" TOKEN,
                         "--sip-log", "1", NULL};
    const char *v6[] = {"--plain", "--ws-listen", WS_LISTEN, "--sip-listen",
                        "[::1]:" SIP_V6 ";transport=udp", "--media-ip6", "::1", "--rtp-ports",
                        "58600-58699", "--auth", PROJECT ":" TOKEN, "--sip-log", "1", NULL};
    assert_int_equal(relayd_proc_start(&server, v4 ? tcp : v6, log), 0);
}

static void stop_relayd(void)
{
    assert_int_equal(relayd_proc_stop(&server), 0); /* clean exit, no leaks */
}

/* ------------------------------------------------------------- client */

typedef rpc_client client;

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void expect_code(json_t *res, const char *code)
{
    assert_non_null(res);
    assert_string_equal(rpc_code_of(res), code);
    json_decref(res);
}

/* Index of the first event of type whose key (NULL: any) has value. */
static int wait_event(client *c, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        for (size_t i = 0; i < json_array_size(c->events); i++)
            if (rpc_event_matches(json_array_get(c->events, i), type, key, value))
                return (int)i;
        if (now_ms() >= end)
            return -1;
        json_decref(rpc_client_pump(c, NULL, 100));
    }
}

static void play_ringtone(client *c, const char *call_id)
{
    expect_code(rpc_client_request(
                    c, "calling.play",
                    json_pack("{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:i}}]}", "call_id", call_id,
                              "node_id", NODE, "control_id", "ring", "play", "type", "ringtone",
                              "params", "name", "us", "duration", 1)),
                "200");
}

static void end_call(client *c, const char *call_id)
{
    expect_code(rpc_client_request(c, "calling.end",
                                   json_pack("{s:s, s:s, s:s}", "call_id", call_id, "node_id",
                                             NODE, "reason", "hangup")),
                "200");
}

/* ---------------------------------------------------------------- RTP */

static int rtp_socket(int v6)
{
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    if (v6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(RTP_V6),
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(RTP_V4),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    }
    return s;
}

/* PCMU RTP packets arriving on sock within ms; *from_v6: the family they
 * came from. */
static int count_rtp(int sock, int ms, int *from_v6)
{
    int n = 0;
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        unsigned char buf[2048];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t len = recvfrom(sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (len >= 12 && (buf[0] & 0xc0) == 0x80 && (buf[1] & 0x7f) == 0) {
            n++;
            *from_v6 = from.ss_family == AF_INET6;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- sipp */

static pid_t sipp(const char *scenario, const char *transport, const char *ip, const char *port,
                  const char *media_port, const char *rtp_port, const char *out_file,
                  const char *target, const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[40] = {"sipp", "-sf", path, "-t", transport, "-i", ip, "-mi", ip, "-p", port,
                            "-mp", media_port, "-m", "1", "-timeout", "30s", "-timeout_error",
                            "-nostdin", "-s", "support", "-key", "rtp_port", rtp_port, "-key",
                            "out_file", out_file};
    int n = 27;
    if (target)
        argv[n++] = target;
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

/* The line sipp wrote to path, split at '|' into a and b. */
static void read_seen(const char *path, char *a, char *b, size_t size)
{
    char line[1024] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    char *bar = strchr(line, '|');
    assert_non_null(bar);
    *bar = '\0';
    snprintf(a, size, "%s", line);
    snprintf(b, size, "%s", bar + 1);
}

static void seen_path(char *out, size_t size, const char *name)
{
    char cwd[300];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(out, size, "%s/%s", cwd, name);
    unlink(out);
}

/* --------------------------------------------------------------- tests */

/* A call in (the sipp caller started already): offered, answered, 1 s of
 * ringtone reaches the test's RTP socket from relayd's RTP socket of the
 * family asked for; then the test hangs up. */
static void answer_play_end(client *c, int v6, int rtp)
{
    int i = wait_event(c, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", str(json_array_get(c->events, (size_t)i), "call_id"));
    expect_code(rpc_client_request(c, "calling.answer",
                                   json_pack("{s:s, s:s}", "call_id", call_id, "node_id", NODE)),
                "200");
    assert_true(wait_event(c, "calling.call.state", "call_state", "answered", 10000) >= 0);
    play_ringtone(c, call_id);
    int from_v6 = -1;
    int packets = count_rtp(rtp, 1500, &from_v6);
    print_message("%s inbound: %d RTP packets in 1.5 s\n", v6 ? "IPv6" : "v4", packets);
    assert_true(packets >= 40); /* 1 s of 20 ms packets, some slack */
    assert_int_equal(from_v6, v6);
    end_call(c, call_id);
    assert_true(wait_event(c, "calling.call.state", "call_state", "ended", 5000) >= 0);
}

/* sipp calls over TCP: relayd's 200 names TCP in its Contact and IPv4 in
 * c=; the ladder says the INVITE came over TCP. */
static void inbound_tcp(void **state)
{
    (void)state;
    char seen[600], cline[512], contact[512];
    seen_path(seen, sizeof seen, "transports-in-tcp.txt");
    start_relayd(1, "relayd-transports-in-tcp.log");
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"support\"]");
    int rtp = rtp_socket(0);
    pid_t p = sipp("uac_transport.xml", "t1", "127.0.0.1", CALLER_TCP, "58700", RTP_V4_S, seen,
                   "127.0.0.1:" SIP_TCP, "sipp-transports-in-tcp.log");
    answer_play_end(&c, 0, rtp);
    assert_int_equal(child_wait(p, 10000), 0); /* BYE came, over TCP */
    rpc_client_close(&c);
    close(rtp);
    stop_relayd();
    read_seen(seen, cline, contact, sizeof cline);
    assert_string_equal(cline, "c=IN IP4 127.0.0.1");
    assert_non_null(strstr(contact, "transport=tcp"));
    assert_true(relayd_proc_log_contains(&server, "[127.0.0.1:" CALLER_TCP "] over TCP"));
}

/* sipp calls relayd on [::1]: the answer's c= is IN IP6 ::1 and RTP comes
 * from an IPv6 socket. */
static void inbound_ipv6(void **state)
{
    (void)state;
    char seen[600], cline[512], contact[512];
    seen_path(seen, sizeof seen, "transports-in-v6.txt");
    start_relayd(0, "relayd-transports-in-v6.log");
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"support\"]");
    int rtp = rtp_socket(1);
    pid_t p = sipp("uac_transport.xml", "u1", "::1", CALLER_V6, "58740", RTP_V6_S, seen,
                   "[::1]:" SIP_V6, "sipp-transports-in-v6.log");
    answer_play_end(&c, 1, rtp);
    assert_int_equal(child_wait(p, 10000), 0);
    rpc_client_close(&c);
    close(rtp);
    stop_relayd();
    read_seen(seen, cline, contact, sizeof cline);
    assert_string_equal(cline, "c=IN IP6 ::1");
    assert_non_null(strstr(contact, "[::1]:" SIP_V6));
    assert_true(relayd_proc_log_contains(&server, "[[::1]:" CALLER_V6 "] over UDP"));
}

/* One outbound case: relayd (listening on the case's family) dials `to`, a sipp UAS
 * on host:port over `transport` (sipp's -t); the call is answered and
 * played to, RTP arrives over the expected family, and sipp saw the
 * expected Via and c= line. */
typedef struct dial_case {
    const char *name; /* for the files */
    const char *transport, *host, *port, *media_port, *rtp_port_s;
    int v6;
    const char *to, *via, *cline;
} dial_case;

static void dial_out(const dial_case *k)
{
    char seen[600], via[512], cline[512], file[128];
    snprintf(file, sizeof file, "transports-%s.txt", k->name);
    seen_path(seen, sizeof seen, file);
    snprintf(file, sizeof file, "relayd-transports-%s.log", k->name);
    start_relayd(!k->v6, file);
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, NULL);
    int rtp = rtp_socket(k->v6);
    snprintf(file, sizeof file, "sipp-transports-%s.log", k->name);
    pid_t t = sipp("uas_transport.xml", k->transport, k->host, k->port, k->media_port,
                   k->rtp_port_s, seen, NULL, file);
    sleep_ms(300); /* let it bind */
    json_t *dev = json_pack("{s:s, s:{s:s, s:i}}", "type", "sip", "params", "to", k->to,
                            "timeout", 10);
    expect_code(rpc_client_request(&c, "calling.dial",
                                   json_pack("{s:s, s:[[o]]}", "tag", k->name, "devices", dev)),
                "200");
    int i = wait_event(&c, "calling.call.dial", "dial_state", "answered", 10000);
    assert_true(i >= 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s",
             str(json_object_get(json_array_get(c.events, (size_t)i), "call"), "call_id"));
    play_ringtone(&c, call_id);
    int from_v6 = -1;
    int packets = count_rtp(rtp, 1500, &from_v6);
    print_message("%d RTP packets in 1.5 s\n", packets);
    assert_true(packets >= 40);
    assert_int_equal(from_v6, k->v6);
    end_call(&c, call_id);
    assert_int_equal(child_wait(t, 10000), 0);
    rpc_client_close(&c);
    close(rtp);
    stop_relayd();
    read_seen(seen, via, cline, sizeof via);
    assert_string_equal(via, k->via);
    assert_string_equal(cline, k->cline);
}

/* relayd dials sip:...;transport=tcp: sipp receives the INVITE over TCP
 * with a TCP Via; the call is answered and played to. */
static void outbound_tcp(void **state)
{
    (void)state;
    dial_out(&(dial_case){"out-tcp", "t1", "127.0.0.1", TARGET_TCP, "58720", RTP_V4_S, 0,
                          "sip:target@127.0.0.1:" TARGET_TCP ";transport=tcp",
                          "Via: SIP/2.0/TCP", "c=IN IP4 127.0.0.1"});
}

/* relayd dials sip:[::1]:PORT: the offer is IN IP6 over an IPv6 UDP
 * transport, and RTP flows over IPv6. */
static void outbound_ipv6(void **state)
{
    (void)state;
    dial_out(&(dial_case){"out-v6", "u1", "::1", TARGET_V6, "58760", RTP_V6_S, 1,
                          "sip:target@[::1]:" TARGET_V6, "Via: SIP/2.0/UDP", "c=IN IP6 ::1"});
}

/* ----------------------------------------------------------------- TLS
 * The caller is this test: an OpenSSL client that checks relayd's
 * certificate against the CA, sends an INVITE, ACKs the 200 and answers
 * relayd's BYE, all on one TLS connection. */

typedef struct tls_peer {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char buf[16384];
    size_t len;
    int local_port;
} tls_peer;

static void tls_open(tls_peer *t)
{
    memset(t, 0, sizeof *t);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(t->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SIP_TLS),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(t->fd, (struct sockaddr *)&a, sizeof a), 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(t->fd, (struct sockaddr *)&me, &ml);
    t->local_port = ntohs(me.sin_port);
    t->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(t->ctx);
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    assert_int_equal(SSL_CTX_load_verify_locations(t->ctx, ca, NULL), 1);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    t->ssl = SSL_new(t->ctx);
    SSL_set_fd(t->ssl, t->fd);
    assert_int_equal(SSL_set1_host(t->ssl, "localhost"), 1);
    assert_int_equal(SSL_connect(t->ssl), 1); /* relayd's certificate verified */
}

static void tls_close(tls_peer *t)
{
    SSL_shutdown(t->ssl);
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
}

static void tls_send(tls_peer *t, const char *msg)
{
    assert_int_equal(SSL_write(t->ssl, msg, (int)strlen(msg)), (int)strlen(msg));
}

/* The next whole SIP message into out (NUL-terminated), pumping the RELAY
 * client meanwhile; -1 after timeout_ms. */
static int tls_next(tls_peer *t, client *c, char *out, size_t size, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        char *head_end = NULL;
        if (t->len) {
            t->buf[t->len] = '\0';
            head_end = strstr(t->buf, "\r\n\r\n");
        }
        if (head_end) {
            size_t body = 0;
            const char *cl = strstr(t->buf, "\r\nContent-Length:");
            if (!cl)
                cl = strstr(t->buf, "\r\nl:");
            if (cl && cl < head_end)
                body = (size_t)atoi(strchr(cl + 2, ':') + 1);
            size_t whole = (size_t)(head_end + 4 - t->buf) + body;
            if (t->len >= whole) {
                assert_true(whole < size);
                memcpy(out, t->buf, whole);
                out[whole] = '\0';
                memmove(t->buf, t->buf + whole, t->len - whole);
                t->len -= whole;
                return 0;
            }
        }
        if (now_ms() >= end)
            return -1;
        if (!SSL_pending(t->ssl)) {
            struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
            if (poll(&pfd, 1, 50) <= 0) {
                json_decref(rpc_client_pump(c, NULL, 20));
                continue;
            }
        }
        int n = SSL_read(t->ssl, t->buf + t->len, (int)(sizeof t->buf - 1 - t->len));
        if (n <= 0) {
            int e = SSL_get_error(t->ssl, n);
            assert_true(e == SSL_ERROR_WANT_READ);
            continue;
        }
        t->len += (size_t)n;
    }
}

/* The value of header name (at a line start) in msg, into out. */
static int header(const char *msg, const char *name, char *out, size_t size)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strstr(msg, key);
    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, size, "%.*s", (int)n, p);
    return 0;
}

static void tls_call(void **state)
{
    (void)state;
    /* sofia's own leak of each TLS connection's SSL (tests/lsan-sofia-tls.supp
     * says which); everything else still counts */
    char lsan[700];
    snprintf(lsan, sizeof lsan, "suppressions=%s/tests/lsan-sofia-tls.supp:print_suppressions=0",
             getenv("RELAY_SOURCE_DIR"));
    char *old_lsan = getenv("LSAN_OPTIONS") ? strdup(getenv("LSAN_OPTIONS")) : NULL;
    char *old_asan = getenv("ASAN_OPTIONS") ? strdup(getenv("ASAN_OPTIONS")) : NULL;
    setenv("LSAN_OPTIONS", lsan, 1);
    setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0", 1);
    start_relayd(1, "relayd-transports-tls.log");
    if (old_lsan)
        setenv("LSAN_OPTIONS", old_lsan, 1);
    if (old_asan)
        setenv("ASAN_OPTIONS", old_asan, 1);
    free(old_lsan);
    free(old_asan);
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"support\"]");
    int rtp = rtp_socket(0);
    tls_peer t;
    tls_open(&t);
    char sdp[256], msg[4096];
    snprintf(sdp, sizeof sdp,
             "v=0\r\no=tls 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
             RTP_V4);
    snprintf(msg, sizeof msg,
             "INVITE sips:support@127.0.0.1:%d SIP/2.0\r\n"
             "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tls-invite;rport\r\n"
             "From: <sips:caller@127.0.0.1>;tag=tls-from\r\n"
             "To: <sips:support@127.0.0.1:%d>\r\n"
             "Call-ID: tls-call@127.0.0.1\r\n"
             "CSeq: 1 INVITE\r\n"
             "Contact: <sips:caller@127.0.0.1:%d>\r\n"
             "Max-Forwards: 70\r\n"
             "Content-Type: application/sdp\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             SIP_TLS, t.local_port, SIP_TLS, t.local_port, strlen(sdp), sdp);
    tls_send(&t, msg);

    int i = wait_event(&c, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", str(json_array_get(c.events, (size_t)i), "call_id"));
    expect_code(rpc_client_request(&c, "calling.answer",
                                   json_pack("{s:s, s:s}", "call_id", call_id, "node_id", NODE)),
                "200");
    char resp[8192], to[256], contact[256];
    do
        assert_int_equal(tls_next(&t, &c, resp, sizeof resp, 10000), 0);
    while (strncmp(resp, "SIP/2.0 200", 11) != 0);
    assert_non_null(strstr(resp, "c=IN IP4 127.0.0.1\r\n"));
    assert_int_equal(header(resp, "To", to, sizeof to), 0);
    assert_int_equal(header(resp, "Contact", contact, sizeof contact), 0);
    assert_non_null(strstr(contact, "sips:")); /* relayd names itself over TLS */
    char target[256];
    snprintf(target, sizeof target, "%.*s", (int)strcspn(contact + 1, ">"), contact + 1);
    snprintf(msg, sizeof msg,
             "ACK %s SIP/2.0\r\n"
             "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tls-ack;rport\r\n"
             "From: <sips:caller@127.0.0.1>;tag=tls-from\r\n"
             "To: %s\r\n"
             "Call-ID: tls-call@127.0.0.1\r\n"
             "CSeq: 1 ACK\r\n"
             "Max-Forwards: 70\r\n"
             "Content-Length: 0\r\n\r\n",
             target, t.local_port, to);
    tls_send(&t, msg);
    assert_true(wait_event(&c, "calling.call.state", "call_state", "answered", 10000) >= 0);

    play_ringtone(&c, call_id);
    int from_v6 = -1;
    int packets = count_rtp(rtp, 1500, &from_v6);
    print_message("%d RTP packets in 1.5 s\n", packets);
    assert_true(packets >= 40);
    assert_int_equal(from_v6, 0);
    end_call(&c, call_id);
    /* relayd's BYE comes on the same connection: answer it */
    char bye[4096], via[256], from[256], cseq[64];
    do
        assert_int_equal(tls_next(&t, &c, bye, sizeof bye, 10000), 0);
    while (strncmp(bye, "BYE ", 4) != 0);
    assert_non_null(strstr(bye, "\r\nVia: SIP/2.0/TLS "));
    assert_int_equal(header(bye, "Via", via, sizeof via), 0);
    assert_int_equal(header(bye, "From", from, sizeof from), 0);
    assert_int_equal(header(bye, "To", to, sizeof to), 0);
    assert_int_equal(header(bye, "CSeq", cseq, sizeof cseq), 0);
    snprintf(msg, sizeof msg,
             "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: tls-call@127.0.0.1\r\n"
             "CSeq: %s\r\nContent-Length: 0\r\n\r\n",
             via, from, to, cseq);
    tls_send(&t, msg);
    assert_true(wait_event(&c, "calling.call.state", "call_state", "ended", 5000) >= 0);
    tls_close(&t);
    rpc_client_close(&c);
    close(rtp);
    stop_relayd();
    assert_true(relayd_proc_log_contains(&server, "over TLS"));
    assert_true(relayd_proc_log_contains(&server, "sip <- 200 OK (BYE)"));
}

static int setup(void **state)
{
    (void)state;
    char cwd[300];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(certs, sizeof certs, "%s/transports-certs", cwd);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "bash %s/scripts/gen-certs.sh %s >/dev/null",
             getenv("RELAY_SOURCE_DIR"), certs);
    return system(cmd) == 0 ? 0 : -1;
}

/* The whole text of path ("" if none yet). */
static void read_all(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void session_timer_refreshes(void **state)
{
    (void)state;
    char seen[600], text[2048];
    seen_path(seen, sizeof seen, "transports-session-timer.txt");
    const char *args[] = {"--plain", "--ws-listen", WS_LISTEN, "--sip-listen",
                          "127.0.0.1:" SIP_UDP ";transport=udp", "--rtp-ports", "58600-58699",
                          "--auth", PROJECT ":" TOKEN, "--sip-log", "1", NULL};
    assert_int_equal(relayd_proc_start(&server, args, "relayd-transports-timer.log"), 0);
    client c;
    rpc_client_open(&c, WS_PORT, PROJECT, TOKEN, "[\"support\"]");
    int rtp = rtp_socket(0);
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_session_timer.xml",
             getenv("RELAY_SOURCE_DIR"));
    const char *argv[] = {"sipp", "-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p",
                          CALLER_TIMER, "-mp", "58780", "-m", "1", "-timeout", "30s",
                          "-timeout_error", "-nostdin", "-s", "support", "-key", "rtp_port",
                          RTP_V4_S, "-key", "out_file", seen, "127.0.0.1:" SIP_UDP, NULL};
    pid_t p = child_spawn(argv, "sipp-transports-timer.log");
    assert_true(p > 0);
    int i = wait_event(&c, "calling.call.receive", NULL, NULL, 10000);
    assert_true(i >= 0);
    char call_id[64];
    snprintf(call_id, sizeof call_id, "%s", str(json_array_get(c.events, (size_t)i), "call_id"));
    expect_code(rpc_client_request(&c, "calling.answer",
                                   json_pack("{s:s, s:s}", "call_id", call_id, "node_id", NODE)),
                "200");
    /* both refreshes answered (sipp writes a line after each) */
    int64_t end = now_ms() + 10000;
    do {
        json_decref(rpc_client_pump(&c, NULL, 100));
        read_all(seen, text, sizeof text);
    } while (!strstr(text, "update|") && now_ms() < end);
    print_message("sipp saw: %s", text);
    assert_non_null(strstr(text, "reinvite|Session-Expires: 90;refresher=uac|m=audio "));
    assert_non_null(strstr(text, "update|Session-Expires: 90;refresher=uac"));
    /* the call lives on, media and all */
    assert_int_equal(wait_event(&c, "calling.call.state", "call_state", "ended", 0), -1);
    play_ringtone(&c, call_id);
    int from_v6 = -1;
    int packets = count_rtp(rtp, 1500, &from_v6);
    print_message("after the refreshes: %d RTP packets in 1.5 s\n", packets);
    assert_true(packets >= 40);
    end_call(&c, call_id);
    assert_true(wait_event(&c, "calling.call.state", "call_state", "ended", 5000) >= 0);
    assert_int_equal(child_wait(p, 10000), 0);
    rpc_client_close(&c);
    close(rtp);
    stop_relayd();
    assert_true(relayd_proc_log_contains(&server, "sip <- re-INVITE ["));
    assert_true(relayd_proc_log_contains(&server, "sip <- UPDATE without SDP"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(inbound_tcp, teardown),
        cmocka_unit_test_teardown(outbound_tcp, teardown),
        cmocka_unit_test_teardown(tls_call, teardown),
        cmocka_unit_test_teardown(inbound_ipv6, teardown),
        cmocka_unit_test_teardown(outbound_ipv6, teardown),
        cmocka_unit_test_teardown(session_timer_refreshes, teardown),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
