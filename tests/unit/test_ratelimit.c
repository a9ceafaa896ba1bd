/*
 * test_ratelimit.c - the data endpoints' rate limits: the window rule
 * (r1), the rolling hour (r2) and its minute slots, what the verdict
 * says, and how the users' buckets are dropped.
 */
#include <pthread.h>
#include <stdio.h>

#include "api/ratelimit.h"
#include "core/err.h"
#include "tap.h"

#define T0 1772352000LL /* 2026-03-01T08:00:00Z, a minute's start */

static const char alice[] = "8c6f1d2e-0000-4000-8000-000000000001";
static const char bob[] = "8c6f1d2e-0000-4000-8000-000000000002";

static void
test_window(void)
{
    struct ratelimit *rl = ratelimit_new(16);
    struct ratelimit_verdict v;

    is_int(ratelimit_take(rl, alice, 1825, T0, &v), 0,
           "r1: 1825 days in one request pass");
    is_int(v.rule, RATELIMIT_OK, "... no rule fired");
    is_int(v.remaining, 6000 - 1825, "... and are counted");
    is_int(v.retry_after, 0, "... nothing to wait for");

    is_int(ratelimit_take(rl, alice, 1826, T0 + 1, &v), ERR_LIMIT,
           "r1: 1826 days are refused");
    is_int(v.rule, RATELIMIT_R1, "... by rule r1");
    is_int(v.remaining, 6000 - 1825, "... and not counted");
    is_int(v.reset, T0 + 1, "... reset is now: waiting cannot help");
    is_int(v.retry_after, 0, "... and so is Retry-After");

    is_int(ratelimit_take(rl, alice, 0, T0 + 2, &v), 0,
           "a request without dates passes");
    is_int(v.remaining, 6000 - 1826, "... and costs one day");
    ratelimit_free(rl);
}

static void
test_hour(void)
{
    struct ratelimit *rl = ratelimit_new(16);
    struct ratelimit_verdict v;
    int i = 0;

    /* 1000 days at T0, T0+10 min, ..., T0+50 min: 6000 in all */
    for (i = 0; i < 6; i++) {
        ratelimit_take(rl, alice, 1000, T0 + i * 600, &v);
    }
    is_int(v.rule, RATELIMIT_OK, "r2: 6000 days in an hour pass");
    is_int(v.remaining, 0, "... leaving nothing");

    is_int(ratelimit_take(rl, alice, 1, T0 + 3000, &v), ERR_LIMIT,
           "r2: the 6001st day is refused");
    is_int(v.rule, RATELIMIT_R2, "... by rule r2");
    is_int(v.remaining, 0, "... with nothing remaining");
    /* the first 1000 were taken in minute T0/60: they leave when minute
     * T0/60 + 61 begins */
    is_int(v.reset, T0 + 61 * 60, "... reset when the oldest slot leaves");
    is_int(v.retry_after, T0 + 61 * 60 - (T0 + 3000), "... Retry-After");

    is_int(ratelimit_take(rl, alice, 1500, T0 + 3000, &v), ERR_LIMIT,
           "r2: 1500 days need two slots to leave");
    is_int(v.reset, T0 + 600 + 61 * 60, "... reset when the second leaves");

    is_int(ratelimit_take(rl, bob, 1825, T0 + 3000, &v), 0,
           "another user has a bucket of its own");
    is_int(v.remaining, 6000 - 1825, "... counted apart");
    ratelimit_free(rl);
}

