/*
 * refer_driver — the RELAY application side of the end-to-end tests.
 *
 * Uses only the public API (include/relay/relay.h). Connects to relayd,
 * subscribes to one context and, for each inbound call: answers, plays a
 * TTS prompt and waits for it (unless --no-play), sends calling.refer to
 * --target, waits for the refer to reach a final state, hangs up when the
 * transfer did not succeed, and waits for the call to end.
 *
 * Everything it sees goes to stdout as one compact JSON object per line,
 * flushed at once, so a shell harness can follow and assert it:
 *
 *   {"connected":{"protocol":"..."}}                 session established
 *   {"event_type":"calling.call.state","params":{...}} every event, as received
 *   {"refer_event":{"state":"success","state_name":...,"sip_notify_response_code":...}}
 *   {"answer_result":{"status":"OK","code":"200","message":"..."}}
 *   {"play_result":{...}}  {"hangup_result":{...}}
 *   {"refer_result":{"target":"sip:...","status":"OK","code":"200",...}}  (one per --target tried)
 *   {"refer_final":{"status":"OK","state":"success","params":{...}}}
 *   {"call_ended":{"call_id":"...","state":"ended"}}
 *   {"done":{"calls":N,"timed_out":false}}
 *
 * Exit status: 0 when --expect-calls calls were handled to their end;
 * 1 on a usage or connection error; 2 on timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <relay/relay.h>

struct driver {
    const char *host;
    int port;
    const char *ca_file;
    int plain;
    const char *project;
    const char *token;
    const char *context;
    const char *targets[16]; /* tried in order while the server refuses them */
    int n_targets;
    const char *status_url;
    const char *say;
    int no_play;
    int timeout_s;
    int expect_calls;
    int verbose;

    relay_client *client;
    struct timespec deadline;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls_done;
    int timed_out;
    int stopping;
};

static struct driver D;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static relay_client *volatile g_client;

/* ------------------------------------------------------------- output */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static void sb_grow(strbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        perror("realloc");
        exit(1);
    }
    b->p = p;
    b->cap = cap;
}

static void sb_add(strbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A JSON string literal, or null for NULL. */
static void sb_json_str(strbuf *b, const char *s)
{
    if (!s) {
        sb_puts(b, "null");
        return;
    }
    sb_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\t': sb_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                sb_printf(b, "\\u%04x", *p);
            else
                sb_add(b, (const char *)p, 1);
        }
    }
    sb_puts(b, "\"");
}

/* Raw JSON text (from the library), or null. */
static void sb_json_raw(strbuf *b, const char *json)
{
    sb_puts(b, json && *json ? json : "null");
}

