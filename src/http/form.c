/*
 * form.c - parse form bodies (see form.h).
 */
#include <string.h>

#include "core/utf8.h"
#include "http/form.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode `n` bytes at `s` into a new arena string. */
static int
decode(const char *s, size_t n, struct arena *a, const char **out,
       struct err *e)
{
    char *d = arena_alloc(a, n + 1);
    size_t i = 0;
    size_t j = 0;

    if (d == NULL) {
        return err_set(e, ERR_NOMEM, "form: out of request memory");
    }
    while (i < n) {
        if (s[i] == '+') {
            d[j++] = ' ';
            i++;
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                return err_set(e, ERR_INVALID, "body: a bad %% escape");
            }
            d[j] = (char)(hi * 16 + lo);
            if (d[j] == '\0') {
                return err_set(e, ERR_INVALID, "body: a field holds NUL");
            }
            j++;
            i += 3;
        } else {
            d[j++] = s[i++];
        }
    }
    d[j] = '\0';
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
