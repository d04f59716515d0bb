/*
 * librelay — a C client for the SignalWire RELAY call-control protocol.
 *
 * One header, one prefix. Names mirror the reference SDKs: Python's
 * `call.refer(device, status_url)` is relay_call_refer() here. Python's
 * action methods (`call.play_tts(text)`, `call.record(...)`) return once
 * the server has accepted the operation and hand back an action to await:
 * that is the _async form here (relay_call_play_tts_async, returning a
 * relay_action). The form without _async is the same plus
 * relay_action_wait(), Python's `await (await call.play_tts(text)).wait()`.
 * (Python has no `play_tts_async`; the suffix is C's, for "returns at once".)
 *
 * Conventions
 *   - Every function that can fail returns relay_status; outputs go through
 *     pointer arguments. relay_strerror() names a status.
 *   - A method that talks to the server may hand back a relay_result (the
 *     server's answer). It is owned by the caller and freed with
 *     relay_result_free(). Pass NULL when the result is not wanted.
 *   - Result codes: any 2xx is success (RELAY_OK). 404/410 mean the call is
 *     already gone: RELAY_OK as well, with relay_result_call_gone() true.
 *     Any other code, or a JSON-RPC error object, is RELAY_ERR_SERVER and the
 *     result (when asked for) carries the server's code and message.
 *   - Every request has a callback form (…_async with a
 *     relay_result_callback) and a blocking form; the blocking form is the
 *     same request plus a wait. Operations that report progress by events
 *     (play, record, refer, ...) are relay_actions.
 *   - Strings handed to callbacks are valid for the callback's duration.
 *   - "The call went away" (ended, passed, transferred, session lost), one
 *     rule: what hands back a result (a request, an action's wait) returns
 *     RELAY_OK with relay_result_call_gone() true; what waits for the call
 *     to reach something (relay_call_wait_for, relay_call_wait_for_event,
 *     relay_call_wait_refer) returns RELAY_ERR_STATE. Either returns at
 *     once when the call is already gone.
 *
 * Threading: one I/O thread owns the socket and all protocol state and
 * never runs application code. Callbacks run on a small pool of delivery
 * threads (option callback_threads) in per-call order: the callbacks that
 * concern one call (its events, its refer handler, its actions'
 * completions, its requests' completions) run one at a time in the order
 * they arose; those of different calls run in parallel. Client-level
 * callbacks (events without a known call, relay_client_execute_async) are
 * ordered likewise among themselves. Any callback may block and may call
 * any blocking function; a blocked callback delays later callbacks of its
 * own call only. Inbound-call handlers (relay_client_on_call) run on their
 * own bounded pool of worker threads, apart from the call's callbacks, so
 * a handler may block for the whole call.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stddef.h>

#include <relay/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses, log levels, call and refer states live in <relay/types.h>. */

const char *relay_strerror(relay_status status);
/* What exactly went wrong in this thread's last failed librelay call that
 * can say more than its status ("host: must not contain a scheme ..."),
 * "" when there is nothing more to say. Thread-local: valid until this
 * thread's next librelay call (nats.c's nats_GetLastError, likewise). */
const char *relay_last_error(void);
const char *relay_call_state_name(relay_call_state state);
const char *relay_refer_state_name(relay_refer_state state);

/* ----------------------------------------------------------------- objects */

typedef struct relay_client relay_client;
typedef struct relay_call relay_call;
typedef struct relay_action relay_action;
typedef struct relay_result relay_result;

/* ----------------------------------------------------------------- results */

const char *relay_result_code(const relay_result *res);    /* "200", "404", ... */
const char *relay_result_message(const relay_result *res); /* may be "" */
const char *relay_result_json(const relay_result *res);    /* the whole result/event params */
/* A string (or number or boolean, as text) field of the result; NULL if
 * absent or an object. key is a top-level name or a dotted path into
 * nested objects and arrays: "result.params.digits", "devices.0.type". */
const char *relay_result_get(const relay_result *res, const char *key);
int relay_result_call_gone(const relay_result *res); /* code 404 or 410 */
void relay_result_free(relay_result *res);

