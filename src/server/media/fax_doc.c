/* See media/fax_doc.h. */
#define _GNU_SOURCE
#include "media/fax_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_log.h"

fax_doc_kind fax_doc_kind_of(const unsigned char *head, size_t n)
{
    if (n >= 4 && (memcmp(head, "II*\0", 4) == 0 || memcmp(head, "MM\0*", 4) == 0))
        return FAX_DOC_TIFF;
    if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
        return FAX_DOC_PDF;
    return FAX_DOC_OTHER;
}

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d == '/' ? d : "/tmp";
}

/* A new empty file (mode 0600) named relayd-fax-XXXXXX<suffix>: fd, or -1. */
static int tmp_file(char *out, size_t n, const char *suffix)
{
    int len = snprintf(out, n, "%s/relayd-fax-XXXXXX%s", tmp_dir(), suffix);
    if (len < 0 || (size_t)len >= n)
        return -1;
    return mkostemps(out, (int)strlen(suffix), O_CLOEXEC);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child, between fork and exec: async-signal-safe calls only. */
static void exec_gs(const char *pdf, const char *out_arg)
{
    setpgid(0, 0); /* killed as a group: gs may start helpers */
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0); /* relayd's sockets and files stay with relayd */
    struct rlimit cpu = {FAX_DOC_TIMEOUT_MS / 1000, FAX_DOC_TIMEOUT_MS / 1000};
    struct rlimit as = {FAX_DOC_MAX_MEMORY, FAX_DOC_MAX_MEMORY};
    struct rlimit fsize = {FAX_DOC_MAX_OUTPUT, FAX_DOC_MAX_OUTPUT};
    struct rlimit files = {64, 64};
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_CPU, &cpu) != 0 || setrlimit(RLIMIT_AS, &as) != 0 ||
        setrlimit(RLIMIT_FSIZE, &fsize) != 0 || setrlimit(RLIMIT_NOFILE, &files) != 0 ||
        setrlimit(RLIMIT_CORE, &core) != 0)
        _exit(126);
    /* A fax page is 1728 pixels wide (T.4): the PDF's page is fitted into
     * 1728x2292 pixels at 204x196 dpi (A4 length), whatever its size. */
    char *const argv[] = {"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE",
                          "-sDEVICE=tiffg4", "-r204x196", "-g1728x2292", "-dFIXEDMEDIA",
                          "-dPDFFitPage", (char *)out_arg, "-f", (char *)pdf, NULL};
    execvp("gs", argv);
    _exit(127);
}

/* Runs gs on pdf into tif. 0, or -1 and *err. */
static int convert(media_fetcher *f, const char *pdf, const char *tif, const char **err)
{
    char out_arg[PATH_MAX + 16];
    snprintf(out_arg, sizeof out_arg, "-sOutputFile=%s", tif);
    pid_t pid = fork();
    if (pid < 0) {
        *err = "could not start the PDF converter";
        return -1;
    }
    if (pid == 0)
        exec_gs(pdf, out_arg);
    int64_t end = mono_ms() + FAX_DOC_TIMEOUT_MS;
    int status = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
        if (mono_ms() >= end || media_fetcher_cancelled(f)) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            server_log(RELAY_LOG_WARN, "fax document %s: ghostscript %s, killed", pdf,
                       media_fetcher_cancelled(f) ? "cut short by shutdown" : "timed out");
            *err = "converting the PDF took too long";
            return -1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (got < 0) {
        *err = "the PDF converter was lost";
        return -1;
    }
    kill(-pid, SIGKILL); /* anything gs left behind */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        server_log(RELAY_LOG_ERROR, "fax document: ghostscript (gs) is not installed");
        *err = "this relayd has no PDF converter (ghostscript is not installed)";
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            server_log(RELAY_LOG_WARN, "fax document %s: ghostscript died of signal %d", pdf,
                       WTERMSIG(status));
        else
            server_log(RELAY_LOG_WARN, "fax document %s: ghostscript exited %d", pdf,
                       WEXITSTATUS(status));
        *err = "the PDF could not be converted";
        return -1;
    }
    struct stat st;
    if (stat(tif, &st) != 0 || st.st_size == 0) { /* gs repairs what it can, quietly */
        server_log(RELAY_LOG_WARN, "fax document %s: ghostscript rendered no page", pdf);
        *err = "the PDF could not be converted";
        return -1;
    }
    return 0;
}

/* Writes data to a new temporary file: 0 with its path in out, or -1. */
static int save(const unsigned char *data, size_t n, const char *suffix, char *out, size_t cap,
                const char **err)
{
    int fd = tmp_file(out, cap, suffix);
    if (fd < 0 || write_all(fd, data, n) != 0) {
        if (fd >= 0) {
            close(fd);
            unlink(out);
        }
        server_log(RELAY_LOG_ERROR, "fax document: cannot write in %s: %s", tmp_dir(),
                   strerror(errno));
        *err = "no room for the document";
        return -1;
    }
    close(fd);
    return 0;
}

int fax_doc_prepare(media_fetcher *f, const char *url, const char *local, char *out, size_t n,
                    const char **err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    char pdf[PATH_MAX] = "";
    out[0] = 0;
    if (url) {
        if (media_fetch_document(f, url, &data, &len, err) != 0)
            return -1;
        fax_doc_kind kind = fax_doc_kind_of(data, len);
        int rc = -1;
        if (kind == FAX_DOC_TIFF)
            rc = save(data, len, ".tif", out, n, err);
        else if (kind == FAX_DOC_PDF)
            rc = save(data, len, ".pdf", pdf, sizeof pdf, err);
        else
            *err = "the document is neither a TIFF nor a PDF";
        free(data);
        if (rc != 0) {
            out[0] = 0;
            return -1;
        }
        if (kind == FAX_DOC_TIFF)
            return 0;
        local = pdf;
    }
    int fd = tmp_file(out, n, ".tif");
    if (fd < 0) {
        *err = "no room for the document";
        out[0] = 0;
    } else {
        close(fd);
    }
    int rc = fd >= 0 ? convert(f, local, out, err) : -1;
    if (pdf[0])
        unlink(pdf);
    if (rc != 0 && out[0]) {
        unlink(out);
        out[0] = 0;
    }
    return rc;
}
