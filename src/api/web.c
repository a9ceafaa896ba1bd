/*
 * web.c - the pages and redirects the end user's browser meets: the
 * widget link (/widget/<token>), the direct start link
 * (/connect/<token>) and the provider's redirect back
 * (/callback/<provider>).
 *
 * Nothing here needs a cookie: the link token names the session, a
 * per-session anti-forgery value guards the picker's POST, and the
 * OAuth state names the attempt.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "app/connect.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "http/form.h"
#include "http/reply.h"
#include "oauth/oauth2.h"
#include "widget/html.h"
#include "widget/i18n.h"
#include "widget/icons.h"
#include "widget/pages.h"

#define PAGE_MAX     (256 * 1024)
#define REDIRECT_MAX 4096
#define CSRF_LEN     32 /* hex characters of the anti-forgery value */
#define MAX_CHOICES  64
#define TOKEN_MAX    128

/* The anti-forgery value of session `id`: a MAC only this server can
 * make, so the form it checks can only have come from its own page. */
static void
csrf_value(const struct app *a, const char *id, char out[CSRF_LEN + 1])
{
    static const char label[] = "ferry widget form:";
    unsigned char mac[32];
    char msg[128];
    char hex[65];
    int n = snprintf(msg, sizeof(msg), "%s%s", label, id);

    crypto_hmac_sha256(a->key, sizeof(a->key), msg, (size_t)n, mac);
    codec_hex_encode(mac, sizeof(mac), hex);
    memcpy(out, hex, CSRF_LEN);
    out[CSRF_LEN] = '\0';
}

/* Answer with the HTML page in `b` and the security headers. */
static int
reply_page(struct http_request *req, struct http_response *resp, int status,
           struct buf *b, const char *const *origins)
{
    char *body = arena_strndup(req->arena, buf_str(b), b->len);
    int rc = 0;

    if (body == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    rc = html_security_headers(resp, req->arena, origins);
    if (rc == ERR_TOOBIG && origins != NULL) {
        /* more redirect origins than a policy holds: the page works
         * without form-action rather than not at all */
        static const char *const anywhere[] = {HTML_FORM_ANYWHERE, NULL};

        log_event(LOG_WARN, "web", "page.form_action_dropped", "path=%s",
                  "[widget]");
        rc = html_security_headers(resp, req->arena, anywhere);
    }
    if (rc < 0) {
        return http_reply_error(req, resp, 500, "cannot build the page");
    }
    resp->status = status;
    resp->body = body;
    resp->body_len = b->len;
    return 0;
}

/*
 * The language of a page: the link's (`lang`) when it has one, else the
 * browser's first choice in Accept-Language, else English.
 */
static const char *
page_lang(const struct http_request *req, const char *lang)
{
    const char *h = NULL;
    char first[36];
    size_t n = 0;

    if (lang != NULL) {
        return i18n_lang(lang);
    }
    h = http_header(req, "Accept-Language");
    if (h == NULL) {
        return i18n_lang(NULL);
    }
    h += strspn(h, " ");
    n = strcspn(h, ",; ");
    if (n >= sizeof(first)) {
        return i18n_lang(NULL);
    }
    memcpy(first, h, n);
    first[n] = '\0';
    return i18n_lang(first);
}

/* A message page in `lang`. */
static int
message(struct http_request *req, struct http_response *resp, const char *lang,
        enum widget_message m, int status, const char *detail)
{
    struct buf b;
    int rc = 0;

