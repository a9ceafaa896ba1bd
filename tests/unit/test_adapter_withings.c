/*
 * test_adapter_withings.c - the WITHINGS adapter on fixtures: Terra
 * records field by field, zones and their offsets, plans, pages, Notify
 * pushes and subscriptions. Includes the adapter to reach its zone code.
 */
#include "../../src/providers/withings.c"

#include "tap.h"

#define FIXTURES "tests/fixtures/withings/"

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

/* The value at `path` ("a.b[2].c") of `root`, or NULL. */
static json_t *
jget(json_t *root, const char *path)
{
    char part[64];
    const char *p = path;
    json_t *cur = root;

    while (cur != NULL && *p != '\0') {
        size_t n = 0;

        if (*p == '.') {
            p++;
        }
        if (*p == '[') {
            cur = json_array_get(cur, strtoul(p + 1, NULL, 10));
            p = strchr(p, ']');
            p = p != NULL ? p + 1 : "";
            continue;
        }
        while (p[n] != '\0' && p[n] != '.' && p[n] != '[' &&
               n < sizeof(part) - 1) {
            part[n] = p[n];
            n++;
        }
        part[n] = '\0';
        p += n;
        cur = json_object_get(cur, part);
    }
    return cur;
}

static const char *
jstr(json_t *root, const char *path)
{
    json_t *v = jget(root, path);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double
jnum(json_t *root, const char *path)
{
    json_t *v = jget(root, path);

    return json_is_number(v) ? json_number_value(v) : -99999;
}

static int
jint_is(json_t *root, const char *path, long long want)
{
    json_t *v = jget(root, path);

    return json_is_integer(v) && json_integer_value(v) == want;
}

#define is_num(root, path, want, name)                                         \
    do {                                                                       \
        double g_ = jnum((root), (path));                                      \
        if (!ok(fabs(g_ - (want)) < 1e-9, name)) {                             \
            printf("#          got: %.10g\n#     expected: %.10g\n", g_,       \
                   (double)(want));                                            \
        }                                                                      \
    } while (0)

static struct adapter_record *
find(struct adapter_records *r, const char *key)
{
    size_t i = 0;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].key, key) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static int
normalize_file(const char *kind, const char *file, struct adapter_records *r)
{
    json_t *p = load(file);
    int rc = 0;

    err_clear(&e);
    rc = adapter_withings.normalize(kind, p, r, &e);
    json_decref(p);
    return rc;
}

static int
normalize_text(const char *kind, const char *text, struct adapter_records *r)
{
    json_error_t je;
    json_t *p = json_loads(text, 0, &je);
    int rc = 0;

    err_clear(&e);
    rc = adapter_withings.normalize(kind, p, r, &e);
    json_decref(p);
    return rc;
}

/* ------------------------------------------------------------------ */

static void
test_zones(void)
{
    static const struct {
        const char *zone;
        long long t;
        int off;
    } cases[] = {
        {"Europe/Paris", 1711846799LL, 3600},
        {"Europe/Paris", 1711846800LL, 7200},
        {"Europe/Paris", 1729990799LL, 7200},
        {"Europe/Paris", 1729990800LL, 3600},
        {"Europe/Paris", 2540289600LL, 7200},
        {"Europe/Paris", 2553508800LL, 3600},
        {"Australia/Sydney", 1705276800LL, 39600},
        {"Australia/Sydney", 1721001600LL, 36000},
        {"Australia/Sydney", 2841350400LL, 39600},
        {"Australia/Lord_Howe", 1705276800LL, 39600},
        {"Asia/Kolkata", 1704067200LL, 19800},
        {"America/St_Johns", 1719792000LL, -9000},
        {"America/Havana", 1710046800LL, -14400},
        {"America/Havana", 1710046799LL, -18000},
        {"America/New_York", -2208988800LL, -18000},
        {"America/New_York", 3477279599LL, -18000},
        {"America/New_York", 3477279600LL, -14400},
        {"Asia/Tokyo", 1717200000LL, 32400},
        {"America/Sao_Paulo", 1704067200LL, -10800},
        {"Europe/Dublin", 1705276800LL, 0},
        {"Europe/Dublin", 1721001600LL, 3600},
        {"Europe/Dublin", 2841350400LL, 0},
        {"Europe/Dublin", 2857075200LL, 3600},
        {"America/Santiago", 2841350400LL, -10800},
        {"America/Santiago", 2857075200LL, -14400},
        {"UTC", 1711846800LL, 0},
    };
    size_t i = 0;
    char name[96];

    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const struct zone *z = zone_get(cases[i].zone);

        snprintf(name, sizeof(name), "zone %s at %lld", cases[i].zone,
                 cases[i].t);
        ok(z != NULL, name);
        is_int(zone_offset(z, cases[i].t), cases[i].off, name);
    }
    ok(zone_get("Europe/Paris") == zone_get("Europe/Paris"),
       "a zone is parsed once");

    /* local midnights, a DST change at midnight included */
    is_int(zone_from_local(zone_get("America/Havana"),
                           isotime_days_from_civil(2024, 3, 10) * DAY),
           1710046800LL, "Havana's 2024-03-10 begins at 01:00 -04:00");
    is_int(zone_from_local(zone_get("America/Santiago"),
                           isotime_days_from_civil(2024, 9, 8) * DAY),
           1725768000LL, "Santiago's 2024-09-08 begins at 01:00 -03:00");
    is_int(zone_from_local(zone_get("Europe/Paris"),
                           isotime_days_from_civil(2024, 10, 27) * DAY),
           1729980000LL, "Paris' 2024-10-27 begins at 00:00 +02:00");

    ok(zone_get("../../etc/passwd") == NULL, "no parent directories");
    ok(zone_get("/etc/localtime") == NULL, "no absolute paths");
    ok(zone_get("Europe//Paris") == NULL, "no empty parts");
    ok(zone_get("Europe/Nowhere") == NULL, "an unknown zone");
    ok(zone_get("Europe/Nowhere") == NULL, "an unknown zone, remembered");
    ok(zone_get("") == NULL, "an empty name");
    ok(zone_get("posixrules\n") == NULL, "no control characters");
}

static void
test_tz_footer(void)
{
    struct zone z;

    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "<+0330>-3:30") == 0 && z.std_off == 12600 && !z.has_dst,
       "a quoted abbreviation and a half-hour offset");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "EST5EDT,M3.2.0,M11.1.0") == 0 && z.has_dst &&
           z.std_off == -18000 && z.dst_off == -14400 && z.start.secs == 7200,
       "US rules, default times");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1") == 0 &&
           z.start.secs == -7200,
       "negative transition times");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "XYZ-1ABC,J60/2,300") == 0 && z.start.kind == 'J' &&
           z.end.kind == 'D' && z.end.a == 300,
       "Jn and n rules");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "AB1") < 0, "a two-letter abbreviation is refused");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "CET-1CEST,M13.5.0,M10.5.0") < 0, "month 13");
    memset(&z, 0, sizeof(z));
    ok(tz_footer(&z, "CET-1CEST,M3.5.0") < 0, "one rule only");
}

