/*
 * log_scrub: the last line of defence between a log line and its sink.
 *
 * It works on text, not on a parse, because what reaches a log is often
 * not valid JSON (a frame cut at a size limit, a parse error's context, a
 * line with a frame inside it), and a malformed frame must be scrubbed as
 * well as a valid one. Two passes:
 *
 *  1. JSON-shaped key/value pairs. A quoted string followed by ':' is a
 *     key (wherever a quote starts one: malformed text may pair its quotes
 *     wrongly); it is compared with the secret keys after its escapes are
 *     decoded ("tok\u0065n" is "token") and ignoring case, and the whole
 *     value that follows is replaced by "***", whatever its type: a string,
 *     a number, an array or an object (so ["a","b"] under "token" goes too).
 *  2. JWT-shaped runs anywhere ("eyJ...".".".".": a base64url JSON header, a
 *     dot, a payload, a dot, a signature), wherever they sit: inside another
 *     string, a header value, a URL.
 *
 * Frames are also logged only after being parsed and re-serialised where
 * that is possible (relayd's rpc.c, librelay's dispatch.c), which turns
 * every escape into plain text before this runs.
 */
#include "log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const secret_keys[] = {
    "token",    "api_token",     "jwt_token",    "jwt",       "project",
    "project_id", "authorization_state", "authorization", "authentication",
    "password", "secret",        "signature",    "access_token", "auth_token",
    NULL,
};

int log_key_is_secret(const char *key, size_t len)
{
    for (size_t i = 0; secret_keys[i]; i++)
        if (strlen(secret_keys[i]) == len && strncasecmp(secret_keys[i], key, len) == 0)
            return 1;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The end of the JSON string whose opening quote is at text[i] (one past
 * its closing quote, or n if unterminated). */
static size_t string_end(const char *text, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && text[j] != '"')
        j += (text[j] == '\\' && j + 1 < n) ? 2 : 1;
    return j < n ? j + 1 : n;
}

/* Decodes the string text[i..end) (quotes included) into key; 0 if it does
 * not fit or holds a character no secret key has. */
static size_t decode_key(const char *text, size_t i, size_t end, char *key, size_t cap)
{
    size_t k = 0;
    size_t stop = end > i + 1 && text[end - 1] == '"' ? end - 1 : end;
    for (size_t j = i + 1; j < stop; j++) {
        char c = text[j];
        if (c == '\\' && j + 1 < stop) {
            char e = text[++j];
            if (e == 'u' && j + 4 < stop) {
                int v = 0;
                for (int d = 1; d <= 4; d++) {
                    int h = hexval(text[j + d]);
                    if (h < 0)
                        return 0;
                    v = v * 16 + h;
                }
                if (v >= 0x80)
                    return 0;
                c = (char)v;
                j += 4;
            } else {
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            }
        }
        if (k + 1 >= cap)
            return 0;
        key[k++] = c;
    }
    return k;
}

static size_t skip_space(const char *text, size_t n, size_t i)
{
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i;
}

/* The end of the JSON value starting at text[i], however malformed: a
 * string, a bracketed value (nesting and strings inside followed), or a
 * bare scalar up to the next delimiter. */
static size_t value_end(const char *text, size_t n, size_t i)
{
    if (i >= n)
        return n;
    if (text[i] == '"')
        return string_end(text, n, i);
    if (text[i] == '[' || text[i] == '{') {
        int depth = 0;
        while (i < n) {
            char c = text[i];
            if (c == '"') {
                i = string_end(text, n, i);
                continue;
            }
            if (c == '[' || c == '{')
                depth++;
            else if ((c == ']' || c == '}') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", text[i]))
        i++;
    return i;
}

/* Pass 1: masks the values of secret keys. out has room for 2n + 8.
 *
 * Every '"' is tried as the start of a key, not only those that open a
 * string when the text is read from its start: in malformed text the
 * quotes may pair up wrongly ("id":"c1:"x... shifts every later string by
 * one quote), and a key hidden that way would keep its value. */
static size_t mask_pairs(const char *text, size_t n, char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        if (text[i] != '"') {
            out[o++] = text[i++];
            continue;
        }
        size_t end = string_end(text, n, i);
        char key[40];
        size_t klen = decode_key(text, i, end, key, sizeof key);
        size_t colon = skip_space(text, n, end);
        if (!klen || !log_key_is_secret(key, klen) || colon >= n || text[colon] != ':') {
            out[o++] = text[i++];
            continue;
        }
        memcpy(out + o, text + i, end - i); /* the key */
        o += end - i;
        size_t v = skip_space(text, n, colon + 1);
        memcpy(out + o, text + end, v - end); /* the separator, as written */
        o += v - end;
        i = v;
        if (v >= n) /* cut right after the key: nothing to hide */
            continue;
        size_t ve = value_end(text, n, v);
        if (text[v] == '"' && ve - v >= 2 && text[ve - 1] == '"') {
            /* a string value: its closing quote is left to the loop, since
             * in malformed text it may open the next key */
            memcpy(out + o, "\"***", 4);
            o += 4;
            i = ve - 1;
        } else {
            /* a bracketed or bare value: whatever clings to it up to the
             * next delimiter goes too, or "***" with our closing quote
             * could read as a key with what follows ({]token":...) */
            while (ve < n && !strchr(",}] \t\r\n", text[ve]))
                ve++;
            memcpy(out + o, "\"***\"", 5);
            o += 5;
            i = ve;
        }
    }
    return o;
}

static int b64url(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Pass 2: masks JWT-shaped runs in place; returns the new length. */
static size_t mask_jwts(char *s, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        if (i + 3 <= n && memcmp(s + i, "eyJ", 3) == 0 && (i == 0 || !b64url(s[i - 1]))) {
            size_t j = i, dots = 0;
            while (j < n && (b64url(s[j]) || (s[j] == '.' && dots < 2))) {
                if (s[j] == '.')
                    dots++;
                j++;
            }
            if (dots == 2) {
                memcpy(s + o, "***", 3);
                o += 3;
                i = j;
                continue;
            }
        }
        s[o++] = s[i++];
    }
    return o;
}

char *log_scrub(const char *text)
{
    if (!text)
        return NULL;
    size_t n = strlen(text);
    /* Each masked value adds at most 4 bytes ("***" quoted for a 1-byte
     * scalar) and takes at least 9 of input ("token":1), so 2n + 8 is
     * always enough. */
    char *out = malloc(2 * n + 8);
    if (!out)
        return NULL;
    size_t o = mask_pairs(text, n, out);
    o = mask_jwts(out, o);
    out[o] = '\0';
    return out;
}
