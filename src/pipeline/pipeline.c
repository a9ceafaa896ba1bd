/*
 * pipeline.c - the job workers and the poll scheduler.
 *
 * Two lanes: "auth" (what a connection starts at the provider) and
 * "data" (backfill, polls, pushes, requests), each with its own
 * workers, so data work never delays account work. A job that fails
 * transiently is run again with a growing delay; after JOB_TRIES it is
 * dead (kept, with its last error).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/events.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/uuid.h"
#include "core/xmalloc.h"
#include "deliver/deliver.h"
#include "pipeline/internal.h"
#include "sandbox/data.h"

#define DATA_WORKERS       2
#define AUTH_WORKERS       1
#define JOB_LEASE_S        300        /* renewed while the process lives */
#define RENEW_US           60000000LL /* renewed so often */
#define END_TRIES          4          /* a data request's end, counted again */
#define JOB_TRIES          8
#define IDLE_US            500000LL
#define SCHEDULE_US        1000000LL
#define PER_DEV            2  /* jobs of one developer in one claim */
#define LIFECYCLE_STEPS    64 /* requests of one lifecycle phase */
#define SETUP_EVERY_US     (24LL * 3600 * 1000000) /* app setup: daily */
#define DUE_BATCH          200
#define CLAIM_LOG_EVERY_US 10000000LL /* a failing claim is logged so often */

struct worker {
    struct pipeline *p;
    const char *lane;
    pthread_t thread;
    struct log_every claim_log; /* claims failing (a full disk) */
};

struct pipeline {
    struct app *app;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    int woken;
    char owner[64];
    struct worker workers[DATA_WORKERS + AUTH_WORKERS + 1];
    int nworkers;
};

static int64_t
now_us(void)
{
    return isotime_now_us();
}

