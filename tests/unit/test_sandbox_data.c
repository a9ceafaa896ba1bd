/*
 * test_sandbox_data.c - the SANDBOX provider's data generator and clock:
 * the same bytes for the same account and day, values in realistic
 * ranges, totals that match their samples (distance is the integral of
 * speed, steps and calories sum up, a hypnogram's epochs are the stage
 * totals, a day's minutes are 1440), the daily summary agreeing with
 * the day's workouts and the body summary with the night, and the days
 * served as the clock moves. The HTTP side is driven over HTTP by the
 * integration tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "sandbox/data.h"
#include "sandbox/sandbox.h"
#include "tap.h"

#define ACCOUNTS 24
#define DAYS     60

static int64_t day0; /* the first day looked at */

/* ---- helpers ---- */

static void
account(int k, char id[SANDBOX_ACCOUNT_ID_LEN + 1])
{
    char name[32];

    snprintf(name, sizeof(name), "runner%d", k);
    sandbox_account_id(name, id);
}

static json_t *
day_items(enum sandbox_kind kind, const char *id, int64_t day)
{
    json_t *a = json_array();

    if (sandbox_data_day(kind, id, day, a) < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* The value at the dotted `path` of `o`, or NULL. */
static json_t *
at(const json_t *o, const char *path)
{
    char part[64];
    const char *dot = NULL;

    while (o != NULL && (dot = strchr(path, '.')) != NULL) {
        snprintf(part, sizeof(part), "%.*s", (int)(dot - path), path);
        o = json_object_get(o, part);
        path = dot + 1;
    }
    return o != NULL ? json_object_get(o, path) : NULL;
}

static double
num(const json_t *o, const char *path)
{
    return json_number_value(at(o, path));
}

static const char *
str(const json_t *o, const char *path)
{
    return json_string_value(at(o, path));
}

/* Unix seconds of an answer's time, and its offset in `*off`. */
static int64_t
secs(const char *s, int *off)
{
    int64_t us = 0;
    int o = 0;

    if (s == NULL || isotime_parse(s, &us, &o, NULL) < 0) {
        return -1;
    }
    if (off != NULL) {
        *off = o;
    }
    return us / 1000000;
}

static int64_t
local_day(int64_t t, int off)
{
    int64_t x = t + off;

    return x >= 0 ? x / 86400 : -((-x + 86399) / 86400);
}

/* Hundredths, exactly: the API writes cm/s and cm as meters. */
static long
cents(double v)
{
    return lround(v * 100);
}

static long
tenths(double v)
{
    return lround(v * 10);
}

/* A failed check is counted once per test, not per item. */
struct tally {
    int bad;
    char first[256];
};

static void
note(struct tally *t, int ok, const char *what, const json_t *item)
{
    if (ok || t->bad++ > 0) {
        return;
    }
    snprintf(t->first, sizeof(t->first), "%s (%s)", what,
             item != NULL && str(item, "id") != NULL ? str(item, "id")
             : item != NULL                          ? str(item, "date")
                                                     : "");
}

static void
report(const struct tally *t, const char *name)
{
    if (!ok(t->bad == 0, name)) {
        printf("#   %d failures, the first: %s\n", t->bad, t->first);
    }
}

/* ---- determinism ---- */

static char *
dump(const json_t *o)
{
    return json_dumps(o,
                      JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
}

static void
test_determinism(void)
{
    char a[SANDBOX_ACCOUNT_ID_LEN + 1];
    char b[SANDBOX_ACCOUNT_ID_LEN + 1];
    int same = 1;
    int differ = 0;
    int kind = 0;
    int d = 0;

    account(1, a);
    account(2, b);
    for (kind = SANDBOX_WORKOUTS; kind <= SANDBOX_BODY; kind++) {
        for (d = 0; d < 10; d++) {
            json_t *x = day_items(kind, a, day0 + d);
            json_t *y = day_items(kind, a, day0 + d);
            json_t *z = day_items(kind, b, day0 + d);
            char *sx = dump(x);
            char *sy = dump(y);
            char *sz = dump(z);

            same &= strcmp(sx, sy) == 0;
            differ += strcmp(sx, sz) != 0;
            free(sx);
            free(sy);
            free(sz);
            json_decref(x);
            json_decref(y);
            json_decref(z);
        }
    }
    ok(same, "the same account and day give the same bytes");
    ok(differ >= 30, "another account has other data");

    /* pinned: a change here changes every account's history */
    {
        char id[SANDBOX_ACCOUNT_ID_LEN + 1];
        json_t *w = NULL;

        sandbox_account_id("alice", id);
        is_int(sandbox_data_offset(id), 9 * 3600, "alice lives at +09:00");
        w = day_items(SANDBOX_SLEEP, id, isotime_days_from_civil(2026, 3, 3));
        is_str(str(json_array_get(w, 0), "id"), "sl_6b8550bb697900ca",
               "alice's night to 2026-03-03 has its id");
        json_decref(w);
        w = day_items(SANDBOX_WORKOUTS, id,
                      isotime_days_from_civil(2026, 3, 6));
        is_str(str(json_array_get(w, 0), "start"), "2026-03-06T08:47:00+09:00",
               "her workout of 2026-03-06 starts when it always did");
        ok(num(json_array_get(w, 0), "distance_m") == 8874.55,
           "and is as long as it always was");
        json_decref(w);
    }
}

static void
test_offsets(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    int plus1 = 0;
    int minus5 = 0;
    int odd = 0;
    int all_whole = 1;
    struct tally t = {0, ""};
    int k = 0;

    for (k = 0; k < 200; k++) {
        int off = 0;

        account(k, id);
        off = sandbox_data_offset(id);
        plus1 += off == 3600;
        minus5 += off == -5 * 3600;
        odd += off % 3600 != 0;
        all_whole &= off % 60 == 0 && off >= -12 * 3600 && off <= 14 * 3600;
    }
    ok(plus1 > 0 && minus5 > 0, "some accounts are at +01:00, some at -05:00");
    ok(odd > 0, "and some at a half or three-quarter hour");
    ok(all_whole, "offsets are whole minutes within -12:00..+14:00");

    for (k = 0; k < 8; k++) {
        json_t *a = NULL;
        int off = 0;
        int d = 0;

        account(k, id);
        off = sandbox_data_offset(id);
        for (d = 0; d < 5; d++) {
            json_t *w = NULL;
            size_t i = 0;

            a = day_items(SANDBOX_SLEEP, id, day0 + d);
            json_array_foreach(a, i, w)
            {
                int o1 = 1;
                int o2 = 1;

                secs(str(w, "start"), &o1);
                secs(str(w, "end"), &o2);
                note(&t, o1 == off && o2 == off, "offset", w);
            }
            json_decref(a);
        }
    }
    report(&t, "every time is written at the account's offset");
}

/* ---- workouts ---- */

struct seen {
    int sports[16];
    const char *names[16];
    int n;
    int manual;
    int gps;
    int indoor;
    int pool;
    int power;
};

static void
seen_sport(struct seen *s, const char *name)
{
    int i = 0;

    for (i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            s->sports[i]++;
            return;
        }
    }
    if (s->n < 16) {
        s->names[s->n] = name;
        s->sports[s->n++] = 1;
    }
}

/* Distance is the trapezoid integral of speed, to the centimetre. */
static void
check_motion(struct tally *t, const json_t *w, int step, size_t n)
{
    const json_t *v = at(w, "samples.speed_mps");
    const json_t *d = at(w, "samples.distance_m");
    long vmax = 0;
    size_t i = 0;

    note(t, json_array_size(v) == n && json_array_size(d) == n,
         "speed and distance series", w);
    for (i = 1; i < json_array_size(d) && i < json_array_size(v); i++) {
        long dd = cents(json_number_value(json_array_get(d, i))) -
                  cents(json_number_value(json_array_get(d, i - 1)));
        long vv = cents(json_number_value(json_array_get(v, i))) +
                  cents(json_number_value(json_array_get(v, i - 1)));

        note(t, dd * 2 == vv * step, "distance = integral of speed", w);
        vmax = cents(json_number_value(json_array_get(v, i))) > vmax
                   ? cents(json_number_value(json_array_get(v, i)))
                   : vmax;
    }
    note(t,
         cents(json_number_value(json_array_get(d, n - 1))) ==
             cents(num(w, "distance_m")),
         "the last distance sample is the distance", w);
    note(t, cents(num(w, "max_speed_mps")) == vmax, "max speed", w);
    note(t,
         cents(num(w, "avg_speed_mps")) ==
             lround(num(w, "distance_m") / num(w, "duration_s") * 100),
         "average speed = distance / duration", w);
}

static long
sum_series(const json_t *a, int scale)
{
    long s = 0;
    size_t i = 0;

    for (i = 0; i < json_array_size(a); i++) {
        s += lround(json_number_value(json_array_get(a, i)) * scale);
    }
    return s;
}

static void
check_heart(struct tally *t, const json_t *w, size_t n)
{
    const json_t *hr = at(w, "samples.heart_rate_bpm");
    const json_t *z = at(w, "hr_zones");
    long zones = 0;
    long lo = 1000;
    long hi = 0;
    size_t i = 0;

    for (i = 0; i < json_array_size(hr); i++) {
        long b = (long)json_integer_value(json_array_get(hr, i));

        lo = b < lo ? b : lo;
        hi = b > hi ? b : hi;
    }
    for (i = 0; i < json_array_size(z); i++) {
        zones += (long)num(json_array_get(z, i), "seconds");
    }
    note(t, json_array_size(hr) == n, "one heart rate a sample", w);
    note(t,
         lround((double)sum_series(hr, 1) / (double)n) == num(w, "avg_hr_bpm"),
         "average heart rate = mean of the samples", w);
    note(t, lo == num(w, "min_hr_bpm") && hi == num(w, "max_hr_bpm"),
         "min and max heart rate", w);
    note(t, lo >= 40 && hi <= 220, "heart rate within 40-220", w);
    note(t, hi <= num(w, "user_max_hr_bpm") + 2, "under the user's maximum", w);
    note(t, zones == (long)num(w, "duration_s"),
         "the zones' seconds add up to the duration", w);
}

static void
check_route(struct tally *t, const json_t *w, size_t n)
{
    const json_t *lat = at(w, "samples.latitude");
    const json_t *lon = at(w, "samples.longitude");
    const json_t *alt = at(w, "samples.altitude_m");
    long gain = 0;
    long loss = 0;
    double far = 0;
    double lat0 = json_number_value(json_array_get(lat, 0));
    double lon0 = json_number_value(json_array_get(lon, 0));
    double m = cos(lat0 * M_PI / 180);
    size_t i = 0;

    note(t,
         json_array_size(lat) == n && json_array_size(lon) == n &&
             json_array_size(alt) == n,
         "position and altitude series", w);
    for (i = 1; i < json_array_size(alt); i++) {
        long dz = tenths(json_number_value(json_array_get(alt, i))) -
                  tenths(json_number_value(json_array_get(alt, i - 1)));
        double dy = json_number_value(json_array_get(lat, i)) - lat0;
        double dx = (json_number_value(json_array_get(lon, i)) - lon0) * m;

        gain += dz > 0 ? dz : 0;
        loss += dz < 0 ? -dz : 0;
        far = fmax(far, sqrt(dx * dx + dy * dy) * 111320);
    }
    note(t,
         gain == tenths(num(w, "elevation.gain_m")) &&
             loss == tenths(num(w, "elevation.loss_m")),
         "gain and loss are the altitude's rises and falls", w);
    note(t,
         json_equal(json_array_get(lat, 0), json_array_get(lat, n - 1)) &&
             json_equal(json_array_get(lon, 0), json_array_get(lon, n - 1)),
         "the loop ends where it began", w);
    /* a loop of length L stays within L / pi of its start */
    note(t, far <= num(w, "distance_m") / M_PI * 1.01 + 1,
         "positions stay on a loop as long as the distance", w);
}

static void
check_recorded(struct tally *t, struct seen *s, const json_t *w)
{
    int step = (int)num(w, "samples.interval_s");
    size_t n = (size_t)(num(w, "duration_s") / step) + 1;
    const json_t *steps = at(w, "samples.steps");
    const json_t *kcal = at(w, "samples.calories_kcal");

    note(t, step == SANDBOX_SAMPLE_SECONDS, "samples every 10 s", w);
    check_heart(t, w, n);
    note(t,
         json_array_size(kcal) == n &&
             sum_series(kcal, 10) == tenths(num(w, "calories_kcal")) &&
             json_number_value(json_array_get(kcal, 0)) == 0,
         "calorie samples add up to the calories", w);
    if (at(w, "distance_m") != NULL) {
        check_motion(t, w, step, n);
    }
    if (at(w, "steps") != NULL) {
        note(t,
             json_array_size(steps) == n &&
                 sum_series(steps, 1) == num(w, "steps"),
             "step samples add up to the steps", w);
    }
    if (at(w, "samples.latitude") != NULL) {
        s->gps++;
        check_route(t, w, n);
    } else if (at(w, "distance_m") != NULL) {
        s->indoor++;
    }
    if (at(w, "pool") != NULL) {
        s->pool++;
        note(t,
             num(w, "pool.laps") ==
                 lround(num(w, "distance_m") / num(w, "pool.length_m")),
             "laps = distance / pool length", w);
    }
    if (at(w, "samples.power_w") != NULL) {
        const json_t *p = at(w, "samples.power_w");

        s->power++;
        note(t,
             lround((double)sum_series(p, 1) / (double)(n - 1)) ==
                 num(w, "avg_power_w"),
             "average power = mean of the samples", w);
    }
    note(t, at(w, "device.serial") != NULL, "a recorded workout has a device",
         w);
}

static void
check_workout(struct tally *t, struct seen *s, const json_t *w, int64_t day,
              int off)
{
    static const int minutes[][2] = {{25, 75}, {45, 150}, {20, 70}, {60, 150},
                                     {25, 60}, {20, 45},  {30, 60}, {30, 75}};
    static const char *const sports[] = {"running",  "cycling",  "walking",
                                         "hiking",   "swimming", "rowing",
                                         "strength", "yoga"};
    int64_t start = secs(str(w, "start"), NULL);
    int64_t end = secs(str(w, "end"), NULL);
    const char *sport = str(w, "sport");
    int k = 0;

    for (k = 0; k < 8 && sport != NULL && strcmp(sport, sports[k]) != 0; k++) {
    }
    note(t, k < 8, "a known sport", w);
    if (k == 8) {
        return;
    }
    seen_sport(s, sports[k]);
    note(t, end - start == num(w, "duration_s"), "duration = end - start", w);
    note(t, local_day(start, off) == day, "it starts on its day", w);
    note(t,
         num(w, "duration_s") >= minutes[k][0] * 60 &&
             num(w, "duration_s") <= minutes[k][1] * 60,
         "a realistic duration", w);
    note(t, str(w, "id") != NULL && strncmp(str(w, "id"), "wk_", 3) == 0,
         "an id", w);
    note(t, num(w, "calories_kcal") > 0, "calories", w);
    if (strcmp(str(w, "source"), "manual") == 0) {
        s->manual++;
        note(t, at(w, "samples") == NULL && at(w, "device") == NULL,
             "a manual entry has no samples and no device", w);
        return;
    }
    check_recorded(t, s, w);
}

static void
test_workouts(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct tally t = {0, ""};
    struct seen s;
    int count = 0;
    int rest = 0;
    int k = 0;
    int d = 0;

    memset(&s, 0, sizeof(s));
    for (k = 0; k < ACCOUNTS; k++) {
        int off = 0;

        account(k, id);
        off = sandbox_data_offset(id);
        for (d = 0; d < DAYS; d++) {
            json_t *a = day_items(SANDBOX_WORKOUTS, id, day0 + d);
            json_t *w = NULL;
            size_t i = 0;

            note(&t, a != NULL && json_array_size(a) <= 2, "0-2 a day", NULL);
            rest += json_array_size(a) == 0;
            json_array_foreach(a, i, w)
            {
                check_workout(&t, &s, w, day0 + d, off);
                count++;
            }
            json_decref(a);
        }
    }
    report(&t, "every workout is consistent and realistic");
    ok(count > ACCOUNTS * DAYS / 2, "most days have a workout");
    ok(rest > ACCOUNTS * DAYS / 5, "and some are rest days");
    is_int(s.n, 8, "all eight sports occur");
    ok(s.manual > 0 && s.gps > 0 && s.indoor > 0 && s.pool > 0 && s.power > 0,
       "manual entries, outdoor, indoor, pool and power workouts occur");
}

/* ---- sleep ---- */

static int
letters(const char *st, char c)
{
    int n = 0;

    for (; *st != '\0'; st++) {
        n += *st == c;
    }
    return n;
}

static void
check_hypnogram(struct tally *t, const json_t *n)
{
    const char *st = str(n, "hypnogram.stages");
    int epoch = (int)num(n, "hypnogram.epoch_s");
    size_t len = st != NULL ? strlen(st) : 0;
    size_t first = st != NULL ? strspn(st, "A") : 0;
    size_t last = len;
    int wakes = 0;
    size_t i = 0;

    note(t, st != NULL && epoch == 30, "a hypnogram of 30 s epochs", n);
    if (st == NULL) {
        return;
    }
    note(t, (long)len * epoch == num(n, "in_bed_s"),
         "the hypnogram spans the time in bed", n);
    note(t,
         letters(st, 'A') * epoch == num(n, "stages_s.awake") &&
             letters(st, 'L') * epoch == num(n, "stages_s.light") &&
             letters(st, 'D') * epoch == num(n, "stages_s.deep") &&
             letters(st, 'R') * epoch == num(n, "stages_s.rem"),
         "the stage totals are the hypnogram's epochs", n);
    note(t, strspn(st, "ALDR") == len, "only A, L, D and R", n);
    while (last > first && st[last - 1] == 'A') {
        last--;
    }
    for (i = first + 1; i < last; i++) {
        wakes += st[i] == 'A' && st[i - 1] != 'A';
    }
    note(t, (long)first * epoch == num(n, "latency_s"),
         "latency = the awake epochs before the first sleep", n);
    note(t, wakes == num(n, "wake_events"),
         "wake events = the awake runs between sleep", n);
    note(t,
         lround(1000 * (num(n, "in_bed_s") - num(n, "stages_s.awake")) /
                num(n, "in_bed_s")) == lround(1000 * num(n, "efficiency")),
         "efficiency = asleep / in bed", n);
}

static void
check_night_heart(struct tally *t, const json_t *n)
{
    const json_t *hr = at(n, "heart_rate.bpm");
    const json_t *hrv = at(n, "hrv.rmssd_ms");
    size_t want = (size_t)(num(n, "in_bed_s") / SANDBOX_NIGHT_SECONDS);
    long lo = 1000;
    long hi = 0;
    size_t i = 0;

    for (i = 0; i < json_array_size(hr); i++) {
        long b = (long)json_integer_value(json_array_get(hr, i));

        lo = b < lo ? b : lo;
        hi = b > hi ? b : hi;
    }
    note(t, json_array_size(hr) == want && json_array_size(hrv) == want,
         "heart rate and HRV every 5 minutes", n);
    note(t,
         lround((double)sum_series(hr, 1) / (double)want) ==
                 num(n, "heart_rate.avg") &&
             lo == num(n, "heart_rate.min") && hi == num(n, "heart_rate.max"),
         "the night's heart rate summary", n);
    note(t,
         lround((double)sum_series(hrv, 1) / (double)want) == num(n, "hrv.avg"),
         "the night's HRV average", n);
    note(t, lo >= 30 && hi <= 110, "sleeping heart rate within 30-110", n);
}

static void
check_night(struct tally *t, const json_t *n, int64_t day, int off, int *naps,
            int *manual)
{
    int64_t start = secs(str(n, "start"), NULL);
    int64_t end = secs(str(n, "end"), NULL);
    int nap = json_is_true(at(n, "nap"));
    double total = num(n, "stages_s.awake") + num(n, "stages_s.light") +
                   num(n, "stages_s.deep") + num(n, "stages_s.rem");

    note(t, end - start == num(n, "in_bed_s"), "in bed = end - start", n);
    note(t, local_day(end, off) == day, "it ends on its date", n);
    *naps += nap;
    if (nap) {
        note(t, end - start >= 20 * 60 && end - start <= 50 * 60,
             "a nap of 20-50 minutes", n);
        note(t, local_day(start, off) == day, "a nap starts on its day", n);
    } else {
        note(t, end - start >= 5.5 * 3600 && end - start <= 10 * 3600,
             "a night of 5.5-10 hours", n);
        note(t, local_day(start, off) == day - 1, "after the evening before",
             n);
    }
    if (strcmp(str(n, "source"), "manual") == 0) {
        *manual += 1;
        note(t, nap && at(n, "hypnogram") == NULL,
             "only naps are entered by hand, with times alone", n);
        return;
    }
    note(t, total == num(n, "in_bed_s"), "the stages add up to time in bed", n);
    check_hypnogram(t, n);
    check_night_heart(t, n);
}

static void
test_sleep(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct tally t = {0, ""};
    int naps = 0;
    int manual = 0;
    int k = 0;
    int d = 0;

    for (k = 0; k < ACCOUNTS; k++) {
        int off = 0;

        account(k, id);
        off = sandbox_data_offset(id);
        for (d = 0; d < DAYS; d++) {
            json_t *a = day_items(SANDBOX_SLEEP, id, day0 + d);
            json_t *n = NULL;
            size_t i = 0;

            note(&t, json_array_size(a) >= 1 && json_array_size(a) <= 2,
                 "a night and maybe a nap", NULL);
            note(&t, !json_is_true(at(json_array_get(a, 0), "nap")),
                 "the night comes first", NULL);
            json_array_foreach(a, i, n)
            {
                check_night(&t, n, day0 + d, off, &naps, &manual);
            }
            json_decref(a);
        }
    }
    report(&t, "every night and nap is consistent and realistic");
    ok(naps > 0 && manual > 0 && manual < naps,
       "naps occur, some entered by hand");
}

/* ---- daily and body ---- */

/* The day's workouts: their calories, steps and step-sport distance. */
static void
workout_totals(const char *id, int64_t day, double *kcal, double *steps,
               double *dist, double *hr_max)
{
    json_t *a = day_items(SANDBOX_WORKOUTS, id, day);
    json_t *w = NULL;
    size_t i = 0;

    *kcal = *steps = *dist = *hr_max = 0;
    json_array_foreach(a, i, w)
    {
        *kcal += num(w, "calories_kcal");
        *steps += num(w, "steps");
        *dist += at(w, "steps") != NULL ? num(w, "distance_m") : 0;
        *hr_max = fmax(*hr_max, num(w, "max_hr_bpm"));
    }
    json_decref(a);
}

static void
check_daily(struct tally *t, const char *id, const json_t *dl, int64_t day)
{
    double kcal = 0;
    double steps = 0;
    double dist = 0;
    double hr_max = 0;
    const json_t *hs = at(dl, "hourly.steps");
    json_t *body = day_items(SANDBOX_BODY, id, day);
    double minutes = num(dl, "minutes.in_bed") + num(dl, "minutes.sedentary") +
                     num(dl, "minutes.low") + num(dl, "minutes.moderate") +
                     num(dl, "minutes.vigorous");

    workout_totals(id, day, &kcal, &steps, &dist, &hr_max);
    note(t, json_array_size(hs) == 24 && sum_series(hs, 1) == num(dl, "steps"),
         "the hourly steps add up to the steps", dl);
    note(t, json_array_size(at(dl, "hourly.heart_rate_bpm")) == 24,
         "24 hourly heart rates", dl);
    note(t, minutes == 1440, "the day's minutes add up to 1440", dl);
    note(t,
         tenths(num(dl, "calories.total_kcal")) ==
             tenths(num(dl, "calories.bmr_kcal")) +
                 tenths(num(dl, "calories.active_kcal")),
         "total calories = BMR + active", dl);
    note(t, num(dl, "calories.active_kcal") + 0.05 >= kcal,
         "active calories include the workouts'", dl);
    note(t, num(dl, "steps") >= steps && num(dl, "distance_m") + 0.01 >= dist,
         "steps and distance include the workouts'", dl);
    note(t, num(dl, "heart_rate.max_bpm") >= hr_max,
         "the day's maximum heart rate is at least the workouts'", dl);
    note(t,
         num(dl, "heart_rate.resting_bpm") ==
             num(json_array_get(body, 0), "resting_hr_bpm"),
         "the resting heart rate is the body summary's", dl);
    note(t, num(dl, "steps") >= 500 && num(dl, "steps") <= 60000,
         "steps within 500-60000", dl);
    note(t,
         num(dl, "calories.bmr_kcal") >= 1000 &&
             num(dl, "calories.bmr_kcal") <= 2600,
         "a BMR within 1000-2600 kcal", dl);
    note(t,
         num(dl, "heart_rate.resting_bpm") >= 40 &&
             num(dl, "heart_rate.resting_bpm") <= 85,
         "a resting heart rate within 40-85", dl);
    json_decref(body);
}

static void
test_daily(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct tally t = {0, ""};
    int k = 0;
    int d = 0;

    for (k = 0; k < ACCOUNTS; k++) {
        account(k, id);
        for (d = 0; d < DAYS; d++) {
            json_t *a = day_items(SANDBOX_DAILY, id, day0 + d);
            char date[16];
            int y = 0;
            int m = 0;
            int dd = 0;

            isotime_civil_from_days(day0 + d, &y, &m, &dd);
            snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, dd);
            note(&t,
                 json_array_size(a) == 1 &&
                     strcmp(str(json_array_get(a, 0), "date"), date) == 0,
                 "one summary for the date", NULL);
            check_daily(&t, id, json_array_get(a, 0), day0 + d);
            json_decref(a);
        }
    }
    report(&t, "every daily summary agrees with itself and the day");
}

static void
test_body(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct tally t = {0, ""};
    int weighed = 0;
    int pressure = 0;
    int k = 0;
    int d = 0;

    for (k = 0; k < ACCOUNTS; k++) {
        json_t *p = NULL;
        double h = 0;

        account(k, id);
        sandbox_data_profile(id, "x", day0, &p);
        h = num(p, "height_cm") / 100;
        for (d = 0; d < DAYS; d++) {
            json_t *a = day_items(SANDBOX_BODY, id, day0 + d);
            json_t *n = day_items(SANDBOX_SLEEP, id, day0 + d);
            json_t *b = json_array_get(a, 0);

            note(&t,
                 num(b, "hrv_rmssd_ms") == num(json_array_get(n, 0), "hrv.avg"),
                 "HRV is the night's", b);
            if (at(b, "weigh_in") != NULL) {
                double w = num(b, "weigh_in.weight_kg");

                weighed++;
                note(&t,
                     tenths(num(b, "weigh_in.bmi")) == lround(w / (h * h) * 10),
                     "BMI = weight / height squared", b);
                note(&t,
                     w >= 35 && w <= 130 && num(b, "weigh_in.fat_pct") >= 5 &&
                         num(b, "weigh_in.fat_pct") <= 40,
                     "a realistic weight and body fat", b);
                note(&t,
                     secs(str(b, "weigh_in.time"), NULL) >
                         secs(str(json_array_get(n, 0), "end"), NULL),
                     "weighed after getting up", b);
            }
            if (at(b, "blood_pressure") != NULL) {
                pressure++;
                note(&t,
                     num(b, "blood_pressure.systolic_mmhg") >
                         num(b, "blood_pressure.diastolic_mmhg"),
                     "systolic over diastolic", b);
            }
            json_decref(a);
            json_decref(n);
        }
        json_decref(p);
    }
    report(&t, "every body summary agrees with the night and the profile");
    ok(weighed > ACCOUNTS * DAYS / 2 && weighed < ACCOUNTS * DAYS,
       "most days, not all, have a weigh-in");
    ok(pressure > 0 && pressure < weighed, "some have a blood pressure");
}

static void
test_profile(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    json_t *p = NULL;
    json_t *q = NULL;
    int y = 0;
    int m = 0;
    int d = 0;
    int ty = 0;
    int tm = 0;
    int td = 0;
    int age = 0;

    sandbox_account_id("alice", id);
    is_int(sandbox_data_profile(id, "alice", day0, &p), 0, "a profile");
    sandbox_data_profile(id, "alice", day0, &q);
    ok(json_equal(p, q), "the same twice");
    json_decref(q);
    is_str(str(p, "user_id"), id, "its user id");
    is_str(str(p, "username"), "alice", "its username");
    ok(str(p, "first_name") != NULL && str(p, "last_name") != NULL, "a name");
    ok(isotime_parse_date(str(p, "birth_date"), &y, &m, &d) == 0,
       "a birth date");
    isotime_civil_from_days(day0, &ty, &tm, &td);
    age = ty - y - (tm < m || (tm == m && td < d));
    is_int(num(p, "age"), age, "the age on that day");
    ok(num(p, "height_cm") >= 150 && num(p, "height_cm") <= 200, "a height");
    is_int(num(p, "utc_offset_min"), 540, "the offset, in minutes");
    is_int(json_array_size(at(p, "devices")), 2, "a watch and a scale");
    is_int(sandbox_data_profile(id, "alice", 3000000, &q), ERR_INVALID,
           "a day past 9998 is refused");
    json_decref(p);
}

/* ---- the clock ---- */

static void
test_clock(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    /* 2026-03-10T15:00:00Z */
    int64_t a = isotime_days_from_civil(2026, 3, 10) * 86400 + 15 * 3600;
    struct sandbox_clock real = {a, 86400};
    struct sandbox_clock fast = {a, 2};
    int64_t first = 0;
    int64_t end = 0;
    int64_t la = 0;
    int64_t midnight = 0;
    int64_t flip = 0;
    int moved = 1;
    int off = 0;
    int k = 0;
    int64_t since = 0;
    json_t *p = NULL;

    sandbox_account_id("alice", id); /* +09:00: 2026-03-11 00:00 there */
    off = sandbox_data_offset(id);
    sandbox_data_profile(id, "alice", a / 86400, &p);
    since = isotime_days_from_civil(atoi(str(p, "member_since")),
                                    atoi(str(p, "member_since") + 5),
                                    atoi(str(p, "member_since") + 8));
    json_decref(p);
    {
        /* an anchor long ago: 90 days before it, then */
        struct sandbox_clock old = {isotime_days_from_civil(2000, 6, 1) * 86400,
                                    86400};

        sandbox_data_served(id, &old, a, &first, &end);
        is_int(first, isotime_days_from_civil(2000, 6, 1) - 90,
               "history: 90 days before an early anchor");
    }
    la = sandbox_data_local_day(id, a);
    is_int(la, isotime_days_from_civil(2026, 3, 11), "the anchor's local day");

    is_int(sandbox_clock_time(&real, a + 12345), a + 12345,
           "a day of 86400 s: sandbox time is real time");
    is_int(sandbox_clock_time(&fast, a + 10), a + 10 * 43200,
           "a day of 2 s: 43200 times as fast");
    is_int(sandbox_clock_time(&fast, a - 10), a - 10,
           "before the anchor: real time");

    sandbox_data_served(id, &fast, a, &first, &end);
    is_int(first, since, "history: since the account's member_since");
    ok(first <= la - SANDBOX_HISTORY_DAYS, "at least 90 days before");
    is_int(end, la, "at the anchor: up to the day before");

    /* the anchor's own day is served once sandbox time passes its end */
    midnight = (la + 1) * 86400 - off;
    flip = a + ((midnight - a) * 2 + 86399) / 86400;
    sandbox_data_served(id, &fast, flip - 1, &first, &end);
    is_int(end, la, "a second before its end: not yet");
    sandbox_data_served(id, &fast, flip, &first, &end);
    is_int(end, la + 1, "at its end: served");
    for (k = 1; k <= 20; k++) {
        sandbox_data_served(id, &fast, flip + 2 * k, &first, &end);
        moved &= end == la + 1 + k;
    }
    ok(moved, "then one more day every 2 s");
    is_int(first, since, "while the history stays");

    sandbox_data_served(id, &real, midnight - 1, &first, &end);
    is_int(end, la, "a day of 86400 s: not before local midnight");
    sandbox_data_served(id, &real, midnight, &first, &end);
    is_int(end, la + 1, "served at local midnight");
}

/* ---- pages ---- */

static void
test_pages(void)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct sandbox_page_query q;
    struct sandbox_page_pos pos;
    json_t *all = json_array();
    json_t *got = json_array();
    json_t *page = NULL;
    int pages = 0;
    int small = 1;
    int64_t d = 0;
    struct err e;

    account(3, id);
    memset(&q, 0, sizeof(q));
    q.kind = SANDBOX_WORKOUTS;
    q.account_id = id;
    q.start = day0;
    q.end = day0 + 31;
    q.served_first = day0 - 90;
    q.served_end = day0 + 20; /* the last 11 days have not passed */
    q.limit = 3;
    for (d = q.start; d < q.served_end; d++) {
        sandbox_data_day(SANDBOX_WORKOUTS, id, d, all);
    }
    for (;;) {
        json_t *w = NULL;
        size_t i = 0;

        if (sandbox_data_page(&q, &page, &e) < 0) {
            break;
        }
        pages++;
        small &= json_array_size(at(page, "data")) <= 3;
        json_array_foreach(at(page, "data"), i, w)
        {
            json_array_append(got, w);
        }
        if (!json_is_string(at(page, "next_token")) ||
            sandbox_page_token_parse(str(page, "next_token"), &pos) < 0) {
            break;
        }
        q.from = &pos;
        json_decref(page);
        page = NULL;
    }
    ok(json_array_size(all) > 6, "the served days have workouts");
    ok(json_equal(all, got), "the pages give every workout once, in order");
    ok(small && pages >= 3, "pages of at most 3");
    ok(json_is_null(at(page, "next_token")), "the last page says so");
    is_str(str(page, "start"), "2026-01-15", "the range asked for is echoed");
    is_str(str(page, "end"), "2026-02-15", "end included");
    is_str(str(page, "available_through"), "2026-02-03",
           "available_through: the last day served");
    is_str(str(page, "user_id"), id, "and the account");
    json_decref(page);

    /* days before the history or not yet passed are not served */
    q.from = NULL;
    q.limit = 50;
    q.served_first = day0 + 40;
    q.served_end = day0 + 50;
    is_int(sandbox_data_page(&q, &page, &e), 0, "a range with nothing served");
    is_int(json_array_size(at(page, "data")), 0, "is empty");
    json_decref(page);

    pos.day = day0 + 31;
    pos.item = 0;
    q.from = &pos;
    is_int(sandbox_data_page(&q, &page, &e), ERR_INVALID,
           "a token from another range is refused");
    ok(sandbox_page_token_parse("20260305.1", &pos) == 0 &&
           pos.day == isotime_days_from_civil(2026, 3, 5) && pos.item == 1,
       "a token is parsed");
    ok(sandbox_page_token_parse("20260230.1", &pos) < 0 &&
           sandbox_page_token_parse("20260305.9", &pos) < 0 &&
           sandbox_page_token_parse("2026030.1", &pos) < 0 &&
           sandbox_page_token_parse("20260305.1x", &pos) < 0 &&
           sandbox_page_token_parse("", &pos) < 0,
       "malformed tokens are refused");
    json_decref(all);
    json_decref(got);
}

int
main(void)
{
    day0 = isotime_days_from_civil(2026, 1, 15);
    test_determinism();
    test_offsets();
    test_workouts();
    test_sleep();
    test_daily();
    test_body();
    test_profile();
    test_clock();
    test_pages();
    return done_testing();
}
