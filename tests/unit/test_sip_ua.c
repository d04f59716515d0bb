/*
 * The SIP UA against a real SIP peer: sipp runs each scenario in
 * tests/unit/sip/ as the caller, on loopback, while this process runs a
 * su_root with a sip_ua in it. Each test asserts what the UA reported
 * (incoming call info, refer progress, end reason) and that sipp's
 * scenario, which checks our messages, passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "media/rtp.h"
#include "media/session.h"
#include "sip/sdp.h"
#include "sip/sip_ua.h"

#include <arpa/inet.h>

#define REFER_TARGET "sip:bob@127.0.0.1:15999;transport=udp"

static su_root_t *root;
static media_engine *media; /* the legs' media sessions run here */

/* What one scenario did, as seen by the UA's callbacks. */
typedef struct progress {
    sip_refer_kind kind;
    int status;
    int final;
    char phrase[48];
} progress;

static struct run {
    /* behaviour */
    int reject_status;      /* on_incoming returns this */
    int ring_only;          /* ring but do not answer (CANCEL scenario) */
    const char *username, *password;
    int refer;              /* refer once established */
    /* observations */
    sip_leg *leg;
    int incoming, established, terminated;
    char end_reason[32];
    char request_user[32], from_uri[96], from_name[48], to_uri[96], call_id[96];
    int answer_rc, refer_rc;
    int rtp_port;
    progress p[8];
    int np;
    char log[32768];
} R;

static void capture(relay_log_level level, const char *line, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "  | %s\n", line);
    strncat(R.log, line, sizeof R.log - strlen(R.log) - 2);
    strcat(R.log, "\n");
}

static const log_sink test_log = {.fn = capture, .level = RELAY_LOG_INFO};

static int on_incoming(void *user, sip_leg *leg, const sip_leg_info *info)
{
    (void)user;
    R.incoming++;
    R.leg = leg;
    snprintf(R.request_user, sizeof R.request_user, "%s", info->request_user);
    snprintf(R.from_uri, sizeof R.from_uri, "%s", info->from_uri);
    snprintf(R.from_name, sizeof R.from_name, "%s", info->from_name);
    snprintf(R.to_uri, sizeof R.to_uri, "%s", info->to_uri);
    snprintf(R.call_id, sizeof R.call_id, "%s", info->sip_call_id);
    if (R.reject_status)
        return R.reject_status;
    sip_leg_set_user(leg, &R);
    assert_int_equal(sip_leg_ring(leg), 0);
    if (!R.ring_only) {
        R.answer_rc = sip_leg_answer(leg);
        if (R.answer_rc == 0) {
            assert_non_null(sip_leg_rtp(leg));
            R.rtp_port = media_rtp_local_port(sip_leg_rtp(leg));
        }
    }
    return 0;
}

static void on_established(void *user, sip_leg *leg)
{
    (void)user;
    R.established++;
    assert_ptr_equal(sip_leg_get_user(leg), &R);
    if (R.refer) {
        R.refer_rc = sip_leg_refer(leg, REFER_TARGET, sip_leg_local_uri(leg), R.username,
                                   R.password, "X-Relay-Test: 1");
        /* one REFER at a time */
        assert_int_equal(sip_leg_refer(leg, REFER_TARGET, NULL, NULL, NULL, NULL), -1);
    }
}

static void on_refer_progress(void *user, sip_leg *leg, const sip_refer_progress *p)
{
    (void)user;
    assert_ptr_equal(leg, R.leg);
    if (R.np < 8) {
        progress *q = &R.p[R.np++];
        q->kind = p->kind;
        q->status = p->status;
        q->final = p->final;
        snprintf(q->phrase, sizeof q->phrase, "%s", p->phrase);
    }
    if (p->final) /* as relayd does after a refer: end our leg */
        assert_int_equal(sip_leg_hangup(leg, 0), 0);
}

static void on_terminated(void *user, sip_leg *leg, const char *end_reason)
{
    (void)user;
    assert_ptr_equal(leg, R.leg);
    R.terminated++;
    snprintf(R.end_reason, sizeof R.end_reason, "%s", end_reason);
    R.leg = NULL;
}

