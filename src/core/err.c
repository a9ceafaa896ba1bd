/*
 * err.c - error codes and detail.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/err.h"

void
err_clear(struct err *e)
{
    if (e == NULL) {
        return;
    }
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL) {
        return code;
    }
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *
err_str(int code)
{
    switch (code) {
    case ERR_OK:
        return "ok";
    case ERR_NOMEM:
        return "no_memory";
    case ERR_INVALID:
        return "invalid";
    case ERR_NOTFOUND:
        return "not_found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_AUTH:
        return "unauthorized";
    case ERR_FORBIDDEN:
        return "forbidden";
    case ERR_TOOBIG:
        return "too_big";
    case ERR_IO:
        return "io";
    case ERR_STORE:
        return "store";
    case ERR_UPSTREAM:
        return "upstream";
    case ERR_CRYPTO:
        return "crypto";
    case ERR_GONE:
        return "gone";
    case ERR_LIMIT:
        return "rate_limited";
    case ERR_CONFIG:
        return "config";
    case ERR_INTERNAL:
        return "internal";
    case ERR_TIMEOUT:
        return "timeout";
    }
    return "unknown";
}
