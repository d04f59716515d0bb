/* pcap_file's parser of sofia-sip's message dump (capture/sofia_dump.c):
 * the bytes are SIP peers' messages. The first byte picks the slicing. */
#include <stdint.h>
#include <stddef.h>

#include "capture/sofia_dump.h"

static void check(const sofia_dump_record *r, void *user)
{
    (void)user;
    if (r->len > 4096 || r->len > r->wire_len || (r->len && !r->data))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = data[0] ? data[0] : size;
    sofia_dump *p = sofia_dump_new(4096, check, NULL);
    if (!p)
        return 0;
    for (size_t off = 1; off < size; off += step)
        sofia_dump_feed(p, data + off, off + step > size ? size - off : step);
    sofia_dump_free(p);
    return 0;
}
