/*
 * test_adapter_sandbox.c - the SANDBOX adapter on fixtures made by the
 * sandbox's own generator (sandbox/data.h): every kind normalised to
 * Terra's models field by field (units, enum codes, offsets, local
 * dates, keys, samples), plan() URLs and chunking, next_page(), a
 * whole window fetched page by page as the pipeline would, and payloads
 * of the wrong shape refused by name without a crash.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "providers/adapter.h"
#include "sandbox/data.h"
#include "sandbox/sandbox.h"
#include "tap.h"

#define US 1000000LL

static const struct adapter *ad = &adapter_sandbox;
static char plus1[SANDBOX_ACCOUNT_ID_LEN + 1];  /* an account at +01:00 */
static char minus5[SANDBOX_ACCOUNT_ID_LEN + 1]; /* one at -05:00 */
static int64_t day0;

/* ---- helpers ---- */

static json_t *
at(const json_t *o, const char *path)
{
    char part[96];
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

/* Terra's form of the sandbox's time `s`: microseconds, same offset. */
static const char *
terra_time(const char *s, int64_t plus_s, char out[ISOTIME_MAX])
{
    int64_t us = 0;
    int off = 0;

    if (s == NULL || isotime_parse(s, &us, &off, NULL) < 0) {
        return "(unparsable)";
    }
    isotime_format(us + plus_s * US, off, out);
    return out;
}

static int64_t
time_us(const char *s)
{
    int64_t us = 0;
    int off = 0;

    return s != NULL && isotime_parse(s, &us, &off, NULL) == 0 ? us : -1;
}

/* A fixture: the page of `kind` over [start, end) days, all served. */
static json_t *
fixture(enum sandbox_kind kind, const char *id, int64_t start, int64_t end)
{
    struct sandbox_page_query q;
    json_t *page = NULL;
    struct err e;

    memset(&q, 0, sizeof(q));
    q.kind = kind;
    q.account_id = id;
    q.start = start;
    q.end = end;
    q.served_first = start - 100;
    q.served_end = end + 100;
    q.limit = SANDBOX_PAGE_ITEMS_MAX;
    if (sandbox_data_page(&q, &page, &e) < 0) {
        printf("# fixture: %s\n", e.msg);
        return NULL;
    }
    return page;
}

struct tally {
    int bad;
    char first[256];
};

static void
note(struct tally *t, int pass, const char *what, const char *key)
{
    if (pass || t->bad++ > 0) {
        return;
    }
    snprintf(t->first, sizeof(t->first), "%s (%s)", what, key);
}

static void
report(const struct tally *t, const char *name)
{
    if (!ok(t->bad == 0, name)) {
        printf("#   %d failures, the first: %s\n", t->bad, t->first);
    }
}

/* ---- caps, kinds ---- */

static void
test_caps(void)
{
    const char *const *k = ad->kinds;
    int n = 0;

    is_str(ad->resource, "SANDBOX", "resource");
    is_str(ad->api_url, "/sandbox", "its API is under ferry's public URL");
    is_int(ad->caps.types,
           DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) | DT_BIT(DT_DAILY) |
               DT_BIT(DT_BODY) | DT_BIT(DT_ATHLETE),
           "activity, sleep, daily, body, athlete");
    is_int(ad->caps.push, 0, "polled, not pushed");
    ok(ad->caps.poll_seconds > 0 && ad->caps.poll_seconds <= 60,
       "polled often");
    is_int(ad->caps.backfill_days, SANDBOX_HISTORY_DAYS,
           "backfill: the history it serves");
    is_int(ad->caps.chunk_days, SANDBOX_RANGE_DAYS_MAX,
           "chunks: the API's days per request");
    is_int(ad->caps.revokes, 1, "it revokes");
    ok(ad->lifecycle == NULL && ad->push == NULL, "no lifecycle, no push");
    for (n = 0; k[2 * n] != NULL; n++) {
        ok(k[2 * n + 1] != NULL && k[2 * n + 1][0] != '\0',
           "each kind says what it is");
    }
    is_int(n, 5, "five kinds");
}

/* ---- workouts ---- */

static int
want_type(const json_t *w)
{
    const char *s = str(w, "sport");

    if (strcmp(s, "running") == 0) {
        return 8;
    }
    if (strcmp(s, "cycling") == 0) {
        return 1;
    }
    if (strcmp(s, "walking") == 0) {
        return 7;
    }
    if (strcmp(s, "hiking") == 0) {
        return 35;
    }
    if (strcmp(s, "swimming") == 0) {
        return 83; /* in a pool */
    }
    if (strcmp(s, "rowing") == 0) {
        return 54; /* on a machine */
    }
    if (strcmp(s, "strength") == 0) {
        return 80;
    }
    return strcmp(s, "yoga") == 0 ? 100 : -1;
}

/* A sandbox series against a Terra sample array, value by value. */
static void
check_series(struct tally *t, const json_t *w, const json_t *act,
             const char *key, const char *path, const char *name, size_t from)
{
    const json_t *src = at(w, key);
    const json_t *dst = at(act, path);
    int step = (int)num(w, "samples.interval_s");
    char ts[ISOTIME_MAX];
    size_t i = 0;

    if (src == NULL) {
        note(t, dst == NULL, "no series, no samples", str(w, "id"));
        return;
    }
    note(t, json_array_size(dst) == json_array_size(src) - from,
         "one Terra sample a value", str(w, "id"));
    for (i = from; i < json_array_size(src); i++) {
        const json_t *s = json_array_get(dst, i - from);

        note(t,
             num(s, name) == json_number_value(json_array_get(src, i)) &&
                 num(s, "timer_duration_seconds") == (double)i * step &&
                 strcmp(str(s, "timestamp"),
                        terra_time(str(w, "start"), (int64_t)i * step, ts)) ==
                     0,
             "a sample's value, time and timer", str(w, "id"));
    }
}

static void
check_positions(struct tally *t, const json_t *w, const json_t *act)
{
    const json_t *lat = at(w, "samples.latitude");
    const json_t *lon = at(w, "samples.longitude");
    const json_t *pos = at(act, "position_data.position_samples");
    size_t n = json_array_size(lat);
    double c0 = json_number_value(
        json_array_get(at(act, "position_data.center_pos_lat_lng_deg"), 0));
    size_t i = 0;
    double lo = 90;
    double hi = -90;

    if (lat == NULL) {
        note(t, at(act, "position_data") == NULL, "indoors: no positions",
             str(w, "id"));
        return;
    }
    note(t, json_array_size(pos) == n, "one position a sample", str(w, "id"));
    for (i = 0; i < n; i++) {
        const json_t *c = at(json_array_get(pos, i), "coords_lat_lng_deg");

        lo = fmin(lo, json_number_value(json_array_get(lat, i)));
        hi = fmax(hi, json_number_value(json_array_get(lat, i)));
        note(t,
             json_equal(json_array_get(c, 0), json_array_get(lat, i)) &&
                 json_equal(json_array_get(c, 1), json_array_get(lon, i)),
             "[lat, lng] as given", str(w, "id"));
    }
    note(t,
         json_equal(
             json_array_get(at(act, "position_data.start_pos_lat_lng_deg"), 0),
             json_array_get(lat, 0)) &&
             json_equal(json_array_get(
                            at(act, "position_data.end_pos_lat_lng_deg"), 1),
                        json_array_get(lon, n - 1)),
         "start and end positions", str(w, "id"));
    note(t, c0 >= lo && c0 <= hi, "the centre within the route", str(w, "id"));
}

