/*
 * demo.c - GET /demo/inbox, mounted only by `ferry demo`.
 */
#include <string.h>

#include "api/internal.h"
#include "app/app.h"
#include "deliver/demo.h"
#include "http/reply.h"
#include "widget/html.h"
#include "widget/inbox.h"

#define INBOX_PAGE_MAX (2u << 20)

int
api_demo_inbox(struct http_request *req, struct http_response *resp)
{
    const struct app *a = req->ctx;
    json_t *entries = NULL;
    struct buf b;
    char *body = NULL;
    int rc = 0;

    if (!a->demo) {
        return http_reply_error(req, resp, 404, "no route for %s %s",
                                req->method, req->path);
    }
    buf_init(&b, INBOX_PAGE_MAX);
    entries = demo_inbox_json();
    if (entries == NULL || widget_render_inbox(entries, &b) != 0 ||
        (body = arena_strndup(req->arena, buf_str(&b), b.len)) == NULL) {
        rc = http_reply_error(req, resp, 500, "cannot build the page");
        goto out;
    }
    if (html_security_headers(resp, req->arena, NULL) < 0) {
        rc = http_reply_error(req, resp, 500, "cannot build the page");
        goto out;
    }
    http_add_header(resp, "Refresh", INBOX_REFRESH_SECONDS);
    resp->status = 200;
    resp->body = body;
    resp->body_len = b.len;
out:
    json_decref(entries);
    buf_release(&b);
    return rc;
}
