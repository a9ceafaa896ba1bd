/*
 * test_adapter_garmin.c - the GARMIN adapter on fixtures: Terra objects
 * field by field (units, enums, offsets, local dates, keys), backfill
 * plans and their chunks, the deregistration step, pushes with and
 * without the right client id, and any JSON thrown at it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "providers/adapter.h"
#include "tap.h"

#define FIXTURES  "tests/fixtures/garmin/"
#define CLIENT_ID "3f9a1c2e-77b0-4d51-9a8e-0c6e2d4b5a71"
#define USER_A    "7f3c1a9e5b2d4c6f8a0e1b3d5f7a9c2e"
#define USER_B    "b81e4d2a6c9f0e3b7a5d1c8f2e4b6a90"

static const struct adapter *ad = &adapter_garmin;
static struct err e;

static json_t *
load(const char *name)
{
    char path[256];
    json_error_t je;
    json_t *j = NULL;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        printf("# cannot load %s: %s\n", path, je.text);
    }
    return j;
}

static char *
slurp(const char *name, size_t *n)
{
    char path[256];
    char *buf = NULL;
    FILE *f = NULL;
    long len = 0;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)len + 1);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        len = 0;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* The value at the dotted `path` ("a.b.2.c": a number indexes an
 * array), or NULL. */
static json_t *
jget(json_t *o, const char *path)
{
    char buf[256];
    char *save = NULL;
    char *seg = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (seg = strtok_r(buf, ".", &save); seg != NULL && o != NULL;
         seg = strtok_r(NULL, ".", &save)) {
        if (json_is_array(o)) {
            o = json_array_get(o, (size_t)strtoul(seg, NULL, 10));
        } else {
            o = json_object_get(o, seg);
        }
    }
    return o;
}

static const char *
jstr(json_t *o, const char *path)
{
    return json_string_value(jget(o, path));
}

static int
jnum_is(json_t *o, const char *path, double want)
{
    json_t *v = jget(o, path);

    if (!json_is_number(v)) {
        printf("#   %s: not a number\n", path);
        return 0;
    }
    if (fabs(json_number_value(v) - want) > 1e-6 * (fabs(want) + 1)) {
        printf("#   %s: %.9g, not %.9g\n", path, json_number_value(v), want);
        return 0;
    }
    return 1;
}

static int
jint_is(json_t *o, const char *path, long long want)
{
    json_t *v = jget(o, path);

    if (!json_is_integer(v) || json_integer_value(v) != want) {
        printf("#   %s: not the integer %lld\n", path, want);
        return 0;
    }
    return 1;
}

static size_t
jlen(json_t *o, const char *path)
{
    return json_array_size(jget(o, path));
}