static void
check_workout_samples(struct tally *t, const json_t *w, const json_t *act)
{
    const json_t *power = at(w, "samples.power_w");
    double work = 0;
    size_t i = 0;

    check_series(t, w, act, "samples.heart_rate_bpm",
                 "heart_rate_data.detailed.hr_samples", "bpm", 0);
    check_series(t, w, act, "samples.speed_mps", "movement_data.speed_samples",
                 "speed_meters_per_second", 0);
    check_series(t, w, act, "samples.distance_m",
                 "distance_data.detailed.distance_samples", "distance_meters",
                 0);
    check_series(t, w, act, "samples.altitude_m",
                 "distance_data.detailed.elevation_samples", "elev_meters", 0);
    check_series(t, w, act, "samples.power_w", "power_data.power_samples",
                 "watts", 0);
    /* counts of the interval ending at a sample: the first is no sample */
    check_series(t, w, act, "samples.steps",
                 "distance_data.detailed.step_samples", "steps", 1);
    check_series(t, w, act, "samples.calories_kcal",
                 "calories_data.calorie_samples", "calories", 1);
    check_positions(t, w, act);
    for (i = 1; i < json_array_size(power); i++) {
        work += json_number_value(json_array_get(power, i)) * 10;
    }
    note(t,
         power == NULL
             ? at(act, "work_data") == NULL
             : num(act, "work_data.work_kilojoules") == round(work) / 1000,
         "work = the power's integral, in kJ", str(w, "id"));
}

static void
check_workout_summary(struct tally *t, const json_t *w, const json_t *act)
{
    static const char *const same[][2] = {
        {"duration_s", "active_durations_data.activity_seconds"},
        {"distance_m", "distance_data.summary.distance_meters"},
        {"steps", "distance_data.summary.steps"},
        {"elevation.gain_m",
         "distance_data.summary.elevation.gain_actual_meters"},
        {"elevation.loss_m",
         "distance_data.summary.elevation.loss_actual_meters"},
        {"elevation.min_m", "distance_data.summary.elevation.min_meters"},
        {"elevation.max_m", "distance_data.summary.elevation.max_meters"},
        {"elevation.avg_m", "distance_data.summary.elevation.avg_meters"},
        {"pool.laps", "distance_data.summary.swimming.num_laps"},
        {"pool.strokes", "distance_data.summary.swimming.num_strokes"},
        {"pool.length_m", "distance_data.summary.swimming.pool_length_meters"},
        {"calories_kcal", "calories_data.total_burned_calories"},
        {"avg_hr_bpm", "heart_rate_data.summary.avg_hr_bpm"},
        {"min_hr_bpm", "heart_rate_data.summary.min_hr_bpm"},
        {"max_hr_bpm", "heart_rate_data.summary.max_hr_bpm"},
        {"user_max_hr_bpm", "heart_rate_data.summary.user_max_hr_bpm"},
        {"avg_speed_mps", "movement_data.avg_speed_meters_per_second"},
        {"max_speed_mps", "movement_data.max_speed_meters_per_second"},
        {"avg_power_w", "power_data.avg_watts"},
        {"max_power_w", "power_data.max_watts"},
        {"device.model", "device_data.name"},
        {"device.maker", "device_data.manufacturer"},
        {"device.serial", "device_data.serial_number"},
        {"device.firmware", "device_data.software_version"},
    };
    const json_t *zones = at(w, "hr_zones");
    const json_t *tz = at(act, "heart_rate_data.summary.hr_zone_data");
    size_t i = 0;

    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const json_t *a = at(w, same[i][0]);
        const json_t *b = at(act, same[i][1]);

        note(t,
             a == NULL ? b == NULL
                       : json_equal(a, b) ||
                             num(w, same[i][0]) == num(act, same[i][1]),
             same[i][1], str(w, "id"));
    }
    note(t, json_array_size(tz) == json_array_size(zones), "every zone",
         str(w, "id"));
    for (i = 0; i < json_array_size(zones); i++) {
        const json_t *z = json_array_get(zones, i);
        const json_t *o = json_array_get(tz, i);

        note(t,
             num(o, "zone") == num(z, "zone") &&
                 num(o, "start_percentage") == num(z, "from_pct") &&
                 num(o, "end_percentage") == num(z, "to_pct") &&
                 num(o, "duration_seconds") == num(z, "seconds") &&
                 str(o, "name") != NULL,
             "a zone's bounds and seconds", str(w, "id"));
    }
    if (at(w, "avg_speed_mps") != NULL) {
        note(t,
             num(act, "movement_data.avg_pace_minutes_per_kilometer") ==
                 round(1000 / num(w, "avg_speed_mps") / 60 * 100) / 100,
             "pace from speed, minutes a km", str(w, "id"));
    }
}

static void
check_workout(struct tally *t, const json_t *w, const struct adapter_record *r)
{
    const json_t *act = r->data;
    const char *id = str(w, "id");
    char ts[ISOTIME_MAX];
    int manual = strcmp(str(w, "source"), "manual") == 0;

    note(t, r->type == DT_ACTIVITY && strcmp(r->key, id) == 0,
         "an activity keyed by the workout id", id);
    note(t,
         r->start_us == time_us(str(w, "start")) &&
             r->end_us == time_us(str(w, "end")) && r->local_date[0] == 0,
         "the record's times", id);
    note(t, strcmp(str(act, "metadata.summary_id"), id) == 0, "summary_id", id);
    note(t,
         strcmp(str(act, "metadata.start_time"),
                terra_time(str(w, "start"), 0, ts)) == 0 &&
             strcmp(str(act, "metadata.end_time"),
                    terra_time(str(w, "end"), 0, ts)) == 0,
         "start and end, with microseconds and the offset", id);
    note(t, strcmp(str(act, "metadata.name"), str(w, "title")) == 0, "name",
         id);
    note(t, num(act, "metadata.type") == want_type(w), "ActivityType", id);
    note(t, num(act, "metadata.upload_type") == (manual ? 2 : 1),
         "UploadType: manual 2, automatic 1", id);
    check_workout_summary(t, w, act);
    if (manual) {
        note(t,
             at(act, "heart_rate_data") == NULL &&
                 at(act, "device_data") == NULL,
             "a manual entry has no samples", id);
        return;
    }
    check_workout_samples(t, w, act);
}