    buf_init(&b, PAGE_MAX);
    if (widget_render_message(page_lang(req, lang), m, detail, &b) < 0) {
        buf_release(&b);
        return http_reply_error(req, resp, 500, "cannot build the page");
    }
    rc = reply_page(req, resp, status != 0 ? status : widget_message_status(m),
                    &b, NULL);
    buf_release(&b);
    return rc;
}

/*
 * The link session of the token in the path, of `kind`. 0 with `ss`, or
 * the answer already made (404 for an unknown token).
 */
static int
load_link(struct http_request *req, struct http_response *resp,
          const char *kind, struct store_session *ss, int *answered)
{
    struct app *a = req->ctx;
    const char *token = req->params[0];
    unsigned char hash[32];
    struct err e;
    int rc = 0;

    *answered = 0;
    err_clear(&e);
    if (token == NULL || strlen(token) > TOKEN_MAX) {
        *answered = 1;
        return message(req, resp, NULL, WIDGET_MSG_NOT_FOUND, 404, NULL);
    }
    crypto_sha256(token, strlen(token), hash);
    rc = store_session_get_by_token(a->store, hash, req->arena, ss, &e);
    if (rc == 0 && strcmp(ss->kind, kind) != 0) {
        rc = ERR_NOTFOUND;
    }
    if (rc == ERR_NOTFOUND) {
        *answered = 1;
        return message(req, resp, NULL, WIDGET_MSG_NOT_FOUND, 404, NULL);
    }
    if (rc < 0) {
        *answered = 1;
        return http_reply_err(req, resp, &e);
    }
    return 0;
}

/* The 410 page of a link that can no longer start a login, or 0. */
static int
link_gone(struct http_request *req, struct http_response *resp,
          const struct store_session *ss, int *answered)
{
    *answered = 1;
    if (ss->completed_at != 0) {
        return message(req, resp, ss->language, WIDGET_MSG_USED, 410, NULL);
    }
    if (isotime_now_us() >= ss->expires_at) {
        return message(req, resp, ss->language, WIDGET_MSG_EXPIRED, 410, NULL);
    }
    *answered = 0;
    return 0;
}

/*
 * The CSP source of `url` into the arena: its origin
 * ("scheme://host[:port]", lower case) for http(s), its scheme
 * ("myapp:") for an app link. NULL when the URL has none that the CSP
 * grammar can say (an IPv6 literal, an escaped or unusual host): the
 * page then goes without it rather than failing.
 */
static const char *
origin_of(struct arena *ar, const char *url)
{
    static const char host_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789.-:";
    const char *p = strstr(url, "://");
    size_t scheme = 0;
    size_t n = 0;
    char *o = NULL;
    size_t i;

    if (p == NULL) {
        return NULL;
    }
    scheme = (size_t)(p - url);
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0) {
        o = arena_strndup(ar, url, scheme + 1);
    } else {
        n = strcspn(p + 3, "/?#");
        o = arena_strndup(ar, url, scheme + 3 + n);
    }
    if (o == NULL) {
        return NULL;
    }
    for (i = 0; o[i] != '\0'; i++) {
        o[i] = (char)tolower((unsigned char)o[i]);
    }
    if (o[scheme] == ':' && o[scheme + 1] == '\0') {
        return o; /* an app scheme: html checks its characters */
    }
    n = strlen(o);
    if (n > 0 && o[n - 1] == ':') {
        o[--n] = '\0'; /* "host:" with an empty port */
    }
    if (o[scheme + 3] == '\0' ||
        strspn(o + scheme + 3, host_chars) != n - scheme - 3) {
        return NULL;
    }
    return o;
}

/* Add `src` to the NULL-ended `list` of `*n` unless it is there. */
static void
add_source(const char **list, size_t *n, const char *src)
{
    size_t i;

    if (src == NULL || !html_source_ok(src)) {
        return;
    }
    for (i = 0; i < *n; i++) {
        if (strcmp(list[i], src) == 0) {
            return;
        }
    }
    list[(*n)++] = src;
}

/* The open link of `kind` named by the path, or the answer made: 404,
 * or 410 for one that completed or expired. */
static int
open_link(struct http_request *req, struct http_response *resp,
          const char *kind, struct store_session *ss, int *answered)
{
    int rc = load_link(req, resp, kind, ss, answered);

    if (*answered) {
        return rc;
    }
    return link_gone(req, resp, ss, answered);
}

