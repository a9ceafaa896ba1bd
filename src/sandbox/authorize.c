/*
 * authorize.c - the authorization endpoint (RFC 6749 section 4.1.1,
 * RFC 7636 section 4.3): the request, the login page, the consent page
 * and the code.
 *
 *   GET  ?response_type=code&client_id&redirect_uri&...  -> login page
 *   POST step=login   request username                  -> consent page
 *   POST step=consent request decision=allow|deny       -> 302 to the
 *                                                          client
 *
 * Errors about the client or its redirect URI are shown to the user and
 * never redirected (RFC 6749 4.1.2.1): a request that names the wrong
 * place to go must not send the browser there. Every other error goes
 * back to the client's redirect URI with error, error_description and
 * the state exactly as it came.
 */
#include <string.h>

#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/utf8.h"
#include "http/reply.h"
#include "oauth/pkce.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

/* The display name of SANDBOX_CLIENT_ID on the consent page. */
#define CLIENT_NAME "ferry"

#define CODE_BYTES 32
#define CODE_LEN   RNG_TOKEN_LEN(CODE_BYTES)

static const char bad_link_title[] = "This sign-in link cannot be used";
static const char bad_link_text[] =
    "The app that sent you here asked for something this sandbox does not "
    "allow. Go back to the app and start again.";
static const char stale_title[] = "Please start again";
static const char stale_text[] =
    "This sign-in page has expired or was changed. Go back to the app and "
    "start connecting again.";

/* 1 when `s` is a state RFC 6749 allows (VSCHAR) within our bound. */
static int
state_ok(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return 0;
        }
    }
    return i <= SANDBOX_STATE_MAX;
}

/* 1 when `s` can be an S256 challenge: 43 base64url characters. */
static int
challenge_ok(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return i == PKCE_CHALLENGE_LEN;
}

/* 302 to `redirect_uri` with an RFC 6749 4.1.2.1 error. `state` is
 * NULL when there is none to return. */
static int
error_redirect(struct http_request *req, struct http_response *resp,
               const char *redirect_uri, const char *error,
               const char *description, const char *state)
{
    struct buf b;
    char *location = NULL;
    int rc = 0;

    log_event(LOG_INFO, "sandbox", "sandbox.authorize.refused",
              "error=%s why=%s", error, description);
    buf_init(&b, SANDBOX_REDIRECT_MAX + SANDBOX_STATE_MAX * 3 + 1024);
    rc = buf_addstr(&b, redirect_uri);
    rc = rc != 0 ? rc : sandbox_url_param(&b, "error", error);
    rc = rc != 0 ? rc : sandbox_url_param(&b, "error_description", description);
    if (rc == 0 && state != NULL) {
        rc = sandbox_url_param(&b, "state", state);
    }
    if (rc == 0) {
        location = arena_strndup(req->arena, b.data, b.len);
    }
    buf_release(&b);
    if (location == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the redirect");
    }
    return sandbox_redirect(req, resp, location);
}

/*
 * The client and redirect URI of a GET: 0 when both are right, else an
 * error page is sent and 1 returned.
 */
static int
check_client(struct http_request *req, struct http_response *resp,
             const struct sandbox_form *f, const char *registered, int *rc)
{
    const char *client_id = sandbox_form_get(f, "client_id");
    const char *redirect_uri = sandbox_form_get(f, "redirect_uri");
    const char *detail = NULL;

    if (sandbox_form_bad_is(f, "client_id")) {
        detail = "client_id: given more than once or malformed";
    } else if (client_id == NULL) {
        detail = "client_id: missing";
    } else if (strcmp(client_id, SANDBOX_CLIENT_ID) != 0) {
        detail = "client_id: not a client of this sandbox";
    } else if (sandbox_form_bad_is(f, "redirect_uri")) {
        detail = "redirect_uri: given more than once or malformed";
    } else if (redirect_uri == NULL) {
        detail = "redirect_uri: missing";
    } else if (strlen(redirect_uri) > SANDBOX_REDIRECT_MAX ||
               strcmp(redirect_uri, registered) != 0) {
        detail = "redirect_uri: not the one registered for this client";
    }
    if (detail == NULL) {
        return 0;
    }
    log_event(LOG_INFO, "sandbox", "sandbox.authorize.bad_client", "why=%s",
              detail);
    *rc = sandbox_send_error_page(req, resp, 400, bad_link_title, bad_link_text,
                                  detail);
    return 1;
}

