/*
 * status_url delivery: a single worker thread takes posts from a mailbox and
 * sends them one at a time with one reused libcurl easy handle (keeping the
 * connection alive between posts to the same receiver).
 *
 * A post is retried, with exponential backoff, after a transport failure
 * (refused, timed out, reset), a 5xx or a 429; other answers are final.
 * Stopping interrupts a backoff sleep and an in-flight transfer, so
 * webhook_stop() never waits longer than it was told to plus a moment.
 */
#include "webhook.h"

#include "server_log.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/mailbox.h"
#include "common/deadline.h"

#define WEBHOOK_URL_MAX 2048

typedef struct hook_post {
    mailbox_msg link; /* first: the mailbox's intrusive link */
    char *url;
    char *body;
} hook_post;

struct webhook {
    webhook_config cfg;
    const log_sink *log;
    pthread_t thread;
    mailbox inbox;
    pthread_mutex_t lock; /* with cond: wakes the worker, tracks pending */
    pthread_cond_t cond;
    int kicked;           /* a post arrived since the worker last looked */
    int pending;          /* queued or in flight */
    atomic_int stopping;
    atomic_ullong retries; /* posts sent again after a failure (metrics) */
    atomic_ullong failures; /* posts given up on */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

/* libcurl's global init is not thread-safe and must run once per process. */
static void curl_init_once(void) { curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

static void post_free(hook_post *p)
{
    if (!p)
        return;
    free(p->url);
    free(p->body);
    free(p);
}

static void inbox_wake(void *arg)
{
    webhook *w = arg;
    pthread_mutex_lock(&w->lock);
    w->kicked = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void post_done(webhook *w)
{
    pthread_mutex_lock(&w->lock);
    w->pending--;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    (void)ptr;
    (void)user;
    return size * nmemb;
}

/* Aborts a transfer in flight when the webhook is being stopped. */
static int transfer_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&((webhook *)user)->stopping) ? 1 : 0;
}

/* Sleeps ms unless the webhook starts stopping. 0 if slept fully. */
static int backoff_sleep(webhook *w, int ms)
{
    struct timespec until = deadline_after_ms(ms);
    pthread_mutex_lock(&w->lock);
    while (!atomic_load(&w->stopping))
        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
            break;
    int stopped = atomic_load(&w->stopping);
    pthread_mutex_unlock(&w->lock);
    return stopped ? -1 : 0;
}

/* One attempt's connect-time check, filled in by open_checked_socket. */
typedef struct connect_check {
    const webhook *w;
    const char *refused; /* why the address was refused, or NULL */
} connect_check;

/* libcurl asks us for each socket it connects, with the resolved address:
 * the one place every URL notation and every DNS answer ends up, so the
 * address policy is applied here rather than to the URL's text. */
static curl_socket_t open_checked_socket(void *user, curlsocktype purpose,
                                         struct curl_sockaddr *addr)
{
    connect_check *chk = user;
    if (purpose == CURLSOCKTYPE_IPCXN) {
        const char *why = addr_internal_reason(&addr->addr);
        if (why && !addr_allowed(chk->w->cfg.allow, &addr->addr)) {
            chk->refused = why;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static void deliver(webhook *w, CURL *curl, struct curl_slist *headers, const hook_post *p)
{
    char *shown = webhook_url_for_log(p->url);
    const char *url_log = shown ? shown : "(url)";
    int delay = w->cfg.backoff_ms;
    for (int attempt = 1;; attempt++) {
        curl_easy_setopt(curl, CURLOPT_URL, p->url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(p->body));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)w->cfg.timeout_ms);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)w->cfg.timeout_ms);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "relayd");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, w);
        /* a proxy from the environment would be the address checked */
        curl_easy_setopt(curl, CURLOPT_PROXY, "");
        connect_check chk = {.w = w};
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &chk);

        CURLcode rc = curl_easy_perform(curl);
        if (chk.refused && rc != CURLE_OK) {
            log_write(w->log, RELAY_LOG_WARN,
                      "webhook %s: refused: it resolves to a %s (webhook_allow permits chosen "
                      "ranges); not posted",
                      url_log, chk.refused);
            break;
        }
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            log_write(w->log, RELAY_LOG_DEBUG, "webhook %s: %ld (attempt %d)", url_log, status,
                      attempt);
            break;
        }
        int retryable = rc != CURLE_OK || status >= 500 || status == 429;
        char what[96];
        if (rc != CURLE_OK)
            snprintf(what, sizeof what, "%s", curl_easy_strerror(rc));
        else
            snprintf(what, sizeof what, "HTTP %ld", status);
        if (atomic_load(&w->stopping)) {
            log_write(w->log, RELAY_LOG_WARN, "webhook %s: %s; dropped at shutdown", url_log, what);
            break;
        }
        if (!retryable || attempt >= w->cfg.max_attempts) {
            atomic_fetch_add(&w->failures, 1);
            log_write(w->log, RELAY_LOG_WARN, "webhook %s: %s; giving up after %d attempt%s",
                      url_log, what, attempt, attempt == 1 ? "" : "s");
            break;
        }
        log_write(w->log, RELAY_LOG_INFO, "webhook %s: %s; retry %d in %d ms", url_log, what,
                  attempt, delay);
        if (backoff_sleep(w, delay) < 0) {
            log_write(w->log, RELAY_LOG_WARN, "webhook %s: dropped at shutdown", url_log);
            break;
        }
        atomic_fetch_add(&w->retries, 1);
        delay = delay > 60000 ? 120000 : delay * 2;
    }
    free(shown);
}

