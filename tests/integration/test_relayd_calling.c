/*
 * relayd's calling methods through librelay's public API, against a real
 * relayd process and real sipp callers: the method descriptors' checks
 * (409 before answer, 501 for a table method relayd does not serve,
 * -32601 for a name not in the table), calling.pass between two sessions
 * on one context (and 480 when every session passes), and
 * calling.play.volume — checked on the RTP the test itself receives.
 *
 * pass and volume go through their typed wrappers (relay_call_pass,
 * relay_action_volume); hostile variants go through relay_call_execute().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"
#include "g711_oracle.h"

#define WS_PORT 61160
#define SIP_PORT "35601"
#define SIPP_PORT "35602"
#define SIPP_MEDIA_PORT "35610"
#define RTP_LISTEN_PORT 35620
#define HOOK_PORT "61163"
#define PROJECT "calling-project"
#define TOKEN "calling-token-7c1d"

static relayd_proc server;

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61160", "--sip-listen",
                          "127.0.0.1:" SIP_PORT, "--rtp-ports", "35700-35799", "--auth",
                          PROJECT ":" TOKEN, "--log-level", "debug",
                          /* the play's status_url goes to the test's own sink */
                          "--webhook-allow", "127.0.0.1/32", NULL};
    return relayd_proc_start(&server, args, "relayd-calling.log");
}

static void pass_state_free(void);

static int teardown(void **state)
{
    (void)state;
    pass_state_free();
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* A connected client, or NULL. No cmocka asserts: a forked child uses it. */
static relay_client *client_try(relay_call_handler on_call, relay_event_handler on_event,
                                void *user)
{
    static const char *const contexts[] = {"office", NULL};
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = WS_PORT;
    o.plain_ws = 1;
    o.project = PROJECT;
    o.token = TOKEN;
    o.contexts = contexts;
    o.request_timeout_ms = 5000;
    relay_client *c = NULL;
    if (relay_client_new(&o, &c) != RELAY_OK)
        return NULL;
    if (relay_client_on_call(c, on_call, user) != RELAY_OK ||
        (on_event && relay_client_on_event(c, on_event, user) != RELAY_OK) ||
        relay_client_connect(c) != RELAY_OK) {
        relay_client_free(c);
        return NULL;
    }
    return c;
}

static relay_client *client_new(relay_call_handler on_call, relay_event_handler on_event,
                                void *user)
{
    relay_client *c = client_try(on_call, on_event, user);
    assert_non_null(c);
    return c;
}

/* Places one call from sipp with `scenario` (tests/integration/sip) and
 * returns sipp's exit status. extra: NULL or "-key", name, value. */
static int sipp_call(const char *scenario, const char *log, const char *key, const char *value)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/%s", getenv("RELAY_SOURCE_DIR"),
             scenario);
    const char *argv[32] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office",
                            "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT,
                            "-mp", SIPP_MEDIA_PORT, "-m", "1", "-timeout", "40s",
                            "-timeout_error", "-nostdin"};
    int n = 20;
    if (key) {
        argv[n++] = "-key";
        argv[n++] = key;
        argv[n++] = value;
    }
    argv[n] = NULL;
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return child_wait(pid, 50000);
}

