/*
 * grant.c - the OAuth client of a provider and the stored grant (see
 * grant.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/grant.h"
#include "core/crypto.h"

int
grant_callback_url(const struct app *a, const char *section, char *out,
                   size_t n)
{
    int w = snprintf(out, n, "%s/callback/%s", a->public_url, section);

    return w < 0 || (size_t)w >= n ? ERR_TOOBIG : 0;
}

/* `url` of the provider (may be NULL) made absolute in `out`. */
static int
endpoint(const struct app *a, const char *url, char *out, size_t n)
{
    out[0] = '\0';
    return url == NULL ? 0 : app_provider_url(a, url, out, n);
}

int
grant_client(const struct app *a, const struct app_provider *p,
             struct grant_client *gc, struct err *e)
{
    struct oauth2_client *oc = &gc->oc;

    memset(gc, 0, sizeof(*gc));
    if (endpoint(a, p->authorize_url, gc->authorize_url,
                 sizeof(gc->authorize_url)) < 0 ||
        endpoint(a, p->token_url, gc->token_url, sizeof(gc->token_url)) < 0 ||
        endpoint(a, p->revoke_url, gc->revoke_url, sizeof(gc->revoke_url)) <
            0 ||
        endpoint(a, p->userinfo_url, gc->userinfo_url,
                 sizeof(gc->userinfo_url)) < 0 ||
        grant_callback_url(a, p->section, gc->redirect_uri,
                           sizeof(gc->redirect_uri)) < 0) {
        return err_set(e, ERR_CONFIG, "[provider %s]: an endpoint is too long",
                       p->section);
    }
    oc->authorize_url = gc->authorize_url;
    oc->token_url = gc->token_url;
    oc->revoke_url = gc->revoke_url[0] != '\0' ? gc->revoke_url : NULL;
    oc->client_id = p->client_id;
    oc->client_secret = p->client_secret;
    oc->redirect_uri = gc->redirect_uri;
    oc->scopes = p->scopes;
    oc->pkce = p->pkce;
    oc->auth_post = p->auth_post;
    oc->timeout_ms = (long)a->cfg->oauth_token_timeout_seconds * 1000;
    return 0;
}

int
grant_seal(const struct app *a, const char *user_id,
           const struct oauth2_tokens *t, int64_t now, struct arena *ar,
           const unsigned char **box, size_t *len)
{
    json_t *o = json_pack(
        "{s:s, s:s?, s:s, s:s?, s:I}", "access_token", t->access_token,
        "refresh_token", t->refresh_token, "token_type", t->token_type, "scope",
        t->scope, "expires_at",
        (json_int_t)(t->expires_in > 0 ? now / 1000000 + t->expires_in : 0));
    unsigned char *out = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc = ERR_NOMEM;

    *box = NULL;
    *len = 0;
    if (o != NULL) {
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    if (text == NULL) {
        return ERR_NOMEM;
    }
    n = strlen(text);
    out = arena_alloc(ar, n + CRYPTO_SEAL_OVERHEAD);
    if (out != NULL) {
        rc = crypto_seal(a->key, user_id, strlen(user_id), text, n, out,
                         n + CRYPTO_SEAL_OVERHEAD, len);
    }
    crypto_wipe(text, n);
    free(text);
    if (rc == 0) {
        *box = out;
    }
    return rc;
}

/* Field `name` of `o` as an arena string, or NULL. */
static const char *
field(json_t *o, const char *name, struct arena *ar)
{
    const char *s = json_string_value(json_object_get(o, name));

    return s != NULL ? arena_strdup(ar, s) : NULL;
}

int
grant_open(const struct app *a, const char *user_id, const unsigned char *box,
           size_t len, struct arena *ar, struct grant *out)
{
    unsigned char *plain = arena_alloc(ar, len + 1);
    json_t *o = NULL;
    size_t n = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (plain == NULL) {
        return ERR_NOMEM;
    }
    rc =
        crypto_open(a->key, user_id, strlen(user_id), box, len, plain, len, &n);
    if (rc < 0) {
        return rc;
    }
    o = json_loadb((const char *)plain, n, 0, NULL);
    crypto_wipe(plain, len);
    out->access_token = field(o, "access_token", ar);
    out->refresh_token = field(o, "refresh_token", ar);
    out->token_type = field(o, "token_type", ar);
    out->scope = field(o, "scope", ar);
    out->expires_at = json_integer_value(json_object_get(o, "expires_at"));
    json_decref(o);
    return out->access_token == NULL ? ERR_INVALID : 0;
}

int
grant_unwrap_answer(const char *body, size_t len, struct arena *ar,
                    const char **out, size_t *out_len)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *inner = json_object_get(root, "body");
    json_t *status = json_object_get(root, "status");
    char *text = NULL;
    int rc = ERR_UPSTREAM;

    if (json_is_object(inner) && json_is_integer(status) &&
        json_integer_value(status) == 0) {
        text = json_dumps(inner, JSON_COMPACT);
    }
    if (text != NULL) {
        *out_len = strlen(text);
        *out = arena_strndup(ar, text, *out_len);
        crypto_wipe(text, *out_len);
        free(text);
        rc = *out == NULL ? ERR_NOMEM : 0;
    }
    json_decref(root);
    return rc;
}
