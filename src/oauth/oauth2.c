/*
 * oauth2.c - authorize URLs, token/refresh/revoke requests and the
 * parsing of what token and profile endpoints answer.
 *
 * Request bodies are assembled in a bounded scratch buffer, copied into
 * the caller's arena and the scratch is wiped: the body holds the client
 * secret, the code or a refresh token. XXX: the arena copy is not wiped
 * when the arena is released (arena_release() only frees); a wiping
 * release in core/arena.c, or a caller-side wipe of r->body and the
 * Authorization header, is still to choose.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/utf8.h"
#include "oauth/oauth2.h"

/* Ceiling of a request body or an Authorization header built here. */
#define FORM_MAX (64 * 1024)

/* Longest token_type accepted ("Bearer" in practice). */
#define TOKEN_TYPE_MAX 64

/* Deepest dotted path oauth2_user_id() follows, and its longest key. */
#define PATH_DEPTH_MAX 8
#define PATH_KEY_MAX   128

static const char form_ctype[] =
    "Content-Type: application/x-www-form-urlencoded";
static const char accept_json[] = "Accept: application/json";

int
oauth2_form_encode(struct buf *out, const char *s, size_t len)
{
    return codec_pct_encode(out, s, len, 1);
}

/* Append `name=enc(value)` to `b`, after a '&' unless `b` is empty. */
static int
add_param(struct buf *b, const char *name, const char *value)
{
    int rc = 0;

    if (b->len > 0) {
        rc = buf_addch(b, '&');
    }
    if (rc == 0) {
        rc = buf_addstr(b, name);
    }
    if (rc == 0) {
        rc = buf_addch(b, '=');
    }
    if (rc == 0) {
        rc = oauth2_form_encode(b, value, strlen(value));
    }
    return rc;
}

