/*
 * librelay's typed calling methods, one per method of the reference SDKs
 * (Python's call.record(...) is relay_call_record(...) here). Included by
 * <relay/relay.h>; do not include it alone.
 *
 * Rules, the same for every function below:
 *   - Params structs are zero-default: a zero field (NULL, 0, 0.0,
 *     RELAY_BOOL_UNSET) is not sent, as Python leaves out an argument that
 *     is None. A NULL params pointer means all defaults. Fields ending in
 *     _json take JSON text (an object or array, as the Python SDK takes a
 *     dict or list) and are sent as parsed; text that does not parse is
 *     RELAY_ERR_INVALID_ARG. extra_json (an object) is merged over the
 *     typed fields last — Python's **kwargs — for keys this header does
 *     not name.
 *   - Plain requests: name(call, params, relay_result **out) blocks for the
 *     server's answer; name_async(call, params, cb, user) returns once the
 *     request is on its way. *out, when asked for, is the caller's:
 *     relay_result_free().
 *   - Operations that report progress by events: name_async(call, params,
 *     relay_action **out) returns once the server has accepted the start,
 *     with the action (the caller's: relay_action_free()); name(call,
 *     params, relay_result **out) starts and waits for the end, *out being
 *     the final event's params (as relay_call_play does). Stop, pause,
 *     resume, volume and start_input_timers are relay_action_* over the
 *     table.
 *   - Python's own required arguments (positional there) are required
 *     here too: missing is RELAY_ERR_INVALID_ARG and nothing is sent.
 */
#ifndef RELAY_CALLING_H
#define RELAY_CALLING_H

#include <relay/relay.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A boolean that may be left out of the request. */
typedef enum relay_bool { RELAY_BOOL_UNSET = 0, RELAY_BOOL_TRUE, RELAY_BOOL_FALSE } relay_bool;

/* ------------------------------------------------- session (client-level) */

/* client.receive(contexts) / client.unreceive(contexts): subscribe to (or
 * leave) more contexts on the live session. contexts: NULL-terminated,
 * at least one. */
relay_status relay_client_receive(relay_client *c, const char *const *contexts,
                                  relay_result **out);
relay_status relay_client_unreceive(relay_client *c, const char *const *contexts,
                                    relay_result **out);

/* ------------------------------------------------------ media operations */

/* call.record(audio={...}): audio_json is the "audio" object
 * ({"beep": true, "terminators": "#", "format": "wav", ...}); NULL: {}. */
typedef struct relay_record_params {
    const char *audio_json;
    const char *extra_json;
} relay_record_params;
relay_status relay_call_record(relay_call *call, const relay_record_params *p, relay_result **out);
relay_status relay_call_record_async(relay_call *call, const relay_record_params *p,
                                     relay_action **out);

/* call.collect(digits=..., speech=..., ...): input without media. Completes
 * on the first result (or no_input / no_match / error). */
typedef struct relay_collect_params {
    const char *digits_json; /* {"max": 4, "terminators": "#", "digit_timeout": 5.0} */
    const char *speech_json; /* {"end_silence_timeout": 1.0, "language": "en-US", ...} */
    double initial_timeout;
    relay_bool partial_results;
    relay_bool continuous;
    relay_bool send_start_of_input;
    relay_bool start_input_timers;
    const char *extra_json;
} relay_collect_params;
relay_status relay_call_collect(relay_call *call, const relay_collect_params *p,
                                relay_result **out);
relay_status relay_call_collect_async(relay_call *call, const relay_collect_params *p,
                                      relay_action **out);

/* call.play_and_collect(media, collect, volume=...): plays, then collects.
 * media and collect_json are required. */
typedef struct relay_play_and_collect_params {
    const relay_media *media;
    size_t n_media;
    const char *collect_json; /* {"digits": {...}} and/or {"speech": {...}} */
    double volume;
    const char *extra_json;
} relay_play_and_collect_params;
relay_status relay_call_play_and_collect(relay_call *call, const relay_play_and_collect_params *p,
                                         relay_result **out);
relay_status relay_call_play_and_collect_async(relay_call *call,
                                               const relay_play_and_collect_params *p,
                                               relay_action **out);
/* call.prompt_tts(text, collect, volume=...): play_and_collect of one tts;
 * text and collect_json required. */
relay_status relay_call_prompt_tts(relay_call *call, const char *text, const char *collect_json,
                                   double volume, relay_result **out);
