/*
 * oura.c - the Oura API v2 adapter.
 *
 * Data: the /v2/usercollection/<collection> routes, one normalize kind
 * per collection, named as Oura names the collection ("vO2_max" keeps
 * its capital O). Answers are {"data":[...],"next_token":...} pages;
 * a single document (/v2/usercollection/<collection>/<id>, what a push
 * fetches, and personal_info) is the object itself.
 *
 * Terra's types, and what each is made of:
 *
 *     activity   workout, session (one record per Oura id)
 *     sleep      sleep (one per sleep period: naps too)
 *     daily      daily_activity, daily_readiness, daily_sleep,
 *                daily_stress, enhanced_tag (one per local day)
 *     body       vO2_max, daily_spo2, daily_cardiovascular_age,
 *                heartrate (one per day)
 *     athlete    personal_info, ring_configuration (one, "athlete")
 *
 * A day's daily (or body) object is built from several collections,
 * each fetched and normalised on its own. Each collection gives a part
 * keyed by the same local date, and a part whose key is already in the
 * `out` being filled is merged into that record: objects field by
 * field, sample arrays joined without repeats, the first part's
 * metadata kept. So one fetch of a window gives one object per day.
 *
 * Times keep the offset Oura wrote them with. A day runs from local
 * midnight to the next at the offset of the collection's `timestamp`
 * (daily_activity's says where the user was), +00:00 when the
 * collection has none.
 *
 * Push: Oura's webhook subscriptions. A GET with verification_token
 * and challenge is the handshake; a POST carries x-oura-signature, hex
 * HMAC-SHA256 under the client secret of x-oura-timestamp followed by
 * the raw body, and a notice {event_type, data_type, object_id, user_id}
 * that becomes work for that user: the one object to fetch for a
 * workout, session or sleep, the days around the notice for a part of a
 * day. APP_SETUP keeps one subscription per data type and event type
 * (create, update) pointing at the hook URL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/xmalloc.h"
#include "providers/adapter.h"

#define OURA_API_URL "https://api.ouraring.com"

#define DAY_S 86400LL
#define US    1000000LL

/* One request covers at most this many days: heartrate's limit. */
#define CHUNK_DAYS 30
/* The longest window one plan() accepts (a bound on its requests). */
#define WINDOW_DAYS_MAX 3660
/* The last second ISO dates can name: 9999-12-31T23:59:59Z. */
#define TIME_MAX 253402300799LL

/* Bounds on what one document may hold. */
#define SERIES_MAX   100000 /* items of one sample series */
#define PHASES_MAX   100000 /* characters of a 5-minute or 30-second string */
#define INTERVAL_MAX 86400.0

/* Subscriptions expiring sooner than this are renewed. */
#define RENEW_AHEAD_S (7 * DAY_S)
/*
 * Subscription changes made in one APP_SETUP: each costs a listing and
 * the change itself, and the pipeline runs at most 32 steps a phase.
 * The rest are made at the next run.
 *
 * XXX: so a first setup makes 15 of the 24 subscriptions and the other
 * 9 wait for the next run (a day later, or a restart); either the
 * pipeline allows more steps or this stays.
 */
#define SETUP_ACTIONS_MAX 15

/* ---- the collections ---- */

struct doc;

typedef int (*norm_fn)(struct doc *d, struct adapter_records *out);

enum query {
    Q_DATE,     /* start_date / end_date, YYYY-MM-DD */
    Q_DATETIME, /* start_datetime / end_datetime, RFC 3339 */
    Q_NONE,     /* no window */
};

/* A whole page of a time series (one document per sample). */
typedef int (*rows_fn)(struct doc *d, const json_t *rows,
                       struct adapter_records *out);

struct collection {
    const char *name; /* the path segment and the normalize kind */
    const char *hook; /* its webhook data_type, NULL: not pushed */
    enum data_type type;
    enum query query;
    norm_fn norm; /* one document */
    rows_fn rows; /* a page at once, or NULL: norm() for each */
};

static int norm_workout(struct doc *d, struct adapter_records *out);
static int norm_session(struct doc *d, struct adapter_records *out);
static int norm_sleep(struct doc *d, struct adapter_records *out);
static int norm_daily_activity(struct doc *d, struct adapter_records *out);
static int norm_daily_readiness(struct doc *d, struct adapter_records *out);
static int norm_daily_sleep(struct doc *d, struct adapter_records *out);
static int norm_daily_stress(struct doc *d, struct adapter_records *out);
static int norm_enhanced_tag(struct doc *d, struct adapter_records *out);
static int norm_vo2_max(struct doc *d, struct adapter_records *out);
static int norm_daily_spo2(struct doc *d, struct adapter_records *out);
static int norm_cardiovascular(struct doc *d, struct adapter_records *out);
static int norm_heartrate(struct doc *d, struct adapter_records *out);
static int norm_heartrate_rows(struct doc *d, const json_t *rows,
                               struct adapter_records *out);
static int norm_personal_info(struct doc *d, struct adapter_records *out);
static int norm_ring(struct doc *d, struct adapter_records *out);

/*
 * In the order plan() asks for them: within a type, the first part of
 * a day gives that day's metadata.
 *
 * XXX: daily_resilience, sleep_time and rest_mode_period are not read
 * (Terra's models have no place for a resilience level, a bedtime
 * recommendation or a rest mode), and a daily_sleep's score and
 * contributors go to the day's scores only, not to the sleep of that
 * night, which is another collection's document.
 */
static const struct collection collections[] = {
    {"workout", "workout", DT_ACTIVITY, Q_DATE, norm_workout, NULL},
    {"session", "session", DT_ACTIVITY, Q_DATE, norm_session, NULL},
    {"sleep", "sleep", DT_SLEEP, Q_DATE, norm_sleep, NULL},
    {"daily_activity", "daily_activity", DT_DAILY, Q_DATE, norm_daily_activity,
     NULL},
    {"daily_readiness", "daily_readiness", DT_DAILY, Q_DATE,
     norm_daily_readiness, NULL},
    {"daily_sleep", "daily_sleep", DT_DAILY, Q_DATE, norm_daily_sleep, NULL},
    {"daily_stress", "daily_stress", DT_DAILY, Q_DATE, norm_daily_stress, NULL},
    {"enhanced_tag", "enhanced_tag", DT_DAILY, Q_DATE, norm_enhanced_tag, NULL},
    {"vO2_max", "vo2_max", DT_BODY, Q_DATE, norm_vo2_max, NULL},
    {"daily_spo2", "daily_spo2", DT_BODY, Q_DATE, norm_daily_spo2, NULL},
    {"daily_cardiovascular_age", "daily_cardiovascular_age", DT_BODY, Q_DATE,
     norm_cardiovascular, NULL},
    {"heartrate", NULL, DT_BODY, Q_DATETIME, norm_heartrate,
     norm_heartrate_rows},
    {"personal_info", NULL, DT_ATHLETE, Q_NONE, norm_personal_info, NULL},
    {"ring_configuration", "ring_configuration", DT_ATHLETE, Q_NONE, norm_ring,
     NULL},
};

#define NCOLLECTIONS (sizeof(collections) / sizeof(collections[0]))

static const char *const kinds[] = {
    "workout",
    "GET /v2/usercollection/workout: workouts as activity",
    "session",
    "GET /v2/usercollection/session: meditation, breathing and rest "
    "sessions as activity, with heart rate and HRV samples",
    "sleep",
    "GET /v2/usercollection/sleep: sleep periods (naps too) as sleep, "
    "with hypnogram, heart rate and HRV samples",
    "daily_activity",
    "GET /v2/usercollection/daily_activity: steps, calories, intensity "
    "times, MET and activity levels into daily",
    "daily_readiness",
    "GET /v2/usercollection/daily_readiness: the readiness score and "
    "its contributors into daily",
    "daily_sleep",
    "GET /v2/usercollection/daily_sleep: the sleep score into daily",
    "daily_stress",
    "GET /v2/usercollection/daily_stress: high stress and recovery time "
    "into daily",
    "enhanced_tag",
    "GET /v2/usercollection/enhanced_tag: the user's tags into daily",
    "vO2_max",
    "GET /v2/usercollection/vO2_max: VO2 max estimates into body",
    "daily_spo2",
    "GET /v2/usercollection/daily_spo2: the night's average SpO2 into "
    "body",
    "daily_cardiovascular_age",
    "GET /v2/usercollection/daily_cardiovascular_age: pulse wave "
    "velocity into body",
    "heartrate",
    "GET /v2/usercollection/heartrate: heart rate samples into body, "
    "by the day of their own offset",
    "personal_info",
    "GET /v2/usercollection/personal_info: age, sex and email as athlete",
    "ring_configuration",
    "GET /v2/usercollection/ring_configuration: the user's rings as "
    "athlete devices",
    NULL,
};

static const struct collection *
collection_by_name(const char *name)
{
    size_t i = 0;

    for (i = 0; name != NULL && i < NCOLLECTIONS; i++) {
        if (strcmp(collections[i].name, name) == 0) {
            return &collections[i];
        }
    }
    return NULL;
}

static const struct collection *
collection_by_hook(const char *data_type)
{
    size_t i = 0;

    for (i = 0; data_type != NULL && i < NCOLLECTIONS; i++) {
        if (collections[i].hook != NULL &&
            strcmp(collections[i].hook, data_type) == 0) {
            return &collections[i];
        }
    }
    return NULL;
}

/* ---- reading a document ---- */

struct rindex;

/* One document being read, for error messages that name the field. */
struct doc {
    const char *kind;
    long idx;        /* its place in data[], -1 for a single document */
    const char *sub; /* the object inside it being read, or NULL */
    const json_t *o; /* the document */
    struct err *e;
    struct rindex *ix; /* the records of the `out` being filled */
    /* out->text: sample arrays are made as text, into `pending` until
     * their record is put (see adapter_splices) */
    int text;
    struct adapter_splices *pending;
};

/* ERR_INVALID saying that `field` ("" for the document itself) of the
 * document `what`: "sleep: data[2].readiness.score is not a number". */
static int
bad(const struct doc *d, const char *field, const char *what)
{
    char path[256];
    size_t n = 0;

    path[0] = '\0';
    if (d->idx >= 0) {
        n = (size_t)snprintf(path, sizeof(path), "data[%ld]", d->idx);
    }
    if (d->sub != NULL && n < sizeof(path)) {
        n += (size_t)snprintf(path + n, sizeof(path) - n, "%s%s",
                              n > 0 ? "." : "", d->sub);
    }
    if (field[0] != '\0' && n < sizeof(path)) {
        n += (size_t)snprintf(path + n, sizeof(path) - n, "%s%s",
                              n > 0 ? "." : "", field);
    }
    return err_set(d->e, ERR_INVALID, "%s: %s %s", d->kind,
                   path[0] != '\0' ? path : "the document", what);
}

/* A string field of `o`: 1 with it in `*out`, 0 when absent or null,
 * ERR_INVALID for another type. */
static int
get_str(const struct doc *d, const json_t *o, const char *key, const char **out)
{
    const json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return bad(d, key, "is not a string");
    }
    *out = json_string_value(v);
    return 1;
}

/* A number field of `o`, as get_str() (a finite number). */
static int
get_num(const struct doc *d, const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);

    *out = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        return bad(d, key, "is not a number");
    }
    *out = json_number_value(v);
    return 1;
}

/* An instant and the offset it was written with. */
struct when {
    int64_t us;
    int off; /* seconds east of UTC, or ISOTIME_NO_OFFSET */
};

/* A timestamp field of `o`, as get_str(). */
static int
get_time(const struct doc *d, const json_t *o, const char *key,
         struct when *out)
{
    const char *s = NULL;
    int rc = get_str(d, o, key, &s);

    if (rc <= 0) {
        return rc;
    }
    if (isotime_parse(s, &out->us, &out->off, NULL) < 0) {
        return bad(d, key, "is not an ISO 8601 time");
    }
    return 1;
}

/* A local day "YYYY-MM-DD". */
struct day {
    char s[11];
    int64_t n; /* days since 1970-01-01 */
};

