/*
 * url.h - checks on URLs that come from outside.
 */
#ifndef FERRY_HTTP_URL_H
#define FERRY_HTTP_URL_H

#include "core/err.h"

#define URL_HOST_MAX     253 /* DNS */
#define URL_REDIRECT_MAX 2048

/*
 * Check a redirect URL a developer gave (`field` names it in the error).
 * Allowed: http and https URLs with a host, and app schemes such as
 * `myapp://done` (any other `scheme://...`). Refused with ERR_INVALID:
 * javascript:, data:, file:, vbscript:, blob: and similar schemes, URLs
 * without a scheme, user-info (`https://a@b/`), backslashes, spaces,
 * control or non-ASCII bytes, and anything longer than URL_REDIRECT_MAX.
 */
int url_check_redirect(const char *field, const char *url, struct err *e);

#endif
