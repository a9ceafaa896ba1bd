/*
 * token.c - the token endpoint (RFC 6749 sections 3.2, 4.1.3, 5 and 6),
 * the revocation endpoint (RFC 7009) and userinfo (RFC 6750).
 *
 * Clients authenticate with HTTP Basic or with client_id and
 * client_secret in the body (RFC 6749 2.3.1), never both. Codes and
 * tokens are 256-bit random base64url strings kept only as their
 * SHA-256. Refresh tokens rotate: each refresh revokes the one it used,
 * and presenting a revoked refresh token again revokes its whole grant,
 * since one of the two parties holding it is not the client (OAuth 2.0
 * Security BCP, section 4.14).
 *
 * Every answer of the token and revoke endpoints carries Cache-Control:
 * no-store (RFC 6749 5.1: the HTTP server sends it with every response
 * whose handler sets no Cache-Control) and Pragma: no-cache.
 */
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "http/reply.h"
#include "oauth/pkce.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

#define TOKEN_BYTES     32
#define TOKEN_LEN       RNG_TOKEN_LEN(TOKEN_BYTES)
#define REFRESH_SECONDS (90LL * 86400)
#define US              1000000LL

static const char basic_challenge[] = "Basic realm=\"sandbox\"";

static void
no_cache(struct http_response *resp)
{
    http_add_header(resp, "Pragma", "no-cache");
}

/* An RFC 6749 5.2 error answer: 400, or 401 for invalid_client. */
static int
oauth_error(struct http_request *req, struct http_response *resp,
            const char *error, const char *description)
{
    int status = strcmp(error, "invalid_client") == 0 ? 401 : 400;
    json_t *o = json_pack("{s:s, s:s}", "error", error, "error_description",
                          description);

    log_event(LOG_INFO, "sandbox", "sandbox.token.refused", "error=%s why=%s",
              error, description);
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    if (status == 401) {
        /* whichever way the client tried: Basic is what it can use */
        http_add_header(resp, "WWW-Authenticate", basic_challenge);
    }
    no_cache(resp);
    return http_reply_json(req, resp, status, o);
}

/* The id and secret of a Basic credential (RFC 6749 2.3.1: each
 * form-urlencoded before it was joined). 0 or ERR_INVALID. */
static int
basic_credentials(const char *header, struct arena *a, const char **id,
                  const char **secret)
{
    char raw[SANDBOX_CREDENTIAL_MAX];
    const char *p = header;
    const char *colon = NULL;
    size_t n = 0;
    int rc = 0;

    if (strncasecmp(p, "Basic ", 6) != 0) {
        return ERR_INVALID;
    }
    p += 6;
    while (*p == ' ') {
        p++;
    }
    if (codec_b64_decode(p, strlen(p), (unsigned char *)raw, sizeof(raw) - 1,
                         &n) < 0) {
        return ERR_INVALID;
    }
    raw[n] = '\0';
    colon = memchr(raw, ':', n);
    if (colon == NULL) {
        rc = ERR_INVALID;
        goto out;
    }
    *id = sandbox_form_decode(raw, (size_t)(colon - raw), a);
    *secret = sandbox_form_decode(colon + 1, n - (size_t)(colon - raw) - 1, a);
    rc = *id != NULL && *secret != NULL ? 0 : ERR_INVALID;

out:
    crypto_wipe(raw, sizeof(raw));
    return rc;
}

/* 1 when `id` and `secret` are SANDBOX_CLIENT_ID and its secret. */
static int
client_valid(const struct app *a, const char *id, const char *secret)
{
    char want[65];
    int ok = 0;

    sandbox_client_secret(a, want);
    ok = id != NULL && secret != NULL && strcmp(id, SANDBOX_CLIENT_ID) == 0 &&
         strlen(secret) == 64 && crypto_ct_eq(secret, want, 64);
    crypto_wipe(want, sizeof(want));
    return ok;
}

/*
 * Authenticate the client of a token or revoke request: NULL when it is
 * SANDBOX_CLIENT_ID, else the RFC 6749 error code and, in `*why`, its
 * description.
 */