relay_status relay_call_prompt_tts_async(relay_call *call, const char *text,
                                         const char *collect_json, double volume,
                                         relay_action **out);
/* call.prompt_audio(url, collect, volume=...): play_and_collect of one
 * audio ({"type": "audio", "params": {"url": url}}); url and collect_json
 * required. */
relay_status relay_call_prompt_audio(relay_call *call, const char *url, const char *collect_json,
                                     double volume, relay_result **out);
relay_status relay_call_prompt_audio_async(relay_call *call, const char *url,
                                           const char *collect_json, double volume,
                                           relay_action **out);

/* call.detect(detect, timeout=...): detect_json is {"type": "machine" |
 * "fax" | "digit", "params": {...}} (required). Completes on the first
 * detection result, or finished / error. */
typedef struct relay_detect_params {
    const char *detect_json;
    double timeout;
    const char *extra_json;
} relay_detect_params;
relay_status relay_call_detect(relay_call *call, const relay_detect_params *p, relay_result **out);
relay_status relay_call_detect_async(relay_call *call, const relay_detect_params *p,
                                     relay_action **out);
/* call.detect_answering_machine(...). The blocking forms of the three
 * detect shortcuts below wait, as relay_call_detect does, for the first
 * detection result (or finished / error); with wait_for_beep, as Python's
 * does, past MACHINE (and NOT_READY) for READY: the machine is ready to
 * take a message. 0 / RELAY_BOOL_UNSET: not sent (the server's default). */
typedef struct relay_detect_machine_params {
    double initial_timeout;
    double end_silence_timeout;
    double machine_voice_threshold;
    int machine_words_threshold;
    relay_bool detect_interruptions;
    relay_bool detect_message_end;
    double timeout; /* of the detect itself, outside "params" */
    double machine_ready_timeout; /* quiet after a machine's greeting before READY */
    relay_bool wait_for_beep;     /* READY only on the beep */
} relay_detect_machine_params;
relay_status relay_call_detect_answering_machine(relay_call *call,
                                                 const relay_detect_machine_params *p,
                                                 relay_result **out);
relay_status relay_call_detect_answering_machine_async(relay_call *call,
                                                       const relay_detect_machine_params *p,
                                                       relay_action **out);
/* call.detect_digit(digits=..., timeout=...); digits NULL: any. */
relay_status relay_call_detect_digit(relay_call *call, const char *digits, double timeout,
                                     relay_result **out);
relay_status relay_call_detect_digit_async(relay_call *call, const char *digits, double timeout,
                                           relay_action **out);
/* call.detect_fax(tone=..., timeout=...); tone "CED", "CNG" or NULL. */
relay_status relay_call_detect_fax(relay_call *call, const char *tone, double timeout,
                                   relay_result **out);
relay_status relay_call_detect_fax_async(relay_call *call, const char *tone, double timeout,
                                         relay_action **out);

/* call.tap(tap, device): tap_json {"type": "audio", "params": {...}} and
 * device_json {"type": "ws" | "rtp", "params": {...}}, both required. */
typedef struct relay_tap_params {
    const char *tap_json;
    const char *device_json;
    const char *extra_json;
} relay_tap_params;
relay_status relay_call_tap(relay_call *call, const relay_tap_params *p, relay_result **out);
relay_status relay_call_tap_async(relay_call *call, const relay_tap_params *p, relay_action **out);

/* call.stream(url, ...): url required. */
typedef struct relay_stream_params {
    const char *url;
    const char *name;
    const char *codec;
    const char *track;
    const char *status_url;
    const char *status_url_method;
    const char *authorization_bearer_token;
    const char *custom_parameters_json;
    const char *extra_json;
} relay_stream_params;
relay_status relay_call_stream(relay_call *call, const relay_stream_params *p, relay_result **out);
relay_status relay_call_stream_async(relay_call *call, const relay_stream_params *p,
                                     relay_action **out);

/* call.send_fax(document, identity=..., header_info=...): document required. */
typedef struct relay_send_fax_params {
    const char *document;
    const char *identity;
    const char *header_info;
    const char *extra_json;
} relay_send_fax_params;
relay_status relay_call_send_fax(relay_call *call, const relay_send_fax_params *p,
                                 relay_result **out);
relay_status relay_call_send_fax_async(relay_call *call, const relay_send_fax_params *p,
                                       relay_action **out);
/* call.receive_fax(); extra_json may be NULL. */
relay_status relay_call_receive_fax(relay_call *call, const char *extra_json, relay_result **out);
relay_status relay_call_receive_fax_async(relay_call *call, const char *extra_json,
                                          relay_action **out);