static void
test_workouts(void)
{
    const char *ids[2] = {plus1, minus5};
    struct tally t = {0, ""};
    int types[200] = {0};
    int sports = 0;
    int k = 0;

    for (k = 0; k < 2; k++) {
        json_t *page = fixture(SANDBOX_WORKOUTS, ids[k], day0, day0 + 31);
        const json_t *data = at(page, "data");
        struct adapter_records recs = {0};
        struct err e;
        size_t i = 0;

        err_clear(&e);
        is_int(ad->normalize("workouts", page, &recs, &e), 0,
               "a month of workouts normalises");
        is_int(recs.n, json_array_size(data), "one activity a workout");
        for (i = 0; i < recs.n && i < json_array_size(data); i++) {
            const json_t *w = json_array_get(data, i);

            int type = (int)num(recs.v[i].data, "metadata.type");

            check_workout(&t, w, &recs.v[i]);
            sports += type >= 0 && type < 200 && types[type]++ == 0;
        }
        adapter_records_release(&recs);
        json_decref(page);
    }
    report(&t, "every workout field by field, samples included");
    ok(sports >= 3, "of several sports");
}

/* One workout written out in full, as a reader would check it. */
static void
test_workout_example(void)
{
    json_t *page = fixture(SANDBOX_WORKOUTS, plus1, day0, day0 + 31);
    const json_t *w = NULL;
    const json_t *act = NULL;
    struct adapter_records recs = {0};
    struct err e;
    size_t i = 0;

    ad->normalize("workouts", page, &recs, &e);
    for (i = 0; i < recs.n; i++) {
        if (at(json_array_get(at(page, "data"), i), "samples.latitude")) {
            w = json_array_get(at(page, "data"), i);
            act = recs.v[i].data;
            break;
        }
    }
    ok(act != NULL, "an outdoor workout at +01:00");
    if (act != NULL) {
        const char *st = str(act, "metadata.start_time");
        const json_t *hr0 =
            json_array_get(at(act, "heart_rate_data.detailed.hr_samples"), 0);
        const json_t *hr1 =
            json_array_get(at(act, "heart_rate_data.detailed.hr_samples"), 1);

        ok(strlen(st) == 32 && strcmp(st + 19, ".000000+01:00") == 0,
           "its start is written with microseconds at +01:00");
        is_str(str(hr0, "timestamp"), st, "the first sample at the start");
        ok(time_us(str(hr1, "timestamp")) - time_us(st) == 10 * US,
           "the next 10 s later");
        is_int(num(hr1, "timer_duration_seconds"), 10, "timer 10 s");
        ok(num(act, "distance_data.summary.distance_meters") ==
               num(w, "distance_m"),
           "distance in meters, as given");
        ok(json_is_integer(at(act, "heart_rate_data.summary.avg_hr_bpm")),
           "average heart rate an integer");
    }
    adapter_records_release(&recs);
    json_decref(page);
}

/* ---- sleep ---- */

/* The sandbox's stages string, rebuilt from Terra's hypnogram samples. */
static int
rebuild(const json_t *act, const json_t *n, char *out, size_t outsz)
{
    const json_t *h = at(act, "sleep_durations_data.hypnogram_samples");
    int64_t end = time_us(str(n, "end"));
    size_t len = 0;
    size_t k = 0;

    for (k = 0; k < json_array_size(h); k++) {
        const json_t *s = json_array_get(h, k);
        int64_t from = time_us(str(s, "timestamp"));
        int64_t to = k + 1 < json_array_size(h)
                         ? time_us(str(json_array_get(h, k + 1), "timestamp"))
                         : end;
        int level = (int)num(s, "level");
        char c = level == 1   ? 'A'
                 : level == 4 ? 'L'
                 : level == 5 ? 'D'
                 : level == 6 ? 'R'
                              : '?';
        int64_t i = 0;

        for (i = from; i < to && len + 1 < outsz; i += 30 * US) {
            out[len++] = c;
        }
    }
    out[len] = '\0';
    return (int)len;
}

static void
check_stages(struct tally *t, const json_t *n, const json_t *act)
{
    static char st[4096];
    const char *id = str(n, "id");
    const char *want = str(n, "hypnogram.stages");
    double light = num(n, "stages_s.light");
    double deep = num(n, "stages_s.deep");
    double rem = num(n, "stages_s.rem");
    int runs = 0;
    size_t i = 0;

    rebuild(act, n, st, sizeof(st));
    note(t, strcmp(st, want) == 0,
         "the hypnogram samples give back the stages, epoch by epoch", id);
    for (i = 0; want[i] != '\0'; i++) {
        runs += want[i] == 'R' && (i == 0 || want[i - 1] != 'R');
    }
    note(t,
         num(act, "sleep_durations_data.asleep.num_REM_events") == runs &&
             num(act, "sleep_durations_data.asleep.duration_light_sleep_"
                      "state_seconds") == light &&
             num(act, "sleep_durations_data.asleep.duration_deep_sleep_"
                      "state_seconds") == deep &&
             num(act, "sleep_durations_data.asleep.duration_REM_sleep_"
                      "state_seconds") == rem &&
             num(act, "sleep_durations_data.asleep.duration_asleep_state_"
                      "seconds") == light + deep + rem,
         "asleep: light, deep, REM, their sum, REM runs", id);
    note(t,
         num(act, "sleep_durations_data.awake.sleep_latency_seconds") +
                 num(act, "sleep_durations_data.awake.duration_short_"
                          "interruption_seconds") +
                 num(act, "sleep_durations_data.awake.duration_long_"
                          "interruption_seconds") +
                 num(act,
                     "sleep_durations_data.awake.wake_up_latency_seconds") ==
             num(n, "stages_s.awake"),
         "awake = latency + interruptions + the time after waking", id);
    note(t,
         num(act, "sleep_durations_data.awake.duration_awake_state_seconds") ==
                 num(n, "stages_s.awake") &&
             num(act, "sleep_durations_data.awake.num_wakeup_events") ==
                 num(n, "wake_events") &&
             num(act, "sleep_durations_data.sleep_efficiency") ==
                 round(num(n, "efficiency") * 100 * 1e6) / 1e6,
         "awake time, wake-ups, efficiency as a percentage", id);
}

