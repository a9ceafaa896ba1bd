/*
 * log.h - one structured line per event, to stderr.
 *
 * Each line carries `ts level mod event req_id` and then the event's own
 * key=value pairs, as logfmt (the default) or as one JSON object:
 *
 *     log_event(LOG_INFO, "http", "http.request",
 *               "method=%s path=%s status=%d", m, p, st);
 *
 * The format is a list of `key=%conv` (or `key=literal`) tokens separated
 * by spaces; each value is formatted on its own, so it is quoted and
 * escaped correctly whatever it contains. Values of secret-looking keys
 * (api_key, token, secret, password, code, ... and any key ending in
 * _token, _secret, _key or _password) are written as "[redacted]": a
 * call site cannot leak one by accident. Supported conversions: d i u x
 * X c s p f g e with the length modifiers hh h l ll z j t, and `.*s`.
 *
 * The request id is per thread: the HTTP layer sets it for the request it
 * is running, and every line written meanwhile carries it.
 */
#ifndef FERRY_CORE_LOG_H
#define FERRY_CORE_LOG_H

#include <stdint.h>

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
    LOG_CRIT = 4,
};

enum log_format {
    LOG_FMT_LOGFMT = 0,
    LOG_FMT_JSON = 1,
};

/* Lines longer than this are cut (values first). */
#define LOG_LINE_MAX 4096

/* Set the lowest level written and the line format. Not thread-safe:
 * call before starting threads. Defaults: LOG_INFO, logfmt. */
void log_setup(int min_level, int format);

/* The line format log_setup() set. */
int log_format(void);

/* "debug", "info", ... to a level; -1 when unknown. */
int log_level_parse(const char *s);

/* "logfmt" or "json" to a format; -1 when unknown. */
int log_format_parse(const char *s);

/* Set (or with NULL clear) this thread's request id. Copied. */
void log_set_req_id(const char *req_id);

/* This thread's request id, or NULL. Borrowed. */
const char *log_req_id(void);

/* 1 when lines of `level` are written. */
int log_enabled(int level);

/* Write one line. See the file comment for `fmt`. */
void log_event(int level, const char *mod, const char *event, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/*
 * A failure that may repeat many times a second (a full disk) is logged
 * at most once per interval with the number of times it happened:
 *
 *     static struct log_every t;   (zeroed; guarded by the caller)
 *     unsigned n = 0;
 *     if (log_every_due(&t, now_us, 10000000, &n))
 *         log_event(LOG_ERROR, ..., "failures=%u ...", n, ...);
 *
 * Counts this occurrence; 1 (with `*count` the occurrences since the
 * last line, this one included) when a line is due, else 0.
 */
struct log_every {
    int64_t last_us;
    unsigned count;
};

int log_every_due(struct log_every *t, int64_t now_us, int64_t every_us,
                  unsigned *count);

/* 1 when values of `key` are redacted. */
int log_key_is_secret(const char *key, unsigned long keylen);

/* Log a broken invariant and abort. Use through BUG(). */
void log_bug(const char *file, int line, const char *what)
    __attribute__((noreturn));

#define BUG(what) log_bug(__FILE__, __LINE__, (what))

#endif
