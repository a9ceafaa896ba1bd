/*
 * test_uuid.c - version-4 UUIDs and the validator.
 */
#include <stdlib.h>
#include <string.h>

#include "core/uuid.h"
#include "tap.h"

#define MANY 10000

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_shape(void)
{
    char u[UUID_STR_LEN];
    int good = 1;
    int i = 0;

    for (i = 0; i < 1000; i++) {
        uuid_v4(u);
        if (strlen(u) != 36 || !uuid_valid(u) || u[14] != '4' ||
            strchr("89ab", u[19]) == NULL ||
            strspn(u, "0123456789abcdef-") != 36) {
            good = 0;
            printf("# bad uuid: %s\n", u);
            break;
        }
    }
    ok(good, "1000 UUIDs: 36 lower-case chars, version 4, variant 10xx");
}

static void
test_unique(void)
{
    char(*all)[UUID_STR_LEN] = calloc(MANY, UUID_STR_LEN);
    int dup = 0;
    int i = 0;

    for (i = 0; i < MANY; i++) {
        uuid_v4(all[i]);
    }
    qsort(all, MANY, UUID_STR_LEN, cmp_str);
    for (i = 1; i < MANY; i++) {
        if (strcmp(all[i - 1], all[i]) == 0) {
            dup = 1;
        }
    }
    ok(!dup, "10000 UUIDs are all different");
    free(all);
}

static void
test_valid(void)
{
    static const char *const good[] = {
        "123e4567-e89b-12d3-a456-426614174000", /* version 1 */
        "00000000-0000-0000-0000-000000000000", /* nil */
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", /* max, upper case */
        "f47ac10b-58cc-4372-A567-0e02b2c3d479", /* mixed case */
    };
    static const char *const bad[] = {
        "",
        "123e4567-e89b-12d3-a456-42661417400",   /* short */
        "123e4567-e89b-12d3-a456-4266141740000", /* long */
        "123e4567e89b-12d3-a456-426614174000-",  /* dash misplaced */
        "123e4567-e89b-12d3-a456_426614174000",  /* not a dash */
        "123e4567-e89b-12d3-a456-42661417400g",  /* not hex */
        "{123e4567-e89b-12d3-a456-426614174000}",
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426614174000\n",
        " 123e4567-e89b-12d3-a456-426614174000",
        "123e4567e89b12d3a456426614174000",
    };
    size_t i = 0;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        is_int(uuid_valid(good[i]), 1, good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[80];

        snprintf(name, sizeof(name), "rejected: '%s'", bad[i]);
        is_int(uuid_valid(bad[i]), 0, name);
    }
    is_int(uuid_valid(NULL), 0, "NULL is not a UUID");
}

int
main(void)
{
    test_shape();
    test_unique();
    test_valid();
    return done_testing();
}
