/*
 * test_codec.c - base64, base64url and hex.
 */
#include <string.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/err.h"
#include "tap.h"

/* RFC 4648 section 10. */
static const char *const rfc_vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

#define NVECTORS (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

static void
test_b64_vectors(void)
{
    char out[64];
    unsigned char raw[64];
    size_t i = 0;

    for (i = 0; i < NVECTORS; i++) {
        const char *plain = rfc_vectors[i][0];
        const char *enc = rfc_vectors[i][1];
        size_t n = strlen(plain);
        size_t len = 0;
        int rc = 0;

        rc = codec_b64_encode(plain, n, out, sizeof(out));
        is_int(rc, 0, "b64 encode returns 0");
        is_str(out, enc, "b64 encode matches RFC 4648");
        is_int(strlen(out), CODEC_B64_LEN(n), "CODEC_B64_LEN is exact");

        rc = codec_b64_decode(enc, strlen(enc), raw, sizeof(raw), &len);
        is_int(rc, 0, "b64 decode returns 0");
        ok(len == n && memcmp(raw, plain, n) == 0, "b64 decode matches");
    }
}

static void
test_b64url(void)
{
    static const unsigned char fbff[] = {0xfb, 0xff};
    static const unsigned char three[] = {0xfb, 0xef, 0xbe};
    unsigned char raw[16];
    char out[16];
    size_t len = 0;
    size_t i = 0;

    is_int(codec_b64url_encode(fbff, 2, out, sizeof(out)), 0, "url encode");
    is_str(out, "-_8", "fb ff is -_8 without padding");
    is_int(strlen(out), CODEC_B64URL_LEN(2), "CODEC_B64URL_LEN(2)");
    codec_b64_encode(fbff, 2, out, sizeof(out));
    is_str(out, "+/8=", "fb ff in standard base64 is +/8=");
    codec_b64url_encode(three, 3, out, sizeof(out));
    is_str(out, "----", "fb ef be is ----");
    codec_b64url_encode("f", 1, out, sizeof(out));
    is_str(out, "Zg", "url: no padding for one byte");

    is_int(codec_b64url_decode("-_8", 3, raw, sizeof(raw), &len), 0,
           "url decode without padding");
    ok(len == 2 && memcmp(raw, fbff, 2) == 0, "url decode gives fb ff");
    is_int(codec_b64url_decode("-_8=", 4, raw, sizeof(raw), &len), 0,
           "url decode with padding");
    ok(len == 2 && memcmp(raw, fbff, 2) == 0, "padded url decode gives fb ff");
    is_int(codec_b64url_decode("Zg", 2, raw, sizeof(raw), &len), 0,
           "url decode Zg");
    ok(len == 1 && raw[0] == 'f', "Zg is f");
    is_int(codec_b64_decode("-_8=", 4, raw, sizeof(raw), &len), ERR_INVALID,
           "standard decode rejects - and _");
    is_int(codec_b64url_decode("+/8=", 4, raw, sizeof(raw), &len), ERR_INVALID,
           "url decode rejects + and /");

    for (i = 0; i < NVECTORS; i++) {
        const char *plain = rfc_vectors[i][0];
        size_t n = strlen(plain);
        char enc[16];

        codec_b64url_encode(plain, n, enc, sizeof(enc));
        ok(codec_b64url_decode(enc, strlen(enc), raw, sizeof(raw), &len) == 0 &&
               len == n && memcmp(raw, plain, n) == 0,
           "url round trip of an RFC 4648 vector");
    }
}