/* call.send_digits(digits). Python sends a control_id but does not wait for
 * the calling.call.send_digits events; here the action tracks them. */
relay_status relay_call_send_digits(relay_call *call, const char *digits, relay_result **out);
relay_status relay_call_send_digits_async(relay_call *call, const char *digits,
                                          relay_action **out);

/* call.pay(payment_connector_url, ...): the url is required. Python takes
 * the numeric-looking fields as strings and so do we; its input_method
 * travels as "input". */
typedef struct relay_pay_params {
    const char *payment_connector_url;
    const char *input_method;
    const char *status_url;
    const char *payment_method;
    const char *timeout;
    const char *max_attempts;
    const char *security_code;
    const char *postal_code;
    const char *min_postal_code_length;
    const char *token_type;
    const char *charge_amount;
    const char *currency;
    const char *language;
    const char *voice;
    const char *description;
    const char *valid_card_types;
    const char *parameters_json; /* [{"name": .., "value": ..}] */
    const char *prompts_json;
    const char *extra_json;
} relay_pay_params;
relay_status relay_call_pay(relay_call *call, const relay_pay_params *p, relay_result **out);
relay_status relay_call_pay_async(relay_call *call, const relay_pay_params *p, relay_action **out);

/* call.transcribe(status_url=...). */
typedef struct relay_transcribe_params {
    const char *status_url;
    const char *extra_json;
} relay_transcribe_params;
relay_status relay_call_transcribe(relay_call *call, const relay_transcribe_params *p,
                                   relay_result **out);
relay_status relay_call_transcribe_async(relay_call *call, const relay_transcribe_params *p,
                                         relay_action **out);

/* The collect's initial timer (calling.collect.start_input_timers), for a
 * collect or a play_and_collect action. */
relay_status relay_action_start_input_timers(relay_action *a, relay_result **out);
relay_status relay_action_start_input_timers_async(relay_action *a, relay_result_callback cb,
                                                   void *user);

/* ------------------------------------------------------- plain requests */

/* call.hold(), call.unhold(), call.denoise(), call.denoise_stop(),
 * call.disconnect() (unbridge), call.leave_room(). */
relay_status relay_call_hold(relay_call *call, relay_result **out);
relay_status relay_call_hold_async(relay_call *call, relay_result_callback cb, void *user);
relay_status relay_call_unhold(relay_call *call, relay_result **out);
relay_status relay_call_unhold_async(relay_call *call, relay_result_callback cb, void *user);
relay_status relay_call_denoise(relay_call *call, relay_result **out);
relay_status relay_call_denoise_async(relay_call *call, relay_result_callback cb, void *user);
relay_status relay_call_denoise_stop(relay_call *call, relay_result **out);
relay_status relay_call_denoise_stop_async(relay_call *call, relay_result_callback cb,
                                           void *user);
relay_status relay_call_disconnect(relay_call *call, relay_result **out);
relay_status relay_call_disconnect_async(relay_call *call, relay_result_callback cb, void *user);
relay_status relay_call_leave_room(relay_call *call, const char *extra_json, relay_result **out);
relay_status relay_call_leave_room_async(relay_call *call, const char *extra_json,
                                         relay_result_callback cb, void *user);

/* call.echo(timeout=..., status_url=...). */
typedef struct relay_echo_params {
    double timeout;
    const char *status_url;
    const char *extra_json;
} relay_echo_params;
relay_status relay_call_echo(relay_call *call, const relay_echo_params *p, relay_result **out);
relay_status relay_call_echo_async(relay_call *call, const relay_echo_params *p,
                                   relay_result_callback cb, void *user);

/* call.bind_digit(digits, bind_method, bind_params=..., realm=...,
 * max_triggers=...): digits and bind_method required; bind_params_json
 * travels as "params". */
typedef struct relay_bind_digit_params {
    const char *digits;
    const char *bind_method;
    const char *bind_params_json;
    const char *realm;
    int max_triggers;
    const char *extra_json;
} relay_bind_digit_params;
relay_status relay_call_bind_digit(relay_call *call, const relay_bind_digit_params *p,
                                   relay_result **out);
relay_status relay_call_bind_digit_async(relay_call *call, const relay_bind_digit_params *p,
                                         relay_result_callback cb, void *user);