static void emit(strbuf *b)
{
    pthread_mutex_lock(&out_lock);
    fputs(b->p ? b->p : "", stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* {"<name>":{"status":"OK","code":"200","message":"...","result":{...}}} */
static void emit_result(const char *name, relay_status st, const relay_result *res,
                        const char *target)
{
    strbuf b = {0};
    sb_puts(&b, "{");
    sb_json_str(&b, name);
    sb_puts(&b, ":{");
    if (target) {
        sb_puts(&b, "\"target\":");
        sb_json_str(&b, target);
        sb_puts(&b, ",");
    }
    sb_puts(&b, "\"status\":");
    sb_json_str(&b, st == RELAY_OK ? "OK" : relay_strerror(st));
    sb_puts(&b, ",\"code\":");
    sb_json_str(&b, res ? relay_result_code(res) : NULL);
    sb_puts(&b, ",\"message\":");
    sb_json_str(&b, res ? relay_result_message(res) : NULL);
    sb_printf(&b, ",\"call_gone\":%s", res && relay_result_call_gone(res) ? "true" : "false");
    sb_puts(&b, ",\"result\":");
    sb_json_raw(&b, res ? relay_result_json(res) : NULL);
    sb_puts(&b, "}}");
    emit(&b);
}

static void log_cb(relay_log_level level, const char *line, void *user)
{
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "librelay %s %s\n", (unsigned)level < 4 ? names[level] : "?", line);
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
}

/* ------------------------------------------------------------- time */

static int ms_left(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (D.deadline.tv_sec - now.tv_sec) * 1000L + (D.deadline.tv_nsec - now.tv_nsec) / 1000000L;
    if (ms < 1)
        return 1;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ------------------------------------------------------------- callbacks */

static void on_event(relay_client *c, const relay_event *ev, void *user)
{
    strbuf b = {0};
    sb_puts(&b, "{\"event_type\":");
    sb_json_str(&b, ev->event_type);
    sb_puts(&b, ",\"params\":");
    sb_json_raw(&b, ev->params_json ? ev->params_json : "{}");
    sb_puts(&b, "}");
    emit(&b);
}

static void on_refer(relay_call *call, const relay_refer_event *ev, void *user)
{
    strbuf b = {0};
    sb_puts(&b, "{\"refer_event\":{\"state\":");
    sb_json_str(&b, relay_refer_state_name(ev->state));
    sb_puts(&b, ",\"state_name\":");
    sb_json_str(&b, ev->state_name);
    sb_puts(&b, ",\"sip_refer_to\":");
    sb_json_str(&b, ev->sip_refer_to);
    sb_puts(&b, ",\"sip_refer_response_code\":");
    sb_json_str(&b, ev->sip_refer_response_code);
    sb_puts(&b, ",\"sip_notify_response_code\":");
    sb_json_str(&b, ev->sip_notify_response_code);
    sb_puts(&b, "}}");
    emit(&b);
}

static void call_finished(void)
{
    pthread_mutex_lock(&D.lock);
    D.calls_done++;
    int all = D.calls_done >= D.expect_calls;
    pthread_cond_broadcast(&D.cond);
    pthread_mutex_unlock(&D.lock);
    if (all)
        relay_client_stop(D.client);
}

static void on_call(relay_call *call, void *user)
{
    relay_result *res = NULL;
    relay_status st;
    int transferred = 0;

    {
        strbuf b = {0};
        sb_puts(&b, "{\"call\":{\"call_id\":");
        sb_json_str(&b, relay_call_id(call));
        sb_puts(&b, ",\"context\":");
        sb_json_str(&b, relay_call_context(call));
        sb_puts(&b, ",\"from\":");
        sb_json_str(&b, relay_call_from(call));
        sb_puts(&b, ",\"to\":");
        sb_json_str(&b, relay_call_to(call));
        sb_puts(&b, ",\"direction\":");
        sb_json_str(&b, relay_call_direction(call));
        sb_puts(&b, "}}");
        emit(&b);
    }

    relay_call_on_refer(call, on_refer, NULL);

    st = relay_call_answer(call, &res);
    emit_result("answer_result", st, res, NULL);
    relay_result_free(res);
    res = NULL;

    if (!D.no_play) {
        st = relay_call_play_tts(call, D.say, &res);
        emit_result("play_result", st, res, NULL);
        relay_result_free(res);
        res = NULL;
    }

    /* Each --target in turn, as long as the server refuses the previous
     * one without starting a transfer (hostile-URI tests give several). */
    int refer_sent = 0;
    for (int t = 0; t < D.n_targets && !refer_sent; t++) {
        relay_device dev = {.type = "sip", .uri = D.targets[t]};
        st = relay_call_refer(call, &dev, D.status_url, &res);
        emit_result("refer_result", st, res, D.targets[t]);
        refer_sent = st == RELAY_OK && !(res && relay_result_call_gone(res));
        int gone = res && relay_result_call_gone(res);
        relay_result_free(res);
        res = NULL;
        if (gone)
            break;
    }

    if (refer_sent) {
        st = relay_call_wait_refer(call, ms_left(), &res);
        relay_refer_state rs = relay_call_refer_state(call);
        strbuf b = {0};
        sb_puts(&b, "{\"refer_final\":{\"status\":");
        sb_json_str(&b, st == RELAY_OK ? "OK" : relay_strerror(st));
        sb_puts(&b, ",\"state\":");
        sb_json_str(&b, relay_refer_state_name(rs));
        sb_puts(&b, ",\"params\":");
        sb_json_raw(&b, res ? relay_result_json(res) : NULL);
        sb_puts(&b, "}}");
        emit(&b);
        transferred = st == RELAY_OK && rs == RELAY_REFER_SUCCESS;
        relay_result_free(res);
        res = NULL;
    }

    /* After a successful transfer relayd ends our leg itself; otherwise the
     * application hangs up, as a real one would. */
    if (!transferred && relay_call_get_state(call) < RELAY_CALL_ENDING) {
        st = relay_call_hangup(call, NULL, &res);
        emit_result("hangup_result", st, res, NULL);
        relay_result_free(res);
        res = NULL;
    }

    st = relay_call_wait_for(call, RELAY_CALL_ENDED, ms_left());
    {
        strbuf b = {0};
        sb_puts(&b, "{\"call_ended\":{\"status\":");
        sb_json_str(&b, st == RELAY_OK ? "OK" : relay_strerror(st));
        sb_puts(&b, ",\"call_id\":");
        sb_json_str(&b, relay_call_id(call));
        sb_puts(&b, ",\"state\":");
        sb_json_str(&b, relay_call_state_name(relay_call_get_state(call)));
        sb_puts(&b, "}}");
        emit(&b);
    }
    call_finished();
}

/* ------------------------------------------------------------- main */

static void on_signal(int sig)
{
    relay_client *c = g_client;
    if (c)
        relay_client_stop(c);
}

static void *watchdog(void *arg)
{
    pthread_mutex_lock(&D.lock);
    while (!D.stopping) {
        int rc = pthread_cond_timedwait(&D.cond, &D.lock, &D.deadline);
        if (rc == ETIMEDOUT) {
            if (D.calls_done < D.expect_calls) {
                D.timed_out = 1;
                pthread_mutex_unlock(&D.lock);
                fprintf(stderr, "refer_driver: timeout after %d s\n", D.timeout_s);
                relay_client_stop(D.client);
                return NULL;
            }
            break;
        }
    }
    pthread_mutex_unlock(&D.lock);
    return NULL;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --host H --port P [--ca FILE | --plain] --project P --token T\n"
            "          --context C --target URI [--target URI...] [--status-url URL] [--no-play]\n"
            "          [--say TEXT]"
            " [--timeout SEC] [--expect-calls N] [--verbose]\n",
            argv0);
}

int main(int argc, char **argv)
{
    memset(&D, 0, sizeof D);
    D.timeout_s = 30;
    D.expect_calls = 1;
    D.say = "Please hold while we transfer your call.";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--host")) D.host = v;
        else if (ARG("--port")) D.port = atoi(v);
        else if (ARG("--ca")) D.ca_file = v;
        else if (strcmp(a, "--plain") == 0) D.plain = 1;
        else if (ARG("--project")) D.project = v;
        else if (ARG("--token")) D.token = v;
        else if (ARG("--context")) D.context = v;
        else if (ARG("--target")) {
            if (D.n_targets >= 16) {
                usage(argv[0]);
                return 1;
            }
            D.targets[D.n_targets++] = v;
        }
        else if (ARG("--status-url")) D.status_url = v;
        else if (ARG("--say")) D.say = v;
        else if (strcmp(a, "--no-play") == 0) D.no_play = 1;
        else if (ARG("--timeout")) D.timeout_s = atoi(v);
        else if (ARG("--expect-calls")) D.expect_calls = atoi(v);
        else if (strcmp(a, "--verbose") == 0) D.verbose = 1;
        else {
            usage(argv[0]);
            return 1;
        }
#undef ARG
    }
    if (!D.host || !D.port || !D.project || !D.token || !D.context || !D.n_targets ||
        D.timeout_s <= 0 || D.expect_calls <= 0 || (!D.plain && !D.ca_file)) {
        usage(argv[0]);
        return 1;
    }

    pthread_mutex_init(&D.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&D.cond, &ca);
    pthread_condattr_destroy(&ca);
    clock_gettime(CLOCK_MONOTONIC, &D.deadline);
    D.deadline.tv_sec += D.timeout_s;

    const char *contexts[] = {D.context, NULL};
    relay_client_options opts;
    relay_client_options_init(&opts);
    opts.host = D.host;
    opts.port = D.port;
    opts.project = D.project;
    opts.token = D.token;
    opts.contexts = contexts;
    opts.ca_file = D.ca_file;
    opts.plain_ws = D.plain;
    opts.agent = "relay-c-e2e-refer-driver";
    opts.log_fn = log_cb;
    opts.log_level = D.verbose ? RELAY_LOG_DEBUG : RELAY_LOG_INFO;

    relay_status st = relay_client_new(&opts, &D.client);
    if (st != RELAY_OK) {
        fprintf(stderr, "refer_driver: relay_client_new: %s\n", relay_strerror(st));
        return 1;
    }
    relay_client_on_event(D.client, on_event, NULL);
    relay_client_on_call(D.client, on_call, NULL);

    g_client = D.client;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    pthread_t wd;
    pthread_create(&wd, NULL, watchdog, NULL);

    int rc = 0;
    st = relay_client_connect(D.client);
    if (st != RELAY_OK) {
        fprintf(stderr, "refer_driver: connect: %s\n", relay_strerror(st));
        strbuf b = {0};
        sb_puts(&b, "{\"connect_failed\":{\"status\":");
        sb_json_str(&b, relay_strerror(st));
        sb_puts(&b, "}}");
        emit(&b);
        rc = 1;
    } else {
        strbuf b = {0};
        sb_puts(&b, "{\"connected\":{\"protocol\":");
        sb_json_str(&b, relay_client_protocol(D.client));
        sb_puts(&b, "}}");
        emit(&b);
        relay_client_run(D.client);
    }

    pthread_mutex_lock(&D.lock);
    D.stopping = 1;
    pthread_cond_broadcast(&D.cond);
    pthread_mutex_unlock(&D.lock);
    pthread_join(wd, NULL);

    g_client = NULL;
    relay_client_free(D.client); /* joins the handler threads */

    pthread_mutex_lock(&D.lock);
    int done = D.calls_done, timed_out = D.timed_out;
    pthread_mutex_unlock(&D.lock);
    if (rc == 0) {
        strbuf b = {0};
        sb_printf(&b, "{\"done\":{\"calls\":%d,\"timed_out\":%s}}", done, timed_out ? "true" : "false");
        emit(&b);
        if (timed_out || done < D.expect_calls)
            rc = 2;
    }
    pthread_cond_destroy(&D.cond);
    pthread_mutex_destroy(&D.lock);
    return rc;
}
