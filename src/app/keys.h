/*
 * keys.h - developers and their API keys.
 *
 * A key is KEYS_PREFIX followed by 32 random bytes in base64url. It is
 * shown once, when made; the store keeps only its SHA-256. Checking a key
 * compares the hash against every active key of the developer in constant
 * time, so the answer does not leak how much of a guess was right. A
 * revoked key fails from the next request on: nothing is cached.
 */
#ifndef FERRY_APP_KEYS_H
#define FERRY_APP_KEYS_H

#include "app/app.h"
#include "core/arena.h"

#define KEYS_PREFIX      "fk_"
#define KEYS_KEY_LEN     (3 + 43) /* prefix + base64url of 32 bytes */
#define KEYS_ID_LEN      (4 + 16) /* "key_" + 16 hex */
#define KEYS_DEV_ID_LEN  (4 + 20) /* "dev_" + 20 hex */
#define KEYS_NAME_MAX    128
#define KEYS_API_KEY_MAX 256 /* longer presented keys are refused */

struct keys_new {
    char dev_id[KEYS_DEV_ID_LEN + 1];
    char key_id[KEYS_ID_LEN + 1];
    char api_key[KEYS_KEY_LEN + 1]; /* the secret: wipe after showing */
};

/*
 * Create a developer called `name` and its first key. ERR_INVALID for an
 * empty, over-long or control-character name.
 */
int keys_developer_create(struct app *a, const char *name, struct keys_new *out,
                          struct err *e);

/* A new key for `dev_id`. ERR_NOTFOUND for an unknown developer. Only
 * out->key_id and out->api_key are set. */
int keys_create(struct app *a, const char *dev_id, struct keys_new *out,
                struct err *e);

/* Revoke `key_id`. ERR_NOTFOUND, or ERR_CONFLICT when already revoked. */
int keys_revoke(struct app *a, const char *key_id, struct err *e);

/*
 * 0 when `api_key` is an active key of `dev_id`, else ERR_AUTH. `ar` is
 * scratch memory for the lookup. ERR_STORE when the store fails.
 */
int keys_check(struct app *a, const char *dev_id, const char *api_key,
               struct arena *ar, struct err *e);

#endif
