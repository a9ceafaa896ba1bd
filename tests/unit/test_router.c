/*
 * test_router.c - route matching, captures, 404 and 405.
 */
#include <jansson.h>
#include <string.h>

#include "http/router.h"
#include "tap.h"

static const char *hit;

static int
h_a(struct http_request *req, struct http_response *resp)
{
    (void)req;
    hit = "a";
    resp->status = 200;
    return 0;
}

static int
h_b(struct http_request *req, struct http_response *resp)
{
    (void)req;
    hit = "b";
    resp->status = 201;
    return 0;
}

static int
h_fail(struct http_request *req, struct http_response *resp)
{
    (void)req;
    (void)resp;
    hit = "fail";
    return ERR_INTERNAL;
}

static const struct http_route routes[] = {
    {"GET", "/healthz", h_a},
    {"POST", "/v2/auth/generateWidgetSession", h_b},
    {"PATCH", "/v2/users/{id}", h_a},
    {"DELETE", "/v2/users/{id}", h_b},
    {"GET", "/v2/users/{id}/x/{y}", h_a},
    {"GET", "/widget/*", h_b},
    {"GET", "/boom", h_fail},
};

static int
run(struct arena *a, const char *method, const char *path,
    struct http_request *req, struct http_response *resp)
{
    memset(req, 0, sizeof(*req));
    memset(resp, 0, sizeof(*resp));
    req->arena = a;
    req->method = method;
    req->path = path;
    req->req_id = "0123456789abcdef";
    hit = NULL;
    return http_route(routes, sizeof(routes) / sizeof(routes[0]), req, resp);
}

static const char *
json_field(const struct http_response *resp, const char *key)
{
    static char out[256];
    json_t *o = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *v =
        o == NULL ? NULL : json_string_value(json_object_get(o, key));

    snprintf(out, sizeof(out), "%s", v == NULL ? "(none)" : v);
    json_decref(o);
    return out;
}

int
main(void)
{
    struct arena a;
    struct http_request req;
    struct http_response resp;
    int rc = 0;

    arena_init(&a, 1 << 20);

    rc = run(&a, "GET", "/healthz", &req, &resp);
    ok(rc == 0 && resp.status == 200 && strcmp(hit, "a") == 0,
       "exact path and method");
    run(&a, "HEAD", "/healthz", &req, &resp);
    ok(hit != NULL && resp.status == 200, "HEAD served by GET");

    run(&a, "PATCH", "/v2/users/u-1", &req, &resp);
    ok(resp.status == 200 && req.nparams == 1, "one capture");
    is_str(req.params[0], "u-1", "capture value");
    run(&a, "DELETE", "/v2/users/u-2", &req, &resp);
    ok(resp.status == 201 && strcmp(hit, "b") == 0,
       "same pattern, other method, other handler");

    run(&a, "GET", "/v2/users/u/x/7", &req, &resp);
    ok(req.nparams == 2, "two captures");
    is_str(req.params[1], "7", "second capture");

    run(&a, "GET", "/widget/abc/def", &req, &resp);
    ok(resp.status == 201 && req.nparams == 1, "wildcard");
    is_str(req.params[0], "abc/def", "wildcard captures the rest");

    run(&a, "GET", "/v2/users/", &req, &resp);
    is_int(resp.status, 404, "empty segment does not capture");
    run(&a, "GET", "/v2/users/a/b", &req, &resp);
    is_int(resp.status, 404, "extra segment does not match");
    run(&a, "GET", "/healthz/", &req, &resp);
    is_int(resp.status, 404, "trailing slash is another path");

    run(&a, "GET", "/nope", &req, &resp);
    is_int(resp.status, 404, "unknown path: 404");
    ok(hit == NULL, "no handler ran");
    is_str(json_field(&resp, "status"), "error", "404 body status");
    is_str(json_field(&resp, "title"), "not found", "404 body title");
    is_str(json_field(&resp, "instance"), "/nope", "404 body instance");
    is_str(json_field(&resp, "type"), "about:blank", "404 body type");

    run(&a, "GET", "/v2/users/u-1", &req, &resp);
    is_int(resp.status, 405, "known path, wrong method: 405");
    ok(resp.nheaders == 1 && strcmp(resp.headers[0].name, "Allow") == 0,
       "Allow header set");
    is_str(resp.headers[0].value, "PATCH, DELETE", "Allow lists methods");
    is_str(json_field(&resp, "title"), "method not allowed", "405 title");

    run(&a, "POST", "/healthz", &req, &resp);
    is_str(resp.headers[0].value, "GET, HEAD", "Allow: GET, HEAD");

    rc = run(&a, "GET", "/boom", &req, &resp);
    is_int(rc, ERR_INTERNAL, "handler failure is returned to the server");

    arena_release(&a);
    return done_testing();
}