/* Copies the result's code (and message) and frees it. */
static void take_code(relay_result *res, char *code, size_t n, char *msg, size_t m)
{
    snprintf(code, n, "%s", res && relay_result_code(res) ? relay_result_code(res) : "");
    if (msg)
        snprintf(msg, m, "%s", res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

/* ------------------------------------------------------------------ pass */

/* Offers seen by the two clients. Each client runs in a process of its own
 * (as two applications would; it also keeps to one libwebsockets context
 * per process), so this lives in shared memory with a process-shared lock. */
static struct pass_state {
    pthread_mutex_t lock;
    int answer_second;          /* 1: the second offer is answered, 0: passed too */
    int offers;
    int offered_to[4];          /* which client (0, 1) got offer i */
    char call_id[4][40];
    char pass_code[4][8];
    relay_status gone_after_pass[4]; /* wait_for(ENDED) once the pass took */
    relay_status answer;
    char pass_after_answer[8];  /* calling.pass on the answered call */
    relay_status ended;
    int answered_events[2];     /* calling.call.state answered, per client */
    int done;                   /* handlers finished */
    int child_ready, child_stop;
} *pass;

static void pass_state_free(void)
{
    if (!pass)
        return;
    pthread_mutex_destroy(&pass->lock);
    munmap(pass, sizeof *pass);
    pass = NULL;
}

static void pass_state_new(void)
{
    pass_state_free();
    pass = mmap(NULL, sizeof *pass, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(pass != MAP_FAILED);
    memset(pass, 0, sizeof *pass);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&pass->lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

static int pass_get(const int *field)
{
    pthread_mutex_lock(&pass->lock);
    int v = *field;
    pthread_mutex_unlock(&pass->lock);
    return v;
}

static void pass_set(int *field, int v)
{
    pthread_mutex_lock(&pass->lock);
    *field = v;
    pthread_mutex_unlock(&pass->lock);
}

/* I/O thread: who hears that the call was answered */
static void on_pass_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)c;
    int who = (int)(intptr_t)user;
    if (strcmp(ev->event_type, "calling.call.state") != 0 ||
        !strstr(ev->params_json, "\"answered\""))
        return;
    pthread_mutex_lock(&pass->lock);
    pass->answered_events[who]++;
    pthread_mutex_unlock(&pass->lock);
}

static void on_pass_call(relay_call *call, void *user)
{
    int who = (int)(intptr_t)user;
    pthread_mutex_lock(&pass->lock);
    int i = pass->offers < 4 ? pass->offers++ : 3;
    pass->offered_to[i] = who;
    snprintf(pass->call_id[i], sizeof pass->call_id[i], "%s", relay_call_id(call));
    int answer = pass->answer_second && i == 1;
    pthread_mutex_unlock(&pass->lock);

    char code[8];
    relay_result *res = NULL;
    if (!answer) {
        relay_call_pass(call, &res);
        take_code(res, code, sizeof code, NULL, 0);
        /* A passed call is this client's no more: waiting on it returns at
         * once instead of waiting for events that will never come. */
        relay_status gone = relay_call_wait_for(call, RELAY_CALL_ENDED, 5000);
        pthread_mutex_lock(&pass->lock);
        pass->gone_after_pass[i] = gone;
        snprintf(pass->pass_code[i], sizeof pass->pass_code[i], "%s", code);
        pass->done++;
        pthread_mutex_unlock(&pass->lock);
        return;
    }
    relay_status answered = relay_call_answer(call, NULL);
    relay_call_pass(call, &res); /* too late now: 409 */
    take_code(res, code, sizeof code, NULL, 0);
    relay_call_hangup(call, NULL, NULL);
    relay_status ended = relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&pass->lock);
    pass->answer = answered;
    snprintf(pass->pass_after_answer, sizeof pass->pass_after_answer, "%s", code);
    pass->ended = ended;
    pass->done++;
    pthread_mutex_unlock(&pass->lock);
}

static void wait_for(const int *field, int want)
{
    for (int i = 0; i < 200 && pass_get(field) < want; i++)
        sleep_ms(50);
}

/* The second session, in a child process: serves offers until told to stop.
 * Its exit status is LeakSanitizer's verdict on its client too. */
static pid_t second_session(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    relay_client *b = client_try(on_pass_call, on_pass_event, (void *)(intptr_t)1);
    if (!b)
        exit(2); /* the parent sees it: no second offer, and this status */
    pass_set(&pass->child_ready, 1);
    for (int i = 0; i < 1200 && !pass_get(&pass->child_stop); i++)
        sleep_ms(50);
    relay_client_free(b);
    exit(0);
}

static void run_pass_case(int answer_second, const char *scenario, const char *log)
{
    pass_state_new();
    pass->answer_second = answer_second;
    pid_t child = second_session(); /* before any thread of ours exists */
    relay_client *a = client_new(on_pass_call, on_pass_event, (void *)(intptr_t)0);
    wait_for(&pass->child_ready, 1);
    int sipp_status = sipp_call(scenario, log, NULL, NULL);
    wait_for(&pass->done, 2);
    pass_set(&pass->child_stop, 1);
    relay_client_free(a);
    int child_status = child_wait(child, 20000);

    assert_int_equal(child_status, 0);
    assert_int_equal(sipp_status, 0);
    assert_int_equal(pass->offers, 2); /* offered once to each session, never back */
    assert_int_not_equal(pass->offered_to[0], pass->offered_to[1]);
    assert_string_equal(pass->call_id[0], pass->call_id[1]);
    assert_string_equal(pass->pass_code[0], "200");
    assert_int_equal(pass->gone_after_pass[0], RELAY_ERR_STATE);
}

static void a_passed_call_goes_to_the_next_session(void **state)
{
    (void)state;
    run_pass_case(1, "uac_wait_bye.xml", "sipp-pass-answer.log"); /* sipp: 200, then our BYE */
    assert_int_equal(pass->answer, RELAY_OK);
    /* only the session that took the call hears about it from then on */
    assert_int_equal(pass->answered_events[pass->offered_to[1]], 1);
    assert_int_equal(pass->answered_events[pass->offered_to[0]], 0);
    assert_string_equal(pass->pass_after_answer, "409");
    assert_int_equal(pass->ended, RELAY_OK);
}

static void a_call_every_session_passes_gets_480(void **state)
{
    (void)state;
    run_pass_case(0, "uac_expect_480.xml", "sipp-pass-480.log"); /* sipp: 480 */
    assert_string_equal(pass->pass_code[1], "200");
    assert_int_equal(pass->gone_after_pass[1], RELAY_ERR_STATE);
}

/* ---------------------------------------------- descriptors and volume */

/* RTP from relayd, as the test receives it: each packet's arrival time and
 * the loudest sample in it (PCMU decoded). */
#define MAX_PACKETS 4000
static struct {
    int fd;
    volatile int stop;
    int n;
    int64_t at[MAX_PACKETS];
    int peak[MAX_PACKETS];
} rtp;

static void *rtp_main(void *arg)
{
    (void)arg;
    unsigned char buf[2048];
    while (!rtp.stop) {
        ssize_t len = recv(rtp.fd, buf, sizeof buf, 0);
        if (len < 12 || (buf[1] & 0x7f) != 0 || rtp.n >= MAX_PACKETS)
            continue; /* timeout, not RTP, or not PCMU */
        size_t off = 12 + 4 * (size_t)(buf[0] & 0x0f);
        int peak = 0;
        for (size_t i = off; i < (size_t)len; i++) {
            int v = abs(ulaw_to_linear(buf[i]));
            peak = v > peak ? v : peak;
        }
        rtp.at[rtp.n] = now_ms();
        rtp.peak[rtp.n] = peak;
        rtp.n++;
    }
    return NULL;
}

static void rtp_listen(pthread_t *t)
{
    memset(&rtp, 0, sizeof rtp);
    rtp.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rtp.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RTP_LISTEN_PORT)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rtp.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 200 * 1000};
    setsockopt(rtp.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(pthread_create(t, NULL, rtp_main, NULL), 0);
}

