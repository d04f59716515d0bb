#include "sip_header.h"

#include <string.h>
#include <strings.h>

/* Headers that shape a request, its transaction, its dialog or its body.
 * The stack writes them; a client copy would duplicate or override them. The
 * compact form (RFC 3261 7.3.3 and the IANA SIP header registry) is listed
 * beside its long name, so the table reads as one vocabulary. */
static const struct {
    const char *name;
    char compact; /* '\0' if it has none */
} reserved_headers[] = {
    {"Via", 'v'},
    {"From", 'f'},
    {"To", 't'},
    {"Call-ID", 'i'},
    {"CSeq", '\0'},
    {"Contact", 'm'},
    {"Max-Forwards", '\0'},
    {"Route", '\0'},
    {"Record-Route", '\0'},
    {"Content-Length", 'l'},
    {"Content-Type", 'c'},
    {"Content-Encoding", 'e'},
    {"Supported", 'k'},
    {"Subject", 's'},
    {"Event", 'o'},
    {"Allow-Events", 'u'},
    {"Refer-To", 'r'},
    {"Referred-By", 'b'},
    {"Session-Expires", 'x'},
    {"Identity", 'y'},
    {"Identity-Info", 'n'},
    {"Accept-Contact", 'a'},
    {"Reject-Contact", 'j'},
    {"Request-Disposition", 'd'},
    {"Authorization", '\0'},
    {"Proxy-Authorization", '\0'},
    {"Require", '\0'},
    {"Proxy-Require", '\0'},
};

int sip_header_reserved(const char *name)
{
    if (!name || !*name)
        return 1;
    if (name[1] == '\0') /* a compact form, listed or not */
        return 1;
    for (size_t i = 0; i < sizeof reserved_headers / sizeof reserved_headers[0]; i++)
        if (strcasecmp(name, reserved_headers[i].name) == 0)
            return 1;
    return 0;
}

/* RFC 3261 token characters. */
static int token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-.!%*_+`'~", c));
}

int sip_header_validate(const char *name, size_t name_len, const char *value, size_t value_len,
                        const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!name || !value || name_len == 0) {
        *why = "header needs a name and a value";
        return -1;
    }
    if (name_len > SIP_HEADER_NAME_MAX || value_len > SIP_HEADER_VALUE_MAX) {
        *why = "header name or value too long";
        return -1;
    }
    for (size_t i = 0; i < name_len; i++)
        if (!token_char((unsigned char)name[i])) {
            *why = "header name is not a SIP token";
            return -1;
        }
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\r' || c == '\n' || c == '\0') {
            *why = "header value contains CR, LF or NUL";
            return -1;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "header value contains a control character";
            return -1;
        }
    }
    if (sip_header_reserved(name)) {
        *why = "header is reserved (set by relayd itself)";
        return -1;
    }
    return 0;
}
