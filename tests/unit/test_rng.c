/*
 * test_rng.c - random bytes, tokens and numbers.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rng.h"
#include "tap.h"

#define TOKEN_CHARS                                                            \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static void
test_bytes(void)
{
    unsigned char a[32];
    unsigned char b[32];
    unsigned char big[4096];
    size_t counts[256];
    size_t i = 0;
    size_t seen = 0;

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    rng_bytes(a, sizeof(a));
    rng_bytes(b, sizeof(b));
    ok(memcmp(a, b, sizeof(a)) != 0, "two draws of 32 bytes differ");
    rng_bytes(a, 0);
    ok(1, "a draw of 0 bytes is allowed");

    memset(counts, 0, sizeof(counts));
    rng_bytes(big, sizeof(big));
    for (i = 0; i < sizeof(big); i++) {
        counts[big[i]]++;
    }
    for (i = 0; i < 256; i++) {
        seen += counts[i] > 0;
    }
    /* 4096 uniform bytes miss a given value with probability ~1e-7 */
    ok(seen >= 250, "4096 random bytes cover (almost) every value");
}

static void
test_token(void)
{
    char t[RNG_TOKEN_LEN(32) + 1];
    char u[RNG_TOKEN_LEN(32) + 1];
    char big[RNG_TOKEN_LEN(100) + 1];
    char tiny[RNG_TOKEN_LEN(1) + 1];
    char empty[1];
    size_t n = 0;
    int good = 1;

    is_int(RNG_TOKEN_LEN(32), 43, "32 bytes make 43 characters");
    is_int(RNG_TOKEN_LEN(16), 22, "16 bytes make 22 characters");
    rng_token(t, sizeof(t), 32);
    rng_token(u, sizeof(u), 32);
    is_int(strlen(t), 43, "token length");
    is_int(strspn(t, TOKEN_CHARS), 43, "token is base64url characters");
    ok(strcmp(t, u) != 0, "two tokens differ");

    /* longer than one internal chunk, and not a multiple of 3 */
    rng_token(big, sizeof(big), 100);
    is_int(strlen(big), RNG_TOKEN_LEN(100), "100-byte token length");
    is_int(strspn(big, TOKEN_CHARS), RNG_TOKEN_LEN(100),
           "100-byte token characters");

    rng_token(tiny, sizeof(tiny), 1);
    is_int(strlen(tiny), 2, "1-byte token is 2 characters");
    rng_token(empty, sizeof(empty), 0);
    is_str(empty, "", "0-byte token is empty");

    for (n = 0; n < 200 && good; n++) {
        char buf[RNG_TOKEN_LEN(64) + 1];

        rng_token(buf, RNG_TOKEN_LEN(n % 65) + 1, n % 65);
        good = strlen(buf) == RNG_TOKEN_LEN(n % 65) &&
               strspn(buf, TOKEN_CHARS) == strlen(buf);
    }
    ok(good, "tokens of 0..64 bytes fit RNG_TOKEN_LEN + 1 exactly");
}

/* rng_token() into too small a buffer must abort, not overflow. */
static void
test_token_bug(void)
{
    int status = 0;
    pid_t pid = fork();

    if (pid == 0) {
        char small[8];
        int fd = open("/dev/null", O_WRONLY);

        dup2(fd, STDERR_FILENO);
        rng_token(small, sizeof(small), 32);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
       "rng_token() with a short buffer calls BUG()");
}

static void
test_numbers(void)
{
    uint64_t a = rng_u64();
    uint64_t b = rng_u64();
    double sum = 0.0;
    double lo = 1.0;
    double hi = 0.0;
    int in_range = 1;
    int i = 0;

    ok(a != b, "two rng_u64() values differ");
    for (i = 0; i < 10000; i++) {
        double u = rng_unit();

        if (!(u >= 0.0 && u < 1.0)) {
            in_range = 0;
        }
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    ok(in_range, "rng_unit() stays in [0, 1)");
    /* the mean of 10000 uniforms has sd 0.0029; 0.03 is ten of them */
    ok(sum / 10000 > 0.47 && sum / 10000 < 0.53, "rng_unit() mean near 1/2");
    ok(lo < 0.01 && hi > 0.99, "rng_unit() reaches both ends");
}

int
main(void)
{
    test_bytes();
    test_token();
    test_token_bug();
    test_numbers();
    return done_testing();
}