/* The loudest sample and packet count among packets that arrived in [from, to). */
static int peak_between(int64_t from, int64_t to, int *packets)
{
    int peak = 0;
    *packets = 0;
    for (int i = 0; i < rtp.n; i++)
        if (rtp.at[i] >= from && rtp.at[i] < to) {
            peak = rtp.peak[i] > peak ? rtp.peak[i] : peak;
            (*packets)++;
        }
    return peak;
}

#define SPEECH                                                                                  \
    "This sentence is long on purpose. It keeps speaking while the test turns the volume "    \
    "down, so that the quiet part can be heard and measured, and then it goes on a little "    \
    "longer before it ends."

static struct {
    pthread_mutex_t lock;
    int done;
    char ringing_play[8], ringing_play_msg[160];
    relay_status answer;
    char vol6[8], vol_unknown[8], vol_99[8], vol40[8];
    char unserved[8], unserved_msg[160];
    char ai[8], ai_msg[200];      /* a method only a cloud service carries out */
    char no_control_id[8], no_call_id[8], no_call_id_msg[160];
    relay_status unknown_status;
    char unknown_msg[160];
    relay_status play_wait;
    char play_state[32];
    int64_t t_before, t_quiet; /* before the first volume request, after -40 took */
    int64_t t_end;             /* when the play's final event arrived */
    char pause_code[8], resume_code[8];
    int saw_paused, saw_playing_again; /* the action's state followed */
    int64_t t_paused, t_resume;        /* paused (event seen) .. resume asked */
    char control_id[64];
} vol = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void execute_code(relay_call *call, const char *method, const char *params, char *code,
                         size_t n, char *msg, size_t m)
{
    relay_result *res = NULL;
    relay_call_execute(call, method, params, &res);
    take_code(res, code, n, msg, m);
}

