/*
 * buf.c - bounded growable buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

/* Make room for `n` more bytes plus the NUL. */
static int
grow(struct buf *b, size_t n)
{
    size_t want = 0;
    size_t cap = 0;

    if (n > b->max || b->len > b->max - n) {
        return ERR_TOOBIG;
    }
    want = b->len + n + 1;
    if (want <= b->cap) {
        return 0;
    }
    cap = b->cap == 0 ? 64 : b->cap;
    while (cap < want) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);

    if (rc < 0) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int
buf_addch(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    int rc = 0;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ERR_INVALID;
    }
    rc = grow(b, (size_t)n);
    if (rc < 0) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *
buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data;

    if (len != NULL) {
        *len = b->len;
    }
    if (p == NULL) {
        p = xstrdup("");
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *
buf_str(const struct buf *b)
{
    return b->data == NULL ? "" : b->data;
}
