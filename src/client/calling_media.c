/*
 * Typed wrappers for the media operations that report progress by events:
 * record, collect, play_and_collect, detect, tap, stream, faxes,
 * send_digits, pay, transcribe. Each builds the params the Python SDK
 * sends (signalwire/relay/call.py) and starts an action through the one
 * machinery (lr_call_action); the table decides routing and completion.
 */
#include "calling.h"
#include "frames.h"

/* ------------------------------------------------------------ record */

static json_t *record_json(const relay_record_params *p)
{
    static const relay_record_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    /* Python always sends {"record": {"audio": {...}}}, {} when no audio. */
    json_t *audio = p->audio_json ? json_loads(p->audio_json, JSON_REJECT_DUPLICATES, NULL)
                                  : json_object();
    if (!json_is_object(audio)) {
        json_decref(audio);
        b.bad = 1;
    } else {
        json_object_set_new(b.p, "record", json_pack("{s:o}", "audio", audio));
    }
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_record(relay_call *call, const relay_record_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_RECORD, record_json(p), out);
}

relay_status relay_call_record_async(relay_call *call, const relay_record_params *p,
                                     relay_action **out)
{
    return lr_call_action(call, PM_RECORD, record_json(p), out);
}

/* ------------------------------------------------------------ collect */

static json_t *collect_json(const relay_collect_params *p)
{
    static const relay_collect_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_json(&b, "digits", p->digits_json);
    lr_pb_json(&b, "speech", p->speech_json);
    lr_pb_num(&b, "initial_timeout", p->initial_timeout);
    lr_pb_bool(&b, "partial_results", p->partial_results);
    lr_pb_bool(&b, "continuous", p->continuous);
    lr_pb_bool(&b, "send_start_of_input", p->send_start_of_input);
    lr_pb_bool(&b, "start_input_timers", p->start_input_timers);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_collect(relay_call *call, const relay_collect_params *p,
                                relay_result **out)
{
    return lr_call_action_wait(call, PM_COLLECT, collect_json(p), out);
}

relay_status relay_call_collect_async(relay_call *call, const relay_collect_params *p,
                                      relay_action **out)
{
    return lr_call_action(call, PM_COLLECT, collect_json(p), out);
}

/* ---------------------------------------------------- play_and_collect */

static json_t *play_and_collect_json(const relay_play_and_collect_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    relay_status err;
    json_t *list = lr_frame_media_list(p->media, p->n_media, &err);
    if (!list)
        b.bad = 1;
    else
        json_object_set_new(b.p, "play", list);
    lr_pb_req_json(&b, "collect", p->collect_json);
    lr_pb_num(&b, "volume", p->volume);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_play_and_collect(relay_call *call, const relay_play_and_collect_params *p,
                                         relay_result **out)
{
    return lr_call_action_wait(call, PM_PLAY_AND_COLLECT, play_and_collect_json(p), out);
}

relay_status relay_call_play_and_collect_async(relay_call *call,
                                               const relay_play_and_collect_params *p,
                                               relay_action **out)
{
    return lr_call_action(call, PM_PLAY_AND_COLLECT, play_and_collect_json(p), out);
}

/* The prompts: a play_and_collect of one relay_media (the one media
 * builder makes the item); m's required field checked by the builder. */
static relay_status prompt_one_async(relay_call *call, const relay_media *m,
                                     const char *collect_json, double volume, relay_action **out)
{
    relay_play_and_collect_params p = {
        .media = m, .n_media = 1, .collect_json = collect_json, .volume = volume};
    return relay_call_play_and_collect_async(call, &p, out);
}

relay_status relay_call_prompt_tts_async(relay_call *call, const char *text,
                                         const char *collect_json, double volume,
                                         relay_action **out)
{
    if (!text) {
        if (out)
            *out = NULL;
        return RELAY_ERR_INVALID_ARG;
    }
    relay_media m = {.type = "tts", .text = text};
    return prompt_one_async(call, &m, collect_json, volume, out);
}

relay_status relay_call_prompt_tts(relay_call *call, const char *text, const char *collect_json,
                                   double volume, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_prompt_tts_async(call, text, collect_json, volume, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_prompt_audio_async(relay_call *call, const char *url,
                                           const char *collect_json, double volume,
                                           relay_action **out)
{
    if (!url) {
        if (out)
            *out = NULL;
        return RELAY_ERR_INVALID_ARG;
    }
    relay_media m = {.type = "audio", .url = url};
    return prompt_one_async(call, &m, collect_json, volume, out);
}

relay_status relay_call_prompt_audio(relay_call *call, const char *url, const char *collect_json,
                                     double volume, relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_prompt_audio_async(call, url, collect_json, volume, &a);
    return lr_action_wait_free(st, a, out);
}

/* ------------------------------------------------------------ detect */

static json_t *detect_json(const relay_detect_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_json(&b, "detect", p->detect_json);
    lr_pb_num(&b, "timeout", p->timeout);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_detect(relay_call *call, const relay_detect_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_DETECT, detect_json(p), out);
}

relay_status relay_call_detect_async(relay_call *call, const relay_detect_params *p,
                                     relay_action **out)
{
    return lr_call_action(call, PM_DETECT, detect_json(p), out);
}

/* The detect helpers: {"type": t, "params": dp} with dp built by the caller. */
static relay_status detect_typed(relay_call *call, const char *type, lr_pb *dp, double timeout,
                                 relay_action **out)
{
    json_t *params = lr_pb_finish(dp, NULL);
    lr_pb b;
    lr_pb_init(&b);
    if (!params)
        b.bad = 1;
    else
        json_object_set_new(b.p, "detect",
                            json_pack("{s:s,s:o}", "type", type, "params", params));
    lr_pb_num(&b, "timeout", timeout);
    return lr_call_action(call, PM_DETECT, lr_pb_finish(&b, NULL), out);
}

relay_status relay_call_detect_answering_machine_async(relay_call *call,
                                                       const relay_detect_machine_params *p,
                                                       relay_action **out)
{
    static const relay_detect_machine_params none;
    if (!p)
        p = &none;
    lr_pb dp;
    lr_pb_init(&dp);
    lr_pb_num(&dp, "initial_timeout", p->initial_timeout);
    lr_pb_num(&dp, "end_silence_timeout", p->end_silence_timeout);
    lr_pb_num(&dp, "machine_ready_timeout", p->machine_ready_timeout);
    lr_pb_num(&dp, "machine_voice_threshold", p->machine_voice_threshold);
    lr_pb_int(&dp, "machine_words_threshold", p->machine_words_threshold);
    lr_pb_bool(&dp, "detect_interruptions", p->detect_interruptions);
    lr_pb_bool(&dp, "detect_message_end", p->detect_message_end);
    lr_pb_bool(&dp, "wait_for_beep", p->wait_for_beep);
    return detect_typed(call, "machine", &dp, p->timeout, out);
}

relay_status relay_call_detect_answering_machine(relay_call *call,
                                                 const relay_detect_machine_params *p,
                                                 relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_detect_answering_machine_async(call, p, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_detect_digit_async(relay_call *call, const char *digits, double timeout,
                                           relay_action **out)
{
    lr_pb dp;
    lr_pb_init(&dp);
    lr_pb_str(&dp, "digits", digits);
    return detect_typed(call, "digit", &dp, timeout, out);
}

relay_status relay_call_detect_digit(relay_call *call, const char *digits, double timeout,
                                     relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_detect_digit_async(call, digits, timeout, &a);
    return lr_action_wait_free(st, a, out);
}

relay_status relay_call_detect_fax_async(relay_call *call, const char *tone, double timeout,
                                         relay_action **out)
{
    lr_pb dp;
    lr_pb_init(&dp);
    lr_pb_str(&dp, "tone", tone);
    return detect_typed(call, "fax", &dp, timeout, out);
}

relay_status relay_call_detect_fax(relay_call *call, const char *tone, double timeout,
                                   relay_result **out)
{
    relay_action *a = NULL;
    relay_status st = relay_call_detect_fax_async(call, tone, timeout, &a);
    return lr_action_wait_free(st, a, out);
}

/* ------------------------------------------------------------ tap */

static json_t *tap_json(const relay_tap_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_json(&b, "tap", p->tap_json);
    lr_pb_req_json(&b, "device", p->device_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_tap(relay_call *call, const relay_tap_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_TAP, tap_json(p), out);
}

relay_status relay_call_tap_async(relay_call *call, const relay_tap_params *p, relay_action **out)
{
    return lr_call_action(call, PM_TAP, tap_json(p), out);
}

/* ------------------------------------------------------------ stream */

static json_t *stream_json(const relay_stream_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "url", p->url);
    lr_pb_str(&b, "name", p->name);
    lr_pb_str(&b, "codec", p->codec);
    lr_pb_str(&b, "track", p->track);
    lr_pb_str(&b, "status_url", p->status_url);
    lr_pb_str(&b, "status_url_method", p->status_url_method);
    lr_pb_str(&b, "authorization_bearer_token", p->authorization_bearer_token);
    lr_pb_json(&b, "custom_parameters", p->custom_parameters_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_stream(relay_call *call, const relay_stream_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_STREAM, stream_json(p), out);
}

relay_status relay_call_stream_async(relay_call *call, const relay_stream_params *p,
                                     relay_action **out)
{
    return lr_call_action(call, PM_STREAM, stream_json(p), out);
}

/* ------------------------------------------------------------ fax */

static json_t *send_fax_json(const relay_send_fax_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "document", p->document);
    lr_pb_str(&b, "identity", p->identity);
    lr_pb_str(&b, "header_info", p->header_info);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_send_fax(relay_call *call, const relay_send_fax_params *p,
                                 relay_result **out)
{
    return lr_call_action_wait(call, PM_SEND_FAX, send_fax_json(p), out);
}

relay_status relay_call_send_fax_async(relay_call *call, const relay_send_fax_params *p,
                                       relay_action **out)
{
    return lr_call_action(call, PM_SEND_FAX, send_fax_json(p), out);
}

static json_t *extra_only(const char *extra_json)
{
    lr_pb b;
    lr_pb_init(&b);
    return lr_pb_finish(&b, extra_json);
}

relay_status relay_call_receive_fax(relay_call *call, const char *extra_json, relay_result **out)
{
    return lr_call_action_wait(call, PM_RECEIVE_FAX, extra_only(extra_json), out);
}

relay_status relay_call_receive_fax_async(relay_call *call, const char *extra_json,
                                          relay_action **out)
{
    return lr_call_action(call, PM_RECEIVE_FAX, extra_only(extra_json), out);
}

/* ------------------------------------------------------------ send_digits */

static json_t *send_digits_json(const char *digits)
{
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "digits", digits);
    return lr_pb_finish(&b, NULL);
}

relay_status relay_call_send_digits(relay_call *call, const char *digits, relay_result **out)
{
    return lr_call_action_wait(call, PM_SEND_DIGITS, send_digits_json(digits), out);
}

relay_status relay_call_send_digits_async(relay_call *call, const char *digits,
                                          relay_action **out)
{
    return lr_call_action(call, PM_SEND_DIGITS, send_digits_json(digits), out);
}

/* ------------------------------------------------------------ pay */

static json_t *pay_json(const relay_pay_params *p)
{
    if (!p)
        return NULL;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_req_str(&b, "payment_connector_url", p->payment_connector_url);
    lr_pb_str(&b, "input", p->input_method);
    lr_pb_str(&b, "status_url", p->status_url);
    lr_pb_str(&b, "payment_method", p->payment_method);
    lr_pb_str(&b, "timeout", p->timeout);
    lr_pb_str(&b, "max_attempts", p->max_attempts);
    lr_pb_str(&b, "security_code", p->security_code);
    lr_pb_str(&b, "postal_code", p->postal_code);
    lr_pb_str(&b, "min_postal_code_length", p->min_postal_code_length);
    lr_pb_str(&b, "token_type", p->token_type);
    lr_pb_str(&b, "charge_amount", p->charge_amount);
    lr_pb_str(&b, "currency", p->currency);
    lr_pb_str(&b, "language", p->language);
    lr_pb_str(&b, "voice", p->voice);
    lr_pb_str(&b, "description", p->description);
    lr_pb_str(&b, "valid_card_types", p->valid_card_types);
    lr_pb_json(&b, "parameters", p->parameters_json);
    lr_pb_json(&b, "prompts", p->prompts_json);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_pay(relay_call *call, const relay_pay_params *p, relay_result **out)
{
    return lr_call_action_wait(call, PM_PAY, pay_json(p), out);
}

relay_status relay_call_pay_async(relay_call *call, const relay_pay_params *p, relay_action **out)
{
    return lr_call_action(call, PM_PAY, pay_json(p), out);
}

/* ------------------------------------------------------------ transcribe */

static json_t *transcribe_json(const relay_transcribe_params *p)
{
    static const relay_transcribe_params none;
    if (!p)
        p = &none;
    lr_pb b;
    lr_pb_init(&b);
    lr_pb_str(&b, "status_url", p->status_url);
    return lr_pb_finish(&b, p->extra_json);
}

relay_status relay_call_transcribe(relay_call *call, const relay_transcribe_params *p,
                                   relay_result **out)
{
    return lr_call_action_wait(call, PM_TRANSCRIBE, transcribe_json(p), out);
}

relay_status relay_call_transcribe_async(relay_call *call, const relay_transcribe_params *p,
                                         relay_action **out)
{
    return lr_call_action(call, PM_TRANSCRIBE, transcribe_json(p), out);
}
