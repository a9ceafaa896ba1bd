/*
 * test_pipeline.c - the pipeline's pure pieces: merging day summaries
 * that come in parts, removing sample arrays.
 */
#include <string.h>

#include <jansson.h>

#include "pipeline/internal.h"
#include "tap.h"

static char *
dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void
test_merge(void)
{
    json_t *day = json_loads(
        "{\"metadata\":{\"start_time\":\"2024-03-30T00:00:00.000000+01:00\","
        "\"upload_type\":1},\"distance_data\":{\"steps\":11874},"
        "\"heart_rate_data\":{\"detailed\":{\"hr_samples\":["
        "{\"timestamp\":\"t1\",\"bpm\":60},{\"timestamp\":\"t2\",\"bpm\":61}"
        "]}}}",
        0, NULL);
    json_t *stress = json_loads(
        "{\"metadata\":{\"start_time\":\"2024-03-30T00:00:00.000000+01:00\","
        "\"upload_type\":1},\"stress_data\":{\"avg_stress_level\":31},"
        "\"heart_rate_data\":{\"detailed\":{\"hr_samples\":["
        "{\"timestamp\":\"t2\",\"bpm\":62},{\"timestamp\":\"t3\",\"bpm\":63}"
        "]}}}",
        0, NULL);
    char *s = NULL;

    pipeline_merge(day, stress);
    s = dump(day);
    ok(strstr(s, "\"steps\":11874") != NULL,
       "a later part keeps what the first gave (steps)");
    ok(strstr(s, "\"avg_stress_level\":31") != NULL, "... and adds its own");
    is_str(s,
           "{\"distance_data\":{\"steps\":11874},\"heart_rate_data\":"
           "{\"detailed\":{\"hr_samples\":[{\"bpm\":60,\"timestamp\":\"t1\"},"
           "{\"bpm\":62,\"timestamp\":\"t2\"},{\"bpm\":63,\"timestamp\":"
           "\"t3\"}]}},\"metadata\":{\"start_time\":\"2024-03-30T00:00:00."
           "000000+01:00\",\"upload_type\":1},\"stress_data\":"
           "{\"avg_stress_level\":31}}",
           "samples are joined by timestamp, the later part winning");
    free(s);
    json_decref(day);
    json_decref(stress);

    day = json_loads("{\"a\":{\"b\":1,\"c\":[1,2]},\"d\":\"x\"}", 0, NULL);
    stress = json_loads("{\"a\":{\"c\":[3]},\"d\":null}", 0, NULL);
    pipeline_merge(day, stress);
    s = dump(day);
    is_str(s, "{\"a\":{\"b\":1,\"c\":[3]},\"d\":null}",
           "other arrays and scalars are replaced");
    free(s);
    json_decref(day);
    json_decref(stress);
}

static void
test_strip(void)
{
    json_t *a = json_loads(
        "[{\"metadata\":{},\"heart_rate_data\":{\"summary\":{\"avg_hr_bpm\":"
        "70},\"detailed\":{\"hr_samples\":[{\"bpm\":1}],"
        "\"hrv_samples_rmssd\":[{\"hrv_rmssd\":40}],"
        "\"hrv_samples_sdnn\":[{\"hrv_sdnn\":50}]}},"
        "\"heart_data\":{\"ecg_signal\":[{\"avg_hr_bpm\":60,"
        "\"raw_signal\":[{\"potential_uV\":1}]}]},"
        "\"sleep_durations_data\":{\"hypnogram_samples\":[{\"level\":1}],"
        "\"asleep\":{}},\"position_data\":{\"start_pos_lat_lng_deg\":[1,2]}}]",
        0, NULL);
    char *s = NULL;

    pipeline_strip_samples(a);
    s = dump(a);
    is_str(s,
           "[{\"heart_data\":{\"ecg_signal\":[{\"avg_hr_bpm\":60}]},"
           "\"heart_rate_data\":{\"detailed\":{},\"summary\":{\"avg_hr_bpm\""
           ":70}},\"metadata\":{},\"position_data\":{\"start_pos_lat_lng_deg\""
           ":[1,2]},\"sleep_durations_data\":{\"asleep\":{}}}]",
           "sample arrays go (HRV's and an ECG's raw signal too), at any "
           "depth; other arrays stay");
    free(s);
    json_decref(a);
}

int
main(void)
{
    test_merge();
    test_strip();
    return done_testing();
}
