/*
 * keys.c - developers and API keys.
 */
#include <stdio.h>
#include <string.h>

#include "app/keys.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/utf8.h"

static void
random_id(const char *prefix, size_t nbytes, char *out)
{
    unsigned char raw[16];
    size_t plen = strlen(prefix);

    rng_bytes(raw, nbytes);
    memcpy(out, prefix, plen);
    codec_hex_encode(raw, nbytes, out + plen);
}

static int
check_name(const char *name, struct err *e)
{
    size_t n = strlen(name);

    if (n == 0) {
        return err_set(e, ERR_INVALID, "name: must not be empty");
    }
    if (n > KEYS_NAME_MAX) {
        return err_set(e, ERR_INVALID, "name: longer than %d bytes",
                       KEYS_NAME_MAX);
    }
    if (!utf8_valid(name)) {
        return err_set(e, ERR_INVALID, "name: must be valid UTF-8");
    }
    if (utf8_has_control(name)) {
        return err_set(e, ERR_INVALID,
                       "name: must not contain control characters");
    }
    return 0;
}

/* Mint a key for `dev_id` into `out` and describe its row in `k`, which
 * borrows from `out`. */
static void
mint(const char *dev_id, struct keys_new *out, struct store_key *k)
{
    unsigned char secret[32];
    char body[RNG_TOKEN_LEN(32) + 1];

    memset(k, 0, sizeof(*k));
    random_id("key_", KEYS_ID_LEN / 2 - 2, out->key_id);
    rng_bytes(secret, sizeof(secret));
    codec_b64url_encode(secret, sizeof(secret), body, sizeof(body));
    snprintf(out->api_key, sizeof(out->api_key), "%s%s", KEYS_PREFIX, body);
    k->id = out->key_id;
    k->dev_id = dev_id;
    crypto_sha256(out->api_key, strlen(out->api_key), k->hash);
    k->hint = out->api_key + strlen(out->api_key) - 4;
    k->created_at = isotime_now_us();
    crypto_wipe(secret, sizeof(secret));
    crypto_wipe(body, sizeof(body));
}

int
keys_create(struct app *a, const char *dev_id, struct keys_new *out,
            struct err *e)
{
    struct store_key k;
    int rc = 0;

    mint(dev_id, out, &k);
    rc = store_key_create(a->store, &k, e);
    if (rc < 0) {
        crypto_wipe(out->api_key, sizeof(out->api_key));
        return rc;
    }
    log_event(LOG_INFO, "app", "key.created", "dev_id=%s key_id=%s", dev_id,
              out->key_id);
    return 0;
}

int
keys_developer_create(struct app *a, const char *name, struct keys_new *out,
                      struct err *e)
{
    struct store_developer d;
    struct store_key k;
    int rc = 0;

    rc = check_name(name, e);
    if (rc < 0) {
        return rc;
    }
    memset(&d, 0, sizeof(d));
    random_id("dev_", KEYS_DEV_ID_LEN / 2 - 2, out->dev_id);
    d.id = out->dev_id;
    d.name = name;
    d.created_at = isotime_now_us();
    mint(out->dev_id, out, &k);
    /* the developer and its first key are one write: never one alone */
    rc = store_developer_create(a->store, &d, &k, e);
    if (rc < 0) {
        crypto_wipe(out->api_key, sizeof(out->api_key));
        return rc;
    }
    log_event(LOG_INFO, "app", "developer.created", "dev_id=%s key_id=%s",
              out->dev_id, out->key_id);
    return 0;
}

int
keys_revoke(struct app *a, const char *key_id, struct err *e)
{
    int rc = store_key_revoke(a->store, key_id, isotime_now_us(), e);

    if (rc == 0) {
        log_event(LOG_INFO, "app", "key.revoked", "key_id=%s", key_id);
    }
    return rc;
}

int
keys_check(struct app *a, const char *dev_id, const char *api_key,
           struct arena *ar, struct err *e)
{
    unsigned char hash[32];
    unsigned char(*active)[32] = NULL;
    size_t n = 0;
    size_t i = 0;
    int match = 0;
    int rc = 0;

    if (strlen(api_key) > KEYS_API_KEY_MAX) {
        return err_set(e, ERR_AUTH, "invalid dev-id or x-api-key");
    }
    rc = store_key_active_hashes(a->store, dev_id, ar, &active, &n, e);
    if (rc < 0) {
        return rc;
    }
    crypto_sha256(api_key, strlen(api_key), hash);
    /* look at every key, so the time taken does not say which matched */
    for (i = 0; i < n; i++) {
        match |= crypto_ct_eq(hash, active[i], sizeof(hash));
    }
    if (!match) {
        return err_set(e, ERR_AUTH, "invalid dev-id or x-api-key");
    }
    return 0;
}
