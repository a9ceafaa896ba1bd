/*
 * garmin.c - the GARMIN data adapter (Garmin Connect Developer Program:
 * Health API 1.2.2 and Activity API 1.2.3).
 *
 * Garmin pushes and is never polled: ad-hoc pulls are against its terms.
 * Each summary type enabled in Garmin's API Tools is POSTed to ferry's
 * hook as a JSON object keyed by summary type, each an array of
 * summaries that carry the user's `userId`:
 *
 *     dailies              one per local day                 -> daily
 *     epochs               15-minute slices of the day       -> daily
 *     stressDetails        stress and Body Battery samples   -> daily
 *     pulseox              SpO2 samples                      -> daily
 *     hrv                  overnight HRV (RMSSD)             -> daily
 *     sleeps               one per night, naps inside        -> sleep
 *     bodyComps            scale or manual weight            -> body
 *     userMetrics          VO2max, fitness age               -> body
 *     bloodPressures       blood pressure readings           -> body
 *     activities           fitness activities                -> activity
 *     activityDetails      the same with samples and laps    -> activity
 *     manuallyUpdatedActivities  edited on Garmin Connect    -> activity
 *     deregistrations      the user left                     -> revoked
 *     userPermissionsChange  an empty list revokes           -> revoked
 *
 * In PUSH mode a summary is the data itself; in PING mode it carries a
 * `callbackURL` instead, whose answer is the bare array of summaries.
 * Garmin signs nothing: the one documented check is the
 * garmin-client-id header, which must be this app's client id; since a
 * client id is not secret, the hook's path token is checked as well.
 *
 * History is asked per summary type of the backfill endpoints
 * (GET /wellness-api/rest/backfill/<type>?summaryStartTimeInSeconds=..
 * &summaryEndTimeInSeconds=..), at most 30 days a request. Garmin
 * answers 202 with no body and pushes the summaries later, as if newly
 * synced; a window asked before answers 409.
 *
 * Times are unix seconds plus startTimeOffsetInSeconds, the offset the
 * device displayed at the start; they are written with that offset.
 * One-per-day summaries carry the `calendarDate` Garmin files them
 * under, which is the record's local date. A Terra daily or body object
 * of a day is assembled from several Garmin summaries, each giving its
 * part under the same key (the local date).
 *
 * XXX: the parts of one day are merged only within one payload. The
 * store replaces a record by (type, key), so a stressDetails push
 * replaces that day's dailies record instead of adding to it; records
 * need a way to say "merge me into the stored object".
 */
#include <assert.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/isotime.h"
#include "core/xmalloc.h"
#include "providers/adapter.h"

#define DAY_S        86400LL
#define CHUNK_S      (30 * DAY_S)   /* the most one backfill may cover */
#define TIME_MAX_S   253399622400LL /* 9999-12-01T00:00:00Z */
#define OFFSET_MAX_S (18 * 3600)    /* the widest offset ISO 8601 writes */
#define SPAN_MAX_S   (366 * DAY_S)  /* the longest duration believed */
#define ID_MAX       100            /* the longest id kept as a key */
#define PLAN_MAX     4096           /* requests one plan() may make */
#define NAME_MAX_LEN 64             /* a segment of a put() path */
#define ACT_UNKNOWN  4              /* ActivityType UNKNOWN */

/* Where a summary is in the payload, for error sentences. */
struct ctx {
    const char *kind;
    size_t i;     /* the summary's index in its array */
    char sub[64]; /* the prefix of a nested field ("samples[3].") */
    size_t first; /* out->n when this payload began */
    struct err *e;
    /* the records this payload made, by type: an object from a key to
     * the record's place in out->v */
    json_t **made;
};

/* Normalise the one summary `s` of `c->kind` into `out`. */
typedef int (*summary_fn)(struct ctx *c, const json_t *s,
                          struct adapter_records *out);

/* Normalise the array `list` of `c->kind` at once into `out`. */
typedef int (*batch_fn)(struct ctx *c, const json_t *list,
                        struct adapter_records *out);

struct summary {
    const char *name;     /* the push key, and the normalize kind */
    const char *backfill; /* its backfill path, NULL when it has none */
    enum data_type type;
    summary_fn one;
    batch_fn all;
};

/* ------------------------------------------------------------------ */
/* Reading Garmin's JSON                                                */
/* ------------------------------------------------------------------ */

static int
bad(const struct ctx *c, const char *field, const char *what)
{
    return err_set(c->e, ERR_INVALID, "%s[%zu].%s%s: %s", c->kind, c->i, c->sub,
                   field, what);
}

/* The number `k` of `o`: 1 with it in `*v`, 0 when absent or null,
 * ERR_INVALID when it is something else. */
static int
get_num(const struct ctx *c, const json_t *o, const char *k, double *v)
{
    const json_t *j = json_object_get(o, k);

    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_number(j) || !isfinite(json_number_value(j))) {
        return bad(c, k, "not a number");
    }
    *v = json_number_value(j);
    return 1;
}

/* The first of `keys` that `o` has, as get_num(). */
static int
get_first(const struct ctx *c, const json_t *o, const char *const *keys,
          double *v)
{
    int rc = 0;

    for (; *keys != NULL; keys++) {
        rc = get_num(c, o, *keys, v);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A number of seconds in [lo, hi] (a fraction dropped), as get_num(). */
static int
get_secs(const struct ctx *c, const json_t *o, const char *k, int64_t lo,
         int64_t hi, int64_t *v)
{
    double d = 0;
    int rc = get_num(c, o, k, &d);

    if (rc <= 0) {
        return rc;
    }
    if (d < (double)lo || d > (double)hi) {
        return bad(c, k, "out of range");
    }
    *v = (int64_t)floor(d);
    return 1;
}

/* A required unix time in seconds. */
static int
need_time(const struct ctx *c, const json_t *o, const char *k, int64_t *v)
{
    int rc = get_secs(c, o, k, 0, TIME_MAX_S, v);

    if (rc == 0) {
        return bad(c, k, "missing");
    }
    return rc < 0 ? rc : 0;
}

/* The offset `k` in seconds east of UTC; 0 when absent. */
static int
get_offset(const struct ctx *c, const json_t *o, const char *k, int *off)
{
    int64_t v = 0;
    int rc = get_secs(c, o, k, -OFFSET_MAX_S, OFFSET_MAX_S, &v);

    /* in whole minutes, as it is written: days then begin at the local
     * midnight their text shows */
    *off = rc == 1 ? (int)(v / 60 * 60) : 0;
    return rc < 0 ? rc : 0;
}

/* The string `k` of `o`, as get_num(). */
static int
get_str(const struct ctx *c, const json_t *o, const char *k, const char **v)
{
    const json_t *j = json_object_get(o, k);

    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_string(j)) {
        return bad(c, k, "not a string");
    }
    *v = json_string_value(j);
    return 1;
}

/* The boolean `k` of `o`, as get_num(). */
static int
get_bool(const struct ctx *c, const json_t *o, const char *k, int *v)
{
    const json_t *j = json_object_get(o, k);

    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_boolean(j)) {
        return bad(c, k, "not a boolean");
    }
    *v = json_is_true(j);
    return 1;
}

/* get_num() as 0 or ERR_INVALID, with `*has` saying whether it was
 * there. */
static int
opt_num(const struct ctx *c, const json_t *o, const char *k, double *v,
        int *has)
{
    int rc = get_num(c, o, k, v);

    *has = rc == 1;
    return rc < 0 ? rc : 0;
}

/* get_str() the same way. */
static int
opt_str(const struct ctx *c, const json_t *o, const char *k, const char **v,
        int *has)
{
    int rc = get_str(c, o, k, v);

    *has = rc == 1;
    return rc < 0 ? rc : 0;
}

/* get_secs() the same way, leaving `*v` at 0 when absent. */
static int
opt_secs(const struct ctx *c, const json_t *o, const char *k, int64_t hi,
         int64_t *v)
{
    int rc = get_secs(c, o, k, 0, hi, v);

    return rc < 0 ? rc : 0;
}

