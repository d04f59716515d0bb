/* NOTIFY bodies (message/sipfrag): the status line relayd reads a REFER's
 * outcome from. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "sip/sipfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char phrase[64];
    int status = sipfrag_status((const char *)data, size, phrase, sizeof phrase);
    if (status && (status < 100 || status > 699 || strlen(phrase) >= sizeof phrase))
        __builtin_trap();
    char tiny[1];
    sipfrag_status((const char *)data, size, tiny, sizeof tiny);
    return 0;
}