static void
check_night(struct tally *t, const json_t *n, const struct adapter_record *r)
{
    const json_t *act = r->data;
    const char *id = str(n, "id");
    char ts[ISOTIME_MAX];
    int manual = strcmp(str(n, "source"), "manual") == 0;

    note(t, r->type == DT_SLEEP && strcmp(r->key, id) == 0,
         "a sleep keyed by its id", id);
    note(t,
         strcmp(str(act, "metadata.start_time"),
                terra_time(str(n, "start"), 0, ts)) == 0 &&
             strcmp(str(act, "metadata.end_time"),
                    terra_time(str(n, "end"), 0, ts)) == 0,
         "start and end", id);
    note(t, json_equal(at(act, "metadata.is_nap"), at(n, "nap")), "is_nap", id);
    note(t, num(act, "metadata.upload_type") == (manual ? 1 : 2),
         "SleepUploadType: manual 1, automatic 2", id);
    note(t,
         num(act, "sleep_durations_data.other.duration_in_bed_seconds") ==
             num(n, "in_bed_s"),
         "time in bed", id);
    if (manual) {
        note(t, at(act, "heart_rate_data") == NULL,
             "a nap entered by hand has times alone", id);
        return;
    }
    check_stages(t, n, act);
    note(t,
         num(act, "heart_rate_data.summary.avg_hr_bpm") ==
                 num(n, "heart_rate.avg") &&
             num(act, "heart_rate_data.summary.min_hr_bpm") ==
                 num(n, "heart_rate.min") &&
             num(act, "heart_rate_data.summary.max_hr_bpm") ==
                 num(n, "heart_rate.max") &&
             num(act, "heart_rate_data.summary.avg_hrv_rmssd") ==
                 num(n, "hrv.avg"),
         "the heart rate and HRV summary", id);
    note(t,
         json_array_size(at(act, "heart_rate_data.detailed.hr_samples")) ==
                 json_array_size(at(n, "heart_rate.bpm")) &&
             json_array_size(
                 at(act, "heart_rate_data.detailed.hrv_samples_rmssd")) ==
                 json_array_size(at(n, "hrv.rmssd_ms")),
         "heart rate and HRV samples", id);
    note(t,
         num(json_array_get(at(act, "heart_rate_data.detailed.hr_samples"), 2),
             "bpm") == json_number_value(json_array_get(at(n, "heart_rate.bpm"),
                                                        2)) &&
             time_us(str(json_array_get(
                             at(act, "heart_rate_data.detailed.hr_samples"), 2),
                         "timestamp")) == time_us(str(n, "start")) + 600 * US,
         "the third heart rate ten minutes in", id);
    if (!json_is_true(at(n, "nap"))) {
        note(t,
             num(act, "respiration_data.breaths_data.avg_breaths_per_min") ==
                     num(n, "respiratory_rate") &&
                 num(act, "respiration_data.oxygen_saturation_data.avg_"
                          "saturation_percentage") == num(n, "spo2_pct") &&
                 num(act, "temperature_data.delta") ==
                     num(n, "skin_temp_delta_c") &&
                 num(act, "scores.sleep_score") == num(n, "score") &&
                 num(act, "readiness_data.readiness") == num(n, "readiness") &&
                 str(act, "respiration_data.breaths_data.start_time") != NULL,
             "breathing, SpO2, temperature, scores", id);
    }
    note(t, strcmp(str(act, "device_data.name"), str(n, "device.model")) == 0,
         "the device", id);
}

static void
test_sleep(void)
{
    const char *ids[2] = {plus1, minus5};
    struct tally t = {0, ""};
    int naps = 0;
    int k = 0;

    for (k = 0; k < 2; k++) {
        json_t *page = fixture(SANDBOX_SLEEP, ids[k], day0, day0 + 31);
        const json_t *data = at(page, "data");
        struct adapter_records recs = {0};
        struct err e;
        size_t i = 0;

        is_int(ad->normalize("sleep", page, &recs, &e), 0,
               "a month of sleep normalises");
        is_int(recs.n, json_array_size(data), "one sleep a night or nap");
        for (i = 0; i < recs.n && i < json_array_size(data); i++) {
            check_night(&t, json_array_get(data, i), &recs.v[i]);
            naps += json_is_true(at(recs.v[i].data, "metadata.is_nap"));
        }
        adapter_records_release(&recs);
        json_decref(page);
    }
    report(&t, "every night and nap field by field");
    ok(naps > 0, "naps among them");
}

/* ---- daily, body ---- */

static void
check_daily(struct tally *t, const json_t *d, const struct adapter_record *r)
{
    static const char *const same[][3] = {
        {"steps", "distance_data.steps", "1"},
        {"distance_m", "distance_data.distance_meters", "1"},
        {"floors", "distance_data.floors_climbed", "1"},
        {"calories.total_kcal", "calories_data.total_burned_calories", "1"},
        {"calories.active_kcal", "calories_data.net_activity_calories", "1"},
        {"calories.bmr_kcal", "calories_data.BMR_calories", "1"},
        {"heart_rate.resting_bpm", "heart_rate_data.summary.resting_hr_bpm",
         "1"},
        {"heart_rate.avg_bpm", "heart_rate_data.summary.avg_hr_bpm", "1"},
        {"heart_rate.min_bpm", "heart_rate_data.summary.min_hr_bpm", "1"},
        {"heart_rate.max_bpm", "heart_rate_data.summary.max_hr_bpm", "1"},
        {"minutes.in_bed", "active_durations_data.rest_seconds", "60"},
        {"minutes.sedentary", "active_durations_data.inactivity_seconds", "60"},
        {"minutes.low", "active_durations_data.low_intensity_seconds", "60"},
        {"minutes.moderate", "active_durations_data.moderate_intensity_seconds",
         "60"},
        {"minutes.vigorous", "active_durations_data.vigorous_intensity_seconds",
         "60"},
        {"stress.avg", "stress_data.avg_stress_level", "1"},
        {"stress.max", "stress_data.max_stress_level", "1"},
        {"activity_score", "scores.activity", "1"},
    };
    const json_t *act = r->data;
    const char *date = str(d, "date");
    const json_t *steps = at(act, "distance_data.detailed.step_samples");
    const json_t *hr = at(act, "heart_rate_data.detailed.hr_samples");
    int off = (int)num(d, "utc_offset_min") * 60;
    int64_t mid = 0;
    char want[ISOTIME_MAX];
    double stress = num(d, "stress.avg");
    size_t i = 0;

    isotime_parse(date, &mid, &(int){0}, NULL);
    mid -= (int64_t)off * US;
    isotime_format(mid, off, want);
    note(t,
         r->type == DT_DAILY && strcmp(r->key, date) == 0 &&
             strcmp(r->local_date, date) == 0,
         "a daily keyed by its local date", date);
    note(t,
         strcmp(str(act, "metadata.start_time"), want) == 0 &&
             r->start_us == mid && r->end_us == mid + 86400 * US,
         "from local midnight", date);
    isotime_format(mid + 86400 * US, off, want);
    note(t, strcmp(str(act, "metadata.end_time"), want) == 0, "to the next",
         date);
    note(t, num(act, "metadata.upload_type") == 1, "automatic", date);
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        note(t, num(act, same[i][1]) == num(d, same[i][0]) * atoi(same[i][2]),
             same[i][1], date);
    }
    note(t,
         num(act, "active_durations_data.activity_seconds") ==
             60 * (num(d, "minutes.low") + num(d, "minutes.moderate") +
                   num(d, "minutes.vigorous")),
         "activity_seconds: low, moderate and vigorous", date);
    note(t,
         num(act, "stress_data.stress_rating") == (stress <= 25   ? 1
                                                   : stress <= 50 ? 2
                                                   : stress <= 75 ? 3
                                                                  : 4),
         "StressLevel from the average", date);
    note(t, json_array_size(steps) == 24 && json_array_size(hr) == 24,
         "hourly steps and heart rate", date);
    for (i = 0; i < json_array_size(steps); i++) {
        note(
            t,
            time_us(str(json_array_get(steps, i), "timestamp")) ==
                    mid + (int64_t)i * 3600 * US &&
                num(json_array_get(steps, i), "steps") ==
                    json_number_value(json_array_get(at(d, "hourly.steps"), i)),
            "an hour's steps at its start", date);
    }
}