static struct adapter_record *
find(struct adapter_records *r, enum data_type t, const char *key)
{
    size_t i = 0;

    for (i = 0; i < r->n; i++) {
        if (r->v[i].type == t && strcmp(r->v[i].key, key) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static int
norm_file(const char *kind, const char *file, struct adapter_records *out)
{
    json_t *p = load(file);
    int rc = 0;

    err_clear(&e);
    rc = ad->normalize(kind, p, out, &e);
    if (rc != 0) {
        printf("# normalize %s %s: %s\n", kind, file, e.msg);
    }
    json_decref(p);
    return rc;
}

static int
norm_text(const char *kind, const char *text, struct adapter_records *out)
{
    json_error_t je;
    json_t *p = json_loads(text, JSON_DECODE_ANY, &je);
    int rc = 0;

    err_clear(&e);
    rc = ad->normalize(kind, p, out, &e);
    json_decref(p);
    return rc;
}

/* ---- capabilities ---- */

static void
test_caps(void)
{
    const char *const *k = NULL;
    size_t n = 0;

    is_str(ad->resource, "GARMIN", "resource");
    is_str(ad->api_url, "https://apis.garmin.com", "data API base");
    is_int(ad->caps.types,
           DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
               DT_BIT(DT_BODY),
           "activity, sleep, daily, body");
    ok(ad->caps.push == 1 && ad->caps.poll_seconds == 0,
       "pushed, never polled");
    is_int(ad->caps.chunk_days, 30, "30 days a backfill request");
    is_int(ad->caps.backfill_days, 30, "a month of history");
    ok(ad->caps.requests_per_minute > 0, "a request budget");
    ok(ad->caps.revokes == 1, "deregistration revokes");
    ok(ad->next_page == NULL, "nothing pages: answers are whole arrays");
    ok(ad->plan != NULL && ad->normalize != NULL && ad->push != NULL &&
           ad->lifecycle != NULL,
       "every entry point");
    for (k = ad->kinds; *k != NULL; k += 2) {
        struct adapter_records r = {0};
        int rc = norm_text(k[0], "[]", &r);

        ok(rc == 0 && r.n == 0 && k[1] != NULL && k[1][0] != '\0', k[0]);
        adapter_records_release(&r);
        n++;
    }
    is_int(n, 12, "twelve kinds");
}

/* ---- daily ---- */

static void
test_dailies(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("dailies", "push_dailies.json", &r), 0, "dailies");
    is_int(r.n, 3, "three days (one with nothing measured is left out)");

    x = find(&r, DT_DAILY, "2024-03-30");
    ok(x != NULL, "keyed by the local date");
    if (x != NULL) {
        json_t *d = x->data;

        is_str(x->local_date, "2024-03-30", "local date");
        is_int(x->start_us, 1711753200LL * 1000000, "start: local midnight");
        is_int(x->end_us, (1711753200LL + 86400) * 1000000, "end");
        is_str(jstr(d, "metadata.start_time"),
               "2024-03-30T00:00:00.000000+01:00", "start in Berlin time");
        is_str(jstr(d, "metadata.end_time"), "2024-03-31T00:00:00.000000+01:00",
               "end");
        ok(jint_is(d, "metadata.upload_type", 1), "automatic");
        ok(jint_is(d, "distance_data.steps", 11874), "steps");
        ok(jnum_is(d, "distance_data.distance_meters", 9321.4), "meters");
        ok(jint_is(d, "distance_data.floors_climbed", 11), "floors");
        ok(jint_is(d, "calories_data.net_activity_calories", 612), "active");
        ok(jint_is(d, "calories_data.BMR_calories", 1718), "BMR");
        ok(jint_is(d, "calories_data.total_burned_calories", 2330),
           "total = active + BMR");
        ok(jint_is(d, "active_durations_data.activity_seconds", 6480),
           "active seconds");
        ok(jint_is(d, "active_durations_data.moderate_intensity_seconds", 1860),
           "moderate");
        ok(jint_is(d, "active_durations_data.vigorous_intensity_seconds", 2520),
           "vigorous");
        ok(jint_is(d, "heart_rate_data.summary.min_hr_bpm", 48), "min HR");
        ok(jint_is(d, "heart_rate_data.summary.max_hr_bpm", 171), "max HR");
        ok(jint_is(d, "heart_rate_data.summary.resting_hr_bpm", 52),
           "resting HR");
        ok(jnum_is(d, "heart_rate_data.summary.avg_hr_bpm", 87),
           "average HR of the day's samples, not Garmin's 7-day 63");
        is_int(jlen(d, "heart_rate_data.detailed.hr_samples"), 6, "samples");
        is_str(jstr(d, "heart_rate_data.detailed.hr_samples.0.timestamp"),
               "2024-03-30T00:00:15.000000+01:00", "sample at its offset");
        is_str(jstr(d, "heart_rate_data.detailed.hr_samples.3.timestamp"),
               "2024-03-30T09:15:00.000000+01:00", "samples in time order");
        ok(jint_is(d, "heart_rate_data.detailed.hr_samples.3.bpm", 148), "bpm");
        ok(jint_is(d, "stress_data.avg_stress_level", 31), "stress average");
        ok(jint_is(d, "stress_data.max_stress_level", 88), "stress max");
        ok(jint_is(d, "stress_data.stress_rating", 2), "LOW (26-50)");
        ok(jint_is(d, "stress_data.stress_duration_seconds", 19440) &&
               jint_is(d, "stress_data.rest_stress_duration_seconds", 38880) &&
               jint_is(d, "stress_data.activity_stress_duration_seconds",
                       7920) &&
               jint_is(d, "stress_data.low_stress_duration_seconds", 12960) &&
               jint_is(d, "stress_data.medium_stress_duration_seconds", 4860) &&
               jint_is(d, "stress_data.high_stress_duration_seconds", 1620),
           "stress durations");
    }

    x = find(&r, DT_DAILY, "2024-03-31");
    ok(x != NULL, "the day the clocks went forward");
    if (x != NULL) {
        is_str(jstr(x->data, "metadata.start_time"),
               "2024-03-31T00:00:00.000000+01:00", "starts at +01:00");
        is_str(jstr(x->data, "heart_rate_data.detailed.hr_samples.1.timestamp"),
               "2024-03-31T03:00:00.000000+01:00",
               "a sample after the change is the right instant");
        ok(jint_is(x->data, "stress_data.stress_rating", 1), "REST (1-25)");
    }

    x = find(&r, DT_DAILY, "2024-03-09");
    ok(x != NULL, "a partial day in New York");
    if (x != NULL) {
        is_str(jstr(x->data, "metadata.start_time"),
               "2024-03-09T00:00:00.000000-05:00", "New York midnight");
        ok(jint_is(x->data, "calories_data.total_burned_calories", 1056),
           "total");
        ok(jget(x->data, "heart_rate_data") == NULL, "no heart rate");
        ok(jget(x->data, "stress_data") == NULL,
           "-1 (not enough data) is no stress level");
    }
    ok(find(&r, DT_DAILY, "2024-03-10") == NULL, "nothing measured: none");
    adapter_records_release(&r);

    is_int(norm_file("dailies", "callback_dailies.json", &r), 0,
           "a callback answer (the bare array)");
    ok(r.n == 2 && find(&r, DT_DAILY, "2024-03-30") != NULL, "same records");
    adapter_records_release(&r);
}

static void
test_epochs(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("epochs", "push_epochs.json", &r), 0, "epochs");
    is_int(r.n, 1, "one day");
    x = find(&r, DT_DAILY, "2024-03-30");
    ok(x != NULL, "keyed by the local date");
    if (x == NULL) {
        adapter_records_release(&r);
        return;
    }
    is_int(jlen(x->data, "MET_data.MET_samples"), 2, "one MET per 15 min");
    is_str(jstr(x->data, "MET_data.MET_samples.0.timestamp"),
           "2024-03-30T09:15:00.000000+01:00", "slot start");
    ok(jnum_is(x->data, "MET_data.MET_samples.0.level", 7.0),
       "MET weighted by active seconds: (1*300 + 10*600) / 900");
    ok(jnum_is(x->data, "MET_data.MET_samples.1.level", 3.5), "next slot");
    ok(jint_is(x->data, "active_durations_data.activity_levels_samples.0.level",
               5),
       "HIGHLY_ACTIVE took most of the slot: HIGH_INTENSITY");
    ok(jint_is(x->data, "active_durations_data.activity_levels_samples.1.level",
               4),
       "ACTIVE: MEDIUM_INTENSITY");
    is_int(jlen(x->data, "distance_data.detailed.step_samples"), 2,
           "steps per 15 min");
    ok(jint_is(x->data, "distance_data.detailed.step_samples.0.steps", 1540) &&
           jint_is(x->data, "distance_data.detailed.step_samples.1.steps", 610),
       "over the activity types of the slot: 0 + 1540, then 610");
    is_str(jstr(x->data, "distance_data.detailed.step_samples.1.timestamp"),
           "2024-03-30T09:30:00.000000+01:00", "at the slot's start");
    ok(jint_is(x->data, "calories_data.calorie_samples.0.calories", 120) &&
           jint_is(x->data, "calories_data.calorie_samples.1.calories", 21),
       "active kcal per 15 min: 2 + 118, then 21");
    ok(jget(x->data, "distance_data.detailed.distance_samples") == NULL,
       "no cumulative distance from one push");
    adapter_records_release(&r);

    /* a slot without steps or kcal has no such sample */
    is_int(norm_text("epochs",
                     "{\"epochs\":[{\"userId\":\"u\",\"summaryId\":\"e1\","
                     "\"startTimeInSeconds\":1711786500,"
                     "\"startTimeOffsetInSeconds\":0,\"met\":2.0,"
                     "\"steps\":-1}]}",
                     &r),
           0, "an epoch with only a MET");
    x = r.n == 1 ? &r.v[0] : NULL;
    ok(x != NULL && jlen(x->data, "MET_data.MET_samples") == 1 &&
           jget(x->data, "distance_data") == NULL &&
           jget(x->data, "calories_data") == NULL,
       "neither steps (a negative count is none) nor kcal");
    adapter_records_release(&r);
}

/* Values Garmin cannot mean: an SpO2 or HRV of zero or less, a
 * negative Body Battery level; and a night without durationInSeconds,
 * whose stages make its window. */
static void
test_no_values(void)
{
    struct adapter_records r = {0};
    json_t *d = NULL;

    is_int(norm_text("pulseox",
                     "{\"pulseox\":[{\"userId\":\"u\",\"summaryId\":\"p1\","
                     "\"calendarDate\":\"2024-04-07\","
                     "\"startTimeInSeconds\":1712448000,"
                     "\"startTimeOffsetInSeconds\":0,"
                     "\"timeOffsetSpo2Values\":{\"0\":95,\"60\":-1,"
                     "\"120\":0,\"180\":97}}]}",
                     &r),
           0, "pulse ox with no-value codes");
    d = r.n == 1 ? r.v[0].data : NULL;
    ok(jlen(d, "oxygen_data.saturation_samples") == 2 &&
           jint_is(d, "oxygen_data.avg_saturation_percentage", 96),
       "only 95 and 97 kept and averaged");
    adapter_records_release(&r);

    is_int(norm_text("hrv",
                     "{\"hrv\":[{\"userId\":\"u\",\"summaryId\":\"h1\","
                     "\"calendarDate\":\"2024-04-07\","
                     "\"startTimeInSeconds\":1712448000,"
                     "\"startTimeOffsetInSeconds\":0,"
                     "\"hrvValues\":{\"300\":42,\"600\":0,\"900\":-1}}]}",
                     &r),
           0, "HRV with no-value codes");
    d = r.n == 1 ? r.v[0].data : NULL;
    ok(jlen(d, "heart_rate_data.detailed.hrv_samples_rmssd") == 1 &&
           jint_is(d, "heart_rate_data.detailed.hrv_samples_rmssd.0.hrv_rmssd",
                   42),
       "only 42 kept");
    adapter_records_release(&r);

    is_int(norm_text("stressDetails",
                     "{\"stressDetails\":[{\"userId\":\"u\","
                     "\"summaryId\":\"s1\",\"calendarDate\":\"2024-04-07\","
                     "\"startTimeInSeconds\":1712448000,"
                     "\"startTimeOffsetInSeconds\":0,"
                     "\"timeOffsetBodyBatteryValues\":{\"0\":55,\"180\":-1,"
                     "\"360\":0}}]}",
                     &r),
           0, "Body Battery with a no-value code");
    d = r.n == 1 ? r.v[0].data : NULL;
    ok(jlen(d, "stress_data.body_battery_samples") == 2,
       "55 and 0 kept, -1 left out");
    adapter_records_release(&r);

    is_int(norm_text("sleeps",
                     "{\"sleeps\":[{\"userId\":\"u\",\"summaryId\":\"n1\","
                     "\"calendarDate\":\"2024-01-15\","
                     "\"startTimeInSeconds\":1705280000,"
                     "\"startTimeOffsetInSeconds\":3600,"
                     "\"deepSleepDurationInSeconds\":5400,"
                     "\"lightSleepDurationInSeconds\":14400,"
                     "\"remSleepInSeconds\":5400,"
                     "\"awakeDurationInSeconds\":1800,"
                     "\"averageHeartRate\":52,\"avgOxygenSaturation\":95.0}]}",
                     &r),
           0, "a night without durationInSeconds");
    d = r.n == 1 ? r.v[0].data : NULL;
    ok(d != NULL && r.v[0].end_us - r.v[0].start_us == 27000LL * 1000000,
       "its window: the stages and the time awake");
    is_str(jstr(d, "metadata.end_time"), "2024-01-15T09:23:20.000000+01:00",
           "ends 7.5 hours after it began (01:53:20)");
    ok(jint_is(d, "heart_rate_data.summary.avg_hr_bpm", 52), "average HR");
    ok(jint_is(d,
               "respiration_data.oxygen_saturation_data."
               "avg_saturation_percentage",
               95),
       "average SpO2");
    adapter_records_release(&r);

    /* an offset with seconds is taken in whole minutes, as written; one
     * past 18 hours is refused */
    is_int(norm_text("dailies",
                     "{\"dailies\":[{\"userId\":\"u\",\"summaryId\":\"d7\","
                     "\"calendarDate\":\"2024-04-07\","
                     "\"startTimeInSeconds\":1712428200,"
                     "\"startTimeOffsetInSeconds\":19830,"
                     "\"durationInSeconds\":86400,\"steps\":100}]}",
                     &r),
           0, "an offset of 5:30:30");
    d = r.n == 1 ? r.v[0].data : NULL;
    is_str(jstr(d, "metadata.start_time"), "2024-04-07T00:00:00.000000+05:30",
           "the day begins at the midnight its text shows");
    adapter_records_release(&r);
    is_int(norm_text("dailies",
                     "{\"dailies\":[{\"userId\":\"u\",\"summaryId\":\"d8\","
                     "\"calendarDate\":\"2024-04-08\","
                     "\"startTimeInSeconds\":1712448000,"
                     "\"startTimeOffsetInSeconds\":86400,\"steps\":1}]}",
                     &r),
           ERR_INVALID, "an offset of a day");
    adapter_records_release(&r);

    is_int(norm_text("sleeps",
                     "{\"sleeps\":[{\"userId\":\"u\",\"summaryId\":\"n2\","
                     "\"calendarDate\":\"2024-01-15\","
                     "\"startTimeInSeconds\":1705280000,"
                     "\"startTimeOffsetInSeconds\":3600,"
                     "\"durationInSeconds\":0,"
                     "\"deepSleepDurationInSeconds\":5400}]}",
                     &r),
           0, "a night whose window is given as empty");
    is_int(r.n, 0, "is no sleep");
    adapter_records_release(&r);
}

static void
test_stress_pulse_ox_hrv(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("stressDetails", "push_stress_details.json", &r), 0,
           "stress details");
    x = find(&r, DT_DAILY, "2024-03-30");
    ok(x != NULL, "daily part of the day");
    if (x != NULL) {
        is_int(jlen(x->data, "stress_data.samples"), 3,
               "-1 and -2 (off wrist, motion) are left out");
        is_str(jstr(x->data, "stress_data.samples.1.timestamp"),
               "2024-03-30T00:06:00.000000+01:00", "at its offset");
        ok(jint_is(x->data, "stress_data.samples.2.level", 77), "level");
        is_int(jlen(x->data, "stress_data.body_battery_samples"), 3,
               "Body Battery");
        ok(jint_is(x->data, "stress_data.body_battery_samples.2.level", 59),
           "battery level");
    }
    adapter_records_release(&r);

    is_int(norm_file("pulseox", "push_pulse_ox.json", &r), 0, "pulse ox");
    is_int(r.n, 1, "all-day and on-demand readings make one day");
    x = find(&r, DT_DAILY, "2024-03-30");
    if (x != NULL) {
        is_int(jlen(x->data, "oxygen_data.saturation_samples"), 4, "SpO2");
        ok(jint_is(x->data, "oxygen_data.saturation_samples.3.percentage", 93),
           "the on-demand reading");
        ok(jint_is(x->data, "oxygen_data.saturation_samples.0.type", 0),
           "blood SpO2");
        ok(jnum_is(x->data, "oxygen_data.avg_saturation_percentage", 96),
           "average of every reading");
    }
    adapter_records_release(&r);

    is_int(norm_file("pulseOx", "push_pulse_ox.json", &r), 0,
           "the backfill spelling of the kind");
    adapter_records_release(&r);

    is_int(norm_file("hrv", "push_hrv.json", &r), 0, "hrv");
    x = find(&r, DT_DAILY, "2024-03-31");
    ok(x != NULL, "filed under its calendarDate, not its start's date");
    if (x != NULL) {
        ok(jint_is(x->data, "heart_rate_data.summary.avg_hrv_rmssd", 44),
           "last night's RMSSD");
        is_int(jlen(x->data, "heart_rate_data.detailed.hrv_samples_rmssd"), 3,
               "5-minute values");
        is_str(jstr(x->data,
                    "heart_rate_data.detailed.hrv_samples_rmssd.0.timestamp"),
               "2024-03-30T23:45:00.000000+01:00", "at its offset");
    }
    adapter_records_release(&r);
}

