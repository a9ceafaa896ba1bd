/*
 * guard.h - screening of what a client sent, before any handler runs.
 *
 * libmicrohttpd decodes the path and parses the headers leniently; these
 * checks refuse what a proxy in front of ferry could read differently
 * from ferry itself (request smuggling) or what would reach a handler
 * cut short.
 */
#ifndef FERRY_HTTP_GUARD_H
#define FERRY_HTTP_GUARD_H

#include <stddef.h>

#include "core/err.h"

struct MHD_Connection;

/*
 * Check the request target as sent, before percent-decoding. ERR_INVALID
 * for an encoded NUL anywhere (`%00`), an encoded slash in the path
 * (`%2F`, which would join path segments), or a `%` not followed by two
 * hex digits.
 */
int http_guard_target(const char *target, struct err *e);

/*
 * Check the framing headers and header values of the request on `conn`.
 * ERR_INVALID for: a header name that is not an RFC 9110 token (a space
 * before the colon, say), Transfer-Encoding in an HTTP/1.0 request, more
 * than one Content-Length, one that is not plain decimal digits,
 * Content-Length together with Transfer-Encoding, a Transfer-Encoding
 * other than `chunked`, a header value holding a NUL byte
 * (libmicrohttpd cuts values at a NUL, so this catches only what it lets
 * through), or a request after HTTP/1.0 without exactly one Host. `version`
 * is the request's HTTP version. The answer to such a request must close
 * the connection.
 */
int http_guard_headers(struct MHD_Connection *conn, const char *version,
                       struct err *e);

/*
 * Parse a listen address: `HOST:PORT` with a numeric IPv4 host or
 * `localhost`, or `[V6]:PORT`; PORT is 0 (any free port) to 65535. No
 * name is looked up. ERR_CONFIG naming `[server] listen` otherwise.
 * `sa` must have room for a struct sockaddr_storage; `*salen` gets the
 * length used.
 */
int http_listen_parse(const char *listen, void *sa, unsigned *salen,
                      struct err *e);

#endif
