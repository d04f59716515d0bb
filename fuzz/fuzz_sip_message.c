/* A whole SIP message through sofia-sip's parser, as nua hands relayd a
 * NOTIFY, then relayd's reading of its message/sipfrag body
 * (sip/sipfrag.c) and of an SDP body (sip/sdp.c). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_protos.h>

#include "sip/sdp.h"
#include "sip/sipfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg_t *msg = msg_make(sip_default_mclass(), 0, data, (isize_t)size);
    if (!msg)
        return 0;
    sip_t *sip = sip_object(msg);
    if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
        char phrase[64];
        sipfrag_status(sip->sip_payload->pl_data, sip->sip_payload->pl_len, phrase, sizeof phrase);
        sdp_audio_offer o;
        int no_codec;
        const char *why;
        sdp_audio_offer_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &o, &no_codec,
                              &why);
    }
    msg_destroy(msg);
    return 0;
}