/* ---- many summaries: lookups by key ---- */

/* A payload of `key`: `n` summaries over `days` days, summary `i` on day
 * i % days with `field` = {"60": i} (a map) or `field` = i. */
static json_t *
many(const char *key, size_t n, size_t days, const char *field, int map)
{
    json_t *list = json_array();
    size_t i = 0;

    for (i = 0; i < n; i++) {
        int64_t t = 1700006400 + 86400 * (int64_t)(i % days);
        json_t *s = NULL;

        s = json_pack("{s:s, s:s, s:I, s:i, s:i}", "userId", "u", "summaryId",
                      "x", "startTimeInSeconds", (json_int_t)t,
                      "startTimeOffsetInSeconds", 0, "durationInSeconds",
                      86400);
        json_object_set_new(s, field,
                            map ? json_pack("{s:i}", "60", 90 + (int)(i % 10))
                                : json_integer((json_int_t)i));
        json_array_append_new(list, s);
    }
    return json_pack("{s:o}", key, list);
}

/*
 * Days by the hundred, each summarised twice in one payload: a later
 * daily replaces the earlier in its place, Pulse Ox parts are merged;
 * a record from before the payload is left alone.
 */
static void
test_many_days(void)
{
    struct adapter_records r = {0};
    json_t *p = many("dailies", 600, 300, "steps", 0);
    size_t i = 0;
    int all = 1;

    adapter_records_add(&r, DT_DAILY, "2023-11-15", json_object(), 0, 0, NULL);
    err_clear(&e);
    is_int(ad->normalize("dailies", p, &r, &e), 0, "600 dailies, 300 days");
    json_decref(p);
    is_int(r.n, 301, "one record a day, the one before kept apart");
    for (i = 0; i < 300 && r.n == 301; i++) {
        all &= jint_is(r.v[i + 1].data, "distance_data.steps",
                       (long long)(i + 300));
        all &= r.v[i + 1].start_us ==
               (1700006400LL + 86400 * (long long)i) * 1000000;
    }
    ok(all, "... in the order of the days, the later summary in each");
    ok(json_object_size(r.v[0].data) == 0, "... the record before untouched");
    adapter_records_release(&r);

    p = many("pulseox", 600, 300, "timeOffsetSpo2Values", 1);
    is_int(ad->normalize("pulseox", p, &r, &e), 0, "600 Pulse Ox summaries");
    json_decref(p);
    is_int(r.n, 300, "one record a day");
    for (i = 0, all = 1; i < r.n; i++) {
        all &= jlen(r.v[i].data, "oxygen_data.saturation_samples") == 2;
    }
    ok(all, "... each with the samples of both");
    adapter_records_release(&r);
}

/* ---- sleep ---- */