/* The callback form of a request: st and res as the blocking form would
 * return them (res may be NULL). res is owned by the library and freed
 * after the callback returns. Runs on a delivery thread, in the order of
 * the call's (or client's) other callbacks. */
typedef void (*relay_result_callback)(relay_status st, relay_result *res, void *user);

/* ------------------------------------------------------------------ client */

typedef struct relay_client_options {
    const char *host;     /* "example.signalwire.com", "127.0.0.1"; may carry ":port" */
    int port;             /* 0: the port in host, else 443 */
    const char *project;  /* project id, with token */
    const char *token;    /* API token */
    const char *jwt_token;/* instead of project/token */
    const char *const *contexts; /* NULL-terminated list, may be NULL */
    const char *ca_file;  /* PEM CA bundle; NULL: the system store */
    int plain_ws;         /* 1: ws:// without TLS (loopback tests only) */
    const char *agent;    /* NULL: "librelay-c/<version>" */
    int request_timeout_ms; /* 0: 10000 */
    int workers;          /* inbound-call handler threads; 0: 4 */
    int callback_threads; /* delivery threads for every other callback; 0: 2 */
    relay_log_fn log_fn;  /* NULL: stderr */
    void *log_user;
    relay_log_level log_level; /* default RELAY_LOG_WARN */
    const char *contexts_csv; /* more contexts, comma-separated ("office,sales") */
    int max_active_calls; /* inbound calls past it are passed on; 0: 1000 */
    int ping_interval_ms; /* client pings; 3 unanswered force a reconnect; 0: 30000 */
} relay_client_options;

/* Zeroes the options and applies defaults. */
void relay_client_options_init(relay_client_options *opts);

/* Fills options from the environment: SIGNALWIRE_SPACE (host[:port]),
 * SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN or SIGNALWIRE_TOKEN,
 * SIGNALWIRE_JWT_TOKEN, SIGNALWIRE_CONTEXTS (comma-separated),
 * SIGNALWIRE_RELAY_CA_FILE, SIGNALWIRE_LOG_LEVEL (error, warn, info,
 * debug), RELAY_MAX_ACTIVE_CALLS (a positive integer). Leaves fields whose
 * variable is unset or empty untouched; the strings point into the
 * environment. RELAY_ERR_INVALID_ARG when a variable is malformed:
 * relay_last_error() names it (never with its value if it is a secret);
 * the other variables are still applied. */
relay_status relay_client_options_from_env(relay_client_options *opts);

/* RELAY_OK when opts can make a client; otherwise RELAY_ERR_INVALID_ARG and
 * relay_last_error() names the missing or malformed setting (host: no
 * scheme, '@', '/', whitespace or control characters; a port in range;
 * project and token, or a JWT). relay_client_new runs the same check. */
relay_status relay_client_options_check(const relay_client_options *opts);

/* Creates a client; copies everything in opts. Does not connect. */
relay_status relay_client_new(const relay_client_options *opts, relay_client **out);

/* The connection's life as the application sees it. */
typedef enum relay_connection_state {
    RELAY_CONNECTION_CONNECTING = 0, /* an attempt starts */
    RELAY_CONNECTION_CONNECTED,      /* a new session: the server knows none of our calls */
    RELAY_CONNECTION_RESUMED,        /* the previous session resumed: calls and actions kept */
    RELAY_CONNECTION_DISCONNECTED,   /* down; another attempt follows in retry_in_ms */
    RELAY_CONNECTION_FAILED          /* down for good: see reason (rejected credentials...) */
} relay_connection_state;
typedef struct relay_connection_event {
    relay_connection_state state;
    const char *state_name; /* "connecting", "connected", "resumed", ... */
    const char *reason;     /* DISCONNECTED / FAILED: why, never a credential; else "" */
    int attempt;            /* attempts since the last established session, from 1 */
    int retry_in_ms;        /* DISCONNECTED: delay before the next attempt; else -1 */
} relay_connection_event;
typedef void (*relay_connection_handler)(relay_client *c, const relay_connection_event *ev,
                                         void *user);
/* Every change of the connection's state, in order, on a delivery thread
 * (in the order of the client-level callbacks). Register before connecting
 * (afterwards: RELAY_ERR_STATE). */
