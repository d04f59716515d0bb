/*
 * sofia-sip's own diagnostics (su_log) into relayd's log, at debug level.
 *
 * Left alone, sofia prints to stderr at its default level 3, which
 * includes a line per call ("nua(0x...): handle with session and") and
 * bypasses log_level, log_file and the credential scrubber. Routed here,
 * they are whole lines like any other, shown with log_level = debug.
 *
 * With sip_log = 1 tport also logs every message it sends or receives
 * (TPTAG_LOG): those are recognised and written at info, a stamp line
 * ("sip: recv 412 bytes from udp/[...]:5062 at ...") then each line of
 * the message as "sip| ...", Authorization headers masked. sofia hands
 * its logger no level, so its other diagnostics all go at debug.
 */
#ifndef RELAYD_SIP_SOFIA_LOG_H
#define RELAYD_SIP_SOFIA_LOG_H

/* Redirects sofia's default log (every module without a logger of its own)
 * to server_log at debug. Idempotent; call before nua_create. */
void sofia_log_capture(void);

#endif
