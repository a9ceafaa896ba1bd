/*
 * test_adapter_oura.c - the Oura adapter on the fixtures of
 * tests/fixtures/oura/ (run from the top of the tree): every kind
 * normalised and checked field by field, the merging of a day's parts,
 * hostile payloads, plan() and its chunks, next_page(), signed and
 * forged pushes, the verification handshake and the subscription steps
 * of APP_SETUP against a subscription list kept here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "providers/adapter.h"
#include "tap.h"

#define FIXTURES "tests/fixtures/oura/"
#define API      "http://127.0.0.1:9"
#define TOKEN    "0123456789abcdef0123456789abcdef"
#define HOOK     "https://ferry.example/hooks/oura/" TOKEN
#define SECRET   "oura-client-secret"

static const struct adapter *ad = &adapter_oura;

/* ---- helpers ---- */

static json_t *
load(const char *name)
{
    char path[256];
    json_error_t je;
    json_t *j = NULL;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        printf("# cannot load %s: %s (run from the top of the tree)\n", path,
               je.text);
    }
    return j;
}

/* The value at `path` ("a.b[2].c") in `j`, or NULL. */
static json_t *
at(json_t *j, const char *path)
{
    char key[128];
    const char *p = path;

    while (j != NULL && *p != '\0') {
        size_t n = strcspn(p, ".[");

        if (n > 0) {
            snprintf(key, sizeof(key), "%.*s", (int)n, p);
            j = json_object_get(j, key);
            p += n;
        }
        if (*p == '[') {
            j = json_array_get(j, strtoul(p + 1, NULL, 10));
            p = strchr(p, ']') != NULL ? strchr(p, ']') + 1 : p + 1;
        }
        if (*p == '.') {
            p++;
        }
    }
    return j;
}

static const char *
str_at(json_t *j, const char *path)
{
    return json_string_value(at(j, path));
}

