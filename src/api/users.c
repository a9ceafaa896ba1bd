/*
 * users.c - the user endpoints: GET /v2/userInfo, GET /v2/subscriptions,
 * POST /v2/bulkUserInfo, PATCH /v2/users/{user_id}.
 *
 * Every lookup is scoped to the calling developer: a user of another
 * developer is answered exactly as an unknown one (404). A deauthorized
 * user (deauthenticated, or replaced by a re-authentication) is gone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "app/events.h"
#include "core/isotime.h"
#include "http/reply.h"

#define PER_PAGE_DEFAULT 500
#define PER_PAGE_MAX     500
#define BULK_MAX         1000
#define ID_MAX           128

static int
gone(const struct store_user *u)
{
    return strcmp(u->state, "deauthorized") == 0;
}

int
api_find_user(struct http_request *req, const char *dev_id, const char *id,
              const char *field, struct store_user *u, struct err *e)
{
    struct app *a = req->ctx;
    int rc = 0;

    if (strlen(id) > ID_MAX) {
        return err_set(e, ERR_NOTFOUND, "%s: no user '%.32s...'", field, id);
    }
    rc = store_user_get(a->store, dev_id, id, req->arena, u, e);
    if (rc == 0 && gone(u)) {
        rc = ERR_NOTFOUND;
    }
    if (rc == ERR_NOTFOUND) {
        return err_set(e, rc, "%s: no user '%s'", field, id);
    }
    return rc;
}

/* An array of the users `us`; NULL when out of memory. */
static json_t *
users_json(const struct store_user *us, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, events_user_json(&us[i], 0)) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Answer `o` (taken), or 500 when it could not be built. */
static int
answer(struct http_request *req, struct http_response *resp, json_t *o)
{
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return http_reply_json(req, resp, 200, o);
}

/* ---- GET /v2/userInfo ---- */

static int
info_by_reference(struct http_request *req, struct http_response *resp,
                  const char *dev_id, const char *ref)
{
    struct app *a = req->ctx;
    struct store_user_query q = {0};
    struct store_user *us = NULL;
    size_t n = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    q.dev_id = dev_id;
    q.reference_id = ref;
    rc = store_user_list(a->store, &q, req->arena, &us, &n, &e);
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp, users_json(us, n));
}

int
api_user_info(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *dev_id = NULL;
    const char *id = http_query(req, "user_id");
    const char *ref = http_query(req, "reference_id");
    struct store_user u;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0 && (id == NULL || id[0] == '\0') &&
        (ref == NULL || ref[0] == '\0')) {
        rc = err_set(&e, ERR_INVALID,
                     "user_id or reference_id: one of them is required");
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    if (id == NULL || id[0] == '\0') {
        return info_by_reference(req, resp, dev_id, ref);
    }
    rc = api_find_user(req, dev_id, id, "user_id", &u, &e);
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp,
                  json_pack("{s:o, s:s, s:b}", "user", events_user_json(&u, 1),
                            "status", "success", "is_authenticated",
                            strcmp(u.state, "connected") == 0));
}

/* ---- GET /v2/subscriptions ---- */

/* Query parameter `name` as a number in [min, max]; `*given` 0 when
 * absent. */
static int
query_number(struct http_request *req, const char *name, long min, long max,
             int *given, long *out, struct err *e)
{
    const char *s = http_query(req, name);
    char *end = NULL;
    long v = 0;

    *given = 0;
    if (s == NULL) {
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 ||
        v < min || v > max) {
        return err_set(e, ERR_INVALID, "%s: must be an integer from %ld to %ld",
                       name, min, max);
    }
    *given = 1;
    *out = v;
    return 0;
}