static void
check_body(struct tally *t, const json_t *b, const struct adapter_record *r)
{
    const json_t *act = r->data;
    const char *date = str(b, "date");
    const json_t *m =
        json_array_get(at(act, "measurements_data.measurements"), 0);
    const json_t *bp = json_array_get(
        at(act, "blood_pressure_data.blood_pressure_samples"), 0);
    char ts[ISOTIME_MAX];

    note(t,
         r->type == DT_BODY && strcmp(r->key, date) == 0 &&
             strcmp(r->local_date, date) == 0,
         "a body keyed by its local date", date);
    note(t,
         r->end_us - r->start_us == 86400 * US &&
             str(act, "metadata.start_time") != NULL &&
             strncmp(str(act, "metadata.start_time"), date, 10) == 0 &&
             strncmp(str(act, "metadata.start_time") + 10, "T00:00:00.000000",
                     16) == 0,
         "midnight to midnight", date);
    note(t,
         num(act, "heart_data.heart_rate_data.summary.resting_hr_bpm") ==
                 num(b, "resting_hr_bpm") &&
             num(act, "heart_data.heart_rate_data.summary.avg_hrv_rmssd") ==
                 num(b, "hrv_rmssd_ms"),
         "resting heart rate and HRV", date);
    if (at(b, "weigh_in") == NULL) {
        note(t, m == NULL, "no weigh-in, no measurement", date);
    } else {
        note(t,
             strcmp(str(m, "measurement_time"),
                    terra_time(str(b, "weigh_in.time"), 0, ts)) == 0 &&
                 num(m, "weight_kg") == num(b, "weigh_in.weight_kg") &&
                 num(m, "BMI") == num(b, "weigh_in.bmi") &&
                 num(m, "bodyfat_percentage") == num(b, "weigh_in.fat_pct") &&
                 num(m, "water_percentage") == num(b, "weigh_in.water_pct") &&
                 num(m, "muscle_mass_g") ==
                     round(num(b, "weigh_in.muscle_kg") * 1000) &&
                 num(m, "bone_mass_g") ==
                     round(num(b, "weigh_in.bone_kg") * 1000),
             "the weigh-in, masses in grams", date);
        note(t, strcmp(str(act, "device_data.name"), "Sandbox Scale") == 0,
             "the scale as the device", date);
    }
    if (at(b, "blood_pressure") != NULL) {
        note(t,
             num(bp, "systolic_bp") == num(b, "blood_pressure.systolic_mmhg") &&
                 num(bp, "diastolic_bp") ==
                     num(b, "blood_pressure.diastolic_mmhg") &&
                 strcmp(str(bp, "timestamp"),
                        terra_time(str(b, "blood_pressure.time"), 0, ts)) == 0,
             "the blood pressure", date);
    }
}

static void
test_summaries(void)
{
    const char *ids[2] = {plus1, minus5};
    struct tally td = {0, ""};
    struct tally tb = {0, ""};
    int k = 0;

    for (k = 0; k < 2; k++) {
        json_t *daily = fixture(SANDBOX_DAILY, ids[k], day0, day0 + 31);
        json_t *body = fixture(SANDBOX_BODY, ids[k], day0, day0 + 31);
        struct adapter_records rd = {0};
        struct adapter_records rb = {0};
        struct err e;
        size_t i = 0;

        is_int(ad->normalize("daily", daily, &rd, &e), 0, "dailies normalise");
        is_int(rd.n, 31, "one a day");
        is_int(ad->normalize("body", body, &rb, &e), 0, "bodies normalise");
        is_int(rb.n, 31, "one a day");
        for (i = 0; i < rd.n; i++) {
            check_daily(&td, json_array_get(at(daily, "data"), i), &rd.v[i]);
        }
        for (i = 0; i < rb.n; i++) {
            check_body(&tb, json_array_get(at(body, "data"), i), &rb.v[i]);
        }
        adapter_records_release(&rd);
        adapter_records_release(&rb);
        json_decref(daily);
        json_decref(body);
    }
    report(&td, "every daily summary field by field");
    report(&tb, "every body summary field by field");
}

static void
test_offsets(void)
{
    json_t *page = fixture(SANDBOX_DAILY, minus5, day0, day0 + 1);
    struct adapter_records recs = {0};
    char want[ISOTIME_MAX];
    char date[16];
    int y = 0;
    int m = 0;
    int d = 0;
    struct err e;

    isotime_civil_from_days(day0, &y, &m, &d);
    snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
    ad->normalize("daily", page, &recs, &e);
    snprintf(want, sizeof(want), "%sT00:00:00.000000-05:00", date);
    is_str(str(recs.v[0].data, "metadata.start_time"), want,
           "a day at -05:00 starts at its own midnight");
    is_int(recs.v[0].start_us, (day0 * 86400 + 5 * 3600) * US,
           "which is 05:00 UTC");
    is_str(recs.v[0].local_date, date, "keyed by the local date");
    adapter_records_release(&recs);
    json_decref(page);
}

/* ---- athlete ---- */

static void
test_profile(void)
{
    json_t *p = NULL;
    struct adapter_records recs = {0};
    const json_t *a = NULL;
    struct err e;

    sandbox_data_profile(plus1, "Ann Example", day0, &p);
    is_int(ad->normalize("profile", p, &recs, &e), 0, "a profile normalises");
    is_int(recs.n, 1, "into one athlete");
    a = recs.n > 0 ? recs.v[0].data : NULL;
    ok(recs.n > 0 && recs.v[0].type == DT_ATHLETE &&
           strcmp(recs.v[0].key, "athlete") == 0,
       "keyed \"athlete\"");
    is_str(str(a, "first_name"), str(p, "first_name"), "first_name");
    is_str(str(a, "last_name"), str(p, "last_name"), "last_name");
    is_str(str(a, "email"), str(p, "email"), "email");
    is_str(str(a, "date_of_birth"), str(p, "birth_date"), "date_of_birth");
    is_int(num(a, "age"), num(p, "age"), "age");
    is_str(str(a, "sex"), str(p, "sex"), "sex");
    is_str(str(a, "city"), str(p, "city"), "city");
    is_str(str(a, "country"), str(p, "country"), "country");
    is_str(str(a, "joined_provider"), str(p, "member_since"),
           "joined_provider: member since");
    is_int(json_array_size(at(a, "devices")), 2, "two devices");
    is_str(str(json_array_get(at(a, "devices"), 1), "name"), "Sandbox Scale",
           "a device's model as its name");
    is_str(str(json_array_get(at(a, "devices"), 0), "serial_number"),
           str(json_array_get(at(p, "devices"), 0), "serial"),
           "and its serial number");
    adapter_records_release(&recs);
    json_decref(p);
}

/* ---- plan, next_page ---- */

static struct adapter_ctx cx = {
    "http://127.0.0.1:9/sandbox", NULL, NULL, NULL, NULL, NULL};

