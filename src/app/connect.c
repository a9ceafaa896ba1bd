/*
 * connect.c - the OAuth 2.0 login behind a link (see connect.h).
 *
 * A callback runs as a chain of steps, each started by the one before:
 * the checks and the token request on the server's thread, the profile
 * request from the outbound client's thread when the token answer
 * arrives, the store write from there, and the answer from the store's
 * writer thread once it has committed. One `struct flow` in the
 * request's arena carries the state along; exactly one step calls
 * `done`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "deliver/deliver.h"
#include "app/connect.h"
#include "app/events.h"
#include "app/grant.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/uuid.h"
#include "http/client.h"
#include "oauth/oauth2.h"
#include "oauth/pkce.h"
#include "providers/login.h"

#define STATE_BYTES  24 /* 192 bits */
#define AUTH_URL_MAX 8192

struct flow {
    struct app *a;
    struct arena *ar;
    const struct app_provider *p;
    struct grant_client gc;
    unsigned char hash[32];
    int have_hash;
    struct store_attempt at;
    struct store_session ss;
    int have_session;
    const char *verifier;
    struct oauth2_tokens tok;
    const char *provider_user_id;
    struct store_user user;
    int replaced; /* the connection replaced another (a re-auth) */
    int quiet;    /* a failure that records no event */
    struct store_event events[2];
    struct store_event fail_ev;
    struct store_connect cn;
    struct connect_result res;
    connect_done_fn done;
    void *arg;
    char req_id[40]; /* the callback's, for the log lines of later steps */
};

/* 1 when `list` (comma-separated) holds `name`, any case. */
static int
list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *s = list;

    while (s != NULL && *s != '\0') {
        size_t len = strcspn(s, ",");

        if (len == n && strncasecmp(s, name, n) == 0) {
            return 1;
        }
        s += len + (s[len] == ',');
    }
    return 0;
}

/* ---- connect_begin ---- */

static int
begin_check(struct app *a, const struct store_session *ss, const char *resource,
            const struct app_provider **p, struct err *e)
{
    int64_t now = isotime_now_us();

    if (ss->completed_at != 0) {
        return err_set(e, ERR_GONE, "the link was used already");
    }
    if (now >= ss->expires_at) {
        return err_set(e, ERR_GONE, "the link has expired");
    }
    *p = app_provider(a, resource);
    if (*p == NULL) {
        return err_set(e, ERR_INVALID,
                       "resource: provider '%s' is not enabled on this "
                       "server",
                       resource);
    }
    if (strcmp(ss->kind, "direct") == 0
            ? strcasecmp(ss->resource, resource) != 0
            : !list_has(ss->providers, resource)) {
        return err_set(e, ERR_INVALID,
                       "resource: provider '%s' is not offered by this link",
                       resource);
    }
    return 0;
}

int
connect_begin(struct app *a, const struct store_session *ss,
              const char *resource, struct arena *ar, const char **url,
              struct err *e)
{
    const struct app_provider *p = NULL;
    struct grant_client gc;
    char state[RNG_TOKEN_LEN(STATE_BYTES) + 1];
    char verifier[PKCE_VERIFIER_LEN + 1];
    char challenge[PKCE_CHALLENGE_LEN + 1];
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    char reserved[UUID_STR_LEN];
    struct store_attempt at;
    struct buf b;
    int rc = 0;

    buf_init(&b, AUTH_URL_MAX);
    memset(&at, 0, sizeof(at));
    rc = begin_check(a, ss, resource, &p, e);
    if (rc == 0) {
        rc = grant_client(a, p, &gc, e);
    }
    if (rc < 0) {
        goto out;
    }