/* 1 when `s` is set and not empty. */
static int
present(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Wipe and free a scratch buffer that held a secret. */
static void
wipe_release(struct buf *b)
{
    if (b->data != NULL) {
        crypto_wipe(b->data, b->cap);
    }
    buf_release(b);
}

int
oauth2_authorize_url(const struct oauth2_client *c, const char *state,
                     const char *challenge, struct buf *out, struct err *e)
{
    const char *url = c->authorize_url;
    struct buf q;
    size_t n = 0;
    int rc = 0;

    if (!present(url) || strchr(url, '#') != NULL) {
        return err_set(e, ERR_INVALID,
                       "authorize_url is missing or has a fragment");
    }
    if (!present(c->client_id) || !present(c->redirect_uri) ||
        !present(state)) {
        return err_set(e, ERR_INVALID,
                       "client_id, redirect_uri and state are needed");
    }
    buf_init(&q, FORM_MAX);
    rc = add_param(&q, "response_type", "code");
    if (rc == 0) {
        rc = add_param(&q, "client_id", c->client_id);
    }
    if (rc == 0) {
        rc = add_param(&q, "redirect_uri", c->redirect_uri);
    }
    if (rc == 0 && c->scopes != NULL) {
        rc = add_param(&q, "scope", c->scopes);
    }
    if (rc == 0) {
        rc = add_param(&q, "state", state);
    }
    if (rc == 0 && challenge != NULL) {
        rc = add_param(&q, "code_challenge", challenge);
    }
    if (rc == 0 && challenge != NULL) {
        rc = add_param(&q, "code_challenge_method", "S256");
    }

    /* the query is built; join it to the URL's own */
    n = strlen(url);
    if (rc == 0) {
        rc = buf_addstr(out, url);
    }
    if (rc == 0 && strchr(url, '?') == NULL) {
        rc = buf_addch(out, '?');
    } else if (rc == 0 && url[n - 1] != '?' && url[n - 1] != '&') {
        rc = buf_addch(out, '&');
    }
    if (rc == 0) {
        rc = buf_add(out, q.data, q.len);
    }
    if (rc < 0) {
        err_set(e, rc, "authorize URL too long");
    }
    buf_release(&q);
    return rc;
}

/* `Authorization: Basic b64(enc(id) ":" enc(secret))` in `a`, or NULL. */
static const char *
basic_header(const struct oauth2_client *c, struct arena *a)
{
    static const char prefix[] = "Authorization: Basic ";
    struct buf cred;
    char *h = NULL;
    size_t need = 0;

    buf_init(&cred, FORM_MAX);
    if (oauth2_form_encode(&cred, c->client_id, strlen(c->client_id)) < 0 ||
        buf_addch(&cred, ':') < 0 ||
        oauth2_form_encode(&cred, c->client_secret, strlen(c->client_secret)) <
            0) {
        goto out;
    }
    need = sizeof(prefix) + CODEC_B64_LEN(cred.len);
    h = arena_alloc(a, need);
    if (h == NULL) {
        goto out;
    }
    memcpy(h, prefix, sizeof(prefix) - 1);
    codec_b64_encode(cred.data, cred.len, h + sizeof(prefix) - 1,
                     need - (sizeof(prefix) - 1));

out:
    wipe_release(&cred);
    return h;
}

/*
 * Finish a request to `url` whose grant parameters are in `form`: add
 * client authentication, copy the body into `a` and fill `r`.
 */
static int
finish_request(const struct oauth2_client *c, const char *url, struct buf *form,
               struct arena *a, struct hclient_request *r, struct err *e)
{
    int secret = present(c->client_secret);
    size_t nh = 0;
    int rc = 0;

    if (!secret || c->auth_post) {
        rc = add_param(form, "client_id", c->client_id);
    }
    if (rc == 0 && secret && c->auth_post) {
        rc = add_param(form, "client_secret", c->client_secret);
    }
    if (rc < 0) {
        return err_set(e, rc, "token request too large");
    }
    r->method = "POST";
    r->url = arena_strdup(a, url);
    r->body = arena_strndup(a, buf_str(form), form->len);
    r->body_len = form->len;
    r->headers[nh++] = form_ctype;
    r->headers[nh++] = accept_json;
    if (secret && !c->auth_post) {
        r->headers[nh++] = basic_header(c, a);
        if (r->headers[nh - 1] == NULL) {
            return err_set(e, ERR_NOMEM, "no memory for the token request");
        }
    }
    r->headers[nh] = NULL;
    r->timeout_ms = c->timeout_ms;
    r->max_response = OAUTH2_ANSWER_MAX;
    r->public_only = 0;
    if (r->url == NULL || r->body == NULL) {
        return err_set(e, ERR_NOMEM, "no memory for the token request");
    }
    return 0;
}

/*
 * Build a POST to `url` with the `n` name/value pairs in `kv` (a NULL
 * value is left out) plus client authentication.
 */
static int
form_request(const struct oauth2_client *c, const char *url,
             const char *const *kv, size_t n, struct arena *a,
             struct hclient_request *r, struct err *e)
{
    struct buf form;
    size_t i = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (!present(url) || !present(c->client_id)) {
        return err_set(e, ERR_INVALID,
                       "the endpoint URL and client_id are "
                       "needed");
    }
    buf_init(&form, FORM_MAX);
    for (i = 0; i + 1 < n && rc == 0; i += 2) {
        if (kv[i + 1] != NULL) {
            rc = add_param(&form, kv[i], kv[i + 1]);
        }
    }
    if (rc < 0) {
        rc = err_set(e, rc, "token request too large");
    } else {
        rc = finish_request(c, url, &form, a, r, e);
    }
    wipe_release(&form);
    return rc;
}

int
oauth2_code_request(const struct oauth2_client *c, const char *code,
                    const char *verifier, struct arena *a,
                    struct hclient_request *r, struct err *e)
{
    const char *kv[] = {
        "grant_type",   "authorization_code", "code",          code,
        "redirect_uri", c->redirect_uri,      "code_verifier", verifier,
    };

    if (!present(code)) {
        memset(r, 0, sizeof(*r));
        return err_set(e, ERR_INVALID, "no authorization code");
    }
    return form_request(c, c->token_url, kv, sizeof(kv) / sizeof(kv[0]), a, r,
                        e);
}

int
oauth2_refresh_request(const struct oauth2_client *c, const char *refresh_token,
                       struct arena *a, struct hclient_request *r,
                       struct err *e)
{
    const char *kv[] = {
        "grant_type",
        "refresh_token",
        "refresh_token",
        refresh_token,
    };

    if (!present(refresh_token)) {
        memset(r, 0, sizeof(*r));
        return err_set(e, ERR_INVALID, "no refresh token");
    }
    return form_request(c, c->token_url, kv, sizeof(kv) / sizeof(kv[0]), a, r,
                        e);
}

int
oauth2_revoke_request(const struct oauth2_client *c, const char *token,
                      const char *hint, struct arena *a,
                      struct hclient_request *r, struct err *e)
{
    const char *kv[] = {"token", token, "token_type_hint", hint};

    if (!present(c->revoke_url) || !present(token)) {
        memset(r, 0, sizeof(*r));
        return err_set(e, ERR_INVALID, "no revocation URL or no token");
    }
    return form_request(c, c->revoke_url, kv, sizeof(kv) / sizeof(kv[0]), a, r,
                        e);
}

/* 1 when every byte of `s` is visible ASCII (no space), as a token that
 * goes into a header must be. */
static int
visible_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/*
 * Copy the string member `key` of `obj` into `*out` (arena), checking
 * its type and length; absent or null leaves `*out` NULL. With `token`
 * the value must be visible ASCII.
 */
static int
get_string(json_t *obj, const char *key, size_t max, int token, struct arena *a,
           const char **out, struct err *e)
{
    json_t *v = json_object_get(obj, key);
    const char *s = NULL;
    size_t n = 0;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return err_set(e, ERR_UPSTREAM, "token answer: %s is not a string",
                       key);
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n > max) {
        return err_set(e, ERR_UPSTREAM,
                       "token answer: %s is longer than %zu bytes", key, max);
    }
    if (token && !visible_ascii(s)) {
        return err_set(e, ERR_UPSTREAM,
                       "token answer: %s has bytes a token may not have", key);
    }
    *out = arena_strndup(a, s, n);
    if (*out == NULL) {
        return err_set(e, ERR_NOMEM, "no memory for the token answer");
    }
    return 0;
}

