/*
 * postgres.c - the PostgreSQL destination: events written into the
 * developer's own database.
 *
 * Every event becomes one row of ferry_payloads, keyed by the event id
 * (a replayed event, or one claimed twice after a crash, is written
 * once), with the body as jsonb. The lifecycle events (auth, user_reauth,
 * deauth, access_revoked, connection_error) also keep one row per user
 * in ferry_users with the state the event leaves it in. Both tables are
 * made on the first connection when they are missing.
 *
 * Each destination has one thread and one connection: send() queues the
 * attempt and the thread writes one event per transaction, so a slow
 * database holds only its own thread. The thread resolves the host
 * itself (resolve_public()) and connects to the address it was given
 * (libpq's hostaddr), so the private-address check and the connection
 * see the same address; the host name still serves TLS verification.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "deliver/driver.h"
#include "deliver/resolve.h"

#define PG_URL_MAX          2048 /* bytes of a destination URL */
#define PG_QUEUE_MAX        16   /* attempts waiting for the thread */
#define PG_PARAMS_MAX       24   /* connection keywords handed to libpq */
#define PG_USER_OPTIONS_MAX 512  /* the URL's backend options */
#define PG_OPTIONS_MAX      640  /* the backend options, ours added */
#define PG_MSG_MAX          200  /* a libpq message as reported */

/*
 * A path whose stat() fails (ENOTDIR). As passfile, sslcert and sslkey
 * it keeps libpq from reading the ~/.pgpass, client certificate and key
 * of the account ferry runs as: they are the operator's and must never
 * be offered to a developer's server.
 */
#define PG_NO_FILE "/dev/null/none"

/* The system's trusted roots (Debian), for sslmode verify-ca and
 * verify-full. */
#define PG_ROOT_CERTS "/etc/ssl/certs/ca-certificates.crt"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* What a destination URL may set. Everything else is refused: other
 * hosts or services, files on ferry's machine, Kerberos. */
static const char *const url_keywords[] = {
    "host",     "port",    "dbname",          "user",
    "password", "sslmode", "channel_binding", "application_name",
    "options",
};

static const char *const ssl_modes[] = {
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full",
};

/* Do the tables exist (in the connection's search_path), the users one
 * with state_at (which tables made by earlier versions lack)? And the
 * type state_at has, if it is there ('' if not). */
static const char tables_exist_sql[] =
    "SELECT to_regclass('ferry_users') IS NOT NULL"
    " AND to_regclass('ferry_payloads') IS NOT NULL"
    " AND EXISTS (SELECT 1 FROM pg_attribute"
    "  WHERE attrelid = to_regclass('ferry_users')"
    "  AND attname = 'state_at' AND NOT attisdropped),"
    " coalesce((SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
    "  WHERE attrelid = to_regclass('ferry_users')"
    "  AND attname = 'state_at' AND NOT attisdropped), '')";

/*
 * The tables. The advisory lock (its key is "ferry" in ASCII) keeps two
 * destinations, or two ferry processes, that share a database from
 * making them at the same time, which IF NOT EXISTS alone does not.
 */
