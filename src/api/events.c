/*
 * events.c - how a developer's events were delivered: GET
 * /v2/events/{id}, POST /v2/events/{id}/replay, GET /v2/deliveries,
 * POST /v2/deliveries/replay; and GET /metrics for the operator.
 *
 * Every lookup is scoped to the calling developer: another developer's
 * event is answered as an unknown one (404).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "app/destinations.h"
#include "core/buf.h"
#include "core/isotime.h"
#include "deliver/deliver.h"
#include "http/reply.h"

#define EVENT_ID_MAX 64
/* an event and its deliveries, as GET /v2/events/{id} answers them */
#define EVENT_ANSWER_MAX (128u << 20)
/* events larger than the request memory read at once, per process */
#define LARGE_ANSWERS_MAX 4

static atomic_int large_answers;
#define DELIVERIES_MAX  1000      /* ?limit= */
#define METRICS_MAX     (1 << 20) /* bytes of /metrics */
#define METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"
#define DELIVERY_STATES "pending, in_flight, delivered, dead or cancelled"

static const char *const states[] = {"pending", "in_flight", "delivered",
                                     "dead", "cancelled"};

/* Answer `o` (taken), or 500 when it could not be built. */
static int
answer(struct http_request *req, struct http_response *resp, json_t *o)
{
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return http_reply_json(req, resp, 200, o);
}

/* `ev` as the API shows it: the row, and the body as JSON. */
static json_t *
event_json(const struct store_event *ev)
{
    char t[ISOTIME_MAX];

    isotime_format(ev->created_at, 0, t);
    return json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:o?}", "id", ev->id, "type",
                     ev->type, "user_id", ev->user_id, "reference",
                     ev->reference, "created_at", t, "body",
                     json_loads(ev->body, JSON_DECODE_ANY, NULL));
}

/* ---- GET /v2/events/{id} ---- */

/* The deliveries of event `id` with their attempts. */
static int
deliveries_json(struct http_request *req, const char *dev_id, const char *id,
                json_t **out, struct err *e)
{
    struct app *a = req->ctx;
    struct store_delivery_query q = {0};
    struct store_delivery *d = NULL;
    json_t *arr = json_array();
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    q.dev_id = dev_id;
    q.event_id = id;
    rc = store_delivery_list(a->store, &q, req->arena, &d, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        struct store_delivery_attempt *at = NULL;
        size_t nat = 0;

        rc = store_delivery_attempts(a->store, d[i].id, req->arena, &at, &nat,
                                     e);
        if (rc == 0 && json_array_append_new(arr, destinations_delivery_json(
                                                      &d[i], at, nat)) < 0) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
        }
    }
    if (rc == 0 && arr == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int
api_event_get(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *id = req->params[0];
    const char *dev_id = NULL;
    struct store_event ev;
    struct arena big;
    json_t *arr = NULL;
    json_t *o = NULL;
    int slot = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    arena_init(&big, EVENT_ANSWER_MAX);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0 && strlen(id) > EVENT_ID_MAX) {
        rc = err_set(&e, ERR_NOTFOUND, "id: no event '%.32s...'", id);
    }
    /* the deliveries first: an event that nearly fills the request's
     * memory leaves them no room */
    if (rc == 0) {
        rc = deliveries_json(req, dev_id, id, &arr, &e);
    }
    if (rc == 0) {
        rc = store_event_get(a->store, dev_id, id, req->arena, &ev, &e);
    }
    if (rc == ERR_NOMEM) {
        /* larger than the request's memory: read it apart, a few at a
         * time over the whole process */
        slot = atomic_fetch_add(&large_answers, 1) < LARGE_ANSWERS_MAX;
        if (!slot) {
            atomic_fetch_sub(&large_answers, 1);
            json_decref(arr);
            rc = http_reply_error(req, resp, 503,
                                  "too many large events are being read; "
                                  "try again");
            http_add_header(resp, "Retry-After", "1");
            return rc;
        }
        err_clear(&e);
        rc = store_event_get(a->store, dev_id, id, &big, &ev, &e);
    }
    if (rc == ERR_NOTFOUND) {
        err_set(&e, rc, "id: no event '%s'", id);
    }
    if (rc == 0) {
        deliver_kick(a->deliver);
    }
    if (rc == 0) {
        o = json_pack("{s:s, s:o, s:o}", "status", "success", "event",
                      event_json(&ev), "deliveries", arr);
        arr = NULL; /* taken by o, also when it failed */
        rc = o != NULL ? 0 : err_set(&e, ERR_NOMEM, "cannot build the answer");
    }
    json_decref(arr);
    arena_release(&big);
    if (rc == 0) {
        rc = http_reply_json_large(req, resp, 200, o, EVENT_ANSWER_MAX);
    } else {
        rc = http_reply_err(req, resp, &e);
    }
    if (slot) {
        atomic_fetch_sub(&large_answers, 1);
    }
    return rc;
}

