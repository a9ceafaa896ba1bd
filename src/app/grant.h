/*
 * grant.h - what ferry holds of a provider grant, and the OAuth client
 * it talks to the provider with.
 *
 * grant_client() turns an enabled provider into an OAuth 2.0 client with
 * absolute endpoints (SANDBOX's are paths under the public URL) and the
 * redirect URI `<public_url>/callback/<section>`. grant_seal() and
 * grant_open() are the one place the stored form of a grant is written
 * and read: one JSON document (access and refresh token, type, scope,
 * expiry in unix seconds) sealed with AES-256-GCM under the master key,
 * the user id as associated data, so a sealed grant moved to another
 * user does not open.
 */
#ifndef FERRY_APP_GRANT_H
#define FERRY_APP_GRANT_H

#include "app/app.h"
#include "core/arena.h"
#include "oauth/oauth2.h"

struct grant_client {
    struct oauth2_client oc; /* points into the buffers below */
    char authorize_url[APP_URL_MAX];
    char token_url[APP_URL_MAX];
    char revoke_url[APP_URL_MAX];   /* "" when the provider has none */
    char userinfo_url[APP_URL_MAX]; /* "" when the provider has none */
    char redirect_uri[APP_URL_MAX];
};

/* `<public_url>/callback/<section>` into `out` (`n` bytes); ERR_TOOBIG
 * when it does not fit. */
int grant_callback_url(const struct app *a, const char *section, char *out,
                       size_t n);

/* The client of `p` into `*gc` ([oauth] token_timeout_seconds for its
 * requests). ERR_CONFIG when an endpoint does not fit. */
int grant_client(const struct app *a, const struct app_provider *p,
                 struct grant_client *gc, struct err *e);

/* What a sealed grant holds; strings in the caller's arena. */
struct grant {
    const char *access_token;
    const char *refresh_token; /* NULL when none */
    const char *token_type;
    const char *scope;  /* NULL when none */
    int64_t expires_at; /* unix seconds; 0 when unknown */
};

/*
 * Seal the tokens `t`, obtained at `now` (unix microseconds), for user
 * `user_id`: `*box` (in `ar`) of `*len` bytes. ERR_NOMEM when out of
 * memory, ERR_CRYPTO when sealing fails. The plaintext is wiped.
 */
int grant_seal(const struct app *a, const char *user_id,
               const struct oauth2_tokens *t, int64_t now, struct arena *ar,
               const unsigned char **box, size_t *len);

/*
 * Open a grant sealed for `user_id` into `out` (strings in `ar`).
 * ERR_CRYPTO when the key or the user is not the one it was sealed
 * with, or it is damaged; ERR_INVALID when what it holds is not a grant.
 */
int grant_open(const struct app *a, const char *user_id,
               const unsigned char *box, size_t len, struct arena *ar,
               struct grant *out);

/*
 * Withings wraps its token answers: {"status":0,"body":{...tokens...}}.
 * The inner object of the `len` bytes at `body` into `*out` (`*out_len`
 * bytes, in `ar`); ERR_UPSTREAM when the answer is not of that form or
 * its status is not 0, ERR_NOMEM when `ar` is full. Copies the tokens
 * make on the way are wiped.
 */
int grant_unwrap_answer(const char *body, size_t len, struct arena *ar,
                        const char **out, size_t *out_len);

#endif