/* Sleep up to `us` or until woken or stopping; 1 when stopping. */
static int
nap(struct pipeline *p, int64_t us)
{
    struct timespec ts;
    int64_t until = now_us() + us;
    int stop = 0;

    ts.tv_sec = (time_t)(until / 1000000);
    ts.tv_nsec = (long)(until % 1000000) * 1000;
    pthread_mutex_lock(&p->lock);
    if (!p->woken && !p->stopping) {
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    p->woken = 0;
    stop = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return stop;
}

/* ---- adding jobs ---- */

/*
 * The largest job payload ferry stores: a push's payload is the
 * provider's body parsed and written again, which may come out larger
 * than it went in (numbers written in full), so four times the largest
 * push, and room for the smaller jobs. Every stored job fits a claim.
 */
static size_t
payload_max(const struct app *a)
{
    return 4 * (size_t)a->cfg->server_hook_max_body_bytes + (1u << 20);
}

static int
job_add(struct app *a, const char *dev_id, const char *user_id,
        const char *kind, const char *lane, json_t *payload, int64_t run_at,
        int unique, struct err *e)
{
    char id[UUID_STR_LEN];
    struct store_job j;
    char *text = payload != NULL ? json_dumps(payload, JSON_COMPACT) : NULL;
    int rc = 0;

    if (text != NULL && strlen(text) > payload_max(a)) {
        free(text);
        return err_set(e, ERR_TOOBIG, "the %s job's payload is too large",
                       kind);
    }
    uuid_v4(id);
    memset(&j, 0, sizeof(j));
    j.id = id;
    j.dev_id = dev_id;
    j.user_id = user_id;
    j.kind = kind;
    j.lane = lane;
    j.payload = text;
    j.run_at = run_at;
    j.created_at = now_us();
    rc = store_job_add(a->store, &j, unique, NULL, e);
    free(text);
    return rc;
}

int
pipeline_request(struct app *a, const struct store_user *u, enum data_type type,
                 int64_t start, int64_t end, int with_samples,
                 const char *reference, struct err *e)
{
    json_t *pl =
        json_pack("{s:s, s:I, s:I, s:b, s:s}", "type", data_type_name(type),
                  "start", (json_int_t)start, "end", (json_int_t)end,
                  "with_samples", with_samples, "reference", reference);
    int rc = 0;

    if (pl == NULL) {
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    rc = job_add(a, u->dev_id, u->id, "request", "data", pl, now_us(), 0, e);
    json_decref(pl);
    pipeline_kick(a->pipeline);
    return rc;
}

int
pipeline_push(struct app *a, const char *resource,
              const struct adapter_push_items *items, struct err *e)
{
    size_t unknown = 0;
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < items->n; i++) {
        const struct adapter_push_item *it = &items->v[i];
        const char *type = data_type_name(it->type);
        struct arena ar;
        struct store_user *users = NULL;
        size_t n = 0;
        size_t k = 0;
        json_t *pl = json_pack(
            "{s:s, s:s, s:O?, s:I, s:I, s:s, s:b}", "type",
            type != NULL ? type : "activity", "kind", it->kind, "payload",
            it->payload, "start", (json_int_t)it->start, "end",
            (json_int_t)it->end, "url", it->url, "revoked", it->revoked);

        if (pl == NULL) {
            return err_set(e, ERR_NOMEM, "out of memory");
        }
        arena_init(&ar, 1 << 20);
        /* one job per connected user of that provider account: each
         * developer's work is its own */
        rc = store_users_by_provider_id(
            a->store, resource, it->provider_user_id, &ar, &users, &n, e);
        for (k = 0; rc == 0 && k < n; k++) {
            rc = job_add(a, users[k].dev_id, users[k].id, "push", "data", pl,
                         now_us(), 0, e);
        }
        if (rc == 0 && n == 0) {
            unknown++;
        }
        arena_release(&ar);
        json_decref(pl);
    }
    if (unknown > 0) {
        /* one line for the push, however many users it names */
        log_event(LOG_INFO, "pipeline", "push.no_user", "provider=%s items=%zu",
                  resource, unknown);
    }
    pipeline_kick(a->pipeline);
    return rc;
}

/* ---- running jobs ---- */

/* "Now" as `pu`'s provider counts it (unix seconds): SANDBOX runs its
 * own clock, whose days may be shorter than real ones. */
static int64_t
provider_now(const struct puser *pu)
{
    if (strcmp(pu->ad->resource, "SANDBOX") == 0) {
        return sandbox_now(pu->app->cfg->sandbox_day_seconds);
    }
    return now_us() / 1000000;
}

/* The unix day of unix second `s`. */
static int64_t
day_of(int64_t s)
{
    return s >= 0 ? s / DAY_S : -((-s + DAY_S - 1) / DAY_S);
}

static void
iso_date(int64_t s, char out[16])
{
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(day_of(s), &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* The last second of 9999-12-31: the latest time the API takes. */
#define ASK_TIME_MAX 253402300799LL

void
pipeline_ask_window(enum data_type type, int64_t start, int64_t end,
                    int64_t *from, int64_t *to)
{
    *from = start;
    *to = end;
    if (type == DT_ATHLETE) {
        return;
    }
    *from = start > DAY_S ? start - DAY_S : 0;
    *to = end < ASK_TIME_MAX + 1 - DAY_S ? end + DAY_S : ASK_TIME_MAX + 1;
}

int
pipeline_in_range(int64_t start, int64_t end, int64_t start_us,
                  const char *local_date)
{
    char first[16];
    char last[16];

    if (local_date == NULL) {
        return start_us >= start * 1000000 && start_us < end * 1000000;
    }
    iso_date(start, first);
    iso_date(end - 1, last);
    return strcmp(local_date, first) >= 0 && strcmp(local_date, last) <= 0;
}

/*
 * Fetch the days of [start_day, end_day) of `type` for `pu` that were
 * not fetched yet, in runs of contiguous missing days, and store them.
 */
static int
fetch_gaps(struct puser *pu, enum data_type type, int64_t start_day,
           int64_t end_day, struct err *e)
{
    const char *name = data_type_name(type);
    int64_t d = start_day;
    int rc = 0;

    while (rc == 0 && d < end_day) {
        int64_t have = 0;
        int64_t run_end = d;
        struct adapter_records recs = {0};

        /* skip fetched days */
        rc = store_synced_count(pu->app->store, pu->u.id, name, d, d + 1, &have,
                                e);
        if (rc < 0 || have > 0) {
            d++;
            continue;
        }
        while (run_end < end_day) {
            rc = store_synced_count(pu->app->store, pu->u.id, name, run_end,
                                    run_end + 1, &have, e);
            if (rc < 0 || have > 0) {
                break;
            }
            run_end++;
        }
        if (rc < 0) {
            break;
        }
        rc = puser_fetch(pu, type, d * DAY_S, run_end * DAY_S, &recs, e);
        if (rc == 0) {
            /* today is never marked fetched: it is still changing */
            int64_t mark_end = run_end;
            int64_t today = day_of(provider_now(pu));

            if (mark_end > today) {
                mark_end = today;
            }
            rc = pipeline_store(pu, &recs, mark_end > d ? name : NULL, d,
                                mark_end, STORE_PUT_ANNOUNCE, e);
        }
        adapter_records_release(&recs);
        d = run_end;
    }
    return rc;
}

/*
 * The types whose backfill_complete `pu`'s user has had, as DT_BIT()s:
 * a backfill run again (after a crash took its lease, or on a
 * reconnect) fetches only the gaps and announces nothing twice.
 */
static int
backfills_announced(struct puser *pu, unsigned *done, struct err *e)
{
    struct store_event_query q;
    struct store_event *evs = NULL;
    struct arena ar;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    *done = 0;
    memset(&q, 0, sizeof(q));
    q.dev_id = pu->u.dev_id;
    q.user_id = pu->u.id;
    q.type = "backfill_complete";
    q.limit = 4 * DT_COUNT;
    arena_init(&ar, 1u << 20);
    rc = store_event_list(pu->app->store, &q, &ar, &evs, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        json_t *body = json_loads(evs[i].body, 0, NULL);
        int t = data_type_parse(
            json_string_value(json_object_get(body, "data_type")));

        if (t >= 0) {
            *done |= DT_BIT(t);
        }
        json_decref(body);
    }
    arena_release(&ar);
    return rc;
}

static int
run_backfill(struct puser *pu, struct err *e)
{
    const struct adapter_caps *caps = &pu->ad->caps;
    int days = caps->backfill_days > 0 ? caps->backfill_days : 28;
    int64_t now = provider_now(pu);
    int64_t end_day = day_of(now) + 1;
    int64_t start_day = end_day - days;
    unsigned done = 0;
    int t = 0;
    int rc = backfills_announced(pu, &done, e);

    if (rc < 0) {
        return rc;
    }
    if (days > 28 && caps->backfill_days > 0) {
        /* the default backfill is 28 days, clamped to what it gives */
        days = 28;
        start_day = end_day - days;
    }
    for (t = 0; rc == 0 && t < DT_COUNT; t++) {
        char from[16];
        char to[16];
        json_t *body = NULL;

        if (!(caps->types & DT_BIT(t)) || t == DT_PLANNED_WORKOUT) {
            continue;
        }
        rc = t == DT_ATHLETE
                 ? fetch_gaps(pu, (enum data_type)t, end_day - 1, end_day, e)
                 : fetch_gaps(pu, (enum data_type)t, start_day, end_day, e);
        if (rc < 0 || caps->push || (done & DT_BIT(t))) {
            /* a push provider's backfill arrives later by push; one
             * announced before is not announced again */
            continue;
        }
        iso_date(start_day * DAY_S, from);
        iso_date(end_day * DAY_S, to);
        body = json_pack("{s:s, s:s, s:s}", "data_type",
                         data_type_name((enum data_type)t), "start_date", from,
                         "end_date", to);
        if (body != NULL) {
            rc = pipeline_event(pu, "backfill_complete", body, NULL, e);
        }
        json_decref(body);
    }
    return rc;
}

static int
run_poll(struct puser *pu, struct err *e)
{
    int64_t now = provider_now(pu);
    /* the provider's last two days: data settles a day late */
    int64_t start = (day_of(now) - 1) * DAY_S;
    int t = 0;
    int rc = 0;

    for (t = 0; rc == 0 && t < DT_COUNT; t++) {
        struct adapter_records recs = {0};

        if (!(pu->ad->caps.types & DT_BIT(t)) || t == DT_PLANNED_WORKOUT) {
            continue;
        }
        rc = t == DT_ATHLETE
                 ? puser_fetch(pu, (enum data_type)t, now - DAY_S, now + 1,
                               &recs, e)
                 : puser_fetch(pu, (enum data_type)t, start, now + 1, &recs, e);
        if (rc == 0) {
            rc = pipeline_store(pu, &recs, NULL, 0, 0, STORE_PUT_ANNOUNCE, e);
        }
        adapter_records_release(&recs);
    }
    if (rc == 0) {
        rc = store_user_polled(pu->app->store, pu->u.id, now_us(), e);
    }
    return rc;
}

/*
 * Records of `pu`'s `type` in [start, end) (pipeline_in_range()) into
 * `*out` (a JSON array, the caller's), from the store, after fetching
 * them from the provider when not every day was fetched; `*rows` (`*n`,
 * in `ar`) are the stored rows they were read from, which the request's
 * events mark announced as they send them. What the provider gives
 * is stored quietly: the records of it that the range holds go out in
 * the request's events, and what it gave around the range waits for a
 * backfill, poll or push. A failed fetch or read fails the request
 * (retried as a job), rather than sending no data as if there were none.
 */
static int
range_data(struct puser *pu, enum data_type type, int64_t start, int64_t end,
           struct arena *ar, json_t **out, struct store_record **rows,
           size_t *n, struct err *e)
{
    int64_t have = 0;
    int64_t days = day_of(end - 1) - day_of(start) + 1;
    int64_t from = 0;
    int64_t to = 0;
    size_t all = 0;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    *rows = NULL;
    *n = 0;
    pipeline_ask_window(type, start, end, &from, &to);
    rc = store_synced_count(pu->app->store, pu->u.id, data_type_name(type),
                            day_of(start), day_of(end - 1) + 1, &have, e);
    if (rc == 0 && have < days) {
        struct adapter_records recs = {0};

        rc = puser_fetch(pu, type, from, to, &recs, e);
        if (rc == 0) {
            rc = pipeline_store(pu, &recs, NULL, 0, 0, STORE_PUT_QUIET, e);
        }
        adapter_records_release(&recs);
    }
    if (rc == 0) {
        rc = store_records_list(pu->app->store, pu->u.id, data_type_name(type),
                                from * 1000000, to * 1000000, 0, ar, rows, &all,
                                e);
    }
    if (rc < 0) {
        return rc;
    }
    *out = json_array();
    for (i = 0; i < all; i++) {
        struct store_record *r = &(*rows)[i];
        json_t *o = NULL;

        if (type != DT_ATHLETE &&
            !pipeline_in_range(start, end, r->start_at, r->local_date)) {
            continue;
        }
        o = json_loads(r->data, 0, NULL);
        if (o != NULL) {
            json_array_append_new(*out, o);
            (*rows)[(*n)++] = *r;
        }
    }
    return 0;
}

/* 1 when the data request behind `sent` sent the record `type`/`key`. */
static int
record_sent(const struct store_request_sent *sent, const char *type,
            const char *key)
{
    size_t i = 0;

    for (i = 0; i < sent->nrecords; i++) {
        if (strcmp(sent->keys[i], key) == 0 &&
            strcmp(sent->types[i], type) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the data request behind `sent` made its event of `type`. */
static int
event_sent(const struct store_request_sent *sent, const char *type)
{
    size_t i = 0;

    for (i = 0; i < sent->nevents; i++) {
        if (strcmp(sent->events[i], type) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * The events of a data request with `data` (borrowed; its objects are of
 * the stored records `rows`, one for one, which this may reorder) of
 * `type`: one event, or for a `large` one the chunks between
 * large_request_processing and large_request_sending; all with the
 * reference `ref`. What each event sends is kept with it
 * (store_request_event_add()): a job run again (a crash took its lease)
 * goes on from there, sending only the records no chunk of the request
 * carried yet, and a run that finds another one got there first stops.
 */
static int
request_events(struct puser *pu, int type, json_t *data,
               struct store_record *rows, int large, const char *ref,
               struct err *e)
{
    const char *name = data_type_name(type);
    struct store_request_sent sent;
    json_t *left = NULL;
    struct arena ar;
    size_t n = json_array_size(data);
    size_t m = 0;
    size_t i = 0;
    int64_t chunks = 0;
    int rc = 0;

    arena_init(&ar, 64u << 20);
    rc = store_request_sent(pu->app->store, ref, &ar, &sent, e);
    if (rc < 0 || sent.ended) {
        goto out;
    }
    if (!large) {
        json_t *body = NULL;

        if (type == DT_ATHLETE) {
            body = json_pack("{s:O?, s:s}", "athlete", json_array_get(data, 0),
                             "version", EVENTS_API_VERSION);
        } else {
            body = json_pack("{s:O, s:s}", "data", data, "version",
                             EVENTS_API_VERSION);
        }
        /* of profiles only the first is sent */
        rc = body != NULL
                 ? pipeline_request_event(pu, name, body, ref, rows,
                                          type == DT_ATHLETE && n > 1 ? 1 : n,
                                          0, e)
                 : ERR_NOMEM;
        json_decref(body);
        goto out;
    }
    if (!event_sent(&sent, "large_request_processing")) {
        json_t *b = json_pack(
            "{s:s, s:s, s:s}", "status", "processing", "message",
            "Large request: the data follows in chunks", "reference", ref);

        rc = pipeline_request_event(pu, "large_request_processing", b, ref,
                                    NULL, 0, -1, e);
        json_decref(b);
    }
    /* what is left to send, its rows moved up to match */
    left = json_array();
    for (i = 0; rc == 0 && i < n; i++) {
        if (!record_sent(&sent, rows[i].type, rows[i].key)) {
            json_array_append(left, json_array_get(data, i));
            rows[m++] = rows[i];
        }
    }
    chunks = sent.chunks;
    for (i = 0; rc == 0 && i < m; i += EVENT_OBJECTS) {
        size_t k = m - i < EVENT_OBJECTS ? m - i : EVENT_OBJECTS;
        json_t *chunk = json_array();
        json_t *body = NULL;
        size_t x = 0;

        for (x = i; x < i + k; x++) {
            json_array_append(chunk, json_array_get(left, x));
        }
        body = json_pack("{s:o, s:s}", "data", chunk, "version",
                         EVENTS_API_VERSION);
        rc = pipeline_request_event(pu, name, body, ref, rows + i, k, -1, e);
        json_decref(body);
        chunks++;
    }
    /* the end counts every chunk: if another run added one meanwhile,
     * the store refuses it, and it is counted again */
    for (i = 0; rc == 0 && i < END_TRIES; i++) {
        json_t *b = json_pack("{s:s, s:s, s:I}", "reference", ref, "message",
                              "All chunks of the large request were sent",
                              "expected_payloads", (json_int_t)chunks);

        rc = pipeline_request_event(pu, "large_request_sending", b, ref, NULL,
                                    0, chunks, e);
        json_decref(b);
        if (rc != ERR_CONFLICT) {
            break;
        }
        rc = store_request_sent(pu->app->store, ref, &ar, &sent, e);
        if (rc < 0 || sent.ended) {
            break;
        }
        chunks = sent.chunks;
    }
out:
    if (rc == ERR_CONFLICT) {
        /* another run of this job sent it: nothing is left to do here */
        log_event(LOG_INFO, "pipeline", "request.taken_over",
                  "user_id=%s reference=%s", pu->u.id, ref);
        rc = 0;
    }
    json_decref(left);
    arena_release(&ar);
    return rc;
}

static int
run_request(struct puser *pu, json_t *pl, struct err *e)
{
    int type = data_type_parse(json_string_value(json_object_get(pl, "type")));
    int64_t start = json_integer_value(json_object_get(pl, "start"));
    int64_t end = json_integer_value(json_object_get(pl, "end"));
    int samples = json_is_true(json_object_get(pl, "with_samples"));
    const char *ref = json_string_value(json_object_get(pl, "reference"));
    int large = end - start > (int64_t)LARGE_DAYS * DAY_S;
    struct store_record *rows = NULL;
    json_t *data = NULL;
    struct arena ar;
    size_t n = 0;
    int rc = 0;

    if (type < 0 || ref == NULL) {
        return err_set(e, ERR_INVALID, "request job: bad payload");
    }
    arena_init(&ar, 256u << 20);
    rc = range_data(pu, (enum data_type)type, start, end, &ar, &data, &rows, &n,
                    e);
    if (rc == 0) {
        if (!samples) {
            pipeline_strip_samples(data);
        }
        rc = request_events(pu, type, data, rows, large, ref, e);
    }
    json_decref(data);
    arena_release(&ar);
    return rc;
}

/* Run the adapter's steps of `phase` for `pu`. */
static int
run_lifecycle(struct puser *pu, enum adapter_phase phase, struct err *e)
{
    json_t *last = NULL;
    long status = 0;
    int step = 0;
    int rc = 0;

    if (pu->ad->lifecycle == NULL) {
        return 0;
    }
    for (step = 0; step < LIFECYCLE_STEPS; step++) {
        struct adapter_request rq;
        long ra = -1;
        int more = 0;

        memset(&rq, 0, sizeof(rq));
        more = pu->ad->lifecycle(phase, &pu->cx, step, last, status, &rq, e);
        json_decref(last);
        last = NULL;
        if (more <= 0) {
            rc = more;
            break;
        }
        rc = puser_call(pu, &rq, &last, &status, &ra, e);
        if (rc < 0) {
            break;
        }
    }
    json_decref(last);
    return rc;
}

void
pipeline_deauth(struct app *a, const struct store_user *u)
{
    struct puser pu;
    struct err e;

    err_clear(&e);
    if (puser_from(a, u, &pu, &e) == 0 &&
        run_lifecycle(&pu, ADAPTER_USER_DEAUTH, &e) < 0) {
        log_event(LOG_WARN, "pipeline", "deauth.steps_failed",
                  "user_id=%s provider=%s error=%s", u->id, u->provider, e.msg);
    }
    puser_release(&pu);
}

/*
 * Normalise a push's `payload` of `kind` for `pu` into `recs`. A payload
 * that is a list of summaries and does not normalise as a whole is
 * normalised again without the summaries that do not normalise alone
 * (logged): the provider took the push as delivered, so one bad
 * summary must not lose the others, and retrying cannot mend it.
 */
static int
push_normalize(struct puser *pu, const char *kind, json_t *payload,
               struct adapter_records *recs, struct err *e)
{
    json_t *good = NULL;
    char why[ERR_MSG_MAX];
    size_t left = 0;
    size_t i = 0;
    int rc = pu->ad->normalize(kind, payload, recs, e);

    if (rc != ERR_INVALID || !json_is_array(payload)) {
        return rc;
    }
    adapter_records_release(recs);
    snprintf(why, sizeof(why), "%s", e->msg);
    good = json_array();
    for (i = 0; i < json_array_size(payload); i++) {
        json_t *el = json_array_get(payload, i);
        json_t *one = json_pack("[O]", el);
        struct adapter_records scratch = {0};
        struct err e1;

        err_clear(&e1);
        if (one != NULL && pu->ad->normalize(kind, one, &scratch, &e1) == 0) {
            json_array_append(good, el);
        } else {
            left++;
        }
        adapter_records_release(&scratch);
        json_decref(one);
    }
    log_event(LOG_WARN, "pipeline", "push.summaries_left_out",
              "user_id=%s kind=%s summaries=%zu why=%s", pu->u.id, kind, left,
              why);
    err_clear(e);
    rc = json_array_size(good) > 0 ? pu->ad->normalize(kind, good, recs, e) : 0;
    json_decref(good);
    return rc;
}

/* What one push asks of one user. */
static int
run_push(struct puser *pu, json_t *pl, struct err *e)
{
    const char *kind = json_string_value(json_object_get(pl, "kind"));
    const char *url = json_string_value(json_object_get(pl, "url"));
    json_t *payload = json_object_get(pl, "payload");
    int type = data_type_parse(json_string_value(json_object_get(pl, "type")));
    int64_t start = json_integer_value(json_object_get(pl, "start"));
    int64_t end = json_integer_value(json_object_get(pl, "end"));
    struct adapter_records recs = {0};
    int rc = 0;

    if (json_is_true(json_object_get(pl, "revoked"))) {
        json_t *b = json_pack("{s:s, s:s}", "status", "warning", "message",
                              "The user revoked access at the provider");
        struct arena ar;
        struct store_event ev;
        int changed = 0;

        arena_init(&ar, 1 << 16);
        if (b != NULL) {
            json_object_set_new(b, "user", events_user_json(&pu->u, 0));
        }
        if (b != NULL && events_make(&ar, pu->u.dev_id, pu->u.id,
                                     "access_revoked", b, now_us(), &ev) == 0) {
            rc = store_user_set_state(pu->app->store, pu->u.id, "needs_reauth",
                                      &ev, now_us(), &changed, e);
        }
        json_decref(b);
        arena_release(&ar);
        return rc;
    }
    if ((json_is_object(payload) || json_is_array(payload)) && kind != NULL &&
        kind[0] != '\0') {
        rc = push_normalize(pu, kind, payload, &recs, e);
    } else if (url != NULL && url[0] != '\0') {
        struct adapter_request rq;
        json_t *answer = NULL;
        long status = 0;
        long ra = -1;

        memset(&rq, 0, sizeof(rq));
        snprintf(rq.method, sizeof(rq.method), "GET");
        /* a path is under the provider's data API; an absolute URL
         * (a ping's callback) must be too: the user's token goes with
         * it */
        size_t base = strlen(pu->api_url);

        if (url[0] != '/' &&
            (strncmp(url, pu->api_url, base) != 0 ||
             (url[base] != '/' && url[base] != '?' && url[base] != '\0'))) {
            adapter_records_release(&recs);
            return err_set(e, ERR_INVALID,
                           "push: the URL to fetch is not under %s",
                           pu->api_url);
        }
        snprintf(rq.url, sizeof(rq.url), "%s%s",
                 url[0] == '/' ? pu->api_url : "", url);
        snprintf(rq.kind, sizeof(rq.kind), "%s", kind != NULL ? kind : "");
        rc = puser_call(pu, &rq, &answer, &status, &ra, e);
        if (rc == 0 && answer != NULL && rq.kind[0] != '\0' && status < 300) {
            rc = pu->ad->normalize(rq.kind, answer, &recs, e);
        }
        json_decref(answer);
    } else if (type >= 0 && end > start) {
        rc = puser_fetch(pu, (enum data_type)type, start, end, &recs, e);
    }
    if (rc == 0) {
        rc = pipeline_store(pu, &recs, NULL, 0, 0, STORE_PUT_ANNOUNCE, e);
    }
    adapter_records_release(&recs);
    return rc;
}

/* Run `j`; 0, or a negative ERR_* (ERR_FORBIDDEN and ERR_NOTFOUND end
 * the job: retrying cannot help). */
static int
run_job(struct pipeline *p, const struct store_job *j, struct err *e)
{
    struct puser pu;
    json_t *pl = j->payload != NULL ? json_loads(j->payload, 0, NULL) : NULL;
    int rc = 0;

    memset(&pu, 0, sizeof(pu));
    rc = puser_load(p->app, j->user_id, &pu, e);
    if (rc == 0 && pl == NULL &&
        (strcmp(j->kind, "push") == 0 || strcmp(j->kind, "request") == 0)) {
        rc = err_set(e, ERR_INVALID, "%s job without payload", j->kind);
    }
    if (rc == 0) {
        if (strcmp(j->kind, "backfill") == 0) {
            rc = run_backfill(&pu, e);
        } else if (strcmp(j->kind, "poll") == 0) {
            rc = run_poll(&pu, e);
        } else if (strcmp(j->kind, "request") == 0) {
            rc = run_request(&pu, pl, e);
        } else if (strcmp(j->kind, "refresh") == 0) {
            rc = puser_token(&pu, e);
        } else if (strcmp(j->kind, "push") == 0) {
            rc = run_push(&pu, pl, e);
        } else if (strcmp(j->kind, "connected") == 0) {
            rc = run_lifecycle(&pu, ADAPTER_USER_CONNECTED, e);
        } else {
            rc = err_set(e, ERR_INVALID, "unknown job kind %s", j->kind);
        }
    }
    puser_release(&pu);
    json_decref(pl);
    return rc;
}

/* A data request's job that ended without its last event: what it sent
 * is forgotten (a copy of the job run later sends it all again). */
static void
request_abandoned(struct pipeline *p, const struct store_job *j)
{
    json_t *pl = j->payload != NULL ? json_loads(j->payload, 0, NULL) : NULL;
    const char *ref = json_string_value(json_object_get(pl, "reference"));
    struct err e;

    err_clear(&e);
    if (ref != NULL && store_request_forget(p->app->store, ref, &e) < 0) {
        log_event(LOG_WARN, "pipeline", "request.forget_failed",
                  "job=%s error=%s", j->id, e.msg);
    }
    json_decref(pl);
}

static void
finish(struct pipeline *p, const struct store_job *j, int rc,
       const struct err *je)
{
    struct err e;
    const char *state = "done";
    int64_t run_at = now_us();
    int failed = rc < 0;

    err_clear(&e);
    if (rc == ERR_NOTFOUND || rc == ERR_GONE) {
        /* the user is gone or deauthorized: nothing left to do */
        log_event(LOG_INFO, "pipeline", "job.dropped",
                  "job=%s kind=%s reason=user_gone", j->id, j->kind);
        rc = 0;
    } else if (rc == ERR_CONFIG || rc == ERR_FORBIDDEN || rc == ERR_INVALID) {
        state = rc == ERR_CONFIG ? "done" : "dead";
    } else if (rc < 0) {
        int64_t delay = 5LL << (j->attempts < 10 ? j->attempts : 10);

        state = j->attempts + 1 >= JOB_TRIES ? "dead" : "pending";
        run_at += delay * 1000000;
    }
    if (rc < 0) {
        log_event(LOG_WARN, "pipeline", "job.failed",
                  "job=%s kind=%s user_id=%s next=%s error=%s", j->id, j->kind,
                  j->user_id != NULL ? j->user_id : "-", state, je->msg);
    }
    if (store_job_finish(p->app->store, j->id, p->owner, state, run_at,
                         rc < 0 ? je->msg : NULL, &e) < 0) {
        log_event(LOG_WARN, "pipeline", "job.finish_failed", "job=%s error=%s",
                  j->id, e.msg);
    } else if (failed && strcmp(state, "pending") != 0 &&
               strcmp(j->kind, "request") == 0) {
        request_abandoned(p, j);
    }
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct pipeline *p = w->p;

    log_set_req_id(strcmp(w->lane, "auth") == 0 ? "jobs-auth" : "jobs-data");
    for (;;) {
        struct arena ar;
        struct store_job *jobs = NULL;
        size_t n = 0;
        struct err e;
        int64_t now = now_us();

        pthread_mutex_lock(&p->lock);
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        pthread_mutex_unlock(&p->lock);
        err_clear(&e);
        /* room for the largest payload job_add() stores (taken as
         * needed) */
        arena_init(&ar, payload_max(p->app) + (1u << 20));
        if (store_job_claim(p->app->store, w->lane, now,
                            now + (int64_t)JOB_LEASE_S * 1000000, p->owner, 1,
                            PER_DEV, &ar, &jobs, &n, &e) < 0) {
            unsigned failures = 0;

            if (log_every_due(&w->claim_log, now, CLAIM_LOG_EVERY_US,
                              &failures)) {
                log_event(LOG_ERROR, "pipeline", "claim.failed",
                          "lane=%s failures=%u error=%s", w->lane, failures,
                          e.msg);
            }
            n = 0;
        }
        if (n == 1) {
            struct err je;
            int rc = 0;

            err_clear(&je);
            rc = run_job(p, &jobs[0], &je);
            finish(p, &jobs[0], rc, &je);
            if (rc == 0) {
                deliver_kick(p->app->deliver);
            }
        }
        arena_release(&ar);
        if (n == 0 && nap(p, IDLE_US)) {
            break;
        }
    }
    return NULL;
}

/* Queue polls of the users whose provider polls and whose time came. */
static void
schedule(struct pipeline *p)
{
    struct app *a = p->app;
    size_t i = 0;

    for (i = 0; i < a->nproviders; i++) {
        const struct adapter *ad = adapter_find(a->providers[i].resource);
        struct arena ar;
        struct store_user *users = NULL;
        size_t n = 0;
        size_t k = 0;
        struct err e;
        int64_t every = 0;

        if (ad == NULL || ad->caps.poll_seconds <= 0) {
            continue;
        }
        every = ad->caps.poll_seconds;
        if (strcmp(ad->resource, "SANDBOX") == 0 &&
            a->cfg->sandbox_day_seconds < every) {
            /* a short SANDBOX day brings new data sooner */
            every = a->cfg->sandbox_day_seconds;
        }
        err_clear(&e);
        arena_init(&ar, 1 << 20);
        if (store_users_due(a->store, ad->resource, now_us() - every * 1000000,
                            DUE_BATCH, &ar, &users, &n, &e) < 0) {
            n = 0;
        }
        for (k = 0; k < n; k++) {
            uint32_t r = 0;
            int64_t jitter = 0;

            if (users[k].last_polled_at == 0) {
                /* never polled: the backfill covers it; poll next round */
                store_user_polled(a->store, users[k].id, now_us(), &e);
                continue;
            }
            rng_bytes(&r, sizeof(r));
            jitter = (int64_t)(r % 1000u) * every; /* up to 10 % */
            job_add(a, users[k].dev_id, users[k].id, "poll", "data", NULL,
                    now_us() + jitter / 10, 1, &e);
        }
        arena_release(&ar);
    }
}

/*
 * The adapters' ADAPTER_APP_SETUP steps for every enabled provider that
 * has them (app-level push subscriptions), with the app's credentials
 * only: there is no user.
 */
static void
app_setup(struct pipeline *p)
{
    struct app *a = p->app;
    size_t i = 0;

    for (i = 0; i < a->nproviders; i++) {
        struct store_user none;
        struct puser pu;
        struct err e;

        if (adapter_find(a->providers[i].resource) == NULL ||
            adapter_find(a->providers[i].resource)->lifecycle == NULL) {
            continue;
        }
        err_clear(&e);
        memset(&none, 0, sizeof(none));
        none.id = "";
        none.dev_id = "";
        none.provider = a->providers[i].resource;
        none.provider_user_id = "";
        none.state = "connected";
        if (puser_from(a, &none, &pu, &e) == 0 &&
            run_lifecycle(&pu, ADAPTER_APP_SETUP, &e) < 0) {
            log_event(LOG_WARN, "pipeline", "app_setup.failed",
                      "provider=%s error=%s", none.provider, e.msg);
        }
        puser_release(&pu);
    }
}

/*
 * Refresh the grants that expire soon, also of users no job needs now
 * (a push-only provider's): idle grants are revoked by some providers,
 * and a refresh token used only after months may be dead.
 */
static void
schedule_refresh(struct pipeline *p)
{
    struct app *a = p->app;
    struct arena ar;
    struct store_user *users = NULL;
    size_t n = 0;
    size_t k = 0;
    struct err e;

    err_clear(&e);
    arena_init(&ar, 1 << 20);
    /* the window of puser_token(): a job in it refreshes */
    if (store_tokens_due(a->store, now_us() + REFRESH_AHEAD_S * 1000000LL,
                         DUE_BATCH, &ar, &users, &n, &e) < 0) {
        n = 0;
    }
    for (k = 0; k < n; k++) {
        job_add(a, users[k].dev_id, users[k].id, "refresh", "data", NULL,
                now_us(), 1, &e);
    }
    arena_release(&ar);
}

static void *
scheduler(void *arg)
{
    struct worker *w = arg;
    struct pipeline *p = w->p;
    int64_t next_setup = 0;
    int64_t next_renew = now_us() + RENEW_US;

    log_set_req_id("jobs-schedule");
    do {
        if (now_us() >= next_renew) {
            struct err e;

            /* a job may take longer than its lease (a slow provider, a
             * long backfill): while this process lives it keeps them */
            err_clear(&e);
            if (store_jobs_renew(p->app->store, p->owner,
                                 now_us() + (int64_t)JOB_LEASE_S * 1000000,
                                 &e) < 0) {
                log_event(LOG_WARN, "pipeline", "jobs.renew_failed", "error=%s",
                          e.msg);
            }
            next_renew = now_us() + RENEW_US;
        }
        if (now_us() >= next_setup) {
            /* XXX: every worker process runs the app setup; the steps
             * are idempotent at the provider, but N processes make N
             * listings a day. */
            app_setup(p);
            next_setup = now_us() + SETUP_EVERY_US;
        }
        schedule(p);
        schedule_refresh(p);
    } while (!nap(p, SCHEDULE_US));
    return NULL;
}

int
pipeline_start(struct pipeline **out, struct app *a, struct err *e)
{
    struct pipeline *p = xcalloc(1, sizeof(*p));
    unsigned char r[6];
    char rhex[13];
    int i = 0;

    *out = NULL;
    p->app = a;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    rng_bytes(r, sizeof(r));
    for (i = 0; i < 6; i++) {
        snprintf(rhex + 2 * i, 3, "%02x", r[i]);
    }
    snprintf(p->owner, sizeof(p->owner), "jobs:%ld:%s", (long)getpid(), rhex);
    for (i = 0; i < DATA_WORKERS + AUTH_WORKERS + 1; i++) {
        struct worker *w = &p->workers[i];
        void *(*fn)(void *) = work;

        w->p = p;
        w->lane = i < DATA_WORKERS ? "data" : "auth";
        if (i == DATA_WORKERS + AUTH_WORKERS) {
            fn = scheduler;
        }
        if (pthread_create(&w->thread, NULL, fn, w) != 0) {
            pipeline_stop(p);
            return err_set(e, ERR_INTERNAL,
                           "pipeline: cannot start a "
                           "thread");
        }
        p->nworkers++;
    }
    *out = p;
    return 0;
}

void
pipeline_kick(struct pipeline *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->woken = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void
pipeline_stop(struct pipeline *p)
{
    int i = 0;

    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->nworkers; i++) {
        pthread_join(p->workers[i].thread, NULL);
    }
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int
pipeline_fetch(struct app *a, const struct store_user *u, enum data_type type,
               int64_t start, int64_t end, struct adapter_records *out,
               struct err *e)
{
    struct puser pu;
    struct adapter_records copy = {0};
    size_t i = 0;
    int rc = puser_from(a, u, &pu, e);

    if (rc == 0) {
        rc = puser_fetch(&pu, type, start, end, out, e);
    }
    if (rc == 0) {
        /* the store takes copies; `out` stays the caller's */
        for (i = 0; i < out->n; i++) {
            adapter_records_add(&copy, out->v[i].type, out->v[i].key,
                                json_incref(out->v[i].data), out->v[i].start_us,
                                out->v[i].end_us, out->v[i].local_date);
        }
        rc = pipeline_store(&pu, &copy, NULL, 0, 0, STORE_PUT_QUIET, e);
        adapter_records_release(&copy);
    }
    puser_release(&pu);
    return rc;
}
