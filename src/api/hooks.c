/*
 * hooks.c - /hooks/<provider>[/<token>]: provider pushes.
 *
 * The request is only checked and queued here: the adapter's push()
 * verifies it (a signature, the client-id header, the path token, as
 * the provider's documentation says) and reads what it asks for; the
 * work is queued as jobs and done by the pipeline. A push that is not
 * authentic answers 401 and is logged, with nothing queued.
 */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "api/api.h"
#include "api/internal.h"
#include "app/app.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/reply.h"
#include "pipeline/internal.h"
#include "pipeline/pipeline.h"
#include "providers/adapter.h"

#define QUERY_MAX 8192
#define REPLY_MAX 4096

static const char *
header_of(void *arg, const char *name)
{
    return http_header(arg, name);
}

/* MHD_get_connection_values() iterator: re-encode name=value pairs. */
static enum MHD_Result
query_pair(void *cls, enum MHD_ValueKind kind, const char *key,
           const char *value)
{
    struct buf *b = cls;

    (void)kind;
    if (b->len > 0) {
        buf_addch(b, '&');
    }
    codec_pct_encode(b, key, strlen(key), 0);
    if (value != NULL) {
        buf_addch(b, '=');
        codec_pct_encode(b, value, strlen(value), 0);
    }
    return MHD_YES;
}

#define HOOK_PREFIX       "/hooks/"
#define HOOK_TOKEN_LEN    32
#define PROVIDER_NAME_MAX 64

size_t
api_body_ceiling(void *ctx, const char *target)
{
    const struct app *a = ctx;
    const char *name = NULL;
    const char *slash = NULL;
    const char *token = NULL;
    const struct app_provider *p = NULL;
    const struct adapter *ad = NULL;
    char section[PROVIDER_NAME_MAX + 1];
    char expected[HOOK_TOKEN_LEN + 1];
    size_t n = 0;
    size_t t = 0;
    int ok = 0;

    if (strncmp(target, HOOK_PREFIX, strlen(HOOK_PREFIX)) != 0) {
        return 0;
    }
    name = target + strlen(HOOK_PREFIX);
    slash = strchr(name, '/');
    n = slash != NULL ? (size_t)(slash - name) : 0;
    if (n == 0 || n > PROVIDER_NAME_MAX) {
        return 0;
    }
    token = slash + 1;
    t = strcspn(token, "?");
    if (t != HOOK_TOKEN_LEN) {
        return 0;
    }
    memcpy(section, name, n);
    section[n] = '\0';
    p = app_provider(a, section);
    ad = adapter_find(section);
    if (p == NULL || ad == NULL || ad->push == NULL) {
        return 0;
    }
    pipeline_hook_token(a, p->resource, expected);
    ok = crypto_ct_eq(token, expected, HOOK_TOKEN_LEN);
    crypto_wipe(expected, sizeof(expected));
    return ok ? (size_t)a->cfg->server_hook_max_body_bytes : 0;
}

int
api_hook(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *name = req->params[0];
    const char *token = req->nparams > 1 ? req->params[1] : NULL;
    const struct app_provider *p = app_provider(a, name);
    const struct adapter *ad = adapter_find(name);
    const struct config_provider *cp = NULL;
    struct adapter_push push;
    struct adapter_push_items items = {0};
    enum push_answer answer = PUSH_ACCEPT;
    char expected[33];
    char *reply = NULL;
    int status = 200;
    struct buf q;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (p == NULL || ad == NULL || ad->push == NULL) {
        return http_reply_error(req, resp, 404, "no push endpoint for %s",
                                name);
    }
    cp = config_provider(a->cfg, p->section);
    buf_init(&q, QUERY_MAX);
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_pair, &q);
    pipeline_hook_token(a, p->resource, expected);
    memset(&push, 0, sizeof(push));
    push.method = req->method;
    push.path_token = token;
    push.query = q.len > 0 ? buf_str(&q) : NULL;
    push.header = header_of;
    push.header_arg = req;
    push.body = req->body;
    push.body_len = req->body_len;
    push.client_id = p->client_id;
    push.client_secret = p->client_secret;
    push.webhook_secret = cp != NULL ? cp->webhook_secret : NULL;
    push.hook_token = expected;
    reply = arena_alloc(req->arena, REPLY_MAX);
    if (reply == NULL) {
        rc = http_reply_error(req, resp, 500, "out of request memory");
        goto out;
    }
    reply[0] = '\0';
    rc = ad->push(&push, &answer, &status, reply, REPLY_MAX, &items, &e);
    if (rc == ERR_FORBIDDEN || rc == ERR_AUTH) {
        log_event(LOG_WARN, "hooks", "push.refused", "provider=%s why=%s",
                  p->resource, "not_authentic");
        rc = http_reply_error(req, resp, 401, "%s", e.msg);
        goto out;
    }
    if (rc < 0) {
        log_event(LOG_WARN, "hooks", "push.malformed", "provider=%s",
                  p->resource);
        rc = http_reply_err(req, resp, &e);
        goto out;
    }
    if (answer == PUSH_HANDSHAKE) {
        resp->status = status > 0 ? status : 200;
        resp->content_type = "application/json";
        resp->body = reply;
        resp->body_len = strlen(reply);
        rc = 0;
        goto out;
    }
    rc = pipeline_push(a, p->resource, &items, &e);
    if (rc < 0) {
        rc = http_reply_err(req, resp, &e);
        goto out;
    }
    if (items.skipped > 0) {
        log_event(LOG_WARN, "hooks", "push.elements_left_out",
                  "provider=%s elements=%zu why=%s", p->resource, items.skipped,
                  items.skip_why);
    }
    log_event(LOG_INFO, "hooks", "push.queued", "provider=%s items=%zu",
              p->resource, items.n);
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = "{\"status\":\"success\"}";
    resp->body_len = strlen(resp->body);
    rc = 0;
out:
    adapter_push_items_release(&items);
    buf_release(&q);
    return rc;
}