/* `a` / `b` rounded toward minus infinity (`b` > 0). */
static int64_t
floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Write the date of day number `n` as YYYY-MM-DD (years 0 to 9999). */
static void
date_text(int64_t n, char out[11])
{
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(n, &y, &m, &d);
    y = y < 0 ? 0 : y > 9999 ? 9999 : y;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* The day of the unix second `s` (local time already added). */
static void
day_of(int64_t s, struct day *out)
{
    out->n = floor_div(s, DAY_S);
    date_text(out->n, out->s);
}

/* A date field of `o`, as get_str(). */
static int
get_day(const struct doc *d, const json_t *o, const char *key, struct day *out)
{
    const char *s = NULL;
    int y = 0;
    int m = 0;
    int dd = 0;
    int rc = get_str(d, o, key, &s);

    if (rc <= 0) {
        return rc;
    }
    if (isotime_parse_date(s, &y, &m, &dd) < 0) {
        return bad(d, key, "is not a YYYY-MM-DD date");
    }
    snprintf(out->s, sizeof(out->s), "%s", s);
    out->n = isotime_days_from_civil(y, m, dd);
    return 1;
}

/* A field the document must have: `rc` from a getter, 0 turned into
 * ERR_INVALID. */
static int
need(const struct doc *d, const char *key, int rc)
{
    if (rc == 0) {
        return bad(d, key, "is missing");
    }
    return rc < 0 ? rc : 0;
}

/* The document's "id": a string of 1 to 127 bytes (it is a key). */
static int
get_id(const struct doc *d, const char **id)
{
    int rc = need(d, "id", get_str(d, d->o, "id", id));

    if (rc == 0 && ((*id)[0] == '\0' || strlen(*id) >= 128)) {
        rc = bad(d, "id", "is empty or longer than 127 bytes");
    }
    return rc;
}

/* Sample series: {"interval": s, "items": [x|null...], "timestamp": t}. */
struct series {
    struct when t0;
    int64_t step_us;
    const json_t *items;
    const char *name; /* its field, for messages */
};

/* A series field of `o`: 1, 0 when absent or null, ERR_INVALID. */
static int
get_series(const struct doc *d, const json_t *o, const char *key,
           struct series *s)
{
    const json_t *v = json_object_get(o, key);
    struct doc in = *d;
    double interval = 0;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v)) {
        return bad(d, key, "is not an object");
    }
    in.sub = key;
    s->name = key;
    rc = need(&in, "interval", get_num(&in, v, "interval", &interval));
    if (rc == 0 && !(interval > 0 && interval <= INTERVAL_MAX)) {
        rc = bad(&in, "interval", "is not within (0, 86400] seconds");
    }
    if (rc == 0) {
        rc = need(&in, "timestamp", get_time(&in, v, "timestamp", &s->t0));
    }
    s->items = json_object_get(v, "items");
    if (rc == 0 && !json_is_array(s->items)) {
        rc = bad(&in, "items", "is not an array");
    }
    if (rc == 0 && json_array_size(s->items) > SERIES_MAX) {
        rc = bad(&in, "items", "has too many samples");
    }
    s->step_us = (int64_t)llround(interval * 1e6);
    return rc < 0 ? rc : 1;
}

/* Item `i` of `s`: 1 with its value, 0 for null, ERR_INVALID. */
static int
series_at(const struct doc *d, const struct series *s, size_t i, double *v)
{
    const json_t *x = json_array_get(s->items, i);
    char field[64];

    if (json_is_null(x)) {
        return 0;
    }
    if (!json_is_number(x) || !isfinite(json_number_value(x))) {
        snprintf(field, sizeof(field), "%s.items[%zu]", s->name, i);
        return bad(d, field, "is not a number");
    }
    *v = json_number_value(x);
    return 1;
}

/* ---- writing Terra's objects ---- */

/* 1 when num_new() makes `v` (finite) an integer. */
static int
whole(double v)
{
    return v == floor(v) && fabs(v) < 9007199254740992.0;
}

/* A JSON number for `v`: an integer when it is one, else a real. */
static json_t *
num_new(double v)
{
    if (!isfinite(v)) {
        return NULL;
    }
    if (whole(v)) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

static void
put_num(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, num_new(v));
}

static void
put_str(json_t *o, const char *key, const char *s)
{
    if (s != NULL) {
        json_object_set_new(o, key, json_string(s));
    }
}

/* XXX: a time given without an offset is written at +00:00
 * (isotime_format()); Terra reads such a time as the user's local time,
 * which its text then no longer says. */
static void
put_time(json_t *o, const char *key, int64_t us, int off)
{
    char text[ISOTIME_MAX];

    isotime_format(us, off, text);
    json_object_set_new(o, key, json_string(text));
}

/*
 * The timestamps of a series, written as put_time() writes them but
 * mostly without formatting a date: the text of the last instant is
 * kept, and for an instant of the same local day only its time of day
 * is written again. Zero-initialise it; `off` is the series' offset.
 */
struct stamper {
    int off;
    int valid;      /* `text` and `day_us` hold an instant */
    int64_t day_us; /* the instant of `text`'s local midnight */
    char text[ISOTIME_MAX];
    size_t len;
};

/* `n` (< 10^width) in `width` decimal digits at `p`. */
static void
digits(char *p, int64_t n, int width)
{
    for (; width > 0; width--) {
        p[width - 1] = (char)('0' + n % 10);
        n /= 10;
    }
}

/* The time of day HH:MM:SS.ffffff at `p` (19 bytes), in microseconds. */
static int64_t
time_of_day(const char *p)
{
    int64_t v[4] = {0, 0, 0, 0};
    const int at[4] = {0, 3, 6, 9};
    const int width[4] = {2, 2, 2, 6};
    int i = 0;
    int j = 0;

    for (i = 0; i < 4; i++) {
        for (j = 0; j < width[i]; j++) {
            v[i] = v[i] * 10 + (p[at[i] + j] - '0');
        }
    }
    return ((v[0] * 60 + v[1]) * 60 + v[2]) * US + v[3];
}

/* The text of the instant `us` at the stamper's offset, in `st->text`
 * (`st->len` bytes). */
static void
stamp(struct stamper *st, int64_t us)
{
    int64_t tod = 0;

    /* "YYYY-MM-DDTHH:MM:SS.ffffff+hh:mm": the date part is the same
     * from local midnight for 24 hours */
    if (st->valid && us >= st->day_us && us - st->day_us < DAY_S * US) {
        tod = us - st->day_us;
        digits(st->text + 11, tod / (3600 * US), 2);
        digits(st->text + 14, tod / (60 * US) % 60, 2);
        digits(st->text + 17, tod / US % 60, 2);
        digits(st->text + 20, tod % US, 6);
        return;
    }
    isotime_format(us, st->off, st->text);
    st->len = strlen(st->text);
    /* years of four digits only, so that the fields are where they are
     * looked for */
    st->valid = st->len == 32 && st->text[10] == 'T';
    if (st->valid) {
        st->day_us = us - time_of_day(st->text + 11);
    }
}

/* {"timestamp": the instant `us`} made with `st`. */
static json_t *
stamped_new(struct stamper *st, int64_t us)
{
    json_t *o = json_object();

    stamp(st, us);
    json_object_set_new_nocheck(o, "timestamp",
                                json_stringn_nocheck(st->text, st->len));
    return o;
}

/* The object `key` of `o`, made when missing. Borrowed. */
static json_t *
sub(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, key, v);
    }
    return v;
}

/* Copy number `skey` of the document's object `src` to `dkey` of `dst`:
 * 1 copied, 0 absent, ERR_INVALID. */
static int
copy_num(const struct doc *d, const json_t *src, const char *skey, json_t *dst,
         const char *dkey)
{
    double v = 0;
    int rc = get_num(d, src, skey, &v);

    if (rc == 1) {
        put_num(dst, dkey, v);
    }
    return rc;
}

/* Drop the empty objects and arrays of `o`, at any depth. */
static void
prune(json_t *o)
{
    const char *key = NULL;
    json_t *v = NULL;
    void *tmp = NULL;

    json_object_foreach_safe(o, tmp, key, v)
    {
        if (json_is_object(v)) {
            prune(v);
        }
        if ((json_is_object(v) && json_object_size(v) == 0) ||
            (json_is_array(v) && json_array_size(v) == 0)) {
            json_object_del(o, key);
        }
    }
}

/*
 * A sample array in the making: {"timestamp": ..., <field>: value} per
 * sample, with timer_duration_seconds counted from `from_us` unless
 * that is INT64_MIN. For a doc without `text`, jansson objects appended
 * to `arr`; with it, the text jsonw_add() would write for those objects
 * (about 500 bytes and seven allocations each, several times the text)
 * and the samples themselves, 16 bytes each, from which the objects are
 * made again, exactly, should a merge need the tree (samples_make()).
 * Zero-initialise it, then samples_begin().
 */
struct sample {
    int64_t at;
    double v;
};

struct samples {
    const char *field; /* a literal */
    int64_t from_us;
    int off;
    json_t *arr; /* borrowed */
    struct stamper sp;
    int text;
    struct buf b;
    int rc; /* the first failure of the text */
    struct sample *v;
    size_t n;
    size_t cap;
};

/* The most text one sample array may become. */
#define SAMPLES_TEXT_MAX ((size_t)SERIES_MAX * 256)

static void
samples_begin(struct samples *x, const struct doc *d, json_t *arr,
              const char *field, int64_t from_us, int off)
{
    memset(x, 0, sizeof(*x));
    x->field = field;
    x->from_us = from_us;
    x->off = off;
    x->arr = arr;
    x->sp.off = off;
    x->text = d->text;
    buf_init(&x->b, SAMPLES_TEXT_MAX);
}

/* The jansson object of one sample, appended to `arr`. */
static void
sample_tree(const struct samples *x, struct stamper *sp, json_t *arr,
            int64_t at, double v)
{
    json_t *o = stamped_new(sp, at);

    json_object_set_new_nocheck(o, x->field, num_new(v));
    if (x->from_us != INT64_MIN) {
        put_num(o, "timer_duration_seconds", (double)(at - x->from_us) / US);
    }
    json_array_append_new(arr, o);
}

static void
samples_text(struct samples *x, const char *p, size_t n)
{
    if (x->rc == 0) {
        x->rc = buf_add(&x->b, p, n);
    }
}

/* ,"key":v as put_num() puts it: an integer when `v` is one, nothing
 * when it is not finite. `key` needs no escaping. */
static void
samples_num(struct samples *x, const char *key, double v)
{
    if (!isfinite(v) || x->rc != 0) {
        return;
    }
    samples_text(x, ",\"", 2);
    samples_text(x, key, strlen(key));
    samples_text(x, "\":", 2);
    if (x->rc == 0) {
        x->rc = whole(v) ? jsonw_add_integer(&x->b, (json_int_t)v)
                         : jsonw_add_real(&x->b, v);
    }
}

static void
samples_add(struct samples *x, int64_t at, double v)
{
    if (!x->text) {
        sample_tree(x, &x->sp, x->arr, at, v);
        return;
    }
    if (x->n == x->cap) {
        x->cap = x->cap == 0 ? 64 : x->cap * 2;
        x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
    }
    x->v[x->n].at = at;
    x->v[x->n].v = v;
    if (x->n++ == 0) {
        samples_text(x, "[", 1);
    } else {
        samples_text(x, "},", 2);
    }
    stamp(&x->sp, at);
    samples_text(x, "{\"timestamp\":\"", 14);
    samples_text(x, x->sp.text, x->sp.len);
    samples_text(x, "\"", 1);
    samples_num(x, x->field, v);
    if (x->from_us != INT64_MIN) {
        samples_num(x, "timer_duration_seconds",
                    (double)(at - x->from_us) / US);
    }
}

static void
samples_release(struct samples *x)
{
    buf_release(&x->b);
    free(x->v);
    x->v = NULL;
    x->n = 0;
}

/* The objects of the samples kept in `arg` (a struct samples), made
 * into `at` exactly as without text. */
static void
samples_make(json_t *at, const void *arg)
{
    const struct samples *x = arg;
    struct stamper sp;
    size_t i = 0;

    memset(&sp, 0, sizeof(sp));
    sp.off = x->off;
    json_array_clear(at);
    for (i = 0; i < x->n; i++) {
        sample_tree(x, &sp, at, x->v[i].at, x->v[i].v);
    }
}

static void
samples_free(void *arg)
{
    samples_release(arg);
    free(arg);
}

/* Done: with text, `arr` (in the record being built) is made to stand
 * for it; an array of no sample stays empty. 0, or the failure. */
