/*
 * codec.c - base64, base64url and hex.
 *
 * One encoder and one decoder serve both base64 alphabets; they differ
 * only in the two characters for 62 and 63 and in padding.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/err.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex_digits[] = "0123456789abcdef";

enum pad_rule {
    PAD_REQUIRED,
    PAD_OPTIONAL,
};

static int
encode(const unsigned char *in, size_t n, char *out, size_t outsz,
       const char *alpha, int pad)
{
    size_t need = pad ? CODEC_B64_LEN(n) : CODEC_B64URL_LEN(n);
    size_t i = 0;
    char *o = out;

    if (n > SIZE_MAX / 4 || outsz < need + 1) {
        if (outsz > 0) {
            out[0] = '\0';
        }
        return ERR_TOOBIG;
    }
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     (uint32_t)in[i + 2];

        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 0x3f];
        *o++ = alpha[(v >> 6) & 0x3f];
        *o++ = alpha[v & 0x3f];
    }
    if (n - i == 1) {
        *o++ = alpha[in[i] >> 2];
        *o++ = alpha[(in[i] & 0x03) << 4];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (n - i == 2) {
        *o++ = alpha[in[i] >> 2];
        *o++ = alpha[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *o++ = alpha[(in[i + 1] & 0x0f) << 2];
        if (pad) {
            *o++ = '=';
        }
    }
    *o = '\0';
    return 0;
}

int
codec_b64_encode(const void *in, size_t n, char *out, size_t outsz)
{
    return encode(in, n, out, outsz, b64_std, 1);
}

int
codec_b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
    return encode(in, n, out, outsz, b64_url, 0);
}

/* Value of base64 character `c` in the alphabet `alpha`, or -1. */
static int
b64_value(unsigned char c, const char *alpha)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (unsigned char)alpha[62]) {
        return 62;
    }
    if (c == (unsigned char)alpha[63]) {
        return 63;
    }
    return -1;
}

/*
 * Check the shape of `n` characters of input against the padding rule and
 * return through `*datalen` how many of them are data (not '=').
 */
static int
check_length(const char *in, size_t n, enum pad_rule rule, size_t *datalen)
{
    size_t pads = 0;

    while (pads < n && pads < 3 && in[n - 1 - pads] == '=') {
        pads++;
    }
    if (pads == 0 && rule == PAD_REQUIRED && n % 4 != 0) {
        return ERR_INVALID;
    }
    if (pads > 0 && (n % 4 != 0 || pads > 2)) {
        return ERR_INVALID;
    }
    if ((n - pads) % 4 == 1) {
        return ERR_INVALID;
    }

    /* pads > 0 here implies (n - pads) % 4 == 4 - pads */
    *datalen = n - pads;
    return 0;
}

static int
decode(const char *in, size_t n, unsigned char *out, size_t outsz,
       size_t *outlen, const char *alpha, enum pad_rule rule)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t datalen = 0;
    size_t need = 0;
    size_t i = 0;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    int rc = 0;

    *outlen = 0;
    rc = check_length(in, n, rule, &datalen);
    if (rc < 0) {
        goto out;
    }
    need = datalen / 4 * 3 + (datalen % 4 == 0 ? 0 : datalen % 4 - 1);
    if (outsz < need) {
        rc = ERR_TOOBIG;
        goto out;
    }
    for (i = 0; i < datalen; i++) {
        int v = b64_value(p[i], alpha);

        if (v < 0) {
            rc = ERR_INVALID;
            goto out;
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }

    /* bits is 0, 2 or 4: those low bits of the last character must be 0 */
    if ((acc & ((1u << bits) - 1)) != 0) {
        rc = ERR_INVALID;
        goto out;
    }
    *outlen = o;

out:
    return rc;
}

int
codec_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                 size_t *outlen)
{
    return decode(in, n, out, outsz, outlen, b64_std, PAD_REQUIRED);
}

int
codec_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                    size_t *outlen)
{
    return decode(in, n, out, outsz, outlen, b64_url, PAD_OPTIONAL);
}

void
codec_hex_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    size_t i = 0;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex_digits[p[i] >> 4];
        out[2 * i + 1] = hex_digits[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* Value of hex digit `c` (either case), or -1. */
int
codec_hex_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                 size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;
    int rc = 0;

    *outlen = 0;
    if (n % 2 != 0) {
        rc = ERR_INVALID;
        goto out;
    }
    if (outsz < n / 2) {
        rc = ERR_TOOBIG;
        goto out;
    }
    for (i = 0; i < n; i += 2) {
        int hi = codec_hex_digit((char)p[i]);
        int lo = codec_hex_digit((char)p[i + 1]);

        if (hi < 0 || lo < 0) {
            rc = ERR_INVALID;
            goto out;
        }
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = n / 2;

out:
    return rc;
}

int
codec_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

void
codec_pct_normalize(char *s)
{
    char *w = s;

    while (*s != '\0') {
        int hi = s[0] == '%' ? codec_hex_digit(s[1]) : -1;
        int lo = hi >= 0 ? codec_hex_digit(s[2]) : -1;

        if (lo < 0) {
            *w++ = *s++;
        } else if (unreserved((unsigned char)(hi * 16 + lo))) {
            *w++ = (char)(hi * 16 + lo);
            s += 3;
        } else {
            *w++ = '%';
            *w++ = "0123456789ABCDEF"[hi];
            *w++ = "0123456789ABCDEF"[lo];
            s += 3;
        }
    }
    *w = '\0';
}

int
codec_pct_encode(struct buf *out, const char *s, size_t len, int plus)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    int rc = 0;

    for (i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

        if (unreserved(c)) {
            rc = buf_addch(out, (char)c);
        } else if (plus && c == ' ') {
            rc = buf_addch(out, '+');
        } else {
            rc = buf_add(out, esc, sizeof(esc));
        }
    }
    return rc;
}

long
codec_pct_decode(const char *s, size_t n, char *dst, int plus)
{
    size_t i = 0;
    size_t k = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (plus && c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? codec_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? codec_hex_digit(s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            return -1;
        }
        dst[k++] = c;
    }
    dst[k] = '\0';
    return (long)k;
}