static int64_t
utc(int y, int m, int d)
{
    return isotime_days_from_civil(y, m, d) * 86400;
}

static void
test_plan(void)
{
    struct adapter_request *rq = NULL;
    size_t n = 0;
    struct err e;
    char want[256];
    int contiguous = 1;
    size_t i = 0;

    cx.provider_user_id = plus1;
    is_int(ad->plan(&cx, DT_ACTIVITY, utc(2026, 3, 1), utc(2026, 3, 8), &rq, &n,
                    &e),
           0, "a week of activity");
    is_int(n, 1, "is one request");
    is_str(rq[0].url,
           "http://127.0.0.1:9/sandbox/api/v1/workouts?start=2026-03-01"
           "&end=2026-03-08",
           "of the window's dates, end exclusive");
    is_str(rq[0].method, "GET", "a GET");
    is_str(rq[0].kind, "workouts", "normalised as workouts");
    is_int(rq[0].type, DT_ACTIVITY, "for activity");
    snprintf(want, sizeof(want), "%s", "/sandbox/api/v1/workouts");
    is_str(want, SANDBOX_WORKOUTS_PATH, "the path the sandbox serves");
    free(rq);

    ad->plan(&cx, DT_SLEEP, utc(2026, 1, 1), utc(2026, 3, 17), &rq, &n, &e);
    is_int(n, 3, "75 days: three requests");
    for (i = 0; i + 1 < n; i++) {
        contiguous &= strncmp(strstr(rq[i].url, "end=") + 4,
                              strstr(rq[i + 1].url, "start=") + 6, 10) == 0;
    }
    ok(contiguous, "each starting where the last ended");
    is_str(rq[0].url,
           "http://127.0.0.1:9/sandbox/api/v1/sleep?start=2026-01-01"
           "&end=2026-02-01",
           "31 days in the first");
    is_str(strstr(rq[2].url, "?"), "?start=2026-03-04&end=2026-03-17",
           "the rest in the last");
    free(rq);

    ad->plan(&cx, DT_DAILY, utc(2026, 2, 1), utc(2026, 3, 1), &rq, &n, &e);
    is_int(n, 1, "a 28-day backfill is one request");
    free(rq);
    ad->plan(&cx, DT_BODY, utc(2026, 2, 1) + 3600, utc(2026, 2, 1) + 7200, &rq,
             &n, &e);
    is_str(strstr(rq[0].url, "body?"), "body?start=2026-02-01&end=2026-02-02",
           "an hour of body: its date");
    free(rq);

    ad->plan(&cx, DT_ATHLETE, 0, 0, &rq, &n, &e);
    ok(n == 1 &&
           strcmp(rq[0].url, "http://127.0.0.1:9/sandbox/api/v1/profile") ==
               0 &&
           strcmp(rq[0].kind, "profile") == 0,
       "the athlete is the profile");
    free(rq);

    is_int(ad->plan(&cx, DT_NUTRITION, 0, 86400, &rq, &n, &e), 0,
           "no nutrition");
    ok(n == 0 && rq == NULL, "no request");
    ad->plan(&cx, DT_DAILY, 86400, 86400, &rq, &n, &e);
    is_int(n, 0, "an empty window: no request");
    is_int(ad->plan(&cx, DT_DAILY, -86400, 86400, &rq, &n, &e), ERR_INVALID,
           "before 1970 is refused");
    is_int(ad->plan(&cx, DT_DAILY, 0, 4000LL * 86400, &rq, &n, &e), ERR_INVALID,
           "so is a window of over ten years");
    is_int(ad->plan(&cx, DT_DAILY, 0, 300000000000LL, &rq, &n, &e), ERR_INVALID,
           "and one past 9999");
    {
        static char longurl[2100];
        struct adapter_ctx big = cx;

        memset(longurl, 'x', sizeof(longurl) - 1);
        big.api_url = longurl;
        is_int(ad->plan(&big, DT_DAILY, 0, 86400, &rq, &n, &e), ERR_TOOBIG,
               "an API URL too long for a request");
        ok(rq == NULL && n == 0, "leaves nothing behind");
    }
}

static void
test_next_page(void)
{
    struct adapter_request rq;
    struct adapter_request next;
    struct adapter_request again;
    json_t *a = json_pack("{s:s}", "next_token", "20260305.1");
    json_t *b = json_pack("{s:s}", "next_token", "20260309.0");
    json_t *none = json_pack("{s:n}", "next_token");
    json_t *odd = json_pack("{s:s}", "next_token", "x&admin=1");
    json_t *num_tok = json_pack("{s:i}", "next_token", 5);

    memset(&rq, 0, sizeof(rq));
    snprintf(
        rq.url, sizeof(rq.url), "%s",
        "http://h/sandbox/api/v1/workouts?start=2026-03-01&end=2026-03-20");
    snprintf(rq.kind, sizeof(rq.kind), "workouts");
    is_int(ad->next_page(&cx, &rq, a, &next), 1, "a next_token: another page");
    is_str(next.url,
           "http://h/sandbox/api/v1/workouts?start=2026-03-01&end=2026-03-20"
           "&page_token=20260305.1",
           "asked for with page_token");
    is_str(next.kind, "workouts", "of the same kind");
    is_int(ad->next_page(&cx, &next, b, &again), 1, "and the one after");
    is_str(strstr(again.url, "&page_token"), "&page_token=20260309.0",
           "the token replaced, not repeated");
    is_int(ad->next_page(&cx, &next, a, &again), 0,
           "the same token again: stop");
    is_int(ad->next_page(&cx, &rq, none, &next), 0, "null: the last page");
    is_int(ad->next_page(&cx, &rq, num_tok, &next), 0, "not a string: no page");
    is_int(ad->next_page(&cx, &rq, odd, &next), 0,
           "a token that is not the sandbox's: no page");
    json_decref(a);
    json_decref(b);
    json_decref(none);
    json_decref(odd);
    json_decref(num_tok);
}

/* The sandbox answering `url` for `id`, as its handler does. */
static json_t *
serve(const char *url, const char *id, int64_t served_end)
{
    static const char *const names[] = {"workouts", "sleep", "daily", "body"};
    struct sandbox_page_query q;
    struct sandbox_page_pos pos;
    const char *p = strstr(url, "/api/v1/") + 8;
    const char *tok = strstr(url, "page_token=");
    json_t *page = NULL;
    int y = 0;
    int m = 0;
    int d = 0;
    char date[11];

    memset(&q, 0, sizeof(q));
    for (q.kind = 0;
         q.kind < 4 && strncmp(p, names[q.kind], strlen(names[q.kind])) != 0;
         q.kind++) {
    }
    snprintf(date, sizeof(date), "%s", strstr(url, "start=") + 6);
    isotime_parse_date(date, &y, &m, &d);
    q.start = isotime_days_from_civil(y, m, d);
    snprintf(date, sizeof(date), "%s", strstr(url, "end=") + 4);
    isotime_parse_date(date, &y, &m, &d);
    q.end = isotime_days_from_civil(y, m, d);
    q.account_id = id;
    q.served_first = q.start - 100;
    q.served_end = served_end;
    q.limit = q.kind == SANDBOX_WORKOUTS ? SANDBOX_WORKOUTS_PAGE
                                         : SANDBOX_PAGE_ITEMS_MAX;
    if (tok != NULL && sandbox_page_token_parse(tok + 11, &pos) == 0) {
        q.from = &pos;
    }
    return sandbox_data_page(&q, &page, NULL) == 0 ? page : NULL;
}

