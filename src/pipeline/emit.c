/*
 * emit.c - records into the store, and the events that announce them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/events.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pipeline/internal.h"

void
pipeline_strip_samples(json_t *data)
{
    const char *key = NULL;
    json_t *v = NULL;
    void *tmp = NULL;
    size_t i = 0;

    if (json_is_array(data)) {
        json_array_foreach(data, i, v)
        {
            pipeline_strip_samples(v);
        }
        return;
    }
    if (!json_is_object(data)) {
        return;
    }
    json_object_foreach_safe(data, tmp, key, v)
    {
        size_t n = strlen(key);

        if (json_is_array(v) &&
            ((n >= 8 && strcmp(key + n - 8, "_samples") == 0) ||
             strstr(key, "_samples_") != NULL ||
             strcmp(key, "raw_signal") == 0)) {
            json_object_del(data, key);
        } else {
            pipeline_strip_samples(v);
        }
    }
}

/* Add the event of `type` with `body` and `reference`: with `req`, as
 * an event of that data request (store_request_event_add(), `rows`,
 * `n`, `ends`), else alone. */
static int
event_add(struct puser *pu, const char *type, json_t *body,
          const char *reference, int req, const struct store_record *rows,
          size_t n, int64_t ends, struct err *e)
{
    struct arena ar;
    struct store_event ev;
    int rc = 0;

    arena_init(&ar, 64u << 20);
    if (json_object_get(body, "user") == NULL) {
        json_object_set_new(body, "user", events_user_json(&pu->u, 0));
    }
    rc = events_make(&ar, pu->u.dev_id, pu->u.id, type, body, isotime_now_us(),
                     &ev);
    if (rc == 0) {
        ev.reference = reference;
        rc =
            req ? store_request_event_add(pu->app->store, &ev, rows, n, ends, e)
                : store_event_add(pu->app->store, &ev, e);
    } else {
        err_set(e, rc, "out of memory for an event");
    }
    arena_release(&ar);
    return rc;
}

int
pipeline_event(struct puser *pu, const char *type, json_t *body,
               const char *reference, struct err *e)
{
    return event_add(pu, type, body, reference, 0, NULL, 0, -1, e);
}

int
pipeline_request_event(struct puser *pu, const char *type, json_t *body,
                       const char *reference, const struct store_record *rows,
                       size_t n, int64_t ends, struct err *e)
{
    return event_add(pu, type, body, reference, 1, rows, n, ends, e);
}

/* What the compose callback needs. */
struct compose {
    struct puser *pu;
    struct arena *ar;
    struct store_event *events;
    size_t n;
    size_t cap;
};

/* One event of `type` holding the `n` records at `r` (their data). */
static int
compose_one(struct compose *c, const char *type, const struct store_record *r,
            size_t n, int update)
{
    json_t *data = json_array();
    json_t *body = NULL;
    size_t i = 0;
    int rc = 0;

    for (i = 0; data != NULL && i < n; i++) {
        json_t *o = json_loads(r[i].data, 0, NULL);

        if (o != NULL && strlen(r[i].data) > EVENT_BYTES) {
            /* the record stays whole in the store and the data
             * endpoints; the event announces it without samples */
            pipeline_strip_samples(o);
            log_event(LOG_WARN, "pipeline", "event.samples_left_out",
                      "user_id=%s type=%s bytes=%zu", c->pu->u.id, type,
                      strlen(r[i].data));
        }
        if (o != NULL) {
            json_array_append_new(data, o);
        }
    }
    if (c->n == c->cap) {
        return ERR_NOMEM;
    }
    if (strcmp(type, "athlete") == 0) {
        /* Terra's athlete event holds one object, not an array */
        body = json_pack("{s:O?, s:o, s:s}", "athlete", json_array_get(data, 0),
                         "user", events_user_json(&c->pu->u, 0), "version",
                         EVENTS_API_VERSION);
        json_decref(data);
    } else {
        body = json_pack("{s:o, s:o, s:s}", "data", data, "user",
                         events_user_json(&c->pu->u, 0), "version",
                         EVENTS_API_VERSION);
    }
    if (body == NULL) {
        return ERR_NOMEM;
    }
    if (update) {
        json_object_set_new(body, "ferry", json_pack("{s:b}", "update", 1));
    }
    rc = events_make(c->ar, c->pu->u.dev_id, c->pu->u.id,
                     arena_strdup(c->ar, type), body, isotime_now_us(),
                     &c->events[c->n]);
    json_decref(body);
    if (rc == 0) {
        c->n++;
    }
    return rc;
}

