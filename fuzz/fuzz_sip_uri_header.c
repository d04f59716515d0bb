/* What clients put into SIP: refer/dial target URIs (common/sip_uri.c),
 * custom header names and values (common/sip_header.c), and a headers
 * array as calling.refer and calling.dial carry it (calling/headers.c).
 * The input is a JSON headers array when it parses as one; otherwise its
 * first line is a URI and the rest "Name: value". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calling/headers.h"
#include "common/sip_header.h"
#include "common/sip_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (j) {
        char *out = NULL;
        call_headers_build(j, &out);
        free(out);
        json_decref(j);
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = memchr(s, '\n', size);
    if (nl)
        *nl = '\0';
    const char *why;
    sip_uri_validate(s, &why);
    if (nl) {
        char *rest = nl + 1;
        size_t rest_len = size - (size_t)(rest - s);
        char *colon = memchr(rest, ':', rest_len);
        if (colon) {
            sip_header_reserved(rest);
            sip_header_validate(rest, (size_t)(colon - rest), colon + 1,
                                rest_len - (size_t)(colon + 1 - rest), &why);
        }
    }
    free(s);
    return 0;
}
