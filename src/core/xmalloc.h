/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Out of memory is not a condition ferry tries to survive: these wrappers
 * log and abort, the supervisor restarts the process, and callers stay
 * free of NULL checks for heap memory. Sizes that come from outside must
 * be bounded before they reach these functions.
 */
#ifndef FERRY_CORE_XMALLOC_H
#define FERRY_CORE_XMALLOC_H

#include <stddef.h>

/* Like malloc(); never NULL. Caller frees with free(). */
void *xmalloc(size_t n);
/* Like calloc(); checks nmemb * size for overflow; never NULL. */
void *xcalloc(size_t nmemb, size_t size);
/* Like realloc(); never NULL. */
void *xrealloc(void *p, size_t n);
/* Copy of the string `s`; NULL gives NULL. Caller frees. */
char *xstrdup(const char *s);
/* Copy of the first `n` bytes of `s`, NUL-terminated. Caller frees. */
char *xstrndup(const char *s, size_t n);

#endif
