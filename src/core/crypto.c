/*
 * crypto.c - SHA-256, HMAC, constant-time compare and AES-256-GCM.
 *
 * OpenSSL's EVP calls take int lengths; inputs are fed in pieces of at
 * most CHUNK bytes so that any size_t length works.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/rng.h"

#define CHUNK (1u << 30)

void
crypto_sha256(const void *p, size_t n, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const unsigned char *q = p;
    int ok = 0;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    while (n > 0) {
        size_t k = n > CHUNK ? CHUNK : n;

        if (EVP_DigestUpdate(ctx, q, k) != 1) {
            goto out;
        }
        q += k;
        n -= k;
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
        goto out;
    }
    ok = 1;

out:
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        BUG("SHA-256 failed in OpenSSL");
    }
}

/*
 * HMAC (RFC 2104) built on the digests, fetched once: OpenSSL's own
 * EVP_MAC looks its digest up by name on every init, which costs more
 * than the MAC of a 1 KiB webhook. The digests live as long as the
 * process.
 */
#define HMAC_BLOCK 64 /* SHA-1's and SHA-256's block size */

static EVP_MD *md_sha256;
static EVP_MD *md_sha1;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void
md_fetch(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

/* Feed `n` bytes at `p` to `ctx` in pieces. Returns 1 on success. */
static int
digest_update(EVP_MD_CTX *ctx, const void *p, size_t n)
{
    const unsigned char *q = p;

    while (n > 0) {
        size_t k = n > CHUNK ? CHUNK : n;

        if (EVP_DigestUpdate(ctx, q, k) != 1) {
            return 0;
        }
        q += k;
        n -= k;
    }
    return 1;
}

/* HMAC with digest `md` (`outlen` bytes) of the `n` spans of `parts`,
 * in order, under `key`. */
static void
hmac(const EVP_MD *md, const void *key, size_t keylen,
     const struct crypto_span *parts, size_t n, unsigned char *out,
     size_t outlen)
{
    unsigned char pad[HMAC_BLOCK];
    unsigned char hashed[EVP_MAX_MD_SIZE];
    unsigned char inner[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const unsigned char *k = key;
    size_t i = 0;
    int ok = 0;

    if (ctx == NULL || md == NULL) {
        goto out;
    }
    if (keylen > HMAC_BLOCK) {
        /* a long key is replaced by its digest */
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
            !digest_update(ctx, key, keylen) ||
            EVP_DigestFinal_ex(ctx, hashed, NULL) != 1) {
            goto out;
        }
        k = hashed;
        keylen = outlen;
    }
    memset(pad, 0x36, sizeof(pad));
    for (i = 0; i < keylen; i++) {
        pad[i] ^= k[i];
    }
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, pad, sizeof(pad)) != 1) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (parts[i].n > 0 && !digest_update(ctx, parts[i].p, parts[i].n)) {
            goto out;
        }
    }
    if (EVP_DigestFinal_ex(ctx, inner, NULL) != 1) {
        goto out;
    }
    for (i = 0; i < sizeof(pad); i++) {
        pad[i] ^= 0x36 ^ 0x5c;
    }
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, pad, sizeof(pad)) != 1 ||
        EVP_DigestUpdate(ctx, inner, outlen) != 1 ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
        goto out;
    }
    ok = 1;

out:
    EVP_MD_CTX_free(ctx);
    crypto_wipe(pad, sizeof(pad));
    crypto_wipe(hashed, sizeof(hashed));
    crypto_wipe(inner, sizeof(inner));
    if (!ok) {
        BUG("HMAC failed in OpenSSL");
    }
}

void
crypto_hmac_sha256_spans(const void *key, size_t keylen,
                         const struct crypto_span *parts, size_t n,
                         unsigned char out[32])
{
    pthread_once(&md_once, md_fetch);
    hmac(md_sha256, key, keylen, parts, n, out, CRYPTO_SHA256_LEN);
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                   unsigned char out[32])
{
    struct crypto_span part = {msg, n};

    crypto_hmac_sha256_spans(key, keylen, &part, 1, out);
}

void
crypto_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t n,
                 unsigned char out[20])
{
    struct crypto_span part = {msg, n};

    pthread_once(&md_once, md_fetch);
    hmac(md_sha1, key, keylen, &part, 1, out, CRYPTO_SHA1_LEN);
}

int
crypto_ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        OPENSSL_cleanse(p, n);
    }
}

/*
 * Run `n` bytes through the cipher in pieces. With `out` NULL the input
 * is associated data. Returns 1 on success, 0 on failure.
 */
static int
cipher_update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
              size_t n)
{
    while (n > 0) {
        int k = (int)(n > CHUNK ? CHUNK : n);
        int got = 0;

        if (EVP_CipherUpdate(ctx, out, &got, in, k) != 1) {
            return 0;
        }
        if (out != NULL) {
            out += got;
        }
        in += k;
        n -= (size_t)k;
    }
    return 1;
}