static int
samples_end(const struct doc *d, struct samples *x)
{
    struct adapter_rebuild rb;
    struct samples *kept = NULL;
    char *text = NULL;
    size_t len = 0;

    if (!x->text || x->n == 0 || x->rc != 0) {
        samples_release(x);
        return x->rc;
    }
    samples_text(x, "}]", 2);
    if (x->rc != 0) {
        samples_release(x);
        return x->rc;
    }
    text = buf_detach(&x->b, &len);
    kept = xmalloc(sizeof(*kept));
    *kept = *x;
    kept->arr = NULL;
    buf_init(&kept->b, 0); /* the text is the splice's */
    rb.make = samples_make;
    rb.release = samples_free;
    rb.arg = kept;
    json_array_append_new(x->arr, json_null());
    adapter_splices_add(d->pending, x->arr, text, len, &rb);
    x->v = NULL; /* kept's now */
    samples_release(x);
    return 0;
}

/* A sample array of `s`: one sample per non-null item; `st` gets the
 * values' count, sum, least and greatest. */
struct stats {
    size_t n;
    double sum;
    double min;
    double max;
};

static int
series_samples(const struct doc *d, const struct series *s, const char *field,
               int64_t from_us, json_t *arr, struct stats *st)
{
    struct samples x;
    size_t n = json_array_size(s->items);
    size_t i = 0;
    double v = 0;
    int rc = 0;

    memset(st, 0, sizeof(*st));
    samples_begin(&x, d, arr, field, from_us, s->t0.off);
    for (i = 0; i < n; i++) {
        rc = series_at(d, s, i, &v);
        if (rc < 0) {
            samples_release(&x);
            return rc;
        }
        if (rc == 0) {
            continue;
        }
        samples_add(&x, s->t0.us + (int64_t)i * s->step_us, v);
        st->min = st->n == 0 || v < st->min ? v : st->min;
        st->max = st->n == 0 || v > st->max ? v : st->max;
        st->sum += v;
        st->n++;
    }
    return samples_end(d, &x);
}

/* Levels from a string of one character per `step_us`, as
 * {timestamp, level} samples, one where the level changes, into `arr`.
 * 0, or the failure of its text. */
static int
level_samples(const struct doc *d, json_t *arr, const char *s, struct when t0,
              int64_t step_us, int (*level)(char c))
{
    struct samples x;
    int prev = -1;
    size_t i = 0;

    samples_begin(&x, d, arr, "level", INT64_MIN, t0.off);
    for (i = 0; s[i] != '\0'; i++) {
        int lv = level(s[i]);

        if (lv != prev) {
            samples_add(&x, t0.us + (int64_t)i * step_us, lv);
            prev = lv;
        }
    }
    return samples_end(d, &x);
}

/* A phase string field: 1 with it, 0 absent, ERR_INVALID. */
static int
get_phases(const struct doc *d, const json_t *o, const char *key,
           const char **out)
{
    int rc = get_str(d, o, key, out);

    if (rc == 1 && strlen(*out) > PHASES_MAX) {
        return bad(d, key, "is too long");
    }
    return rc;
}

/* ---- records: parts of one object are merged ---- */

struct stamped {
    const char *ts;
    const json_t *el;
};

static int
stamped_cmp(const void *a, const void *b)
{
    return strcmp(((const struct stamped *)a)->ts,
                  ((const struct stamped *)b)->ts);
}

static const char *
stamp_of(const json_t *el)
{
    const char *ts = json_string_value(json_object_get(el, "timestamp"));

    return ts != NULL ? ts : "";
}

/*
 * Append to `dst` the elements of `src` it does not hold yet (equal in
 * every field). Elements are matched through their "timestamp", so two
 * pages of one day's samples join in n log n.
 */