static void *webhook_main(void *arg)
{
    webhook *w = arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->kicked && !atomic_load(&w->stopping))
            pthread_cond_wait(&w->cond, &w->lock);
        w->kicked = 0;
        pthread_mutex_unlock(&w->lock);

        mailbox_msg *m = mailbox_take_all(&w->inbox);
        while (m) {
            hook_post *p = (hook_post *)m;
            m = m->next;
            if (!atomic_load(&w->stopping) && curl && headers)
                deliver(w, curl, headers, p);
            else
                log_write(w->log, RELAY_LOG_WARN, "webhook: a post was dropped (%s)",
                          curl && headers ? "shutting down" : "libcurl unavailable");
            post_free(p);
            post_done(w);
        }
        if (atomic_load(&w->stopping))
            break;
    }
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

webhook *webhook_start(const webhook_config *cfg)
{
    pthread_once(&curl_once, curl_init_once);
    webhook *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (cfg)
        w->cfg = *cfg;
    if (w->cfg.timeout_ms <= 0)
        w->cfg.timeout_ms = 5000;
    if (w->cfg.max_attempts <= 0)
        w->cfg.max_attempts = 3;
    if (w->cfg.backoff_ms <= 0)
        w->cfg.backoff_ms = 500;
    w->log = w->cfg.log ? w->cfg.log : &server_log_sink;
    if (!curl_ok)
        log_write(w->log, RELAY_LOG_ERROR, "webhook: curl_global_init failed");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    atomic_init(&w->stopping, 0);
    mailbox_init(&w->inbox, inbox_wake, w);
    if (pthread_create(&w->thread, NULL, webhook_main, w) != 0) {
        mailbox_destroy(&w->inbox);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

int webhook_post(webhook *w, const char *url, const char *json_body)
{
    if (!w || !json_body || webhook_url_validate(url, NULL) != 0 || atomic_load(&w->stopping))
        return -1;
    hook_post *p = calloc(1, sizeof *p);
    if (!p || !(p->url = strdup(url)) || !(p->body = strdup(json_body))) {
        post_free(p);
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    w->pending++;
    pthread_mutex_unlock(&w->lock);
    mailbox_push(&w->inbox, &p->link);
    return 0;
}

void webhook_stop(webhook *w, int drain_ms)
{
    if (!w)
        return;
    struct timespec until = deadline_after_ms(drain_ms);
    pthread_mutex_lock(&w->lock);
    while (w->pending > 0 && drain_ms > 0)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
            break;
    int left = w->pending;
    atomic_store(&w->stopping, 1);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (left > 0)
        log_write(w->log, RELAY_LOG_WARN, "webhook: stopping with %d post%s undelivered", left,
                  left == 1 ? "" : "s");
    pthread_join(w->thread, NULL);
    /* Posts queued after the worker's last look (none can be added now). */
    for (mailbox_msg *m = mailbox_take_all(&w->inbox); m;) {
        hook_post *p = (hook_post *)m;
        m = m->next;
        post_free(p);
    }
    mailbox_destroy(&w->inbox);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

char *webhook_url_for_log(const char *url)
{
    if (!url)
        return strdup("");
    size_t n = strcspn(url, "?#"); /* no query, no fragment */
    const char *auth = strstr(url, "://");
    auth = auth && (size_t)(auth - url) < n ? auth + 3 : url;
    /* userinfo ends at the last '@' of the authority */
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + alen; c++)
        if (*c == '@')
            at = c;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const char *c = url; c < url + n; c++) {
        if (at && c == auth) {
            c = at; /* skip "user:pass@" */
            continue;
        }
        out[o++] = *c;
    }
    out[o] = '\0';
    return out;
}

int webhook_url_validate(const char *url, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!url || !*url) {
        *why = "empty URL";
        return -1;
    }
    size_t n = strlen(url);
    if (n > WEBHOOK_URL_MAX) {
        *why = "URL too long";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f) {
            *why = "URL contains spaces or control characters";
            return -1;
        }
    }
    size_t scheme = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!scheme) {
        *why = "URL must be http:// or https://";
        return -1;
    }
    if (url[scheme] == '/' || url[scheme] == '\0') { /* libcurl reads "http:///x" as host x */
        *why = "URL has no host";
        return -1;
    }
    /* the rest is checked by libcurl's own parser, the one that will use it */
    pthread_once(&curl_once, curl_init_once);
    CURLU *h = curl_url();
    if (!h) {
        *why = "out of memory";
        return -1;
    }
    int rc = -1;
    char *host = NULL;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
        *why = "malformed URL";
    else if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        *why = "URL has no host";
    else
        rc = 0;
    curl_free(host);
    curl_url_cleanup(h);
    return rc;
}

unsigned long long webhook_retries(webhook *w)
{
    return atomic_load(&w->retries);
}

unsigned long long webhook_failures(webhook *w)
{
    return atomic_load(&w->failures);
}