    rng_token(state, sizeof(state), STATE_BYTES);
    crypto_sha256(state, strlen(state), at.state_hash);
    if (p->pkce) {
        pkce_verifier(verifier);
        pkce_challenge(verifier, challenge);
        sealed_len = PKCE_VERIFIER_LEN + CRYPTO_SEAL_OVERHEAD;
        sealed = arena_alloc(ar, sealed_len);
        if (sealed == NULL || crypto_seal(a->key, ss->id, strlen(ss->id),
                                          verifier, PKCE_VERIFIER_LEN, sealed,
                                          sealed_len, &sealed_len) < 0) {
            rc = err_set(e, ERR_NOMEM, "connect: cannot seal the verifier");
            goto out;
        }
    }
    if (ss->user_id != NULL) {
        snprintf(reserved, sizeof(reserved), "%s", ss->user_id);
    } else {
        uuid_v4(reserved);
    }
    at.session_id = ss->id;
    at.dev_id = ss->dev_id;
    at.resource = p->resource;
    at.user_id = reserved;
    at.verifier = sealed;
    at.verifier_len = sealed_len;
    at.created_at = isotime_now_us();
    at.expires_at = ss->expires_at;
    rc = oauth2_authorize_url(&gc.oc, state, p->pkce ? challenge : NULL, &b, e);
    if (rc == 0) {
        rc = store_attempt_create(a->store, &at, e);
    }
    if (rc == 0) {
        *url = arena_strdup(ar, buf_str(&b));
        if (*url == NULL) {
            rc = err_set(e, ERR_NOMEM, "connect: out of request memory");
        }
    }
    if (rc == 0) {
        log_event(LOG_INFO, "connect", "connect.started",
                  "session_id=%s provider=%s user_id=%s", ss->id, p->resource,
                  reserved);
    }

out:
    crypto_wipe(state, sizeof(state));
    crypto_wipe(verifier, sizeof(verifier));
    buf_release(&b);
    return rc;
}

/* ---- connect_finish: the end of the chain ---- */

static void
finish(struct flow *f)
{
    /* last: the callee may end the request, and `f` with its arena */
    f->done(f->arg, &f->res);
}

/* The failure event is stored, or not: answer. Writer thread. */
static void
on_fail_stored(void *arg, int rc, const struct err *e)
{
    struct flow *f = arg;

    if (rc == ERR_GONE) {
        /* another attempt completed the link while this one failed */
        f->res.reason = CONNECT_R_LINK_USED;
        f->res.message = "the link was used already";
    } else if (rc < 0) {
        log_event(LOG_ERROR, "connect", "connect.event_lost",
                  "reason=%s msg=%s", f->res.reason, e->msg);
    }
    finish(f);
}

/*
 * End the chain with the failure `reason`: record the auth error event
 * when the link is known, then answer.
 */
static void
fail(struct flow *f, const char *reason, const char *message)
{
    const char *ref = f->have_session ? f->ss.reference_id : NULL;
    int64_t now = isotime_now_us();
    int rc = 0;

    f->res.ok = 0;
    f->res.reason = reason;
    f->res.message = message;
    log_event(LOG_INFO, "connect", "connect.failed",
              "reason=%s provider=%s session_id=%s msg=%s", reason,
              f->res.resource != NULL ? f->res.resource : "-",
              f->have_session ? f->ss.id : "-", message);
    if (!f->have_session || f->quiet) {
        finish(f);
        return;
    }
    rc = events_auth_error(f->ar, f->ss.dev_id, f->res.user_id, f->res.resource,
                           ref, f->ss.id, reason, message, now, &f->fail_ev);
    if (rc == 0) {
        rc =
            store_attempt_fail_async(f->a->store, f->have_hash ? f->hash : NULL,
                                     &f->fail_ev, now, on_fail_stored, f);
    }
    if (rc < 0) {
        log_event(LOG_ERROR, "connect", "connect.event_lost",
                  "reason=%s error=%s", reason, err_str(rc));
        finish(f);
    }
}

/* The connection is stored, or not. Writer thread. */
static void
on_connected(void *arg, int rc, const struct err *e)
{
    struct flow *f = arg;

    if (rc == 0) {
        f->res.ok = 1;
        f->res.user_id = f->user.id;
        /* the auth event is stored: deliver it now, not at the next poll */
        deliver_kick(f->a->deliver);
        log_event(LOG_INFO, "connect", "connect.completed",
                  "user_id=%s provider=%s session_id=%s reauth=%d", f->user.id,
                  f->user.provider, f->ss.id, f->replaced);
        finish(f);
        return;
    }
    if (rc == ERR_GONE) {
        /* another attempt completed the link, and its auth event says
         * so: this one records none (a direct link's attempts share the
         * user id, which an error event would name) */
        f->quiet = 1;
        fail(f, CONNECT_R_LINK_USED, "the link was used already");
        return;
    }
    log_event(LOG_ERROR, "connect", "connect.store_failed", "msg=%s", e->msg);
    fail(f, CONNECT_R_PROVIDER_ERROR, "the connection could not be stored");
}

