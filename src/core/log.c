/*
 * log.c - structured, redacting log lines.
 *
 * The format string of log_event() is walked token by token. Each value is
 * formatted alone with vsnprintf() on a one-conversion spec cut out of the
 * format, so the va_list is consumed with the types the compiler checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"

#define VALUE_MAX  1024
#define REQ_ID_MAX 64

/* Room kept at the end of a line for the truncation mark and the JSON
 * closing brace: ,"truncated":"true"} */
#define TAIL_RESERVE 32

static int min_level = LOG_INFO;
static int line_format = LOG_FMT_LOGFMT;
static _Thread_local char req_id[REQ_ID_MAX];

static const char *const level_names[] = {
    "debug", "info", "warn", "error", "crit",
};

static const char *const secret_keys[] = {
    "api_key",      "x-api-key",     "key",       "token",
    "secret",       "password",      "code",      "authorization",
    "cookie",       "code_verifier", "state",     "client_secret",
    "access_token", "refresh_token", "signature",
};

static const char *const secret_suffixes[] = {
    "_token", "_secret", "_key", "_password", "-key", "-token",
};

void
log_setup(int level, int format)
{
    min_level = level;
    line_format = format;
}

int
log_format(void)
{
    return line_format;
}

int
log_level_parse(const char *s)
{
    size_t i = 0;

    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int
log_format_parse(const char *s)
{
    if (strcasecmp(s, "logfmt") == 0) {
        return LOG_FMT_LOGFMT;
    }
    if (strcasecmp(s, "json") == 0) {
        return LOG_FMT_JSON;
    }
    return -1;
}

void
log_set_req_id(const char *id)
{
    if (id == NULL) {
        req_id[0] = '\0';
        return;
    }
    snprintf(req_id, sizeof(req_id), "%s", id);
}

const char *
log_req_id(void)
{
    return req_id[0] == '\0' ? NULL : req_id;
}

int
log_enabled(int level)
{
    return level >= min_level;
}

int
log_every_due(struct log_every *t, int64_t now_us, int64_t every_us,
              unsigned *count)
{
    t->count++;
    if (t->last_us != 0 && now_us - t->last_us < every_us) {
        return 0;
    }
    *count = t->count;
    t->count = 0;
    t->last_us = now_us;
    return 1;
}

int
log_key_is_secret(const char *key, unsigned long n)
{
    size_t i = 0;

    for (i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
        if (strlen(secret_keys[i]) == n &&
            strncasecmp(key, secret_keys[i], n) == 0) {
            return 1;
        }
    }
    for (i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]); i++) {
        size_t sn = strlen(secret_suffixes[i]);

        if (n > sn && strncasecmp(key + n - sn, secret_suffixes[i], sn) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Append `v` as a logfmt value: bare when safe, else quoted. */
static void
put_logfmt_value(struct buf *b, const char *v)
{
    const unsigned char *p = (const unsigned char *)v;
    int bare = *p != '\0';

    for (; *p != '\0'; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f) {
            bare = 0;
            break;
        }
    }
    if (bare) {
        buf_addstr(b, v);
        return;
    }
    buf_addch(b, '"');
    for (p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            buf_addch(b, '\\');
            buf_addch(b, (char)*p);
        } else if (*p == '\n') {
            buf_addstr(b, "\\n");
        } else if (*p < ' ' || *p == 0x7f) {
            buf_printf(b, "\\x%02x", *p);
        } else {
            buf_addch(b, (char)*p);
        }
    }
    buf_addch(b, '"');
}

/* Append `v` as a JSON string: control bytes escaped, well-formed UTF-8
 * kept as it is, and any other byte >= 0x80 escaped as \u00XX so the
 * line stays valid JSON whatever the value holds. */
static void
put_json_string(struct buf *b, const char *v)
{
    const unsigned char *p = (const unsigned char *)v;

    buf_addch(b, '"');
    while (*p != '\0') {
        size_t n = *p >= 0x80 ? utf8_seq_len(p) : 0;

        if (n > 0) {
            buf_add(b, p, n);
            p += n;
            continue;
        }
        if (*p == '"' || *p == '\\') {
            buf_addch(b, '\\');
            buf_addch(b, (char)*p);
        } else if (*p < ' ' || *p >= 0x7f) {
            buf_printf(b, "\\u%04x", *p);
        } else {
            buf_addch(b, (char)*p);
        }
        p++;
    }
    buf_addch(b, '"');
}

