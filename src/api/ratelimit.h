/*
 * ratelimit.h - Terra's rate limits on the data-read endpoints, per
 * user_id (reference/terra-api.md section 10):
 *
 *   r1  one request covers at most RATELIMIT_WINDOW_DAYS days;
 *   r2  a user's requests cover at most RATELIMIT_HOUR_DAYS days in a
 *       rolling hour.
 *
 *     struct ratelimit_verdict v;
 *     if (ratelimit_take(ratelimit_shared(), user_id, days, now, &v) < 0)
 *         answer 429 with v.rule, v.retry_after, v.remaining, v.reset
 *
 * XXX: the counts live in this process's memory only: several API
 * processes of one deployment each count on their own, so a user may be
 * given up to that many times the hourly budget, and a restart forgets
 * them. Sharing them means a bucket in the store (one write per data
 * request) or a budget split between the processes; not decided. The
 * hour is counted in whole
 * minutes: days taken in minute M leave the bucket when minute M + 61
 * begins, between 60 and 61 minutes later (never early). Memory is
 * bounded: a user whose hour holds nothing is dropped, and past
 * `max_users` the user seen least recently is dropped (its count is
 * then forgotten). Thread-safe.
 */
#ifndef FERRY_API_RATELIMIT_H
#define FERRY_API_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WINDOW_DAYS 1825  /* r1: days one request may cover */
#define RATELIMIT_HOUR_DAYS   6000  /* r2: days per user per rolling hour */
#define RATELIMIT_USERS_MAX   65536 /* users ratelimit_shared() keeps */
#define RATELIMIT_ID_MAX      128   /* the longest user id counted apart */

enum ratelimit_rule {
    RATELIMIT_OK = 0,
    RATELIMIT_R1 = 1, /* the window of one request is too long */
    RATELIMIT_R2 = 2, /* the user's hour is spent */
};

struct ratelimit_verdict {
    enum ratelimit_rule rule;
    int64_t remaining; /* days left in the user's hour, after the take */
    /* unix seconds: when the bucket has room for this request again
     * (r2); for r1, which no wait can cure, and for an allowed request,
     * `now` */
    int64_t reset;
    int64_t retry_after; /* seconds until `reset`; 0 for r1 and success */
};

struct ratelimit;

/* A limiter keeping at most `max_users` users (at least 1). Caller frees
 * with ratelimit_free(). Never NULL (out of memory aborts). */
struct ratelimit *ratelimit_new(size_t max_users);

/* Free `rl` and every count in it. NULL does nothing. */
void ratelimit_free(struct ratelimit *rl);

/*
 * The process's limiter, made on first use with RATELIMIT_USERS_MAX and
 * kept until exit. Borrowed.
 */
struct ratelimit *ratelimit_shared(void);

/*
 * Charge `days` (at least 1 is charged) to `user_id` (borrowed; ids
 * longer than RATELIMIT_ID_MAX bytes are counted by their first
 * RATELIMIT_ID_MAX) at `now` (unix seconds, not decreasing for a
 * meaningful count). 0 when both rules pass: the days are counted. Else
 * ERR_LIMIT and nothing is counted. `out` says which rule fired and
 * what the bucket holds, either way.
 */
int ratelimit_take(struct ratelimit *rl, const char *user_id, int64_t days,
                   int64_t now, struct ratelimit_verdict *out);

/* How many users `rl` holds counts for (for tests and metrics). */
size_t ratelimit_users(struct ratelimit *rl);

#endif
