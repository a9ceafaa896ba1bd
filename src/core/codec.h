/*
 * codec.h - base64 (RFC 4648 section 4), base64url (section 5), hex and
 * percent-encoding (RFC 3986 section 2.1, and its form variant).
 *
 * Encoders write a NUL-terminated string; the *_LEN macros give its length
 * without the NUL, like strlen(), so an output buffer needs LEN + 1 bytes.
 * Decoders are strict: an input is accepted only in the one canonical
 * spelling that the matching encoder would produce (apart from hex case
 * and base64url's optional padding), so two different strings never
 * decode to the same bytes. No decoder skips whitespace.
 *
 * On an error the contents of `out` are unspecified; encoders leave an
 * empty string there when `outsz` is not 0.
 */
#ifndef FERRY_CORE_CODEC_H
#define FERRY_CORE_CODEC_H

#include <stddef.h>

#include "core/buf.h"

/* Length of the base64 text of `n` bytes, with padding, without the NUL. */
#define CODEC_B64_LEN(n) (((n) + 2) / 3 * 4)

/* Length of the base64url text of `n` bytes (no padding), without NUL. */
#define CODEC_B64URL_LEN(n) ((n) / 3 * 4 + ((n) % 3 * 4 + 2) / 3)

/* Largest number of bytes that `n` characters of base64 can decode to. */
#define CODEC_B64_DECODED_MAX(n) (((n) + 3) / 4 * 3)

/*
 * Encode `n` bytes of `in` (borrowed; may be NULL when `n` is 0) as padded
 * base64 into `out`, NUL-terminated. `outsz` is the size of `out`, which
 * must be at least CODEC_B64_LEN(n) + 1. Returns 0, or ERR_TOOBIG when it
 * is smaller.
 */
int codec_b64_encode(const void *in, size_t n, char *out, size_t outsz);

/*
 * As codec_b64_encode() but with the URL-safe alphabet ('-' and '_' for
 * '+' and '/') and no padding; `out` needs CODEC_B64URL_LEN(n) + 1 bytes.
 */
int codec_b64url_encode(const void *in, size_t n, char *out, size_t outsz);

/*
 * Decode the `n` characters at `in` (borrowed, need not be NUL-terminated)
 * from padded base64 into `out`, which has room for `outsz` bytes; the
 * number of bytes written goes to `*outlen` (not NUL-terminated).
 * Errors:
 *   ERR_INVALID  a character outside the alphabet, a length that is not
 *                a multiple of 4, missing, misplaced or excess '=', or
 *                non-zero bits left over in the last character;
 *   ERR_TOOBIG   `outsz` is smaller than the decoded length.
 * The empty string decodes to zero bytes.
 */
int codec_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                     size_t *outlen);

/*
 * As codec_b64_decode() for the base64url alphabet. Padding is optional:
 * input without '=' may have any length except 4k + 1; input with '='
 * must be padded exactly as base64 would be.
 */
int codec_b64url_decode(const char *in, size_t n, unsigned char *out,
                        size_t outsz, size_t *outlen);

/*
 * Write `n` bytes of `in` as lower-case hex to `out`, which must have
 * room for 2 * n + 1 bytes; the result is NUL-terminated.
 */
void codec_hex_encode(const void *in, size_t n, char *out);

/*
 * Decode the `n` hex digits at `in` (either case; need not be
 * NUL-terminated) into `out` (room for `outsz` bytes); `*outlen` gets
 * n / 2. ERR_INVALID for an odd `n` or a non-hex character, ERR_TOOBIG
 * when `outsz` is smaller than n / 2.
 */
int codec_hex_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                     size_t *outlen);

/* The value of the hex digit `c` (either case), or -1. */
int codec_hex_digit(char c);

/* The percent-encodings of the string `s` (changed in place) as RFC 3986
 * section 6.2.2 normalises them: an unreserved character decoded, any
 * other with its hex digits in upper case; a '%' without two hex digits
 * is left as it is. */
void codec_pct_normalize(char *s);

/*
 * Append `len` bytes of `s` to `out` percent-encoded: the RFC 3986
 * unreserved characters (ALPHA DIGIT - . _ ~) as they are, every other
 * byte as %XX in upper case; with `plus`, a space as '+' (the
 * application/x-www-form-urlencoded spelling). 0, or ERR_TOOBIG at the
 * buffer's ceiling.
 */
int codec_pct_encode(struct buf *out, const char *s, size_t len, int plus);

/*
 * Decode `n` bytes of `s` into `dst` (room for n + 1 bytes; may be `s`
 * itself) and NUL-terminate it: %XX is a byte and, with `plus`, '+' a
 * space. Returns the decoded length, or -1 for a malformed escape or a
 * NUL byte (raw or escaped), which a C string cannot carry.
 */
long codec_pct_decode(const char *s, size_t n, char *dst, int plus);

#endif
