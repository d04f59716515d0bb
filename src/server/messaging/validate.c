/*
 * What a client may put in messaging.send. Everything here ends up in a
 * SIP request relayd sends or in events other code reads, so the checks
 * are those of refer and dial: URIs through sip_uri_validate (nothing that
 * can leave its header), numbers as dial reads them, bounded sizes, and
 * strings without control characters where they are names.
 */
#include <stdio.h>
#include <string.h>

#include "common/sip_uri.h"
#include "messaging/message.h"
#include "phone.h"

static int is_sip_uri(const char *s)
{
    return strncmp(s, "sip:", 4) == 0 || strncmp(s, "sips:", 5) == 0;
}

/* A short name (context, tag, region): 1..max bytes, no control characters. */
static int name_ok(json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n == 0 || n > max || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* A media URL: http(s), bounded, nothing that could end its line in the
 * body or be read as something else (spaces, controls, quotes, brackets). */
static int url_ok(json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n > MESSAGING_MAX_URL || strlen(s) != n ||
        (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}", ch))
            return 0;
    }
    return 1;
}

/* One of from_number / to_number into a URI (or, for a sender number
 * without a trunk, a user at relayd's address). */
static int address(const char *key, json_t *value, const char *trunk, char *uri, size_t n,
                   const char **user, char *why, size_t why_n)
{
    const char *v = json_string_value(value);
    size_t len = json_string_length(value);
    const char *bad;
    if (!v || !*v) {
        snprintf(why, why_n, "%s is required (a +number or a sip: URI)", key);
        return 400;
    }
    if (strlen(v) != len) { /* a NUL would cut the URI short unseen */
        snprintf(why, why_n, "invalid %s: contains a NUL character", key);
        return 400;
    }
    if (is_sip_uri(v)) {
        if (sip_uri_validate(v, &bad) != 0) {
            snprintf(why, why_n, "invalid %s: %s", key, bad);
            return 400;
        }
        snprintf(uri, n, "%s", v);
        return 0;
    }
    if (!phone_number_ok(v)) {
        snprintf(why, why_n, "%s must be +digits (at most 20) or a sip: URI", key);
        return 400;
    }
    if (trunk) {
        if (phone_trunk_uri(trunk, v, uri, n) != 0) {
            snprintf(why, why_n, "%s does not fit the trunk URI", key);
            return 400;
        }
        return 0;
    }
    if (user) { /* the sender: named at relayd's own address */
        *user = v;
        uri[0] = '\0';
        return 0;
    }
    snprintf(why, why_n,
             "sending to a phone number needs a SIP trunk (phone_trunk), which this relayd "
             "does not have; send to a sip: URI");
    return 501;
}

static int check_media(json_t *media, char *why, size_t why_n)
{
    if (!media)
        return 0;
    if (!json_is_array(media) || json_array_size(media) > MESSAGING_MAX_MEDIA) {
        snprintf(why, why_n, "media must be an array of at most %d URLs", MESSAGING_MAX_MEDIA);
        return 400;
    }
    size_t i;
    json_t *v;
    json_array_foreach(media, i, v)
    {
        if (!url_ok(v)) {
            snprintf(why, why_n, "media[%zu] must be an http(s) URL of at most %d characters",
                     i, MESSAGING_MAX_URL);
            return 400;
        }
    }
    return 0;
}

static int check_tags(json_t *tags, char *why, size_t why_n)
{
    if (!tags)
        return 0;
    size_t i;
    json_t *v;
    int bad = !json_is_array(tags) || json_array_size(tags) > MESSAGING_MAX_TAGS;
    if (!bad) {
        json_array_foreach(tags, i, v)
        {
            bad |= !name_ok(v, MESSAGING_MAX_TAG);
        }
    }
    if (bad) {
        snprintf(why, why_n, "tags must be an array of at most %d strings of 1 to %d characters",
                 MESSAGING_MAX_TAGS, MESSAGING_MAX_TAG);
        return 400;
    }
    return 0;
}

int message_request_check(json_t *params, const char *trunk, message_request *out, char *why,
                          size_t why_n)
{
    memset(out, 0, sizeof *out);
    json_t *context = json_object_get(params, "context");
    if (!name_ok(context, MESSAGING_MAX_CONTEXT)) {
        snprintf(why, why_n, "context is required: a string of 1 to %d characters",
                 MESSAGING_MAX_CONTEXT);
        return 400;
    }
    out->context = json_string_value(context);
    json_t *region = json_object_get(params, "region");
    if (region && !name_ok(region, MESSAGING_MAX_REGION)) {
        snprintf(why, why_n, "region must be a string of 1 to %d characters",
                 MESSAGING_MAX_REGION);
        return 400;
    }
    json_t *body = json_object_get(params, "body");
    if (body && !json_is_string(body)) {
        snprintf(why, why_n, "body must be a string");
        return 400;
    }
    out->body = body ? json_string_value(body) : "";
    out->body_len = body ? json_string_length(body) : 0;
    if (out->body_len > MESSAGING_MAX_BODY) {
        snprintf(why, why_n, "body is %zu bytes; at most %d are sent", out->body_len,
                 MESSAGING_MAX_BODY);
        return 400;
    }
    if (strlen(out->body) != out->body_len) {
        snprintf(why, why_n, "body must not contain NUL characters");
        return 400;
    }
    int code;
    if ((code = check_media(json_object_get(params, "media"), why, why_n)) ||
        (code = check_tags(json_object_get(params, "tags"), why, why_n)))
        return code;
    out->media = json_object_get(params, "media");
    out->tags = json_object_get(params, "tags");
    if (out->body_len == 0 && json_array_size(out->media) == 0) {
        snprintf(why, why_n, "a message needs a body or media");
        return 400;
    }
    json_t *from = json_object_get(params, "from_number");
    json_t *to = json_object_get(params, "to_number");
    out->from_number = json_string_value(from);
    out->to_number = json_string_value(to);
    if ((code = address("to_number", to, trunk, out->to_uri, sizeof out->to_uri,
                        NULL, why, why_n)) ||
        (code = address("from_number", from, trunk, out->from_uri,
                        sizeof out->from_uri, &out->from_user, why, why_n)))
        return code;
    return 0;
}