static const char *
authenticate(struct http_request *req, const struct sandbox_form *f,
             const char **why)
{
    const char *header = http_header(req, "Authorization");
    const char *body_id = sandbox_form_get(f, "client_id");
    const char *body_secret = sandbox_form_get(f, "client_secret");
    const char *id = body_id;
    const char *secret = body_secret;

    if (header != NULL) {
        if (body_secret != NULL) {
            *why = "use one client authentication method, not two";
            return "invalid_request";
        }
        if (strlen(header) > 2 * SANDBOX_CREDENTIAL_MAX ||
            basic_credentials(header, req->arena, &id, &secret) < 0) {
            *why = "the Authorization header is not a Basic credential";
            return "invalid_client";
        }
        if (body_id != NULL && strcmp(body_id, id) != 0) {
            *why = "client_id differs from the authenticated client";
            return "invalid_request";
        }
    }
    if (id == NULL || secret == NULL) {
        *why = "client authentication is required";
        return "invalid_client";
    }
    if (!client_valid(req->ctx, id, secret)) {
        *why = "unknown client or wrong client secret";
        return "invalid_client";
    }
    return NULL;
}

/*
 * Check the transport of a token or revoke request and parse it into
 * `f`: 0, or 1 with the error answer sent (`*rc` its outcome).
 */
static int
read_request(struct http_request *req, struct http_response *resp,
             struct sandbox_form *f, int *rc)
{
    const char *error = NULL;
    const char *why = NULL;

    if (!sandbox_is_form(req)) {
        *rc = oauth_error(req, resp, "invalid_request",
                          "the body must be application/"
                          "x-www-form-urlencoded");
        return 1;
    }
    if (sandbox_form_parse(req->body, req->body_len, req->arena, f) < 0) {
        *rc = http_reply_error(req, resp, 500, "out of request memory");
        return 1;
    }
    if (f->bad != NULL) {
        *rc = oauth_error(req, resp, "invalid_request",
                          sandbox_form_describe(f, req->arena));
        return 1;
    }
    error = authenticate(req, f, &why);
    if (error != NULL) {
        *rc = oauth_error(req, resp, error, why);
        return 1;
    }
    return 0;
}

/* The SHA-256 of the token `s`; ERR_INVALID when it cannot be ours. */
static int
token_hash(const char *s, unsigned char out[32])
{
    size_t n = strlen(s);

    if (n == 0 || n > SANDBOX_TOKEN_MAX) {
        return ERR_INVALID;
    }
    crypto_sha256(s, n, out);
    return 0;
}

/* The grant to issue tokens for. */
struct grant {
    const char *account;
    const char *scope;        /* of the refresh token */
    const char *access_scope; /* of the access token: scope or fewer */
    const char *family;
    const unsigned char *from; /* the refresh token being exchanged */
};

static void
fill_token(struct store_sandbox_token *t, const char *text, const char *kind,
           const struct grant *g, const char *scope, int64_t now, int64_t life)
{
    memset(t, 0, sizeof(*t));
    crypto_sha256(text, strlen(text), t->hash);
    t->kind = kind;
    t->client_id = SANDBOX_CLIENT_ID;
    t->account = g->account;
    t->scope = scope;
    t->family = g->family;
    t->created_at = now;
    t->expires_at = now + life;
}

/* Revoke the grant of the refresh token `hash`, presented again. */
static void
revoke_grant(struct app *a, const unsigned char hash[32], const char *account)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct err e;

    err_clear(&e);
    sandbox_account_id(account, id);
    log_event(LOG_WARN, "sandbox", "sandbox.refresh.reused",
              "account_id=%s action=grant_revoked", id);
    if (store_sandbox_token_revoke(a->store, hash, isotime_now_us(), &e) < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.revoke_failed", "msg=%s",
                  e.msg);
    }
}

