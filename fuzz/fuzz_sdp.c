/* SDP offers and answers as relayd reads them off an INVITE or a 200: the
 * strict grammar check (sip/sdp_guard.c), then sofia-sip's sdp_parse behind
 * it, then the fields relayd takes (sip/sdp.c). */
#include <stdint.h>
#include <stddef.h>

#include "sip/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdp_audio_offer o;
    int no_codec = 0;
    const char *why = NULL;
    if (sdp_audio_offer_parse((const char *)data, size, &o, &no_codec, &why) == 0) {
        sdp_answer_direction(&o, 0);
        sdp_answer_direction(&o, 1);
    }
    return 0;
}