/* The tokens sealed for the new user, into the connection to store. */
static int
seal_tokens(struct flow *f, int64_t now)
{
    int rc = grant_seal(f->a, f->user.id, &f->tok, now, f->ar, &f->cn.sealed,
                        &f->cn.sealed_len);

    if (rc == 0) {
        f->cn.token_expires_at =
            f->tok.expires_in > 0 ? now + (int64_t)f->tok.expires_in * 1000000
                                  : 0;
    }
    return rc;
}

/* Scopes as Terra lists them, comma-separated, from a provider's list
 * joined by spaces or commas; NULL stays NULL. */
static const char *
terra_scopes(struct arena *ar, const char *scopes)
{
    char *s = NULL;
    char *p = NULL;

    if (scopes == NULL) {
        return NULL;
    }
    s = arena_strdup(ar, scopes);
    for (p = s; p != NULL && *p != '\0'; p++) {
        if (*p == ' ') {
            *p = ',';
        }
    }
    return s != NULL ? s : scopes;
}

/*
 * The events that depend on the connection replaced: user_reauth when
 * there is one. Called by the store inside its transaction, on the
 * writer thread.
 */
static int
compose(void *arg, const struct store_user *replaced,
        const struct store_event **events, size_t *n)
{
    struct flow *f = arg;
    int rc = 0;

    f->replaced = replaced != NULL;
    if (replaced == NULL) {
        return 0;
    }
    rc = events_reauth(f->ar, replaced, &f->user, f->cn.now, &f->events[1]);
    if (rc == 0) {
        *events = &f->events[1];
        *n = 1;
    }
    return rc;
}

/* Build the user, its auth event and its tokens, and queue the write;
 * the store finds the connection it replaces. */
static void
store_connection(struct flow *f)
{
    struct store_user *u = &f->user;
    int64_t now = isotime_now_us();
    int rc = 0;

    memset(u, 0, sizeof(*u));
    u->id = f->at.user_id;
    u->dev_id = f->ss.dev_id;
    u->provider = f->p->resource;
    u->provider_user_id = f->provider_user_id;
    u->reference_id = f->ss.reference_id;
    u->session_id = f->ss.id;
    u->state = "connected";
    u->active = 1;
    u->scopes =
        terra_scopes(f->ar, f->tok.scope != NULL ? f->tok.scope : f->p->scopes);
    u->created_at = now;
    u->updated_at = now;

    rc = events_auth_success(f->ar, u, f->ss.id, now, &f->events[0]);
    if (rc == 0) {
        rc = seal_tokens(f, now);
    }
    if (rc < 0) {
        fail(f, CONNECT_R_PROVIDER_ERROR, "out of memory");
        return;
    }
    f->cn.state_hash = NULL; /* claimed before the exchange */
    f->cn.session_id = f->ss.id;
    f->cn.user = u;
    f->cn.replace = 1;
    f->cn.compose = compose;
    f->cn.compose_arg = f;
    f->cn.arena = f->ar;
    f->cn.events = f->events;
    f->cn.nevents = 1;
    f->cn.now = now;
    rc = store_connect_async(f->a->store, &f->cn, on_connected, f);
    if (rc < 0) {
        fail(f, CONNECT_R_PROVIDER_ERROR, "the store is closing");
    }
}

/* ---- connect_finish: the provider's answers ---- */

static void profile_step(struct flow *f, struct hclient_response *r);

static void
on_profile(void *arg, struct hclient_response *r)
{
    struct flow *f = arg;

    /* `f` may be gone once the step ends the chain: no use after it */
    log_set_req_id(f->req_id);
    profile_step(f, r);
    log_set_req_id(NULL);
}

static void
profile_step(struct flow *f, struct hclient_response *r)
{
    struct err e;

    err_clear(&e);
    if (r->rc != 0) {
        log_event(LOG_WARN, "connect", "connect.profile_failed",
                  "provider=%s error=%s msg=%s", f->p->resource, err_str(r->rc),
                  r->error);
        fail(f, CONNECT_R_PROFILE, "the provider's profile call failed");
        return;
    }
    if (r->status < 200 || r->status > 299) {
        log_event(LOG_WARN, "connect", "connect.profile_failed",
                  "provider=%s status=%ld", f->p->resource, r->status);
        fail(f, CONNECT_R_PROFILE, "the provider's profile call failed");
        return;
    }
    if (oauth2_user_id(r->body, r->body_len, f->p->user_id_field, f->ar,
                       &f->provider_user_id, &e) < 0) {
        log_event(LOG_WARN, "connect", "connect.profile_failed",
                  "provider=%s msg=%s", f->p->resource, e.msg);
        fail(f, CONNECT_R_PROFILE, "the provider's profile has no user id");
        return;
    }
    store_connection(f);
}

