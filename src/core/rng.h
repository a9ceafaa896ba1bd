/*
 * rng.h - random numbers from OpenSSL's CSPRNG.
 *
 * Everything here draws from RAND_bytes(), which is safe to call from any
 * thread and reseeds itself (also after fork()). A failure of the
 * generator is not survivable - tokens and nonces would be predictable -
 * so it calls BUG() and the process aborts.
 */
#ifndef FERRY_CORE_RNG_H
#define FERRY_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"

/* Length of rng_token()'s text for `nbytes` bytes, without the NUL. */
#define RNG_TOKEN_LEN(nbytes) CODEC_B64URL_LEN(nbytes)

/* Fill the `n` bytes at `buf` with random bytes. */
void rng_bytes(void *buf, size_t n);

/*
 * Write `nbytes` random bytes as unpadded base64url (URL- and
 * header-safe: [A-Za-z0-9_-]) to `out`, NUL-terminated. `outsz` must be
 * at least RNG_TOKEN_LEN(nbytes) + 1; a smaller buffer is a programmer
 * error and calls BUG(). 32 bytes give a 43-character, 256-bit token.
 */
void rng_token(char *out, size_t outsz, size_t nbytes);

/* A uniformly random 64-bit value. */
uint64_t rng_u64(void);

/* A uniformly random double in [0, 1) with 53 random bits, for jitter. */
double rng_unit(void);

#endif
