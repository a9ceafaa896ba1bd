/*
 * config.c - defaults, the INI file, the environment and secret files.
 *
 * Every key lives in one table, `keys`: its section, name, type, where it
 * is stored and its range. Defaults, the file parser, the environment
 * mapping and config_release() are all driven by that table, so a new key
 * is one line there plus its field in config.h.
 *
 * libinih splits `key = value` lines and strips inline `;` comments, but
 * Debian builds it with a 200-byte line buffer, continuation lines and no
 * line numbers in the handler. So the file is fed to ini_parse_stream()
 * through our own reader, which counts lines, refuses lines that would be
 * cut, refuses indented (continuation) lines and handles `[section]`
 * headers itself, so that a bare `[provider sandbox]` creates its
 * provider. The handler then knows the line of every key it is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define SECTION_MAX  64
#define SHOWN_MAX    96
#define ENV_PREFIX   "FERRY_"
#define ENV_CONFIG   "FERRY_CONFIG"
#define DEFAULT_PATH "ferry.conf"
#define FILE_SUFFIX  "_file"
#define LINE_HINT                                                              \
    "lines are limited to %d bytes including the newline; give long "          \
    "values in a *_file key or the environment"

enum key_type {
    KEY_STR,
    KEY_INT,  /* stored in an int */
    KEY_LONG, /* stored in a long */
    KEY_BOOL, /* stored in an int, 0 or 1 */
};

enum key_flag {
    KEY_REQUIRED = 1, /* a string that may not be empty */
    KEY_SECRET = 2,   /* wiped when freed, never shown in a message */
};

struct key {
    const char *section; /* "server", ..., or "provider" */
    const char *name;    /* as written in the file */
    enum key_type type;
    size_t offset;    /* in struct config or config_provider */
    long def;         /* default of a number or boolean */
    const char *sdef; /* default of a string, or NULL */
    long min;         /* range of a number */
    long max;
    int flags;                  /* enum key_flag */
    const char *const *choices; /* allowed strings, NULL-terminated */
};

static const char *const log_levels[] = {
    "debug", "info", "warn", "error", "crit", NULL,
};
static const char *const log_formats[] = {"logfmt", "json", NULL};
static const char *const provider_types[] = {"oauth2", NULL};
static const char *const pkce_methods[] = {"S256", "none", NULL};
static const char *const auth_methods[] = {
    "client_secret_basic",
    "client_secret_post",
    NULL,
};

/* One table line per key; `s` and `k` name both the key and the field. */
#define KEY(...)                                                               \
    {                                                                          \
        __VA_ARGS__                                                            \
    }