relay_status relay_client_on_connection_state(relay_client *c, relay_connection_handler fn,
                                              void *user);
const char *relay_connection_state_name(relay_connection_state state);

/* Inbound calls (calling.call.receive on a subscribed context). The handler
 * runs on a worker thread and may block; the call stays valid until the
 * handler returns (take a reference with relay_call_ref to keep it longer). */
typedef void (*relay_call_handler)(relay_call *call, void *user);
relay_status relay_client_on_call(relay_client *c, relay_call_handler fn, void *user);

/* An event as received. Everything in it is valid during the callback (or
 * the predicate) that receives it. */
typedef struct relay_event {
    const char *event_type;  /* "calling.call.state", ... */
    double timestamp;
    const char *call_id;     /* NULL when the event has none */
    const char *control_id;  /* NULL when the event has none */
    const char *tag;         /* NULL when the event has none */
    const char *params_json; /* the event's inner params as JSON text */
    relay_event_type type;   /* event_type as an enum (RELAY_EVENT_UNKNOWN: not known) */
    /* Where its subject stands: call_state for call state and receive
     * events, dial_state, connect_state, message_state, or the event's
     * "state" ("playing", "finished", "paused", ...); NULL when none. */
    const char *state;
    /* The inner params as a result: relay_result_get(ev->params,
     * "result.params.digits") reads any field. Owned by the library. */
    const relay_result *params;
} relay_event;

const char *relay_event_type_name(relay_event_type type); /* "" for UNKNOWN */
relay_event_type relay_event_type_from_name(const char *name);

/* Every event as received (a delivery thread, in the call's order). */
typedef void (*relay_event_handler)(relay_client *c, const relay_event *ev, void *user);
relay_status relay_client_on_event(relay_client *c, relay_event_handler fn, void *user);

/* A test on an event for the wait_for functions: nonzero ends the wait.
 * It runs on the waiting thread. NULL: the first event of the type. */
typedef int (*relay_event_predicate)(const relay_event *ev, void *user);
/* Waits for an event of `type` (RELAY_EVENT_UNKNOWN: any) that arrives
 * after the call and satisfies pred; *out (may be NULL) receives its
 * params, owned by the caller. RELAY_ERR_TIMEOUT after timeout_ms (<= 0:
 * no limit); RELAY_ERR_STATE when the client closes first. Any thread may
 * wait, callbacks included: events reach waiters apart from the callbacks. */
relay_status relay_client_wait_for_event(relay_client *c, relay_event_type type,
                                         relay_event_predicate pred, void *user, int timeout_ms,
                                         relay_result **out);

/* Starts the I/O thread and waits until the session is established
 * (signalwire.connect accepted) or has failed. RELAY_ERR_AUTH: rejected
 * credentials (three times in a row, about 1 s and 2 s apart).
 * RELAY_ERR_CONNECT: the server could not be reached (no retry: use
 * relay_client_run() to keep trying). After a later drop the client
 * reconnects by itself (backoff from 1 s doubling to 30 s, with jitter) and
 * resumes the session. Register handlers before connecting (afterwards:
 * RELAY_ERR_STATE). */
relay_status relay_client_connect(relay_client *c);

/* Blocks until relay_client_stop() is called (RELAY_OK). On a client not
 * yet connected it connects first and keeps trying with backoff for as
 * long as the server cannot be reached; it returns RELAY_ERR_AUTH when the
 * credentials are rejected three times in a row before any session. */
relay_status relay_client_run(relay_client *c);

/* Asks run() to return. Safe from any thread and from a signal handler. */
void relay_client_stop(relay_client *c);

/* Closes the connection, joins every thread, frees everything the client
 * owns. Calls referenced with relay_call_ref must be released first. */
void relay_client_free(relay_client *c);

/* The session's protocol string ("" before the first connect). */
const char *relay_client_protocol(const relay_client *c);

/* Any method, by name, with params as JSON text (blocking). */
relay_status relay_client_execute(relay_client *c, const char *method,
                                  const char *params_json, relay_result **out);
/* The callback form: returns once the request is on its way. A non-OK
 * return means cb will not be called. */
relay_status relay_client_execute_async(relay_client *c, const char *method,
                                        const char *params_json, relay_result_callback cb,
                                        void *user);

