/*
 * data.c - the Terra data endpoints: GET /v2/activity, /v2/sleep,
 * /v2/daily, /v2/body, /v2/nutrition, /v2/menstruation, /v2/athlete and
 * /v2/plannedWorkout.
 *
 * One handler serves them all; the path names the data type. A request
 * is checked (400 naming the field), its user looked up for the calling
 * developer (another developer's user is an unknown one: 404), charged
 * to the user's rate limits (ratelimit.h: 429) and then answered:
 *
 * - a type the user's provider does not have: NoDataReturned;
 * - to_webhook=true (the default): NoDestinationsAvailable when the
 *   developer has no destination, else the request is queued with
 *   pipeline_request() and DataSentToWebhook carries the reference the
 *   events will have as their terra-reference;
 * - to_webhook=false: the records themselves, from the store when it has
 *   fetched every day of the range, else from the provider through
 *   pipeline_fetch(). Either may take a while (the provider as long as
 *   it likes), so the request is deferred and answered from a
 *   short-lived thread of its own, at most DATA_THREADS_MAX at once: the
 *   event-loop threads are never held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "api/ratelimit.h"
#include "app/events.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/uuid.h"
#include "http/reply.h"
#include "pipeline/pipeline.h"
#include "providers/adapter.h"

#define DAY_SECONDS      86400
#define LARGE_DAYS       28 /* longer requests arrive in chunks */
#define DATA_THREADS_MAX 32 /* inline answers being made at once */

/* One data request, checked. Lives in the request's arena. */
struct data_ask {
    struct http_request *req;
    const char *user_id; /* as asked */
    enum data_type type;
    const char *name; /* data_type_name(type) */
    struct store_user user;
    int64_t start; /* unix seconds: the range is [start, end) */
    int64_t end;
    int to_webhook;
    int with_samples;
    int64_t days;      /* what the request is charged */
    int64_t remaining; /* the user's days left in the hour, after it */
};

static atomic_int threads_running;

/* ---- the query ---- */

/* Boolean parameter `name`: true, false (any case), 1 or 0; `def` when
 * absent or empty. */
static int
query_bool(struct http_request *req, const char *name, int def, int *out,
           struct err *e)
{
    const char *s = http_query(req, name);

    *out = def;
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = 1;
    } else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
    } else {
        return err_set(e, ERR_INVALID, "%s: must be true or false", name);
    }
    return 0;
}

/* `s` (see api_time_param()) as unix seconds. */
static int
parse_time(const char *name, const char *s, int64_t *out, struct err *e)
{
    int64_t us = 0;
    int rc = api_time_param(name, s, &us, e);

    *out = us / 1000000;
    return rc;
}

/* start_date (required) and end_date (default now) into `q`. */
static int
parse_range(struct http_request *req, struct data_ask *q, int64_t now,
            struct err *e)
{
    const char *start = http_query(req, "start_date");
    const char *end = http_query(req, "end_date");
    int rc = 0;

    if (start == NULL || start[0] == '\0') {
        return err_set(e, ERR_INVALID, "start_date: required");
    }
    rc = parse_time("start_date", start, &q->start, e);
    q->end = now;
    if (rc == 0 && end != NULL && end[0] != '\0') {
        rc = parse_time("end_date", end, &q->end, e);
        if (rc == 0 && q->start >= q->end) {
            return err_set(e, ERR_INVALID,
                           "end_date: must be after start_date");
        }
    }
    if (rc == 0 && q->start >= q->end) {
        return err_set(e, ERR_INVALID,
                       "start_date: must be before end_date (now when it "
                       "is not given)");
    }
    /* a day started counts whole */
    q->days = (q->end - q->start + DAY_SECONDS - 1) / DAY_SECONDS;
    return rc;
}

/* Everything but the user: the type from the path and the parameters
 * that type takes. */
static int
parse_ask(struct http_request *req, struct data_ask *q, struct err *e)
{
    int64_t now = isotime_now_us() / 1000000;
    int rc = 0;

    q->req = req;
    rc = data_type_parse(req->path + strlen("/v2/"));
    if (rc < 0) {
        BUG("data: a route of a type data_type_parse() does not know");
    }
    q->type = (enum data_type)rc;
    q->name = data_type_name(q->type);
    q->user_id = http_query(req, "user_id");
    if (q->user_id == NULL || q->user_id[0] == '\0') {
        return err_set(e, ERR_INVALID, "user_id: required");
    }
    rc = query_bool(req, "to_webhook", 1, &q->to_webhook, e);
    /* a type without the parameter keeps whatever its records hold */
    q->with_samples = 1;
    if (rc == 0 && q->type != DT_ATHLETE && q->type != DT_PLANNED_WORKOUT) {
        rc = query_bool(req, "with_samples", 0, &q->with_samples, e);
    }
    if (rc == 0 && q->type != DT_ATHLETE) {
        return parse_range(req, q, now, e);
    }
    /* the profile has no dates: it costs a day, and the pipeline is
     * given the last one */
    q->start = now - DAY_SECONDS;
    q->end = now;
    q->days = 1;
    return rc;
}

