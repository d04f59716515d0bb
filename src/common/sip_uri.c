#include "sip_uri.h"

#include <string.h>
#include <strings.h>

/* RFC 3261 allows these in a SIP URI outside the scheme (unreserved, escaped,
 * user/param/header punctuation, IPv6 brackets). Anything else is refused,
 * which keeps a URI from terminating its header or adding another. */
static int uri_char_ok(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return strchr("-_.!~*'()%&=+$,;?/:@[]", c) != NULL && c != '\0';
}

int sip_uri_validate(const char *uri, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!uri || !*uri) {
        *why = "empty URI";
        return -1;
    }
    size_t len = strnlen(uri, SIP_URI_MAX_LEN + 1);
    if (len > SIP_URI_MAX_LEN) {
        *why = "URI too long";
        return -1;
    }
    size_t scheme;
    if (strncasecmp(uri, "sip:", 4) == 0)
        scheme = 4;
    else if (strncasecmp(uri, "sips:", 5) == 0)
        scheme = 5;
    else {
        *why = "not a sip: or sips: URI";
        return -1;
    }
    for (size_t i = scheme; i < len; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c == '\r' || c == '\n') {
            *why = "URI contains CR or LF";
            return -1;
        }
        if (!uri_char_ok(c)) {
            *why = "URI contains a character not allowed in a SIP URI";
            return -1;
        }
    }
    /* host: after the optional user@, up to ; ? or the end; must be non-empty */
    const char *rest = uri + scheme;
    const char *at = strchr(rest, '@');
    const char *host = at ? at + 1 : rest;
    if (at && at == rest) {
        *why = "empty user part";
        return -1;
    }
    size_t hostlen = strcspn(host, ";?");
    if (hostlen == 0 || host[0] == ':') {
        *why = "URI has no host";
        return -1;
    }
    if (at && strchr(host, '@')) {
        *why = "URI has more than one @";
        return -1;
    }
    return 0;
}