/*
 * The store calls this inside its transaction with the new and changed
 * records: events of at most EVENT_OBJECTS records (and EVENT_BYTES of
 * them) of one type, new ones and changed ones apart (the latter marked
 * update).
 */
static int
compose_events(void *arg, const struct store_record *changed, size_t n,
               const struct store_event **events, size_t *nevents)
{
    struct compose *c = arg;
    struct store_record *group = NULL;
    int t = 0;
    int update = 0;
    int rc = 0;

    c->cap = n + 1;
    c->events = arena_alloc(c->ar, c->cap * sizeof(*c->events));
    group = calloc(EVENT_OBJECTS, sizeof(*group));
    if (c->events == NULL || group == NULL) {
        free(group);
        return ERR_NOMEM;
    }
    for (t = 0; rc == 0 && t < DT_COUNT; t++) {
        const char *name = data_type_name((enum data_type)t);

        for (update = 0; rc == 0 && update <= 1; update++) {
            size_t k = 0;
            size_t i = 0;
            size_t bytes = 0;

            for (i = 0; rc == 0 && i < n; i++) {
                size_t len = 0;

                if (strcmp(changed[i].type, name) != 0 ||
                    (changed[i].change == 2) != update) {
                    continue;
                }
                len = strlen(changed[i].data);
                if (k > 0 && bytes + len > EVENT_BYTES) {
                    rc = compose_one(c, name, group, k, update);
                    k = 0;
                    bytes = 0;
                    if (rc != 0) {
                        break;
                    }
                }
                bytes += len;
                group[k++] = changed[i];
                if (k == EVENT_OBJECTS ||
                    (strcmp(name, "athlete") == 0 && k == 1)) {
                    rc = compose_one(c, name, group, k, update);
                    k = 0;
                    bytes = 0;
                }
            }
            if (rc == 0 && k > 0) {
                rc = compose_one(c, name, group, k, update);
            }
        }
    }
    free(group);
    *events = c->events;
    *nevents = c->n;
    return rc;
}

/* 1 when every element of `a` is an object with a string "timestamp". */
static int
timed_samples(const json_t *a)
{
    size_t i = 0;
    json_t *v = NULL;

    json_array_foreach(a, i, v)
    {
        if (!json_is_string(json_object_get(v, "timestamp"))) {
            return 0;
        }
    }
    return json_array_size(a) > 0;
}

/*
 * Merge `part` into `into` (both objects; `into` is changed, `part`
 * borrowed): objects member by member, sample arrays (objects with a
 * timestamp) as their union by timestamp with `part` winning, any other
 * value replaced by `part`'s.
 */
void
pipeline_merge(json_t *into, const json_t *part)
{
    const char *key = NULL;
    json_t *v = NULL;

    json_object_foreach((json_t *)part, key, v)
    {
        json_t *old = json_object_get(into, key);

        if (json_is_object(old) && json_is_object(v)) {
            pipeline_merge(old, v);
        } else if (json_is_array(old) && json_is_array(v) &&
                   timed_samples(old) && timed_samples(v)) {
            json_t *out = json_array();
            size_t i = 0;
            size_t k = 0;
            json_t *o = NULL;
            json_t *n = NULL;

            json_array_foreach(old, i, o)
            {
                const char *t =
                    json_string_value(json_object_get(o, "timestamp"));
                int replaced = 0;

                json_array_foreach(v, k, n)
                {
                    if (strcmp(t, json_string_value(
                                      json_object_get(n, "timestamp"))) == 0) {
                        replaced = 1;
                        break;
                    }
                }
                if (!replaced) {
                    json_array_append(out, o);
                }
            }
            json_array_extend(out, v);
            json_object_set_new(into, key, out);
        } else {
            json_object_set(into, key, v);
        }
    }
}