/* Check what a GET asks for past its client, into `r`: NULL, or the
 * RFC 6749 error code with its description in `*why`. */
static const char *
check_request(const struct sandbox_form *f, struct arena *a,
              struct sandbox_request *r, const char **why)
{
    const char *type = sandbox_form_get(f, "response_type");
    const char *challenge = sandbox_form_get(f, "code_challenge");
    const char *method = sandbox_form_get(f, "code_challenge_method");
    const char *scope = sandbox_form_get(f, "scope");

    if (f->bad != NULL) {
        *why = sandbox_form_describe(f, a);
        return "invalid_request";
    }
    if (type == NULL) {
        *why = "response_type is missing";
        return "invalid_request";
    }
    if (strcmp(type, "code") != 0) {
        *why = "only response_type=code is supported";
        return "unsupported_response_type";
    }
    if (challenge == NULL || method == NULL || strcmp(method, "S256") != 0) {
        *why = "PKCE S256 is required for this server";
        return "invalid_request";
    }
    if (!challenge_ok(challenge)) {
        *why = "code_challenge is not an S256 challenge";
        return "invalid_request";
    }
    r->challenge = challenge;
    r->scope = SANDBOX_SCOPE_ALL;
    if (scope != NULL && (strlen(scope) > SANDBOX_SCOPE_MAX ||
                          sandbox_scope_parse(scope, &r->scope) < 0)) {
        *why = "scope: the scopes are activity, sleep, daily and body";
        return "invalid_scope";
    }
    return NULL;
}

static const char *
action_url(const struct app *a, struct arena *ar)
{
    return arena_printf(ar, "%s%s", a->public_url, SANDBOX_AUTHORIZE_PATH);
}

/* Send the login page for `sealed`, as a refusal of `name` when
 * `problem` is not NULL. */
static int
send_login(struct http_request *req, struct http_response *resp,
           const char *sealed, const char *name, const char *problem)
{
    const char *action = action_url(req->ctx, req->arena);
    struct buf page;
    int rc = 0;

    buf_init(&page, SANDBOX_PAGE_MAX);
    rc = action == NULL
             ? ERR_NOMEM
             : sandbox_page_login(&page, action, sealed, name, problem);
    if (rc == 0) {
        rc = sandbox_send_page(req, resp, problem != NULL ? 400 : 200, &page);
    } else {
        rc = http_reply_error(req, resp, 500, "cannot build the page");
    }
    buf_release(&page);
    return rc;
}

int
sandbox_authorize_get(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *registered = sandbox_redirect_uri(a, req->arena);
    struct sandbox_request r;
    struct sandbox_form f;
    const char *state = NULL;
    const char *error = NULL;
    const char *why = NULL;
    const char *sealed = NULL;
    int rc = 0;

    if (registered == NULL || sandbox_query_parse(req, &f) < 0) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    if (check_client(req, resp, &f, registered, &rc)) {
        return rc;
    }

    /* from here errors go back to the client */
    state = sandbox_form_get(&f, "state");
    if (sandbox_form_bad_is(&f, "state") ||
        (state != NULL && !state_ok(state))) {
        return error_redirect(req, resp, registered, "invalid_request",
                              "state is malformed or too long", NULL);
    }
    memset(&r, 0, sizeof(r));
    error = check_request(&f, req->arena, &r, &why);
    if (error != NULL) {
        return error_redirect(req, resp, registered, error, why, state);
    }
    r.step = SANDBOX_STEP_LOGIN;
    r.expires_at = isotime_now_us() / 1000000 + SANDBOX_REQUEST_SECONDS;
    r.redirect_uri = registered;
    r.state = state;
    if (sandbox_request_seal(a, &r, req->arena, &sealed) < 0) {
        return http_reply_error(req, resp, 500, "cannot seal the request");
    }
    return send_login(req, resp, sealed, NULL, NULL);
}