static double
num_at(json_t *j, const char *path)
{
    json_t *v = at(j, path);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

#define is_num(j, path, want, name)                                            \
    do {                                                                       \
        double g_ = num_at((j), (path));                                       \
        if (!ok(fabs(g_ - (want)) < 1e-9, name)) {                             \
            printf("#   %s: got %.10g, expected %.10g\n", (path), g_,          \
                   (double)(want));                                            \
        }                                                                      \
    } while (0)

#define is_jstr(j, path, want, name) is_str(str_at((j), (path)), (want), name)

/* The record of `type` and `key` in `r`, or NULL. */
static struct adapter_record *
rec(struct adapter_records *r, enum data_type type, const char *key)
{
    size_t i = 0;

    for (i = 0; i < r->n; i++) {
        if (r->v[i].type == type && strcmp(r->v[i].key, key) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static int
norm_file(const char *kind, const char *file, struct adapter_records *out,
          struct err *e)
{
    json_t *j = load(file);
    int rc = j != NULL ? ad->normalize(kind, j, out, e) : -100;

    json_decref(j);
    return rc;
}

static int
norm_text(const char *kind, const char *text, struct adapter_records *out,
          struct err *e)
{
    json_t *j = json_loads(text, 0, NULL);
    int rc = j != NULL ? ad->normalize(kind, j, out, e) : -100;

    json_decref(j);
    return rc;
}

static int64_t
us_of(const char *iso)
{
    int64_t us = 0;
    int off = 0;

    isotime_parse(iso, &us, &off, NULL);
    return us;
}

/* ---- capabilities ---- */

static void
test_caps(void)
{
    size_t n = 0;
    size_t i = 0;
    struct adapter_records r = {0};
    json_t *empty = json_object();
    struct err e;
    int all = 1;

    is_str(ad->resource, "OURA", "resource");
    is_str(ad->api_url, "https://api.ouraring.com", "default data API");
    ok(ad->caps.types ==
           (DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
            DT_BIT(DT_BODY) | DT_BIT(DT_ATHLETE)),
       "activity, sleep, daily, body and athlete");
    is_int(ad->caps.push, 1, "pushes");
    ok(ad->caps.poll_seconds > 0, "polled as a fallback");
    is_int(ad->caps.chunk_days, 30, "30 days a request (heartrate's limit)");
    is_int(ad->caps.requests_per_minute, 1000, "5000 per 5 minutes");
    is_int(ad->caps.revokes, 1, "has a revocation endpoint");
    ok(ad->caps.backfill_days >= 365, "a long backfill");
    for (n = 0; ad->kinds[n] != NULL; n++) {
    }
    is_int(n, 28, "14 kinds, each with a description");
    for (i = 0; i < n; i += 2) {
        int rc = ad->normalize(ad->kinds[i], empty, &r, &e);

        /* an empty object is a document missing its fields, not an
         * unknown kind */
        all = all && (rc == 0 || strstr(e.msg, "no such kind") == NULL);
        all = all && strlen(ad->kinds[i + 1]) > 10;
    }
    ok(all, "every kind is known to normalize()");
    adapter_records_release(&r);
    is_int(ad->normalize("tag", empty, &r, &e), ERR_INVALID, "an unknown kind");
    ok(strstr(e.msg, "tag") != NULL, "named");
    json_decref(empty);
}

/* ---- activity ---- */

static void
test_workout(void)
{
    struct adapter_records r = {0};
    struct adapter_record *w = NULL;
    struct err e;

    is_int(norm_file("workout", "workout.json", &r, &e), 0, "workouts");
    is_int(r.n, 4, "four workouts");
    w = rec(&r, DT_ACTIVITY, "7f3c1a2e-3b4d-4e5f-8a6b-1c2d3e4f5a6b");
    ok(w != NULL, "keyed by Oura's id");
    if (w == NULL) {
        return;
    }
    is_jstr(w->data, "metadata.summary_id",
            "7f3c1a2e-3b4d-4e5f-8a6b-1c2d3e4f5a6b", "summary_id");
    is_jstr(w->data, "metadata.start_time", "2024-05-01T07:02:00.000000+02:00",
            "start keeps +02:00");
    is_jstr(w->data, "metadata.end_time", "2024-05-01T08:05:00.000000+02:00",
            "end");
    is_num(w->data, "metadata.type", 1, "cycling is BIKING");
    is_num(w->data, "metadata.upload_type", 1, "autodetected: automatic");
    is_jstr(w->data, "metadata.name", "cycling", "no label: the activity");
    is_num(w->data, "calories_data.total_burned_calories", 412.5, "kcal");
    is_num(w->data, "distance_data.summary.distance_meters", 15230, "meters");
    ok(w->start_us == us_of("2024-05-01T05:02:00Z"), "start_us");
    ok(w->end_us - w->start_us == 63LL * 60 * 1000000, "63 minutes");
    is_str(w->local_date, "", "no local date for a session");

    w = rec(&r, DT_ACTIVITY, "0b8e2d4f-6a7b-4c8d-9e0f-a1b2c3d4e5f6");
    is_jstr(w->data, "metadata.start_time", "2024-05-02T06:55:00.000000-07:00",
            "a negative offset");
    is_num(w->data, "metadata.type", 8, "RUNNING");
    is_num(w->data, "metadata.upload_type", 2, "manual entry");
    is_jstr(w->data, "metadata.name", "Morning run", "the user's label");
    is_num(w->data, "calories_data.total_burned_calories", 520, "integer kcal");
    ok(json_is_integer(at(w->data, "calories_data.total_burned_calories")),
       "kept an integer");

    w = rec(&r, DT_ACTIVITY, "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f");
    is_jstr(w->data, "metadata.start_time", "2024-05-03T19:00:00.000000+05:30",
            "a half-hour offset");
    is_num(w->data, "metadata.type", 80, "STRENGTH_TRAINING");
    is_num(w->data, "metadata.upload_type", 1, "confirmed: automatic");
    ok(at(w->data, "calories_data") == NULL &&
           at(w->data, "distance_data") == NULL,
       "null calories and distance leave no empty objects");

    w = rec(&r, DT_ACTIVITY, "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b");
    is_num(w->data, "metadata.type", 108, "an unknown activity is OTHER");
    is_jstr(w->data, "metadata.start_time", "2024-05-04T16:40:00.000000+00:00",
            "UTC");
    adapter_records_release(&r);
}

static void
test_session(void)
{
    struct adapter_records r = {0};
    struct adapter_record *s = NULL;
    struct err e;

    is_int(norm_file("session", "session.json", &r, &e), 0, "sessions");
    is_int(r.n, 2, "two sessions");
    s = rec(&r, DT_ACTIVITY, "m-2024-05-01-a");
    if (s == NULL) {
        ok(0, "meditation session");
        return;
    }
    is_num(s->data, "metadata.type", 45, "MEDITATION");
    is_num(s->data, "metadata.upload_type", 1, "recorded by the ring");
    is_jstr(s->data, "metadata.name", "meditation", "named by its type");
    is_jstr(s->data, "metadata.start_time", "2024-05-01T06:30:00.000000-04:00",
            "start");
    is_int(json_array_size(at(s->data, "heart_rate_data.detailed.hr_samples")),
           5, "five heart rate samples (a null skipped)");
    is_jstr(s->data, "heart_rate_data.detailed.hr_samples[2].timestamp",
            "2024-05-01T06:30:15.000000-04:00", "every 5 s, the null skipped");
    is_num(s->data, "heart_rate_data.detailed.hr_samples[2].bpm", 59, "bpm");
    is_num(s->data,
           "heart_rate_data.detailed.hr_samples[2].timer_duration_seconds", 15,
           "timer from the start");
    is_num(s->data, "heart_rate_data.summary.avg_hr_bpm", 60, "average");
    is_num(s->data, "heart_rate_data.summary.max_hr_bpm", 62, "max");
    is_num(s->data, "heart_rate_data.summary.min_hr_bpm", 58, "min");
    is_int(json_array_size(
               at(s->data, "heart_rate_data.detailed.hrv_samples_rmssd")),
           3, "three HRV samples");
    is_num(s->data, "heart_rate_data.detailed.hrv_samples_rmssd[1].hrv_rmssd",
           47.5, "RMSSD in ms");
    is_num(s->data, "heart_rate_data.summary.avg_hrv_rmssd", 47.5,
           "average RMSSD");
    s = rec(&r, DT_ACTIVITY, "m-2024-05-02-b");
    is_num(s->data, "metadata.type", 122, "breathing: GUIDED_BREATHING");
    ok(at(s->data, "heart_rate_data") == NULL, "no samples, no heart data");
    adapter_records_release(&r);
}

/* ---- sleep ---- */

static void
test_sleep(void)
{
    struct adapter_records r = {0};
    struct adapter_record *s = NULL;
    json_t *hyp = NULL;
    struct err e;

    is_int(norm_file("sleep", "sleep.json", &r, &e), 0, "sleep periods");
    is_int(r.n, 4, "deleted and rejected periods skipped");
    ok(rec(&r, DT_SLEEP, "b1c2d3e4-0003-4a5b-8c6d-7e8f90a1b2c3") == NULL,
       "deleted");
    ok(rec(&r, DT_SLEEP, "b1c2d3e4-0004-4a5b-8c6d-7e8f90a1b2c3") == NULL,
       "rest");

    s = rec(&r, DT_SLEEP, "b1c2d3e4-0001-4a5b-8c6d-7e8f90a1b2c3");
    if (s == NULL) {
        ok(0, "the night");
        return;
    }
    is_jstr(s->data, "metadata.start_time", "2024-05-01T23:10:00.000000+02:00",
            "bedtime start");
    is_jstr(s->data, "metadata.end_time", "2024-05-02T07:05:00.000000+02:00",
            "bedtime end");
    ok(at(s->data, "metadata.is_nap") == json_false(), "a night");
    is_num(s->data, "metadata.upload_type", 2, "SleepUploadType automatic");
    is_num(s->data, "sleep_durations_data.asleep.duration_asleep_state_seconds",
           25800, "asleep s");
    is_num(s->data,
           "sleep_durations_data.asleep.duration_deep_sleep_state_seconds",
           5400, "deep s");
    is_num(s->data,
           "sleep_durations_data.asleep.duration_light_sleep_state_seconds",
           14100, "light s");
    is_num(s->data,
           "sleep_durations_data.asleep.duration_REM_sleep_state_seconds", 6300,
           "REM s");
    is_num(s->data, "sleep_durations_data.awake.duration_awake_state_seconds",
           2700, "awake s");
    is_num(s->data, "sleep_durations_data.awake.sleep_latency_seconds", 600,
           "latency");
    is_num(s->data, "sleep_durations_data.other.duration_in_bed_seconds", 28500,
           "in bed");
    is_num(s->data, "sleep_durations_data.sleep_efficiency", 91, "percent");
    hyp = at(s->data, "sleep_durations_data.hypnogram_samples");
    is_jstr(hyp, "[0].timestamp", "2024-05-01T23:10:00.000000+02:00",
            "hypnogram from bedtime");
    is_num(hyp, "[0].level", 1, "4 = awake");
    is_jstr(hyp, "[1].timestamp", "2024-05-01T23:20:00.000000+02:00",
            "a sample where the level changes");
    is_num(hyp, "[1].level", 4, "2 = light");
    is_jstr(hyp, "[2].timestamp", "2024-05-01T23:35:00.000000+02:00",
            "5-minute steps");
    is_num(hyp, "[2].level", 5, "1 = deep");
    is_num(s->data, "heart_rate_data.summary.avg_hr_bpm", 54.5, "average hr");
    is_num(s->data, "heart_rate_data.summary.min_hr_bpm", 48, "lowest");
    is_num(s->data, "heart_rate_data.summary.resting_hr_bpm", 48, "resting");
    is_num(s->data, "heart_rate_data.summary.avg_hrv_rmssd", 41, "HRV");
    ok(at(s->data, "heart_rate_data.summary.max_hr_bpm") == NULL,
       "no maximum made up");
    is_jstr(s->data, "heart_rate_data.detailed.hr_samples[1].timestamp",
            "2024-05-01T23:15:00.000000+02:00", "hr every 300 s");
    is_num(s->data, "heart_rate_data.detailed.hr_samples[0].bpm", 58, "bpm");
    ok(json_array_size(at(s->data, "heart_rate_data.detailed.hr_samples")) ==
           95 - 4,
       "nulls skipped");
    ok(at(s->data, "heart_rate_data.detailed.hr_samples[0]"
                   ".timer_duration_seconds") == NULL,
       "no timer in a sleep");
    is_num(s->data, "heart_rate_data.detailed.hrv_samples_rmssd[0].hrv_rmssd",
           30, "rmssd samples");
    is_num(s->data, "respiration_data.breaths_data.avg_breaths_per_min", 14.625,
           "breaths");
    is_jstr(s->data, "respiration_data.breaths_data.start_time",
            "2024-05-01T23:10:00.000000+02:00", "over the period");
    is_num(s->data, "readiness_data.readiness", 82, "readiness");
    is_num(s->data, "temperature_data.delta", -0.18, "temperature deviation");

    s = rec(&r, DT_SLEEP, "b1c2d3e4-0002-4a5b-8c6d-7e8f90a1b2c3");
    ok(at(s->data, "metadata.is_nap") == json_true(), "a nap");
    is_num(s->data, "metadata.upload_type", 1, "bedtimes edited: manual");
    is_jstr(s->data, "metadata.start_time", "2024-05-02T14:20:00.000000-05:00",
            "-05:00 kept");
    hyp = at(s->data, "sleep_durations_data.hypnogram_samples");
    is_int(json_array_size(hyp), 5, "30-second phases preferred");
    is_jstr(hyp, "[1].timestamp", "2024-05-02T14:27:00.000000-05:00",
            "14 awake 30-second epochs");
    is_jstr(hyp, "[2].timestamp", "2024-05-02T14:47:00.000000-05:00",
            "REM after 54 epochs");
    is_num(hyp, "[2].level", 6, "3 = REM");
    ok(at(s->data, "heart_rate_data.detailed") == NULL, "no samples");
    ok(at(s->data, "readiness_data") == NULL, "no readiness");

    s = rec(&r, DT_SLEEP, "b1c2d3e4-0005-4a5b-8c6d-7e8f90a1b2c3");
    is_jstr(s->data, "metadata.start_time", "2024-03-30T23:40:00.000000+01:00",
            "DST night: start at +01:00");
    is_jstr(s->data, "metadata.end_time", "2024-03-31T07:20:00.000000+02:00",
            "end at +02:00");
    ok(s->end_us - s->start_us == 24000LL * 1000000, "6 h 40 min in all");

    s = rec(&r, DT_SLEEP, "b1c2d3e4-0006-4a5b-8c6d-7e8f90a1b2c3");
    ok(at(s->data, "metadata.is_nap") == NULL, "no type: no is_nap");
    is_num(s->data, "sleep_durations_data.other.duration_in_bed_seconds", 22500,
           "what it has");
    ok(at(s->data, "heart_rate_data") == NULL &&
           at(s->data, "sleep_durations_data.asleep") == NULL,
       "nothing else");
    adapter_records_release(&r);
}

/* ---- daily: five collections, one object a day ---- */

static void
test_daily(void)
{
    static const char *const parts[][2] = {
        {"daily_activity", "daily_activity.json"},
        {"daily_readiness", "daily_readiness.json"},
        {"daily_sleep", "daily_sleep.json"},
        {"daily_stress", "daily_stress.json"},
        {"enhanced_tag", "enhanced_tag.json"},
    };
    struct adapter_records r = {0};
    struct adapter_record *d = NULL;
    struct err e;
    size_t i = 0;
    int rc = 0;

    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        rc |= norm_file(parts[i][0], parts[i][1], &r, &e);
    }
    is_int(rc, 0, "the day collections");
    is_int(r.n, 4, "one record a day");
    d = rec(&r, DT_DAILY, "2024-05-01");
    if (d == NULL) {
        ok(0, "2024-05-01");
        return;
    }
    is_str(d->local_date, "2024-05-01", "local date");
    is_jstr(d->data, "metadata.start_time", "2024-05-01T00:00:00.000000+02:00",
            "local midnight");
    is_jstr(d->data, "metadata.end_time", "2024-05-02T00:00:00.000000+02:00",
            "to the next");
    ok(d->start_us == us_of("2024-04-30T22:00:00Z"), "start_us");
    is_num(d->data, "metadata.upload_type", 1, "automatic");
    is_num(d->data, "distance_data.steps", 9876, "steps");
    is_num(d->data, "distance_data.distance_meters", 8123, "meters");
    is_num(d->data, "calories_data.total_burned_calories", 2634, "total kcal");
    is_num(d->data, "calories_data.net_activity_calories", 512, "active kcal");
    is_num(d->data, "calories_data.BMR_calories", 2122, "basal kcal");
    is_num(d->data, "active_durations_data.low_intensity_seconds", 15600,
           "low");
    is_num(d->data, "active_durations_data.moderate_intensity_seconds", 2880,
           "moderate");
    is_num(d->data, "active_durations_data.vigorous_intensity_seconds", 1200,
           "vigorous");
    is_num(d->data, "active_durations_data.activity_seconds", 19680, "all");
    is_num(d->data, "active_durations_data.inactivity_seconds", 30120,
           "sedentary");
    is_num(d->data, "active_durations_data.rest_seconds", 34800, "rest");
    is_jstr(d->data,
            "active_durations_data.activity_levels_samples[0].timestamp",
            "2024-05-01T04:00:00.000000+02:00", "levels from 4 a.m.");
    is_num(d->data, "active_durations_data.activity_levels_samples[0].level", 0,
           "non-wear: UNKNOWN");
    is_jstr(d->data,
            "active_durations_data.activity_levels_samples[1].timestamp",
            "2024-05-01T04:20:00.000000+02:00", "changes only");
    is_num(d->data, "active_durations_data.activity_levels_samples[1].level", 1,
           "REST");
    is_num(d->data, "MET_data.avg_level", 1.59375, "average MET");
    is_num(d->data, "MET_data.num_high_intensity_minutes", 20, "minutes");
    is_num(d->data, "MET_data.num_moderate_intensity_minutes", 48, "minutes");
    is_num(d->data, "MET_data.num_low_intensity_minutes", 260, "minutes");
    is_num(d->data, "MET_data.num_inactive_minutes", 502, "minutes");
    is_int(json_array_size(at(d->data, "MET_data.MET_samples")), 30,
           "MET samples");
    is_jstr(d->data, "MET_data.MET_samples[1].timestamp",
            "2024-05-01T04:01:00.000000+02:00", "every minute");
    is_num(d->data, "MET_data.MET_samples[1].level", 2.2, "MET");
    is_num(d->data, "scores.activity", 78, "activity score");
    is_num(d->data, "scores.sleep", 69, "sleep score, from daily_sleep");
    is_num(d->data, "stress_data.high_stress_duration_seconds", 5400,
           "stressed s");
    is_num(d->data, "stress_data.rest_stress_duration_seconds", 7200,
           "recovery s");
    is_num(d->data, "stress_data.stress_rating", 2, "normal: LOW");
    is_int(json_array_size(at(d->data, "tag_data.tags")), 2, "two tags");
    is_jstr(d->data, "tag_data.tags[0].tag_name", "tag_generic_caffeine",
            "tag type");
    is_jstr(d->data, "tag_data.tags[0].notes", "double espresso", "comment");
    is_jstr(d->data, "tag_data.tags[0].timestamp",
            "2024-05-01T09:15:00.000000+02:00", "tag time");
    is_jstr(d->data, "tag_data.tags[1].tag_name", "Sauna", "custom name");
    is_jstr(d->data, "tag_data.tags[1].notes", "", "no comment");

    d = rec(&r, DT_DAILY, "2024-05-02");
    is_num(d->data, "scores.recovery", 82, "readiness as recovery");
    is_num(d->data, "scores.sleep", 84, "sleep score");
    is_num(d->data, "data_enrichment.readiness_score", 82, "readiness");
    is_int(
        json_array_size(at(d->data, "data_enrichment.readiness_contributors")),
        8, "contributors with a score");
    is_jstr(d->data,
            "data_enrichment.readiness_contributors[0]"
            ".contributor_name",
            "activity_balance", "named");
    is_num(d->data,
           "data_enrichment.readiness_contributors[0]"
           ".contributor_score",
           80, "scored");
    is_jstr(d->data, "tag_data.tags[0].tag_name", "note", "a text-only tag");
    ok(at(d->data, "stress_data") == NULL, "an empty stress day skipped");

    d = rec(&r, DT_DAILY, "2024-03-31");
    is_jstr(d->data, "metadata.start_time", "2024-03-31T00:00:00.000000+02:00",
            "DST day at the offset of its timestamp");
    is_num(d->data, "calories_data.BMR_calories", 2000, "basal");
    ok(at(d->data, "scores") == NULL, "no score");
    ok(at(d->data, "MET_data.MET_samples") == NULL, "no MET samples");
    ok(at(d->data, "active_durations_data.activity_levels_samples") == NULL,
       "no classes");

    d = rec(&r, DT_DAILY, "2024-05-03");
    is_num(d->data, "stress_data.stress_rating", 4, "stressful: HIGH");
    is_jstr(d->data, "metadata.start_time", "2024-05-03T00:00:00.000000+00:00",
            "no timestamp: UTC");
    ok(at(d->data, "scores") == NULL, "an empty readiness day skipped");

    /* overlapping chunks fetch some days twice */
    rc = norm_file("daily_activity", "daily_activity.json", &r, &e);
    rc |= norm_file("enhanced_tag", "enhanced_tag.json", &r, &e);
    is_int(rc, 0, "fetched again");
    is_int(r.n, 4, "still one record a day");
    d = rec(&r, DT_DAILY, "2024-05-01");
    is_int(json_array_size(at(d->data, "MET_data.MET_samples")), 30,
           "no sample twice");
    is_int(json_array_size(at(d->data, "tag_data.tags")), 2, "no tag twice");
    adapter_records_release(&r);
}

/* ---- body ---- */

static void
test_body(void)
{
    struct adapter_records r = {0};
    struct adapter_record *b = NULL;
    json_t *hr = load("heartrate.json");
    json_t *page1 = json_object();
    json_t *page2 = json_object();
    json_t *rows = json_object_get(hr, "data");
    struct err e;
    size_t i = 0;
    int rc = 0;

    rc |= norm_file("vO2_max", "vO2_max.json", &r, &e);
    rc |= norm_file("daily_spo2", "daily_spo2.json", &r, &e);
    rc |= norm_file("daily_cardiovascular_age", "daily_cardiovascular_age.json",
                    &r, &e);
    /* two pages of one series, the second fetched twice */
    json_object_set_new(page1, "data", json_array());
    json_object_set_new(page2, "data", json_array());
    for (i = 0; i < json_array_size(rows); i++) {
        json_array_append(json_object_get(i < 3 ? page1 : page2, "data"),
                          json_array_get(rows, i));
    }
    rc |= ad->normalize("heartrate", page1, &r, &e);
    rc |= ad->normalize("heartrate", page2, &r, &e);
    rc |= ad->normalize("heartrate", page2, &r, &e);
    is_int(rc, 0, "the body collections");
    is_int(r.n, 2, "two days");
    b = rec(&r, DT_BODY, "2024-05-02");
    if (b == NULL) {
        ok(0, "2024-05-02");
        return;
    }
    is_jstr(b->data, "metadata.start_time", "2024-05-02T00:00:00.000000+02:00",
            "metadata of the first part (VO2 max's offset)");
    ok(at(b->data, "metadata.upload_type") == NULL, "body has no upload_type");
    is_num(b->data, "oxygen_data.vo2max_ml_per_min_per_kg", 44, "VO2 max");
    is_jstr(b->data, "oxygen_data.vo2_samples[0].timestamp",
            "2024-05-02T08:12:45.000000+02:00", "when it was estimated");
    is_num(b->data, "oxygen_data.avg_saturation_percentage", 96.412, "SpO2 %");
    is_num(b->data,
           "heart_data.pulse_wave_velocity_samples[0]"
           ".pulse_wave_velocity_meters_per_second",
           7.3, "pulse wave velocity m/s");
    is_int(json_array_size(
               at(b->data, "heart_data.heart_rate_data.detailed.hr_samples")),
           5, "both pages, no sample twice");
    is_jstr(b->data,
            "heart_data.heart_rate_data.detailed.hr_samples[0]"
            ".timestamp",
            "2024-05-02T00:00:00.000000+00:00", "UTC as Oura wrote it");
    is_num(b->data, "heart_data.heart_rate_data.detailed.hr_samples[0].context",
           2, "sleep: NOT_ACTIVE");
    is_num(b->data, "heart_data.heart_rate_data.detailed.hr_samples[2].context",
           1, "workout: ACTIVE");
    is_num(b->data, "heart_data.heart_rate_data.detailed.hr_samples[3].context",
           0, "live: NOT_SET");
    is_num(b->data, "heart_data.heart_rate_data.summary.avg_hr_bpm", 88.2,
           "average over both pages");
    is_num(b->data, "heart_data.heart_rate_data.summary.max_hr_bpm", 118,
           "max");
    is_num(b->data, "heart_data.heart_rate_data.summary.min_hr_bpm", 57, "min");
    b = rec(&r, DT_BODY, "2024-05-01");
    is_int(json_array_size(
               at(b->data, "heart_data.heart_rate_data.detailed.hr_samples")),
           2, "the UTC day before");
    is_num(b->data, "heart_data.heart_rate_data.summary.avg_hr_bpm", 62.5,
           "its average");
    is_jstr(b->data, "metadata.start_time", "2024-05-01T00:00:00.000000+00:00",
            "a UTC day");
    ok(rec(&r, DT_BODY, "2024-05-03") == NULL,
       "null SpO2 and a vascular age alone give nothing");
    adapter_records_release(&r);
    json_decref(page1);
    json_decref(page2);
    json_decref(hr);
}

/* ---- athlete ---- */

static void
test_athlete(void)
{
    struct adapter_records r = {0};
    struct adapter_record *a = NULL;
    struct err e;
    int rc = norm_file("personal_info", "personal_info.json", &r, &e);

    rc |= norm_file("ring_configuration", "ring_configuration.json", &r, &e);
    is_int(rc, 0, "profile and rings");
    is_int(r.n, 1, "one athlete");
    a = rec(&r, DT_ATHLETE, "athlete");
    if (a == NULL) {
        ok(0, "athlete");
        return;
    }
    is_num(a->data, "age", 34, "age");
    is_jstr(a->data, "sex", "female", "biological sex");
    is_jstr(a->data, "email", "ada@example.org", "email");
    is_int(json_array_size(at(a->data, "devices")), 2, "two rings");
    is_jstr(a->data, "devices[0].manufacturer", "Oura", "manufacturer");
    is_jstr(a->data, "devices[0].hardware_version", "gen3", "hardware");
    is_jstr(a->data, "devices[0].software_version", "2.9.21", "firmware");
    is_jstr(a->data, "devices[0].activation_timestamp",
            "2023-11-12T09:30:11.000000+00:00", "set up at");
    ok(at(a->data, "devices[1].software_version") == NULL, "unknown firmware");
    adapter_records_release(&r);
}

/* ---- shapes ---- */

static void
expect_invalid(const char *kind, const char *text, const char *field,
               const char *name)
{
    struct adapter_records r = {0};
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = norm_text(kind, text, &r, &e);
    is_int(rc, ERR_INVALID, name);
    if (strstr(e.msg, field) == NULL) {
        ok(0, "names the field");
        printf("#   %s lacks %s\n", e.msg, field);
    }
    adapter_records_release(&r);
}

static void
test_shapes(void)
{
    expect_invalid("workout", "[]", "workout", "not an object");
    expect_invalid("workout", "{\"data\":{}}", "data is not an array",
                   "data not an array");
    expect_invalid("workout", "{\"data\":[1]}", "data[0]", "a number");
    expect_invalid("workout",
                   "{\"data\":[{\"id\":\"a\",\"start_datetime\":5,"
                   "\"end_datetime\":\"2024-05-01T08:00:00Z\"}]}",
                   "data[0].start_datetime", "a time that is a number");
    expect_invalid("workout",
                   "{\"data\":[{\"id\":\"a\",\"start_datetime\":"
                   "\"2024-13-01T00:00:00Z\",\"end_datetime\":"
                   "\"2024-05-01T08:00:00Z\"}]}",
                   "start_datetime is not an ISO", "month 13");
    expect_invalid("workout", "{\"data\":[{\"start_datetime\":\"x\"}]}",
                   "data[0].id is missing", "no id");
    expect_invalid("sleep",
                   "{\"data\":[{\"id\":\"a\",\"bedtime_start\":"
                   "\"2024-05-01T22:00:00Z\",\"bedtime_end\":"
                   "\"2024-05-02T06:00:00Z\",\"heart_rate\":{\"interval\":0,"
                   "\"items\":[],\"timestamp\":\"2024-05-01T22:00:00Z\"}}]}",
                   "heart_rate.interval", "a zero interval");
    expect_invalid("sleep",
                   "{\"data\":[{\"id\":\"a\",\"bedtime_start\":"
                   "\"2024-05-01T22:00:00Z\",\"bedtime_end\":"
                   "\"2024-05-02T06:00:00Z\",\"hrv\":{\"interval\":300,"
                   "\"items\":[1,\"x\"],\"timestamp\":"
                   "\"2024-05-01T22:00:00Z\"}}]}",
                   "hrv.items[1]", "a string sample");
    expect_invalid("sleep",
                   "{\"data\":[{\"id\":\"a\",\"bedtime_start\":"
                   "\"2024-05-01T22:00:00Z\",\"bedtime_end\":"
                   "\"2024-05-02T06:00:00Z\",\"readiness\":{\"score\":true}}]}",
                   "data[0].readiness.score", "a boolean score");
    expect_invalid("daily_activity", "{\"data\":[{\"day\":\"2024-02-30\"}]}",
                   "day is not a YYYY-MM-DD", "no 30 February");
    expect_invalid("daily_activity",
                   "{\"data\":[{\"day\":\"2024-05-01\",\"steps\":\"12\"}]}",
                   "steps is not a number", "steps as a string");
    expect_invalid("heartrate",
                   "{\"data\":[{\"timestamp\":\"2024-05-01T00:00:00Z\"}]}",
                   "data[0].bpm is missing", "a row without bpm");
    expect_invalid("daily_spo2",
                   "{\"data\":[{\"day\":\"2024-05-01\","
                   "\"spo2_percentage\":{\"average\":\"96\"}}]}",
                   "spo2_percentage.average", "a nested field");
    expect_invalid("workout",
                   "{\"data\":[{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
                   "longer than 127", "an id too long to be a key");
}

/* Every kind with its fixture. */
static const char *const files[][2] = {
    {"workout", "workout.json"},
    {"session", "session.json"},
    {"sleep", "sleep.json"},
    {"daily_activity", "daily_activity.json"},
    {"daily_readiness", "daily_readiness.json"},
    {"daily_sleep", "daily_sleep.json"},
    {"daily_stress", "daily_stress.json"},
    {"enhanced_tag", "enhanced_tag.json"},
    {"vO2_max", "vO2_max.json"},
    {"daily_spo2", "daily_spo2.json"},
    {"daily_cardiovascular_age", "daily_cardiovascular_age.json"},
    {"heartrate", "heartrate.json"},
    {"personal_info", "personal_info.json"},
    {"ring_configuration", "ring_configuration.json"},
};

/* Every top-level field of the first document of every fixture replaced
 * by every kind of JSON value: 0 or ERR_INVALID, never a crash (the
 * sanitizer build runs this too). */
static void
test_hostile(void)
{
    static const char *const values[] = {
        "null",
        "true",
        "\"x\"",
        "1e308",
        "-1e308",
        "-9223372036854775808",
        "[]",
        "{}",
        "[null,\"x\",{}]",
        "{\"interval\":1e-300,\"items\":[1],"
        "\"timestamp\":\"2024-05-01T00:00:00Z\"}",
        "{\"interval\":86400,\"items\":[1,2,3],"
        "\"timestamp\":\"9999-12-31T23:59:59+14:00\"}",
        "\"0000-01-01\"",
        "\"9999-12-31T23:59:59-18:00\"",
        "\"4444444444123123123999999\"",
    };
    size_t f = 0;
    int bad_rc = 0;
    size_t runs = 0;

    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        json_t *root = load(files[f][1]);
        json_t *doc = json_object_get(root, "data") != NULL
                          ? json_array_get(json_object_get(root, "data"), 0)
                          : root;
        const char *keys[64];
        size_t nkeys = 0;
        const char *key = NULL;
        json_t *v = NULL;
        size_t i = 0;

        /* the keys first: putting one back moves it to the end */
        json_object_foreach(doc, key, v)
        {
            if (nkeys < 64) {
                keys[nkeys++] = key;
            }
        }
        for (i = 0; i < nkeys; i++) {
            char name[128];
            json_t *keep = NULL;
            size_t k = 0;

            snprintf(name, sizeof(name), "%s", keys[i]);
            keep = json_incref(json_object_get(doc, name));
            for (k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
                struct adapter_records r = {0};
                struct err e;
                int rc = 0;

                json_object_set_new(doc, name, json_loads(values[k], 0, NULL));
                rc = ad->normalize(files[f][0], root, &r, &e);
                bad_rc += rc != 0 && rc != ERR_INVALID;
                adapter_records_release(&r);
                runs++;
            }
            json_object_del(doc, name);
            {
                struct adapter_records r = {0};
                struct err e;
                int rc = ad->normalize(files[f][0], root, &r, &e);

                bad_rc += rc != 0 && rc != ERR_INVALID;
                adapter_records_release(&r);
            }
            json_object_set_new(doc, name, keep);
        }
        json_decref(root);
    }
    ok(runs > 500, "hundreds of hostile documents");
    is_int(bad_rc, 0, "each is normalised or ERR_INVALID");
}

/* ---- many records: sample times, lookups by key ---- */

/*
 * Sample timestamps are written from the text of the instant before
 * when the local day stays the same: they must be what isotime_format()
 * writes, across midnight and the ends of months and years, at odd
 * intervals and offsets, and past year 9999.
 */
static void
test_sample_times(void)
{
    static const struct {
        const char *t0;
        double interval;
    } cases[] = {
        {"2024-12-31T23:41:07.250000-03:30", 97.125},
        {"2024-02-28T23:55:00+14:00", 300},
        {"1999-12-31T23:59:58.999999Z", 0.5},
        {"2023-06-30T12:00:00.000001+05:45", 86400},
        {"1970-01-01T00:00:00-12:00", 3599.999999},
        {"9999-12-31T22:00:00+00:00", 900},
    };
    size_t c = 0;
    int all = 1;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct adapter_records r = {0};
        json_t *items = json_array();
        json_t *doc = NULL;
        json_t *hr = NULL;
        json_t *hyp = NULL;
        struct err e;
        char phases[64];
        int64_t t0 = 0;
        int off = 0;
        size_t i = 0;
        size_t k = 0;

        isotime_parse(cases[c].t0, &t0, &off, NULL);
        for (i = 0; i < 60; i++) {
            json_array_append_new(items, i % 7 == 3 ? json_null()
                                                    : json_integer(40 + i));
            phases[i] = (char)('1' + i % 4);
        }
        phases[60] = '\0';
        doc = json_pack(
            "{s:[{s:s, s:s, s:s, s:s, s:{s:f, s:O, s:s},"
            " s:{s:f, s:O, s:s}, s:s}]}",
            "data", "id", "times", "type", "long_sleep", "bedtime_start",
            cases[c].t0, "bedtime_end", cases[c].t0, "heart_rate", "interval",
            cases[c].interval, "items", items, "timestamp", cases[c].t0, "hrv",
            "interval", cases[c].interval, "items", items, "timestamp",
            cases[c].t0, "sleep_phase_5_min", phases);
        all &= ad->normalize("sleep", doc, &r, &e) == 0 && r.n == 1;
        hr = r.n == 1 ? at(r.v[0].data, "heart_rate_data.detailed.hr_samples")
                      : NULL;
        hyp = r.n == 1
                  ? at(r.v[0].data, "sleep_durations_data.hypnogram_samples")
                  : NULL;
        for (i = 0, k = 0; i < 60; i++) {
            int64_t us = t0 + (int64_t)i * llround(cases[c].interval * 1e6);
            char want[ISOTIME_MAX];

            if (i % 7 == 3) {
                continue;
            }
            isotime_format(us, off, want);
            all &=
                str_at(json_array_get(hr, k), "timestamp") != NULL &&
                strcmp(str_at(json_array_get(hr, k), "timestamp"), want) == 0;
            k++;
        }
        for (i = 0; i < 60; i++) {
            char want[ISOTIME_MAX];

            isotime_format(t0 + (int64_t)i * 300 * 1000000, off, want);
            all &=
                str_at(json_array_get(hyp, i), "timestamp") != NULL &&
                strcmp(str_at(json_array_get(hyp, i), "timestamp"), want) == 0;
        }
        if (!all) {
            printf("#   from %s every %g s\n", cases[c].t0, cases[c].interval);
        }
        json_decref(items);
        json_decref(doc);
        adapter_records_release(&r);
    }
    ok(all, "sample times as isotime_format() writes them");
}

/* A page of `n` sleeps, sleep `i` with id "s<i % ids>". */
static json_t *
sleep_page(size_t n, size_t ids, int with_hrv)
{
    json_t *data = json_array();
    size_t i = 0;

    for (i = 0; i < n; i++) {
        char id[32];
        char t0[40];

        snprintf(id, sizeof(id), "s%zu", i % ids);
        isotime_format((int64_t)(1700000000 + 86400 * (i % ids)) * 1000000,
                       3600, t0);
        json_array_append_new(
            data,
            json_pack("{s:s, s:s, s:s, s:{s:i, s:[i, i], s:s}}", "id", id,
                      "bedtime_start", t0, "bedtime_end", t0,
                      with_hrv && i >= ids ? "hrv" : "heart_rate", "interval",
                      300, "items", (int)i, 50, "timestamp", t0));
    }
    return json_pack("{s:o}", "data", data);
}

/*
 * Parts of one key, by the hundred: within a page, across pages, and
 * with records of other types in `out` before; one record a key, in the
 * order the keys came.
 */
static void
test_many_keys(void)
{
    struct adapter_records r = {0};
    struct err e;
    json_t *page = sleep_page(800, 400, 1);
    size_t i = 0;
    int all = 1;

    adapter_records_add(&r, DT_DAILY, "s7", json_object(), 0, 0, NULL);
    is_int(ad->normalize("sleep", page, &r, &e), 0, "800 sleeps, 400 ids");
    json_decref(page);
    is_int(r.n, 401, "one record an id, the daily before kept apart");
    for (i = 0; i < 400 && r.n == 401; i++) {
        char id[32];

        snprintf(id, sizeof(id), "s%zu", i);
        all &= r.v[i + 1].type == DT_SLEEP && strcmp(r.v[i + 1].key, id) == 0;
        all &= json_array_size(at(r.v[i + 1].data,
                                  "heart_rate_data.detailed.hr_samples")) == 2;
        all &= json_array_size(at(r.v[i + 1].data, "heart_rate_data.detailed."
                                                   "hrv_samples_rmssd")) == 2;
    }
    ok(all, "... in order, the second part merged into the first");

    page = sleep_page(400, 400, 0);
    is_int(ad->normalize("sleep", page, &r, &e), 0, "the ids again");
    json_decref(page);
    is_int(r.n, 401, "merged into the records of the page before");
    adapter_records_release(&r);
}

/* ---- plan and pages ---- */

static struct adapter_ctx cx = {
    .api_url = API,
    .provider_user_id = "6f0ee3c1-1b8e-4f53-9a8b-2d5c8f1e0a44",
    .client_id = "oura-client-id",
    .client_secret = SECRET,
    .webhook_secret = NULL,
    .hook_url = HOOK,
};

static void
test_plan(void)
{
    struct adapter_request *rq = NULL;
    struct err e;
    size_t n = 0;
    size_t i = 0;
    int64_t may1 = us_of("2024-05-01T00:00:00Z") / 1000000;
    int all = 1;

    is_int(ad->plan(&cx, DT_SLEEP, may1, may1 + 3 * 86400, &rq, &n, &e), 0,
           "sleep for 3 days");
    is_int(n, 1, "one request");
    is_str(rq[0].url,
           API "/v2/usercollection/sleep?start_date=2024-04-30"
               "&end_date=2024-05-04",
           "a day more on either side");
    is_str(rq[0].method, "GET", "GET");
    is_str(rq[0].kind, "sleep", "kind");
    is_int(rq[0].type, DT_SLEEP, "type");
    is_int(rq[0].auth, ADAPTER_AUTH_BEARER, "the user's token");
    free(rq);

    is_int(ad->plan(&cx, DT_DAILY, may1, may1 + 65 * 86400, &rq, &n, &e), 0,
           "daily for 65 days");
    is_int(n, 15, "3 chunks of 5 collections");
    is_str(rq[0].url,
           API "/v2/usercollection/daily_activity?start_date=2024-04-30"
               "&end_date=2024-05-31",
           "chunk 1: 30 days");
    is_str(rq[1].url,
           API "/v2/usercollection/daily_activity?start_date=2024-05-30"
               "&end_date=2024-06-30",
           "chunk 2");
    is_str(rq[2].url,
           API "/v2/usercollection/daily_activity?start_date=2024-06-29"
               "&end_date=2024-07-05",
           "chunk 3: the 5 days left");
    is_str(rq[3].kind, "daily_readiness", "then readiness");
    is_str(rq[14].kind, "enhanced_tag", "tags last");
    free(rq);

    is_int(ad->plan(&cx, DT_BODY, may1 + 3600, may1 + 45 * 86400 + 43200, &rq,
                    &n, &e),
           0, "body");
    is_int(n, 8, "2 chunks of 4 collections");
    is_str(rq[6].url,
           API "/v2/usercollection/heartrate?start_datetime="
               "2024-05-01T01:00:00%2B00:00&end_datetime="
               "2024-05-31T00:00:00%2B00:00",
           "heart rate by the second, '+' escaped");
    is_str(rq[7].url,
           API "/v2/usercollection/heartrate?start_datetime="
               "2024-05-31T00:00:00%2B00:00&end_datetime="
               "2024-06-15T12:00:00%2B00:00",
           "to the end of the window");
    is_str(rq[0].kind, "vO2_max", "the capital O");
    ok(strstr(rq[0].url, "/v2/usercollection/vO2_max?") != NULL,
       "in the path too");
    free(rq);

    is_int(ad->plan(&cx, DT_ATHLETE, may1, may1 + 700 * 86400, &rq, &n, &e), 0,
           "athlete");
    is_int(n, 2, "two requests, whatever the window");
    is_str(rq[0].url, API "/v2/usercollection/personal_info", "profile");
    is_str(rq[1].url, API "/v2/usercollection/ring_configuration", "rings");
    free(rq);

    is_int(ad->plan(&cx, DT_ACTIVITY, may1, may1 + 730 * 86400, &rq, &n, &e), 0,
           "two years of activity");
    for (i = 0; i < n; i++) {
        char a[11] = "";
        char b[11] = "";
        int y1 = 0, m1 = 0, d1 = 0, y2 = 0, m2 = 0, d2 = 0;
        const char *s = strstr(rq[i].url, "start_date=");
        const char *t = strstr(rq[i].url, "end_date=");

        if (s != NULL && t != NULL) {
            memcpy(a, s + 11, 10);
            memcpy(b, t + 9, 10);
        }
        all = all && isotime_parse_date(a, &y1, &m1, &d1) == 0 &&
              isotime_parse_date(b, &y2, &m2, &d2) == 0 &&
              isotime_days_from_civil(y2, m2, d2) -
                      isotime_days_from_civil(y1, m1, d1) - 2 <
                  30;
    }
    is_int(n, 50, "25 chunks each of workouts and sessions");
    ok(all, "no chunk over 30 days (and the day each side)");
    free(rq);

    is_int(ad->plan(&cx, DT_NUTRITION, may1, may1 + 86400, &rq, &n, &e), 0,
           "nutrition");
    ok(n == 0 && rq == NULL, "Oura has none");
    is_int(ad->plan(&cx, DT_SLEEP, may1, may1, &rq, &n, &e), 0,
           "an empty window");
    is_int(n, 0, "nothing to ask");
    is_int(ad->plan(&cx, DT_SLEEP, may1, may1 + 4000LL * 86400, &rq, &n, &e),
           ERR_INVALID, "a window of 4000 days");
    is_int(ad->plan(&cx, DT_SLEEP, -86400, may1, &rq, &n, &e), ERR_INVALID,
           "before 1970");
}

static void
test_pages(void)
{
    struct adapter_request rq;
    struct adapter_request next;
    struct adapter_request again;
    json_t *a = json_pack("{s:[], s:s}", "data", "next_token", "abc+/=");
    json_t *b = json_pack("{s:[], s:s}", "data", "next_token", "def");
    json_t *none = json_pack("{s:[], s:n}", "data", "next_token");

    memset(&rq, 0, sizeof(rq));
    snprintf(rq.url, sizeof(rq.url),
             API "/v2/usercollection/sleep?start_date=2024-04-30"
                 "&end_date=2024-05-04");
    snprintf(rq.kind, sizeof(rq.kind), "sleep");
    is_int(ad->next_page(&cx, &rq, a, &next), 1, "a next page");
    is_str(next.url,
           API "/v2/usercollection/sleep?start_date=2024-04-30"
               "&end_date=2024-05-04&next_token=abc%2B%2F%3D",
           "the token escaped, the window kept");
    is_str(next.kind, "sleep", "same kind");
    is_int(ad->next_page(&cx, &next, b, &again), 1, "and another");
    is_str(again.url,
           API "/v2/usercollection/sleep?start_date=2024-04-30"
               "&end_date=2024-05-04&next_token=def",
           "the old token replaced");
    is_int(ad->next_page(&cx, &next, a, &again), 0,
           "the same token again ends the pages");
    is_int(ad->next_page(&cx, &rq, none, &next), 0, "null: the last page");
    snprintf(rq.url, sizeof(rq.url), API "/v2/usercollection/personal_info");
    is_int(ad->next_page(&cx, &rq, b, &next), 1, "a URL without a query");
    is_str(next.url, API "/v2/usercollection/personal_info?next_token=def",
           "'?' then");
    json_decref(a);
    json_decref(b);
    json_decref(none);
}

/* ---- push ---- */

struct hdrs {
    const char *sig;
    const char *ts;
};

static const char *
hdr(void *arg, const char *name)
{
    struct hdrs *h = arg;

    if (strcmp(name, "x-oura-signature") == 0) {
        return h->sig;
    }
    if (strcmp(name, "x-oura-timestamp") == 0) {
        return h->ts;
    }
    return NULL;
}

/* Upper-case hex HMAC-SHA256(key, ts + body), as Oura signs. */
static void
oura_sign(const char *key, const char *ts, const char *body, char out[65])
{
    unsigned char mac[32];
    char msg[4096];
    size_t i = 0;

    snprintf(msg, sizeof(msg), "%s%s", ts, body);
    crypto_hmac_sha256(key, strlen(key), msg, strlen(msg), mac);
    codec_hex_encode(mac, 32, out);
    for (i = 0; out[i] != '\0'; i++) {
        if (out[i] >= 'a' && out[i] <= 'f') {
            out[i] = (char)(out[i] - 'a' + 'A');
        }
    }
}

static int
do_push(const char *method, const char *query, const char *body, struct hdrs *h,
        const char *path_token, enum push_answer *answer, int *status,
        char *reply, struct adapter_push_items *items, struct err *e)
{
    struct adapter_push p;

    memset(&p, 0, sizeof(p));
    p.method = method;
    p.path_token = path_token;
    p.query = query;
    p.header = hdr;
    p.header_arg = h;
    p.body = body;
    p.body_len = body != NULL ? strlen(body) : 0;
    p.client_id = "oura-client-id";
    p.client_secret = SECRET;
    p.hook_token = TOKEN;
    return ad->push(&p, answer, status, reply, 512, items, e);
}

static int
post(const char *body, const char *key, const char *ts,
     struct adapter_push_items *items, struct err *e)
{
    char sig[65];
    struct hdrs h = {sig, ts};
    enum push_answer answer = PUSH_HANDSHAKE;
    int status = 0;
    char reply[512];

    oura_sign(key, ts, body, sig);
    return do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   items, e);
}

