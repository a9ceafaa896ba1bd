/*
 * isotime.c - calendar arithmetic, RFC 3339 formatting and parsing.
 *
 * The calendar functions count years from 1 March, so that the leap day
 * is the last day of a year and the month lengths from March on repeat
 * in a fixed 153-day five-month pattern; 400 Gregorian years ("an era")
 * are exactly 146097 days, which reduces any date to a day within one
 * era.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "core/isotime.h"

#define US_PER_S      INT64_C(1000000)
#define S_PER_DAY     INT64_C(86400)
#define DAYS_PER_ERA  INT64_C(146097)
#define YEARS_PER_ERA INT64_C(400)

/* Days from 0000-03-01 to 1970-01-01. */
#define EPOCH_DAYS INT64_C(719468)

/* Largest offset accepted or printed, in minutes. */
#define OFFSET_MAX_MIN (18 * 60)

/* What the messages quote of a bad input, at most. */
#define QUOTE_MAX 64

int64_t
isotime_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* a / b rounded toward minus infinity; b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b < 0) {
        q--;
    }
    return q;
}

int64_t
isotime_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2 ? 1 : 0);
    int64_t era = floor_div(yy, YEARS_PER_ERA);
    int64_t yoe = yy - era * YEARS_PER_ERA;   /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;       /* March is 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * DAYS_PER_ERA + doe - EPOCH_DAYS;
}

void
isotime_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + EPOCH_DAYS;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA; /* 0..146096 */
    int64_t yoe = 0;
    int64_t doy = 0;
    int64_t mp = 0;

    /* take out the leap days before `doe` to get a whole-year count */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * YEARS_PER_ERA + (*m <= 2 ? 1 : 0));
}

static int
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && is_leap(y)) {
        return 29;
    }
    return len[m - 1];
}

/*
 * Write `v` in decimal with at least `width` digits at `p`; return the
 * position after the last digit.
 */
static char *
put_num(char *p, uint64_t v, int width)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width) {
        tmp[n++] = '0';
    }
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

/* The offset isotime_format() prints for `offset_s`, in minutes. */
static int
offset_minutes(int offset_s)
{
    int min = 0;

    if (offset_s == ISOTIME_NO_OFFSET) {
        return 0;
    }
    min = offset_s / 60;
    if (min > OFFSET_MAX_MIN) {
        min = OFFSET_MAX_MIN;
    } else if (min < -OFFSET_MAX_MIN) {
        min = -OFFSET_MAX_MIN;
    }
    return min;
}

void
isotime_format(int64_t us, int offset_s, char out[ISOTIME_MAX])
{
    int off = offset_minutes(offset_s);
    int64_t secs = us / US_PER_S;
    int64_t frac = us % US_PER_S;
    int64_t days = 0;
    int64_t sod = 0;
    int y = 0;
    int m = 0;
    int d = 0;
    char *p = out;

    /* split without overflow, even for INT64_MIN */
    if (frac < 0) {
        frac += US_PER_S;
        secs--;
    }
    secs += (int64_t)off * 60;
    days = floor_div(secs, S_PER_DAY);
    sod = secs - days * S_PER_DAY;
    isotime_civil_from_days(days, &y, &m, &d);

    if (y < 0) {
        *p++ = '-';
    }
    p = put_num(p, y < 0 ? (uint64_t) - (int64_t)y : (uint64_t)y, 4);
    *p++ = '-';
    p = put_num(p, (uint64_t)m, 2);
    *p++ = '-';
    p = put_num(p, (uint64_t)d, 2);
    *p++ = 'T';
    p = put_num(p, (uint64_t)(sod / 3600), 2);
    *p++ = ':';
    p = put_num(p, (uint64_t)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_num(p, (uint64_t)(sod % 60), 2);
    *p++ = '.';
    p = put_num(p, (uint64_t)frac, 6);
    *p++ = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    p = put_num(p, (uint64_t)(off / 60), 2);
    *p++ = ':';
    p = put_num(p, (uint64_t)(off % 60), 2);
    *p = '\0';
}

/* Read exactly `n` ASCII digits at `*pp` into `*v`; 1 on success. */
static int
take_digits(const char **pp, int n, int *v)
{
    const char *p = *pp;
    int acc = 0;
    int i = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
        acc = acc * 10 + (p[i] - '0');
    }
    *pp = p + n;
    *v = acc;
    return 1;
}

/*
 * Parse YYYY-MM-DD at `*pp` and advance past it. Returns NULL, or what is
 * wrong as a phrase for a message.
 */
static const char *
parse_date(const char **pp, int *y, int *m, int *d)
{
    const char *p = *pp;

    if (!take_digits(&p, 4, y) || *p++ != '-' || !take_digits(&p, 2, m) ||
        *p++ != '-' || !take_digits(&p, 2, d)) {
        return "expected a date as YYYY-MM-DD";
    }
    if (*m < 1 || *m > 12) {
        return "the month must be 01 to 12";
    }
    if (*d < 1 || *d > days_in_month(*y, *m)) {
        return "the day does not exist in that month";
    }
    *pp = p;
    return NULL;
}