static void
test_tzif_garbage(void)
{
    unsigned char buf[200];
    struct zone z;
    size_t i = 0;

    memset(buf, 0, sizeof(buf));
    memcpy(buf, "TZif2", 5);
    buf[20 + 4 * 3 + 3] = 200; /* 200 transitions, no room for them */
    buf[20 + 4 * 4 + 3] = 1;
    memset(&z, 0, sizeof(z));
    ok(zone_parse(&z, buf, sizeof(buf)) < 0, "a truncated TZif file");
    zone_free_parts(&z);
    memset(&z, 0, sizeof(z));
    ok(zone_parse(&z, buf, 10) < 0, "a short file");
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char)(i * 37 + 11);
    }
    memcpy(buf, "TZif", 4);
    memset(&z, 0, sizeof(z));
    ok(zone_parse(&z, buf, sizeof(buf)) < 0, "noise after the magic");
    zone_free_parts(&z);
}

/* ------------------------------------------------------------------ */

static void
test_getmeas(void)
{
    struct adapter_records r = {0};
    struct adapter_record *d = NULL;
    json_t *x = NULL;

    is_int(normalize_file("getmeas", "getmeas.json", &r), 0, "getmeas");
    is_int(r.n, 3, "three local days");

    d = find(&r, "2024-03-30");
    ok(d != NULL && d->type == DT_BODY, "2024-03-30 is a body record");
    if (d == NULL) {
        goto out;
    }
    x = d->data;
    is_str(d->local_date, "2024-03-30", "local date");
    is_int(d->start_us, 1711753200000000LL, "starts at Paris midnight");
    is_int(d->end_us, 1711839600000000LL, "ends at the next midnight");
    is_str(jstr(x, "metadata.start_time"), "2024-03-30T00:00:00.000000+01:00",
           "start_time");
    is_str(jstr(x, "metadata.end_time"), "2024-03-31T00:00:00.000000+01:00",
           "end_time");
    /* the ambiguous group (attrib 1) and the goal are not there */
    is_int(json_array_size(jget(x, "measurements_data.measurements")), 2,
           "two measurements");
    is_str(jstr(x, "measurements_data.measurements[0].measurement_time"),
           "2024-03-30T07:12:00.000000+01:00", "measurement_time");
    is_num(x, "measurements_data.measurements[0].weight_kg", 72.35,
           "weight 72350 * 10^-3 kg");
    is_num(x, "measurements_data.measurements[0].bodyfat_percentage", 18.34,
           "fat ratio");
    ok(jint_is(x, "measurements_data.measurements[0].lean_mass_g", 59080),
       "fat-free mass 59.08 kg in grams");
    ok(jint_is(x, "measurements_data.measurements[0].muscle_mass_g", 56120),
       "muscle mass in grams");
    ok(jint_is(x, "measurements_data.measurements[0].bone_mass_g", 2960),
       "bone mass in grams");
    is_num(x, "measurements_data.measurements[0].water_percentage", 58.2,
           "hydration 42.1 kg of 72.35 kg");
    ok(jget(x, "measurements_data.measurements[0].fat_mass") == NULL,
       "fat mass has no Terra field");
    is_str(jstr(x, "measurements_data.measurements[1].measurement_time"),
           "2024-03-30T23:30:00.000000-04:00",
           "a weigh-in in New York keeps its own offset");
    is_num(x, "measurements_data.measurements[1].weight_kg", 72.4,
           "its weight");
    ok(jint_is(x, "blood_pressure_data.blood_pressure_samples[0].systolic_bp",
               121),
       "systolic");
    ok(jint_is(x, "blood_pressure_data.blood_pressure_samples[0].diastolic_bp",
               78),
       "diastolic");
    is_str(jstr(x, "blood_pressure_data.blood_pressure_samples[0].timestamp"),
           "2024-03-30T07:40:00.000000+01:00", "pressure timestamp");
    is_int(json_array_size(
               jget(x, "heart_data.heart_rate_data.detailed.hr_samples")),
           2, "two pulse samples, in time order");
    ok(jint_is(x, "heart_data.heart_rate_data.detailed.hr_samples[0].bpm", 64),
       "the scale's pulse first");
    ok(jint_is(x, "heart_data.heart_rate_data.summary.avg_hr_bpm", 65),
       "average pulse");
    ok(jint_is(x, "heart_data.heart_rate_data.summary.max_hr_bpm", 66),
       "max pulse");
    is_num(x,
           "heart_data.pulse_wave_velocity_samples[0]."
           "pulse_wave_velocity_meters_per_second",
           6.523, "pulse wave velocity in m/s");
    is_num(x, "hydration_data.hydration_amount_samples[0].hydration_kg", 42.1,
           "hydration in kg");

    d = find(&r, "2024-03-31");
    ok(d != NULL, "2024-03-31, the day clocks go forward");
    if (d == NULL) {
        goto out;
    }
    x = d->data;
    is_str(jstr(x, "metadata.start_time"), "2024-03-31T00:00:00.000000+01:00",
           "starts in winter time");
    is_str(jstr(x, "metadata.end_time"), "2024-04-01T00:00:00.000000+02:00",
           "ends in summer time");
    is_int(d->end_us - d->start_us, 23LL * 3600 * 1000000, "a 23-hour day");
    is_str(jstr(x, "measurements_data.measurements[0].measurement_time"),
           "2024-03-31T08:05:00.000000+02:00", "a manual weight, summer time");
    ok(jint_is(x, "oxygen_data.saturation_samples[0].percentage", 97), "SpO2");
    ok(jint_is(x, "oxygen_data.saturation_samples[0].type", 0),
       "SpO2 is blood saturation");
    is_num(x, "oxygen_data.vo2max_ml_per_min_per_kg", 42.3, "VO2 max");
    is_num(x,
           "temperature_data.body_temperature_samples[0].temperature_celsius",
           36.72, "body temperature");
    ok(jint_is(x,
               "heart_data.afib_classification_samples[0]."
               "afib_classification",
               0),
       "no AFib");

    d = find(&r, "2024-03-29");
    ok(d != NULL, "a group without a zone falls back to body.timezone");
    if (d != NULL) {
        ok(jint_is(d->data, "measurements_data.measurements[0].height_cm", 178),
           "height 178 * 10^-2 m in cm");
        is_str(jstr(d->data, "measurements_data.measurements[0]."
                             "measurement_time"),
               "2024-03-29T12:00:00.000000+01:00", "in Paris time");
    }

out:
    adapter_records_release(&r);
}

/* A weight group `grpid` at unix second `date`, of `grams`. */
static json_t *
weight_group(json_int_t grpid, json_int_t date, int grams)
{
    return json_pack("{s:I, s:i, s:I, s:i, s:[{s:i, s:i, s:i}]}", "grpid",
                     grpid, "attrib", 0, "date", date, "category", 1,
                     "measures", "value", grams, "type", 1, "unit", -3);
}

