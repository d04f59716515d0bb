/*
 * Fetching play audio. Every limit here is a defence against the URL's
 * owner, who is a client, not an operator: the size bound and timeouts keep
 * a slow or huge response from holding a preparation thread or memory, the
 * redirect limit and protocol list keep a redirect from leading anywhere
 * but http(s), every connection is judged by addr_policy on the address it
 * goes to (so neither the URL nor a redirect reaches loopback, the private
 * network or a metadata endpoint unless webhook_allow says so), and
 * file:// is confined to media_dir.
 */
#include "media/fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "media/cache.h"
#include "media/source_file.h"
#include "server_log.h"
#include "webhook.h"

struct media_fetcher {
    media_fetch_config cfg;
    char *media_dir;    /* realpath of cfg.media_dir, NULL if none */
    media_cache *cache; /* locks itself: shared by the pool's threads */
    atomic_int cancelled;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

/* libcurl's global init is not thread-safe; it counts its callers, so
 * webhook.c calling it too is fine. */
static void curl_init_once(void) { curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

const char *media_url_invalid(const char *url, int allow_file)
{
    if (!url || !*url)
        return "audio needs params.url";
    size_t len = strlen(url);
    if (len > MEDIA_URL_MAX)
        return "audio url longer than 2048 characters";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 || ch == 0x7f) /* CR, LF, space, controls */
            return "audio url must not contain spaces or control characters";
    }
    const char *host = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    if (host)
        return *host && *host != '/' ? NULL : "audio url has no host";
    if (strncasecmp(url, "file://", 7) == 0) {
        if (!allow_file)
            return "file:// audio urls are not allowed on this relayd (no media_dir)";
        return url[7] == '/' ? NULL : "file:// audio urls need an absolute path";
    }
    return "audio url must be http://, https:// or file://";
}

media_fetcher *media_fetcher_create(const media_fetch_config *cfg)
{
    pthread_once(&curl_once, curl_init_once);
    media_fetcher *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cfg = *cfg;
    f->cfg.media_dir = NULL;
    if (cfg->media_dir && !(f->media_dir = realpath(cfg->media_dir, NULL)))
        server_log(RELAY_LOG_WARN, "media_dir %s: %s; file:// audio is refused",
                   cfg->media_dir, strerror(errno));
    f->cache = media_cache_create(cfg->cache_entries, cfg->cache_bytes);
    if (!f->cache) {
        media_fetcher_destroy(f);
        return NULL;
    }
    return f;
}

void media_fetcher_destroy(media_fetcher *f)
{
    if (!f)
        return;
    media_cache_destroy(f->cache);
    free(f->media_dir);
    free(f);
}

void media_fetcher_cancel(media_fetcher *f) { atomic_store(&f->cancelled, 1); }

/* libcurl calls this often during a transfer; non-zero aborts it. */
static int transfer_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&((media_fetcher *)user)->cancelled);
}

typedef struct body {
    unsigned char *data;
    size_t n, cap, max;
    int too_big;
} body;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    body *b = user;
    size_t add = size * nmemb;
    if (b->n + add > b->max) {
        b->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (b->n + add > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + add)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        unsigned char *p = realloc(b->data, cap);
        if (!p)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->n, ptr, add);
    b->n += add;
    return add;
}

/* What a failed fetch is called, for audio or a fax document: static text. */
typedef struct fetch_words {
    const char *what, *too_big, *timed_out, *failed, *not_200;
    int refused_col; /* which column of refusals[] */
} fetch_words;
static const fetch_words audio_words = {"audio",
                                        "audio file too large",
                                        "audio fetch timed out",
                                        "audio fetch failed",
                                        "audio fetch did not answer 200",
                                        1};
static const fetch_words doc_words = {"document",
                                      "document too large",
                                      "document fetch timed out",
                                      "document fetch failed",
                                      "document fetch did not answer 200",
                                      2};

/* The reasons addr_internal_reason gives, as the static text a refused play
 * or fax ends with (reasons must be static: they outlive the fetch). */
#define REFUSAL(why) {why, "audio URL refused: " why, "document URL refused: " why}
static const char *const refusals[][3] = {
    REFUSAL("unspecified or 'this network' address (0.0.0.0/8)"),
    REFUSAL("loopback address"),
    REFUSAL("private address (10/8)"),
    REFUSAL("private address (172.16/12)"),
    REFUSAL("private address (192.168/16)"),
    REFUSAL("shared address space (100.64/10)"),
    REFUSAL("link-local or metadata address (169.254/16)"),
    REFUSAL("IETF protocol assignment (192.0.0/24)"),
    REFUSAL("benchmarking address (198.18/15)"),
    REFUSAL("multicast address"),
    REFUSAL("reserved or broadcast address"),
    REFUSAL("unspecified address"),
    REFUSAL("unique local address (fc00::/7)"),
    REFUSAL("link-local address (fe80::/10)"),
    REFUSAL("site-local address (fec0::/10)"),
    REFUSAL("internal address"), /* any reason not listed above */
};
#undef REFUSAL

static const char *refused_text(const fetch_words *w, const char *why)
{
    size_t n = sizeof refusals / sizeof refusals[0];
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(refusals[i][0], why) == 0)
            return refusals[i][w->refused_col];
    return refusals[n - 1][w->refused_col];
}

/* One fetch's connect-time check, filled in by open_checked_socket. */
typedef struct connect_check {
    const addr_allow *allow;
    const char *refused; /* why an address was refused, or NULL */
} connect_check;

