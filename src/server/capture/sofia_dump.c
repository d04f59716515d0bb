#include "sofia_dump.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A stamp is at most 127 characters (sofia formats it into char[128]). */
#define STAMP_MAX 128

typedef enum {
    ST_LINE,     /* reading a line that may be a stamp */
    ST_SKIPLINE, /* an overlong line: discard to its end */
    ST_BODY,     /* a received message: reading the announced number of bytes */
    ST_SENT,     /* a sent message: up to "\v\n", at most the announced length */
    ST_TRAILER,  /* expecting "\v\n" */
} dump_state;

struct sofia_dump {
    sofia_dump_fn fn;
    void *user;
    size_t max_message;
    dump_state st;
    char line[STAMP_MAX];
    size_t line_len;
    sofia_dump_record cur;
    uint8_t *body;
    size_t need, have;
    size_t trailer_have;
    int resyncing; /* feeding back the tail of a bad record: no second resync */
    uint64_t emitted, rejected;
};

sofia_dump *sofia_dump_new(size_t max_message, sofia_dump_fn fn, void *user)
{
    sofia_dump *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->body = malloc(max_message + 2); /* a sent record's "\v\n" lands in it too */
    if (!p->body) {
        free(p);
        return NULL;
    }
    p->fn = fn;
    p->user = user;
    p->max_message = max_message;
    return p;
}

void sofia_dump_free(sofia_dump *p)
{
    if (!p)
        return;
    free(p->body);
    free(p);
}

uint64_t sofia_dump_emitted(const sofia_dump *p)
{
    return p->emitted;
}

uint64_t sofia_dump_rejected(const sofia_dump *p)
{
    return p->rejected;
}

/* Reads 1..max_digits decimal digits at *s; advances *s. -1 if none. */
static long long read_number(const char **s, int max_digits)
{
    long long v = 0;
    int n = 0;
    while (**s >= '0' && **s <= '9' && n < max_digits) {
        v = v * 10 + (**s - '0');
        (*s)++;
        n++;
    }
    if (n == 0 || (**s >= '0' && **s <= '9'))
        return -1;
    return v;
}

static int eat(const char **s, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*s, lit, n) != 0)
        return 0;
    *s += n;
    return 1;
}

/* "HH:MM:SS.uuuuuu:" exactly, then the end of the line. */
static int parse_time(const char *s, int64_t *tod_us)
{
    long long h = read_number(&s, 2);
    if (h < 0 || h > 23 || !eat(&s, ":"))
        return -1;
    long long m = read_number(&s, 2);
    if (m < 0 || m > 59 || !eat(&s, ":"))
        return -1;
    long long sec = read_number(&s, 2);
    if (sec < 0 || sec > 60 || !eat(&s, "."))
        return -1;
    const char *us_at = s;
    long long us = read_number(&s, 6);
    if (us < 0 || s - us_at != 6 || !eat(&s, ":") || *s)
        return -1;
    *tod_us = ((h * 60 + m) * 60 + sec) * 1000000 + us;
    return 0;
}

/* One stamp line (without its '\n', NUL-terminated) into rec and the
 * announced length. -1 if it is not a stamp. */
static int parse_stamp(const char *line, sofia_dump_record *rec, size_t *len)
{
    const char *s = line;
    memset(rec, 0, sizeof *rec);
    if (eat(&s, "recv "))
        rec->sent = 0;
    else if (eat(&s, "sent "))
        rec->sent = 1;
    else
        return -1;
    long long n = read_number(&s, 9);
    if (n < 0 || !eat(&s, " bytes ") || !eat(&s, rec->sent ? "to " : "from "))
        return -1;
    size_t plen = 0;
    while (s[plen] >= 'a' && s[plen] <= 'z' && plen < sizeof rec->proto - 1)
        plen++;
    if (plen == 0 || strncmp(s + plen, "/[", 2) != 0)
        return -1;
    memcpy(rec->proto, s, plen);
    rec->proto[plen] = '\0';
    s += plen + 2;
    const char *close = strchr(s, ']');
    if (!close || close - s >= INET6_ADDRSTRLEN)
        return -1;
    char addr[INET6_ADDRSTRLEN];
    memcpy(addr, s, (size_t)(close - s));
    addr[close - s] = '\0';
    if (inet_pton(AF_INET, addr, rec->addr) == 1)
        rec->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, rec->addr) == 1)
        rec->family = AF_INET6;
    else
        return -1;
    s = close + 1;
    long long port;
    if (!eat(&s, ":") || (port = read_number(&s, 5)) < 0 || port > 65535)
        return -1;
    rec->port = (uint16_t)port;
    /* what sofia may put between the port and " at ": a flow label
     * ("/123") and ";comp=sigcomp"; the time is always last */
    const char *at = strstr(s, " at ");
    if (!at)
        return -1;
    for (const char *q; (q = strstr(at + 1, " at "));)
        at = q;
    if (parse_time(at + 4, &rec->time_of_day_us) != 0)
        return -1;
    *len = (size_t)n;
    return 0;
}