/* -------------------------------------------------------------------- call */

void relay_call_ref(relay_call *call);
void relay_call_unref(relay_call *call);

const char *relay_call_id(const relay_call *call);
const char *relay_call_node_id(const relay_call *call);
const char *relay_call_context(const relay_call *call);  /* "" for outbound */
const char *relay_call_tag(const relay_call *call);
const char *relay_call_direction(const relay_call *call);/* "inbound" / "outbound" */
const char *relay_call_from(const relay_call *call);     /* device params.from */
const char *relay_call_to(const relay_call *call);       /* device params.to */
relay_call_state relay_call_get_state(const relay_call *call);
relay_client *relay_call_client(const relay_call *call);

/* Waits until the call reaches `state` or a later one. timeout_ms <= 0
 * waits without a limit. RELAY_ERR_STATE: the call went away first. */
relay_status relay_call_wait_for(relay_call *call, relay_call_state state, int timeout_ms);

/* The call's events of `type` (RELAY_EVENT_UNKNOWN: every type), from now
 * on, on a delivery thread in the call's order, after relay_client_on_event
 * and before the action callbacks they cause. Any number of listeners (up
 * to 64 per call), run in the order they were added; they stay for the
 * call's life. */
typedef void (*relay_call_event_handler)(relay_call *call, const relay_event *ev, void *user);
relay_status relay_call_on(relay_call *call, relay_event_type type, relay_call_event_handler fn,
                           void *user);
/* relay_client_wait_for_event for this call's events. Events the call receives
 * before the wait starts are not seen. RELAY_ERR_STATE: the call went away
 * (ended, passed, transferred, or the session was lost) before a matching
 * event; its ending state event is offered to pred first. May be called
 * from the call's own callbacks. */
relay_status relay_call_wait_for_event(relay_call *call, relay_event_type type,
                                       relay_event_predicate pred, void *user, int timeout_ms,
                                       relay_result **out);

/* Each request below has a callback form, name_async(..., cb, user): it
 * returns once the request is on its way (a non-OK return means cb will
 * not be called) and cb runs later in the call's callback order. */
relay_status relay_call_answer(relay_call *call, relay_result **out);
relay_status relay_call_answer_async(relay_call *call, relay_result_callback cb, void *user);
/* reason: "hangup" (NULL), "cancel", "busy", "noAnswer", "decline", "error" */
relay_status relay_call_hangup(relay_call *call, const char *reason, relay_result **out);
relay_status relay_call_hangup_async(relay_call *call, const char *reason,
                                     relay_result_callback cb, void *user);
/* Declines an inbound call so that another client of the context may take
 * it (calling.pass; Python's call.pass_()). */
relay_status relay_call_pass(relay_call *call, relay_result **out);
relay_status relay_call_pass_async(relay_call *call, relay_result_callback cb, void *user);

/* Any calling.* method on this call: node_id and call_id are added to
 * params_json (an object, or NULL). Blocking. */
relay_status relay_call_execute(relay_call *call, const char *method,
                                const char *params_json, relay_result **out);
relay_status relay_call_execute_async(relay_call *call, const char *method,
                                      const char *params_json, relay_result_callback cb,
                                      void *user);

/* ------------------------------------------------------------------ media */

typedef struct relay_media {
    const char *type;     /* "tts", "audio", "silence", "ringtone" */
    const char *text;     /* tts */
    const char *language; /* tts, optional */
    const char *gender;   /* tts, optional */
    const char *voice;    /* tts, optional */
    const char *url;      /* audio */
    double duration;      /* silence, ringtone (seconds) */
    const char *name;     /* ringtone: "us", ... */
} relay_media;

/* One media item each, the type set by the constructor rather than by a
 * string (Python's Play.tts(...), Play.audio(...), ...). Strings are
 * borrowed: they must outlive the call that sends the item. Set the
 * optional fields (language, gender, voice) on the result. */
relay_media relay_media_tts(const char *text);
relay_media relay_media_audio(const char *url);
relay_media relay_media_silence(double seconds);
relay_media relay_media_ringtone(const char *name, double seconds); /* 0 s: the server's */