/* Before answer: a play is refused by the descriptor check. */
static void ringing_checks(relay_call *call)
{
    execute_code(call, "calling.play",
                 "{\"control_id\":\"early\",\"play\":[{\"type\":\"silence\","
                 "\"params\":{\"duration\":1}}]}",
                 vol.ringing_play, sizeof vol.ringing_play, vol.ringing_play_msg,
                 sizeof vol.ringing_play_msg);
}

static void volume_code(relay_action *play, double db, char *code, size_t n)
{
    relay_result *res = NULL;
    relay_action_volume(play, db, &res);
    take_code(res, code, n, NULL, 0);
}

static void volume_checks(relay_call *call, relay_action *play)
{
    volume_code(play, -6, vol.vol6, sizeof vol.vol6);
    execute_code(call, "calling.play.volume", "{\"control_id\":\"no-such-play\",\"volume\":-6}",
                 vol.vol_unknown, sizeof vol.vol_unknown, NULL, 0);
    volume_code(play, 99, vol.vol_99, sizeof vol.vol_99);
    volume_code(play, -40, vol.vol40, sizeof vol.vol40);
}

static void method_checks(relay_call *call)
{
    execute_code(call, "calling.play.volume", "{\"volume\":-6}", vol.no_control_id,
                 sizeof vol.no_control_id, NULL, 0);
    relay_result *none = NULL;
    relay_client_execute(relay_call_client(call), "calling.pass", "{}", &none);
    take_code(none, vol.no_call_id, sizeof vol.no_call_id, vol.no_call_id_msg,
              sizeof vol.no_call_id_msg);
    execute_code(call, "calling.ai_message", "{\"message_text\":\"hello\"}", vol.ai,
                 sizeof vol.ai, vol.ai_msg, sizeof vol.ai_msg);
    execute_code(call, "calling.join_room", NULL, vol.unserved, sizeof vol.unserved, vol.unserved_msg,
                 sizeof vol.unserved_msg);
    relay_result *res = NULL;
    vol.unknown_status = relay_call_execute(call, "calling.teleport", NULL, &res);
    snprintf(vol.unknown_msg, sizeof vol.unknown_msg, "%s",
             res && relay_result_message(res) ? relay_result_message(res) : "");
    relay_result_free(res);
}

/* 1 once the action's state is `want` (the event arrived), within ms. */
static int state_within(relay_action *a, const char *want, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        if (strcmp(relay_action_state(a), want) == 0)
            return 1;
        sleep_ms(20);
    }
    return 0;
}

/* Pause and resume report paused/playing events (realtime-api waits for
 * them), and nothing is sent while paused. */
static void pause_checks(relay_action *play)
{
    relay_result *res = NULL;
    relay_action_pause(play, &res);
    take_code(res, vol.pause_code, sizeof vol.pause_code, NULL, 0);
    vol.saw_paused = state_within(play, "paused", 3000);
    vol.t_paused = now_ms();
    sleep_ms(600);
    vol.t_resume = now_ms();
    res = NULL;
    relay_action_resume(play, &res);
    take_code(res, vol.resume_code, sizeof vol.resume_code, NULL, 0);
    vol.saw_playing_again = state_within(play, "playing", 3000);
}

static void on_volume_call(relay_call *call, void *user)
{
    (void)user;
    ringing_checks(call);
    vol.answer = relay_call_answer(call, NULL);
    relay_media speech = {.type = "tts", .text = SPEECH};
    relay_play_params params = {.status_url = "http://127.0.0.1:" HOOK_PORT "/play"};
    relay_action *play = NULL;
    if (relay_call_play_async(call, &speech, 1, &params, &play) == RELAY_OK) {
        snprintf(vol.control_id, sizeof vol.control_id, "%s", relay_action_control_id(play));
        sleep_ms(1500); /* loud speech first */
        vol.t_before = now_ms();
        volume_checks(call, play);
        vol.t_quiet = now_ms();
        method_checks(call);
        pause_checks(play);
        relay_result *res = NULL;
        vol.play_wait = relay_action_wait(play, 30000, &res);
        vol.t_end = now_ms();
        if (res && relay_result_get(res, "state"))
            snprintf(vol.play_state, sizeof vol.play_state, "%s", relay_result_get(res, "state"));
        relay_result_free(res);
        relay_action_free(play);
    }
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&vol.lock);
    vol.done = 1;
    pthread_mutex_unlock(&vol.lock);
}

