/*
 * isotime.h - timestamps as unix microseconds and ISO 8601 / RFC 3339 text.
 *
 * Internally a point in time is an int64_t count of microseconds since
 * 1970-01-01T00:00:00Z (negative before), with no leap seconds. A UTC
 * offset, where one matters, travels next to it as seconds east of UTC.
 * The calendar is the proleptic Gregorian one, computed here without
 * timegm(), mktime() or TZ, so results never depend on the environment.
 */
#ifndef FERRY_CORE_ISOTIME_H
#define FERRY_CORE_ISOTIME_H

#include <limits.h>
#include <stdint.h>

#include "core/err.h"

/* Size of an isotime_format() buffer, NUL included. */
#define ISOTIME_MAX 40

/* isotime_parse() result for text that carries no offset. */
#define ISOTIME_NO_OFFSET INT_MIN

/* The current time (CLOCK_REALTIME) in unix microseconds. */
int64_t isotime_now_us(void);

/*
 * Write the instant `us` as local time at offset `offset_s` (seconds east
 * of UTC) to `out`, NUL-terminated, always with six fraction digits and a
 * numeric offset: "2026-03-01T07:30:00.000000+01:00". An offset of 0 or
 * ISOTIME_NO_OFFSET prints "+00:00". The offset is used to the minute,
 * toward zero (RFC 3339 has no seconds in offsets), and limited to
 * +-18:00; the wall time is shifted by that same whole-minute offset, so
 * the text always denotes exactly `us`. Years outside 0000-9999 are
 * printed with more digits or a '-' and are not RFC 3339.
 */
void isotime_format(int64_t us, int offset_s, char out[ISOTIME_MAX]);

/*
 * Parse the NUL-terminated `s` (borrowed) into unix microseconds `*us`
 * and its offset `*offset_s` (seconds east of UTC). Accepted:
 *
 *     YYYY-MM-DDTHH:MM[:SS[.F]]OFFSET     F: 1 to 9 digits
 *     YYYY-MM-DD                          midnight, no offset
 *
 * where 'T' may also be 't' or one space, and OFFSET is 'Z' or 'z'
 * (offset 0), +-HH:MM, +-HHMM, +-HH, or nothing. Without an offset
 * `*offset_s` is ISOTIME_NO_OFFSET and the wall time is taken as UTC.
 * Fraction digits past the sixth are dropped (truncated, not rounded).
 * Every field is checked: month 01-12, day within its month (leap years
 * included), hour 00-23, minute and second 00-59 (no leap second, no
 * 24:00), offset at most 18:00 with minutes 00-59; nothing may follow.
 * Returns 0, or ERR_INVALID with a sentence in `e` saying what is wrong;
 * `*us` and `*offset_s` are left alone on error.
 */
int isotime_parse(const char *s, int64_t *us, int *offset_s, struct err *e);

/*
 * Parse exactly "YYYY-MM-DD" (a real calendar date) from the
 * NUL-terminated `s` into `*y`, `*m` and `*d`. Returns 0 or ERR_INVALID
 * (the outputs are then left alone).
 */
int isotime_parse_date(const char *s, int *y, int *m, int *d);

/*
 * Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative
 * before). Correct for any year 0..9999 and beyond; `m` must be 1..12 and
 * `d` 1..31 (a day past the month's end counts on into the next month).
 */
int64_t isotime_days_from_civil(int y, int m, int d);

/* The inverse of isotime_days_from_civil(). */
void isotime_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
