/*
 * fuzz_signature.c - libFuzzer harness for the terra-signature check.
 *
 * The input is a header value, then a NUL, then a body. Whatever it is,
 * the check answers; it accepts only when a v1 value is the real HMAC,
 * and a header ferry makes for the body always verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/sign.h"

#define SECRET "fuzz-secret"
#define NOW    1700000000LL

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const uint8_t *nul = memchr(data, 0, n);
    size_t hlen = nul != NULL ? (size_t)(nul - data) : n;
    const uint8_t *body = nul != NULL ? nul + 1 : data + n;
    size_t blen = nul != NULL ? n - hlen - 1 : 0;
    char *h = malloc(hlen + 1);
    char made[SIGN_HEADER_MAX];
    struct err e;

    memcpy(h, data, hlen);
    h[hlen] = '\0';
    if (sign_verify(SECRET, h, body, blen, NOW, 300, &e) == 0 &&
        strstr(h, "v1=") == NULL) {
        abort();
    }
    sign_header(SECRET, "old", NOW, body, blen, made);
    if (sign_verify(SECRET, made, body, blen, NOW, 300, &e) != 0 ||
        sign_verify("old", made, body, blen, NOW, 300, &e) != 0) {
        abort();
    }
    free(h);
    return 0;
}
