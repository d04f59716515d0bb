#include "sip/sipfrag.h"

#include <string.h>

int sipfrag_status(const char *s, size_t len, char *phrase, size_t size)
{
    if (size)
        phrase[0] = '\0';
    if (!s || size == 0 || len < 12 || strncmp(s, "SIP/2.0 ", 8) != 0)
        return 0;
    int status = 0;
    size_t i = 8;
    for (; i < 11; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        status = status * 10 + (s[i] - '0');
    }
    if (status < 100 || status > 699)
        return 0;
    size_t start = i + (s[i] == ' ');
    size_t end = start;
    while (end < len && s[end] != '\r' && s[end] != '\n' && end - start < size - 1)
        end++;
    memcpy(phrase, s + start, end - start);
    phrase[end - start] = '\0';
    return status;
}
