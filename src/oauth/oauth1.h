/*
 * oauth1.h - the client side of OAuth 1.0a (RFC 5849) with HMAC-SHA1, and
 * PLAINTEXT for providers that ask for it over TLS.
 *
 * Like oauth2.h this only builds and signs: the caller sends the request
 * with http/client.h. A request is signed over its method, its base URI,
 * the query parameters of its URL, the oauth_* parameters and, for a
 * form body, the body's parameters (RFC 5849 section 3.4.1).
 */
#ifndef FERRY_OAUTH_OAUTH1_H
#define FERRY_OAUTH_OAUTH1_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Most parameters one signature covers (query, body and oauth_*). */
#define OAUTH1_MAX_PARAMS 64

/* One name/value pair, both decoded (as they mean, not as sent). */
struct oauth1_param {
    const char *name;
    const char *value;
};

/* A request to sign. Every string is borrowed. */
struct oauth1_request {
    const char *method; /* "GET", "POST", ... */
    const char *url;    /* may have a query; it is signed */
    const char *consumer_key;
    const char *consumer_secret;
    const char *token;                /* NULL before there is one */
    const char *token_secret;         /* NULL means "" */
    const char *callback;             /* oauth_callback, or NULL */
    const char *verifier;             /* oauth_verifier, or NULL */
    const char *nonce;                /* NULL: a random one (tests give one) */
    const char *realm;                /* sent, not signed; may be NULL */
    long long timestamp;              /* 0 = now */
    int plaintext;                    /* 1: PLAINTEXT instead of HMAC-SHA1 */
    int omit_version;                 /* 1: no oauth_version (it is optional) */
    const struct oauth1_param *extra; /* form body parameters */
    size_t nextra;
};

/*
 * Append `len` bytes of `s` (borrowed) to `out` percent-encoded as RFC
 * 5849 3.6 wants: ALPHA, DIGIT and "-._~" as they are, every other byte
 * (space and UTF-8 bytes included) as %XX in upper case. 0, or
 * ERR_TOOBIG at the buffer's ceiling.
 */
int oauth1_encode(struct buf *out, const char *s, size_t len);

/*
 * Write the signature base string (3.4.1) to `out`: the upper-case
 * `method`, the base string URI of `url` (3.4.1.2: scheme and host in
 * lower case, the default port dropped, no query or fragment) and the
 * normalized parameters (3.4.1.3.2): the query parameters of `url`
 * (decoded as a form: '+' is space) and the `n` given `params` (oauth_*
 * and form body, decoded), each name and value encoded, sorted by name
 * and then value, joined with '=' and '&'; the three parts each encoded
 * and joined with '&'. oauth_signature among `params` is left out.
 * Errors: ERR_INVALID for a URL that is not absolute http(s), has
 * user-info or a bad percent escape, or more than OAUTH1_MAX_PARAMS
 * parameters; ERR_TOOBIG at the buffer's ceiling.
 */
int oauth1_base_string(const char *method, const char *url,
                       const struct oauth1_param *params, size_t n,
                       struct buf *out, struct err *e);

/*
 * Append the HMAC-SHA1 signature (3.4.2) of `base` (borrowed) to `out`,
 * as base64 (not yet percent-encoded): the key is
 * encode(consumer_secret) "&" encode(token_secret), NULL secrets as "".
 * The key is wiped after use. 0, or ERR_TOOBIG at the buffer's ceiling.
 */
int oauth1_sign(const char *base, const char *consumer_secret,
                const char *token_secret, struct buf *out, struct err *e);

/*
 * Write a whole `Authorization` header value ("OAuth realm=..., ...",
 * without the "Authorization: " name) for `r` to `out`: realm when
 * given, oauth_consumer_key, oauth_token (when given),
 * oauth_signature_method, oauth_timestamp, oauth_nonce, oauth_version
 * 1.0 (unless omit_version), oauth_callback and oauth_verifier when
 * given, and oauth_signature, each value percent-encoded and quoted.
 * Errors: ERR_INVALID for a missing method, url, consumer_key or
 * consumer_secret, or what oauth1_base_string() refuses; ERR_TOOBIG at
 * the buffer's ceiling.
 */
int oauth1_authorization(const struct oauth1_request *r, struct buf *out,
                         struct err *e);

#endif