/* 1 when the sink's file has a line holding every needle. */
static int hook_seen(const char *file, const char *n1, const char *n2, const char *n3)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, n1) && strstr(line, n2) && strstr(line, n3);
    fclose(f);
    return found;
}

static void descriptors_and_play_volume_on_a_real_call(void **state)
{
    (void)state;
    char sink[600], hooks[600];
    snprintf(sink, sizeof sink, "%s/tests/tools/webhook_sink", getenv("RELAY_BUILD_DIR"));
    snprintf(hooks, sizeof hooks, "%s/tests/integration/calling-hooks.jsonl",
             getenv("RELAY_BUILD_DIR"));
    unlink(hooks);
    pthread_t rx;
    rtp_listen(&rx);
    relay_client *c = client_new(on_volume_call, NULL, NULL);
    /* no assert from here until the sink is stopped: it must not outlive us */
    const char *sink_argv[] = {sink, HOOK_PORT, hooks, NULL};
    pid_t sink_pid = child_spawn(sink_argv, "webhook-sink-calling.log");
    char port[16];
    snprintf(port, sizeof port, "%d", RTP_LISTEN_PORT);
    int sipp_status = sipp_call("uac_rtp_listener.xml", "sipp-volume.log", "rtp_port", port);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&vol.lock);
        int done = vol.done;
        pthread_mutex_unlock(&vol.lock);
        if (done)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);
    rtp.stop = 1;
    pthread_join(rx, NULL);
    close(rtp.fd);
    /* webhooks are delivered by relayd's own thread, maybe after the event */
    int hooked_finished = 0;
    for (int i = 0; i < 60 && !hooked_finished; i++, sleep_ms(50))
        hooked_finished = vol.control_id[0] && hook_seen(hooks, "\"calling.call.play\"",
                                                         vol.control_id, "\"finished\"");
    int hooked_playing = vol.control_id[0] && hook_seen(hooks, "\"calling.call.play\"",
                                                        vol.control_id, "\"playing\"");
    int sink_status = -1;
    if (sink_pid > 0) {
        kill(sink_pid, SIGTERM);
        sink_status = child_wait(sink_pid, 5000);
    }

    assert_int_equal(sipp_status, 0);
    assert_true(vol.done);
    /* the descriptor check, before any handler: 409 naming the method */
    assert_string_equal(vol.ringing_play, "409");
    assert_non_null(strstr(vol.ringing_play_msg, "calling.play"));
    assert_int_equal(vol.answer, RELAY_OK);
    assert_string_equal(vol.vol6, "200");
    assert_string_equal(vol.vol_unknown, "404");
    assert_string_equal(vol.vol_99, "400");
    assert_string_equal(vol.vol40, "200");
    assert_string_equal(vol.no_control_id, "400");
    assert_string_equal(vol.no_call_id, "400");
    assert_string_equal(vol.no_call_id_msg, "call_id is required");
    assert_string_equal(vol.unserved, "501");
    assert_string_equal(vol.unserved_msg, "calling.join_room: rooms are video rooms; relayd "
                                          "mixes audio conferences only "
                                          "(calling.join_conference)");
    assert_string_equal(vol.ai, "501");
    assert_string_equal(vol.ai_msg, "calling.ai_message needs a cloud service (AI, speech "
                                    "recognition or payments) that this relayd does not have");
    assert_int_equal(vol.unknown_status, RELAY_ERR_SERVER);
    assert_non_null(strstr(vol.unknown_msg, "method not found"));
    assert_int_equal(vol.play_wait, RELAY_OK);
    assert_string_equal(vol.play_state, "finished");

    /* the play's status_url got the same events, through the one emit */
    assert_int_equal(sink_status, 0);
    assert_true(hooked_playing);
    assert_true(hooked_finished);

    /* what the caller heard: loud speech, then -40 dB once the volume took */
    int loud_n, quiet_n;
    int loud = peak_between(0, vol.t_before, &loud_n);
    int quiet = peak_between(vol.t_quiet + 100, vol.t_end, &quiet_n);
    printf("RTP: %d packets, peak %d before; %d packets, peak %d after -40 dB\n", loud_n, loud,
           quiet_n, quiet);
    assert_true(loud_n >= 25 && quiet_n >= 25);
    assert_true(loud > 2000);
    assert_true(quiet * 10 < loud); /* at least 20 dB down (-40 asked) */

    /* pause: reported, and silent on the wire until the resume */
    assert_string_equal(vol.pause_code, "200");
    assert_string_equal(vol.resume_code, "200");
    assert_true(vol.saw_paused);
    assert_true(vol.saw_playing_again);
    int paused_n;
    peak_between(vol.t_paused + 60, vol.t_resume, &paused_n);
    printf("RTP while paused (%lld ms): %d packets\n",
           (long long)(vol.t_resume - vol.t_paused - 60), paused_n);
    assert_true(paused_n <= 1);
}

