/*
 * test_jsonw.c - jsonw_add() against the jansson ferry links with: for
 * every value, the bytes json_dumps() makes with JSON_COMPACT |
 * JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY. Scalars at their edges,
 * reals by the million (random bits, decimals, powers of ten and their
 * neighbours, halfway cases), every escape, strings across the writer's
 * chunks, random trees, the fixtures; then what jsonw_add() refuses
 * (bad UTF-8, cycles, depth) and the buffer's ceiling.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "tap.h"

#define FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

static uint64_t rng_state = UINT64_C(0x243f6a8885a308d3);

/* xorshift64*: a fixed sequence, so a failure repeats */
static uint64_t
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static int mismatches;

/* 1 when jsonw_add() writes what json_dumps() does for `v` (borrowed);
 * the first few differences are printed. */
static int
same(const json_t *v)
{
    char *want = json_dumps(v, FLAGS);
    struct buf b;
    int rc = 0;
    int eq = 0;

    buf_init(&b, 1u << 30);
    rc = jsonw_add(&b, v);
    eq = want != NULL && rc == 0 && strcmp(want, buf_str(&b)) == 0 &&
         strlen(want) == b.len;
    if (!eq && mismatches++ < 10) {
        printf("#   jansson: %.200s\n#   jsonw:   %.200s (rc %d)\n",
               want != NULL ? want : "(fails)", buf_str(&b), rc);
    }
    free(want);
    buf_release(&b);
    return eq;
}

/* same() for a value made here, which it takes. */
static int
same_take(json_t *v)
{
    int eq = v != NULL && same(v);

    json_decref(v);
    return eq;
}

static void
test_scalars(void)
{
    static const json_int_t ints[] = {
        0,
        1,
        -1,
        9,
        10,
        -10,
        99,
        100,
        12345,
        -12345,
        2147483647,
        -214748364,
        1000000000,
        INT64_MAX,
        INT64_MIN,
        INT64_MAX - 1,
        INT64_MIN + 1,
        999999999999999999LL,
    };
    size_t i = 0;
    int all = 1;

    ok(same_take(json_null()), "null");
    ok(same_take(json_true()), "true");
    ok(same_take(json_false()), "false");
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        all &= same_take(json_integer(ints[i]));
    }
    for (i = 0; i < 100000; i++) {
        all &= same_take(json_integer((json_int_t)rnd() >> (rnd() % 64)));
    }
    ok(all, "integers, the extremes included");
}

static void
test_reals(void)
{
    static const double edge[] = {
        0.0,
        -0.0,
        1.0,
        -1.0,
        100.0,
        0.5,
        0.1,
        0.1 + 0.2,
        1.0 / 3,
        2.0 / 3,
        57.7,
        -0.18,
        14.625,
        1e15,
        1e16,
        1e17,
        1e21,
        1e22,
        1e23,
        1e-4,
        1e-5,
        0.00012345,
        0.000099999999999999999,
        999999999999999.0,
        999999999999999.4,
        999999999999999.5,
        99999999999999.95,
        9999999999999999.0,
        123456789012345678.0,
        12345678901234567.0,
        1234567890123456.7,
        4.9406564584124654e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        0.30000000000000004,
        9007199254740993.0,
        1.5e-7,
        2.5e300,
    };
    size_t i = 0;
    int k = 0;
    int all = 1;

    for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        all &= same_take(json_real(edge[i]));
    }
    ok(all, "reals at the edges of the formats");

    /* every power of ten, and the doubles next to it */
    all = 1;
    for (k = -320; k <= 308; k++) {
        double p = pow(10, k);

        all &= same_take(json_real(p));
        all &= same_take(json_real(nextafter(p, 0)));
        all &= same_take(json_real(nextafter(p, INFINITY)));
        all &= same_take(json_real(-p));
    }
    ok(all, "powers of ten and their neighbours");

    /* random bit patterns: every exponent */
    all = 1;
    for (i = 0; i < 400000; i++) {
        uint64_t u = rnd();
        double v = 0;

        memcpy(&v, &u, sizeof(v));
        if (isfinite(v)) {
            all &= same_take(json_real(v));
        }
    }
    ok(all, "random doubles");

    /* what samples hold: few decimals, at any scale */
    all = 1;
    for (i = 0; i < 400000; i++) {
        double v = (double)(int64_t)(rnd() % 2000000001) - 1e9;

        all &= same_take(json_real(v / pow(10, (double)(rnd() % 19))));
    }
    ok(all, "decimals");

    /* 15 significant digits and a half: the rounding of printf() */
    all = 1;
    for (i = 0; i < 200000; i++) {
        double n = (double)(rnd() % 900000000000000) + 100000000000000.0;
        double v = (n + 0.5) / pow(10, (double)(rnd() % 22));

        all &= same_take(json_real(v));
        all &= same_take(json_real(nextafter(v, 0)));
        all &= same_take(json_real(nextafter(v, INFINITY)));
    }
    ok(all, "halfway between two 15-digit values");
}

