/*
 * form.h - application/x-www-form-urlencoded bodies (HTML forms, OAuth
 * token requests).
 */
#ifndef FERRY_HTTP_FORM_H
#define FERRY_HTTP_FORM_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define HTTP_FORM_MAX_FIELDS 32

struct http_form_field {
    const char *name;  /* decoded, NUL-terminated */
    const char *value; /* decoded; may hold no NUL (refused) */
};

struct http_form {
    struct http_form_field fields[HTTP_FORM_MAX_FIELDS];
    size_t n;
};

/*
 * Parse `len` bytes of `body`: name=value pairs joined by '&', '+' for a
 * space, %XX escapes. Names and values are decoded into `a`. ERR_INVALID
 * for a bad escape, a decoded NUL, text that is not UTF-8 or more than
 * HTTP_FORM_MAX_FIELDS fields; ERR_NOMEM when `a` is full.
 */
int http_form_parse(const char *body, size_t len, struct arena *a,
                    struct http_form *out, struct err *e);

/*
 * The value of the field `name`, or NULL when absent. `*dup` (may be
 * NULL) is set to 1 when the field is given more than once.
 */
const char *http_form_get(const struct http_form *f, const char *name,
                          int *dup);

#endif