/* A required id string of at most ID_MAX bytes. */
static int
need_id(const struct ctx *c, const json_t *o, const char *k, const char **v)
{
    int rc = get_str(c, o, k, v);

    if (rc == 0 || (rc == 1 && (*v)[0] == '\0')) {
        return bad(c, k, "missing");
    }
    if (rc == 1 && strlen(*v) > ID_MAX) {
        return bad(c, k, "too long");
    }
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* Writing Terra's JSON                                                 */
/* ------------------------------------------------------------------ */

/* A JSON number: an integer when `v` is one (exactly), else a real. */
static json_t *
num(double v)
{
    if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

/* The instant `s` (unix seconds) as Terra's text, at offset `off`. */
static json_t *
iso(int64_t s, int off)
{
    char buf[ISOTIME_MAX];

    isotime_format(s * 1000000, off, buf);
    return json_string(buf);
}

/* Set `v` (taken; NULL sets nothing) at the dotted `path` under `root`,
 * making the objects on the way. */
static void
put(json_t *root, const char *path, json_t *v)
{
    char name[NAME_MAX_LEN];
    const char *dot = NULL;
    json_t *o = root;

    if (v == NULL) {
        return;
    }
    for (dot = strchr(path, '.'); dot != NULL; dot = strchr(path, '.')) {
        size_t n = (size_t)(dot - path);
        json_t *next = NULL;

        assert(n < sizeof(name));
        memcpy(name, path, n);
        name[n] = '\0';
        next = json_object_get(o, name);
        if (next == NULL) {
            next = json_object();
            json_object_set_new(o, name, next);
        }
        o = next;
        path = dot + 1;
    }
    json_object_set_new(o, path, v);
}

/* Append {"timestamp": .., name: v} (v taken) to the array `a`, with
 * `timer` as timer_duration_seconds when it is not negative. */
static void
add_sample(json_t *a, int64_t t, int off, const char *name, json_t *v,
           double timer)
{
    json_t *o = json_object();

    json_object_set_new(o, "timestamp", iso(t, off));
    json_object_set_new(o, name, v);
    if (timer >= 0) {
        json_object_set_new(o, "timer_duration_seconds", num(timer));
    }
    json_array_append_new(a, o);
}

/* Put the array `a` (taken) at `path` when it has elements. */
static void
put_list(json_t *root, const char *path, json_t *a)
{
    if (json_array_size(a) == 0) {
        json_decref(a);
        return;
    }
    put(root, path, a);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && (a < 0) != (b < 0)) {
        q--;
    }
    return q;
}

/* "YYYY-MM-DD" of the unix day `days` (years 0000-9999). */
static void
date_text(int64_t days, char out[11])
{
    char buf[32];
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

/* Merge the object `src` (borrowed) into `dst`: objects member by
 * member, arrays appended, anything else replaced. */
static void
merge_into(json_t *dst, json_t *src)
{
    const char *k = NULL;
    json_t *v = NULL;

    json_object_foreach(src, k, v)
    {
        json_t *d = json_object_get(dst, k);

        if (json_is_object(d) && json_is_object(v)) {
            merge_into(d, v);
        } else if (json_is_array(d) && json_is_array(v)) {
            json_array_extend(d, v);
        } else {
            json_object_set(dst, k, v);
        }
    }
}

enum put_mode {
    PUT_REPLACE = 0, /* a later summary of the same key replaces it */
    PUT_MERGE = 1,   /* summaries of one key are parts of one object */
};

/*
 * Add `data` (taken) as a record of this payload; a record of the same
 * type and key added by this payload before is replaced or merged with.
 */
static int
emit(const struct ctx *c, struct adapter_records *out, enum data_type t,
     const char *key, json_t *data, int64_t start, int64_t end,
     const char *date, enum put_mode mode)
{
    const json_t *at = json_object_get(c->made[t], key);
    struct adapter_record *r = NULL;
    int rc = 0;

    if (at == NULL) {
        rc = adapter_records_add(out, t, key, data, start * 1000000,
                                 end * 1000000, date);
        if (rc == 0) {
            if (c->made[t] == NULL) {
                c->made[t] = json_object();
            }
            /* under the key the record holds (cut to fit, as a
             * lookup compares it) */
            r = &out->v[out->n - 1];
            if (json_object_get(c->made[t], r->key) == NULL) {
                json_object_set_new_nocheck(
                    c->made[t], r->key, json_integer((json_int_t)out->n - 1));
            }
        }
        return rc;
    }
    r = &out->v[json_integer_value(at)];
    if (mode == PUT_MERGE) {
        merge_into(r->data, data);
        json_decref(data);
        return 0;
    }
    json_decref(r->data);
    r->data = data;
    r->start_us = start * 1000000;
    r->end_us = end * 1000000;
    return 0;
}

/* A local day: its date, its midnights and the offset written. */
struct day {
    char date[11];
    int64_t start;
    int64_t end;
    int off;
};

/*
 * The day of a summary: its calendarDate when it has one, else the
 * local date of `t` at `off`. Its start is local midnight at `off`; its
 * end 24 hours later at the same offset.
 *
 * XXX: a day the clocks change is 23 or 25 hours long, but Garmin gives
 * only the offset at its start, so its end_time is an hour off.
 */
static int
day_of(const struct ctx *c, const json_t *s, int64_t t, int off, struct day *d)
{
    const char *cd = NULL;
    int64_t days = floor_div(t + off, DAY_S);
    int y = 0;
    int m = 0;
    int dd = 0;
    int rc = get_str(c, s, "calendarDate", &cd);

    if (rc < 0) {
        return rc;
    }
    if (rc == 1) {
        if (isotime_parse_date(cd, &y, &m, &dd) < 0) {
            return bad(c, "calendarDate", "not a YYYY-MM-DD date");
        }
        days = isotime_days_from_civil(y, m, dd);
    }
    date_text(days, d->date);
    d->off = off;
    d->start = days * DAY_S - off;
    d->end = d->start + DAY_S;
    return 0;
}

/* A Terra object with the day's metadata; daily ones have an
 * upload_type (Automatic: Garmin does not say whether a day was
 * edited). */
static json_t *
day_object(const struct day *d, enum data_type t)
{
    json_t *o = json_object();

    put(o, "metadata.start_time", iso(d->start, d->off));
    put(o, "metadata.end_time", iso(d->end, d->off));
    if (t == DT_DAILY) {
        put(o, "metadata.upload_type", json_integer(1));
    }
    return o;
}

/* Add the day object `o` (taken) when `set` says it holds data. */
static int
emit_day(const struct ctx *c, struct adapter_records *out, enum data_type t,
         const struct day *d, json_t *o, int set, enum put_mode mode)
{
    if (set == 0) {
        json_decref(o);
        return 0;
    }
    return emit(c, out, t, d->date, o, d->start, d->end, d->date, mode);
}

/* ------------------------------------------------------------------ */
/* Fields, maps and samples                                             */
/* ------------------------------------------------------------------ */

#define F_NONNEG 1u /* a negative value means "no value" */

/* One Garmin number copied to a Terra path, divided by `div`. */
struct field {
    const char *from;
    const char *to;
    double div;
    unsigned flags;
};

/* Copy the fields `f` (ended by a NULL `from`) of `src` into `dst`,
 * counting those set in `*set`. */
static int
copy_fields(const struct ctx *c, const json_t *src, json_t *dst,
            const struct field *f, int *set)
{
    for (; f->from != NULL; f++) {
        double v = 0;
        int rc = get_num(c, src, f->from, &v);

        if (rc < 0) {
            return rc;
        }
        if (rc == 0 || ((f->flags & F_NONNEG) && v < 0)) {
            continue;
        }
        put(dst, f->to, num(v / f->div));
        (*set)++;
    }
    return 0;
}

/* A value at an instant. */
struct point {
    int64_t t;
    double v;
};

struct series {
    struct point *v;
    size_t n;
};

static int
point_cmp(const void *pa, const void *pb)
{
    const struct point *a = pa;
    const struct point *b = pb;

    return a->t < b->t ? -1 : a->t > b->t;
}

static void
series_release(struct series *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* The decimal, non-negative whole number that is all of `s`, or -1. */
static int64_t
offset_key(const char *s)
{
    char *end = NULL;
    long long v = 0;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > SPAN_MAX_S) {
        return -1;
    }
    return v;
}

/*
 * Read Garmin's map `k` of `o` ({"<seconds after base>": value}) into
 * `s`, in time order, with `base` added (nothing when it is absent;
 * nulls are left out): 0, or ERR_INVALID when it is not such a map. `s`
 * is released by the caller either way.
 */
static int
read_map(const struct ctx *c, const json_t *o, const char *k, int64_t base,
         struct series *s)
{
    json_t *m = json_object_get(o, k);
    const char *key = NULL;
    json_t *v = NULL;

    memset(s, 0, sizeof(*s));
    if (m == NULL || json_is_null(m)) {
        return 0;
    }
    if (!json_is_object(m)) {
        return bad(c, k, "not an object");
    }
    s->v = xcalloc(json_object_size(m) + 1, sizeof(*s->v));
    json_object_foreach(m, key, v)
    {
        int64_t off = offset_key(key);

        if (json_is_null(v)) {
            continue;
        }
        if (off < 0) {
            return bad(c, k, "a key is not a number of seconds");
        }
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            return bad(c, k, "a value is not a number");
        }
        s->v[s->n].t = base + off;
        s->v[s->n].v = json_number_value(v);
        s->n++;
    }
    qsort(s->v, s->n, sizeof(*s->v), point_cmp);
    return 0;
}

/* Drop the points of `s` below `min`: Garmin's negative "no value"
 * codes, and for measures that cannot be zero (SpO2, HRV) zero too. */
static void
drop_below(struct series *s, double min)
{
    size_t i = 0;
    size_t n = 0;

    for (i = 0; i < s->n; i++) {
        if (s->v[i].v >= min) {
            s->v[n++] = s->v[i];
        }
    }
    s->n = n;
}

/* The least value drop_below() keeps of a measure that is never 0. */
#define POSITIVE DBL_MIN

/* The samples of `s` as [{"timestamp", name}], at offset `off`; with
 * `spo2`, each also says "type": 0 (blood SpO2). */
static json_t *
series_json(const struct series *s, int off, const char *name, int spo2)
{
    json_t *a = json_array();
    size_t i = 0;

    for (i = 0; i < s->n; i++) {
        add_sample(a, s->v[i].t, off, name, num(s->v[i].v), -1);
        if (spo2) {
            json_object_set_new(json_array_get(a, i), "type", json_integer(0));
        }
    }
    return a;
}

struct stats {
    double min;
    double max;
    double mean;
};

/* The minimum, maximum and mean of `s`; 0 when it is empty. */
static int
series_stats(const struct series *s, struct stats *st)
{
    double sum = 0;
    size_t i = 0;

    if (s->n == 0) {
        return 0;
    }
    st->min = st->max = s->v[0].v;
    for (i = 0; i < s->n; i++) {
        sum += s->v[i].v;
        st->min = s->v[i].v < st->min ? s->v[i].v : st->min;
        st->max = s->v[i].v > st->max ? s->v[i].v : st->max;
    }
    st->mean = sum / (double)s->n;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Daily: dailies, epochs, stressDetails, pulseox, hrv                  */
/* ------------------------------------------------------------------ */

static const struct field daily_fields[] = {
    {"steps", "distance_data.steps", 1, 0},
    {"distanceInMeters", "distance_data.distance_meters", 1, 0},
    {"floorsClimbed", "distance_data.floors_climbed", 1, 0},
    {"activeKilocalories", "calories_data.net_activity_calories", 1, 0},
    {"bmrKilocalories", "calories_data.BMR_calories", 1, 0},
    {"activeTimeInSeconds", "active_durations_data.activity_seconds", 1, 0},
    {"moderateIntensityDurationInSeconds",
     "active_durations_data.moderate_intensity_seconds", 1, 0},
    {"vigorousIntensityDurationInSeconds",
     "active_durations_data.vigorous_intensity_seconds", 1, 0},
    {"minHeartRateInBeatsPerMinute", "heart_rate_data.summary.min_hr_bpm", 1,
     0},
    {"maxHeartRateInBeatsPerMinute", "heart_rate_data.summary.max_hr_bpm", 1,
     0},
    {"restingHeartRateInBeatsPerMinute",
     "heart_rate_data.summary.resting_hr_bpm", 1, 0},
    {"averageStressLevel", "stress_data.avg_stress_level", 1, F_NONNEG},
    {"maxStressLevel", "stress_data.max_stress_level", 1, F_NONNEG},
    {"stressDurationInSeconds", "stress_data.stress_duration_seconds", 1, 0},
    {"restStressDurationInSeconds", "stress_data.rest_stress_duration_seconds",
     1, 0},
    {"activityStressDurationInSeconds",
     "stress_data.activity_stress_duration_seconds", 1, 0},
    {"lowStressDurationInSeconds", "stress_data.low_stress_duration_seconds", 1,
     0},
    {"mediumStressDurationInSeconds",
     "stress_data.medium_stress_duration_seconds", 1, 0},
    {"highStressDurationInSeconds", "stress_data.high_stress_duration_seconds",
     1, 0},
    {NULL, NULL, 0, 0},
};

/* Terra's StressLevel of a Garmin stress score (1-100). */
static int
stress_rating(double v)
{
    if (v >= 1 && v <= 25) {
        return 1;
    }
    if (v > 25 && v <= 50) {
        return 2;
    }
    if (v > 50 && v <= 75) {
        return 3;
    }
    if (v > 75 && v <= 100) {
        return 4;
    }
    return 0;
}

/* The start, offset and day of a day summary. */
static int
day_start(struct ctx *c, const json_t *s, int64_t *t, int *off, struct day *d)
{
    int rc = need_time(c, s, "startTimeInSeconds", t);

    if (rc == 0) {
        rc = get_offset(c, s, "startTimeOffsetInSeconds", off);
    }
    if (rc == 0) {
        rc = day_of(c, s, *t, *off, d);
    }
    return rc;
}

/*
 * A daily summary. Garmin's averageHeartRateInBeatsPerMinute is the
 * average of the last 7 days, not of the day, so avg_hr_bpm is the mean
 * of the day's 15-second samples instead.
 */
static int
norm_daily(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct series hr = {0};
    struct stats st;
    struct day d;
    json_t *o = NULL;
    double active = 0;
    double bmr = 0;
    double stress = 0;
    int64_t t = 0;
    int off = 0;
    int set = 0;
    int rc = day_start(c, s, &t, &off, &d);

    if (rc < 0) {
        return rc;
    }
    o = day_object(&d, DT_DAILY);
    rc = copy_fields(c, s, o, daily_fields, &set);
    if (rc == 0 && get_num(c, s, "activeKilocalories", &active) == 1 &&
        get_num(c, s, "bmrKilocalories", &bmr) == 1) {
        put(o, "calories_data.total_burned_calories", num(active + bmr));
    }
    if (rc == 0 && get_num(c, s, "averageStressLevel", &stress) == 1 &&
        stress >= 0) {
        put(o, "stress_data.stress_rating",
            json_integer(stress_rating(stress)));
    }
    if (rc == 0) {
        rc = read_map(c, s, "timeOffsetHeartRateSamples", t, &hr);
    }
    if (rc == 0 && series_stats(&hr, &st)) {
        put(o, "heart_rate_data.detailed.hr_samples",
            series_json(&hr, off, "bpm", 0));
        put(o, "heart_rate_data.summary.avg_hr_bpm", num(st.mean));
        set++;
    }
    series_release(&hr);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    return emit_day(c, out, DT_DAILY, &d, o, set, PUT_REPLACE);
}

/* Terra's ActivityLevel of an epoch's intensity (Appendix B). */
static int
intensity_level(const char *s)
{
    if (strcmp(s, "SEDENTARY") == 0) {
        return 2; /* INACTIVE */
    }
    if (strcmp(s, "ACTIVE") == 0) {
        return 4; /* MEDIUM_INTENSITY: "a brisk walk" */
    }
    if (strcmp(s, "HIGHLY_ACTIVE") == 0) {
        return 5; /* HIGH_INTENSITY */
    }
    return 0;
}

/* One 15-minute epoch: every activity type of it folded together. */
struct slot {
    int64_t t;
    int off;
    double met_wsum; /* MET weighted by active seconds */
    double met_w;
    double met_sum; /* plain, when no active seconds are given */
    int met_n;
    double level_active; /* the active seconds of `level` */
    int level;           /* -1: none yet */
    double steps;        /* over the activity types of the 15 minutes */
    double kcal;         /* active kilocalories, likewise */
    int has_steps;
    int has_kcal;
};

static int
slot_cmp(const void *pa, const void *pb)
{
    const struct slot *a = pa;
    const struct slot *b = pb;

    return a->t < b->t ? -1 : a->t > b->t;
}

/* Fold the epoch `s` into its slot of `v` (`*n` of them). */
static int
epoch_fold(struct ctx *c, const json_t *s, struct slot *v, size_t *n)
{
    const char *intensity = NULL;
    struct slot *sl = NULL;
    double active = 0;
    double met = 0;
    double steps = 0;
    double kcal = 0;
    int64_t t = 0;
    int off = 0;
    int has_active = 0;
    int has_met = 0;
    int has_int = 0;
    int has_steps = 0;
    int has_kcal = 0;
    size_t i = 0;
    int rc = need_time(c, s, "startTimeInSeconds", &t);

    if (rc == 0) {
        rc = get_offset(c, s, "startTimeOffsetInSeconds", &off);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "met", &met, &has_met);
    }
    if (rc == 0) {
        rc = opt_str(c, s, "intensity", &intensity, &has_int);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "activeTimeInSeconds", &active, &has_active);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "steps", &steps, &has_steps);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "activeKilocalories", &kcal, &has_kcal);
    }
    if (rc < 0) {
        return rc;
    }
    for (i = 0; i < *n && v[i].t != t; i++) {
    }
    sl = &v[i];
    if (i == *n) {
        memset(sl, 0, sizeof(*sl));
        sl->t = t;
        sl->off = off;
        sl->level = -1;
        (*n)++;
    }
    if (has_steps && steps >= 0) {
        sl->steps += steps;
        sl->has_steps = 1;
    }
    if (has_kcal && kcal >= 0) {
        sl->kcal += kcal;
        sl->has_kcal = 1;
    }
    if (has_met && met >= 0) {
        sl->met_sum += met;
        sl->met_n++;
        if (has_active && active > 0) {
            sl->met_wsum += met * active;
            sl->met_w += active;
        }
    }
    if (has_int && intensity_level(intensity) > 0 &&
        (sl->level < 0 || active > sl->level_active)) {
        sl->level = intensity_level(intensity);
        sl->level_active = active;
    }
    return 0;
}