static void
test_fetch(void)
{
    struct adapter_request *plan = NULL;
    struct adapter_records recs = {0};
    int64_t start = utc(2026, 1, 10);
    int64_t end = utc(2026, 3, 1);
    int64_t served = isotime_days_from_civil(2026, 2, 20);
    size_t want = 0;
    size_t pages = 0;
    size_t n = 0;
    size_t i = 0;
    int64_t d = 0;
    int rc = 0;
    struct err e;

    cx.provider_user_id = minus5;
    ad->plan(&cx, DT_ACTIVITY, start, end, &plan, &n, &e);
    for (i = 0; rc == 0 && i < n; i++) {
        struct adapter_request rq = plan[i];
        struct adapter_request next;

        for (;;) {
            json_t *answer = serve(rq.url, minus5, served);

            pages++;
            rc = ad->normalize(rq.kind, answer, &recs, &e);
            if (rc < 0 || ad->next_page(&cx, &rq, answer, &next) != 1) {
                json_decref(answer);
                break;
            }
            json_decref(answer);
            rq = next;
        }
    }
    for (d = isotime_days_from_civil(2026, 1, 10); d < served; d++) {
        json_t *a = json_array();

        sandbox_data_day(SANDBOX_WORKOUTS, minus5, d, a);
        want += json_array_size(a);
        json_decref(a);
    }
    is_int(rc, 0, "a window fetched page by page normalises");
    ok(pages > n, "over more pages than requests");
    is_int(recs.n, want, "every workout of the days served, once");
    for (i = 1; i < recs.n; i++) {
        if (strcmp(recs.v[i].key, recs.v[i - 1].key) == 0) {
            break;
        }
    }
    is_int(i, recs.n, "no workout twice");
    adapter_records_release(&recs);
    free(plan);
}

/* ---- payloads of the wrong shape ---- */

static void
refused(const char *kind, const char *text, const char *words, const char *name)
{
    json_t *p = json_loads(text, 0, NULL);
    struct adapter_records recs = {0};
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = ad->normalize(kind, p, &recs, &e);
    if (!ok(rc == ERR_INVALID && strstr(e.msg, words) != NULL, name)) {
        printf("#   rc %d, \"%s\"\n", rc, e.msg);
    }
    adapter_records_release(&recs);
    json_decref(p);
}

static void
test_refused(void)
{
    static const char w[] = "{\"data\":[{\"id\":\"wk_1\",\"sport\":\"running\","
                            "\"start\":\"2026-03-01T08:00:00+01:00\","
                            "\"end\":\"2026-03-01T08:01:00+01:00\",%s}]}";
    char buf[1024];

    refused("weather", "{}", "unknown kind", "an unknown kind");
    refused("workouts", "[1]", "not an object", "a payload not an object");
    refused("workouts", "{}", "data is missing", "no data");
    refused("workouts", "{\"data\":{}}", "not an array", "data not an array");
    refused("workouts", "{\"data\":[7]}", "data[0] is not an object",
            "an item not an object");
    refused("workouts", "{\"data\":[{\"sport\":\"running\"}]}",
            "data[0].id is missing", "a workout without an id");
    refused("workouts", "{\"data\":[{\"id\":5}]}", "data[0].id is not a string",
            "an id not a string");
    refused("workouts",
            "{\"data\":[{\"id\":\"a\",\"sport\":\"running\","
            "\"start\":\"yesterday\"}]}",
            "data[0].start is not an RFC 3339 time", "a start not a time");
    refused("workouts",
            "{\"data\":[{\"id\":\"a\",\"sport\":\"running\","
            "\"start\":\"2026-03-01T09:00:00Z\",\"end\":"
            "\"2026-03-01T08:00:00Z\"}]}",
            "data[0].end is before", "an end before the start");
    snprintf(buf, sizeof(buf), w, "\"distance_m\":\"far\"");
    refused("workouts", buf, "data[0].distance_m is not a number",
            "a distance not a number");
    snprintf(buf, sizeof(buf), w, "\"distance_m\":1e300");
    refused("workouts", buf, "distance_m is out of range", "a huge distance");
    snprintf(buf, sizeof(buf), w, "\"steps\":1.5");
    refused("workouts", buf, "steps is not a whole number", "half a step");
    snprintf(buf, sizeof(buf), w, "\"duration_s\":9223372036854775807");
    refused("workouts", buf, "duration_s is out of range",
            "the largest integer");
    snprintf(buf, sizeof(buf), w, "\"elevation\":[]");
    refused("workouts", buf, "data[0].elevation is not an object",
            "elevation not an object");
    snprintf(buf, sizeof(buf), w,
             "\"samples\":{\"interval_s\":10,\"speed_mps\":[0,\"x\"]}");
    refused("workouts", buf, "samples.speed_mps holds a value that is not",
            "a sample not a number");
    snprintf(buf, sizeof(buf), w,
             "\"samples\":{\"interval_s\":10,\"heart_rate_bpm\":[1,2],"
             "\"speed_mps\":[1]}");
    refused("workouts", buf, "is not as long as the other series",
            "series of different lengths");
    snprintf(buf, sizeof(buf), w,
             "\"samples\":{\"interval_s\":10,\"latitude\":[1,2]}");
    refused("workouts", buf, "comes without its longitude",
            "latitudes without longitudes");
    snprintf(buf, sizeof(buf), w,
             "\"samples\":{\"interval_s\":10,\"heart_rate_bpm\":"
             "[1,2,3,4,5,6,7,8]}");
    refused("workouts", buf, "run past the end", "samples past the end");
    snprintf(buf, sizeof(buf), w, "\"samples\":{\"interval_s\":0}");
    refused("workouts", buf, "samples.interval_s is out of range",
            "a zero interval");
    snprintf(buf, sizeof(buf), w, "\"hr_zones\":[{\"zone\":\"one\"}]");
    refused("workouts", buf, "hr_zones holds a zone", "a zone of strings");
    snprintf(buf, sizeof(buf), w, "\"device\":\"watch\"");
    refused("workouts", buf, "device is not an object", "a device string");

    refused("sleep",
            "{\"data\":[{\"id\":\"s\",\"start\":\"2026-03-01T00:00:00Z\","
            "\"end\":\"2026-03-01T00:02:00Z\",\"hypnogram\":{\"epoch_s\":30,"
            "\"stages\":\"AALX\"}}]}",
            "hypnogram.stages holds a letter", "a hypnogram letter unknown");
    refused("sleep",
            "{\"data\":[{\"id\":\"s\",\"start\":\"2026-03-01T00:00:00Z\","
            "\"end\":\"2026-03-01T00:01:00Z\",\"hypnogram\":{\"epoch_s\":30,"
            "\"stages\":\"AALLLLLL\"}}]}",
            "is longer than the sleep", "a hypnogram longer than the sleep");
    refused("sleep",
            "{\"data\":[{\"id\":\"s\",\"start\":\"2026-03-01T00:00:00Z\","
            "\"end\":\"2026-03-01T00:01:00Z\",\"nap\":\"yes\"}]}",
            "data[0].nap is not true or false", "nap not a boolean");
    refused("daily", "{\"data\":[{\"utc_offset_min\":60}]}",
            "data[0].date is missing", "a daily without a date");
    refused("daily",
            "{\"data\":[{\"date\":\"2026-02-30\",\"utc_offset_min\":60}]}",
            "data[0].date is not a date", "a date that does not exist");
    refused("daily",
            "{\"data\":[{\"date\":\"2026-02-03\",\"utc_offset_min\":6000}]}",
            "utc_offset_min is out of range", "an offset past 18 hours");
    refused("daily",
            "{\"data\":[{\"date\":\"2026-02-03\",\"utc_offset_min\":0,"
            "\"hourly\":{\"steps\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
            "17,18,19,20,21,22,23,24,25,26]}}]}",
            "has more than 25 hours", "a day of 26 hours");
    refused("body",
            "{\"data\":[{\"date\":\"2026-02-03\",\"utc_offset_min\":0,"
            "\"weigh_in\":7}]}",
            "data[0].weigh_in is not an object", "a weigh-in not an object");
    refused("body",
            "{\"data\":[{\"date\":\"2026-02-03\",\"utc_offset_min\":0,"
            "\"weigh_in\":{\"weight_kg\":70}}]}",
            "data[0].weigh_in.time is missing", "a weigh-in without a time");
    refused("profile", "{\"first_name\":3}", "profile: first_name is not",
            "a name not a string");
    refused("profile", "{\"devices\":{}}", "profile: devices is not an array",
            "devices not an array");
    refused("profile", "{\"devices\":[{\"model\":1}]}", "holds a device",
            "a device of numbers");
}