int
api_subscriptions(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct store_user_query q = {0};
    struct store_user *us = NULL;
    const char *dev_id = NULL;
    int has_page = 0;
    int has_per = 0;
    long page = 0;
    long per = PER_PAGE_DEFAULT;
    int64_t total = 0;
    int64_t max_page = 0;
    size_t n = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = query_number(req, "page", 0, 1000000, &has_page, &page, &e);
    }
    if (rc == 0) {
        rc = query_number(req, "per_page", 1, PER_PAGE_MAX, &has_per, &per, &e);
    }
    q.dev_id = dev_id;
    if (rc == 0 && has_page) {
        q.offset = (size_t)page * (size_t)per;
        q.limit = (size_t)per;
        rc = store_user_count(a->store, &q, &total, &e);
    }
    if (rc == 0) {
        rc = store_user_list(a->store, &q, req->arena, &us, &n, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    if (!has_page) {
        return answer(req, resp,
                      json_pack("{s:o}", "users", users_json(us, n)));
    }
    max_page = total == 0 ? 0 : (total - 1) / per;
    return answer(
        req, resp,
        json_pack("{s:{s:o, s:I, s:o}}", "data", "next",
                  page < max_page ? json_integer(page + 1) : json_null(),
                  "max_page", (json_int_t)max_page, "results",
                  users_json(us, n)));
}

/* ---- POST /v2/bulkUserInfo ---- */

int
api_bulk_user_info(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *dev_id = NULL;
    json_t *ids = NULL;
    json_t *out = NULL;
    json_t *v = NULL;
    json_error_t je;
    size_t i = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    ids = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
    if (!json_is_array(ids)) {
        rc =
            err_set(&e, ERR_INVALID, "body: expected a JSON array of user ids");
    } else if (json_array_size(ids) > BULK_MAX) {
        rc = err_set(&e, ERR_INVALID, "body: at most %d user ids", BULK_MAX);
    }
    out = json_array();
    json_array_foreach(ids, i, v)
    {
        struct store_user u;

        if (rc < 0 || out == NULL) {
            break;
        }
        if (!json_is_string(v)) {
            rc = err_set(&e, ERR_INVALID, "body[%zu]: expected a user id", i);
            break;
        }
        rc = api_find_user(req, dev_id, json_string_value(v), "body", &u, &e);
        if (rc == 0) {
            json_array_append_new(out, events_user_json(&u, 0));
        }
    }
    json_decref(ids);
    if (rc < 0) {
        json_decref(out);
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp, out);
}

/* ---- PATCH /v2/users/{user_id} ---- */

static int
parse_patch(json_t *body, int *set_ref, const char **ref, int *active,
            struct err *e)
{
    json_t *r = json_object_get(body, "reference_id");
    json_t *act = json_object_get(body, "active");
    int rc = 0;

    *set_ref = r != NULL;
    *ref = NULL;
    *active = -1;
    if (r != NULL && !json_is_null(r)) {
        rc = api_opt_string(body, "reference_id", ref, e);
    }
    if (rc == 0 && act != NULL) {
        if (!json_is_boolean(act)) {
            return err_set(e, ERR_INVALID, "active: expected true or false");
        }
        *active = json_is_true(act);
    }
    if (rc == 0 && *ref != NULL) {
        rc = links_check_reference(*ref, e);
    }
    return rc;
}

int
api_user_patch(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *dev_id = NULL;
    const char *id = req->params[0];
    const char *ref = NULL;
    int set_ref = 0;
    int active = -1;
    json_t *body = NULL;
    struct store_user u;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = api_body_object(req, &body, &e);
    }
    if (rc == 0) {
        rc = parse_patch(body, &set_ref, &ref, &active, &e);
    }
    if (rc == 0) {
        rc = api_find_user(req, dev_id, id, "user_id", &u, &e);
    }
    if (rc == 0) {
        rc = store_user_update(a->store, dev_id, id, set_ref, ref, active,
                               isotime_now_us(), &e);
        if (rc == ERR_NOTFOUND) {
            err_set(&e, rc, "user_id: no user '%s'", id);
        }
    }
    json_decref(body);
    if (rc == 0) {
        rc = api_find_user(req, dev_id, id, "user_id", &u, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp,
                  json_pack("{s:o, s:s}", "user", events_user_json(&u, 0),
                            "status", "success"));
}
