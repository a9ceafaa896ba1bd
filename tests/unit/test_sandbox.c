/*
 * test_sandbox.c - the pieces of the SANDBOX authorization server that
 * need no HTTP connection: form parsing, the sealed request, scopes,
 * names, account ids and the client secret. The endpoints themselves
 * are driven over HTTP by tests/integration/50-sandbox.t.
 */
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"
#include "tap.h"

#define ARENA_MAX (1 << 20)

static struct app app;

static int
parse(const char *s, struct arena *a, struct sandbox_form *f)
{
    return sandbox_form_parse(s, strlen(s), a, f);
}

static void
test_form(void)
{
    struct sandbox_form f;
    struct arena a;

    arena_init(&a, ARENA_MAX);
    is_int(parse("a=1&b=x+y%21&c=&d", &a, &f), 0, "parse a form");
    ok(f.bad == NULL, "nothing wrong with it");
    is_int(f.n, 4, "four parameters");
    is_str(sandbox_form_get(&f, "a"), "1", "a");
    is_str(sandbox_form_get(&f, "b"), "x y!", "'+' and %21 decoded");
    ok(sandbox_form_get(&f, "c") == NULL, "an empty value is omitted");
    ok(sandbox_form_get(&f, "d") == NULL, "so is a name alone");
    ok(sandbox_form_get(&f, "e") == NULL, "an absent one is NULL");

    parse("", &a, &f);
    ok(f.n == 0 && f.bad == NULL, "the empty form");
    parse("&&a=1&&=2&", &a, &f);
    ok(f.n == 1 && f.bad == NULL, "empty pairs are skipped");

    parse("a=1&b=2&a=3", &a, &f);
    is_str(f.bad, "a", "a repeated parameter is bad");
    is_str(f.problem, "is given more than once", "and why");
    is_str(sandbox_form_get(&f, "a"), "1", "the first value is kept");
    is_str(sandbox_form_get(&f, "b"), "2", "the others are parsed");

    parse("a=%2", &a, &f);
    is_str(f.bad, "a", "a cut escape");
    parse("a=%zz", &a, &f);
    is_str(f.bad, "a", "a non-hex escape");
    parse("a=x%00y", &a, &f);
    is_str(f.bad, "a", "a NUL");
    parse("a=x%0Ay", &a, &f);
    is_str(f.bad, "a", "a newline");
    parse("a=%C3%28", &a, &f);
    is_str(f.bad, "a", "bad UTF-8");
    parse("a=%C3%A9", &a, &f);
    ok(f.bad == NULL, "good UTF-8");
    is_str(sandbox_form_get(&f, "a"), "\xc3\xa9", "decoded");
    parse("b=1&%00=2", &a, &f);
    is_str(f.bad, "a parameter name", "a bad name");
    parse("A-b=1&A-b=2", &a, &f);
    is_str(sandbox_form_describe(&f, &a), "a parameter is given more than once",
           "a name that is not plain is not repeated in the description");
    parse("x=1&x=2", &a, &f);
    is_str(sandbox_form_describe(&f, &a), "x is given more than once",
           "a plain one is");
    parse("x=1", &a, &f);
    ok(sandbox_form_describe(&f, &a) == NULL, "nothing to describe");
    parse("x=1&a=%2&a=2", &a, &f);
    is_str(f.bad, "a", "the first problem is kept");
    ok(sandbox_form_bad_is(&f, "a") && !sandbox_form_bad_is(&f, "x"),
       "sandbox_form_bad_is()");

    {
        char many[SANDBOX_PARAMS_MAX * 8 + 16];
        size_t n = 0;
        int i = 0;

        for (i = 0; i <= SANDBOX_PARAMS_MAX; i++) {
            n += (size_t)snprintf(many + n, sizeof(many) - n, "p%d=1&", i);
        }
        parse(many, &a, &f);
        is_int(f.n, SANDBOX_PARAMS_MAX, "parameters past the bound");
        is_str(f.bad, "a parameter", "are refused");
        is_str(sandbox_form_describe(&f, &a),
               "a parameter is past the limit on their number", "described");
    }

    ok(sandbox_form_decode("a%2", 3, &a) == NULL, "decode: cut escape");
    is_str(sandbox_form_decode("a%3Ab+c", 7, &a), "a:b c", "decode");
    arena_release(&a);
}