static void
fetch_profile(struct flow *f)
{
    struct hclient_request req;
    struct err e;

    err_clear(&e);
    if (oauth2_bearer_request(f->gc.userinfo_url, f->tok.access_token, f->ar,
                              &req, &e) < 0) {
        fail(f, CONNECT_R_PROFILE, "the profile request cannot be made");
        return;
    }
    req.timeout_ms = f->gc.oc.timeout_ms;
    req.max_response = OAUTH2_ANSWER_MAX;
    if (hclient_send(f->a->http, &req, on_profile, f) < 0) {
        fail(f, CONNECT_R_PROFILE, "the server is stopping");
    }
}

static void token_step(struct flow *f, struct hclient_response *r);

static void
on_token(void *arg, struct hclient_response *r)
{
    struct flow *f = arg;

    log_set_req_id(f->req_id);
    token_step(f, r);
    log_set_req_id(NULL);
}

static void
token_step(struct flow *f, struct hclient_response *r)
{
    const char *body = r->body;
    size_t len = r->body_len;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (r->rc != 0) {
        log_event(LOG_WARN, "connect", "connect.token_failed",
                  "provider=%s error=%s msg=%s", f->p->resource, err_str(r->rc),
                  r->error);
        fail(f, CONNECT_R_TOKEN_EXCHANGE,
             r->rc == ERR_TIMEOUT ? "the provider's token endpoint timed out"
                                  : "the provider's token endpoint failed");
        return;
    }
    if ((f->p->quirks & PROVIDER_Q_WRAPPED_TOKEN) && r->status == 200 &&
        grant_unwrap_answer(r->body, r->body_len, f->ar, &body, &len) < 0) {
        fail(f, CONNECT_R_TOKEN_EXCHANGE,
             "the provider's token answer is malformed");
        return;
    }
    rc = oauth2_token_parse(r->status, body, len, f->ar, &f->tok, &e);
    if (rc < 0) {
        log_event(LOG_WARN, "connect", "connect.token_failed",
                  "provider=%s status=%ld oauth_error=%s msg=%s",
                  f->p->resource, r->status,
                  f->tok.error != NULL ? f->tok.error : "-", e.msg);
        fail(f, CONNECT_R_TOKEN_EXCHANGE,
             f->tok.error != NULL ? "the provider refused the code"
                                  : "the provider's token answer is "
                                    "malformed");
        return;
    }
    if (f->p->userinfo_url != NULL) {
        fetch_profile(f);
        return;
    }
    if (oauth2_user_id(body, len, f->p->user_id_field, f->ar,
                       &f->provider_user_id, &e) < 0) {
        log_event(LOG_WARN, "connect", "connect.profile_failed",
                  "provider=%s msg=%s", f->p->resource, e.msg);
        fail(f, CONNECT_R_PROFILE, "the token answer has no user id");
        return;
    }
    store_connection(f);
}

/* ---- connect_finish: the checks ---- */

/* Open the sealed PKCE verifier of the attempt into the arena. */
static int
open_verifier(struct flow *f)
{
    unsigned char buf[PKCE_VERIFIER_MAX + 1];
    size_t n = 0;
    int rc = 0;

    if (f->at.verifier == NULL) {
        f->verifier = NULL;
        return 0;
    }
    rc = crypto_open(f->a->key, f->ss.id, strlen(f->ss.id), f->at.verifier,
                     f->at.verifier_len, buf, sizeof(buf) - 1, &n);
    if (rc == 0) {
        buf[n] = '\0';
        f->verifier = arena_strdup(f->ar, (const char *)buf);
        rc = f->verifier == NULL ? ERR_NOMEM : 0;
    }
    crypto_wipe(buf, sizeof(buf));
    return rc;
}