static void end_line(sofia_dump *p)
{
    p->line[p->line_len] = '\0';
    size_t n = 0;
    p->line_len = 0;
    if (parse_stamp(p->line, &p->cur, &n) != 0)
        return; /* "dump started at ...", a blank line, or noise */
    if (n > p->max_message) {
        /* Its body cannot be kept; reading on as lines finds the next
         * stamp (a body line is never mistaken for one unless a peer
         * wrote one, and then it was inside a message we skipped). */
        p->rejected++;
        return;
    }
    p->need = n;
    p->have = 0;
    p->trailer_have = 0;
    if (p->cur.sent)
        p->st = ST_SENT;
    else
        p->st = n ? ST_BODY : ST_TRAILER;
}

static void emit(sofia_dump *p, size_t len)
{
    p->cur.data = p->body;
    p->cur.len = len;
    p->cur.wire_len = p->need;
    p->emitted++;
    p->st = ST_LINE;
    p->line_len = 0;
    if (p->fn)
        p->fn(&p->cur, p->user);
}

static void feed_bytes(sofia_dump *p, const uint8_t *b, size_t len);

/* A received message's announced length was not followed by "\v\n": the
 * stream is not what the stamp said (a dump cut short, a write lost).
 * Drop the record; the next one may start right after the first "\v\n"
 * inside what we took for the body. */
static void bad_trailer(sofia_dump *p, uint8_t c)
{
    p->rejected++;
    p->st = ST_LINE;
    p->line_len = 0;
    if (p->resyncing)
        return;
    uint8_t *tail = NULL;
    size_t tail_len = 0;
    for (size_t i = 0; i + 1 < p->have; i++) {
        if (p->body[i] == '\v' && p->body[i + 1] == '\n') {
            tail_len = p->have - (i + 2) + p->trailer_have + 1;
            tail = malloc(tail_len);
            if (tail) {
                memcpy(tail, p->body + i + 2, p->have - (i + 2));
                if (p->trailer_have)
                    tail[p->have - (i + 2)] = '\v';
                tail[tail_len - 1] = c;
            }
            break;
        }
    }
    if (!tail) {
        feed_bytes(p, &c, 1);
        return;
    }
    p->resyncing = 1;
    feed_bytes(p, tail, tail_len);
    p->resyncing = 0;
    free(tail);
}

static void feed_bytes(sofia_dump *p, const uint8_t *b, size_t len)
{
    size_t i = 0;
    while (i < len) {
        switch (p->st) {
        case ST_LINE:
            if (b[i] == '\n')
                end_line(p);
            else if (p->line_len + 1 >= sizeof p->line)
                p->st = ST_SKIPLINE;
            else if (b[i] == '\0')
                p->st = ST_SKIPLINE; /* no stamp holds a NUL */
            else
                p->line[p->line_len++] = (char)b[i];
            i++;
            break;
        case ST_SKIPLINE:
            if (b[i] == '\n') {
                p->st = ST_LINE;
                p->line_len = 0;
            }
            i++;
            break;
        case ST_BODY: {
            size_t take = p->need - p->have;
            if (take > len - i)
                take = len - i;
            memcpy(p->body + p->have, b + i, take);
            p->have += take;
            i += take;
            if (p->have == p->need)
                p->st = ST_TRAILER;
            break;
        }
        case ST_SENT:
            p->body[p->have++] = b[i++];
            if (p->have >= 2 && p->body[p->have - 2] == '\v' && p->body[p->have - 1] == '\n') {
                if (p->have == 2 && p->need) { /* nothing of a non-empty message */
                    p->rejected++;
                    p->st = ST_LINE;
                    p->line_len = 0;
                } else {
                    emit(p, p->have - 2);
                }
            } else if (p->have == p->need + 2) {
                /* no trailer where the whole message would end: not
                 * sofia's format; drop it and look for the next stamp */
                p->rejected++;
                p->st = ST_LINE;
                p->line_len = 0;
            }
            break;
        case ST_TRAILER: {
            uint8_t c = b[i++];
            if (p->trailer_have == 0 && c == '\v') {
                p->trailer_have = 1;
            } else if (p->trailer_have == 1 && c == '\n') {
                emit(p, p->have);
            } else {
                bad_trailer(p, c);
            }
            break;
        }
        }
    }
}

void sofia_dump_feed(sofia_dump *p, const void *data, size_t len)
{
    feed_bytes(p, data, len);
}