static const sip_ua_callbacks callbacks = {
    .on_incoming = on_incoming,
    .on_established = on_established,
    .on_terminated = on_terminated,
    .on_refer_progress = on_refer_progress,
};

/* Starts sipp on scenario `name` against 127.0.0.1:ua_port. */
static pid_t sipp_start(const char *name, int ua_port, int sipp_port)
{
    const char *src = getenv("RELAY_SOURCE_DIR");
    assert_non_null(src);
    char scenario[512], target[64], lport[16], mport[16];
    snprintf(scenario, sizeof scenario, "%s/tests/unit/sip/%s.xml", src, name);
    snprintf(target, sizeof target, "127.0.0.1:%d", ua_port);
    snprintf(lport, sizeof lport, "%d", sipp_port);
    snprintf(mport, sizeof mport, "%d", 40900 + 4 * (sipp_port % 20)); /* audio, video = +2 */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1); /* sipp's statistics screen */
        /* SIPP_TRACE=1 in the environment: every message sipp saw goes to
         * /tmp/sipp-<scenario>.log */
        char trace[600];
        snprintf(trace, sizeof trace, "/tmp/sipp-%s.log", name);
        int tr = getenv("SIPP_TRACE") != NULL;
        char *argv[] = {"sipp", target, "-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1",
                        "-p", lport, "-mp", mport, "-s", "service", "-m", "1", "-timeout", "20s",
                        "-timeout_error", "-nostdin",
                        tr ? "-trace_msg" : NULL, "-message_file", trace, NULL};
        execvp("sipp", argv);
        fprintf(stderr, "cannot run sipp: is sip-tester installed?\n");
        _exit(127);
    }
    return pid;
}

/* Runs the root until sipp has exited and the leg is gone (or a deadline).
 * Returns sipp's exit status. */