/* The daily parts of the slots [v, v + n), all of the day `d`. */
static int
epoch_day(const struct ctx *c, const struct slot *v, size_t n,
          const struct day *d, struct adapter_records *out)
{
    json_t *o = day_object(d, DT_DAILY);
    json_t *met = json_array();
    json_t *lvl = json_array();
    json_t *steps = json_array();
    json_t *kcal = json_array();
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (v[i].has_steps) {
            add_sample(steps, v[i].t, v[i].off, "steps", num(v[i].steps), -1);
        }
        if (v[i].has_kcal) {
            add_sample(kcal, v[i].t, v[i].off, "calories", num(v[i].kcal), -1);
        }
        if (v[i].met_n > 0) {
            double m = v[i].met_w > 0 ? v[i].met_wsum / v[i].met_w
                                      : v[i].met_sum / v[i].met_n;

            add_sample(met, v[i].t, v[i].off, "level", num(m), -1);
        }
        if (v[i].level > 0) {
            add_sample(lvl, v[i].t, v[i].off, "level", json_integer(v[i].level),
                       -1);
        }
    }
    n = json_array_size(met) + json_array_size(lvl) + json_array_size(steps) +
        json_array_size(kcal);
    put_list(o, "MET_data.MET_samples", met);
    put_list(o, "active_durations_data.activity_levels_samples", lvl);
    put_list(o, "distance_data.detailed.step_samples", steps);
    put_list(o, "calories_data.calorie_samples", kcal);
    return emit_day(c, out, DT_DAILY, d, o, (int)n, PUT_MERGE);
}

/* Epochs: per 15 minutes a MET (weighted by the active seconds of each
 * activity type), the intensity that took most of them, and the steps
 * and active kilocalories of all of them.
 *
 * XXX: an epoch's distanceInMeters is not turned into distance_samples:
 * Terra's are cumulative over the day, and a push holds only the epochs
 * uploaded since the last one, so the day's running total is not known
 * here. */
static int
norm_epochs(struct ctx *c, const json_t *list, struct adapter_records *out)
{
    size_t count = json_array_size(list);
    struct slot *v = xcalloc(count + 1, sizeof(*v));
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < count; i++) {
        const json_t *s = json_array_get(list, i);

        c->i = i;
        rc = json_is_object(s) ? epoch_fold(c, s, v, &n)
                               : bad(c, "", "not an object");
    }
    qsort(v, n, sizeof(*v), slot_cmp);
    for (i = 0; rc == 0 && i < n;) {
        struct day d;
        size_t j = i;

        memset(&d, 0, sizeof(d));
        rc = day_of(c, NULL, v[i].t, v[i].off, &d);
        while (j < n && floor_div(v[j].t + v[i].off, DAY_S) ==
                            floor_div(v[i].t + v[i].off, DAY_S)) {
            j++;
        }
        if (rc == 0) {
            rc = epoch_day(c, v + i, j - i, &d, out);
        }
        i = j;
    }
    free(v);
    return rc;
}

/* Stress details: the 3-minute stress scores (Garmin's negative "no
 * value" codes left out) and the Body Battery levels. */
static int
norm_stress(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct series stress = {0};
    struct series battery = {0};
    struct day d;
    json_t *o = NULL;
    int64_t t = 0;
    int off = 0;
    int set = 0;
    int rc = day_start(c, s, &t, &off, &d);

    if (rc == 0) {
        rc = read_map(c, s, "timeOffsetStressLevelValues", t, &stress);
    }
    if (rc == 0) {
        rc = read_map(c, s, "timeOffsetBodyBatteryValues", t, &battery);
    }
    if (rc < 0) {
        series_release(&stress);
        series_release(&battery);
        return rc;
    }
    drop_below(&stress, 0);
    drop_below(&battery, 0);
    o = day_object(&d, DT_DAILY);
    set = (int)(stress.n + battery.n);
    put_list(o, "stress_data.samples", series_json(&stress, off, "level", 0));
    put_list(o, "stress_data.body_battery_samples",
             series_json(&battery, off, "level", 0));
    series_release(&stress);
    series_release(&battery);
    return emit_day(c, out, DT_DAILY, &d, o, set, PUT_MERGE);
}

/* Pulse Ox: SpO2 samples (all-day acclimation or on-demand readings). */
static int
norm_pulse_ox(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct series spo2 = {0};
    struct day d;
    json_t *o = NULL;
    int64_t t = 0;
    int off = 0;
    int rc = day_start(c, s, &t, &off, &d);

    if (rc == 0) {
        rc = read_map(c, s, "timeOffsetSpo2Values", t, &spo2);
    }
    if (rc < 0) {
        series_release(&spo2);
        return rc;
    }
    drop_below(&spo2, POSITIVE);
    o = day_object(&d, DT_DAILY);
    put_list(o, "oxygen_data.saturation_samples",
             series_json(&spo2, off, "percentage", 1));
    rc = emit_day(c, out, DT_DAILY, &d, o, (int)spo2.n, PUT_MERGE);
    series_release(&spo2);
    return rc;
}

/* After the Pulse Ox summaries of a payload: each day's average over
 * all of its samples. */
static void
pulse_ox_means(const struct ctx *c, struct adapter_records *out)
{
    size_t i = 0;

    for (i = c->first; i < out->n; i++) {
        json_t *ox = json_object_get(out->v[i].data, "oxygen_data");
        json_t *a = json_object_get(ox, "saturation_samples");
        double sum = 0;
        size_t j = 0;

        for (j = 0; j < json_array_size(a); j++) {
            sum += json_number_value(
                json_object_get(json_array_get(a, j), "percentage"));
        }
        if (j > 0) {
            json_object_set_new(ox, "avg_saturation_percentage",
                                num(sum / (double)j));
        }
    }
}

/* HRV: last night's average RMSSD and its 5-minute values. */
static int
norm_hrv(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    static const struct field f[] = {
        {"lastNightAvg", "heart_rate_data.summary.avg_hrv_rmssd", 1, F_NONNEG},
        {NULL, NULL, 0, 0},
    };
    struct series hrv = {0};
    struct day d;
    json_t *o = NULL;
    int64_t t = 0;
    int off = 0;
    int set = 0;
    int rc = day_start(c, s, &t, &off, &d);

    if (rc == 0) {
        rc = read_map(c, s, "hrvValues", t, &hrv);
    }
    if (rc < 0) {
        series_release(&hrv);
        return rc;
    }
    drop_below(&hrv, POSITIVE);
    o = day_object(&d, DT_DAILY);
    rc = copy_fields(c, s, o, f, &set);
    set += (int)hrv.n;
    put_list(o, "heart_rate_data.detailed.hrv_samples_rmssd",
             series_json(&hrv, off, "hrv_rmssd", 0));
    series_release(&hrv);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    return emit_day(c, out, DT_DAILY, &d, o, set, PUT_MERGE);
}

/* ------------------------------------------------------------------ */
/* Sleep                                                                */
/* ------------------------------------------------------------------ */

/* Terra's SleepUploadType of Garmin's `validation`. */
static int
sleep_upload_type(const char *v)
{
    static const struct {
        const char *name;
        int code;
    } map[] = {
        {"MANUAL", 1},
        {"AUTO_MANUAL", 1},
        {"DEVICE", 2},
        {"AUTO_FINAL", 2},
        {"ENHANCED_FINAL", 2},
        {"AUTO_TENTATIVE", 3},
        {"ENHANCED_TENTATIVE", 3},
        {"OFF_WRIST", 4},
    };
    size_t i = 0;

    for (i = 0; v != NULL && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].name, v) == 0) {
            return map[i].code;
        }
    }
    return 0;
}

