/*
 * buf.h - a growable byte buffer with a ceiling.
 *
 * Every buffer is created with a maximum size; an append that would pass
 * it fails with ERR_TOOBIG and leaves the buffer as it was. The contents
 * are always NUL-terminated (the NUL is not counted in `len`), so text can
 * be used directly as a C string.
 *
 *     struct buf b;
 *     buf_init(&b, 64 * 1024);
 *     if (buf_add(&b, p, n) < 0) ...
 *     buf_release(&b);
 */
#ifndef FERRY_CORE_BUF_H
#define FERRY_CORE_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append; then NUL-terminated */
    size_t len; /* bytes in use, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* ceiling for len */
};

/* Set up an empty buffer that may hold at most `max` bytes. */
void buf_init(struct buf *b, size_t max);

/* Free the contents and leave `b` empty (it may be reused). */
void buf_release(struct buf *b);

/* Drop the contents but keep the allocation. */
void buf_reset(struct buf *b);

/* Append `n` bytes. 0, or ERR_TOOBIG when `max` would be passed. */
int buf_add(struct buf *b, const void *p, size_t n);

/* Append a C string. Same errors as buf_add(). */
int buf_addstr(struct buf *b, const char *s);

/* Append one byte. Same errors as buf_add(). */
int buf_addch(struct buf *b, char c);

/* Append printf-formatted text. Same errors as buf_add(). */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Hand the contents to the caller, who frees them with free(); `b` is left
 * empty. Never NULL: an empty buffer gives "". `len` (may be NULL) gets the
 * length.
 */
char *buf_detach(struct buf *b, size_t *len);

/* The contents as a C string; "" when empty. Borrowed. */
const char *buf_str(const struct buf *b);

#endif