/* The path of public_url ("" when it has none, "/ferry" behind a proxy
 * that serves ferry there). Borrowed from the app. */
static const char *
public_path(const struct app *a)
{
    const char *p = strstr(a->public_url, "://");
    const char *slash = p != NULL ? strchr(p + 3, '/') : NULL;

    return slash != NULL ? slash : "";
}

/* ---- GET and POST /widget/<token> ---- */

static int
picker(struct http_request *req, struct http_response *resp,
       const struct store_session *ss)
{
    struct app *a = req->ctx;
    struct widget_choice choices[MAX_CHOICES];
    const char *origins[MAX_CHOICES + 3];
    struct widget_picker wp;
    char csrf[CSRF_LEN + 1];
    char url[APP_URL_MAX];
    const char *s = ss->providers != NULL ? ss->providers : "";
    struct buf b;
    size_t n = 0;
    size_t no = 0;
    int rc = 0;

    while (*s != '\0' && n < MAX_CHOICES) {
        size_t len = strcspn(s, ",");
        char *name = arena_strndup(req->arena, s, len);
        const struct app_provider *p =
            name != NULL ? app_provider(a, name) : NULL;

        s += len + (s[len] == ',');
        if (p == NULL) {
            continue; /* disabled since the link was made */
        }
        choices[n].resource = p->resource;
        choices[n].name = p->name;
        n++;
        if (app_provider_url(a, p->authorize_url, url, sizeof(url)) == 0 &&
            p->authorize_url[0] != '/') {
            add_source(origins, &no, origin_of(req->arena, url));
        }
    }
    /* a provider that knows the user may send the browser straight back,
     * and the callback on to the developer's app: Chromium holds every
     * hop after the form's POST to form-action */
    if (ss->success_url != NULL) {
        add_source(origins, &no, origin_of(req->arena, ss->success_url));
    }
    if (ss->failure_url != NULL) {
        add_source(origins, &no, origin_of(req->arena, ss->failure_url));
    }
    origins[no] = NULL;
    if (n == 0) {
        return message(req, resp, ss->language, WIDGET_MSG_NO_PROVIDER, 200,
                       NULL);
    }
    csrf_value(a, ss->id, csrf);
    memset(&wp, 0, sizeof(wp));
    wp.lang = page_lang(req, ss->language);
    /* behind a proxy that serves ferry under a path, the form goes
     * there too */
    wp.action = arena_printf(req->arena, "%s%s", public_path(a), req->path);
    if (wp.action == NULL) {
        wp.action = req->path;
    }
    wp.csrf = csrf;
    wp.choices = choices;
    wp.nchoices = n;
    wp.webview = widget_is_webview(http_header(req, "User-Agent"));
    wp.page_url = arena_printf(req->arena, "%s%s", a->public_url, req->path);
    buf_init(&b, PAGE_MAX);
    if (widget_render_picker(&wp, &b) < 0) {
        buf_release(&b);
        return http_reply_error(req, resp, 500, "cannot build the page");
    }
    rc = reply_page(req, resp, 200, &b, origins);
    buf_release(&b);
    return rc;
}

int
api_widget_page(struct http_request *req, struct http_response *resp)
{
    struct store_session ss;
    int answered = 0;
    int rc = open_link(req, resp, "widget", &ss, &answered);

    if (answered) {
        return rc;
    }
    return picker(req, resp, &ss);
}

/* A 303 or 302 to `url`, with no body worth reading. */
static int
redirect(struct http_request *req, struct http_response *resp, int status,
         const char *url)
{
    static const char empty[] = "";

    (void)req;
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = empty;
    resp->body_len = 0;
    http_add_header(resp, "Location", url);
    http_add_header(resp, "Referrer-Policy", "no-referrer");
    return 0;
}