static void
test_push(void)
{
    json_t *j = load("webhook_notification.json");
    char *body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    struct adapter_push_items items = {0};
    enum push_answer answer = PUSH_HANDSHAKE;
    struct err e;
    char sig[65];
    char reply[512];
    int status = 0;
    struct hdrs h = {sig, "1714635131"};
    char tampered[1024];
    size_t i = 0;

    if (body == NULL) {
        ok(0, "the notice fixture");
        return;
    }
    oura_sign(SECRET, "1714635131", body, sig);
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           0, "a signed notice");
    is_int(answer, PUSH_ACCEPT, "accepted");
    is_int(items.n, 1, "one object to fetch");
    is_str(items.v[0].provider_user_id, "6f0ee3c1-1b8e-4f53-9a8b-2d5c8f1e0a44",
           "for the Oura user");
    is_int(items.v[0].type, DT_SLEEP, "sleep");
    is_str(items.v[0].kind, "sleep", "normalised as sleep");
    is_str(items.v[0].url,
           "/v2/usercollection/sleep/b1c2d3e4-0001-4a5b-8c6d-7e8f90a1b2c3",
           "the single document, under the data API");
    ok(items.v[0].payload == NULL && items.v[0].start == 0, "nothing else");
    adapter_push_items_release(&items);

    for (i = 0; sig[i] != '\0'; i++) {
        sig[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] - 'A' + 'a'
                                                       : sig[i]);
    }
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           0, "lower-case hex too");
    adapter_push_items_release(&items);

    is_int(post(body, "another-secret", "1714635131", &items, &e),
           ERR_FORBIDDEN, "signed with another secret");
    ok(items.n == 0, "nothing queued");
    oura_sign(SECRET, "1714635131", body, sig);
    h.ts = "1714635132";
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_FORBIDDEN, "another timestamp");
    h.ts = "1714635131";
    snprintf(tampered, sizeof(tampered), "%s", body);
    *strstr(tampered, "create") = 'C';
    is_int(do_push("POST", NULL, tampered, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_FORBIDDEN, "a changed body");
    h.sig = NULL;
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_FORBIDDEN, "no signature");
    h.sig = "zz";
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_FORBIDDEN, "not hex");
    h.sig = sig;
    h.ts = NULL;
    is_int(do_push("POST", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_FORBIDDEN, "no timestamp");
    h.ts = "1714635131";
    is_int(do_push("POST", NULL, body, &h, "0123456789abcdef0123456789abcdeX",
                   &answer, &status, reply, &items, &e),
           ERR_FORBIDDEN, "the wrong path token");
    is_int(do_push("PUT", NULL, body, &h, TOKEN, &answer, &status, reply,
                   &items, &e),
           ERR_INVALID, "another method");
    ok(items.n == 0, "nothing queued by any of them");

    is_int(post("{\"event_type\":\"update\",\"data_type\":\"workout\","
                "\"object_id\":\"w/1 2\",\"event_time\":\"2024-05-02T07:00:00"
                "+00:00\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "a workout update");
    is_str(items.v[0].url, "/v2/usercollection/workout/w%2F1%202",
           "the id escaped");
    is_int(items.v[0].type, DT_ACTIVITY, "activity");
    adapter_push_items_release(&items);
    is_int(post("{\"event_type\":\"update\",\"data_type\":\"vo2_max\","
                "\"object_id\":\"v1\",\"event_time\":\"2024-05-02T07:00:00"
                "+00:00\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "vo2_max");
    is_int(items.v[0].type, DT_BODY, "part of a body day");
    is_str(items.v[0].url, "", "not fetched alone");
    is_str(items.v[0].kind, "", "no kind");
    ok(items.v[0].start == us_of("2024-04-24T07:00:00Z") / 1000000 &&
           items.v[0].end == us_of("2024-05-03T07:00:00Z") / 1000000,
       "the days around it fetched whole: 8 before, 1 after");
    adapter_push_items_release(&items);
    is_int(post("{\"event_type\":\"create\",\"data_type\":\"daily_readiness\","
                "\"object_id\":\"r1\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "daily_readiness without event_time");
    is_int(items.v[0].type, DT_DAILY, "daily");
    ok(items.v[0].end > isotime_now_us() / 1000000 &&
           items.v[0].end - items.v[0].start == 9 * 86400,
       "around now");
    adapter_push_items_release(&items);
    is_int(post("{\"event_type\":\"create\",\"data_type\":"
                "\"ring_configuration\",\"object_id\":\"r1\","
                "\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "a ring");
    is_int(items.v[0].type, DT_ATHLETE, "the whole athlete again");
    adapter_push_items_release(&items);
    is_int(post("{\"event_type\":\"create\",\"data_type\":\"sleep\","
                "\"object_id\":\"s1\",\"event_time\":\"yesterday\","
                "\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           ERR_INVALID, "an event_time that is no time");
    is_int(post("{\"event_type\":\"delete\",\"data_type\":\"sleep\","
                "\"object_id\":\"s1\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "a delete is accepted");
    is_int(items.n, 0, "with nothing to fetch");
    is_int(post("{\"event_type\":\"create\",\"data_type\":\"tag\","
                "\"object_id\":\"t1\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           0, "a type ferry does not map");
    is_int(items.n, 0, "nothing to fetch");
    is_int(post("{\"event_type\":\"create\",\"data_type\":\"sleep\","
                "\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           ERR_INVALID, "no object_id");
    ok(strstr(e.msg, "object_id") != NULL, "named");
    is_int(post("{\"event_type\":\"upsert\",\"data_type\":\"sleep\","
                "\"object_id\":\"s1\",\"user_id\":\"u1\"}",
                SECRET, "1", &items, &e),
           ERR_INVALID, "an unknown event type");
    is_int(post("{\"event_type\":\"create\",\"data_type\":\"sleep\","
                "\"object_id\":\"s1\",\"user_id\":7}",
                SECRET, "1", &items, &e),
           ERR_INVALID, "a numeric user id");
    is_int(post("not json", SECRET, "1", &items, &e), ERR_INVALID,
           "a body that is not JSON");
    adapter_push_items_release(&items);
    free(body);
    json_decref(j);
}

/* ---- lifecycle: subscriptions, against a list kept here ---- */

static json_t *
sub_new(const char *id, const char *data_type, const char *event,
        const char *url, int64_t expires_us)
{
    char when[ISOTIME_MAX];

    isotime_format(expires_us, 0, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "callback_url", url,
                     "event_type", event, "data_type", data_type,
                     "expiration_time", when);
}

static const char *const hooked[] = {
    "workout",
    "session",
    "sleep",
    "daily_activity",
    "daily_readiness",
    "daily_sleep",
    "daily_stress",
    "enhanced_tag",
    "vo2_max",
    "daily_spo2",
    "daily_cardiovascular_age",
    "ring_configuration",
};

#define NHOOKED (sizeof(hooked) / sizeof(hooked[0]))

/* Every subscription ferry keeps, ours and valid for 90 days. */
static json_t *
full_list(void)
{
    json_t *list = json_array();
    int64_t later = isotime_now_us() + 90LL * 86400 * 1000000;
    size_t i = 0;
    char id[32];

    for (i = 0; i < 2 * NHOOKED; i++) {
        snprintf(id, sizeof(id), "sub-%zu", i);
        json_array_append_new(list, sub_new(id, hooked[i % NHOOKED],
                                            i < NHOOKED ? "create" : "update",
                                            HOOK, later));
    }
    return list;
}

/* Oura's side of one change `rq` to `list`: the answer and its status. */
static json_t *
fake_oura(json_t *list, const struct adapter_request *rq, long *status)
{
    int64_t later = isotime_now_us() + 90LL * 86400 * 1000000;
    static int made = 0;
    char id[32];
    size_t i = 0;

    if (strcmp(rq->method, "GET") == 0) {
        *status = 200;
        return json_incref(list);
    }
    if (strcmp(rq->method, "POST") == 0) {
        json_t *b = json_loads(rq->body, 0, NULL);
        json_t *s = NULL;

        snprintf(id, sizeof(id), "new-%d", made++);
        s = sub_new(id, str_at(b, "data_type"), str_at(b, "event_type"),
                    str_at(b, "callback_url"), later);
        json_array_append(list, s);
        json_decref(b);
        *status = 201;
        return s;
    }
    for (i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        char path[128];

        snprintf(path, sizeof(path), "/renew/%s", str_at(s, "id"));
        if (strstr(rq->url, path) != NULL) {
            char when[ISOTIME_MAX];

            isotime_format(later, 0, when);
            json_object_set_new(s, "expiration_time", json_string(when));
            *status = 200;
            return json_incref(s);
        }
    }
    *status = 403;
    return NULL;
}

/* Run APP_SETUP against `list`; the changes made in `*changes`. */
static int
run_setup(json_t *list, int *steps, int *changes, struct err *e)
{
    json_t *last = NULL;
    long status = 0;
    int step = 0;
    int rc = 0;

    *changes = 0;
    for (step = 0; step < 32; step++) {
        struct adapter_request rq;

        memset(&rq, 0, sizeof(rq));
        rc = ad->lifecycle(ADAPTER_APP_SETUP, &cx, step, last, status, &rq, e);
        json_decref(last);
        last = NULL;
        if (rc <= 0) {
            break;
        }
        *changes += strcmp(rq.method, "GET") != 0;
        last = fake_oura(list, &rq, &status);
    }
    json_decref(last);
    *steps = step;
    return rc;
}

static void
test_lifecycle(void)
{
    struct adapter_request rq;
    struct err e;
    json_t *list = json_array();
    json_t *answer = NULL;
    json_t *body = NULL;
    struct adapter_ctx bare = cx;
    char token[65] = "";
    int steps = 0;
    int changes = 0;
    int64_t now = isotime_now_us();

    memset(&rq, 0, sizeof(rq));
    is_int(ad->lifecycle(ADAPTER_USER_CONNECTED, &cx, 0, NULL, 0, &rq, &e), 0,
           "nothing when a user connects");
    is_int(ad->lifecycle(ADAPTER_USER_DEAUTH, &cx, 0, NULL, 0, &rq, &e), 0,
           "nor before deauthorization");
    bare.hook_url = NULL;
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &bare, 0, NULL, 0, &rq, &e),
           ERR_CONFIG, "no hook URL");

    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 0, NULL, 0, &rq, &e), 1,
           "step 0");
    is_str(rq.method, "GET", "lists");
    is_str(rq.url, API "/v2/webhook/subscription", "the subscriptions");
    is_int(rq.auth, ADAPTER_AUTH_NONE, "no user token");
    is_str(rq.headers[0], "x-client-id: oura-client-id", "x-client-id");
    is_str(rq.headers[1], "x-client-secret: " SECRET, "x-client-secret");
    is_str(rq.body, "", "no body");
    is_str(rq.kind, "", "no data in the answer");

    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, list, 200, &rq, &e), 1,
           "an empty list");
    is_str(rq.method, "POST", "creates");
    is_str(rq.url, API "/v2/webhook/subscription", "at the collection");
    is_str(rq.content_type, "application/json", "JSON");
    body = json_loads(rq.body, 0, NULL);
    is_jstr(body, "callback_url", HOOK, "our hook URL");
    is_jstr(body, "event_type", "create", "creates first");
    is_jstr(body, "data_type", "workout", "the first type");
    snprintf(token, sizeof(token), "%s",
             str_at(body, "verification_token") != NULL
                 ? str_at(body, "verification_token")
                 : "");
    is_int(strlen(token), 64, "a derived verification token");
    ok(strstr(rq.body, SECRET) == NULL, "the secret is not in it");
    json_decref(body);

    answer =
        sub_new("x", "workout", "create", HOOK, now + 90LL * 86400 * 1000000);
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 2, answer, 201, &rq, &e), 1,
           "created");
    is_str(rq.method, "GET", "lists again");
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 2, NULL, 409, &rq, &e),
           ERR_UPSTREAM, "a 409 ends the phase");
    ok(strstr(e.msg, "409") != NULL, "saying so");
    json_decref(answer);
    answer = sub_new("x", "workout", "create", HOOK, now + 86400000000LL);
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 2, answer, 200, &rq, &e),
           ERR_UPSTREAM, "a renewal that leaves it lapsing ends it too");
    json_decref(answer);
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, NULL, 500, &rq, &e),
           ERR_UPSTREAM, "a failed listing");
    answer = json_object();
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, answer, 200, &rq, &e),
           ERR_UPSTREAM, "a listing that is not an array");
    json_decref(answer);

    json_decref(list);
    list = load("webhook_subscriptions.json");
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, list, 200, &rq, &e), 1,
           "the fixture list");
    body = json_loads(rq.body, 0, NULL);
    is_str(rq.method, "POST", "workout/create is ours: session next");
    is_jstr(body, "data_type", "session", "session");
    json_decref(body);
    json_decref(list);

    list = full_list();
    json_object_set_new(json_array_get(list, NHOOKED + 2), "callback_url",
                        json_string("https://old.example/oura"));
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, list, 200, &rq, &e), 1,
           "sleep/update points elsewhere");
    is_str(rq.method, "PUT", "updated");
    is_str(rq.url, API "/v2/webhook/subscription/sub-14", "by its id");
    body = json_loads(rq.body, 0, NULL);
    is_jstr(body, "callback_url", HOOK, "to our URL");
    is_jstr(body, "event_type", "update", "same event");
    is_jstr(body, "data_type", "sleep", "same type");
    is_jstr(body, "verification_token", token, "same token");
    json_decref(body);
    json_decref(list);

    list = full_list();
    {
        char when[ISOTIME_MAX];

        isotime_format(now + 2LL * 86400 * 1000000, 0, when);
        json_object_set_new(json_array_get(list, 5), "expiration_time",
                            json_string(when));
    }
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, list, 200, &rq, &e), 1,
           "one lapses in 2 days");
    is_str(rq.method, "PUT", "renewed");
    is_str(rq.url, API "/v2/webhook/subscription/renew/sub-5", "renew/<id>");
    is_str(rq.body, "", "no body");
    is_str(rq.content_type, "", "no content type");
    json_decref(list);

    list = full_list();
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &cx, 1, list, 200, &rq, &e), 0,
           "everything in order: done");
    json_decref(list);

    /* from nothing, as the pipeline runs it: at most 32 steps a run */
    list = json_array();
    is_int(run_setup(list, &steps, &changes, &e), 0, "first run");
    is_int(changes, 15, "15 subscriptions made");
    ok(steps <= 32, "within the pipeline's 32 steps");
    is_int(run_setup(list, &steps, &changes, &e), 0, "second run");
    is_int(changes, 9, "the other 9");
    is_int(json_array_size(list), 24, "12 types, create and update");
    is_int(run_setup(list, &steps, &changes, &e), 0, "third run");
    is_int(changes, 0, "nothing left to do");
    is_int(steps, 1, "one listing");
    json_decref(list);

    /* the token the subscriptions carry is the one the handshake wants */
    {
        struct adapter_push_items items = {0};
        enum push_answer ans = PUSH_ACCEPT;
        struct hdrs h = {NULL, NULL};
        char query[256];
        char reply[512];
        int status = 0;

        snprintf(query, sizeof(query),
                 "verification_token=%s&challenge=c%%20h%%2Bx", token);
        is_int(do_push("GET", query, NULL, &h, TOKEN, &ans, &status, reply,
                       &items, &e),
               0, "the verification handshake");
        is_int(ans, PUSH_HANDSHAKE, "answered here");
        is_int(status, 200, "200");
        is_str(reply, "{\"challenge\":\"c h+x\"}", "the challenge, decoded");
        snprintf(query, sizeof(query),
                 "challenge=abc&verification_token=%.63s0", token);
        if (token[63] == '0') {
            query[strlen(query) - 1] = '1';
        }
        is_int(do_push("GET", query, NULL, &h, TOKEN, &ans, &status, reply,
                       &items, &e),
               ERR_FORBIDDEN, "another token");
        is_int(do_push("GET", "verification_token=x", NULL, &h, TOKEN, &ans,
                       &status, reply, &items, &e),
               ERR_INVALID, "no challenge");
        snprintf(query, sizeof(query),
                 "verification_token=%s&challenge=a&challenge=b", token);
        is_int(do_push("GET", query, NULL, &h, TOKEN, &ans, &status, reply,
                       &items, &e),
               ERR_INVALID, "a repeated parameter");
        is_int(items.n, 0, "a handshake queues nothing");
    }

    /* a webhook secret, when set, makes the token */
    bare = cx;
    bare.webhook_secret = "an operator's webhook secret";
    list = json_array();
    is_int(ad->lifecycle(ADAPTER_APP_SETUP, &bare, 1, list, 200, &rq, &e), 1,
           "with a webhook secret");
    body = json_loads(rq.body, 0, NULL);
    ok(str_at(body, "verification_token") != NULL &&
           strcmp(str_at(body, "verification_token"), token) != 0,
       "another token");
    json_decref(body);
    json_decref(list);
}