/* ------------------------------------------------- a blocked callback */

/* Two real calls: the callback for the first call's receive event makes a
 * blocking request and then holds on until the second call's receive event
 * has been delivered. With callbacks on per-call strands over a pool,
 * the second call's events flow while the first's callback blocks; with
 * one shared delivery thread (or callbacks on the I/O thread) they could
 * not, and the wait would run out. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int receives;                 /* receive callbacks begun */
    relay_status blocking_request;/* the ping made inside the first one */
    int other_seen_while_blocked;
    int handled;                  /* on_call handlers finished */
} blk = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_blocking_event(relay_client *c, const relay_event *ev, void *user)
{
    (void)user;
    if (strcmp(ev->event_type, "calling.call.receive") != 0)
        return;
    pthread_mutex_lock(&blk.lock);
    int first = blk.receives++ == 0;
    pthread_cond_broadcast(&blk.cond);
    pthread_mutex_unlock(&blk.lock);
    if (!first)
        return;
    relay_result *res = NULL;
    relay_status st = relay_client_execute(c, "signalwire.ping", "{}", &res);
    relay_result_free(res);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&blk.lock);
    int rc = 0;
    while (blk.receives < 2 && rc == 0)
        rc = pthread_cond_timedwait(&blk.cond, &blk.lock, &dl);
    blk.blocking_request = st;
    blk.other_seen_while_blocked = blk.receives >= 2;
    pthread_mutex_unlock(&blk.lock);
}

static void on_blocking_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_answer(call, NULL);
    sleep_ms(200);
    relay_call_hangup(call, NULL, NULL);
    relay_call_wait_for(call, RELAY_CALL_ENDED, 10000);
    pthread_mutex_lock(&blk.lock);
    blk.handled++;
    pthread_mutex_unlock(&blk.lock);
}

static void a_blocked_callback_does_not_stall_another_call(void **state)
{
    (void)state;
    relay_client *c = client_new(on_blocking_call, on_blocking_event, NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    /* two calls, 50 ms apart */
    const char *argv[] = {"sipp", "127.0.0.1:" SIP_PORT, "-sf", path, "-s", "office", "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", SIPP_PORT, "-mp",
                          SIPP_MEDIA_PORT, "-m", "2", "-l", "2", "-r", "20", "-timeout", "40s",
                          "-timeout_error", "-nostdin", NULL};
    pid_t pid = child_spawn(argv, "sipp-blocked-callback.log");
    assert_true(pid > 0);
    int sipp_status = child_wait(pid, 50000);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&blk.lock);
        int handled = blk.handled;
        pthread_mutex_unlock(&blk.lock);
        if (handled >= 2)
            break;
        sleep_ms(50);
    }
    relay_client_free(c);

    assert_int_equal(sipp_status, 0); /* both calls answered and hung up */
    assert_int_equal(blk.receives, 2);
    assert_int_equal(blk.blocking_request, RELAY_OK);
    assert_true(blk.other_seen_while_blocked);
    assert_int_equal(blk.handled, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_passed_call_goes_to_the_next_session),
        cmocka_unit_test(a_call_every_session_passes_gets_480),
        cmocka_unit_test(descriptors_and_play_volume_on_a_real_call),
        cmocka_unit_test(a_blocked_callback_does_not_stall_another_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