/* 1 when `v` is a number as JSON writes one: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
 * (so not "+1", "007", "nan" or "inf"). */
static int
json_number(const char *v)
{
    const char *p = v;

    if (*p == '-') {
        p++;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p += strspn(p, "0123456789");
    } else {
        return 0;
    }
    if (*p == '.') {
        size_t n = strspn(++p, "0123456789");

        if (n == 0) {
            return 0;
        }
        p += n;
    }
    if (*p == 'e' || *p == 'E') {
        size_t n = 0;

        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        n = strspn(p, "0123456789");
        if (n == 0) {
            return 0;
        }
        p += n;
    }
    return *p == '\0';
}

/*
 * Append one field, whole or not at all, so a line cut at its ceiling
 * still parses. `number`: the value came from a decimal conversion, and
 * a JSON line writes it as a number when it is one. Returns 0, or
 * ERR_TOOBIG when the field did not fit.
 */
static int
put_field(struct buf *b, const char *key, size_t keylen, const char *v,
          int number)
{
    struct buf f;
    int rc = 0;

    buf_init(&f, LOG_LINE_MAX);
    if (line_format == LOG_FMT_JSON) {
        buf_printf(&f, ",\"%.*s\":", (int)keylen, key);
        if (number && json_number(v)) {
            buf_add(&f, v, strlen(v));
        } else {
            put_json_string(&f, v);
        }
    } else {
        buf_printf(&f, " %.*s=", (int)keylen, key);
        put_logfmt_value(&f, v);
    }
    rc = buf_add(b, f.data, f.len);
    buf_release(&f);
    return rc;
}

/*
 * Format the one conversion at `spec` (which starts at '%') into `out`,
 * consuming its arguments from `ap`. Returns the length of the spec, or 0
 * when the spec is not supported (nothing is consumed then).
 */
static size_t
format_one(const char *spec, char *out, size_t outsz, va_list *ap, char *convp)
{
    char sub[32];
    const char *p = spec + 1;
    int star = 0;
    char lenmod[3] = "";
    size_t n = 0;
    char conv = 0;

    while (strchr("-+ #0", *p) != NULL && *p != '\0') {
        p++;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (p[0] == '.' && p[1] == '*') {
        star = 1;
        p += 2;
    } else if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if ((p[0] == 'h' && p[1] == 'h') || (p[0] == 'l' && p[1] == 'l')) {
        memcpy(lenmod, p, 2);
        p += 2;
    } else if (strchr("hlzjt", *p) != NULL && *p != '\0') {
        lenmod[0] = *p++;
    }
    conv = *p++;
    *convp = conv;
    n = (size_t)(p - spec);
    if (n >= sizeof(sub) || conv == '\0') {
        return 0;
    }
    memcpy(sub, spec, n);
    sub[n] = '\0';

    switch (conv) {
    case 'd':
    case 'i':
        if (strcmp(lenmod, "ll") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, long long));
        } else if (strcmp(lenmod, "l") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, long));
        } else if (strcmp(lenmod, "z") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, ssize_t));
        } else if (strcmp(lenmod, "j") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, intmax_t));
        } else if (strcmp(lenmod, "t") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, ptrdiff_t));
        } else {
            snprintf(out, outsz, sub, va_arg(*ap, int));
        }
        return n;
    case 'u':
    case 'x':
    case 'X':
    case 'o':
        if (strcmp(lenmod, "ll") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, unsigned long long));
        } else if (strcmp(lenmod, "l") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, unsigned long));
        } else if (strcmp(lenmod, "z") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, size_t));
        } else if (strcmp(lenmod, "j") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, uintmax_t));
        } else if (strcmp(lenmod, "t") == 0) {
            snprintf(out, outsz, sub, va_arg(*ap, ptrdiff_t));
        } else {
            snprintf(out, outsz, sub, va_arg(*ap, unsigned int));
        }
        return n;
    case 'c':
        snprintf(out, outsz, sub, va_arg(*ap, int));
        return n;
    case 'f':
    case 'g':
    case 'e':
        snprintf(out, outsz, sub, va_arg(*ap, double));
        return n;
    case 'p':
        snprintf(out, outsz, sub, va_arg(*ap, void *));
        return n;
    case 's':
        if (star) {
            int prec = va_arg(*ap, int);
            const char *s = va_arg(*ap, const char *);

            snprintf(out, outsz, sub, prec, s == NULL ? "" : s);
        } else {
            const char *s = va_arg(*ap, const char *);

            snprintf(out, outsz, sub, s == NULL ? "" : s);
        }
        return n;
    }
    return 0;
}

