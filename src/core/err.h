/*
 * err.h - error codes and the caller-supplied error detail.
 *
 * Every fallible function returns int: 0 on success or a negative ERR_*
 * code. Functions that can say more take a `struct err *` from the caller
 * and write a human-readable sentence into it with err_set(). The HTTP
 * layer maps the code to a status and the sentence to the JSON body; the
 * log gets the same sentence. A NULL `struct err *` is allowed everywhere
 * and means "the caller does not want the detail".
 */
#ifndef FERRY_CORE_ERR_H
#define FERRY_CORE_ERR_H

#include <stddef.h>

enum err_code {
    ERR_OK = 0,
    ERR_NOMEM = -1,     /* allocation refused (arena ceiling) */
    ERR_INVALID = -2,   /* bad input: a field is missing or wrong */
    ERR_NOTFOUND = -3,  /* no such object */
    ERR_CONFLICT = -4,  /* the object exists or changed under us */
    ERR_AUTH = -5,      /* missing or wrong credentials */
    ERR_FORBIDDEN = -6, /* authenticated but not allowed */
    ERR_TOOBIG = -7,    /* a size limit was hit */
    ERR_IO = -8,        /* a system call or file failed */
    ERR_STORE = -9,     /* the store failed (not the caller's fault) */
    ERR_UPSTREAM = -10, /* a provider or destination failed */
    ERR_CRYPTO = -11,   /* a cryptographic check or primitive failed */
    ERR_GONE = -12,     /* the object expired or was used up */
    ERR_LIMIT = -13,    /* a rate limit was hit */
    ERR_CONFIG = -14,   /* the configuration is wrong */
    ERR_INTERNAL = -15, /* our own fault */
    ERR_TIMEOUT = -16,  /* a peer did not answer in time */
};

#define ERR_MSG_MAX 512

struct err {
    int code;              /* last code set, ERR_OK when none */
    char msg[ERR_MSG_MAX]; /* NUL-terminated sentence, "" when none */
};

/* Clear `e` to "no error". `e` may be NULL. */
void err_clear(struct err *e);

/*
 * Record `code` and a printf-formatted sentence in `e` (may be NULL) and
 * return `code`, so callers can write `return err_set(e, ERR_INVALID, ...)`.
 * A sentence longer than ERR_MSG_MAX - 1 bytes is cut.
 */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stable lower-case name of `code` ("invalid", "not_found", ...). */
const char *err_str(int code);

#endif
