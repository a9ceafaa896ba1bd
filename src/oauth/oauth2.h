/*
 * oauth2.h - the client side of OAuth 2.0 (RFC 6749) with PKCE and token
 * revocation (RFC 7009).
 *
 * Nothing here talks to the network: these functions build the
 * authorize URL and fill a struct hclient_request for the token,
 * refresh, revoke and profile calls, and parse what comes back. The
 * caller sends the request (http/client.h) and owns the policy: which
 * provider, when to refresh, where tokens are stored.
 *
 * Requests are built in a caller's arena and carry secrets (client
 * secret, code, verifier, refresh token) in their body and headers: the
 * arena must not outlive the request, and its memory is not wiped on
 * release.
 *
 * Form values are encoded as application/x-www-form-urlencoded (RFC 6749
 * appendix B): ALPHA, DIGIT and "-._~" as they are, space as '+', every
 * other byte as %XX in upper case.
 */
#ifndef FERRY_OAUTH_OAUTH2_H
#define FERRY_OAUTH_OAUTH2_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/client.h"

/* Ceilings on what a token endpoint may send, per value. */
#define OAUTH2_TOKEN_MAX   16384 /* access, refresh and id tokens */
#define OAUTH2_SCOPE_MAX   4096
#define OAUTH2_ERROR_MAX   256  /* the "error" code */
#define OAUTH2_ERRDESC_MAX 1024 /* "error_description" */

/* expires_in above this (ten years) is taken as this. */
#define OAUTH2_EXPIRES_MAX 315360000L

/* Longest user id oauth2_user_id() accepts, in bytes. */
#define OAUTH2_USER_ID_MAX 256

/* Body bytes a token answer may have; set as the request's ceiling. */
#define OAUTH2_ANSWER_MAX (256 * 1024)

/*
 * One provider as an OAuth 2.0 client sees it. All strings are borrowed
 * and must outlive every call that is given the struct.
 */
struct oauth2_client {
    const char *authorize_url;
    const char *token_url;
    const char *revoke_url; /* may be NULL */
    const char *client_id;
    const char *client_secret; /* may be NULL (public client) */
    const char *redirect_uri;
    const char *scopes; /* space-separated, may be NULL */
    int pkce;           /* 1: S256 */
    int auth_post;      /* 1: client_secret_post, 0: client_secret_basic */
    long timeout_ms;    /* for the requests built here; 0 = client default */
};

/* What a token endpoint answered, strings in the caller's arena. */
struct oauth2_tokens {
    const char *access_token;
    const char *refresh_token;     /* NULL when none sent */
    const char *token_type;        /* as sent; "Bearer" when none sent */
    const char *scope;             /* NULL when none sent */
    const char *id_token;          /* NULL when none sent */
    long expires_in;               /* 0 when none sent */
    const char *error;             /* RFC 6749 5.2 "error", when an error */
    const char *error_description; /* NULL when none sent */
};

/*
 * Append `s` (borrowed, `len` bytes) to `out` form-urlencoded as
 * described at the top of this file. 0, or ERR_TOOBIG at the buffer's
 * ceiling.
 */
int oauth2_form_encode(struct buf *out, const char *s, size_t len);

/*
 * Write the authorize URL to `out`: c->authorize_url with its own query
 * kept and, appended with '&' (or '?'), response_type=code, client_id,
 * redirect_uri, scope (when c->scopes is not NULL), state and, when
 * `challenge` is not NULL, code_challenge and
 * code_challenge_method=S256. `state` and `challenge` are borrowed.
 * Errors: ERR_INVALID when authorize_url is missing or has a fragment,
 * or client_id, redirect_uri or state is missing; ERR_TOOBIG at the
 * buffer's ceiling. `out` may hold part of the URL after an error.
 */
int oauth2_authorize_url(const struct oauth2_client *c, const char *state,
                         const char *challenge, struct buf *out, struct err *e);

