/*
 * The AI methods: calling.ai starts an agent (an action, stopped with
 * relay_action_stop); ai_message, ai_hold, ai_unhold and amazon_bedrock are
 * plain requests. Keys as the Python SDK sends them: its ai_params and
 * SWAIG arguments travel as "params" and "SWAIG".
 */
#include "calling.h"

static json_t *ai_json(const relay_ai_params *p)
{
    static const relay_ai_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "agent", p->agent);
    lr_pb_json(&b, "prompt", p->prompt_json);
    lr_pb_json(&b, "post_prompt", p->post_prompt_json);
    lr_pb_str(&b, "post_prompt_url", p->post_prompt_url);
    lr_pb_str(&b, "post_prompt_auth_user", p->post_prompt_auth_user);
    lr_pb_str(&b, "post_prompt_auth_password", p->post_prompt_auth_password);
    lr_pb_json(&b, "global_data", p->global_data_json);
    lr_pb_json(&b, "pronounce", p->pronounce_json);
    lr_pb_json(&b, "hints", p->hints_json);
    lr_pb_json(&b, "languages", p->languages_json);
    lr_pb_json(&b, "SWAIG", p->swaig_json);
    lr_pb_json(&b, "params", p->ai_params_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_ai(relay_call *call, const relay_ai_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_AI, ai_json(p), out);
}

relay_status relay_call_ai_async(relay_call *call, const relay_ai_params *p, relay_action **out)
{
    return lr_call_action(call, PM_AI, ai_json(p), out);
}

static relay_status plain(relay_call *call, proto_method m, json_t *p, relay_result_callback cb,
                          void *user, relay_result **out, int async)
{
    if (async && !cb) {
        json_decref(p);
        return RELAY_ERR_INVALID_ARG;
    }
    return lr_call_plain(call, m, p, cb, user, out);
}

static json_t *bedrock_json(const relay_bedrock_params *p)
{
    static const relay_bedrock_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_json(&b, "prompt", p->prompt_json);
    lr_pb_json(&b, "SWAIG", p->swaig_json);
    lr_pb_json(&b, "params", p->ai_params_json);
    lr_pb_json(&b, "global_data", p->global_data_json);
    lr_pb_json(&b, "post_prompt", p->post_prompt_json);
    lr_pb_str(&b, "post_prompt_url", p->post_prompt_url);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_amazon_bedrock(relay_call *call, const relay_bedrock_params *p,
                                       relay_result **out)
{
    return plain(call, PM_AMAZON_BEDROCK, bedrock_json(p), NULL, NULL, out, 0);
}

relay_status relay_call_amazon_bedrock_async(relay_call *call, const relay_bedrock_params *p,
                                             relay_result_callback cb, void *user)
{
    return plain(call, PM_AMAZON_BEDROCK, bedrock_json(p), cb, user, NULL, 1);
}

static json_t *ai_message_json(const relay_ai_message_params *p)
{
    static const relay_ai_message_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "message_text", p->message_text);
    lr_pb_str(&b, "role", p->role);
    lr_pb_json(&b, "reset", p->reset_json);
    lr_pb_json(&b, "global_data", p->global_data_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_ai_message(relay_call *call, const relay_ai_message_params *p,
                                   relay_result **out)
{
    return plain(call, PM_AI_MESSAGE, ai_message_json(p), NULL, NULL, out, 0);
}

relay_status relay_call_ai_message_async(relay_call *call, const relay_ai_message_params *p,
                                         relay_result_callback cb, void *user)
{
    return plain(call, PM_AI_MESSAGE, ai_message_json(p), cb, user, NULL, 1);
}

static json_t *ai_hold_json(const char *timeout, const char *prompt)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "timeout", timeout);
    lr_pb_str(&b, "prompt", prompt);
    return lr_pb_finish(&b, NULL);
}

relay_status relay_call_ai_hold(relay_call *call, const char *timeout, const char *prompt,
                                relay_result **out)
{
    return plain(call, PM_AI_HOLD, ai_hold_json(timeout, prompt), NULL, NULL, out, 0);
}

relay_status relay_call_ai_hold_async(relay_call *call, const char *timeout, const char *prompt,
                                      relay_result_callback cb, void *user)
{
    return plain(call, PM_AI_HOLD, ai_hold_json(timeout, prompt), cb, user, NULL, 1);
}

relay_status relay_call_ai_unhold(relay_call *call, const char *prompt, relay_result **out)
{
    return plain(call, PM_AI_UNHOLD, ai_hold_json(NULL, prompt), NULL, NULL, out, 0);
}

relay_status relay_call_ai_unhold_async(relay_call *call, const char *prompt,
                                        relay_result_callback cb, void *user)
{
    return plain(call, PM_AI_UNHOLD, ai_hold_json(NULL, prompt), cb, user, NULL, 1);
}