/*
 * Groups by the thousand over hundreds of days, answered in no order:
 * one record a day, oldest first, each day's weights in time order;
 * groups of one time and id in the order they came.
 */
static void
test_getmeas_many(void)
{
    struct adapter_records r = {0};
    json_t *grps = json_array();
    json_t *p = NULL;
    size_t i = 0;
    int all = 1;

    /* day k (k < 400) gets three groups, at 08:00, 12:00 and 20:00 UTC */
    for (i = 0; i < 1200; i++) {
        size_t k = (i * 7919) % 1200; /* a permutation of 0 .. 1199 */
        json_int_t day = 1700006400 + 86400 * (json_int_t)(k / 3);

        json_array_append_new(
            grps, weight_group((json_int_t)k,
                               day + 28800 + 14400 * (json_int_t)(k % 3),
                               70000 + (int)k));
    }
    /* two groups of one time and id: their order is the answer's */
    json_array_append_new(grps, weight_group(5000, 1700006400 + 3600, 60001));
    json_array_append_new(grps, weight_group(5000, 1700006400 + 3600, 60002));
    p = json_pack("{s:i, s:{s:s, s:o}}", "status", 0, "body", "timezone", "UTC",
                  "measuregrps", grps);
    is_int(adapter_withings.normalize("getmeas", p, &r, &e), 0,
           "1202 groups over 400 days");
    json_decref(p);
    is_int(r.n, 400, "one record a day");
    for (i = 0; i < r.n; i++) {
        json_t *m = jget(r.v[i].data, "measurements_data.measurements");
        size_t first = i == 0 ? 2 : 0;
        size_t j = 0;

        all &=
            r.v[i].start_us == (1700006400LL + 86400 * (long long)i) * 1000000;
        all &= json_array_size(m) == first + 3;
        for (j = 0; j < 3; j++) {
            all &= fabs(json_number_value(json_object_get(
                            json_array_get(m, first + j), "weight_kg")) -
                        (70000 + 3 * i + j) / 1000.0) < 1e-9;
        }
    }
    ok(all, "... oldest first, each day's weights in time order");
    is_num(r.v[0].data, "measurements_data.measurements[0].weight_kg", 60.001,
           "same time and id: the first answered first");
    is_num(r.v[0].data, "measurements_data.measurements[1].weight_kg", 60.002,
           "... then the second");
    adapter_records_release(&r);
}

static void
test_getactivity(void)
{
    struct adapter_records r = {0};
    struct adapter_record *d = NULL;
    json_t *x = NULL;

    is_int(normalize_file("getactivity", "getactivity.json", &r), 0,
           "getactivity");
    is_int(r.n, 3, "three days (one had nothing)");
    ok(find(&r, "2024-04-01") == NULL, "the empty day is skipped");
    d = find(&r, "2024-03-30");
    ok(d != NULL && d->type == DT_DAILY, "a daily record");
    if (d == NULL) {
        goto out;
    }
    x = d->data;
    is_str(d->local_date, "2024-03-30", "keyed by its local date");
    is_str(jstr(x, "metadata.start_time"), "2024-03-30T00:00:00.000000+01:00",
           "midnight");
    is_str(jstr(x, "metadata.end_time"), "2024-03-31T00:00:00.000000+01:00",
           "to midnight");
    ok(jint_is(x, "metadata.upload_type", 1), "a Withings tracker");
    ok(jint_is(x, "distance_data.steps", 9812), "steps");
    is_num(x, "distance_data.distance_meters", 7104.62, "meters");
    ok(jint_is(x, "distance_data.floors_climbed", 12),
       "elevation is floors, not meters");
    ok(jint_is(x, "active_durations_data.low_intensity_seconds", 4920), "soft");
    ok(jint_is(x, "active_durations_data.moderate_intensity_seconds", 1860),
       "moderate");
    ok(jint_is(x, "active_durations_data.vigorous_intensity_seconds", 540),
       "intense");
    ok(jint_is(x, "active_durations_data.activity_seconds", 2400), "active");
    is_num(x, "calories_data.net_activity_calories", 512.44, "active calories");
    is_num(x, "calories_data.total_burned_calories", 2391.87, "total calories");
    is_num(x, "calories_data.BMR_calories", 1879.43, "the passive share");
    ok(jint_is(x, "heart_rate_data.summary.avg_hr_bpm", 71), "average HR");
    ok(jint_is(x, "heart_rate_data.summary.min_hr_bpm", 52), "min HR");
    ok(jint_is(x, "heart_rate_data.summary.max_hr_bpm", 148), "max HR");
    ok(jint_is(x, "heart_rate_data.summary.hr_zone_data[3].zone", 3) &&
           jint_is(x,
                   "heart_rate_data.summary.hr_zone_data[3].duration_seconds",
                   120),
       "the maximal zone");
    is_str(jstr(x, "device_data.name"), "ScanWatch", "the device");

    d = find(&r, "2024-03-31");
    ok(d != NULL && d->end_us - d->start_us == 23LL * 3600 * 1000000,
       "the DST day is 23 hours long");
    d = find(&r, "2024-04-02");
    ok(d != NULL, "a day in Tokyo");
    if (d != NULL) {
        is_str(jstr(d->data, "metadata.start_time"),
               "2024-04-02T00:00:00.000000+09:00", "Tokyo midnight");
        ok(jint_is(d->data, "metadata.upload_type", 6),
           "brand 18 is a third-party source");
        ok(jget(d->data, "heart_rate_data") == NULL, "no heart rate given");
    }

out:
    adapter_records_release(&r);
}