/* call.clear_digit_bindings(realm=...); realm NULL: all. */
relay_status relay_call_clear_digit_bindings(relay_call *call, const char *realm,
                                             relay_result **out);
relay_status relay_call_clear_digit_bindings_async(relay_call *call, const char *realm,
                                                   relay_result_callback cb, void *user);

/* call.user_event(event=...); extra_json carries the event's own fields. */
relay_status relay_call_user_event(relay_call *call, const char *event, const char *extra_json,
                                   relay_result **out);
relay_status relay_call_user_event_async(relay_call *call, const char *event,
                                         const char *extra_json, relay_result_callback cb,
                                         void *user);

/* call.queue_enter(queue_name, ...) / call.queue_leave(queue_name, ...).
 * Python sends a fresh control_id with both (plain requests otherwise). */
typedef struct relay_queue_params {
    const char *queue_name; /* required */
    const char *queue_id;   /* leave only */
    const char *status_url;
    const char *extra_json;
} relay_queue_params;
relay_status relay_call_queue_enter(relay_call *call, const relay_queue_params *p,
                                    relay_result **out);
relay_status relay_call_queue_enter_async(relay_call *call, const relay_queue_params *p,
                                          relay_result_callback cb, void *user);
relay_status relay_call_queue_leave(relay_call *call, const relay_queue_params *p,
                                    relay_result **out);
relay_status relay_call_queue_leave_async(relay_call *call, const relay_queue_params *p,
                                          relay_result_callback cb, void *user);

/* call.transfer(dest): hands the call to another RELAY app or SWML script;
 * on success the call leaves this session. */
relay_status relay_call_transfer(relay_call *call, const char *dest, const char *extra_json,
                                 relay_result **out);
relay_status relay_call_transfer_async(relay_call *call, const char *dest,
                                       const char *extra_json, relay_result_callback cb,
                                       void *user);

/* call.live_transcribe(action) / call.live_translate(action, status_url=...):
 * action_json ({"start": {...}} or {"stop": {}}) required. */
relay_status relay_call_live_transcribe(relay_call *call, const char *action_json,
                                        const char *extra_json, relay_result **out);
relay_status relay_call_live_transcribe_async(relay_call *call, const char *action_json,
                                              const char *extra_json, relay_result_callback cb,
                                              void *user);
relay_status relay_call_live_translate(relay_call *call, const char *action_json,
                                       const char *status_url, const char *extra_json,
                                       relay_result **out);
relay_status relay_call_live_translate_async(relay_call *call, const char *action_json,
                                             const char *status_url, const char *extra_json,
                                             relay_result_callback cb, void *user);

/* call.join_room(name, status_url=...). */
relay_status relay_call_join_room(relay_call *call, const char *name, const char *status_url,
                                  const char *extra_json, relay_result **out);
relay_status relay_call_join_room_async(relay_call *call, const char *name,
                                        const char *status_url, const char *extra_json,
                                        relay_result_callback cb, void *user);

/* call.join_conference(name, ...): the common fields typed; the status and
 * recording callbacks go in extra_json under Python's key names. */
typedef struct relay_conference_params {
    const char *name; /* required */
    relay_bool muted;
    const char *beep; /* "true", "false", "onEnter", "onExit" */
    relay_bool start_on_enter;
    relay_bool end_on_exit;
    const char *wait_url;
    int max_participants;
    const char *record;
    const char *region;
    const char *trim;
    const char *coach;
    const char *status_callback;
    const char *stream_json; /* Python's stream_obj, sent as "stream" */
    const char *extra_json;
} relay_conference_params;
relay_status relay_call_join_conference(relay_call *call, const relay_conference_params *p,
                                        relay_result **out);
relay_status relay_call_join_conference_async(relay_call *call, const relay_conference_params *p,
                                              relay_result_callback cb, void *user);
/* call.leave_conference(conference_id). */
relay_status relay_call_leave_conference(relay_call *call, const char *conference_id,
                                         const char *extra_json, relay_result **out);
relay_status relay_call_leave_conference_async(relay_call *call, const char *conference_id,
                                               const char *extra_json, relay_result_callback cb,
                                               void *user);

/* ------------------------------------------------------------------ dial */

/* client.dial(devices, tag=..., region=..., max_price_per_minute=...):
 * devices_json, an array of arrays of devices (outer tried in series,
 * inner rung in parallel: {"type":"sip","params":{"from","to",...}} or
 * phone), is required. */
