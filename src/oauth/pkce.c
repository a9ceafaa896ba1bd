/*
 * pkce.c - RFC 7636 verifiers and S256 challenges.
 */
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/rng.h"
#include "oauth/pkce.h"

/* Bytes of randomness in a verifier: 256 bits, 43 characters. */
#define VERIFIER_BYTES 32

/* 1 for the characters RFC 7636 4.1 allows in a verifier. */
static int
is_unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* 1 when `v` is a well-formed verifier. */
static int
verifier_ok(const char *v)
{
    size_t n = 0;

    if (v == NULL) {
        return 0;
    }
    for (n = 0; v[n] != '\0'; n++) {
        if (n >= PKCE_VERIFIER_MAX || !is_unreserved(v[n])) {
            return 0;
        }
    }
    return n >= PKCE_VERIFIER_LEN;
}

int
pkce_verifier(char out[PKCE_VERIFIER_LEN + 1])
{
    rng_token(out, PKCE_VERIFIER_LEN + 1, VERIFIER_BYTES);
    return 0;
}

int
pkce_challenge(const char *verifier, char out[PKCE_CHALLENGE_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];

    out[0] = '\0';
    if (!verifier_ok(verifier)) {
        return ERR_INVALID;
    }
    crypto_sha256(verifier, strlen(verifier), md);
    if (codec_b64url_encode(md, sizeof(md), out, PKCE_CHALLENGE_LEN + 1) < 0) {
        BUG("pkce_challenge: encoding overflow");
    }
    return 0;
}

int
pkce_check(const char *verifier, const char *challenge)
{
    char want[PKCE_CHALLENGE_LEN + 1];
    int same = 0;

    if (challenge == NULL || strlen(challenge) != PKCE_CHALLENGE_LEN) {
        return 0;
    }
    if (pkce_challenge(verifier, want) < 0) {
        return 0;
    }
    same = crypto_ct_eq(want, challenge, PKCE_CHALLENGE_LEN);
    crypto_wipe(want, sizeof(want));
    return same;
}