/* Issue an access and a refresh token for `g` and answer with them. */
static int
issue(struct http_request *req, struct http_response *resp,
      const struct grant *g)
{
    struct app *a = req->ctx;
    struct store_sandbox_token at;
    struct store_sandbox_token rt;
    char access[TOKEN_LEN + 1];
    char refresh[TOKEN_LEN + 1];
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    int64_t now = isotime_now_us();
    json_t *o = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rng_token(access, sizeof(access), TOKEN_BYTES);
    rng_token(refresh, sizeof(refresh), TOKEN_BYTES);
    fill_token(&at, access, "access", g, g->access_scope, now,
               (int64_t)SANDBOX_ACCESS_SECONDS * US);
    fill_token(&rt, refresh, "refresh", g, g->scope, now, REFRESH_SECONDS * US);
    rc = store_sandbox_tokens_issue(a->store, &at, &rt, g->from, now, &e);
    if (g->from != NULL && (rc == ERR_GONE || rc == ERR_NOTFOUND)) {
        /* the same refresh token was exchanged at the same time */
        revoke_grant(a, g->from, g->account);
        rc = oauth_error(req, resp, "invalid_grant",
                         "the refresh token was used already");
        goto out;
    }
    if (rc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.token.store_failed", "msg=%s",
                  e.msg);
        rc = http_reply_error(req, resp, 500, "cannot store the tokens");
        goto out;
    }
    o = json_pack("{s:s, s:s, s:i, s:s, s:s*}", "access_token", access,
                  "token_type", "Bearer", "expires_in", SANDBOX_ACCESS_SECONDS,
                  "refresh_token", refresh, "scope", g->access_scope);
    if (o == NULL) {
        rc = http_reply_error(req, resp, 500, "cannot build the answer");
        goto out;
    }
    sandbox_account_id(g->account, id);
    log_event(LOG_INFO, "sandbox", "sandbox.token.issued",
              "account_id=%s grant=%s scope=%s", id,
              g->from != NULL ? "refresh_token" : "authorization_code",
              g->access_scope != NULL ? g->access_scope : "");
    no_cache(resp);
    rc = http_reply_json(req, resp, 200, o);

out:
    crypto_wipe(access, sizeof(access));
    crypto_wipe(refresh, sizeof(refresh));
    return rc;
}

/*
 * Use up the code `code` into `c` (strings in the request's arena) and
 * its hash into `hash`: 0, or 1 with the error answer sent (`*rc` its
 * outcome).
 */
static int
take_code(struct http_request *req, struct http_response *resp,
          const char *code, struct store_sandbox_code *c,
          unsigned char hash[32], int *rc)
{
    struct app *a = req->ctx;
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct err e;
    int trc = 0;

    err_clear(&e);
    trc = token_hash(code, hash);
    if (trc == 0) {
        trc = store_sandbox_code_take(a->store, hash, isotime_now_us(),
                                      req->arena, c, &e);
    }
    if (trc == 0) {
        return 0;
    }
    if (trc == ERR_GONE && c->used_at != 0 && c->account != NULL) {
        sandbox_account_id(c->account, id);
        log_event(LOG_WARN, "sandbox", "sandbox.code.reused",
                  "account_id=%s action=grant_revoked", id);
    }
    if (trc == ERR_GONE) {
        *rc = oauth_error(req, resp, "invalid_grant",
                          "the code has expired or was used already");
    } else if (trc == ERR_NOTFOUND || trc == ERR_INVALID) {
        *rc = oauth_error(req, resp, "invalid_grant", "the code is not valid");
    } else {
        log_event(LOG_ERROR, "sandbox", "sandbox.code.take_failed", "msg=%s",
                  e.msg);
        *rc = http_reply_error(req, resp, 500, "cannot read the code");
    }
    return 1;
}

static int
code_grant(struct http_request *req, struct http_response *resp,
           const struct sandbox_form *f)
{
    const char *code = sandbox_form_get(f, "code");
    const char *redirect_uri = sandbox_form_get(f, "redirect_uri");
    const char *verifier = sandbox_form_get(f, "code_verifier");
    struct store_sandbox_code c;
    unsigned char hash[32];
    char family[65];
    struct grant g;
    int rc = 0;

    if (code == NULL || redirect_uri == NULL || verifier == NULL) {
        return oauth_error(req, resp, "invalid_request",
                           code == NULL           ? "code is missing"
                           : redirect_uri == NULL ? "redirect_uri is missing"
                                                  : "code_verifier is missing: "
                                                    "PKCE is required");
    }
    if (take_code(req, resp, code, &c, hash, &rc)) {
        return rc;
    }
    if (strcmp(c.client_id, SANDBOX_CLIENT_ID) != 0 ||
        strcmp(c.redirect_uri, redirect_uri) != 0) {
        return oauth_error(req, resp, "invalid_grant",
                           "redirect_uri or client differs from the "
                           "authorization request");
    }
    if (c.challenge == NULL || !pkce_check(verifier, c.challenge)) {
        return oauth_error(req, resp, "invalid_grant",
                           "code_verifier does not match the code_challenge");
    }

    /*
     * XXX: the code is used up and the tokens stored in two writes. A
     * second exchange of the same code that lands between them revokes
     * a grant with no tokens yet, and the tokens of the first one then
     * stay valid. Closing it needs one store operation that takes the
     * code and stores the tokens together.
     */
    codec_hex_encode(hash, sizeof(hash), family);
    memset(&g, 0, sizeof(g));
    g.account = c.account;
    g.scope = c.scope;
    g.access_scope = c.scope;
    g.family = family;
    return issue(req, resp, &g);
}

