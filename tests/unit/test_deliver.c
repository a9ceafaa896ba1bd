/*
 * test_deliver.c - terra-signature, the retry schedule, Retry-After.
 */
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "deliver/deliver.h"
#include "deliver/driver.h"
#include "deliver/sign.h"
#include "tap.h"

#define BODY "{\"type\":\"auth\"}"
#define T0   1700000000LL

/* HMAC-SHA256 hex of "1700000000." BODY, computed apart from ferry. */
#define MAC_NEW                                                                \
    "32d798bcf07c07dbfb278a8adbc5731d53cc3935f0e4d915c4d31c9ae6ea8ea4"
#define MAC_OLD                                                                \
    "91636442e30b804ed9e4d8499b52ef4f67971d2a3f3c0a91ebdd7c37f718e504"

static void
test_sign(void)
{
    char h[SIGN_HEADER_MAX];
    struct err e;

    sign_header("whsec_test", NULL, T0, BODY, strlen(BODY), h);
    is_str(h, "t=1700000000,v1=" MAC_NEW, "one secret: t and one v1");
    sign_header("whsec_test", "", T0, BODY, strlen(BODY), h);
    is_str(h, "t=1700000000,v1=" MAC_NEW, "an empty previous is none");
    sign_header("whsec_test", "old", T0, BODY, strlen(BODY), h);
    is_str(h, "t=1700000000,v1=" MAC_NEW ",v1=" MAC_OLD,
           "rotation: the new signature, then the old");

    err_clear(&e);
    is_int(sign_verify("whsec_test", h, BODY, strlen(BODY), T0, 300, &e), 0,
           "a receiver with the new secret verifies");
    is_int(sign_verify("old", h, BODY, strlen(BODY), T0 + 299, 300, &e), 0,
           "a receiver with the old secret verifies");
    is_int(sign_verify("other", h, BODY, strlen(BODY), T0, 300, &e),
           ERR_FORBIDDEN, "another secret does not");
    is_int(
        sign_verify("whsec_test", h, BODY "x", strlen(BODY) + 1, T0, 300, &e),
        ERR_FORBIDDEN, "a changed body does not");
    is_int(sign_verify("whsec_test", h, BODY, strlen(BODY), T0 + 301, 300, &e),
           ERR_FORBIDDEN, "a stale time does not");
    ok(strstr(e.msg, "away from now") != NULL, "... and says why");
    is_int(sign_verify("whsec_test", "v1=" MAC_NEW, BODY, strlen(BODY), T0, 300,
                       &e),
           ERR_INVALID, "no t=: malformed");
    is_int(sign_verify("whsec_test", "t=1700000000", BODY, strlen(BODY), T0,
                       300, &e),
           ERR_INVALID, "no v1=: malformed");
    is_int(sign_verify("whsec_test", "t=17x,v1=" MAC_NEW, BODY, strlen(BODY),
                       T0, 300, &e),
           ERR_INVALID, "t= not a number: malformed");
    is_int(sign_verify("whsec_test", "", BODY, strlen(BODY), T0, 300, &e),
           ERR_INVALID, "empty header: malformed");
    is_int(sign_verify("whsec_test", "t=1700000000,v0=abc,v1=" MAC_NEW, BODY,
                       strlen(BODY), T0, 300, &e),
           0, "unknown schemes are skipped");
}

static void
test_schedule(void)
{
    /* base 30, max 28800: 30, 60, 120, ... capped */
    is_int((int)(deliver_retry_delay(30, 28800, 1, 0, -1) / 1000000), 30,
           "retry 1: base");
    is_int((int)(deliver_retry_delay(30, 28800, 2, 0, -1) / 1000000), 60,
           "retry 2: doubled");
    is_int((int)(deliver_retry_delay(30, 28800, 5, 0, -1) / 1000000), 480,
           "retry 5: 30 * 2^4");
    is_int((int)(deliver_retry_delay(30, 28800, 10, 0, -1) / 1000000), 15360,
           "retry 10: 30 * 2^9");
    is_int((int)(deliver_retry_delay(30, 28800, 11, 0, -1) / 1000000), 28800,
           "retry 11: capped at max");
    is_int((int)(deliver_retry_delay(30, 28800, 400, 0, -1) / 1000000), 28800,
           "a huge n does not overflow");
    is_int((int)(deliver_retry_delay(30, 28800, 1, 1, -1) / 1000000), 33,
           "jitter +1: +10 %");
    is_int((int)(deliver_retry_delay(30, 28800, 1, -1, -1) / 1000000), 27,
           "jitter -1: -10 %");
    is_int((int)(deliver_retry_delay(30, 28800, 1, 5, -1) / 1000000), 33,
           "jitter is clamped");
    is_int((int)(deliver_retry_delay(30, 28800, 3, 0, 500) / 1000000), 500,
           "a longer Retry-After is honoured");
    is_int((int)(deliver_retry_delay(30, 100, 3, 0, 5000) / 1000000), 100,
           "... capped at max");
    is_int((int)(deliver_retry_delay(30, 28800, 3, 0, 2) / 1000000), 120,
           "a shorter one does not make the retry sooner");
    is_int((int)(deliver_retry_delay(1, 28800, 1, 0, 0) / 1000000), 1,
           "Retry-After: 0 keeps the schedule");
    is_int((int)(deliver_retry_delay(1, 28800, 1, 0, 2) / 1000000), 2,
           "Retry-After: 2 over a 1 s base: 2 s");
}

static void
test_retry_after(void)
{
    time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

    is_int((int)deliver_retry_after("2", now), 2, "delta seconds");
    is_int((int)deliver_retry_after("120 ", now), 120, "trailing space");
    is_int((int)deliver_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now), 60,
           "HTTP date");
    is_int((int)deliver_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), 0,
           "a date past: 0");
    is_int((int)deliver_retry_after("", now), -1, "empty: none");
    is_int((int)deliver_retry_after(NULL, now), -1, "absent: none");
    is_int((int)deliver_retry_after("soon", now), -1, "garbage: none");
    is_int((int)deliver_retry_after("5x", now), -1, "trailing garbage: none");
}

int
main(void)
{
    test_sign();
    test_schedule();
    test_retry_after();
    return done_testing();
}