typedef struct relay_play_params {
    double volume;          /* dB, 0: unchanged */
    const char *direction;  /* NULL: server default */
    int loop;               /* 0: once */
    const char *status_url; /* NULL: none */
} relay_play_params;

/* ---------------------------------------------------------------- actions */

/* An operation that runs on the call and reports progress by events
 * (play, record, collect, refer, ...). The caller owns it:
 * relay_action_free(). Which events report on it, when it is complete and
 * which sub-methods it has come from one table (docs/architecture.md). */
typedef void (*relay_action_callback)(relay_action *action, void *user); /* delivery thread */

/* Starts any action-style method by name (a calling.* method that starts an
 * operation: "calling.play", "calling.record", "calling.refer", ...) and
 * returns once the server has accepted it. node_id and call_id are added
 * to params_json (an object or NULL), and a fresh control_id unless it has
 * one (families whose events carry none, refer and connect, get none).
 * RELAY_ERR_INVALID_ARG for a method that starts no operation on a call.
 * When the start is refused, *out is NULL and the status says why. */
relay_status relay_call_start(relay_call *call, const char *method, const char *params_json,
                              relay_action **out);
/* The callback form: returns at once with the action (*out, owned by the
 * caller); cb receives the server's answer to the start request on the
 * call's strand, in the call's order. A refused start also completes the action with
 * the refusal. */
relay_status relay_call_start_async(relay_call *call, const char *method,
                                    const char *params_json, relay_result_callback cb,
                                    void *user, relay_action **out);

const char *relay_action_control_id(const relay_action *a);
const char *relay_action_state(const relay_action *a); /* last state seen, "" before any */
int relay_action_completed(const relay_action *a);
/* The last event's params of this action (NULL before any). The returned
 * result is owned by the caller. */
relay_result *relay_action_result(const relay_action *a);
/* Waits for a terminal state; *out receives the final event's params.
 * timeout_ms <= 0 waits without a limit. An action whose call ends first
 * completes with RELAY_OK and a result with relay_result_call_gone()
 * (refer and connect only a few seconds after the end: their outcome may
 * follow the BYE they caused). A failure state gives RELAY_ERR_SERVER. */
relay_status relay_action_wait(relay_action *a, int timeout_ms, relay_result **out);
/* Called once when the action completes (queued at once if it already has),
 * on a delivery thread in the order of its call's other callbacks. */
relay_status relay_action_on_completed(relay_action *a, relay_action_callback fn, void *user);
/* Called for every event of the action (playing, paused, a collect's
 * partial result...) from then on, in the call's order, before the
 * completion callback of the event that completes it. relay_action_state()
 * and relay_action_result() inside it tell the event's state and params
 * (or a later one's). */
relay_status relay_action_on_progress(relay_action *a, relay_action_callback fn, void *user);
/* Sub-methods (calling.<family>.stop/.pause/.resume/.volume).
 * RELAY_ERR_STATE when the action's family has no such method. volume is in
 * dB ({volume: db}). Each has a callback form. */
relay_status relay_action_stop(relay_action *a, relay_result **out);
relay_status relay_action_pause(relay_action *a, relay_result **out);
relay_status relay_action_resume(relay_action *a, relay_result **out);
relay_status relay_action_volume(relay_action *a, double db, relay_result **out);
relay_status relay_action_stop_async(relay_action *a, relay_result_callback cb, void *user);
relay_status relay_action_pause_async(relay_action *a, relay_result_callback cb, void *user);
relay_status relay_action_resume_async(relay_action *a, relay_result_callback cb, void *user);
relay_status relay_action_volume_async(relay_action *a, double db, relay_result_callback cb,
                                       void *user);
void relay_action_free(relay_action *a);

/* Starts playing and returns at once with an action (play_async). */
relay_status relay_call_play_async(relay_call *call, const relay_media *media, size_t n_media,
                                   const relay_play_params *params, relay_action **out);
/* Plays and waits for the end (play). *out: the final calling.call.play params. */
relay_status relay_call_play(relay_call *call, const relay_media *media, size_t n_media,
                             const relay_play_params *params, relay_result **out);
