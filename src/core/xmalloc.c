/*
 * xmalloc.c - allocation that aborts on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static void
oom(size_t n)
{
    fprintf(stderr, "level=crit mod=core event=out_of_memory bytes=%zu\n", n);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);

    if (p == NULL) {
        oom(n);
    }
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = NULL;

    if (size != 0 && nmemb > (size_t)-1 / size) {
        oom((size_t)-1);
    }
    p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
    if (p == NULL) {
        oom(nmemb * size);
    }
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);

    if (q == NULL) {
        oom(n);
    }
    return q;
}

char *
xstrdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
