/*
 * sandbox.c - the adapter of SANDBOX, ferry's own pretend provider
 * (src/sandbox/, docs/internals/sandbox.md).
 *
 * Data: GET <api_url>/api/v1/{workouts,sleep,daily,body}?start&end, the
 * account's local dates with end exclusive, at most 31 of them, in
 * pages {"data":[...],"next_token":...} followed with page_token; and
 * GET <api_url>/api/v1/profile. api_url defaults to /sandbox under
 * ferry's public URL. The normalize kinds are the path's last segment.
 *
 *     activity   workouts (one record per workout id)
 *     sleep      sleep (one per night or nap id)
 *     daily      daily (one per local date)
 *     body       body (one per local date)
 *     athlete    profile (one, "athlete")
 *
 * The sandbox writes every time with its account's fixed offset, which
 * the records keep; a day runs from local midnight to the next at the
 * offset of its utc_offset_min. Samples come as parallel arrays taken
 * every interval_s seconds from the start; the per-interval ones (steps,
 * calories) count the interval ending at the sample, so their first
 * value (always 0) is not a sample. Hypnograms are strings of one
 * letter per 30-second epoch.
 *
 * No push, no lifecycle: new data is found by polling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "core/xmalloc.h"
#include "providers/adapter.h"

#define DAY_S 86400LL
#define US    1000000LL

/* The sandbox's own limit (sandbox/data.h): days a request may cover. */
#define RANGE_DAYS 31
/* The longest window one plan() accepts (a bound on its requests). */
#define WINDOW_DAYS_MAX 3660
/* The last second ISO dates can name: 9999-12-31T23:59:59Z. */
#define TIME_MAX 253402300799LL

/* Bounds on what one item may hold. */
#define SERIES_MAX   100000 /* values of one sample series */
#define DURATION_MAX (7 * DAY_S)
#define OFFSET_MAX   (18 * 60) /* minutes */
#define ID_MAX       127

static const char *const kinds[] = {
    "workouts", "GET /api/v1/workouts page: workouts, with their samples",
    "sleep",    "GET /api/v1/sleep page: nights and naps, with hypnograms",
    "daily",    "GET /api/v1/daily page: daily totals, hourly steps and HR",
    "body",     "GET /api/v1/body page: resting HR, HRV, weigh-ins, BP",
    "profile",  "GET /api/v1/profile: the account's profile",
    NULL,       NULL,
};

/* The kind, and so the path, of each data type; NULL: none. */
static const char *
kind_of(enum data_type t)
{
    switch (t) {
    case DT_ACTIVITY:
        return "workouts";
    case DT_SLEEP:
        return "sleep";
    case DT_DAILY:
        return "daily";
    case DT_BODY:
        return "body";
    case DT_ATHLETE:
        return "profile";
    default:
        return NULL;
    }
}

/* ---- plan and pages ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void
date_text(int64_t day, char out[16])
{
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m, d);
}

static int
request_make(const struct adapter_ctx *cx, enum data_type type,
             const char *kind, const char *query, struct adapter_request *rq,
             struct err *e)
{
    int n = 0;

    memset(rq, 0, sizeof(*rq));
    snprintf(rq->method, sizeof(rq->method), "GET");
    snprintf(rq->kind, sizeof(rq->kind), "%s", kind);
    rq->type = type;
    n = snprintf(rq->url, sizeof(rq->url), "%s/api/v1/%s%s", cx->api_url, kind,
                 query);
    if (n < 0 || (size_t)n >= sizeof(rq->url)) {
        return err_set(e, ERR_TOOBIG, "sandbox: the API URL is too long");
    }
    return 0;
}

/*
 * The dates of [start, end) in requests of at most RANGE_DAYS dates.
 * The sandbox takes them as the account's local dates, as Terra's
 * start_date and end_date are meant: a window of whole UTC days asks
 * for the same dates, and each record keeps the date it has there.
 */
static int
plan(const struct adapter_ctx *cx, enum data_type type, int64_t start,
     int64_t end, struct adapter_request **out, size_t *n, struct err *e)
{
    const char *kind = kind_of(type);
    struct adapter_request *v = NULL;
    int64_t first = 0;
    int64_t last = 0;
    size_t count = 0;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (kind == NULL) {
        return 0;
    }
    if (type == DT_ATHLETE) {
        v = xcalloc(1, sizeof(*v));
        rc = request_make(cx, type, kind, "", v, e);
        goto out;
    }
    if (end <= start) {
        return 0;
    }
    if (start < 0 || end > TIME_MAX + 1 ||
        end - start > (int64_t)WINDOW_DAYS_MAX * DAY_S) {
        return err_set(e, ERR_INVALID,
                       "sandbox: the window must lie in 1970-9999 and span "
                       "at most %d days",
                       WINDOW_DAYS_MAX);
    }
    first = floor_div(start, DAY_S);
    last = floor_div(end - 1, DAY_S) + 1; /* exclusive */
    /* the API's end date is exclusive and has four digits: 9999-12-31
     * cannot be asked for, and SANDBOX has no data that late anyway */
    if (last > isotime_days_from_civil(9998, 12, 31) + 1) {
        last = isotime_days_from_civil(9998, 12, 31) + 1;
    }
    if (last <= first) {
        return 0;
    }
    count = (size_t)((last - first + RANGE_DAYS - 1) / RANGE_DAYS);
    v = xcalloc(count, sizeof(*v));
    for (i = 0; rc == 0 && i < count; i++) {
        int64_t from = first + (int64_t)i * RANGE_DAYS;
        int64_t to = from + RANGE_DAYS < last ? from + RANGE_DAYS : last;
        char a[16];
        char b[16];
        char query[64];

        date_text(from, a);
        date_text(to, b);
        snprintf(query, sizeof(query), "?start=%s&end=%s", a, b);
        rc = request_make(cx, type, kind, query, &v[i], e);
    }

out:
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = type == DT_ATHLETE ? 1 : count;
    return 0;
}

/* A page token as the sandbox writes them: "YYYYMMDD.N". */
static int
token_ok(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if ((s[i] < '0' || s[i] > '9') && s[i] != '.') {
            return 0;
        }
    }
    return i > 0 && i < 32;
}

static int
next_page(const struct adapter_ctx *cx, const struct adapter_request *rq,
          const json_t *answer, struct adapter_request *next)
{
    const char *tok = json_string_value(json_object_get(answer, "next_token"));
    const char *was = NULL;
    char *cut = NULL;
    size_t len = 0;
    int n = 0;

    (void)cx;
    if (tok == NULL || !token_ok(tok)) {
        return 0;
    }
    *next = *rq;
    cut = strstr(next->url, "&page_token=");
    if (cut != NULL) {
        was = strstr(rq->url, "&page_token=") + strlen("&page_token=");
        if (strcmp(was, tok) == 0) {
            return 0; /* the same page again: stop */
        }
        *cut = '\0';
    }
    len = strlen(next->url);
    n = snprintf(next->url + len, sizeof(next->url) - len, "&page_token=%s",
                 tok);
    return n > 0 && (size_t)n < sizeof(next->url) - len ? 1 : 0;
}

/* ---- reading the sandbox's JSON ---- */

