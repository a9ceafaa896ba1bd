/*
 * internal.h - what the files of the sandbox share. Not for other
 * modules: they use sandbox.h.
 *
 * server.c   the route table, the client secret, replies shared by all
 * form.c     form and query parameters, client credentials
 * request.c  the sealed authorization request and the scopes
 * authorize.c the authorize endpoint: login and consent
 * token.c    the token and revoke endpoints, userinfo
 * pages.c    the HTML of the three pages
 */
#ifndef FERRY_SANDBOX_INTERNAL_H
#define FERRY_SANDBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/server.h"

/* Bounds on what a request may carry, in bytes unless said otherwise. */
#define SANDBOX_STATE_MAX      512
#define SANDBOX_REDIRECT_MAX   512
#define SANDBOX_SCOPE_MAX      256
#define SANDBOX_NAME_CHARS     64  /* code points in a sign-in name */
#define SANDBOX_NAME_MAX       256 /* bytes: 64 code points of 4 bytes */
#define SANDBOX_TOKEN_MAX      256 /* a code or token a client sends */
#define SANDBOX_PARAMS_MAX     24  /* parameters of one form or query */
#define SANDBOX_VALUE_MAX      8192
#define SANDBOX_PAGE_MAX       (32 * 1024)
#define SANDBOX_CREDENTIAL_MAX 512 /* a Basic credential, decoded */

/* ---- form.c: parameters ---- */

struct sandbox_param {
    const char *name;  /* decoded; arena */
    const char *value; /* decoded; arena; "" for `name` alone */
};

/*
 * The parameters of a query or a form body. Parsing never stops at a
 * bad parameter: it keeps the first value of each name and notes the
 * first problem, so a caller can still look at the parameters that
 * decide where an error goes (RFC 6749 4.1.2.1).
 */
struct sandbox_form {
    struct sandbox_param p[SANDBOX_PARAMS_MAX];
    size_t n;
    const char *bad;     /* the first parameter with a problem, or NULL */
    const char *problem; /* what is wrong with it (static) */
};

/*
 * Parse `len` bytes of application/x-www-form-urlencoded text at `s`
 * (borrowed) into `f`, strings in `a`. A parameter is bad when it is
 * given more than once, has a malformed %-escape, is not well-formed
 * UTF-8 or holds a control character once decoded, is longer than
 * SANDBOX_VALUE_MAX, or is past SANDBOX_PARAMS_MAX. 0, or ERR_NOMEM at
 * the arena's ceiling.
 */
int sandbox_form_parse(const char *s, size_t len, struct arena *a,
                       struct sandbox_form *f);

/* The query parameters of `req` into `f`, with the rules above.
 * 0 or ERR_NOMEM. */
int sandbox_query_parse(struct http_request *req, struct sandbox_form *f);

/* The value of `name` in `f`, or NULL when absent. Borrowed from `f`. */
const char *sandbox_form_get(const struct sandbox_form *f, const char *name);

/* "<parameter> <problem>" for `f->bad` (NULL when nothing is wrong),
 * in `a` or static; the name only when it is a plain one, since it goes
 * into error descriptions. Never NULL when something is wrong. */
const char *sandbox_form_describe(const struct sandbox_form *f,
                                  struct arena *a);

/* 1 when `f->bad` is `name`. */
int sandbox_form_bad_is(const struct sandbox_form *f, const char *name);

/* 1 when the Content-Type of `req` is application/x-www-form-urlencoded
 * (any case, parameters such as charset allowed). */
int sandbox_is_form(const struct http_request *req);

/* Decode `len` bytes of form-urlencoded text at `s` ('+' is a space)
 * into a new string in `a`. NULL when an escape is malformed, the
 * result holds a NUL byte, or the arena is full. */
char *sandbox_form_decode(const char *s, size_t len, struct arena *a);

/* ---- request.c: the authorization request between the pages ---- */

/* A scope set: one bit per scope of SANDBOX_SCOPES. */
enum sandbox_scope {
    SANDBOX_SCOPE_ACTIVITY = 1,
    SANDBOX_SCOPE_SLEEP = 2,
    SANDBOX_SCOPE_DAILY = 4,
    SANDBOX_SCOPE_BODY = 8,
    SANDBOX_SCOPE_ALL = 15,
};

/*
 * The scope set of the space-separated `s` (borrowed): single spaces
 * between names, each a scope of SANDBOX_SCOPES, repeats allowed.
 * ERR_INVALID for anything else, the empty string included.
 */
int sandbox_scope_parse(const char *s, unsigned *set);

/* The scope names of `set` in SANDBOX_SCOPES order, space-separated,
 * into `out` (room for sizeof(SANDBOX_SCOPES)). */
void sandbox_scope_string(unsigned set, char *out, size_t outsz);