/* An empty 30-second phase string leaves the 5-minute one in use; a
 * heart rate source Oura has not documented is no context. */
static void
test_phases_and_sources(void)
{
    struct adapter_records r = {0};
    struct err e;
    json_t *arr = NULL;

    is_int(norm_text("sleep",
                     "{\"data\":[{\"id\":\"s9\",\"day\":\"2024-05-01\","
                     "\"type\":\"long_sleep\","
                     "\"bedtime_start\":\"2024-05-01T00:00:00+02:00\","
                     "\"bedtime_end\":\"2024-05-01T00:20:00+02:00\","
                     "\"sleep_phase_30_sec\":\"\","
                     "\"sleep_phase_5_min\":\"4412\"}]}",
                     &r, &e),
           0, "a sleep with an empty 30-second phase string");
    arr = r.n == 1 ? at(r.v[0].data, "sleep_durations_data.hypnogram_samples")
                   : NULL;
    ok(json_array_size(arr) == 3, "the 5-minute phases: awake, light, deep");
    adapter_records_release(&r);

    is_int(norm_text("heartrate",
                     "{\"data\":[{\"timestamp\":\"2024-05-01T00:00:00+00:00\","
                     "\"bpm\":60,\"source\":\"somewhere\"},"
                     "{\"timestamp\":\"2024-05-01T00:05:00+00:00\","
                     "\"bpm\":61,\"source\":\"rest\"}]}",
                     &r, &e),
           0, "heart rate of an unknown source");
    arr = r.n == 1 ? at(r.v[0].data, "heart_data.heart_rate_data.detailed."
                                     "hr_samples")
                   : NULL;
    ok(json_array_size(arr) == 2 &&
           json_integer_value(
               json_object_get(json_array_get(arr, 0), "context")) == 0 &&
           json_integer_value(
               json_object_get(json_array_get(arr, 1), "context")) == 2,
       "NOT_SET for it, NOT_ACTIVE for rest");
    adapter_records_release(&r);
}

