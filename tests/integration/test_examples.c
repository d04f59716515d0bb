/*
 * The example programs as a user runs them: examples/answer_and_welcome
 * and examples/voicemail, each a separate process configured by the
 * environment (SIGNALWIRE_SPACE, SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN)
 * and --plain --once --context, against a real relayd, called by a real
 * sipp over real sockets. The binaries come from $EXAMPLE_ANSWER_AND_WELCOME
 * and $EXAMPLE_VOICEMAIL (tests/integration/CMakeLists.txt). Each example
 * runs under the sanitizers too: exit status 0 also means no leak.
 *
 * examples/dial_and_connect and examples/attended_transfer come from
 * $EXAMPLE_DIAL_AND_CONNECT and $EXAMPLE_ATTENDED_TRANSFER and talk to sipp
 * targets (the parties they dial) as well as callers.
 *
 * Ports: TCP 65100 (relayd's ws); UDP 27101 (relayd's SIP), 27200-27299
 * (relayd's RTP), 27102/27300, 27104/27310 and 27106/27340 (sipp callers),
 * 27120/27320, 27122/27326 and 27130/27330 (sipp targets; sipp binds
 * its media port and the next ones, hence the gaps).
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sndfile.h>

#include "child.h"
#include "relayd_proc.h"
#include "test_time.h"

#define WS_LISTEN "127.0.0.1:65100"
#define SIP_TARGET "127.0.0.1:27101"
#define PROJECT "examples-project"
#define TOKEN "examples-token-7c1e"
#define CONTEXT "examples"

static relayd_proc server;
static char rec_dir[600];

static void build_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/tests/integration/%s", getenv("RELAY_BUILD_DIR"), name);
}

static int run(const char *const *argv, const char *log)
{
    pid_t pid = child_spawn(argv, log);
    return pid > 0 ? child_wait(pid, 30000) : -1;
}

static int setup(void **state)
{
    (void)state;
    build_path(rec_dir, sizeof rec_dir, "examples-recordings");
    const char *rm[] = {"rm", "-rf", rec_dir, NULL};
    run(rm, "rm-examples-recordings.log");
    /* what a user exports before running an example */
    setenv("SIGNALWIRE_SPACE", WS_LISTEN, 1);
    setenv("SIGNALWIRE_PROJECT_ID", PROJECT, 1);
    setenv("SIGNALWIRE_API_TOKEN", TOKEN, 1);
    unsetenv("SIGNALWIRE_CONTEXTS");
    unsetenv("SIGNALWIRE_RELAY_CA_FILE");
    const char *args[] = {"--plain", "--ws-listen", WS_LISTEN, "--sip-listen", SIP_TARGET,
                          "--rtp-ports", "27200-27299", "--auth", PROJECT ":" TOKEN,
                          "--recordings-dir", rec_dir, "--log-level", "debug", NULL};
    return relayd_proc_start(&server, args, "relayd-examples.log");
}

static int teardown(void **state)
{
    (void)state;
    return relayd_proc_stop(&server) == 0 ? 0 : -1; /* 0: clean exit, no leaks */
}

/* ------------------------------------------------------------- helpers */

/* The whole file as a string (the caller frees), "" if unreadable. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    if (f) {
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    return text;
}

static int file_contains(const char *path, const char *needle)
{
    char *text = slurp(path);
    int found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* Starts an example with --plain --once (and more args), its output into log. */
