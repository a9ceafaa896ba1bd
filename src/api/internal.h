/*
 * internal.h - helpers shared by the API handlers. Not for other layers.
 */
#ifndef FERRY_API_INTERNAL_H
#define FERRY_API_INTERNAL_H

#include <jansson.h>

#include "app/app.h"
#include "app/links.h"
#include "store/store.h"
#include "core/err.h"
#include "http/server.h"

/* Limits on what the Terra headers may hold before they are looked at. */
#define API_DEV_ID_MAX 64

/*
 * Check `dev-id` and `x-api-key` (any case). 0 with `*dev_id` set
 * (borrowed for the request), or ERR_AUTH with the message to send.
 */
int api_authenticate(struct http_request *req, struct app *a,
                     const char **dev_id, struct err *e);

/*
 * The request body as a JSON object: an empty body is `{}`. Duplicate
 * keys are refused. ERR_INVALID with "body: ..." otherwise. The caller
 * json_decref()s `*out`.
 */
int api_body_object(const struct http_request *req, json_t **out,
                    struct err *e);

/*
 * Field `name` of `o` as a string. Absent or null gives NULL. ERR_INVALID
 * naming the field when it is another type or holds NUL bytes. The string
 * is borrowed from `o`.
 */
int api_opt_string(json_t *o, const char *name, const char **out,
                   struct err *e);

/*
 * Field `name` of `o` as an integer. `*given` is 0 when absent or null.
 * ERR_INVALID naming the field when it is not an integral number; values
 * beyond the range of long come back as LONG_MAX or LONG_MIN, for the
 * caller's bounds check to refuse.
 */
int api_opt_integer(json_t *o, const char *name, int *given, long *out,
                    struct err *e);

/*
 * The fields every link request has (reference_id, language,
 * auth_success_redirect_url, auth_failure_redirect_url) from `body`
 * into `lr`, borrowed from `body`; the errors of api_opt_string().
 */
int api_link_fields(json_t *body, struct links_request *lr, struct err *e);

/*
 * The user `id` of `dev_id` that is not deauthorized, into `*u` (strings
 * in the request's arena). ERR_NOTFOUND naming `field` when there is no
 * such user (another developer's users included); the store's errors.
 */
int api_find_user(struct http_request *req, const char *dev_id, const char *id,
                  const char *field, struct store_user *u, struct err *e);

/*
 * The time `s` of the parameter `name`: a date (YYYY-MM-DD, UTC
 * midnight), an ISO 8601 date-time or unix seconds, from 1970 to 9999,
 * as unix microseconds in `*us`. ERR_INVALID naming `name`.
 */
int api_time_param(const char *name, const char *s, int64_t *us, struct err *e);

/* What api_time_param() says it takes. */
#define API_TIME_FORMS                                                         \
    "expected a date (YYYY-MM-DD), an ISO 8601 date-time or unix seconds"

/* Handlers (one file each). */
int api_widget_session(struct http_request *req, struct http_response *resp);
int api_widget_session_v3(struct http_request *req, struct http_response *resp);
int api_widget_page(struct http_request *req, struct http_response *resp);
int api_widget_pick(struct http_request *req, struct http_response *resp);
int api_connect_page(struct http_request *req, struct http_response *resp);
int api_callback(struct http_request *req, struct http_response *resp);
int api_widget_icon(struct http_request *req, struct http_response *resp);
int api_authenticate_user(struct http_request *req, struct http_response *resp);
int api_deauthenticate_user(struct http_request *req,
                            struct http_response *resp);
int api_user_info(struct http_request *req, struct http_response *resp);
int api_subscriptions(struct http_request *req, struct http_response *resp);
int api_bulk_user_info(struct http_request *req, struct http_response *resp);
int api_user_patch(struct http_request *req, struct http_response *resp);
/* GET /v2/activity, /sleep, /daily, /body, /nutrition, /menstruation,
 * /athlete and /plannedWorkout: the data type is the path's last
 * segment (data_type_parse()). */
int api_data_get(struct http_request *req, struct http_response *resp);
int api_integrations(struct http_request *req, struct http_response *resp);
int api_integrations_detailed(struct http_request *req,
                              struct http_response *resp);
int api_destinations_list(struct http_request *req, struct http_response *resp);
int api_destinations_add(struct http_request *req, struct http_response *resp);
int api_destinations_remove(struct http_request *req,
                            struct http_response *resp);
int api_destinations_rotate(struct http_request *req,
                            struct http_response *resp);
int api_event_get(struct http_request *req, struct http_response *resp);
int api_event_replay(struct http_request *req, struct http_response *resp);
int api_deliveries_list(struct http_request *req, struct http_response *resp);
int api_deliveries_replay(struct http_request *req, struct http_response *resp);
int api_metrics(struct http_request *req, struct http_response *resp);
/* /hooks/<provider>[/<token>]: a provider's push (hooks.c). */
int api_hook(struct http_request *req, struct http_response *resp);
/* `ferry demo` only (404 otherwise): the demo inbox page. */
int api_demo_inbox(struct http_request *req, struct http_response *resp);

#endif