/*
 * Set up `ctx` for AES-256-GCM in direction `enc` (1 encrypt, 0 decrypt)
 * with `key` and `iv`, and feed it `aad`. Returns 1 on success, else 0.
 */
static int
gcm_start(EVP_CIPHER_CTX *ctx, int enc, const unsigned char *key,
          const unsigned char *iv, size_t ivlen, const unsigned char *aad,
          size_t aadlen)
{
    if (ivlen == 0 || ivlen > CHUNK) {
        return 0;
    }
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1) {
        return 0;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) !=
        1) {
        return 0;
    }
    if (EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) != 1) {
        return 0;
    }
    return cipher_update(ctx, NULL, aad, aadlen);
}

int
crypto_aes256gcm_encrypt(const unsigned char key[32], const unsigned char *iv,
                         size_t ivlen, const unsigned char *aad, size_t aadlen,
                         const unsigned char *pt, size_t n, unsigned char *ct,
                         unsigned char tag[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char last[16];
    int got = 0;
    int rc = ERR_CRYPTO;

    if (ctx == NULL) {
        goto out;
    }
    if (!gcm_start(ctx, 1, key, iv, ivlen, aad, aadlen)) {
        goto out;
    }
    if (!cipher_update(ctx, ct, pt, n)) {
        goto out;
    }

    /* GCM is a stream mode: the final call writes nothing */
    if (EVP_CipherFinal_ex(ctx, last, &got) != 1 || got != 0) {
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN,
                            tag) != 1) {
        goto out;
    }
    rc = 0;

out:
    EVP_CIPHER_CTX_free(ctx);
    if (rc < 0) {
        crypto_wipe(ct, n);
        crypto_wipe(tag, CRYPTO_GCM_TAG_LEN);
    }
    return rc;
}

int
crypto_aes256gcm_decrypt(const unsigned char key[32], const unsigned char *iv,
                         size_t ivlen, const unsigned char *aad, size_t aadlen,
                         const unsigned char *ct, size_t n,
                         const unsigned char tag[16], unsigned char *pt)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char want[CRYPTO_GCM_TAG_LEN];
    unsigned char last[16];
    int got = 0;
    int rc = ERR_CRYPTO;

    if (ctx == NULL) {
        goto out;
    }
    if (!gcm_start(ctx, 0, key, iv, ivlen, aad, aadlen)) {
        goto out;
    }
    if (!cipher_update(ctx, pt, ct, n)) {
        goto out;
    }

    /* OpenSSL takes a non-const tag buffer; give it a copy */
    memcpy(want, tag, sizeof(want));
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN,
                            want) != 1) {
        goto out;
    }

    /* the tag is checked here; failure means the data was changed */
    if (EVP_CipherFinal_ex(ctx, last, &got) != 1 || got != 0) {
        goto out;
    }
    rc = 0;

out:
    EVP_CIPHER_CTX_free(ctx);
    if (rc < 0) {
        crypto_wipe(pt, n);
    }
    return rc;
}

int
crypto_seal(const unsigned char key[32], const void *aad, size_t aadlen,
            const void *pt, size_t n, unsigned char *out, size_t outsz,
            size_t *outlen)
{
    unsigned char *ct = NULL;
    int rc = 0;

    *outlen = 0;
    if (n > SIZE_MAX - CRYPTO_SEAL_OVERHEAD ||
        outsz < n + CRYPTO_SEAL_OVERHEAD) {
        rc = ERR_TOOBIG;
        goto out;
    }
    ct = out + CRYPTO_GCM_NONCE_LEN;
    rng_bytes(out, CRYPTO_GCM_NONCE_LEN);
    rc = crypto_aes256gcm_encrypt(key, out, CRYPTO_GCM_NONCE_LEN, aad, aadlen,
                                  pt, n, ct, ct + n);
    if (rc < 0) {
        goto out;
    }
    *outlen = n + CRYPTO_SEAL_OVERHEAD;

out:
    return rc;
}

int
crypto_open(const unsigned char key[32], const void *aad, size_t aadlen,
            const void *in, size_t n, unsigned char *out, size_t outsz,
            size_t *outlen)
{
    const unsigned char *nonce = in;
    const unsigned char *ct = NULL;
    size_t ptlen = 0;
    int rc = 0;

    *outlen = 0;
    if (n < CRYPTO_SEAL_OVERHEAD) {
        rc = ERR_CRYPTO;
        goto out;
    }
    ptlen = n - CRYPTO_SEAL_OVERHEAD;
    if (outsz < ptlen) {
        rc = ERR_TOOBIG;
        goto out;
    }
    ct = nonce + CRYPTO_GCM_NONCE_LEN;
    rc = crypto_aes256gcm_decrypt(key, nonce, CRYPTO_GCM_NONCE_LEN, aad, aadlen,
                                  ct, ptlen, ct + ptlen, out);
    if (rc < 0) {
        goto out;
    }
    *outlen = ptlen;

out:
    return rc;
}
