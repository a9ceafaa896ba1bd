/*
 * app.c - open the store, load the master key, check providers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "deliver/deliver.h"
#include "pipeline/pipeline.h"
#include "app/destinations.h"
#include "app/grant.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/rng.h"
#include "http/client.h"
#include "http/url.h"
#include "providers/registry.h"

/* Every provider section must name a provider ferry knows, or be a
 * generic one. */
static int
check_providers(const struct config *cfg, struct err *e)
{
    const struct config_provider *p = NULL;

    for (p = cfg->providers; p != NULL; p = p->next) {
        if (p->type != NULL) {
            continue;
        }
        if (provider_lookup(p->resource) == NULL) {
            return err_set(e, ERR_CONFIG,
                           "[provider %s]: unknown provider (add "
                           "'type = oauth2' for a generic OAuth 2.0 "
                           "provider)",
                           p->name);
        }
    }
    return 0;
}

/* Parse a key file's contents: 32 raw bytes or 64 hex digits (one
 * trailing newline allowed). */
static int
all_hex(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (codec_hex_digit((char)p[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

static int
parse_key(const unsigned char *p, size_t n, unsigned char key[32])
{
    size_t len = 0;

    if (n == 32 && !all_hex(p, 32)) {
        /* 32 hex digits are a hex key cut short, not a raw key */
        memcpy(key, p, 32);
        return 0;
    }
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
        n--;
    }
    if (n != 64 || codec_hex_decode((const char *)p, n, key, 32, &len) < 0 ||
        len != 32) {
        return ERR_INVALID;
    }
    return 0;
}

static int
create_key(const char *path, unsigned char key[32], struct err *e)
{
    char hex[65];
    int fd = -1;
    int rc = 0;

    rng_bytes(key, 32);
    codec_hex_encode(key, 32, hex);
    hex[64] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "[security] key_file %s: cannot create: %s",
                     path, strerror(errno));
        goto out;
    }
    if (write(fd, hex, sizeof(hex)) != (ssize_t)sizeof(hex) || fsync(fd) < 0) {
        rc = err_set(e, ERR_IO, "[security] key_file %s: cannot write: %s",
                     path, strerror(errno));
        unlink(path);
        goto out;
    }
    log_event(LOG_INFO, "app", "key_file.created", "path=%s", path);

out:
    if (fd >= 0) {
        close(fd);
    }
    crypto_wipe(hex, sizeof(hex));
    return rc;
}

#define KEY_CHECK_NAME "key_check"
#define KEY_CHECK_TEXT "ferry master key check"
#define SEALED_ARENA   ((size_t)64 << 20) /* every destination in use */

/* What the store holds sealed with the master key: provider tokens
 * (counted) and destinations in use (secret and settings; listed into
 * `ar`). */
struct sealed {
    int64_t tokens;
    struct store_destination *dests;
    size_t ndests;
};

static int
sealed_get(struct app *a, struct arena *ar, struct sealed *s, struct err *e)
{
    int rc = store_token_count(a->store, &s->tokens, e);

    s->dests = NULL;
    s->ndests = 0;
    if (rc < 0) {
        return rc;
    }
    return store_destination_list(a->store, NULL, 0, ar, &s->dests, &s->ndests,
                                  e);
}

/* 1 when the store has a key check (a key was set up for it), 0 when
 * not, or a negative ERR_*; the sealed check into `ar`. */
static int
key_check_get(struct app *a, struct arena *ar, const unsigned char **box,
              size_t *len, struct err *e)
{
    int rc = store_setting_get(a->store, KEY_CHECK_NAME, ar, box, len, e);

    if (rc == ERR_NOTFOUND) {
        return 0;
    }
    return rc < 0 ? rc : 1;
}

/*
 * The key file is not there. With anything sealed in the store it is an
 * error (nothing could be opened again), and so it is when the store
 * was set up with a key already (its key check): the command most
 * likely runs from another directory than the server, whose key a new
 * one would split the store from. Else the key is made (`*created`).
 */
static int
key_missing(struct app *a, int *created, struct err *e)
{
    const char *path = a->cfg->security_key_file;
    const unsigned char *box = NULL;
    char buf[PATH_MAX + 64];
    struct sealed s;
    struct arena ar;
    size_t len = 0;
    int rc = 0;

    arena_init(&ar, SEALED_ARENA);
    rc = sealed_get(a, &ar, &s, e);
    if (rc == 0 && (s.tokens > 0 || s.ndests > 0)) {
        rc = err_set(e, ERR_CONFIG,
                     "[security] key_file %s is missing but the store "
                     "holds %lld encrypted tokens and %zu destinations "
                     "sealed with it: restore the key file (a relative "
                     "key_file is taken from the working directory)",
                     config_path_shown(path, buf, sizeof(buf)),
                     (long long)s.tokens, s.ndests);
    }
    if (rc == 0) {
        rc = key_check_get(a, &ar, &box, &len, e);
    }
    arena_release(&ar);
    if (rc < 0) {
        return rc;
    }
    if (rc == 1) {
        return err_set(e, ERR_CONFIG,
                       "[security] key_file %s is missing but the store was "
                       "set up with a key: restore it, or run where the "
                       "server runs (a relative key_file is taken from the "
                       "working directory); to start over with a new key "
                       "when it is lost, see the README (Back up)",
                       config_path_shown(path, buf, sizeof(buf)));
    }
    rc = create_key(path, a->key, e);
    *created = rc == 0;
    return rc;
}

static int
load_key(struct app *a, int *created, struct err *e)
{
    const char *path = a->cfg->security_key_file;
    unsigned char raw[130];
    struct stat st;
    ssize_t n = 0;
    int fd = -1;
    int rc = 0;

    /* O_NONBLOCK: a FIFO named as the key file must not hang start-up */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        rc = key_missing(a, created, e);
        goto out;
    }
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "[security] key_file %s: %s", path,
                     strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(e, ERR_CONFIG,
                     "[security] key_file %s: not a regular file", path);
        goto out;
    }
    n = read(fd, raw, sizeof(raw));
    /* a file that fills `raw` is longer than any key file */
    if (n < 0 || n == (ssize_t)sizeof(raw) ||
        parse_key(raw, (size_t)n, a->key) < 0) {
        rc = err_set(e, ERR_CONFIG,
                     "[security] key_file %s: expected 32 raw bytes or 64 "
                     "hex digits",
                     path);
        goto out;
    }

