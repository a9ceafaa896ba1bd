/*
 * app.h - the running ferry: configuration, store, master key, providers.
 *
 * One `struct app` is built by a command (serve, demo, migrate, the admin
 * commands) and handed to everything above the store. After app_open()
 * it is read-only, so request threads share it freely.
 */
#ifndef FERRY_APP_APP_H
#define FERRY_APP_APP_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

#define APP_URL_MAX        512
#define APP_PUBLIC_URL_MAX 256 /* leaves room for the paths after it */

/*
 * An enabled provider as this server logs users in to it: the built-in
 * facts (providers/login.h) with the section's overrides, or a generic
 * provider's section. Strings are borrowed from the configuration or
 * static. An endpoint that starts with '/' is a path under public_url
 * (the SANDBOX provider's): use app_provider_url().
 */
struct app_provider {
    const char *section;  /* "oura" */
    const char *resource; /* "OURA" */
    const char *name;     /* "Oura", or the resource of a generic one */
    int generic;          /* a `type = oauth2` section */
    const char *authorize_url;
    const char *token_url;
    const char *revoke_url;    /* NULL when there is none */
    const char *userinfo_url;  /* NULL: the user id is in the token answer */
    const char *user_id_field; /* dotted path */
    const char *client_id;
    const char *client_secret; /* may be NULL */
    const char *scopes;        /* as the provider joins them; may be NULL */
    int pkce;
    int auth_post;
    unsigned quirks;         /* enum provider_quirk */
    unsigned types;          /* enum provider_type: its data types */
    char sandbox_secret[65]; /* SANDBOX: the client secret ferry uses */
};

struct app {
    struct config *cfg;    /* borrowed; outlives the app */
    struct store *store;   /* owned */
    unsigned char key[32]; /* master key for data at rest; wiped */
    int have_key;
    char public_url[APP_URL_MAX];   /* no trailing slash */
    struct app_provider *providers; /* the enabled ones, section order */
    size_t nproviders;
    struct hclient *http;      /* outbound HTTP; NULL until app_start_http() */
    struct deliver *deliver;   /* NULL until app_start_deliver() */
    struct pipeline *pipeline; /* NULL until the pipeline starts */
    int demo;                  /* `ferry demo`: the demo inbox is mounted */
};

enum app_open_flags {
    APP_NEED_KEY = 1,     /* load or create [security] key_file */
    APP_CREATE_STORE = 2, /* create the store when it is not there */
};

/*
 * Check the provider sections of `cfg`, open and migrate the store (one
 * that is not there is created with APP_CREATE_STORE, and ERR_NOTFOUND
 * without it, so a command run from the wrong directory does not start
 * an empty store of its own) and,
 * with APP_NEED_KEY, load the master key (creating it, mode 0600, when
 * the file is absent and the store holds no tokens; a missing file with
 * tokens stored is an error). On failure everything opened is closed.
 */
int app_open(struct app *a, struct config *cfg, int flags, struct err *e);

/* Close the store and wipe the key. */
void app_close(struct app *a);

/* Set public_url from [server] public_url, or from the bound address
 * (`http://ADDR`) when that key is unset. */
void app_set_public_url(struct app *a, const char *bound_addr);

/* 1 when `resource` (any case) is a provider enabled on this server. */
int app_provider_enabled(const struct app *a, const char *resource);

/* The enabled provider `resource` (any case) or NULL. Borrowed. */
const struct app_provider *app_provider(const struct app *a,
                                        const char *resource);

/*
 * Resolve the enabled provider sections into a->providers (called by
 * app_open()). ERR_CONFIG naming the section when one cannot work: no
 * built-in login and no endpoints, a generic one without authorize_url,
 * token_url or a way to find the user id, a bad pkce or auth_method
 * value, missing client credentials.
 */
int app_providers_load(struct app *a, struct err *e);

/*
 * `url` of `p` as an absolute URL: a path is put under public_url.
 * Into `out` (`n` bytes); ERR_TOOBIG when it does not fit.
 */
int app_provider_url(const struct app *a, const char *url, char *out, size_t n);

/*
 * The client secret of ferry at its own SANDBOX server: the lower-case
 * hex of HMAC-SHA256(master key, "ferry sandbox client secret"), 64
 * characters and a NUL, so every process of a deployment agrees. A
 * secret: wipe it when done. Never fails.
 */
void app_sandbox_secret(const struct app *a, char out[65]);

/* Start the outbound HTTP client (serve and demo need it). */
int app_start_http(struct app *a, struct err *e);

/* Start delivering events (after app_start_http()); app_close() stops
 * it first. */
int app_start_deliver(struct app *a, struct err *e);

/* Start the data pipeline's workers; app_close() stops them before the
 * store. */
int app_start_pipeline(struct app *a, struct err *e);

#endif
