/*
 * test_oauth2.c - authorize URLs, token requests, token answers and user
 * ids.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/err.h"
#include "oauth/oauth2.h"
#include "tap.h"

static const struct oauth2_client base_client = {
    .authorize_url = "https://id.example.com/authorize",
    .token_url = "https://id.example.com/token",
    .revoke_url = "https://id.example.com/revoke",
    .client_id = "ferry-app",
    .client_secret = "s3cret",
    .redirect_uri = "https://ferry.example.org/callback/mycorp",
    .scopes = "openid profile",
    .pkce = 1,
    .timeout_ms = 5000,
};

/* The header of `r` that starts with `prefix`, or NULL. */
static const char *
header(const struct hclient_request *r, const char *prefix)
{
    size_t i = 0;

    for (i = 0; i < HCLIENT_MAX_HEADERS && r->headers[i] != NULL; i++) {
        if (strncmp(r->headers[i], prefix, strlen(prefix)) == 0) {
            return r->headers[i];
        }
    }
    return NULL;
}

static void
test_form_encode(void)
{
    struct buf b;

    buf_init(&b, 256);
    oauth2_form_encode(&b, "a b+c&d=e~f.g_h-i%", 18);
    is_str(buf_str(&b), "a+b%2Bc%26d%3De~f.g_h-i%25",
           "form encoding: space '+', reserved %XX");
    buf_reset(&b);
    oauth2_form_encode(&b, "\xc3\xa9:/", 4);
    is_str(buf_str(&b), "%C3%A9%3A%2F", "form encoding: UTF-8 and delims");
    buf_release(&b);
}

static void
test_authorize_url(void)
{
    struct oauth2_client c = base_client;
    struct buf b;
    struct err e;

    buf_init(&b, 4096);
    is_int(oauth2_authorize_url(&c, "st4te",
                                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URW"
                                "buGJSstw-cM",
                                &b, &e),
           0, "authorize: built");
    is_str(buf_str(&b),
           "https://id.example.com/authorize?response_type=code&"
           "client_id=ferry-app&redirect_uri=https%3A%2F%2Fferry.example.org"
           "%2Fcallback%2Fmycorp&scope=openid+profile&state=st4te&"
           "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&"
           "code_challenge_method=S256",
           "authorize: every parameter, scope space as '+'");

    c.authorize_url = "https://id.example.com/auth?prompt=consent&x=a%20b";
    c.scopes = NULL;
    buf_reset(&b);
    is_int(oauth2_authorize_url(&c, "s", NULL, &b, &e), 0,
           "existing query: built");
    is_str(buf_str(&b),
           "https://id.example.com/auth?prompt=consent&x=a%20b&"
           "response_type=code&client_id=ferry-app&redirect_uri=https%3A%2F"
           "%2Fferry.example.org%2Fcallback%2Fmycorp&state=s",
           "existing query kept, no scope, no challenge");

    c.authorize_url = "https://id.example.com/auth?";
    buf_reset(&b);
    oauth2_authorize_url(&c, "s", NULL, &b, &e);
    ok(strncmp(buf_str(&b), "https://id.example.com/auth?response_type=", 42) ==
           0,
       "trailing '?' not doubled");

    c.authorize_url = "https://id.example.com/auth#frag";
    is_int(oauth2_authorize_url(&c, "s", NULL, &b, &e), ERR_INVALID,
           "fragment refused");
    c = base_client;
    is_int(oauth2_authorize_url(&c, NULL, NULL, &b, &e), ERR_INVALID,
           "no state refused");
    c.client_id = NULL;
    is_int(oauth2_authorize_url(&c, "s", NULL, &b, &e), ERR_INVALID,
           "no client_id refused");
    buf_release(&b);
}

/* Decode `Authorization: Basic X` of `r` into `out`. */
static void
basic_of(const struct hclient_request *r, char *out, size_t outsz)
{
    const char *h = header(r, "Authorization: Basic ");
    size_t n = 0;

    out[0] = '\0';
    if (h != NULL) {
        h += strlen("Authorization: Basic ");
        if (codec_b64_decode(h, strlen(h), (unsigned char *)out, outsz - 1,
                             &n) == 0) {
            out[n] = '\0';
        }
    }
}

