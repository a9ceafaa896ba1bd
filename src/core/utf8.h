/*
 * utf8.h - UTF-8 checks for text that came from outside.
 */
#ifndef FERRY_CORE_UTF8_H
#define FERRY_CORE_UTF8_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence that starts at `p` (1 for an
 * ASCII byte, 2 to 4 otherwise), or 0 when the bytes there are not one:
 * stray continuation bytes, overlong forms, surrogates and code points
 * past U+10FFFF are not. Reads no further than a NUL.
 */
size_t utf8_seq_len(const unsigned char *p);

/* 1 when the NUL-terminated `s` is well-formed UTF-8. */
int utf8_valid(const char *s);

/* 1 when `s` holds a C0 or C1 control character or DEL (U+0000-U+001F,
 * U+007F-U+009F). Bytes that are not UTF-8 count as control. */
int utf8_has_control(const char *s);

/* Replace, in place, every byte of `s` that is not part of a well-formed
 * sequence with '?', so the text can go into JSON. */
void utf8_sanitize(char *s);

#endif