/* The scope a refresh asks for, within the grant's `granted`, into
 * `out`: 0, or ERR_INVALID when it asks for more or is malformed. */
static int
narrow_scope(const char *asked, const char *granted, char *out, size_t outsz)
{
    unsigned want = 0;
    unsigned have = 0;

    if (granted == NULL || sandbox_scope_parse(granted, &have) < 0) {
        have = 0;
    }
    if (asked == NULL) {
        want = have;
    } else if (strlen(asked) > SANDBOX_SCOPE_MAX ||
               sandbox_scope_parse(asked, &want) < 0 || (want & ~have) != 0) {
        return ERR_INVALID;
    }
    sandbox_scope_string(want, out, outsz);
    return 0;
}

static int
refresh_grant(struct http_request *req, struct http_response *resp,
              const struct sandbox_form *f)
{
    const char *refresh = sandbox_form_get(f, "refresh_token");
    struct app *a = req->ctx;
    struct store_sandbox_token t;
    char scope[sizeof(SANDBOX_SCOPES)];
    unsigned char hash[32];
    struct grant g;
    struct err e;
    int rc = 0;

    if (refresh == NULL) {
        return oauth_error(req, resp, "invalid_request",
                           "refresh_token is missing");
    }
    err_clear(&e);
    rc = token_hash(refresh, hash);
    if (rc == 0) {
        rc = store_sandbox_token_get(a->store, hash, req->arena, &t, &e);
    }
    if (rc == 0 && (strcmp(t.kind, "refresh") != 0 ||
                    strcmp(t.client_id, SANDBOX_CLIENT_ID) != 0)) {
        rc = ERR_NOTFOUND;
    }
    if (rc == ERR_INVALID || rc == ERR_NOTFOUND) {
        return oauth_error(req, resp, "invalid_grant",
                           "the refresh token is not valid");
    }
    if (rc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.token.get_failed", "msg=%s",
                  e.msg);
        return http_reply_error(req, resp, 500, "cannot read the token");
    }
    if (t.revoked_at != 0) {
        revoke_grant(a, hash, t.account);
        return oauth_error(req, resp, "invalid_grant",
                           "the refresh token was revoked");
    }
    if (t.expires_at <= isotime_now_us()) {
        return oauth_error(req, resp, "invalid_grant",
                           "the refresh token has expired");
    }
    if (narrow_scope(sandbox_form_get(f, "scope"), t.scope, scope,
                     sizeof(scope)) < 0) {
        return oauth_error(req, resp, "invalid_scope",
                           "scope: only scopes of the grant may be asked for");
    }

    memset(&g, 0, sizeof(g));
    g.account = t.account;
    g.scope = t.scope; /* RFC 6749 6: the new refresh token keeps it */
    g.access_scope = scope;
    g.family = t.family;
    g.from = hash;
    return issue(req, resp, &g);
}

int
sandbox_token(struct http_request *req, struct http_response *resp)
{
    struct sandbox_form f;
    const char *grant_type = NULL;
    int rc = 0;

    if (read_request(req, resp, &f, &rc)) {
        return rc;
    }
    grant_type = sandbox_form_get(&f, "grant_type");
    if (grant_type == NULL) {
        return oauth_error(req, resp, "invalid_request",
                           "grant_type is missing");
    }
    if (strcmp(grant_type, "authorization_code") == 0) {
        return code_grant(req, resp, &f);
    }
    if (strcmp(grant_type, "refresh_token") == 0) {
        return refresh_grant(req, resp, &f);
    }
    return oauth_error(req, resp, "unsupported_grant_type",
                       "grant_type: authorization_code and refresh_token "
                       "are supported");
}