static int run_until_done(pid_t sipp, int want_terminated)
{
    int status = -1, exited = 0;
    su_time_t start = su_now();
    while (su_duration(su_now(), start) < 25000) {
        su_root_step(root, 20);
        if (!exited && waitpid(sipp, &status, WNOHANG) == sipp)
            exited = 1;
        if (exited && R.terminated >= want_terminated)
            break;
    }
    if (!exited) {
        kill(sipp, SIGKILL);
        waitpid(sipp, &status, 0);
        fail_msg("sipp did not finish in time");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static sip_ua *ua_start(int port, int refer_timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "sip:127.0.0.1:%d", port);
    sip_ua_config cfg = {
        .bind_url = url,
        .media_ip = "127.0.0.1",
        .rtp_port_min = 40000,
        .rtp_port_max = 40400,
        .media = media,
        .refer_timeout_ms = refer_timeout_ms,
        .user_agent = "relayd-test",
        .log = &test_log,
    };
    sip_ua *ua = sip_ua_create(root, &cfg, &callbacks);
    assert_non_null(ua);
    return ua;
}

/* One scenario end to end: UA on 15000 + 2k, sipp on 15500 + k, sipp media on
 * 40900 + 4k; the UA's RTP in 40000-40400 (test_media uses 40400-40900). */
static void run_scenario(const char *name, int k, int refer_timeout_ms)
{
    int ua_port = 15000 + 2 * k, sipp_port = 15500 + k;
    sip_ua *ua = ua_start(ua_port, refer_timeout_ms);
    pid_t sipp = sipp_start(name, ua_port, sipp_port);
    int rc = run_until_done(sipp, 1);
    sip_ua_destroy(ua, 3000);
    if (rc != 0)
        fail_msg("sipp scenario %s failed (exit %d)", name, rc);
}

static int setup(void **state)
{
    (void)state;
    memset(&R, 0, sizeof R);
    return 0;
}

static void assert_progress(int i, sip_refer_kind kind, int status, int final)
{
    assert_true(i < R.np);
    if (R.p[i].kind != kind || R.p[i].status != status || R.p[i].final != final)
        fail_msg("progress %d: kind %d status %d final %d; wanted %d %d %d", i, R.p[i].kind,
                 R.p[i].status, R.p[i].final, kind, status, final);
}

/* ------------------------------------------------------------------ tests */

static void refer_accepted_and_completed(void **state)
{
    (void)state;
    R.refer = 1;
    run_scenario("refer_ok", 0, 5000);
    assert_int_equal(R.incoming, 1);
    assert_string_equal(R.request_user, "service");
    assert_string_equal(R.from_name, "\"Alice Caller\"");
    assert_string_equal(R.from_uri, "sip:alice@127.0.0.1:15500");
    assert_string_equal(R.to_uri, "sip:service@127.0.0.1:15000");
    assert_non_null(strstr(R.call_id, "@127.0.0.1") ? R.call_id : "has a Call-ID");
    assert_int_equal(R.answer_rc, 0);
    assert_true(R.rtp_port >= 40000 && R.rtp_port < 40400 && R.rtp_port % 2 == 0);
    assert_int_equal(R.established, 1);
    assert_int_equal(R.refer_rc, 0);
    assert_int_equal(R.np, 3);
    assert_progress(0, SIP_REFER_RESPONSE, 202, 0);
    assert_progress(1, SIP_REFER_NOTIFY, 100, 0);
    assert_string_equal(R.p[1].phrase, "Trying");
    assert_progress(2, SIP_REFER_NOTIFY, 200, 1);
    assert_string_equal(R.p[2].phrase, "OK");
    assert_int_equal(R.terminated, 1);
    assert_string_equal(R.end_reason, "hangup");
    /* the ladder: every message in and out */
    const char *ladder[] = {"sip <- INVITE", "sip -> 180 Ringing", "sip -> 200 OK (PCMA",
                            "sip <- ACK", "sip -> REFER <" REFER_TARGET ">", "sip <- 202",
                            "sip <- NOTIFY refer 100 Trying", "sip <- NOTIFY refer 200 OK",
                            "sip -> BYE", "sip <- 200 OK (BYE)"};
    const char *at = R.log;
    for (size_t i = 0; i < sizeof ladder / sizeof *ladder; i++) {
        const char *found = strstr(at, ladder[i]);
        if (!found)
            fail_msg("ladder line missing or out of order: %s", ladder[i]);
        at = found;
    }
}

static void refer_rejected_603(void **state)
{
    (void)state;
    R.refer = 1;
    run_scenario("refer_reject", 1, 5000);
    assert_int_equal(R.np, 1);
    assert_progress(0, SIP_REFER_RESPONSE, 603, 1);
    assert_string_equal(R.p[0].phrase, "Decline");
    assert_string_equal(R.end_reason, "hangup");
}

static void refer_target_busy(void **state)
{
    (void)state;
    R.refer = 1;
    run_scenario("refer_busy", 2, 5000);
    assert_int_equal(R.np, 3);
    assert_progress(0, SIP_REFER_RESPONSE, 202, 0);
    assert_progress(1, SIP_REFER_NOTIFY, 100, 0);
    assert_progress(2, SIP_REFER_NOTIFY, 486, 1);
    assert_string_equal(R.p[2].phrase, "Busy Here");
}

static void refer_times_out_without_notify(void **state)
{
    (void)state;
    R.refer = 1;
    su_time_t t0 = su_now();
    run_scenario("refer_timeout", 3, 800);
    double ms = su_duration(su_now(), t0);
    assert_int_equal(R.np, 2);
    assert_progress(0, SIP_REFER_RESPONSE, 202, 0);
    assert_progress(1, SIP_REFER_TIMEOUT, 0, 1);
    assert_true(ms >= 800);
}

static void refer_with_digest_credentials(void **state)
{
    (void)state;
    R.refer = 1;
    R.username = "transfer";
    R.password = "s3cret";
    run_scenario("refer_auth", 4, 5000);
    /* the 401 is answered inside the UA; the core sees the 202 */
    assert_int_equal(R.np, 2);
    assert_progress(0, SIP_REFER_RESPONSE, 202, 0);
    assert_progress(1, SIP_REFER_NOTIFY, 200, 1);
    assert_null(strstr(R.log, "s3cret"));
}

static void refer_challenge_without_credentials_fails(void **state)
{
    (void)state;
    R.refer = 1; /* no credentials: the 407 is final */
    run_scenario("refer_auth_none", 5, 5000);
    assert_int_equal(R.np, 1);
    assert_progress(0, SIP_REFER_RESPONSE, 407, 1);
}

static void remote_bye_ends_the_leg(void **state)
{
    (void)state;
    run_scenario("remote_bye", 6, 5000);
    assert_int_equal(R.established, 1);
    assert_int_equal(R.np, 0);
    assert_int_equal(R.terminated, 1);
    assert_string_equal(R.end_reason, "hangup");
    assert_non_null(strstr(R.log, "sip <- BYE"));
}

static void no_common_codec_is_488(void **state)
{
    (void)state;
    run_scenario("no_codec", 7, 5000);
    /* refused by the UA itself: the core is never offered the call */
    assert_int_equal(R.incoming, 0);
    assert_int_equal(R.terminated, 0);
    assert_non_null(strstr(R.log, "sip -> 488"));
    assert_non_null(strstr(R.log, "no common codec"));
}

static void cancel_while_ringing(void **state)
{
    (void)state;
    R.ring_only = 1;
    run_scenario("cancel", 8, 5000);
    assert_int_equal(R.terminated, 1);
    assert_string_equal(R.end_reason, "cancel");
}

static void rejected_call_is_not_reported(void **state)
{
    (void)state;
    R.reject_status = 486;
    int ua_port = 15000 + 2 * 9;
    sip_ua *ua = ua_start(ua_port, 5000);
    pid_t sipp = sipp_start("rejected_busy", ua_port, 15500 + 9);
    int rc = run_until_done(sipp, 0);
    sip_ua_destroy(ua, 3000);
    assert_int_equal(rc, 0);
    assert_int_equal(R.incoming, 1);
    assert_int_equal(R.terminated, 0); /* the core never took it */
    assert_non_null(strstr(R.log, "sip -> 486 Busy Here"));
}

static void port_in_use_fails_cleanly(void **state)
{
    (void)state;
    sip_ua *a = ua_start(15100, 1000);
    sip_ua_config cfg = {.bind_url = "sip:127.0.0.1:15100", .media_ip = "127.0.0.1",
                         .rtp_port_min = 40000, .rtp_port_max = 40400, .media = media,
                         .log = &test_log};
    assert_null(sip_ua_create(root, &cfg, &callbacks));
    assert_non_null(strstr(R.log, "cannot listen on sip:127.0.0.1:15100"));
    cfg.bind_url = "sip:127.0.0.1:15102";
    cfg.media_ip = "not-an-ip";
    assert_null(sip_ua_create(root, &cfg, &callbacks));
    sip_ua_destroy(a, 3000);
}

static void sdp_offers_and_answers(void **state)
{
    (void)state;
    sdp_audio_offer o;
    int no_codec;
    const char *why;
    const char *static_only = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
                              "t=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n";
    assert_int_equal(sdp_audio_offer_parse(static_only, strlen(static_only), &o, &no_codec, &why), 0);
    assert_int_equal(o.pt, RTP_PT_PCMU);
    assert_int_equal(o.te_pt, -1);
    assert_int_equal(ntohs(((struct sockaddr_in *)&o.remote)->sin_port), 4000);
    assert_int_equal(((struct sockaddr_in *)&o.remote)->sin_addr.s_addr, inet_addr("10.0.0.2"));

    const char *pcma_later = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
                             "m=audio 5000 RTP/AVP 18 8 0 96\r\nc=IN IP4 10.0.0.3\r\n"
                             "a=rtpmap:18 G729/8000\r\na=rtpmap:96 telephone-event/8000\r\n";
    assert_int_equal(sdp_audio_offer_parse(pcma_later, strlen(pcma_later), &o, &no_codec, &why), 0);
    assert_int_equal(o.pt, RTP_PT_PCMA);
    assert_int_equal(o.te_pt, 96);
    assert_int_equal(((struct sockaddr_in *)&o.remote)->sin_addr.s_addr, inet_addr("10.0.0.3"));

    /* IPv6 (RFC 4566 addrtype IP6): the remote is an AF_INET6 address,
     * c=IN IP6 :: holds as 0.0.0.0 does, and our SDP on an IPv6 address
     * says IP6 in o= and c= */
    const char *v6 = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\n"
                     "t=0 0\r\nm=audio 4006 RTP/AVP 0\r\n";
    assert_int_equal(sdp_audio_offer_parse(v6, strlen(v6), &o, &no_codec, &why), 0);
    assert_int_equal(o.remote.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&o.remote)->sin6_port), 4006);
    assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&o.remote)->sin6_addr));
    assert_true(o.peer_receives);
    const char *v6_hold = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::\r\n"
                          "t=0 0\r\nm=audio 4006 RTP/AVP 0\r\n";
    assert_int_equal(sdp_audio_offer_parse(v6_hold, strlen(v6_hold), &o, &no_codec, &why), 0);
    assert_false(o.peer_receives);
    char b6[512];
    assert_true(sdp_audio_answer_write(b6, sizeof b6, "::1", 40002, RTP_PT_PCMU, -1, "sendrecv", 42, 1) > 0);
    assert_non_null(strstr(b6, "o=relayd 42 1 IN IP6 ::1\r\n"));
    assert_non_null(strstr(b6, "c=IN IP6 ::1\r\n"));
    assert_true(sdp_audio_offer_write(b6, sizeof b6, "::1", 40002, NULL, 0, 101, "sendrecv", 42, 1) > 0);
    assert_non_null(strstr(b6, "c=IN IP6 ::1\r\n"));

    const char *video = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
                        "t=0 0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
    assert_int_equal(sdp_audio_offer_parse(video, strlen(video), &o, &no_codec, &why), -1);
    assert_int_equal(no_codec, 1);
    assert_int_equal(sdp_audio_offer_parse("garbage", 7, &o, &no_codec, &why), -1);
    assert_int_equal(sdp_audio_offer_parse(NULL, 0, &o, &no_codec, &why), -1);
    assert_int_equal(no_codec, 1); /* no offer: 488 */

    char buf[512];
    assert_true(sdp_audio_answer_write(buf, sizeof buf, "127.0.0.1", 40002, RTP_PT_PCMA, 101, "sendrecv", 42, 1) > 0);
    assert_non_null(strstr(buf, "c=IN IP4 127.0.0.1\r\n"));
    assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 8 101\r\n"));
    assert_non_null(strstr(buf, "a=rtpmap:8 PCMA/8000\r\n"));
    assert_non_null(strstr(buf, "a=rtpmap:101 telephone-event/8000\r\n"));
    assert_non_null(strstr(buf, "a=sendrecv\r\n"));
    assert_true(sdp_audio_answer_write(buf, sizeof buf, "127.0.0.1", 40002, RTP_PT_PCMU, -1, "sendrecv", 42, 1) > 0);
    assert_null(strstr(buf, "telephone-event"));
    assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 0\r\n"));
    assert_int_equal(sdp_audio_answer_write(buf, 20, "127.0.0.1", 40002, 0, -1, "sendrecv", 42, 1), -1);

    /* RFC 3264 6: every offered m= line answered, in order; only ours open */
    const char *mixed = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                        "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                        "m=audio 4000 RTP/AVP 8\r\nm=audio 4004 RTP/AVP 0\r\n"
                        "m=application 5000 TCP/BFCP *\r\n";
    assert_int_equal(sdp_audio_offer_parse(mixed, strlen(mixed), &o, &no_codec, &why), 0);
    assert_int_equal(o.n_media, 4);
    assert_int_equal(o.audio_index, 1);
    assert_int_equal(ntohs(((struct sockaddr_in *)&o.remote)->sin_port), 4000);
    char big[1024];
    assert_true(sdp_audio_answer_write_all(big, sizeof big, "127.0.0.1", 40002, o.pt, -1,
                                           "sendrecv", 42, 1, &o) > 0);
    const char *v = strstr(big, "m=video 0 RTP/AVP 96\r\n");
    const char *a = strstr(big, "m=audio 40002 RTP/AVP 8\r\n");
    const char *a2 = strstr(big, "m=audio 0 RTP/AVP 0\r\n");
    const char *app = strstr(big, "m=application 0 TCP/BFCP *\r\n");
    assert_true(v && a && a2 && app && v < a && a < a2 && a2 < app);
    assert_int_equal(sdp_audio_answer_write_all(big, 200, "127.0.0.1", 40002, o.pt, -1,
                                                "sendrecv", 42, 1, &o), -1);
}