/* Open the sealed request of a POST for `step`: 0, or 1 with an answer
 * sent (`*rc` its outcome). */
static int
open_request(struct http_request *req, struct http_response *resp,
             const struct sandbox_form *f, int step, struct sandbox_request *r,
             int *rc)
{
    struct err e;
    int orc = 0;

    err_clear(&e);
    orc = sandbox_request_open(req->ctx, sandbox_form_get(f, "request"), step,
                               isotime_now_us() / 1000000, req->arena, r, &e);
    if (orc == 0 && step == SANDBOX_STEP_CONSENT && r->name == NULL) {
        orc = err_set(&e, ERR_INVALID, "the sign-in request has no name");
    }
    if (orc == 0) {
        return 0;
    }
    if (orc == ERR_NOMEM) {
        *rc = http_reply_error(req, resp, 500, "out of request memory");
        return 1;
    }
    log_event(LOG_INFO, "sandbox", "sandbox.authorize.bad_request", "why=%s",
              e.msg);
    *rc =
        sandbox_send_error_page(req, resp, 400, stale_title, stale_text, e.msg);
    return 1;
}

/*
 * The sign-in name as typed, spaces around it dropped, into `out` (room
 * for SANDBOX_NAME_MAX + 1): NULL when it is acceptable, else what to
 * tell the user.
 */
static const char *
check_name(const char *typed, int bad, char *out)
{
    static const char rule[] = "Enter a name of 1 to 64 characters, without "
                               "control characters.";
    const unsigned char *p = NULL;
    size_t n = 0;
    size_t chars = 0;

    out[0] = '\0';
    if (typed == NULL || bad) {
        return rule;
    }
    while (*typed == ' ') {
        typed++;
    }
    n = strlen(typed);
    while (n > 0 && typed[n - 1] == ' ') {
        n--;
    }
    if (n == 0 || n > SANDBOX_NAME_MAX) {
        return rule;
    }
    memcpy(out, typed, n);
    out[n] = '\0';
    for (p = (const unsigned char *)out; *p != '\0'; p += utf8_seq_len(p)) {
        if (utf8_seq_len(p) == 0) {
            return rule;
        }
        chars++;
    }
    return chars <= SANDBOX_NAME_CHARS && !utf8_has_control(out) ? NULL : rule;
}

static int
post_login(struct http_request *req, struct http_response *resp,
           const struct sandbox_form *f)
{
    const char *typed = sandbox_form_get(f, "username");
    const char *login_sealed = sandbox_form_get(f, "request");
    struct sandbox_request r;
    char name[SANDBOX_NAME_MAX + 1];
    const char *problem = NULL;
    const char *sealed = NULL;
    const char *action = NULL;
    struct buf page;
    int rc = 0;

    if (open_request(req, resp, f, SANDBOX_STEP_LOGIN, &r, &rc)) {
        return rc;
    }
    problem = check_name(typed, sandbox_form_bad_is(f, "username"), name);
    if (problem != NULL) {
        /* shown again only when it can be shown */
        return send_login(req, resp, login_sealed,
                          sandbox_form_bad_is(f, "username") ? NULL : typed,
                          problem);
    }
    r.step = SANDBOX_STEP_CONSENT;
    r.name = name;
    action = action_url(req->ctx, req->arena);
    if (action == NULL ||
        sandbox_request_seal(req->ctx, &r, req->arena, &sealed) < 0) {
        return http_reply_error(req, resp, 500, "cannot seal the request");
    }
    buf_init(&page, SANDBOX_PAGE_MAX);
    rc =
        sandbox_page_consent(&page, action, sealed, CLIENT_NAME, r.scope, name);
    if (rc == 0) {
        rc = sandbox_send_page(req, resp, 200, &page);
    } else {
        rc = http_reply_error(req, resp, 500, "cannot build the page");
    }
    buf_release(&page);
    return rc;
}

