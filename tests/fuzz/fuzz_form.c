/*
 * fuzz_form.c - libFuzzer harness for the form body parser.
 *
 * Whatever the input, the parser answers; an accepted form has at most
 * HTTP_FORM_MAX_FIELDS fields, each name and value valid UTF-8 with no
 * NUL inside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "http/form.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    struct arena a;
    struct http_form f;
    size_t i;

    arena_init(&a, 1 << 20);
    if (http_form_parse((const char *)data, n, &a, &f, NULL) == 0) {
        if (f.n > HTTP_FORM_MAX_FIELDS) {
            abort();
        }
        for (i = 0; i < f.n; i++) {
            if (!utf8_valid(f.fields[i].name) ||
                !utf8_valid(f.fields[i].value)) {
                abort();
            }
        }
        (void)http_form_get(&f, "csrf", NULL);
    }
    arena_release(&a);
    return 0;
}
