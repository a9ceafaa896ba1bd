/*
 * withings.c - the WITHINGS data adapter (Health Data API).
 *
 * Withings is not REST: every call is a POST of form fields to one of a
 * few services (measure, v2/measure, v2/sleep, notify) with an `action`
 * naming the operation, and every answer is HTTP 200 wrapped as
 * {"status":N,"body":{...}} where a non-zero status is the error. Lists
 * page with `more` and `offset` in the body.
 *
 *     getmeas      body measures: value * 10^unit, SI units  -> body
 *     getactivity  one row per local day                     -> daily
 *     getworkouts  one row per workout                       -> activity
 *     getsummary   one row per night (or nap)                -> sleep
 *
 * Records name their zone ("Europe/Paris"), not an offset: the offset of
 * each instant comes from the system's tz database, read here with
 * nothing but file reads (no TZ, no localtime), so it is thread-safe.
 *
 * Push (Notify) is unsigned: the callback URL carries a path token that
 * must match, Withings probes it with HEAD (sometimes GET) before it
 * registers it, and a notification is a form body naming the user, the
 * category (`appli`) and a window, which becomes a window to fetch.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/xmalloc.h"
#include "http/form.h"
#include "providers/adapter.h"

#define DAY 86400

/* Withings' own status families (API reference, "Response status"). */
#define WS_OK          0
#define WS_TOO_MANY    601
#define WS_TIMEOUT     522
#define WS_NO_SUCH_SUB 294 /* notify revoke: nothing to revoke */
#define CHUNK_DAYS     30
#define SLEEP_CHUNK    7 /* getsummary covers at most a week a call */
#define LAST_TIME      253402300799LL /* 9999-12-31T23:59:59Z */
#define HOOK_COMMENT   "ferry"

/* ------------------------------------------------------------------ */
/* Zones: the offset of an instant in a named zone, from TZif files     */
/* ------------------------------------------------------------------ */

#define ZONE_DIR      "/usr/share/zoneinfo/"
#define ZONE_NAME_MAX 64
#define ZONE_MISS_MAX 256
#define ZONE_FILE_MAX (256 * 1024)

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and the local time of day. */
struct zone_rule {
    char kind; /* 'J', 'D' (zero-based day of year), 'M' */
    int a;     /* J: 1-365; D: 0-365; M: month */
    int b;     /* M: week 1-5 (5: the last) */
    int c;     /* M: weekday, 0 Sunday */
    int32_t secs;
};

struct zone {
    char name[ZONE_NAME_MAX];
    int found; /* 0: a remembered miss */
    size_t ntrans;
    int64_t *trans;     /* transition instants, ascending */
    unsigned char *idx; /* the type each transition starts */
    size_t ntypes;
    int32_t *utoff; /* seconds east of UTC, per type */
    /* the footer rule, for instants after the last transition */
    int has_tail;
    int has_dst;
    int32_t std_off;
    int32_t dst_off;
    struct zone_rule start;
    struct zone_rule end;
};

static int32_t utc_off[1] = {0};
static const struct zone zone_utc = {
    .name = "UTC",
    .found = 1,
    .ntypes = 1,
    .utoff = utc_off,
};

/* Parsed zones live for the life of the process and never change once
 * published, so readers use them without the lock. The found ones are
 * bounded by the tz database itself; misses are remembered up to
 * ZONE_MISS_MAX and simply looked up again past that. */
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone **zone_cache;
static size_t zone_ncache;
static size_t zone_capcache;
static size_t zone_nmiss;

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to `max_h`. 0 or -1. */
static int
tz_hms(const char **sp, int32_t *out, int max_h)
{
    const char *s = *sp;
    int sign = 1;
    int32_t v[3] = {0, 0, 0};
    int i = 0;

    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    for (i = 0; i < 3; i++) {
        int digits = 0;

        if (i > 0) {
            if (*s != ':') {
                break;
            }
            s++;
        }
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v[i] = v[i] * 10 + (*s - '0');
            s++;
            digits++;
        }
        if (digits == 0) {
            return -1;
        }
    }
    if (v[0] > max_h || v[1] > 59 || v[2] > 59) {
        return -1;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *sp = s;
    return 0;
}

/* A zone abbreviation: three or more letters, or <...>. */
static int
tz_abbr(const char **sp)
{
    const char *s = *sp;
    int n = 0;

    if (*s == '<') {
        while (*s != '\0' && *s != '>') {
            s++;
        }
        if (*s != '>') {
            return -1;
        }
        *sp = s + 1;
        return 0;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
        s++;
        n++;
    }
    if (n < 3) {
        return -1;
    }
    *sp = s;
    return 0;
}

static long
tz_num(const char **sp, long lo, long hi)
{
    const char *s = *sp;
    long v = 0;

    if (*s < '0' || *s > '9') {
        return -1;
    }
    while (*s >= '0' && *s <= '9' && v <= hi) {
        v = v * 10 + (*s - '0');
        s++;
    }
    if (v < lo || v > hi) {
        return -1;
    }
    *sp = s;
    return v;
}

static int
tz_rule(const char **sp, struct zone_rule *r)
{
    const char *s = *sp;

    memset(r, 0, sizeof(*r));
    r->secs = 2 * 3600;
    if (*s == 'J') {
        s++;
        r->kind = 'J';
        r->a = (int)tz_num(&s, 1, 365);
    } else if (*s == 'M') {
        s++;
        r->kind = 'M';
        r->a = (int)tz_num(&s, 1, 12);
        if (r->a < 0 || *s++ != '.') {
            return -1;
        }
        r->b = (int)tz_num(&s, 1, 5);
        if (r->b < 0 || *s++ != '.') {
            return -1;
        }
        r->c = (int)tz_num(&s, 0, 6);
    } else {
        r->kind = 'D';
        r->a = (int)tz_num(&s, 0, 365);
    }
    if (r->a < 0 || r->c < 0) {
        return -1;
    }
    if (*s == '/' && (s++, tz_hms(&s, &r->secs, 167) < 0)) {
        return -1;
    }
    *sp = s;
    return 0;
}

/* The TZif footer, a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). */
static int
tz_footer(struct zone *z, const char *s)
{
    int32_t v = 0;

    if (*s == '\0') {
        return 0;
    }
    if (tz_abbr(&s) < 0 || tz_hms(&s, &v, 24) < 0) {
        return -1;
    }
    z->std_off = -v; /* POSIX offsets count west */
    z->dst_off = z->std_off;
    if (*s != '\0') {
        if (tz_abbr(&s) < 0) {
            return -1;
        }
        z->has_dst = 1;
        z->dst_off = z->std_off + 3600;
        if (*s != ',' && *s != '\0') {
            if (tz_hms(&s, &v, 24) < 0) {
                return -1;
            }
            z->dst_off = -v;
        }
        if (*s == '\0') {
            /* no rule given: the POSIX default is the US one */
            s = ",M3.2.0,M11.1.0";
        }
        if (*s++ != ',' || tz_rule(&s, &z->start) < 0 || *s++ != ',' ||
            tz_rule(&s, &z->end) < 0 || *s != '\0') {
            return -1;
        }
    }
    z->has_tail = 1;
    return 0;
}

/* Parse the TZif data `p` (n bytes) into `z`. 0, or -1 when malformed. */
static int
zone_parse(struct zone *z, const unsigned char *p, size_t n)
{
    uint32_t c[6];
    size_t tsz = 4;
    size_t need = 0;
    size_t i = 0;
    char tail[128];

    for (;;) {
        if (n < 44 || memcmp(p, "TZif", 4) != 0) {
            return -1;
        }
        for (i = 0; i < 6; i++) {
            c[i] = be32(p + 20 + 4 * i);
        }
        /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
        if (c[3] > 100000 || c[4] == 0 || c[4] > 256 || c[5] > 65536 ||
            c[2] > 10000 || c[0] > 256 || c[1] > 256) {
            return -1;
        }
        need =
            c[3] * (tsz + 1) + c[4] * 6 + c[5] + c[2] * (tsz + 4) + c[1] + c[0];
        if (n - 44 < need) {
            return -1;
        }
        if (tsz == 8 || p[4] < '2') {
            break;
        }
        /* version 2+: skip the 32-bit block, read the 64-bit one */
        p += 44 + need;
        n -= 44 + need;
        tsz = 8;
    }
    p += 44;
    n -= 44;
    z->ntrans = c[3];
    z->ntypes = c[4];
    z->trans = xcalloc(z->ntrans + 1, sizeof(*z->trans));
    z->idx = xcalloc(z->ntrans + 1, 1);
    z->utoff = xcalloc(z->ntypes, sizeof(*z->utoff));
    for (i = 0; i < z->ntrans; i++) {
        z->trans[i] = tsz == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
        if (i > 0 && z->trans[i] < z->trans[i - 1]) {
            return -1;
        }
    }
    p += z->ntrans * tsz;
    for (i = 0; i < z->ntrans; i++) {
        z->idx[i] = p[i];
        if (z->idx[i] >= z->ntypes) {
            return -1;
        }
    }
    p += z->ntrans;
    for (i = 0; i < z->ntypes; i++) {
        z->utoff[i] = (int32_t)be32(p + 6 * i);
        if (z->utoff[i] < -25 * 3600 || z->utoff[i] > 26 * 3600) {
            return -1;
        }
    }
    p += need - z->ntrans * (tsz + 1);
    n -= need;
    if (tsz == 8 && n >= 2 && p[0] == '\n') {
        for (i = 1; i < n && i < sizeof(tail) && p[i] != '\n'; i++) {
            tail[i - 1] = (char)p[i];
        }
        if (i < n && i < sizeof(tail)) {
            tail[i - 1] = '\0';
            if (tz_footer(z, tail) < 0) {
                z->has_tail = 0;
                z->has_dst = 0;
            }
        }
    }
    return 0;
}

/* A zone name is a relative path of letters, digits and "_+-" parts. */
static int
zone_name_ok(const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n == 0 || n >= ZONE_NAME_MAX || s[0] == '/' || s[0] == '.' ||
        s[n - 1] == '/' || strncmp(s, "right/", 6) == 0) {
        return 0; /* right/ zones count leap seconds: not unix time */
    }
    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (ch == '.' || (ch == '/' && s[i + 1] == '/')) {
            return 0; /* no "..", no "//" */
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-' ||
              ch == '/')) {
            return 0;
        }
    }
    return 1;
}

/* Free what a parse allocated; `z` is left an empty miss. */
static void
zone_free_parts(struct zone *z)
{
    free(z->trans);
    free(z->idx);
    free(z->utoff);
    z->trans = NULL;
    z->idx = NULL;
    z->utoff = NULL;
    z->ntrans = 0;
    z->ntypes = 0;
    z->has_tail = 0;
    z->has_dst = 0;
}

static void
zone_free(struct zone *z)
{
    if (z != NULL) {
        zone_free_parts(z);
        free(z);
    }
}

/* Read and parse the zone `name` (checked); a miss when it is absent. */
static struct zone *
zone_load(const char *name)
{
    struct zone *z = xcalloc(1, sizeof(*z));
    char path[sizeof(ZONE_DIR) + ZONE_NAME_MAX];
    unsigned char *data = NULL;
    size_t n = 0;
    FILE *f = NULL;

    snprintf(z->name, sizeof(z->name), "%s", name);
    snprintf(path, sizeof(path), "%s%s", ZONE_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        goto out;
    }
    data = xmalloc(ZONE_FILE_MAX);
    n = fread(data, 1, ZONE_FILE_MAX, f);
    if (n == 0 || n == ZONE_FILE_MAX || ferror(f)) {
        goto out;
    }
    if (zone_parse(z, data, n) == 0) {
        z->found = 1;
    }

out:
    if (!z->found) {
        zone_free_parts(z); /* remembered as a miss */
    }
    if (f != NULL) {
        fclose(f);
    }
    free(data);
    return z;
}