static void
test_code_request(void)
{
    struct oauth2_client c = base_client;
    struct hclient_request r;
    struct arena a;
    struct err e;
    char cred[256];

    arena_init(&a, 64 * 1024);
    c.client_secret = "p%ss:word";
    is_int(oauth2_code_request(&c, "the code", "verif-ier", &a, &r, &e), 0,
           "code request: built");
    is_str(r.method, "POST", "code request: POST");
    is_str(r.url, "https://id.example.com/token", "code request: token URL");
    is_str(r.body,
           "grant_type=authorization_code&code=the+code&redirect_uri=https%3A"
           "%2F%2Fferry.example.org%2Fcallback%2Fmycorp&code_verifier="
           "verif-ier",
           "code request: body without client credentials");
    is_int(r.body_len, strlen(r.body), "code request: body_len");
    ok(header(&r, "Content-Type: application/x-www-form-urlencoded") != NULL,
       "code request: form content type");
    ok(header(&r, "Accept: application/json") != NULL,
       "code request: accepts JSON");
    basic_of(&r, cred, sizeof(cred));
    is_str(cred, "ferry-app:p%25ss%3Aword",
           "basic auth: both parts form-encoded first (2.3.1)");
    is_int(r.timeout_ms, 5000, "code request: timeout");
    is_int(r.max_response, OAUTH2_ANSWER_MAX, "code request: answer ceiling");

    c.auth_post = 1;
    is_int(oauth2_code_request(&c, "abc", NULL, &a, &r, &e), 0,
           "client_secret_post: built");
    is_str(r.body,
           "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F"
           "%2Fferry.example.org%2Fcallback%2Fmycorp&client_id=ferry-app&"
           "client_secret=p%25ss%3Aword",
           "client_secret_post: credentials in the body, no verifier");
    ok(header(&r, "Authorization:") == NULL, "client_secret_post: no header");

    c.auth_post = 0;
    c.client_secret = NULL;
    is_int(oauth2_code_request(&c, "abc", "v", &a, &r, &e), 0,
           "public client: built");
    ok(strstr(r.body, "&client_id=ferry-app") != NULL &&
           strstr(r.body, "client_secret") == NULL,
       "public client: client_id in the body, no secret");
    ok(header(&r, "Authorization:") == NULL, "public client: no header");

    is_int(oauth2_code_request(&c, "", "v", &a, &r, &e), ERR_INVALID,
           "empty code refused");
    c.token_url = NULL;
    is_int(oauth2_code_request(&c, "abc", "v", &a, &r, &e), ERR_INVALID,
           "no token URL refused");
    arena_release(&a);
}

static void
test_refresh_and_revoke(void)
{
    struct oauth2_client c = base_client;
    struct hclient_request r;
    struct arena a;
    struct err e;
    char cred[256];

    arena_init(&a, 64 * 1024);
    is_int(oauth2_refresh_request(&c, "r/t+1", &a, &r, &e), 0,
           "refresh: built");
    is_str(r.body, "grant_type=refresh_token&refresh_token=r%2Ft%2B1",
           "refresh: body");
    basic_of(&r, cred, sizeof(cred));
    is_str(cred, "ferry-app:s3cret", "refresh: basic auth");
    is_int(oauth2_refresh_request(&c, NULL, &a, &r, &e), ERR_INVALID,
           "refresh: no token refused");

    is_int(oauth2_revoke_request(&c, "tok", "refresh_token", &a, &r, &e), 0,
           "revoke: built");
    is_str(r.url, "https://id.example.com/revoke", "revoke: URL");
    is_str(r.body, "token=tok&token_type_hint=refresh_token", "revoke: body");
    is_int(oauth2_revoke_request(&c, "tok", NULL, &a, &r, &e), 0,
           "revoke without hint: built");
    is_str(r.body, "token=tok", "revoke without hint: body");
    c.revoke_url = NULL;
    is_int(oauth2_revoke_request(&c, "tok", NULL, &a, &r, &e), ERR_INVALID,
           "revoke: no URL refused");
    arena_release(&a);
}

static int
parse(long status, const char *body, struct arena *a, struct oauth2_tokens *t,
      struct err *e)
{
    return oauth2_token_parse(status, body, strlen(body), a, t, e);
}

