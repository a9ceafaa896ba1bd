/*
 * test_isotime.c - calendar arithmetic, formatting and parsing.
 */
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/isotime.h"
#include "tap.h"

#define US INT64_C(1000000)

/* 2026-03-01T06:30:00Z */
#define T0 (INT64_C(1772346600) * US)

static void
test_days(void)
{
    int y = 0;
    int m = 0;
    int d = 0;
    int64_t day = 0;
    int good = 1;

    is_int(isotime_days_from_civil(1970, 1, 1), 0, "1970-01-01 is day 0");
    is_int(isotime_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is 11017");
    is_int(isotime_days_from_civil(1969, 12, 31), -1, "1969-12-31 is -1");
    is_int(isotime_days_from_civil(2000, 1, 1), 10957, "2000-01-01");
    is_int(isotime_days_from_civil(2024, 2, 29), 19782, "2024-02-29");
    is_int(isotime_days_from_civil(1900, 1, 1), -25567, "1900-01-01");
    is_int(isotime_days_from_civil(0, 1, 1), -719528, "0000-01-01");
    is_int(isotime_days_from_civil(9999, 12, 31), 2932896, "9999-12-31");

    isotime_civil_from_days(11017, &y, &m, &d);
    ok(y == 2000 && m == 3 && d == 1, "day 11017 is 2000-03-01");
    isotime_civil_from_days(-1, &y, &m, &d);
    ok(y == 1969 && m == 12 && d == 31, "day -1 is 1969-12-31");

    /* every day of years 0000..9999 maps back to itself, in order */
    isotime_civil_from_days(-719528, &y, &m, &d);
    for (day = -719528; day <= 2932896 && good; day++) {
        int y2 = 0;
        int m2 = 0;
        int d2 = 0;

        isotime_civil_from_days(day, &y2, &m2, &d2);
        good = isotime_days_from_civil(y2, m2, d2) == day && y2 >= 0 &&
               y2 <= 9999 && m2 >= 1 && m2 <= 12 && d2 >= 1 && d2 <= 31;
        if (day > -719528) {
            /* the next day is d + 1, or the 1st of the next month/year */
            good = good && ((y2 == y && m2 == m && d2 == d + 1) ||
                            (y2 == y && m2 == m + 1 && d2 == 1) ||
                            (y2 == y + 1 && m2 == 1 && m == 12 && d2 == 1));
        }
        y = y2;
        m = m2;
        d = d2;
    }
    ok(good, "days 0000-01-01..9999-12-31 round-trip and run in order");
}

static void
test_format(void)
{
    char s[ISOTIME_MAX];

    isotime_format(0, 0, s);
    is_str(s, "1970-01-01T00:00:00.000000+00:00", "epoch");
    isotime_format(T0, 3600, s);
    is_str(s, "2026-03-01T07:30:00.000000+01:00", "+01:00");
    isotime_format(T0, -(5 * 3600 + 30 * 60), s);
    is_str(s, "2026-03-01T01:00:00.000000-05:30", "-05:30");
    isotime_format(T0, 14 * 3600, s);
    is_str(s, "2026-03-01T20:30:00.000000+14:00", "+14:00");
    isotime_format(T0 + 123456, ISOTIME_NO_OFFSET, s);
    is_str(s, "2026-03-01T06:30:00.123456+00:00", "no offset prints +00:00");
    isotime_format(-1, 0, s);
    is_str(s, "1969-12-31T23:59:59.999999+00:00", "1 us before the epoch");
    isotime_format(-US, 0, s);
    is_str(s, "1969-12-31T23:59:59.000000+00:00", "1 s before the epoch");
    isotime_format(INT64_C(-14182940) * US, 0, s);
    is_str(s, "1969-07-20T20:17:40.000000+00:00", "1969 moon landing");
    isotime_format(INT64_C(-2208988800) * US + 1, 0, s);
    is_str(s, "1900-01-01T00:00:00.000001+00:00", "1900");
    isotime_format(0, -60, s);
    is_str(s, "1969-12-31T23:59:00.000000-00:01", "offset -00:01");
    isotime_format(0, 90, s);
    is_str(s, "1970-01-01T00:01:00.000000+00:01", "sub-minute offset dropped");
    isotime_format(0, -59, s);
    is_str(s, "1970-01-01T00:00:00.000000+00:00", "-59 s is offset 0");
    isotime_format(INT64_MIN, 0, s);
    ok(strlen(s) < ISOTIME_MAX, "INT64_MIN fits the buffer");
    isotime_format(INT64_MAX, 18 * 3600, s);
    ok(strlen(s) < ISOTIME_MAX, "INT64_MAX fits the buffer");
}

/* Parse `text`; check the instant and offset, then that formatting at
 * that offset and parsing again gives the same instant. */
static void
check_parse(const char *text, int64_t want_us, int want_off)
{
    struct err e;
    char name[128];
    char again[ISOTIME_MAX];
    int64_t us = 0;
    int64_t us2 = 0;
    int off = 0;
    int off2 = 0;
    int rc = 0;

    err_clear(&e);
    rc = isotime_parse(text, &us, &off, &e);
    snprintf(name, sizeof(name), "parse %s", text);
    if (!ok(rc == 0 && us == want_us && off == want_off, name)) {
        printf("#   rc=%d us=%lld off=%d msg=%s\n", rc, (long long)us, off,
               e.msg);
    }
    isotime_format(us, off, again);
    rc = isotime_parse(again, &us2, &off2, &e);
    snprintf(name, sizeof(name), "round trip %s -> %s", text, again);
    ok(rc == 0 && us2 == us && off2 == (off == ISOTIME_NO_OFFSET ? 0 : off),
       name);
}

static void
test_parse(void)
{
    check_parse("2026-03-01T07:30:00+01:00", T0, 3600);
    check_parse("2026-03-01T01:00:00-05:30", T0, -19800);
    check_parse("2026-03-01T20:30:00+14:00", T0, 50400);
    check_parse("2026-03-01T06:30:00Z", T0, 0);
    check_parse("2026-03-01t06:30:00z", T0, 0);
    check_parse("2026-03-01 06:30:00Z", T0, 0);
    check_parse("2026-03-01T06:30Z", T0, 0);
    check_parse("2026-03-01T07:30+0100", T0, 3600);
    check_parse("2026-03-01T07:30+01", T0, 3600);
    check_parse("2026-03-01T06:30:00-00:00", T0, 0);
    check_parse("2026-03-01T06:30:00", T0, ISOTIME_NO_OFFSET);
    check_parse("2026-03-01T06:30:00.5Z", T0 + 500000, 0);
    check_parse("2026-03-01T06:30:00.123456Z", T0 + 123456, 0);
    check_parse("2026-03-01T06:30:00.123456789Z", T0 + 123456, 0);
    check_parse("2026-03-01T06:30:00.999999999+00:00", T0 + 999999, 0);
    check_parse("2026-03-01", INT64_C(1772323200) * US, ISOTIME_NO_OFFSET);
    check_parse("1970-01-01T00:00:00Z", 0, 0);
    check_parse("1969-12-31T23:59:59.999999Z", -1, 0);
    check_parse("1969-07-20T20:17:40Z", INT64_C(-14182940) * US, 0);
    check_parse("1900-01-01T00:00:00+18:00", INT64_C(-2209053600) * US, 64800);
    check_parse("0000-01-01T00:00:00Z", INT64_C(-62167219200) * US, 0);
    check_parse("9999-12-31T23:59:59.999999Z",
                INT64_C(253402300799) * US + 999999, 0);
    check_parse("2024-02-29T12:00:00Z", INT64_C(1709208000) * US, 0);
    check_parse("2000-02-29", INT64_C(951782400) * US, ISOTIME_NO_OFFSET);
}

static void
test_parse_rejects(void)
{
    static const char *const bad[] = {
        "",
        "2023-02-29", /* not a leap year */
        "2023-02-29T00:00:00Z",
        "1900-02-29", /* century, not leap */
        "2026-04-31T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-03-01T24:00:00Z", /* 24:00 */
        "2026-03-01T23:60:00Z", /* 60 minutes */
        "2026-03-01T23:59:60Z", /* leap second */
        "2026-03-01T7:30:00Z",
        "2026-03-01T07:3Z",
        "2026-03-01T07Z",
        "2026-03-01T",
        "2026-03-01 ",
        "2026-03-01X07:30:00Z",
        "2026-03-01T07:30:00.Z",           /* no fraction digits */
        "2026-03-01T07:30:00.1234567890Z", /* ten fraction digits */
        "2026-03-01T07:30.5Z",             /* fraction without seconds */
        "2026-03-01T07:30:00+1",
        "2026-03-01T07:30:00+01:0",
        "2026-03-01T07:30:00+01:",
        "2026-03-01T07:30:00+010",
        "2026-03-01T07:30:00+01:60",
        "2026-03-01T07:30:00+18:01",
        "2026-03-01T07:30:00+19:00",
        "2026-03-01T07:30:00+99",
        "2026-03-01T07:30:00 +01:00",
        "2026-03-01T07:30:00ZZ", /* trailing garbage */
        "2026-03-01T07:30:00Z ",
        "2026-03-01T07:30:00+01:00x",
        "2026-03-01T07:30:00x",
        "2026-03-01x",
        "2026-3-01",
        "26-03-01",
        "+2026-03-01",
        "20260301T073000Z",
        "2026-03-01T07:30:00\n",
    };
    struct err e;
    int64_t us = 42;
    int off = 42;
    size_t i = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[96];
        int rc = 0;

        err_clear(&e);
        rc = isotime_parse(bad[i], &us, &off, &e);
        snprintf(name, sizeof(name), "rejected: '%s'", bad[i]);
        if (!ok(rc == ERR_INVALID && e.code == ERR_INVALID && e.msg[0] != '\0',
                name)) {
            printf("#   rc=%d\n", rc);
        }
    }
    ok(us == 42 && off == 42, "outputs untouched on error");
    is_int(isotime_parse(NULL, &us, &off, NULL), ERR_INVALID,
           "NULL rejected, NULL err allowed");

    isotime_parse("2026-03-01T24:00:00Z", &us, &off, &e);
    ok(strstr(e.msg, "hour") != NULL, "message names the hour");
    printf("# %s\n", e.msg);
    isotime_parse("2023-02-29", &us, &off, &e);
    ok(strstr(e.msg, "day") != NULL, "message names the day");
    printf("# %s\n", e.msg);
    isotime_parse("2026-03-01T07:30:00+19:00", &us, &off, &e);
    ok(strstr(e.msg, "offset") != NULL, "message names the offset");
    printf("# %s\n", e.msg);
    isotime_parse("2026-03-01T07:30:00Zjunk", &us, &off, &e);
    ok(strstr(e.msg, "after") != NULL, "message says text follows");
    printf("# %s\n", e.msg);
}

