/*
 * rng.c - random bytes, tokens and numbers.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/rng.h"

/* Token bytes are drawn and encoded this many at a time; a multiple of 3
 * so that the pieces' base64url texts join up without padding. */
#define TOKEN_CHUNK 48

void
rng_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
        size_t k = n > INT_MAX ? INT_MAX : n;

        if (RAND_bytes(p, (int)k) != 1) {
            BUG("RAND_bytes failed");
        }
        p += k;
        n -= k;
    }
}

void
rng_token(char *out, size_t outsz, size_t nbytes)
{
    unsigned char raw[TOKEN_CHUNK];
    size_t off = 0;

    if (nbytes > SIZE_MAX / 2 || outsz < RNG_TOKEN_LEN(nbytes) + 1) {
        BUG("rng_token: output buffer too small");
    }
    out[0] = '\0';
    while (nbytes > 0) {
        size_t k = nbytes > TOKEN_CHUNK ? TOKEN_CHUNK : nbytes;

        rng_bytes(raw, k);
        if (codec_b64url_encode(raw, k, out + off, outsz - off) < 0) {
            BUG("rng_token: encoding overflow");
        }
        off += CODEC_B64URL_LEN(k);
        nbytes -= k;
    }
    crypto_wipe(raw, sizeof(raw));
}

uint64_t
rng_u64(void)
{
    unsigned char b[8];
    uint64_t v = 0;

    rng_bytes(b, sizeof(b));
    memcpy(&v, b, sizeof(v));
    return v;
}

double
rng_unit(void)
{
    /* the top 53 bits fill a double's mantissa exactly */
    return (double)(rng_u64() >> 11) * (1.0 / 9007199254740992.0);
}
