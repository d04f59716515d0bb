/*
 * pcap_file's two parts, driven directly: the parser of sofia-sip's message
 * dump (capture/sofia_dump.c) and the pcap writer (capture/pcap_writer.c).
 *
 * The parser reads bytes a SIP peer chose, so most of this is hostile
 * input: every slicing of a real dump gives the same records; cut, lying,
 * oversized and random input never crashes it (ASan) and never yields a
 * record that was not in the dump. The writer's file is read back with
 * libpcap: raw IP records whose lengths and UDP checksums are right, a
 * partly dumped message recorded as captured short, and a full queue
 * dropping and counting rather than waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "capture/pcap_writer.h"
#include "capture/sofia_dump.h"

#define INVITE_BODY                                                                            \
    "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"          \
    "m=audio 41164 RTP/AVP 0\r\n"
#define INVITE                                                                                 \
    "INVITE sip:office@127.0.0.1:25100 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25102\r\n"       \
    "Content-Type: application/sdp\r\nContent-Length: 97\r\n\r\n" INVITE_BODY
#define TRYING "SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n"
/* what sofia 1.12.11 dumps of a 200 OK with SDP: the headers alone */
#define OK_HEADERS "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\nContent-Length: 97\r\n\r\n"
/* a peer's message with a body line shaped like a stamp */
#define FORGED_LINE "recv 4 bytes from udp/[10.9.9.9]:1 at 00:00:00.000000:\n"
#define MESSAGE_BODY "x\n" FORGED_LINE "ABCD\v\ny"
#define MESSAGE                                                                                \
    "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 66\r\n\r\n" MESSAGE_BODY

typedef struct seen {
    int n;
    sofia_dump_record rec[16];
    char data[16][1024];
} seen;

static void collect(const sofia_dump_record *r, void *user)
{
    seen *s = user;
    assert_true(r->len <= sizeof s->data[0]);
    assert_true(r->len <= r->wire_len);
    if (s->n < 16) {
        s->rec[s->n] = *r;
        memcpy(s->data[s->n], r->data, r->len);
        s->rec[s->n].data = NULL;
        s->n++;
    }
}

static char *build_dump(size_t *len)
{
    char *d = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&d, &n);
    fprintf(f, "dump started at Tue Nov 24 01:56:51 2026\n\n\n");
    fprintf(f, "recv %zu bytes from udp/[127.0.0.1]:25102 at 01:56:51.789504:\n%s\v\n",
            strlen(INVITE), INVITE);
    fprintf(f, "sent %zu bytes to udp/[127.0.0.1]:25102 at 01:56:51.790266:\n%s\v\n",
            strlen(TRYING), TRYING);
    fprintf(f, "sent %zu bytes to udp/[127.0.0.1]:25102 at 01:56:51.795417:\n%s\v\n",
            strlen(OK_HEADERS) + 97, OK_HEADERS);
    fprintf(f, "recv %zu bytes from udp/[::1]:5062 at 23:59:59.999999:\n%s\v\n",
            strlen(MESSAGE), MESSAGE);
    fclose(f);
    *len = n;
    return d;
}

static void check_records(const seen *s)
{
    assert_int_equal(s->n, 4);
    assert_int_equal(s->rec[0].sent, 0);
    assert_string_equal(s->rec[0].proto, "udp");
    assert_int_equal(s->rec[0].family, AF_INET);
    assert_int_equal(s->rec[0].port, 25102);
    assert_int_equal(s->rec[0].len, strlen(INVITE));
    assert_int_equal(s->rec[0].wire_len, strlen(INVITE));
    assert_memory_equal(s->data[0], INVITE, strlen(INVITE));
    assert_int_equal(s->rec[0].time_of_day_us, ((1LL * 3600 + 56 * 60) + 51) * 1000000 + 789504);
    assert_int_equal(s->rec[1].sent, 1);
    assert_memory_equal(s->data[1], TRYING, strlen(TRYING));
    /* the 200 OK: its headers, and the length it really had */
    assert_int_equal(s->rec[2].sent, 1);
    assert_int_equal(s->rec[2].len, strlen(OK_HEADERS));
    assert_int_equal(s->rec[2].wire_len, strlen(OK_HEADERS) + 97);
    /* the forged stamp stays inside its message */
    assert_int_equal(s->rec[3].family, AF_INET6);
    assert_int_equal(s->rec[3].port, 5062);
    assert_int_equal(s->rec[3].len, strlen(MESSAGE));
    assert_memory_equal(s->data[3], MESSAGE, strlen(MESSAGE));
}