/* Terra's SleepLevel of a key of sleepLevelsMap. */
static int
sleep_level(const char *k)
{
    if (strcmp(k, "awake") == 0) {
        return 1;
    }
    if (strcmp(k, "light") == 0) {
        return 4;
    }
    if (strcmp(k, "deep") == 0) {
        return 5;
    }
    if (strcmp(k, "rem") == 0) {
        return 6;
    }
    return 0;
}

/* The hypnogram of sleepLevelsMap: a sample where each range starts. */
static int
sleep_hypnogram(struct ctx *c, const json_t *s, int off, json_t *o)
{
    json_t *m = json_object_get(s, "sleepLevelsMap");
    struct series lv = {0};
    const char *k = NULL;
    json_t *ranges = NULL;
    size_t cap = 0;
    int rc = 0;

    if (m == NULL || json_is_null(m)) {
        return 0;
    }
    if (!json_is_object(m)) {
        return bad(c, "sleepLevelsMap", "not an object");
    }
    json_object_foreach(m, k, ranges)
    {
        size_t j = 0;

        if (!json_is_array(ranges)) {
            rc = bad(c, "sleepLevelsMap", "a level is not an array");
            break;
        }
        cap += json_array_size(ranges);
        lv.v = xrealloc(lv.v, (cap + 1) * sizeof(*lv.v));
        for (j = 0; rc == 0 && j < json_array_size(ranges); j++) {
            const json_t *r = json_array_get(ranges, j);
            int64_t t = 0;

            snprintf(c->sub, sizeof(c->sub), "sleepLevelsMap.%.16s[%zu].", k,
                     j);
            rc = json_is_object(r) ? need_time(c, r, "startTimeInSeconds", &t)
                                   : bad(c, "", "not an object");
            lv.v[lv.n].t = t;
            lv.v[lv.n].v = sleep_level(k);
            lv.n++;
        }
        c->sub[0] = '\0';
        if (rc < 0) {
            break;
        }
    }
    if (rc == 0 && lv.n > 0) {
        qsort(lv.v, lv.n, sizeof(*lv.v), point_cmp);
        put_list(o, "sleep_durations_data.hypnogram_samples",
                 series_json(&lv, off, "level", 0));
    }
    series_release(&lv);
    return rc;
}

/* The breaths and SpO2 of the night. */
static int
sleep_respiration(struct ctx *c, const json_t *s, int64_t t, int off, json_t *o)
{
    struct series br = {0};
    struct series ox = {0};
    struct stats st;
    int rc = read_map(c, s, "timeOffsetSleepRespiration", t, &br);

    if (rc >= 0) {
        rc = read_map(c, s, "timeOffsetSleepSpo2", t, &ox);
    }
    drop_below(&br, POSITIVE);
    drop_below(&ox, POSITIVE);
    if (rc >= 0 && series_stats(&br, &st)) {
        json_t *b = json_object();

        json_object_set_new(b, "samples",
                            series_json(&br, off, "breaths_per_min", 0));
        json_object_set_new(b, "avg_breaths_per_min", num(st.mean));
        json_object_set_new(b, "min_breaths_per_min", num(st.min));
        json_object_set_new(b, "max_breaths_per_min", num(st.max));
        json_object_set_new(b, "start_time", iso(br.v[0].t, off));
        json_object_set_new(b, "end_time", iso(br.v[br.n - 1].t, off));
        put(o, "respiration_data.breaths_data", b);
    }
    if (rc >= 0 && series_stats(&ox, &st)) {
        json_t *x = json_object();

        json_object_set_new(x, "samples",
                            series_json(&ox, off, "percentage", 1));
        json_object_set_new(x, "avg_saturation_percentage", num(st.mean));
        json_object_set_new(x, "start_time", iso(ox.v[0].t, off));
        json_object_set_new(x, "end_time", iso(ox.v[ox.n - 1].t, off));
        put(o, "respiration_data.oxygen_saturation_data", x);
    }
    series_release(&br);
    series_release(&ox);
    return rc < 0 ? rc : 0;
}

static const struct field sleep_fields[] = {
    {"deepSleepDurationInSeconds",
     "sleep_durations_data.asleep.duration_deep_sleep_state_seconds", 1, 0},
    {"lightSleepDurationInSeconds",
     "sleep_durations_data.asleep.duration_light_sleep_state_seconds", 1, 0},
    {"remSleepInSeconds",
     "sleep_durations_data.asleep.duration_REM_sleep_state_seconds", 1, 0},
    {"awakeDurationInSeconds",
     "sleep_durations_data.awake.duration_awake_state_seconds", 1, 0},
    {"unmeasurableSleepInSeconds",
     "sleep_durations_data.other.duration_unmeasurable_sleep_seconds", 1, 0},
    {"unmeasurableSleepDurationInSeconds",
     "sleep_durations_data.other.duration_unmeasurable_sleep_seconds", 1, 0},
    {"averageHeartRate", "heart_rate_data.summary.avg_hr_bpm", 1, F_NONNEG},
    {"avgOxygenSaturation",
     "respiration_data.oxygen_saturation_data.avg_saturation_percentage", 1,
     F_NONNEG},
    {NULL, NULL, 0, 0},
};

/* The stages that make up a night's window when Garmin leaves out its
 * durationInSeconds. */
static const char *const sleep_stages[] = {
    "deepSleepDurationInSeconds", "lightSleepDurationInSeconds",
    "remSleepInSeconds", "awakeDurationInSeconds", NULL};

/* The time asleep (deep + light + REM) and the efficiency it makes of
 * the time in bed `dur`. */
static int
sleep_asleep(const struct ctx *c, const json_t *s, int64_t dur, json_t *o)
{
    static const char *const stages[] = {
        "deepSleepDurationInSeconds",
        "lightSleepDurationInSeconds",
        "remSleepInSeconds",
    };
    double asleep = 0;
    int any = 0;
    size_t i = 0;

    for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        double v = 0;
        int rc = get_num(c, s, stages[i], &v);

        if (rc < 0) {
            return rc;
        }
        if (rc == 1 && v >= 0) {
            asleep += v;
            any = 1;
        }
    }
    if (!any) {
        return 0;
    }
    put(o, "sleep_durations_data.asleep.duration_asleep_state_seconds",
        num(asleep));
    if (dur > 0 && asleep > 0) {
        put(o, "sleep_durations_data.sleep_efficiency",
            num(asleep * 100.0 / (double)dur));
    }
    return 0;
}

/* overallSleepScore.value as scores.sleep_score. */
static int
sleep_score(const struct ctx *c, const json_t *s, json_t *o)
{
    const json_t *sc = json_object_get(s, "overallSleepScore");
    double v = 0;
    int rc = 0;

    if (sc == NULL || json_is_null(sc)) {
        return 0;
    }
    if (!json_is_object(sc)) {
        return bad(c, "overallSleepScore", "not an object");
    }
    rc = get_num(c, sc, "value", &v);
    if (rc == 1) {
        put(o, "scores.sleep_score", num(v));
    }
    return rc < 0 ? bad(c, "overallSleepScore.value", "not a number") : 0;
}

/* The session part of a sleep's metadata. */
static json_t *
sleep_object(const char *key, int64_t start, int64_t end, int off, int upload,
             int nap)
{
    json_t *o = json_object();

    put(o, "metadata.start_time", iso(start, off));
    put(o, "metadata.end_time", iso(end, off));
    put(o, "metadata.upload_type", json_integer(upload));
    put(o, "metadata.is_nap", json_boolean(nap));
    put(o, "metadata.summary_id", json_string(key));
    return o;
}

/* The naps of a sleep summary, each its own sleep (key
 * "<summaryId>:nap:<start>"). */
static int
sleep_naps(struct ctx *c, const json_t *s, const char *id, int off,
           struct adapter_records *out)
{
    const json_t *naps = json_object_get(s, "naps");
    size_t j = 0;
    int rc = 0;

    if (naps == NULL || json_is_null(naps)) {
        return 0;
    }
    if (!json_is_array(naps)) {
        return bad(c, "naps", "not an array");
    }
    for (j = 0; rc == 0 && j < json_array_size(naps); j++) {
        const json_t *n = json_array_get(naps, j);
        const char *val = NULL;
        char key[ID_MAX + 40];
        int64_t t = 0;
        int64_t dur = 0;
        int noff = off;
        int has_off = 0;
        int has_val = 0;
        json_t *o = NULL;

        snprintf(c->sub, sizeof(c->sub), "naps[%zu].", j);
        rc = json_is_object(n) ? need_time(c, n, "napStartTimeInSeconds", &t)
                               : bad(c, "", "not an object");
        if (rc == 0) {
            rc = opt_secs(c, n, "napDurationInSeconds", SPAN_MAX_S, &dur);
        }
        if (rc == 0) {
            has_off = json_object_get(n, "napOffsetInSeconds") != NULL;
            rc = has_off ? get_offset(c, n, "napOffsetInSeconds", &noff) : 0;
        }
        if (rc == 0) {
            rc = opt_str(c, n, "napValidation", &val, &has_val);
        }
        if (rc < 0 || dur == 0) {
            continue;
        }
        snprintf(key, sizeof(key), "%s:nap:%lld", id, (long long)t);
        o = sleep_object(key, t, t + dur, noff,
                         has_val && strcmp(val, "MANUAL") == 0 ? 1 : 2, 1);
        put(o, "sleep_durations_data.asleep.duration_asleep_state_seconds",
            num((double)dur));
        put(o, "sleep_durations_data.other.duration_in_bed_seconds",
            num((double)dur));
        rc = emit(c, out, DT_SLEEP, key, o, t, t + dur, NULL, PUT_REPLACE);
    }
    c->sub[0] = '\0';
    return rc;
}

/*
 * A night. Its end is the start plus durationInSeconds, which Garmin's
 * examples show is the whole window (the stages and awake add up to
 * it), so it is also the time in bed.
 */
static int
norm_sleep(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    const char *id = NULL;
    const char *val = NULL;
    json_t *o = NULL;
    int64_t t = 0;
    int64_t dur = 0;
    size_t i = 0;
    int off = 0;
    int set = 0;
    int has_val = 0;
    int rc = need_id(c, s, "summaryId", &id);

    if (rc == 0) {
        rc = need_time(c, s, "startTimeInSeconds", &t);
    }
    if (rc == 0) {
        rc = get_offset(c, s, "startTimeOffsetInSeconds", &off);
    }
    if (rc == 0) {
        rc = opt_secs(c, s, "durationInSeconds", SPAN_MAX_S, &dur);
    }
    for (i = 0; rc == 0 && json_object_get(s, "durationInSeconds") == NULL &&
                sleep_stages[i] != NULL;
         i++) {
        int64_t part = 0;

        /* no window given: the stages and the time awake make it */
        rc = opt_secs(c, s, sleep_stages[i], SPAN_MAX_S, &part);
        dur += part;
    }
    if (rc == 0 && dur > SPAN_MAX_S) {
        rc = bad(c, "durationInSeconds", "missing, and the stages too long");
    }
    if (rc == 0) {
        rc = opt_str(c, s, "validation", &val, &has_val);
    }
    if (rc < 0) {
        return rc;
    }
    o = sleep_object(id, t, t + dur, off, sleep_upload_type(val), 0);
    rc = copy_fields(c, s, o, sleep_fields, &set);
    if (rc == 0 && dur > 0) {
        put(o, "sleep_durations_data.other.duration_in_bed_seconds",
            num((double)dur));
    }
    if (rc == 0) {
        rc = sleep_asleep(c, s, dur, o);
    }
    if (rc == 0) {
        rc = sleep_hypnogram(c, s, off, o);
    }
    if (rc == 0) {
        rc = sleep_respiration(c, s, t, off, o);
    }
    if (rc == 0) {
        rc = sleep_score(c, s, o);
    }
    if (rc < 0 || dur == 0) {
        /* an empty window is no sleep, but its naps may be */
        json_decref(o);
        return rc < 0 ? rc : sleep_naps(c, s, id, off, out);
    }
    rc = emit(c, out, DT_SLEEP, id, o, t, t + dur, NULL, PUT_REPLACE);
    return rc < 0 ? rc : sleep_naps(c, s, id, off, out);
}

