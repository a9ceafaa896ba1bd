/*
 * uuid.h - random (version 4) UUIDs in their canonical text form.
 *
 * ferry's object ids (users, connections, reference ids) are UUIDs
 * written as 36 characters, 8-4-4-4-12 hex digits with dashes.
 */
#ifndef FERRY_CORE_UUID_H
#define FERRY_CORE_UUID_H

/* Size of a UUID string including its NUL. */
#define UUID_STR_LEN 37

/*
 * Write a fresh random version-4 UUID (RFC 9562 section 5.4: version
 * nibble 4, variant bits 10) to `out` in lower case, NUL-terminated.
 * Draws from rng_bytes(), so it cannot fail.
 */
void uuid_v4(char out[UUID_STR_LEN]);

/*
 * 1 when the NUL-terminated `s` is a UUID in canonical form - exactly
 * 8-4-4-4-12 hex digits of either case with dashes between - else 0 (also
 * for NULL). Any version and variant is accepted; no braces, no "urn:".
 */
int uuid_valid(const char *s);

#endif