/*
 * Fill `r` for the token request of an authorization code: POST
 * c->token_url, Content-Type application/x-www-form-urlencoded, Accept
 * application/json, body grant_type=authorization_code, code,
 * redirect_uri and code_verifier (when `verifier` is not NULL). Client
 * authentication follows RFC 6749 2.3.1: with auth_post, client_id and
 * client_secret go in the body; otherwise `Authorization: Basic` of
 * form-encoded client_id ":" form-encoded client_secret. A public client
 * (no secret) sends client_id in the body either way. `r` is cleared
 * first; every string it points to lives in `a`; max_response is
 * OAUTH2_ANSWER_MAX and public_only is 0 (token URLs come from the
 * operator's configuration). Errors: ERR_INVALID for a missing
 * token_url, client_id or code; ERR_NOMEM at the arena's ceiling.
 */
int oauth2_code_request(const struct oauth2_client *c, const char *code,
                        const char *verifier, struct arena *a,
                        struct hclient_request *r, struct err *e);

/*
 * As oauth2_code_request() for grant_type=refresh_token with
 * `refresh_token`. No scope is sent, so the original grant's scope is
 * kept (RFC 6749 section 6). ERR_INVALID when `refresh_token` is
 * missing.
 */
int oauth2_refresh_request(const struct oauth2_client *c,
                           const char *refresh_token, struct arena *a,
                           struct hclient_request *r, struct err *e);

/*
 * As oauth2_code_request() for an RFC 7009 revocation of `token` at
 * c->revoke_url, with token_type_hint when `hint` ("access_token",
 * "refresh_token") is not NULL. ERR_INVALID when revoke_url is NULL.
 * The answer is 200 with any body when it worked.
 */
int oauth2_revoke_request(const struct oauth2_client *c, const char *token,
                          const char *hint, struct arena *a,
                          struct hclient_request *r, struct err *e);

/*
 * Parse a token endpoint answer: HTTP `status` and `len` bytes of `body`
 * (borrowed). `out` is cleared first; its strings go to `a`.
 *   0             tokens in `out` (access_token and token_type set)
 *   ERR_UPSTREAM  an RFC 6749 5.2 error answer (any status, since some
 *                 providers send errors with 200): out->error holds the
 *                 code ("invalid_grant", ...) and error_description
 *                 what came with it; or a malformed answer (not JSON,
 *                 not an object, no access_token, a token_type other
 *                 than bearer in any case, a value of the wrong type, a
 *                 value over its ceiling above, a status that is not 2xx
 *                 without an "error"): out->error is NULL and `e` says
 *                 what was wrong
 *   ERR_NOMEM     the arena's ceiling
 * expires_in may be a non-negative integer or a string of digits
 * (providers differ); above OAUTH2_EXPIRES_MAX it is taken as that.
 * Nothing of the tokens reaches `e`.
 */
int oauth2_token_parse(long status, const char *body, size_t len,
                       struct arena *a, struct oauth2_tokens *out,
                       struct err *e);

/*
 * The user id in a profile or userinfo JSON body (`len` bytes at `body`,
 * borrowed): `field` is a dotted path of object keys ("sub", "user.id",
 * at most 8 deep). A string is taken as it is, an integer as its decimal
 * digits; `*out` gets a copy in `a`. ERR_UPSTREAM when the body is not a
 * JSON object or the value is missing, empty, of another type, longer
 * than OAUTH2_USER_ID_MAX, not valid UTF-8 or holds a control
 * character; ERR_INVALID for an empty `field`; ERR_NOMEM at the arena's
 * ceiling. `*out` is NULL on error.
 */
int oauth2_user_id(const char *body, size_t len, const char *field,
                   struct arena *a, const char **out, struct err *e);

/*
 * Fill `r` for a GET of `url` with `Authorization: Bearer <token>` and
 * Accept application/json (strings in `a`, `r` cleared first). The
 * caller sets timeout_ms, max_response and public_only as it needs.
 * ERR_INVALID when `url` or `token` is missing or `token` holds a byte
 * that cannot go in a header; ERR_NOMEM at the arena's ceiling.
 */
int oauth2_bearer_request(const char *url, const char *token, struct arena *a,
                          struct hclient_request *r, struct err *e);

#endif
