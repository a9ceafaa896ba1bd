/*
 * router.h - map method and path to a handler.
 *
 * A pattern is a path whose segments are literal, `{name}` (one segment,
 * captured into req->params in order) or a final `*` (the rest of the
 * path, captured). Routes are tried in table order. A path that matches a
 * route of another method only answers 405 with an Allow header; no match
 * at all answers 404; both with the JSON error body. HEAD is served by the
 * GET route.
 */
#ifndef FERRY_HTTP_ROUTER_H
#define FERRY_HTTP_ROUTER_H

#include "http/server.h"

struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v2/users/{id}" or "/widget/" then "*" */
    http_handler_fn handler;
};

/* Run the handler for `req` out of `routes` (`n` entries). Returns what
 * the handler returned, or 0 after a 404 or 405 reply. */
int http_route(const struct http_route *routes, size_t n,
               struct http_request *req, struct http_response *resp);

#endif
