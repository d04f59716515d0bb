/*
 * calling.connect as an action. The Python SDK sends it as a plain request
 * and leaves the calling.call.connect events to listeners; here the table
 * routes those events (by call, no control_id) to the action, so
 * relay_action_wait() tells connected from failed.
 */
#include "calling.h"

static json_t *connect_json(const relay_connect_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_json(&b, "devices", p->devices_json);
    lr_pb_json(&b, "ringback", p->ringback_json);
    lr_pb_str(&b, "tag", p->tag);
    lr_pb_int(&b, "max_duration", p->max_duration);
    lr_pb_num(&b, "max_price_per_minute", p->max_price_per_minute);
    lr_pb_str(&b, "status_url", p->status_url);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_connect(relay_call *call, const relay_connect_params *p,
                                relay_result **out)
{
    return lr_call_action_wait(call, PM_CONNECT_CALL, connect_json(p), out);
}

relay_status relay_call_connect_async(relay_call *call, const relay_connect_params *p,
                                      relay_action **out)
{
    return lr_call_action(call, PM_CONNECT_CALL, connect_json(p), out);
}