static void
test_parse_date(void)
{
    int y = 0;
    int m = 0;
    int d = 0;

    is_int(isotime_parse_date("2024-02-29", &y, &m, &d), 0, "leap day");
    ok(y == 2024 && m == 2 && d == 29, "fields of 2024-02-29");
    is_int(isotime_parse_date("2023-02-29", &y, &m, &d), ERR_INVALID,
           "2023-02-29 rejected");
    is_int(isotime_parse_date("2024-02-29T00:00", &y, &m, &d), ERR_INVALID,
           "a time is not a date");
    is_int(isotime_parse_date("2024-2-29", &y, &m, &d), ERR_INVALID,
           "one-digit month rejected");
    is_int(isotime_parse_date("2024-02-29 ", &y, &m, &d), ERR_INVALID,
           "trailing space rejected");
    is_int(isotime_parse_date("", &y, &m, &d), ERR_INVALID, "empty");
    is_int(isotime_parse_date(NULL, &y, &m, &d), ERR_INVALID, "NULL");
    ok(y == 2024 && m == 2 && d == 29, "fields untouched on error");
}

static void
test_now(void)
{
    int64_t a = isotime_now_us();
    int64_t b = isotime_now_us();

    /* 2024-01-01 .. 2100-01-01 */
    ok(a > INT64_C(1704067200) * US && a < INT64_C(4102444800) * US,
       "now is a plausible time");
    ok(b >= a, "now does not run backwards between two calls");
}

int
main(void)
{
    test_days();
    test_format();
    test_parse();
    test_parse_rejects();
    test_parse_date();
    test_now();
    return done_testing();
}
