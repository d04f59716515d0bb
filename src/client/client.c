/*
 * The public lifecycle: options, creation, connect, run/stop, free, and
 * the bridge by which any thread hands a request to the I/O thread.
 */
#define _GNU_SOURCE /* pipe2 */
#include "client.h"
#include "dial.h"
#include "dispatch.h"
#include "frames.h"
#include "rpc.h"
#include "session.h"
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_WORKERS 4
#define DEFAULT_CALLBACK_THREADS 2
#define AGENT_DEFAULT "librelay-c/" RELAY_VERSION

/* Which client's I/O thread the current thread is, if any. */
static _Thread_local const relay_client *tls_io_client;

int lr_client_on_io_thread(const relay_client *c)
{
    return c && tls_io_client == c;
}

void relay_client_options_init(relay_client_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->log_level = RELAY_LOG_WARN;
}

static int parse_log_level(const char *v, relay_log_level *out)
{
    static const struct {
        const char *name;
        relay_log_level level;
    } names[] = {{"error", RELAY_LOG_ERROR}, {"warn", RELAY_LOG_WARN},
                 {"warning", RELAY_LOG_WARN}, {"info", RELAY_LOG_INFO},
                 {"debug", RELAY_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(v, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    return -1;
}

/* A positive int, the whole string. */
static int parse_positive(const char *v, int *out)
{
    char *e = NULL;
    errno = 0;
    long n = strtol(v, &e, 10);
    if (errno || e == v || *e || n <= 0 || n > 1000000)
        return -1;
    *out = (int)n;
    return 0;
}

relay_status relay_client_options_from_env(relay_client_options *opts)
{
    lr_clear_last_error();
    if (!opts) {
        lr_set_last_error("options: NULL");
        return RELAY_ERR_INVALID_ARG;
    }
    relay_status st = RELAY_OK;
    const char *v;
    if ((v = getenv("SIGNALWIRE_SPACE")) && *v)
        opts->host = v;
    if ((v = getenv("SIGNALWIRE_PROJECT_ID")) && *v)
        opts->project = v;
    if ((v = getenv("SIGNALWIRE_API_TOKEN")) && *v)
        opts->token = v;
    else if ((v = getenv("SIGNALWIRE_TOKEN")) && *v)
        opts->token = v;
    if ((v = getenv("SIGNALWIRE_JWT_TOKEN")) && *v)
        opts->jwt_token = v;
    if ((v = getenv("SIGNALWIRE_CONTEXTS")) && *v)
        opts->contexts_csv = v;
    if ((v = getenv("SIGNALWIRE_RELAY_CA_FILE")) && *v)
        opts->ca_file = v;
    if ((v = getenv("SIGNALWIRE_LOG_LEVEL")) && *v && parse_log_level(v, &opts->log_level) != 0) {
        lr_set_last_error("SIGNALWIRE_LOG_LEVEL: \"%.40s\" is not one of error, warn, info, debug",
                          v);
        st = RELAY_ERR_INVALID_ARG;
    }
    if ((v = getenv("RELAY_MAX_ACTIVE_CALLS")) && *v &&
        parse_positive(v, &opts->max_active_calls) != 0) {
        lr_set_last_error("RELAY_MAX_ACTIVE_CALLS: \"%.40s\" is not a positive integer", v);
        st = RELAY_ERR_INVALID_ARG;
    }
    return st;
}

/* What is wrong with a host setting, or NULL. The host is a name or an
 * address, with an optional port: anything that would make it a URL, carry
 * credentials or split a request line is refused here rather than sent. */
static const char *host_problem(const char *h)
{
    if (!h || !*h)
        return "host: missing (options.host or SIGNALWIRE_SPACE)";
    if (strstr(h, "://"))
        return "host: must not contain a scheme (give \"example.signalwire.com\", not a URL)";
    for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
        if (*p == '\r' || *p == '\n')
            return "host: must not contain CR or LF";
        if (*p <= ' ' || *p == 0x7f)
            return "host: must not contain spaces or control characters";
        if (*p == '@')
            return "host: must not contain '@' (credentials go in project/token)";
        if (*p == '/' || *p == '\\' || *p == '?' || *p == '#')
            return "host: must not contain a path ('/', '\\', '?' or '#')";
    }
    if (strlen(h) > 253 + 8)
        return "host: too long";
    return NULL;
}

/* "host", "host:port", "[v6]", "[v6]:port" -> host and port (0 if none). */
static int split_host(const char *in, char **host, int *port);

relay_status relay_client_options_check(const relay_client_options *opts)
{
    lr_clear_last_error();
    if (!opts) {
        lr_set_last_error("options: NULL");
        return RELAY_ERR_INVALID_ARG;
    }
    const char *why = host_problem(opts->host);
    if (why) {
        lr_set_last_error("%s", why);
        return RELAY_ERR_INVALID_ARG;
    }
    char *host = NULL;
    int port = 0;
    if (split_host(opts->host, &host, &port) != 0 || !*host) {
        free(host);
        lr_set_last_error("host: malformed (expected name, name:port, [v6] or [v6]:port with "
                          "a port from 1 to 65535)");
        return RELAY_ERR_INVALID_ARG;
    }
    free(host);
    if (opts->port < 0 || opts->port > 65535) {
        lr_set_last_error("port: %d is out of range (1 to 65535, or 0 for the default)",
                          opts->port);
        return RELAY_ERR_INVALID_ARG;
    }
    int has_jwt = opts->jwt_token && *opts->jwt_token;
    int has_project = opts->project && *opts->project;
    int has_token = opts->token && *opts->token;
    if (!has_jwt && !has_project && !has_token) {
        lr_set_last_error("credentials: missing (project and token: SIGNALWIRE_PROJECT_ID and "
                          "SIGNALWIRE_API_TOKEN, or a JWT: SIGNALWIRE_JWT_TOKEN)");
        return RELAY_ERR_INVALID_ARG;
    }
    if (!has_jwt && !has_project) {
        lr_set_last_error("project: missing (options.project or SIGNALWIRE_PROJECT_ID)");
        return RELAY_ERR_INVALID_ARG;
    }
    if (!has_jwt && !has_token) {
        lr_set_last_error("token: missing (options.token or SIGNALWIRE_API_TOKEN)");
        return RELAY_ERR_INVALID_ARG;
    }
    if (opts->max_active_calls < 0 || opts->ping_interval_ms < 0 || opts->request_timeout_ms < 0 ||
        opts->workers < 0 || opts->callback_threads < 0) {
        lr_set_last_error("%s: must not be negative",
                          opts->max_active_calls < 0     ? "max_active_calls"
                          : opts->ping_interval_ms < 0   ? "ping_interval_ms"
                          : opts->request_timeout_ms < 0 ? "request_timeout_ms"
                          : opts->workers < 0            ? "workers"
                                                         : "callback_threads");
        return RELAY_ERR_INVALID_ARG;
    }
    return RELAY_OK;
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int split_host(const char *in, char **host, int *port)
{
    *port = 0;
    const char *end = in + strlen(in);
    const char *colon = NULL;
    if (in[0] == '[') {
        const char *rb = strchr(in, ']');
        if (!rb)
            return -1;
        *host = strndup(in + 1, (size_t)(rb - in - 1));
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = strchr(in, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address */
        *host = strndup(in, (size_t)((colon ? colon : end) - in));
    }
    if (!*host)
        return -1;
    if (colon) {
        char *e = NULL;
        long p = strtol(colon + 1, &e, 10);
        if (*e || p <= 0 || p > 65535) {
            free(*host);
            *host = NULL;
            return -1;
        }
        *port = (int)p;
    }
    return 0;
}

relay_status relay_client_new(const relay_client_options *opts, relay_client **out)
{
    if (!out)
        return RELAY_ERR_INVALID_ARG;
    *out = NULL;
    relay_status checked = relay_client_options_check(opts);
    if (checked != RELAY_OK) {
        log_sink sink = {opts ? opts->log_fn : NULL, opts ? opts->log_user : NULL,
                         opts ? opts->log_level : RELAY_LOG_WARN, "librelay"};
        log_write(&sink, RELAY_LOG_ERROR, "invalid options: %s", relay_last_error());
        return checked;
    }
    int has_jwt = opts->jwt_token && *opts->jwt_token;

    relay_client *c = calloc(1, sizeof *c);
    if (!c)
        return RELAY_ERR_NO_MEMORY;
    c->stop_pipe[0] = c->stop_pipe[1] = -1;
    pthread_mutex_init(&c->post_lock, NULL);
    pthread_mutex_init(&c->outcome_lock, NULL);
    pthread_cond_init(&c->outcome_cond, NULL);
    pthread_mutex_init(&c->dial_lock, NULL);
    pthread_cond_init(&c->dial_cond, NULL);
    mailbox_init(&c->mbox, NULL, NULL); /* woken by lr_client_submit itself */
    lr_strmap_init(&c->pending);
    lr_strmap_init(&c->calls);
    lr_strmap_init(&c->actions);
    lr_strmap_init(&c->messages);
    lr_workers_init(&c->pool);
    lr_executor_init(&c->exec);
    lr_timers_init(&c->timers);
    lr_event_hub_init(&c->events);
    c->strand = lr_strand_new();

    int port_in_host = 0;
    if (split_host(opts->host, &c->host, &port_in_host) != 0) {
        relay_client_free(c);
        return RELAY_ERR_INVALID_ARG;
    }
    c->plain_ws = opts->plain_ws;
    c->port = opts->port > 0 ? opts->port : port_in_host > 0 ? port_in_host : c->plain_ws ? 80 : 443;
    size_t hl = strlen(c->host) + 16;
    c->host_header = malloc(hl);
    if (c->host_header) {
        int default_port = c->port == (c->plain_ws ? 80 : 443);
        int v6 = strchr(c->host, ':') != NULL;
        if (default_port)
            snprintf(c->host_header, hl, v6 ? "[%s]" : "%s", c->host);
        else
            snprintf(c->host_header, hl, v6 ? "[%s]:%d" : "%s:%d", c->host, c->port);
    }
    c->project = dup_opt(has_jwt ? NULL : opts->project);
    c->token = dup_opt(has_jwt ? NULL : opts->token);
    c->jwt_token = dup_opt(has_jwt ? opts->jwt_token : NULL);
    c->ca_file = dup_opt(opts->ca_file);
    c->agent = strdup(opts->agent && *opts->agent ? opts->agent : AGENT_DEFAULT);
    size_t nctx = 0;
    while (opts->contexts && opts->contexts[nctx])
        nctx++;
    size_t ncsv = 1;
    for (const char *p = opts->contexts_csv; p && *p; p++)
        ncsv += *p == ',';
    c->contexts = calloc(nctx + ncsv + 1, sizeof *c->contexts);
    int oom = !c->strand || !c->host_header || !c->agent || !c->contexts || (opts->ca_file && !c->ca_file) ||
              (has_jwt ? !c->jwt_token : (!c->project || !c->token));
    size_t k = 0;
    for (size_t i = 0; !oom && i < nctx; i++, k++)
        oom = !(c->contexts[k] = strdup(opts->contexts[i]));
    /* "a, b,,c": trimmed, empty items skipped */
    for (const char *p = opts->contexts_csv; !oom && p && *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            oom = !(c->contexts[k++] = strndup(a, (size_t)(b - a)));
        p = *end ? end + 1 : end;
    }
    if (oom || pipe2(c->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        relay_client_free(c);
        return RELAY_ERR_NO_MEMORY;
    }
    c->request_timeout_ms =
        opts->request_timeout_ms > 0 ? opts->request_timeout_ms : PROTO_DEFAULT_TIMEOUT_MS;
    c->n_workers = opts->workers > 0 ? opts->workers : DEFAULT_WORKERS;
    c->n_callback_threads =
        opts->callback_threads > 0 ? opts->callback_threads : DEFAULT_CALLBACK_THREADS;
    c->log.fn = opts->log_fn;
    c->log.user = opts->log_user;
    c->log.level = opts->log_level;
    c->log.prefix = "librelay";
    c->backoff_ms = 1000;
    c->max_active_calls =
        opts->max_active_calls > 0 ? opts->max_active_calls : PROTO_MAX_ACTIVE_CALLS;
    c->ping_interval_ms = opts->ping_interval_ms > 0 ? opts->ping_interval_ms : PROTO_PING_INTERVAL_MS;
    c->jitter_state = lr_jitter_seed(c);
    *out = c;
    return RELAY_OK;
}

relay_status relay_client_on_call(relay_client *c, relay_call_handler fn, void *user)
{
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (c->io_started)
        return RELAY_ERR_STATE; /* the I/O thread reads it without a lock */
    c->on_call = fn;
    c->on_call_user = user;
    return RELAY_OK;
}

relay_status relay_client_on_connection_state(relay_client *c, relay_connection_handler fn,
                                              void *user)
{
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (c->io_started)
        return RELAY_ERR_STATE;
    c->on_connection = fn;
    c->on_connection_user = user;
    return RELAY_OK;
}

relay_status relay_client_on_event(relay_client *c, relay_event_handler fn, void *user)
{
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (c->io_started)
        return RELAY_ERR_STATE;
    c->on_event = fn;
    c->on_event_user = user;
    return RELAY_OK;
}

void lr_client_set_outcome_reason(relay_client *c, relay_status st, const char *reason)
{
    pthread_mutex_lock(&c->outcome_lock);
    if (!c->outcome_set) {
        c->outcome_set = 1;
        c->outcome = st;
        snprintf(c->outcome_reason, sizeof c->outcome_reason, "%s", reason ? reason : "");
        pthread_cond_broadcast(&c->outcome_cond);
    }
    pthread_mutex_unlock(&c->outcome_lock);
}

void lr_client_set_outcome(relay_client *c, relay_status st)
{
    lr_client_set_outcome_reason(c, st, NULL);
}

void lr_client_give_up(relay_client *c, relay_status st)
{
    atomic_store(&c->gave_up, (int)st);
    /* wakes run(); the pipe is non-blocking and a byte already there does too */
    ssize_t n = write(c->stop_pipe[1], "g", 1);
    (void)n;
}

/* ------------------------------------------- the I/O thread's upcalls */

static void on_open(void *user)
{
    lr_session_on_open(user);
}

static void on_frame(void *user, const char *text, size_t len)
{
    lr_dispatch_frame(user, text, len);
}

static void on_down(void *user, const char *why)
{
    lr_session_on_transport_down(user, why);
}

/* Another thread posted requests (or wants the thread to quit). */
static void on_wake(void *user)
{
    relay_client *c = user;
    mailbox_msg *m = mailbox_take_all(&c->mbox);
    while (m) {
        mailbox_msg *next = m->next;
        lr_rpc_take(c, (rpc_req *)m); /* the mailbox's reference becomes the I/O thread's */
        m = next;
    }
}

static void arm_earliest(relay_client *c)
{
    /* no I/O thread (not started, or gone): nothing to wake */
    if (c->transport)
        lr_transport_arm(c->transport, lr_timers_next(&c->timers));
}

static void on_deadline(void *user)
{
    relay_client *c = user;
    lr_timers_run(&c->timers, lr_now_us());
    arm_earliest(c);
}

void lr_client_schedule(relay_client *c, lr_timer *t, lr_timer_fn fn, int ms)
{
    if (lr_timer_start(&c->timers, t, lr_now_us() + (int64_t)ms * 1000, fn) != 0) {
        CLOG(c, RELAY_LOG_ERROR, "out of memory starting a timer");
        return;
    }
    if (t->slot == 1) /* the new earliest: wake up for it */
        arm_earliest(c);
}

void lr_client_cancel(relay_client *c, lr_timer *t)
{
    /* The armed wake-up may now be early; it finds nothing due and re-arms. */
    lr_timer_cancel(&c->timers, t);
}

void lr_client_send(relay_client *c, const char *text, size_t len)
{
    /* no transport: the client is not connected (or no longer); what a
     * frame dispatched then would answer has nobody to go to */
    if (c->transport)
        lr_transport_send(c->transport, text, len);
}

static void *io_main(void *arg)
{
    relay_client *c = arg;
    tls_io_client = c;
    lr_transport_cbs cbs = {on_open, on_frame, on_down, on_wake, on_deadline, c};
    lr_transport *t = lr_transport_new(&cbs, c->ca_file, &c->log);
    if (!t) {
        lr_client_set_outcome_reason(c, RELAY_ERR_CONNECT,
                                     "could not set up the transport (TLS context, CA file)");
        if (c->persistent)
            lr_client_give_up(c, RELAY_ERR_CONNECT);
        atomic_store(&c->closed, 1);
        return NULL;
    }
    pthread_mutex_lock(&c->post_lock);
    c->transport = t;
    c->accepting = 1;
    pthread_mutex_unlock(&c->post_lock);

    lr_session_connect(c);
    while (!atomic_load(&c->io_quit))
        lr_transport_service(t);
    lr_session_teardown(c);

    pthread_mutex_lock(&c->post_lock);
    c->transport = NULL;
    pthread_mutex_unlock(&c->post_lock);
    lr_transport_free(t);
    lr_timers_destroy(&c->timers);
    atomic_store(&c->closed, 1);
    /* Should the I/O thread end on its own before the first session. */
    lr_client_set_outcome(c, RELAY_ERR_CLOSED);
    return NULL;
}

static void stop_io_thread(relay_client *c)
{
    if (!c->io_started)
        return;
    atomic_store(&c->io_quit, 1);
    pthread_mutex_lock(&c->post_lock);
    if (c->transport)
        lr_transport_wake(c->transport);
    pthread_mutex_unlock(&c->post_lock);
    pthread_join(c->io_thread, NULL);
    c->io_started = 0;
}

static relay_status start_io_thread(relay_client *c, int persistent)
{
    if (lr_workers_start(&c->pool, c->n_workers) != 0 ||
        lr_executor_start(&c->exec, c->n_callback_threads) != 0)
        return RELAY_ERR_NO_MEMORY;
    c->outcome_set = 0;
    c->outcome_reason[0] = '\0';
    c->auth_failures = 0;
    c->attempts = 0;
    c->backoff_ms = 1000;
    c->persistent = persistent;
    atomic_store(&c->gave_up, RELAY_OK);
    atomic_store(&c->io_quit, 0);
    atomic_store(&c->closed, 0);
    if (pthread_create(&c->io_thread, NULL, io_main, c) != 0)
        return RELAY_ERR_NO_MEMORY;
    c->io_started = 1;
    return RELAY_OK;
}

relay_status relay_client_connect(relay_client *c)
{
    lr_clear_last_error();
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (c->io_started || lr_client_on_io_thread(c))
        return RELAY_ERR_STATE;
    relay_status st = start_io_thread(c, 0);
    if (st != RELAY_OK)
        return st;

    pthread_mutex_lock(&c->outcome_lock);
    while (!c->outcome_set)
        pthread_cond_wait(&c->outcome_cond, &c->outcome_lock);
    st = c->outcome;
    if (st != RELAY_OK && c->outcome_reason[0])
        lr_set_last_error("%s", c->outcome_reason);
    pthread_mutex_unlock(&c->outcome_lock);
    if (st != RELAY_OK)
        stop_io_thread(c); /* it is ending by itself; collect it */
    return st;
}

relay_status relay_client_run(relay_client *c)
{
    lr_clear_last_error();
    if (!c)
        return RELAY_ERR_INVALID_ARG;
    if (!c->io_started) {
        /* Not connected yet: keep trying until a session or a verdict. */
        if (lr_client_on_io_thread(c))
            return RELAY_ERR_STATE;
        relay_status st = start_io_thread(c, 1);
        if (st != RELAY_OK)
            return st;
    }
    struct pollfd p = {.fd = c->stop_pipe[0], .events = POLLIN};
    for (;;) {
        relay_status verdict = (relay_status)atomic_load(&c->gave_up);
        if (verdict != RELAY_OK) {
            pthread_mutex_lock(&c->outcome_lock);
            if (c->outcome_reason[0])
                lr_set_last_error("%s", c->outcome_reason);
            pthread_mutex_unlock(&c->outcome_lock);
            stop_io_thread(c); /* it is ending by itself; collect it */
            return verdict;
        }
        int n = poll(&p, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return RELAY_ERR_STATE;
        char b;
        if (read(c->stop_pipe[0], &b, 1) == 1 && b == 'x')
            return RELAY_OK;
    }
}

void relay_client_stop(relay_client *c)
{
    /* Async-signal-safe: one write(2) to a non-blocking pipe. */
    if (!c)
        return;
    int saved = errno;
    ssize_t n = write(c->stop_pipe[1], "x", 1);
    (void)n; /* a full pipe already holds a stop request */
    errno = saved;
}

void relay_client_free(relay_client *c)
{
    if (!c)
        return;
    /* The I/O thread first: its end fails every request and wakes every
     * waiter, so handlers and callbacks blocked in the library return.
     * Then the handlers (they may still post callbacks), then the
     * callbacks, all of which run before their threads are joined. */
    stop_io_thread(c);
    lr_workers_stop(&c->pool);
    lr_executor_stop(&c->exec);
    lr_executor_destroy(&c->exec);
    lr_strand_unref(c->strand);
    lr_event_hub_destroy(&c->events);
    /* Anything a handler took and released after the I/O thread ended. */
    lr_strmap_destroy(&c->pending);
    lr_strmap_destroy(&c->calls);
    lr_strmap_destroy(&c->actions);
    lr_strmap_destroy(&c->messages);
    lr_strpool_free(&c->protocols);
    mailbox_destroy(&c->mbox);
    free(c->protocol);
    free(c->authorization_state);
    free(c->host);
    free(c->host_header);
    free(c->project);
    free(c->token);
    free(c->jwt_token);
    free(c->ca_file);
    free(c->agent);
    for (size_t i = 0; c->contexts && c->contexts[i]; i++)
        free(c->contexts[i]);
    free(c->contexts);
    if (c->stop_pipe[0] >= 0)
        close(c->stop_pipe[0]);
    if (c->stop_pipe[1] >= 0)
        close(c->stop_pipe[1]);
    lr_dial_free_all(c);
    pthread_cond_destroy(&c->dial_cond);
    pthread_mutex_destroy(&c->dial_lock);
    pthread_cond_destroy(&c->outcome_cond);
    pthread_mutex_destroy(&c->outcome_lock);
    pthread_mutex_destroy(&c->post_lock);
    free(c);
}

const char *relay_client_protocol(const relay_client *c)
{
    if (!c)
        return "";
    const char *p = atomic_load_explicit(&((relay_client *)c)->protocol_pub, memory_order_acquire);
    return p ? p : "";
}

relay_status lr_client_submit(relay_client *c, rpc_req *req)
{
    pthread_mutex_lock(&c->post_lock);
    if (!c->accepting) {
        pthread_mutex_unlock(&c->post_lock);
        return RELAY_ERR_CLOSED;
    }
    lr_rpc_req_ref(req); /* the I/O thread's */
    mailbox_push(&c->mbox, &req->mb);
    lr_transport_wake(c->transport);
    pthread_mutex_unlock(&c->post_lock);
    return RELAY_OK;
}

void lr_client_post(relay_client *c, lr_strand *s, lr_task *t)
{
    lr_executor_post(&c->exec, s ? s : c->strand, t);
}

int lr_client_on_callback_thread(const relay_client *c)
{
    return c && lr_executor_owns_thread(&c->exec);
}

relay_status relay_client_execute(relay_client *c, const char *method, const char *params_json,
                                  relay_result **out)
{
    if (out)
        *out = NULL;
    if (!c || !method || !*method)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_parse_object(params_json);
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    relay_status st = lr_request(c, NULL, NULL, method, p, NULL, NULL, NULL, out);
    json_decref(p);
    return st;
}

relay_status relay_client_execute_async(relay_client *c, const char *method,
                                        const char *params_json, relay_result_callback cb,
                                        void *user)
{
    if (!c || !method || !*method || !cb)
        return RELAY_ERR_INVALID_ARG;
    json_t *p = lr_frame_parse_object(params_json);
    if (!p)
        return RELAY_ERR_INVALID_ARG;
    relay_status st = lr_request(c, NULL, NULL, method, p, NULL, cb, user, NULL);
    json_decref(p);
    return st;
}

/* client.receive / client.unreceive: {"contexts": [...]}, at least one. */
static relay_status contexts_request(relay_client *c, proto_method m,
                                     const char *const *contexts, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!c || !contexts || !contexts[0])
        return RELAY_ERR_INVALID_ARG;
    json_t *list = json_array();
    for (size_t i = 0; list && contexts[i]; i++)
        if (json_array_append_new(list, json_string(contexts[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    json_t *p = list ? json_pack("{s:o}", "contexts", list) : NULL;
    if (!p)
        return RELAY_ERR_NO_MEMORY;
    relay_status st = lr_request(c, NULL, NULL, proto_method_name(m), p, NULL, NULL, NULL, out);
    json_decref(p);
    return st;
}

relay_status relay_client_receive(relay_client *c, const char *const *contexts,
                                  relay_result **out)
{
    return contexts_request(c, PM_RECEIVE, contexts, out);
}

relay_status relay_client_unreceive(relay_client *c, const char *const *contexts,
                                    relay_result **out)
{
    return contexts_request(c, PM_UNRECEIVE, contexts, out);
}