static void
test_sleeps(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("sleeps", "push_sleeps.json", &r), 0, "sleeps");
    is_int(r.n, 4, "three nights and a nap (off the wrist, nothing)");

    x = find(&r, DT_SLEEP, "x7f3c1a9-660887dc-7080");
    ok(x != NULL, "keyed by summaryId");
    if (x != NULL) {
        json_t *d = x->data;

        is_str(x->local_date, "", "a session has no local date");
        is_int(x->start_us, 1711835100LL * 1000000, "start");
        is_int(x->end_us, (1711835100LL + 28800) * 1000000, "end");
        is_str(jstr(d, "metadata.start_time"),
               "2024-03-30T22:45:00.000000+01:00", "start, Berlin");
        is_str(jstr(d, "metadata.end_time"), "2024-03-31T06:45:00.000000+01:00",
               "end: 07:45 CEST, written at the start's offset");
        ok(jint_is(d, "metadata.upload_type", 2), "ENHANCED_FINAL: automatic");
        ok(json_is_false(jget(d, "metadata.is_nap")), "not a nap");
        is_str(jstr(d, "metadata.summary_id"), "x7f3c1a9-660887dc-7080",
               "summary_id");
        ok(jint_is(d,
                   "sleep_durations_data.asleep.duration_deep_sleep_state_"
                   "seconds",
                   5400),
           "deep");
        ok(jint_is(d,
                   "sleep_durations_data.asleep.duration_light_sleep_state_"
                   "seconds",
                   15300),
           "light");
        ok(jint_is(d,
                   "sleep_durations_data.asleep.duration_REM_sleep_state_"
                   "seconds",
                   6300),
           "REM");
        ok(jint_is(d,
                   "sleep_durations_data.asleep.duration_asleep_state_seconds",
                   27000),
           "asleep = deep + light + REM");
        ok(jint_is(d, "sleep_durations_data.awake.duration_awake_state_seconds",
                   1800),
           "awake");
        ok(jint_is(d, "sleep_durations_data.other.duration_in_bed_seconds",
                   28800),
           "in bed");
        ok(jnum_is(d, "sleep_durations_data.sleep_efficiency", 93.75),
           "efficiency in percent");
        is_int(jlen(d, "sleep_durations_data.hypnogram_samples"), 5,
               "a sample per level range");
        ok(jint_is(d, "sleep_durations_data.hypnogram_samples.0.level", 4) &&
               jint_is(d, "sleep_durations_data.hypnogram_samples.1.level",
                       5) &&
               jint_is(d, "sleep_durations_data.hypnogram_samples.2.level",
                       1) &&
               jint_is(d, "sleep_durations_data.hypnogram_samples.3.level",
                       4) &&
               jint_is(d, "sleep_durations_data.hypnogram_samples.4.level", 6),
           "light, deep, awake, light, REM in time order");
        is_str(jstr(d, "sleep_durations_data.hypnogram_samples.4.timestamp"),
               "2024-03-31T05:00:00.000000+01:00", "REM from 06:00 CEST");
        ok(jnum_is(d, "respiration_data.breaths_data.avg_breaths_per_min",
                   (14.5 + 13.5 + 15.0) / 3),
           "breaths average");
        ok(jnum_is(d, "respiration_data.breaths_data.min_breaths_per_min",
                   13.5) &&
               jnum_is(d, "respiration_data.breaths_data.max_breaths_per_min",
                       15.0),
           "breaths range");
        is_str(jstr(d, "respiration_data.breaths_data.start_time"),
               "2024-03-30T22:46:00.000000+01:00", "first breath sample");
        is_int(jlen(d, "respiration_data.breaths_data.samples"), 3,
               "breath samples");
        ok(jnum_is(d,
                   "respiration_data.oxygen_saturation_data.avg_saturation_"
                   "percentage",
                   96),
           "SpO2 average");
        ok(jint_is(d,
                   "respiration_data.oxygen_saturation_data.samples.1."
                   "percentage",
                   97),
           "SpO2 sample");
        ok(jint_is(d, "scores.sleep_score", 84), "sleep score");
    }

    x = find(&r, DT_SLEEP, "x7f3c1a9-660887dc-7080:nap:1711887000");
    ok(x != NULL, "the nap is a sleep of its own");
    if (x != NULL) {
        ok(json_is_true(jget(x->data, "metadata.is_nap")), "is_nap");
        is_str(jstr(x->data, "metadata.start_time"),
               "2024-03-31T14:10:00.000000+02:00", "at the nap's own offset");
        is_str(jstr(x->data, "metadata.end_time"),
               "2024-03-31T14:35:00.000000+02:00", "25 minutes");
        ok(jint_is(x->data, "metadata.upload_type", 2), "DEVICE: automatic");
    }

    x = find(&r, DT_SLEEP, "xb81e4d2-65ed3748-6270");
    ok(x != NULL, "New York, the night the clocks went forward");
    if (x != NULL) {
        is_str(jstr(x->data, "metadata.start_time"),
               "2024-03-09T23:30:00.000000-05:00", "start");
        is_str(jstr(x->data, "metadata.end_time"),
               "2024-03-10T06:30:00.000000-05:00", "07:30 EDT");
        ok(jint_is(x->data, "metadata.upload_type", 3), "AUTO_TENTATIVE");
        ok(jint_is(x->data,
                   "sleep_durations_data.other.duration_unmeasurable_sleep_"
                   "seconds",
                   300),
           "unmeasurable (the examples' spelling)");
        ok(jint_is(x->data,
                   "sleep_durations_data.asleep.duration_asleep_state_seconds",
                   23700),
           "no REM on this device");
        ok(jget(x->data, "scores") == NULL, "no score");
    }

    x = find(&r, DT_SLEEP, "xb81e4d2-65ee73b0-7080");
    ok(x != NULL && jint_is(x->data, "metadata.upload_type", 1) &&
           jget(x->data, "sleep_durations_data.asleep") == NULL,
       "a sleep entered by hand: manual, only the window");
    ok(find(&r, DT_SLEEP, "xb81e4d2-65efc530-0") == NULL,
       "an empty off-wrist window is no sleep");
    adapter_records_release(&r);
}

/* ---- body ---- */

static void
test_body(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("bodyComps", "push_body_comps.json", &r), 0, "bodyComps");
    is_int(r.n, 2, "two days");
    x = find(&r, DT_BODY, "2024-03-30");
    ok(x != NULL, "keyed by the local date");
    if (x != NULL) {
        json_t *d = x->data;

        is_str(x->local_date, "2024-03-30", "local date");
        is_str(jstr(d, "metadata.start_time"),
               "2024-03-30T00:00:00.000000+01:00", "day start");
        ok(jget(d, "metadata.upload_type") == NULL, "body has no upload_type");
        is_int(jlen(d, "measurements_data.measurements"), 2,
               "the scale and the weight by hand, one day");
        is_str(jstr(d, "measurements_data.measurements.0.measurement_time"),
               "2024-03-30T07:12:40.000000+01:00", "measured at");
        ok(jnum_is(d, "measurements_data.measurements.0.weight_kg", 75.45),
           "grams to kg");
        ok(jnum_is(d, "measurements_data.measurements.0.bodyfat_percentage",
                   18.4),
           "fat");
        ok(jnum_is(d, "measurements_data.measurements.0.BMI", 23.6), "BMI");
        ok(jint_is(d, "measurements_data.measurements.0.bone_mass_g", 3420),
           "bone in grams");
        ok(jint_is(d, "measurements_data.measurements.0.muscle_mass_g", 33150),
           "muscle in grams");
        ok(jnum_is(d, "measurements_data.measurements.0.water_percentage",
                   57.8),
           "water");
        ok(jnum_is(d, "measurements_data.measurements.1.weight_kg", 76.1) &&
               jget(d, "measurements_data.measurements.1.BMI") == NULL,
           "a weight alone");
    }
    x = find(&r, DT_BODY, "2024-03-10");
    ok(x != NULL && strcmp(jstr(x->data, "metadata.start_time"),
                           "2024-03-10T00:00:00.000000-04:00") == 0,
       "New York, at the measurement's offset");
    adapter_records_release(&r);

    is_int(norm_file("userMetrics", "push_user_metrics.json", &r), 0,
           "userMetrics");
    x = find(&r, DT_BODY, "2024-03-30");
    ok(x != NULL, "body of the day");
    if (x != NULL) {
        ok(jint_is(x->data, "oxygen_data.vo2max_ml_per_min_per_kg", 48),
           "VO2max");
        is_str(jstr(x->data,
                    "measurements_data.measurements.0.estimated_fitness_age"),
               "34", "fitness age (a string in Terra)");
        is_str(jstr(x->data, "metadata.start_time"),
               "2024-03-30T00:00:00.000000+00:00", "no offset given");
    }
    adapter_records_release(&r);

    is_int(norm_file("bloodPressures", "push_blood_pressures.json", &r), 0,
           "bloodPressures");
    x = find(&r, DT_BODY, "2024-03-10");
    ok(x != NULL, "body of the day");
    if (x != NULL) {
        json_t *s =
            jget(x->data, "blood_pressure_data.blood_pressure_samples.0");

        is_str(jstr(s, "timestamp"), "2024-03-10T19:45:00.000000-04:00",
               "measured at");
        ok(jint_is(s, "systolic_bp", 121) && jint_is(s, "diastolic_bp", 79),
           "mmHg");
        ok(jint_is(x->data,
                   "heart_data.heart_rate_data.detailed.hr_samples.0."
                   "bpm",
                   66),
           "pulse");
    }
    adapter_records_release(&r);
}

/* ---- activity ---- */