/* Store a fresh code for `r` and write it to `code`. */
static int
issue_code(struct app *a, const struct sandbox_request *r,
           char code[CODE_LEN + 1], struct err *e)
{
    char account[SANDBOX_NAME_MAX + 1];
    char scope[sizeof(SANDBOX_SCOPES)];
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct store_sandbox_code c;
    int64_t now = isotime_now_us();
    int rc = 0;

    rng_token(code, CODE_LEN + 1, CODE_BYTES);
    sandbox_name_fold(r->name, account, sizeof(account));
    sandbox_scope_string(r->scope, scope, sizeof(scope));
    memset(&c, 0, sizeof(c));
    crypto_sha256(code, CODE_LEN, c.hash);
    c.client_id = SANDBOX_CLIENT_ID;
    c.account = account;
    c.redirect_uri = r->redirect_uri;
    c.scope = scope;
    c.challenge = r->challenge;
    c.created_at = now;
    c.expires_at = now + (int64_t)SANDBOX_CODE_SECONDS * 1000000;
    rc = store_sandbox_code_create(a->store, &c, e);
    if (rc == 0) {
        sandbox_account_id(account, id);
        log_event(LOG_INFO, "sandbox", "sandbox.code.issued",
                  "account_id=%s scope=%s", id, scope);
    }
    return rc;
}

static int
post_consent(struct http_request *req, struct http_response *resp,
             const struct sandbox_form *f)
{
    const char *decision = sandbox_form_get(f, "decision");
    struct sandbox_request r;
    char code[CODE_LEN + 1];
    struct buf b;
    char *location = NULL;
    struct err e;
    int rc = 0;

    if (open_request(req, resp, f, SANDBOX_STEP_CONSENT, &r, &rc)) {
        return rc;
    }
    if (decision != NULL && strcmp(decision, "deny") == 0) {
        return error_redirect(req, resp, r.redirect_uri, "access_denied",
                              "the user denied the request", r.state);
    }
    if (decision == NULL || strcmp(decision, "allow") != 0) {
        return sandbox_send_error_page(req, resp, 400, stale_title, stale_text,
                                       "decision: expected allow or deny");
    }

    err_clear(&e);
    rc = issue_code(req->ctx, &r, code, &e);
    if (rc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.code.store_failed", "msg=%s",
                  e.msg);
        return http_reply_error(req, resp, 500, "cannot store the code");
    }
    buf_init(&b, SANDBOX_REDIRECT_MAX + SANDBOX_STATE_MAX * 3 + 256);
    rc = buf_addstr(&b, r.redirect_uri);
    rc = rc != 0 ? rc : sandbox_url_param(&b, "code", code);
    if (rc == 0 && r.state != NULL) {
        rc = sandbox_url_param(&b, "state", r.state);
    }
    if (rc == 0) {
        location = arena_strndup(req->arena, b.data, b.len);
    }
    crypto_wipe(code, sizeof(code));
    if (b.data != NULL) {
        crypto_wipe(b.data, b.len);
    }
    buf_release(&b);
    if (location == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the redirect");
    }
    return sandbox_redirect(req, resp, location);
}

int
sandbox_authorize_post(struct http_request *req, struct http_response *resp)
{
    struct sandbox_form f;
    const char *step = NULL;

    if (!sandbox_is_form(req)) {
        return sandbox_send_error_page(req, resp, 400, stale_title, stale_text,
                                       "the form was not sent as a form");
    }
    if (sandbox_form_parse(req->body, req->body_len, req->arena, &f) < 0) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    step = sandbox_form_get(&f, "step");
    if (f.bad != NULL && !sandbox_form_bad_is(&f, "username")) {
        return sandbox_send_error_page(req, resp, 400, stale_title, stale_text,
                                       sandbox_form_describe(&f, req->arena));
    }
    if (step != NULL && strcmp(step, "login") == 0) {
        return post_login(req, resp, &f);
    }
    if (step != NULL && strcmp(step, "consent") == 0) {
        return post_consent(req, resp, &f);
    }
    return sandbox_send_error_page(req, resp, 400, stale_title, stale_text,
                                   "step: expected login or consent");
}