static void
test_strings(void)
{
    char all_bytes[128];
    char *big = NULL;
    size_t i = 0;
    int all = 1;

    ok(same_take(json_string("")), "the empty string");
    ok(same_take(json_string("plain text, / and ~ and \x7f")),
       "ASCII with '/' and DEL as they are");
    ok(same_take(json_string("\"quoted\" and \\back\\")), "'\"' and '\\'");
    ok(same_take(json_string("\b\f\n\r\t")), "escapes by name");
    ok(same_take(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")),
       "two, three and four-byte UTF-8 as it is");
    ok(same_take(json_stringn("a\0b", 3)), "an embedded NUL");
    for (i = 0; i < sizeof(all_bytes); i++) {
        all_bytes[i] = (char)i;
    }
    ok(same_take(json_stringn(all_bytes, sizeof(all_bytes))),
       "every ASCII byte, the controls as \\u00XX");

    /* long strings, escapes and multi-byte characters at every place of
     * the writer's 16 KiB chunks */
    big = malloc(70000);
    for (i = 0; i < 200 && all; i++) {
        size_t n = 16000 + rnd() % 50000;
        size_t j = 0;

        for (j = 0; j < n; j++) {
            unsigned r = (unsigned)(rnd() % 100);

            big[j] = r < 3 ? '"' : r < 6 ? '\n' : r < 8 ? '\x01' : 'a';
            if (r >= 97 && j + 3 < n) {
                memcpy(big + j, "\xe2\x82\xac", 3);
                j += 2;
            }
        }
        all &= same_take(json_stringn(big, n));
    }
    free(big);
    ok(all, "long strings across chunks");

    all = 1;
    for (i = 0; i < 20000; i++) {
        char s[24];
        size_t n = rnd() % sizeof(s);
        size_t j = 0;
        json_t *v = NULL;

        for (j = 0; j < n; j++) {
            s[j] = (char)(rnd() % 256);
        }
        v = json_stringn(s, n); /* NULL unless it is UTF-8 */
        if (v != NULL) {
            all &= same_take(v);
        }
    }
    ok(all, "random bytes that are UTF-8");
}

/* A random value `depth` levels deep at most. */
static json_t *
random_value(int depth)
{
    static const char *const keys[] = {
        "timestamp", "bpm", "a", "", "k\"ey", "\n", "\xc3\xa9t\xc3\xa9"};
    unsigned kind = (unsigned)(rnd() % (depth > 0 ? 8 : 6));
    json_t *v = NULL;
    size_t n = 0;
    size_t i = 0;

    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd() % 2);
    case 2:
        return json_integer((json_int_t)rnd() >> (rnd() % 64));
    case 3:
        return json_real((double)(int64_t)(rnd() % 100000) / 10.0);
    case 4:
        return json_real(
            ldexp((double)(rnd() >> 11), (int)(rnd() % 200) - 100));
    case 5:
        return json_string(keys[rnd() % 7]);
    case 6:
        v = json_array();
        n = rnd() % 6;
        for (i = 0; i < n; i++) {
            json_array_append_new(v, random_value(depth - 1));
        }
        return v;
    default:
        v = json_object();
        n = rnd() % 6;
        for (i = 0; i < n; i++) {
            char key[32];

            snprintf(key, sizeof(key), "%s%zu", keys[rnd() % 7], i);
            json_object_set_new(v, key, random_value(depth - 1));
        }
        return v;
    }
}

static void
test_trees(void)
{
    json_t *o = json_object();
    json_t *deep = json_array();
    json_t *inner = deep;
    int all = 1;
    int i = 0;

    ok(same_take(json_object()), "{}");
    ok(same_take(json_array()), "[]");
    json_object_set_new(o, "z", json_integer(1));
    json_object_set_new(o, "a", json_integer(2));
    json_object_set_new(o, "m", json_pack("[{}, [], {s:n}]", "x"));
    json_object_setn_new(o, "nul\0key", 7, json_true());
    ok(same(o), "members in the order they were set, a key with a NUL");
    json_decref(o);

    for (i = 0; i < 100; i++) {
        json_t *next = json_array();

        json_array_append_new(inner, next);
        inner = next;
    }
    ok(same_take(deep), "100 levels");

    for (i = 0; i < 3000; i++) {
        all &= same_take(random_value(6));
    }
    ok(all, "random trees");
}