static void
test_activities(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;

    is_int(norm_file("activities", "push_activities.json", &r), 0,
           "activities");
    is_int(r.n, 3, "three activities");
    x = find(&r, DT_ACTIVITY, "14839205172");
    ok(x != NULL, "keyed by activityId");
    if (x != NULL) {
        json_t *d = x->data;

        is_str(jstr(d, "metadata.summary_id"), "14839205172", "summary_id");
        is_str(jstr(d, "metadata.start_time"),
               "2024-03-30T09:15:00.000000+01:00", "start");
        is_str(jstr(d, "metadata.end_time"), "2024-03-30T10:00:12.000000+01:00",
               "start + duration");
        ok(jint_is(d, "metadata.type", 8), "RUNNING");
        ok(jint_is(d, "metadata.upload_type", 1), "from the watch");
        is_str(jstr(d, "metadata.name"), "Berlin Running", "name");
        is_str(jstr(d, "device_data.name"), "Forerunner 965", "device");
        is_str(jstr(d, "device_data.manufacturer"), "Garmin", "maker");
        ok(jnum_is(d, "distance_data.summary.distance_meters", 8071.3),
           "meters");
        ok(jint_is(d, "distance_data.summary.steps", 7596), "steps");
        ok(jint_is(d, "distance_data.summary.elevation.gain_actual_meters",
                   42) &&
               jint_is(d, "distance_data.summary.elevation.loss_actual_meters",
                       41),
           "elevation");
        ok(jint_is(d, "calories_data.net_activity_calories", 598) &&
               jget(d, "calories_data.total_burned_calories") == NULL,
           "active kcal: burned beyond the basal rate");
        ok(jint_is(d, "heart_rate_data.summary.avg_hr_bpm", 151) &&
               jint_is(d, "heart_rate_data.summary.max_hr_bpm", 176),
           "heart rate");
        ok(jnum_is(d, "movement_data.avg_speed_meters_per_second", 2.976) &&
               jnum_is(d, "movement_data.max_speed_meters_per_second", 3.9),
           "speed");
        ok(jnum_is(d, "movement_data.avg_pace_minutes_per_kilometer",
                   1000.0 / 60 / 2.976),
           "pace from the speed");
        ok(jnum_is(d, "movement_data.max_pace_minutes_per_kilometer",
                   1000.0 / 60 / 3.9),
           "fastest pace");
        ok(jint_is(d, "movement_data.avg_cadence_rpm", 168) &&
               jint_is(d, "movement_data.max_cadence_rpm", 182),
           "cadence");
        ok(jnum_is(d, "position_data.start_pos_lat_lng_deg.0", 52.5163) &&
               jnum_is(d, "position_data.start_pos_lat_lng_deg.1", 13.3777),
           "start position");
    }
    x = find(&r, DT_ACTIVITY, "14802117756");
    ok(x != NULL && jint_is(x->data, "metadata.type", 83) &&
           jint_is(x->data, "distance_data.summary.swimming.num_laps", 60) &&
           jint_is(x->data, "movement_data.avg_cadence_rpm", 28),
       "pool swim: lengths, strokes per minute");
    is_str(x != NULL ? jstr(x->data, "metadata.start_time") : NULL,
           "2024-03-10T16:20:00.000000-04:00", "New York, daylight time");
    x = find(&r, DT_ACTIVITY, "14802119001");
    ok(x != NULL && jint_is(x->data, "metadata.type", 4) &&
           jint_is(x->data, "metadata.upload_type", 2) &&
           jget(x->data, "device_data") == NULL,
       "an unknown type, entered by hand, device 'unknown' left out");
    adapter_records_release(&r);
}

static void
test_activity_details(void)
{
    struct adapter_records r = {0};
    struct adapter_record *x = NULL;
    json_t *d = NULL;

    is_int(norm_file("activityDetails", "push_activity_details.json", &r), 0,
           "activityDetails");
    x = find(&r, DT_ACTIVITY, "14839205172");
    ok(x != NULL && r.n == 1, "the same key as its activity summary");
    if (x == NULL) {
        adapter_records_release(&r);
        return;
    }
    d = x->data;
    is_str(jstr(d, "metadata.summary_id"), "14839205172", "summary_id");
    ok(jint_is(d, "metadata.type", 8), "RUNNING");
    is_int(jlen(d, "heart_rate_data.detailed.hr_samples"), 4, "HR samples");
    is_str(jstr(d, "heart_rate_data.detailed.hr_samples.1.timestamp"),
           "2024-03-30T09:15:05.000000+01:00", "sample time");
    ok(jint_is(d, "heart_rate_data.detailed.hr_samples.1.bpm", 104) &&
           jint_is(d,
                   "heart_rate_data.detailed.hr_samples.1.timer_duration_"
                   "seconds",
                   5),
       "bpm and timer");
    ok(jint_is(d, "heart_rate_data.summary.min_hr_bpm", 96) &&
           jint_is(d, "heart_rate_data.summary.max_hr_bpm", 176),
       "min from samples, max from the summary");
    is_int(jlen(d, "movement_data.speed_samples"), 4, "speed samples");
    ok(jnum_is(d, "movement_data.speed_samples.2.speed_meters_per_second",
               2.95),
       "m/s");
    is_int(jlen(d, "movement_data.cadence_samples"), 3, "cadence samples");
    ok(jint_is(d, "movement_data.cadence_samples.1.cadence_rpm", 162),
       "steps per minute");
    is_int(jlen(d, "power_data.power_samples"), 2, "power samples");
    ok(jnum_is(d, "power_data.avg_watts", 257) &&
           jnum_is(d, "power_data.max_watts", 263),
       "power");
    is_int(jlen(d, "distance_data.detailed.distance_samples"), 4,
           "cumulative distance");
    ok(jnum_is(d, "distance_data.detailed.distance_samples.3.distance_meters",
               43.9),
       "meters so far");
    is_int(jlen(d, "distance_data.detailed.elevation_samples"), 3, "elevation");
    ok(jnum_is(d, "distance_data.summary.elevation.min_meters", 34) &&
           jnum_is(d, "distance_data.summary.elevation.max_meters", 35.1) &&
           jnum_is(d, "distance_data.summary.elevation.avg_meters",
                   (34 + 34.4 + 35.1) / 3),
       "elevation range");
    is_int(jlen(d, "position_data.position_samples"), 3, "positions");
    ok(jnum_is(d, "position_data.position_samples.1.coords_lat_lng_deg.0",
               52.51645) &&
           jnum_is(d, "position_data.position_samples.1.coords_lat_lng_deg.1",
                   13.37702),
       "lat, lng");
    ok(jnum_is(d, "position_data.end_pos_lat_lng_deg.0", 52.5167), "end");
    is_int(jlen(d, "lap_data.laps"), 2, "laps");
    is_str(jstr(d, "lap_data.laps.0.start_time"),
           "2024-03-30T09:15:00.000000+01:00", "laps in time order");
    is_str(jstr(d, "lap_data.laps.0.end_time"),
           "2024-03-30T09:37:32.000000+01:00",
           "a lap ends where the next "
           "starts");
    is_str(jstr(d, "lap_data.laps.1.end_time"),
           "2024-03-30T10:00:12.000000+01:00", "the last at the end");
    adapter_records_release(&r);

    is_int(norm_file("manuallyUpdatedActivities", "push_manual_activities.json",
                     &r),
           0, "manuallyUpdatedActivities");
    x = find(&r, DT_ACTIVITY, "14802117999");
    ok(x != NULL && jint_is(x->data, "metadata.upload_type", 3) &&
           jint_is(x->data, "metadata.type", 16) &&
           jint_is(x->data, "movement_data.avg_cadence_rpm", 84),
       "edited on Garmin Connect: an update, road cycling");
    adapter_records_release(&r);
}

/* ---- shapes ---- */