/* Where an item is, for error sentences. */
struct rd {
    const char *kind;
    size_t i;   /* its index in "data" */
    int single; /* a lone object (the profile): no index */
    struct err *e;
};

static int
bad(const struct rd *r, const char *key, const char *what)
{
    if (r->single) {
        return err_set(r->e, ERR_INVALID, "%s: %s %s", r->kind, key, what);
    }
    return err_set(r->e, ERR_INVALID, "%s: data[%zu].%s %s", r->kind, r->i, key,
                   what);
}

/*
 * The value at the dotted `key` of `item` into `*out`: NULL when it, or
 * an object on the way, is absent or null. ERR_INVALID when something
 * on the way is not an object.
 */
static int
lookup(const struct rd *r, const json_t *item, const char *key,
       const json_t **out)
{
    const json_t *o = item;
    const char *p = key;
    const char *dot = NULL;
    char part[64];

    *out = NULL;
    while ((dot = strchr(p, '.')) != NULL) {
        size_t n = (size_t)(dot - key);

        snprintf(part, sizeof(part), "%.*s", (int)(dot - p), p);
        o = json_object_get(o, part);
        if (o == NULL || json_is_null(o)) {
            return 0;
        }
        if (!json_is_object(o)) {
            snprintf(part, sizeof(part), "%.*s", (int)n, key);
            return bad(r, part, "is not an object");
        }
        p = dot + 1;
    }
    o = json_object_get(o, p);
    *out = json_is_null(o) ? NULL : o;
    return 0;
}

static int
get_str(const struct rd *r, const json_t *item, const char *key, int need,
        const char **out)
{
    const json_t *v = NULL;
    int rc = lookup(r, item, key, &v);

    *out = NULL;
    if (rc < 0) {
        return rc;
    }
    if (v == NULL) {
        return need ? bad(r, key, "is missing") : 0;
    }
    if (!json_is_string(v)) {
        return bad(r, key, "is not a string");
    }
    *out = json_string_value(v);
    return 0;
}

/* A number in [lo, hi] (and whole when `integral`); `*have` 0 when
 * absent. */
static int
get_num(const struct rd *r, const json_t *item, const char *key, double lo,
        double hi, int integral, double *out, int *have)
{
    const json_t *v = NULL;
    int rc = lookup(r, item, key, &v);

    *have = 0;
    if (rc < 0 || v == NULL) {
        return rc;
    }
    if (!json_is_number(v)) {
        return bad(r, key, "is not a number");
    }
    *out = json_number_value(v);
    if (!(*out >= lo && *out <= hi)) {
        return bad(r, key, "is out of range");
    }
    if (integral && floor(*out) != *out) {
        return bad(r, key, "is not a whole number");
    }
    *have = 1;
    return 0;
}

static int
need_num(const struct rd *r, const json_t *item, const char *key, double lo,
         double hi, double *out)
{
    int have = 0;
    int rc = get_num(r, item, key, lo, hi, 1, out, &have);

    return rc == 0 && !have ? bad(r, key, "is missing") : rc;
}

/* An RFC 3339 time; `*off` its offset (0 when it has none). */
static int
get_time(const struct rd *r, const json_t *item, const char *key, int64_t *us,
         int *off)
{
    const char *s = NULL;
    int rc = get_str(r, item, key, 1, &s);

    if (rc < 0) {
        return rc;
    }
    if (isotime_parse(s, us, off, NULL) < 0 || *us < 0 || *us > TIME_MAX * US) {
        return bad(r, key, "is not an RFC 3339 time");
    }
    *off = *off == ISOTIME_NO_OFFSET ? 0 : *off;
    return 0;
}

/* A local date and the offset of its day: its midnights in `*start`
 * and `*end` (unix microseconds). */
static int
get_day(const struct rd *r, const json_t *item, const char **date, int *off,
        int64_t *start, int64_t *end)
{
    double min = 0;
    int y = 0;
    int m = 0;
    int d = 0;
    int rc = get_str(r, item, "date", 1, date);

    if (rc == 0 && isotime_parse_date(*date, &y, &m, &d) < 0) {
        rc = bad(r, "date", "is not a date, YYYY-MM-DD");
    }
    if (rc == 0) {
        rc = need_num(r, item, "utc_offset_min", -OFFSET_MAX, OFFSET_MAX, &min);
    }
    if (rc < 0) {
        return rc;
    }
    *off = (int)min * 60;
    *start = (isotime_days_from_civil(y, m, d) * DAY_S - *off) * US;
    *end = *start + DAY_S * US;
    return 0;
}

/* ---- writing Terra's JSON ---- */

/* A Terra object being built; `bad` is set when jansson fails. */
struct tb {
    json_t *o;
    int bad;
};

/* Set the dotted `path` of `b` to `v` (taken), making the objects on
 * the way. */
static void
tset(struct tb *b, const char *path, json_t *v)
{
    json_t *o = b->o;
    const char *p = path;
    const char *dot = NULL;
    char part[64];

    while (o != NULL && (dot = strchr(p, '.')) != NULL) {
        json_t *c = NULL;

        snprintf(part, sizeof(part), "%.*s", (int)(dot - p), p);
        c = json_object_get(o, part);
        if (c == NULL) {
            c = json_object();
            if (c == NULL || json_object_set_new(o, part, c) < 0) {
                c = NULL;
            }
        }
        o = c;
        p = dot + 1;
    }
    if (o == NULL || v == NULL || json_object_set_new(o, p, v) < 0) {
        b->bad = 1;
    }
}

static json_t *
time_json(int64_t us, int off)
{
    char s[ISOTIME_MAX];

    isotime_format(us, off, s);
    return json_string(s);
}

static json_t *
num_json(double v, int integral)
{
    return integral ? json_integer((json_int_t)v) : json_real(v);
}

/* One field of the sandbox's and where it goes in Terra's object. */
struct map {
    const char *key;  /* dotted, in the sandbox's item */
    const char *path; /* dotted, in Terra's object */
    double lo;
    double hi;
    double scale; /* Terra's unit in the sandbox's */
    int integral;
};

/* Copy every field of `m` that `item` has into `b`. */
static int
copy_nums(const struct rd *r, const json_t *item, const struct map *m, size_t n,
          struct tb *b)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        double v = 0;
        int have = 0;
        int rc = get_num(r, item, m[i].key, m[i].lo, m[i].hi, m[i].integral, &v,
                         &have);

        if (rc < 0) {
            return rc;
        }
        if (have && m[i].scale != 1) {
            v = round(v * m[i].scale * 1e6) / 1e6;
        }
        if (have) {
            tset(b, m[i].path, num_json(v, m[i].integral));
        }
    }
    return 0;
}

static int
copy_strs(const struct rd *r, const json_t *item, const char *const *m,
          struct tb *b)
{
    size_t i = 0;

    for (i = 0; m[i] != NULL; i += 2) {
        const char *s = NULL;
        int rc = get_str(r, item, m[i], 0, &s);

        if (rc < 0) {
            return rc;
        }
        if (s != NULL) {
            tset(b, m[i + 1], json_string(s));
        }
    }
    return 0;
}

#define NMAP(m) (sizeof(m) / sizeof((m)[0]))