static void
test_getworkouts(void)
{
    struct adapter_records r = {0};
    struct adapter_record *a = NULL;
    json_t *x = NULL;

    is_int(normalize_file("getworkouts", "getworkouts.json", &r), 0,
           "getworkouts");
    is_int(r.n, 5, "five workouts (no-activity skipped)");
    ok(find(&r, "3661300301") == NULL, "category 128 is not a workout");

    a = find(&r, "3661300277");
    ok(a != NULL && a->type == DT_ACTIVITY, "the run");
    if (a == NULL) {
        goto out;
    }
    x = a->data;
    is_str(jstr(x, "metadata.summary_id"), "3661300277", "summary_id");
    is_str(jstr(x, "metadata.start_time"), "2024-03-30T08:02:11.000000+01:00",
           "start");
    is_str(jstr(x, "metadata.end_time"), "2024-03-30T08:49:40.000000+01:00",
           "end");
    is_int(a->start_us, 1711782131000000LL, "start_us");
    is_str(a->local_date, "", "sessions have no local date");
    ok(jint_is(x, "metadata.type", 8), "RUNNING");
    ok(jint_is(x, "metadata.upload_type", 1), "automatic");
    is_str(jstr(x, "metadata.name"), "Run", "named after the category");
    ok(jint_is(x, "distance_data.summary.distance_meters", 7840), "meters");
    ok(jint_is(x, "distance_data.summary.steps", 6712), "steps");
    ok(jint_is(x, "distance_data.summary.floors_climbed", 4), "floors");
    ok(jint_is(x, "calories_data.net_activity_calories", 512), "kcal");
    ok(jint_is(x, "heart_rate_data.summary.avg_hr_bpm", 148), "avg HR");
    ok(jint_is(x, "heart_rate_data.summary.hr_zone_data[2].duration_seconds",
               1500),
       "intense zone");
    ok(jint_is(x, "active_durations_data.rest_seconds", 120), "pause");
    ok(jint_is(x, "active_durations_data.activity_seconds", 2849 - 120),
       "moving time");
    ok(jget(x, "oxygen_data") == NULL, "a null SpO2 is left out");

    a = find(&r, "3661300281");
    ok(a != NULL && jint_is(a->data, "metadata.upload_type", 6) &&
           jint_is(a->data, "metadata.type", 7),
       "a walk from Google Fit is a third-party upload");
    a = find(&r, "3661300290");
    ok(a != NULL, "the manual yoga");
    if (a != NULL) {
        ok(jint_is(a->data, "metadata.upload_type", 2), "manual");
        ok(jint_is(a->data, "metadata.type", 100), "YOGA");
        ok(jint_is(a->data, "calories_data.net_activity_calories", 180),
           "the calories entered by hand");
        is_str(jstr(a->data, "metadata.start_time"),
               "2024-03-31T18:00:00.000000+02:00", "summer time");
    }
    a = find(&r, "3661300299");
    ok(a != NULL, "the swim across the US DST change");
    if (a != NULL) {
        x = a->data;
        is_str(jstr(x, "metadata.start_time"),
               "2024-03-10T01:30:00.000000-05:00", "starts in EST");
        is_str(jstr(x, "metadata.end_time"), "2024-03-10T03:10:00.000000-04:00",
               "ends in EDT");
        ok(jint_is(x, "metadata.type", 82), "SWIMMING");
        ok(jint_is(x, "distance_data.summary.swimming.num_laps", 40), "laps");
        ok(jint_is(x, "distance_data.summary.swimming.num_strokes", 812),
           "strokes");
        ok(jint_is(x, "distance_data.summary.swimming.pool_length_meters", 25),
           "pool length");
        ok(jint_is(x, "active_durations_data.rest_seconds", 310),
           "the pause the device saw");
    }
    a = find(&r, "3661300305");
    ok(a != NULL && jint_is(a->data, "metadata.type", 4) &&
           jget(a->data, "metadata.name") == NULL,
       "a category ferry does not know is UNKNOWN");

out:
    adapter_records_release(&r);
}

static void
test_getsummary(void)
{
    struct adapter_records r = {0};
    struct adapter_record *s = NULL;
    json_t *x = NULL;

    is_int(normalize_file("getsummary", "getsummary.json", &r), 0,
           "getsummary");
    is_int(r.n, 3, "three sleeps (one without data)");
    s = find(&r, "2081804182");
    ok(s != NULL && s->type == DT_SLEEP, "the night");
    if (s == NULL) {
        goto out;
    }
    x = s->data;
    is_str(jstr(x, "metadata.start_time"), "2024-03-30T23:10:00.000000+01:00",
           "fell into bed in winter time");
    is_str(jstr(x, "metadata.end_time"), "2024-03-31T07:20:00.000000+02:00",
           "woke in summer time");
    ok(jint_is(x, "metadata.upload_type", 2), "automatic");
    is_str(jstr(x, "metadata.summary_id"), "2081804182", "summary_id");
    ok(jint_is(x, "sleep_durations_data.asleep.duration_asleep_state_seconds",
               25680),
       "asleep");
    ok(jint_is(x,
               "sleep_durations_data.asleep.duration_deep_sleep_state_seconds",
               6000),
       "deep");
    ok(jint_is(x,
               "sleep_durations_data.asleep."
               "duration_light_sleep_state_seconds",
               14280),
       "light");
    ok(jint_is(x,
               "sleep_durations_data.asleep.duration_REM_sleep_state_seconds",
               5400),
       "REM");
    ok(jint_is(x, "sleep_durations_data.asleep.num_REM_events", 4),
       "REM phases");
    ok(jint_is(x, "sleep_durations_data.awake.duration_awake_state_seconds",
               2580),
       "awake");
    ok(jint_is(x, "sleep_durations_data.awake.num_wakeup_events", 2),
       "wake-ups");
    ok(jint_is(x, "sleep_durations_data.awake.num_out_of_bed_events", 1),
       "out of bed");
    ok(jint_is(x, "sleep_durations_data.awake.sleep_latency_seconds", 840),
       "latency");
    ok(jint_is(x, "sleep_durations_data.awake.wake_up_latency_seconds", 300),
       "wake-up latency");
    ok(jint_is(x, "sleep_durations_data.other.duration_in_bed_seconds", 29400),
       "in bed");
    is_num(x, "sleep_durations_data.sleep_efficiency", 87,
           "efficiency 0.87 as a percentage");
    ok(jint_is(x, "heart_rate_data.summary.avg_hr_bpm", 58), "average HR");
    ok(jint_is(x, "respiration_data.breaths_data.avg_breaths_per_min", 14),
       "breathing");
    is_str(jstr(x, "respiration_data.breaths_data.end_time"),
           "2024-03-31T07:20:00.000000+02:00", "over the night");
    ok(jint_is(x,
               "respiration_data.snoring_data."
               "total_snoring_duration_seconds",
               1080),
       "snoring");
    ok(jint_is(x, "respiration_data.snoring_data.num_snoring_events", 6),
       "snoring episodes");
    ok(jint_is(x, "scores.sleep_score", 81), "score");
    is_str(jstr(x, "device_data.name"), "Aura Sensor V2", "the device");
    is_int(json_array_size(jget(x, "sleep_durations_data.hypnogram_samples")),
           8, "eight night events");
    ok(jint_is(x, "sleep_durations_data.hypnogram_samples[0].level", 1) &&
           jint_is(x, "sleep_durations_data.hypnogram_samples[1].level", 2),
       "in bed awake, then asleep");
    is_str(jstr(x, "sleep_durations_data.hypnogram_samples[1].timestamp"),
           "2024-03-30T23:24:00.000000+01:00", "fell asleep at +840 s");
    ok(jint_is(x, "sleep_durations_data.hypnogram_samples[3].level", 3),
       "then out of bed");
    is_str(jstr(x, "sleep_durations_data.hypnogram_samples[3].timestamp"),
           "2024-03-31T03:50:00.000000+02:00", "after the clocks moved");

    s = find(&r, "2081804190");
    ok(s != NULL, "a nap in Tokyo");
    if (s != NULL) {
        is_str(jstr(s->data, "metadata.start_time"),
               "2024-03-31T14:05:00.000000+09:00", "in the afternoon");
        is_str(jstr(s->data, "device_data.name"), "ScanWatch", "the watch");
        ok(jget(s->data, "metadata.is_nap") == NULL,
           "Withings does not say what a nap is");
    }
    s = find(&r, "2081804195");
    ok(s != NULL, "a night from another source");
    if (s != NULL) {
        ok(jint_is(s->data, "metadata.upload_type", 3),
           "not completed: tentative");
        ok(jint_is(s->data,
                   "sleep_durations_data.asleep.duration_asleep_state_seconds",
                   24300),
           "asleepduration stands in for the stages");
        ok(jget(s->data, "device_data") == NULL, "an unknown device");
    }

out:
    adapter_records_release(&r);
}