static void
test_token_good(void)
{
    struct oauth2_tokens t;
    struct arena a;
    struct err e;

    arena_init(&a, 1 << 20);
    is_int(parse(200,
                 "{\"access_token\":\"at.1\",\"token_type\":\"bearer\","
                 "\"expires_in\":3600,\"refresh_token\":\"rt-1\","
                 "\"scope\":\"read write\",\"id_token\":\"a.b.c\"}",
                 &a, &t, &e),
           0, "good answer: 0");
    is_str(t.access_token, "at.1", "good: access_token");
    is_str(t.refresh_token, "rt-1", "good: refresh_token");
    is_str(t.token_type, "bearer", "good: token_type as sent");
    is_str(t.scope, "read write", "good: scope");
    is_str(t.id_token, "a.b.c", "good: id_token");
    is_int(t.expires_in, 3600, "good: expires_in");
    ok(t.error == NULL, "good: no error");

    is_int(parse(200, "{\"access_token\":\"x\",\"token_type\":\"BEARER\"}", &a,
                 &t, &e),
           0, "minimal answer, BEARER in capitals");
    ok(t.refresh_token == NULL && t.scope == NULL && t.id_token == NULL &&
           t.expires_in == 0,
       "minimal: absent fields NULL / 0");

    is_int(parse(201, "{\"access_token\":\"x\",\"refresh_token\":null}", &a, &t,
                 &e),
           0, "no token_type, null refresh_token");
    is_str(t.token_type, "Bearer", "no token_type: Bearer");
    ok(t.refresh_token == NULL, "null refresh_token: NULL");

    is_int(parse(200,
                 "{\"access_token\":\"x\",\"token_type\":\"Bearer\","
                 "\"expires_in\":\"7200\"}",
                 &a, &t, &e),
           0, "expires_in as a string");
    is_int(t.expires_in, 7200, "expires_in string: value");
    arena_release(&a);
}

static void
test_token_errors(void)
{
    struct oauth2_tokens t;
    struct arena a;
    struct err e;

    arena_init(&a, 1 << 20);
    is_int(parse(400,
                 "{\"error\":\"invalid_grant\",\"error_description\":"
                 "\"code expired\"}",
                 &a, &t, &e),
           ERR_UPSTREAM, "invalid_grant: ERR_UPSTREAM");
    is_str(t.error, "invalid_grant", "invalid_grant: error");
    is_str(t.error_description, "code expired", "invalid_grant: description");
    ok(strstr(e.msg, "invalid_grant") != NULL, "invalid_grant: in message");

    is_int(parse(200, "{\"error\":\"invalid_client\"}", &a, &t, &e),
           ERR_UPSTREAM, "error with 200: ERR_UPSTREAM");
    is_str(t.error, "invalid_client", "error with 200: error");
    ok(t.error_description == NULL, "error with 200: no description");

    is_int(parse(400, "{\"error\":{\"code\":1}}", &a, &t, &e), ERR_UPSTREAM,
           "error as an object: ERR_UPSTREAM");
    ok(t.error == NULL, "error as an object: not taken as a code");

    is_int(parse(200, "access_token=x&token_type=bearer", &a, &t, &e),
           ERR_UPSTREAM, "form body (not JSON): ERR_UPSTREAM");
    ok(t.error == NULL && t.access_token == NULL, "not JSON: nothing set");
    ok(strstr(e.msg, "not JSON") != NULL, "not JSON: said");

    is_int(
        parse(200, "<html><body>Service unavailable</body></html>", &a, &t, &e),
        ERR_UPSTREAM, "HTML page with 200: ERR_UPSTREAM");
    ok(strstr(e.msg, "Service") == NULL, "HTML page: not echoed");
    is_int(parse(200, "", &a, &t, &e), ERR_UPSTREAM, "empty body");
    is_int(parse(200, "[\"access_token\"]", &a, &t, &e), ERR_UPSTREAM,
           "JSON array");
    is_int(parse(200, "{\"token_type\":\"bearer\"}", &a, &t, &e), ERR_UPSTREAM,
           "missing access_token");
    ok(strstr(e.msg, "access_token") != NULL, "missing access_token: said");
    is_int(parse(200, "{\"access_token\":\"\"}", &a, &t, &e), ERR_UPSTREAM,
           "empty access_token");
    is_int(parse(200, "{\"access_token\":42}", &a, &t, &e), ERR_UPSTREAM,
           "access_token a number");
    is_int(parse(200, "{\"access_token\":\"a b\"}", &a, &t, &e), ERR_UPSTREAM,
           "access_token with a space");
    is_int(parse(200, "{\"access_token\":\"x\",\"token_type\":\"mac\"}", &a, &t,
                 &e),
           ERR_UPSTREAM, "token_type mac");
    ok(strstr(e.msg, "token_type") != NULL, "token_type mac: said");
    ok(t.access_token == NULL, "token_type mac: nothing kept");
    is_int(parse(200, "{\"access_token\":\"x\",\"scope\":[\"a\"]}", &a, &t, &e),
           ERR_UPSTREAM, "scope as an array");
    is_int(parse(200, "{\"access_token\":\"x\",\"expires_in\":-5}", &a, &t, &e),
           ERR_UPSTREAM, "negative expires_in");
    is_int(parse(200, "{\"access_token\":\"x\",\"expires_in\":\"1h\"}", &a, &t,
                 &e),
           ERR_UPSTREAM, "expires_in not digits");
    is_int(
        parse(200, "{\"access_token\":\"x\",\"expires_in\":3.5}", &a, &t, &e),
        ERR_UPSTREAM, "expires_in a fraction");
    is_int(parse(200, "{\"access_token\":\"x\",\"access_token\":\"y\"}", &a, &t,
                 &e),
           ERR_UPSTREAM, "duplicate keys");
    is_int(parse(502, "{\"message\":\"bad gateway\"}", &a, &t, &e),
           ERR_UPSTREAM, "502 without an error code");
    ok(strstr(e.msg, "502") != NULL, "502: status said");
    arena_release(&a);
}