#define C_AT(s, k) offsetof(struct config, s##_##k)
#define P_AT(k)    offsetof(struct config_provider, k)
#define C_STR(s, k, def, fl)                                                   \
    KEY(#s, #k, KEY_STR, C_AT(s, k), 0, def, 0, 0, fl, NULL)
#define C_ONE_OF(s, k, def, list)                                              \
    KEY(#s, #k, KEY_STR, C_AT(s, k), 0, def, 0, 0, KEY_REQUIRED, list)
#define C_INT(s, k, def, lo, hi)                                               \
    KEY(#s, #k, KEY_INT, C_AT(s, k), def, NULL, lo, hi, 0, NULL)
#define C_LONG(s, k, def, lo, hi)                                              \
    KEY(#s, #k, KEY_LONG, C_AT(s, k), def, NULL, lo, hi, 0, NULL)
#define C_BOOL(s, k, def)                                                      \
    KEY(#s, #k, KEY_BOOL, C_AT(s, k), def, NULL, 0, 1, 0, NULL)
#define P_STR(k, fl)                                                           \
    KEY("provider", #k, KEY_STR, P_AT(k), 0, NULL, 0, 0, fl, NULL)
#define P_ONE_OF(k, list)                                                      \
    KEY("provider", #k, KEY_STR, P_AT(k), 0, NULL, 0, 0, 0, list)
#define P_BOOL(k, def)                                                         \
    KEY("provider", #k, KEY_BOOL, P_AT(k), def, NULL, 0, 1, 0, NULL)

static const struct key keys[] = {
    C_STR(server, listen, "127.0.0.1:8080", KEY_REQUIRED),
    C_STR(server, public_url, NULL, 0),
    C_INT(server, threads, 0, 0, 1024),
    C_INT(server, max_connections, 1024, 1, 1048576),
    C_INT(server, per_ip_connections, 256, 1, 1048576),
    C_INT(server, timeout_seconds, 30, 1, 86400),
    C_INT(server, request_timeout_seconds, 60, 1, 86400),
    C_LONG(server, max_body_bytes, 1048576, 1, 1073741824),
    C_LONG(server, hook_max_body_bytes, 16777216, 1, 1073741824),
    C_LONG(server, connection_memory, 32768, 4096, 67108864),
    C_LONG(server, request_memory, 8388608, 65536, 1073741824),

    C_STR(store, url, "sqlite:ferry.db", KEY_REQUIRED | KEY_SECRET),
    C_INT(store, busy_timeout_ms, 5000, 0, 600000),

    C_STR(security, key_file, "ferry.key", KEY_REQUIRED),
    C_BOOL(security, allow_private_destinations, 0),

    C_LONG(links, default_expires_in, 900, 1, 31536000),
    C_LONG(links, min_expires_in, 60, 1, 31536000),
    C_LONG(links, max_expires_in, 604800, 1, 31536000),

    C_INT(deliver, concurrency, 64, 1, 4096),
    C_INT(deliver, timeout_seconds, 30, 1, 3600),
    C_LONG(deliver, retry_base_seconds, 30, 1, 604800),
    C_LONG(deliver, retry_max_seconds, 28800, 1, 2592000),
    C_INT(deliver, retries, 10, 0, 1000),
    C_LONG(deliver, secret_grace_seconds, 86400, 0, 2592000),

    C_INT(oauth, token_timeout_seconds, 10, 1, 300),

    C_LONG(sandbox, day_seconds, 86400, 1, 86400),

    C_ONE_OF(log, level, "info", log_levels),
    C_ONE_OF(log, format, "logfmt", log_formats),

    P_ONE_OF(type, provider_types),
    P_BOOL(enabled, 1),
    P_STR(client_id, 0),
    P_STR(client_secret, KEY_SECRET),
    P_STR(authorize_url, 0),
    P_STR(token_url, 0),
    P_STR(api_url, 0),
    P_STR(userinfo_url, 0),
    P_STR(revoke_url, 0),
    P_STR(user_id_field, 0),
    P_STR(scopes, 0),
    P_ONE_OF(pkce, pkce_methods),
    P_ONE_OF(auth_method, auth_methods),
    P_STR(webhook_secret, KEY_SECRET),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* A key set by the source being read, to refuse it a second time. */
struct seen {
    const struct config_provider *provider; /* NULL for other sections */
    const struct key *key;
    int as_file;     /* given as K_file */
    int line;        /* file line, 0 for the environment */
    const char *var; /* environment variable, borrowed from envp */
    size_t var_len;
};

/* State of one config_load(). */
struct load {
    struct config *c;
    struct err *e;
    int rc;           /* first error, 0 while none */
    const char *path; /* file being read */
    FILE *fp;
    int line;                /* line last handed to libinih */
    int line_max;            /* size of libinih's line buffer */
    int pending;             /* key line not yet seen by the handler, or 0 */
    const char *section;     /* current section's table name, or NULL */
    char label[SECTION_MAX]; /* the section as written */
    struct config_provider *provider; /* current provider section */
    struct seen *seen;                /* keys set by this source */
    size_t nseen;
    size_t seen_cap;
};

/* Where a value comes from, for messages and for refusing repeats. */
struct origin {
    char where[ERR_MSG_MAX]; /* "FILE:LINE: [section] key" or
                                "environment: VAR" */
    int line;
    const char *var;
    size_t var_len;
};

static int fail(struct load *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first error of the load; later ones are dropped. */
static int
fail(struct load *ld, const char *fmt, ...)
{
    va_list ap;

    if (ld->rc < 0) {
        return ld->rc;
    }
    ld->rc = ERR_CONFIG;
    if (ld->e != NULL) {
        ld->e->code = ERR_CONFIG;
        va_start(ap, fmt);
        vsnprintf(ld->e->msg, sizeof(ld->e->msg), fmt, ap);
        va_end(ap);
    }
    return ld->rc;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 1 when key `k` also accepts `K_file`: strings not already ending so. */
static int
has_file_form(const struct key *k)
{
    return k->type == KEY_STR && !ends_with(k->name, FILE_SUFFIX);
}

static void *
field(void *base, const struct key *k)
{
    return (char *)base + k->offset;
}

/* Free a string field, wiping it first when it is a secret. */
static void
free_string(char **slot, const struct key *k)
{
    if (*slot != NULL && (k->flags & KEY_SECRET) != 0) {
        explicit_bzero(*slot, strlen(*slot));
    }
    free(*slot);
    *slot = NULL;
}

/* Set the provider keys of `base`, or the others, to their defaults. */
static void
set_defaults(void *base, int provider)
{
    size_t i = 0;

    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        if ((strcmp(k->section, "provider") == 0) != provider) {
            continue;
        }
        if (k->type == KEY_STR) {
            *(char **)field(base, k) = xstrdup(k->sdef);
        } else if (k->type == KEY_LONG) {
            *(long *)field(base, k) = k->def;
        } else {
            *(int *)field(base, k) = (int)k->def;
        }
    }
}

/* Free the string fields of `base`, provider keys or the others. */
static void
free_strings(void *base, int provider)
{
    size_t i = 0;

    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        if ((strcmp(k->section, "provider") == 0) != provider) {
            continue;
        }
        if (k->type == KEY_STR) {
            free_string((char **)field(base, k), k);
        }
    }
}

/* The table's spelling of section `name` (first `n` bytes), or NULL. */
static const char *
find_section(const char *name, size_t n)
{
    size_t i = 0;

    for (i = 0; i < NKEYS; i++) {
        if (strlen(keys[i].section) == n &&
            strncmp(keys[i].section, name, n) == 0) {
            return keys[i].section;
        }
    }
    return NULL;
}

/*
 * The key `name` of `section`, or NULL. `as_file` is set when `name` is
 * the K_file form of a string key.
 */
static const struct key *
find_key(const char *section, const char *name, int *as_file)
{
    size_t n = strlen(name);
    size_t m = strlen(FILE_SUFFIX);
    size_t i = 0;

    *as_file = 0;
    for (i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    if (!ends_with(name, FILE_SUFFIX)) {
        return NULL;
    }
    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        if (strcmp(k->section, section) == 0 && has_file_form(k) &&
            strlen(k->name) == n - m && strncmp(k->name, name, n - m) == 0) {
            *as_file = 1;
            return k;
        }
    }
    return NULL;
}

static int
valid_provider_name(const char *name)
{
    size_t n = strlen(name);
    size_t i = 0;

    if (n == 0 || n > CONFIG_PROVIDER_NAME_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_')) {
            return 0;
        }
    }
    return 1;
}

/*
 * Parse all of `s` as a decimal integer with an optional '-'.
 * 0, ERR_INVALID when it is not one, ERR_TOOBIG when it overflows.
 */
static int
parse_long(const char *s, long *out)
{
    const char *p = s;
    long v = 0;

    if (*p == '-') {
        p++;
    }
    if (*p == '\0') {
        return ERR_INVALID;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return ERR_INVALID;
        }
    }
    errno = 0;
    v = strtol(s, NULL, 10);
    if (errno == ERANGE) {
        return ERR_TOOBIG;
    }
    *out = v;
    return 0;
}

/* 1 or 0 for a boolean word, -1 for anything else. */
static int
parse_bool(const char *s)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i = 0;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            return 1;
        }
        if (strcasecmp(s, no[i]) == 0) {
            return 0;
        }
    }
    return -1;
}

static int
one_of(const char *s, const char *const *list)
{
    size_t i = 0;

    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(s, list[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "a, b, c" for a message. */
static void
join_choices(const char *const *list, char *out, size_t size)
{
    size_t used = 0;
    size_t i = 0;

    out[0] = '\0';
    for (i = 0; list[i] != NULL && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i > 0 ? ", " : "",
                         list[i]);

        if (n < 0) {
            break;
        }
        used += (size_t)n;
    }
}

/* Store a string value: "" unsets an optional key. */
static int
store_string(struct load *ld, void *base, const struct key *k,
             const char *value, const char *where, const char *shown)
{
    char list[SHOWN_MAX];
    char **slot = (char **)field(base, k);

    if (*value == '\0' && (k->flags & KEY_REQUIRED) != 0) {
        return fail(ld, "%s: must not be empty", where);
    }
    if (*value != '\0' && k->choices != NULL && !one_of(value, k->choices)) {
        join_choices(k->choices, list, sizeof(list));
        return fail(ld, "%s: %s is not one of %s", where, shown, list);
    }
    free_string(slot, k);
    if (*value != '\0') {
        *slot = xstrdup(value);
    }
    return 0;
}

static int
store_number(struct load *ld, void *base, const struct key *k,
             const char *value, const char *where, const char *shown)
{
    long v = 0;
    int rc = 0;

    if (*value == '\0') {
        return fail(ld, "%s: empty value, expected an integer", where);
    }
    rc = parse_long(value, &v);
    if (rc == ERR_INVALID) {
        return fail(ld, "%s: %s is not an integer", where, shown);
    }
    if (rc < 0 || v < k->min || v > k->max) {
        return fail(ld, "%s: %s is out of range (%ld to %ld)", where, shown,
                    k->min, k->max);
    }
    if (k->type == KEY_LONG) {
        *(long *)field(base, k) = v;
    } else {
        *(int *)field(base, k) = (int)v;
    }
    return 0;
}

static int
store_bool(struct load *ld, void *base, const struct key *k, const char *value,
           const char *where, const char *shown)
{
    int v = parse_bool(value);

    if (v < 0) {
        return fail(ld,
                    "%s: %s is not a boolean (true/false, yes/no, on/off, "
                    "1/0)",
                    where, shown);
    }
    *(int *)field(base, k) = v;
    return 0;
}

/*
 * Convert `value` for key `k` and store it in `base`. `shown` is how a
 * message may quote the value ("'abc'", or a stand-in for a secret).
 */
static int
store_value(struct load *ld, void *base, const struct key *k, const char *value,
            const char *where, const char *shown)
{
    switch (k->type) {
    case KEY_STR:
        return store_string(ld, base, k, value, where, shown);
    case KEY_INT:
    case KEY_LONG:
        return store_number(ld, base, k, value, where, shown);
    case KEY_BOOL:
        return store_bool(ld, base, k, value, where, shown);
    }
    BUG("config: unknown key type");
}

/*
 * Read the value file `path` for a K_file key into `*out` (caller wipes
 * and frees): at most CONFIG_FILE_MAX bytes, no NUL, one trailing newline
 * dropped. Messages name the path, never the contents.
 */
static int
read_value_file(struct load *ld, const char *path, const char *where,
                char **out)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    ssize_t n = 0;
    int fd = -1;
    int rc = 0;

    *out = NULL;
    if (*path == '\0') {
        return fail(ld, "%s: empty file name", where);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rc = fail(ld, "%s: cannot read '%s': %s", where, path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = fail(ld, "%s: cannot read '%s': %s", where, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fail(ld, "%s: '%s' is not a regular file", where, path);
        goto out;
    }
    data = xmalloc(CONFIG_FILE_MAX + 2);
    for (;;) {
        n = read(fd, data + len, CONFIG_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (len > CONFIG_FILE_MAX) {
            break;
        }
    }
    if (n < 0) {
        rc = fail(ld, "%s: cannot read '%s': %s", where, path, strerror(errno));
        goto out;
    }
    if (len > CONFIG_FILE_MAX) {
        rc = fail(ld, "%s: '%s' is larger than %d bytes", where, path,
                  CONFIG_FILE_MAX);
        goto out;
    }
    if (memchr(data, '\0', len) != NULL) {
        rc = fail(ld, "%s: '%s' contains a NUL byte", where, path);
        goto out;
    }
    if (len > 0 && data[len - 1] == '\n') {
        len--;
    }
    data[len] = '\0';
    *out = data;
    data = NULL;

out:
    if (data != NULL) {
        explicit_bzero(data, CONFIG_FILE_MAX + 2);
        free(data);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/*
 * Refuse a key the current source has already set, whether as K or as
 * K_file; otherwise remember it.
 */
static int
note_seen(struct load *ld, const struct config_provider *p, const struct key *k,
          int as_file, const struct origin *o)
{
    char other[SHOWN_MAX];
    struct seen *s = NULL;
    size_t i = 0;

    for (i = 0; i < ld->nseen; i++) {
        s = &ld->seen[i];
        if (s->provider != p || s->key != k) {
            continue;
        }
        if (s->var != NULL) {
            snprintf(other, sizeof(other), "%.*s", (int)s->var_len, s->var);
        } else {
            snprintf(other, sizeof(other), "line %d", s->line);
        }
        if (s->as_file == as_file) {
            return fail(ld, "%s: given twice (also at %s)", o->where, other);
        }
        return fail(ld, "%s: both %s and %s_file are given (the other at %s)",
                    o->where, k->name, k->name, other);
    }
    if (ld->nseen == ld->seen_cap) {
        ld->seen_cap = ld->seen_cap == 0 ? 32 : ld->seen_cap * 2;
        ld->seen = xrealloc(ld->seen, ld->seen_cap * sizeof(*ld->seen));
    }
    s = &ld->seen[ld->nseen++];
    s->provider = p;
    s->key = k;
    s->as_file = as_file;
    s->line = o->line;
    s->var = o->var;
    s->var_len = o->var_len;
    return 0;
}

/*
 * Apply one setting from any source: key `k` of provider `p` (NULL for
 * the other sections), given as K_file when `as_file`.
 */
static int
assign(struct load *ld, struct config_provider *p, const struct key *k,
       int as_file, const char *value, const struct origin *o)
{
    char shown[SHOWN_MAX];
    char *contents = NULL;
    void *base = p != NULL ? (void *)p : (void *)ld->c;
    int rc = 0;

    rc = note_seen(ld, p, k, as_file, o);
    if (rc < 0) {
        goto out;
    }
    if (as_file) {
        rc = read_value_file(ld, value, o->where, &contents);
        if (rc < 0) {
            goto out;
        }
        snprintf(shown, sizeof(shown), "the value in '%.*s'", SHOWN_MAX / 2,
                 value);
        value = contents;
    } else if ((k->flags & KEY_SECRET) != 0) {
        snprintf(shown, sizeof(shown), "the value");
    } else {
        snprintf(shown, sizeof(shown), "'%.*s'", SHOWN_MAX / 2, value);
    }
    rc = store_value(ld, base, k, value, o->where, shown);

out:
    if (contents != NULL) {
        explicit_bzero(contents, strlen(contents));
        free(contents);
    }
    return rc;
}

/* Enter the section of a `[...]` header; `text` starts at the '['. */
static int
start_section(struct load *ld, const char *text)
{
    const char *end = strchr(text, ']');
    const char *name = NULL;
    size_t n = 0;

    if (end == NULL) {
        return fail(ld, "%s:%d: section header without ']'", ld->path,
                    ld->line);
    }
    n = (size_t)(end - text - 1);
    if (n >= sizeof(ld->label)) {
        return fail(ld, "%s:%d: section name longer than %d bytes", ld->path,
                    ld->line, SECTION_MAX - 1);
    }
    memcpy(ld->label, text + 1, n);
    ld->label[n] = '\0';
    ld->provider = NULL;
    ld->section = NULL;
    if (strcmp(ld->label, "provider") == 0) {
        return fail(ld,
                    "%s:%d: section [provider] needs a name: "
                    "[provider NAME]",
                    ld->path, ld->line);
    }
    if (strncmp(ld->label, "provider ", 9) == 0) {
        name = ld->label + 9;
        ld->provider = config_provider_add(ld->c, name);
        if (ld->provider == NULL) {
            return fail(ld,
                        "%s:%d: invalid provider name '%s': use 1 to %d "
                        "of a-z, 0-9 and _",
                        ld->path, ld->line, name, CONFIG_PROVIDER_NAME_MAX);
        }
        ld->section = "provider";
        return 0;
    }
    ld->section = find_section(ld->label, n);
    if (ld->section == NULL || strcmp(ld->section, "provider") == 0) {
        ld->section = NULL;
        return fail(ld, "%s:%d: unknown section [%s]", ld->path, ld->line,
                    ld->label);
    }
    return 0;
}

/*
 * Look at a line before libinih does: comments and blank lines pass,
 * section headers are handled here, indented lines are refused (libinih
 * would take them as a continuation of the previous value), and a key
 * line is marked pending until the handler sees it.
 */
static int
check_line(struct load *ld, const char *s)
{
    const char *start = s;
    const char *p = NULL;

    if (ld->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
        start = s + 3; /* libinih skips a UTF-8 byte order mark */
    }
    p = start;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') {
        p++;
    }
    if (*p == '\0' || *p == ';' || *p == '#') {
        return 0;
    }
    if (p != start) {
        return fail(ld,
                    "%s:%d: indented line; continuation lines are not "
                    "supported, start keys and sections in column 1",
                    ld->path, ld->line);
    }
    if (*p == '[') {
        return start_section(ld, p);
    }
    ld->pending = ld->line;
    return 0;
}

/* The libinih parse error on line `line`, which the handler did not see. */
static int
fail_parse(struct load *ld, int line, int max)
{
    return fail(ld,
                "%s:%d: cannot parse this line, expected [section] or "
                "key = value (" LINE_HINT ")",
                ld->path, line, max);
}

/*
 * libinih's reader: one physical line per call, without its newline, so
 * our line count matches libinih's. Returns NULL at the end of the file
 * and after the first error, which ends the parse.
 */
static char *
read_line(char *str, int num, void *stream)
{
    struct load *ld = stream;
    size_t len = 0;
    int ch = 0;

    ld->line_max = num;
    if (ld->rc < 0) {
        return NULL;
    }
    if (ld->pending > 0) {
        fail_parse(ld, ld->pending, num);
        return NULL;
    }
    ch = getc(ld->fp);
    if (ch == EOF) {
        if (ferror(ld->fp)) {
            fail(ld, "%s: read error after line %d", ld->path, ld->line);
        }
        return NULL;
    }
    ld->line++;
    while (ch != EOF && ch != '\n') {
        if (ch == '\0') {
            fail(ld, "%s:%d: NUL byte in the line", ld->path, ld->line);
            return NULL;
        }
        if (len + 1 >= (size_t)num) {
            fail(ld, "%s:%d: line too long (" LINE_HINT ")", ld->path, ld->line,
                 num);
            return NULL;
        }
        str[len++] = (char)ch;
        ch = getc(ld->fp);
    }
    str[len] = '\0';
    if (ferror(ld->fp)) {
        fail(ld, "%s:%d: read error", ld->path, ld->line);
        return NULL;
    }
    if (check_line(ld, str) < 0) {
        return NULL;
    }
    return str;
}

/* libinih's handler: one `name = value` of the current section. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load *ld = user;
    struct origin o;
    const struct key *k = NULL;
    int as_file = 0;

    (void)section; /* ours, in ld->label, is never cut */
    ld->pending = 0;
    if (ld->rc < 0) {
        return 0;
    }
    if (ld->section == NULL) {
        fail(ld, "%s:%d: key '%s' is outside any section", ld->path, ld->line,
             name);
        return 0;
    }
    k = find_key(ld->section, name, &as_file);
    if (k == NULL) {
        fail(ld, "%s:%d: unknown key '%s' in section [%s]", ld->path, ld->line,
             name, ld->label);
        return 0;
    }
    snprintf(o.where, sizeof(o.where), "%s:%d: [%s] %s", ld->path, ld->line,
             ld->label, name);
    o.line = ld->line;
    o.var = NULL;
    o.var_len = 0;
    if (value == NULL) {
        fail(ld, "%s: no value", o.where);
        return 0;
    }
    return assign(ld, ld->provider, k, as_file, value, &o) == 0;
}

/* Parse the open file ld->fp, stopping at the first error. */
static int
load_file(struct load *ld)
{
    int rc = ini_parse_stream(read_line, ld, on_key, ld);

    if (ld->rc < 0) {
        return ld->rc;
    }
    if (ld->pending > 0) {
        return fail_parse(ld, ld->pending, ld->line_max);
    }
    if (rc > 0) {
        return fail_parse(ld, rc, ld->line_max);
    }
    if (rc < 0) {
        return fail(ld, "%s: libinih failed (%d)", ld->path, rc);
    }
    return 0;
}

/* The value of `name` in `envp`, or NULL. Borrowed. */
static const char *
env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    size_t i = 0;

    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') {
            return envp[i] + n + 1;
        }
    }
    return NULL;
}

static char
ascii_upper(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/*
 * 1 when the `n` bytes at `s` spell `key` in upper case, followed by
 * "_FILE" when `as_file`.
 */
static int
upper_is(const char *s, size_t n, const char *key, int as_file)
{
    size_t klen = strlen(key);
    size_t i = 0;

    if (n != klen + (as_file ? strlen(FILE_SUFFIX) : 0)) {
        return 0;
    }
    for (i = 0; i < klen; i++) {
        if (s[i] != ascii_upper(key[i])) {
            return 0;
        }
    }
    return !as_file || memcmp(s + klen, "_FILE", 5) == 0;
}

/* The key of section `section` spelt by the `n` bytes at `s`, or NULL. */
static const struct key *
env_find_key(const char *section, const char *s, size_t n, int *as_file)
{
    size_t i = 0;

    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        if (strcmp(k->section, section) != 0) {
            continue;
        }
        if (upper_is(s, n, k->name, 0)) {
            *as_file = 0;
            return k;
        }
        if (has_file_form(k) && upper_is(s, n, k->name, 1)) {
            *as_file = 1;
            return k;
        }
    }
    return NULL;
}

/*
 * The length of _KEY (or _KEY_FILE when `as_file`) for key `k` when it
 * ends the `n` bytes at `s` and leaves at least one byte before it; else 0.
 */
static size_t
key_at_end(const char *s, size_t n, const struct key *k, int as_file)
{
    size_t m = strlen(k->name) + (as_file ? strlen(FILE_SUFFIX) : 0);

    if (m + 1 >= n || s[n - m - 1] != '_') {
        return 0;
    }
    return upper_is(s + n - m, m, k->name, as_file) ? m : 0;
}

/*
 * The provider key that ends the `n` bytes at `s` (NAME_KEY), the longest
 * when several do. NULL when none; `key_len` gets the length of KEY.
 */
static const struct key *
env_provider_key(const char *s, size_t n, int *as_file, size_t *key_len)
{
    const struct key *best = NULL;
    size_t i = 0;
    size_t m = 0;

    *key_len = 0;
    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];

        if (strcmp(k->section, "provider") != 0) {
            continue;
        }
        m = key_at_end(s, n, k, 0);
        if (m > *key_len) {
            best = k;
            *as_file = 0;
            *key_len = m;
        }
        m = has_file_form(k) ? key_at_end(s, n, k, 1) : 0;
        if (m > *key_len) {
            best = k;
            *as_file = 1;
            *key_len = m;
        }
    }
    return best;
}

/* Apply FERRY_PROVIDER_<NAME>_<KEY>; `rest` is <NAME>_<KEY>. */
static int
env_provider(struct load *ld, const char *rest, size_t n, const char *value,
             const struct origin *o)
{
    char name[CONFIG_PROVIDER_NAME_MAX + 1];
    struct config_provider *p = NULL;
    const struct key *k = NULL;
    size_t key_len = 0;
    size_t name_len = 0;
    size_t i = 0;
    int as_file = 0;

    k = env_provider_key(rest, n, &as_file, &key_len);
    if (k == NULL) {
        return fail(ld, "environment: unknown variable %.*s", (int)o->var_len,
                    o->var);
    }
    name_len = n - key_len - 1;
    if (name_len > CONFIG_PROVIDER_NAME_MAX) {
        return fail(ld, "%s: provider name longer than %d characters", o->where,
                    CONFIG_PROVIDER_NAME_MAX);
    }
    for (i = 0; i < name_len; i++) {
        char ch = rest[i];

        name[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    name[name_len] = '\0';
    p = config_provider_add(ld->c, name);
    if (p == NULL) {
        return fail(ld, "%s: invalid provider name '%s'", o->where, name);
    }
    return assign(ld, p, k, as_file, value, o);
}

/* Apply one FERRY_ variable; `n` is the length of its name. */
static int
env_var(struct load *ld, const char *var, size_t n, const char *value)
{
    struct origin o;
    const struct key *k = NULL;
    const char *section = NULL;
    const char *rest = var + strlen(ENV_PREFIX);
    const char *sep = NULL;
    size_t rest_len = n - strlen(ENV_PREFIX);
    size_t i = 0;
    int as_file = 0;

    snprintf(o.where, sizeof(o.where), "environment: %.*s", (int)n, var);
    o.line = 0;
    o.var = var;
    o.var_len = n;
    for (i = 0; i < rest_len; i++) {
        char ch = rest[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_')) {
            goto unknown;
        }
    }
    sep = memchr(rest, '_', rest_len);
    if (sep == NULL) {
        goto unknown;
    }
    for (i = 0; i < NKEYS && section == NULL; i++) {
        if (upper_is(rest, (size_t)(sep - rest), keys[i].section, 0)) {
            section = keys[i].section;
        }
    }
    if (section == NULL) {
        goto unknown;
    }
    rest_len -= (size_t)(sep + 1 - rest);
    rest = sep + 1;
    if (strcmp(section, "provider") == 0) {
        return env_provider(ld, rest, rest_len, value, &o);
    }
    k = env_find_key(section, rest, rest_len, &as_file);
    if (k == NULL) {
        goto unknown;
    }
    return assign(ld, NULL, k, as_file, value, &o);

unknown:
    return fail(ld, "environment: unknown variable %.*s", (int)n, var);
}

/* Apply every FERRY_ variable of `envp` but FERRY_CONFIG. */
static int
load_env(struct load *ld, char *const *envp)
{
    size_t i = 0;
    int rc = 0;

    ld->nseen = 0;
    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *var = envp[i];
        const char *eq = strchr(var, '=');
        size_t n = eq != NULL ? (size_t)(eq - var) : strlen(var);

        if (strncmp(var, ENV_PREFIX, strlen(ENV_PREFIX)) != 0) {
            continue;
        }
        if (n == strlen(ENV_CONFIG) && strncmp(var, ENV_CONFIG, n) == 0) {
            continue;
        }
        rc = env_var(ld, var, n, eq != NULL ? eq + 1 : "");
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Rules that involve more than one key, checked once all sources are in. */
static int
check_config(struct load *ld)
{
    const struct config *c = ld->c;
    const struct config_provider *p = NULL;

    for (p = c->providers; p != NULL; p = p->next) {
        if (p->type == NULL) {
            continue;
        }
        if (p->authorize_url == NULL || p->token_url == NULL) {
            return fail(ld,
                        "configuration: [provider %s]: type = %s needs "
                        "%s",
                        p->name, p->type,
                        p->authorize_url == NULL ? "authorize_url"
                                                 : "token_url");
        }
    }
    if (c->links_min_expires_in > c->links_default_expires_in ||
        c->links_default_expires_in > c->links_max_expires_in) {
        return fail(ld,
                    "configuration: [links] needs min_expires_in (%ld) "
                    "<= default_expires_in (%ld) <= max_expires_in (%ld)",
                    c->links_min_expires_in, c->links_default_expires_in,
                    c->links_max_expires_in);
    }
    if (c->deliver_retry_base_seconds > c->deliver_retry_max_seconds) {
        return fail(ld,
                    "configuration: [deliver] retry_base_seconds (%ld) "
                    "is above retry_max_seconds (%ld)",
                    c->deliver_retry_base_seconds,
                    c->deliver_retry_max_seconds);
    }
    if (c->server_per_ip_connections > c->server_max_connections) {
        return fail(ld,
                    "configuration: [server] per_ip_connections (%d) "
                    "is above max_connections (%d)",
                    c->server_per_ip_connections, c->server_max_connections);
    }
    return 0;
}

/*
 * Open the configuration file: `path`, else FERRY_CONFIG, else
 * ./ferry.conf when it exists. Leaves ld->fp NULL when there is none.
 */
static int
open_file(struct load *ld, const char *path, char *const *envp)
{
    int named = 1;

    if (path == NULL) {
        path = env_get(envp, ENV_CONFIG);
    }
    if (path == NULL || *path == '\0') {
        path = DEFAULT_PATH;
        named = 0;
    }
    ld->fp = fopen(path, "re");
    if (ld->fp == NULL) {
        if (!named && errno == ENOENT) {
            return 0;
        }
        return fail(ld, "%s: cannot open: %s", path, strerror(errno));
    }
    free(ld->c->path);
    ld->c->path = xstrdup(path);
    ld->path = ld->c->path;
    return 0;
}

void
config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    set_defaults(c, 0);
}

int
config_load(struct config *c, const char *path, char *const *envp,
            struct err *e)
{
    struct load ld;
    int rc = 0;

    memset(&ld, 0, sizeof(ld));
    ld.c = c;
    ld.e = e;
    err_clear(e);
    rc = open_file(&ld, path, envp);
    if (rc < 0) {
        goto out;
    }
    if (ld.fp != NULL) {
        rc = load_file(&ld);
        if (rc < 0) {
            goto out;
        }
    }
    rc = load_env(&ld, envp);
    if (rc < 0) {
        goto out;
    }
    rc = check_config(&ld);

out:
    if (ld.fp != NULL) {
        fclose(ld.fp);
    }
    free(ld.seen);
    return rc;
}

static void
provider_free(struct config_provider *p)
{
    free_strings(p, 1);
    free(p->name);
    free(p->resource);
    free(p);
}

void
config_release(struct config *c)
{
    struct config_provider *p = c->providers;
    struct config_provider *next = NULL;

    while (p != NULL) {
        next = p->next;
        provider_free(p);
        p = next;
    }
    free_strings(c, 0);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

struct config_provider *
config_provider(const struct config *c, const char *name)
{
    struct config_provider *p = NULL;

    if (name == NULL) {
        return NULL;
    }
    for (p = c->providers; p != NULL; p = p->next) {
        if (strcasecmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

struct config_provider *
config_provider_add(struct config *c, const char *name)
{
    struct config_provider **tail = &c->providers;
    struct config_provider *p = NULL;
    size_t i = 0;

    if (name == NULL || !valid_provider_name(name)) {
        return NULL;
    }
    for (p = c->providers; p != NULL; p = p->next) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
        tail = &p->next;
    }
    p = xcalloc(1, sizeof(*p));
    set_defaults(p, 1);
    p->name = xstrdup(name);
    p->resource = xstrdup(name);
    for (i = 0; p->resource[i] != '\0'; i++) {
        p->resource[i] = ascii_upper(p->resource[i]);
    }
    *tail = p;
    return p;
}

const char *
config_path_shown(const char *path, char *buf, size_t size)
{
    char cwd[PATH_MAX];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
        return path;
    }
    snprintf(buf, size, "%s/%s", cwd, path);
    return buf;
}