static void
test_skipped(void)
{
    struct adapter_records recs = {0};
    json_t *p = json_loads("{\"data\":[{\"date\":\"2026-02-03\","
                           "\"utc_offset_min\":60}]}",
                           0, NULL);
    struct err e;

    is_int(ad->normalize("daily", p, &recs, &e), 0, "an empty day is fine");
    is_int(recs.n, 0, "and gives no daily");
    is_int(ad->normalize("body", p, &recs, &e), 0, "nor a body");
    is_int(recs.n, 0, "no body either");
    json_decref(p);
    p = json_loads("{}", 0, NULL);
    is_int(ad->normalize("profile", p, &recs, &e), 0, "an empty profile");
    is_int(recs.n, 0, "gives no athlete");
    json_decref(p);
    p = json_loads("{\"data\":[]}", 0, NULL);
    is_int(ad->normalize("sleep", p, &recs, &e), 0, "an empty page");
    is_int(recs.n, 0, "gives nothing");
    json_decref(p);
}

/* Every field of a real item replaced by values of every type: only 0
 * or ERR_INVALID with a sentence, never a crash. */
static int
mutate(const char *kind, json_t *root, json_t *o, int depth, int *runs)
{
    static const char *const values[] = {
        "null",
        "true",
        "\"x\"",
        "1e308",
        "-1",
        "[]",
        "{}",
        "9223372036854775807",
        "[null,\"x\",{}]",
    };
    const char *key = NULL;
    json_t *v = NULL;
    void *tmp = NULL;
    int fine = 1;
    size_t i = 0;

    json_object_foreach_safe(o, tmp, key, v)
    {
        json_t *keep = json_incref(v);

        for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            struct adapter_records recs = {0};
            struct err e;
            int rc = 0;

            err_clear(&e);
            json_object_set_new(o, key,
                                json_loads(values[i], JSON_DECODE_ANY, NULL));
            rc = ad->normalize(kind, root, &recs, &e);
            if (!(rc == 0 || (rc == ERR_INVALID && e.msg[0] != '\0'))) {
                printf("# %s.%s = %s: rc %d \"%s\"\n", kind, key, values[i], rc,
                       e.msg);
                fine = 0;
            }
            adapter_records_release(&recs);
            (*runs)++;
        }
        json_object_set(o, key, keep);
        if (depth < 2 && json_is_object(keep)) {
            fine &= mutate(kind, root, keep, depth + 1, runs);
        }
        json_decref(keep);
    }
    return fine;
}

/* Cut every array of `o` to its first six values. */
static void
trim(json_t *o)
{
    const char *key = NULL;
    json_t *v = NULL;

    json_object_foreach(o, key, v)
    {
        while (json_is_array(v) && json_array_size(v) > 6) {
            json_array_remove(v, json_array_size(v) - 1);
        }
    }
}

static void
test_mutations(void)
{
    static const char *const kinds[] = {"workouts", "sleep", "daily", "body"};
    int runs = 0;
    int fine = 1;
    int k = 0;

    for (k = 0; k < 4; k++) {
        json_t *page = fixture(k, plus1, day0 + 2, day0 + 3);
        json_t *item = json_array_get(at(page, "data"), 0);
        json_t *one = json_pack("{s:[O]}", "data", item);

        /* short series keep the runs quick */
        trim(json_object_get(item, "samples"));
        trim(json_object_get(item, "heart_rate"));
        trim(json_object_get(item, "hrv"));
        fine &=
            mutate(kinds[k], one, json_array_get(at(one, "data"), 0), 0, &runs);
        json_decref(one);
        json_decref(page);
    }
    {
        json_t *p = NULL;

        sandbox_data_profile(plus1, "x", day0, &p);
        fine &= mutate("profile", p, p, 0, &runs);
        json_decref(p);
    }
    ok(fine && runs > 500, "any value in any field: a result or a refusal");
}

static void
find_accounts(void)
{
    char name[32];
    int k = 0;

    plus1[0] = minus5[0] = '\0';
    for (k = 0; k < 1000 && (plus1[0] == '\0' || minus5[0] == '\0'); k++) {
        char id[SANDBOX_ACCOUNT_ID_LEN + 1];

        snprintf(name, sizeof(name), "user%d", k);
        sandbox_account_id(name, id);
        if (plus1[0] == '\0' && sandbox_data_offset(id) == 3600) {
            memcpy(plus1, id, sizeof(id));
        }
        if (minus5[0] == '\0' && sandbox_data_offset(id) == -5 * 3600) {
            memcpy(minus5, id, sizeof(id));
        }
    }
}

int
main(void)
{
    day0 = isotime_days_from_civil(2026, 1, 20);
    find_accounts();
    test_caps();
    test_workouts();
    test_workout_example();
    test_sleep();
    test_summaries();
    test_offsets();
    test_profile();
    test_plan();
    test_next_page();
    test_fetch();
    test_refused();
    test_skipped();
    test_mutations();
    return done_testing();
}
