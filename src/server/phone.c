#include "phone.h"

#include <stdio.h>
#include <string.h>

int phone_number_ok(const char *s)
{
    if (!s)
        return 0;
    if (*s == '+')
        s++;
    size_t n = strlen(s);
    if (n < 1 || n > 20)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int phone_trunk_uri(const char *trunk, const char *number, char *out, size_t n)
{
    /* config.c accepts a trunk only with {number} in it */
    const char *at = strstr(trunk, "{number}");
    if (!at)
        return -1;
    int len = snprintf(out, n, "%.*s%s%s", (int)(at - trunk), trunk, number,
                       at + strlen("{number}"));
    return len < 0 || (size_t)len >= n ? -1 : 0;
}