static void
array_union(json_t *dst, const json_t *src)
{
    size_t n = json_array_size(dst);
    struct stamped *idx = NULL;
    size_t i = 0;

    if (json_equal(dst, src)) {
        return;
    }
    idx = xcalloc(n > 0 ? n : 1, sizeof(*idx));
    for (i = 0; i < n; i++) {
        idx[i].el = json_array_get(dst, i);
        idx[i].ts = stamp_of(idx[i].el);
    }
    qsort(idx, n, sizeof(*idx), stamped_cmp);
    for (i = 0; i < json_array_size(src); i++) {
        json_t *el = json_array_get(src, i);
        const char *ts = stamp_of(el);
        size_t lo = 0;
        size_t hi = n;
        int seen = 0;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (strcmp(idx[mid].ts, ts) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (; lo < n && strcmp(idx[lo].ts, ts) == 0 && !seen; lo++) {
            seen = json_equal(idx[lo].el, el);
        }
        if (!seen) {
            json_array_append(dst, el);
        }
    }
    free(idx);
}

/* Merge the part `src` into `dst` (both Terra objects of one key). */
static void
merge(json_t *dst, json_t *src, int top)
{
    const char *key = NULL;
    json_t *v = NULL;

    json_object_foreach(src, key, v)
    {
        json_t *have = json_object_get(dst, key);

        if (top && strcmp(key, "metadata") == 0 && json_is_object(have) &&
            json_is_object(v)) {
            json_object_update_missing(have, v);
        } else if (json_is_object(have) && json_is_object(v)) {
            merge(have, v, 0);
        } else if (json_is_array(have) && json_is_array(v)) {
            array_union(have, v);
        } else {
            json_object_set(dst, key, v);
        }
    }
}

/*
 * Where the records of an `out` are: for each type, an object from a
 * record's key to its place in out->v, for out->v[0 .. n). A key held
 * twice keeps its first place, the one a scan from the start finds.
 * Records added to `out` since are taken in at the next lookup, so
 * those that came before this normalize() count too.
 */
struct rindex {
    json_t *at[DT_COUNT];
    size_t n;
};

static void
rindex_release(struct rindex *ix)
{
    size_t t = 0;

    for (t = 0; t < DT_COUNT; t++) {
        json_decref(ix->at[t]);
        ix->at[t] = NULL;
    }
    ix->n = 0;
}

/* The record of `type` and `key` in `out`, or NULL. */
static struct adapter_record *
record_find(const struct doc *d, struct adapter_records *out,
            enum data_type type, const char *key)
{
    struct rindex *ix = d->ix;
    const json_t *at = NULL;

    for (; ix->n < out->n; ix->n++) {
        const struct adapter_record *r = &out->v[ix->n];

        if ((int)r->type < 0 || r->type >= DT_COUNT) {
            continue;
        }
        if (ix->at[r->type] == NULL) {
            ix->at[r->type] = json_object();
        }
        if (json_object_get(ix->at[r->type], r->key) == NULL) {
            json_object_set_new_nocheck(ix->at[r->type], r->key,
                                        json_integer((json_int_t)ix->n));
        }
    }
    at = json_object_get(ix->at[type], key);
    return at != NULL ? &out->v[json_integer_value(at)] : NULL;
}

/* Add `data` (taken) to `out`, or merge it into the record it is a
 * part of. */
static int
record_put(const struct doc *d, struct adapter_records *out,
           enum data_type type, const char *key, json_t *data, int64_t start_us,
           int64_t end_us, const char *local_date)
{
    struct adapter_record *r = record_find(d, out, type, key);
    int rc = 0;

    if (r == NULL) {
        rc = adapter_records_add(out, type, key, data, start_us, end_us,
                                 local_date);
        if (rc == 0) {
            /* the texts made for `data` are the new record's */
            out->v[out->n - 1].splices = *d->pending;
            memset(d->pending, 0, sizeof(*d->pending));
        }
        adapter_splices_release(d->pending);
        return rc;
    }
    /* parts merge as trees */
    adapter_splices_apply(&r->splices);
    adapter_splices_apply(d->pending);
    merge(r->data, data, 1);
    json_decref(data);
    return 0;
}

/* ---- days ---- */

/*
 * The daily or body part of `dy` at offset `off`, with its metadata
 * (upload_type when `upload` >= 0), put into `out` once filled: the
 * caller fills `*data` and calls day_put().
 */
struct daypart {
    struct day dy;
    int off;
    int64_t start_us;
    int64_t end_us;
    json_t *data;
};

/* XXX: a day is 24 hours at one offset; a day with a DST change is 23
 * or 25 hours, which needs the user's zone rules, not an offset. */
static void
day_begin(struct daypart *p, const struct day *dy, int off, int upload)
{
    json_t *md = NULL;

    p->dy = *dy;
    p->off = off == ISOTIME_NO_OFFSET ? 0 : off;
    p->start_us = (dy->n * DAY_S - p->off) * US;
    p->end_us = p->start_us + DAY_S * US;
    p->data = json_object();
    md = sub(p->data, "metadata");
    put_time(md, "start_time", p->start_us, p->off);
    put_time(md, "end_time", p->end_us, p->off);
    if (upload >= 0) {
        json_object_set_new(md, "upload_type", json_integer(upload));
    }
}

/* Put the part in `out` when it holds more than its metadata. */
static int
day_put(const struct doc *d, struct daypart *p, enum data_type type,
        struct adapter_records *out)
{
    json_t *data = p->data;

    p->data = NULL;
    prune(data);
    if (json_object_size(data) <= 1) {
        adapter_splices_release(d->pending);
        json_decref(data);
        return 0;
    }
    return record_put(d, out, type, p->dy.s, data, p->start_us, p->end_us,
                      p->dy.s);
}

/* The document's day and the offset of its `timestamp` (0 when it has
 * none): what most day collections start with. */
static int
doc_day(const struct doc *d, struct day *dy, int *off)
{
    struct when ts = {0, ISOTIME_NO_OFFSET};
    int rc = need(d, "day", get_day(d, d->o, "day", dy));

    if (rc == 0) {
        rc = get_time(d, d->o, "timestamp", &ts);
    }
    *off = ts.off == ISOTIME_NO_OFFSET ? 0 : ts.off;
    return rc < 0 ? rc : 0;
}

/* Contributors {name: score|null} as [{contributor_name,
 * contributor_score}]; NULL when none has a score. */
static json_t *
contributors(const json_t *c)
{
    json_t *arr = json_array();
    const char *key = NULL;
    json_t *v = NULL;

    json_object_foreach((json_t *)c, key, v)
    {
        if (json_is_number(v) && isfinite(json_number_value(v))) {
            json_array_append_new(arr,
                                  json_pack("{s:s, s:o}", "contributor_name",
                                            key, "contributor_score",
                                            num_new(json_number_value(v))));
        }
    }
    return arr;
}

/* ---- activity: workout, session ---- */

/* Oura's workout activities (lower case, '_' between words) and the
 * Terra ActivityType each is. */
static const struct {
    const char *name;
    int code;
} activities[] = {
    {"aerobics", 9},
    {"american_football", 27},
    {"archery", 119},
    {"badminton", 10},
    {"baseball", 11},
    {"basketball", 12},
    {"boxing", 20},
    {"breathwork", 122},
    {"canoeing", 140},
    {"circuit_training", 22},
    {"climbing", 52},
    {"cricket", 23},
    {"cross_country_skiing", 67},
    {"crossfit", 113},
    {"cycling", 1},
    {"dance", 24},
    {"dancing", 24},
    {"downhill_skiing", 68},
    {"elliptical", 25},
    {"field_hockey", 36},
    {"fishing", 131},
    {"functional_training", 22},
    {"gardening", 31},
    {"golf", 32},
    {"group_exercise", 9},
    {"gymnastics", 33},
    {"handball", 34},
    {"hiit", 114},
    {"hiking", 35},
    {"horseback_riding", 37},
    {"housework", 38},
    {"ice_hockey", 36},
    {"ice_skating", 104},
    {"indoor_cycling", 18},
    {"inline_skating", 127},
    {"jump_rope", 39},
    {"kayaking", 40},
    {"kitesurfing", 43},
    {"lacrosse", 124},
    {"martial_arts", 44},
    {"meditation", 45},
    {"mountain_biking", 15},
    {"padel", 134},
    {"paddling", 129},
    {"pilates", 49},
    {"rock_climbing", 52},
    {"rowing", 53},
    {"rowing_machine", 54},
    {"rugby", 55},
    {"running", 8},
    {"sailing", 59},
    {"skateboarding", 61},
    {"skiing", 65},
    {"snowboarding", 73},
    {"snowshoeing", 75},
    {"soccer", 29},
    {"softball", 120},
    {"spinning", 17},
    {"squash", 76},
    {"stair_climbing", 77},
    {"stand_up_paddling", 79},
    {"strength_training", 80},
    {"stretching", 125},
    {"surfing", 81},
    {"swimming", 82},
    {"table_tennis", 85},
    {"tennis", 87},
    {"trail_running", 8},
    {"treadmill_running", 58},
    {"triathlon", 126},
    {"volleyball", 89},
    {"walking", 7},
    {"water_polo", 96},
    {"weightlifting", 97},
    {"windsurfing", 99},
    {"yoga", 100},
    {"zumba", 101},
};

#define ACTIVITY_OTHER 108

static int
activity_code(const char *name)
{
    size_t i = 0;

    for (i = 0; name != NULL && i < sizeof(activities) / sizeof(*activities);
         i++) {
        if (strcasecmp(activities[i].name, name) == 0) {
            return activities[i].code;
        }
    }
    return ACTIVITY_OTHER;
}

/* UploadType of a workout's source: entered by hand, or recorded. */
static int
workout_upload(const char *source)
{
    if (source == NULL) {
        return 0;
    }
    if (strcmp(source, "manual") == 0) {
        return 2;
    }
    if (strcmp(source, "autodetected") == 0 ||
        strcmp(source, "confirmed") == 0 ||
        strcmp(source, "workout_heart_rate") == 0) {
        return 1;
    }
    return 0;
}

/* ActivityType of a session (an Oura "Moment"). */
static int
session_code(const char *type)
{
    if (type == NULL) {
        return ACTIVITY_OTHER;
    }
    if (strcmp(type, "breathing") == 0) {
        return 122; /* GUIDED_BREATHING */
    }
    if (strcmp(type, "meditation") == 0 || strcmp(type, "relaxation") == 0) {
        return 45; /* MEDITATION */
    }
    if (strcmp(type, "rest") == 0 || strcmp(type, "nap") == 0) {
        return 3; /* STILL */
    }
    return ACTIVITY_OTHER;
}

/* The metadata every activity has. */
static json_t *
activity_begin(const char *id, struct when t0, struct when t1, int type,
               int upload, const char *name)
{
    json_t *data = json_object();
    json_t *md = sub(data, "metadata");

    put_str(md, "summary_id", id);
    put_time(md, "start_time", t0.us, t0.off);
    put_time(md, "end_time", t1.us, t1.off);
    json_object_set_new(md, "type", json_integer(type));
    json_object_set_new(md, "upload_type", json_integer(upload));
    put_str(md, "name", name);
    return data;
}

/* The start and end of a session-like document; 0 when usable, 1 when
 * it ends before it starts (skipped), ERR_INVALID. */
static int
doc_span(const struct doc *d, const char *from, const char *to, struct when *t0,
         struct when *t1)
{
    int rc = need(d, from, get_time(d, d->o, from, t0));

    if (rc == 0) {
        rc = need(d, to, get_time(d, d->o, to, t1));
    }
    if (rc == 0 && t1->us < t0->us) {
        return 1;
    }
    return rc;
}

static int
norm_workout(struct doc *d, struct adapter_records *out)
{
    const char *id = NULL;
    const char *activity = NULL;
    const char *source = NULL;
    const char *label = NULL;
    struct when t0 = {0};
    struct when t1 = {0};
    json_t *data = NULL;
    int rc = get_id(d, &id);

    if (rc == 0) {
        rc = doc_span(d, "start_datetime", "end_datetime", &t0, &t1);
    }
    if (rc == 0 && get_str(d, d->o, "activity", &activity) < 0) {
        rc = ERR_INVALID;
    }
    if (rc == 0 && get_str(d, d->o, "source", &source) < 0) {
        rc = ERR_INVALID;
    }
    if (rc == 0 && get_str(d, d->o, "label", &label) < 0) {
        rc = ERR_INVALID;
    }
    if (rc != 0) {
        return rc < 0 ? rc : 0;
    }
    data = activity_begin(id, t0, t1, activity_code(activity),
                          workout_upload(source),
                          label != NULL ? label : activity);
    if (copy_num(d, d->o, "calories", sub(data, "calories_data"),
                 "total_burned_calories") < 0 ||
        copy_num(d, d->o, "distance",
                 sub(sub(data, "distance_data"), "summary"),
                 "distance_meters") < 0) {
        json_decref(data);
        return ERR_INVALID;
    }
    prune(data);
    return record_put(d, out, DT_ACTIVITY, id, data, t0.us, t1.us, NULL);
}

/* Heart rate and HRV (RMSSD, ms) samples of a session or a sleep into
 * `hrd` (a heart_rate_data), with the summary from the samples when
 * `summarise`. */
static int
heart_samples(const struct doc *d, const char *hr_key, const char *hrv_key,
              int64_t from_us, int summarise, json_t *hrd)
{
    struct series s = {0};
    struct stats st = {0};
    json_t *detailed = sub(hrd, "detailed");
    json_t *summary = sub(hrd, "summary");
    json_t *arr = NULL;
    int rc = get_series(d, d->o, hr_key, &s);

    if (rc == 1) {
        arr = json_array();
        json_object_set_new(detailed, "hr_samples", arr);
        rc = series_samples(d, &s, "bpm", from_us, arr, &st);
        if (rc == 0 && summarise && st.n > 0) {
            put_num(summary, "avg_hr_bpm", st.sum / (double)st.n);
            put_num(summary, "max_hr_bpm", st.max);
            put_num(summary, "min_hr_bpm", st.min);
        }
    }
    if (rc >= 0) {
        rc = get_series(d, d->o, hrv_key, &s);
    }
    if (rc == 1) {
        arr = json_array();
        json_object_set_new(detailed, "hrv_samples_rmssd", arr);
        rc = series_samples(d, &s, "hrv_rmssd", INT64_MIN, arr, &st);
        if (rc == 0 && summarise && st.n > 0) {
            put_num(summary, "avg_hrv_rmssd", st.sum / (double)st.n);
        }
    }
    return rc < 0 ? rc : 0;
}

static int
norm_session(struct doc *d, struct adapter_records *out)
{
    const char *id = NULL;
    const char *type = NULL;
    struct when t0 = {0};
    struct when t1 = {0};
    json_t *data = NULL;
    int rc = get_id(d, &id);

    if (rc == 0) {
        rc = doc_span(d, "start_datetime", "end_datetime", &t0, &t1);
    }
    if (rc == 0 && get_str(d, d->o, "type", &type) < 0) {
        rc = ERR_INVALID;
    }
    if (rc != 0) {
        return rc < 0 ? rc : 0;
    }
    /* recorded by the ring once the user starts it */
    data = activity_begin(id, t0, t1, session_code(type), 1, type);
    rc = heart_samples(d, "heart_rate", "heart_rate_variability", t0.us, 1,
                       sub(data, "heart_rate_data"));
    if (rc < 0) {
        json_decref(data);
        return rc;
    }
    prune(data);
    return record_put(d, out, DT_ACTIVITY, id, data, t0.us, t1.us, NULL);
}

/* ---- sleep ---- */

/* SleepLevel of a sleep phase character: 1 deep, 2 light, 3 REM,
 * 4 awake. */
static int
sleep_level(char c)
{
    switch (c) {
    case '1':
        return 5; /* Deep */
    case '2':
        return 4; /* Light */
    case '3':
        return 6; /* REM */
    case '4':
        return 1; /* Awake */
    default:
        return 0; /* Unknown */
    }
}

/* The durations, efficiency and hypnogram of a sleep period. */
static int
sleep_durations(const struct doc *d, struct when t0, json_t *sdd)
{
    json_t *asleep = sub(sdd, "asleep");
    json_t *awake = sub(sdd, "awake");
    const char *phases = NULL;
    int64_t step = 30 * US;
    int rc = 0;

    if (copy_num(d, d->o, "total_sleep_duration", asleep,
                 "duration_asleep_state_seconds") < 0 ||
        copy_num(d, d->o, "deep_sleep_duration", asleep,
                 "duration_deep_sleep_state_seconds") < 0 ||
        copy_num(d, d->o, "light_sleep_duration", asleep,
                 "duration_light_sleep_state_seconds") < 0 ||
        copy_num(d, d->o, "rem_sleep_duration", asleep,
                 "duration_REM_sleep_state_seconds") < 0 ||
        copy_num(d, d->o, "awake_time", awake, "duration_awake_state_seconds") <
            0 ||
        copy_num(d, d->o, "latency", awake, "sleep_latency_seconds") < 0 ||
        copy_num(d, d->o, "time_in_bed", sub(sdd, "other"),
                 "duration_in_bed_seconds") < 0 ||
        copy_num(d, d->o, "efficiency", sdd, "sleep_efficiency") < 0) {
        return ERR_INVALID;
    }
    /* the 30-second phases when Oura gives them, else the 5-minute ones;
     * both start at bedtime_start */
    rc = get_phases(d, d->o, "sleep_phase_30_sec", &phases);
    if (rc == 0 || (rc == 1 && phases[0] == '\0')) {
        step = 300 * US;
        rc = get_phases(d, d->o, "sleep_phase_5_min", &phases);
    }
    if (rc == 1) {
        json_t *arr = json_array();

        json_object_set_new(sdd, "hypnogram_samples", arr);
        rc = level_samples(d, arr, phases, t0, step, sleep_level);
    }
    return rc < 0 ? rc : 0;
}

/* The readiness Oura computed from this sleep: its score, and the skin
 * temperature's deviation from the user's baseline (degrees Celsius). */
static int
sleep_readiness(const struct doc *d, json_t *data)
{
    const json_t *r = json_object_get(d->o, "readiness");
    struct doc in = *d;

    if (r == NULL || json_is_null(r)) {
        return 0;
    }
    if (!json_is_object(r)) {
        return bad(d, "readiness", "is not an object");
    }
    in.sub = "readiness";
    if (copy_num(&in, r, "score", sub(data, "readiness_data"), "readiness") <
            0 ||
        copy_num(&in, r, "temperature_deviation", sub(data, "temperature_data"),
                 "delta") < 0) {
        return ERR_INVALID;
    }
    return 0;
}

/* The sleep metadata: a nap or not, and whether the user edited it. */
static void
sleep_metadata(json_t *md, const char *type, const char *reason)
{
    /* "sleep" and "late_nap" are naps (Oura: 15 minutes to 3 hours),
     * "long_sleep" is a night */
    if (type != NULL &&
        (strcmp(type, "sleep") == 0 || strcmp(type, "late_nap") == 0)) {
        json_object_set_new(md, "is_nap", json_true());
    } else if (type != NULL && strcmp(type, "long_sleep") == 0) {
        json_object_set_new(md, "is_nap", json_false());
    }
    /* SleepUploadType: 1 manual (the user moved the bedtimes),
     * 2 automatic */
    json_object_set_new(
        md, "upload_type",
        json_integer(
            reason != NULL && strcmp(reason, "bedtime_edit") == 0 ? 1 : 2));
}

static int
norm_sleep(struct doc *d, struct adapter_records *out)
{
    const char *id = NULL;
    const char *type = NULL;
    const char *reason = NULL;
    struct when t0 = {0};
    struct when t1 = {0};
    json_t *data = NULL;
    json_t *md = NULL;
    json_t *hrd = NULL;
    int rc = get_id(d, &id);

    if (rc == 0) {
        rc = doc_span(d, "bedtime_start", "bedtime_end", &t0, &t1);
    }
    if (rc == 0 && (get_str(d, d->o, "type", &type) < 0 ||
                    get_str(d, d->o, "sleep_analysis_reason", &reason) < 0)) {
        rc = ERR_INVALID;
    }
    if (rc != 0) {
        return rc < 0 ? rc : 0;
    }
    /* deleted by the user, or a rest the user said was no sleep */
    if (type != NULL &&
        (strcmp(type, "deleted") == 0 || strcmp(type, "rest") == 0)) {
        return 0;
    }
    data = json_object();
    md = sub(data, "metadata");
    put_str(md, "summary_id", id);
    put_time(md, "start_time", t0.us, t0.off);
    put_time(md, "end_time", t1.us, t1.off);
    sleep_metadata(md, type, reason);
    rc = sleep_durations(d, t0, sub(data, "sleep_durations_data"));
    hrd = sub(data, "heart_rate_data");
    /* Oura's resting heart rate is the night's lowest */
    if (rc == 0 && (copy_num(d, d->o, "average_heart_rate", sub(hrd, "summary"),
                             "avg_hr_bpm") < 0 ||
                    copy_num(d, d->o, "lowest_heart_rate", sub(hrd, "summary"),
                             "min_hr_bpm") < 0 ||
                    copy_num(d, d->o, "lowest_heart_rate", sub(hrd, "summary"),
                             "resting_hr_bpm") < 0 ||
                    copy_num(d, d->o, "average_hrv", sub(hrd, "summary"),
                             "avg_hrv_rmssd") < 0)) {
        rc = ERR_INVALID;
    }
    if (rc == 0) {
        rc = heart_samples(d, "heart_rate", "hrv", INT64_MIN, 0, hrd);
    }
    if (rc == 0) {
        json_t *bd = sub(sub(data, "respiration_data"), "breaths_data");

        rc = copy_num(d, d->o, "average_breath", bd, "avg_breaths_per_min");
        if (rc == 1) {
            put_time(bd, "start_time", t0.us, t0.off);
            put_time(bd, "end_time", t1.us, t1.off);
            rc = 0;
        }
    }
    if (rc == 0) {
        rc = sleep_readiness(d, data);
    }
    if (rc < 0) {
        json_decref(data);
        return ERR_INVALID;
    }
    prune(data);
    return record_put(d, out, DT_SLEEP, id, data, t0.us, t1.us, NULL);
}

/* ---- daily ---- */

/* ActivityLevel of a class_5_min character: 0 non-wear, 1 rest,
 * 2 inactive, 3 low, 4 medium, 5 high; the codes are the same. */
static int
activity_level(char c)
{
    return c >= '0' && c <= '5' ? c - '0' : 0;
}

/* Seconds of each intensity, and what follows from them. */
static int
activity_times(const struct doc *d, json_t *data)
{
    json_t *ad = sub(data, "active_durations_data");
    json_t *met = sub(data, "MET_data");
    static const struct {
        const char *oura;
        const char *seconds;
        const char *minutes;
    } times[] = {
        {"low_activity_time", "low_intensity_seconds",
         "num_low_intensity_minutes"},
        {"medium_activity_time", "moderate_intensity_seconds",
         "num_moderate_intensity_minutes"},
        {"high_activity_time", "vigorous_intensity_seconds",
         "num_high_intensity_minutes"},
        {"sedentary_time", "inactivity_seconds", "num_inactive_minutes"},
    };
    double active = 0;
    int all = 1;
    size_t i = 0;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        double v = 0;
        int rc = get_num(d, d->o, times[i].oura, &v);

        if (rc < 0) {
            return rc;
        }
        if (rc == 1) {
            put_num(ad, times[i].seconds, v);
            put_num(met, times[i].minutes, v / 60);
        }
        if (i < 3) {
            all = all && rc == 1;
            active += v;
        }
    }
    if (all) {
        put_num(ad, "activity_seconds", active);
    }
    if (copy_num(d, d->o, "resting_time", ad, "rest_seconds") < 0 ||
        copy_num(d, d->o, "average_met_minutes", met, "avg_level") < 0) {
        return ERR_INVALID;
    }
    return 0;
}