/* ------------------------------------------------------------------ */
/* Body: bodyComps, userMetrics, bloodPressures                         */
/* ------------------------------------------------------------------ */

static const struct field body_comp_fields[] = {
    {"weightInGrams", "weight_kg", 1000, F_NONNEG},
    {"bodyFatInPercent", "bodyfat_percentage", 1, F_NONNEG},
    {"bodyMassIndex", "BMI", 1, F_NONNEG},
    {"boneMassInGrams", "bone_mass_g", 1, F_NONNEG},
    {"muscleMassInGrams", "muscle_mass_g", 1, F_NONNEG},
    {"bodyWaterInPercent", "water_percentage", 1, F_NONNEG},
    {NULL, NULL, 0, 0},
};

/* The time, offset and day of a measurement. */
static int
measured_at(struct ctx *c, const json_t *s, int64_t *t, int *off, struct day *d)
{
    int rc = need_time(c, s, "measurementTimeInSeconds", t);

    if (rc == 0) {
        rc = get_offset(c, s, "measurementTimeOffsetInSeconds", off);
    }
    if (rc == 0) {
        rc = day_of(c, s, *t, *off, d);
    }
    return rc;
}

/* A body object of the day `d` holding the one measurement `m`
 * (taken). */
static json_t *
body_measurement(const struct day *d, json_t *m)
{
    json_t *o = day_object(d, DT_BODY);
    json_t *list = json_array();

    json_array_append_new(list, m);
    put(o, "measurements_data.measurements", list);
    return o;
}

/* A weighing (a scale's, or a weight entered by hand). */
static int
norm_body_comp(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct day d;
    json_t *m = NULL;
    int64_t t = 0;
    int off = 0;
    int set = 0;
    int rc = measured_at(c, s, &t, &off, &d);

    if (rc < 0) {
        return rc;
    }
    m = json_object();
    json_object_set_new(m, "measurement_time", iso(t, off));
    rc = copy_fields(c, s, m, body_comp_fields, &set);
    if (rc < 0 || set == 0) {
        json_decref(m);
        return rc;
    }
    return emit_day(c, out, DT_BODY, &d, body_measurement(&d, m), set,
                    PUT_MERGE);
}

/* User metrics: VO2max and fitness age, dated but not timed (the day is
 * written at +00:00: Garmin gives no offset). */
static int
norm_user_metrics(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct day d;
    json_t *o = NULL;
    double vo2 = 0;
    double age = 0;
    int has_vo2 = 0;
    int has_age = 0;
    int rc = 0;

    if (json_object_get(s, "calendarDate") == NULL) {
        return bad(c, "calendarDate", "missing");
    }
    rc = day_of(c, s, 0, 0, &d);
    if (rc == 0) {
        rc = opt_num(c, s, "vo2Max", &vo2, &has_vo2);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "fitnessAge", &age, &has_age);
    }
    if (rc < 0) {
        return rc;
    }
    has_vo2 = has_vo2 && vo2 > 0;
    has_age = has_age && age > 0 && age < 1000;
    if (has_age) {
        char text[8];
        json_t *m = json_object();

        snprintf(text, sizeof(text), "%d", (int)lround(age));
        json_object_set_new(m, "measurement_time", iso(d.start, 0));
        json_object_set_new(m, "estimated_fitness_age", json_string(text));
        o = body_measurement(&d, m);
    } else {
        o = day_object(&d, DT_BODY);
    }
    if (has_vo2) {
        put(o, "oxygen_data.vo2max_ml_per_min_per_kg", num(vo2));
    }
    return emit_day(c, out, DT_BODY, &d, o, has_vo2 + has_age, PUT_MERGE);
}

/* A blood pressure reading, with its pulse as a heart rate sample. */
static int
norm_blood_pressure(struct ctx *c, const json_t *s, struct adapter_records *out)
{
    struct day d;
    json_t *o = NULL;
    json_t *bp = NULL;
    double sys = 0;
    double dia = 0;
    double pulse = 0;
    int64_t t = 0;
    int off = 0;
    int has_sys = 0;
    int has_dia = 0;
    int has_pulse = 0;
    int rc = measured_at(c, s, &t, &off, &d);

    if (rc == 0) {
        rc = opt_num(c, s, "systolic", &sys, &has_sys);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "diastolic", &dia, &has_dia);
    }
    if (rc == 0) {
        rc = opt_num(c, s, "pulse", &pulse, &has_pulse);
    }
    if (rc < 0 || !has_sys || !has_dia) {
        return rc;
    }
    o = day_object(&d, DT_BODY);
    bp = json_array();
    json_array_append_new(bp, json_pack("{s:o, s:o, s:o}", "timestamp",
                                        iso(t, off), "systolic_bp", num(sys),
                                        "diastolic_bp", num(dia)));
    put(o, "blood_pressure_data.blood_pressure_samples", bp);
    if (has_pulse && pulse > 0) {
        json_t *hr = json_array();

        add_sample(hr, t, off, "bpm", num(pulse), -1);
        put(o, "heart_data.heart_rate_data.detailed.hr_samples", hr);
    }
    return emit_day(c, out, DT_BODY, &d, o, 1, PUT_MERGE);
}

/* ------------------------------------------------------------------ */
/* Activity                                                             */
/* ------------------------------------------------------------------ */

/* Garmin's activity types (Activity API, Appendix A; a "_V2" suffix
 * dropped) and Terra's ActivityType codes. */
static const struct {
    const char *name;
    int code;
} activity_types[] = {
    {"RUNNING", 8},
    {"INDOOR_RUNNING", 133},
    {"OBSTACLE_RUN", 8},
    {"STREET_RUNNING", 8},
    {"TRACK_RUNNING", 8},
    {"TRAIL_RUNNING", 8},
    {"TREADMILL_RUNNING", 58},
    {"ULTRA_RUN", 8},
    {"VIRTUAL_RUN", 58},
    {"CYCLING", 1},
    {"BMX", 1},
    {"CYCLOCROSS", 1},
    {"DOWNHILL_BIKING", 15},
    {"E_BIKE_FITNESS", 1},
    {"E_BIKE_MOUNTAIN", 15},
    {"E_ENDURO_MTB", 15},
    {"ENDURO_MTB", 15},
    {"GRAVEL_CYCLING", 1},
    {"INDOOR_CYCLING", 18},
    {"MOUNTAIN_BIKING", 15},
    {"RECUMBENT_CYCLING", 1},
    {"ROAD_BIKING", 16},
    {"TRACK_CYCLING", 1},
    {"VIRTUAL_RIDE", 18},
    {"HANDCYCLING", 14},
    {"INDOOR_HANDCYCLING", 14},
    {"FITNESS_EQUIPMENT", 108},
    {"BOULDERING", 52},
    {"ELLIPTICAL", 25},
    {"INDOOR_CARDIO", 123},
    {"HIIT", 114},
    {"INDOOR_CLIMBING", 52},
    {"INDOOR_ROWING", 54},
    {"MOBILITY", 125},
    {"PILATES", 49},
    {"STAIR_CLIMBING", 78},
    {"STRENGTH_TRAINING", 80},
    {"YOGA", 100},
    {"MEDITATION", 45},
    {"SWIMMING", 82},
    {"LAP_SWIMMING", 83},
    {"OPEN_WATER_SWIMMING", 84},
    {"WALKING", 7},
    {"CASUAL_WALKING", 7},
    {"SPEED_WALKING", 93},
    {"HIKING", 35},
    {"RUCKING", 7},
    {"WINTER_SPORTS", 108},
    {"BACKCOUNTRY_SNOWBOARDING", 73},
    {"BACKCOUNTRY_SKIING", 66},
    {"CROSS_COUNTRY_SKIING_WS", 67},
    {"RESORT_SKIING", 68},
    {"SNOWBOARDING_WS", 73},
    {"RESORT_SKIING_SNOWBOARDING_WS", 68},
    {"SKATE_SKIING_WS", 67},
    {"SKATING_WS", 104},
    {"SNOW_SHOE_WS", 75},
    {"SNOWMOBILING_WS", 74},
    {"WATER_SPORTS", 108},
    {"BOATING", 146},
    {"FISHING", 131},
    {"KAYAKING", 40},
    {"KITEBOARDING", 43},
    {"OFFSHORE_GRINDING", 59},
    {"ONSHORE_GRINDING", 59},
    {"PADDLING", 129},
    {"ROWING", 53},
    {"SAILING", 59},
    {"SNORKELING", 108},
    {"STAND_UP_PADDLEBOARDING", 79},
    {"SURFING", 81},
    {"WAKEBOARDING", 92},
    {"WATERSKIING", 132},
    {"WHITEWATER_RAFTING", 129},
    {"WINDSURFING", 99},
    {"TRANSITION", 108},
    {"BIKE_TO_RUN_TRANSITION", 108},
    {"RUN_TO_BIKE_TRANSITION", 108},
    {"SWIM_TO_BIKE_TRANSITION", 108},
    {"TEAM_SPORTS", 86},
    {"AMERICAN_FOOTBALL", 27},
    {"BASEBALL", 11},
    {"BASKETBALL", 12},
    {"CRICKET", 23},
    {"FIELD_HOCKEY", 36},
    {"ICE_HOCKEY", 36},
    {"LACROSSE", 124},
    {"RUGBY", 55},
    {"SOCCER", 29},
    {"SOFTBALL", 120},
    {"ULTIMATE_DISC", 30},
    {"VOLLEYBALL", 89},
    {"RACKET_SPORTS", 108},
    {"BADMINTON", 10},
    {"PADDELBALL", 134},
    {"PICKLEBALL", 108},
    {"PLATFORM_TENNIS", 87},
    {"RACQUETBALL", 51},
    {"SQUASH", 76},
    {"TABLE_TENNIS", 85},
    {"TENNIS", 87},
    {"OTHER", 108},
    {"BOXING", 20},
    {"BREATHWORK", 122},
    {"DANCE", 24},
    {"DISC_GOLF", 30},
    {"FLOOR_CLIMBING", 77},
    {"GOLF", 32},
    {"INLINE_SKATING", 127},
    {"JUMP_ROPE", 39},
    {"MIXED_MARTIAL_ARTS", 46},
    {"MOUNTAINEERING", 130},
    {"ROCK_CLIMBING", 52},
    {"STOP_WATCH", 108},
    {"PARA_SPORTS", 108},
    {"WHEELCHAIR_PUSH_RUN", 98},
    {"WHEELCHAIR_PUSH_WALK", 98},
    {"MULTI_SPORT", 108},
};