static void
test_errors(void)
{
    struct adapter_records r = {0};

    is_int(normalize_file("getmeas", "error_401.json", &r), ERR_FORBIDDEN,
           "status 401: the token is dead");
    ok(strstr(e.msg, "401") != NULL, "the sentence names the status");
    is_int(normalize_file("getsummary", "error_601.json", &r), ERR_LIMIT,
           "status 601: rate limited");
    ok(strstr(e.msg, "wait_seconds=23") != NULL, "with the wait");
    is_int(normalize_text("getmeas",
                          "{\"status\":601,\"body\":{\"wait_seconds\":"
                          "1e300}}",
                          &r),
           ERR_LIMIT, "a wait out of reason");
    ok(strstr(e.msg, "wait_seconds=60") != NULL, "is a minute");
    is_int(normalize_text("getactivity", "{\"status\":100}", &r), ERR_FORBIDDEN,
           "status 100");
    is_int(normalize_text("getactivity", "{\"status\":522}", &r), ERR_TIMEOUT,
           "status 522");
    is_int(
        normalize_text("getactivity", "{\"status\":293,\"error\":\"x\"}", &r),
        ERR_UPSTREAM, "an invalid-params status");
    ok(strstr(e.msg, "293") != NULL, "named");
    is_int(normalize_text("getactivity", "{\"status\":2555}", &r), ERR_UPSTREAM,
           "an unauthorized service");
    is_int(normalize_text("getoops", "{\"status\":0,\"body\":{}}", &r),
           ERR_INVALID, "an unknown kind");
    ok(strstr(e.msg, "getoops") != NULL, "named");
    is_int(normalize_text("getmeas", "[]", &r), ERR_INVALID, "an array");
    is_int(normalize_text("getmeas", "{\"status\":\"0\"}", &r), ERR_INVALID,
           "a string status");
    is_int(normalize_text("getmeas", "{\"status\":0}", &r), ERR_INVALID,
           "no body");
    is_int(normalize_text("getmeas", "{\"status\":0,\"body\":{}}", &r), 0,
           "an empty body is no data");
    is_int(normalize_text("getsummary",
                          "{\"status\":0,\"body\":{\"series\":null}}", &r),
           0, "a null list is no data");
    is_int(normalize_text("getworkouts",
                          "{\"status\":0,\"body\":{\"series\":{}}}", &r),
           ERR_INVALID, "series not an array");
    is_int(normalize_text("getactivity",
                          "{\"status\":0,\"body\":{\"activities\":[{\"date\":"
                          "\"2024-01-01\",\"steps\":\"12\"}]}}",
                          &r),
           ERR_INVALID, "steps as a string");
    ok(strstr(e.msg, "activities[0].steps") != NULL, "the field is named");
    is_int(normalize_text("getactivity",
                          "{\"status\":0,\"body\":{\"activities\":[{\"date\":"
                          "\"2024-02-30\",\"steps\":12}]}}",
                          &r),
           ERR_INVALID, "a date that does not exist");
    is_int(normalize_text("getworkouts",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":1,"
                          "\"startdate\":1,\"enddate\":2,\"data\":{"
                          "\"steps\":\"9\"}}]}}",
                          &r),
           ERR_INVALID, "workout steps as a string");
    ok(strstr(e.msg, "series[0].data.steps") != NULL, "named in data");
    is_int(normalize_text("getworkouts",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":1,"
                          "\"startdate\":1e300,\"enddate\":2}]}}",
                          &r),
           ERR_INVALID, "a start out of range");
    is_int(normalize_text("getworkouts",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":1,"
                          "\"startdate\":20,\"enddate\":10}]}}",
                          &r),
           ERR_INVALID, "an end before the start");
    is_int(normalize_text("getworkouts",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":1,"
                          "\"category\":1e19,\"startdate\":10,"
                          "\"enddate\":20}]}}",
                          &r),
           0, "a category past any int");
    ok(r.n == 1 && json_integer_value(json_object_get(
                       json_object_get(r.v[0].data, "metadata"), "type")) == 4,
       "... is no category ferry knows: type 4 (other)");
    adapter_records_release(&r);
    is_int(normalize_text("getsummary",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":[],"
                          "\"startdate\":10,\"enddate\":20,\"data\":{}}]}}",
                          &r),
           ERR_INVALID, "an id that is an array");
    is_int(normalize_text("getmeas",
                          "{\"status\":0,\"body\":{\"measuregrps\":[{\"date\":"
                          "10,\"measures\":[{\"type\":1,\"value\":1.5,"
                          "\"unit\":0}]}]}}",
                          &r),
           ERR_INVALID, "a measure value that is not an integer");
    is_int(normalize_text("getmeas",
                          "{\"status\":0,\"body\":{\"measuregrps\":[{\"date\":"
                          "10,\"measures\":[{\"type\":1,\"value\":1,"
                          "\"unit\":400}]}]}}",
                          &r),
           ERR_INVALID, "a unit out of range");
    is_int(normalize_text("getmeas",
                          "{\"status\":0,\"body\":{\"measuregrps\":[{\"date\":"
                          "10,\"timezone\":\"../../x\",\"measures\":[{\"type\":"
                          "9999,\"value\":1,\"unit\":0}]}]}}",
                          &r),
           0, "an unknown measure type is ignored");
    is_int(r.n, 0, "and gives nothing");
    is_int(normalize_text("getsummary",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":7,"
                          "\"startdate\":100,\"enddate\":200,\"timezone\":"
                          "\"Mars/Olympus\",\"data\":{\"total_sleep_time\":90,"
                          "\"night_events\":{\"2\":[\"x\",-5,1e9],\"9\":[1],"
                          "\"10\":[2]}}}]}}",
                          &r),
           0, "an unknown zone, odd night events");
    ok(r.n == 1 && strcmp(jstr(r.v[0].data, "metadata.start_time"),
                          "1970-01-01T00:01:40.000000+00:00") == 0,
       "read as UTC");
    ok(r.n == 1 &&
           jget(r.v[0].data, "sleep_durations_data.hypnogram_samples") == NULL,
       "events of no use are left out");
    adapter_records_release(&r);
    is_int(normalize_text("getsummary",
                          "{\"status\":0,\"body\":{\"series\":[{\"id\":8,"
                          "\"startdate\":100,\"enddate\":200,\"data\":{"
                          "\"total_sleep_time\":90,\"sleep_efficiency\":87}},"
                          "{\"id\":9,\"startdate\":300,\"enddate\":400,"
                          "\"data\":{\"total_sleep_time\":90,"
                          "\"sleep_efficiency\":-0.1}}]}}",
                          &r),
           0, "sleep efficiencies outside 0-1");
    ok(r.n == 2 &&
           jget(r.v[0].data, "sleep_durations_data.sleep_efficiency") == NULL &&
           jget(r.v[1].data, "sleep_durations_data.sleep_efficiency") == NULL,
       "... are no ratio and are left out");
    adapter_records_release(&r);
}