/* Total, active and basal calories (kcal): Oura's total is the active
 * and the resting (BMR) burn together. */
static int
activity_calories(const struct doc *d, json_t *cd)
{
    double total = 0;
    double active = 0;
    int has_total = get_num(d, d->o, "total_calories", &total);
    int has_active = get_num(d, d->o, "active_calories", &active);

    if (has_total < 0 || has_active < 0) {
        return ERR_INVALID;
    }
    if (has_total == 1) {
        put_num(cd, "total_burned_calories", total);
    }
    if (has_active == 1) {
        put_num(cd, "net_activity_calories", active);
    }
    if (has_total == 1 && has_active == 1 && total >= active) {
        put_num(cd, "BMR_calories", total - active);
    }
    return 0;
}

/* The 5-minute activity classes (from `timestamp`, the start of
 * Oura's activity day at 4 a.m.) and the MET samples. */
static int
activity_samples(const struct doc *d, json_t *data)
{
    const char *cls = NULL;
    struct when ts = {0, ISOTIME_NO_OFFSET};
    struct series s = {0};
    struct stats st = {0};
    json_t *arr = NULL;
    int rc = get_phases(d, d->o, "class_5_min", &cls);

    if (rc == 1) {
        rc = get_time(d, d->o, "timestamp", &ts);
        if (rc == 1) {
            arr = json_array();
            json_object_set_new(sub(data, "active_durations_data"),
                                "activity_levels_samples", arr);
            rc = level_samples(d, arr, cls, ts, 300 * US, activity_level);
        }
    }
    if (rc >= 0) {
        rc = get_series(d, d->o, "met", &s);
    }
    if (rc == 1) {
        arr = json_array();
        json_object_set_new(sub(data, "MET_data"), "MET_samples", arr);
        rc = series_samples(d, &s, "level", INT64_MIN, arr, &st);
    }
    return rc < 0 ? rc : 0;
}

static int
norm_daily_activity(struct doc *d, struct adapter_records *out)
{
    struct daypart p = {0};
    struct day dy = {0};
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc < 0) {
        return rc;
    }
    /* UploadType 1: counted by the ring */
    day_begin(&p, &dy, off, 1);
    if (copy_num(d, d->o, "steps", sub(p.data, "distance_data"), "steps") < 0 ||
        copy_num(d, d->o, "equivalent_walking_distance",
                 sub(p.data, "distance_data"), "distance_meters") < 0 ||
        copy_num(d, d->o, "score", sub(p.data, "scores"), "activity") < 0) {
        rc = ERR_INVALID;
    }
    if (rc == 0) {
        rc = activity_calories(d, sub(p.data, "calories_data"));
    }
    if (rc == 0) {
        rc = activity_times(d, p.data);
    }
    if (rc == 0) {
        rc = activity_samples(d, p.data);
    }
    if (rc < 0) {
        json_decref(p.data);
        return rc;
    }
    return day_put(d, &p, DT_DAILY, out);
}

static int
norm_daily_readiness(struct doc *d, struct adapter_records *out)
{
    const json_t *c = json_object_get(d->o, "contributors");
    struct daypart p = {0};
    struct day dy = {0};
    json_t *de = NULL;
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc == 0 && c != NULL && !json_is_null(c) && !json_is_object(c)) {
        rc = bad(d, "contributors", "is not an object");
    }
    if (rc < 0) {
        return rc;
    }
    day_begin(&p, &dy, off, 1);
    de = sub(p.data, "data_enrichment");
    if (copy_num(d, d->o, "score", sub(p.data, "scores"), "recovery") < 0 ||
        copy_num(d, d->o, "score", de, "readiness_score") < 0) {
        json_decref(p.data);
        return ERR_INVALID;
    }
    if (json_is_object(c)) {
        json_object_set_new(de, "readiness_contributors", contributors(c));
    }
    return day_put(d, &p, DT_DAILY, out);
}

static int
norm_daily_sleep(struct doc *d, struct adapter_records *out)
{
    struct daypart p = {0};
    struct day dy = {0};
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc < 0) {
        return rc;
    }
    day_begin(&p, &dy, off, 1);
    if (copy_num(d, d->o, "score", sub(p.data, "scores"), "sleep") < 0) {
        json_decref(p.data);
        return ERR_INVALID;
    }
    return day_put(d, &p, DT_DAILY, out);
}

/* StressLevel of Oura's day summary: restored 1 (rest), normal 2 (low),
 * stressful 4 (high); -1 for anything else. */
static int
stress_rating(const char *summary)
{
    if (summary == NULL) {
        return -1;
    }
    if (strcmp(summary, "restored") == 0) {
        return 1;
    }
    if (strcmp(summary, "normal") == 0) {
        return 2;
    }
    if (strcmp(summary, "stressful") == 0) {
        return 4;
    }
    return -1;
}

static int
norm_daily_stress(struct doc *d, struct adapter_records *out)
{
    const char *summary = NULL;
    struct daypart p = {0};
    struct day dy = {0};
    json_t *sd = NULL;
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc == 0 && get_str(d, d->o, "day_summary", &summary) < 0) {
        rc = ERR_INVALID;
    }
    if (rc < 0) {
        return rc;
    }
    day_begin(&p, &dy, off, 1);
    sd = sub(p.data, "stress_data");
    if (copy_num(d, d->o, "stress_high", sd, "high_stress_duration_seconds") <
            0 ||
        copy_num(d, d->o, "recovery_high", sd, "rest_stress_duration_seconds") <
            0) {
        json_decref(p.data);
        return ERR_INVALID;
    }
    if (stress_rating(summary) >= 0) {
        json_object_set_new(sd, "stress_rating",
                            json_integer(stress_rating(summary)));
    }
    return day_put(d, &p, DT_DAILY, out);
}

/* One tag of the user as a daily part's tag_data. */
static int
norm_enhanced_tag(struct doc *d, struct adapter_records *out)
{
    const char *code = NULL;
    const char *custom = NULL;
    const char *comment = NULL;
    const char *name = NULL;
    struct daypart p = {0};
    struct day dy = {0};
    struct when t = {0};
    json_t *tag = NULL;
    int rc = need(d, "start_day", get_day(d, d->o, "start_day", &dy));

    if (rc == 0) {
        rc = need(d, "start_time", get_time(d, d->o, "start_time", &t));
    }
    if (rc == 0 && (get_str(d, d->o, "tag_type_code", &code) < 0 ||
                    get_str(d, d->o, "custom_name", &custom) < 0 ||
                    get_str(d, d->o, "comment", &comment) < 0)) {
        rc = ERR_INVALID;
    }
    if (rc < 0) {
        return rc;
    }
    /* a custom tag has its own name; a text-only tag has no type */
    name = code != NULL ? code : "note";
    if (code != NULL && strcmp(code, "custom") == 0 && custom != NULL) {
        name = custom;
    }
    day_begin(&p, &dy, t.off, 1);
    tag = json_object();
    put_time(tag, "timestamp", t.us, t.off);
    put_str(tag, "tag_name", name);
    put_str(tag, "notes", comment != NULL ? comment : "");
    json_object_set_new(sub(p.data, "tag_data"), "tags", json_pack("[o]", tag));
    return day_put(d, &p, DT_DAILY, out);
}

/* ---- body ---- */

static int
norm_vo2_max(struct doc *d, struct adapter_records *out)
{
    struct daypart p = {0};
    struct day dy = {0};
    struct when ts = {0, ISOTIME_NO_OFFSET};
    double v = 0;
    int has_ts = 0;
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc == 0) {
        rc = get_num(d, d->o, "vo2_max", &v);
    }
    if (rc <= 0) {
        return rc;
    }
    has_ts = get_time(d, d->o, "timestamp", &ts);
    /* ml/kg/min, an estimate Oura makes now and then */
    day_begin(&p, &dy, off, -1);
    put_num(sub(p.data, "oxygen_data"), "vo2max_ml_per_min_per_kg", v);
    if (has_ts == 1) {
        json_t *s = json_object();

        put_time(s, "timestamp", ts.us, ts.off);
        put_num(s, "vo2max_ml_per_min_per_kg", v);
        json_object_set_new(sub(p.data, "oxygen_data"), "vo2_samples",
                            json_pack("[o]", s));
    }
    return day_put(d, &p, DT_BODY, out);
}

static int
norm_daily_spo2(struct doc *d, struct adapter_records *out)
{
    const json_t *agg = json_object_get(d->o, "spo2_percentage");
    struct daypart p = {0};
    struct day dy = {0};
    struct doc in = *d;
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc < 0 || agg == NULL || json_is_null(agg)) {
        return rc;
    }
    if (!json_is_object(agg)) {
        return bad(d, "spo2_percentage", "is not an object");
    }
    in.sub = "spo2_percentage";
    day_begin(&p, &dy, off, -1);
    /* a percentage, measured during the night that ends on `day` */
    if (copy_num(&in, agg, "average", sub(p.data, "oxygen_data"),
                 "avg_saturation_percentage") < 0) {
        json_decref(p.data);
        return ERR_INVALID;
    }
    return day_put(d, &p, DT_BODY, out);
}