/* Terra's ActivityType of Garmin's activityType; UNKNOWN for a name
 * this table does not know. */
static int
activity_type(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    size_t i = 0;

    if (n > 3 && strcmp(name + n - 3, "_V2") == 0) {
        n -= 3;
    }
    for (i = 0; i < sizeof(activity_types) / sizeof(activity_types[0]); i++) {
        if (strlen(activity_types[i].name) == n &&
            strncmp(activity_types[i].name, name, n) == 0) {
            return activity_types[i].code;
        }
    }
    return ACT_UNKNOWN;
}

static const struct field activity_fields[] = {
    {"distanceInMeters", "distance_data.summary.distance_meters", 1, 0},
    {"steps", "distance_data.summary.steps", 1, 0},
    {"totalElevationGainInMeters",
     "distance_data.summary.elevation.gain_actual_meters", 1, 0},
    {"totalElevationLossInMeters",
     "distance_data.summary.elevation.loss_actual_meters", 1, 0},
    {"numberOfActiveLengths", "distance_data.summary.swimming.num_laps", 1, 0},
    /* active: burned beyond the basal rate */
    {"activeKilocalories", "calories_data.net_activity_calories", 1, 0},
    {"averageHeartRateInBeatsPerMinute", "heart_rate_data.summary.avg_hr_bpm",
     1, 0},
    {"maxHeartRateInBeatsPerMinute", "heart_rate_data.summary.max_hr_bpm", 1,
     0},
    {"averageSpeedInMetersPerSecond",
     "movement_data.avg_speed_meters_per_second", 1, 0},
    {"maxSpeedInMetersPerSecond", "movement_data.max_speed_meters_per_second",
     1, 0},
    {NULL, NULL, 0, 0},
};

static const char *const avg_cadence[] = {
    "averageRunCadenceInStepsPerMinute",
    "averageBikeCadenceInRoundsPerMinute",
    "averageSwimCadenceInStrokesPerMinute",
    "averagePushCadenceInPushesPerMinute",
    NULL,
};

static const char *const max_cadence[] = {
    "maxRunCadenceInStepsPerMinute",
    "maxBikeCadenceInRoundsPerMinute",
    "maxPushCadenceInPushesPerMinute",
    NULL,
};

/*
 * Cadences, and paces from the speeds: the pace fields of Garmin's own
 * examples disagree with their speeds, so minutes per kilometer are
 * 1000 / 60 / speed.
 */
static int
activity_movement(const struct ctx *c, const json_t *s, json_t *o, int *set)
{
    double v = 0;
    int rc = get_first(c, s, avg_cadence, &v);

    if (rc == 1) {
        put(o, "movement_data.avg_cadence_rpm", num(v));
        (*set)++;
    }
    if (rc >= 0) {
        rc = get_first(c, s, max_cadence, &v);
    }
    if (rc == 1) {
        put(o, "movement_data.max_cadence_rpm", num(v));
    }
    if (rc >= 0) {
        rc = get_num(c, s, "averageSpeedInMetersPerSecond", &v);
    }
    if (rc == 1 && v > 0) {
        put(o, "movement_data.avg_pace_minutes_per_kilometer",
            num(1000.0 / 60.0 / v));
    }
    if (rc >= 0) {
        rc = get_num(c, s, "maxSpeedInMetersPerSecond", &v);
    }
    if (rc == 1 && v > 0) {
        put(o, "movement_data.max_pace_minutes_per_kilometer",
            num(1000.0 / 60.0 / v));
    }
    return rc < 0 ? rc : 0;
}

/* The sample series of an activity detail, in the order of
 * sample_fields[]. */
enum { S_HR, S_SPEED, S_CADENCE, S_POWER, S_DIST, S_ELEV, S_COUNT };

static const char *const k_hr[] = {"heartRate", NULL};
static const char *const k_speed[] = {"speedMetersPerSecond", NULL};
static const char *const k_cadence[] = {
    "stepsPerMinute",
    "bikeCadenceInRPM",
    "swimCadenceInStrokesPerMinute",
    "directWheelchairCadence",
    NULL,
};
static const char *const k_power[] = {"powerInWatts", NULL};
static const char *const k_dist[] = {"totalDistanceInMeters", NULL};
static const char *const k_elev[] = {"elevationInMeters", NULL};

/* A value of a sample: the Garmin keys (the first present counts), the
 * Terra array and the name of the value in it. */
static const struct {
    const char *const *keys;
    const char *path;
    const char *name;
} sample_fields[S_COUNT] = {
    {k_hr, "heart_rate_data.detailed.hr_samples", "bpm"},
    {k_speed, "movement_data.speed_samples", "speed_meters_per_second"},
    {k_cadence, "movement_data.cadence_samples", "cadence_rpm"},
    {k_power, "power_data.power_samples", "watts"},
    {k_dist, "distance_data.detailed.distance_samples", "distance_meters"},
    {k_elev, "distance_data.detailed.elevation_samples", "elev_meters"},
};

/* The sample arrays of an activity, and what they add up to. */
struct act_samples {
    json_t *list[S_COUNT];
    struct stats st[S_COUNT];
    size_t n[S_COUNT];
    json_t *pos;
    double last_lat;
    double last_lng;
    int has_last;
};

static void
stats_add(struct stats *st, size_t *n, double v)
{
    if (*n == 0) {
        st->min = st->max = st->mean = v;
    } else {
        st->min = v < st->min ? v : st->min;
        st->max = v > st->max ? v : st->max;
        st->mean += (v - st->mean) / (double)(*n + 1);
    }
    (*n)++;
}

/* A coordinate of `s` in [-lim, lim], as opt_num(). */
static int
opt_coord(const struct ctx *c, const json_t *s, const char *k, double lim,
          double *v, int *has)
{
    int rc = opt_num(c, s, k, v, has);

    if (rc == 0 && *has && (*v < -lim || *v > lim)) {
        return bad(c, k, "not a coordinate");
    }
    return rc;
}

/* One sample of an activity into `a`. */
static int
activity_sample(const struct ctx *c, const json_t *s, int off,
                struct act_samples *a)
{
    double timer = -1;
    double lat = 0;
    double lng = 0;
    int64_t t = 0;
    int has_timer = 0;
    int has_lat = 0;
    int has_lng = 0;
    int i = 0;
    int rc = need_time(c, s, "startTimeInSeconds", &t);

    if (rc == 0) {
        rc = opt_num(c, s, "timerDurationInSeconds", &timer, &has_timer);
        timer = has_timer && timer >= 0 ? timer : -1;
    }
    for (i = 0; rc == 0 && i < S_COUNT; i++) {
        double v = 0;

        rc = get_first(c, s, sample_fields[i].keys, &v);
        if (rc == 1) {
            add_sample(a->list[i], t, off, sample_fields[i].name, num(v),
                       timer);
            stats_add(&a->st[i], &a->n[i], v);
            rc = 0;
        }
    }
    if (rc == 0) {
        rc = opt_coord(c, s, "latitudeInDegree", 90, &lat, &has_lat);
    }
    if (rc == 0) {
        rc = opt_coord(c, s, "longitudeInDegree", 180, &lng, &has_lng);
    }
    if (rc < 0) {
        return rc;
    }
    if (has_lat || has_lng) {
        json_t *ll = json_pack("[oo]", has_lat ? num(lat) : json_null(),
                               has_lng ? num(lng) : json_null());

        add_sample(a->pos, t, off, "coords_lat_lng_deg", ll, timer);
    }
    if (has_lat && has_lng) {
        a->last_lat = lat;
        a->last_lng = lng;
        a->has_last = 1;
    }
    return 0;
}

/* Put the sample arrays of `a` (taken) and their sums into `o`. */
static void
activity_sample_put(json_t *o, struct act_samples *a)
{
    json_t *sum = NULL;
    int i = 0;

    for (i = 0; i < S_COUNT; i++) {
        put_list(o, sample_fields[i].path, a->list[i]);
    }
    put_list(o, "position_data.position_samples", a->pos);
    sum = json_object_get(json_object_get(o, "heart_rate_data"), "summary");
    if (a->n[S_HR] > 0) {
        put(o, "heart_rate_data.summary.min_hr_bpm", num(a->st[S_HR].min));
    }
    if (a->n[S_HR] > 0 && json_object_get(sum, "max_hr_bpm") == NULL) {
        put(o, "heart_rate_data.summary.max_hr_bpm", num(a->st[S_HR].max));
    }
    if (a->n[S_POWER] > 0) {
        put(o, "power_data.avg_watts", num(a->st[S_POWER].mean));
        put(o, "power_data.max_watts", num(a->st[S_POWER].max));
    }
    if (a->n[S_ELEV] > 0) {
        const struct stats *el = &a->st[S_ELEV];

        put(o, "distance_data.summary.elevation.min_meters", num(el->min));
        put(o, "distance_data.summary.elevation.max_meters", num(el->max));
        put(o, "distance_data.summary.elevation.avg_meters", num(el->mean));
    }
    if (a->has_last) {
        put(o, "position_data.end_pos_lat_lng_deg",
            json_pack("[oo]", num(a->last_lat), num(a->last_lng)));
    }
}

/* The samples of an activity detail. */
static int
activity_samples(struct ctx *c, const json_t *item, int off, json_t *o)
{
    const json_t *list = json_object_get(item, "samples");
    struct act_samples a;
    size_t j = 0;
    int i = 0;
    int rc = 0;

    if (list == NULL || json_is_null(list)) {
        return 0;
    }
    if (!json_is_array(list)) {
        return bad(c, "samples", "not an array");
    }
    memset(&a, 0, sizeof(a));
    for (i = 0; i < S_COUNT; i++) {
        a.list[i] = json_array();
    }
    a.pos = json_array();
    for (j = 0; rc == 0 && j < json_array_size(list); j++) {
        const json_t *s = json_array_get(list, j);

        snprintf(c->sub, sizeof(c->sub), "samples[%zu].", j);
        rc = json_is_object(s) ? activity_sample(c, s, off, &a)
                               : bad(c, "", "not an object");
    }
    c->sub[0] = '\0';
    activity_sample_put(o, &a);
    return rc;
}

/* The laps of an activity detail: each ends where the next begins, the
 * last where the activity ends. */
static int
activity_laps(struct ctx *c, const json_t *item, int off, int64_t end,
              json_t *o)
{
    const json_t *list = json_object_get(item, "laps");
    struct series st = {0};
    json_t *laps = NULL;
    size_t j = 0;
    int rc = 0;

    if (list == NULL || json_is_null(list)) {
        return 0;
    }
    if (!json_is_array(list)) {
        return bad(c, "laps", "not an array");
    }
    st.v = xcalloc(json_array_size(list) + 1, sizeof(*st.v));
    for (j = 0; rc == 0 && j < json_array_size(list); j++) {
        const json_t *l = json_array_get(list, j);

        snprintf(c->sub, sizeof(c->sub), "laps[%zu].", j);
        rc = json_is_object(l)
                 ? need_time(c, l, "startTimeInSeconds", &st.v[st.n++].t)
                 : bad(c, "", "not an object");
    }
    c->sub[0] = '\0';
    qsort(st.v, st.n, sizeof(*st.v), point_cmp);
    laps = json_array();
    for (j = 0; rc == 0 && j < st.n; j++) {
        int64_t to = j + 1 < st.n ? st.v[j + 1].t : end;

        json_array_append_new(
            laps,
            json_pack("{s:o, s:o}", "start_time", iso(st.v[j].t, off),
                      "end_time", iso(to > st.v[j].t ? to : st.v[j].t, off)));
    }
    put_list(o, "lap_data.laps", laps);
    series_release(&st);
    return rc;
}

