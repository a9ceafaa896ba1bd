/*
 * resolve.h - may a destination's host be reached?
 *
 * A host is refused when any address it resolves to is loopback,
 * private, link-local or otherwise not public (the classes of
 * hclient_addr_is_private()), unless private destinations are allowed.
 * The webhook and s3 drivers rely on the outbound client checking the
 * address it connects to; drivers with their own connections (postgres)
 * resolve here and connect to the address they were given.
 */
#ifndef FERRY_DELIVER_RESOLVE_H
#define FERRY_DELIVER_RESOLVE_H

#include <stddef.h>

#include "core/err.h"

#define RESOLVE_ADDR_MAX 64 /* a numeric address, NUL included */

/*
 * Resolve `host` (a name, an IPv4 address in any form inet_aton takes,
 * or an IPv6 address with or without brackets). 0 with the first
 * address in numeric form in `addr` (RESOLVE_ADDR_MAX bytes; may be
 * NULL); ERR_FORBIDDEN naming the address when one is not public and
 * `allow_private` is 0; ERR_UPSTREAM when the name does not resolve;
 * ERR_INVALID for an empty or over-long host.
 */
int resolve_public(const char *host, int allow_private, char *addr,
                   struct err *e);

#endif