/* expires_in as a number or a string of digits, clamped; absent is 0. */
static int
get_expires(json_t *obj, long *out, struct err *e)
{
    json_t *v = json_object_get(obj, "expires_in");
    const char *s = NULL;
    long n = 0;

    *out = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        json_int_t i = json_integer_value(v);

        *out = i > OAUTH2_EXPIRES_MAX ? OAUTH2_EXPIRES_MAX : (long)i;
        return 0;
    }
    s = json_is_string(v) ? json_string_value(v) : "";
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s)) {
        return err_set(e, ERR_UPSTREAM,
                       "token answer: expires_in is not a number of seconds");
    }
    for (; *s != '\0'; s++) {
        n = n * 10 + (*s - '0');
        if (n > OAUTH2_EXPIRES_MAX) {
            n = OAUTH2_EXPIRES_MAX;
            break;
        }
    }
    *out = n;
    return 0;
}

/* An RFC 6749 5.2 answer: its code and description into `out`. */
static int
error_answer(json_t *root, long status, struct arena *a,
             struct oauth2_tokens *out, struct err *e)
{
    const char *code = NULL;
    const char *desc = NULL;
    int rc = get_string(root, "error", OAUTH2_ERROR_MAX, 0, a, &code, e);
    size_t i = 0;

    if (rc < 0) {
        return rc;
    }
    if (*code == '\0') {
        return err_set(e, ERR_UPSTREAM, "token answer: error is empty");
    }
    for (i = 0; code[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)code[i];

        if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
            return err_set(e, ERR_UPSTREAM,
                           "token answer: error has bytes RFC 6749 does "
                           "not allow");
        }
    }

    /* a description that is too long or not a string is dropped */
    if (get_string(root, "error_description", OAUTH2_ERRDESC_MAX, 0, a, &desc,
                   NULL) < 0) {
        desc = NULL;
    }
    out->error = code;
    out->error_description = desc;
    return err_set(e, ERR_UPSTREAM, "token endpoint refused (HTTP %ld): %s",
                   status, code);
}

/* The fields of a successful answer into `out`. */
static int
tokens_answer(json_t *root, struct arena *a, struct oauth2_tokens *out,
              struct err *e)
{
    const char *type = NULL;
    int rc = 0;

    rc = get_string(root, "access_token", OAUTH2_TOKEN_MAX, 1, a,
                    &out->access_token, e);
    if (rc == 0 && (out->access_token == NULL || *out->access_token == '\0')) {
        rc = err_set(e, ERR_UPSTREAM, "token answer: no access_token");
    }
    if (rc == 0) {
        rc = get_string(root, "token_type", TOKEN_TYPE_MAX, 0, a, &type, e);
    }
    if (rc == 0 && type != NULL && strcasecmp(type, "bearer") != 0) {
        rc = err_set(e, ERR_UPSTREAM, "token answer: token_type is not Bearer");
    }
    out->token_type = type != NULL ? type : "Bearer";
    if (rc == 0) {
        rc = get_string(root, "refresh_token", OAUTH2_TOKEN_MAX, 1, a,
                        &out->refresh_token, e);
    }
    if (rc == 0) {
        rc = get_string(root, "id_token", OAUTH2_TOKEN_MAX, 1, a,
                        &out->id_token, e);
    }
    if (rc == 0) {
        rc = get_string(root, "scope", OAUTH2_SCOPE_MAX, 0, a, &out->scope, e);
    }
    if (rc == 0) {
        rc = get_expires(root, &out->expires_in, e);
    }
    return rc;
}