/* Every scalar of every fixture replaced by every other JSON type: the
 * adapter answers 0 or an error and never crashes or leaks. */
static size_t mutated;

static void
mutate_walk(const char *kind, json_t *root, json_t *node)
{
    static const char *const repl[] = {"null",  "\"x\"", "true", "-1",
                                       "1e308", "[]",    "{}",   "[[{}]]"};
    struct adapter_records r = {0};
    const char *k = NULL;
    json_t *v = NULL;
    size_t i = 0;
    size_t j = 0;

    if (json_is_object(node)) {
        void *tmp = NULL;

        json_object_foreach_safe(node, tmp, k, v)
        {
            if (json_is_object(v) || json_is_array(v)) {
                mutate_walk(kind, root, v);
                continue;
            }
            json_incref(v);
            for (j = 0; j < sizeof(repl) / sizeof(*repl); j++) {
                json_object_set_new(node, k, json_loads(repl[j], 0, NULL));
                adapter_withings.normalize(kind, root, &r, &e);
                adapter_records_release(&r);
                mutated++;
            }
            json_object_set_new(node, k, v);
        }
        return;
    }
    for (i = 0; json_is_array(node) && i < json_array_size(node); i++) {
        v = json_array_get(node, i);
        if (json_is_object(v) || json_is_array(v)) {
            mutate_walk(kind, root, v);
            continue;
        }
        json_incref(v);
        for (j = 0; j < sizeof(repl) / sizeof(*repl); j++) {
            json_array_set_new(node, i, json_loads(repl[j], 0, NULL));
            adapter_withings.normalize(kind, root, &r, &e);
            adapter_records_release(&r);
            mutated++;
        }
        json_array_set_new(node, i, v);
    }
}

static void
test_mutations(void)
{
    static const char *const files[4][2] = {
        {"getmeas", "getmeas.json"},
        {"getactivity", "getactivity.json"},
        {"getworkouts", "getworkouts.json"},
        {"getsummary", "getsummary.json"},
    };
    size_t i = 0;

    for (i = 0; i < 4; i++) {
        json_t *p = load(files[i][1]);

        mutate_walk(files[i][0], p, p);
        json_decref(p);
    }
    ok(mutated > 1000, "every field of every fixture, every wrong type");
}

/* ------------------------------------------------------------------ */

static const struct adapter_ctx ctx = {
    .api_url = "http://127.0.0.1:9/wbs",
    .provider_user_id = "38291736",
    .client_id = "cid",
    .client_secret = "secret",
    .hook_url = "https://ferry.example.com/hooks/withings/tok3n",
};

static void
test_plan(void)
{
    struct adapter_request *rq = NULL;
    size_t n = 0;
    int64_t s = 1711756800; /* 2024-03-30T00:00:00Z */

    is_int(adapter_withings.plan(&ctx, DT_BODY, s, s + 65 * DAY, &rq, &n, &e),
           0, "plan body");
    is_int(n, 3, "65 days in chunks of 30");
    if (n == 3) {
        is_str(rq[0].method, "POST", "POST");
        is_str(rq[0].url, "http://127.0.0.1:9/wbs/measure", "measure");
        is_str(rq[0].kind, "getmeas", "kind");
        ok(strstr(rq[0].body, "action=getmeas&") == rq[0].body, "action first");
        ok(strstr(rq[0].body, "meastypes=1,4,5,6,8,9,10,11,") != NULL,
           "the measure types");
        ok(strstr(rq[0].body, "category=1") != NULL, "real measures only");
        ok(strstr(rq[0].body, "startdate=1711756800&enddate=1714348800") !=
               NULL,
           "the first 30 days");
        ok(strstr(rq[2].body, "startdate=1716940800&enddate=1717372800") !=
               NULL,
           "the last 5");
        is_int(rq[2].type, DT_BODY, "type");
    }
    free(rq);

    is_int(adapter_withings.plan(&ctx, DT_SLEEP, s, s + 15 * DAY, &rq, &n, &e),
           0, "plan sleep");
    is_int(n, 3, "sleep in weeks");
    if (n == 3) {
        is_str(rq[0].url, "http://127.0.0.1:9/wbs/v2/sleep", "v2/sleep");
        ok(strstr(rq[0].body, "action=getsummary&startdateymd=2024-03-30&"
                              "enddateymd=2024-04-05&data_fields=") != NULL,
           "a week, both ends included");
        ok(strstr(rq[2].body, "startdateymd=2024-04-13&enddateymd="
                              "2024-04-13") != NULL,
           "the last day");
        ok(strstr(rq[0].body, "sleep_efficiency") != NULL &&
               strstr(rq[0].body, "night_events") != NULL,
           "the fields asked for");
    }
    free(rq);

    is_int(adapter_withings.plan(&ctx, DT_DAILY, s, s + DAY, &rq, &n, &e), 0,
           "plan daily");
    ok(n == 1 && strcmp(rq[0].url, "http://127.0.0.1:9/wbs/v2/measure") == 0 &&
           strstr(rq[0].body, "action=getactivity&startdateymd=2024-03-30&"
                              "enddateymd=2024-03-30") != NULL &&
           strcmp(rq[0].kind, "getactivity") == 0,
       "one day of activity");
    free(rq);
    is_int(adapter_withings.plan(&ctx, DT_ACTIVITY, s, s + 3600, &rq, &n, &e),
           0, "plan workouts");
    ok(n == 1 && strstr(rq[0].body, "action=getworkouts&") != NULL &&
           strstr(rq[0].body, "data_fields=calories,") != NULL &&
           strcmp(rq[0].kind, "getworkouts") == 0,
       "workouts");
    free(rq);

    rq = NULL;
    is_int(adapter_withings.plan(&ctx, DT_NUTRITION, s, s + DAY, &rq, &n, &e),
           0, "no nutrition");
    ok(n == 0 && rq == NULL, "no request");
    is_int(adapter_withings.plan(&ctx, DT_BODY, s, s, &rq, &n, &e), 0,
           "an empty window");
    ok(n == 0, "no request");
    {
        struct adapter_ctx bad_cx = ctx;

        bad_cx.api_url = NULL;
        is_int(adapter_withings.plan(&bad_cx, DT_BODY, s, s + DAY, &rq, &n, &e),
               ERR_INVALID, "no API URL");
    }
    is_int(adapter_withings.plan(&ctx, DT_BODY, -5, s, &rq, &n, &e),
           ERR_INVALID, "a negative start");
}

