/* The log scrubber (common/log_scrub.c) on any text, with its promise
 * checked: after it, no "token" key is followed by anything but the mask,
 * and the output fits the room it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *out = log_scrub(s);
    if (out) {
        if (strlen(out) > 2 * strlen(s) + 8)
            __builtin_trap();
        for (const char *p = out; (p = strstr(p, "\"token\":")); p++) {
            const char *v = p + 8;
            while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
                v++;
            if (*v != '\0' && strncmp(v, "\"***", 4) != 0)
                __builtin_trap();
        }
    }
    free(out);
    free(s);
    return 0;
}