static void every_slicing_gives_the_same_records(void **state)
{
    (void)state;
    size_t len;
    char *dump = build_dump(&len);
    /* whole, byte by byte, and in chunks of every size up to 97 */
    for (size_t chunk = 0; chunk <= 97; chunk++) {
        seen s = {0};
        sofia_dump *p = sofia_dump_new(4096, collect, &s);
        size_t step = chunk ? chunk : len;
        for (size_t off = 0; off < len; off += step)
            sofia_dump_feed(p, dump + off, off + step > len ? len - off : step);
        check_records(&s);
        assert_int_equal(sofia_dump_rejected(p), 0);
        sofia_dump_free(p);
    }
    free(dump);
}

static void a_cut_dump_yields_only_whole_records(void **state)
{
    (void)state;
    size_t len;
    char *dump = build_dump(&len);
    /* every prefix: the records before the cut, never a partial one */
    for (size_t cut = 0; cut < len; cut++) {
        seen s = {0};
        sofia_dump *p = sofia_dump_new(4096, collect, &s);
        sofia_dump_feed(p, dump, cut);
        assert_true(s.n <= 4);
        for (int i = 0; i < s.n; i++)
            assert_true(s.rec[i].len > 0);
        if (s.n >= 1)
            assert_memory_equal(s.data[0], INVITE, strlen(INVITE));
        sofia_dump_free(p);
    }
    free(dump);
}

static void lying_lengths_and_bad_stamps_are_not_recorded(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* received, announced shorter than it is: no trailer where it should be */
        "recv 5 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nINVITE sip:x\v\n",
        /* announced longer: runs into the next stamp, which is not a trailer */
        "recv 900 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n",
        /* sent, no trailer within the announced length */
        "sent 3 bytes to udp/[127.0.0.1]:5060 at 01:02:03.000004:\nBYE sip:x\v\n",
        /* sent, nothing of a non-empty message */
        "sent 30 bytes to udp/[127.0.0.1]:5060 at 01:02:03.000004:\n\v\n",
        /* above the size bound */
        "recv 999999 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nX\v\n",
        /* stamps that are not sofia's */
        "recv 3 bytes to udp/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n",
        "recv 3 bytes from udp/[127.0.0.1]:70000 at 01:02:03.000004:\nACK\v\n",
        "recv 3 bytes from udp/[127.0.0.300]:5060 at 01:02:03.000004:\nACK\v\n",
        "recv 3 bytes from udp/[127.0.0.1]:5060 at 25:02:03.000004:\nACK\v\n",
        "recv 3 bytes from udp/[127.0.0.1]:5060 at 01:02:03.4:\nACK\v\n",
        "recv 3 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:x\nACK\v\n",
        "recv 3 bytes from UDP/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n",
        "recv -3 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n",
        "recv 99999999999999999999 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s = {0};
        sofia_dump *p = sofia_dump_new(4096, collect, &s);
        sofia_dump_feed(p, bad[i], strlen(bad[i]));
        if (s.n != 0)
            fail_msg("case %zu gave a record", i);
        sofia_dump_free(p);
    }
    /* and after any of them, a good record is still found */
    const char *after = "recv 3 bytes from udp/[127.0.0.1]:5060 at 01:02:03.000004:\nACK\v\n";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s = {0};
        sofia_dump *p = sofia_dump_new(4096, collect, &s);
        sofia_dump_feed(p, bad[i], strlen(bad[i]));
        sofia_dump_feed(p, "\n", 1);
        sofia_dump_feed(p, after, strlen(after));
        /* case 1 swallows it: the 900 bytes it announced are never completed */
        int want = i == 1 ? 0 : 1;
        if (s.n != want || (want && (s.rec[0].len != 3 || memcmp(s.data[0], "ACK", 3) != 0)))
            fail_msg("case %zu: the good record after it: %d records", i, s.n);
        sofia_dump_free(p);
    }
}

static void random_garbage_yields_nothing(void **state)
{
    (void)state;
    srand(4242);
    static uint8_t buf[1 << 16];
    for (int round = 0; round < 64; round++) {
        seen s = {0};
        sofia_dump *p = sofia_dump_new(2048, collect, &s);
        for (size_t i = 0; i < sizeof buf; i++) {
            /* bytes, with the parser's own delimiters and a valid-looking
             * prefix salted in so the state machine gets far */
            int r = rand();
            buf[i] = r % 7 == 0 ? "\n\v:[]/ "[r % 7] : (uint8_t)(r >> 8);
        }
        for (int k = 0; k < 32; k++) {
            size_t at = (size_t)rand() % (sizeof buf - 80);
            memcpy(buf + at, "recv 12 bytes from udp/[1.2.3.4]:5 at 00:00:00.000001:", 55);
        }
        sofia_dump_feed(p, buf, sizeof buf);
        /* a salted stamp may be followed by 12 bytes and "\v\n" by chance:
         * then it is a well-formed record, and its fields must say so */
        for (int i = 0; i < s.n; i++) {
            assert_int_equal(s.rec[i].len, 12);
            assert_int_equal(s.rec[i].port, 5);
        }
        sofia_dump_free(p);
    }
}

/* ------------------------------------------------------------ the writer */

