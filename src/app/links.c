/*
 * links.c - validate and store widget sessions.
 */
#include <ctype.h>
#include <string.h>

#include "app/links.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "http/url.h"
#include "core/utf8.h"
#include "providers/registry.h"

static int
check_text(const char *field, const char *s, size_t max, struct err *e)
{
    if (strlen(s) > max) {
        return err_set(e, ERR_INVALID, "%s: longer than %zu bytes", field, max);
    }
    if (!utf8_valid(s)) {
        return err_set(e, ERR_INVALID, "%s: must be valid UTF-8", field);
    }
    if (utf8_has_control(s)) {
        return err_set(e, ERR_INVALID,
                       "%s: must not contain control characters", field);
    }
    return 0;
}

int
links_check_reference(const char *reference_id, struct err *e)
{
    return check_text("reference_id", reference_id, LINKS_REFERENCE_MAX, e);
}

static int
check_language(const char *s, struct err *e)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n == 0 || n > LINKS_LANGUAGE_MAX) {
        return err_set(e, ERR_INVALID,
                       "language: expected a language tag such as 'en' or "
                       "'pt-BR'");
    }
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
            return err_set(e, ERR_INVALID,
                           "language: expected a language tag such as 'en' "
                           "or 'pt-BR'");
        }
    }
    return 0;
}

/* Append `name` to `out` unless it is already there. */
static int
add_unique(struct buf *out, const char *name)
{
    const char *p = buf_str(out);
    size_t n = strlen(name);

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

        if (len == n && strncmp(p, name, n) == 0) {
            return 0;
        }
        p += len + (end != NULL);
    }
    if (out->len > 0 && buf_addch(out, ',') < 0) {
        return ERR_TOOBIG;
    }
    return buf_addstr(out, name);
}

/*
 * Resolve the `providers` request field into the comma-separated list of
 * enabled resources to offer, in the order asked.
 */
static int
pick_providers(struct app *a, const char *asked, struct buf *out, struct err *e)
{
    const struct config_provider *p = NULL;
    const char *s = asked;
    char name[64];

    if (asked == NULL || asked[strspn(asked, " ,")] == '\0') {
        for (p = a->cfg->providers; p != NULL; p = p->next) {
            if (app_provider_enabled(a, p->resource)) {
                add_unique(out, p->resource);
            }
        }
        if (out->len == 0) {
            return err_set(e, ERR_INVALID,
                           "providers: no provider is enabled on this "
                           "server");
        }
        return 0;
    }
    while (*s != '\0') {
        size_t len = 0;
        size_t i = 0;

        s += strspn(s, " ,");
        len = strcspn(s, ",");
        while (len > 0 && s[len - 1] == ' ') {
            len--;
        }
        if (len == 0) {
            s += strcspn(s, ",");
            continue;
        }
        if (len >= sizeof(name)) {
            return err_set(e, ERR_INVALID,
                           "providers: unknown provider '%.*s...'", 32, s);
        }
        for (i = 0; i < len; i++) {
            name[i] = (char)toupper((unsigned char)s[i]);
        }
        name[len] = '\0';
        s += strcspn(s, ",");
        p = config_provider(a->cfg, name);
        if (provider_lookup(name) == NULL && (p == NULL || p->type == NULL)) {
            return err_set(e, ERR_INVALID, "providers: unknown provider '%s'",
                           name);
        }
        if (app_provider_enabled(a, name) && add_unique(out, name) < 0) {
            return err_set(e, ERR_INVALID, "providers: list too long");
        }
    }
    if (out->len == 0) {
        return err_set(e, ERR_INVALID,
                       "providers: none of the requested providers is "
                       "enabled on this server");
    }
    return 0;
}

static int
check_request(struct app *a, const struct links_request *req, long *expires,
              struct err *e)
{
    const struct config *c = a->cfg;
    int rc = 0;

    if (req->reference_id != NULL) {
        rc = check_text("reference_id", req->reference_id, LINKS_REFERENCE_MAX,
                        e);
        if (rc < 0) {
            return rc;
        }
    }
    if (req->language != NULL) {
        rc = check_language(req->language, e);
        if (rc < 0) {
            return rc;
        }
    }
    if (req->success_url != NULL) {
        rc = url_check_redirect("auth_success_redirect_url", req->success_url,
                                e);
        if (rc < 0) {
            return rc;
        }
    }
    if (req->failure_url != NULL) {
        rc = url_check_redirect("auth_failure_redirect_url", req->failure_url,
                                e);
        if (rc < 0) {
            return rc;
        }
    }
    *expires =
        req->expires_given ? req->expires_in : c->links_default_expires_in;
    if (*expires < c->links_min_expires_in ||
        *expires > c->links_max_expires_in) {
        return err_set(e, ERR_INVALID,
                       "expires_in: must be between %ld and %ld seconds",
                       c->links_min_expires_in, c->links_max_expires_in);
    }
    return 0;
}

/* The row of the session `w->out` describes, for `kind`, from `req`
 * (borrowed) and the URL token `token`. */
static void
fill_row(struct links_widget *w, const char *kind, const char *token,
         const struct links_request *req, int64_t now)
{
    struct store_session *ss = &w->row;

    ss->id = w->out.session_id;
    ss->dev_id = w->dev_id;
    ss->kind = kind;
    crypto_sha256(token, strlen(token), ss->token_hash);
    ss->reference_id = req->reference_id;
    ss->providers = w->out.providers;
    ss->language = req->language;
    ss->success_url = req->success_url;
    ss->failure_url = req->failure_url;
    ss->created_at = now;
    ss->expires_at = now + (int64_t)w->out.expires_in * 1000000;
}

