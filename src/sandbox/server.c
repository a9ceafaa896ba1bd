/*
 * server.c - the SANDBOX provider's HTTP surface: the route table, the
 * client's secret and the replies the endpoints share.
 */
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/reply.h"
#include "http/router.h"
#include "oauth/oauth2.h"
#include "sandbox/data.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"
#include "app/grant.h"
#include "widget/html.h"

void
sandbox_client_secret(const struct app *a, char out[65])
{
    app_sandbox_secret(a, out);
}

const char *
sandbox_redirect_uri(const struct app *a, struct arena *ar)
{
    char url[APP_URL_MAX];

    if (grant_callback_url(a, "sandbox", url, sizeof(url)) < 0) {
        return NULL;
    }
    return arena_strdup(ar, url);
}

int
sandbox_send_page(struct http_request *req, struct http_response *resp,
                  int status, const struct buf *page)
{
    const char *origins[2] = {NULL, NULL};
    char *body = arena_strndup(req->arena, buf_str(page), page->len);
    int rc = 0;

    /* the answer to the consent form is a redirect to the client's
     * callback, which redirects on to the developer's app: Chromium
     * holds every hop of that chain to form-action, and no list made
     * here could name the last one, so these pages leave it out */
    origins[0] = HTML_FORM_ANYWHERE;
    if (body == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    rc = html_security_headers(resp, req->arena, origins);
    if (rc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.page_headers",
                  "error=%s origin=%s", err_str(rc), origins[0]);
        return http_reply_error(req, resp, 500, "cannot send the page");
    }
    resp->status = status;
    resp->body = body;
    resp->body_len = page->len;
    return 0;
}

int
sandbox_send_error_page(struct http_request *req, struct http_response *resp,
                        int status, const char *title, const char *text,
                        const char *detail)
{
    struct buf page;
    int rc = 0;

    buf_init(&page, SANDBOX_PAGE_MAX);
    rc = sandbox_page_error(&page, title, text, detail);
    if (rc == 0) {
        rc = sandbox_send_page(req, resp, status, &page);
    } else {
        rc = http_reply_error(req, resp, 500, "cannot build the page");
    }
    buf_release(&page);
    return rc;
}

int
sandbox_redirect(struct http_request *req, struct http_response *resp,
                 const char *location)
{
    (void)req;
    resp->status = 302;
    resp->content_type = NULL;
    resp->body = NULL;
    resp->body_len = 0;
    http_add_header(resp, "Location", location);
    http_add_header(resp, "Referrer-Policy", "no-referrer");
    return 0;
}

int
sandbox_url_param(struct buf *b, const char *name, const char *value)
{
    int rc = buf_addch(b, strchr(buf_str(b), '?') != NULL ? '&' : '?');

    rc = rc != 0 ? rc : buf_addstr(b, name);
    rc = rc != 0 ? rc : buf_addch(b, '=');
    return rc != 0 ? rc : oauth2_form_encode(b, value, strlen(value));
}

static const struct http_route routes[] = {
    {"GET", SANDBOX_AUTHORIZE_PATH, sandbox_authorize_get},
    {"POST", SANDBOX_AUTHORIZE_PATH, sandbox_authorize_post},
    {"POST", SANDBOX_TOKEN_PATH, sandbox_token},
    {"POST", SANDBOX_REVOKE_PATH, sandbox_revoke},
    {"GET", SANDBOX_USERINFO_PATH, sandbox_userinfo},
    {"GET", SANDBOX_WORKOUTS_PATH, sandbox_workouts_get},
    {"GET", SANDBOX_SLEEP_PATH, sandbox_sleep_get},
    {"GET", SANDBOX_DAILY_PATH, sandbox_daily_get},
    {"GET", SANDBOX_BODY_PATH, sandbox_body_get},
    {"GET", SANDBOX_PROFILE_PATH, sandbox_profile_get},
};

int
sandbox_handle(struct http_request *req, struct http_response *resp)
{
    const struct app *a = req->ctx;

    if (!a->have_key) {
        /* every secret of the sandbox derives from the master key */
        log_event(LOG_ERROR, "sandbox", "sandbox.no_key", "path=%s", req->path);
        return http_reply_error(req, resp, 500,
                                "the sandbox needs the master key");
    }
    return http_route(routes, sizeof(routes) / sizeof(routes[0]), req, resp);
}