/* The zone `name`, or NULL when the tz database has no such zone. */
static const struct zone *
zone_get(const char *name)
{
    struct zone *z = NULL;
    size_t i = 0;

    if (name == NULL || !zone_name_ok(name)) {
        return NULL;
    }
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
        strcmp(name, "GMT") == 0 || strcmp(name, "Etc/GMT") == 0) {
        return &zone_utc;
    }
    pthread_mutex_lock(&zone_lock);
    for (i = 0; i < zone_ncache; i++) {
        if (strcmp(zone_cache[i]->name, name) == 0) {
            z = zone_cache[i];
            goto out;
        }
    }
    z = zone_load(name);
    if (!z->found && zone_nmiss >= ZONE_MISS_MAX) {
        zone_free(z);
        z = NULL;
        goto out;
    }
    if (zone_ncache == zone_capcache) {
        zone_capcache = zone_capcache == 0 ? 16 : zone_capcache * 2;
        zone_cache = xrealloc(zone_cache, zone_capcache * sizeof(*zone_cache));
    }
    zone_cache[zone_ncache++] = z;
    zone_nmiss += z->found ? 0 : 1;

out:
    pthread_mutex_unlock(&zone_lock);
    return z != NULL && z->found ? z : NULL;
}

/* Days since 1970-01-01 of rule `r` in `year`. */
static int64_t
rule_day(const struct zone_rule *r, int year)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int64_t jan1 = isotime_days_from_civil(year, 1, 1);
    int64_t first = 0;
    int64_t day = 0;
    int wd = 0;
    int mlen = 0;

    if (r->kind == 'J') {
        return jan1 + r->a - 1 + (leap && r->a >= 60 ? 1 : 0);
    }
    if (r->kind == 'D') {
        return jan1 + r->a;
    }
    first = isotime_days_from_civil(year, r->a, 1);
    wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    mlen = mdays[r->a - 1] + (r->a == 2 && leap ? 1 : 0);
    day = first + (r->c - wd + 7) % 7 + (int64_t)(r->b - 1) * 7;
    while (day >= first + mlen) {
        day -= 7;
    }
    return day;
}

static int
zone_tail_off(const struct zone *z, int64_t t)
{
    int64_t start = 0;
    int64_t end = 0;
    int y = 0;
    int m = 0;
    int d = 0;
    int64_t lt = t + z->std_off;
    int dst = 0;

    if (!z->has_dst) {
        return z->std_off;
    }
    isotime_civil_from_days(lt >= 0 ? lt / DAY : (lt - DAY + 1) / DAY, &y, &m,
                            &d);
    start = rule_day(&z->start, y) * DAY + z->start.secs - z->std_off;
    end = rule_day(&z->end, y) * DAY + z->end.secs - z->dst_off;
    if (start < end) {
        dst = t >= start && t < end;
    } else {
        dst = !(t >= end && t < start);
    }
    return dst ? z->dst_off : z->std_off;
}