static void
test_token_huge(void)
{
    struct oauth2_tokens t;
    struct arena a;
    struct err e;
    size_t n = OAUTH2_TOKEN_MAX + 1;
    char *body = malloc(n + 64);
    char *p = body;

    arena_init(&a, 1 << 20);
    p += sprintf(p, "{\"access_token\":\"");
    memset(p, 'a', n);
    p += n;
    strcpy(p, "\"}");
    is_int(parse(200, body, &a, &t, &e), ERR_UPSTREAM,
           "access_token over OAUTH2_TOKEN_MAX");
    ok(strstr(e.msg, "longer") != NULL, "over-long: said");
    ok(strstr(e.msg, "aaaa") == NULL, "over-long: value not echoed");

    /* just at the ceiling is fine */
    body[17 + OAUTH2_TOKEN_MAX] = '"';
    body[18 + OAUTH2_TOKEN_MAX] = '}';
    body[19 + OAUTH2_TOKEN_MAX] = '\0';
    is_int(parse(200, body, &a, &t, &e), 0, "access_token at the ceiling");

    is_int(parse(200, "{\"access_token\":\"x\",\"expires_in\":99999999999}", &a,
                 &t, &e),
           0, "huge expires_in: accepted");
    is_int(t.expires_in, OAUTH2_EXPIRES_MAX, "huge expires_in: clamped");
    is_int(parse(200,
                 "{\"access_token\":\"x\",\"expires_in\":"
                 "\"999999999999999999999999999999\"}",
                 &a, &t, &e),
           0, "huge expires_in string: accepted");
    is_int(t.expires_in, OAUTH2_EXPIRES_MAX, "huge expires_in string: clamped");
    is_int(parse(200,
                 "{\"access_token\":\"x\",\"expires_in\":"
                 "999999999999999999999999999999}",
                 &a, &t, &e),
           ERR_UPSTREAM, "integer past 64 bits: ERR_UPSTREAM");
    free(body);
    arena_release(&a);
}

static int
user_id(const char *body, const char *field, struct arena *a, const char **out,
        struct err *e)
{
    return oauth2_user_id(body, strlen(body), field, a, out, e);
}

