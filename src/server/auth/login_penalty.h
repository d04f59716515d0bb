/*
 * Failed logins slow down their address. Per-connection limits
 * (max_login_attempts) make a guesser open new connections; this makes
 * every new try from the same address wait longer: after LOGIN_FREE_FAILURES
 * failures within a minute, a connection from that address is served only
 * after a delay that doubles with each further failure, up to
 * login_delay_max_ms. A success from the address clears it; a minute
 * without failures forgets it.
 *
 * The table is fixed (LOGIN_PENALTY_SLOTS addresses; the least recently
 * failed one is replaced), so addresses cannot grow it. Core thread only.
 */
#ifndef RELAYD_AUTH_LOGIN_PENALTY_H
#define RELAYD_AUTH_LOGIN_PENALTY_H

#include <stdint.h>

#define LOGIN_PENALTY_SLOTS 1024
#define LOGIN_FREE_FAILURES 3
#define LOGIN_PENALTY_WINDOW_MS 60000
#define LOGIN_PENALTY_BASE_MS 250

typedef struct login_penalty login_penalty;

login_penalty *login_penalty_new(void);
void login_penalty_free(login_penalty *p);
void login_penalty_failed(login_penalty *p, const char *addr, int64_t now);
void login_penalty_succeeded(login_penalty *p, const char *addr);
/* How long a frame of a connection from addr that has no session yet
 * waits before it is handled (0: at once); at most max_ms. */
int login_penalty_delay(const login_penalty *p, const char *addr, int64_t now, int max_ms);

#endif