static pid_t start_example(const char *env_name, const char *log, int once)
{
    const char *bin = getenv(env_name);
    assert_non_null(bin);
    const char *argv[] = {bin, "--plain", "--context", CONTEXT, once ? "--once" : NULL, NULL};
    unlink(log); /* a previous run's lines must not look like this run's */
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

/* Waits until the example's log shows it is ready for calls. */
static void wait_ready(pid_t pid, const char *log, const char *ready_line)
{
    for (int i = 0; i < 200; i++) {
        if (file_contains(log, ready_line))
            return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char *text = slurp(log);
            printf("the example exited early:\n%s\n", text);
            free(text);
            fail();
        }
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("the example never printed \"%s\"", ready_line);
}

static int sipp_call(const char *scenario, const char *port, const char *media_port,
                     const char *log)
{
    const char *argv[] = {"sipp", SIP_TARGET, "-sf", scenario, "-s", CONTEXT, "-i",
                          "127.0.0.1", "-mi", "127.0.0.1", "-p", port, "-mp", media_port,
                          "-m", "1", "-timeout", "40s", "-timeout_error", "-nostdin", NULL};
    return run(argv, log);
}

static void print_file(const char *path)
{
    char *text = slurp(path);
    printf("---- %s\n%s----\n", path, text);
    free(text);
}

/* -------------------------------------------------------------- tests */

/* sipp calls; the example answers, plays the welcome, hangs up (sipp gets
 * the 200 and the BYE) and exits 0 after that one call. */
static void answer_and_welcome_answers_plays_and_hangs_up(void **state)
{
    (void)state;
    const char *log = "example-answer-and-welcome.log";
    pid_t ex = start_example("EXAMPLE_ANSWER_AND_WELCOME", log, 1);
    wait_ready(ex, log, "connection: connected");
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_wait_bye.xml",
             getenv("RELAY_SOURCE_DIR"));
    int sipp_status = sipp_call(scenario, "27102", "27300", "sipp-example-welcome.log");
    int ex_status = child_wait(ex, 20000);
    print_file(log);
    assert_int_equal(sipp_status, 0); /* 200 to the INVITE, then our BYE */
    assert_int_equal(ex_status, 0);   /* --once, every step OK, no leak */
    assert_true(file_contains(log, "connection: connecting"));
    assert_true(file_contains(log, "(context " CONTEXT ")"));
    assert_true(file_contains(log, ": answered\n"));
    assert_true(file_contains(log, ": played welcome\n"));
    assert_true(file_contains(log, ": hung up\n"));
    assert_true(file_contains(log, ": ended\n"));
    assert_false(file_contains(log, "failed"));
    /* relayd was asked to play the text */
    assert_true(relayd_proc_log_contains(&server, "calling.play"));
    assert_true(relayd_proc_log_contains(&server, "Welcome to librelay"));
}

/* Without --once it runs until SIGTERM, then stops cleanly. */
static void answer_and_welcome_stops_on_sigterm(void **state)
{
    (void)state;
    const char *log = "example-answer-and-welcome-sigterm.log";
    pid_t ex = start_example("EXAMPLE_ANSWER_AND_WELCOME", log, 0);
    wait_ready(ex, log, "connection: connected");
    assert_int_equal(kill(ex, SIGTERM), 0);
    int ex_status = child_wait(ex, 10000);
    print_file(log);
    assert_int_equal(ex_status, 0);
    assert_true(file_contains(log, "stopping\n"));
}

typedef struct wav_facts {
    double seconds, rms;
    long long bytes;
} wav_facts;

static void read_wav(const char *path, wav_facts *w)
{
    memset(w, 0, sizeof *w);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    w->bytes = (long long)st.st_size;
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.format & SF_FORMAT_TYPEMASK, SF_FORMAT_WAV);
    assert_int_equal(info.channels, 1);
    w->seconds = (double)info.frames / info.samplerate;
    double sq = 0;
    short buf[160];
    sf_count_t got, total = 0;
    while ((got = sf_readf_short(f, buf, 160)) > 0) {
        for (sf_count_t i = 0; i < got; i++)
            sq += (double)buf[i] * buf[i];
        total += got;
    }
    sf_close(f);
    w->rms = total ? sqrt(sq / (double)total) : 0;
    printf("WAV %s: %.3f s, %lld bytes, RMS %.0f\n", path, w->seconds, w->bytes, w->rms);
}

/* sipp calls and speaks (a 440 Hz tone made by sox, streamed as RTP); the
 * example greets, beeps, records until the caller falls silent, prints the
 * recording's url, duration and size, and hangs up. The file it names is a
 * WAV with the caller's tone in it, as long and as big as it says. */