/* ---- answers ---- */

static void
add_header_number(struct http_request *req, struct http_response *resp,
                  const char *name, int64_t v)
{
    const char *s = arena_printf(req->arena, "%lld", (long long)v);

    if (s != NULL) {
        http_add_header(resp, name, s);
    }
}

/*
 * Answer `o` (taken) with 200 and the user's remaining days. An answer
 * too big for the request's memory is refused with 413: the caller can
 * ask for less, or for the data by webhook.
 *
 * XXX: an inline answer is built whole, in memory, and must fit [server]
 * request_memory; writing the data array out as it is read from the
 * store would lift that, at the cost of a streaming response the server
 * does not have yet.
 */
static int
answer(struct data_ask *q, struct http_response *resp, json_t *o)
{
    struct http_request *req = q->req;
    int rc = 0;

    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    rc = http_reply_json(req, resp, 200, o);
    if (rc == ERR_NOMEM) {
        return http_reply_error(req, resp, 413,
                                "the answer is larger than this server "
                                "sends at once ([server] request_memory): "
                                "ask for a shorter range, or with "
                                "to_webhook=true");
    }
    add_header_number(req, resp, "X-Terra-RateLimit-Remaining", q->remaining);
    return rc;
}

static const char *
rule_name(enum ratelimit_rule r)
{
    return r == RATELIMIT_R1 ? "r1" : "r2";
}

static int
reply_limited(struct data_ask *q, struct http_response *resp,
              const struct ratelimit_verdict *v)
{
    struct http_request *req = q->req;
    const char *msg = NULL;
    json_t *o = NULL;

    if (v->rule == RATELIMIT_R1) {
        msg = arena_printf(req->arena,
                           "rate limit r1: one request may cover at most "
                           "%d days, this one covers %lld",
                           RATELIMIT_WINDOW_DAYS, (long long)q->days);
    } else {
        msg = arena_printf(req->arena,
                           "rate limit r2: at most %d days per user in a "
                           "rolling hour; %lld asked, %lld left",
                           RATELIMIT_HOUR_DAYS, (long long)q->days,
                           (long long)v->remaining);
    }
    o = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:s, s:s}", "status", "error",
                  "message", msg, "type", "about:blank", "title",
                  http_status_title(429), "detail", msg, "instance", req->path,
                  "rule", rule_name(v->rule));
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    http_reply_json(req, resp, 429, o);
    add_header_number(req, resp, "Retry-After", v->retry_after);
    http_add_header(resp, "X-Terra-RateLimit-Rule", rule_name(v->rule));
    add_header_number(req, resp, "X-Terra-RateLimit-Remaining", v->remaining);
    add_header_number(req, resp, "X-Terra-RateLimit-Reset", v->reset);
    log_event(LOG_INFO, "api", "data.rate_limited",
              "user_id=%s rule=%s days=%lld", q->user.id, rule_name(v->rule),
              (long long)q->days);
    return 0;
}

/*
 * 1 when the user's provider gives no `q->type`, with the reason in
 * `*why`: no adapter (a generic OAuth 2.0 provider), a type the adapter
 * lacks, or a provider no longer enabled here (`*failed` set). Else 0.
 */
static int
lacks_type(struct data_ask *q, const char **why, int *failed)
{
    struct app *a = q->req->ctx;
    const struct app_provider *p = app_provider(a, q->user.provider);
    const struct adapter *ad = adapter_find(q->user.provider);
    struct arena *ar = q->req->arena;
    const char *prov = q->user.provider;

    *failed = p == NULL;
    if (p == NULL) {
        *why =
            arena_printf(ar, "provider %s is not enabled on this server", prov);
    } else if (p->generic || ad == NULL) {
        *why = arena_printf(ar, "ferry fetches no data from %s", prov);
    } else if ((ad->caps.types & DT_BIT(q->type)) == 0) {
        *why = arena_printf(ar, "%s does not provide %s data", prov, q->name);
    } else {
        return 0;
    }
    if (*why == NULL) {
        *why = "no data of this type from this provider";
    }
    return 1;
}

