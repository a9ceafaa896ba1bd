/*
 * api.c - the route table.
 */
#include "api/api.h"
#include "api/internal.h"
#include "http/reply.h"
#include "http/router.h"
#include "sandbox/sandbox.h"

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

/* The SANDBOX provider's server exists only where it is enabled. */
static int
sandbox(struct http_request *req, struct http_response *resp)
{
    if (app_provider(req->ctx, "SANDBOX") == NULL) {
        return http_reply_error(req, resp, 404, "no route for %s", req->path);
    }
    return sandbox_handle(req, resp);
}

static const struct http_route routes[] = {
    {"GET", "/healthz", healthz},
    {"GET", "/metrics", api_metrics},
    {"GET", "/demo/inbox", api_demo_inbox},
    {"GET", "/hooks/{provider}", api_hook},
    {"POST", "/hooks/{provider}", api_hook},
    {"GET", "/hooks/{provider}/{token}", api_hook},
    {"POST", "/hooks/{provider}/{token}", api_hook},
    {"POST", "/v2/auth/generateWidgetSession", api_widget_session},
    {"POST", "/v2/auth/authenticateUser", api_authenticate_user},
    {"DELETE", "/v2/auth/deauthenticateUser", api_deauthenticate_user},
    {"GET", "/v2/userInfo", api_user_info},
    {"GET", "/v2/subscriptions", api_subscriptions},
    {"POST", "/v2/bulkUserInfo", api_bulk_user_info},
    {"PATCH", "/v2/users/{user_id}", api_user_patch},
    {"GET", "/v2/activity", api_data_get},
    {"GET", "/v2/sleep", api_data_get},
    {"GET", "/v2/daily", api_data_get},
    {"GET", "/v2/body", api_data_get},
    {"GET", "/v2/nutrition", api_data_get},
    {"GET", "/v2/menstruation", api_data_get},
    {"GET", "/v2/athlete", api_data_get},
    {"GET", "/v2/plannedWorkout", api_data_get},
    {"GET", "/v2/integrations", api_integrations},
    {"GET", "/v2/integrations/detailed", api_integrations_detailed},
    {"GET", "/v2/destinations", api_destinations_list},
    {"POST", "/v2/destinations", api_destinations_add},
    {"DELETE", "/v2/destinations/{id}", api_destinations_remove},
    {"POST", "/v2/destinations/{id}/rotate-secret", api_destinations_rotate},
    {"GET", "/v2/events/{id}", api_event_get},
    {"POST", "/v2/events/{id}/replay", api_event_replay},
    {"GET", "/v2/deliveries", api_deliveries_list},
    {"POST", "/v2/deliveries/replay", api_deliveries_replay},
    {"POST", "/widget/api/session", api_widget_session_v3},
    {"POST", "/api/widget/session", api_widget_session_v3},
    {"GET", "/widget/icons/{file}", api_widget_icon},
    {"GET", "/widget/{token}", api_widget_page},
    {"POST", "/widget/{token}", api_widget_pick},
    {"GET", "/connect/{token}", api_connect_page},
    {"GET", "/callback/{provider}", api_callback},
    {"GET", "/sandbox/*", sandbox},
    {"POST", "/sandbox/*", sandbox},
};

int
api_handle(struct http_request *req, struct http_response *resp)
{
    return http_route(routes, sizeof(routes) / sizeof(routes[0]), req, resp);
}