static void voicemail_records_the_caller(void **state)
{
    (void)state;
    /* 8 s of tone: the greeting and the beep take about 3 s of it */
    char tone[600];
    build_path(tone, sizeof tone, "examples-tone-8s.ul");
    const char *sox[] = {"sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw",
                         tone, "synth", "8", "sine", "440", "vol", "0.5", NULL};
    assert_int_equal(run(sox, "sox-examples-tone.log"), 0);
    /* the stream scenario with the tone's path written in */
    char tpl[600], scenario[600];
    snprintf(tpl, sizeof tpl, "%s/tests/integration/sip/uac_stream_audio.xml.in",
             getenv("RELAY_SOURCE_DIR"));
    char *text = slurp(tpl);
    char *at = strstr(text, "@AUDIO@");
    assert_non_null(at);
    build_path(scenario, sizeof scenario, "examples_uac_stream_audio.xml");
    FILE *f = fopen(scenario, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, tone, at + strlen("@AUDIO@"));
    fclose(f);
    free(text);

    const char *log = "example-voicemail.log";
    pid_t ex = start_example("EXAMPLE_VOICEMAIL", log, 1);
    wait_ready(ex, log, "voicemail: waiting for calls on " CONTEXT);
    int sipp_status = sipp_call(scenario, "27104", "27310", "sipp-example-voicemail.log");
    int ex_status = child_wait(ex, 20000);
    print_file(log);
    assert_int_equal(sipp_status, 0);
    assert_int_equal(ex_status, 0);
    assert_true(file_contains(log, ": answered\n"));
    assert_true(file_contains(log, ": played greeting\n"));
    assert_true(file_contains(log, ": beeped\n"));
    assert_true(file_contains(log, ": recorded\n"));
    assert_true(file_contains(log, ": hung up\n"));
    assert_false(file_contains(log, "failed"));

    /* "call <id>: message url=file:///... duration=<s> s size=<bytes> bytes" */
    char *out = slurp(log);
    char *line = strstr(out, "message url=file://");
    assert_non_null(line);
    char path[512] = "";
    double duration = 0;
    long long size = 0;
    assert_int_equal(sscanf(line, "message url=file://%511s duration=%lf s size=%lld bytes",
                            path, &duration, &size),
                     3);
    free(out);
    assert_true(strncmp(path, rec_dir, strlen(rec_dir)) == 0);
    sleep_ms(300); /* the writer closes the file just after the event */
    wav_facts w;
    read_wav(path, &w);
    assert_true(w.seconds > 0.5);
    assert_true(w.rms > 1000); /* the tone, not silence (a half-scale sine: ~11000) */
    assert_true(fabs(duration - w.seconds) < 0.1); /* printed with 2 decimals */
    assert_int_equal(size, w.bytes);
}

/* A sipp target (the party a test dials): scenario from tests/integration/sip,
 * its own port and media port; started, not waited for. */
static pid_t sipp_target(const char *scenario_name, const char *port, const char *media_port,
                         const char *calls, const char *log)
{
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/%s",
             getenv("RELAY_SOURCE_DIR"), scenario_name);
    const char *argv[] = {"sipp", "-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1",
                          "-p", port, "-mp", media_port, "-key", "rtp_port", media_port,
                          "-d", "200", "-m", calls, "-timeout", "40s", "-timeout_error",
                          "-nostdin", NULL};
    pid_t pid = child_spawn(argv, log);
    assert_true(pid > 0);
    sleep_ms(300); /* listening */
    return pid;
}

/* dial_and_connect dials alice, connects her to bob with a ringback, keeps
 * the bridge 2 s and then hangs both legs up: each sipp target gets its
 * INVITE answered and a BYE, and the example exits 0. */
