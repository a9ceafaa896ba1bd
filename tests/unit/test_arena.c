/*
 * test_arena.c - the per-request arena.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "tap.h"

static int
aligned(const void *p)
{
    return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void
test_alloc(void)
{
    struct arena a;
    unsigned char *p = NULL;
    unsigned char *q = NULL;
    size_t i = 0;
    int good = 1;

    arena_init(&a, 1 << 20);
    p = arena_alloc(&a, 100);
    ok(p != NULL, "alloc");
    ok(tap_all_zero(p, 100), "memory is zero-filled");
    memset(p, 0xaa, 100);
    q = arena_alloc(&a, 100);
    ok(q != NULL && tap_all_zero(q, 100), "the next block is zeroed too");
    ok(q >= p + 100 || q + 100 <= p, "blocks do not overlap");

    for (i = 1; i < 200; i++) {
        p = arena_alloc(&a, i);
        if (p == NULL || !aligned(p) || !tap_all_zero(p, i)) {
            good = 0;
        }
        if (p != NULL) {
            memset(p, 0xff, i);
        }
    }
    ok(good, "allocations of 1..199 bytes are aligned and zeroed");

    p = arena_alloc(&a, 10000);
    ok(p != NULL && aligned(p) && tap_all_zero(p, 10000),
       "a block bigger than a chunk");
    p = arena_alloc(&a, 0);
    ok(p != NULL, "a zero-size allocation gives a pointer");
    arena_release(&a);
    ok(a.head == NULL && a.used == 0, "release empties the arena");
    p = arena_alloc(&a, 10);
    ok(p != NULL, "the arena is usable after release");
    arena_release(&a);
}

static void
test_ceiling(void)
{
    struct arena a;
    void *p = NULL;
    size_t total = 0;
    int n = 0;

    arena_init(&a, 64 * 1024);
    ok(arena_alloc(&a, 64 * 1024 + 1) == NULL, "more than max is NULL");
    ok(arena_alloc(&a, (size_t)-1) == NULL, "SIZE_MAX is NULL");
    ok(arena_alloc(&a, (size_t)-1 - 8) == NULL, "near SIZE_MAX is NULL");
    for (;;) {
        p = arena_alloc(&a, 1000);
        if (p == NULL) {
            break;
        }
        total += 1000;
        n++;
    }
    ok(total <= 64 * 1024, "no more than max bytes are handed out");
    ok(total >= 60 * 1000, "but nearly max bytes are");
    ok(a.used <= a.max, "used stays under the ceiling");
    ok(arena_alloc(&a, 1000) == NULL, "still NULL at the ceiling");
    arena_release(&a);

    /* a ceiling below one default chunk still hands out memory */
    arena_init(&a, 1024);
    p = arena_alloc(&a, 100);
    ok(p != NULL, "a 1 KiB arena gives out 100 bytes");
    ok(arena_alloc(&a, 2000) == NULL, "but not 2000");
    ok(a.used <= a.max, "used stays under a small ceiling");
    arena_release(&a);

    arena_init(&a, (size_t)-1);
    ok(arena_alloc(&a, (size_t)-1 - 8) == NULL,
       "no size overflow with an unbounded arena");
    ok(arena_alloc(&a, 64) != NULL, "an unbounded arena works");
    arena_release(&a);

    arena_init(&a, 0);
    ok(arena_alloc(&a, 1) == NULL, "max 0 gives nothing");
    arena_release(&a);
}

static void
test_strings(void)
{
    struct arena a;
    char *s = NULL;
    char big[3000];

    arena_init(&a, 1 << 16);
    s = arena_strdup(&a, "hello");
    is_str(s, "hello", "strdup");
    ok(arena_strdup(&a, NULL) == NULL, "strdup(NULL) is NULL");
    s = arena_strndup(&a, "hello world", 5);
    is_str(s, "hello", "strndup copies n bytes and terminates");
    s = arena_strndup(&a, "", 0);
    is_str(s, "", "strndup of 0 bytes");
    ok(arena_strndup(&a, NULL, 3) == NULL, "strndup(NULL) is NULL");
    s = arena_printf(&a, "%s-%d-%05.2f", "id", 7, 2.5);
    is_str(s, "id-7-02.50", "printf");
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = arena_printf(&a, "%s%s", big, big);
    ok(s != NULL && strlen(s) == 2 * (sizeof(big) - 1),
       "printf of 6 KB spans chunks");
    arena_release(&a);

    arena_init(&a, 2000);
    ok(arena_printf(&a, "%s", big) == NULL, "printf past the ceiling is NULL");
    ok(arena_strdup(&a, big) == NULL, "strdup past the ceiling is NULL");
    s = arena_strdup(&a, "fits");
    is_str(s, "fits", "a small string still fits after a refusal");
    arena_release(&a);
}

int
main(void)
{
    test_alloc();
    test_ceiling();
    test_strings();
    return done_testing();
}