static void
test_shapes(void)
{
    static const struct {
        const char *kind;
        const char *text;
        const char *msg; /* part of the sentence */
    } bad[] = {
        {"nutrition", "[]", "nutrition: not a GARMIN kind"},
        {"dailies", "42", "not an array"},
        {"dailies", "{\"sleeps\": []}", "no dailies array"},
        {"dailies", "{\"dailies\": {}}", "not an array"},
        {"dailies", "[1]", "dailies[0].: not an object"},
        {"dailies", "[{\"startTimeInSeconds\": \"1711753200\"}]",
         "dailies[0].startTimeInSeconds: not a number"},
        {"dailies", "[{\"steps\": 1}]", "startTimeInSeconds: missing"},
        {"dailies", "[{\"startTimeInSeconds\": 1e300}]", "out of range"},
        {"dailies", "[{\"startTimeInSeconds\": -5}]", "out of range"},
        {"dailies",
         "[{\"startTimeInSeconds\": 1711753200, "
         "\"startTimeOffsetInSeconds\": 90000}]",
         "startTimeOffsetInSeconds: out of range"},
        {"dailies",
         "[{\"startTimeInSeconds\": 1711753200, \"calendarDate\": "
         "\"2024-02-30\"}]",
         "calendarDate: not a YYYY-MM-DD date"},
        {"dailies",
         "[{\"startTimeInSeconds\": 1711753200, "
         "\"timeOffsetHeartRateSamples\": {\"-15\": 60}}]",
         "a key is not a number of seconds"},
        {"dailies",
         "[{\"startTimeInSeconds\": 1711753200, "
         "\"timeOffsetHeartRateSamples\": {\"15\": \"60\"}}]",
         "a value is not a number"},
        {"sleeps", "[{\"startTimeInSeconds\": 1711753200}]",
         "sleeps[0].summaryId: missing"},
        {"sleeps",
         "[{\"summaryId\": \"s\", \"startTimeInSeconds\": 1711753200, "
         "\"durationInSeconds\": 60, \"sleepLevelsMap\": {\"deep\": [{}]}}]",
         "sleepLevelsMap.deep[0].startTimeInSeconds: missing"},
        {"activityDetails",
         "[{\"summaryId\": \"1-detail\", \"summary\": "
         "{\"startTimeInSeconds\": 1711786500, \"durationInSeconds\": 60}, "
         "\"samples\": [{\"startTimeInSeconds\": 1711786500}, "
         "{\"startTimeInSeconds\": 1711786505, \"heartRate\": \"fast\"}]}]",
         "activityDetails[0].samples[1].heartRate: not a number"},
        {"activities",
         "[{\"summaryId\": \"1\", \"startTimeInSeconds\": 1711786500, "
         "\"durationInSeconds\": 60, \"manual\": \"yes\"}]",
         "manual: not a boolean"},
        {"activities",
         "[{\"summaryId\": \"1\", \"startTimeInSeconds\": 1711786500, "
         "\"startingLatitudeInDegree\": 95, "
         "\"startingLongitudeInDegree\": 13}]",
         "not a coordinate"},
        {"bodyComps", "[{\"weightInGrams\": 70000}]",
         "measurementTimeInSeconds: missing"},
        {"userMetrics", "[{\"vo2Max\": 40}]", "calendarDate: missing"},
    };
    size_t i = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct adapter_records r = {0};
        int rc = norm_text(bad[i].kind, bad[i].text, &r);

        ok(rc == ERR_INVALID && strstr(e.msg, bad[i].msg) != NULL, bad[i].msg);
        if (strstr(e.msg, bad[i].msg) == NULL) {
            printf("#   got: %s\n", e.msg);
        }
        adapter_records_release(&r);
    }
    {
        struct adapter_records r = {0};
        int rc = ad->normalize("dailies", NULL, &r, &e);

        ok(rc == ERR_INVALID, "no payload");
    }
    {
        struct adapter_records r = {0};
        int rc = norm_text("dailies",
                           "[{\"startTimeInSeconds\": 1711753200, \"steps\": "
                           "null, \"floorsClimbed\": 3, \"calendarDate\": "
                           "null}]",
                           &r);

        ok(rc == 0 && r.n == 1 &&
               jget(r.v[0].data, "distance_data.steps") == NULL &&
               strcmp(r.v[0].key, "1970-01-01") != 0,
           "nulls are absent fields");
        adapter_records_release(&r);
    }
    {
        struct adapter_records r = {0};
        int rc = norm_text("dailies",
                           "[{\"startTimeInSeconds\": 1711753200, "
                           "\"calendarDate\": \"2024-03-30\", \"steps\": 10},"
                           "{\"startTimeInSeconds\": 1711753200, "
                           "\"calendarDate\": \"2024-03-30\", \"steps\": 20}]",
                           &r);

        ok(rc == 0 && r.n == 1 &&
               jint_is(r.v[0].data, "distance_data.steps", 20),
           "a later summary of the same day replaces the earlier");
        adapter_records_release(&r);
    }
    {
        struct adapter_records r = {0};
        int rc = norm_text("activities",
                           "{\"summaryId\": \"99-detail\", "
                           "\"startTimeInSeconds\": 1711786500, "
                           "\"durationInSeconds\": 60}",
                           &r);

        ok(rc == 0 && r.n == 1 && strcmp(r.v[0].key, "99") == 0,
           "one summary object; no activityId: summaryId without -detail");
        adapter_records_release(&r);
    }
}

/* Every node of every fixture replaced by every kind of JSON: nothing
 * crashes, the answer is 0 or ERR_INVALID, every record is whole. */
static const char *const repl[] = {
    "null",
    "\"x\"",
    "1e308",
    "-1",
    "0",
    "{}",
    "[]",
    "true",
    "9223372036854775807",
    "-9223372036854775808",
    "0.5",
    "[{}]",
    "{\"0\": null}",
};

static size_t mutations;
static size_t mutation_failures;

static void
try_payload(const char *kind, json_t *root)
{
    struct adapter_records r = {0};
    size_t i = 0;
    int rc = ad->normalize(kind, root, &r, &e);

    mutations++;
    if (rc != 0 && rc != ERR_INVALID) {
        mutation_failures++;
    }
    for (i = 0; rc == 0 && i < r.n; i++) {
        if (!json_is_object(jget(r.v[i].data, "metadata")) ||
            r.v[i].key[0] == '\0') {
            mutation_failures++;
        }
    }
    adapter_records_release(&r);
}

static void
mutate(const char *kind, json_t *root, json_t *node)
{
    size_t j = 0;
    size_t i = 0;

    if (json_is_object(node)) {
        size_t n = json_object_size(node);
        char **keys = calloc(n + 1, sizeof(*keys));
        const char *k = NULL;
        json_t *v = NULL;

        /* a snapshot: deleting and setting a key moves it to the end */
        json_object_foreach(node, k, v)
        {
            keys[i++] = strdup(k);
        }
        for (i = 0; i < n; i++) {
            json_t *keep = json_incref(json_object_get(node, keys[i]));

            for (j = 0; j < sizeof(repl) / sizeof(repl[0]); j++) {
                json_object_set_new(node, keys[i],
                                    json_loads(repl[j], JSON_DECODE_ANY, NULL));
                try_payload(kind, root);
            }
            json_object_del(node, keys[i]);
            try_payload(kind, root);
            json_object_set_new(node, keys[i], keep);
            mutate(kind, root, keep);
            free(keys[i]);
        }
        free(keys);
    } else if (json_is_array(node)) {
        for (i = 0; i < json_array_size(node); i++) {
            json_t *keep = json_incref(json_array_get(node, i));

            for (j = 0; j < sizeof(repl) / sizeof(repl[0]); j++) {
                json_array_set_new(node, i,
                                   json_loads(repl[j], JSON_DECODE_ANY, NULL));
                try_payload(kind, root);
            }
            json_array_set_new(node, i, keep);
            mutate(kind, root, keep);
        }
    }
}

static void
test_any_json(void)
{
    static const char *const files[][2] = {
        {"dailies", "push_dailies.json"},
        {"epochs", "push_epochs.json"},
        {"stressDetails", "push_stress_details.json"},
        {"pulseox", "push_pulse_ox.json"},
        {"hrv", "push_hrv.json"},
        {"sleeps", "push_sleeps.json"},
        {"bodyComps", "push_body_comps.json"},
        {"userMetrics", "push_user_metrics.json"},
        {"bloodPressures", "push_blood_pressures.json"},
        {"activities", "push_activities.json"},
        {"activityDetails", "push_activity_details.json"},
        {"manuallyUpdatedActivities", "push_manual_activities.json"},
    };
    size_t i = 0;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        json_t *p = load(files[i][1]);

        if (p != NULL) {
            mutate(files[i][0], p, p);
        }
        json_decref(p);
    }
    printf("# %zu mutated payloads\n", mutations);
    ok(mutations > 1000 && mutation_failures == 0,
       "any JSON: 0 or ERR_INVALID, whole records, no crash");
}