/* The human name of the i-th scope of SANDBOX_SCOPES ("Activity", ...),
 * or NULL past the last. Static. */
const char *sandbox_scope_title(size_t i);

enum sandbox_step {
    SANDBOX_STEP_LOGIN = 1,   /* sent with the login page */
    SANDBOX_STEP_CONSENT = 2, /* sent with the consent page */
};

/* An authorization request that passed every check of the authorize
 * endpoint. Strings are borrowed (or in the arena when opened). */
struct sandbox_request {
    int step;                 /* enum sandbox_step */
    int64_t expires_at;       /* unix seconds */
    const char *redirect_uri; /* the registered one */
    unsigned scope;           /* enum sandbox_scope bits */
    const char *state;        /* NULL when the client sent none */
    const char *challenge;    /* PKCE S256 */
    const char *name;         /* consent only: the name signed in with */
};

/*
 * Seal `r` for a hidden form field: the fields serialised, then a '.'
 * and an HMAC-SHA256 of them under a key derived from the master key,
 * both base64url. `*out` is in `ar`. 0, or ERR_NOMEM / ERR_TOOBIG.
 */
int sandbox_request_seal(const struct app *a, const struct sandbox_request *r,
                         struct arena *ar, const char **out);

/*
 * Check and open a sealed request sent back by a form: its MAC, that it
 * was sealed for `step`, and that it has not expired at `now` (unix
 * seconds). `out` borrows from `ar`. ERR_INVALID for anything malformed,
 * changed or sealed for another step, ERR_GONE when expired (with a
 * sentence in `e`), ERR_NOMEM.
 */
int sandbox_request_open(const struct app *a, const char *sealed, int step,
                         int64_t now, struct arena *ar,
                         struct sandbox_request *out, struct err *e);

/*
 * The account key of a sign-in name: `name` (borrowed) with its ASCII
 * letters lowered, into `out` (room for SANDBOX_NAME_MAX + 1).
 */
void sandbox_name_fold(const char *name, char *out, size_t outsz);

/* ---- pages.c ---- */

/* The login page; `name` (the value to show again, may be NULL) and
 * `problem` (a sentence above the form, may be NULL) after a refusal. */
int sandbox_page_login(struct buf *out, const char *action, const char *sealed,
                       const char *name, const char *problem);

/* The consent page for `client` (its display name) wanting `scope`,
 * signed in as `name`. */
int sandbox_page_consent(struct buf *out, const char *action,
                         const char *sealed, const char *client, unsigned scope,
                         const char *name);

/* A page for a request that cannot go on: `title`, `text` and `detail`
 * (what was wrong, may be NULL). */
int sandbox_page_error(struct buf *out, const char *title, const char *text,
                       const char *detail);

/* ---- server.c: shared by the endpoints ---- */

/* The redirect URI registered for SANDBOX_CLIENT_ID, in `ar`; NULL when
 * the arena is full. */
const char *sandbox_redirect_uri(const struct app *a, struct arena *ar);

/* Send the page in `page` with `status` and the headers of every HTML
 * page; the form may post to the public origin. */
int sandbox_send_page(struct http_request *req, struct http_response *resp,
                      int status, const struct buf *page);

/* Send an error page (see sandbox_page_error()) with `status`. */
int sandbox_send_error_page(struct http_request *req,
                            struct http_response *resp, int status,
                            const char *title, const char *text,
                            const char *detail);

/* Answer 302 to `location` (must live as long as the request). */
int sandbox_redirect(struct http_request *req, struct http_response *resp,
                     const char *location);

/*
 * Append `name=value` to the URL in `b`, after '?' when `b` holds no
 * query yet and '&' otherwise, the value form-encoded. ERR_TOOBIG at
 * the buffer's ceiling.
 */
int sandbox_url_param(struct buf *b, const char *name, const char *value);

/* ---- the endpoints ---- */

int sandbox_authorize_get(struct http_request *req, struct http_response *resp);
int sandbox_authorize_post(struct http_request *req,
                           struct http_response *resp);
int sandbox_token(struct http_request *req, struct http_response *resp);
int sandbox_revoke(struct http_request *req, struct http_response *resp);
int sandbox_userinfo(struct http_request *req, struct http_response *resp);

struct store_sandbox_token;

/*
 * The live access token that the request's "Authorization: Bearer"
 * header carries, into `*t` (strings in the request's arena). ERR_AUTH
 * when there is no Bearer credential (RFC 6750's invalid_request),
 * ERR_NOTFOUND when the token is unknown, not an access token, expired
 * or revoked (invalid_token); another code, detail in `e`, when the
 * store failed.
 */
int sandbox_bearer_token(struct http_request *req,
                         struct store_sandbox_token *t, struct err *e);

#endif
