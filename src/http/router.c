/*
 * router.c - table-driven path matching.
 */
#include <string.h>

#include "core/buf.h"
#include "http/reply.h"
#include "http/router.h"

/*
 * Match `path` against `pattern`, capturing into `req` (which is only
 * changed on a match). Returns 1 on a match.
 */
static int
match(const char *pattern, const char *path, struct http_request *req)
{
    const char *caps[HTTP_MAX_PARAMS];
    size_t lens[HTTP_MAX_PARAMS];
    size_t ncaps = 0;
    const char *p = pattern;
    const char *s = path;
    size_t i = 0;

    while (*p != '\0') {
        if (p[0] == '*' && p[1] == '\0') {
            if (ncaps == HTTP_MAX_PARAMS) {
                return 0;
            }
            caps[ncaps] = s;
            lens[ncaps++] = strlen(s);
            s += strlen(s);
            p++;
            break;
        }
        if (*p == '{') {
            const char *end = strchr(s, '/');
            size_t n = end == NULL ? strlen(s) : (size_t)(end - s);

            if (n == 0 || ncaps == HTTP_MAX_PARAMS) {
                return 0;
            }
            caps[ncaps] = s;
            lens[ncaps++] = n;
            s += n;
            p = strchr(p, '}');
            if (p == NULL) {
                return 0;
            }
            p++;
            continue;
        }
        if (*p != *s) {
            return 0;
        }
        p++;
        s++;
    }
    if (*s != '\0') {
        return 0;
    }
    for (i = 0; i < ncaps; i++) {
        req->params[i] = arena_strndup(req->arena, caps[i], lens[i]);
        if (req->params[i] == NULL) {
            return 0;
        }
    }
    req->nparams = ncaps;
    return 1;
}

static int
method_is(const struct http_route *r, const char *method)
{
    if (strcmp(r->method, method) == 0) {
        return 1;
    }
    return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

int
http_route(const struct http_route *routes, size_t n, struct http_request *req,
           struct http_response *resp)
{
    struct buf allow;
    size_t i = 0;
    int path_seen = 0;
    char *allow_value = NULL;

    buf_init(&allow, 256);
    for (i = 0; i < n; i++) {
        struct http_request probe = *req;

        if (!match(routes[i].pattern, req->path, &probe)) {
            continue;
        }
        if (method_is(&routes[i], req->method)) {
            buf_release(&allow);
            *req = probe;
            return routes[i].handler(req, resp);
        }
        if (strstr(buf_str(&allow), routes[i].method) == NULL) {
            if (allow.len > 0) {
                buf_addstr(&allow, ", ");
            }
            buf_addstr(&allow, routes[i].method);
        }
        path_seen = 1;
    }
    if (!path_seen) {
        buf_release(&allow);
        http_reply_error(req, resp, 404, "no route for %s %s", req->method,
                         req->path);
        return 0;
    }
    if (strstr(buf_str(&allow), "GET") != NULL) {
        buf_addstr(&allow, ", HEAD");
    }
    allow_value = arena_strdup(req->arena, buf_str(&allow));
    buf_release(&allow);
    http_reply_error(req, resp, 405, "method %s is not allowed on %s",
                     req->method, req->path);
    if (allow_value != NULL) {
        http_add_header(resp, "Allow", allow_value);
    }
    return 0;
}