static struct sockaddr_in v4(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static uint16_t udp_sum_ok(const uint8_t *ip, size_t len)
{
    /* the ones' complement sum over the pseudo-header and the UDP part
     * (with its checksum) is 0xFFFF when the checksum is right */
    uint32_t sum = 0;
    for (int i = 12; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    sum += 17 + (uint32_t)(len - 20);
    for (size_t i = 20; i + 1 < len; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    if ((len - 20) & 1)
        sum += (uint32_t)(ip[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

static void the_file_reads_back_as_raw_ip_with_right_checksums(void **state)
{
    (void)state;
    char path[] = "/tmp/relay-test-capture-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char why[300];
    assert_int_equal(pcap_writer_start(path, 1 << 20, why, sizeof why), 0);
    struct sockaddr_in a = v4("127.0.0.1", 5070), b = v4("10.1.2.3", 5062);
    struct timeval tv = {.tv_sec = 1795485716, .tv_usec = 123456};
    pcap_writer_udp((struct sockaddr *)&b, (struct sockaddr *)&a, &tv, INVITE, strlen(INVITE));
    pcap_writer_udp((struct sockaddr *)&a, (struct sockaddr *)&b, &tv, "odd", 3);
    pcap_writer_udp_partial((struct sockaddr *)&a, (struct sockaddr *)&b, &tv, OK_HEADERS,
                            strlen(OK_HEADERS), strlen(OK_HEADERS) + 97);
    pcap_writer_stop();
    assert_int_equal(pcap_writer_dropped(), 0);

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline(path, err);
    assert_non_null(r);
    assert_int_equal(pcap_datalink(r), DLT_RAW);
    struct pcap_pkthdr *h;
    const u_char *d;
    const char *payload[] = {INVITE, "odd", OK_HEADERS};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pcap_next_ex(r, &h, &d), 1);
        size_t plen = strlen(payload[i]);
        assert_int_equal(h->caplen, 28 + plen);
        assert_int_equal(h->len, 28 + plen + (i == 2 ? 97 : 0));
        assert_int_equal(h->ts.tv_sec, tv.tv_sec);
        assert_int_equal(h->ts.tv_usec, tv.tv_usec);
        assert_int_equal(d[0], 0x45);
        assert_int_equal(d[9], 17);
        assert_int_equal(d[2] << 8 | d[3], h->len);          /* IP total length */
        assert_int_equal(d[24] << 8 | d[25], h->len - 20);   /* UDP length */
        assert_memory_equal(d + 28, payload[i], plen);
        if (i < 2)
            assert_int_equal(udp_sum_ok(d, h->caplen), 0xFFFF);
        else
            assert_int_equal(d[26] << 8 | d[27], 0); /* partial: no checksum */
    }
    assert_int_equal(pcap_next_ex(r, &h, &d), PCAP_ERROR_BREAK);
    pcap_close(r);
    unlink(path);
}

static void a_full_queue_drops_and_counts(void **state)
{
    (void)state;
    char path[] = "/tmp/relay-test-capture-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char why[300];
    uint64_t dropped0 = pcap_writer_dropped(), written0 = pcap_writer_written();
    /* room for a handful of packets: a burst must overflow it */
    assert_int_equal(pcap_writer_start(path, 2048, why, sizeof why), 0);
    struct sockaddr_in a = v4("127.0.0.1", 40000), b = v4("127.0.0.1", 41000);
    static uint8_t pkt[172];
    for (int i = 0; i < 20000; i++)
        pcap_writer_udp((struct sockaddr *)&a, (struct sockaddr *)&b, NULL, pkt, sizeof pkt);
    /* mixed families are refused, not written with a wrong header */
    struct sockaddr_in6 c = {.sin6_family = AF_INET6};
    pcap_writer_udp((struct sockaddr *)&a, (struct sockaddr *)&c, NULL, pkt, sizeof pkt);
    pcap_writer_stop();
    uint64_t dropped = pcap_writer_dropped() - dropped0;
    uint64_t written = pcap_writer_written() - written0;
    assert_true(dropped > 0);
    assert_int_equal(dropped + written, 20001);
    /* every written packet is in the file, whole */
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline(path, err);
    assert_non_null(r);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t n = 0;
    while (pcap_next_ex(r, &h, &d) == 1) {
        assert_int_equal(h->caplen, 28 + sizeof pkt);
        n++;
    }
    assert_int_equal(n, written);
    pcap_close(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_slicing_gives_the_same_records),
        cmocka_unit_test(a_cut_dump_yields_only_whole_records),
        cmocka_unit_test(lying_lengths_and_bad_stamps_are_not_recorded),
        cmocka_unit_test(random_garbage_yields_nothing),
        cmocka_unit_test(the_file_reads_back_as_raw_ip_with_right_checksums),
        cmocka_unit_test(a_full_queue_drops_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