/* RFC 3264 directions: what the peer's offer says it does, and what we
 * answer (also while we hold it). */
static void sdp_directions(void **state)
{
    (void)state;
    sdp_audio_offer o;
    int no_codec;
    const char *why;
    static const struct {
        const char *attr, *addr, *answer, *answer_holding;
        int sends, receives;
    } cases[] = {
        {"", "10.0.0.2", "sendrecv", "recvonly", 1, 1},
        {"a=sendrecv\r\n", "10.0.0.2", "sendrecv", "recvonly", 1, 1},
        {"a=sendonly\r\n", "10.0.0.2", "recvonly", "recvonly", 1, 0},
        {"a=recvonly\r\n", "10.0.0.2", "sendonly", "inactive", 0, 1},
        {"a=inactive\r\n", "10.0.0.2", "inactive", "inactive", 0, 0},
        {"", "0.0.0.0", "recvonly", "recvonly", 1, 0}, /* RFC 2543 hold */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sdp[256];
        snprintf(sdp, sizeof sdp,
                 "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                 "m=audio 4000 RTP/AVP 0\r\n%s",
                 cases[i].addr, cases[i].attr);
        assert_int_equal(sdp_audio_offer_parse(sdp, strlen(sdp), &o, &no_codec, &why), 0);
        assert_int_equal(o.peer_sends, cases[i].sends);
        assert_int_equal(o.peer_receives, cases[i].receives);
        assert_string_equal(sdp_answer_direction(&o, 0), cases[i].answer);
        assert_string_equal(sdp_answer_direction(&o, 1), cases[i].answer_holding);
    }
    char buf[512];
    assert_true(sdp_audio_offer_write(buf, sizeof buf, "127.0.0.1", 40002, NULL, 0, 101, "sendrecv", 7, 1) > 0);
    assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 0 8 101\r\n"));
    assert_non_null(strstr(buf, "a=rtpmap:101 telephone-event/8000\r\n"));
    /* codecs: only and in the order asked */
    const int pcma[] = {8}, reversed[] = {8, 0}, other[] = {18};
    assert_true(sdp_audio_offer_write(buf, sizeof buf, "127.0.0.1", 40002, pcma, 1, 101,
                                      "sendrecv", 7, 1) > 0);
    assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 8 101\r\n"));
    assert_null(strstr(buf, "PCMU"));
    assert_true(sdp_audio_offer_write(buf, sizeof buf, "127.0.0.1", 40002, reversed, 2, 101,
                                      "sendrecv", 7, 1) > 0);
    assert_non_null(strstr(buf, "m=audio 40002 RTP/AVP 8 0 101\r\n"));
    assert_int_equal(sdp_audio_offer_write(buf, sizeof buf, "127.0.0.1", 40002, other, 1, 101,
                                           "sendrecv", 7, 1), -1);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    su_init();
    root = su_root_create(NULL);
    media = media_engine_create(1);
    return root && media ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    su_root_destroy(root);
    media_engine_destroy(media);
    su_deinit();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sdp_offers_and_answers),
        cmocka_unit_test(sdp_directions),
        cmocka_unit_test_setup(refer_accepted_and_completed, setup),
        cmocka_unit_test_setup(refer_rejected_603, setup),
        cmocka_unit_test_setup(refer_target_busy, setup),
        cmocka_unit_test_setup(refer_times_out_without_notify, setup),
        cmocka_unit_test_setup(refer_with_digest_credentials, setup),
        cmocka_unit_test_setup(refer_challenge_without_credentials_fails, setup),
        cmocka_unit_test_setup(remote_bye_ends_the_leg, setup),
        cmocka_unit_test_setup(no_common_codec_is_488, setup),
        cmocka_unit_test_setup(cancel_while_ringing, setup),
        cmocka_unit_test_setup(rejected_call_is_not_reported, setup),
        cmocka_unit_test_setup(port_in_use_fails_cleanly, setup),
    };
    if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='refer_*' to run some */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
