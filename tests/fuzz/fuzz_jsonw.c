/*
 * fuzz_jsonw.c - libFuzzer harness for the compact JSON writer.
 *
 * Whatever jansson parses from the input (NULs in strings allowed)
 * jsonw_add() writes byte for byte as json_dumps() does; and the input's
 * first eight bytes, read as a double, are written as jansson writes
 * that real.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/jsonw.h"

#define FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

static void
check(const json_t *v)
{
    char *want = json_dumps(v, FLAGS);
    struct buf b;

    buf_init(&b, 1u << 26);
    if (want == NULL || jsonw_add(&b, v) != 0 || b.len != strlen(want) ||
        memcmp(b.data, want, b.len) != 0) {
        abort();
    }
    buf_release(&b);
    free(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    json_t *v = json_loadb((const char *)data, n,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    double d = 0;

    if (v != NULL) {
        check(v);
        json_decref(v);
    }
    if (n >= sizeof(d)) {
        memcpy(&d, data, sizeof(d));
        v = isfinite(d) ? json_real(d) : NULL;
        if (v != NULL) {
            check(v);
            json_decref(v);
        }
    }
    return 0;
}