/* ---- POST /v2/events/{id}/replay ---- */

int
api_event_replay(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *id = req->params[0];
    const char *dev_id = NULL;
    int64_t queued = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0 && strlen(id) > EVENT_ID_MAX) {
        rc = err_set(&e, ERR_NOTFOUND, "id: no event '%.32s...'", id);
    }
    if (rc == 0) {
        rc = store_event_replay(a->store, dev_id, id, isotime_now_us(), &queued,
                                &e);
        if (rc == ERR_NOTFOUND) {
            err_set(&e, rc, "id: no event '%s'", id);
        }
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp,
                  json_pack("{s:s, s:s, s:I}", "status", "success", "id", id,
                            "queued", (json_int_t)queued));
}

/* ---- GET /v2/deliveries ---- */

/* ?state=, ?since=, ?limit= into `q`. */
static int
list_query(struct http_request *req, struct store_delivery_query *q,
           struct err *e)
{
    const char *state = http_query(req, "state");
    const char *since = http_query(req, "since");
    const char *limit = http_query(req, "limit");
    char *end = NULL;
    size_t i = 0;
    long v = 0;

    if (state != NULL) {
        for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
            if (strcmp(state, states[i]) == 0) {
                q->state = states[i];
            }
        }
        if (q->state == NULL) {
            return err_set(e, ERR_INVALID, "state: expected %s",
                           DELIVERY_STATES);
        }
    }
    if (since != NULL && api_time_param("since", since, &q->since, e) < 0) {
        return ERR_INVALID;
    }
    if (limit != NULL) {
        errno = 0;
        v = strtol(limit, &end, 10);
        if (!isdigit((unsigned char)limit[0]) || *end != '\0' || errno != 0 ||
            v < 1 || v > DELIVERIES_MAX) {
            return err_set(e, ERR_INVALID,
                           "limit: must be an integer from 1 to %d",
                           DELIVERIES_MAX);
        }
        q->limit = (size_t)v;
    }
    return 0;
}