/* Seconds east of UTC in `z` at the instant `t`; 0 for a NULL zone. */
static int
zone_offset(const struct zone *z, int64_t t)
{
    size_t lo = 0;
    size_t hi = 0;

    if (z == NULL) {
        return 0;
    }
    if (z->ntrans == 0) {
        return z->has_tail ? zone_tail_off(z, t) : z->utoff[0];
    }
    if (t < z->trans[0]) {
        return z->utoff[0];
    }
    if (t >= z->trans[z->ntrans - 1] && z->has_tail) {
        return zone_tail_off(z, t);
    }
    /* the last transition at or before t */
    lo = 0;
    hi = z->ntrans;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (z->trans[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return z->utoff[z->idx[lo]];
}

/* The instant whose wall time in `z` is `local` (seconds, read as UTC);
 * in a gap, the first instant after it. */
static int64_t
zone_from_local(const struct zone *z, int64_t local)
{
    int a = zone_offset(z, local);
    int b = zone_offset(z, local - a);

    if (zone_offset(z, local - b) == b) {
        return local - b;
    }
    return local - (a < b ? a : b);
}

/* ------------------------------------------------------------------ */
/* Reading the payload                                                  */
/* ------------------------------------------------------------------ */

/* Where a field sits, for error sentences: "series[2].data". */
struct where {
    const char *kind;
    const char *list;
    size_t i;
    const char *sub; /* NULL or "data" */
};

static int
bad(struct err *e, const struct where *w, const char *key, const char *what)
{
    return err_set(e, ERR_INVALID, "%s: %s[%zu]%s%s.%s %s", w->kind, w->list,
                   w->i, w->sub != NULL ? "." : "",
                   w->sub != NULL ? w->sub : "", key, what);
}

/* `*v` gets the number at `key` of `o`, or NULL when absent or null.
 * ERR_INVALID for any other type. */
static int
get_num(const json_t *o, const char *key, const struct where *w,
        const json_t **v, struct err *e)
{
    const json_t *x = json_object_get(o, key);

    *v = NULL;
    if (x == NULL || json_is_null(x)) {
        return 0;
    }
    if (!json_is_number(x)) {
        return bad(e, w, key, "is not a number");
    }
    *v = x;
    return 0;
}

/* As get_num() for a string. */
static int
get_str(const json_t *o, const char *key, const struct where *w, const char **v,
        struct err *e)
{
    const json_t *x = json_object_get(o, key);

    *v = NULL;
    if (x == NULL || json_is_null(x)) {
        return 0;
    }
    if (!json_is_string(x)) {
        return bad(e, w, key, "is not a string");
    }
    *v = json_string_value(x);
    return 0;
}

/* A unix time in seconds at `key`: *present 0 when absent. */
static int
get_time(const json_t *o, const char *key, const struct where *w, int64_t *t,
         int *present, struct err *e)
{
    const json_t *x = NULL;
    double d = 0;

    *present = 0;
    if (get_num(o, key, w, &x, e) < 0) {
        return ERR_INVALID;
    }
    if (x == NULL) {
        return 0;
    }
    d = json_number_value(x);
    if (!(d >= 0 && d <= (double)LAST_TIME)) {
        return bad(e, w, key, "is not a time in range");
    }
    *t = (int64_t)d;
    *present = 1;
    return 0;
}

/* A JSON number for `v`: an integer when it is one, else a real. */
static json_t *
num(double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

/* A copy of the number `x` (not NULL), keeping integer or real. */
static json_t *
num_copy(const json_t *x)
{
    if (json_is_integer(x)) {
        return json_integer(json_integer_value(x));
    }
    return json_real(json_real_value(x));
}

/* The object at `key` of `o`, made when missing. Borrowed. */
static json_t *
child(json_t *o, const char *key)
{
    json_t *c = json_object_get(o, key);

    if (c == NULL) {
        c = json_object();
        json_object_set_new(o, key, c);
    }
    return c;
}

/* The array at `key` of `o`, made when missing. Borrowed. */
static json_t *
child_array(json_t *o, const char *key)
{
    json_t *c = json_object_get(o, key);

    if (c == NULL) {
        c = json_array();
        json_object_set_new(o, key, c);
    }
    return c;
}

/* Set `key` of `dst` to a copy of `x` when it is not NULL; 1 when set. */
static int
put(json_t *dst, const char *key, const json_t *x)
{
    if (x == NULL) {
        return 0;
    }
    json_object_set_new(dst, key, num_copy(x));
    return 1;
}

/* As put(), into the object `sub` of `dst`, made only when needed. */
static void
put_in(json_t *dst, const char *sub, const char *key, const json_t *x)
{
    if (x != NULL) {
        put(child(dst, sub), key, x);
    }
}

static void
put_time(json_t *dst, const char *key, int64_t t, int off)
{
    char s[ISOTIME_MAX];

    isotime_format(t * 1000000, off, s);
    json_object_set_new(dst, key, json_string(s));
}

/* "YYYY-MM-DD" of the wall time `t` + `off`. */
static void
local_date(int64_t t, int off, char out[11])
{
    int64_t lt = t + off;
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(lt >= 0 ? lt / DAY : (lt - DAY + 1) / DAY, &y, &m,
                            &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u);
}

/* The seconds a 601 answer asks to wait, within reason. */
static long long
wait_seconds(const json_t *answer)
{
    const json_t *w =
        json_object_get(json_object_get(answer, "body"), "wait_seconds");
    double v = json_is_number(w) ? json_number_value(w) : -1;

    return v >= 0 && v <= 86400 ? (long long)v : 60;
}

/*
 * The error a non-zero Withings status stands for. The families are
 * Withings' own: 100-102, 200 and 401 "authentication failed" (the
 * access token is refused: ERR_FORBIDDEN, the grant needs a refresh or
 * a new login); 601 too many requests (ERR_LIMIT, with the wait);
 * 522 timeout; 214, 277, 2553, 2555 "unauthorized" (this app or grant
 * may not call the service); everything else invalid params or "an
 * error occurred" (ERR_UPSTREAM).
 */
static int
status_error(const char *kind, json_int_t s, const json_t *answer,
             struct err *e)
{
    const json_t *msg = json_object_get(answer, "error");
    const char *text = json_is_string(msg) ? json_string_value(msg) : "";
    const char *sep = text[0] != '\0' ? ": " : "";
    long long n = (long long)s;

    if ((s >= 100 && s <= 102) || s == 200 || s == 401) {
        return err_set(e, ERR_FORBIDDEN,
                       "%s: Withings refused the access token (status "
                       "%lld)%s%s",
                       kind, n, sep, text);
    }
    if (s == WS_TOO_MANY) {
        return err_set(e, ERR_LIMIT,
                       "%s: Withings rate limit (status 601), "
                       "wait_seconds=%lld%s%s",
                       kind, wait_seconds(answer), sep, text);
    }
    if (s == WS_TIMEOUT) {
        return err_set(e, ERR_TIMEOUT, "%s: Withings timed out (status 522)",
                       kind);
    }
    if (s == 214 || s == 277 || s == 2553 || s == 2555) {
        return err_set(e, ERR_UPSTREAM,
                       "%s: Withings says the app or grant may not call this "
                       "service (status %lld)%s%s",
                       kind, n, sep, text);
    }
    return err_set(e, ERR_UPSTREAM, "%s: Withings answered status %lld%s%s",
                   kind, n, sep, text);
}

/* The Withings answer's body: 0 with `*body`, or the error its status
 * names. */
static int
answer_body(const char *kind, const json_t *answer, const json_t **body,
            struct err *e)
{
    const json_t *st = json_object_get(answer, "status");

    if (!json_is_object(answer)) {
        return err_set(e, ERR_INVALID, "%s: the answer is not an object", kind);
    }
    if (!json_is_integer(st)) {
        return err_set(e, ERR_INVALID, "%s: status is not an integer", kind);
    }
    if (json_integer_value(st) != WS_OK) {
        return status_error(kind, json_integer_value(st), answer, e);
    }
    *body = json_object_get(answer, "body");
    if (!json_is_object(*body)) {
        return err_set(e, ERR_INVALID, "%s: body is not an object", kind);
    }
    return 0;
}

/* The array at `key` of `body`; empty lists may be absent. */
static int
body_list(const char *kind, const json_t *body, const char *key,
          const json_t **list, struct err *e)
{
    *list = json_object_get(body, key);
    if (*list == NULL || json_is_null(*list)) {
        *list = NULL;
        return 0;
    }
    if (!json_is_array(*list)) {
        return err_set(e, ERR_INVALID, "%s: body.%s is not an array", kind,
                       key);
    }
    return 0;
}

/* The zone a record names at `key`, falling back to `dflt`. */
static int
record_zone(const json_t *o, const struct where *w, const struct zone *dflt,
            const struct zone **z, struct err *e)
{
    const char *name = NULL;

    if (get_str(o, "timezone", w, &name, e) < 0) {
        return ERR_INVALID;
    }
    *z = name != NULL ? zone_get(name) : NULL;
    if (*z == NULL) {
        /* XXX: a zone the tz database lacks is read as UTC. */
        *z = dflt;
    }
    return 0;
}

/* The local midnights that open `date` and the day after in `z`. */
static int
day_bounds(const struct zone *z, const char *date, int64_t *start, int64_t *end)
{
    int y = 0;
    int m = 0;
    int d = 0;
    int64_t days = 0;

    if (isotime_parse_date(date, &y, &m, &d) < 0) {
        return -1;
    }
    days = isotime_days_from_civil(y, m, d);
    *start = zone_from_local(z, days * DAY);
    *end = zone_from_local(z, (days + 1) * DAY);
    return 0;
}

/* The metadata of a daily summary: midnight to midnight. */
static json_t *
day_metadata(const struct zone *z, int64_t start, int64_t end)
{
    json_t *md = json_object();

    put_time(md, "start_time", start, zone_offset(z, start));
    put_time(md, "end_time", end, zone_offset(z, end));
    return md;
}

/* ------------------------------------------------------------------ */
/* getmeas -> body                                                      */
/* ------------------------------------------------------------------ */

/* Measure types (Measure - Getmeas, `meastype`). */
enum {
    MT_WEIGHT = 1,
    MT_HEIGHT = 4,
    MT_FAT_FREE = 5,
    MT_FAT_RATIO = 6,
    MT_FAT_MASS = 8,
    MT_DIASTOLIC = 9,
    MT_SYSTOLIC = 10,
    MT_PULSE = 11,
    MT_TEMP = 12,
    MT_SPO2 = 54,
    MT_BODY_TEMP = 71,
    MT_SKIN_TEMP = 73,
    MT_MUSCLE = 76,
    MT_HYDRATION = 77,
    MT_BONE = 88,
    MT_PWV = 91,
    MT_VO2MAX = 123,
    MT_AFIB = 130,
    MT_AFIB_PPG = 139,
    MT_BMR = 226,
};

#define MEASTYPES "1,4,5,6,8,9,10,11,12,54,71,73,76,77,88,91,123,130,139,226"

/* One local day of measure groups, being built into a Terra body. */
struct meas_day {
    char date[11];
    const struct zone *zone;
    json_t *data;
    double hr_sum;
    double hr_min;
    double hr_max;
    size_t hr_n;
    double spo2_sum;
    size_t spo2_n;
    double vo2;
    int has_vo2;
};

struct meas_days {
    struct meas_day *v;
    size_t n;
    size_t cap;
    json_t *at; /* a date -> its place in v */
};

/* value * 10^(unit + shift), correctly rounded for the usual units. */
static double
meas_scale(json_int_t value, int unit, int shift)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int x = unit + shift;

    if (x >= 0 && x <= 22) {
        return (double)value * p10[x];
    }
    if (x < 0 && x >= -22) {
        return (double)value / p10[-x];
    }
    return (double)value * pow(10, x);
}

/* The day `date` of `days`, made (in zone `z`) when it has none yet. */
static struct meas_day *
meas_day_get(struct meas_days *days, const char *date, const struct zone *z)
{
    const json_t *at = json_object_get(days->at, date);
    struct meas_day *d = NULL;

    if (at != NULL) {
        return &days->v[json_integer_value(at)];
    }
    if (days->at == NULL) {
        days->at = json_object();
    }
    json_object_set_new_nocheck(days->at, date,
                                json_integer((json_int_t)days->n));
    if (days->n == days->cap) {
        days->cap = days->cap == 0 ? 8 : days->cap * 2;
        days->v = xrealloc(days->v, days->cap * sizeof(*days->v));
    }
    d = &days->v[days->n++];
    memset(d, 0, sizeof(*d));
    snprintf(d->date, sizeof(d->date), "%s", date);
    d->zone = z;
    d->data = json_object();
    return d;
}

/* Append {timestamp: ts, key: v} to the array `list` of `parent`. */
static void
sample(json_t *parent, const char *list, const char *ts, const char *key,
       double v)
{
    json_t *s = json_object();

    json_object_set_new(s, "timestamp", json_string(ts));
    json_object_set_new(s, key, num(v));
    json_array_append_new(child_array(parent, list), s);
}

/* Withings' AFib classes to Terra's AFibFlag (0 -, 1 +, 2 unsure). */
static int
afib_flag(json_int_t v)
{
    if (v == 0 || v == 9 || v == 10) {
        return 0;
    }
    if (v == 1 || v == 11 || v == 12) {
        return 1;
    }
    return 2;
}

/* The measures of one group, read into `m[type]` (NaN when absent). */
struct meas_vals {
    double v[256];
    json_int_t raw[256];
    int unit[256];
};

static int
meas_read(const json_t *grp, const struct where *gw, struct meas_vals *mv,
          int *any, struct err *e)
{
    const json_t *list = json_object_get(grp, "measures");
    struct where w = {gw->kind, "measures", 0, NULL};
    size_t i = 0;
    size_t t = 0;

    for (t = 0; t < 256; t++) {
        mv->v[t] = NAN;
    }
    *any = 0;
    if (!json_is_array(list)) {
        return bad(e, gw, "measures", "is not an array");
    }
    for (i = 0; i < json_array_size(list); i++) {
        const json_t *m = json_array_get(list, i);
        const json_t *ty = json_object_get(m, "type");
        const json_t *va = json_object_get(m, "value");
        const json_t *un = json_object_get(m, "unit");
        json_int_t type = 0;
        json_int_t unit = 0;

        w.i = i;
        if (!json_is_object(m) || !json_is_integer(ty) ||
            !json_is_integer(va) || !json_is_integer(un)) {
            return bad(e, &w, "type", "value and unit must be integers");
        }
        type = json_integer_value(ty);
        unit = json_integer_value(un);
        if (unit < -30 || unit > 30) {
            return bad(e, &w, "unit", "is out of range");
        }
        if (type <= 0 || type > 255) {
            continue; /* a type ferry does not map */
        }
        mv->raw[type] = json_integer_value(va);
        mv->unit[type] = (int)unit;
        mv->v[type] = meas_scale(mv->raw[type], (int)unit, 0);
        if (!isfinite(mv->v[type])) {
            return bad(e, &w, "value", "is out of range");
        }
        *any = 1;
    }
    return 0;
}

#define HAS(mv, t) (!isnan((mv)->v[(t)]))

/* Measure `t` in its unit times 10^shift (grams from kilograms: 3). */
static json_t *
scaled(const struct meas_vals *mv, int t, int shift)
{
    return num(meas_scale(mv->raw[t], mv->unit[t], shift));
}

/* A measurement sample of the group, when it has any of its fields. */
static void
meas_measurement(struct meas_day *d, const struct meas_vals *mv, const char *ts)
{
    json_t *m = json_object();

    if (HAS(mv, MT_WEIGHT)) {
        json_object_set_new(m, "weight_kg", num(mv->v[MT_WEIGHT]));
    }
    if (HAS(mv, MT_HEIGHT)) {
        json_object_set_new(m, "height_cm", scaled(mv, MT_HEIGHT, 2));
    }
    if (HAS(mv, MT_FAT_RATIO)) {
        json_object_set_new(m, "bodyfat_percentage", num(mv->v[MT_FAT_RATIO]));
    }
    if (HAS(mv, MT_FAT_FREE)) {
        json_object_set_new(m, "lean_mass_g", scaled(mv, MT_FAT_FREE, 3));
    }
    if (HAS(mv, MT_MUSCLE)) {
        json_object_set_new(m, "muscle_mass_g", scaled(mv, MT_MUSCLE, 3));
    }
    if (HAS(mv, MT_BONE)) {
        json_object_set_new(m, "bone_mass_g", scaled(mv, MT_BONE, 3));
    }
    if (HAS(mv, MT_HYDRATION) && HAS(mv, MT_WEIGHT) && mv->v[MT_WEIGHT] > 0) {
        json_object_set_new(
            m, "water_percentage",
            num(round(mv->v[MT_HYDRATION] / mv->v[MT_WEIGHT] * 1000) / 10));
    }
    if (HAS(mv, MT_BMR)) {
        json_object_set_new(m, "BMR", num(mv->v[MT_BMR]));
    }
    if (json_object_size(m) == 0) {
        json_decref(m);
        return;
    }
    json_object_set_new(m, "measurement_time", json_string(ts));
    json_array_append_new(
        child_array(child(d->data, "measurements_data"), "measurements"), m);
}

/* Everything but the measurement sample. */
static void
meas_samples(struct meas_day *d, const struct meas_vals *mv, const char *ts)
{
    json_t *heart = NULL;
    json_t *temp = NULL;
    json_t *ox = NULL;

    if (HAS(mv, MT_DIASTOLIC) || HAS(mv, MT_SYSTOLIC)) {
        json_t *s = json_object();

        json_object_set_new(s, "timestamp", json_string(ts));
        if (HAS(mv, MT_DIASTOLIC)) {
            json_object_set_new(s, "diastolic_bp", num(mv->v[MT_DIASTOLIC]));
        }
        if (HAS(mv, MT_SYSTOLIC)) {
            json_object_set_new(s, "systolic_bp", num(mv->v[MT_SYSTOLIC]));
        }
        json_array_append_new(child_array(child(d->data, "blood_pressure_data"),
                                          "blood_pressure_samples"),
                              s);
    }
    if (HAS(mv, MT_PULSE)) {
        double bpm = mv->v[MT_PULSE];

        heart = child(child(d->data, "heart_data"), "heart_rate_data");
        sample(child(heart, "detailed"), "hr_samples", ts, "bpm", bpm);
        d->hr_min = d->hr_n == 0 || bpm < d->hr_min ? bpm : d->hr_min;
        d->hr_max = d->hr_n == 0 || bpm > d->hr_max ? bpm : d->hr_max;
        d->hr_sum += bpm;
        d->hr_n++;
    }
    if (HAS(mv, MT_PWV)) {
        sample(child(d->data, "heart_data"), "pulse_wave_velocity_samples", ts,
               "pulse_wave_velocity_meters_per_second", mv->v[MT_PWV]);
    }
    if (HAS(mv, MT_AFIB) || HAS(mv, MT_AFIB_PPG)) {
        json_int_t v =
            HAS(mv, MT_AFIB) ? mv->raw[MT_AFIB] : mv->raw[MT_AFIB_PPG];

        sample(child(d->data, "heart_data"), "afib_classification_samples", ts,
               "afib_classification", afib_flag(v));
    }
    if (HAS(mv, MT_TEMP) || HAS(mv, MT_BODY_TEMP)) {
        temp = child(d->data, "temperature_data");
        sample(temp, "body_temperature_samples", ts, "temperature_celsius",
               HAS(mv, MT_BODY_TEMP) ? mv->v[MT_BODY_TEMP] : mv->v[MT_TEMP]);
    }
    if (HAS(mv, MT_SKIN_TEMP)) {
        temp = child(d->data, "temperature_data");
        sample(temp, "skin_temperature_samples", ts, "temperature_celsius",
               mv->v[MT_SKIN_TEMP]);
    }
    if (HAS(mv, MT_HYDRATION)) {
        sample(child(d->data, "hydration_data"), "hydration_amount_samples", ts,
               "hydration_kg", mv->v[MT_HYDRATION]);
    }
    if (HAS(mv, MT_SPO2)) {
        json_t *s = json_object();

        ox = child(d->data, "oxygen_data");
        json_object_set_new(s, "timestamp", json_string(ts));
        json_object_set_new(s, "percentage", num(mv->v[MT_SPO2]));
        json_object_set_new(s, "type", json_integer(0));
        json_array_append_new(child_array(ox, "saturation_samples"), s);
        d->spo2_sum += mv->v[MT_SPO2];
        d->spo2_n++;
    }
    if (HAS(mv, MT_VO2MAX)) {
        ox = child(d->data, "oxygen_data");
        sample(ox, "vo2_samples", ts, "vo2max_ml_per_min_per_kg",
               mv->v[MT_VO2MAX]);
        d->vo2 = mv->v[MT_VO2MAX];
        d->has_vo2 = 1;
    }
}

/* A measure group and what it is sorted by, read once. */
struct grp_ord {
    const json_t *grp;
    double date;
    double grpid; /* 0 when it has none */
    size_t i;     /* its place in the answer */
};

/* Order of measure groups: by time, then by id, then as answered. */
static int
grp_cmp(const void *pa, const void *pb)
{
    const struct grp_ord *a = pa;
    const struct grp_ord *b = pb;

    if (a->date != b->date) {
        return a->date < b->date ? -1 : 1;
    }
    if (a->grpid != b->grpid) {
        return a->grpid < b->grpid ? -1 : 1;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

static int
meas_group(struct meas_days *days, const json_t *grp, const struct where *w,
           const struct zone *dflt, struct err *e)
{
    const json_t *cat = NULL;
    const json_t *attrib = NULL;
    const struct zone *z = NULL;
    struct meas_vals mv;
    struct meas_day *d = NULL;
    char date[11];
    char ts[ISOTIME_MAX];
    int64_t t = 0;
    int present = 0;
    int any = 0;

    if (get_time(grp, "date", w, &t, &present, e) < 0 ||
        get_num(grp, "category", w, &cat, e) < 0 ||
        get_num(grp, "attrib", w, &attrib, e) < 0 ||
        record_zone(grp, w, dflt, &z, e) < 0) {
        return ERR_INVALID;
    }
    if (!present) {
        return bad(e, w, "date", "is missing");
    }
    if (meas_read(grp, w, &mv, &any, e) < 0) {
        return ERR_INVALID;
    }
    /* goals (category 2) and groups that may be someone else's
     * (attrib 1, ambiguous) are not the user's measures */
    if (!any || (cat != NULL && json_number_value(cat) != 1) ||
        (attrib != NULL && json_number_value(attrib) == 1)) {
        return 0;
    }
    local_date(t, zone_offset(z, t), date);
    isotime_format(t * 1000000, zone_offset(z, t), ts);
    d = meas_day_get(days, date, z);
    meas_measurement(d, &mv, ts);
    meas_samples(d, &mv, ts);
    return 0;
}

/* Close one day: the summaries, the metadata, the record. */
static int
meas_day_finish(struct meas_day *d, struct adapter_records *out)
{
    int64_t start = 0;
    int64_t end = 0;

    if (json_object_size(d->data) == 0 ||
        day_bounds(d->zone, d->date, &start, &end) < 0) {
        json_decref(d->data);
        return 0;
    }
    if (d->hr_n > 0) {
        json_t *s = child(
            child(child(d->data, "heart_data"), "heart_rate_data"), "summary");

        json_object_set_new(s, "avg_hr_bpm",
                            num(round(d->hr_sum / (double)d->hr_n)));
        json_object_set_new(s, "min_hr_bpm", num(d->hr_min));
        json_object_set_new(s, "max_hr_bpm", num(d->hr_max));
    }
    if (d->spo2_n > 0) {
        json_object_set_new(
            child(d->data, "oxygen_data"), "avg_saturation_percentage",
            num(round(d->spo2_sum / (double)d->spo2_n * 10) / 10));
    }
    if (d->has_vo2) {
        json_object_set_new(child(d->data, "oxygen_data"),
                            "vo2max_ml_per_min_per_kg", num(d->vo2));
    }
    json_object_set_new(d->data, "metadata", day_metadata(d->zone, start, end));
    return adapter_records_add(out, DT_BODY, d->date, d->data, start * 1000000,
                               end * 1000000, d->date);
}

/*
 * XXX: groups are put on a day by their local date alone, and the day's
 * bounds are those of the zone of its first group: measures of one date
 * in two zones (a flight) share a day that one of them falls outside.
 *
 * XXX: one record per local day is built from one page of groups. A day
 * whose groups Withings splits over two pages (`more`/`offset`) gives
 * two records with the same key, and the second replaces the first in
 * the store. Either the pipeline merges same-key records of one request
 * (arrays appended) or normalize is handed every page at once; which is
 * for adapter.h to say.
 */
static int
norm_getmeas(const json_t *body, struct adapter_records *out, struct err *e)
{
    struct where w = {"getmeas", "measuregrps", 0, NULL};
    struct meas_days days = {NULL, 0, 0, NULL};
    const struct zone *dflt = NULL;
    const json_t *list = NULL;
    struct grp_ord *grps = NULL;
    const json_t *tz = json_object_get(body, "timezone");
    size_t n = 0;
    size_t i = 0;
    size_t k = 0; /* days handed to `out` */
    int rc = 0;

    rc = body_list("getmeas", body, "measuregrps", &list, e);
    if (rc < 0 || list == NULL) {
        goto out;
    }
    dflt = json_is_string(tz) ? zone_get(json_string_value(tz)) : NULL;
    n = json_array_size(list);
    grps = xcalloc(n + 1, sizeof(*grps));
    for (i = 0; i < n; i++) {
        const json_t *g = json_array_get(list, i);

        w.i = i;
        if (!json_is_object(g)) {
            rc = err_set(e, ERR_INVALID,
                         "getmeas: measuregrps[%zu] is not "
                         "an object",
                         i);
            goto out;
        }
        if (!json_is_number(json_object_get(g, "date"))) {
            rc = bad(e, &w, "date", "is not a number");
            goto out;
        }
        grps[i].grp = g;
        grps[i].date = json_number_value(json_object_get(g, "date"));
        grps[i].grpid = json_number_value(json_object_get(g, "grpid"));
        grps[i].i = i;
    }
    /* oldest first, so samples come in time order */
    qsort(grps, n, sizeof(*grps), grp_cmp);
    for (i = 0; i < n; i++) {
        w.i = i;
        rc = meas_group(&days, grps[i].grp, &w, dflt, e);
        if (rc < 0) {
            goto out;
        }
    }
    while (k < days.n) {
        rc = meas_day_finish(&days.v[k++], out);
        if (rc < 0) {
            goto out;
        }
    }

out:
    for (; k < days.n; k++) {
        json_decref(days.v[k].data);
    }
    json_decref(days.at);
    free(days.v);
    free(grps);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Shared by activity, daily and sleep                                  */
/* ------------------------------------------------------------------ */

/* Withings' four heart-rate zones (light, moderate, intense, maximal). */
static const char *const hr_zone_names[4] = {"light", "moderate", "intense",
                                             "maximal"};

/* hr_average, hr_min, hr_max and hr_zone_0..3 of `o` into `parent`'s
 * heart_rate_data.summary. */
static int
heart_summary(const json_t *o, const struct where *w, json_t *parent,
              struct err *e)
{
    static const char *const from[3] = {"hr_average", "hr_min", "hr_max"};
    static const char *const to[3] = {"avg_hr_bpm", "min_hr_bpm", "max_hr_bpm"};
    json_t *s = json_object();
    json_t *zones = json_array();
    const json_t *x = NULL;
    char key[] = "hr_zone_0";
    int i = 0;

    for (i = 0; i < 3; i++) {
        if (get_num(o, from[i], w, &x, e) < 0) {
            goto fail;
        }
        put(s, to[i], x);
    }
    for (i = 0; i < 4; i++) {
        json_t *z = NULL;

        key[sizeof(key) - 2] = (char)('0' + i);
        if (get_num(o, key, w, &x, e) < 0) {
            goto fail;
        }
        if (x == NULL) {
            continue;
        }
        z = json_object();
        json_object_set_new(z, "zone", json_integer(i));
        json_object_set_new(z, "name", json_string(hr_zone_names[i]));
        put(z, "duration_seconds", x);
        json_array_append_new(zones, z);
    }
    if (json_array_size(zones) > 0) {
        json_object_set(s, "hr_zone_data", zones);
    }
    if (json_object_size(s) > 0) {
        json_object_set(child(parent, "heart_rate_data"), "summary", s);
    }
    json_decref(zones);
    json_decref(s);
    return 0;

fail:
    json_decref(zones);
    json_decref(s);
    return ERR_INVALID;
}

/* Copy each present `from[i]` number of `o` to `to[i]` of a new object
 * set at `key` of `dst` when any is there. `*v` keeps the values. */
static int
copy_fields(const json_t *o, const struct where *w, const char *const *from,
            const char *const *to, size_t n, json_t *dst, const char *key,
            struct err *e)
{
    json_t *c = json_object();
    const json_t *x = NULL;
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (get_num(o, from[i], w, &x, e) < 0) {
            json_decref(c);
            return ERR_INVALID;
        }
        put(c, to[i], x);
    }
    if (json_object_size(c) == 0) {
        json_decref(c);
        return 0;
    }
    json_object_set_new(dst, key, c);
    return 0;
}

/* The stable key of a session: its id, else its start. */
static int
session_key(const json_t *o, const struct where *w, int64_t start, char key[64],
            struct err *e)
{
    const json_t *id = json_object_get(o, "id");

    if (json_is_integer(id)) {
        snprintf(key, 64, "%lld", (long long)json_integer_value(id));
    } else if (json_is_string(id) && json_string_length(id) > 0 &&
               json_string_length(id) < 64) {
        snprintf(key, 64, "%s", json_string_value(id));
    } else if (id == NULL || json_is_null(id)) {
        snprintf(key, 64, "start-%lld", (long long)start);
    } else {
        return bad(e, w, "id", "is not an integer");
    }
    return 0;
}

/* startdate and enddate of a session, both required, in order. */
static int
session_times(const json_t *o, const struct where *w, int64_t *start,
              int64_t *end, struct err *e)
{
    int has_start = 0;
    int has_end = 0;

    if (get_time(o, "startdate", w, start, &has_start, e) < 0 ||
        get_time(o, "enddate", w, end, &has_end, e) < 0) {
        return ERR_INVALID;
    }
    if (!has_start || !has_end) {
        return bad(e, w, has_start ? "enddate" : "startdate", "is missing");
    }
    if (*end < *start) {
        return bad(e, w, "enddate", "is before startdate");
    }
    return 0;
}

/* The record's `data` object, or NULL when absent. */
static int
session_data(const json_t *o, const struct where *w, const json_t **data,
             struct err *e)
{
    *data = json_object_get(o, "data");
    if (*data == NULL || json_is_null(*data)) {
        *data = NULL;
        return 0;
    }
    if (!json_is_object(*data)) {
        return bad(e, w, "data", "is not an object");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* getactivity -> daily                                                 */
/* ------------------------------------------------------------------ */

#define ACTIVITY_FIELDS                                                        \
    "steps,distance,elevation,soft,moderate,intense,active,calories,"          \
    "totalcalories,hr_average,hr_min,hr_max,hr_zone_0,hr_zone_1,hr_zone_2,"    \
    "hr_zone_3"

/* `brand`: 1 Withings (device or app tracker), 18 another source. */
static int
daily_upload_type(const json_t *brand)
{
    if (brand == NULL) {
        return 0;
    }
    if (json_number_value(brand) == 1) {
        return 1;
    }
    if (json_number_value(brand) == 18) {
        return 6;
    }
    return 0;
}

static int
daily_calories(const json_t *a, const struct where *w, json_t *data,
               struct err *e)
{
    const json_t *active = NULL;
    const json_t *total = NULL;
    json_t *c = NULL;

    if (get_num(a, "calories", w, &active, e) < 0 ||
        get_num(a, "totalcalories", w, &total, e) < 0) {
        return ERR_INVALID;
    }
    if (active == NULL && total == NULL) {
        return 0;
    }
    c = child(data, "calories_data");
    put(c, "net_activity_calories", active);
    put(c, "total_burned_calories", total);
    /* total = active + passive; the passive part is the BMR share */
    if (active != NULL && total != NULL &&
        json_number_value(total) >= json_number_value(active)) {
        json_object_set_new(
            c, "BMR_calories",
            num(round((json_number_value(total) - json_number_value(active)) *
                      100) /
                100));
    }
    return 0;
}

static int
norm_day(const json_t *a, const struct where *w, struct adapter_records *out,
         struct err *e)
{
    static const char *const dist_from[3] = {"steps", "distance", "elevation"};
    static const char *const dist_to[3] = {"steps", "distance_meters",
                                           "floors_climbed"};
    static const char *const dur_from[4] = {"soft", "moderate", "intense",
                                            "active"};
    static const char *const dur_to[4] = {
        "low_intensity_seconds", "moderate_intensity_seconds",
        "vigorous_intensity_seconds", "activity_seconds"};
    const struct zone *z = NULL;
    const json_t *brand = NULL;
    const char *date = NULL;
    const char *model = NULL;
    json_t *data = json_object();
    json_t *md = NULL;
    int64_t start = 0;
    int64_t end = 0;

    if (get_str(a, "date", w, &date, e) < 0 ||
        get_str(a, "model", w, &model, e) < 0 ||
        get_num(a, "brand", w, &brand, e) < 0 ||
        record_zone(a, w, NULL, &z, e) < 0 ||
        copy_fields(a, w, dist_from, dist_to, 3, data, "distance_data", e) <
            0 ||
        copy_fields(a, w, dur_from, dur_to, 4, data, "active_durations_data",
                    e) < 0 ||
        daily_calories(a, w, data, e) < 0 || heart_summary(a, w, data, e) < 0) {
        json_decref(data);
        return ERR_INVALID;
    }
    if (date == NULL || day_bounds(z, date, &start, &end) < 0) {
        json_decref(data);
        return bad(e, w, "date", "is not a YYYY-MM-DD date");
    }
    if (json_object_size(data) == 0) {
        json_decref(data); /* a day with nothing measured */
        return 0;
    }
    if (model != NULL && model[0] != '\0') {
        json_object_set_new(child(data, "device_data"), "name",
                            json_string(model));
    }
    md = day_metadata(z, start, end);
    json_object_set_new(md, "upload_type",
                        json_integer(daily_upload_type(brand)));
    json_object_set_new(data, "metadata", md);
    return adapter_records_add(out, DT_DAILY, date, data, start * 1000000,
                               end * 1000000, date);
}

/* ------------------------------------------------------------------ */
/* getworkouts -> activity                                              */
/* ------------------------------------------------------------------ */

#define WORKOUT_FIELDS                                                         \
    "calories,intensity,manual_distance,manual_calories,hr_average,hr_min,"    \
    "hr_max,hr_zone_0,hr_zone_1,hr_zone_2,hr_zone_3,pause_duration,"           \
    "algo_pause_duration,spo2_average,steps,distance,elevation,pool_laps,"     \
    "strokes,pool_length"

#define WC_NO_ACTIVITY 128

/* Withings workout categories and Terra's ActivityType for each. */
struct workout_category {
    int code;
    int terra;
    const char *name;
};

static const struct workout_category categories[] = {
    {1, 7, "Walk"},
    {2, 8, "Run"},
    {3, 35, "Hiking"},
    {4, 62, "Skating"},
    {5, 1, "BMX"},
    {6, 1, "Bicycling"},
    {7, 82, "Swimming"},
    {8, 81, "Surfing"},
    {9, 43, "Kitesurfing"},
    {10, 99, "Windsurfing"},
    {11, 81, "Bodyboard"},
    {12, 87, "Tennis"},
    {13, 85, "Table tennis"},
    {14, 76, "Squash"},
    {15, 10, "Badminton"},
    {16, 97, "Lift weights"},
    {17, 21, "Fitness"},
    {18, 25, "Elliptical"},
    {19, 49, "Pilates"},
    {20, 12, "Basketball"},
    {21, 29, "Soccer"},
    {22, 27, "Football"},
    {23, 55, "Rugby"},
    {24, 89, "Volleyball"},
    {25, 96, "Waterpolo"},
    {26, 37, "Horse riding"},
    {27, 32, "Golf"},
    {28, 100, "Yoga"},
    {29, 24, "Dancing"},
    {30, 20, "Boxing"},
    {31, 26, "Fencing"},
    {32, 44, "Wrestling"},
    {33, 44, "Martial arts"},
    {34, 65, "Skiing"},
    {35, 73, "Snowboarding"},
    {36, 108, "Other"},
    {187, 53, "Rowing"},
    {188, 101, "Zumba"},
    {191, 11, "Baseball"},
    {192, 34, "Handball"},
    {193, 36, "Hockey"},
    {194, 36, "Ice hockey"},
    {195, 52, "Climbing"},
    {196, 104, "Ice skating"},
    {272, 108, "Multi-sport"},
    {306, 95, "Indoor walk"},
    {307, 133, "Indoor running"},
    {308, 18, "Indoor cycling"},
    {455, 79, "Standup paddleboarding"},
    {456, 134, "Padel"},
    {457, 108, "Gaming"},
    {490, 90, "Beach volleyball"},
    {491, 78, "Stair stepper"},
    {492, 61, "Skateboarding"},
    {493, 108, "Parkour"},
    {494, 40, "Kayaking"},
    {495, 140, "Canoeing"},
    {496, 59, "Sailing"},
    {497, 131, "Fishing"},
    {498, 8, "Trail running"},
    {499, 75, "Snowshoeing"},
    {500, 108, "Paintball"},
    {501, 119, "Archery"},
    {502, 60, "Scuba diving"},
    {503, 11, "Baseball training"},
    {504, 13, "Biathlon"},
    {505, 108, "Bocce"},
    {506, 108, "Petanque"},
    {507, 48, "Paragliding"},
    {508, 30, "Frisbee"},
    {509, 128, "Skydiving"},
    {510, 108, "Pickleball"},
    {511, 108, "Cornhole"},
    {512, 108, "Dodgeball"},
    {513, 30, "Ultimate"},
    {514, 108, "Teqball"},
    {515, 98, "Wheelchair (running pace)"},
    {516, 98, "Wheelchair (walking pace)"},
    {517, 108, "Athletics"},
    {518, 1, "Track cycling"},
    {519, 108, "Pentathlon"},
    {520, 108, "Sport shooting"},
    {521, 126, "Triathlon"},
    {522, 102, "Diving"},
    {523, 15, "Mountain biking"},
    {524, 1, "Gravel biking"},
    {525, 1, "E-biking"},
    {526, 15, "E-mountain biking"},
    {527, 14, "Handcycling"},
    {528, 1, "Velomobile"},
    {529, 66, "Backcountry skiing"},
    {530, 67, "Nordic skiing"},
    {531, 70, "Roller skiing"},
    {532, 51, "Racquetball"},
    {534, 24, "Hip hop"},
    {535, 42, "Muay thai"},
    {536, 44, "Taekwondo"},
    {537, 44, "Judo"},
    {538, 33, "Trampoline"},
    {539, 108, "Standing frame"},
    {540, 80, "Seated strength"},
    {541, 123, "Seated cardio"},
    {542, 7, "Walk with walker"},
    {543, 7, "Walk with cane"},
    {544, 24, "Breaking"},
    {545, 38, "Chores"},
    {546, 113, "Crossfit"},
    {547, 17, "Spin class"},
    {548, 23, "Cricket"},
    {549, 24, "Flamenco dancing"},
    {550, 114, "HIIT"},
    {551, 45, "Meditation"},
    {552, 125, "Stretching"},
    {553, 31, "Yard work, gardening"},
    {554, 38, "Cleaning"},
    {555, 108, "Public speaking"},
    {556, 108, "Spikeball"},
    {557, 124, "Lacrosse"},
    {558, 108, "Baby wearing"},
    {559, 7, "Dog walking"},
    {560, 122, "Breathing exercises"},
    {561, 108, "Balance drills"},
    {562, 116, "Pushing a stroller"},
    {563, 108, "Toddler wearing"},
    {564, 108, "Bowling"},
    {565, 108, "Laser tag"},
    {566, 94, "Nordic walking"},
    {567, 44, "Sumo wrestling"},
    {568, 108, "Cooking"},
};

static int
category_cmp(const void *key, const void *elem)
{
    int code = *(const int *)key;
    const struct workout_category *c = elem;

    return code < c->code ? -1 : code > c->code;
}

/* The category `code`, or NULL when Withings has added one since. */
static const struct workout_category *
category_find(int code)
{
    return bsearch(&code, categories, sizeof(categories) / sizeof(*categories),
                   sizeof(*categories), category_cmp);
}

/* attrib 2 and 4 are entered by hand; models 1051-1063 are phone and
 * third-party trackers (HealthKit, Google Fit, ...). */
static int
workout_upload_type(const json_t *attrib, const json_t *model)
{
    double a = attrib != NULL ? json_number_value(attrib) : 0;
    double m = model != NULL ? json_number_value(model) : 0;

    if (a == 2 || a == 4) {
        return 2;
    }
    if (m >= 1051 && m <= 1063) {
        return 6;
    }
    return 1;
}

static int
workout_metadata(const json_t *s, const struct where *w, const char *key,
                 const struct zone *z, int64_t start, int64_t end, json_t *data,
                 struct err *e)
{
    const struct workout_category *c = NULL;
    const json_t *cat = NULL;
    const json_t *attrib = NULL;
    const json_t *model = NULL;
    json_t *md = json_object();

    json_object_set_new(data, "metadata", md);
    if (get_num(s, "category", w, &cat, e) < 0 ||
        get_num(s, "attrib", w, &attrib, e) < 0 ||
        get_num(s, "model", w, &model, e) < 0) {
        return ERR_INVALID;
    }
    if (cat != NULL && json_number_value(cat) >= INT_MIN &&
        json_number_value(cat) <= INT_MAX) {
        /* another number is no category ferry knows */
        c = category_find((int)json_number_value(cat));
    }
    json_object_set_new(md, "summary_id", json_string(key));
    put_time(md, "start_time", start, zone_offset(z, start));
    put_time(md, "end_time", end, zone_offset(z, end));
    json_object_set_new(md, "type", json_integer(c != NULL ? c->terra : 4));
    json_object_set_new(md, "upload_type",
                        json_integer(workout_upload_type(attrib, model)));
    if (c != NULL) {
        json_object_set_new(md, "name", json_string(c->name));
    }
    return 0;
}

/* The automatic value at `key`, else the one entered by hand. */
static int
auto_or_manual(const json_t *d, const struct where *w, const char *key,
               const char *manual, const json_t **v, struct err *e)
{
    if (get_num(d, key, w, v, e) < 0) {
        return ERR_INVALID;
    }
    if (*v == NULL || json_number_value(*v) == 0) {
        const json_t *m = NULL;

        if (get_num(d, manual, w, &m, e) < 0) {
            return ERR_INVALID;
        }
        if (m != NULL && json_number_value(m) > 0) {
            *v = m;
        }
    }
    return 0;
}

static int
workout_distance(const json_t *d, const struct where *w, json_t *data,
                 struct err *e)
{
    static const char *const swim_from[3] = {"pool_laps", "strokes",
                                             "pool_length"};
    static const char *const swim_to[3] = {"num_laps", "num_strokes",
                                           "pool_length_meters"};
    json_t *s = json_object();
    const json_t *dist = NULL;
    const json_t *x = NULL;

    if (auto_or_manual(d, w, "distance", "manual_distance", &dist, e) < 0) {
        goto fail;
    }
    put(s, "distance_meters", dist);
    if (get_num(d, "steps", w, &x, e) < 0) {
        goto fail;
    }
    put(s, "steps", x);
    if (get_num(d, "elevation", w, &x, e) < 0) {
        goto fail;
    }
    put(s, "floors_climbed", x);
    if (copy_fields(d, w, swim_from, swim_to, 3, s, "swimming", e) < 0) {
        goto fail;
    }
    if (json_object_size(s) > 0) {
        json_object_set_new(child(data, "distance_data"), "summary", s);
    } else {
        json_decref(s);
    }
    return 0;

fail:
    json_decref(s);
    return ERR_INVALID;
}

static int
workout_data(const json_t *d, const struct where *w, int64_t start, int64_t end,
             json_t *data, struct err *e)
{
    const json_t *cal = NULL;
    const json_t *pause = NULL;
    const json_t *spo2 = NULL;
    double rest = 0;

    if (auto_or_manual(d, w, "calories", "manual_calories", &cal, e) < 0 ||
        auto_or_manual(d, w, "pause_duration", "algo_pause_duration", &pause,
                       e) < 0 ||
        get_num(d, "spo2_average", w, &spo2, e) < 0 ||
        workout_distance(d, w, data, e) < 0 ||
        heart_summary(d, w, data, e) < 0) {
        return ERR_INVALID;
    }
    put_in(data, "calories_data", "net_activity_calories", cal);
    rest = pause != NULL ? json_number_value(pause) : 0;
    if (rest >= 0 && rest <= (double)(end - start)) {
        json_t *ad = child(data, "active_durations_data");

        json_object_set_new(ad, "activity_seconds",
                            num((double)(end - start) - rest));
        if (pause != NULL) {
            put(ad, "rest_seconds", pause);
        }
    }
    put_in(data, "oxygen_data", "avg_saturation_percentage", spo2);
    return 0;
}

static int
norm_workout(const json_t *s, const struct where *w,
             struct adapter_records *out, struct err *e)
{
    struct where dw = {w->kind, w->list, w->i, "data"};
    const struct zone *z = NULL;
    const json_t *d = NULL;
    const json_t *cat = NULL;
    json_t *data = NULL;
    char key[64];
    int64_t start = 0;
    int64_t end = 0;

    if (session_times(s, w, &start, &end, e) < 0 ||
        session_key(s, w, start, key, e) < 0 ||
        record_zone(s, w, NULL, &z, e) < 0 || session_data(s, w, &d, e) < 0 ||
        get_num(s, "category", w, &cat, e) < 0) {
        return ERR_INVALID;
    }
    if (cat != NULL && json_number_value(cat) == WC_NO_ACTIVITY) {
        return 0;
    }
    data = json_object();
    if (workout_metadata(s, w, key, z, start, end, data, e) < 0 ||
        (d != NULL && workout_data(d, &dw, start, end, data, e) < 0)) {
        json_decref(data);
        return ERR_INVALID;
    }
    return adapter_records_add(out, DT_ACTIVITY, key, data, start * 1000000,
                               end * 1000000, NULL);
}

/* ------------------------------------------------------------------ */
/* getsummary -> sleep                                                  */
/* ------------------------------------------------------------------ */

#define SLEEP_FIELDS                                                           \
    "total_timeinbed,total_sleep_time,asleepduration,lightsleepduration,"      \
    "remsleepduration,deepsleepduration,sleep_efficiency,sleep_latency,"       \
    "wakeup_latency,wakeupduration,wakeupcount,waso,nb_rem_episodes,"          \
    "out_of_bed_count,durationtosleep,durationtowakeup,hr_average,hr_min,"     \
    "hr_max,rr_average,rr_min,rr_max,snoring,snoringepisodecount,"             \
    "sleep_score,night_events"

/* The sleep devices of Sleep v2 (model_id). */
static const char *
sleep_device(double id)
{
    static const struct {
        int id;
        const char *name;
    } devices[] = {
        {51, "Pulse"},
        {52, "Activite"},
        {53, "Activite (Pop, Steel)"},
        {54, "Withings Go"},
        {55, "Activite Steel HR"},
        {58, "Pulse HR"},
        {59, "Activite Steel HR Sport Edition"},
        {60, "Aura Dock"},
        {61, "Aura Sensor"},
        {63, "Aura Sensor V2"},
        {90, "Move"},
        {91, "Move ECG"},
        {92, "Move ECG"},
        {93, "ScanWatch"},
        {94, "ScanWatch 2"},
        {95, "ScanWatch Light"},
    };
    size_t i = 0;

    for (i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
        if (devices[i].id == id) {
            return devices[i].name;
        }
    }
    return NULL;
}

struct night_event {
    double at; /* seconds after startdate */
    int level; /* Terra SleepLevel */
};

static int
night_event_cmp(const void *pa, const void *pb)
{
    const struct night_event *a = pa;
    const struct night_event *b = pb;

    return a->at < b->at ? -1 : a->at > b->at;
}

/*
 * night_events {"1":[0],"2":[540],...}: seconds after startdate at which
 * the user got in bed (1), fell asleep (2), woke up (3), got out of bed
 * (4), or began an asleep (5) or awake (6) period entered by hand. They
 * are the coarse hypnogram Withings gives with a summary; any other
 * shape is left out.
 */
static void
sleep_hypnogram(const json_t *d, int64_t start, int64_t end,
                const struct zone *z, json_t *durations)
{
    static const int levels[7] = {0, 1, 2, 1, 3, 2, 1};
    const json_t *ne = json_object_get(d, "night_events");
    /* XXX: a night's first 256 events are kept, the rest left out */
    struct night_event ev[256];
    const char *k = NULL;
    const json_t *v = NULL;
    json_t *samples = NULL;
    size_t n = 0;
    size_t i = 0;

    if (!json_is_object(ne)) {
        return;
    }
    json_object_foreach((json_t *)ne, k, v)
    {
        int type =
            (k[0] >= '1' && k[0] <= '6' && k[1] == '\0') ? k[0] - '0' : 0;

        if (type == 0 || !json_is_array(v)) {
            continue;
        }
        for (i = 0; i < json_array_size(v) && n < 256; i++) {
            double at = json_number_value(json_array_get(v, i));

            if (json_is_number(json_array_get(v, i)) && at >= 0 &&
                at <= (double)(end - start)) {
                ev[n].at = at;
                ev[n].level = levels[type];
                n++;
            }
        }
    }
    if (n == 0) {
        return;
    }
    qsort(ev, n, sizeof(*ev), night_event_cmp);
    samples = child_array(durations, "hypnogram_samples");
    for (i = 0; i < n; i++) {
        json_t *s = json_object();
        int64_t t = start + (int64_t)ev[i].at;

        put_time(s, "timestamp", t, zone_offset(z, t));
        json_object_set_new(s, "level", json_integer(ev[i].level));
        json_array_append_new(samples, s);
    }
}

static int
sleep_durations(const json_t *d, const struct where *w, json_t *data,
                struct err *e)
{
    static const char *const asleep_from[4] = {
        "deepsleepduration", "lightsleepduration", "remsleepduration",
        "nb_rem_episodes"};
    static const char *const asleep_to[4] = {
        "duration_deep_sleep_state_seconds",
        "duration_light_sleep_state_seconds",
        "duration_REM_sleep_state_seconds", "num_REM_events"};
    static const char *const awake_from[3] = {"wakeupduration", "wakeupcount",
                                              "out_of_bed_count"};
    static const char *const awake_to[3] = {"duration_awake_state_seconds",
                                            "num_wakeup_events",
                                            "num_out_of_bed_events"};
    static const char *const bed_from[1] = {"total_timeinbed"};
    static const char *const bed_to[1] = {"duration_in_bed_seconds"};
    json_t *sd = child(data, "sleep_durations_data");
    const json_t *x = NULL;

    if (copy_fields(d, w, asleep_from, asleep_to, 4, sd, "asleep", e) < 0 ||
        copy_fields(d, w, awake_from, awake_to, 3, sd, "awake", e) < 0 ||
        copy_fields(d, w, bed_from, bed_to, 1, sd, "other", e) < 0) {
        return ERR_INVALID;
    }
    /* a night from another source has only asleepduration */
    if (auto_or_manual(d, w, "total_sleep_time", "asleepduration", &x, e) < 0) {
        return ERR_INVALID;
    }
    put_in(sd, "asleep", "duration_asleep_state_seconds", x);
    if (auto_or_manual(d, w, "sleep_latency", "durationtosleep", &x, e) < 0) {
        return ERR_INVALID;
    }
    put_in(sd, "awake", "sleep_latency_seconds", x);
    if (auto_or_manual(d, w, "wakeup_latency", "durationtowakeup", &x, e) < 0) {
        return ERR_INVALID;
    }
    put_in(sd, "awake", "wake_up_latency_seconds", x);
    if (get_num(d, "sleep_efficiency", w, &x, e) < 0) {
        return ERR_INVALID;
    }
    /* Withings gives a ratio, Terra a percentage; a ratio outside 0-1
     * is no efficiency at all, and is left out */
    if (x != NULL && json_number_value(x) >= 0 && json_number_value(x) <= 1) {
        json_object_set_new(sd, "sleep_efficiency",
                            num(round(json_number_value(x) * 1000) / 10));
    }
    return 0;
}

static int
sleep_respiration(const json_t *d, const struct where *w, int64_t start,
                  int64_t end, const struct zone *z, json_t *data,
                  struct err *e)
{
    static const char *const rr_from[3] = {"rr_average", "rr_min", "rr_max"};
    static const char *const rr_to[3] = {
        "avg_breaths_per_min", "min_breaths_per_min", "max_breaths_per_min"};
    static const char *const sn_from[2] = {"snoring", "snoringepisodecount"};
    static const char *const sn_to[2] = {"total_snoring_duration_seconds",
                                         "num_snoring_events"};
    json_t *r = json_object();
    const char *part[2] = {"breaths_data", "snoring_data"};
    int i = 0;

    if (copy_fields(d, w, rr_from, rr_to, 3, r, part[0], e) < 0 ||
        copy_fields(d, w, sn_from, sn_to, 2, r, part[1], e) < 0) {
        json_decref(r);
        return ERR_INVALID;
    }
    for (i = 0; i < 2; i++) {
        json_t *p = json_object_get(r, part[i]);

        if (p != NULL) {
            put_time(p, "start_time", start, zone_offset(z, start));
            put_time(p, "end_time", end, zone_offset(z, end));
        }
    }
    if (json_object_size(r) > 0) {
        json_object_set_new(data, "respiration_data", r);
    } else {
        json_decref(r);
    }
    return 0;
}

static void
sleep_metadata(const json_t *s, const char *key, const struct zone *z,
               int64_t start, int64_t end, json_t *data)
{
    const json_t *done = json_object_get(s, "completed");
    const json_t *model = json_object_get(s, "model_id");
    const char *dev =
        json_is_number(model) ? sleep_device(json_number_value(model)) : NULL;
    json_t *md = json_object();

    json_object_set_new(md, "summary_id", json_string(key));
    put_time(md, "start_time", start, zone_offset(z, start));
    put_time(md, "end_time", end, zone_offset(z, end));
    /* SleepUploadType: 2 automatic, 3 tentative (night not closed yet) */
    json_object_set_new(md, "upload_type",
                        json_integer(json_is_false(done) ? 3 : 2));
    json_object_set_new(data, "metadata", md);
    if (dev != NULL) {
        json_t *dd = child(data, "device_data");

        json_object_set_new(dd, "name", json_string(dev));
        json_object_set_new(dd, "manufacturer", json_string("Withings"));
    }
}

static int
norm_night(const json_t *s, const struct where *gw, struct adapter_records *out,
           struct err *e)
{
    struct where w = {gw->kind, gw->list, gw->i, "data"};
    const struct zone *z = NULL;
    const json_t *d = NULL;
    const json_t *score = NULL;
    json_t *data = NULL;
    char key[64];
    int64_t start = 0;
    int64_t end = 0;

    if (session_times(s, gw, &start, &end, e) < 0 ||
        session_key(s, gw, start, key, e) < 0 ||
        record_zone(s, gw, NULL, &z, e) < 0 || session_data(s, gw, &d, e) < 0) {
        return ERR_INVALID;
    }
    if (d == NULL || json_object_size(d) == 0) {
        return 0; /* a night with nothing measured */
    }
    data = json_object();
    if (sleep_durations(d, &w, data, e) < 0 ||
        sleep_respiration(d, &w, start, end, z, data, e) < 0 ||
        heart_summary(d, &w, data, e) < 0 ||
        get_num(d, "sleep_score", &w, &score, e) < 0) {
        json_decref(data);
        return ERR_INVALID;
    }
    put_in(data, "scores", "sleep_score", score);
    sleep_hypnogram(d, start, end, z, child(data, "sleep_durations_data"));
    if (json_object_size(json_object_get(data, "sleep_durations_data")) == 0) {
        json_object_del(data, "sleep_durations_data");
    }
    sleep_metadata(s, key, z, start, end, data);
    return adapter_records_add(out, DT_SLEEP, key, data, start * 1000000,
                               end * 1000000, NULL);
}

/* ------------------------------------------------------------------ */
/* normalize                                                            */
/* ------------------------------------------------------------------ */

typedef int (*row_fn)(const json_t *row, const struct where *w,
                      struct adapter_records *out, struct err *e);

/* Each object of body.`list` through `fn`. */
static int
norm_rows(const char *kind, const json_t *body, const char *list, row_fn fn,
          struct adapter_records *out, struct err *e)
{
    struct where w = {kind, list, 0, NULL};
    const json_t *rows = NULL;
    size_t i = 0;

    if (body_list(kind, body, list, &rows, e) < 0) {
        return ERR_INVALID;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *r = json_array_get(rows, i);
        int rc = 0;

        w.i = i;
        if (!json_is_object(r)) {
            return err_set(e, ERR_INVALID, "%s: %s[%zu] is not an object", kind,
                           list, i);
        }
        rc = fn(r, &w, out, e);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int
withings_normalize(const char *kind, const json_t *payload,
                   struct adapter_records *out, struct err *e)
{
    const json_t *body = NULL;
    int rc = 0;

    if (kind == NULL) {
        return err_set(e, ERR_INVALID, "withings: no kind");
    }
    if (strcmp(kind, "getmeas") != 0 && strcmp(kind, "getactivity") != 0 &&
        strcmp(kind, "getworkouts") != 0 && strcmp(kind, "getsummary") != 0) {
        return err_set(e, ERR_INVALID, "withings: unknown kind \"%s\"", kind);
    }
    rc = answer_body(kind, payload, &body, e);
    if (rc < 0) {
        return rc;
    }
    if (strcmp(kind, "getmeas") == 0) {
        return norm_getmeas(body, out, e);
    }
    if (strcmp(kind, "getactivity") == 0) {
        return norm_rows(kind, body, "activities", norm_day, out, e);
    }
    if (strcmp(kind, "getworkouts") == 0) {
        return norm_rows(kind, body, "series", norm_workout, out, e);
    }
    return norm_rows(kind, body, "series", norm_night, out, e);
}

/* ------------------------------------------------------------------ */
/* plan and next_page                                                   */
/* ------------------------------------------------------------------ */

struct plan_spec {
    enum data_type type;
    const char *path;
    const char *kind;
    int chunk_days;
};

static const struct plan_spec plans[] = {
    {DT_BODY, "/measure", "getmeas", CHUNK_DAYS},
    {DT_DAILY, "/v2/measure", "getactivity", CHUNK_DAYS},
    {DT_ACTIVITY, "/v2/measure", "getworkouts", CHUNK_DAYS},
    {DT_SLEEP, "/v2/sleep", "getsummary", SLEEP_CHUNK},
};

/* "YYYY-MM-DD" (UTC) of the unix time `t`. */
static void
ymd(int64_t t, char out[11])
{
    local_date(t, 0, out);
}

/* The form body asking for `type` over [s, e). */
static int
plan_body(enum data_type type, int64_t s, int64_t e, char *body, size_t n)
{
    char a[11];
    char b[11];
    int w = 0;

    /* the ymd services take whole days, both ends included */
    ymd(s, a);
    ymd(e - 1, b);
    switch (type) {
    case DT_BODY:
        w = snprintf(body, n,
                     "action=getmeas&meastypes=%s&category=1&startdate=%lld"
                     "&enddate=%lld",
                     MEASTYPES, (long long)s, (long long)e);
        break;
    case DT_DAILY:
        w = snprintf(body, n,
                     "action=getactivity&startdateymd=%s&enddateymd=%s"
                     "&data_fields=%s",
                     a, b, ACTIVITY_FIELDS);
        break;
    case DT_ACTIVITY:
        w = snprintf(body, n,
                     "action=getworkouts&startdateymd=%s&enddateymd=%s"
                     "&data_fields=%s",
                     a, b, WORKOUT_FIELDS);
        break;
    default:
        w = snprintf(body, n,
                     "action=getsummary&startdateymd=%s&enddateymd=%s"
                     "&data_fields=%s",
                     a, b, SLEEP_FIELDS);
        break;
    }
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int
withings_plan(const struct adapter_ctx *cx, enum data_type type, int64_t start,
              int64_t end, struct adapter_request **out, size_t *n,
              struct err *e)
{
    const struct plan_spec *sp = NULL;
    struct adapter_request *rq = NULL;
    int64_t step = 0;
    int64_t count = 0;
    int64_t i = 0;
    size_t k = 0;
    int w = 0;

    *out = NULL;
    *n = 0;
    for (k = 0; k < sizeof(plans) / sizeof(*plans); k++) {
        if (plans[k].type == type) {
            sp = &plans[k];
        }
    }
    if (sp == NULL || end <= start) {
        return 0;
    }
    if (cx == NULL || cx->api_url == NULL || start < 0 || end > LAST_TIME) {
        return err_set(e, ERR_INVALID,
                       "withings: no API URL or a window "
                       "out of range");
    }
    step = (int64_t)sp->chunk_days * DAY;
    count = (end - start + step - 1) / step;
    if (count > 100000) {
        return err_set(e, ERR_INVALID,
                       "withings: a window of %lld days is "
                       "too long",
                       (long long)((end - start) / DAY));
    }
    rq = xcalloc((size_t)count, sizeof(*rq));
    for (i = 0; i < count; i++) {
        int64_t s = start + i * step;
        int64_t t = s + step < end ? s + step : end;
        struct adapter_request *r = &rq[i];

        snprintf(r->method, sizeof(r->method), "POST");
        snprintf(r->kind, sizeof(r->kind), "%s", sp->kind);
        r->type = type;
        w = snprintf(r->url, sizeof(r->url), "%s%s", cx->api_url, sp->path);
        if (w < 0 || (size_t)w >= sizeof(r->url) ||
            plan_body(type, s, t, r->body, sizeof(r->body)) < 0) {
            free(rq);
            return err_set(e, ERR_INVALID,
                           "withings: the API URL is too "
                           "long");
        }
    }
    *out = rq;
    *n = (size_t)count;
    return 0;
}

/* The offset a request body already asks for; 0 when none. */
static long long
body_offset(const char *body)
{
    const char *o = strstr(body, "&offset=");

    return o != NULL ? strtoll(o + 8, NULL, 10) : 0;
}

static int
withings_next_page(const struct adapter_ctx *cx,
                   const struct adapter_request *rq, const json_t *answer,
                   struct adapter_request *next)
{
    const json_t *body = json_object_get(answer, "body");
    const json_t *st = json_object_get(answer, "status");
    const json_t *more = json_object_get(body, "more");
    const json_t *off = json_object_get(body, "offset");
    long long o = 0;
    char *cut = NULL;
    size_t len = 0;
    int w = 0;

    (void)cx;
    if (!json_is_integer(st) || json_integer_value(st) != WS_OK) {
        return 0;
    }
    /* `more` is a boolean in v2 answers and 0/1 in getmeas */
    if (!(json_is_true(more) ||
          (json_is_integer(more) && json_integer_value(more) != 0))) {
        return 0;
    }
    if (!json_is_integer(off) || json_integer_value(off) <= 0) {
        return 0;
    }
    o = (long long)json_integer_value(off);
    if (o <= body_offset(rq->body)) {
        return 0; /* an offset that does not move on would loop */
    }
    *next = *rq;
    cut = strstr(next->body, "&offset=");
    if (cut != NULL) {
        *cut = '\0';
    }
    len = strlen(next->body);
    w = snprintf(next->body + len, sizeof(next->body) - len, "&offset=%lld", o);
    return w > 0 && (size_t)w < sizeof(next->body) - len;
}

/* ------------------------------------------------------------------ */
/* push                                                                 */
/* ------------------------------------------------------------------ */

/* Notification categories (`appli`). */
enum {
    APPLI_WEIGHT = 1,
    APPLI_TEMPERATURE = 2,
    APPLI_PRESSURE = 4,
    APPLI_ACTIVITY = 16,
    APPLI_SLEEP = 44,
    APPLI_USER = 46,
};

/* What ferry subscribes to for each user, in this order. */
static const int applis[] = {
    APPLI_WEIGHT,   APPLI_TEMPERATURE, APPLI_PRESSURE,
    APPLI_ACTIVITY, APPLI_SLEEP,       APPLI_USER,
};

#define NAPPLIS (sizeof(applis) / sizeof(*applis))

/* The path token matches the configured one (compared by digest, so the
 * time taken says nothing of either). */
static int
token_ok(const struct adapter_push *p)
{
    unsigned char want[32];
    unsigned char got[32];

    if (p->hook_token == NULL || p->hook_token[0] == '\0' ||
        p->path_token == NULL) {
        return 0;
    }
    crypto_sha256(p->hook_token, strlen(p->hook_token), want);
    crypto_sha256(p->path_token, strlen(p->path_token), got);
    return crypto_ct_eq(want, got, sizeof(want));
}

/* A non-negative decimal integer of at most 19 digits. */
static int
parse_uint(const char *s, int64_t *v)
{
    int64_t x = 0;
    size_t i = 0;

    if (s == NULL || s[0] == '\0' || strlen(s) > 18) {
        return -1;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* The window a notification names: startdate/enddate, else its date. */
static int
push_window(const struct http_form *f, int64_t *start, int64_t *end,
            struct err *e)
{
    const char *s = http_form_get(f, "startdate", NULL);
    const char *t = http_form_get(f, "enddate", NULL);
    const char *date = http_form_get(f, "date", NULL);
    int y = 0;
    int m = 0;
    int d = 0;

    if (s != NULL || t != NULL) {
        if (parse_uint(s, start) < 0 || parse_uint(t, end) < 0 ||
            *start > LAST_TIME || *end > LAST_TIME) {
            return err_set(e, ERR_INVALID,
                           "withings push: startdate and "
                           "enddate must be unix times");
        }
    } else if (date != NULL && isotime_parse_date(date, &y, &m, &d) == 0) {
        *start = isotime_days_from_civil(y, m, d) * DAY;
        *end = *start + DAY;
    } else if (date != NULL && parse_uint(date, start) == 0 &&
               *start <= LAST_TIME) {
        *end = *start;
    } else {
        return err_set(e, ERR_INVALID,
                       "withings push: no startdate, enddate "
                       "or date");
    }
    if (*end < *start) {
        int64_t t0 = *end;

        /* given the wrong way round: the window is still between them */
        *end = *start;
        *start = t0;
    }
    if (*end == *start) {
        *end = *start + 1; /* one measure: a window of one second */
    }
    return 0;
}

static void
push_item(struct adapter_push_items *out, const char *user, enum data_type type,
          int64_t start, int64_t end, int revoked)
{
    struct adapter_push_item it;

    memset(&it, 0, sizeof(it));
    snprintf(it.provider_user_id, sizeof(it.provider_user_id), "%s", user);
    it.type = type;
    it.start = start;
    it.end = end;
    it.revoked = revoked;
    adapter_push_items_add(out, &it);
}

/* The items one notification form asks for. */
static int
push_form(const struct http_form *f, struct adapter_push_items *out,
          struct err *e)
{
    const char *user = NULL;
    const char *appli_s = NULL;
    const char *action = NULL;
    int64_t appli = 0;
    int64_t uid = 0;
    int64_t start = 0;
    int64_t end = 0;
    int dup_user = 0;
    int dup_appli = 0;

    user = http_form_get(f, "userid", &dup_user);
    appli_s = http_form_get(f, "appli", &dup_appli);
    action = http_form_get(f, "action", NULL);
    if (dup_user || dup_appli || parse_uint(user, &uid) < 0) {
        return err_set(e, ERR_INVALID,
                       "withings push: userid is missing or "
                       "not one number");
    }
    if (parse_uint(appli_s, &appli) < 0) {
        return err_set(e, ERR_INVALID,
                       "withings push: appli is missing or "
                       "not a number");
    }
    if (appli == APPLI_USER) {
        if (action != NULL &&
            (strcmp(action, "unlink") == 0 || strcmp(action, "delete") == 0)) {
            push_item(out, user, DT_ATHLETE, 0, 0, 1);
        }
        return 0;
    }
    if (appli != APPLI_WEIGHT && appli != APPLI_TEMPERATURE &&
        appli != APPLI_PRESSURE && appli != APPLI_ACTIVITY &&
        appli != APPLI_SLEEP) {
        return 0; /* in and out of bed, ECG, glucose: nothing to fetch */
    }
    if (push_window(f, &start, &end, e) < 0) {
        return ERR_INVALID;
    }
    if (appli == APPLI_ACTIVITY) {
        push_item(out, user, DT_DAILY, start, end, 0);
        push_item(out, user, DT_ACTIVITY, start, end, 0);
    } else if (appli == APPLI_SLEEP) {
        push_item(out, user, DT_SLEEP, start, end, 0);
    } else {
        push_item(out, user, DT_BODY, start, end, 0);
    }
    return 0;
}

static int
withings_push(const struct adapter_push *p, enum push_answer *answer,
              int *status, char *reply, size_t reply_n,
              struct adapter_push_items *out, struct err *e)
{
    struct arena a;
    struct http_form f;
    int rc = 0;

    if (reply_n > 0) {
        reply[0] = '\0';
    }
    *answer = PUSH_ACCEPT;
    *status = 200;
    if (!token_ok(p)) {
        /* Notify is unsigned: the path token is the only proof */
        return err_set(e, ERR_FORBIDDEN,
                       "withings push: wrong or missing "
                       "path token");
    }
    if (p->method != NULL &&
        (strcmp(p->method, "HEAD") == 0 || strcmp(p->method, "GET") == 0)) {
        *answer = PUSH_HANDSHAKE; /* Withings' probe of the callback URL */
        return 0;
    }
    if (p->method == NULL || strcmp(p->method, "POST") != 0) {
        return err_set(e, ERR_INVALID, "withings push: method %s",
                       p->method != NULL ? p->method : "(none)");
    }
    if (p->body == NULL || p->body_len == 0) {
        *answer = PUSH_HANDSHAKE; /* an empty POST probes too */
        return 0;
    }
    arena_init(&a, 64 * 1024);
    rc = http_form_parse(p->body, p->body_len, &a, &f, e);
    if (rc == 0) {
        rc = push_form(&f, out, e);
    } else {
        rc = err_set(e, ERR_INVALID, "withings push: the body is not a form");
    }
    arena_release(&a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* lifecycle: notify subscribe and revoke                               */
/* ------------------------------------------------------------------ */

/* Did the notify call before this step work? 0, or why not. */
static int
notify_check(enum adapter_phase phase, int appli, const json_t *last,
             long last_status, struct err *e)
{
    const char *what = phase == ADAPTER_USER_CONNECTED ? "subscribe" : "revoke";
    const json_t *st = json_object_get(last, "status");
    json_int_t s = 0;
    char kind[48];

    if (last_status != 200) {
        return err_set(e, ERR_UPSTREAM,
                       "withings notify %s appli %d: HTTP "
                       "%ld",
                       what, appli, last_status);
    }
    if (!json_is_integer(st)) {
        return err_set(e, ERR_UPSTREAM,
                       "withings notify %s appli %d: no "
                       "status in the answer",
                       what, appli);
    }
    s = json_integer_value(st);
    if (s == WS_OK || (phase == ADAPTER_USER_DEAUTH && s == WS_NO_SUCH_SUB)) {
        return 0;
    }
    snprintf(kind, sizeof(kind), "notify %s appli %d", what, appli);
    return status_error(kind, s, last, e);
}

static int
notify_request(const struct adapter_ctx *cx, enum adapter_phase phase,
               int appli, struct adapter_request *next, struct err *e)
{
    struct buf b;
    int rc = 0;
    int w = 0;

    memset(next, 0, sizeof(*next));
    buf_init(&b, sizeof(next->body) - 1);
    rc = buf_printf(&b, "action=%s&callbackurl=",
                    phase == ADAPTER_USER_CONNECTED ? "subscribe" : "revoke");
    if (rc == 0) {
        rc = codec_pct_encode(&b, cx->hook_url, strlen(cx->hook_url), 0);
    }
    if (rc == 0) {
        rc = buf_printf(&b, "&appli=%d", appli);
    }
    if (rc == 0 && phase == ADAPTER_USER_CONNECTED) {
        rc = buf_printf(&b, "&comment=%s", HOOK_COMMENT);
    }
    w = snprintf(next->url, sizeof(next->url), "%s/notify", cx->api_url);
    if (rc < 0 || w < 0 || (size_t)w >= sizeof(next->url)) {
        buf_release(&b);
        return err_set(e, ERR_INVALID,
                       "withings notify: the hook or API URL "
                       "is too long");
    }
    snprintf(next->method, sizeof(next->method), "POST");
    snprintf(next->body, sizeof(next->body), "%s", buf_str(&b));
    snprintf(next->kind, sizeof(next->kind), "notify");
    next->type = appli == APPLI_SLEEP      ? DT_SLEEP
                 : appli == APPLI_ACTIVITY ? DT_DAILY
                                           : DT_BODY;
    buf_release(&b);
    return 0;
}

static int
withings_lifecycle(enum adapter_phase phase, const struct adapter_ctx *cx,
                   int step, const json_t *last, long last_status,
                   struct adapter_request *next, struct err *e)
{
    int rc = 0;

    if (phase != ADAPTER_USER_CONNECTED && phase != ADAPTER_USER_DEAUTH) {
        return 0; /* subscriptions are per user: nothing app-wide */
    }
    if (cx == NULL || cx->api_url == NULL || cx->hook_url == NULL ||
        cx->hook_url[0] == '\0') {
        if (phase == ADAPTER_USER_DEAUTH) {
            return 0; /* nothing can have been subscribed */
        }
        return err_set(e, ERR_CONFIG,
                       "withings notify: no hook URL, so "
                       "Withings cannot push");
    }
    if (step < 0) {
        return err_set(e, ERR_INVALID, "withings notify: step %d", step);
    }
    if (step > 0 && step <= (int)NAPPLIS) {
        rc = notify_check(phase, applis[step - 1], last, last_status, e);
        /* a revoke that fails for one category still tries the others,
         * unless the token itself is refused */
        if (rc < 0 &&
            (phase == ADAPTER_USER_CONNECTED || rc == ERR_FORBIDDEN)) {
            return rc;
        }
    }
    if (step >= (int)NAPPLIS) {
        return 0;
    }
    rc = notify_request(cx, phase, applis[step], next, e);
    return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------ */

/*
 * XXX: Measure v2 - Getintradayactivity (steps, heart rate, SpO2 at high
 * frequency) and Sleep v2 - Get (the sleep stages minute by minute) are
 * not normalised: their answers name no zone, and their samples belong
 * inside the daily and sleep records that getactivity and getsummary
 * make, which a record of their own would replace rather than complete.
 * They wait for a way to add samples to a record of another request.
 */
static const char *const withings_kinds[] = {
    "getmeas",
    "POST /measure action=getmeas: body measures (weight, body "
    "composition, blood pressure, pulse, SpO2, temperatures, VO2 max)",
    "getactivity",
    "POST /v2/measure action=getactivity: activity totals per local day",
    "getworkouts",
    "POST /v2/measure action=getworkouts: one summary per workout",
    "getsummary",
    "POST /v2/sleep action=getsummary: one summary per night or nap",
    NULL,
};

const struct adapter adapter_withings = {
    .resource = "WITHINGS",
    .api_url = "https://wbsapi.withings.net",
    .caps =
        {
            .types = DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
                     DT_BIT(DT_BODY),
            .push = 1,
            .poll_seconds = 6 * 3600, /* a reconciliation behind Notify */
            .backfill_days = 365,
            .chunk_days = CHUNK_DAYS,
            .requests_per_minute = 120,
            .revokes = 0,
        },
    .kinds = withings_kinds,
    .plan = withings_plan,
    .next_page = withings_next_page,
    .normalize = withings_normalize,
    .lifecycle = withings_lifecycle,
    .push = withings_push,
};