static int
norm_cardiovascular(struct doc *d, struct adapter_records *out)
{
    struct daypart p = {0};
    struct day dy = {0};
    json_t *s = NULL;
    double v = 0;
    int off = 0;
    int rc = doc_day(d, &dy, &off);

    if (rc == 0) {
        rc = get_num(d, d->o, "pulse_wave_velocity", &v);
    }
    if (rc <= 0) {
        return rc; /* the vascular age alone has no place in Terra's body */
    }
    day_begin(&p, &dy, off, -1);
    s = json_object();
    put_time(s, "timestamp", p.start_us, p.off);
    put_num(s, "pulse_wave_velocity_meters_per_second", v);
    json_object_set_new(sub(p.data, "heart_data"),
                        "pulse_wave_velocity_samples", json_pack("[o]", s));
    return day_put(d, &p, DT_BODY, out);
}

/* HeartRateContext of a heart rate sample's source. */
static int
hr_context(const char *source)
{
    if (source == NULL || strcmp(source, "live") == 0) {
        return 0; /* NOT_SET */
    }
    if (strcmp(source, "workout") == 0 || strcmp(source, "session") == 0) {
        return 1; /* ACTIVE */
    }
    if (strcmp(source, "awake") == 0 || strcmp(source, "rest") == 0 ||
        strcmp(source, "sleep") == 0) {
        return 2; /* NOT_ACTIVE */
    }
    return 0; /* a source Oura has not documented: NOT_SET */
}

/* The summary of a body part's heart rate, from all its samples. */
static void
hr_summarise(json_t *data)
{
    json_t *hrd =
        json_object_get(json_object_get(data, "heart_data"), "heart_rate_data");
    json_t *arr =
        json_object_get(json_object_get(hrd, "detailed"), "hr_samples");
    json_t *summary = NULL;
    struct stats st = {0};
    size_t i = 0;

    memset(&st, 0, sizeof(st));
    for (i = 0; i < json_array_size(arr); i++) {
        double v =
            json_number_value(json_object_get(json_array_get(arr, i), "bpm"));

        st.min = st.n == 0 || v < st.min ? v : st.min;
        st.max = st.n == 0 || v > st.max ? v : st.max;
        st.sum += v;
        st.n++;
    }
    if (st.n == 0) {
        return;
    }
    summary = sub(hrd, "summary");
    put_num(summary, "avg_hr_bpm", st.sum / (double)st.n);
    put_num(summary, "max_hr_bpm", st.max);
    put_num(summary, "min_hr_bpm", st.min);
}

/* Put the heart rate samples of one day in `out`. */
static int
hr_flush(const struct doc *d, struct daypart *p, struct adapter_records *out)
{
    struct adapter_record *r = NULL;
    int rc = 0;

    if (p->data == NULL) {
        return 0;
    }
    rc = day_put(d, p, DT_BODY, out);
    r = record_find(d, out, DT_BODY, p->dy.s);
    if (rc == 0 && r != NULL) {
        adapter_splices_apply(&r->splices); /* it reads the samples */
        hr_summarise(r->data);
    }
    return rc;
}

/*
 * A page of heart rate rows {timestamp, bpm, source}: a body part per
 * day, the day being the local date at the row's own offset (Oura
 * writes these in UTC, so that is the UTC date).
 *
 * XXX: for a user away from UTC the samples land on the UTC day, which
 * is not the local day the other body parts of that key cover. The
 * user's offset is known only from other collections; whether to
 * regroup by it (and which day's offset to trust) is still to decide.
 */
static int
norm_heartrate_rows(struct doc *d, const json_t *rows,
                    struct adapter_records *out)
{
    struct daypart p = {0};
    json_t *samples = NULL; /* p's hr_samples, borrowed */
    size_t i = 0;
    int rc = 0;

    p.data = NULL;
    for (i = 0; rc == 0 && i < json_array_size(rows); i++) {
        const char *source = NULL;
        struct when t = {0, 0};
        struct day dy = {0};
        double bpm = 0;
        json_t *s = NULL;

        d->idx = (long)i;
        d->o = json_array_get(rows, i);
        if (!json_is_object(d->o)) {
            rc = bad(d, "", "is not an object");
            break;
        }
        rc = need(d, "timestamp", get_time(d, d->o, "timestamp", &t));
        if (rc == 0) {
            rc = need(d, "bpm", get_num(d, d->o, "bpm", &bpm));
        }
        if (rc == 0 && get_str(d, d->o, "source", &source) < 0) {
            rc = ERR_INVALID;
        }
        t.off = t.off == ISOTIME_NO_OFFSET ? 0 : t.off;
        day_of(floor_div(t.us, US) + t.off, &dy);
        if (rc == 0 && p.data != NULL && (p.dy.n != dy.n || p.off != t.off)) {
            rc = hr_flush(d, &p, out); /* p.data is NULL again */
        }
        if (rc < 0) {
            break;
        }
        if (p.data == NULL) {
            day_begin(&p, &dy, t.off, -1);
            samples = json_array();
            json_object_set_new(
                sub(sub(sub(p.data, "heart_data"), "heart_rate_data"),
                    "detailed"),
                "hr_samples", samples);
        }
        s = json_object();
        put_time(s, "timestamp", t.us, t.off);
        put_num(s, "bpm", bpm);
        json_object_set_new(s, "context", json_integer(hr_context(source)));
        json_array_append_new(samples, s);
    }
    if (rc == 0) {
        rc = hr_flush(d, &p, out);
    }
    json_decref(p.data);
    return rc;
}

/* One heart rate row alone: a page of one. */
static int
norm_heartrate(struct doc *d, struct adapter_records *out)
{
    json_t *rows = json_pack("[O]", (json_t *)d->o);
    int rc = norm_heartrate_rows(d, rows, out);

    json_decref(rows);
    return rc;
}

/* ---- athlete ---- */

#define ATHLETE_KEY "athlete"

static int
norm_personal_info(struct doc *d, struct adapter_records *out)
{
    const char *sex = NULL;
    const char *email = NULL;
    json_t *data = NULL;

    if (get_str(d, d->o, "biological_sex", &sex) < 0 ||
        get_str(d, d->o, "email", &email) < 0) {
        return ERR_INVALID;
    }
    data = json_object();
    if (copy_num(d, d->o, "age", data, "age") < 0) {
        json_decref(data);
        return ERR_INVALID;
    }
    put_str(data, "sex", sex);
    put_str(data, "email", email);
    /* weight (kg) and height (m) have no place in Terra's athlete, and no
     * date to make them a body measurement */
    if (json_object_size(data) == 0) {
        json_decref(data);
        return 0;
    }
    return record_put(d, out, DT_ATHLETE, ATHLETE_KEY, data, 0, 0, NULL);
}

/* One of the user's rings as a device of the athlete. */
static int
norm_ring(struct doc *d, struct adapter_records *out)
{
    const char *hw = NULL;
    const char *fw = NULL;
    struct when setup = {0};
    json_t *dev = NULL;
    int has_setup = 0;
    const char *id = NULL;
    int rc = get_id(d, &id);

    if (rc == 0 && (get_str(d, d->o, "hardware_type", &hw) < 0 ||
                    get_str(d, d->o, "firmware_version", &fw) < 0)) {
        rc = ERR_INVALID;
    }
    if (rc == 0) {
        has_setup = get_time(d, d->o, "set_up_at", &setup);
        rc = has_setup < 0 ? has_setup : 0;
    }
    if (rc < 0) {
        return rc;
    }
    dev = json_object();
    put_str(dev, "name", "Oura Ring");
    put_str(dev, "manufacturer", "Oura");
    put_str(dev, "hardware_version", hw);
    put_str(dev, "software_version", fw);
    if (has_setup == 1) {
        put_time(dev, "activation_timestamp", setup.us, setup.off);
    }
    return record_put(d, out, DT_ATHLETE, ATHLETE_KEY,
                      json_pack("{s:[o]}", "devices", dev), 0, 0, NULL);
}

/* ---- normalize ---- */

static int
oura_normalize(const char *kind, const json_t *payload,
               struct adapter_records *out, struct err *e)
{
    const struct collection *c = collection_by_name(kind);
    const json_t *data = NULL;
    struct adapter_splices pending;
    struct rindex ix;
    struct doc d;
    size_t i = 0;
    int rc = 0;

    if (c == NULL) {
        return err_set(e, ERR_INVALID, "oura: no such kind \"%s\"",
                       kind != NULL ? kind : "");
    }
    memset(&pending, 0, sizeof(pending));
    memset(&ix, 0, sizeof(ix));
    memset(&d, 0, sizeof(d));
    d.kind = c->name;
    d.idx = -1;
    d.o = payload;
    d.e = e;
    d.ix = &ix;
    d.text = out->text;
    d.pending = &pending;
    if (!json_is_object(payload)) {
        return bad(&d, "", "is not a JSON object");
    }
    data = json_object_get(payload, "data");
    if (data == NULL) {
        rc = c->norm(&d, out); /* a single document */
        goto out;
    }
    if (!json_is_array(data)) {
        rc = bad(&d, "data", "is not an array");
        goto out;
    }
    if (c->rows != NULL) {
        rc = c->rows(&d, data, out);
        goto out;
    }
    for (i = 0; rc == 0 && i < json_array_size(data); i++) {
        d.idx = (long)i;
        d.o = json_array_get(data, i);
        rc = json_is_object(d.o) ? c->norm(&d, out)
                                 : bad(&d, "", "is not an object");
    }
out:
    adapter_splices_release(&pending);
    rindex_release(&ix);
    return rc;
}

/* ---- plan and pages ---- */