static void
put_timestamp(struct buf *b)
{
    struct timeval tv;
    struct tm tm;
    char ts[96]; /* room for any int fields, so -O2 sees no truncation */

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
    if (line_format == LOG_FMT_JSON) {
        buf_printf(b, "{\"ts\":\"%s\"", ts);
    } else {
        buf_printf(b, "ts=%s", ts);
    }
}

/*
 * Walk `fmt` and append every key=value pair it describes. Returns 0, or
 * ERR_TOOBIG when the line is full (the pairs after it are left out).
 */
static int
put_pairs(struct buf *b, const char *fmt, va_list *ap)
{
    char value[VALUE_MAX];
    const char *p = fmt;
    int rc = 0;

    while (*p != '\0') {
        const char *key = NULL;
        size_t keylen = 0;
        size_t vlen = 0;
        char conv = 0;
        int number = 0;

        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        key = p;
        while (*p != '\0' && *p != '=' && *p != ' ') {
            p++;
        }
        keylen = (size_t)(p - key);
        if (*p != '=') {
            if (put_field(b, key, keylen, "", 0) < 0) {
                return ERR_TOOBIG;
            }
            continue;
        }
        p++;
        if (p[0] == '%' && p[1] != '%') {
            vlen = format_one(p, value, sizeof(value), ap, &conv);
            if (vlen == 0) {
                /* an unsupported spec ends the line: the arguments after
                 * it cannot be located safely */
                return put_field(b, key, keylen, "[bad-format]", 0);
            }
            p += vlen;
            number = conv != '\0' && strchr("diufge", conv) != NULL;
        } else {
            const char *v = p;

            while (*p != '\0' && *p != ' ') {
                p++;
            }
            snprintf(value, sizeof(value), "%.*s", (int)(p - v), v);
        }
        if (log_key_is_secret(key, keylen)) {
            rc = put_field(b, key, keylen, "[redacted]", 0);
        } else {
            rc = put_field(b, key, keylen, value, number);
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

void
log_event(int level, const char *mod, const char *event, const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    const char *lvl = NULL;
    ssize_t w = 0;
    int full = 0;

    if (!log_enabled(level)) {
        return;
    }
    if (level < LOG_DEBUG || level > LOG_CRIT) {
        level = LOG_CRIT;
    }
    lvl = level_names[level];
    buf_init(&b, LOG_LINE_MAX - 2 - TAIL_RESERVE);
    put_timestamp(&b);
    put_field(&b, "level", 5, lvl, 0);
    put_field(&b, "mod", 3, mod, 0);
    put_field(&b, "event", 5, event, 0);
    if (req_id[0] != '\0') {
        put_field(&b, "req_id", 6, req_id, 0);
    }
    va_start(ap, fmt);
    full = put_pairs(&b, fmt, &ap) < 0;
    va_end(ap);

    /* the reserve makes room for the mark and the brace */
    b.max += TAIL_RESERVE;
    if (full) {
        put_field(&b, "truncated", 9, "true", 0);
    }
    if (line_format == LOG_FMT_JSON) {
        buf_addch(&b, '}');
    }
    /* the ceiling leaves room for the newline even when values were cut */
    b.max += 1;
    buf_addch(&b, '\n');
    w = write(STDERR_FILENO, b.data, b.len);
    (void)w;
    buf_release(&b);
}

void
log_bug(const char *file, int line, const char *what)
{
    log_event(LOG_CRIT, "core", "bug", "file=%s line=%d what=%s", file, line,
              what);
    abort();
}