int
oauth2_token_parse(long status, const char *body, size_t len, struct arena *a,
                   struct oauth2_tokens *out, struct err *e)
{
    json_t *root = NULL;
    json_t *error = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    root =
        json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL || !json_is_object(root)) {
        rc = err_set(e, ERR_UPSTREAM,
                     "token endpoint answered HTTP %ld with %s", status,
                     root == NULL ? "a body that is not JSON"
                                  : "JSON that is not an object");
        goto out;
    }
    error = json_object_get(root, "error");
    if (error != NULL && !json_is_null(error)) {
        rc = error_answer(root, status, a, out, e);
        goto out;
    }
    if (status < 200 || status > 299) {
        rc = err_set(e, ERR_UPSTREAM,
                     "token endpoint answered HTTP %ld without an error code",
                     status);
        goto out;
    }
    rc = tokens_answer(root, a, out, e);

out:
    if (rc < 0 && out->error == NULL) {
        memset(out, 0, sizeof(*out));
    }
    json_decref(root);
    return rc;
}

/* 1 when `field` is 1 to PATH_DEPTH_MAX keys of 1 to PATH_KEY_MAX bytes
 * joined by dots. */
static int
path_ok(const char *field)
{
    int depth = 0;

    for (;;) {
        size_t n = strcspn(field, ".");

        if (n == 0 || n > PATH_KEY_MAX || ++depth > PATH_DEPTH_MAX) {
            return 0;
        }
        if (field[n] == '\0') {
            return 1;
        }
        field += n + 1;
    }
}

/* Follow the dotted `field` (checked by path_ok()) from `root`; the
 * value, or NULL when a step is missing or not an object. */
static json_t *
follow_path(json_t *root, const char *field)
{
    char key[PATH_KEY_MAX + 1];
    json_t *v = root;

    while (v != NULL) {
        size_t n = strcspn(field, ".");

        memcpy(key, field, n);
        key[n] = '\0';
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        if (field[n] == '\0') {
            break;
        }
        field += n + 1;
    }
    return v;
}

/* The user id text of `v` into `*out`. */
static int
id_text(json_t *v, struct arena *a, const char **out, struct err *e)
{
    char num[32];
    const char *s = num;

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (json_string_length(v) != strlen(s) || *s == '\0' ||
            strlen(s) > OAUTH2_USER_ID_MAX) {
            return err_set(e, ERR_UPSTREAM,
                           "profile answer: user id is empty or longer "
                           "than %d bytes",
                           OAUTH2_USER_ID_MAX);
        }
        if (!utf8_valid(s) || utf8_has_control(s)) {
            return err_set(e, ERR_UPSTREAM,
                           "profile answer: user id is not clean UTF-8");
        }
    } else {
        return err_set(e, ERR_UPSTREAM,
                       "profile answer: user id is neither a string nor "
                       "an integer");
    }
    *out = arena_strdup(a, s);
    if (*out == NULL) {
        return err_set(e, ERR_NOMEM, "no memory for the user id");
    }
    return 0;
}

int
oauth2_user_id(const char *body, size_t len, const char *field, struct arena *a,
               const char **out, struct err *e)
{
    json_t *root = NULL;
    json_t *v = NULL;
    int rc = 0;

    *out = NULL;
    if (!present(field) || !path_ok(field)) {
        return err_set(e, ERR_INVALID,
                       "user id field: not 1 to %d dot-separated keys",
                       PATH_DEPTH_MAX);
    }
    root =
        json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL || !json_is_object(root)) {
        rc = err_set(e, ERR_UPSTREAM, "profile answer is not a JSON object");
        goto out;
    }
    v = follow_path(root, field);
    if (v == NULL) {
        rc = err_set(e, ERR_UPSTREAM, "profile answer: no %s", field);
        goto out;
    }
    rc = id_text(v, a, out, e);

out:
    json_decref(root);
    return rc;
}

int
oauth2_bearer_request(const char *url, const char *token, struct arena *a,
                      struct hclient_request *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    if (!present(url) || !present(token)) {
        return err_set(e, ERR_INVALID, "a URL and a token are needed");
    }
    if (!visible_ascii(token) || strlen(token) > OAUTH2_TOKEN_MAX) {
        return err_set(e, ERR_INVALID, "the token cannot go into a header");
    }
    r->method = "GET";
    r->url = arena_strdup(a, url);
    r->headers[0] = arena_printf(a, "Authorization: Bearer %s", token);
    r->headers[1] = accept_json;
    r->headers[2] = NULL;
    if (r->url == NULL || r->headers[0] == NULL) {
        memset(r, 0, sizeof(*r));
        return err_set(e, ERR_NOMEM, "no memory for the request");
    }
    return 0;
}
