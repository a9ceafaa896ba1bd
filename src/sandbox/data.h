/*
 * data.h - the SANDBOX provider's data: what a pretend wearable
 * recorded for each account and day, and the API that serves it.
 *
 * Everything an account has on a day is a pure function of its account
 * id and the date: SHA-256("<account id>|<YYYY-MM-DD>|<stream>") seeds a
 * small generator for each stream (the day's plan, each workout, the
 * night, the day's totals, the weigh-in), so two processes, two runs or
 * two requests give the same bytes. Nothing random is drawn at request
 * time. Totals are computed from the samples they summarise (distance
 * is the integral of speed, steps and calories are the sums of their
 * intervals, stage totals are the hypnogram's epochs), and the daily
 * totals include the day's workouts.
 *
 * What is served moves with the sandbox clock (docs/internals/
 * sandbox.md, "The clock"): a day is served once sandbox time has passed
 * its end, and [sandbox] day_seconds sets how fast sandbox time runs.
 *
 * The answers are in the sandbox's own shape, not Terra's; the SANDBOX
 * adapter (providers/sandbox.c) normalises them.
 */
#ifndef FERRY_SANDBOX_DATA_H
#define FERRY_SANDBOX_DATA_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "http/server.h"

/* The data API's paths under the public URL. */
#define SANDBOX_WORKOUTS_PATH "/sandbox/api/v1/workouts"
#define SANDBOX_SLEEP_PATH    "/sandbox/api/v1/sleep"
#define SANDBOX_DAILY_PATH    "/sandbox/api/v1/daily"
#define SANDBOX_BODY_PATH     "/sandbox/api/v1/body"
#define SANDBOX_PROFILE_PATH  "/sandbox/api/v1/profile"

#define SANDBOX_HISTORY_DAYS   90  /* at least, before the clock began */
#define SANDBOX_RANGE_DAYS_MAX 31  /* days one request may cover */
#define SANDBOX_PAGE_ITEMS_MAX 50  /* items one page may hold */
#define SANDBOX_WORKOUTS_PAGE  10  /* the default page of workouts */
#define SANDBOX_SAMPLE_SECONDS 10  /* between workout samples */
#define SANDBOX_EPOCH_SECONDS  30  /* one letter of a hypnogram */
#define SANDBOX_NIGHT_SECONDS  300 /* between sleep HR and HRV samples */
#define SANDBOX_PAGE_TOKEN_MAX 16  /* "YYYYMMDD.N" and its NUL */
#define SANDBOX_DAY_ITEMS_MAX  4   /* items one kind has on one day */

/* What the list endpoints serve. */
enum sandbox_kind {
    SANDBOX_WORKOUTS = 0,
    SANDBOX_SLEEP,
    SANDBOX_DAILY,
    SANDBOX_BODY,
};

/*
 * The fixed offset of the account `account_id` (borrowed) from UTC, in
 * seconds east: one of ten places, none with daylight saving time
 * (-07:00 to +10:00, +05:45 included). Every time the account has is
 * written with it. Never fails.
 */
int sandbox_data_offset(const char *account_id);

/* The account's local day (days since 1970-01-01) at unix time `t`. */
int64_t sandbox_data_local_day(const char *account_id, int64_t t);

/* The sandbox clock of one process. */
struct sandbox_clock {
    int64_t anchor;   /* unix seconds: when sandbox time began to run */
    long day_seconds; /* real seconds in a sandbox day, 1..86400 */
};

/*
 * Sandbox time at real time `now` (unix seconds):
 * anchor + (now - anchor) * 86400 / day_seconds, which is `now` itself
 * when a day lasts 86400 s; `now` before the anchor is taken as the
 * anchor.
 */
int64_t sandbox_clock_time(const struct sandbox_clock *c, int64_t now);

/*
 * Sandbox time now (unix seconds) on this process's clock with days of
 * `day_seconds`, anchoring the clock when nothing has yet: what the
 * pipeline takes as "now" when it asks SANDBOX for recent days.
 */
int64_t sandbox_now(long day_seconds);

/*
 * The local days of `account_id` served at real time `now`: from
 * `*first` (the account's member_since date, in January or February
 * 2024, or
 * SANDBOX_HISTORY_DAYS before the local day of the anchor when that is
 * earlier) up to `*end` exclusive (the local day of sandbox time: a day
 * is served once sandbox time has passed its local midnight at the end).
 */
void sandbox_data_served(const char *account_id, const struct sandbox_clock *c,
                         int64_t now, int64_t *first, int64_t *end);

/*
 * Append the items of `kind` that `account_id` has on the local day
 * `day` to the array `out` (borrowed), oldest first: 0 to 2 workouts,
 * the night that ended that morning and a nap, one daily summary, one
 * body summary. At most SANDBOX_DAY_ITEMS_MAX. ERR_INVALID for a day
 * outside years 1900-9998; ERR_NOMEM when jansson cannot allocate.
 */
int sandbox_data_day(enum sandbox_kind kind, const char *account_id,
                     int64_t day, json_t *out);

/* Where a page starts: item `item` (0-based) of local day `day`. */
struct sandbox_page_pos {
    int64_t day;
    int item;
};

/*
 * Parse a page token "YYYYMMDD.N" (what a page gives as next_token)
 * into `pos`. 0 or ERR_INVALID.
 */
int sandbox_page_token_parse(const char *s, struct sandbox_page_pos *pos);

/* A page request: the days asked for and the window served. */
struct sandbox_page_query {
    enum sandbox_kind kind;
    const char *account_id; /* borrowed */
    int64_t start;          /* local days asked for, end exclusive */
    int64_t end;
    int64_t served_first; /* sandbox_data_served() */
    int64_t served_end;
    const struct sandbox_page_pos *from; /* NULL: the first item */
    int limit;                           /* 1..SANDBOX_PAGE_ITEMS_MAX */
};

/*
 * One page of the answer to `q` into `*out` (a new reference the caller
 * decrefs):
 *
 *     {"user_id":"sbx_...","start":"YYYY-MM-DD","end":"YYYY-MM-DD",
 *      "available_through":"YYYY-MM-DD"|null,
 *      "data":[...],"next_token":"YYYYMMDD.N"|null}
 *
 * with the items of the served days of [start, end) from `from` on, at
 * most `limit`. ERR_INVALID for a `from` outside [start, end) or a
 * range outside what sandbox_data_day() takes; ERR_NOMEM.
 */
int sandbox_data_page(const struct sandbox_page_query *q, json_t **out,
                      struct err *e);

/*
 * The profile of `account_id` (borrowed) signed in as `username`
 * (borrowed), as it reads on the local day `today`, into `*out` (a new
 * reference). ERR_INVALID for a day outside sandbox_data_day()'s
 * range; ERR_NOMEM.
 */
int sandbox_data_profile(const char *account_id, const char *username,
                         int64_t today, json_t **out);

/*
 * The handlers of the data API (req->ctx is the struct app). Each
 * wants a Bearer access token of the sandbox (401 otherwise, as
 * userinfo answers) with the scope of its kind (403 insufficient_scope),
 * and `start` and `end` dates (400 invalid_request otherwise).
 */
int sandbox_workouts_get(struct http_request *req, struct http_response *resp);
int sandbox_sleep_get(struct http_request *req, struct http_response *resp);
int sandbox_daily_get(struct http_request *req, struct http_response *resp);
int sandbox_body_get(struct http_request *req, struct http_response *resp);
int sandbox_profile_get(struct http_request *req, struct http_response *resp);

#endif