/* ---- sample arrays as text ---- */

/* The text of record `i` of `r`, its splices written in. */
static char *
rec_text(const struct adapter_records *r, size_t i)
{
    struct buf b;

    buf_init(&b, 1u << 28);
    if (jsonw_add_spliced(&b, r->v[i].data, r->v[i].splices.v,
                          r->v[i].splices.n) != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* 1 when `a` and `b` hold the same records, written the same. */
static int
same_records(const struct adapter_records *a, const struct adapter_records *b)
{
    size_t i = 0;
    int same = a->n == b->n;

    for (i = 0; same && i < a->n; i++) {
        char *ta = rec_text(a, i);
        char *tb = rec_text(b, i);

        same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0 &&
               a->v[i].type == b->v[i].type &&
               strcmp(a->v[i].key, b->v[i].key) == 0;
        if (!same) {
            printf("# record %zu differs: %.200s\n#  vs %.200s\n", i,
                   ta != NULL ? ta : "(none)", tb != NULL ? tb : "(none)");
        }
        free(ta);
        free(tb);
    }
    return same;
}

/* Every fixture normalised with and without text arrays gives the same
 * JSON, byte for byte; the day parts are put into one list, so a part
 * merged into a record that holds text is covered; text turned back
 * into trees gives it too. */
static void
test_text_arrays(void)
{
    struct adapter_records trees = {0};
    struct adapter_records text = {0};
    struct adapter_records one = {0};
    struct err e;
    size_t nsplices = 0;
    size_t i = 0;
    int rc = 0;

    text.text = 1;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        rc |= norm_file(files[i][0], files[i][1], &trees, &e);
        rc |= norm_file(files[i][0], files[i][1], &text, &e);
    }
    /* a day's part again: merged into a record that holds text */
    rc |= norm_file("daily_activity", "daily_activity.json", &trees, &e);
    rc |= norm_file("daily_activity", "daily_activity.json", &text, &e);
    is_int(rc, 0, "every fixture, both ways");
    ok(trees.n > 10, "records made");
    ok(same_records(&trees, &text), "the same JSON, byte for byte");
    for (i = 0; i < text.n; i++) {
        nsplices += text.v[i].splices.n;
    }
    /* the sleeps' heart rate, HRV and hypnogram, the session's heart
     * rate and HRV, the day's MET and activity levels */
    printf("# %zu sample arrays as text\n", nsplices);
    ok(nsplices >= 6, "sample arrays kept as text");
    for (i = 0; i < trees.n && trees.v[i].splices.n == 0; i++) {
    }
    ok(i == trees.n, "no text unless asked");
    for (i = 0; i < text.n; i++) {
        adapter_splices_apply(&text.v[i].splices);
    }
    ok(same_records(&trees, &text), "made into trees: the same JSON again");

    /* merges make the exact values again, not the 15 digits of the
     * text: the greatest double, and two values one text writes alike
     * (both kept, as two samples, by the union of the parts) */
    {
        static const char *const twice[] = {
            "{\"data\":[{\"id\":\"a\","
            "\"start_datetime\":\"2024-05-01T06:30:00+00:00\","
            "\"end_datetime\":\"2024-05-01T06:40:00+00:00\"},"
            "{\"id\":\"a\",\"start_datetime\":\"2024-05-01T06:30:00+00:00\","
            "\"end_datetime\":\"2024-05-01T06:40:00+00:00\","
            "\"heart_rate\":{\"interval\":5,"
            "\"items\":[1.7976931348623157e308],"
            "\"timestamp\":\"2024-05-01T06:30:00+00:00\"}}]}",
            "{\"data\":[{\"id\":\"a\","
            "\"start_datetime\":\"2024-05-01T06:30:00+00:00\","
            "\"end_datetime\":\"2024-05-01T06:40:00+00:00\","
            "\"heart_rate\":{\"interval\":5,\"items\":[60.1],"
            "\"timestamp\":\"2024-05-01T06:30:00+00:00\"}},"
            "{\"id\":\"a\",\"start_datetime\":\"2024-05-01T06:30:00+00:00\","
            "\"end_datetime\":\"2024-05-01T06:40:00+00:00\","
            "\"heart_rate\":{\"interval\":5,"
            "\"items\":[60.10000000000001],"
            "\"timestamp\":\"2024-05-01T06:30:00+00:00\"}}]}",
        };
        size_t k = 0;

        for (k = 0; k < sizeof(twice) / sizeof(twice[0]); k++) {
            struct adapter_records t0 = {0};
            struct adapter_records t1 = {0};

            t1.text = 1;
            rc = norm_text("session", twice[k], &t0, &e);
            rc |= norm_text("session", twice[k], &t1, &e);
            is_int(rc, 0, "a session in two documents");
            ok(t0.n == 1 && same_records(&t0, &t1),
               "merged alike with and without text");
            if (k == 1) {
                ok(t1.n == 1 &&
                       json_array_size(
                           at(t1.v[0].data,
                              "heart_rate_data.detailed.hr_samples")) == 2,
                   "both samples kept");
            }
            adapter_records_release(&t0);
            adapter_records_release(&t1);
        }
    }

    /* the text of one sleep, as the tree writes it */
    one.text = 1;
    is_int(norm_file("sleep", "sleep.json", &one, &e), 0, "sleep as text");
    ok(one.n > 0 && one.v[0].splices.n == 3, "three arrays as text");
    if (one.n > 0 && one.v[0].splices.n > 0) {
        json_t *arr = NULL;

        arr = json_loadb(one.v[0].splices.v[0].text, one.v[0].splices.v[0].len,
                         0, NULL);
        ok(json_is_array(arr) && json_array_size(arr) > 0 &&
               json_is_string(
                   json_object_get(json_array_get(arr, 0), "timestamp")),
           "an array of stamped samples");
        json_decref(arr);
    }
    /* a sample series with nothing but nulls makes no array */
    adapter_records_release(&one);
    is_int(norm_text("sleep",
                     "{\"data\":[{\"id\":\"s1\",\"day\":\"2024-05-01\","
                     "\"bedtime_start\":\"2024-05-01T00:00:00+02:00\","
                     "\"bedtime_end\":\"2024-05-01T06:00:00+02:00\","
                     "\"heart_rate\":{\"interval\":300,\"items\":[null,null],"
                     "\"timestamp\":\"2024-05-01T00:00:00+02:00\"}}]}",
                     &one, &e),
           0, "a sleep with only null heart rates");
    ok(one.n == 1 && one.v[0].splices.n == 0 &&
           at(one.v[0].data, "heart_rate_data.detailed.hr_samples") == NULL,
       "no sample array, as without text");
    adapter_records_release(&one);
    adapter_records_release(&text);
    adapter_records_release(&trees);
}

int
main(void)
{
    test_caps();
    test_workout();
    test_session();
    test_sleep();
    test_daily();
    test_body();
    test_athlete();
    test_shapes();
    test_hostile();
    test_sample_times();
    test_many_keys();
    test_plan();
    test_pages();
    test_push();
    test_lifecycle();
    test_text_arrays();
    test_phases_and_sources();
    return done_testing();
}