static int
reply_no_data(struct data_ask *q, struct http_response *resp, const char *msg,
              int failed)
{
    json_t *o =
        json_pack("{s:s, s:s?, s:o}", "status", failed ? "error" : "success",
                  "message", msg, "user", events_user_json(&q->user, 0));

    if (o != NULL && q->type == DT_ATHLETE) {
        json_object_set_new(o, "type", json_string("no_data"));
    }
    return answer(q, resp, o);
}

/* HTTP 200 in the problem shape of the newer API, not an error. */
static int
reply_no_destinations(struct data_ask *q, struct http_response *resp)
{
    return answer(q, resp,
                  json_pack("{s:s, s:s, s:s, s:s}", "type", "about:blank",
                            "title", "ok", "instance", q->req->path, "detail",
                            "no destinations available for this connection"));
}

/* ---- to_webhook=true ---- */

static int
to_webhook(struct data_ask *q, struct http_response *resp, const char *dev_id)
{
    struct http_request *req = q->req;
    struct app *a = req->ctx;
    struct store_destination *d = NULL;
    char *ref = arena_alloc(req->arena, UUID_STR_LEN);
    size_t n = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (ref == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    rc = store_destination_list(a->store, dev_id, 0, req->arena, &d, &n, &e);
    if (rc == 0 && n == 0) {
        return reply_no_destinations(q, resp);
    }
    uuid_v4(ref);
    if (rc == 0) {
        rc = pipeline_request(a, &q->user, q->type, q->start, q->end,
                              q->with_samples, ref, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    log_event(LOG_INFO, "api", "data.requested",
              "user_id=%s type=%s days=%lld reference=%s", q->user.id, q->name,
              (long long)q->days, ref);
    rc = answer(q, resp,
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "status", "success",
                          "message",
                          q->days > LARGE_DAYS
                              ? "large request: the data will be sent to your "
                                "destinations in chunks sharing this reference"
                              : "the data will be sent to your destinations",
                          "reference", ref, "trace_id", ref, "type",
                          q->type == DT_ATHLETE ? "webhook" : q->name, "user",
                          events_user_json(&q->user, 0)));
    http_add_header(resp, "terra-reference", ref);
    return rc;
}

/* ---- to_webhook=false ---- */

/* 1 when the store has fetched every day the range touches. */
static int
store_covers(struct data_ask *q, struct err *e)
{
    struct app *a = q->req->ctx;
    int64_t from = q->start / DAY_SECONDS;
    int64_t to = (q->end + DAY_SECONDS - 1) / DAY_SECONDS;
    int64_t n = 0;

    if (store_synced_count(a->store, q->user.id, q->name, from, to, &n, e) <
        0) {
        /* the provider can still answer */
        log_event(LOG_WARN, "api", "data.synced_count_failed",
                  "user_id=%s detail=%s", q->user.id, e->msg);
        err_clear(e);
        return 0;
    }
    return n == to - from;
}

/* 1 when stored record `r` belongs to the range (pipeline_in_range()). */
static int
in_range(const struct data_ask *q, const struct store_record *r)
{
    return pipeline_in_range(q->start, q->end, r->start_at, r->local_date);
}

/*
 * The stored records of the range, as an array in `arr`: the store is
 * asked for the wider window of pipeline_ask_window() and in_range()
 * decides. The rows are read into an arena of their own, as large as the
 * request's, so that they do not take the room the answer needs.
 */
static int
from_store(struct data_ask *q, json_t *arr, struct err *e)
{
    struct app *a = q->req->ctx;
    struct store_record *r = NULL;
    struct arena rows;
    int64_t from = 0;
    int64_t to = 0;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    arena_init(&rows, q->req->arena->max);
    pipeline_ask_window(q->type, q->start, q->end, &from, &to);
    rc = store_records_list(a->store, q->user.id, q->name, from * 1000000,
                            to * 1000000, 0, &rows, &r, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        json_t *o = NULL;

        if (!in_range(q, &r[i])) {
            continue;
        }
        o = json_loads(r[i].data, 0, NULL);
        if (o == NULL) {
            rc = err_set(e, ERR_STORE, "record %s/%s does not parse", r[i].type,
                         r[i].key);
        } else {
            json_array_append_new(arr, o);
        }
    }
    arena_release(&rows);
    return rc;
}

static int
record_order(const void *x, const void *y)
{
    const struct adapter_record *a = x;
    const struct adapter_record *b = y;

    return (a->start_us > b->start_us) - (a->start_us < b->start_us);
}

/* The records fetched from the provider now, oldest first. */
static int
from_provider(struct data_ask *q, json_t *arr, struct err *e)
{
    struct adapter_records recs = {0};
    int64_t from = 0;
    int64_t to = 0;
    size_t i = 0;
    int rc = 0;

    /* a session is the provider's on the day it ends (a night), a
     * summary on its local date: ask for the wider window, and keep what
     * belongs to the range as from_store() does */
    pipeline_ask_window(q->type, q->start, q->end, &from, &to);
    rc = pipeline_fetch(q->req->ctx, &q->user, q->type, from, to, &recs, e);
    if (rc == 0 && recs.n > 1) {
        qsort(recs.v, recs.n, sizeof(recs.v[0]), record_order);
    }
    for (i = 0; rc == 0 && i < recs.n; i++) {
        struct store_record r;

        memset(&r, 0, sizeof(r));
        r.start_at = recs.v[i].start_us;
        r.local_date =
            recs.v[i].local_date[0] != '\0' ? recs.v[i].local_date : NULL;
        if (q->type == DT_ATHLETE || in_range(q, &r)) {
            json_array_append(arr, recs.v[i].data);
        }
    }
    adapter_records_release(&recs);
    return rc;
}

/* The inline answer of `q`: {user, data, type}, or for the profile
 * {type:"athlete", athlete, user} (NoDataReturned when there is none). */
static int
inline_answer(struct data_ask *q, struct http_response *resp)
{
    json_t *arr = json_array();
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (arr == NULL) {
        return http_reply_error(q->req, resp, 500, "out of memory");
    }
    if (q->type != DT_ATHLETE && store_covers(q, &e)) {
        rc = from_store(q, arr, &e);
    } else {
        rc = from_provider(q, arr, &e);
    }
    if (rc == 0 && !q->with_samples) {
        pipeline_strip_samples(arr);
    }
    if (rc == ERR_NOMEM) {
        err_set(&e, ERR_TOOBIG,
                "the range holds more than this server sends at once: ask "
                "for a shorter range, or with to_webhook=true");
        rc = ERR_TOOBIG;
    }
    if (rc < 0) {
        json_decref(arr);
        return http_reply_err(q->req, resp, &e);
    }
    if (q->type != DT_ATHLETE) {
        return answer(q, resp,
                      json_pack("{s:o, s:o, s:s}", "user",
                                events_user_json(&q->user, 0), "data", arr,
                                "type", q->name));
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return reply_no_data(q, resp, "the provider gave no profile", 0);
    }
    rc = answer(q, resp,
                json_pack("{s:s, s:O, s:o}", "type", "athlete", "athlete",
                          json_array_get(arr, 0), "user",
                          events_user_json(&q->user, 0)));
    json_decref(arr);
    return rc;
}

static void
inline_run(struct data_ask *q)
{
    struct http_request *req = q->req;
    struct http_response resp;
    int rc = 0;

    memset(&resp, 0, sizeof(resp));
    log_set_req_id(req->req_id);
    rc = inline_answer(q, &resp);
    log_set_req_id(NULL);
    atomic_fetch_sub(&threads_running, 1);
    http_finish(req, rc, &resp);
}

static void *
inline_thread(void *arg)
{
    inline_run(arg);
    return NULL;
}

/* Defer `q` and answer it on a detached thread; inline when no thread
 * can start. 503 when DATA_THREADS_MAX are busy. */
static int
inline_start(struct data_ask *q, struct http_response *resp)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc = 0;

    if (atomic_fetch_add(&threads_running, 1) >= DATA_THREADS_MAX) {
        atomic_fetch_sub(&threads_running, 1);
        rc = http_reply_error(q->req, resp, 503,
                              "too many data requests in progress; try "
                              "again shortly");
        http_add_header(resp, "Retry-After", "1");
        return rc;
    }
    http_defer(q->req);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, inline_thread, q);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_event(LOG_WARN, "api", "data.inline_on_server_thread", "errno=%d",
                  rc);
        inline_run(q);
    }
    return 0;
}

/* ---- the handler ---- */

int
api_data_get(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct data_ask *q = arena_alloc(req->arena, sizeof(*q));
    struct ratelimit_verdict v;
    const char *dev_id = NULL;
    const char *why = NULL;
    int failed = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (q == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = parse_ask(req, q, &e);
    }
    if (rc == 0) {
        rc = api_find_user(q->req, dev_id, q->user_id, "user_id", &q->user, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    if (ratelimit_take(ratelimit_shared(), q->user.id, q->days,
                       isotime_now_us() / 1000000, &v) < 0) {
        return reply_limited(q, resp, &v);
    }
    q->remaining = v.remaining;
    if (lacks_type(q, &why, &failed)) {
        return reply_no_data(q, resp, why, failed);
    }
    if (q->to_webhook) {
        return to_webhook(q, resp, dev_id);
    }
    return inline_start(q, resp);
}