static const char tables_sql[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(439869517433);"
    "CREATE TABLE IF NOT EXISTS ferry_users ("
    " user_id text PRIMARY KEY,"
    " reference_id text,"
    " provider text,"
    " state text NOT NULL,"
    " scopes text,"
    " created_at timestamptz,"
    " updated_at timestamptz NOT NULL,"
    " state_at timestamptz);"
    "ALTER TABLE ferry_users ADD COLUMN IF NOT EXISTS state_at timestamptz;"
    "CREATE TABLE IF NOT EXISTS ferry_payloads ("
    " event_id uuid PRIMARY KEY,"
    " user_id text,"
    " type text NOT NULL,"
    " start_time timestamptz,"
    " end_time timestamptz,"
    " created_at timestamptz NOT NULL,"
    " payload jsonb NOT NULL);"
    "CREATE INDEX IF NOT EXISTS ferry_payloads_user"
    " ON ferry_payloads (user_id, created_at);"
    "COMMIT";

static const char payload_sql[] =
    "INSERT INTO ferry_payloads (event_id, user_id, type, start_time,"
    " end_time, created_at, payload)"
    " VALUES ($1::uuid, $2, $3, $4::timestamptz, $5::timestamptz,"
    " $6::timestamptz, $7::jsonb)"
    " ON CONFLICT (event_id) DO NOTHING";

/*
 * state_at is the time of the event that set the state (updated_at, when
 * the row was written). Events of one user can reach the database out of
 * order (a user_reauth is queued with the new user's events, a
 * connection_error with the old one's, and either may be retried), so
 * an older event never overwrites what a newer one wrote. Both times are
 * ferry's, so the database's clock plays no part; a row written before
 * state_at existed takes any event.
 */
static const char user_sql[] =
    "INSERT INTO ferry_users (user_id, reference_id, provider, state,"
    " scopes, created_at, updated_at, state_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::timestamptz, now(), $7::timestamptz)"
    " ON CONFLICT (user_id) DO UPDATE SET"
    " reference_id = EXCLUDED.reference_id,"
    " provider = EXCLUDED.provider,"
    " state = EXCLUDED.state,"
    " scopes = EXCLUDED.scopes,"
    " created_at = COALESCE(EXCLUDED.created_at, ferry_users.created_at),"
    " updated_at = EXCLUDED.updated_at,"
    " state_at = EXCLUDED.state_at"
    " WHERE ferry_users.state_at IS NULL"
    " OR ferry_users.state_at <= EXCLUDED.state_at";

/* Which user object of a lifecycle event moves to which state. */
static const struct user_move {
    const char *type;  /* the event's type */
    const char *field; /* its TerraUser object */
    const char *state; /* ferry_users.state */
} user_moves[] = {
    {"auth", "user", "active"}, /* status "success" only */
    {"user_reauth", "old_user", "reauthorized"},
    {"user_reauth", "new_user", "active"},
    {"deauth", "user", "deauthorized"},
    {"access_revoked", "user", "revoked"},
    {"connection_error", "user", "error"},
};

/* One destination's thread, its queue and its connection. */
struct pg_dest {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct deliver_attempt *queue[PG_QUEUE_MAX]; /* a ring */
    size_t head;
    size_t count;
    int stopping;
    int detached; /* close() ran on the thread, which frees this */
    char *url;    /* conf.url, password included: wiped when freed */
    PGconn *conn; /* the thread's alone */
};

/* ---- the URL ---- */

static int
listed(const char *s, const char *const *list, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The value of `keyword` in `o`, or NULL. Borrowed. */
static const char *
opt_get(const PQconninfoOption *o, const char *keyword)
{
    for (; o != NULL && o->keyword != NULL; o++) {
        if (o->val != NULL && strcmp(o->keyword, keyword) == 0) {
            return o->val;
        }
    }
    return NULL;
}

/* Free what PQconninfoParse() gave, the password wiped first. NULL is
 * fine. */
static void
opts_free(PQconninfoOption *o)
{
    PQconninfoOption *p = o;

    for (; p != NULL && p->keyword != NULL; p++) {
        if (p->val != NULL && strcmp(p->keyword, "password") == 0) {
            crypto_wipe(p->val, strlen(p->val));
        }
    }
    PQconninfoFree(o);
}

/*
 * `url` (which starts with a scheme and "://") into `shown` (`n` bytes)
 * with the password of its user part replaced by ***. The user part is
 * read as libpq reads it: up to the first '@' that comes before any '/',
 * the password after its first ':'. ERR_TOOBIG when it does not fit.
 */
static int
url_redact(const char *url, char *shown, size_t n)
{
    const char *auth = strstr(url, "://") + 3;
    size_t span = strcspn(auth, "@/");
    const char *colon = NULL;
    int len = 0;

    if (auth[span] == '@') {
        colon = memchr(auth, ':', span);
    }
    if (colon == NULL) {
        len = snprintf(shown, n, "%s", url);
    } else {
        len = snprintf(shown, n, "%.*s***%s", (int)(colon + 1 - url), url,
                       auth + span);
    }
    return len < 0 || (size_t)len >= n ? ERR_TOOBIG : 0;
}

/* `url` up to its query string, as a new string (caller frees). */
static char *
url_without_query(const char *url)
{
    const char *auth = strstr(url, "://") + 3;
    size_t span = strcspn(auth, "@/");
    const char *host = auth[span] == '@' ? auth + span + 1 : auth;

    return xstrndup(url, (size_t)(host - url) + strcspn(host, "?"));
}

static int
port_valid(const char *s)
{
    long v = 0;
    char *end = NULL;

    if (s[0] < '0' || s[0] > '9') {
        return 0;
    }
    v = strtol(s, &end, 10);
    return *end == '\0' && v >= 1 && v <= 65535;
}

/* The parameters of a parsed URL: allowed, and one TCP host. */
static int
params_check(const PQconninfoOption *o, struct err *e)
{
    const PQconninfoOption *p = o;
    const char *host = opt_get(o, "host");
    const char *port = opt_get(o, "port");
    const char *mode = opt_get(o, "sslmode");
    const char *options = opt_get(o, "options");

    for (; p->keyword != NULL; p++) {
        if (p->val != NULL &&
            !listed(p->keyword, url_keywords, ARRAY_LEN(url_keywords))) {
            return err_set(e, ERR_INVALID,
                           "url: the parameter %s is not accepted", p->keyword);
        }
    }
    if (host == NULL || host[0] == '\0') {
        return err_set(e, ERR_INVALID,
                       "url: name the database server "
                       "(postgresql://user:password@host:port/database)");
    }
    if (host[0] == '/' || host[0] == '@') {
        return err_set(e, ERR_INVALID,
                       "url: a Unix socket is not a destination; name a "
                       "host");
    }
    if (strchr(host, '@') != NULL) {
        return err_set(e, ERR_INVALID,
                       "url: an @ in the user or password must be written "
                       "%%40");
    }
    if (strchr(host, ',') != NULL || (port != NULL && strchr(port, ','))) {
        return err_set(e, ERR_INVALID, "url: name one host");
    }
    if (port != NULL && !port_valid(port)) {
        return err_set(e, ERR_INVALID,
                       "url: the port must be a number from 1 to 65535");
    }
    if (mode != NULL && !listed(mode, ssl_modes, ARRAY_LEN(ssl_modes))) {
        return err_set(e, ERR_INVALID,
                       "url: sslmode must be disable, allow, prefer, "
                       "require, verify-ca or verify-full");
    }
    if (options != NULL && strlen(options) > PG_USER_OPTIONS_MAX) {
        return err_set(e, ERR_INVALID, "url: options is longer than %d bytes",
                       PG_USER_OPTIONS_MAX);
    }
    return 0;
}

/*
 * Where the host and the password come from. The host must be the one
 * in the URL's authority, which the caller checks for a private address
 * (a host= in the query would replace it); the password must be in the
 * user part, where url_redact() hides it.
 */
static int
parts_check(const char *url, const char *shown, const PQconninfoOption *o,
            struct err *e)
{
    char *bare = url_without_query(url);
    PQconninfoOption *bo = PQconninfoParse(bare, NULL);
    PQconninfoOption *so = PQconninfoParse(shown, NULL);
    const char *host = opt_get(bo, "host");
    const char *password = opt_get(so, "password");
    int rc = 0;

    if (host == NULL || strcmp(host, opt_get(o, "host")) != 0) {
        rc = err_set(e, ERR_INVALID,
                     "url: give the host before the path "
                     "(postgresql://user:password@host/database), not "
                     "as a parameter");
    } else if (so == NULL ||
               (password != NULL && strcmp(password, "***") != 0)) {
        rc = err_set(e, ERR_INVALID,
                     "url: give the password in the user part "
                     "(postgresql://user:password@host/database)");
    }
    opts_free(bo);
    opts_free(so);
    free(bare);
    return rc;
}

static int
pg_check(const char *url, const json_t *opts, json_t **conf, char *shown,
         size_t shown_n, struct err *e)
{
    PQconninfoOption *o = NULL;
    char *msg = NULL;
    int rc = 0;

    (void)opts; /* the URL says everything */
    *conf = NULL;
    if (strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0) {
        return err_set(e, ERR_INVALID,
                       "url: a postgres destination takes a "
                       "postgresql:// URL");
    }
    if (strlen(url) > PG_URL_MAX || url_redact(url, shown, shown_n) < 0) {
        return err_set(e, ERR_INVALID, "url: longer than %d bytes", PG_URL_MAX);
    }
    o = PQconninfoParse(url, &msg);
    if (o == NULL && strcmp(url, shown) != 0) {
        /* libpq quotes the part it could not read: maybe the password */
        rc = err_set(e, ERR_INVALID, "url: not a valid PostgreSQL URL");
        goto out;
    }
    if (o == NULL) {
        const char *why = msg != NULL ? msg : "out of memory";

        rc = err_set(e, ERR_INVALID, "url: not a valid PostgreSQL URL: %.*s",
                     (int)strcspn(why, "\n"), why);
        goto out;
    }
    rc = params_check(o, e);
    if (rc == 0) {
        rc = parts_check(url, shown, o, e);
    }
    if (rc == 0) {
        *conf = json_pack("{s:s}", "url", url);
        if (*conf == NULL) {
            rc = err_set(e, ERR_INVALID, "url: not valid UTF-8");
        }
    }
out:
    PQfreemem(msg);
    opts_free(o);
    return rc;
}

/* ---- connecting ---- */

/*
 * libpq's message `msg` into `out` (PG_MSG_MAX bytes) as one line: runs
 * of white space become one space, the ends are trimmed, and `secret`
 * (NULL or "": none) is replaced by *** wherever it appears.
 */
static void
msg_clean(char out[PG_MSG_MAX], const char *msg, const char *secret)
{
    size_t slen = secret != NULL ? strlen(secret) : 0;
    size_t n = 0;
    int space = 0;

    for (; *msg != '\0' && n + 4 < PG_MSG_MAX; msg++) {
        if (slen > 0 && strncmp(msg, secret, slen) == 0) {
            memcpy(out + n, "***", 3);
            n += 3;
            msg += slen - 1;
            space = 0;
        } else if (*msg == ' ' || *msg == '\t' || *msg == '\n' ||
                   *msg == '\r') {
            space = n > 0;
        } else {
            if (space) {
                out[n++] = ' ';
            }
            out[n++] = *msg;
            space = 0;
        }
    }
    out[n] = '\0';
}

/* Server notices ("relation already exists, skipping") are not ours to
 * print on stderr. */
static void
notice_quiet(void *arg, const char *msg)
{
    char line[PG_MSG_MAX];

    (void)arg;
    if (log_enabled(LOG_DEBUG)) {
        msg_clean(line, msg, NULL);
        log_event(LOG_DEBUG, "deliver", "postgres.notice", "message=%s", line);
    }
}

/* Keywords and values for PQconnectdbParams(), each list NULL-ended. */
struct params {
    const char *kw[PG_PARAMS_MAX + 1];
    const char *val[PG_PARAMS_MAX + 1];
    size_t n;
};

static void
param(struct params *p, const char *kw, const char *val)
{
    if (p->n == PG_PARAMS_MAX) {
        BUG("postgres: too many connection parameters");
    }
    p->kw[p->n] = kw;
    p->val[p->n] = val;
    p->n++;
    p->kw[p->n] = NULL;
    p->val[p->n] = NULL;
}

/* The URL's own settings, then ours; `addr` is the host's address. The
 * strings stay owned by `o` and the caller's buffers. */
static void
params_fill(struct params *p, const PQconninfoOption *o, const char *addr,
            const char *secs, const char *ms, const char *options)
{
    static const char *const own[] = {
        "user", "password", "dbname", "sslmode", "channel_binding",
    };
    const char *mode = opt_get(o, "sslmode");
    const char *app = opt_get(o, "application_name");
    const char *port = opt_get(o, "port");
    size_t i = 0;

    memset(p, 0, sizeof(*p));
    for (i = 0; i < ARRAY_LEN(own); i++) {
        if (opt_get(o, own[i]) != NULL) {
            param(p, own[i], opt_get(o, own[i]));
        }
    }
    param(p, "host", opt_get(o, "host"));
    param(p, "hostaddr", addr);
    param(p, "port", port != NULL ? port : "5432");
    param(p, "application_name", app != NULL ? app : "ferry");
    param(p, "connect_timeout", secs);
    param(p, "tcp_user_timeout", ms);
    param(p, "options", options);
    param(p, "client_encoding", "UTF8");
    param(p, "passfile", PG_NO_FILE);
    param(p, "sslcert", PG_NO_FILE);
    param(p, "sslkey", PG_NO_FILE);
    param(p, "gssencmode", "disable");
    /* XXX: without sslmode in the URL libpq's own default, prefer,
     * applies: TLS when the server offers it, else plain text. Whether
     * ferry should ask for require toward public hosts is still to be
     * decided. */
    if (mode != NULL && strncmp(mode, "verify-", 7) == 0) {
        param(p, "sslrootcert", PG_ROOT_CERTS);
    }
}

/*
 * Connect for `at` to the database of `url`: resolve its host (refused
 * when it is private, unless that is allowed), connect to that address
 * with the attempt's timeout for connecting and for every statement.
 * The connection into `*out`, or -1 with `r` filled.
 */
static int
pg_connect(const char *url, const struct deliver_attempt *at, PGconn **out,
           struct deliver_result *r)
{
    PQconninfoOption *o = PQconninfoParse(url, NULL);
    const char *host = opt_get(o, "host");
    const char *extra = opt_get(o, "options");
    long ms = at->timeout_ms > 0 ? at->timeout_ms : 30000;
    char addr[RESOLVE_ADDR_MAX];
    char secs[24];
    char msv[24];
    char options[PG_OPTIONS_MAX];
    char msg[PG_MSG_MAX];
    struct params p;
    struct err e;
    PGconn *c = NULL;
    int rc = -1;

    *out = NULL;
    err_clear(&e);
    if (host == NULL) {
        deliver_result_fail(r, 0, "postgres: the URL names no host");
        goto out;
    }
    if (resolve_public(host, at->allow_private, addr, &e) < 0) {
        deliver_result_fail(r, 0, "postgres: %s", e.msg);
        goto out;
    }
    /*
     * libpq waits at least 2 s; our statement_timeout comes last and
     * wins over one in the URL's options.
     *
     * XXX: the timeout bounds connecting and each statement, not the
     * attempt: one attempt may run several statements, so a slow
     * database can hold an attempt past its lease and a second claim
     * may write the event too (harmless, the row is keyed by event id,
     * but the attempt is counted twice). One deadline for the whole
     * attempt needs libpq's asynchronous calls and a poll loop.
     */
    snprintf(secs, sizeof(secs), "%ld", ms < 2000 ? 2 : (ms + 999) / 1000);
    snprintf(msv, sizeof(msv), "%ld", ms);
    snprintf(options, sizeof(options), "%s -c statement_timeout=%ld",
             extra != NULL ? extra : "", ms);
    params_fill(&p, o, addr, secs, msv, options);
    c = PQconnectdbParams(p.kw, p.val, 0);
    if (c == NULL) {
        deliver_result_fail(r, 0, "postgres: out of memory");
        goto out;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        msg_clean(msg, PQerrorMessage(c), opt_get(o, "password"));
        deliver_result_fail(r, 0, "postgres: %s", msg);
        PQfinish(c);
        goto out;
    }
    PQsetNoticeProcessor(c, notice_quiet, NULL);
    *out = c;
    rc = 0;
out:
    opts_free(o);
    return rc;
}

/* ---- writing ---- */

/* Fail `r` with what went wrong on `c`: `res`'s message, else the
 * connection's. */
static void
fail_query(struct deliver_result *r, PGconn *c, const PGresult *res)
{
    const char *m = res != NULL ? PQresultErrorMessage(res) : "";
    char msg[PG_MSG_MAX];

    msg_clean(msg, m[0] != '\0' ? m : PQerrorMessage(c), NULL);
    deliver_result_fail(r, 0, "postgres: %s", msg);
}

/* Run the constant `sql` (no values); 0, or -1 with `r` filled. */
static int
exec_plain(PGconn *c, const char *sql, struct deliver_result *r)
{
    PGresult *res = PQexec(c, sql);
    int st = PQresultStatus(res);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail_query(r, c, res);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* Make the tables unless they exist. */
static int
tables_ensure(PGconn *c, const struct deliver_attempt *at,
              struct deliver_result *r)
{
    PGresult *res = PQexec(c, tables_exist_sql);
    int exist = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fail_query(r, c, res);
        PQclear(res);
        return -1;
    }
    exist = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] != '\0' &&
        strcmp(PQgetvalue(res, 0, 1), "timestamp with time zone") != 0) {
        /* the developer's own column: ferry would misorder the states */
        deliver_result_fail(r, 0,
                            "postgres: ferry_users.state_at is %.64s, not "
                            "timestamp with time zone; rename or drop it",
                            PQgetvalue(res, 0, 1));
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (exist) {
        return 0;
    }
    if (exec_plain(c, tables_sql, r) < 0) {
        return -1;
    }
    log_event(LOG_INFO, "deliver", "postgres.tables_made", "destination=%s",
              at->dest->id);
    return 0;
}

/*
 * The ISO 8601 time `v` (a JSON string) in a form PostgreSQL reads
 * exactly, written to `out`; NULL (SQL NULL) when `v` is not a time.
 */
static const char *
time_param(const json_t *v, char out[ISOTIME_MAX])
{
    int64_t us = 0;
    int off = 0;

    if (!json_is_string(v) ||
        isotime_parse(json_string_value(v), &us, &off, NULL) < 0) {
        return NULL;
    }
    isotime_format(us, off, out);
    return out;
}

/* The string `key` of the object `o`, or NULL. Borrowed. */
static const char *
str_get(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Insert the payload row of `at`; `*fresh` says whether it is new. */
static int
payload_insert(PGconn *c, const struct deliver_attempt *at, const json_t *body,
               int *fresh, struct deliver_result *r)
{
    const json_t *first = json_array_get(json_object_get(body, "data"), 0);
    const json_t *meta = json_object_get(first, "metadata");
    char start[ISOTIME_MAX];
    char end[ISOTIME_MAX];
    char created[ISOTIME_MAX];
    char *text = xstrndup(at->body, at->body_len);
    const char *v[7];
    PGresult *res = NULL;
    int rc = 0;

    isotime_format(at->created_at, 0, created);
    v[0] = at->event_id;
    v[1] = at->user_id != NULL
               ? at->user_id
               : str_get(json_object_get(body, "user"), "user_id");
    v[2] = at->event_type;
    v[3] = time_param(json_object_get(meta, "start_time"), start);
    v[4] = time_param(json_object_get(meta, "end_time"), end);
    v[5] = created;
    v[6] = text;
    res = PQexecParams(c, payload_sql, 7, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail_query(r, c, res);
        rc = -1;
    } else {
        *fresh = strcmp(PQcmdTuples(res), "1") == 0;
    }
    PQclear(res);
    free(text);
    return rc;
}

/* Upsert the TerraUser `u` with `state`; nothing when `u` names no
 * user. */
static int
user_upsert(PGconn *c, const json_t *u, const char *state, int64_t at,
            struct deliver_result *r)
{
    char created[ISOTIME_MAX];
    char updated[ISOTIME_MAX];
    const char *v[7];
    PGresult *res = NULL;
    int rc = 0;

    if (str_get(u, "user_id") == NULL) {
        return 0;
    }
    v[0] = str_get(u, "user_id");
    v[1] = str_get(u, "reference_id");
    v[2] = str_get(u, "provider");
    v[3] = state;
    v[4] = str_get(u, "scopes");
    v[5] = time_param(json_object_get(u, "created_at"), created);
    isotime_format(at, 0, updated);
    v[6] = updated;
    res = PQexecParams(c, user_sql, 7, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail_query(r, c, res);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* The ferry_users rows the event of `type`, made at `at` (unix us),
 * moves. */
static int
users_update(PGconn *c, const char *type, int64_t at, const json_t *body,
             struct deliver_result *r)
{
    const char *status = str_get(body, "status");
    size_t i = 0;

    /* a failed connection names a user id that was never made */
    if (strcmp(type, "auth") == 0 &&
        (status == NULL || strcmp(status, "success") != 0)) {
        return 0;
    }
    for (i = 0; i < ARRAY_LEN(user_moves); i++) {
        const struct user_move *m = &user_moves[i];

        if (strcmp(m->type, type) == 0 &&
            user_upsert(c, json_object_get(body, m->field), m->state, at, r) <
                0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Write `at` in one transaction: its payload row and, when that row is
 * new, the user rows its type moves (so a replay changes nothing). 0, or
 * -1 with `r` filled; the caller drops the connection then, which rolls
 * back what was begun.
 */
static int
event_write(PGconn *c, const struct deliver_attempt *at, const json_t *body,
            struct deliver_result *r)
{
    int fresh = 0;

    if (exec_plain(c, "BEGIN", r) < 0 ||
        payload_insert(c, at, body, &fresh, r) < 0) {
        return -1;
    }
    if (fresh && users_update(c, at->event_type, at->created_at, body, r) < 0) {
        return -1;
    }
    return exec_plain(c, "COMMIT", r);
}

/* ---- the thread ---- */

static void
conn_drop(struct pg_dest *p)
{
    PQfinish(p->conn);
    p->conn = NULL;
}

/* A new connection for `at`, the tables made. */
static int
conn_open(struct pg_dest *p, const struct deliver_attempt *at,
          struct deliver_result *r)
{
    if (pg_connect(p->url, at, &p->conn, r) < 0) {
        return -1;
    }
    if (tables_ensure(p->conn, at, r) < 0) {
        conn_drop(p);
        return -1;
    }
    return 0;
}

static void
attempt_run(struct pg_dest *p, const struct deliver_attempt *at,
            struct deliver_result *r)
{
    json_error_t jerr;
    /* only a few strings are read here; the row keeps the bytes, so an
     * integer past 64 bits must not make the body unreadable */
    json_t *body =
        json_loadb(at->body, at->body_len, JSON_DECODE_INT_AS_REAL, &jerr);
    int kept = p->conn != NULL;
    int rc = 0;

    if (body == NULL) {
        deliver_result_fail(r, 0, "postgres: the event body is not JSON: %s",
                            jerr.text);
        return;
    }
    if (!kept && conn_open(p, at, r) < 0) {
        goto out;
    }
    rc = event_write(p->conn, at, body, r);
    if (rc < 0 && kept && PQstatus(p->conn) == CONNECTION_BAD) {
        /* the server closed the connection kept since the last attempt
         * (a restart, an idle timeout): once more on a new one */
        conn_drop(p);
        rc = conn_open(p, at, r);
        if (rc == 0) {
            rc = event_write(p->conn, at, body, r);
        }
    }
    if (rc < 0) {
        conn_drop(p);
        goto out;
    }
    memset(r, 0, sizeof(*r));
    r->ok = 1;
    r->retry_after = -1;
out:
    json_decref(body);
}

static void
pg_dest_free(struct pg_dest *p)
{
    conn_drop(p);
    crypto_wipe(p->url, strlen(p->url));
    free(p->url);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void *
pg_thread(void *arg)
{
    struct pg_dest *p = arg;
    struct deliver_attempt *at = NULL;
    struct deliver_result r;
    int detached = 0;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->count == 0 && !p->stopping) {
            pthread_cond_wait(&p->wake, &p->lock);
        }
        if (p->stopping) {
            detached = p->detached;
            pthread_mutex_unlock(&p->lock);
            break;
        }
        at = p->queue[p->head];
        p->head = (p->head + 1) % PG_QUEUE_MAX;
        p->count--;
        pthread_mutex_unlock(&p->lock);
        attempt_run(p, at, &r);
        /* may end in close() on this very thread (see pg_close) */
        deliver_attempt_done(at, &r);
    }
    if (detached) {
        pg_dest_free(p);
    } else {
        conn_drop(p);
    }
    return NULL;
}

/* ---- the driver ---- */

static int
pg_open(struct deliver_dest *d, struct err *e)
{
    const char *url = str_get(d->conf, "url");
    struct pg_dest *p = NULL;

    if (url == NULL) {
        return err_set(e, ERR_CONFIG, "postgres: the destination has no url");
    }
    p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->url = xstrdup(url);
    if (pthread_create(&p->thread, NULL, pg_thread, p) != 0) {
        pg_dest_free(p);
        return err_set(e, ERR_INTERNAL, "postgres: cannot start a thread");
    }
    d->driver_state = p;
    return 0;
}

/*
 * Stop the thread: the attempt it is running finishes (its timeouts
 * bound it), the queued ones are given back untried. When the engine
 * drops the destination from inside deliver_attempt_done() on the
 * thread itself, the thread cannot be joined: it is detached and frees
 * the state as it ends.
 */
static void
pg_close(struct deliver_dest *d)
{
    struct pg_dest *p = d->driver_state;
    struct deliver_attempt *held[PG_QUEUE_MAX];
    struct deliver_result r;
    size_t n = 0;
    size_t i = 0;
    int self = 0;

    if (p == NULL) {
        return;
    }
    d->driver_state = NULL;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    while (p->count > 0) {
        held[n++] = p->queue[p->head];
        p->head = (p->head + 1) % PG_QUEUE_MAX;
        p->count--;
    }
    self = pthread_equal(pthread_self(), p->thread);
    p->detached = self;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < n; i++) {
        deliver_result_fail(&r, 0, "not sent: ferry is stopping");
        r.not_tried = 1;
        deliver_attempt_done(held[i], &r);
    }
    if (self) {
        pthread_detach(p->thread);
        return;
    }
    pthread_join(p->thread, NULL);
    pg_dest_free(p);
}

static void
pg_send(struct deliver_attempt *at)
{
    struct pg_dest *p = at->dest->driver_state;
    struct deliver_result r;
    int stopping = 1;

    if (p != NULL) {
        pthread_mutex_lock(&p->lock);
        stopping = p->stopping;
        if (!stopping && p->count < PG_QUEUE_MAX) {
            p->queue[(p->head + p->count) % PG_QUEUE_MAX] = at;
            p->count++;
            pthread_cond_signal(&p->wake);
            pthread_mutex_unlock(&p->lock);
            return;
        }
        pthread_mutex_unlock(&p->lock);
    }
    if (stopping) {
        deliver_result_fail(&r, 0, "not sent: ferry is stopping");
        r.not_tried = 1;
    } else {
        deliver_result_fail(&r, 0,
                            "postgres: %d attempts already wait for this "
                            "database",
                            PG_QUEUE_MAX);
    }
    deliver_attempt_done(at, &r);
}

/*
 * One connection writes one event at a time, so more than one attempt
 * in flight would only wait in the queue while its lease runs out.
 */
const struct deliver_driver deliver_postgres = {
    .kind = "postgres",
    .concurrency = 1,
    .check = pg_check,
    .open = pg_open,
    .close = pg_close,
    .send = pg_send,
};
