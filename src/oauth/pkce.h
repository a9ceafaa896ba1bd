/*
 * pkce.h - Proof Key for Code Exchange (RFC 7636), S256 only.
 *
 * ferry uses it twice: as an OAuth client toward providers (a verifier
 * per authorization, its challenge in the authorize URL, the verifier in
 * the token request) and as the check of a challenge it was sent.
 * "plain" is not offered: it protects nothing that S256 does not.
 */
#ifndef FERRY_OAUTH_PKCE_H
#define FERRY_OAUTH_PKCE_H

#include "core/err.h"

/* 32 random bytes as base64url without padding. */
#define PKCE_VERIFIER_LEN 43

/* base64url of a SHA-256, no padding. */
#define PKCE_CHALLENGE_LEN 43

/* Longest verifier RFC 7636 section 4.1 allows. */
#define PKCE_VERIFIER_MAX 128

/*
 * Write a fresh verifier (PKCE_VERIFIER_LEN characters of [A-Za-z0-9_-],
 * NUL-terminated) to `out`. Always 0: a failing random generator aborts.
 * The verifier is a secret: wipe it with crypto_wipe() when done.
 */
int pkce_verifier(char out[PKCE_VERIFIER_LEN + 1]);

/*
 * Write the S256 challenge of `verifier` (borrowed; any RFC 7636
 * verifier: 43 to 128 characters of ALPHA DIGIT "-" "." "_" "~") to
 * `out`, NUL-terminated. 0, or ERR_INVALID for anything else (NULL
 * included); `out` is then "".
 */
int pkce_challenge(const char *verifier, char out[PKCE_CHALLENGE_LEN + 1]);

/*
 * 1 when `challenge` (borrowed) is the S256 challenge of `verifier`
 * (borrowed), else 0, also when either is NULL or malformed. The
 * comparison takes the same time wherever the two differ.
 */
int pkce_check(const char *verifier, const char *challenge);

#endif
