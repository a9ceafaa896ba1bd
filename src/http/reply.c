/*
 * reply.c - JSON responses and error bodies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "http/reply.h"

static const char json_ctype[] = "application/json";

/* http_reply_json() with room for `max` bytes outside the arena (0:
 * none). */
static int
reply_json(struct http_request *req, struct http_response *resp, int status,
           json_t *body, size_t max)
{
    size_t n =
        json_dumpb(body, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(15));
    char *p = NULL;
    int rc = 0;

    if (n == 0) {
        json_decref(body);
        BUG("http_reply_json: body does not serialise");
    }
    p = arena_alloc(req->arena, n + 1);
    if (p == NULL && n < max) {
        p = resp->heap = malloc(n + 1);
    }
    if (p == NULL) {
        rc = ERR_NOMEM;
        goto out;
    }
    json_dumpb(body, p, n, JSON_COMPACT | JSON_REAL_PRECISION(15));
    p[n] = '\0';
    resp->status = status;
    resp->content_type = json_ctype;
    resp->body = p;
    resp->body_len = n;

out:
    json_decref(body);
    if (rc < 0) {
        /* the error body is small; it still fits when the arena does
         * not take more, because it is built from static strings */
        static const char nomem[] =
            "{\"status\":\"error\",\"message\":\"response too large\","
            "\"type\":\"about:blank\",\"title\":\"internal server error\","
            "\"detail\":\"response too large\"}";
        resp->status = 500;
        resp->content_type = json_ctype;
        resp->body = nomem;
        resp->body_len = sizeof(nomem) - 1;
    }
    return rc;
}

int
http_reply_json(struct http_request *req, struct http_response *resp,
                int status, json_t *body)
{
    return reply_json(req, resp, status, body, 0);
}

int
http_reply_json_large(struct http_request *req, struct http_response *resp,
                      int status, json_t *body, size_t max)
{
    return reply_json(req, resp, status, body, max);
}

const char *
http_status_title(int status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 401:
        return "unauthorized";
    case 402:
        return "payment required";
    case 403:
        return "forbidden";
    case 404:
        return "not found";
    case 405:
        return "method not allowed";
    case 408:
        return "request timeout";
    case 409:
        return "conflict";
    case 410:
        return "gone";
    case 411:
        return "length required";
    case 413:
        return "payload too large";
    case 415:
        return "unsupported media type";
    case 422:
        return "unprocessable content";
    case 429:
        return "too many requests";
    case 500:
        return "internal server error";
    case 502:
        return "bad gateway";
    case 503:
        return "service unavailable";
    case 504:
        return "gateway timeout";
    }
    return status >= 500 ? "server error" : "error";
}

int
http_reply_error(struct http_request *req, struct http_response *resp,
                 int status, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    char instance[512];
    va_list ap;
    json_t *o = NULL;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(instance, sizeof(instance), "%s", req->path);
    /* both may quote what a client sent, or be cut inside a character:
     * JSON needs well-formed UTF-8 */
    utf8_sanitize(msg);
    utf8_sanitize(instance);

    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "status", "error",
                  "message", msg, "type", "about:blank", "title",
                  http_status_title(status), "detail", msg, "instance",
                  instance);
    if (o == NULL) {
        BUG("http_reply_error: cannot build the error body");
    }
    return http_reply_json(req, resp, status, o);
}

int
http_status_for(int code)
{
    switch (code) {
    case ERR_INVALID:
        return 400;
    case ERR_AUTH:
        return 401;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_NOTFOUND:
        return 404;
    case ERR_CONFLICT:
        return 409;
    case ERR_GONE:
        return 410;
    case ERR_TOOBIG:
        return 413;
    case ERR_LIMIT:
        return 429;
    case ERR_UPSTREAM:
        return 502;
    case ERR_TIMEOUT:
        return 504;
    }
    return 500;
}

int
http_reply_err(struct http_request *req, struct http_response *resp,
               const struct err *e)
{
    int status = http_status_for(e->code);

    if (status >= 500 && e->code != ERR_UPSTREAM && e->code != ERR_TIMEOUT) {
        log_event(LOG_ERROR, "http", "http.internal_error",
                  "error=%s detail=%s", err_str(e->code), e->msg);
        return http_reply_error(req, resp, status,
                                "internal error (request id %s)", req->req_id);
    }
    return http_reply_error(req, resp, status, "%s", e->msg);
}