/* RFC 3339 text of unix second `s` in UTC for a query ('+' escaped). */
static void
query_time(int64_t s, char out[32])
{
    struct day dy = {0};
    int64_t sec = 0;

    day_of(s, &dy);
    sec = s - dy.n * DAY_S;
    snprintf(out, 32, "%sT%02d:%02d:%02d%%2B00:00", dy.s, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

/*
 * The request for collection `c` over the days [from_day, to_day]
 * (inclusive) or the seconds [start, end), by the collection's query.
 */
static int
plan_one(const struct adapter_ctx *cx, const struct collection *c,
         int64_t from_day, int64_t to_day, int64_t start, int64_t end,
         struct adapter_request *rq, struct err *e)
{
    char a[32];
    char b[32];
    int n = 0;

    memset(rq, 0, sizeof(*rq));
    snprintf(rq->method, sizeof(rq->method), "GET");
    snprintf(rq->kind, sizeof(rq->kind), "%s", c->name);
    rq->type = c->type;
    if (c->query == Q_NONE) {
        n = snprintf(rq->url, sizeof(rq->url), "%s/v2/usercollection/%s",
                     cx->api_url, c->name);
    } else if (c->query == Q_DATE) {
        /* Oura matches `day` (the user's local date) against the range,
         * whose ends it does not document as inclusive: ask for a day
         * more on either side (a record fetched twice is merged) */
        date_text(from_day - 1, a);
        date_text(to_day + 1, b);
        n = snprintf(rq->url, sizeof(rq->url),
                     "%s/v2/usercollection/%s?start_date=%s&end_date=%s",
                     cx->api_url, c->name, a, b);
    } else {
        query_time(start, a);
        query_time(end, b);
        n = snprintf(rq->url, sizeof(rq->url),
                     "%s/v2/usercollection/%s?start_datetime=%s"
                     "&end_datetime=%s",
                     cx->api_url, c->name, a, b);
    }
    if (n < 0 || (size_t)n >= sizeof(rq->url)) {
        return err_set(e, ERR_TOOBIG, "oura: the data API URL is too long");
    }
    return 0;
}

static int
oura_plan(const struct adapter_ctx *cx, enum data_type type, int64_t start,
          int64_t end, struct adapter_request **out, size_t *n, struct err *e)
{
    int64_t d0 = 0;
    int64_t d1 = 0;
    int64_t chunks = 0;
    size_t total = 0;
    size_t k = 0;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    for (i = 0; i < NCOLLECTIONS; i++) {
        total += collections[i].type == type;
    }
    if (total == 0 || end <= start) {
        return 0;
    }
    if (cx == NULL || cx->api_url == NULL) {
        return err_set(e, ERR_INVALID, "oura: no data API URL");
    }
    if (start < 0 || end > TIME_MAX + 1) {
        return err_set(e, ERR_INVALID,
                       "oura: the window is outside the "
                       "years 1970 to 9999");
    }
    d0 = start / DAY_S;
    d1 = (end - 1) / DAY_S;
    if (d1 - d0 + 1 > WINDOW_DAYS_MAX) {
        return err_set(e, ERR_INVALID,
                       "oura: a window of %lld days is longer "
                       "than %d",
                       (long long)(d1 - d0 + 1), WINDOW_DAYS_MAX);
    }
    chunks = (d1 - d0 + CHUNK_DAYS) / CHUNK_DAYS;
    total = 0;
    for (i = 0; i < NCOLLECTIONS; i++) {
        if (collections[i].type == type) {
            total += collections[i].query == Q_NONE ? 1 : (size_t)chunks;
        }
    }
    *out = xcalloc(total, sizeof(**out));
    for (i = 0; rc == 0 && i < NCOLLECTIONS; i++) {
        const struct collection *c = &collections[i];
        int64_t j = 0;

        if (c->type != type) {
            continue;
        }
        if (c->query == Q_NONE) {
            rc = plan_one(cx, c, 0, 0, 0, 0, &(*out)[k++], e);
            continue;
        }
        for (j = 0; rc == 0 && j < chunks; j++) {
            int64_t a = d0 + j * CHUNK_DAYS;
            int64_t b = a + CHUNK_DAYS - 1 < d1 ? a + CHUNK_DAYS - 1 : d1;
            int64_t s = a * DAY_S > start ? a * DAY_S : start;
            int64_t t = (b + 1) * DAY_S < end ? (b + 1) * DAY_S : end;

            rc = plan_one(cx, c, a, b, s, t, &(*out)[k++], e);
        }
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        return rc;
    }
    *n = k;
    return 0;
}

/* The same request with the answer's next_token: Oura's pages. */
static int
oura_next_page(const struct adapter_ctx *cx, const struct adapter_request *rq,
               const json_t *answer, struct adapter_request *next)
{
    const char *tok = json_string_value(json_object_get(answer, "next_token"));
    const char *at = NULL;
    size_t base = 0;
    struct buf b;
    int rc = 0;

    (void)cx;
    if (tok == NULL || tok[0] == '\0') {
        return 0;
    }
    at = strstr(rq->url, "?next_token=");
    if (at == NULL) {
        at = strstr(rq->url, "&next_token=");
    }
    base = at != NULL ? (size_t)(at - rq->url) : strlen(rq->url);
    buf_init(&b, sizeof(next->url) - 1);
    rc = buf_add(&b, rq->url, base);
    if (rc == 0) {
        rc =
            buf_addstr(&b, memchr(rq->url, '?', base) != NULL ? "&next_token="
                                                              : "?next_token=");
    }
    if (rc == 0) {
        rc = codec_pct_encode(&b, tok, strlen(tok), 0);
    }
    /* a token that comes back unchanged would page for ever */
    if (rc < 0 || strcmp(buf_str(&b), rq->url) == 0) {
        buf_release(&b);
        return 0;
    }
    *next = *rq;
    memcpy(next->url, buf_str(&b), b.len + 1);
    buf_release(&b);
    return 1;
}

/* ---- push ---- */

/*
 * The verification token of this deployment's subscriptions: hex
 * HMAC-SHA256 of a fixed label under the webhook secret, or the client
 * secret when there is none. Setup and push derive the same one, and no
 * secret of ours is sent to Oura. ERR_CONFIG without either secret.
 */
static int
verification_token(const char *client_secret, const char *webhook_secret,
                   char out[2 * CRYPTO_SHA256_LEN + 1])
{
    static const char label[] = "ferry oura webhook verification";
    const char *key = webhook_secret != NULL && webhook_secret[0] != '\0'
                          ? webhook_secret
                          : client_secret;
    unsigned char mac[CRYPTO_SHA256_LEN];

    if (key == NULL || key[0] == '\0') {
        return ERR_CONFIG;
    }
    crypto_hmac_sha256(key, strlen(key), label, sizeof(label) - 1, mac);
    codec_hex_encode(mac, sizeof(mac), out);
    crypto_wipe(mac, sizeof(mac));
    return 0;
}

/* 1 when the strings `a` and `b` are equal (time independent of where
 * they differ), else 0; NULL equals nothing. */
static int
secret_eq(const char *a, const char *b)
{
    size_t n = a != NULL ? strlen(a) : 0;

    if (a == NULL || b == NULL || strlen(b) != n) {
        return 0;
    }
    return crypto_ct_eq(a, b, n);
}

/*
 * Parameter `name` of the query `q`, percent-decoded into `out` (room
 * for `n` bytes): 1 found, 0 absent, ERR_INVALID when it is malformed,
 * given twice or too long.
 */
static int
query_param(const char *q, const char *name, char *out, size_t n)
{
    size_t len = strlen(name);
    int found = 0;

    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t plen = amp != NULL ? (size_t)(amp - q) : strlen(q);

        if (plen >= len && strncmp(q, name, len) == 0 &&
            (plen == len || q[len] == '=')) {
            size_t vlen = plen > len ? plen - len - 1 : 0;

            if (found || vlen + 1 > n ||
                codec_pct_decode(q + plen - vlen, vlen, out, 1) < 0) {
                return ERR_INVALID;
            }
            found = 1;
        }
        q += plen + (amp != NULL);
    }
    return found;
}

/* Oura's GET to the callback: the token must be ours; answer
 * {"challenge": <challenge>}. */
static int
handshake(const struct adapter_push *p, int *status, char *reply,
          size_t reply_n, struct err *e)
{
    char token[256];
    char challenge[1024];
    char want[2 * CRYPTO_SHA256_LEN + 1];
    json_t *o = NULL;
    char *text = NULL;
    int has_token =
        query_param(p->query, "verification_token", token, sizeof(token));
    int has_challenge =
        query_param(p->query, "challenge", challenge, sizeof(challenge));
    int rc = 0;

    if (has_token < 0 || has_challenge < 0) {
        return err_set(e, ERR_INVALID,
                       "oura: the verification query is "
                       "malformed");
    }
    if (has_token == 0 || has_challenge == 0) {
        return err_set(e, ERR_INVALID,
                       "oura: a verification needs "
                       "verification_token and challenge");
    }
    if (verification_token(p->client_secret, p->webhook_secret, want) < 0) {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: no secret is configured to "
                       "check the verification token");
    }
    if (!secret_eq(token, want)) {
        crypto_wipe(want, sizeof(want));
        return err_set(e, ERR_FORBIDDEN,
                       "oura: the verification token is "
                       "not this deployment's");
    }
    crypto_wipe(want, sizeof(want));
    o = json_pack("{s:s}", "challenge", challenge);
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = err_set(e, ERR_INVALID, "oura: the challenge is not UTF-8");
    } else if (strlen(text) >= reply_n) {
        rc = err_set(e, ERR_TOOBIG, "oura: the challenge is too long");
    } else {
        memcpy(reply, text, strlen(text) + 1);
        *status = 200;
    }
    free(text);
    json_decref(o);
    return rc;
}

/*
 * x-oura-signature: hex HMAC-SHA256 under the client secret of
 * x-oura-timestamp followed by the raw body, in either case.
 *
 * XXX: the timestamp is signed but not checked for age (Oura documents
 * neither its format nor a tolerance): a captured notice can be sent
 * again. It only makes ferry fetch the object again.
 */
static int
signature_check(const struct adapter_push *p, struct err *e)
{
    const char *sig = NULL;
    const char *ts = NULL;
    unsigned char got[CRYPTO_SHA256_LEN];
    unsigned char want[CRYPTO_SHA256_LEN];
    size_t got_n = 0;
    size_t ts_n = 0;
    char *msg = NULL;
    int same = 0;

    if (p->header != NULL) {
        sig = p->header(p->header_arg, "x-oura-signature");
        ts = p->header(p->header_arg, "x-oura-timestamp");
    }
    if (p->client_secret == NULL || p->client_secret[0] == '\0') {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: no client secret is "
                       "configured to check signatures");
    }
    if (sig == NULL || ts == NULL || ts[0] == '\0') {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: x-oura-signature and "
                       "x-oura-timestamp are required");
    }
    ts_n = strlen(ts);
    if (strlen(sig) != 2 * CRYPTO_SHA256_LEN || ts_n > 64 ||
        codec_hex_decode(sig, strlen(sig), got, sizeof(got), &got_n) < 0) {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: x-oura-signature is not an "
                       "HMAC-SHA256 in hex");
    }
    msg = xmalloc(ts_n + p->body_len + 1);
    memcpy(msg, ts, ts_n);
    if (p->body_len > 0) {
        memcpy(msg + ts_n, p->body, p->body_len);
    }
    crypto_hmac_sha256(p->client_secret, strlen(p->client_secret), msg,
                       ts_n + p->body_len, want);
    free(msg);
    same = crypto_ct_eq(got, want, sizeof(want));
    crypto_wipe(want, sizeof(want));
    if (!same) {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: x-oura-signature does not "
                       "match the body");
    }
    return 0;
}

/* Days before and after a notice's event_time fetched again when the
 * notice is about part of a day (below): the ring keeps about a week
 * that a late sync brings in at once. */
#define NOTICE_DAYS_BEFORE 8
#define NOTICE_DAYS_AFTER  1

/*
 * The item of a notice. A workout, session or sleep period is a whole
 * Terra object: the item fetches that one document,
 * /v2/usercollection/<c>/<id> under the data API base. A day collection
 * (or the profile) is only part of its object, and a part alone would
 * replace the day's stored object: the item fetches every collection of
 * the type over the days around `event_time` (unix seconds), whose
 * parts make whole days again.
 */
static int
notice_item(const struct doc *d, const struct collection *c,
            const char *object_id, const char *user_id, int64_t event_time,
            struct adapter_push_items *out)
{
    struct adapter_push_item it;
    struct buf b;
    int rc = 0;

    memset(&it, 0, sizeof(it));
    snprintf(it.provider_user_id, sizeof(it.provider_user_id), "%s", user_id);
    it.type = c->type;
    if (c->type == DT_DAILY || c->type == DT_BODY || c->type == DT_ATHLETE) {
        it.start = event_time - NOTICE_DAYS_BEFORE * DAY_S;
        it.end = event_time + NOTICE_DAYS_AFTER * DAY_S;
        it.start = it.start > 0 ? it.start : 0;
        adapter_push_items_add(out, &it);
        return 0;
    }
    buf_init(&b, sizeof(it.url) - 1);
    rc = buf_printf(&b, "/v2/usercollection/%s/", c->name);
    if (rc == 0) {
        rc = codec_pct_encode(&b, object_id, strlen(object_id), 0);
    }
    if (rc < 0) {
        buf_release(&b);
        return bad(d, "object_id", "is too long");
    }
    memcpy(it.url, buf_str(&b), b.len + 1);
    buf_release(&b);
    snprintf(it.kind, sizeof(it.kind), "%s", c->name);
    adapter_push_items_add(out, &it);
    return 0;
}

