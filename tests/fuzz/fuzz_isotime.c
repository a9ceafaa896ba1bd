/*
 * fuzz_isotime.c - libFuzzer harness for the ISO-8601 parser.
 *
 * Any input either fails cleanly or parses to a time that formats and
 * parses back to the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    char out[ISOTIME_MAX];
    int64_t us = 0;
    int64_t back = 0;
    int off = 0;
    int off2 = 0;

    memcpy(s, data, n);
    s[n] = '\0';
    if (isotime_parse(s, &us, &off, NULL) == 0) {
        isotime_format(us, off == ISOTIME_NO_OFFSET ? 0 : off, out);
        if (isotime_parse(out, &back, &off2, NULL) != 0 || back != us) {
            abort();
        }
    }
    free(s);
    return 0;
}