/* Start the login at `resource` and send the browser there. */
static int
start(struct http_request *req, struct http_response *resp,
      const struct store_session *ss, const char *resource, int status)
{
    struct app *a = req->ctx;
    const char *url = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = connect_begin(a, ss, resource, req->arena, &url, &e);
    if (rc == ERR_INVALID) {
        return message(req, resp, ss->language, WIDGET_MSG_BAD_FORM, 400, NULL);
    }
    if (rc == ERR_GONE) {
        return message(req, resp, ss->language, WIDGET_MSG_EXPIRED, 410, NULL);
    }
    if (rc == ERR_LIMIT) {
        log_event(LOG_INFO, "web", "connect.too_many", "session_id=%s", ss->id);
        return message(req, resp, ss->language, WIDGET_MSG_FAILURE, 403, NULL);
    }
    if (rc < 0) {
        log_event(LOG_ERROR, "web", "connect.start_failed", "msg=%s", e.msg);
        return message(req, resp, ss->language, WIDGET_MSG_FAILURE, 500, NULL);
    }
    return redirect(req, resp, status, url);
}

int
api_widget_pick(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct store_session ss;
    struct http_form form;
    char want[CSRF_LEN + 1];
    const char *csrf = NULL;
    const char *resource = NULL;
    int dup = 0;
    int dup2 = 0;
    int answered = 0;
    int rc = open_link(req, resp, "widget", &ss, &answered);

    if (answered) {
        return rc;
    }
    if (http_form_parse(req->body, req->body_len, req->arena, &form, NULL) <
        0) {
        return message(req, resp, ss.language, WIDGET_MSG_BAD_FORM, 400, NULL);
    }
    csrf = http_form_get(&form, "csrf", &dup);
    resource = http_form_get(&form, "resource", &dup2);
    csrf_value(a, ss.id, want);
    if (csrf == NULL || dup || strlen(csrf) != CSRF_LEN ||
        !crypto_ct_eq(csrf, want, CSRF_LEN) || resource == NULL || dup2) {
        log_event(LOG_INFO, "web", "widget.bad_form", "session_id=%s", ss.id);
        return message(req, resp, ss.language, WIDGET_MSG_BAD_FORM, 400, NULL);
    }
    return start(req, resp, &ss, resource, 303);
}

/*
 * HEAD of a link that acts when it is fetched (the start link, the
 * callback): link checkers and previews send it, and it must not start
 * or finish a login. 1 when `req` is one, answered with no body.
 */
static int
head_only(struct http_request *req, struct http_response *resp)
{
    static const char empty[] = "";

    if (strcmp(req->method, "HEAD") != 0) {
        return 0;
    }
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    resp->body = empty;
    resp->body_len = 0;
    return 1;
}

/* ---- GET /connect/<token> ---- */

int
api_connect_page(struct http_request *req, struct http_response *resp)
{
    struct store_session ss;
    int answered = 0;
    int rc = 0;

    if (head_only(req, resp)) {
        return 0;
    }
    rc = open_link(req, resp, "direct", &ss, &answered);

    if (answered) {
        return rc;
    }
    return start(req, resp, &ss, ss.resource, 302);
}

/* ---- GET /callback/<provider> ---- */

/* Append `sep` (unless NUL), then name=value form-encoded; later
 * parameters are joined by '&'. */
static int
add_param(struct buf *b, char *sep, const char *name, const char *value)
{
    int rc = 0;

    if (*sep != '\0') {
        rc = buf_addch(b, *sep);
    }
    *sep = '&';
    if (rc == 0) {
        rc = buf_printf(b, "%s=", name);
    }
    if (rc == 0) {
        rc = oauth2_form_encode(b, value, strlen(value));
    }
    return rc;
}

/*
 * `base` with the parameters added to its query (before any fragment),
 * as the developer's app expects them: reference_id is the string
 * "null" when the link had none.
 */