typedef struct relay_dial_params {
    const char *devices_json;
    const char *tag;         /* NULL: a fresh uuid (the dial is matched by it) */
    const char *region;
    double max_price_per_minute;
    int timeout_ms;          /* how long to wait for the outcome; 0: 120000 */
    const char *extra_json;
} relay_dial_params;
/* Sends calling.dial and waits for its calling.call.dial outcome.
 * RELAY_OK: *call is the winning leg, answered — a call like an inbound
 * one (play, record, refer, hang up), the caller's reference:
 * relay_call_unref(). RELAY_ERR_SERVER: the server refused the dial (*out:
 * its answer) or every device failed (*out: the failed event's params,
 * with `reason` when the server gives one). RELAY_ERR_TIMEOUT: no outcome
 * within timeout_ms; the library stops waiting, and a leg that answers
 * later is hung up. out may be NULL; *out is the caller's:
 * relay_result_free(). Blocking: not from a librelay callback of the
 * client's I/O thread. */
relay_status relay_client_dial(relay_client *c, const relay_dial_params *p, relay_call **call,
                               relay_result **out);

/* -------------------------------------------------------------- bridging */

/* call.connect(devices, ringback=..., ...): devices_json, an array of
 * arrays of devices (serial of parallel), is required. The action follows
 * calling.call.connect (connected, failed, disconnected); Python returns
 * only the server's answer. */
typedef struct relay_connect_params {
    const char *devices_json;
    const char *ringback_json; /* a media list */
    const char *tag;
    int max_duration;
    double max_price_per_minute;
    const char *status_url;
    const char *extra_json;
} relay_connect_params;
relay_status relay_call_connect(relay_call *call, const relay_connect_params *p,
                                relay_result **out);
relay_status relay_call_connect_async(relay_call *call, const relay_connect_params *p,
                                      relay_action **out);

/* -------------------------------------------------------------------- AI */

/* call.ai(...): an AI agent on the call. ai_params_json travels as "params". */
typedef struct relay_ai_params {
    const char *agent;
    const char *prompt_json;
    const char *post_prompt_json;
    const char *post_prompt_url;
    const char *post_prompt_auth_user;
    const char *post_prompt_auth_password;
    const char *global_data_json;
    const char *pronounce_json;
    const char *hints_json; /* ["word", ...] */
    const char *languages_json;
    const char *swaig_json; /* sent as "SWAIG" */
    const char *ai_params_json;
    const char *extra_json;
} relay_ai_params;
relay_status relay_call_ai(relay_call *call, const relay_ai_params *p, relay_result **out);
relay_status relay_call_ai_async(relay_call *call, const relay_ai_params *p, relay_action **out);

/* call.amazon_bedrock(...): plain (Python returns the answer, no action). */
typedef struct relay_bedrock_params {
    const char *prompt_json;
    const char *swaig_json;
    const char *ai_params_json;
    const char *global_data_json;
    const char *post_prompt_json;
    const char *post_prompt_url;
    const char *extra_json;
} relay_bedrock_params;
relay_status relay_call_amazon_bedrock(relay_call *call, const relay_bedrock_params *p,
                                       relay_result **out);
relay_status relay_call_amazon_bedrock_async(relay_call *call, const relay_bedrock_params *p,
                                             relay_result_callback cb, void *user);

/* call.ai_message(message_text=..., role=..., reset=..., global_data=...). */
typedef struct relay_ai_message_params {
    const char *message_text;
    const char *role;
    const char *reset_json;
    const char *global_data_json;
    const char *extra_json;
} relay_ai_message_params;
relay_status relay_call_ai_message(relay_call *call, const relay_ai_message_params *p,
                                   relay_result **out);
relay_status relay_call_ai_message_async(relay_call *call, const relay_ai_message_params *p,
                                         relay_result_callback cb, void *user);
/* call.ai_hold(timeout=..., prompt=...) / call.ai_unhold(prompt=...).
 * Python types the hold timeout as a string ("30"). */
relay_status relay_call_ai_hold(relay_call *call, const char *timeout, const char *prompt,
                                relay_result **out);
relay_status relay_call_ai_hold_async(relay_call *call, const char *timeout, const char *prompt,
                                      relay_result_callback cb, void *user);
relay_status relay_call_ai_unhold(relay_call *call, const char *prompt, relay_result **out);
relay_status relay_call_ai_unhold_async(relay_call *call, const char *prompt,
                                        relay_result_callback cb, void *user);

#ifdef __cplusplus
}
#endif
#endif /* RELAY_CALLING_H */