static void
test_rolling(void)
{
    struct ratelimit *rl = ratelimit_new(16);
    struct ratelimit_verdict v;
    int i = 0;

    for (i = 0; i < 4; i++) {
        ratelimit_take(rl, alice, 1500, T0 + 59, &v);
    }
    is_int(v.remaining, 0, "6000 days in the minute of T0");
    is_int(ratelimit_take(rl, alice, 1, T0 + 3600, &v), ERR_LIMIT,
           "an hour after the last take they still count");
    is_int(ratelimit_take(rl, alice, 1, T0 + 61 * 60 - 1, &v), ERR_LIMIT,
           "... up to the end of minute 60 after");
    is_int(ratelimit_take(rl, alice, 1, T0 + 61 * 60, &v), 0,
           "... and have left when minute 61 begins");
    is_int(v.remaining, 5999, "... all of them");

    is_int(ratelimit_take(rl, alice, 1000, T0 + 62 * 60, &v), 0,
           "later takes land in their own minutes");
    is_int(ratelimit_take(rl, alice, 1000, T0 + 90 * 60, &v), 0,
           "... half an hour later");
    is_int(v.remaining, 6000 - 2001, "... summed over the hour");
    is_int(ratelimit_take(rl, alice, 1, T0 + 123 * 60, &v), 0,
           "the first two have left an hour and a minute on");
    is_int(v.remaining, 6000 - 1001, "... the third still counts");
    is_int(ratelimit_take(rl, alice, 1, T0 + 300 * 60, &v), 0,
           "after a long pause");
    is_int(v.remaining, 5999, "... the bucket is empty again");

    is_int(ratelimit_take(rl, alice, 100, T0, &v), 0,
           "a clock set back still counts");
    is_int(v.remaining, 5899, "... in the newest minute");
    ratelimit_free(rl);
}

static void
test_eviction(void)
{
    struct ratelimit *rl = ratelimit_new(3);
    struct ratelimit_verdict v;
    char id[64];
    char long_id[300];
    int i = 0;

    ratelimit_take(rl, alice, 1825, T0, &v);
    ratelimit_take(rl, bob, 10, T0 + 60, &v);
    is_int(ratelimit_users(rl), 2, "two users counted");
    ratelimit_take(rl, bob, 10, T0 + 62 * 60, &v);
    is_int(ratelimit_users(rl), 1, "users whose hour emptied are dropped");
    ratelimit_take(rl, alice, 1, T0 + 62 * 60, &v);
    is_int(v.remaining, 5999, "... and start again from nothing");

    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "user-%d", i);
        ratelimit_take(rl, id, 1825, T0 + 63 * 60 + i, &v);
    }
    is_int(ratelimit_users(rl), 3, "past max_users the count stays bounded");
    ratelimit_take(rl, "user-4", 1, T0 + 64 * 60, &v);
    is_int(v.remaining, 6000 - 1826, "... the newest users are kept");
    ratelimit_take(rl, "user-0", 1, T0 + 64 * 60, &v);
    is_int(v.remaining, 5999,
           "... the least recently seen was dropped (its count forgotten)");

    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    ratelimit_take(rl, long_id, 1825, T0 + 65 * 60, &v);
    long_id[RATELIMIT_ID_MAX + 5] = '\0';
    ratelimit_take(rl, long_id, 1, T0 + 65 * 60, &v);
    is_int(v.remaining, 6000 - 1826,
           "a long id is counted by its first RATELIMIT_ID_MAX bytes");
    ratelimit_free(rl);
    ratelimit_free(NULL);
    ok(ratelimit_shared() == ratelimit_shared(), "one shared limiter");
}

struct hammer {
    struct ratelimit *rl;
    int passed;
};

static void *
hammer(void *arg)
{
    struct hammer *h = arg;
    struct ratelimit_verdict v;
    int i = 0;

    for (i = 0; i < 2000; i++) {
        if (ratelimit_take(h->rl, alice, 1, T0, &v) == 0) {
            h->passed++;
        }
    }
    return NULL;
}

static void
test_threads(void)
{
    struct hammer h[4];
    pthread_t t[4];
    int passed = 0;
    int i = 0;

    h[0].rl = ratelimit_new(16);
    for (i = 0; i < 4; i++) {
        h[i].rl = h[0].rl;
        h[i].passed = 0;
        pthread_create(&t[i], NULL, hammer, &h[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        passed += h[i].passed;
    }
    is_int(passed, 6000, "four threads: exactly 6000 one-day takes pass");
    ratelimit_free(h[0].rl);
}

int
main(void)
{
    test_window();
    test_hour();
    test_rolling();
    test_eviction();
    test_threads();
    return done_testing();
}
