/*
 * The per-session seals relayd hands to clients: the `signature` in the
 * connect result's `authorization` object (and in `protocol`), and the
 * `signalwire.authorization.state` string a client brings back on
 * reconnect. Both are HMAC-SHA256 under a key drawn at start-up, so a
 * client cannot forge them, and one issued for another project or session
 * does not verify. The key lives only in this process: after a restart
 * every old state is refused (the sessions it named are gone too).
 * Core thread only.
 */
#ifndef RELAYD_AUTH_STATE_H
#define RELAYD_AUTH_STATE_H

#include <stddef.h>

#define AUTH_SIGNATURE_LEN 24  /* hex characters; keeps protocol under 80 */
#define AUTH_STATE_MAX_LEN 128 /* longest state issued or accepted */

/* Draws the key. 0, or -1 if the system has no randomness to give. */
int auth_state_init(void);

/* The session's signature: hex, no '_' (clients split protocol on '_'). */
int auth_signature(const char *session_id, char out[AUTH_SIGNATURE_LEN + 1]);

/* The authorization state binding project and session. 0 on success. */
int auth_state_issue(const char *project, const char *session_id, char *out, size_t outlen);

/* 0 if state was issued by this process for project; the session it names
 * is copied to session_id (37 bytes). -1 for anything else. */
int auth_state_verify(const char *state, const char *project, char session_id[37]);

#endif
