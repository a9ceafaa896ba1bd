/*
 * providers.c - resolve the enabled provider sections into the logins
 * this server uses.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/xmalloc.h"
#include "http/client.h"
#include "providers/login.h"
#include "providers/registry.h"

#define SANDBOX_SECRET_LABEL "ferry sandbox client secret"

void
app_sandbox_secret(const struct app *a, char out[65])
{
    unsigned char mac[32];

    crypto_hmac_sha256(a->key, sizeof(a->key), SANDBOX_SECRET_LABEL,
                       strlen(SANDBOX_SECRET_LABEL), mac);
    codec_hex_encode(mac, sizeof(mac), out);
    crypto_wipe(mac, sizeof(mac));
}

/* A section's value, else the built-in one. */
static const char *
pick(const char *section_value, const char *builtin)
{
    return section_value != NULL ? section_value : builtin;
}

static int
parse_choices(const struct config_provider *cp, struct app_provider *p,
              struct err *e)
{
    if (cp->pkce != NULL) {
        if (strcasecmp(cp->pkce, "S256") == 0) {
            p->pkce = 1;
        } else if (strcasecmp(cp->pkce, "none") == 0) {
            p->pkce = 0;
        } else {
            return err_set(e, ERR_CONFIG,
                           "[provider %s]: pkce must be S256 or none",
                           cp->name);
        }
    }
    if (cp->auth_method != NULL) {
        if (strcmp(cp->auth_method, "client_secret_post") == 0) {
            p->auth_post = 1;
        } else if (strcmp(cp->auth_method, "client_secret_basic") == 0) {
            p->auth_post = 0;
        } else {
            return err_set(e, ERR_CONFIG,
                           "[provider %s]: auth_method must be "
                           "client_secret_basic or client_secret_post",
                           cp->name);
        }
    }
    return 0;
}

/* One enabled section into `p`. */
static int
resolve(struct app *a, const struct config_provider *cp, struct app_provider *p,
        struct err *e)
{
    const struct provider_login *l = NULL;
    const struct provider_info *info = NULL;
    static const struct provider_login none = {0};
    int sandbox = strcmp(cp->resource, "SANDBOX") == 0;

    memset(p, 0, sizeof(*p));
    p->section = cp->name;
    p->resource = cp->resource;
    p->generic = cp->type != NULL;
    if (!p->generic) {
        info = provider_lookup(cp->resource);
        l = provider_login(cp->resource);
    }
    p->name = info != NULL ? info->name : cp->resource;
    if (l == NULL) {
        l = &none;
    }
    p->authorize_url = pick(cp->authorize_url, l->authorize_url);
    p->token_url = pick(cp->token_url, l->token_url);
    p->revoke_url = pick(cp->revoke_url, l->revoke_url);
    p->userinfo_url = pick(cp->userinfo_url, l->userinfo_url);
    p->user_id_field = pick(cp->user_id_field, l->user_id_field);
    p->scopes = pick(cp->scopes, l->scopes);
    /* a generic server gets PKCE unless its section says pkce = none */
    p->pkce = p->generic ? 1 : l->pkce;
    p->auth_post = l->auth_post;
    p->quirks = l->quirks;
    p->types = l->types;
    p->client_id = cp->client_id;
    p->client_secret = cp->client_secret;

    if (p->authorize_url == NULL || p->token_url == NULL) {
        return err_set(e, ERR_CONFIG,
                       "[provider %s]: ferry has no built-in login for %s; "
                       "give authorize_url and token_url",
                       cp->name, cp->resource);
    }
    if (p->user_id_field == NULL) {
        return err_set(e, ERR_CONFIG,
                       "[provider %s]: user_id_field is required (the "
                       "field of the %s that holds the user id)",
                       cp->name,
                       p->userinfo_url != NULL
                           ? "userinfo answer"
                           : "token answer (no userinfo_url is set)");
    }
    if (sandbox) {
        /* ferry is its own client: the secret comes from the master key,
         * so every process of a deployment agrees on it */
        app_sandbox_secret(a, p->sandbox_secret);
        p->client_id = PROVIDER_SANDBOX_CLIENT_ID;
        p->client_secret = p->sandbox_secret;
    } else if (p->client_id == NULL || p->client_id[0] == '\0') {
        return err_set(e, ERR_CONFIG, "[provider %s]: client_id is required",
                       cp->name);
    }
    return parse_choices(cp, p, e);
}

int
app_providers_load(struct app *a, struct err *e)
{
    const struct config_provider *cp = NULL;
    size_t n = 0;
    int rc = 0;

    for (cp = a->cfg->providers; cp != NULL; cp = cp->next) {
        n += cp->enabled ? 1 : 0;
    }
    a->providers = n > 0 ? xcalloc(n, sizeof(*a->providers)) : NULL;
    a->nproviders = 0;
    for (cp = a->cfg->providers; cp != NULL && rc == 0; cp = cp->next) {
        if (!cp->enabled) {
            continue;
        }
        rc = resolve(a, cp, &a->providers[a->nproviders], e);
        if (rc == 0) {
            a->nproviders++;
        }
    }
    return rc;
}

const struct app_provider *
app_provider(const struct app *a, const char *resource)
{
    size_t i;

    if (resource == NULL) {
        return NULL;
    }
    for (i = 0; i < a->nproviders; i++) {
        if (strcasecmp(a->providers[i].resource, resource) == 0) {
            return &a->providers[i];
        }
    }
    return NULL;
}

int
app_provider_url(const struct app *a, const char *url, char *out, size_t n)
{
    int w = 0;

    if (url[0] == '/') {
        w = snprintf(out, n, "%s%s", a->public_url, url);
    } else {
        w = snprintf(out, n, "%s", url);
    }
    return w < 0 || (size_t)w >= n ? ERR_TOOBIG : 0;
}

int
app_start_http(struct app *a, struct err *e)
{
    if (a->http != NULL) {
        return 0;
    }
    return hclient_start(&a->http, e);
}