static void
test_b64_rejects(void)
{
    static const char *const bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zm9",      /* length not a multiple of 4 */
        "Z===",     /* three pads */
        "====",     /* nothing but padding */
        "Zg==Zg==", /* padding in the middle */
        "Zm=v",     /* '=' before data */
        "Zh==",     /* non-zero trailing bits (one byte) */
        "Zm9=",     /* non-zero trailing bits (two bytes) */
        "Zm9v\n",   /* whitespace */
        "Zm 9v",    /* space */
        "Zm9*",     /* bad character */
        "Zm9vY",    /* 4k + 1 */
    };
    unsigned char raw[16];
    size_t len = 99;
    size_t i = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "b64 rejects '%s'", bad[i]);
        is_int(codec_b64_decode(bad[i], strlen(bad[i]), raw, sizeof(raw), &len),
               ERR_INVALID, name);
    }
    is_int(len, 0, "outlen is 0 after an error");
    is_int(codec_b64url_decode("Zm9vY", 5, raw, sizeof(raw), &len), ERR_INVALID,
           "url rejects 4k + 1 characters");
    is_int(codec_b64url_decode("Zh", 2, raw, sizeof(raw), &len), ERR_INVALID,
           "url rejects non-zero trailing bits");
    is_int(codec_b64url_decode("Zg=", 3, raw, sizeof(raw), &len), ERR_INVALID,
           "url rejects partial padding");
    is_int(codec_b64url_decode("Zm9v=", 5, raw, sizeof(raw), &len), ERR_INVALID,
           "url rejects padding after a full group");
    is_int(codec_b64url_decode("Zg==", 3, raw, sizeof(raw), &len), ERR_INVALID,
           "url decodes only the given length");
}

static void
test_b64_toobig(void)
{
    char small[9];
    unsigned char raw[2];
    size_t len = 0;

    is_int(codec_b64_encode("fooba", 5, small, 9), 0, "exact size works");
    is_int(codec_b64_encode("fooba", 5, small, 8), ERR_TOOBIG,
           "no room for the NUL is ERR_TOOBIG");
    is_str(small, "", "output emptied on ERR_TOOBIG");
    is_int(codec_b64url_encode("fooba", 5, small, 8), 0, "url exact size");
    is_int(codec_b64url_encode("fooba", 5, small, 7), ERR_TOOBIG,
           "url too small");
    is_int(codec_b64_encode("", 0, small, 0), ERR_TOOBIG,
           "outsz 0 is ERR_TOOBIG");
    is_int(codec_b64_decode("Zm9v", 4, raw, sizeof(raw), &len), ERR_TOOBIG,
           "decode into too small a buffer");
    is_int(codec_b64_decode("Zm8=", 4, raw, sizeof(raw), &len), 0,
           "decode into an exact buffer");
    is_int(len, 2, "two bytes");
    is_int(codec_b64url_decode("Zm9v", 4, raw, sizeof(raw), &len), ERR_TOOBIG,
           "url decode into too small a buffer");
}

static void
test_b64_binary(void)
{
    unsigned char all[256];
    unsigned char back[256];
    char enc[CODEC_B64_LEN(256) + 1];
    char url[CODEC_B64URL_LEN(256) + 1];
    size_t len = 0;
    size_t n = 0;
    int good = 1;

    for (n = 0; n < sizeof(all); n++) {
        all[n] = (unsigned char)n;
    }
    for (n = 0; n <= sizeof(all); n++) {
        if (codec_b64_encode(all, n, enc, sizeof(enc)) != 0 ||
            codec_b64_decode(enc, strlen(enc), back, sizeof(back), &len) != 0 ||
            len != n || memcmp(all, back, n) != 0) {
            good = 0;
        }
        if (codec_b64url_encode(all, n, url, sizeof(url)) != 0 ||
            strlen(url) != CODEC_B64URL_LEN(n) ||
            codec_b64url_decode(url, strlen(url), back, sizeof(back), &len) !=
                0 ||
            len != n || memcmp(all, back, n) != 0) {
            good = 0;
        }
    }
    ok(good, "every prefix of 00..ff round-trips in both alphabets");
}

