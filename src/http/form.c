/*
 * form.c - parse form bodies (see form.h).
 */
#include <string.h>

#include "core/codec.h"
#include "core/utf8.h"
#include "http/form.h"

/* Decode `n` bytes at `s` into a new arena string. */
static int
decode(const char *s, size_t n, struct arena *a, const char **out,
       struct err *e)
{
    char *d = arena_alloc(a, n + 1);

    if (d == NULL) {
        return err_set(e, ERR_NOMEM, "form: out of request memory");
    }
    if (codec_pct_decode(s, n, d, 1) < 0) {
        return err_set(e, ERR_INVALID,
                       "body: a bad %% escape or a NUL in a field");
    }
    if (!utf8_valid(d)) {
        return err_set(e, ERR_INVALID, "body: a field is not UTF-8");
    }
    *out = d;
    return 0;
}

int
http_form_parse(const char *body, size_t len, struct arena *a,
                struct http_form *out, struct err *e)
{
    size_t i = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    while (i < len && rc == 0) {
        const char *pair = body + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t plen = amp != NULL ? (size_t)(amp - pair) : len - i;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq != NULL ? (size_t)(eq - pair) : plen;
        struct http_form_field *f = &out->fields[out->n];

        i += plen + 1;
        if (plen == 0) {
            continue;
        }
        if (out->n == HTTP_FORM_MAX_FIELDS) {
            return err_set(e, ERR_INVALID, "body: more than %d fields",
                           HTTP_FORM_MAX_FIELDS);
        }
        rc = decode(pair, nlen, a, &f->name, e);
        if (rc == 0) {
            rc = eq != NULL ? decode(eq + 1, plen - nlen - 1, a, &f->value, e)
                            : decode("", 0, a, &f->value, e);
        }
        if (rc == 0) {
            out->n++;
        }
    }
    return rc;
}

const char *
http_form_get(const struct http_form *f, const char *name, int *dup)
{
    const char *v = NULL;
    size_t i;

    if (dup != NULL) {
        *dup = 0;
    }
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->fields[i].name, name) != 0) {
            continue;
        }
        if (v != NULL && dup != NULL) {
            *dup = 1;
        }
        if (v == NULL) {
            v = f->fields[i].value;
        }
    }
    return v;
}
