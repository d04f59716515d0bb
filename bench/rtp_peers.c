/*
 * The RTP ends of bench/bridged_calls.sh: every caller and every callee of
 * N bridged calls, in one process, so that what arrives is counted against
 * what was sent. sipp places and answers the calls (its SDP names our
 * ports, from its injection files) and logs, per call, our port and the
 * port relayd gave that leg; we send PCMU from that port to relayd's and
 * count what comes back.
 *
 * Loss is counted by content, not by packets: relayd decodes each leg's
 * audio, carries it across the bridge and encodes it again on its own
 * clock, so packets keep coming (silence) even when audio is lost. Each
 * frame we send carries its stream's id and a frame counter in its first
 * eight payload bytes; with PCMU on both legs the bytes come out as they
 * went in (u-law decodes and re-encodes exactly, 0x7F aside, which the
 * tag never uses). A receiver counts, per stream it hears, the frames
 * between the first and the last counter it saw that never arrived: lost
 * on the way, whatever the cause (a kernel buffer, a late media thread, a
 * bridge ring let go).
 *
 *   rtp_peers relayd SECONDS LOG_A FIRST_A LOG_B FIRST_B N
 *       bind N ports from FIRST_A and N from FIRST_B; for each line
 *       "<our port> <relayd's port>" appended to LOG_A or LOG_B, stream from
 *       our port to relayd's for SECONDS; stop when every stream has ended
 *       and nothing arrived for 2 s, then print the counts.
 *   rtp_peers loopback SECONDS FIRST N
 *       the same streams without relayd: N pairs of our own ports send to
 *       each other, both ways (what loopback alone loses).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>

#define FRAME_NS 20000000L
#define FRAME_BYTES 160
#define TAG_BYTES 8
#define MAX_STREAMS 4096

/* What one port heard from one origin stream. */
typedef struct heard {
    int origin;            /* the sending stream's id, -1: none yet */
    uint32_t first, last;  /* counters seen, unwrapped */
    uint64_t got, dups;
} heard;

typedef struct stream {
    int fd, port;
    int id;                /* its tag; the index in streams[] */
    struct sockaddr_in to;
    int sending;
    struct timespec next, until;
    uint32_t counter;      /* frames sent */
    heard in;              /* one origin per port: a leg hears one peer */
    uint64_t untagged;     /* packets without a tag: relayd's filler silence */
    uint64_t foreign;      /* tagged frames of a second origin (a mix-up) */
    int64_t *sent_ns;      /* when each frame left, by counter */
    uint32_t sent_cap;
} stream;

/* One-way delays of every frame heard, in microseconds, for percentiles. */
static uint32_t *delays_us;
static size_t n_delays, cap_delays;

static stream streams[MAX_STREAMS];
static int n_streams;
static uint8_t tone[FRAME_BYTES * 50]; /* 1 s of 440 Hz, u-law */

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void make_tone(void)
{
    for (size_t i = 0; i < sizeof tone; i++)
        tone[i] = linear_to_ulaw((int16_t)(8000 * sin(2 * M_PI * 440 * (double)i / 8000)));
}

/* Nibbles in 0x90-0x9F: ordinary u-law codes, never 0x7F/0xFF. */
static void put_tag(uint8_t *p, uint16_t id, uint16_t counter)
{
    uint32_t v = (uint32_t)id << 16 | counter;
    for (int i = 0; i < TAG_BYTES; i++)
        p[i] = (uint8_t)(0x90 | ((v >> (28 - 4 * i)) & 0x0F));
}

static int get_tag(const uint8_t *p, uint16_t *id, uint16_t *counter)
{
    uint32_t v = 0;
    for (int i = 0; i < TAG_BYTES; i++) {
        if ((p[i] & 0xF0) != 0x90)
            return -1;
        v = v << 4 | (p[i] & 0x0F);
    }
    *id = (uint16_t)(v >> 16);
    *counter = (uint16_t)v;
    return 0;
}