/*
 * For an adapter whose day summaries come in parts (caps.merge_days):
 * each daily or body part becomes the merge of what is stored under its
 * key (and of the parts before it in `recs`) with it, so a later part
 * adds to the day instead of replacing it.
 */
static void
merge_parts(struct puser *pu, struct adapter_records *recs)
{
    size_t i = 0;

    if (!pu->ad->caps.merge_days) {
        return;
    }
    for (i = 0; i < recs->n; i++) {
        struct adapter_record *r = &recs->v[i];
        struct arena ar;
        struct store_record old;
        json_t *base = NULL;
        size_t k = 0;
        struct err e;

        if (r->type != DT_DAILY && r->type != DT_BODY) {
            continue;
        }
        /* an earlier part in this batch is the base: it holds the store */
        for (k = i; k-- > 0;) {
            if (recs->v[k].type == r->type &&
                strcmp(recs->v[k].key, r->key) == 0) {
                base = json_deep_copy(recs->v[k].data);
                break;
            }
        }
        if (base == NULL) {
            err_clear(&e);
            arena_init(&ar, 64u << 20);
            if (store_record_get(pu->app->store, pu->u.id,
                                 data_type_name(r->type), r->key, &ar, &old,
                                 &e) == 0) {
                base = json_loads(old.data, 0, NULL);
            }
            arena_release(&ar);
        }
        if (json_is_object(base)) {
            pipeline_merge(base, r->data);
            json_decref(r->data);
            r->data = base;
        } else {
            json_decref(base);
        }
    }
}

int
pipeline_store(struct puser *pu, struct adapter_records *recs,
               const char *synced_type, int64_t from_day, int64_t to_day,
               enum store_put_announce announce, struct err *e)
{
    struct arena ar;
    struct store_records_put p;
    struct store_record *rows = NULL;
    struct compose c;
    size_t i = 0;
    int rc = 0;

    if (recs->n == 0 && synced_type == NULL) {
        return 0;
    }
    merge_parts(pu, recs);
    arena_init(&ar, 256u << 20);
    rows = recs->n > 0 ? xcalloc(recs->n, sizeof(*rows)) : NULL;
    for (i = 0; i < recs->n; i++) {
        const struct adapter_record *r = &recs->v[i];
        char *text = json_dumps(r->data, JSON_COMPACT | JSON_SORT_KEYS |
                                             JSON_REAL_PRECISION(15));

        rows[i].user_id = pu->u.id;
        rows[i].type = data_type_name(r->type);
        rows[i].key = r->key;
        rows[i].start_at = r->start_us;
        rows[i].end_at = r->end_us;
        rows[i].local_date = r->local_date[0] != '\0' ? r->local_date : NULL;
        rows[i].data = text != NULL ? arena_strdup(&ar, text) : "{}";
        free(text);
    }
    memset(&c, 0, sizeof(c));
    c.pu = pu;
    c.ar = &ar;
    memset(&p, 0, sizeof(p));
    p.user_id = pu->u.id;
    p.records = rows;
    p.n = recs->n;
    p.synced_type = synced_type;
    p.synced_from = from_day;
    p.synced_to = to_day;
    p.compose = compose_events;
    p.compose_arg = &c;
    p.announce = announce;
    p.now = isotime_now_us();
    rc = store_records_put(pu->app->store, &p, e);
    if (rc == 0 && c.n > 0) {
        log_event(LOG_INFO, "pipeline", "records.stored",
                  "user_id=%s provider=%s records=%zu events=%zu", pu->u.id,
                  pu->u.provider, recs->n, c.n);
    }
    free(rows);
    arena_release(&ar);
    return rc;
}
