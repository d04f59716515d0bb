/* The methods relayd serves: one row per family file. Adding a family is a
 * file with its descriptor and a row here; adding a sub-method of a family
 * already here is its row in common/protocol.h and the op's control. */
#include "families.h"

const server_family_desc *const server_families[] = {
    &session_family,
    &control_family,
    &play_family,
    &refer_family,
    &refer_answer_family,
    &record_family,
    &collect_family,
    &detect_family,
    &play_and_collect_family,
    &send_digits_family,
    &dial_family,
    &begin_family,
    &hold_family,
    &echo_family,
    &denoise_family,
    &tap_family,
    &stream_family,
    &messaging_family,
    &connect_family,
    &disconnect_family,
    &bind_digit_family,
    &transfer_family,
    &send_fax_family,
    &receive_fax_family,
    &queue_family,
    &conference_family,
    NULL,
};