static void ts_add(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int bind_port(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "rtp_peers: bind %d: %s\n", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static stream *add_stream(int port)
{
    if (n_streams >= MAX_STREAMS)
        return NULL;
    stream *s = &streams[n_streams];
    s->fd = bind_port(port);
    if (s->fd < 0)
        return NULL;
    s->port = port;
    s->id = n_streams++;
    s->in.origin = -1;
    return s;
}

static stream *by_port(int port)
{
    for (int i = 0; i < n_streams; i++)
        if (streams[i].port == port)
            return &streams[i];
    return NULL;
}

static void start(stream *s, int remote_port, double seconds)
{
    s->to.sin_family = AF_INET;
    s->to.sin_port = htons((uint16_t)remote_port);
    s->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    clock_gettime(CLOCK_MONOTONIC, &s->next);
    s->until = s->next;
    ts_add(&s->until, (long)(seconds * 1e9));
    s->sending = 1;
    s->sent_cap = (uint32_t)(seconds * 50) + 100;
    s->sent_ns = calloc(s->sent_cap, sizeof *s->sent_ns);
}

static void send_frame(stream *s)
{
    uint8_t pkt[12 + FRAME_BYTES];
    uint16_t seq = (uint16_t)s->counter;
    uint32_t ts = s->counter * FRAME_BYTES;
    pkt[0] = 0x80;
    pkt[1] = 0; /* PCMU */
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    pkt[4] = (uint8_t)(ts >> 24);
    pkt[5] = (uint8_t)(ts >> 16);
    pkt[6] = (uint8_t)(ts >> 8);
    pkt[7] = (uint8_t)ts;
    uint32_t ssrc = 0x5eed0000u + (uint32_t)s->id;
    pkt[8] = (uint8_t)(ssrc >> 24);
    pkt[9] = (uint8_t)(ssrc >> 16);
    pkt[10] = (uint8_t)(ssrc >> 8);
    pkt[11] = (uint8_t)ssrc;
    memcpy(pkt + 12, tone + (s->counter % 50) * FRAME_BYTES, FRAME_BYTES);
    put_tag(pkt + 12, (uint16_t)s->id, (uint16_t)s->counter);
    if (s->sent_ns && s->counter < s->sent_cap)
        s->sent_ns[s->counter] = now_ns();
    sendto(s->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&s->to, sizeof s->to);
    s->counter++;
}

static void note_delay(uint16_t origin, uint32_t counter)
{
    if (origin >= n_streams)
        return;
    stream *o = &streams[origin];
    if (!o->sent_ns || counter >= o->sent_cap || !o->sent_ns[counter])
        return;
    if (n_delays == cap_delays) {
        size_t cap = cap_delays ? 2 * cap_delays : 65536;
        uint32_t *d = realloc(delays_us, cap * sizeof *d);
        if (!d)
            return;
        delays_us = d;
        cap_delays = cap;
    }
    delays_us[n_delays++] = (uint32_t)((now_ns() - o->sent_ns[counter]) / 1000);
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void receive(stream *s)
{
    uint8_t pkt[1500];
    for (;;) {
        ssize_t n = recv(s->fd, pkt, sizeof pkt, 0);
        if (n < 0)
            return;
        uint16_t id, c16;
        if (n < 12 + TAG_BYTES || get_tag(pkt + 12, &id, &c16) < 0) {
            s->untagged++;
            continue;
        }
        heard *h = &s->in;
        if (h->origin < 0) {
            h->origin = id;
            h->first = h->last = c16;
            h->got = 1;
            note_delay(id, c16);
            continue;
        }
        if (id != h->origin) {
            s->foreign++;
            continue;
        }
        /* in order on loopback; a late one still counts as received */
        int32_t c = (int32_t)h->last + (int16_t)(uint16_t)(c16 - (uint16_t)h->last);
        if (c == (int32_t)h->last) {
            h->dups++;
            continue;
        }
        if (c > (int32_t)h->last)
            h->last = (uint32_t)c;
        else if (c < (int32_t)h->first)
            continue; /* before the first we saw: outside the window */
        h->got++;
        note_delay(id, (uint32_t)c);
    }
}

/* New lines "<ours> <relayd's>" of a sipp log: streams to start. */
static void follow(FILE *f, double seconds)
{
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        int ours, theirs;
        if (sscanf(line, "%*s %d %d", &ours, &theirs) != 2 &&
            sscanf(line, "%d %d", &ours, &theirs) != 2)
            continue;
        stream *s = by_port(ours);
        if (s && !s->sending && s->counter == 0)
            start(s, theirs, seconds);
        else if (!s)
            fprintf(stderr, "rtp_peers: not our port: %s", line);
    }
    if (f)
        clearerr(f);
}

static void report(const char *label, int from, int to)
{
    uint64_t sent = 0, got = 0, expected = 0, dups = 0, untagged = 0, foreign = 0;
    int heard_any = 0;
    for (int i = from; i < to; i++) {
        stream *s = &streams[i];
        sent += s->counter;
        untagged += s->untagged;
        foreign += s->foreign;
        if (s->in.origin >= 0) {
            heard_any++;
            got += s->in.got;
            dups += s->in.dups;
            expected += s->in.last - s->in.first + 1;
        }
    }
    uint64_t lost = expected > got ? expected - got : 0;
    printf("%s streams %d heard %d sent %llu expected %llu received %llu lost %llu "
           "loss %.4f%% dups %llu untagged %llu foreign %llu\n",
           label, to - from, heard_any, (unsigned long long)sent, (unsigned long long)expected,
           (unsigned long long)got, (unsigned long long)lost,
           expected ? 100.0 * (double)lost / (double)expected : 0.0, (unsigned long long)dups,
           (unsigned long long)untagged, (unsigned long long)foreign);
}

static int run(double seconds, FILE *log_a, FILE *log_b, int split)
{
    struct pollfd *pfd = calloc((size_t)n_streams, sizeof *pfd);
    if (!pfd)
        return 1;
    for (int i = 0; i < n_streams; i++) {
        pfd[i].fd = streams[i].fd;
        pfd[i].events = POLLIN;
    }
    struct timespec last_rx, now, give_up;
    clock_gettime(CLOCK_MONOTONIC, &last_rx);
    give_up = last_rx; /* should sipp never get its calls up */
    ts_add(&give_up, (long)((seconds + 120) * 1e9));
    int started_any = 0;
    for (;;) {
        follow(log_a, seconds);
        follow(log_b, seconds);
        clock_gettime(CLOCK_MONOTONIC, &now);
        int sending = 0;
        struct timespec wake = now;
        ts_add(&wake, FRAME_NS);
        for (int i = 0; i < n_streams; i++) {
            stream *s = &streams[i];
            if (!s->sending)
                continue;
            started_any = 1;
            while (s->sending && !ts_before(&now, &s->next)) {
                if (!ts_before(&s->next, &s->until)) {
                    s->sending = 0;
                    break;
                }
                send_frame(s);
                ts_add(&s->next, FRAME_NS);
            }
            if (s->sending) {
                sending++;
                if (ts_before(&s->next, &wake))
                    wake = s->next;
            }
        }
        long wait_ms = (wake.tv_sec - now.tv_sec) * 1000 + (wake.tv_nsec - now.tv_nsec) / 1000000;
        if (wait_ms < 0)
            wait_ms = 0;
        int ready = poll(pfd, (nfds_t)n_streams, (int)wait_ms);
        if (ready > 0) {
            for (int i = 0; i < n_streams; i++)
                if (pfd[i].revents & POLLIN)
                    receive(&streams[i]);
            clock_gettime(CLOCK_MONOTONIC, &last_rx);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long quiet_ms = (now.tv_sec - last_rx.tv_sec) * 1000 + (now.tv_nsec - last_rx.tv_nsec) / 1000000;
        /* done: everything started has been sent and the line went quiet */
        int all_started = 1;
        for (int i = 0; i < n_streams; i++)
            if (!streams[i].counter && !streams[i].sending)
                all_started = 0;
        if (started_any && !sending && quiet_ms > 2000 && (all_started || quiet_ms > 20000))
            break;
        if (!ts_before(&now, &give_up)) {
            fprintf(stderr, "rtp_peers: gave up waiting for the streams\n");
            break;
        }
    }
    free(pfd);
    report("a->b (heard at b)", split, n_streams);
    report("b->a (heard at a)", 0, split);
    if (n_delays) {
        qsort(delays_us, n_delays, sizeof *delays_us, by_value);
        printf("delay_us p50 %u p99 %u max %u (%zu frames, both ways)\n",
               delays_us[n_delays / 2], delays_us[n_delays * 99 / 100], delays_us[n_delays - 1],
               n_delays);
    }
    for (int i = 0; i < n_streams; i++)
        free(streams[i].sent_ns);
    free(delays_us);
    return 0;
}

int main(int argc, char **argv)
{
    make_tone();
    if (argc == 8 && strcmp(argv[1], "relayd") == 0) {
        double seconds = atof(argv[2]);
        int first_a = atoi(argv[4]), first_b = atoi(argv[6]), n = atoi(argv[7]);
        if (n < 1 || 2 * n > MAX_STREAMS)
            return 2;
        for (int i = 0; i < n; i++)
            if (!add_stream(first_a + i))
                return 1;
        for (int i = 0; i < n; i++)
            if (!add_stream(first_b + i))
                return 1;
        FILE *a = fopen(argv[3], "a+"), *b = fopen(argv[5], "a+");
        if (!a || !b)
            return 1;
        printf("ready\n");
        fflush(stdout);
        int rc = run(seconds, a, b, n);
        fclose(a);
        fclose(b);
        return rc;
    }
    if (argc == 5 && strcmp(argv[1], "loopback") == 0) {
        double seconds = atof(argv[2]);
        int first = atoi(argv[3]), n = atoi(argv[4]);
        if (n < 1 || 2 * n > MAX_STREAMS)
            return 2;
        for (int i = 0; i < 2 * n; i++)
            if (!add_stream(first + i))
                return 1;
        for (int i = 0; i < n; i++) {
            start(&streams[i], streams[n + i].port, seconds);
            start(&streams[n + i], streams[i].port, seconds);
        }
        return run(seconds, NULL, NULL, n);
    }
    fprintf(stderr,
            "usage: %s relayd SECONDS LOG_A FIRST_A LOG_B FIRST_B N\n"
            "       %s loopback SECONDS FIRST N\n",
            argv[0], argv[0]);
    return 2;
}