int
sandbox_revoke(struct http_request *req, struct http_response *resp)
{
    const char *token = NULL;
    struct app *a = req->ctx;
    struct store_sandbox_token t;
    unsigned char hash[32];
    struct sandbox_form f;
    struct err e;
    int rc = 0;

    if (read_request(req, resp, &f, &rc)) {
        return rc;
    }
    token = sandbox_form_get(&f, "token");
    if (token == NULL) {
        return oauth_error(req, resp, "invalid_request", "token is missing");
    }

    /* RFC 7009 2.2: an unknown token is not an error; the hint is only
     * a hint, and every token is looked up by its hash anyway */
    err_clear(&e);
    rc = token_hash(token, hash);
    if (rc == 0) {
        rc = store_sandbox_token_get(a->store, hash, req->arena, &t, &e);
    }
    if (rc == 0 && strcmp(t.client_id, SANDBOX_CLIENT_ID) == 0) {
        rc = store_sandbox_token_revoke(a->store, hash, isotime_now_us(), &e);
    }
    if (rc < 0 && rc != ERR_NOTFOUND && rc != ERR_INVALID) {
        log_event(LOG_ERROR, "sandbox", "sandbox.revoke_failed", "msg=%s",
                  e.msg);
        return http_reply_error(req, resp, 500, "cannot revoke the token");
    }
    if (rc == 0) {
        log_event(LOG_INFO, "sandbox", "sandbox.token.revoked", "kind=%s",
                  t.kind);
    }
    no_cache(resp);
    resp->status = 200;
    resp->content_type = NULL;
    resp->body = NULL;
    resp->body_len = 0;
    return 0;
}

/* A 401 of RFC 6750 3.1: `error` NULL when no token was sent. */
static int
bearer_refused(struct http_request *req, struct http_response *resp,
               const char *error, const char *description)
{
    const char *challenge = NULL;
    json_t *o = NULL;

    if (error != NULL) {
        challenge = arena_printf(req->arena,
                                 "Bearer realm=\"sandbox\", error=\"%s\", "
                                 "error_description=\"%s\"",
                                 error, description);
    } else {
        challenge = "Bearer realm=\"sandbox\"";
    }
    o = json_pack("{s:s, s:s}", "error",
                  error != NULL ? error : "invalid_request",
                  "error_description", description);
    if (challenge == NULL || o == NULL) {
        json_decref(o);
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    http_add_header(resp, "WWW-Authenticate", challenge);
    return http_reply_json(req, resp, 401, o);
}

int
sandbox_bearer_token(struct http_request *req, struct store_sandbox_token *t,
                     struct err *e)
{
    const char *header = http_header(req, "Authorization");
    struct app *a = req->ctx;
    unsigned char hash[32];
    const char *token = NULL;
    int rc = 0;

    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
        return ERR_AUTH;
    }
    token = header + 7;
    while (*token == ' ') {
        token++;
    }
    rc = token_hash(token, hash);
    if (rc == 0) {
        rc = store_sandbox_token_get(a->store, hash, req->arena, t, e);
    }
    if (rc == ERR_INVALID || rc == ERR_NOTFOUND ||
        (rc == 0 && (strcmp(t->kind, "access") != 0 || t->revoked_at != 0 ||
                     t->expires_at <= isotime_now_us()))) {
        return ERR_NOTFOUND;
    }
    return rc;
}

int
sandbox_userinfo(struct http_request *req, struct http_response *resp)
{
    struct store_sandbox_token t;
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    json_t *o = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = sandbox_bearer_token(req, &t, &e);
    if (rc == ERR_AUTH) {
        return bearer_refused(req, resp, NULL,
                              "a Bearer access token is required");
    }
    if (rc == ERR_NOTFOUND) {
        return bearer_refused(req, resp, "invalid_token",
                              "the access token is not valid, has expired "
                              "or was revoked");
    }
    if (rc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.token.get_failed", "msg=%s",
                  e.msg);
        return http_reply_error(req, resp, 500, "cannot read the token");
    }

    sandbox_account_id(t.account, id);
    o = json_pack("{s:s, s:s, s:s}", "user_id", id, "username", t.account,
                  "scopes", t.scope != NULL ? t.scope : "");
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return http_reply_json(req, resp, 200, o);
}