relay_status relay_call_play_tts_async(relay_call *call, const char *text, relay_action **out);
relay_status relay_call_play_tts(relay_call *call, const char *text, relay_result **out);
/* The other one-item plays of the reference SDKs, each a relay_call_play of
 * one relay_media (the blocking form waits for the end as relay_call_play
 * does; for a volume or a loop, relay_call_play with relay_play_params):
 * call.play_audio(url): {"type": "audio", "params": {"url": url}}; url
 * required. */
relay_status relay_call_play_audio_async(relay_call *call, const char *url, relay_action **out);
relay_status relay_call_play_audio(relay_call *call, const char *url, relay_result **out);
/* call.play_silence(duration): {"type": "silence", "params": {"duration":
 * seconds}}; duration required (> 0). */
relay_status relay_call_play_silence_async(relay_call *call, double duration,
                                           relay_action **out);
relay_status relay_call_play_silence(relay_call *call, double duration, relay_result **out);
/* call.play_ringtone(name, duration=...): {"type": "ringtone", "params":
 * {"name": name, "duration": seconds}}; name ("us", "uk", ...) required,
 * duration 0: not sent (the server's default length). */
relay_status relay_call_play_ringtone_async(relay_call *call, const char *name, double duration,
                                            relay_action **out);
relay_status relay_call_play_ringtone(relay_call *call, const char *name, double duration,
                                      relay_result **out);

/* ------------------------------------------------------------------ refer */

typedef struct relay_device {
    const char *type;         /* "sip" for refer */
    const char *uri;          /* the SIP URI to transfer to: "sip:support@example.com" */
    const char *username;     /* optional digest credentials for the REFER */
    const char *password;
    const char *headers_json; /* optional: [{"name":..,"value":..}] */
    const char *params_json;  /* optional: more device params, merged in */
} relay_device;

/* A calling.call.refer event, typed. Valid during the callback only. */
typedef struct relay_refer_event {
    relay_refer_state state;
    const char *state_name;               /* as sent: "inProgress", "success", ... */
    const char *sip_refer_to;             /* may be NULL */
    const char *sip_refer_response_code;  /* "202", may be NULL */
    const char *sip_notify_response_code; /* "100", "200", "486", may be NULL */
    const char *params_json;
    /* relayd: "inbound" for a REFER the far end sent (state_name
     * "requested", then "accepted" or "declined"; state is
     * RELAY_REFER_UNKNOWN for these), NULL for the call's own refer */
    const char *direction;
    const char *sip_referred_by; /* inbound: the Referred-By URI, else NULL */
} relay_refer_event;

typedef void (*relay_refer_handler)(relay_call *call, const relay_refer_event *ev, void *user);

/* Refer events of this call (a delivery thread, in the call's order).
 * Register before relay_call_refer() to see every event. */
relay_status relay_call_on_refer(relay_call *call, relay_refer_handler fn, void *user);

/* Sends calling.refer: transfers the call's remote party to device->uri
 * with a SIP REFER. Returns the server's answer to the request; progress
 * follows as refer events. status_url (optional) receives the same progress
 * as HTTP POSTs from the server. */
relay_status relay_call_refer(relay_call *call, const relay_device *device,
                              const char *status_url, relay_result **out);
/* The same transfer as an action: returns once the server accepted it;
 * relay_action_wait() for its outcome. */
relay_status relay_call_refer_async(relay_call *call, const relay_device *device,
                                    const char *status_url, relay_action **out);

/* relayd extension (the official SDKs do not send it): answers the REFER
 * the far end sent (a refer event with direction "inbound", state
 * "requested") with calling.refer.answer. accept 1: the far end is told
 * the transfer is taken (NOTIFY 200); the application carries it out
 * itself, e.g. by connecting the call to sip_refer_to. accept 0: NOTIFY
 * 603. An "accepted" or "declined" refer event follows. */
relay_status relay_call_refer_answer(relay_call *call, int accept, relay_result **out);
relay_status relay_call_refer_answer_async(relay_call *call, int accept,
                                           relay_result_callback cb, void *user);

/* relay_call_wait_refer, relay_call_refer_state and relay_call_on_refer
 * are kept for one release as thin wrappers over the call's last refer
 * action (the one relay_call_refer or relay_call_refer_async started);
 * new code should use the action. */

