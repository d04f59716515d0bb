#include "calling/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/sip_header.h"

#define MAX_HEADER_LINE (SIP_HEADER_NAME_MAX + 2 + SIP_HEADER_VALUE_MAX)

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
        json_t *jn = json_object_get(h, "name"), *jv = json_object_get(h, "value");
        const char *name = json_string_value(jn), *value = json_string_value(jv);
        const char *why = NULL;
        if (sip_header_validate(name, json_string_length(jn), value, json_string_length(jv),
                                &why) != 0) {
            free(buf);
            return why;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s: %s", len ? "\r\n" : "", name, value);
    }
    *out = buf;
    return NULL;
}