/* Every .json file under `dir`, compared; -1 when it cannot be read. */
static int
fixtures_in(const char *dir, int *files)
{
    struct dirent *de = NULL;
    DIR *d = opendir(dir);
    int all = 1;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[512];
        size_t n = strlen(de->d_name);
        json_t *v = NULL;

        if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        v = json_load_file(path, JSON_DECODE_ANY, NULL);
        if (v != NULL) {
            all &= same_take(v);
            (*files)++;
        }
    }
    closedir(d);
    return all;
}

static void
test_fixtures(void)
{
    static const char *const dirs[] = {"tests/fixtures/oura",
                                       "tests/fixtures/withings",
                                       "tests/fixtures/garmin"};
    size_t i = 0;
    int files = 0;
    int all = 1;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        all &= fixtures_in(dirs[i], &files) == 1;
    }
    ok(all && files > 20, "the provider fixtures (run from the top)");
}

/* 1 when jsonw_add() refuses `v` (taken) with `rc`, leaving the text a
 * buffer held, and json_dumps() fails on it too (unless `dumps_ok`). */
static int
refused(json_t *v, int rc, int dumps_ok)
{
    char *want = json_dumps(v, FLAGS);
    struct buf b;
    int got = 0;
    int pass = 0;

    buf_init(&b, 1u << 20);
    buf_addstr(&b, "kept");
    got = jsonw_add(&b, v);
    pass = got == rc && strcmp(buf_str(&b), "kept") == 0 && b.len == 4 &&
           (dumps_ok || want == NULL);
    if (!pass) {
        printf("#   rc %d, buffer '%.40s', json_dumps %s\n", got, buf_str(&b),
               want != NULL ? "writes it" : "fails");
    }
    free(want);
    buf_release(&b);
    json_decref(v);
    return pass;
}

/* `n` arrays, each in the one before. */
static json_t *
nested(int n)
{
    json_t *top = json_array();
    json_t *inner = top;
    int i = 0;

    for (i = 1; i < n; i++) {
        json_t *next = json_array();

        json_array_append_new(inner, next);
        inner = next;
    }
    return top;
}

static void
test_refusals(void)
{
    json_t *a = json_array();
    json_t *o = json_object();
    struct buf b;
    json_t *v = NULL;
    int rc = 0;

    ok(refused(NULL, ERR_INVALID, 0), "NULL");
    ok(refused(json_stringn_nocheck("bad \xff!", 6), ERR_INVALID, 0),
       "a string that is not UTF-8");
    ok(refused(json_stringn_nocheck("ab\xe2\x82", 4), ERR_INVALID, 0),
       "a sequence cut at the end");
    ok(refused(json_stringn_nocheck("\xed\xa0\x80", 3), ERR_INVALID, 0),
       "a surrogate");
    ok(refused(json_stringn_nocheck("\xc0\x80", 2), ERR_INVALID, 0),
       "an overlong form");
    v = json_object();
    json_object_set_new_nocheck(v, "k\xc0", json_true());
    /* jansson writes such a key as a lone '"': not JSON */
    ok(refused(json_pack("[i, o]", 1, v), ERR_INVALID, 1),
       "a key that is not UTF-8");

    /* a -> o -> a */
    json_array_append(a, o);
    json_object_set(o, "a", a);
    ok(refused(json_incref(a), ERR_INVALID, 0), "a value that holds itself");
    json_object_del(o, "a");
    json_decref(o);
    json_decref(a);

    ok(same_take(nested(JSONW_DEPTH_MAX + 1)), "JSONW_DEPTH_MAX levels down");
    ok(refused(nested(JSONW_DEPTH_MAX + 2), ERR_INVALID, 1),
       "one more is refused (json_dumps has no limit)");

    /* the ceiling */
    buf_init(&b, 10);
    buf_addstr(&b, "kept");
    v = json_string("longer than six");
    is_int(jsonw_add(&b, v), ERR_TOOBIG, "past the ceiling");
    is_str(buf_str(&b), "kept", "... the buffer as it was");
    json_decref(v);
    buf_release(&b);
    buf_init(&b, 20000);
    buf_addstr(&b, "kept");
    v = json_array();
    for (rc = 0; rc < 3000; rc++) {
        json_array_append_new(v, json_string("0123456789"));
    }
    is_int(jsonw_add(&b, v), ERR_TOOBIG, "past it after a chunk went in");
    is_str(buf_str(&b), "kept", "... the buffer as it was");
    json_decref(v);
    buf_reset(&b);
    buf_addstr(&b, "[0],");
    v = json_pack("[i]", 1);
    is_int(jsonw_add(&b, v), 0, "appended");
    is_str(buf_str(&b), "[0],[1]", "... after what was there");
    json_decref(v);
    buf_release(&b);
}