int
links_prepare_widget(struct app *a, const char *dev_id,
                     const struct links_request *req, struct arena *ar,
                     struct links_widget *w, struct err *e)
{
    struct links_session *out = &w->out;
    struct buf providers;
    char token[RNG_TOKEN_LEN(LINKS_TOKEN_BYTES) + 1];
    long expires = 0;
    int64_t now = isotime_now_us();
    int rc = 0;

    memset(w, 0, sizeof(*w));
    buf_init(&providers, LINKS_PROVIDERS_MAX);
    rc = check_request(a, req, &expires, e);
    if (rc < 0) {
        goto out;
    }
    rc = pick_providers(a, req->providers, &providers, e);
    if (rc < 0) {
        goto out;
    }

    uuid_v4(out->session_id);
    rng_token(token, sizeof(token), LINKS_TOKEN_BYTES);
    out->url = arena_printf(ar, "%s/widget/%s", a->public_url, token);
    out->providers = arena_strdup(ar, buf_str(&providers));
    out->expires_in = expires;
    w->dev_id = arena_strdup(ar, dev_id);
    if (out->url == NULL || out->providers == NULL || w->dev_id == NULL) {
        rc = err_set(e, ERR_NOMEM, "links: out of request memory");
        goto out;
    }
    fill_row(w, "widget", token, req, now);

out:
    crypto_wipe(token, sizeof(token));
    buf_release(&providers);
    return rc;
}

int
links_prepare_direct(struct app *a, const char *dev_id,
                     const struct links_request *req, const char *resource,
                     struct arena *ar, struct links_widget *w, struct err *e)
{
    struct links_request fixed = *req;
    struct links_session *out = &w->out;
    struct store_session *ss = &w->row;
    const struct app_provider *p = NULL;
    char token[RNG_TOKEN_LEN(LINKS_TOKEN_BYTES) + 1];
    long expires = 0;
    int64_t now = isotime_now_us();
    int rc = 0;

    memset(w, 0, sizeof(*w));
    if (resource == NULL || resource[0] == '\0') {
        return err_set(e, ERR_INVALID,
                       "resource: required (the provider to connect, "
                       "such as OURA)");
    }
    rc = check_text("resource", resource, 64, e);
    if (rc < 0) {
        return rc;
    }
    p = app_provider(a, resource);
    if (p == NULL) {
        const struct config_provider *cp = config_provider(a->cfg, resource);

        if (provider_lookup(resource) == NULL && cp == NULL) {
            return err_set(e, ERR_INVALID, "resource: unknown provider '%s'",
                           resource);
        }
        return err_set(e, ERR_INVALID,
                       "resource: provider '%s' is not enabled on this "
                       "server",
                       resource);
    }
    /* the link lives as long as Terra's auth_url (expires_in is not a
     * field of this request), within the operator's [links] bounds */
    fixed.expires_given = 1;
    fixed.expires_in = LINKS_DIRECT_SECONDS;
    if (fixed.expires_in > a->cfg->links_max_expires_in) {
        fixed.expires_in = a->cfg->links_max_expires_in;
    }
    if (fixed.expires_in < a->cfg->links_min_expires_in) {
        fixed.expires_in = a->cfg->links_min_expires_in;
    }
    rc = check_request(a, &fixed, &expires, e);
    if (rc < 0) {
        return rc;
    }

    uuid_v4(out->session_id);
    uuid_v4(out->user_id);
    rng_token(token, sizeof(token), LINKS_TOKEN_BYTES);
    out->url = arena_printf(ar, "%s/connect/%s", a->public_url, token);
    out->providers = p->resource;
    out->expires_in = expires;
    w->dev_id = arena_strdup(ar, dev_id);
    if (out->url == NULL || w->dev_id == NULL) {
        rc = err_set(e, ERR_NOMEM, "links: out of request memory");
        goto out;
    }
    fill_row(w, "direct", token, req, now);
    ss->user_id = out->user_id;
    ss->resource = p->resource;

out:
    crypto_wipe(token, sizeof(token));
    return rc;
}

static void
log_created(const struct links_widget *w)
{
    log_event(LOG_INFO, "links", "session.created",
              "session_id=%s dev_id=%s providers=%s expires_in=%ld",
              w->out.session_id, w->dev_id, w->out.providers,
              w->out.expires_in);
}

/* The store is done with `arg`, a struct links_widget. */
static void
stored(void *arg, int rc, const struct err *e)
{
    struct links_widget *w = arg;

    if (rc == 0) {
        log_created(w);
    }
    /* last: the callee may end the request, and `w` with its arena */
    w->done(w->arg, rc, &w->out, e);
}

int
links_store_widget(struct app *a, struct links_widget *w, links_done_fn done,
                   void *arg)
{
    w->done = done;
    w->arg = arg;
    return store_session_create_async(a->store, &w->row, stored, w);
}

int
links_create_widget(struct app *a, const char *dev_id,
                    const struct links_request *req, struct arena *ar,
                    struct links_session *out, struct err *e)
{
    struct links_widget w;
    int rc = 0;

    rc = links_prepare_widget(a, dev_id, req, ar, &w, e);
    if (rc == 0) {
        rc = store_session_create(a->store, &w.row, e);
    }
    if (rc < 0) {
        return rc;
    }
    log_created(&w);
    *out = w.out;
    return 0;
}