static void
test_user_id(void)
{
    struct arena a;
    struct err e;
    const char *id = NULL;
    char big[OAUTH2_USER_ID_MAX + 64];

    arena_init(&a, 1 << 16);
    is_int(user_id("{\"sub\":\"abc-123\"}", "sub", &a, &id, &e), 0,
           "string id");
    is_str(id, "abc-123", "string id: value");
    is_int(user_id("{\"id\":1234567890123}", "id", &a, &id, &e), 0,
           "integer id");
    is_str(id, "1234567890123", "integer id: decimal digits");
    is_int(user_id("{\"user\":{\"profile\":{\"id\":\"u7\"}}}",
                   "user.profile.id", &a, &id, &e),
           0, "nested id");
    is_str(id, "u7", "nested id: value");
    is_int(user_id("{\"sub\":\"\\u00e9t\\u00e9\"}", "sub", &a, &id, &e), 0,
           "non-ASCII id");
    is_str(id, "\xc3\xa9t\xc3\xa9", "non-ASCII id: value");

    is_int(user_id("{\"sub\":\"x\"}", "id", &a, &id, &e), ERR_UPSTREAM,
           "missing");
    ok(id == NULL, "missing: NULL");
    is_int(user_id("{\"user\":\"x\"}", "user.id", &a, &id, &e), ERR_UPSTREAM,
           "path through a string");
    is_int(user_id("{\"sub\":\"\"}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "empty");
    is_int(user_id("{\"sub\":true}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "boolean");
    is_int(user_id("{\"sub\":1.5}", "sub", &a, &id, &e), ERR_UPSTREAM, "real");
    is_int(user_id("{\"sub\":null}", "sub", &a, &id, &e), ERR_UPSTREAM, "null");
    is_int(user_id("{\"sub\":{\"id\":1}}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "object");
    is_int(user_id("{\"sub\":\"a\\nb\"}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "control character");
    is_int(user_id("{\"sub\":\"a\\u0000b\"}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "encoded NUL");
    is_int(user_id("{\"sub\":\"\xff\"}", "sub", &a, &id, &e), ERR_UPSTREAM,
           "bad UTF-8");
    is_int(user_id("[1]", "0", &a, &id, &e), ERR_UPSTREAM, "array body");
    is_int(user_id("not json", "sub", &a, &id, &e), ERR_UPSTREAM, "not JSON");
    is_int(user_id("{\"a\":{\"\":1}}", "a..b", &a, &id, &e), ERR_INVALID,
           "empty path step");
    is_int(user_id("{\"sub\":\"x\"}", "", &a, &id, &e), ERR_INVALID,
           "empty field");
    is_int(user_id("{}", "a.b.c.d.e.f.g.h.i", &a, &id, &e), ERR_INVALID,
           "path deeper than 8");

    strcpy(big, "{\"sub\":\"");
    memset(big + 8, 'x', OAUTH2_USER_ID_MAX + 1);
    strcpy(big + 8 + OAUTH2_USER_ID_MAX + 1, "\"}");
    is_int(user_id(big, "sub", &a, &id, &e), ERR_UPSTREAM, "over 256 bytes");
    strcpy(big + 8 + OAUTH2_USER_ID_MAX, "\"}");
    is_int(user_id(big, "sub", &a, &id, &e), 0, "256 bytes");
    arena_release(&a);
}

static void
test_bearer(void)
{
    struct hclient_request r;
    struct arena a;
    struct err e;

    arena_init(&a, 1 << 16);
    is_int(
        oauth2_bearer_request("https://api.example.com/me", "at.1", &a, &r, &e),
        0, "bearer: built");
    is_str(r.method, "GET", "bearer: GET");
    is_str(r.url, "https://api.example.com/me", "bearer: URL");
    is_str(header(&r, "Authorization:"), "Authorization: Bearer at.1",
           "bearer: header");
    ok(r.body == NULL, "bearer: no body");
    is_int(oauth2_bearer_request("https://x/", "a\r\nX-Evil: 1", &a, &r, &e),
           ERR_INVALID, "bearer: CR LF in the token refused");
    is_int(oauth2_bearer_request("https://x/", NULL, &a, &r, &e), ERR_INVALID,
           "bearer: no token refused");
    arena_release(&a);
}

int
main(void)
{
    test_form_encode();
    test_authorize_url();
    test_code_request();
    test_refresh_and_revoke();
    test_token_good();
    test_token_errors();
    test_token_huge();
    test_user_id();
    test_bearer();
    return done_testing();
}