out:
    if (fd >= 0) {
        close(fd);
    }
    crypto_wipe(raw, sizeof(raw));
    if (rc == 0) {
        a->have_key = 1;
    }
    return rc;
}

/*
 * Whether the key opens a stored token: 1 yes, 0 no, negative on a store
 * failure. The first of the connected users that has one is tried.
 */
static int
key_opens_a_token(struct app *a, struct arena *ar, struct err *e)
{
    struct store_user_query q = {0};
    struct store_user *us = NULL;
    const unsigned char *box = NULL;
    struct grant g;
    size_t n = 0;
    size_t len = 0;
    int64_t exp = 0;
    size_t i;
    int rc = 0;

    q.limit = 64;
    rc = store_user_list(a->store, &q, ar, &us, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        if (store_token_get(a->store, us[i].id, ar, &box, &len, &exp, NULL) ==
            0) {
            return grant_open(a, us[i].id, box, len, ar, &g) != ERR_CRYPTO;
        }
    }
    /* tokens, but none of a connected user among the first: no verdict
     * from here, which the caller takes as a mismatch */
    return rc < 0 ? rc : 0;
}

/* 1 when the key opens destination `d`'s secret and settings, else 0. */
static int
key_opens_destination(struct app *a, const struct store_destination *d)
{
    char secret[DELIVER_SECRET_MAX];
    char previous[DELIVER_SECRET_MAX];
    json_t *conf = NULL;
    struct err ignored;
    int rc = destinations_open(a, d, 0, secret, previous, &conf, &ignored);

    crypto_wipe(secret, sizeof(secret));
    crypto_wipe(previous, sizeof(previous));
    json_decref(conf);
    return rc == 0;
}

/* 1 when the key opens what the store holds sealed (`s`, read into
 * `ar`): a token, else the first destination; 0 when it does not or
 * nothing is sealed. */
static int
key_opens_sealed(struct app *a, struct arena *ar, struct sealed *s,
                 struct err *e)
{
    int rc = sealed_get(a, ar, s, e);

