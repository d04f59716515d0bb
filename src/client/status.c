#include <relay/relay.h>

#include "common/protocol.h"

const char *relay_strerror(relay_status status)
{
    switch (status) {
    case RELAY_OK: return "ok";
    case RELAY_ERR_INVALID_ARG: return "invalid argument";
    case RELAY_ERR_NO_MEMORY: return "out of memory";
    case RELAY_ERR_CONNECT: return "could not connect to the RELAY server";
    case RELAY_ERR_AUTH: return "authentication rejected by the server";
    case RELAY_ERR_TIMEOUT: return "timed out waiting for the server";
    case RELAY_ERR_DISCONNECTED: return "connection lost";
    case RELAY_ERR_SERVER: return "the server returned an error";
    case RELAY_ERR_PROTOCOL: return "protocol error: unreadable message from the server";
    case RELAY_ERR_STATE: return "not possible in the current state";
    case RELAY_ERR_CLOSED: return "client is closed";
    case RELAY_ERR_LIMIT: return "limit reached";
    }
    return "unknown status";
}

const char *relay_call_state_name(relay_call_state state)
{
    return proto_call_state_name(state);
}

const char *relay_refer_state_name(relay_refer_state state)
{
    return proto_refer_state_name(state);
}

/* ------------------------------------------------------------ last error */

#include <stdarg.h>
#include <stdio.h>

#include "client.h"

static _Thread_local char last_error[256];

const char *relay_last_error(void)
{
    return last_error;
}

void lr_set_last_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

void lr_clear_last_error(void)
{
    last_error[0] = '\0';
}

const char *relay_connection_state_name(relay_connection_state state)
{
    switch (state) {
    case RELAY_CONNECTION_CONNECTING: return "connecting";
    case RELAY_CONNECTION_CONNECTED: return "connected";
    case RELAY_CONNECTION_RESUMED: return "resumed";
    case RELAY_CONNECTION_DISCONNECTED: return "disconnected";
    case RELAY_CONNECTION_FAILED: return "failed";
    }
    return "unknown";
}
