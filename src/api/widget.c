/*
 * widget.c - POST /v2/auth/generateWidgetSession and the newer
 * /widget/api/session (also /api/widget/session), which take one body
 * and answer one shape; they differ only in the status for bad
 * credentials (401 and 403).
 */
#include <string.h>

#include "api/internal.h"
#include "app/links.h"
#include "core/buf.h"
#include "http/reply.h"

/* `providers` is a comma-separated string; a JSON array of strings is
 * accepted too and joined. */
static int
get_providers(json_t *body, struct arena *ar, const char **out, struct err *e)
{
    json_t *v = json_object_get(body, "providers");
    struct buf b;
    size_t i = 0;
    json_t *item = NULL;
    int rc = 0;

    if (v == NULL || !json_is_array(v)) {
        return api_opt_string(body, "providers", out, e);
    }
    buf_init(&b, LINKS_PROVIDERS_MAX);
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);

        if (s == NULL || strlen(s) != json_string_length(item) ||
            strchr(s, ',') != NULL) {
            rc = err_set(e, ERR_INVALID,
                         "providers: expected a comma-separated string or "
                         "an array of provider names");
            goto out;
        }
        if ((b.len > 0 && buf_addch(&b, ',') < 0) || buf_addstr(&b, s) < 0) {
            rc = err_set(e, ERR_INVALID, "providers: list too long");
            goto out;
        }
    }
    if (b.len == 0) {
        rc = err_set(e, ERR_INVALID, "providers: the list names no provider");
        goto out;
    }
    *out = arena_strdup(ar, buf_str(&b));
    if (*out == NULL) {
        rc = err_set(e, ERR_NOMEM, "providers: out of request memory");
    }

out:
    buf_release(&b);
    return rc;
}

static int
parse_request(json_t *body, struct arena *ar, struct links_request *lr,
              struct err *e)
{
    int rc = 0;

    memset(lr, 0, sizeof(*lr));
    rc = get_providers(body, ar, &lr->providers, e);
    if (rc == 0) {
        rc = api_link_fields(body, lr, e);
    }
    if (rc == 0) {
        rc = api_opt_integer(body, "expires_in", &lr->expires_given,
                             &lr->expires_in, e);
    }
    return rc;
}

/* The answer for a stored session. */
static int
answer(struct http_request *req, struct http_response *resp,
       const struct links_session *ls)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "status", "success",
                          "session_id", ls->session_id, "url", ls->url,
                          "expires_in", (json_int_t)ls->expires_in);

    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return http_reply_json(req, resp, 200, o);
}

/* The session is stored, or not: answer the deferred request `arg`.
 * Runs on the store's writer thread. */
static void
on_stored(void *arg, int rc, const struct links_session *ls,
          const struct err *e)
{
    struct http_request *req = arg;
    struct http_response resp;

    memset(&resp, 0, sizeof(resp));
    if (rc < 0) {
        rc = http_reply_err(req, &resp, e);
    } else {
        rc = answer(req, &resp, ls);
    }
    http_finish(req, rc, &resp);
}

/*
 * Credentials, body and validation are checked here, on the event-loop
 * thread, and answered at once when wrong; the insert is queued and
 * on_stored() answers once it has committed.
 */
static int
handle(struct http_request *req, struct http_response *resp, int auth_status)
{
    struct app *a = req->ctx;
    struct links_request lr;
    struct links_widget *w = NULL;
    struct http_response late;
    struct err e;
    const char *dev_id = NULL;
    json_t *body = NULL;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == ERR_AUTH) {
        return http_reply_error(req, resp, auth_status, "%s", e.msg);
    }
    if (rc == 0) {
        rc = api_body_object(req, &body, &e);
    }
    if (rc == 0) {
        rc = parse_request(body, req->arena, &lr, &e);
    }
    if (rc == 0) {
        w = arena_alloc(req->arena, sizeof(*w));
        if (w == NULL) {
            rc = err_set(&e, ERR_NOMEM, "links: out of request memory");
        }
    }
    if (rc == 0) {
        rc = links_prepare_widget(a, dev_id, &lr, req->arena, w, &e);
    }
    if (rc < 0) {
        json_decref(body);
        return http_reply_err(req, resp, &e);
    }

    /* from here on_stored() answers the request; `lr` borrows from body
     * only until the store has copied it */
    http_defer(req);
    rc = links_store_widget(a, w, on_stored, req);
    json_decref(body);
    if (rc < 0) {
        memset(&late, 0, sizeof(late));
        err_set(&e, rc, "generateWidgetSession: the store is closing");
        http_finish(req, http_reply_err(req, &late, &e), &late);
    }
    return 0;
}

int
api_widget_session(struct http_request *req, struct http_response *resp)
{
    return handle(req, resp, 401);
}

int
api_widget_session_v3(struct http_request *req, struct http_response *resp)
{
    return handle(req, resp, 403);
}