    if (rc < 0) {
        return rc;
    }
    if (s->tokens > 0) {
        return key_opens_a_token(a, ar, e);
    }
    if (s->ndests > 0) {
        return key_opens_destination(a, &s->dests[0]);
    }
    return 0;
}

/* 1 when the key opens the sealed key check `box`, else 0. */
static int
key_opens_check(struct app *a, const unsigned char *box, size_t len)
{
    unsigned char plain[64];
    size_t n = 0;
    int rc = crypto_open(a->key, KEY_CHECK_NAME, strlen(KEY_CHECK_NAME), box,
                         len, plain, sizeof(plain), &n);

    crypto_wipe(plain, sizeof(plain));
    return rc == 0;
}

/*
 * The store remembers a value sealed with the master key (the key
 * check). A key that opens it is the right one. One that does not is
 * refused, except by `serve` and `demo` when what is sealed proves it
 * (the check damaged): then the check is written again. Without a check
 * (a new store, or one from before it), what is sealed must open; the
 * check is then added, and only by the first of processes doing so at
 * once: one that loses with another key is refused. A key file made
 * for this open (`created`) is removed again when it is refused.
 */
static int
key_check(struct app *a, int flags, int created, struct err *e)
{
    const char *path = a->cfg->security_key_file;
    const unsigned char *box = NULL;
    unsigned char check[sizeof(KEY_CHECK_TEXT) - 1 + CRYPTO_SEAL_OVERHEAD];
    char buf[PATH_MAX + 64];
    size_t len = 0;
    size_t n = 0;
    struct sealed s;
    struct arena ar;
    int found = 0;
    int proven = 0;
    int rc = 0;

    arena_init(&ar, SEALED_ARENA);
    rc = key_check_get(a, &ar, &box, &len, e);
    if (rc < 0) {
        goto out;
    }
    found = rc == 1;
    if (found && key_opens_check(a, box, len)) {
        rc = 0;
        goto out;
    }
    rc = proven = key_opens_sealed(a, &ar, &s, e);
    if (rc < 0) {
        goto out;
    }
    if (!proven && (s.tokens > 0 || s.ndests > 0)) {
        rc = err_set(e, ERR_CONFIG,
                     "[security] key_file %s is not the key the %lld "
                     "encrypted tokens and %zu destinations in the store "
                     "were sealed with: restore the right key file",
                     config_path_shown(path, buf, sizeof(buf)),
                     (long long)s.tokens, s.ndests);
        goto out;
    }
    if (found && (!proven || !(flags & APP_CREATE_STORE))) {
        rc = err_set(e, ERR_CONFIG,
                     "[security] key_file %s is not the key this store was "
                     "set up with: name the server's key file",
                     config_path_shown(path, buf, sizeof(buf)));
        goto out;
    }
    rc = crypto_seal(a->key, KEY_CHECK_NAME, strlen(KEY_CHECK_NAME),
                     KEY_CHECK_TEXT, strlen(KEY_CHECK_TEXT), check,
                     sizeof(check), &n);
    if (rc < 0) {
        rc = err_set(e, ERR_CRYPTO, "cannot seal the key check");
        goto out;
    }
    if (found) {
        log_event(LOG_WARN, "app", "key.check_renewed", "tokens=%lld",
                  (long long)s.tokens);
        rc = store_setting_put(a->store, KEY_CHECK_NAME, check, n, e);
        goto out;
    }
    rc = store_setting_add(a->store, KEY_CHECK_NAME, check, n, e);
    if (rc == ERR_CONFLICT) {
        /* another process set the store up meanwhile: with this key? */
        rc = key_check_get(a, &ar, &box, &len, e);
        if (rc == 1 && key_opens_check(a, box, len)) {
            rc = 0;
        } else if (rc >= 0) {
            rc = err_set(e, ERR_CONFIG,
                         "[security] key_file %s is not the key another "
                         "process set this store up with just now: name "
                         "the server's key file",
                         config_path_shown(path, buf, sizeof(buf)));
        }
    }

out:
    if (rc < 0 && created) {
        /* a key no store was set up with: not left to be found later */
        unlink(path);
    }
    arena_release(&ar);
    return rc;
}