static void dial_and_connect_bridges_two_parties(void **state)
{
    (void)state;
    pid_t alice = sipp_target("uas_dial_answer.xml", "27120", "27320", "1",
                              "sipp-example-alice.log");
    pid_t bob = sipp_target("uas_dial_answer.xml", "27122", "27326", "1",
                            "sipp-example-bob.log");
    const char *bin = getenv("EXAMPLE_DIAL_AND_CONNECT");
    assert_non_null(bin);
    const char *log = "example-dial-and-connect.log";
    unlink(log);
    const char *argv[] = {bin, "--plain", "--to", "sip:alice@127.0.0.1:27120", "--peer",
                          "sip:bob@127.0.0.1:27122", "--from", "sip:relay@127.0.0.1",
                          "--seconds", "2", NULL};
    int ex_status = run(argv, log);
    int alice_status = child_wait(alice, 15000), bob_status = child_wait(bob, 15000);
    print_file(log);
    assert_int_equal(ex_status, 0);
    assert_int_equal(alice_status, 0); /* answered, then our BYE */
    assert_int_equal(bob_status, 0);
    assert_true(file_contains(log, "dialled: sip:alice@127.0.0.1:27120 answered"));
    assert_true(file_contains(log, "connected: sip:alice@127.0.0.1:27120 <-> sip:bob@"));
    assert_true(file_contains(log, "bridge over: 2 s passed"));
    assert_true(file_contains(log, "ended: call "));
    assert_false(file_contains(log, "failed"));
    assert_true(relayd_proc_log_contains(&server, "calling.connect"));
}

/* attended_transfer: a caller on hold while the example consults the agent
 * on a dialled call; the agent presses 1 (RFC 2833); the consult call is
 * hung up and the caller is connected to the agent; the caller hangs up
 * later and the example ends the agent's leg. The agent's sipp takes both
 * calls (the consultation, then the bridge leg), each ending with our BYE. */
static void attended_transfer_consults_then_bridges(void **state)
{
    (void)state;
    pid_t agent = sipp_target("uas_agent_accepts.xml", "27130", "27330", "2",
                              "sipp-example-agent.log");
    const char *bin = getenv("EXAMPLE_ATTENDED_TRANSFER");
    assert_non_null(bin);
    const char *log = "example-attended-transfer.log";
    unlink(log);
    const char *argv[] = {bin, "--plain", "--once", "--context", CONTEXT, "--agent",
                          "sip:agent@127.0.0.1:27130", "--from", "sip:relay@127.0.0.1", NULL};
    pid_t ex = child_spawn(argv, log);
    assert_true(ex > 0);
    wait_ready(ex, log, "transferring calls on " CONTEXT);
    sleep_ms(500); /* connected */
    char scenario[600];
    snprintf(scenario, sizeof scenario, "%s/tests/integration/sip/uac_hangs_up.xml",
             getenv("RELAY_SOURCE_DIR"));
    /* the caller stays 14 s: consultation (dial, prompt, the agent's 1 at
     * 4 s), then the bridge */
    const char *caller_argv[] = {"sipp", SIP_TARGET, "-sf", scenario, "-s", CONTEXT, "-i",
                                 "127.0.0.1", "-mi", "127.0.0.1", "-p", "27106", "-mp",
                                 "27340", "-d", "14000", "-m", "1", "-timeout", "40s",
                                 "-timeout_error", "-nostdin", NULL};
    int caller_status = run(caller_argv, "sipp-example-caller.log");
    int ex_status = child_wait(ex, 20000);
    int agent_status = child_wait(agent, 15000);
    print_file(log);
    assert_int_equal(caller_status, 0); /* answered, kept up, its own BYE answered */
    assert_int_equal(agent_status, 0);  /* two calls, each ended by our BYE */
    assert_int_equal(ex_status, 0);
    assert_true(file_contains(log, "consult: agent answered"));
    assert_true(file_contains(log, "consult: agent accepted"));
    assert_true(file_contains(log, "consult: hung up"));
    assert_true(file_contains(log, "transferred: connected to the agent"));
    assert_true(file_contains(log, "ended the agent's leg"));
    assert_false(file_contains(log, "failed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_and_welcome_answers_plays_and_hangs_up),
        cmocka_unit_test(answer_and_welcome_stops_on_sigterm),
        cmocka_unit_test(voicemail_records_the_caller),
        cmocka_unit_test(dial_and_connect_bridges_two_parties),
        cmocka_unit_test(attended_transfer_consults_then_bridges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
