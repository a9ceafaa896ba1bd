/*
 * utf8.c - UTF-8 well-formedness (RFC 3629).
 */
#include "core/utf8.h"

size_t
utf8_seq_len(const unsigned char *p)
{
    size_t n = 0;
    size_t i = 0;
    unsigned cp = 0;

    if (p[0] < 0x80) {
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        /* a NUL is not a continuation byte: the loop stops at the end */
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    return n;
}

int
utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        size_t n = utf8_seq_len(p);

        if (n == 0) {
            return 0;
        }
        p += n;
    }
    return 1;
}

int
utf8_has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        size_t n = utf8_seq_len(p);

        if (n == 0 || *p < 0x20 || *p == 0x7f ||
            (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
            return 1;
        }
        p += n;
    }
    return 0;
}

void
utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p != '\0') {
        size_t n = utf8_seq_len(p);

        if (n == 0) {
            *p++ = '?';
        } else {
            p += n;
        }
    }
}
