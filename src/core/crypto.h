/*
 * crypto.h - the few primitives ferry needs, over OpenSSL 3's EVP API.
 *
 * Hashes and MACs cannot fail for a working OpenSSL; if one does (no
 * memory inside the library, a broken provider configuration) the void
 * functions below call BUG() rather than hand back a wrong digest. The
 * AES-GCM functions return ERR_CRYPTO instead, since they also fail for
 * reasons that are the data's fault (a tag that does not verify).
 *
 * Data at rest (provider tokens, client secrets) is stored as a sealed
 * box made by crypto_seal():
 *
 *     nonce (12 random bytes) || ciphertext (n bytes) || tag (16 bytes)
 *
 * AES-256-GCM under the server key, with caller-chosen associated data
 * that binds the box to its place (e.g. table, column and row id), so a
 * box copied to another row fails to open. Random 96-bit nonces are safe
 * for well under 2^32 seals per key.
 *
 * All pointers are borrowed for the duration of the call. A NULL pointer
 * is allowed wherever the matching length is 0.
 */
#ifndef FERRY_CORE_CRYPTO_H
#define FERRY_CORE_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN    32
#define CRYPTO_SHA1_LEN      20
#define CRYPTO_AES_KEY_LEN   32
#define CRYPTO_GCM_NONCE_LEN 12
#define CRYPTO_GCM_TAG_LEN   16

/* Bytes crypto_seal() adds to the plaintext: nonce plus tag. */
#define CRYPTO_SEAL_OVERHEAD 28

/* SHA-256 of `n` bytes at `p` into `out`. */
void crypto_sha256(const void *p, size_t n, unsigned char out[32]);

/* HMAC-SHA256 of `msg` under `key` (any length, also 0) into `out`. */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
                        size_t n, unsigned char out[32]);

/* `n` bytes at `p`: one piece of a message given in pieces. */
struct crypto_span {
    const void *p;
    size_t n;
};

/* HMAC-SHA256 under `key` of the `n` spans of `parts` one after the
 * other, as if they were one message, into `out`. */
void crypto_hmac_sha256_spans(const void *key, size_t keylen,
                              const struct crypto_span *parts, size_t n,
                              unsigned char out[32]);

/* HMAC-SHA1 of `msg` under `key` into `out`; for providers that sign
 * with it (OAuth 1.0a, some webhooks), never for anything of ours. */
void crypto_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t n,
                      unsigned char out[20]);

/*
 * 1 when the `n` bytes at `a` and `b` are equal, else 0. Takes the same
 * time wherever they differ: use it for every comparison of a secret,
 * MAC or token.
 */
int crypto_ct_eq(const void *a, const void *b, size_t n);

/* Overwrite `n` bytes at `p` with zeros in a way the compiler keeps. */
void crypto_wipe(void *p, size_t n);

/*
 * AES-256-GCM encryption of `n` bytes of `pt` into `ct` (n bytes; may be
 * the same buffer as `pt`, but must not otherwise overlap it) with the
 * 16-byte tag into `tag`. `iv` is `ivlen` bytes (12 is the standard
 * size; never reuse a key/iv pair); `aad` is authenticated, not
 * encrypted. Returns 0, or ERR_CRYPTO when OpenSSL fails or `ivlen` is
 * 0; `ct` and `tag` are zeroed then.
 */
int crypto_aes256gcm_encrypt(const unsigned char key[32],
                             const unsigned char *iv, size_t ivlen,
                             const unsigned char *aad, size_t aadlen,
                             const unsigned char *pt, size_t n,
                             unsigned char *ct, unsigned char tag[16]);

/*
 * The inverse of crypto_aes256gcm_encrypt(): decrypt `n` bytes of `ct`
 * into `pt` (same overlap rule) and check `tag` over `aad` and `ct`.
 * Returns 0, or ERR_CRYPTO when the tag does not verify or OpenSSL fails;
 * `pt` is wiped then, so unauthenticated plaintext is never seen.
 */
int crypto_aes256gcm_decrypt(const unsigned char key[32],
                             const unsigned char *iv, size_t ivlen,
                             const unsigned char *aad, size_t aadlen,
                             const unsigned char *ct, size_t n,
                             const unsigned char tag[16], unsigned char *pt);

/*
 * Seal `n` bytes of `pt` under `key` and `aad` into `out` (room for
 * `outsz` bytes, which must not overlap `pt`) in the layout described at
 * the top of this file, with a fresh random nonce; `*outlen` gets
 * n + CRYPTO_SEAL_OVERHEAD. Errors: ERR_TOOBIG when `outsz` is smaller
 * than that, ERR_CRYPTO when OpenSSL fails. `*outlen` is 0 on error.
 */
int crypto_seal(const unsigned char key[32], const void *aad, size_t aadlen,
                const void *pt, size_t n, unsigned char *out, size_t outsz,
                size_t *outlen);

/*
 * Open a box made by crypto_seal() with the same `key` and `aad`: the
 * `n` bytes at `in` give n - CRYPTO_SEAL_OVERHEAD bytes of plaintext in
 * `out` (room for `outsz` bytes; must not overlap `in`), length in
 * `*outlen`. Errors: ERR_CRYPTO when the box is shorter than the
 * overhead, was changed in any way, or belongs to another key or aad;
 * ERR_TOOBIG when `outsz` is too small. On error `*outlen` is 0 and no
 * plaintext is left in `out`.
 */
int crypto_open(const unsigned char key[32], const void *aad, size_t aadlen,
                const void *in, size_t n, unsigned char *out, size_t outsz,
                size_t *outlen);

#endif
