/*
 * sign.h - the terra-signature header of a webhook, made and checked.
 *
 *     terra-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 *                      t + "." + body)>[,v1=<hex ...>]
 *
 * The body is the exact bytes sent. While a rotated-out secret is in its
 * grace period a second v1 value made with it follows the first, and a
 * receiver accepts the message when any v1 value matches its secret.
 */
#ifndef FERRY_DELIVER_SIGN_H
#define FERRY_DELIVER_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Room for a header value with two signatures, NUL included. */
#define SIGN_HEADER_MAX 192

/*
 * The header value for `body` (`n` bytes) at unix time `t`, signed with
 * `secret` and, when `previous` is neither NULL nor "", with it as well.
 * Into `out`, which must hold SIGN_HEADER_MAX bytes.
 */
void sign_header(const char *secret, const char *previous, int64_t t,
                 const void *body, size_t n, char out[SIGN_HEADER_MAX]);

/*
 * Check `header` as a receiver would: its t within `tolerance` seconds
 * of `now` and some v1 value equal (in constant time) to the HMAC of
 * `body` under `secret`. 0 when it holds; ERR_INVALID for a malformed
 * header, ERR_FORBIDDEN for no matching signature or a stale t (the
 * detail says which).
 */
int sign_verify(const char *secret, const char *header, const void *body,
                size_t n, int64_t now, long tolerance, struct err *e);

#endif