/* libcurl asks for each socket it connects, the first URL's and every
 * redirect's, with the resolved address: the one place every notation
 * (127.1, 0x7f000001, [::ffff:127.0.0.1]) and every DNS answer ends up,
 * and before anything is sent. */
static curl_socket_t open_checked_socket(void *user, curlsocktype purpose,
                                         struct curl_sockaddr *addr)
{
    connect_check *chk = user;
    if (purpose == CURLSOCKTYPE_IPCXN) {
        const char *why = addr_internal_reason(&addr->addr);
        if (why && !addr_allowed(chk->allow, &addr->addr)) {
            chk->refused = why;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static int fetch_http(media_fetcher *f, const char *url, const char *shown, body *b,
                      const fetch_words *w, const char **err)
{
    CURL *curl = curl_ok ? curl_easy_init() : NULL;
    if (!curl) {
        *err = "libcurl unavailable";
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"); /* never file:// */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)f->cfg.max_redirects);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)f->cfg.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)f->cfg.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->cfg.max_bytes);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "relayd");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, f);
    /* a proxy from the environment would be the address checked */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    connect_check chk = {.allow = f->cfg.allow};
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &chk);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (chk.refused && rc != CURLE_OK) {
        server_log(RELAY_LOG_WARN,
                   "%s %s: refused: it resolves to a %s (webhook_allow permits chosen ranges); "
                   "not fetched",
                   w->what, shown, chk.refused);
        *err = refused_text(w, chk.refused);
        return -1;
    }
    if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        server_log(RELAY_LOG_WARN, "%s %s: larger than %zu bytes", w->what, shown,
                   f->cfg.max_bytes);
        *err = w->too_big;
        return -1;
    }
    if (rc != CURLE_OK) {
        server_log(RELAY_LOG_WARN, "%s %s: %s", w->what, shown, curl_easy_strerror(rc));
        *err = rc == CURLE_OPERATION_TIMEDOUT ? w->timed_out : w->failed;
        return -1;
    }
    if (status != 200) {
        server_log(RELAY_LOG_WARN, "%s %s: HTTP status %ld", w->what, shown, status);
        *err = w->not_200;
        return -1;
    }
    return 0;
}

/* file:// is for an operator's own prompts. A client names the URL, so
 * without this fence it could make relayd read (and play to a caller it
 * controls) any file relayd can open: keys, configs, /etc. Only regular
 * files whose real path (symlinks and .. resolved) lies under media_dir
 * are read; with no media_dir, none. */
static int read_local(media_fetcher *f, const char *url, body *b, const char **err)
{
    char *real = f->media_dir ? realpath(url + 7, NULL) : NULL;
    size_t dl = f->media_dir ? strlen(f->media_dir) : 0;
    if (!real || strncmp(real, f->media_dir, dl) != 0 || real[dl] != '/') {
        server_log(RELAY_LOG_WARN, "audio %s: not a file under media_dir", url);
        free(real);
        *err = "audio file not found under media_dir";
        return -1;
    }
    struct stat st;
    FILE *fp = stat(real, &st) == 0 && S_ISREG(st.st_mode) ? fopen(real, "rb") : NULL;
    free(real); /* not a FIFO (would block the thread) nor a directory */
    if (!fp) {
        *err = "audio file not readable";
        return -1;
    }
    char buf[65536];
    size_t got;
    int rc = 0;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
        if (body_write(buf, 1, got, b) != got) {
            *err = b->too_big ? "audio file too large" : "out of memory";
            rc = -1;
            break;
        }
    if (rc == 0 && ferror(fp)) {
        *err = "audio file not readable";
        rc = -1;
    }
    fclose(fp);
    return rc;
}

media_source *media_fetch_source(media_fetcher *f, const char *url, const char **err)
{
    size_t n = 0;
    int16_t *pcm = media_cache_get(f->cache, url, &n);
    if (pcm)
        return media_source_pcm_take(pcm, n);
    int local = strncasecmp(url, "file://", 7) == 0;
    char *shown = local ? NULL : webhook_url_for_log(url); /* no credentials in logs */
    body b = {.max = f->cfg.max_bytes};
    int rc = local ? read_local(f, url, &b, err)
                   : fetch_http(f, url, shown ? shown : "(url)", &b, &audio_words, err);
    if (rc == 0) {
        pcm = media_decode_audio(b.data, b.n, &n, err);
        if (!pcm)
            server_log(RELAY_LOG_WARN, "audio %s: %s", local ? url : shown ? shown : "(url)",
                       *err);
    }
    free(b.data);
    free(shown);
    if (!pcm)
        return NULL;
    media_cache_put(f->cache, url, pcm, n);
    media_source *src = media_source_pcm_take(pcm, n);
    if (!src)
        *err = "out of memory";
    return src;
}

int media_fetch_document(media_fetcher *f, const char *url, unsigned char **data, size_t *n,
                         const char **err)
{
    char *shown = webhook_url_for_log(url);
    body b = {.max = f->cfg.max_bytes};
    int rc = fetch_http(f, url, shown ? shown : "(url)", &b, &doc_words, err);
    free(shown);
    if (rc != 0 || b.n == 0) {
        if (rc == 0)
            *err = "the document is empty";
        free(b.data);
        return -1;
    }
    *data = b.data;
    *n = b.n;
    return 0;
}

int media_fetcher_cancelled(media_fetcher *f) { return atomic_load(&f->cancelled); }