static void
test_next_page(void)
{
    struct adapter_request rq;
    struct adapter_request next;
    struct adapter_request third;
    json_t *a = NULL;

    memset(&rq, 0, sizeof(rq));
    snprintf(rq.url, sizeof(rq.url), "http://127.0.0.1:9/wbs/v2/measure");
    snprintf(rq.body, sizeof(rq.body),
             "action=getworkouts&startdateymd="
             "2024-03-30&enddateymd=2024-04-28");
    snprintf(rq.kind, sizeof(rq.kind), "getworkouts");

    a = json_pack("{s:i,s:{s:[],s:b,s:i}}", "status", 0, "body", "series",
                  "more", 1, "offset", 300);
    is_int(adapter_withings.next_page(&ctx, &rq, a, &next), 1, "more: true");
    is_str(next.body,
           "action=getworkouts&startdateymd=2024-03-30&enddateymd=2024-04-28"
           "&offset=300",
           "the offset appended");
    is_str(next.url, rq.url, "same URL");
    is_str(next.kind, "getworkouts", "same kind");
    json_decref(a);

    a = json_pack("{s:i,s:{s:i,s:i}}", "status", 0, "body", "more", 1, "offset",
                  600);
    is_int(adapter_withings.next_page(&ctx, &next, a, &third), 1,
           "more: 1 (getmeas)");
    ok(strstr(third.body, "&offset=600") != NULL &&
           strstr(third.body, "offset=300") == NULL,
       "the offset replaced");
    is_int(adapter_withings.next_page(&ctx, &third, a, &next), 0,
           "an offset that does not move on ends it");
    json_decref(a);

    a = json_pack("{s:i,s:{s:b,s:i}}", "status", 0, "body", "more", 0, "offset",
                  0);
    is_int(adapter_withings.next_page(&ctx, &rq, a, &next), 0, "more: false");
    json_decref(a);
    a = json_pack("{s:i,s:{s:b,s:i}}", "status", 601, "body", "more", 1,
                  "offset", 900);
    is_int(adapter_withings.next_page(&ctx, &rq, a, &next), 0,
           "an error answer has no next page");
    json_decref(a);
    a = json_pack("{s:i,s:{s:b,s:s}}", "status", 0, "body", "more", 1, "offset",
                  "900");
    is_int(adapter_withings.next_page(&ctx, &rq, a, &next), 0,
           "an offset that is not a number");
    json_decref(a);
    is_int(adapter_withings.next_page(&ctx, &rq, NULL, &next), 0, "no answer");
}

/* ------------------------------------------------------------------ */

static const char *
no_header(void *arg, const char *name)
{
    (void)arg;
    (void)name;
    return NULL;
}

static int
run_push(const char *method, const char *token, const char *body,
         enum push_answer *ans, int *status, struct adapter_push_items *out)
{
    struct adapter_push p;
    char reply[64];

    memset(&p, 0, sizeof(p));
    p.method = method;
    p.path_token = token;
    p.header = no_header;
    p.body = body;
    p.body_len = body != NULL ? strlen(body) : 0;
    p.client_id = "cid";
    p.client_secret = "secret";
    p.hook_token = "Zq7uVJ3f0x9tQm2R";
    err_clear(&e);
    return adapter_withings.push(&p, ans, status, reply, sizeof(reply), out,
                                 &e);
}

static void
test_push(void)
{
    static const char *tok = "Zq7uVJ3f0x9tQm2R";
    struct adapter_push_items out = {0};
    enum push_answer ans = PUSH_ACCEPT;
    int status = 0;

    is_int(run_push("HEAD", tok, NULL, &ans, &status, &out), 0, "HEAD probe");
    ok(ans == PUSH_HANDSHAKE && status == 200 && out.n == 0,
       "answered 200, nothing queued");
    is_int(run_push("GET", tok, NULL, &ans, &status, &out), 0, "GET probe");
    ok(ans == PUSH_HANDSHAKE && status == 200, "answered 200");
    is_int(run_push("HEAD", "Zq7uVJ3f0x9tQm2", NULL, &ans, &status, &out),
           ERR_FORBIDDEN, "a probe with a wrong token");
    is_int(run_push("POST", NULL, "userid=1&appli=1&startdate=1&enddate=2",
                    &ans, &status, &out),
           ERR_FORBIDDEN, "no token");
    is_int(run_push("POST", "Zq7uVJ3f0x9tQm2r",
                    "userid=1&appli=1&startdate=1&enddate=2", &ans, &status,
                    &out),
           ERR_FORBIDDEN, "a token one letter off");
    ok(out.n == 0, "nothing queued for forgeries");
    {
        struct adapter_push p;
        char reply[8];

        memset(&p, 0, sizeof(p));
        p.method = "HEAD";
        p.path_token = "";
        p.hook_token = NULL;
        is_int(adapter_withings.push(&p, &ans, &status, reply, sizeof(reply),
                                     &out, &e),
               ERR_FORBIDDEN, "no configured token refuses everything");
        p.hook_token = "";
        is_int(adapter_withings.push(&p, &ans, &status, reply, sizeof(reply),
                                     &out, &e),
               ERR_FORBIDDEN, "an empty configured token too");
    }

    is_int(run_push("POST", tok,
                    "userid=38291736&appli=1&startdate=1711779120&enddate="
                    "1711779120",
                    &ans, &status, &out),
           0, "a weight notification");
    ok(ans == PUSH_ACCEPT && status == 200, "accepted");
    ok(out.n == 1 && strcmp(out.v[0].provider_user_id, "38291736") == 0 &&
           out.v[0].type == DT_BODY && out.v[0].start == 1711779120 &&
           out.v[0].end == 1711779121 && out.v[0].payload == NULL &&
           !out.v[0].revoked,
       "fetch body for that second");
    adapter_push_items_release(&out);

    is_int(run_push("POST", tok,
                    "userid=38291736&startdate=1711753200&enddate=1711839600"
                    "&appli=16",
                    &ans, &status, &out),
           0, "an activity notification");
    ok(out.n == 2 && out.v[0].type == DT_DAILY &&
           out.v[1].type == DT_ACTIVITY && out.v[1].start == 1711753200 &&
           out.v[1].end == 1711839600,
       "daily and workouts over the window");
    adapter_push_items_release(&out);

    is_int(run_push("POST", tok,
                    "userid=38291736&startdate=1711839600&enddate=1711753200"
                    "&appli=16",
                    &ans, &status, &out),
           0, "a window the wrong way round");
    ok(out.n == 2 && out.v[1].start == 1711753200 && out.v[1].end == 1711839600,
       "fetched between its two times");
    adapter_push_items_release(&out);

    is_int(run_push("POST", tok,
                    "userid=38291736&appli=44&startdate=1711836600&enddate="
                    "1711862400",
                    &ans, &status, &out),
           0, "a sleep notification");
    ok(out.n == 1 && out.v[0].type == DT_SLEEP, "sleep");
    adapter_push_items_release(&out);

    is_int(run_push("POST", tok, "userid=38291736&appli=4&date=2024-03-30",
                    &ans, &status, &out),
           0, "a date instead of a window");
    ok(out.n == 1 && out.v[0].start == 1711756800 &&
           out.v[0].end == 1711756800 + DAY,
       "that day");
    adapter_push_items_release(&out);

    is_int(run_push("POST", tok, "userid=38291736&appli=46&action=unlink", &ans,
                    &status, &out),
           0, "the user unlinked the app");
    ok(out.n == 1 && out.v[0].revoked == 1, "revoked");
    adapter_push_items_release(&out);
    is_int(run_push("POST", tok, "userid=38291736&appli=46&action=update", &ans,
                    &status, &out),
           0, "a profile update");
    ok(out.n == 0, "nothing to do");
    is_int(run_push("POST", tok,
                    "userid=38291736&appli=50&date=1711836600&deviceid=ab",
                    &ans, &status, &out),
           0, "in bed");
    ok(out.n == 0 && ans == PUSH_ACCEPT, "accepted, nothing to fetch");
    is_int(run_push("POST", tok, "", &ans, &status, &out), 0, "an empty POST");
    ok(ans == PUSH_HANDSHAKE && status == 200, "a probe as well");

    is_int(run_push("POST", tok, "appli=1&startdate=1&enddate=2", &ans, &status,
                    &out),
           ERR_INVALID, "no userid");
    is_int(run_push("POST", tok,
                    "userid=1&userid=2&appli=1&startdate=1&"
                    "enddate=2",
                    &ans, &status, &out),
           ERR_INVALID, "two userids");
    is_int(run_push("POST", tok, "userid=abc&appli=1&startdate=1&enddate=2",
                    &ans, &status, &out),
           ERR_INVALID, "a userid that is not a number");
    is_int(run_push("POST", tok, "userid=1&appli=1", &ans, &status, &out),
           ERR_INVALID, "no window");
    is_int(run_push("POST", tok, "userid=1&appli=1&startdate=x&enddate=2", &ans,
                    &status, &out),
           ERR_INVALID, "a start that is not a time");
    is_int(run_push("POST", tok, "userid=1&appli=%zz", &ans, &status, &out),
           ERR_INVALID, "a bad escape");
    is_int(run_push("PUT", tok, "userid=1", &ans, &status, &out), ERR_INVALID,
           "PUT");
    ok(out.n == 0, "nothing queued for bad bodies");
}

