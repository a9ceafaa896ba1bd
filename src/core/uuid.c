/*
 * uuid.c - version-4 UUIDs.
 */
#include <stddef.h>

#include "core/rng.h"
#include "core/uuid.h"

static const char hex_digits[] = "0123456789abcdef";

/* A dash goes before the bytes at these offsets. */
static int
dash_before(size_t i)
{
    return i == 4 || i == 6 || i == 8 || i == 10;
}

void
uuid_v4(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    size_t i = 0;
    char *o = out;

    rng_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
    for (i = 0; i < sizeof(b); i++) {
        if (dash_before(i)) {
            *o++ = '-';
        }
        *o++ = hex_digits[b[i] >> 4];
        *o++ = hex_digits[b[i] & 0x0f];
    }
    *o = '\0';
}

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

int
uuid_valid(const char *s)
{
    size_t i = 0;

    if (s == NULL) {
        return 0;
    }
    for (i = 0; i < UUID_STR_LEN - 1; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (s[i] == '\0') {
            return 0;
        }
        if (dash ? s[i] != '-' : !is_hex(s[i])) {
            return 0;
        }
    }
    return s[i] == '\0';
}