static const char *
redirect_url(struct arena *ar, const char *base, const struct connect_result *r)
{
    const struct store_session *ss = r->session;
    const char *frag = strchr(base, '#');
    size_t head = frag != NULL ? (size_t)(frag - base) : strlen(base);
    char sep = '&';
    struct buf b;
    const char *out = NULL;
    int rc = 0;

    if (memchr(base, '?', head) == NULL) {
        sep = '?';
    } else if (base[head - 1] == '?' || base[head - 1] == '&') {
        sep = '\0';
    }
    buf_init(&b, REDIRECT_MAX);
    rc = buf_add(&b, base, head);
    if (rc == 0 && r->user_id != NULL) {
        rc = add_param(&b, &sep, "user_id", r->user_id);
    }
    if (rc == 0) {
        rc = add_param(&b, &sep, "reference_id",
                       ss->reference_id != NULL ? ss->reference_id : "null");
    }
    if (rc == 0 && r->resource != NULL) {
        rc = add_param(&b, &sep, "resource", r->resource);
    }
    if (rc == 0 && !r->ok) {
        rc = add_param(&b, &sep, "reason", r->reason);
    }
    if (rc == 0 && frag != NULL) {
        rc = buf_addstr(&b, frag);
    }
    if (rc == 0) {
        out = arena_strdup(ar, buf_str(&b));
    }
    buf_release(&b);
    return out;
}

/* The login has ended: answer the deferred callback request. */
static void
on_finished(void *arg, const struct connect_result *r)
{
    struct http_request *req = arg;
    const struct store_session *ss = r->session;
    const char *base = NULL;
    const char *url = NULL;
    struct http_response resp;
    int rc = 0;

    memset(&resp, 0, sizeof(resp));
    if (ss != NULL) {
        base = r->ok ? ss->success_url : ss->failure_url;
    }
    if (base != NULL) {
        url = redirect_url(req->arena, base, r);
    }
    if (url != NULL) {
        rc = redirect(req, &resp, 302, url);
    } else if (r->ok) {
        rc = message(req, &resp, ss->language, WIDGET_MSG_SUCCESS, 200, NULL);
    } else {
        rc = message(req, &resp, ss != NULL ? ss->language : NULL,
                     WIDGET_MSG_FAILURE, ss != NULL ? 200 : 400, r->reason);
    }
    http_finish(req, rc, &resp);
}

int
api_callback(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct connect_query *q = arena_alloc(req->arena, sizeof(*q));

    if (q == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    if (head_only(req, resp)) {
        return 0;
    }
    if (app_provider(a, req->params[0]) == NULL) {
        /* no provider of that name here: touch no attempt */
        return message(req, resp, NULL, WIDGET_MSG_NOT_FOUND, 404, NULL);
    }
    q->state = http_query(req, "state");
    q->code = http_query(req, "code");
    q->error = http_query(req, "error");
    q->error_description = http_query(req, "error_description");
    http_defer(req);
    connect_finish(a, req->arena, req->params[0], q, on_finished, req);
    return 0;
}

/* ---- GET /widget/icons/<RESOURCE>.svg ---- */

int
api_widget_icon(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *file = req->params[0];
    size_t n = strlen(file);
    const struct app_provider *p = NULL;
    char *resource = NULL;
    struct buf b;
    int rc = 0;

    if (n > 4 && strcmp(file + n - 4, ".svg") == 0) {
        resource = arena_strndup(req->arena, file, n - 4);
    }
    p = resource != NULL ? app_provider(a, resource) : NULL;
    if (p == NULL) {
        return http_reply_error(req, resp, 404, "no such icon");
    }
    buf_init(&b, PAGE_MAX);
    rc = icon_svg(&b, p->resource, p->name);
    if (rc == 0) {
        resp->body = arena_strndup(req->arena, buf_str(&b), b.len);
        resp->body_len = b.len;
    }
    buf_release(&b);
    if (rc < 0 || resp->body == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the icon");
    }
    resp->status = 200;
    resp->content_type = "image/svg+xml";
    http_add_header(resp, "Content-Security-Policy", "default-src 'none'");
    http_add_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_header(resp, "Cache-Control", "public, max-age=86400");
    return 0;
}