int
api_deliveries_list(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct store_delivery_query q = {0};
    struct store_delivery *d = NULL;
    const char *dev_id = NULL;
    json_t *arr = NULL;
    size_t n = 0;
    size_t i = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = list_query(req, &q, &e);
    }
    q.dev_id = dev_id;
    if (rc == 0) {
        rc = store_delivery_list(a->store, &q, req->arena, &d, &n, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    arr = json_array();
    for (i = 0; arr != NULL && i < n; i++) {
        json_t *o = destinations_delivery_json(&d[i], NULL, 0);

        /* the list carries no attempts: GET /v2/events/{id} has them */
        json_object_del(o, "attempt_log");
        if (json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (arr == NULL) {
        return answer(req, resp, NULL);
    }
    return answer(
        req, resp,
        json_pack("{s:s, s:o}", "status", "success", "deliveries", arr));
}

/* ---- POST /v2/deliveries/replay ---- */

/* "since" of the body: unix seconds (an integer) or text as
 * api_time_param() takes it; absent or null is 0. */
static int
body_since(json_t *body, int64_t *since, struct err *e)
{
    json_t *v = json_object_get(body, "since");
    char digits[32];
    const char *s = NULL;
    int rc = 0;

    *since = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        /* read as its digits would be, limits included */
        snprintf(digits, sizeof(digits), "%lld",
                 (long long)json_integer_value(v));
        return api_time_param("since", digits, since, e);
    }
    if (json_is_real(v) && json_real_value(v) >= 0 &&
        json_real_value(v) < 1e15 &&
        json_real_value(v) == floor(json_real_value(v))) {
        /* 1.7e9 and 1710460800.0 are whole seconds too */
        snprintf(digits, sizeof(digits), "%.0f", json_real_value(v));
        return api_time_param("since", digits, since, e);
    }
    if (json_is_number(v)) {
        return err_set(e, ERR_INVALID,
                       "since: whole unix seconds from 1970 to 9999");
    }
    if (!json_is_string(v)) {
        return err_set(e, ERR_INVALID, "since: " API_TIME_FORMS);
    }
    rc = api_opt_string(body, "since", &s, e);
    if (rc == 0) {
        rc = api_time_param("since", s, since, e);
    }
    return rc;
}

int
api_deliveries_replay(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *dev_id = NULL;
    json_t *body = NULL;
    int64_t since = 0;
    int64_t queued = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = api_body_object(req, &body, &e);
    }
    if (rc == 0) {
        rc = body_since(body, &since, &e);
    }
    json_decref(body);
    if (rc == 0) {
        rc = store_delivery_replay_dead(a->store, dev_id, since,
                                        isotime_now_us(), &queued, &e);
    }
    if (rc == 0) {
        deliver_kick(a->deliver);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp,
                  json_pack("{s:s, s:I}", "status", "success", "queued",
                            (json_int_t)queued));
}

/* ---- GET /metrics ---- */

/* The store's deliveries by state as Prometheus gauges. */
static int
metrics_counts(struct app *a, struct buf *b, struct err *e)
{
    struct store_delivery_counts c;
    int64_t v[5];
    size_t i = 0;
    int rc = store_delivery_counts(a->store, &c, e);

    if (rc < 0) {
        return rc;
    }
    v[0] = c.pending;
    v[1] = c.in_flight;
    v[2] = c.delivered;
    v[3] = c.dead;
    v[4] = c.cancelled;
    rc = buf_addstr(b, "# HELP ferry_deliveries Deliveries in the store by "
                       "state.\n# TYPE ferry_deliveries gauge\n");
    for (i = 0; rc == 0 && i < 5; i++) {
        rc = buf_printf(b, "ferry_deliveries{state=\"%s\"} %lld\n", states[i],
                        (long long)v[i]);
    }
    return rc < 0 ? err_set(e, rc, "/metrics: the answer is too large") : 0;
}

int
api_metrics(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct buf b;
    struct err e;
    char *body = NULL;
    int rc = 0;

    err_clear(&e);
    buf_init(&b, METRICS_MAX);
    rc = deliver_metrics(&b);
    if (rc < 0) {
        err_set(&e, rc, "/metrics: the answer is too large");
    } else {
        rc = metrics_counts(a, &b, &e);
    }
    if (rc == 0) {
        body = arena_strndup(req->arena, b.data != NULL ? b.data : "", b.len);
        rc = body == NULL ? err_set(&e, ERR_NOMEM, "out of request memory") : 0;
    }
    if (rc < 0) {
        buf_release(&b);
        return http_reply_err(req, resp, &e);
    }
    resp->status = 200;
    resp->content_type = METRICS_TYPE;
    resp->body = body;
    resp->body_len = b.len;
    buf_release(&b);
    return 0;
}