/*
 * The key of an activity: its activityId, which an activity summary and
 * its details share (their summaryIds are "<id>" and "<id>-detail"),
 * else the summaryId with a "-detail" ending dropped.
 */
static int
activity_key(const struct ctx *c, const json_t *item, const json_t *s,
             char key[ID_MAX + 1])
{
    const json_t *aid = json_object_get(item, "activityId");
    const char *id = NULL;
    size_t n = 0;
    int rc = 0;

    if (aid == NULL || json_is_null(aid)) {
        aid = json_object_get(s, "activityId");
    }
    if (json_is_integer(aid) && json_integer_value(aid) >= 0) {
        snprintf(key, ID_MAX + 1, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(aid));
        return 0;
    }
    if (json_is_string(aid) && json_string_length(aid) > 0 &&
        json_string_length(aid) <= ID_MAX) {
        snprintf(key, ID_MAX + 1, "%s", json_string_value(aid));
        return 0;
    }
    if (aid != NULL && !json_is_null(aid)) {
        return bad(c, "activityId", "not an id");
    }
    rc = need_id(c, item, "summaryId", &id);
    if (rc < 0) {
        return rc;
    }
    n = strlen(id);
    if (n > 7 && strcmp(id + n - 7, "-detail") == 0) {
        n -= 7;
    }
    snprintf(key, ID_MAX + 1, "%.*s", (int)n, id);
    return 0;
}

/* Terra's UploadType of an activity. */
static int
activity_upload_type(const struct ctx *c, const json_t *s, int *code)
{
    int manual = 0;
    int rc = get_bool(c, s, "manual", &manual);

    if (rc < 0) {
        return rc;
    }
    if (manual) {
        *code = 2; /* Manual: entered on Garmin Connect */
    } else if (strcmp(c->kind, "manuallyUpdatedActivities") == 0) {
        *code = 3; /* Update: a device activity edited by hand */
    } else {
        *code = 1;
    }
    return 0;
}

/* The metadata and device of an activity. */
static int
activity_head(const struct ctx *c, const json_t *s, const char *key, int64_t t,
              int64_t dur, int off, json_t *o)
{
    const char *type = NULL;
    const char *name = NULL;
    const char *device = NULL;
    int upload = 0;
    int rc = get_str(c, s, "activityType", &type);

    rc = rc < 0 ? rc : get_str(c, s, "activityName", &name);
    rc = rc < 0 ? rc : get_str(c, s, "deviceName", &device);
    rc = rc < 0 ? rc : activity_upload_type(c, s, &upload);
    if (rc < 0) {
        return rc;
    }
    put(o, "metadata.summary_id", json_string(key));
    put(o, "metadata.start_time", iso(t, off));
    put(o, "metadata.end_time", iso(t + dur, off));
    put(o, "metadata.type", json_integer(activity_type(type)));
    put(o, "metadata.upload_type", json_integer(upload));
    if (name != NULL && name[0] != '\0') {
        put(o, "metadata.name", json_string(name));
    }
    if (device != NULL && device[0] != '\0' &&
        strcasecmp(device, "unknown") != 0) {
        put(o, "device_data.name", json_string(device));
        put(o, "device_data.manufacturer", json_string("Garmin"));
    }
    return 0;
}

/* The start position of an activity. */
static int
activity_start_pos(const struct ctx *c, const json_t *s, json_t *o)
{
    double lat = 0;
    double lng = 0;
    int has_lat = 0;
    int has_lng = 0;
    int rc = opt_coord(c, s, "startingLatitudeInDegree", 90, &lat, &has_lat);

    if (rc == 0) {
        rc = opt_coord(c, s, "startingLongitudeInDegree", 180, &lng, &has_lng);
    }
    if (rc == 0 && has_lat && has_lng) {
        put(o, "position_data.start_pos_lat_lng_deg",
            json_pack("[oo]", num(lat), num(lng)));
    }
    return rc;
}

/* An activity summary, an activity detail (the summary nested under
 * "summary", with samples and laps) or a manually updated activity. */
static int
norm_activity(struct ctx *c, const json_t *item, struct adapter_records *out)
{
    const json_t *s = json_object_get(item, "summary");
    char key[ID_MAX + 1];
    json_t *o = NULL;
    int64_t t = 0;
    int64_t dur = 0;
    int off = 0;
    int set = 0;
    int rc = 0;

    if (s == NULL || json_is_null(s)) {
        s = item;
    } else if (!json_is_object(s)) {
        return bad(c, "summary", "not an object");
    }
    rc = activity_key(c, item, s, key);
    rc = rc < 0 ? rc : need_time(c, s, "startTimeInSeconds", &t);
    rc = rc < 0 ? rc : get_offset(c, s, "startTimeOffsetInSeconds", &off);
    if (rc == 0 &&
        get_secs(c, s, "durationInSeconds", 0, SPAN_MAX_S, &dur) < 0) {
        rc = ERR_INVALID;
    }
    if (rc < 0) {
        return rc;
    }
    o = json_object();
    rc = activity_head(c, s, key, t, dur, off, o);
    rc = rc < 0 ? rc : copy_fields(c, s, o, activity_fields, &set);
    rc = rc < 0 ? rc : activity_movement(c, s, o, &set);
    rc = rc < 0 ? rc : activity_start_pos(c, s, o);
    rc = rc < 0 ? rc : activity_samples(c, item, off, o);
    rc = rc < 0 ? rc : activity_laps(c, item, off, t + dur, o);
    if (rc < 0 || (dur == 0 && set == 0)) {
        json_decref(o);
        return rc;
    }
    return emit(c, out, DT_ACTIVITY, key, o, t, t + dur, NULL, PUT_REPLACE);
}

/* ------------------------------------------------------------------ */
/* The summary types                                                    */
/* ------------------------------------------------------------------ */

static const struct summary summaries[] = {
    {"dailies", "dailies", DT_DAILY, norm_daily, NULL},
    {"epochs", "epochs", DT_DAILY, NULL, norm_epochs},
    {"stressDetails", "stressDetails", DT_DAILY, norm_stress, NULL},
    {"pulseox", "pulseOx", DT_DAILY, norm_pulse_ox, NULL},
    {"hrv", "hrv", DT_DAILY, norm_hrv, NULL},
    {"sleeps", "sleeps", DT_SLEEP, norm_sleep, NULL},
    {"bodyComps", "bodyComps", DT_BODY, norm_body_comp, NULL},
    {"userMetrics", "userMetrics", DT_BODY, norm_user_metrics, NULL},
    {"bloodPressures", "bloodPressures", DT_BODY, norm_blood_pressure, NULL},
    {"activities", "activities", DT_ACTIVITY, norm_activity, NULL},
    {"activityDetails", "activityDetails", DT_ACTIVITY, norm_activity, NULL},
    {"manuallyUpdatedActivities", NULL, DT_ACTIVITY, norm_activity, NULL},
};

#define NSUMMARIES (sizeof(summaries) / sizeof(summaries[0]))

/* Name and what it is, in the order of summaries[]. */
static const char *const kinds[] = {
    "dailies",
    "Health API daily summaries (a push body or a callback answer) -> daily",
    "epochs",
    "Health API 15-minute epochs -> daily MET, intensity, step and "
    "kcal samples",
    "stressDetails",
    "Health API stress details -> daily stress and Body Battery samples",
    "pulseox",
    "Health API Pulse Ox summaries -> daily SpO2 samples",
    "hrv",
    "Health API overnight HRV summaries -> daily RMSSD",
    "sleeps",
    "Health API sleep summaries -> sleep (naps as their own sleeps)",
    "bodyComps",
    "Health API body composition summaries -> body measurements",
    "userMetrics",
    "Health API user metrics -> body VO2max and fitness age",
    "bloodPressures",
    "Health API blood pressure summaries -> body blood pressure",
    "activities",
    "Activity API activity summaries -> activity",
    "activityDetails",
    "Activity API activity details -> activity with samples and laps",
    "manuallyUpdatedActivities",
    "Activity API activities edited on Garmin Connect -> activity",
    NULL,
};

/* The summary type named `name` (any case), or NULL. */
static const struct summary *
summary_find(const char *name)
{
    size_t i = 0;

    for (i = 0; name != NULL && i < NSUMMARIES; i++) {
        if (strcasecmp(summaries[i].name, name) == 0) {
            return &summaries[i];
        }
    }
    return NULL;
}

/*
 * The summaries in `payload`: the array itself (a callback answer, or
 * a push item's payload), the array under the kind's key (a push body),
 * or one summary object. NULL with ERR_INVALID for anything else.
 */
static const json_t *
payload_list(const struct summary *s, const json_t *payload, json_t **own,
             struct err *e)
{
    const char *k = NULL;
    json_t *v = NULL;

    *own = NULL;
    if (json_is_array(payload)) {
        return payload;
    }
    if (!json_is_object(payload)) {
        err_set(e, ERR_INVALID, "%s: the payload is not an array", s->name);
        return NULL;
    }
    json_object_foreach((json_t *)payload, k, v)
    {
        if (strcasecmp(k, s->name) == 0) {
            if (!json_is_array(v)) {
                err_set(e, ERR_INVALID, "%s: not an array", k);
                return NULL;
            }
            return v;
        }
    }
    if (json_object_get(payload, "summaryId") == NULL &&
        json_object_get(payload, "startTimeInSeconds") == NULL) {
        err_set(e, ERR_INVALID, "%s: the payload has no %s array", s->name,
                s->name);
        return NULL;
    }
    *own = json_array();
    json_array_append(*own, (json_t *)payload);
    return *own;
}

static int
garmin_normalize(const char *kind, const json_t *payload,
                 struct adapter_records *out, struct err *e)
{
    const struct summary *s = summary_find(kind);
    const json_t *list = NULL;
    json_t *made[DT_COUNT];
    json_t *own = NULL;
    struct ctx c;
    size_t i = 0;
    int rc = 0;

    if (s == NULL) {
        return err_set(e, ERR_INVALID, "%s: not a GARMIN kind",
                       kind != NULL ? kind : "(null)");
    }
    list = payload_list(s, payload, &own, e);
    if (list == NULL) {
        return ERR_INVALID;
    }
    memset(made, 0, sizeof(made));
    memset(&c, 0, sizeof(c));
    c.kind = s->name;
    c.first = out->n;
    c.e = e;
    c.made = made;
    if (s->all != NULL) {
        rc = s->all(&c, list, out);
    }
    for (i = 0; s->one != NULL && rc == 0 && i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);

        c.i = i;
        rc = json_is_object(item) ? s->one(&c, item, out)
                                  : bad(&c, "", "not an object");
    }
    if (rc == 0 && s->one == norm_pulse_ox) {
        pulse_ox_means(&c, out);
    }
    for (i = 0; i < DT_COUNT; i++) {
        json_decref(made[i]);
    }
    json_decref(own);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Requests: backfill, deregistration                                   */
/* ------------------------------------------------------------------ */

