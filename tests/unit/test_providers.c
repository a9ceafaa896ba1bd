/*
 * test_providers.c - enabled provider sections resolved into logins.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "providers/login.h"
#include "tap.h"

/* An app over `cfg` with a fixed key, providers resolved. */
static int
load(struct app *a, struct config *cfg, struct err *e)
{
    memset(a, 0, sizeof(*a));
    a->cfg = cfg;
    memset(a->key, 7, sizeof(a->key));
    snprintf(a->public_url, sizeof(a->public_url), "http://127.0.0.1:9");
    return app_providers_load(a, e);
}

static void
unload(struct app *a)
{
    free(a->providers);
    a->providers = NULL;
    a->nproviders = 0;
}

static void
test_builtin(void)
{
    struct config cfg;
    struct config_provider *p = NULL;
    const struct app_provider *ap = NULL;
    char url[APP_URL_MAX];
    struct app a;
    struct err e;

    config_init(&cfg);
    p = config_provider_add(&cfg, "oura");
    p->client_id = strdup("cid");
    p->client_secret = strdup("cs");
    p->token_url = strdup("http://127.0.0.1:1/token");
    config_provider_add(&cfg, "sandbox");
    p = config_provider_add(&cfg, "garmin");
    p->enabled = 0;
    is_int(load(&a, &cfg, &e), 0, "built-in providers resolve");
    is_int(a.nproviders, 2, "the disabled one is left out");
    ap = app_provider(&a, "oura");
    ok(ap != NULL, "found by resource, any case");
    is_str(ap->authorize_url, "https://cloud.ouraring.com/oauth/authorize",
           "the built-in authorize endpoint");
    is_str(ap->token_url, "http://127.0.0.1:1/token", "the override wins");
    is_int(ap->auth_post, 1, "Oura takes the secret in the body");
    is_str(ap->name, "Oura", "its display name");
    ok(app_provider(&a, "GARMIN") == NULL, "disabled is not enabled");

    ap = app_provider(&a, "SANDBOX");
    is_str(ap->client_id, PROVIDER_SANDBOX_CLIENT_ID, "ferry is the client");
    is_int(strlen(ap->client_secret), 64, "a derived secret");
    is_int(ap->pkce, 1, "the sandbox wants PKCE");
    is_int(app_provider_url(&a, ap->token_url, url, sizeof(url)), 0,
           "a path endpoint");
    is_str(url, "http://127.0.0.1:9/sandbox/oauth/token",
           "goes under the public URL");
    is_int(app_provider_url(&a, ap->token_url, url, 8), ERR_TOOBIG,
           "and does not overflow");
    unload(&a);
    config_release(&cfg);
}

static void
test_generic(void)
{
    struct config cfg;
    struct config_provider *p = NULL;
    const struct app_provider *ap = NULL;
    struct app a;
    struct err e;

    config_init(&cfg);
    p = config_provider_add(&cfg, "mycorp");
    p->type = strdup("oauth2");
    p->client_id = strdup("c");
    p->authorize_url = strdup("https://id.example/auth");
    p->token_url = strdup("https://id.example/token");
    p->userinfo_url = strdup("https://id.example/me");
    p->user_id_field = strdup("sub");
    p->pkce = strdup("S256");
    p->auth_method = strdup("client_secret_post");
    is_int(load(&a, &cfg, &e), 0, "a generic provider resolves");
    ap = app_provider(&a, "MYCORP");
    is_int(ap->generic, 1, "generic");
    is_int(ap->pkce, 1, "pkce S256");
    is_int(ap->auth_post, 1, "client_secret_post");
    is_str(ap->name, "MYCORP", "named by its resource");
    unload(&a);

    free(p->pkce);
    p->pkce = strdup("plain");
    is_int(load(&a, &cfg, &e), ERR_CONFIG, "pkce plain is refused");
    ok(strstr(e.msg, "[provider mycorp]") != NULL, "naming the section");
    unload(&a);
    free(p->pkce);
    p->pkce = NULL;

    free(p->auth_method);
    p->auth_method = strdup("private_key_jwt");
    is_int(load(&a, &cfg, &e), ERR_CONFIG, "an unknown auth method");
    unload(&a);
    free(p->auth_method);
    p->auth_method = NULL;

    free(p->user_id_field);
    p->user_id_field = NULL;
    is_int(load(&a, &cfg, &e), ERR_CONFIG, "no user id field");
    ok(strstr(e.msg, "user_id_field") != NULL, "says which key");
    unload(&a);
    p->user_id_field = strdup("sub");

    free(p->token_url);
    p->token_url = NULL;
    is_int(load(&a, &cfg, &e), ERR_CONFIG, "no token endpoint");
    unload(&a);
    p->token_url = strdup("https://id.example/token");

    free(p->client_id);
    p->client_id = NULL;
    is_int(load(&a, &cfg, &e), ERR_CONFIG, "no client id");
    ok(strstr(e.msg, "client_id") != NULL, "says which key");
    unload(&a);
    config_release(&cfg);
}

static void
test_sandbox_secret(void)
{
    struct config cfg;
    struct app a;
    struct app b;
    struct err e;
    char first[65];

    config_init(&cfg);
    config_provider_add(&cfg, "sandbox");
    load(&a, &cfg, &e);
    snprintf(first, sizeof(first), "%s", a.providers[0].client_secret);
    load(&b, &cfg, &e);
    is_str(b.providers[0].client_secret, first,
           "the same key gives the same secret");
    unload(&b);
    memset(b.key, 8, sizeof(b.key));
    b.cfg = &cfg;
    app_providers_load(&b, &e);
    ok(strcmp(b.providers[0].client_secret, first) != 0,
       "another key another secret");
    unload(&a);
    unload(&b);
    config_release(&cfg);
}

int
main(void)
{
    test_builtin();
    test_generic();
    test_sandbox_secret();
    return done_testing();
}