/* Find the attempt and its link: 0, or the failure already reported. */
static int
load_attempt(struct flow *f, const char *section, const char *state)
{
    struct err e;

    err_clear(&e);
    if (state == NULL || state[0] == '\0' || strlen(state) > 512) {
        fail(f, CONNECT_R_INVALID_STATE, "the state is missing");
        return -1;
    }
    crypto_sha256(state, strlen(state), f->hash);
    if (store_attempt_get(f->a->store, f->hash, f->ar, &f->at, &e) < 0) {
        fail(f, CONNECT_R_INVALID_STATE, "the state is unknown");
        return -1;
    }
    f->have_hash = 1;
    f->res.user_id = f->at.user_id;
    f->res.resource = f->at.resource;
    if (store_session_get(f->a->store, f->at.session_id, f->ar, &f->ss, &e) <
        0) {
        f->have_hash = 0;
        fail(f, CONNECT_R_INVALID_STATE, "the link is gone");
        return -1;
    }
    f->have_session = 1;
    f->res.session = &f->ss;
    f->p = app_provider(f->a, f->at.resource);
    if (f->p == NULL || strcasecmp(f->p->section, section) != 0) {
        /* neither an event nor the attempt used: it stays for its own
         * provider's callback */
        f->have_hash = 0;
        f->quiet = 1;
        fail(f, CONNECT_R_INVALID_STATE,
             "the state belongs to another provider");
        return -1;
    }
    return 0;
}

void
connect_finish(struct app *a, struct arena *ar, const char *section,
               const struct connect_query *q, connect_done_fn done, void *arg)
{
    struct flow *f = arena_alloc(ar, sizeof(*f));
    struct hclient_request req;
    struct connect_result oom = {0};
    int64_t now = isotime_now_us();
    struct err e;

    if (f == NULL) {
        oom.reason = CONNECT_R_PROVIDER_ERROR;
        oom.message = "out of request memory";
        done(arg, &oom);
        return;
    }
    memset(f, 0, sizeof(*f));
    f->a = a;
    f->ar = ar;
    f->done = done;
    f->arg = arg;
    if (log_req_id() != NULL) {
        snprintf(f->req_id, sizeof(f->req_id), "%s", log_req_id());
    }
    err_clear(&e);
    if (load_attempt(f, section, q->state) < 0) {
        return;
    }
    if (f->at.used_at != 0) {
        /* a replay: this attempt's outcome was recorded when it was
         * used, so anyone holding the URL cannot add events */
        f->quiet = 1;
        fail(f,
             f->ss.completed_at != 0 ? CONNECT_R_LINK_USED
                                     : CONNECT_R_INVALID_STATE,
             "the state was used already");
        return;
    }
    if (f->ss.completed_at != 0) {
        f->quiet = 1; /* the completion's own event says it all */
        fail(f, CONNECT_R_LINK_USED, "the link was used already");
        return;
    }
    if (now >= f->at.expires_at || now >= f->ss.expires_at) {
        fail(f, CONNECT_R_LINK_EXPIRED, "the link has expired");
        return;
    }
    if (q->error != NULL) {
        fail(f,
             strcmp(q->error, "access_denied") == 0 ? CONNECT_R_ACCESS_DENIED
                                                    : CONNECT_R_PROVIDER_ERROR,
             strcmp(q->error, "access_denied") == 0
                 ? "the user denied access"
                 : "the provider answered with an error");
        return;
    }
    if (q->code == NULL || q->code[0] == '\0') {
        fail(f, CONNECT_R_PROVIDER_ERROR, "the provider sent no code");
        return;
    }
    /* one state, one exchange: of two callbacks carrying it (a double
     * click, a retry) only the first reaches the provider, whose code
     * would not survive a second use */
    if (store_attempt_claim(a->store, f->hash, now, &e) < 0) {
        f->quiet = 1; /* the other callback records the outcome */
        fail(f, CONNECT_R_INVALID_STATE, "the state was used already");
        return;
    }
    if (grant_client(a, f->p, &f->gc, &e) < 0 || open_verifier(f) < 0 ||
        oauth2_code_request(&f->gc.oc, q->code, f->verifier, ar, &req, &e) <
            0) {
        log_event(LOG_ERROR, "connect", "connect.token_failed",
                  "provider=%s msg=%s", f->p->resource, e.msg);
        fail(f, CONNECT_R_TOKEN_EXCHANGE, "the token request cannot be made");
        return;
    }
    if (f->p->quirks & PROVIDER_Q_WRAPPED_TOKEN) {
        /* Withings names the operation in the body as well */
        req.body = arena_printf(ar, "action=requesttoken&%.*s",
                                (int)req.body_len, req.body);
        if (req.body == NULL) {
            fail(f, CONNECT_R_TOKEN_EXCHANGE, "out of request memory");
            return;
        }
        req.body_len = strlen(req.body);
    }
    if (hclient_send(a->http, &req, on_token, f) < 0) {
        fail(f, CONNECT_R_TOKEN_EXCHANGE, "the server is stopping");
    }
}