static void
test_scopes(void)
{
    unsigned set = 0;
    char s[sizeof(SANDBOX_SCOPES)];

    is_int(sandbox_scope_parse(SANDBOX_SCOPES, &set), 0, "every scope");
    is_int(set, SANDBOX_SCOPE_ALL, "all bits");
    is_int(sandbox_scope_parse("body sleep sleep", &set), 0,
           "repeats and any order");
    is_int(set, SANDBOX_SCOPE_BODY | SANDBOX_SCOPE_SLEEP, "the bits");
    sandbox_scope_string(set, s, sizeof(s));
    is_str(s, "sleep body", "written in canonical order");
    is_int(sandbox_scope_parse("sleep heart", &set), ERR_INVALID,
           "an unknown scope");
    is_int(sandbox_scope_parse("sleep  body", &set), ERR_INVALID, "two spaces");
    is_int(sandbox_scope_parse(" sleep", &set), ERR_INVALID, "a leading space");
    is_int(sandbox_scope_parse("sleep ", &set), ERR_INVALID,
           "a trailing space");
    is_int(sandbox_scope_parse("", &set), ERR_INVALID, "empty");
    is_int(sandbox_scope_parse("Sleep", &set), ERR_INVALID,
           "scopes are case-sensitive");
    sandbox_scope_string(SANDBOX_SCOPE_ALL, s, sizeof(s));
    is_str(s, SANDBOX_SCOPES, "all, written");
    is_str(sandbox_scope_title(2), "Daily summaries", "a scope's title");
    ok(sandbox_scope_title(4) == NULL, "no title past the last");
}

static void
test_names(void)
{
    char folded[SANDBOX_NAME_MAX + 1];
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    unsigned char md[32];
    char hex[65];

    sandbox_name_fold("Alice \xc3\x84 Smith", folded, sizeof(folded));
    is_str(folded, "alice \xc3\x84 smith", "ASCII letters are lowered");
    sandbox_account_id("alice", id);
    crypto_sha256("alice", 5, md);
    codec_hex_encode(md, 32, hex);
    ok(strncmp(id, "sbx_", 4) == 0 && strlen(id) == SANDBOX_ACCOUNT_ID_LEN,
       "sbx_ and 24 hex digits");
    ok(strncmp(id + 4, hex, 24) == 0, "of the SHA-256 of the account");
}

static void
test_secret(void)
{
    static const char label[] = "ferry sandbox client secret";
    unsigned char mac[32];
    char want[65];
    char got[65];

    crypto_hmac_sha256(app.key, 32, label, sizeof(label) - 1, mac);
    codec_hex_encode(mac, 32, want);
    sandbox_client_secret(&app, got);
    is_str(got, want, "the client secret is hex HMAC-SHA256(key, label)");
}

static struct sandbox_request
sample(void)
{
    struct sandbox_request r;

    memset(&r, 0, sizeof(r));
    r.step = SANDBOX_STEP_LOGIN;
    r.expires_at = 2000000000;
    r.redirect_uri = "http://127.0.0.1:9/callback/sandbox";
    r.scope = SANDBOX_SCOPE_SLEEP | SANDBOX_SCOPE_DAILY;
    r.state = "st&te=\"1\"";
    r.challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    return r;
}

/* `sealed` with the byte at `i` of its first part changed. */
static char *
flip(struct arena *a, const char *sealed, size_t i)
{
    char *s = arena_strdup(a, sealed);

    s[i] = s[i] == 'A' ? 'B' : 'A';
    return s;
}

