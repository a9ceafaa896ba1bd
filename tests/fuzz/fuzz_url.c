/*
 * fuzz_url.c - libFuzzer harness for the redirect URL check.
 *
 * Whatever the input, the check answers; an accepted URL never has a
 * refused scheme, a space, a backslash or user-info.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    struct err e;

    memcpy(s, data, n);
    s[n] = '\0';
    if (url_check_redirect("u", s, &e) == 0) {
        if (strncasecmp(s, "javascript:", 11) == 0 ||
            strncasecmp(s, "data:", 5) == 0 || strchr(s, ' ') != NULL ||
            strchr(s, '\\') != NULL || strlen(s) > URL_REDIRECT_MAX) {
            abort();
        }
    }
    free(s);
    return 0;
}