static void
test_hex(void)
{
    static const unsigned char bytes[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    unsigned char raw[8];
    char out[2 * sizeof(bytes) + 1];
    size_t len = 0;

    codec_hex_encode(bytes, sizeof(bytes), out);
    is_str(out, "0001abcdefff", "hex encode is lower case");
    codec_hex_encode("", 0, out);
    is_str(out, "", "hex of nothing");

    is_int(codec_hex_decode("0001abcdefff", 12, raw, sizeof(raw), &len), 0,
           "hex decode");
    ok(len == sizeof(bytes) && memcmp(raw, bytes, len) == 0,
       "hex decode matches");
    is_int(codec_hex_decode("0001ABCDEFFF", 12, raw, sizeof(raw), &len), 0,
           "upper case hex decodes");
    ok(len == sizeof(bytes) && memcmp(raw, bytes, len) == 0,
       "upper case matches");
    is_int(codec_hex_decode("aBcD", 4, raw, sizeof(raw), &len), 0,
           "mixed case hex decodes");
    is_int(codec_hex_decode("", 0, raw, sizeof(raw), &len), 0, "empty hex");
    is_int(len, 0, "empty hex gives nothing");

    is_int(codec_hex_decode("abc", 3, raw, sizeof(raw), &len), ERR_INVALID,
           "odd length");
    is_int(codec_hex_decode("zz", 2, raw, sizeof(raw), &len), ERR_INVALID,
           "non-hex character");
    is_int(codec_hex_decode("0g", 2, raw, sizeof(raw), &len), ERR_INVALID,
           "g is not hex");
    is_int(codec_hex_decode("0x12", 4, raw, sizeof(raw), &len), ERR_INVALID,
           "0x prefix");
    is_int(codec_hex_decode(" 1", 2, raw, sizeof(raw), &len), ERR_INVALID,
           "space");
    is_int(codec_hex_decode("0001abcdefff", 12, raw, 5, &len), ERR_TOOBIG,
           "hex decode into too small a buffer");
}

/* RFC 3986 section 6.2.2: one spelling of what means the same. */
static void
test_pct_normalize(void)
{
    char s[64];

    snprintf(s, sizeof(s), "/%%68%%6fok%%7e/%%2f%%2F%%c3%%A9?x=%%41");
    codec_pct_normalize(s);
    is_str(s, "/hook~/%2F%2F%C3%A9?x=A",
           "unreserved decoded, the rest in upper case");
    snprintf(s, sizeof(s), "/%%2e%%2E/%%25%%zz%%4");
    codec_pct_normalize(s);
    is_str(s, "/../%25%zz%4", "dots decoded; bad escapes left as they are");
}

static void
test_pct(void)
{
    struct buf b;
    char d[64];

    buf_init(&b, 64);
    is_int(codec_pct_encode(&b, "a b~*/\xc3\xa9", 8, 0), 0, "pct encode");
    is_str(buf_str(&b), "a%20b~%2A%2F%C3%A9", "RFC 3986: space %20, ~ kept");
    buf_release(&b);
    buf_init(&b, 64);
    is_int(codec_pct_encode(&b, "a b+", 4, 1), 0, "form encode");
    is_str(buf_str(&b), "a+b%2B", "forms: space +, + escaped");
    buf_release(&b);
    buf_init(&b, 4);
    is_int(codec_pct_encode(&b, "////", 4, 0), ERR_TOOBIG, "the ceiling");
    buf_release(&b);

    is_int(codec_pct_decode("a+b%2b%C3%a9", 12, d, 1), 6, "form decode");
    is_str(d, "a b+\xc3\xa9", "either hex case");
    is_int(codec_pct_decode("a+b", 3, d, 0), 3, "without plus");
    is_str(d, "a+b", "'+' stays");
    is_int(codec_pct_decode("%4", 2, d, 1), -1, "a cut escape");
    is_int(codec_pct_decode("%g0", 3, d, 1), -1, "not hex");
    is_int(codec_pct_decode("%00", 3, d, 1), -1, "an escaped NUL");
    is_int(codec_pct_decode("a\0b", 3, d, 1), -1, "a raw NUL");
    is_int(codec_hex_digit('F'), 15, "hex digit");
    is_int(codec_hex_digit('g'), -1, "not a hex digit");
}

int
main(void)
{
    test_b64_vectors();
    test_b64url();
    test_b64_rejects();
    test_b64_toobig();
    test_b64_binary();
    test_hex();
    test_pct();
    test_pct_normalize();
    return done_testing();
}
