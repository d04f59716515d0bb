#include "calling/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER_LINE 512

static int header_ok(const char *name, const char *value)
{
    static const char *const reserved[] = {"refer-to", "referred-by", "via", "from", "to",
                                           "call-id", "cseq", "contact", "content-length",
                                           "content-type", "max-forwards", "event", NULL};
    if (!name || !value || !*name || strlen(name) > 64 || strlen(value) > 256)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-.!%*_+`'~", *p)))
            return 0;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return 0;
    for (int i = 0; reserved[i]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return 0;
    return 1;
}

const char *call_headers_build(json_t *headers, char **out)
{
    *out = NULL;
    if (!headers)
        return NULL;
    if (!json_is_array(headers) || json_array_size(headers) > CALL_HEADERS_MAX)
        return "headers must be an array of at most 16 {name, value} objects";
    size_t cap = json_array_size(headers) * (MAX_HEADER_LINE + 4) + 1;
    char *buf = calloc(1, cap);
    if (!buf)
        return "out of memory";
    size_t len = 0, i;
    json_t *h;
    json_array_foreach(headers, i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        const char *value = json_string_value(json_object_get(h, "value"));
        if (!header_ok(name, value)) {
            free(buf);
            return "invalid or reserved SIP header in headers";
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s: %s", len ? "\r\n" : "", name, value);
    }
    *out = buf;
    return NULL;
}