/* Waits for a terminal refer state (success, busy, noAnswer, cancel, error).
 * *out receives that event's params. The state is remembered, so waiting
 * after the event arrived returns at once. RELAY_OK means a terminal state
 * was reached (which one: relay_call_refer_state()); RELAY_ERR_STATE means
 * the call went away without one. timeout_ms <= 0 waits without a limit. */
relay_status relay_call_wait_refer(relay_call *call, int timeout_ms, relay_result **out);

/* The last refer state seen on this call. */
relay_refer_state relay_call_refer_state(const relay_call *call);

/* -------------------------------------------------------------- messaging */

/* A message (SMS/MMS in the cloud; a SIP MESSAGE with relayd). The caller
 * owns one it sent (relay_message_free); its state follows the server's
 * messaging.state events — queued, sent, then delivered, undelivered or
 * failed — which the I/O thread routes to it by message_id. */
typedef struct relay_message relay_message;

/* What to send; zero fields are left out. Python's
 * client.messaging.send(context=, from_number=, to_number=, body=, media=,
 * tags=, region=). */
typedef struct relay_message_params {
    const char *context;      /* the context the message's events belong to */
    const char *from_number;  /* "+15551230000" (or with relayd a sip: URI) */
    const char *to_number;    /* likewise */
    const char *body;         /* a body, media, or both */
    const char *const *media; /* NULL-terminated list of URLs, may be NULL */
    const char *const *tags;  /* NULL-terminated, may be NULL */
    const char *region;
    const char *extra_json;   /* more params as a JSON object, added last; may be NULL */
} relay_message_params;

/* Sends messaging.send and returns once the server has answered (with the
 * message_id); the message then follows its state events. When the send is
 * refused, *out is NULL, the status says why (RELAY_ERR_SERVER for a non-2xx
 * answer) and relay_last_error() gives the server's code and message
 * ("400 body is 70000 bytes; ..."). */
relay_status relay_client_send_message(relay_client *c, const relay_message_params *p,
                                       relay_message **out);
/* The callback form: returns at once with the message (*out, owned by the
 * caller; its id is "" until the answer); cb receives the server's answer
 * on a delivery thread, in the order of the client-level callbacks. A
 * refused send completes the message as failed with the refusal as reason. */
relay_status relay_client_send_message_async(relay_client *c, const relay_message_params *p,
                                             relay_result_callback cb, void *user,
                                             relay_message **out);

/* The accessors' strings stay valid until relay_message_free. */
const char *relay_message_id(const relay_message *m);      /* "" until answered */
const char *relay_message_state(const relay_message *m);   /* "" before any event */
const char *relay_message_context(const relay_message *m);
const char *relay_message_body(const relay_message *m);
const char *relay_message_from(const relay_message *m);    /* from_number */
const char *relay_message_to(const relay_message *m);      /* to_number */
/* Why it was not delivered ("486 Busy Here", the server's refusal...), else "". */
const char *relay_message_reason(const relay_message *m);
int relay_message_completed(const relay_message *m);
/* Waits for a final state: RELAY_OK for delivered (and received),
 * RELAY_ERR_SERVER for undelivered or failed; RELAY_ERR_DISCONNECTED or
 * RELAY_ERR_CLOSED when the session that knew it is gone first;
 * RELAY_ERR_TIMEOUT after timeout_ms (<= 0: no limit). *out (may be NULL)
 * receives the last event's params (or the refusal), owned by the caller. */
relay_status relay_message_wait(relay_message *m, int timeout_ms, relay_result **out);
void relay_message_free(relay_message *m);

/* Inbound messages (messaging.receive on a subscribed context): the
 * handler runs on a delivery thread, in the order of the client-level
 * callbacks; msg (state "received") is valid during the call. Register
 * before connecting (afterwards: RELAY_ERR_STATE). */
typedef void (*relay_message_handler)(relay_client *c, const relay_message *msg, void *user);
relay_status relay_client_on_message(relay_client *c, relay_message_handler fn, void *user);

#ifdef __cplusplus
}
#endif

/* The typed calling methods (record, collect, detect, connect, ai, ...). */
#include <relay/calling.h>

#endif /* RELAY_RELAY_H */
