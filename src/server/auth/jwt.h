/*
 * Verifies a JSON Web Token offered in signalwire.connect's
 * `authentication.jwt_token`: HS256 only, signed with relayd's configured
 * secret, `exp` required and in the future, `nbf` (if present) reached, and
 * the project taken from the `project_id` claim. Everything in a token is
 * hostile until its signature checks out, so the signature is checked
 * before the claims are parsed, and every length is bounded.
 */
#ifndef RELAYD_JWT_H
#define RELAYD_JWT_H

#include <stddef.h>
#include <stdint.h>

/* A token longer than this is refused unread. */
#define JWT_MAX_LEN 8192

/* 0 with *project (malloc'd, owned by the caller) on success; -1 with a
 * short reason in why (never containing the token) on refusal. now_s is
 * seconds since the epoch. */
int jwt_verify_hs256(const char *token, const unsigned char *secret, size_t secret_len,
                     int64_t now_s, char **project, char *why, size_t whylen);

#endif
