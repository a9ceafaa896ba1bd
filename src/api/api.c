/*
 * api.c - the route table.
 */
#include "api/api.h"
#include "api/internal.h"
#include "http/reply.h"
#include "http/router.h"

static int
healthz(struct http_request *req, struct http_response *resp)
{
    static const char ok[] = "{\"status\":\"ok\"}";

    (void)req;
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = ok;
    resp->body_len = sizeof(ok) - 1;
    return 0;
}

static const struct http_route routes[] = {
    {"GET", "/healthz", healthz},
    {"POST", "/v2/auth/generateWidgetSession", api_widget_session},
    {"POST", "/widget/api/session", api_widget_session_v3},
    {"POST", "/api/widget/session", api_widget_session_v3},
};

int
api_handle(struct http_request *req, struct http_response *resp)
{
    return http_route(routes, sizeof(routes) / sizeof(routes[0]), req, resp);
}