/* [server] public_url is what browsers are sent to: an http(s) URL with
 * a host and nothing after the path. */
static int
check_public_url(const char *u, struct err *e)
{
    int rc = 0;

    if (u == NULL || u[0] == '\0') {
        return 0;
    }
    if (strlen(u) > APP_PUBLIC_URL_MAX) {
        return err_set(e, ERR_CONFIG,
                       "[server] public_url: longer than %d bytes",
                       APP_PUBLIC_URL_MAX);
    }
    if (strncasecmp(u, "http://", 7) != 0 &&
        strncasecmp(u, "https://", 8) != 0) {
        return err_set(e, ERR_CONFIG,
                       "[server] public_url: expected http://HOST[:PORT]"
                       "[/PATH] or https://...");
    }
    rc = url_check_redirect("[server] public_url", u, e);
    if (rc == 0 && strpbrk(u, "?#") != NULL) {
        rc = err_set(e, ERR_INVALID,
                     "[server] public_url: must not have a query or "
                     "fragment");
    }
    if (rc < 0) {
        /* the URL is configuration, not a request's input */
        if (e != NULL) {
            e->code = ERR_CONFIG;
        }
        return ERR_CONFIG;
    }
    return 0;
}

int
app_open(struct app *a, struct config *cfg, int flags, struct err *e)
{
    struct store_options so;
    int applied = 0;
    int rc = 0;

    memset(a, 0, sizeof(*a));
    a->cfg = cfg;
    rc = check_public_url(cfg->server_public_url, e);
    if (rc == 0) {
        rc = check_providers(cfg, e);
    }
    if (rc < 0) {
        goto out;
    }
    memset(&so, 0, sizeof(so));
    so.busy_timeout_ms = cfg->store_busy_timeout_ms;
    so.existing = !(flags & APP_CREATE_STORE);
    rc = store_open(&a->store, cfg->store_url, &so, e);
    if (rc < 0) {
        goto out;
    }
    rc = store_migrate(a->store, &applied, e);
    if (rc < 0) {
        goto out;
    }
    if (applied > 0) {
        log_event(LOG_INFO, "app", "store.migrated", "applied=%d", applied);
    }
    if (flags & APP_NEED_KEY) {
        int created = 0;

        rc = load_key(a, &created, e);
        if (rc == 0) {
            rc = key_check(a, flags, created, e);
        }
    }
    if (rc == 0) {
        rc = app_providers_load(a, e);
    }

out:
    if (rc < 0) {
        app_close(a);
    }
    return rc;
}

void
app_close(struct app *a)
{
    /* jobs first: they add events and use the store */
    pipeline_stop(a->pipeline);
    a->pipeline = NULL;
    /* no new deliveries; those in flight end when the client stops,
     * and their outcomes are written before the store closes */
    deliver_stop(a->deliver);
    /* in-flight requests may still write: stop them before the store */
    hclient_stop(a->http);
    a->http = NULL;
    deliver_free(a->deliver);
    a->deliver = NULL;
    free(a->providers);
    a->providers = NULL;
    a->nproviders = 0;
    store_free(a->store);
    a->store = NULL;
    crypto_wipe(a->key, sizeof(a->key));
    a->have_key = 0;
}

void
app_set_public_url(struct app *a, const char *bound_addr)
{
    const char *u = a->cfg->server_public_url;
    size_t n = 0;

    if (u != NULL && u[0] != '\0') {
        snprintf(a->public_url, sizeof(a->public_url), "%s", u);
    } else {
        snprintf(a->public_url, sizeof(a->public_url), "http://%s", bound_addr);
    }
    n = strlen(a->public_url);
    while (n > 0 && a->public_url[n - 1] == '/') {
        a->public_url[--n] = '\0';
    }
}

int
app_provider_enabled(const struct app *a, const char *resource)
{
    const struct config_provider *p = config_provider(a->cfg, resource);

    if (p == NULL || !p->enabled) {
        return 0;
    }
    return p->type != NULL || provider_lookup(p->resource) != NULL;
}

int
app_start_deliver(struct app *a, struct err *e)
{
    return deliver_start(&a->deliver, a, e);
}

int
app_start_pipeline(struct app *a, struct err *e)
{
    return pipeline_start(&a->pipeline, a, e);
}
