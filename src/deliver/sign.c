/*
 * sign.c - terra-signature: HMAC-SHA256 over "t.body", in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "deliver/sign.h"

#define MAC_HEX 64

/* hex(HMAC-SHA256(secret, t + "." + body)) into `out` (65 bytes). */
static void
mac_hex(const char *secret, const char *t, size_t tlen, const void *body,
        size_t n, char out[MAC_HEX + 1])
{
    unsigned char mac[32];
    struct crypto_span msg[3] = {{t, tlen}, {".", 1}, {body, n}};

    crypto_hmac_sha256_spans(secret, strlen(secret), msg, 3, mac);
    codec_hex_encode(mac, sizeof(mac), out);
    crypto_wipe(mac, sizeof(mac));
}

void
sign_header(const char *secret, const char *previous, int64_t t,
            const void *body, size_t n, char out[SIGN_HEADER_MAX])
{
    char ts[24];
    char a[MAC_HEX + 1];
    char b[MAC_HEX + 1];
    int tlen = snprintf(ts, sizeof(ts), "%lld", (long long)t);

    mac_hex(secret, ts, (size_t)tlen, body, n, a);
    if (previous != NULL && previous[0] != '\0') {
        mac_hex(previous, ts, (size_t)tlen, body, n, b);
        snprintf(out, SIGN_HEADER_MAX, "t=%s,v1=%s,v1=%s", ts, a, b);
    } else {
        snprintf(out, SIGN_HEADER_MAX, "t=%s,v1=%s", ts, a);
    }
}

int
sign_verify(const char *secret, const char *header, const void *body, size_t n,
            int64_t now, long tolerance, struct err *e)
{
    const char *p = header;
    const char *t = NULL;
    size_t tlen = 0;
    const char *v1[8];
    size_t nv = 0;
    char want[MAC_HEX + 1];
    long long tv = 0;
    char *end = NULL;
    size_t i = 0;
    int match = 0;

    if (header == NULL || header[0] == '\0') {
        return err_set(e, ERR_INVALID, "no terra-signature header");
    }
    while (*p != '\0') {
        const char *q = strchr(p, ',');
        size_t len = q != NULL ? (size_t)(q - p) : strlen(p);

        if (len > 2 && p[0] == 't' && p[1] == '=') {
            t = p + 2;
            tlen = len - 2;
        } else if (len == 3 + MAC_HEX && strncmp(p, "v1=", 3) == 0 &&
                   nv < sizeof(v1) / sizeof(v1[0])) {
            v1[nv++] = p + 3;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    if (t == NULL || tlen >= 20) {
        return err_set(e, ERR_INVALID, "terra-signature has no t= value");
    }
    if (nv == 0) {
        return err_set(e, ERR_INVALID, "terra-signature has no v1= value");
    }
    {
        char ts[24];

        memcpy(ts, t, tlen);
        ts[tlen] = '\0';
        tv = strtoll(ts, &end, 10);
        if (end == ts || *end != '\0') {
            return err_set(e, ERR_INVALID,
                           "terra-signature t= is not a "
                           "number");
        }
    }
    mac_hex(secret, t, tlen, body, n, want);
    for (i = 0; i < nv; i++) {
        match |= crypto_ct_eq(want, v1[i], MAC_HEX);
    }
    crypto_wipe(want, sizeof(want));
    if (!match) {
        return err_set(e, ERR_FORBIDDEN,
                       "no v1 signature matches the "
                       "secret");
    }
    if (tv > now + tolerance || tv < now - tolerance) {
        return err_set(e, ERR_FORBIDDEN,
                       "the signature's time is %lld s away from now",
                       (long long)(tv > now ? tv - now : now - tv));
    }
    return 0;
}