static void
test_seal(void)
{
    struct sandbox_request r = sample();
    struct sandbox_request got;
    struct app other;
    const char *sealed = NULL;
    const char *dot = NULL;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(sandbox_request_seal(&app, &r, &a, &sealed), 0, "seal");
    dot = strchr(sealed, '.');
    ok(dot != NULL &&
           strspn(sealed, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
                          "mnopqrstuvwxyz0123456789-_.") == strlen(sealed),
       "base64url, a dot, base64url");

    is_int(sandbox_request_open(&app, sealed, SANDBOX_STEP_LOGIN, 1999999999,
                                &a, &got, &e),
           0, "open");
    is_int(got.step, SANDBOX_STEP_LOGIN, "step");
    is_int(got.expires_at, 2000000000, "expires_at");
    is_str(got.redirect_uri, r.redirect_uri, "redirect_uri");
    is_int(got.scope, r.scope, "scope");
    is_str(got.state, r.state, "state, exactly");
    is_str(got.challenge, r.challenge, "challenge");
    ok(got.name == NULL, "no name at the login step");

    is_int(sandbox_request_open(&app, sealed, SANDBOX_STEP_LOGIN, 2000000000,
                                &a, &got, &e),
           ERR_GONE, "expired at its time");
    is_int(sandbox_request_open(&app, sealed, SANDBOX_STEP_CONSENT, 0, &a, &got,
                                &e),
           ERR_INVALID, "a login request is no consent request");
    is_int(sandbox_request_open(&app, flip(&a, sealed, 3), SANDBOX_STEP_LOGIN,
                                0, &a, &got, &e),
           ERR_INVALID, "a changed field");
    is_int(sandbox_request_open(&app,
                                flip(&a, sealed, (size_t)(dot - sealed) + 2),
                                SANDBOX_STEP_LOGIN, 0, &a, &got, &e),
           ERR_INVALID, "a changed MAC");
    ok(got.redirect_uri == NULL, "nothing is given back then");
    is_int(sandbox_request_open(&app, "", SANDBOX_STEP_LOGIN, 0, &a, &got, &e),
           ERR_INVALID, "empty");
    is_int(
        sandbox_request_open(&app, NULL, SANDBOX_STEP_LOGIN, 0, &a, &got, &e),
        ERR_INVALID, "absent");
    is_int(sandbox_request_open(&app, "abc.def", SANDBOX_STEP_LOGIN, 0, &a,
                                &got, &e),
           ERR_INVALID, "garbage");
    other = app;
    other.key[0] ^= 1;
    is_int(sandbox_request_open(&other, sealed, SANDBOX_STEP_LOGIN, 0, &a, &got,
                                &e),
           ERR_INVALID, "another deployment's key");

    r.state = NULL;
    r.step = SANDBOX_STEP_CONSENT;
    r.name = "Alice";
    is_int(sandbox_request_seal(&app, &r, &a, &sealed), 0, "seal for consent");
    is_int(sandbox_request_open(&app, sealed, SANDBOX_STEP_CONSENT, 0, &a, &got,
                                &e),
           0, "open for consent");
    ok(got.state == NULL, "an absent state stays absent");
    is_str(got.name, "Alice", "the name");

    r.state = "";
    sandbox_request_seal(&app, &r, &a, &sealed);
    sandbox_request_open(&app, sealed, SANDBOX_STEP_CONSENT, 0, &a, &got, &e);
    is_str(got.state, "", "an empty state is not an absent one");
    arena_release(&a);
}

static void
test_pages(void)
{
    struct buf b;

    buf_init(&b, SANDBOX_PAGE_MAX);
    is_int(sandbox_page_login(&b, "/a?x=1&y=2", "S.M", "<b>", "bad \"name\""),
           0, "login page");
    ok(strstr(b.data, "action=\"/a?x=1&amp;y=2\"") != NULL,
       "the action is escaped");
    ok(strstr(b.data, "value=\"&lt;b&gt;\"") != NULL, "the name is escaped");
    ok(strstr(b.data, "bad &quot;name&quot;") != NULL, "so is the problem");
    ok(strstr(b.data, "<label for=\"username\">Username</label>") != NULL,
       "a Username label");
    ok(strstr(b.data, "autofocus") != NULL, "the field has the focus");
    ok(strstr(b.data, "<button type=\"submit\">Sign in</button>") != NULL,
       "a Sign in button");
    ok(strstr(b.data, "name=\"request\" value=\"S.M\"") != NULL,
       "the sealed request");
    ok(strstr(b.data, "any name works") != NULL ||
           strstr(b.data, "Any name works") != NULL,
       "says any name works");

    buf_reset(&b);
    is_int(sandbox_page_consent(&b, "/a", "S.M", "ferry",
                                SANDBOX_SCOPE_ACTIVITY | SANDBOX_SCOPE_BODY,
                                "<i>al</i>"),
           0, "consent page");
    ok(strstr(b.data, "<li>Activity</li>") != NULL &&
           strstr(b.data, "<li>Body measurements</li>") != NULL &&
           strstr(b.data, "<li>Sleep</li>") == NULL,
       "the scopes asked for, by name");
    ok(strstr(b.data, "&lt;i&gt;al&lt;/i&gt;") != NULL, "the name is escaped");
    ok(strstr(b.data, "<button type=\"submit\" name=\"decision\" "
                      "value=\"allow\">Allow</button>") != NULL,
       "an Allow button");
    ok(strstr(b.data, "<button type=\"submit\" name=\"decision\" "
                      "value=\"deny\">Deny</button>") != NULL,
       "a Deny button");

    buf_reset(&b);
    is_int(sandbox_page_error(&b, "T", "x", "<d>"), 0, "error page");
    ok(strstr(b.data, "&lt;d&gt;") != NULL, "the detail is escaped");
    buf_release(&b);

    buf_init(&b, 64);
    is_int(sandbox_page_login(&b, "/a", "S.M", NULL, NULL), ERR_TOOBIG,
           "a full buffer: ERR_TOOBIG");
    buf_release(&b);
}

int
main(void)
{
    size_t i = 0;

    for (i = 0; i < sizeof(app.key); i++) {
        app.key[i] = (unsigned char)(i * 7 + 1);
    }
    app.have_key = 1;
    snprintf(app.public_url, sizeof(app.public_url), "http://127.0.0.1:9");

    test_form();
    test_scopes();
    test_names();
    test_secret();
    test_seal();
    test_pages();
    return done_testing();
}