/* jsonw_add_integer() and jsonw_add_real() write what jsonw_add() does
 * for the jansson value. */
static void
test_numbers_alone(void)
{
    static const double reals[] = {0.0,
                                   -0.0,
                                   1.0,
                                   0.1,
                                   57.7,
                                   1e15,
                                   1e-7,
                                   1.7976931348623157e308,
                                   0.30000000000000004};
    static const json_int_t ints[] = {0, -1, 42, INT64_MAX, INT64_MIN};
    struct buf b;
    size_t i = 0;
    int all = 1;

    buf_init(&b, 1024);
    for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *v = json_real(reals[i]);
        char *want = json_dumps(v, FLAGS);

        buf_reset(&b);
        all &= jsonw_add_real(&b, reals[i]) == 0 && want != NULL &&
               strcmp(buf_str(&b), want) == 0;
        free(want);
        json_decref(v);
    }
    ok(all, "reals alone");
    all = 1;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *v = json_integer(ints[i]);
        char *want = json_dumps(v, FLAGS);

        buf_reset(&b);
        all &= jsonw_add_integer(&b, ints[i]) == 0 && want != NULL &&
               strcmp(buf_str(&b), want) == 0;
        free(want);
        json_decref(v);
    }
    ok(all, "integers alone");
    buf_reset(&b);
    buf_addstr(&b, "x");
    is_int(jsonw_add_real(&b, INFINITY), ERR_INVALID, "infinity refused");
    is_int(jsonw_add_real(&b, NAN), ERR_INVALID, "NaN refused");
    is_str(buf_str(&b), "x", "nothing added");
    buf_release(&b);
}

/* Splices: the values named are written as their text, wherever they
 * are; a splice of a value not in the tree changes nothing. */
static void
test_splices(void)
{
    json_t *root = json_loads("{\"a\":[null],\"b\":{\"c\":[1,2],\"d\":{}},"
                              "\"e\":[[null]]}",
                              0, NULL);
    json_t *other = json_array();
    struct jsonw_splice sp[4];
    struct buf b;

    memset(sp, 0, sizeof(sp));
    sp[0].at = json_object_get(root, "a");
    sp[0].text = "[{\"t\":1},{\"t\":2}]";
    sp[0].len = strlen(sp[0].text);
    sp[1].at = json_object_get(json_object_get(root, "b"), "d");
    sp[1].text = "{\"x\":true}";
    sp[1].len = strlen(sp[1].text);
    sp[2].at = json_array_get(json_object_get(root, "e"), 0);
    sp[2].text = "[3]";
    sp[2].len = strlen(sp[2].text);
    sp[3].at = other;
    sp[3].text = "!";
    sp[3].len = 1;
    buf_init(&b, 1024);
    is_int(jsonw_add_spliced(&b, root, sp, 4), 0, "spliced");
    is_str(buf_str(&b),
           "{\"a\":[{\"t\":1},{\"t\":2}],\"b\":{\"c\":[1,2],"
           "\"d\":{\"x\":true}},\"e\":[[3]]}",
           "arrays and objects at any depth written as their text");
    buf_reset(&b);
    is_int(jsonw_add_spliced(&b, root, NULL, 4), 0, "no splices");
    is_str(buf_str(&b),
           "{\"a\":[null],\"b\":{\"c\":[1,2],\"d\":{}},\"e\":[[null]]}",
           "the tree as it is");
    buf_reset(&b);
    sp[0].at = root;
    is_int(jsonw_add_spliced(&b, root, sp, 1), 0, "the root spliced");
    is_str(buf_str(&b), "[{\"t\":1},{\"t\":2}]", "the root's text");
    buf_release(&b);
    buf_init(&b, 8);
    buf_addstr(&b, "x");
    is_int(jsonw_add_spliced(&b, root, sp, 1), ERR_TOOBIG,
           "a text past the ceiling");
    is_str(buf_str(&b), "x", "nothing added");
    buf_release(&b);
    json_decref(other);
    json_decref(root);
}

int
main(void)
{
    test_scalars();
    test_reals();
    test_strings();
    test_trees();
    test_fixtures();
    test_refusals();
    test_numbers_alone();
    test_splices();
    return done_testing();
}