/* ------------------------------------------------------------------ */

static void
test_lifecycle(void)
{
    struct adapter_request next;
    json_t *okj = load("notify_ok.json");
    json_t *dead = json_pack("{s:i,s:{}}", "status", 401, "body");
    json_t *none = json_pack("{s:i,s:{}}", "status", 294, "body");
    json_t *other = json_pack("{s:i,s:{}}", "status", 2555, "body");
    int step = 0;
    int rc = 0;

    is_int(adapter_withings.lifecycle(ADAPTER_APP_SETUP, &ctx, 0, NULL, 0,
                                      &next, &e),
           0, "nothing at app setup");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, 0, NULL, 0,
                                      &next, &e),
           1, "connected: a first subscription");
    is_str(next.method, "POST", "POST");
    is_str(next.url, "http://127.0.0.1:9/wbs/notify", "notify");
    is_str(next.body,
           "action=subscribe&callbackurl=https%3A%2F%2Fferry.example.com%2F"
           "hooks%2Fwithings%2Ftok3n&appli=1&comment=ferry",
           "subscribe weight with the hook URL");
    for (step = 1; step < 10; step++) {
        rc = adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, step, okj,
                                        200, &next, &e);
        if (rc != 1) {
            break;
        }
    }
    is_int(step, 6, "six categories");
    is_int(rc, 0, "then done");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, 4, okj, 200,
                                      &next, &e),
           1, "step 4");
    ok(strstr(next.body, "&appli=44&") != NULL, "is sleep");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, 2, okj, 502,
                                      &next, &e),
           ERR_UPSTREAM, "an HTTP failure ends the phase");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, 2, dead,
                                      200, &next, &e),
           ERR_FORBIDDEN, "a refused token ends it");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &ctx, 2, NULL,
                                      200, &next, &e),
           ERR_UPSTREAM, "an answer that is not JSON");

    is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &ctx, 0, NULL, 0,
                                      &next, &e),
           1, "deauth: a first revoke");
    is_str(next.body,
           "action=revoke&callbackurl=https%3A%2F%2Fferry.example.com%2F"
           "hooks%2Fwithings%2Ftok3n&appli=1",
           "revoke weight");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &ctx, 1, none, 200,
                                      &next, &e),
           1, "nothing to revoke is fine");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &ctx, 2, other, 200,
                                      &next, &e),
           1, "another failure still tries the rest");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &ctx, 3, dead, 200,
                                      &next, &e),
           ERR_FORBIDDEN, "a dead token stops");
    is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &ctx, 6, okj, 200,
                                      &next, &e),
           0, "done after six");
    {
        struct adapter_ctx c = ctx;

        c.hook_url = NULL;
        is_int(adapter_withings.lifecycle(ADAPTER_USER_CONNECTED, &c, 0, NULL,
                                          0, &next, &e),
               ERR_CONFIG, "no hook URL: no push");
        is_int(adapter_withings.lifecycle(ADAPTER_USER_DEAUTH, &c, 0, NULL, 0,
                                          &next, &e),
               0, "and nothing to revoke");
    }
    json_decref(okj);
    json_decref(dead);
    json_decref(none);
    json_decref(other);
}

static void
test_caps(void)
{
    const struct adapter *a = &adapter_withings;
    size_t i = 0;

    is_str(a->resource, "WITHINGS", "resource");
    ok(a->caps.types == (DT_BIT(DT_ACTIVITY) | DT_BIT(DT_SLEEP) |
                         DT_BIT(DT_DAILY) | DT_BIT(DT_BODY)),
       "activity, sleep, daily, body");
    ok(a->caps.push && a->caps.poll_seconds > 0, "push, with a poll behind");
    is_int(a->caps.requests_per_minute, 120, "120 a minute");
    is_int(a->caps.chunk_days, 30, "chunks of 30 days");
    ok(!a->caps.revokes, "no token revocation endpoint");
    for (i = 0; a->kinds[i] != NULL; i += 2) {
        ok(a->kinds[i + 1] != NULL && a->kinds[i + 1][0] != '\0', a->kinds[i]);
    }
    is_int(i, 8, "four kinds");
}

int
main(void)
{
    test_caps();
    test_zones();
    test_tz_footer();
    test_tzif_garbage();
    test_getmeas();
    test_getmeas_many();
    test_getactivity();
    test_getworkouts();
    test_getsummary();
    test_errors();
    test_mutations();
    test_plan();
    test_next_page();
    test_push();
    test_lifecycle();
    return done_testing();
}