/* ---- plan, lifecycle ---- */

static const struct adapter_ctx ctx = {
    .api_url = "http://127.0.0.1:9/garmin",
    .provider_user_id = USER_A,
    .client_id = CLIENT_ID,
    .client_secret = "s3cr3t",
    .hook_url = "https://ferry.example/hooks/garmin/t0k3n",
};

static void
test_plan(void)
{
    struct adapter_request *rq = NULL;
    struct adapter_ctx none = ctx;
    int64_t start = 1709251200; /* 2024-03-01T00:00:00Z */
    int64_t end = start + 75 * 86400;
    size_t n = 0;
    size_t i = 0;
    char want[512];

    is_int(ad->plan(&ctx, DT_SLEEP, start, end, &rq, &n, &e), 0, "plan sleep");
    is_int(n, 3, "75 days: three chunks of at most 30");
    snprintf(want, sizeof(want),
             "http://127.0.0.1:9/garmin/wellness-api/rest/backfill/sleeps"
             "?summaryStartTimeInSeconds=%lld&summaryEndTimeInSeconds=%lld",
             (long long)start, (long long)(start + 30 * 86400 - 1));
    is_str(n > 0 ? rq[0].url : NULL, want, "the backfill URL");
    for (i = 0; i < n; i++) {
        long long s = 0;
        long long t = 0;
        const char *q = strstr(rq[i].url, "?");

        ok(q != NULL &&
               sscanf(q,
                      "?summaryStartTimeInSeconds=%lld"
                      "&summaryEndTimeInSeconds=%lld",
                      &s, &t) == 2 &&
               s == start + (long long)i * 30 * 86400 && t - s < 30 * 86400 &&
               t == (i + 1 < n ? s + 30 * 86400 - 1 : end - 1),
           "chunks meet without overlapping (an overlap is a 409)");
        ok(strcmp(rq[i].method, "GET") == 0 && rq[i].kind[0] == '\0' &&
               rq[i].type == DT_SLEEP && rq[i].auth == ADAPTER_AUTH_BEARER &&
               rq[i].body[0] == '\0',
           "GET with the user's token; the 202 holds no data");
    }
    free(rq);

    is_int(ad->plan(&ctx, DT_DAILY, start, start + 86400, &rq, &n, &e), 0,
           "plan daily");
    is_int(n, 5, "dailies, epochs, stressDetails, pulseOx, hrv");
    ok(n == 5 && strstr(rq[0].url, "/backfill/dailies?") != NULL &&
           strstr(rq[1].url, "/backfill/epochs?") != NULL &&
           strstr(rq[2].url, "/backfill/stressDetails?") != NULL &&
           strstr(rq[3].url, "/backfill/pulseOx?") != NULL &&
           strstr(rq[4].url, "/backfill/hrv?") != NULL,
       "one backfill per summary type");
    free(rq);

    is_int(ad->plan(&ctx, DT_BODY, start, start + 86400, &rq, &n, &e), 0,
           "plan body");
    ok(n == 3 && strstr(rq[0].url, "/backfill/bodyComps?") != NULL &&
           strstr(rq[1].url, "/backfill/userMetrics?") != NULL &&
           strstr(rq[2].url, "/backfill/bloodPressures?") != NULL,
       "bodyComps, userMetrics, bloodPressures");
    free(rq);

    is_int(ad->plan(&ctx, DT_ACTIVITY, start, start + 86400, &rq, &n, &e), 0,
           "plan activity");
    ok(n == 2 && strstr(rq[0].url, "/backfill/activities?") != NULL &&
           strstr(rq[1].url, "/backfill/activityDetails?") != NULL,
       "activities and activityDetails");
    free(rq);

    rq = NULL;
    ok(ad->plan(&ctx, DT_NUTRITION, start, end, &rq, &n, &e) == 0 && n == 0 &&
           rq == NULL,
       "no nutrition at Garmin: no request");
    ok(ad->plan(&ctx, DT_SLEEP, end, start, &rq, &n, &e) == 0 && n == 0,
       "an empty window: no request");
    none.api_url = NULL;
    is_int(ad->plan(&none, DT_SLEEP, start, end, &rq, &n, &e), ERR_CONFIG,
           "no API base");
    is_int(ad->plan(&ctx, DT_SLEEP, 0, 253399622400LL, &rq, &n, &e), ERR_TOOBIG,
           "a window of millennia is refused");
}

static void
test_lifecycle(void)
{
    struct adapter_request rq;

    memset(&rq, 0, sizeof(rq));
    is_int(ad->lifecycle(ADAPTER_USER_DEAUTH, &ctx, 0, NULL, 0, &rq, &e), 1,
           "deauthorization: one step");
    is_str(rq.method, "DELETE", "DELETE");
    is_str(rq.url,
           "http://127.0.0.1:9/garmin/wellness-api/rest/user/registration",
           "the user's registration");
    ok(rq.auth == ADAPTER_AUTH_BEARER && rq.kind[0] == '\0',
       "with the user's token; no data in the 204");
    is_int(ad->lifecycle(ADAPTER_USER_DEAUTH, &ctx, 1, NULL, 204, &rq, &e), 0,
           "then done");
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &ctx, 0, NULL, 0, &rq, &e), 0,
           "app setup: endpoints are configured in Garmin's API Tools");
    is_int(ad->lifecycle(ADAPTER_USER_CONNECTED, &ctx, 0, NULL, 0, &rq, &e), 0,
           "nothing to subscribe per user");
}

/* ---- push ---- */

struct headers {
    const char *names[4];
    const char *values[4];
};

static const char *
header(void *arg, const char *name)
{
    struct headers *h = arg;
    size_t i = 0;

    for (i = 0; i < 4 && h->names[i] != NULL; i++) {
        if (strcasecmp(h->names[i], name) == 0) {
            return h->values[i];
        }
    }
    return NULL;
}

static int
push_body(const char *body, size_t len, const char *client_id,
          const char *path_token, struct adapter_push_items *out)
{
    struct headers h = {{"Content-Type", "garmin-client-id", NULL},
                        {"application/json;charset=UTF-8", client_id, NULL}};
    struct adapter_push p;
    enum push_answer answer = PUSH_HANDSHAKE;
    int status = 0;
    char reply[64] = "junk";
    int rc = 0;

    if (client_id == NULL) {
        h.names[1] = NULL;
    }
    memset(&p, 0, sizeof(p));
    p.method = "POST";
    p.path_token = path_token;
    p.header = header;
    p.header_arg = &h;
    p.body = body;
    p.body_len = len;
    p.client_id = CLIENT_ID;
    p.client_secret = "s3cr3t";
    p.hook_token = "t0k3n";
    err_clear(&e);
    rc = ad->push(&p, &answer, &status, reply, sizeof(reply), out, &e);
    if (rc == 0 && (answer != PUSH_ACCEPT || status != 200 || reply[0])) {
        printf("# a push is answered 200 with no body\n");
        return -99;
    }
    return rc;
}

static int
push_text(const char *body, struct adapter_push_items *out)
{
    return push_body(body, strlen(body), CLIENT_ID, "t0k3n", out);
}

static int
push_file(const char *file, struct adapter_push_items *out)
{
    size_t n = 0;
    char *body = slurp(file, &n);
    int rc = push_body(body, n, CLIENT_ID, "t0k3n", out);

    free(body);
    return rc;
}