/*
 * Parse HH:MM[:SS[.F]] at `*pp` into seconds of the day and microseconds,
 * and advance past it. Returns NULL or a phrase saying what is wrong.
 */
static const char *
parse_clock(const char **pp, int64_t *sod, int64_t *frac_us)
{
    const char *p = *pp;
    int h = 0;
    int mi = 0;
    int s = 0;
    int nfrac = 0;

    *frac_us = 0;
    if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi)) {
        return "expected a time as HH:MM after the date";
    }
    if (h > 23) {
        return "the hour must be 00 to 23";
    }
    if (mi > 59) {
        return "the minute must be 00 to 59";
    }
    if (*p == ':') {
        p++;
        if (!take_digits(&p, 2, &s)) {
            return "expected two digits of seconds";
        }
        if (s > 59) {
            return "the second must be 00 to 59";
        }
        if (*p == '.') {
            p++;
            while (p[nfrac] >= '0' && p[nfrac] <= '9') {
                if (nfrac < 6) {
                    *frac_us = *frac_us * 10 + (p[nfrac] - '0');
                }
                nfrac++;
            }
            if (nfrac == 0 || nfrac > 9) {
                return "a fraction of a second must have 1 to 9 digits";
            }
            p += nfrac;
            for (; nfrac < 6; nfrac++) {
                *frac_us *= 10;
            }
        }
    }
    *sod = (int64_t)h * 3600 + mi * 60 + s;
    *pp = p;
    return NULL;
}

/*
 * Parse an offset (Z, +-HH:MM, +-HHMM, +-HH or nothing) at `*pp` into
 * seconds east of UTC or ISOTIME_NO_OFFSET, and advance past it. Returns
 * NULL or a phrase saying what is wrong.
 */
static const char *
parse_offset(const char **pp, int *offset_s)
{
    const char *p = *pp;
    int sign = 1;
    int h = 0;
    int mi = 0;

    if (*p == 'Z' || *p == 'z') {
        *offset_s = 0;
        *pp = p + 1;
        return NULL;
    }
    if (*p != '+' && *p != '-') {
        *offset_s = ISOTIME_NO_OFFSET;
        return NULL;
    }
    sign = *p++ == '-' ? -1 : 1;
    if (!take_digits(&p, 2, &h)) {
        return "expected an offset as +HH:MM or -HH:MM";
    }
    if (*p == ':') {
        p++;
        if (!take_digits(&p, 2, &mi)) {
            return "expected two digits of offset minutes";
        }
    } else if (*p >= '0' && *p <= '9') {
        if (!take_digits(&p, 2, &mi)) {
            return "expected two digits of offset minutes";
        }
    }
    if (mi > 59) {
        return "the offset minutes must be 00 to 59";
    }
    if (h * 60 + mi > OFFSET_MAX_MIN) {
        return "the offset must be within -18:00 to +18:00";
    }
    *offset_s = sign * (h * 3600 + mi * 60);
    *pp = p;
    return NULL;
}

int
isotime_parse(const char *s, int64_t *us, int *offset_s, struct err *e)
{
    const char *p = s;
    const char *why = NULL;
    int y = 0;
    int m = 0;
    int d = 0;
    int64_t sod = 0;
    int64_t frac = 0;
    int off = ISOTIME_NO_OFFSET;
    int64_t secs = 0;

    if (s == NULL) {
        return err_set(e, ERR_INVALID, "no time was given");
    }
    why = parse_date(&p, &y, &m, &d);
    if (why != NULL) {
        goto out;
    }
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ') {
            why = "expected 'T' between the date and the time";
            goto out;
        }
        p++;
        why = parse_clock(&p, &sod, &frac);
        if (why != NULL) {
            goto out;
        }
        why = parse_offset(&p, &off);
        if (why != NULL) {
            goto out;
        }
        if (*p != '\0') {
            why = "unexpected text after the time";
            goto out;
        }
    }

    /* all fields are in range: no overflow for years 0000-9999 */
    secs = isotime_days_from_civil(y, m, d) * S_PER_DAY + sod;
    if (off != ISOTIME_NO_OFFSET) {
        secs -= off;
    }
    *us = secs * US_PER_S + frac;
    *offset_s = off;

out:
    if (why != NULL) {
        return err_set(e, ERR_INVALID, "invalid time \"%.*s\": %s", QUOTE_MAX,
                       s, why);
    }
    return 0;
}

int
isotime_parse_date(const char *s, int *y, int *m, int *d)
{
    const char *p = s;
    int yy = 0;
    int mm = 0;
    int dd = 0;

    if (s == NULL || parse_date(&p, &yy, &mm, &dd) != NULL || *p != '\0') {
        return ERR_INVALID;
    }
    *y = yy;
    *m = mm;
    *d = dd;
    return 0;
}