/* The notice {event_type, data_type, object_id, event_time, user_id}. */
static int
notice(const struct adapter_push *p, struct adapter_push_items *out,
       struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(p->body != NULL ? p->body : "", p->body_len,
                              JSON_REJECT_DUPLICATES, &je);
    const struct collection *c = NULL;
    const char *event = NULL;
    const char *data_type = NULL;
    const char *object_id = NULL;
    const char *user_id = NULL;
    struct when at = {isotime_now_us(), 0};
    struct doc d = {"oura push", -1, NULL, root, e, NULL, 0, NULL};
    int rc = 0;

    if (root == NULL) {
        /* a repeated key too: which of two values counts is unclear */
        return err_set(e, ERR_INVALID, "oura push: the body is not JSON: %s",
                       je.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set(e, ERR_INVALID,
                       "oura push: the body is not a JSON "
                       "object");
    }
    rc = need(&d, "event_type", get_str(&d, root, "event_type", &event));
    if (rc == 0) {
        rc = need(&d, "data_type", get_str(&d, root, "data_type", &data_type));
    }
    if (rc == 0) {
        rc = need(&d, "object_id", get_str(&d, root, "object_id", &object_id));
    }
    if (rc == 0) {
        rc = need(&d, "user_id", get_str(&d, root, "user_id", &user_id));
    }
    if (rc == 0 && get_time(&d, root, "event_time", &at) < 0) {
        rc = ERR_INVALID;
    }
    if (rc == 0 && strcmp(event, "create") != 0 &&
        strcmp(event, "update") != 0 && strcmp(event, "delete") != 0) {
        rc = bad(&d, "event_type", "is not create, update or delete");
    }
    if (rc == 0 && (user_id[0] == '\0' || strlen(user_id) >= 128)) {
        rc = bad(&d, "user_id", "is empty or longer than 127 bytes");
    }
    if (rc == 0 && object_id[0] == '\0') {
        rc = bad(&d, "object_id", "is empty");
    }
    c = rc == 0 ? collection_by_hook(data_type) : NULL;
    /* XXX: a deleted object cannot be fetched and Terra's models have no
     * deletion: such notices are accepted and dropped, and what was
     * delivered of the object stays with the developer. */
    if (c != NULL && strcmp(event, "delete") != 0) {
        rc = notice_item(&d, c, object_id, user_id, floor_div(at.us, US), out);
    }
    json_decref(root);
    return rc;
}

static int
oura_push(const struct adapter_push *p, enum push_answer *answer, int *status,
          char *reply, size_t reply_n, struct adapter_push_items *out,
          struct err *e)
{
    int rc = 0;

    *answer = PUSH_ACCEPT;
    *status = 200;
    if (reply_n > 0) {
        reply[0] = '\0';
    }
    if (p->hook_token != NULL && !secret_eq(p->path_token, p->hook_token)) {
        return err_set(e, ERR_FORBIDDEN,
                       "oura: the hook path token is "
                       "wrong");
    }
    if (p->method != NULL && strcmp(p->method, "GET") == 0) {
        rc = handshake(p, status, reply, reply_n, e);
        if (rc == 0) {
            *answer = PUSH_HANDSHAKE;
        }
        return rc;
    }
    if (p->method == NULL || strcmp(p->method, "POST") != 0) {
        return err_set(e, ERR_INVALID,
                       "oura: a push is a GET (verification) "
                       "or a POST (a notice)");
    }
    rc = signature_check(p, e);
    if (rc == 0) {
        rc = notice(p, out, e);
    }
    return rc;
}

/* ---- lifecycle: the app's webhook subscriptions ---- */

/* The event types subscribed to, creates first: when one run cannot
 * make every subscription, new data is what counts most. A deleted
 * object cannot be fetched, so deletes are not subscribed to. */
static const char *const events[] = {"create", "update"};

#define NEVENTS (sizeof(events) / sizeof(events[0]))

/* Subscription `i` (0 ...): its data type and event type; 0 past the
 * last. */
static int
subscription_at(size_t i, const char **data_type, const char **event)
{
    size_t hooked = 0;
    size_t nth = 0;
    size_t k = 0;

    for (k = 0; k < NCOLLECTIONS; k++) {
        hooked += collections[k].hook != NULL;
    }
    if (hooked == 0 || i >= hooked * NEVENTS) {
        return 0;
    }
    *event = events[i / hooked];
    nth = i % hooked;
    for (k = 0; k < NCOLLECTIONS; k++) {
        if (collections[k].hook == NULL) {
            continue;
        }
        if (nth == 0) {
            *data_type = collections[k].hook;
            return 1;
        }
        nth--;
    }
    return 0;
}

/* A request to Oura's subscription API: `method` on
 * /v2/webhook/subscription<path>, with the app's credentials in
 * x-client-id and x-client-secret and `body` (may be NULL) as JSON. */
static int
subscription_request(const struct adapter_ctx *cx, const char *method,
                     const char *path, const json_t *body,
                     struct adapter_request *rq, struct err *e)
{
    char *text = NULL;
    int n = 0;
    int m = 0;

    memset(rq, 0, sizeof(*rq));
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    rq->auth = ADAPTER_AUTH_NONE;
    n = snprintf(rq->url, sizeof(rq->url), "%s/v2/webhook/subscription%s",
                 cx->api_url, path);
    if (n < 0 || (size_t)n >= sizeof(rq->url)) {
        return err_set(e, ERR_TOOBIG,
                       "oura: the subscription URL is too "
                       "long");
    }
    if (strpbrk(cx->client_id, "\r\n") != NULL ||
        strpbrk(cx->client_secret, "\r\n") != NULL) {
        return err_set(e, ERR_CONFIG,
                       "oura: the client id or secret holds "
                       "a line break");
    }
    n = snprintf(rq->headers[0], sizeof(rq->headers[0]), "x-client-id: %s",
                 cx->client_id);
    m = snprintf(rq->headers[1], sizeof(rq->headers[1]), "x-client-secret: %s",
                 cx->client_secret);
    if (n < 0 || (size_t)n >= sizeof(rq->headers[0]) || m < 0 ||
        (size_t)m >= sizeof(rq->headers[1])) {
        crypto_wipe(rq->headers, sizeof(rq->headers));
        return err_set(e, ERR_CONFIG,
                       "oura: the client id or secret is too "
                       "long for a header");
    }
    if (body == NULL) {
        return 0;
    }
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL || strlen(text) >= sizeof(rq->body)) {
        free(text);
        crypto_wipe(rq->headers, sizeof(rq->headers));
        return err_set(e, ERR_TOOBIG,
                       "oura: the subscription is too long "
                       "(its callback URL?)");
    }
    memcpy(rq->body, text, strlen(text) + 1);
    snprintf(rq->content_type, sizeof(rq->content_type), "application/json");
    free(text);
    return 0;
}

/* The subscription of the listing `list` for `data_type` and `event`,
 * the one already pointing at `hook_url` first; NULL when none. */
static const json_t *
subscription_find(const json_t *list, const char *data_type, const char *event,
                  const char *hook_url)
{
    const json_t *found = NULL;
    size_t i = 0;

    for (i = 0; i < json_array_size(list); i++) {
        const json_t *s = json_array_get(list, i);
        const char *dt = json_string_value(json_object_get(s, "data_type"));
        const char *ev = json_string_value(json_object_get(s, "event_type"));
        const char *cb = json_string_value(json_object_get(s, "callback_url"));
        const char *id = json_string_value(json_object_get(s, "id"));

        if (dt == NULL || ev == NULL || id == NULL || id[0] == '\0' ||
            strcasecmp(dt, data_type) != 0 || strcmp(ev, event) != 0) {
            continue;
        }
        if (cb != NULL && strcmp(cb, hook_url) == 0) {
            return s;
        }
        found = found != NULL ? found : s;
    }
    return found;
}

/* 1 when subscription `s` lapses within RENEW_AHEAD_S (or says no
 * expiry we can read), else 0. */
static int
subscription_expiring(const json_t *s)
{
    const char *at = json_string_value(json_object_get(s, "expiration_time"));
    int64_t us = 0;
    int off = 0;

    if (at == NULL || isotime_parse(at, &us, &off, NULL) < 0) {
        return 1;
    }
    return us < isotime_now_us() + RENEW_AHEAD_S * US;
}

/*
 * The first change the listing `list` calls for: create a missing
 * subscription, point one at our hook URL, or renew one about to
 * lapse. 1 with it in `rq`, 0 when every subscription is in order.
 */
static int
subscription_next(const struct adapter_ctx *cx, const json_t *list,
                  struct adapter_request *rq, struct err *e)
{
    char token[2 * CRYPTO_SHA256_LEN + 1];
    const char *data_type = NULL;
    const char *event = NULL;
    size_t i = 0;
    int rc = 0;

    if (verification_token(cx->client_secret, cx->webhook_secret, token) < 0) {
        return err_set(e, ERR_CONFIG,
                       "oura: no secret to make the "
                       "verification token with");
    }
    for (i = 0; subscription_at(i, &data_type, &event); i++) {
        const json_t *s =
            subscription_find(list, data_type, event, cx->hook_url);
        const char *id = json_string_value(json_object_get(s, "id"));
        const char *cb = json_string_value(json_object_get(s, "callback_url"));
        int ours = cb != NULL && strcmp(cb, cx->hook_url) == 0;
        json_t *body = NULL;
        struct buf path;

        if (s != NULL && ours && !subscription_expiring(s)) {
            continue;
        }
        body = json_pack("{s:s, s:s, s:s, s:s}", "callback_url", cx->hook_url,
                         "verification_token", token, "event_type", event,
                         "data_type", data_type);
        if (s == NULL) {
            rc = subscription_request(cx, "POST", "", body, rq, e);
            json_decref(body);
            return rc < 0 ? rc : 1;
        }
        /* ours and lapsing: renew it; another URL's: point it at ours */
        buf_init(&path, 512);
        rc = buf_addstr(&path, ours ? "/renew/" : "/");
        if (rc == 0) {
            rc = codec_pct_encode(&path, id, strlen(id), 0);
        }
        if (rc < 0) {
            rc = err_set(e, ERR_UPSTREAM,
                         "oura: a subscription id is too "
                         "long");
        } else {
            rc = subscription_request(cx, "PUT", buf_str(&path),
                                      ours ? NULL : body, rq, e);
        }
        buf_release(&path);
        json_decref(body);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

/* The answer to a change: 200 or 201 with a subscription that no longer
 * needs renewing (else the same change would be asked again). */
static int
subscription_changed(const json_t *last, long status, struct err *e)
{
    if (status != 200 && status != 201) {
        return err_set(e, ERR_UPSTREAM,
                       "oura: a webhook subscription change "
                       "answered %ld",
                       status);
    }
    if (json_is_object(last) && subscription_expiring(last)) {
        return err_set(e, ERR_UPSTREAM,
                       "oura: subscription %s still lapses "
                       "within %lld days",
                       json_string_value(json_object_get(last, "id")) != NULL
                           ? json_string_value(json_object_get(last, "id"))
                           : "?",
                       RENEW_AHEAD_S / DAY_S);
    }
    return 0;
}

/*
 * APP_SETUP: list (step 0), then for each change one listing and the
 * change (odd steps change what the listing before them calls for,
 * even steps check the change and list again). Subscriptions belong
 * to the app, so a user's connection or deauthorization asks nothing.
 */
static int
oura_lifecycle(enum adapter_phase phase, const struct adapter_ctx *cx, int step,
               const json_t *last, long last_status,
               struct adapter_request *next, struct err *e)
{
    int rc = 0;

    if (phase != ADAPTER_APP_SETUP) {
        return 0;
    }
    if (cx->api_url == NULL || cx->client_id == NULL ||
        cx->client_id[0] == '\0' || cx->client_secret == NULL ||
        cx->client_secret[0] == '\0' || cx->hook_url == NULL ||
        cx->hook_url[0] == '\0') {
        return err_set(e, ERR_CONFIG,
                       "oura: webhook subscriptions need the "
                       "client id and secret and a hook URL");
    }
    if (step > 0 && step % 2 == 0) {
        rc = subscription_changed(last, last_status, e);
    }
    if (rc == 0 && step % 2 == 0) {
        rc = subscription_request(cx, "GET", "", NULL, next, e);
        return rc < 0 ? rc : 1;
    }
    if (rc < 0) {
        return rc;
    }
    if (last_status != 200 || !json_is_array(last)) {
        return err_set(e, ERR_UPSTREAM,
                       "oura: listing the webhook "
                       "subscriptions answered %ld",
                       last_status);
    }
    if ((step - 1) / 2 >= SETUP_ACTIONS_MAX) {
        return 0; /* the rest at the next run */
    }
    return subscription_next(cx, last, next, e);
}

/* ---- the adapter ---- */

const struct adapter adapter_oura = {
    .resource = "OURA",
    .api_url = OURA_API_URL,
    .caps =
        {
            .types = DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
                     DT_BIT(DT_BODY) | DT_BIT(DT_ATHLETE),
            .push = 1,
            /* a fallback: webhooks bring new data within a minute */
            .poll_seconds = 6 * 3600,
            .backfill_days = 730,
            .chunk_days = CHUNK_DAYS,
            /* 5000 requests per 5 minutes */
            .requests_per_minute = 1000,
            .revokes = 1,
        },
    .kinds = kinds,
    .plan = oura_plan,
    .next_page = oura_next_page,
    .normalize = oura_normalize,
    .lifecycle = oura_lifecycle,
    .push = oura_push,
};
