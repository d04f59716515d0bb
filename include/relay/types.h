/*
 * The RELAY vocabulary shared by librelay's API, the common code and relayd:
 * statuses, log levels, call and refer states. Types only, no functions, so
 * that src/common and relayd can speak the same words without including the
 * SDK's public header (nats.c keeps status.h apart from nats.h likewise).
 */
#ifndef RELAY_TYPES_H
#define RELAY_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

#define RELAY_VERSION_MAJOR 0
#define RELAY_VERSION_MINOR 1
#define RELAY_VERSION_PATCH 0
#define RELAY_VERSION "0.1.0"

/* ------------------------------------------------------------------ status */

typedef enum relay_status {
    RELAY_OK = 0,
    RELAY_ERR_INVALID_ARG,  /* a required argument is missing or malformed */
    RELAY_ERR_NO_MEMORY,
    RELAY_ERR_CONNECT,      /* could not reach the server (DNS, TCP, TLS, WS) */
    RELAY_ERR_AUTH,         /* the server rejected the credentials */
    RELAY_ERR_TIMEOUT,      /* no answer in time */
    RELAY_ERR_DISCONNECTED, /* the connection dropped while waiting */
    RELAY_ERR_SERVER,       /* the server answered with an error or non-2xx code */
    RELAY_ERR_PROTOCOL,     /* the server sent something this library cannot read */
    RELAY_ERR_STATE,        /* not possible in the current state (e.g. call ended) */
    RELAY_ERR_CLOSED,       /* the client is stopping or stopped */
    RELAY_ERR_LIMIT         /* a bound was reached (queue, active calls) */
} relay_status;

/* ----------------------------------------------------------------- logging */

typedef enum relay_log_level {
    RELAY_LOG_ERROR = 0,
    RELAY_LOG_WARN = 1,
    RELAY_LOG_INFO = 2,
    RELAY_LOG_DEBUG = 3 /* includes every frame sent and received, scrubbed */
} relay_log_level;

/* Log lines never contain credentials: tokens, JWTs, project ids and
 * authorization state are replaced by "***" before any handler sees them. */
typedef void (*relay_log_fn)(relay_log_level level, const char *line, void *user);

/* ------------------------------------------------------------------ events */

/* The event types of the protocol (signalwire.event's event_type), in the
 * order of its reference. relay_event_type_name() gives the wire name. */
typedef enum relay_event_type {
    RELAY_EVENT_UNKNOWN = 0,          /* a type this library does not know; as a
                                         filter: every type */
    RELAY_EVENT_CALL_RECEIVE,         /* calling.call.receive */
    RELAY_EVENT_CALL_STATE,           /* calling.call.state */
    RELAY_EVENT_CALL_PLAY,            /* calling.call.play */
    RELAY_EVENT_CALL_RECORD,          /* calling.call.record */
    RELAY_EVENT_CALL_COLLECT,         /* calling.call.collect */
    RELAY_EVENT_CALL_DETECT,          /* calling.call.detect */
    RELAY_EVENT_CALL_TAP,             /* calling.call.tap */
    RELAY_EVENT_CALL_STREAM,          /* calling.call.stream */
    RELAY_EVENT_CALL_FAX,             /* calling.call.fax */
    RELAY_EVENT_CALL_SEND_DIGITS,     /* calling.call.send_digits */
    RELAY_EVENT_CALL_PAY,             /* calling.call.pay */
    RELAY_EVENT_CALL_TRANSCRIBE,      /* calling.call.transcribe */
    RELAY_EVENT_CALL_AI,              /* calling.call.ai */
    RELAY_EVENT_CALL_REFER,           /* calling.call.refer */
    RELAY_EVENT_CALL_DIAL,            /* calling.call.dial */
    RELAY_EVENT_CALL_CONNECT,         /* calling.call.connect */
    RELAY_EVENT_CALL_HOLD,            /* calling.call.hold */
    RELAY_EVENT_CALL_DENOISE,         /* calling.call.denoise */
    RELAY_EVENT_CALL_ECHO,            /* calling.call.echo */
    RELAY_EVENT_CALL_QUEUE,           /* calling.call.queue */
    RELAY_EVENT_CONFERENCE,           /* calling.conference */
    RELAY_EVENT_CALLING_ERROR,        /* calling.error */
    RELAY_EVENT_MESSAGING_RECEIVE,    /* messaging.receive */
    RELAY_EVENT_MESSAGING_STATE,      /* messaging.state */
    RELAY_EVENT_AUTHORIZATION_STATE   /* signalwire.authorization.state */
} relay_event_type;

/* ------------------------------------------------------------------ states */

/* Call states, in protocol order (calling.call.state). */
typedef enum relay_call_state {
    RELAY_CALL_NONE = 0,
    RELAY_CALL_CREATED,
    RELAY_CALL_RINGING,
    RELAY_CALL_ANSWERED,
    RELAY_CALL_ENDING,
    RELAY_CALL_ENDED
} relay_call_state;

/* Progress of a SIP REFER (calling.call.refer). */
typedef enum relay_refer_state {
    RELAY_REFER_UNKNOWN = 0,
    RELAY_REFER_IN_PROGRESS,
    RELAY_REFER_SUCCESS, /* also reported for "completed"/"finished" */
    RELAY_REFER_CANCEL,
    RELAY_REFER_BUSY,
    RELAY_REFER_NO_ANSWER,
    RELAY_REFER_ERROR
} relay_refer_state;

#ifdef __cplusplus
}
#endif
#endif /* RELAY_TYPES_H */