static int
garmin_plan(const struct adapter_ctx *cx, enum data_type type, int64_t start,
            int64_t end, struct adapter_request **out, size_t *n, struct err *e)
{
    struct adapter_request *v = NULL;
    size_t chunks = 0;
    size_t types = 0;
    size_t k = 0;
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (cx == NULL || cx->api_url == NULL || cx->api_url[0] == '\0') {
        return err_set(e, ERR_CONFIG, "GARMIN: no data API base");
    }
    start = start < 0 ? 0 : start;
    end = end > TIME_MAX_S ? TIME_MAX_S : end;
    for (i = 0; i < NSUMMARIES; i++) {
        types += summaries[i].type == type && summaries[i].backfill != NULL;
    }
    if (end <= start || types == 0) {
        return 0;
    }
    chunks = (size_t)((end - start + CHUNK_S - 1) / CHUNK_S);
    if (chunks > PLAN_MAX / types) {
        return err_set(e, ERR_TOOBIG, "GARMIN: a backfill of %zu chunks",
                       chunks);
    }
    v = xcalloc(chunks * types, sizeof(*v));
    for (i = 0; i < NSUMMARIES; i++) {
        int64_t t = 0;

        if (summaries[i].type != type || summaries[i].backfill == NULL) {
            continue;
        }
        for (t = start; t < end; t += CHUNK_S) {
            struct adapter_request *rq = &v[k++];
            int64_t to = end - t > CHUNK_S ? t + CHUNK_S : end;
            int w = 0;

            snprintf(rq->method, sizeof(rq->method), "GET");
            /* windows meet without overlapping: an overlap is a 409 */
            w = snprintf(rq->url, sizeof(rq->url),
                         "%s/wellness-api/rest/backfill/%s"
                         "?summaryStartTimeInSeconds=%lld"
                         "&summaryEndTimeInSeconds=%lld",
                         cx->api_url, summaries[i].backfill, (long long)t,
                         (long long)(to - 1));
            if (w < 0 || (size_t)w >= sizeof(rq->url)) {
                free(v);
                return err_set(e, ERR_CONFIG,
                               "GARMIN: the API base is "
                               "too long");
            }
            rq->type = type;
            rq->auth = ADAPTER_AUTH_BEARER;
        }
    }
    *out = v;
    *n = k;
    return 0;
}

/* At deauthorization: DELETE the user's registration (Start Guide 3.1;
 * Garmin answers 204 and sends a last deregistration push). */
static int
garmin_lifecycle(enum adapter_phase phase, const struct adapter_ctx *cx,
                 int step, const json_t *last, long last_status,
                 struct adapter_request *next, struct err *e)
{
    int w = 0;

    (void)last;
    (void)last_status;
    if (phase != ADAPTER_USER_DEAUTH || step > 0) {
        return 0;
    }
    if (cx == NULL || cx->api_url == NULL || cx->api_url[0] == '\0') {
        return err_set(e, ERR_CONFIG, "GARMIN: no data API base");
    }
    memset(next, 0, sizeof(*next));
    snprintf(next->method, sizeof(next->method), "DELETE");
    w = snprintf(next->url, sizeof(next->url),
                 "%s/wellness-api/rest/user/registration", cx->api_url);
    if (w < 0 || (size_t)w >= sizeof(next->url)) {
        return err_set(e, ERR_CONFIG, "GARMIN: the API base is too long");
    }
    next->auth = ADAPTER_AUTH_BEARER;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Push                                                                 */
/* ------------------------------------------------------------------ */

/* 1 when the NUL-terminated `a` and `b` are equal, in constant time
 * over their bytes. */
static int
same(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && crypto_ct_eq(a, b, n);
}

/* Garmin's one documented check: garmin-client-id is this app's client
 * id; and the hook's path token when the deployment set one. */
static int
authentic(const struct adapter_push *p, struct err *e)
{
    const char *got = NULL;

    if (p->client_id == NULL || p->client_id[0] == '\0') {
        return err_set(e, ERR_FORBIDDEN,
                       "GARMIN: no client_id to check pushes against");
    }
    if (p->header != NULL) {
        got = p->header(p->header_arg, "garmin-client-id");
    }
    if (got == NULL) {
        return err_set(e, ERR_FORBIDDEN,
                       "GARMIN push without a garmin-client-id header");
    }
    if (!same(got, p->client_id)) {
        return err_set(e, ERR_FORBIDDEN,
                       "GARMIN push from another app's client id");
    }
    if (p->hook_token != NULL && p->hook_token[0] != '\0' &&
        (p->path_token == NULL || !same(p->path_token, p->hook_token))) {
        return err_set(e, ERR_FORBIDDEN, "GARMIN push to a wrong hook path");
    }
    return 0;
}

/* The item of `uid` and `kind` with a payload this push made, made when
 * there is none. `groups` (an object from "<kind> <uid>" to the item's
 * place in `out`) finds it without a scan: a push may name thousands of
 * users. */
static struct adapter_push_item *
push_group(struct adapter_push_items *out, json_t *groups, const char *uid,
           const struct summary *s)
{
    struct adapter_push_item it;
    char name[sizeof(it.kind) + sizeof(it.provider_user_id) + 2];
    const json_t *at = NULL;

    snprintf(name, sizeof(name), "%s %s", s->name, uid);
    at = json_object_get(groups, name);
    if (at != NULL) {
        return &out->v[json_integer_value(at)];
    }
    json_object_set_new(groups, name, json_integer((json_int_t)out->n));
    memset(&it, 0, sizeof(it));
    snprintf(it.provider_user_id, sizeof(it.provider_user_id), "%s", uid);
    snprintf(it.kind, sizeof(it.kind), "%s", s->name);
    it.type = s->type;
    it.payload = json_array();
    adapter_push_items_add(out, &it);
    return &out->v[out->n - 1];
}

/* One element of the list `key` of a push, for user `uid`. */
static int
push_one(const char *key, size_t i, const json_t *el, const char *uid,
         json_t *groups, struct adapter_push_items *out, struct err *e)
{
    const struct summary *s = summary_find(key);
    struct adapter_push_item it;
    const json_t *url = json_object_get(el, "callbackURL");
    const json_t *perms = NULL;

    memset(&it, 0, sizeof(it));
    snprintf(it.provider_user_id, sizeof(it.provider_user_id), "%s", uid);
    if (strcmp(key, "deregistrations") == 0) {
        it.revoked = 1;
        adapter_push_items_add(out, &it);
        return 0;
    }
    if (strcmp(key, "userPermissionsChange") == 0) {
        perms = json_object_get(el, "permissions");
        if (!json_is_array(perms)) {
            return err_set(e, ERR_INVALID, "%s[%zu].permissions: not an array",
                           key, i);
        }
        /* XXX: a narrower grant (HEALTH_EXPORT withdrawn, say) is not
         * told to the developer: no push item says "permissions" */
        if (json_array_size(perms) == 0) {
            it.revoked = 1;
            adapter_push_items_add(out, &it);
        }
        return 0;
    }
    if (url != NULL && !json_is_null(url)) {
        const char *u = json_string_value(url);

        if (u == NULL || strlen(u) >= sizeof(it.url) ||
            (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)) {
            return err_set(e, ERR_INVALID,
                           "%s[%zu].callbackURL: not an http(s) URL", key, i);
        }
        /* XXX: the host is not checked against the data API base,
         * which a push does not carry; the fetch must check it */
        snprintf(it.url, sizeof(it.url), "%s", u);
        snprintf(it.kind, sizeof(it.kind), "%s", s->name);
        it.type = s->type;
        adapter_push_items_add(out, &it);
        return 0;
    }
    json_array_append(push_group(out, groups, uid, s)->payload, (json_t *)el);
    return 0;
}

/*
 * The list `key` of a push.
 *
 * XXX: summary types without a place in Terra's models are let go:
 * allDayRespiration (Terra's daily and body have no breathing rate),
 * healthSnapshot, skinTemp (a deviation from a baseline, tied to a
 * night by time only), moveIQActivities, mct (the Women's Health API's
 * fields are not publicly documented) and activityFiles (FIT, TCX or
 * GPX, ping only).
 */
static int
push_list(const char *key, const json_t *list, json_t *groups,
          struct adapter_push_items *out, size_t *read, struct err *e)
{
    size_t i = 0;
    int rc = 0;

    if (summary_find(key) == NULL && strcmp(key, "deregistrations") != 0 &&
        strcmp(key, "userPermissionsChange") != 0) {
        return 0;
    }
    if (!json_is_array(list)) {
        /* left out as an element is: the other lists may be fine */
        adapter_push_items_skip(out, "%s: not an array", key);
        return 0;
    }
    for (i = 0; i < json_array_size(list); i++) {
        const json_t *el = json_array_get(list, i);
        const char *uid = json_string_value(json_object_get(el, "userId"));

        /* a malformed element is left out, not the whole push: Garmin
         * sends the same push again after any answer but 200, and it
         * may hold other users' summaries */
        if (!json_is_object(el)) {
            adapter_push_items_skip(out, "%s[%zu]: not an object", key, i);
            continue;
        }
        if (uid == NULL || uid[0] == '\0' ||
            strlen(uid) >= sizeof(out->v[0].provider_user_id)) {
            adapter_push_items_skip(out,
                                    "%s[%zu].userId: not a string of 1 to "
                                    "%zu characters",
                                    key, i,
                                    sizeof(out->v[0].provider_user_id) - 1);
            continue;
        }
        rc = push_one(key, i, el, uid, groups, out, e);
        if (rc < 0) {
            adapter_push_items_skip(out, "%s", e->msg);
        } else {
            (*read)++;
        }
    }
    return 0;
}

static int
garmin_push(const struct adapter_push *p, enum push_answer *answer, int *status,
            char *reply, size_t reply_n, struct adapter_push_items *out,
            struct err *e)
{
    const char *key = NULL;
    json_t *root = NULL;
    json_t *list = NULL;
    json_t *groups = NULL;
    size_t skipped = out->skipped;
    size_t read = 0;
    int rc = 0;

    *answer = PUSH_ACCEPT;
    *status = 200; /* Garmin takes anything else for a failed push */
    if (reply_n > 0) {
        reply[0] = '\0';
    }
    rc = authentic(p, e);
    if (rc < 0) {
        return rc;
    }
    if (p->method == NULL || strcmp(p->method, "POST") != 0) {
        return err_set(e, ERR_INVALID, "GARMIN pushes are POSTs");
    }
    root = json_loadb(p->body != NULL ? p->body : "", p->body_len,
                      JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set(e, ERR_INVALID, "GARMIN push: not a JSON object");
    }
    groups = json_object();
    json_object_foreach(root, key, list)
    {
        rc = push_list(key, list, groups, out, &read, e);
        if (rc < 0) {
            break;
        }
    }
    json_decref(groups);
    json_decref(root);
    if (rc == 0 && read == 0 && out->skipped > skipped) {
        /* nothing of it could be read */
        rc = err_set(e, ERR_INVALID, "GARMIN push: %s", out->skip_why);
    }
    return rc;
}

const struct adapter adapter_garmin = {
    .resource = "GARMIN",
    .api_url = "https://apis.garmin.com",
    .caps =
        {
            .types = DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
                     DT_BIT(DT_BODY),
            .push = 1,
            .poll_seconds = 0,
            .backfill_days = 30,
            .chunk_days = 30,
            /* XXX: Garmin counts days of backfill, not requests:
             * 10,000 days a minute for a production key, which 300
             * requests of 30 days keep to; an evaluation key has 100 */
            .requests_per_minute = 300,
            .revokes = 1,
            .merge_days = 1,
        },
    .kinds = kinds,
    .plan = garmin_plan,
    .next_page = NULL,
    .normalize = garmin_normalize,
    .lifecycle = garmin_lifecycle,
    .push = garmin_push,
};