static void
test_push_auth(void)
{
    static const char body[] = "{\"deregistrations\":[{\"userId\":\"u1\"}]}";
    struct adapter_push_items out = {0};
    struct adapter_push p;
    enum push_answer answer = PUSH_ACCEPT;
    int status = 0;
    char reply[8];

    is_int(push_body(body, sizeof(body) - 1, CLIENT_ID, "t0k3n", &out), 0,
           "this app's client id");
    adapter_push_items_release(&out);
    is_int(push_body(body, sizeof(body) - 1, "c0ffee00-0000-4000-8000-0000",
                     "t0k3n", &out),
           ERR_FORBIDDEN, "another app's client id");
    ok(out.n == 0, "nothing read");
    is_int(push_body(body, sizeof(body) - 1, CLIENT_ID "x", "t0k3n", &out),
           ERR_FORBIDDEN, "a longer client id");
    is_int(push_body(body, sizeof(body) - 1, "", "t0k3n", &out), ERR_FORBIDDEN,
           "an empty garmin-client-id");
    is_int(push_body(body, sizeof(body) - 1, NULL, "t0k3n", &out),
           ERR_FORBIDDEN, "no garmin-client-id header");
    is_int(push_body(body, sizeof(body) - 1, CLIENT_ID, "t0k3m", &out),
           ERR_FORBIDDEN, "the wrong hook path");
    is_int(push_body(body, sizeof(body) - 1, CLIENT_ID, NULL, &out),
           ERR_FORBIDDEN, "no hook path token");
    adapter_push_items_release(&out);

    memset(&p, 0, sizeof(p));
    p.method = "POST";
    p.body = body;
    p.body_len = sizeof(body) - 1;
    is_int(ad->push(&p, &answer, &status, reply, sizeof(reply), &out, &e),
           ERR_FORBIDDEN, "no client id configured: nothing is authentic");

    is_int(push_text("[]", &out), ERR_INVALID, "a body that is not an object");
    is_int(push_text("{\"dailies\":", &out), ERR_INVALID, "not JSON");
    is_int(push_text("{\"dailies\":{}}", &out), ERR_INVALID,
           "a summary list that is not an array");
    adapter_push_items_release(&out);
    is_int(push_text("{\"dailies\":{},\"sleeps\":[{\"userId\":\"u\","
                     "\"summaryId\":\"s\"}]}",
                     &out),
           0, "... next to a good one: the good one kept");
    ok(out.n == 1 && out.skipped == 1, "... the list left out");
    adapter_push_items_release(&out);
    is_int(push_text("{\"userPermissionsChange\":[{\"userId\":\"u\","
                     "\"permissions\":[\"ACTIVITY_EXPORT\"]}],\"sleeps\":[7]}",
                     &out),
           0, "an element read that asks for nothing, next to a bad one");
    adapter_push_items_release(&out);
    is_int(push_text("{\"sleeps\":[{\"summaryId\":\"s\"}]}", &out), ERR_INVALID,
           "a summary without userId");
    ok(strstr(e.msg, "sleeps[0].userId") != NULL, "named");
    is_int(push_text("{\"sleeps\":[7]}", &out), ERR_INVALID,
           "a summary that is not an object");
    is_int(push_text("{\"dailies\":[{\"userId\":\"u\",\"callbackURL\":"
                     "\"file:///etc/passwd\"}]}",
                     &out),
           ERR_INVALID, "a callback that is not http(s)");
    is_int(push_text("{\"userPermissionsChange\":[{\"userId\":\"u\"}]}", &out),
           ERR_INVALID, "a permission change without permissions");
    adapter_push_items_release(&out);
    is_int(push_text("{}", &out), 0, "an empty push");
    ok(out.n == 0, "asks for nothing");
    is_int(push_text("{\"allDayRespiration\":[{\"userId\":\"u\"}],"
                     "\"healthSnapshot\":[{\"userId\":\"u\"}],"
                     "\"skinTemp\":[{\"userId\":\"u\"}],"
                     "\"mct\":[{\"userId\":\"u\"}]}",
                     &out),
           0, "types without a Terra place");
    ok(out.n == 0, "are let go");
    {
        static const char get[] = "{}";
        struct headers h = {{"garmin-client-id", NULL}, {CLIENT_ID, NULL}};

        memset(&p, 0, sizeof(p));
        p.method = "GET";
        p.path_token = "t0k3n";
        p.header = header;
        p.header_arg = &h;
        p.body = get;
        p.body_len = 2;
        p.client_id = CLIENT_ID;
        p.hook_token = "t0k3n";
        is_int(ad->push(&p, &answer, &status, reply, sizeof(reply), &out, &e),
               ERR_INVALID, "Garmin only POSTs");
    }
    adapter_push_items_release(&out);
}

static void
test_push_data(void)
{
    struct adapter_push_items out = {0};
    struct adapter_records r = {0};
    size_t i = 0;

    is_int(push_file("push_dailies.json", &out), 0, "a dailies push");
    is_int(out.n, 2, "one item per user");
    ok(out.n == 2 && strcmp(out.v[0].provider_user_id, USER_A) == 0 &&
           strcmp(out.v[0].kind, "dailies") == 0 && out.v[0].type == DT_DAILY &&
           json_array_size(out.v[0].payload) == 2 && out.v[0].url[0] == '\0' &&
           !out.v[0].revoked,
       "the user's summaries, to normalise");
    ok(out.n == 2 && strcmp(out.v[1].provider_user_id, USER_B) == 0 &&
           json_array_size(out.v[1].payload) == 2,
       "the other user's");
    for (i = 0; i < out.n; i++) {
        ok(ad->normalize(out.v[i].kind, out.v[i].payload, &r, &e) == 0,
           "a push item's payload normalises");
    }
    is_int(r.n, 3, "all the days");
    adapter_records_release(&r);
    adapter_push_items_release(&out);

    /* a malformed element is left out, the rest of the push kept */
    is_int(push_text("{\"dailies\":[{\"userId\":\"u1\",\"summaryId\":\"d1\"},"
                     "7,{\"summaryId\":\"d2\"},"
                     "{\"userId\":\"u2\",\"callbackURL\":\"ftp://x\"}],"
                     "\"sleeps\":[{\"userId\":\"u3\",\"summaryId\":\"s1\"}]}",
                     &out),
           0, "a push with three malformed elements");
    ok(out.n == 2 && strcmp(out.v[0].provider_user_id, "u1") == 0 &&
           strcmp(out.v[1].provider_user_id, "u3") == 0,
       "the two others kept");
    is_int(out.skipped, 3, "three left out");
    is_str(out.skip_why, "dailies[1]: not an object", "the first one said");
    adapter_push_items_release(&out);
    is_int(push_text("{\"dailies\":[{\"summaryId\":\"d2\"}]}", &out),
           ERR_INVALID, "a push of nothing but malformed elements");
    ok(strstr(e.msg, "dailies[0].userId") != NULL, "says which");
    adapter_push_items_release(&out);

    is_int(push_file("push_activity_details.json", &out), 0, "details");
    ok(out.n == 1 && out.v[0].type == DT_ACTIVITY &&
           strcmp(out.v[0].kind, "activityDetails") == 0,
       "an activity item");
    adapter_push_items_release(&out);

    is_int(push_file("push_deregistrations.json", &out), 0, "deregistration");
    ok(out.n == 1 && out.v[0].revoked == 1 &&
           strcmp(out.v[0].provider_user_id, USER_B) == 0 &&
           out.v[0].payload == NULL,
       "the user revoked access");
    adapter_push_items_release(&out);

    is_int(push_file("push_permissions.json", &out), 0, "permissions");
    ok(out.n == 1 && out.v[0].revoked == 1 &&
           strcmp(out.v[0].provider_user_id, USER_B) == 0,
       "an empty grant revokes; a narrower one does not");
    adapter_push_items_release(&out);

    is_int(push_file("ping_mixed.json", &out), 0, "a ping");
    is_int(out.n, 3, "two callbacks and a deregistration");
    ok(out.n == 3 && strcmp(out.v[0].kind, "dailies") == 0 &&
           out.v[0].type == DT_DAILY && out.v[0].payload == NULL &&
           strcmp(out.v[0].url,
                  "https://apis.garmin.com/wellness-api/rest/dailies"
                  "?uploadStartTimeInSeconds=1711822411"
                  "&uploadEndTimeInSeconds=1711822414&token=pt-5b1c0e7a") == 0,
       "the callback URL verbatim, token included");
    ok(out.n == 3 && strcmp(out.v[1].kind, "activities") == 0 &&
           strcmp(out.v[1].provider_user_id, USER_B) == 0 &&
           out.v[1].url[0] != '\0',
       "an activities callback");
    ok(out.n == 3 && out.v[2].revoked == 1 &&
           strcmp(out.v[2].provider_user_id, USER_A) == 0,
       "activity files (FIT, ping only) let go; the deregistration kept");
    adapter_push_items_release(&out);
}

int
main(void)
{
    test_caps();
    test_dailies();
    test_epochs();
    test_no_values();
    test_stress_pulse_ox_hrv();
    test_many_days();
    test_sleeps();
    test_body();
    test_activities();
    test_activity_details();
    test_shapes();
    test_any_json();
    test_plan();
    test_lifecycle();
    test_push_auth();
    test_push_data();
    return done_testing();
}
