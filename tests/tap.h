/*
 * tap.h - Test Anything Protocol output for the C unit tests.
 *
 *     int main(void) {
 *         ok(1 + 1 == 2, "addition");
 *         is_str(got, "want", "name");
 *         return done_testing();
 *     }
 *
 * Runs under `prove`. A failing check prints what was expected and what
 * came instead as TAP diagnostics.
 */
#ifndef FERRY_TESTS_TAP_H
#define FERRY_TESTS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_run;
static int tap_failed;

static int
tap_ok(int pass, const char *name, const char *file, int line)
{
    tap_run++;
    printf("%sok %d - %s\n", pass ? "" : "not ", tap_run, name);
    if (!pass) {
        tap_failed++;
        printf("#   Failed test '%s'\n#   at %s line %d.\n", name, file, line);
    }
    fflush(stdout);
    return pass;
}

#define ok(cond, name) tap_ok((cond) ? 1 : 0, (name), __FILE__, __LINE__)

#define is_int(got, want, name)                                                \
    do {                                                                       \
        long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);       \
        if (!ok(tap_g_ == tap_w_, name)) {                                     \
            printf("#          got: %lld\n#     expected: %lld\n", tap_g_,     \
                   tap_w_);                                                    \
        }                                                                      \
    } while (0)

#define is_str(got, want, name)                                                \
    do {                                                                       \
        const char *tap_g_ = (got), *tap_w_ = (want);                          \
        int tap_p_ =                                                           \
            (tap_g_ == NULL && tap_w_ == NULL) ||                              \
            (tap_g_ != NULL && tap_w_ != NULL && strcmp(tap_g_, tap_w_) == 0); \
        if (!ok(tap_p_, name)) {                                               \
            printf("#          got: '%s'\n#     expected: '%s'\n",             \
                   tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");    \
        }                                                                      \
    } while (0)

#define is_mem(got, want, n, name) ok(memcmp((got), (want), (n)) == 0, name)

/* 1 when the `n` bytes at `p` are all zero. */
static int __attribute__((unused)) tap_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (b[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static int
done_testing(void)
{
    printf("1..%d\n", tap_run);
    return tap_failed == 0 ? 0 : 1;
}

#endif
