/* status_url as a client gives it: validation (webhook.c, libcurl's URL
 * parser behind it), the form logs show, and — for a literal address —
 * the internal-address policy (addr_policy.c). The first line may also be
 * a webhook_allow range. No name is resolved. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include "addr_policy.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    addr_range r;
    addr_range_parse(s, &r);
    const char *why;
    webhook_url_validate(s, &why);
    free(webhook_url_for_log(s));
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        size_t hl = strlen(host);
        if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
            memmove(host, host + 1, hl - 2);
            host[hl - 2] = '\0';
        }
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *ai = NULL;
        if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
            addr_internal_reason(ai->ai_addr);
            freeaddrinfo(ai);
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    free(s);
    return 0;
}
