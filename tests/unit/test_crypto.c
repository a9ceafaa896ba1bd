/*
 * test_crypto.c - hashes, MACs, AES-256-GCM and sealed boxes against
 * published test vectors.
 */
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "tap.h"

#define MAX_BYTES 256

/* Hex text to bytes; the vectors below are well-formed. */
static size_t
unhex(const char *hex, unsigned char *out)
{
    size_t len = 0;

    if (codec_hex_decode(hex, strlen(hex), out, MAX_BYTES, &len) != 0) {
        printf("# bad test vector: %s\n", hex);
    }
    return len;
}

/* `n` bytes of `in` as hex in `out` (2n + 1 bytes), for is_str(). */
static const char *
tohex(const unsigned char *in, size_t n, char *out)
{
    codec_hex_encode(in, n, out);
    return out;
}

static void
test_sha256(void)
{
    unsigned char d[32];
    char hex[65];

    crypto_sha256("", 0, d);
    is_str(tohex(d, 32, hex),
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "SHA-256 of the empty string");
    crypto_sha256("abc", 3, d);
    is_str(tohex(d, 32, hex),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256 of abc");
}

struct hmac_case {
    const char *name;
    unsigned char key_byte; /* key is key_len copies of it ... */
    size_t key_len;
    const char *key_hex;    /* ... unless this is set */
    unsigned char msg_byte; /* message is msg_len copies of it ... */
    size_t msg_len;
    const char *msg; /* ... unless this is set */
    const char *mac; /* hex; may be a truncated MAC */
};

/* RFC 4231 section 4. */
static const struct hmac_case sha256_cases[] = {
    {"RFC 4231 case 1", 0x0b, 20, NULL, 0, 0, "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"RFC 4231 case 2", 0, 0, "4a656665", 0, 0, "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"RFC 4231 case 3", 0xaa, 20, NULL, 0xdd, 50, NULL,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"RFC 4231 case 4", 0, 0,
     "0102030405060708090a0b0c0d0e0f10111213141516171819", 0xcd, 50, NULL,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {"RFC 4231 case 5 (128 bits)", 0x0c, 20, NULL, 0, 0, "Test With Truncation",
     "a3b6167473100ee06e0c796c2955552b"},
    {"RFC 4231 case 6", 0xaa, 131, NULL, 0, 0,
     "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {"RFC 4231 case 7", 0xaa, 131, NULL, 0, 0,
     "This is a test using a larger than block-size key and a larger than "
     "block-size data. The key needs to be hashed before being used by the "
     "HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

/* RFC 2202 section 3. */
static const struct hmac_case sha1_cases[] = {
    {"RFC 2202 case 1", 0x0b, 20, NULL, 0, 0, "Hi There",
     "b617318655057264e28bc0b6fb378c8ef146be00"},
    {"RFC 2202 case 2", 0, 0, "4a656665", 0, 0, "what do ya want for nothing?",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {"RFC 2202 case 3", 0xaa, 20, NULL, 0xdd, 50, NULL,
     "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
};

static void
run_hmac_case(const struct hmac_case *c, int sha1)
{
    unsigned char key[MAX_BYTES];
    unsigned char msg[MAX_BYTES];
    unsigned char mac[32];
    char hex[65];
    size_t keylen = c->key_len;
    size_t msglen = c->msg_len;

    if (c->key_hex != NULL) {
        keylen = unhex(c->key_hex, key);
    } else {
        memset(key, c->key_byte, keylen);
    }
    if (c->msg != NULL) {
        msglen = strlen(c->msg);
        memcpy(msg, c->msg, msglen);
    } else {
        memset(msg, c->msg_byte, msglen);
    }
    if (sha1) {
        crypto_hmac_sha1(key, keylen, msg, msglen, mac);
    } else {
        crypto_hmac_sha256(key, keylen, msg, msglen, mac);
    }
    is_str(tohex(mac, strlen(c->mac) / 2, hex), c->mac, c->name);
}

static void
test_hmac(void)
{
    unsigned char a[32];
    unsigned char b[32];
    size_t i = 0;

    for (i = 0; i < sizeof(sha256_cases) / sizeof(sha256_cases[0]); i++) {
        run_hmac_case(&sha256_cases[i], 0);
    }
    for (i = 0; i < sizeof(sha1_cases) / sizeof(sha1_cases[0]); i++) {
        run_hmac_case(&sha1_cases[i], 1);
    }

    /* an empty key is a valid key, and the same as a NULL one */
    crypto_hmac_sha256("", 0, "msg", 3, a);
    crypto_hmac_sha256(NULL, 0, "msg", 3, b);
    ok(memcmp(a, b, 32) == 0, "empty key works, NULL or not");
    crypto_hmac_sha256("k", 1, "msg", 3, b);
    ok(memcmp(a, b, 32) != 0, "a different key gives a different MAC");

    /* a message in pieces, empty ones included, is the same message */
    {
        struct crypto_span parts[4] = {
            {"what do ya ", 11}, {"", 0}, {"want for ", 9}, {"nothing?", 8}};
        char hex[65];

        crypto_hmac_sha256_spans("Jefe", 4, parts, 4, a);
        is_str(tohex(a, 32, hex),
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
               "64ec3843",
               "HMAC-SHA256 of a message in spans");
        crypto_hmac_sha256_spans("Jefe", 4, parts, 0, a);
        crypto_hmac_sha256("Jefe", 4, "", 0, b);
        ok(memcmp(a, b, 32) == 0, "no spans is the empty message");
    }
}

struct gcm_case {
    const char *name;
    const char *key;
    const char *iv;
    const char *pt;
    const char *aad;
    const char *ct;
    const char *tag;
};

#define GCM_K15                                                                \
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define GCM_P16                                                                \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"         \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_C16                                                                \
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"         \
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

/* McGrew and Viega, "The Galois/Counter Mode of Operation", test cases
 * 13 to 16 (the 256-bit key cases). */
static const struct gcm_case gcm_cases[] = {
    {"GCM test case 13",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM test case 14",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM test case 15", GCM_K15, "cafebabefacedbaddecaf888",
     GCM_P16 "1aafd255", "", GCM_C16 "898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM test case 16", GCM_K15, "cafebabefacedbaddecaf888", GCM_P16,
     "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_C16,
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

struct gcm_bytes {
    unsigned char key[32];
    unsigned char iv[MAX_BYTES];
    unsigned char pt[MAX_BYTES];
    unsigned char aad[MAX_BYTES];
    unsigned char ct[MAX_BYTES];
    unsigned char tag[16];
    size_t ivlen;
    size_t n;
    size_t aadlen;
};

static void
load_gcm(const struct gcm_case *c, struct gcm_bytes *g)
{
    unhex(c->key, g->key);
    g->ivlen = unhex(c->iv, g->iv);
    g->n = unhex(c->pt, g->pt);
    g->aadlen = unhex(c->aad, g->aad);
    unhex(c->ct, g->ct);
    unhex(c->tag, g->tag);
}

static void
run_gcm_case(const struct gcm_case *c)
{
    struct gcm_bytes g;
    unsigned char out[MAX_BYTES];
    unsigned char tag[16];
    unsigned char bad[16];
    char name[96];
    int rc = 0;

    load_gcm(c, &g);
    rc = crypto_aes256gcm_encrypt(g.key, g.iv, g.ivlen, g.aad, g.aadlen, g.pt,
                                  g.n, out, tag);
    snprintf(name, sizeof(name), "%s: encrypt", c->name);
    ok(rc == 0 && memcmp(out, g.ct, g.n) == 0 && memcmp(tag, g.tag, 16) == 0,
       name);

    memset(out, 0x55, sizeof(out));
    rc = crypto_aes256gcm_decrypt(g.key, g.iv, g.ivlen, g.aad, g.aadlen, g.ct,
                                  g.n, g.tag, out);
    snprintf(name, sizeof(name), "%s: decrypt", c->name);
    ok(rc == 0 && memcmp(out, g.pt, g.n) == 0, name);

    memcpy(bad, g.tag, 16);
    bad[15] ^= 0x01;
    memset(out, 0x55, sizeof(out));
    rc = crypto_aes256gcm_decrypt(g.key, g.iv, g.ivlen, g.aad, g.aadlen, g.ct,
                                  g.n, bad, out);
    snprintf(name, sizeof(name), "%s: flipped tag bit rejected", c->name);
    is_int(rc, ERR_CRYPTO, name);
    snprintf(name, sizeof(name), "%s: output wiped on rejection", c->name);
    ok(tap_all_zero(out, g.n), name);

    if (g.n > 0) {
        g.ct[g.n / 2] ^= 0x80;
        rc = crypto_aes256gcm_decrypt(g.key, g.iv, g.ivlen, g.aad, g.aadlen,
                                      g.ct, g.n, g.tag, out);
        snprintf(name, sizeof(name), "%s: flipped ciphertext rejected",
                 c->name);
        is_int(rc, ERR_CRYPTO, name);
        g.ct[g.n / 2] ^= 0x80;
    }
    if (g.aadlen > 0) {
        g.aad[0] ^= 0x01;
        rc = crypto_aes256gcm_decrypt(g.key, g.iv, g.ivlen, g.aad, g.aadlen,
                                      g.ct, g.n, g.tag, out);
        snprintf(name, sizeof(name), "%s: flipped AAD rejected", c->name);
        is_int(rc, ERR_CRYPTO, name);
        g.aad[0] ^= 0x01;
    }
}

static void
test_gcm(void)
{
    struct gcm_bytes g;
    unsigned char buf[MAX_BYTES];
    unsigned char tag[16];
    size_t i = 0;

    for (i = 0; i < sizeof(gcm_cases) / sizeof(gcm_cases[0]); i++) {
        run_gcm_case(&gcm_cases[i]);
    }

    /* in place, as the header allows */
    load_gcm(&gcm_cases[2], &g);
    memcpy(buf, g.pt, g.n);
    ok(crypto_aes256gcm_encrypt(g.key, g.iv, g.ivlen, NULL, 0, buf, g.n, buf,
                                tag) == 0 &&
           memcmp(buf, g.ct, g.n) == 0 && memcmp(tag, g.tag, 16) == 0,
       "encrypt in place");
    ok(crypto_aes256gcm_decrypt(g.key, g.iv, g.ivlen, NULL, 0, buf, g.n, tag,
                                buf) == 0 &&
           memcmp(buf, g.pt, g.n) == 0,
       "decrypt in place");
    is_int(
        crypto_aes256gcm_encrypt(g.key, g.iv, 0, NULL, 0, g.pt, g.n, buf, tag),
        ERR_CRYPTO, "an empty IV is refused");
}

static void
test_seal(void)
{
    unsigned char key[32];
    unsigned char key2[32];
    const char *msg = "refresh-token-0123456789";
    size_t n = strlen(msg);
    unsigned char box[64];
    unsigned char box2[64];
    unsigned char out[64];
    size_t boxlen = 0;
    size_t box2len = 0;
    size_t len = 0;
    size_t i = 0;
    int rejected = 1;

    memset(key, 0x42, sizeof(key));
    memset(key2, 0x43, sizeof(key2));
    is_int(crypto_seal(key, "users.token:1", 13, msg, n, box, sizeof(box),
                       &boxlen),
           0, "seal");
    is_int(boxlen, n + CRYPTO_SEAL_OVERHEAD, "box is 28 bytes longer");
    is_int(crypto_open(key, "users.token:1", 13, box, boxlen, out, sizeof(out),
                       &len),
           0, "open");
    ok(len == n && memcmp(out, msg, n) == 0, "open gives the plaintext");

    crypto_seal(key, "users.token:1", 13, msg, n, box2, sizeof(box2), &box2len);
    ok(memcmp(box, box2, CRYPTO_GCM_NONCE_LEN) != 0,
       "each seal draws a fresh nonce");
    ok(memcmp(box + 12, box2 + 12, n) != 0, "so ciphertexts differ");

    for (i = 0; i < boxlen; i++) {
        box[i] ^= 0x01;
        if (crypto_open(key, "users.token:1", 13, box, boxlen, out, sizeof(out),
                        &len) != ERR_CRYPTO ||
            len != 0) {
            rejected = 0;
        }
        box[i] ^= 0x01;
    }
    ok(rejected, "a flipped bit anywhere in the box is rejected");
    is_int(crypto_open(key, "users.token:2", 13, box, boxlen, out, sizeof(out),
                       &len),
           ERR_CRYPTO, "another AAD is rejected");
    is_int(crypto_open(key2, "users.token:1", 13, box, boxlen, out, sizeof(out),
                       &len),
           ERR_CRYPTO, "another key is rejected");
    is_int(crypto_open(key, "users.token:1", 13, box, boxlen - 1, out,
                       sizeof(out), &len),
           ERR_CRYPTO, "a truncated box is rejected");
    is_int(crypto_open(key, NULL, 0, box, 27, out, sizeof(out), &len),
           ERR_CRYPTO, "a box shorter than the overhead is rejected");
    is_int(crypto_open(key, NULL, 0, NULL, 0, out, sizeof(out), &len),
           ERR_CRYPTO, "an empty box is rejected");
    is_int(crypto_open(key, "users.token:1", 13, box, boxlen, out, n - 1, &len),
           ERR_TOOBIG, "open into too small a buffer");
    is_int(crypto_seal(key, NULL, 0, msg, n, box, n + 27, &len), ERR_TOOBIG,
           "seal into too small a buffer");
    is_int(len, 0, "outlen is 0 on error");

    is_int(crypto_seal(key, NULL, 0, NULL, 0, box, 28, &boxlen), 0,
           "seal of nothing");
    is_int(crypto_open(key, NULL, 0, box, boxlen, out, 0, &len), 0,
           "open of nothing");
    is_int(len, 0, "nothing comes out");
}

static void
test_ct_eq_wipe(void)
{
    unsigned char a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    unsigned char b[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    is_int(crypto_ct_eq(a, b, 8), 1, "equal buffers");
    is_int(crypto_ct_eq(a, b, 0), 1, "zero length is equal");
    b[7] = 9;
    is_int(crypto_ct_eq(a, b, 8), 0, "last byte differs");
    is_int(crypto_ct_eq(a, b, 7), 1, "only n bytes are compared");
    b[0] = 0;
    is_int(crypto_ct_eq(a, b, 8), 0, "first byte differs");

    crypto_wipe(a, sizeof(a));
    ok(tap_all_zero(a, sizeof(a)), "wipe zeroes");
    crypto_wipe(NULL, 0);
    ok(1, "wipe of NULL, 0 is a no-op");
}

int
main(void)
{
    test_sha256();
    test_hmac();
    test_gcm();
    test_seal();
    test_ct_eq_wipe();
    return done_testing();
}