/* The sandbox's device into Terra's DeviceData. */
static const char *const device_map[] = {
    "model",    "name",
    "maker",    "manufacturer",
    "serial",   "serial_number",
    "firmware", "software_version",
    NULL,       NULL,
};

static int
copy_device(const struct rd *r, const json_t *item, const char *key,
            json_t **out)
{
    const json_t *dev = NULL;
    struct tb b = {NULL, 0};
    char path[64];
    size_t i = 0;
    int rc = lookup(r, item, key, &dev);

    *out = NULL;
    if (rc < 0 || dev == NULL) {
        return rc;
    }
    if (!json_is_object(dev)) {
        return bad(r, key, "is not an object");
    }
    b.o = json_object();
    if (b.o == NULL) {
        return ERR_NOMEM;
    }
    for (i = 0; rc == 0 && device_map[i] != NULL; i += 2) {
        const char *s = NULL;

        snprintf(path, sizeof(path), "%s.%s", key, device_map[i]);
        rc = get_str(r, item, path, 0, &s);
        if (rc == 0 && s != NULL) {
            tset(&b, device_map[i + 1], json_string(s));
        }
    }
    if (rc < 0 || b.bad) {
        json_decref(b.o);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    *out = b.o;
    return 0;
}

/* ---- samples ---- */

/* When the samples of a series were taken: the first at `start`, then
 * one every `step` seconds. */
struct span {
    int64_t start; /* unix microseconds */
    int off;
    int64_t step;
};

/*
 * The series at the dotted `key` into `*out`: NULL when absent, else an
 * array of at most SERIES_MAX numbers in [lo, hi] or nulls, as long as
 * `*len` when that is not 0 (else `*len` becomes its length).
 */
static int
get_series(const struct rd *r, const json_t *item, const char *key, double lo,
           double hi, size_t *len, const json_t **out)
{
    const json_t *a = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = lookup(r, item, key, &a);

    *out = NULL;
    if (rc < 0 || a == NULL) {
        return rc;
    }
    if (!json_is_array(a)) {
        return bad(r, key, "is not an array");
    }
    n = json_array_size(a);
    if (n > SERIES_MAX) {
        return bad(r, key, "holds too many samples");
    }
    if (*len != 0 && n != *len) {
        return bad(r, key, "is not as long as the other series");
    }
    for (i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        double x = json_number_value(v);

        if (!json_is_null(v) && !json_is_number(v)) {
            return bad(r, key, "holds a value that is not a number");
        }
        if (json_is_number(v) && !(x >= lo && x <= hi)) {
            return bad(r, key, "holds a value out of range");
        }
    }
    *len = n;
    *out = a;
    return 0;
}

/* A whole number as an integer, anything else as a real. */
static json_t *
value_json(double v)
{
    return floor(v) == v && fabs(v) < 9e15 ? json_integer((json_int_t)v)
                                           : json_real(v);
}

/* One Terra sample: {"timestamp", `name`: v[, "timer_duration_seconds"]}. */
static json_t *
sample_json(const struct span *sp, size_t i, const char *name, json_t *v,
            int timer)
{
    int64_t at = sp->start + (int64_t)i * sp->step * US;
    json_t *o =
        json_pack("{s:o, s:o}", "timestamp", time_json(at, sp->off), name, v);

    if (o != NULL && timer &&
        json_object_set_new(o, "timer_duration_seconds",
                            json_integer((json_int_t)i * sp->step)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The values of `a` from index `from` on as Terra samples; nulls are
 * gaps and give no sample. */
static json_t *
samples_json(const struct span *sp, const json_t *a, size_t from,
             const char *name, int timer)
{
    json_t *out = json_array();
    size_t i = 0;

    for (i = from; out != NULL && i < json_array_size(a); i++) {
        const json_t *v = json_array_get(a, i);

        if (json_is_null(v)) {
            continue;
        }
        if (json_array_append_new(
                out, sample_json(sp, i, name, value_json(json_number_value(v)),
                                 timer)) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* A series of the sandbox's and the Terra array it becomes. */
struct series_map {
    const char *key;  /* dotted, in the sandbox's item */
    const char *path; /* Terra's array */
    const char *name; /* the value's name in a Terra sample */
    double lo;
    double hi;
    size_t from; /* 1 for counts of the interval ending at the sample */
};

static const struct series_map workout_series[] = {
    {"samples.heart_rate_bpm", "heart_rate_data.detailed.hr_samples", "bpm", 0,
     400, 0},
    {"samples.speed_mps", "movement_data.speed_samples",
     "speed_meters_per_second", 0, 1000, 0},
    {"samples.distance_m", "distance_data.detailed.distance_samples",
     "distance_meters", 0, 1e8, 0},
    {"samples.altitude_m", "distance_data.detailed.elevation_samples",
     "elev_meters", -1e4, 1e5, 0},
    {"samples.power_w", "power_data.power_samples", "watts", 0, 1e5, 0},
    {"samples.steps", "distance_data.detailed.step_samples", "steps", 0, 1e6,
     1},
    {"samples.calories_kcal", "calories_data.calorie_samples", "calories", 0,
     1e5, 1},
};

/* Positions from the latitude and longitude series: the samples, the
 * first, the last and the middle of their bounding box. */
static void
positions(const struct span *sp, const json_t *lat, const json_t *lon,
          struct tb *b)
{
    json_t *out = json_array();
    double box[4] = {90, -90, 180, -180}; /* lat min, max, lon min, max */
    json_t *first = NULL;
    json_t *last = NULL;
    size_t i = 0;

    for (i = 0; out != NULL && i < json_array_size(lat); i++) {
        const json_t *a = json_array_get(lat, i);
        const json_t *o = json_array_get(lon, i);
        json_t *c = NULL;

        if (json_is_null(a) && json_is_null(o)) {
            continue;
        }
        c = json_pack("[o, o]", json_copy((json_t *)a), json_copy((json_t *)o));
        if (!json_is_null(a) && !json_is_null(o)) {
            box[0] = fmin(box[0], json_number_value(a));
            box[1] = fmax(box[1], json_number_value(a));
            box[2] = fmin(box[2], json_number_value(o));
            box[3] = fmax(box[3], json_number_value(o));
            first = first == NULL ? c : first;
            last = c;
        }
        if (json_array_append_new(
                out, sample_json(sp, i, "coords_lat_lng_deg", c, 1)) < 0) {
            b->bad = 1;
        }
    }
    tset(b, "position_data.position_samples", out);
    if (first != NULL && !b->bad) {
        tset(b, "position_data.start_pos_lat_lng_deg", json_deep_copy(first));
        tset(b, "position_data.end_pos_lat_lng_deg", json_deep_copy(last));
        tset(b, "position_data.center_pos_lat_lng_deg",
             json_pack("[f, f]", round((box[0] + box[1]) / 2 * 1e6) / 1e6,
                       round((box[2] + box[3]) / 2 * 1e6) / 1e6));
    }
}

/* The samples of a workout of `dur` seconds; `*gps` 1 when they have
 * positions. */
static int
workout_samples(const struct rd *r, const json_t *item, int64_t start, int off,
                int64_t dur, struct tb *b, int *gps)
{
    const json_t *a[NMAP(workout_series)];
    const json_t *lat = NULL;
    const json_t *lon = NULL;
    struct span sp = {start, off, 0};
    double step = 0;
    size_t len = 0;
    size_t i = 0;
    int have = 0;
    int rc = get_num(r, item, "samples.interval_s", 1, 3600, 1, &step, &have);

    for (i = 0; rc == 0 && have && i < NMAP(workout_series); i++) {
        const struct series_map *m = &workout_series[i];

        rc = get_series(r, item, m->key, m->lo, m->hi, &len, &a[i]);
    }
    if (rc == 0 && have) {
        rc = get_series(r, item, "samples.latitude", -90, 90, &len, &lat);
    }
    if (rc == 0 && have) {
        rc = get_series(r, item, "samples.longitude", -180, 180, &len, &lon);
    }
    if (rc < 0 || !have) {
        return rc;
    }
    if ((lat == NULL) != (lon == NULL)) {
        return bad(r, "samples.latitude", "comes without its longitude");
    }
    if (len > 0 && (int64_t)(len - 1) * (int64_t)step > dur) {
        return bad(r, "samples", "run past the end of the workout");
    }
    sp.step = (int64_t)step;
    for (i = 0; i < NMAP(workout_series); i++) {
        const struct series_map *m = &workout_series[i];

        if (a[i] != NULL) {
            tset(b, m->path, samples_json(&sp, a[i], m->from, m->name, 1));
        }
    }
    if (lat != NULL) {
        positions(&sp, lat, lon, b);
    }
    *gps = lat != NULL;
    return 0;
}

/* ---- workouts: Terra's activity ---- */

static const struct map workout_map[] = {
    {"duration_s", "active_durations_data.activity_seconds", 0, DURATION_MAX, 1,
     1},
    {"distance_m", "distance_data.summary.distance_meters", 0, 1e8, 1, 0},
    {"steps", "distance_data.summary.steps", 0, 1e7, 1, 1},
    {"elevation.gain_m", "distance_data.summary.elevation.gain_actual_meters",
     0, 1e5, 1, 0},
    {"elevation.loss_m", "distance_data.summary.elevation.loss_actual_meters",
     0, 1e5, 1, 0},
    {"elevation.min_m", "distance_data.summary.elevation.min_meters", -1e4, 1e5,
     1, 0},
    {"elevation.max_m", "distance_data.summary.elevation.max_meters", -1e4, 1e5,
     1, 0},
    {"elevation.avg_m", "distance_data.summary.elevation.avg_meters", -1e4, 1e5,
     1, 0},
    {"pool.laps", "distance_data.summary.swimming.num_laps", 0, 1e6, 1, 1},
    {"pool.strokes", "distance_data.summary.swimming.num_strokes", 0, 1e7, 1,
     1},
    {"pool.length_m", "distance_data.summary.swimming.pool_length_meters", 0,
     1e4, 1, 0},
    {"calories_kcal", "calories_data.total_burned_calories", 0, 1e6, 1, 0},
    {"avg_hr_bpm", "heart_rate_data.summary.avg_hr_bpm", 0, 400, 1, 1},
    {"min_hr_bpm", "heart_rate_data.summary.min_hr_bpm", 0, 400, 1, 1},
    {"max_hr_bpm", "heart_rate_data.summary.max_hr_bpm", 0, 400, 1, 1},
    {"user_max_hr_bpm", "heart_rate_data.summary.user_max_hr_bpm", 0, 400, 1,
     1},
    {"avg_speed_mps", "movement_data.avg_speed_meters_per_second", 0, 1000, 1,
     0},
    {"max_speed_mps", "movement_data.max_speed_meters_per_second", 0, 1000, 1,
     0},
    {"avg_power_w", "power_data.avg_watts", 0, 1e5, 1, 1},
    {"max_power_w", "power_data.max_watts", 0, 1e5, 1, 1},
};

/* The sandbox's sports as ActivityType codes (reference section 8.1). */
static int
activity_type(const char *sport, int pool, int gps)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {
        {"running", 8},   {"cycling", 1}, {"walking", 7},   {"hiking", 35},
        {"swimming", 82}, {"rowing", 53}, {"strength", 80}, {"yoga", 100},
    };
    size_t i = 0;

    for (i = 0; i < NMAP(types); i++) {
        if (strcmp(types[i].name, sport) != 0) {
            continue;
        }
        if (types[i].type == 82 && pool) {
            return 83; /* SWIMMING_IN_POOL */
        }
        if (types[i].type == 53 && !gps) {
            return 54; /* ROWING_MACHINE */
        }
        return types[i].type;
    }
    return 108; /* OTHER */
}

/* The heart rate zones: [{zone, from_pct, to_pct, seconds}]. */
static int
workout_zones(const struct rd *r, const json_t *item, struct tb *b)
{
    const json_t *zones = NULL;
    json_t *out = NULL;
    size_t i = 0;
    int rc = lookup(r, item, "hr_zones", &zones);

    if (rc < 0 || zones == NULL) {
        return rc;
    }
    if (!json_is_array(zones) || json_array_size(zones) > 16) {
        return bad(r, "hr_zones", "is not an array of at most 16 zones");
    }
    out = json_array();
    for (i = 0; rc == 0 && out != NULL && i < json_array_size(zones); i++) {
        const json_t *z = json_array_get(zones, i);
        struct rd quiet = {r->kind, r->i, r->single, NULL};
        double v[4] = {0, 0, 0, 0};
        char name[16];

        if (!json_is_object(z) ||
            need_num(&quiet, z, "zone", 0, 6, &v[0]) < 0 ||
            need_num(&quiet, z, "from_pct", 0, 1000, &v[1]) < 0 ||
            need_num(&quiet, z, "to_pct", 0, 1000, &v[2]) < 0 ||
            need_num(&quiet, z, "seconds", 0, DURATION_MAX, &v[3]) < 0) {
            rc = bad(r, "hr_zones",
                     "holds a zone without whole numbers zone (0-6), "
                     "from_pct, to_pct and seconds");
            break;
        }
        snprintf(name, sizeof(name), "Zone %d", (int)v[0]);
        if (json_array_append_new(
                out, json_pack("{s:i, s:o, s:o, s:s, s:o}", "zone", (int)v[0],
                               "start_percentage", value_json(v[1]),
                               "end_percentage", value_json(v[2]), "name", name,
                               "duration_seconds", value_json(v[3]))) < 0) {
            b->bad = 1;
        }
    }
    if (rc < 0) {
        json_decref(out);
        return rc;
    }
    tset(b, "heart_rate_data.summary.hr_zone_data", out);
    return 0;
}

/* What follows from the fields: paces, the work of the power samples. */
static void
workout_derived(const json_t *item, struct tb *b)
{
    const json_t *s = json_object_get(item, "samples");
    const json_t *power = json_object_get(s, "power_w");
    double step = json_number_value(json_object_get(s, "interval_s"));
    double avg = json_number_value(json_object_get(item, "avg_speed_mps"));
    double max = json_number_value(json_object_get(item, "max_speed_mps"));
    double work = 0;
    size_t i = 0;

    /* checked already: in range when present */
    if (avg > 0) {
        tset(b, "movement_data.avg_pace_minutes_per_kilometer",
             json_real(round(1000 / avg / 60 * 100) / 100));
    }
    if (max > 0) {
        tset(b, "movement_data.max_pace_minutes_per_kilometer",
             json_real(round(1000 / max / 60 * 100) / 100));
    }
    if (json_is_array(power) && step > 0) {
        for (i = 1; i < json_array_size(power); i++) {
            work += json_number_value(json_array_get(power, i)) * step;
        }
        tset(b, "work_data.work_kilojoules", json_real(round(work) / 1000));
    }
}

static int
norm_workout(const struct rd *r, const json_t *item,
             struct adapter_records *out)
{
    struct tb b = {json_object(), 0};
    const char *id = NULL;
    const char *sport = NULL;
    const char *title = NULL;
    const char *source = NULL;
    json_t *dev = NULL;
    int64_t start = 0;
    int64_t end = 0;
    int off = 0;
    int end_off = 0;
    int gps = 0;
    int rc = get_str(r, item, "id", 1, &id);

    rc = rc < 0 ? rc : get_str(r, item, "sport", 1, &sport);
    rc = rc < 0 ? rc : get_str(r, item, "title", 0, &title);
    rc = rc < 0 ? rc : get_str(r, item, "source", 0, &source);
    rc = rc < 0 ? rc : get_time(r, item, "start", &start, &off);
    rc = rc < 0 ? rc : get_time(r, item, "end", &end, &end_off);
    if (rc == 0 && (id[0] == '\0' || strlen(id) > ID_MAX)) {
        rc = bad(r, "id", "is empty or too long");
    }
    if (rc == 0 && (end < start || end - start > DURATION_MAX * US)) {
        rc = bad(r, "end", "is before the start or over a week after it");
    }
    rc = rc < 0 ? rc : copy_nums(r, item, workout_map, NMAP(workout_map), &b);
    rc = rc < 0 ? rc : workout_zones(r, item, &b);
    rc = rc < 0 ? rc
                : workout_samples(r, item, start, off, (end - start) / US, &b,
                                  &gps);
    rc = rc < 0 ? rc : copy_device(r, item, "device", &dev);
    if (rc < 0 || b.o == NULL) {
        json_decref(b.o);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    workout_derived(item, &b);
    tset(&b, "metadata.summary_id", json_string(id));
    tset(&b, "metadata.start_time", time_json(start, off));
    tset(&b, "metadata.end_time", time_json(end, end_off));
    tset(&b, "metadata.type",
         json_integer(
             activity_type(sport, json_object_get(item, "pool") != NULL, gps)));
    /* UploadType: 1 automatic, 2 manual */
    tset(&b, "metadata.upload_type",
         json_integer(source != NULL && strcmp(source, "manual") == 0 ? 2 : 1));
    if (title != NULL) {
        tset(&b, "metadata.name", json_string(title));
    }
    if (dev != NULL) {
        tset(&b, "device_data", dev);
    }
    if (b.bad) {
        json_decref(b.o);
        return ERR_NOMEM;
    }
    return adapter_records_add(out, DT_ACTIVITY, id, b.o, start, end, NULL);
}

/* ---- sleep ---- */

static const struct map sleep_map[] = {
    {"in_bed_s", "sleep_durations_data.other.duration_in_bed_seconds", 0,
     DURATION_MAX, 1, 1},
    {"stages_s.awake",
     "sleep_durations_data.awake.duration_awake_state_seconds", 0, DURATION_MAX,
     1, 1},
    {"stages_s.light",
     "sleep_durations_data.asleep.duration_light_sleep_state_seconds", 0,
     DURATION_MAX, 1, 1},
    {"stages_s.deep",
     "sleep_durations_data.asleep.duration_deep_sleep_state_seconds", 0,
     DURATION_MAX, 1, 1},
    {"stages_s.rem",
     "sleep_durations_data.asleep.duration_REM_sleep_state_seconds", 0,
     DURATION_MAX, 1, 1},
    {"latency_s", "sleep_durations_data.awake.sleep_latency_seconds", 0,
     DURATION_MAX, 1, 1},
    {"wake_events", "sleep_durations_data.awake.num_wakeup_events", 0, 1e5, 1,
     1},
    /* a fraction at the sandbox, a percentage at Terra */
    {"efficiency", "sleep_durations_data.sleep_efficiency", 0, 1, 100, 0},
    {"heart_rate.avg", "heart_rate_data.summary.avg_hr_bpm", 0, 400, 1, 1},
    {"heart_rate.min", "heart_rate_data.summary.min_hr_bpm", 0, 400, 1, 1},
    {"heart_rate.max", "heart_rate_data.summary.max_hr_bpm", 0, 400, 1, 1},
    {"hrv.avg", "heart_rate_data.summary.avg_hrv_rmssd", 0, 1000, 1, 0},
    {"respiratory_rate", "respiration_data.breaths_data.avg_breaths_per_min", 0,
     200, 1, 0},
    {"spo2_pct",
     "respiration_data.oxygen_saturation_data.avg_saturation_percentage", 0,
     100, 1, 0},
    {"skin_temp_delta_c", "temperature_data.delta", -20, 20, 1, 0},
    {"score", "scores.sleep_score", 0, 100, 1, 0},
    {"readiness", "readiness_data.readiness", 0, 100, 1, 0},
};

/* SleepLevel of a hypnogram letter, or -1. */
static int
sleep_level(char c)
{
    switch (c) {
    case 'A':
        return 1; /* awake */
    case 'L':
        return 4;
    case 'D':
        return 5;
    case 'R':
        return 6;
    default:
        return -1;
    }
}

/* What a hypnogram says besides its samples. */
struct hyp_counts {
    long rem_runs;
    long short_s; /* awake runs under 90 s between sleep */
    long long_s;  /* awake runs of 90 s or more between sleep */
    long tail_s;  /* awake after the last sleep */
};

/* Runs of `st` (its letters `n`) into samples and counts. */
static int
hyp_walk(const char *st, size_t n, const struct span *sp, json_t *samples,
         struct hyp_counts *c)
{
    size_t first = strspn(st, "A");
    size_t last = n;
    size_t i = 0;

    while (last > first && st[last - 1] == 'A') {
        last--;
    }
    c->tail_s = (long)(n - last) * sp->step;
    for (i = 0; i < n;) {
        size_t j = i;
        long run = 0;

        while (j < n && st[j] == st[i]) {
            j++;
        }
        run = (long)(j - i) * sp->step;
        c->rem_runs += st[i] == 'R';
        if (st[i] == 'A' && i >= first && j <= last) {
            *(run < 90 ? &c->short_s : &c->long_s) += run;
        }
        if (json_array_append_new(
                samples,
                json_pack(
                    "{s:o, s:i}", "timestamp",
                    time_json(sp->start + (int64_t)i * sp->step * US, sp->off),
                    "level", sleep_level(st[i]))) < 0) {
            return ERR_NOMEM;
        }
        i = j;
    }
    return 0;
}

/* The hypnogram {epoch_s, stages}: one letter an epoch from the start. */
static int
sleep_hypnogram(const struct rd *r, const json_t *item, int64_t start, int off,
                int64_t dur, struct tb *b)
{
    struct hyp_counts c = {0, 0, 0, 0};
    struct span sp = {start, off, 0};
    const char *st = NULL;
    json_t *samples = NULL;
    double epoch = 0;
    size_t n = 0;
    size_t i = 0;
    int have = 0;
    int rc = get_num(r, item, "hypnogram.epoch_s", 1, 3600, 1, &epoch, &have);

    rc = rc < 0 || !have ? rc : get_str(r, item, "hypnogram.stages", 1, &st);
    if (rc < 0 || !have) {
        return rc;
    }
    n = strlen(st);
    for (i = 0; i < n; i++) {
        if (sleep_level(st[i]) < 0) {
            return bad(r, "hypnogram.stages",
                       "holds a letter other than A, L, D and R");
        }
    }
    if (n > SERIES_MAX || (int64_t)n * (int64_t)epoch > dur + (int64_t)epoch) {
        return bad(r, "hypnogram.stages", "is longer than the sleep");
    }
    sp.step = (int64_t)epoch;
    samples = json_array();
    if (samples == NULL || hyp_walk(st, n, &sp, samples, &c) < 0) {
        json_decref(samples);
        return ERR_NOMEM;
    }
    tset(b, "sleep_durations_data.hypnogram_samples", samples);
    tset(b, "sleep_durations_data.asleep.num_REM_events",
         json_integer(c.rem_runs));
    tset(b, "sleep_durations_data.awake.wake_up_latency_seconds",
         json_integer(c.tail_s));
    tset(b, "sleep_durations_data.awake.duration_short_interruption_seconds",
         json_integer(c.short_s));
    tset(b, "sleep_durations_data.awake.duration_long_interruption_seconds",
         json_integer(c.long_s));
    return 0;
}

/* Heart rate and HRV every interval_s from the start. */
static int
sleep_samples(const struct rd *r, const json_t *item, int64_t start, int off,
              int64_t dur, struct tb *b)
{
    static const struct series_map m[] = {
        {"heart_rate.bpm", "heart_rate_data.detailed.hr_samples", "bpm", 0, 400,
         0},
        {"hrv.rmssd_ms", "heart_rate_data.detailed.hrv_samples_rmssd",
         "hrv_rmssd", 0, 1000, 0},
    };
    static const char *const steps[] = {"heart_rate.interval_s",
                                        "hrv.interval_s"};
    size_t i = 0;

    for (i = 0; i < NMAP(m); i++) {
        struct span sp = {start, off, 0};
        const json_t *a = NULL;
        double step = 0;
        size_t len = 0;
        int have = 0;
        int rc = get_num(r, item, steps[i], 1, 3600, 1, &step, &have);

        rc = rc < 0 || !have
                 ? rc
                 : get_series(r, item, m[i].key, m[i].lo, m[i].hi, &len, &a);
        if (rc < 0) {
            return rc;
        }
        if (a == NULL) {
            continue;
        }
        if (len > 0 && (int64_t)(len - 1) * (int64_t)step > dur) {
            return bad(r, m[i].key, "runs past the end of the sleep");
        }
        sp.step = (int64_t)step;
        tset(b, m[i].path, samples_json(&sp, a, 0, m[i].name, 0));
    }
    return 0;
}

/* Totals that follow from the fields: time asleep, the breathing's
 * window. */
static void
sleep_derived(const json_t *item, int64_t start, int64_t end, int off,
              struct tb *b)
{
    const json_t *st = json_object_get(item, "stages_s");
    const json_t *l = json_object_get(st, "light");
    const json_t *d = json_object_get(st, "deep");
    const json_t *rem = json_object_get(st, "rem");

    /* checked already: whole numbers when present */
    if (json_is_number(l) && json_is_number(d) && json_is_number(rem)) {
        tset(b, "sleep_durations_data.asleep.duration_asleep_state_seconds",
             json_integer((json_int_t)(json_number_value(l) +
                                       json_number_value(d) +
                                       json_number_value(rem))));
    }
    if (json_object_get(b->o, "respiration_data") != NULL) {
        json_t *br = json_object_get(json_object_get(b->o, "respiration_data"),
                                     "breaths_data");
        json_t *ox = json_object_get(json_object_get(b->o, "respiration_data"),
                                     "oxygen_saturation_data");

        if (br != NULL) {
            json_object_set_new(br, "start_time", time_json(start, off));
            json_object_set_new(br, "end_time", time_json(end, off));
        }
        if (ox != NULL) {
            json_object_set_new(ox, "start_time", time_json(start, off));
            json_object_set_new(ox, "end_time", time_json(end, off));
        }
    }
}

static int
norm_sleep(const struct rd *r, const json_t *item, struct adapter_records *out)
{
    struct tb b = {json_object(), 0};
    const json_t *nap = NULL;
    const char *id = NULL;
    const char *source = NULL;
    json_t *dev = NULL;
    int64_t start = 0;
    int64_t end = 0;
    int off = 0;
    int end_off = 0;
    int rc = get_str(r, item, "id", 1, &id);

    rc = rc < 0 ? rc : get_str(r, item, "source", 0, &source);
    rc = rc < 0 ? rc : get_time(r, item, "start", &start, &off);
    rc = rc < 0 ? rc : get_time(r, item, "end", &end, &end_off);
    rc = rc < 0 ? rc : lookup(r, item, "nap", &nap);
    if (rc == 0 && (id[0] == '\0' || strlen(id) > ID_MAX)) {
        rc = bad(r, "id", "is empty or too long");
    }
    if (rc == 0 && (end < start || end - start > DURATION_MAX * US)) {
        rc = bad(r, "end", "is before the start or over a week after it");
    }
    if (rc == 0 && nap != NULL && !json_is_boolean(nap)) {
        rc = bad(r, "nap", "is not true or false");
    }
    rc = rc < 0 ? rc : copy_nums(r, item, sleep_map, NMAP(sleep_map), &b);
    rc = rc < 0 ? rc
                : sleep_hypnogram(r, item, start, off, (end - start) / US, &b);
    rc = rc < 0 ? rc
                : sleep_samples(r, item, start, off, (end - start) / US, &b);
    rc = rc < 0 ? rc : copy_device(r, item, "device", &dev);
    if (rc < 0 || b.o == NULL) {
        json_decref(b.o);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    sleep_derived(item, start, end, off, &b);
    tset(&b, "metadata.summary_id", json_string(id));
    tset(&b, "metadata.start_time", time_json(start, off));
    tset(&b, "metadata.end_time", time_json(end, end_off));
    tset(&b, "metadata.is_nap", json_boolean(json_is_true(nap)));
    /* SleepUploadType: 1 manual, 2 automatic */
    tset(&b, "metadata.upload_type",
         json_integer(source != NULL && strcmp(source, "manual") == 0 ? 1 : 2));
    if (dev != NULL) {
        tset(&b, "device_data", dev);
    }
    if (b.bad) {
        json_decref(b.o);
        return ERR_NOMEM;
    }
    return adapter_records_add(out, DT_SLEEP, id, b.o, start, end, NULL);
}

/* ---- daily and body summaries ---- */

static const struct map daily_map[] = {
    {"steps", "distance_data.steps", 0, 1e7, 1, 1},
    {"distance_m", "distance_data.distance_meters", 0, 1e8, 1, 0},
    {"floors", "distance_data.floors_climbed", 0, 1e5, 1, 1},
    {"calories.total_kcal", "calories_data.total_burned_calories", 0, 1e6, 1,
     0},
    {"calories.active_kcal", "calories_data.net_activity_calories", 0, 1e6, 1,
     0},
    {"calories.bmr_kcal", "calories_data.BMR_calories", 0, 1e6, 1, 0},
    {"heart_rate.resting_bpm", "heart_rate_data.summary.resting_hr_bpm", 0, 400,
     1, 1},
    {"heart_rate.avg_bpm", "heart_rate_data.summary.avg_hr_bpm", 0, 400, 1, 1},
    {"heart_rate.min_bpm", "heart_rate_data.summary.min_hr_bpm", 0, 400, 1, 1},
    {"heart_rate.max_bpm", "heart_rate_data.summary.max_hr_bpm", 0, 400, 1, 1},
    /* minutes at the sandbox, seconds at Terra */
    {"minutes.in_bed", "active_durations_data.rest_seconds", 0, 1440, 60, 1},
    {"minutes.sedentary", "active_durations_data.inactivity_seconds", 0, 1440,
     60, 1},
    {"minutes.low", "active_durations_data.low_intensity_seconds", 0, 1440, 60,
     1},
    {"minutes.moderate", "active_durations_data.moderate_intensity_seconds", 0,
     1440, 60, 1},
    {"minutes.vigorous", "active_durations_data.vigorous_intensity_seconds", 0,
     1440, 60, 1},
    {"stress.avg", "stress_data.avg_stress_level", 0, 100, 1, 1},
    {"stress.max", "stress_data.max_stress_level", 0, 100, 1, 1},
    {"activity_score", "scores.activity", 0, 100, 1, 0},
};

/* StressLevel of an average stress level (reference section 8). */
static int
stress_rating(double avg)
{
    return avg < 1 ? 0 : avg <= 25 ? 1 : avg <= 50 ? 2 : avg <= 75 ? 3 : 4;
}

/* Hourly series from midnight: steps and heart rate. */
static int
daily_hours(const struct rd *r, const json_t *item, int64_t mid, int off,
            struct tb *b)
{
    struct span sp = {mid, off, 3600};
    const json_t *steps = NULL;
    const json_t *hr = NULL;
    size_t len = 0;
    int rc = get_series(r, item, "hourly.steps", 0, 1e6, &len, &steps);

    if (rc == 0 && len > 25) {
        rc = bad(r, "hourly.steps", "has more than 25 hours");
    }
    len = 0;
    rc = rc < 0
             ? rc
             : get_series(r, item, "hourly.heart_rate_bpm", 0, 400, &len, &hr);
    if (rc == 0 && len > 25) {
        rc = bad(r, "hourly.heart_rate_bpm", "has more than 25 hours");
    }
    if (rc < 0) {
        return rc;
    }
    if (steps != NULL) {
        tset(b, "distance_data.detailed.step_samples",
             samples_json(&sp, steps, 0, "steps", 0));
    }
    if (hr != NULL) {
        tset(b, "heart_rate_data.detailed.hr_samples",
             samples_json(&sp, hr, 0, "bpm", 0));
    }
    return 0;
}

static void
daily_derived(const json_t *item, struct tb *b)
{
    const json_t *m = json_object_get(item, "minutes");
    const json_t *stress = json_object_get(item, "stress");
    double active = 0;
    int any = 0;
    size_t i = 0;

    /* checked already: whole minutes of a day when present */
    for (i = 0; i < 3; i++) {
        static const char *const keys[] = {"low", "moderate", "vigorous"};
        const json_t *v = json_object_get(m, keys[i]);

        any |= json_is_number(v);
        active += json_number_value(v);
    }
    if (any) {
        tset(b, "active_durations_data.activity_seconds",
             json_integer((json_int_t)active * 60));
    }
    if (json_is_number(json_object_get(stress, "avg"))) {
        tset(b, "stress_data.stress_rating",
             json_integer(stress_rating(
                 json_number_value(json_object_get(stress, "avg")))));
    }
}

static int
norm_daily(const struct rd *r, const json_t *item, struct adapter_records *out)
{
    struct tb b = {json_object(), 0};
    const char *date = NULL;
    int64_t start = 0;
    int64_t end = 0;
    int off = 0;
    int rc = get_day(r, item, &date, &off, &start, &end);

    rc = rc < 0 ? rc : copy_nums(r, item, daily_map, NMAP(daily_map), &b);
    rc = rc < 0 ? rc : daily_hours(r, item, start, off, &b);
    if (rc < 0 || b.o == NULL) {
        json_decref(b.o);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    if (json_object_size(b.o) == 0) {
        json_decref(b.o); /* nothing measured that day */
        return 0;
    }
    daily_derived(item, &b);
    tset(&b, "metadata.start_time", time_json(start, off));
    tset(&b, "metadata.end_time", time_json(end, off));
    tset(&b, "metadata.upload_type", json_integer(1)); /* automatic */
    if (b.bad) {
        json_decref(b.o);
        return ERR_NOMEM;
    }
    return adapter_records_add(out, DT_DAILY, date, b.o, start, end, date);
}

static const struct map body_map[] = {
    {"resting_hr_bpm", "heart_data.heart_rate_data.summary.resting_hr_bpm", 0,
     400, 1, 1},
    {"hrv_rmssd_ms", "heart_data.heart_rate_data.summary.avg_hrv_rmssd", 0,
     1000, 1, 0},
};

/* A weigh-in's fields in a measurement of Terra's. */
static const struct map weigh_map[] = {
    {"weigh_in.weight_kg", "weight_kg", 0, 1000, 1, 0},
    {"weigh_in.bmi", "BMI", 0, 200, 1, 0},
    {"weigh_in.fat_pct", "bodyfat_percentage", 0, 100, 1, 0},
    {"weigh_in.water_pct", "water_percentage", 0, 100, 1, 0},
    /* kilograms at the sandbox, grams at Terra */
    {"weigh_in.muscle_kg", "muscle_mass_g", 0, 1000, 1000, 0},
    {"weigh_in.bone_kg", "bone_mass_g", 0, 1000, 1000, 0},
};

static const struct map pressure_map[] = {
    {"blood_pressure.systolic_mmhg", "systolic_bp", 0, 400, 1, 1},
    {"blood_pressure.diastolic_mmhg", "diastolic_bp", 0, 400, 1, 1},
};

/* One timed object (`key`, with "time") as the only element of the
 * Terra array `path`, its time at `time_key`. */
static int
body_part(const struct rd *r, const json_t *item, const char *key,
          const struct map *m, size_t n, const char *path, const char *time_key,
          struct tb *b)
{
    struct tb part = {NULL, 0};
    const json_t *o = NULL;
    char tkey[64];
    int64_t at = 0;
    int off = 0;
    int rc = lookup(r, item, key, &o);

    if (rc < 0 || o == NULL) {
        return rc;
    }
    if (!json_is_object(o)) {
        return bad(r, key, "is not an object");
    }
    snprintf(tkey, sizeof(tkey), "%s.time", key);
    part.o = json_object();
    rc = get_time(r, item, tkey, &at, &off);
    rc = rc < 0 ? rc : copy_nums(r, item, m, n, &part);
    if (rc < 0 || part.o == NULL) {
        json_decref(part.o);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    tset(&part, time_key, time_json(at, off));
    tset(b, path, json_pack("[o]", part.o));
    b->bad |= part.bad;
    return 0;
}

static int
norm_body(const struct rd *r, const json_t *item, struct adapter_records *out)
{
    struct tb b = {json_object(), 0};
    const char *date = NULL;
    json_t *dev = NULL;
    int64_t start = 0;
    int64_t end = 0;
    int off = 0;
    int rc = get_day(r, item, &date, &off, &start, &end);

    rc = rc < 0 ? rc : copy_nums(r, item, body_map, NMAP(body_map), &b);
    rc = rc < 0 ? rc
                : body_part(r, item, "weigh_in", weigh_map, NMAP(weigh_map),
                            "measurements_data.measurements",
                            "measurement_time", &b);
    rc = rc < 0 ? rc
                : body_part(r, item, "blood_pressure", pressure_map,
                            NMAP(pressure_map),
                            "blood_pressure_data.blood_pressure_samples",
                            "timestamp", &b);
    rc = rc < 0 ? rc : copy_device(r, item, "weigh_in.device", &dev);
    if (rc < 0 || b.o == NULL) {
        json_decref(b.o);
        json_decref(dev);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    if (json_object_size(b.o) == 0) {
        json_decref(b.o); /* nothing measured that day */
        json_decref(dev);
        return 0;
    }
    tset(&b, "metadata.start_time", time_json(start, off));
    tset(&b, "metadata.end_time", time_json(end, off));
    if (dev != NULL) {
        tset(&b, "device_data", dev);
    }
    if (b.bad) {
        json_decref(b.o);
        return ERR_NOMEM;
    }
    return adapter_records_add(out, DT_BODY, date, b.o, start, end, date);
}

/* ---- the profile: Terra's athlete ---- */

static const char *const athlete_map[] = {
    "first_name",   "first_name",
    "last_name",    "last_name",
    "email",        "email",
    "sex",          "sex",
    "birth_date",   "date_of_birth",
    "city",         "city",
    "country",      "country",
    "member_since", "joined_provider",
    NULL,           NULL,
};

static int
norm_profile(const struct rd *r, const json_t *item,
             struct adapter_records *out)
{
    static const struct map age = {"age", "age", 0, 200, 1, 1};
    struct tb b = {json_object(), 0};
    const json_t *devs = NULL;
    json_t *list = NULL;
    size_t i = 0;
    int rc = copy_strs(r, item, athlete_map, &b);

    rc = rc < 0 ? rc : copy_nums(r, item, &age, 1, &b);
    rc = rc < 0 ? rc : lookup(r, item, "devices", &devs);
    if (rc == 0 && devs != NULL &&
        (!json_is_array(devs) || json_array_size(devs) > 64)) {
        rc = bad(r, "devices", "is not an array of at most 64 devices");
    }
    list = devs != NULL ? json_array() : NULL;
    for (i = 0; rc == 0 && devs != NULL && i < json_array_size(devs); i++) {
        json_t *one = json_array_get(devs, i);
        json_t *wrap = NULL;
        json_t *dev = NULL;

        if (!json_is_object(one)) {
            rc = bad(r, "devices", "holds a device that is not an object");
            break;
        }
        /* copy_device() reads a device at a key of an object */
        wrap = json_pack("{s:O}", "d", one);
        rc = wrap != NULL ? copy_device(r, wrap, "d", &dev) : ERR_NOMEM;
        if (rc == ERR_INVALID) {
            rc = bad(r, "devices",
                     "holds a device that is not an object of strings");
        }
        if (rc == 0 && (dev == NULL || json_array_append_new(list, dev) < 0)) {
            rc = ERR_NOMEM;
        }
        json_decref(wrap);
    }
    if (rc < 0 || b.o == NULL) {
        json_decref(b.o);
        json_decref(list);
        return rc < 0 ? rc : ERR_NOMEM;
    }
    if (list != NULL) {
        tset(&b, "devices", list);
    }
    if (json_object_size(b.o) == 0 || b.bad) {
        json_decref(b.o);
        return b.bad ? ERR_NOMEM : 0;
    }
    return adapter_records_add(out, DT_ATHLETE, "athlete", b.o, 0, 0, NULL);
}

/* ---- normalize ---- */

typedef int (*norm_fn)(const struct rd *r, const json_t *item,
                       struct adapter_records *out);

static int
norm_page(const char *kind, const json_t *payload, norm_fn fn,
          struct adapter_records *out, struct err *e)
{
    const json_t *data = json_object_get(payload, "data");
    size_t i = 0;
    int rc = 0;

    if (!json_is_array(data)) {
        return err_set(e, ERR_INVALID, "%s: data is missing or not an array",
                       kind);
    }
    for (i = 0; rc == 0 && i < json_array_size(data); i++) {
        struct rd r = {kind, i, 0, e};
        const json_t *item = json_array_get(data, i);

        rc = json_is_object(item)
                 ? fn(&r, item, out)
                 : err_set(e, ERR_INVALID, "%s: data[%zu] is not an object",
                           kind, i);
    }
    return rc;
}

static int
normalize(const char *kind, const json_t *payload, struct adapter_records *out,
          struct err *e)
{
    static const struct {
        const char *kind;
        norm_fn fn;
    } pages[] = {
        {"workouts", norm_workout},
        {"sleep", norm_sleep},
        {"daily", norm_daily},
        {"body", norm_body},
    };
    size_t i = 0;

    if (kind == NULL) {
        return err_set(e, ERR_INVALID, "sandbox: no kind");
    }
    if (!json_is_object(payload)) {
        return err_set(e, ERR_INVALID, "%s: the payload is not an object",
                       kind);
    }
    for (i = 0; i < NMAP(pages); i++) {
        if (strcmp(kind, pages[i].kind) == 0) {
            return norm_page(kind, payload, pages[i].fn, out, e);
        }
    }
    if (strcmp(kind, "profile") == 0) {
        struct rd r = {kind, 0, 1, e};

        return norm_profile(&r, payload, out);
    }
    return err_set(e, ERR_INVALID, "sandbox: unknown kind \"%.32s\"", kind);
}

const struct adapter adapter_sandbox = {
    .resource = "SANDBOX",
    .api_url = "/sandbox",
    .caps =
        {
            .types = DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
                     DT_BIT(DT_BODY) | DT_BIT(DT_ATHLETE),
            .push = 0,
            .poll_seconds = 30,
            .backfill_days = 90, /* SANDBOX_HISTORY_DAYS */
            .chunk_days = RANGE_DAYS,
            .requests_per_minute = 600,
            .revokes = 1,
        },
    .kinds = kinds,
    .plan = plan,
    .next_page = next_page,
    .normalize = normalize,
    .lifecycle = NULL,
    .push = NULL,
};
