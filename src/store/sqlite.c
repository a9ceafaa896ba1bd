/*
 * sqlite.c - the SQLite backend of store.h.
 *
 * Connections: one writer, one checkpointer and a pool of readers, all
 * opened with SQLITE_OPEN_NOMUTEX; this file makes sure a connection is
 * used by one thread at a time. The writer connection belongs to the
 * writer thread, the checkpointer's to the checkpointer thread; readers
 * wait on `rcond` for a free connection. WAL lets readers run while the
 * writer commits.
 *
 * Writes (group commit): a write function fills a `struct wop` and
 * queues it; the writer thread takes every queued write (at most
 * BATCH_MAX) and runs them in one BEGIN IMMEDIATE ... COMMIT, each
 * isolated from the others: a write of one statement by SQLite's own
 * statement rollback, any other between SAVEPOINT and RELEASE; so a
 * failing write leaves nothing and fails alone. Then it reports each
 * outcome: it wakes
 * the synchronous callers and calls the done callbacks of asynchronous
 * ones. Every read is one SELECT, which SQLite runs in one implicit read
 * transaction, so a read sees one snapshot.
 *
 * Checkpoints: the writer has wal_autocheckpoint off, so no commit ever
 * copies the log back into the database. Its WAL hook wakes the
 * checkpointer thread each time CHECKPOINT_PAGES pages were added to
 * the log; that runs a PASSIVE checkpoint (which waits for nobody) on
 * its own connection while the writer goes on. The log starts over from
 * its beginning only when a write transaction begins with all of it
 * copied, which a writer that never pauses would not allow: so once the
 * log holds RESTART_PAGES, the checkpointer's next pass is followed by
 * a PASSIVE checkpoint on the writer, between two batches, of the
 * little written since that pass began; the writer's next transaction
 * then starts the log over. store_free() ends with a TRUNCATE
 * checkpoint.
 *
 * Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT)
 * on first use and kept until the connection closes; after each use they
 * are reset and their bindings cleared, so no borrowed string outlives
 * the call that bound it.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/backend.h"

#define DEFAULT_READERS 4
#define MAX_READERS     64
#define DEFAULT_BUSY_MS 5000
#define HASH_LEN        32

#define BATCH_MAX        256   /* writes in one transaction, at most */
#define CHECKPOINT_PAGES 4000  /* new log pages that wake the checkpointer */
#define RESTART_PAGES    16000 /* log size at which the log starts over */
#define REQ_ID_MAX       40    /* log request ids kept for done callbacks */

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_VERSION_TABLE,
    ST_VERSION,
    ST_VERSION_ADD,
    ST_DEV_INSERT,
    ST_DEV_GET,
    ST_DEV_BY_NAME,
    ST_DEV_LIST,
    ST_KEY_INSERT,
    ST_KEY_REVOKE,
    ST_KEY_EXISTS,
    ST_KEY_LIST,
    ST_KEY_ACTIVE,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_BY_TOKEN,
    ST_TOKEN_COUNT,
    ST_COUNT
};

#define DEV_COLS                                                               \
    "SELECT d.id, d.name, d.created_at,"                                       \
    " (SELECT count(*) FROM api_keys k"                                        \
    "  WHERE k.dev_id = d.id AND k.revoked_at IS NULL)"                        \
    " FROM developers d"

#define KEY_COLS "SELECT id, dev_id, hash, hint, created_at, revoked_at"

#define SESSION_COLS                                                           \
    "SELECT id, dev_id, kind, token_hash, reference_id, providers,"            \
    " language, success_url, failure_url, created_at, expires_at,"             \
    " completed_at FROM sessions"

/* Parameters are `?` in the order the code binds them. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT w",
    [ST_RELEASE] = "RELEASE w",
    [ST_ROLLBACK_TO] = "ROLLBACK TO w",
    [ST_VERSION_TABLE] = "SELECT count(*) FROM sqlite_master"
                         " WHERE type = 'table'"
                         " AND name = 'schema_migrations'",
    [ST_VERSION] = "SELECT coalesce(max(version), 0)"
                   " FROM schema_migrations",
    [ST_VERSION_ADD] = "INSERT INTO schema_migrations (version, applied_at)"
                       " VALUES (?, ?)",
    [ST_DEV_INSERT] = "INSERT INTO developers (id, name, created_at)"
                      " VALUES (?, ?, ?)",
    [ST_DEV_GET] = DEV_COLS " WHERE d.id = ?",
    [ST_DEV_BY_NAME] = DEV_COLS " WHERE d.name = ?"
                                " ORDER BY d.created_at, d.id LIMIT 1",
    [ST_DEV_LIST] = DEV_COLS " ORDER BY d.created_at, d.id",
    [ST_KEY_INSERT] = "INSERT INTO api_keys"
                      " (id, dev_id, hash, hint, created_at, revoked_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?"
                      " WHERE id = ? AND revoked_at IS NULL",
    [ST_KEY_EXISTS] = "SELECT 1 FROM api_keys WHERE id = ?",
    [ST_KEY_LIST] = KEY_COLS " FROM api_keys WHERE dev_id = ?"
                             " ORDER BY created_at, id",
    [ST_KEY_ACTIVE] = "SELECT hash FROM api_keys"
                      " WHERE dev_id = ? AND revoked_at IS NULL",
    [ST_SESSION_INSERT] = "INSERT INTO sessions"
                          " (id, dev_id, kind, token_hash, reference_id,"
                          " providers, language, success_url, failure_url,"
                          " created_at, expires_at, completed_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SESSION_GET] = SESSION_COLS " WHERE id = ?",
    [ST_SESSION_BY_TOKEN] = SESSION_COLS " WHERE token_hash = ?",
    [ST_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
};

/* Run before each migration; the table is not part of any migration. */
static const char version_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at INTEGER NOT NULL)";

/*
 * wal_autocheckpoint = 0: checkpoints are the checkpointer's job. A
 * page cache of 32 MiB, not SQLite's 2 MiB, for the writer, whose
 * inserts into random-key indexes (ids, token hashes) touch pages all
 * over them; a miss is a pread() on the commit path.
 */
static const char writer_pragmas[] = "PRAGMA foreign_keys = ON;"
                                     "PRAGMA synchronous = NORMAL;"
                                     "PRAGMA wal_autocheckpoint = 0;"
                                     "PRAGMA cache_size = -32768;";

static const char reader_pragmas[] = "PRAGMA foreign_keys = ON;"
                                     "PRAGMA synchronous = NORMAL;"
                                     "PRAGMA query_only = ON;";

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT]; /* prepared on first use */
    struct conn *next;            /* in the idle list, readers only */
};

/*
 * One write for the writer thread. `run` does its statements on the
 * writer connection, inside the batch's transaction (and, unless it is
 * `one_statement`, a savepoint of its own) or, when `alone`, in
 * transactions of its own. A
 * synchronous caller keeps the op on its stack and waits for
 * `finished`; an asynchronous one is allocated with a copy of its
 * arguments, reported through `done` and freed.
 */
struct wop {
    int (*run)(struct conn *w, const struct wop *op, struct err *e);
    const char *name;  /* the public function, for messages */
    int alone;         /* runs its own transactions (migrations) */
    int one_statement; /* runs exactly one statement */
    const struct store_key *first_key; /* developer_create only */
    union {
        const struct store_developer *dev;
        const struct store_key *key;
        const struct store_session *session;
        struct {
            const char *key_id;
            int64_t now;
        } revoke;
        int *applied;
    } in;                    /* borrowed until the op is reported */
    struct err *e;           /* the detail; NULL if the caller wants none */
    int rc;                  /* the outcome; 1 while not run */
    store_done_fn done;      /* NULL for a synchronous caller */
    void *arg;               /* for done */
    int finished;            /* synchronous: rc is final (under qlock) */
    char req_id[REQ_ID_MAX]; /* asynchronous: the caller's log request id */
    struct wop *next;        /* in the queue, then in its batch */
};

/* An asynchronous store_session_create(): the op and copies. */
struct async_session {
    struct wop op; /* first: the op is freed as the whole */
    struct err err;
    struct store_session ss;
    char strings[]; /* the strings of ss, one after the other */
};
_Static_assert(offsetof(struct async_session, op) == 0,
               "an async op is freed through its struct wop");

struct sq_store {
    struct store base;     /* first, so a struct store * casts to this */
    pthread_mutex_t qlock; /* guards the queue, the flags, the stats */
    pthread_cond_t qcond;  /* the writer waits for work */
    pthread_cond_t dcond;  /* synchronous callers wait for `finished` */
    pthread_cond_t ccond;  /* the checkpointer waits for ck_wanted */
    struct wop *qhead;     /* queued writes, oldest first */
    struct wop **qtail;
    int closing;    /* store_free() began: no new writes */
    int ck_wanted;  /* the log has grown: a pass is wanted */
    int ck_restart; /* ... and the writer is to help after it */
    int ck_stop;    /* the checkpointer is to end */
    int help_due;   /* a restart pass is over: the writer helps */
    int ck_base;    /* writer only: the log size at the last wake */
    int restart_at; /* writer only: the log size to start over at */
    int wrote;      /* writer only: a commit added to the log */
    struct store_stats stats;
    pthread_t writer_thread;
    pthread_t ck_thread;
    int writer_running;
    int ck_running;
    struct conn writer;    /* the writer thread's only */
    struct conn ckpt;      /* the checkpointer thread's only */
    pthread_mutex_t rlock; /* guards ridle */
    pthread_cond_t rcond;  /* signalled when a reader goes idle */
    struct conn *readers;  /* array of nreaders */
    int nreaders;
    struct conn *ridle; /* idle readers */
};

/*
 * One use of a cached statement: parameters are bound in order, columns
 * read in order. The first failure sticks in `rc` (with its detail in
 * `e`), so a run of binds or reads needs one check at the end.
 */
struct call {
    struct conn *conn;
    sqlite3_stmt *st; /* NULL until call_start() succeeds */
    struct arena *a;  /* where column strings are copied; may be NULL */
    const char *op;   /* the public function, for messages */
    struct err *e;
    int param; /* parameters bound so far */
    int col;   /* next column of the current row */
    int rc;    /* 0, or the first ERR_* met */
};

static struct sq_store *
sq(struct store *s)
{
    return (struct sq_store *)s;
}

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Map the failure `src` (an extended result code) of `c` to an ERR_*
 * code, with the operation and SQLite's message as the detail.
 */
static int
conn_fail(struct conn *c, int src, const char *op, struct err *e)
{
    const char *msg = sqlite3_errmsg(c->db);

    switch (src) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return err_set(e, ERR_CONFLICT, "%s: %s", op, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return err_set(e, ERR_NOTFOUND, "%s: a referenced row is missing", op);
    default:
        return err_set(e, ERR_STORE, "%s: %s", op, msg);
    }
}

/* Run `sql` (any number of statements, no results wanted) on `c`. */
static int
conn_exec(struct conn *c, const char *sql, const char *op, struct err *e)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        return conn_fail(c, rc, op, e);
    }
    return 0;
}

static int
call_start(struct call *c, struct conn *conn, enum stmt_id id, struct arena *a,
           const char *op, struct err *e)
{
    int rc = SQLITE_OK;

    memset(c, 0, sizeof(*c));
    c->conn = conn;
    c->a = a;
    c->op = op;
    c->e = e;
    if (conn->stmt[id] == NULL) {
        rc = sqlite3_prepare_v3(conn->db, stmt_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &conn->stmt[id],
                                NULL);
        if (rc != SQLITE_OK) {
            /* A failed prepare leaves conn->stmt[id] NULL: retried later */
            return conn_fail(conn, rc, op, e);
        }
    }
    c->st = conn->stmt[id];
    return 0;
}

/* Reset the statement for its next use. Safe after a failed start. */
static void
call_end(struct call *c)
{
    if (c->st == NULL) {
        return;
    }
    sqlite3_reset(c->st);
    sqlite3_clear_bindings(c->st);
    c->st = NULL;
}

static void
bind_check(struct call *c, int rc)
{
    if (rc != SQLITE_OK) {
        c->rc = conn_fail(c->conn, rc, c->op, c->e);
    }
}

/* Bind the string `s` (borrowed until call_end()); NULL binds NULL. */
static void
bind_text(struct call *c, const char *s)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    if (s == NULL) {
        bind_check(c, sqlite3_bind_null(c->st, i));
        return;
    }
    bind_check(c, sqlite3_bind_text(c->st, i, s, -1, SQLITE_STATIC));
}

static void
bind_int(struct call *c, int64_t v)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    bind_check(c, sqlite3_bind_int64(c->st, i, v));
}

/* A time where 0 means "not yet": stored as NULL. */
static void
bind_time(struct call *c, int64_t t)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    if (t == 0) {
        bind_check(c, sqlite3_bind_null(c->st, i));
        return;
    }
    bind_check(c, sqlite3_bind_int64(c->st, i, t));
}

static void
bind_hash(struct call *c, const unsigned char hash[HASH_LEN])
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    bind_check(c, sqlite3_bind_blob(c->st, i, hash, HASH_LEN, SQLITE_STATIC));
}

/* 1 with a row to read, 0 when there are no more, or a negative ERR_*. */
static int
call_step(struct call *c)
{
    int rc = 0;

    if (c->rc != 0) {
        return c->rc;
    }
    rc = sqlite3_step(c->st);
    if (rc == SQLITE_ROW) {
        c->col = 0;
        return 1;
    }
    if (rc == SQLITE_DONE) {
        return 0;
    }
    c->rc = conn_fail(c->conn, rc, c->op, c->e);
    return c->rc;
}

/* Step a statement that returns no rows: 0 or a negative ERR_*. */
static int
call_run(struct call *c)
{
    int rc = call_step(c);

    return rc < 0 ? rc : 0;
}

static void
col_nomem(struct call *c)
{
    if (c->rc == 0) {
        c->rc = err_set(c->e, ERR_NOMEM, "%s: result does not fit the arena",
                        c->op);
    }
}

/* The next column as an arena string; NULL for SQL NULL (or failure). */
static const char *
col_text(struct call *c)
{
    int i = c->col++;
    const unsigned char *p = NULL;
    char *s = NULL;

    if (c->rc != 0 || sqlite3_column_type(c->st, i) == SQLITE_NULL) {
        return NULL;
    }
    p = sqlite3_column_text(c->st, i);
    if (p == NULL) {
        c->rc = err_set(c->e, ERR_STORE, "%s: SQLite is out of memory", c->op);
        return NULL;
    }
    s = arena_strndup(c->a, (const char *)p,
                      (size_t)sqlite3_column_bytes(c->st, i));
    if (s == NULL) {
        col_nomem(c);
    }
    return s;
}

static int64_t
col_int(struct call *c)
{
    int i = c->col++;

    if (c->rc != 0) {
        return 0;
    }
    return sqlite3_column_int64(c->st, i);
}

/* A time column where NULL means "not yet": 0. */
static int64_t
col_time(struct call *c)
{
    return col_int(c);
}

static void
col_hash(struct call *c, unsigned char out[HASH_LEN])
{
    int i = c->col++;
    const void *p = NULL;

    if (c->rc != 0) {
        return;
    }
    p = sqlite3_column_blob(c->st, i);
    if (p == NULL || sqlite3_column_bytes(c->st, i) != HASH_LEN) {
        c->rc = err_set(c->e, ERR_STORE, "%s: a stored hash is not %d bytes",
                        c->op, HASH_LEN);
        return;
    }
    memcpy(out, p, HASH_LEN);
}

/*
 * Room for element `n` of an arena array `arr` of `size`-byte elements
 * with `*cap` allocated. Returns the (maybe moved) array, or NULL with
 * c->rc set when the arena is full.
 */
static void *
call_grow(struct call *c, void *arr, size_t n, size_t *cap, size_t size)
{
    size_t want = *cap == 0 ? 8 : *cap * 2;
    void *p = NULL;

    if (n < *cap) {
        return arr;
    }
    if (want <= *cap || want > SIZE_MAX / size) {
        col_nomem(c);
        return NULL;
    }
    p = arena_alloc(c->a, want * size);
    if (p == NULL) {
        col_nomem(c);
        return NULL;
    }
    if (n > 0) {
        memcpy(p, arr, n * size);
    }
    *cap = want;
    return p;
}

/* ---- connections ---- */

/* Switch the database to WAL; the setting is kept in the file. */
static int
conn_wal(struct conn *c, struct err *e)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *mode = NULL;
    int rc = 0;

    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = conn_fail(c, rc, "store_open", e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = conn_fail(c, rc, "store_open", e);
        goto out;
    }
    mode = sqlite3_column_text(st, 0);
    rc = 0;
    if (mode == NULL || strcasecmp((const char *)mode, "wal") != 0) {
        rc = err_set(e, ERR_STORE, "store_open: journal_mode is %s, not wal",
                     mode == NULL ? "unknown" : (const char *)mode);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

static void
conn_close(struct conn *c)
{
    int i;

    for (i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
        c->stmt[i] = NULL;
    }
    sqlite3_close_v2(c->db);
    c->db = NULL;
}

/*
 * Open one connection to `path` and set it up: the writer creates the
 * file if needed and switches to WAL; readers are query-only.
 */
static int
conn_open(struct conn *c, const char *path, int busy_ms, int reader,
          struct err *e)
{
    const char *pragmas = reader ? reader_pragmas : writer_pragmas;
    const char *why = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc = 0;

    if (!reader) {
        flags |= SQLITE_OPEN_CREATE;
    }
    rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        /* only out of memory leaves no handle to ask */
        why = c->db == NULL ? sqlite3_errstr(rc) : sqlite3_errmsg(c->db);
        rc = err_set(e, ERR_STORE, "store_open: %s: %s", path, why);
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, busy_ms);
    if (!reader && sqlite3_db_readonly(c->db, "main") == 1) {
        /* SQLite falls back to read-only when the file is not writable:
         * every write would fail later, so refuse now */
        rc = err_set(e, ERR_STORE, "store_open: %s is read-only", path);
        goto out;
    }
    if (!reader) {
        rc = conn_wal(c, e);
        if (rc != 0) {
            goto out;
        }
    }
    rc = conn_exec(c, pragmas, "store_open", e);
out:
    if (rc != 0) {
        conn_close(c);
    }
    return rc;
}

/*
 * Create `path` with mode 0600 unless it exists, so that SQLite (which
 * gives the -wal and -shm files the mode of the database) never makes a
 * world-readable file. An existing file keeps its mode.
 */
static int
create_file(const char *path, struct err *e)
{
    char buf[128];
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (errno == EEXIST) {
            return 0;
        }
        return err_set(e, ERR_STORE, "store_open: cannot create %s: %s", path,
                       strerror_r(errno, buf, sizeof(buf)));
    }
    close(fd);
    return 0;
}

/* An idle reader; waits while all of them are in use. */
static struct conn *
reader_get(struct sq_store *q)
{
    struct conn *c = NULL;

    pthread_mutex_lock(&q->rlock);
    while (q->ridle == NULL) {
        pthread_cond_wait(&q->rcond, &q->rlock);
    }
    c = q->ridle;
    q->ridle = c->next;
    pthread_mutex_unlock(&q->rlock);
    return c;
}

static void
reader_put(struct sq_store *q, struct conn *c)
{
    pthread_mutex_lock(&q->rlock);
    c->next = q->ridle;
    q->ridle = c;
    pthread_cond_signal(&q->rcond);
    pthread_mutex_unlock(&q->rlock);
}

/* ---- transactions (writer only) ---- */

static int
tx_exec(struct conn *w, enum stmt_id id, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, id, NULL, op, e);
    if (rc == 0) {
        rc = call_run(&c);
    }
    call_end(&c);
    return rc;
}

static int
tx_begin(struct conn *w, const char *op, struct err *e)
{
    return tx_exec(w, ST_BEGIN, op, e);
}

/*
 * Finish the transaction begun by tx_begin(): COMMIT when `rc` is 0,
 * else (or when COMMIT fails) ROLLBACK. Returns the outcome; the detail
 * of the first failure is kept.
 */
static int
tx_end(struct conn *w, int rc, const char *op, struct err *e)
{
    if (rc == 0) {
        rc = tx_exec(w, ST_COMMIT, op, e);
    }
    if (rc != 0 && !sqlite3_get_autocommit(w->db)) {
        /* The detail of the failure is in `e`: keep it. */
        tx_exec(w, ST_ROLLBACK, op, NULL);
    }
    return rc;
}

/* ---- checkpoints ---- */

/*
 * SQLite's WAL hook, run by the writer after each commit: `pages` is
 * the size of the log. Wakes the checkpointer each CHECKPOINT_PAGES
 * pages, and from `restart_at` on asks it to have the writer help.
 */
static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sq_store *q = arg;

    (void)db;
    (void)name;
    q->wrote = 1;
    if (pages < q->ck_base) {
        /* the log started over */
        q->ck_base = 0;
        q->restart_at = RESTART_PAGES;
        pthread_mutex_lock(&q->qlock);
        q->stats.log_restarts++;
        pthread_mutex_unlock(&q->qlock);
    }
    if (pages - q->ck_base < CHECKPOINT_PAGES && pages < q->restart_at) {
        return SQLITE_OK;
    }
    q->ck_base = pages;
    pthread_mutex_lock(&q->qlock);
    q->ck_wanted = 1;
    if (pages >= q->restart_at) {
        q->ck_restart = 1;
        /* should that not start the log over, ask again later */
        q->restart_at = pages + CHECKPOINT_PAGES;
    }
    pthread_cond_signal(&q->ccond);
    pthread_mutex_unlock(&q->qlock);
    return SQLITE_OK;
}

/*
 * On the writer thread, between batches, after a checkpointer pass:
 * copy what was written since that pass began, so that the next write
 * transaction starts the log over. SQLITE_BUSY when another pass is at
 * work; the hook asks again later.
 */
static void
writer_help_checkpoint(struct sq_store *q)
{
    int rc = 0;

    rc = sqlite3_wal_checkpoint_v2(q->writer.db, NULL,
                                   SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        log_event(LOG_WARN, "store", "store.checkpoint_failed",
                  "mode=passive msg=%s", sqlite3_errmsg(q->writer.db));
    }
    pthread_mutex_lock(&q->qlock);
    q->stats.checkpoints += rc == SQLITE_OK;
    pthread_mutex_unlock(&q->qlock);
}

/*
 * The checkpointer thread: a PASSIVE checkpoint each time the writer
 * asks. PASSIVE copies what no reader still needs and waits for nobody.
 */
static void *
checkpointer_main(void *arg)
{
    struct sq_store *q = arg;
    int restart = 0;
    int rc = 0;

    pthread_mutex_lock(&q->qlock);
    for (;;) {
        while (!q->ck_wanted && !q->ck_stop) {
            pthread_cond_wait(&q->ccond, &q->qlock);
        }
        if (q->ck_stop) {
            break;
        }
        restart = q->ck_restart;
        q->ck_wanted = 0;
        q->ck_restart = 0;
        pthread_mutex_unlock(&q->qlock);
        rc = sqlite3_wal_checkpoint_v2(q->ckpt.db, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            log_event(LOG_WARN, "store", "store.checkpoint_failed",
                      "mode=passive msg=%s", sqlite3_errmsg(q->ckpt.db));
        }
        pthread_mutex_lock(&q->qlock);
        q->stats.checkpoints += rc == SQLITE_OK;
        q->help_due |= restart;
    }
    pthread_mutex_unlock(&q->qlock);
    return NULL;
}

/*
 * At close, when this store has written: copy the whole log into the
 * database and empty it. Without waiting: when another process (a
 * running server, for a CLI command) is using the log, SQLITE_BUSY
 * leaves the log to that process's own checkpoints.
 */
static void
checkpoint_truncate(struct sq_store *q)
{
    int rc = 0;

    if (!q->wrote) {
        return;
    }
    sqlite3_busy_timeout(q->writer.db, 0);
    rc = sqlite3_wal_checkpoint_v2(q->writer.db, NULL,
                                   SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc == SQLITE_OK) {
        q->stats.checkpoints++;
    } else if (rc != SQLITE_BUSY) {
        log_event(LOG_WARN, "store", "store.checkpoint_failed",
                  "mode=truncate msg=%s", sqlite3_errmsg(q->writer.db));
    }
}

/* ---- the writer thread ---- */

/*
 * Run `p` so that, should it fail, it leaves nothing behind and the
 * batch goes on. A write of exactly one statement needs nothing more:
 * SQLite undoes a failed statement and keeps the transaction. Any other
 * (a key revoke, which may look again after its UPDATE) runs inside a
 * savepoint of its own, released when it succeeds, rolled back to when
 * it fails. When SQLite cannot undo a failure that way the whole
 * transaction is rolled back, which batch_run() notices.
 */
static int
write_one(struct conn *w, struct wop *p)
{
    int rc = 0;
    int rc2 = 0;

    if (p->one_statement) {
        return p->run(w, p, p->e);
    }
    rc = tx_exec(w, ST_SAVEPOINT, p->name, p->e);
    if (rc != 0) {
        return rc;
    }
    rc = p->run(w, p, p->e);
    if (rc != 0 && !sqlite3_get_autocommit(w->db) &&
        tx_exec(w, ST_ROLLBACK_TO, p->name, NULL) != 0) {
        tx_exec(w, ST_ROLLBACK, p->name, NULL);
    }
    if (!sqlite3_get_autocommit(w->db)) {
        rc2 = tx_exec(w, ST_RELEASE, p->name, rc == 0 ? p->e : NULL);
        if (rc2 != 0) {
            tx_exec(w, ST_ROLLBACK, p->name, NULL);
            rc = rc == 0 ? rc2 : rc;
        }
    }
    return rc;
}

/*
 * Run the writes of `batch` in one transaction and commit it. Each
 * write's outcome goes to its `rc`. A write that fails by itself fails
 * alone. When the transaction fails (BEGIN, COMMIT, or an error after
 * which SQLite rolled it back), nothing of the batch is kept and every
 * write that had not failed by itself fails with ERR_STORE. Returns 1
 * when a transaction was committed.
 */
static int
batch_run(struct conn *w, struct wop *batch)
{
    static const char op[] = "store write";
    struct wop *p = NULL;
    struct err e;
    int rc = 0;

    if (batch->alone) {
        batch->rc = batch->run(w, batch, batch->e);
        return 0;
    }
    err_clear(&e);
    for (p = batch; p != NULL; p = p->next) {
        p->rc = 1;
    }
    rc = tx_begin(w, op, &e);
    for (p = batch; p != NULL && rc == 0; p = p->next) {
        p->rc = write_one(w, p);
        if (p->rc != 0 && sqlite3_get_autocommit(w->db)) {
            rc = err_set(&e, ERR_STORE, "%s: rolled back after a failure: %s",
                         op, sqlite3_errmsg(w->db));
        }
    }
    if (rc == 0) {
        rc = tx_end(w, 0, op, &e);
    } else {
        rc = tx_end(w, rc, op, NULL);
    }
    if (rc == 0) {
        return 1;
    }
    log_event(LOG_ERROR, "store", "store.write_failed", "msg=%s", e.msg);
    for (p = batch; p != NULL; p = p->next) {
        if (p->rc >= 0) {
            p->rc = err_set(p->e, ERR_STORE, "%s", e.msg);
        }
    }
    return 0;
}

/*
 * Detach the next batch from the queue, which is not empty (qlock
 * held): the oldest writes up to BATCH_MAX, stopping before one that
 * runs alone; or that one by itself.
 */
static struct wop *
batch_take(struct sq_store *q)
{
    struct wop *first = q->qhead;
    struct wop *last = first;
    int n = 1;

    while (!first->alone && last->next != NULL && !last->next->alone &&
           n < BATCH_MAX) {
        last = last->next;
        n++;
    }
    q->qhead = last->next;
    if (q->qhead == NULL) {
        q->qtail = &q->qhead;
    }
    last->next = NULL;
    return first;
}

/*
 * Report every write of `batch`: count them, wake the synchronous
 * callers (whose ops must not be touched once `finished` is set), then
 * call the done callbacks of the asynchronous ones and free them. So
 * the stats include a write by the time its caller hears of it.
 */
static void
batch_report(struct sq_store *q, struct wop *batch, int committed)
{
    struct wop *async = NULL;
    struct wop **async_tail = &async;
    struct wop *sync = NULL;
    struct wop *p = NULL;
    struct wop *next = NULL;
    uint64_t n = 0;

    /* split, keeping the asynchronous ones in the order they came */
    for (p = batch; p != NULL; p = next) {
        next = p->next;
        n++;
        if (p->done == NULL) {
            p->next = sync;
            sync = p;
        } else {
            p->next = NULL;
            *async_tail = p;
            async_tail = &p->next;
        }
    }

    pthread_mutex_lock(&q->qlock);
    q->stats.writes += n;
    q->stats.commits += (uint64_t)committed;
    for (p = sync; p != NULL; p = next) {
        next = p->next;
        p->finished = 1;
    }
    if (sync != NULL) {
        pthread_cond_broadcast(&q->dcond);
    }
    pthread_mutex_unlock(&q->qlock);

    for (p = async; p != NULL; p = next) {
        next = p->next;
        log_set_req_id(p->req_id[0] != '\0' ? p->req_id : NULL);
        p->done(p->arg, p->rc, p->e);
        log_set_req_id(NULL);
        free(p);
    }
}

/* The writer thread: batches until store_free() and an empty queue. */
static void *
writer_main(void *arg)
{
    struct sq_store *q = arg;
    struct wop *batch = NULL;
    int committed = 0;
    int help = 0;

    pthread_mutex_lock(&q->qlock);
    for (;;) {
        while (q->qhead == NULL && !q->closing) {
            pthread_cond_wait(&q->qcond, &q->qlock);
        }
        if (q->qhead == NULL) {
            break; /* closing, and every write is reported */
        }
        batch = batch_take(q);
        help = q->help_due;
        q->help_due = 0;
        pthread_mutex_unlock(&q->qlock);
        committed = batch_run(&q->writer, batch);
        batch_report(q, batch, committed);
        if (help) {
            writer_help_checkpoint(q);
        }
        pthread_mutex_lock(&q->qlock);
    }
    pthread_mutex_unlock(&q->qlock);
    return NULL;
}

/* Queue `op` for the writer. ERR_STORE when the store is closing. */
static int
enqueue(struct sq_store *q, struct wop *op)
{
    int rc = 0;

    op->next = NULL;
    pthread_mutex_lock(&q->qlock);
    if (q->closing) {
        rc = ERR_STORE;
    } else {
        *q->qtail = op;
        q->qtail = &op->next;
        pthread_cond_signal(&q->qcond);
    }
    pthread_mutex_unlock(&q->qlock);
    return rc;
}

/* Run `op` on the writer thread and wait for its outcome. */
static int
write_sync(struct store *s, struct wop *op, struct err *e)
{
    struct sq_store *q = sq(s);
    int rc = 0;

    if (pthread_equal(pthread_self(), q->writer_thread)) {
        BUG("store: a synchronous write on the writer thread");
    }
    op->e = e;
    rc = enqueue(q, op);
    if (rc != 0) {
        return err_set(e, rc, "%s: the store is closing", op->name);
    }
    pthread_mutex_lock(&q->qlock);
    while (!op->finished) {
        pthread_cond_wait(&q->dcond, &q->qlock);
    }
    pthread_mutex_unlock(&q->qlock);
    return op->rc;
}

/* ---- open, free, migrate ---- */

static int
threads_start(struct sq_store *q, struct err *e)
{
    if (pthread_create(&q->writer_thread, NULL, writer_main, q) != 0) {
        return err_set(e, ERR_STORE, "store_open: cannot start a thread");
    }
    q->writer_running = 1;
    if (pthread_create(&q->ck_thread, NULL, checkpointer_main, q) != 0) {
        return err_set(e, ERR_STORE, "store_open: cannot start a thread");
    }
    q->ck_running = 1;
    return 0;
}

/* Let the writer finish the queue, then end both threads. */
static void
threads_stop(struct sq_store *q)
{
    pthread_mutex_lock(&q->qlock);
    q->closing = 1;
    pthread_cond_signal(&q->qcond);
    pthread_mutex_unlock(&q->qlock);
    if (q->writer_running) {
        pthread_join(q->writer_thread, NULL);
    }

    pthread_mutex_lock(&q->qlock);
    q->ck_stop = 1;
    pthread_cond_signal(&q->ccond);
    pthread_mutex_unlock(&q->qlock);
    if (q->ck_running) {
        pthread_join(q->ck_thread, NULL);
    }
}

static void
sq_free(struct store *s)
{
    struct sq_store *q = sq(s);
    int i;

    threads_stop(q);
    if (q->writer_running) {
        checkpoint_truncate(q);
        log_event(LOG_DEBUG, "store", "store.closed",
                  "writes=%llu commits=%llu checkpoints=%llu restarts=%llu",
                  (unsigned long long)q->stats.writes,
                  (unsigned long long)q->stats.commits,
                  (unsigned long long)q->stats.checkpoints,
                  (unsigned long long)q->stats.log_restarts);
    }
    for (i = q->nreaders - 1; i >= 0; i--) {
        conn_close(&q->readers[i]);
    }
    conn_close(&q->ckpt);
    conn_close(&q->writer);
    free(q->readers);
    pthread_cond_destroy(&q->rcond);
    pthread_mutex_destroy(&q->rlock);
    pthread_cond_destroy(&q->ccond);
    pthread_cond_destroy(&q->dcond);
    pthread_cond_destroy(&q->qcond);
    pthread_mutex_destroy(&q->qlock);
    free(q);
}

static void
sq_stats(struct store *s, struct store_stats *out)
{
    struct sq_store *q = sq(s);

    pthread_mutex_lock(&q->qlock);
    *out = q->stats;
    pthread_mutex_unlock(&q->qlock);
}

/*
 * The checkpointer's connection: a reader that has read the schema once,
 * since SQLite opens the log of a connection (and can checkpoint it)
 * only after its first read.
 */
static int
ckpt_open(struct conn *c, const char *path, int busy_ms, struct err *e)
{
    int rc = conn_open(c, path, busy_ms, 1, e);

    if (rc == 0) {
        rc =
            conn_exec(c, "SELECT count(*) FROM sqlite_master", "store_open", e);
    }
    return rc;
}

static int
sq_open(struct store **out, const char *path, const struct store_options *opt,
        struct err *e)
{
    struct sq_store *q = NULL;
    int busy = opt->busy_timeout_ms;
    int n = opt->readers;
    int rc = 0;
    int i;

    if (n < 0 || n > MAX_READERS || busy < 0) {
        return err_set(e, ERR_CONFIG,
                       "store_open: readers must be 0 to %d and the busy "
                       "timeout not negative",
                       MAX_READERS);
    }
    if (strcmp(path, ":memory:") == 0) {
        /* each connection would get a database of its own */
        return err_set(e, ERR_CONFIG,
                       "store_open: an in-memory SQLite store is not "
                       "supported; name a file");
    }
    if (sqlite3_threadsafe() == 0) {
        return err_set(e, ERR_STORE,
                       "store_open: SQLite is built without threads");
    }
    n = n == 0 ? DEFAULT_READERS : n;
    busy = busy == 0 ? DEFAULT_BUSY_MS : busy;

    q = xcalloc(1, sizeof(*q));
    q->base.be = &store_sqlite_backend;
    q->qtail = &q->qhead;
    q->restart_at = RESTART_PAGES;
    if (pthread_mutex_init(&q->qlock, NULL) != 0 ||
        pthread_cond_init(&q->qcond, NULL) != 0 ||
        pthread_cond_init(&q->dcond, NULL) != 0 ||
        pthread_cond_init(&q->ccond, NULL) != 0 ||
        pthread_mutex_init(&q->rlock, NULL) != 0 ||
        pthread_cond_init(&q->rcond, NULL) != 0) {
        BUG("store: cannot initialise a mutex");
    }
    q->readers = xcalloc((size_t)n, sizeof(*q->readers));
    q->nreaders = n;

    rc = create_file(path, e);
    if (rc != 0) {
        goto out;
    }
    rc = conn_open(&q->writer, path, busy, 0, e);
    if (rc != 0) {
        goto out;
    }
    sqlite3_wal_hook(q->writer.db, on_wal_commit, q);
    rc = ckpt_open(&q->ckpt, path, busy, e);
    if (rc != 0) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        rc = conn_open(&q->readers[i], path, busy, 1, e);
        if (rc != 0) {
            goto out;
        }
        q->readers[i].next = q->ridle;
        q->ridle = &q->readers[i];
    }
    rc = threads_start(q, e);
    if (rc != 0) {
        goto out;
    }
    *out = &q->base;
out:
    if (rc != 0) {
        sq_free(&q->base);
    }
    return rc;
}

/*
 * Run `id`, a query of one value and no parameters, on `conn` into `*v`.
 */
static int
query_int(struct conn *conn, enum stmt_id id, int64_t *v, const char *op,
          struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, conn, id, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    rc = call_step(&c);
    if (rc == 1) {
        *v = col_int(&c);
        rc = 0;
    } else if (rc == 0) {
        rc = err_set(e, ERR_STORE, "%s: the query gave no row", op);
    }
out:
    call_end(&c);
    return rc;
}

static int
record_version(struct conn *w, int version, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_VERSION_ADD, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    bind_int(&c, version);
    bind_int(&c, now_us());
    rc = call_run(&c);
out:
    call_end(&c);
    return rc;
}

/*
 * Inside a write transaction: apply the migration after the database's
 * current version, if any. `*version` gets the version applied, 0 when
 * the schema was already current.
 */
static int
migrate_next(struct conn *w, int *version, struct err *e)
{
    static const char op[] = "store_migrate";
    const struct store_migration *m = NULL;
    int latest = store_sqlite_migration_count;
    int64_t cur = 0;
    int rc = 0;

    rc = conn_exec(w, version_table_sql, op, e);
    if (rc != 0) {
        return rc;
    }
    rc = query_int(w, ST_VERSION, &cur, op, e);
    if (rc != 0) {
        return rc;
    }
    if (cur < 0 || cur > latest) {
        return err_set(e, ERR_STORE,
                       "store_migrate: the database has schema version "
                       "%lld; this binary knows 0 to %d",
                       (long long)cur, latest);
    }
    if (cur == latest) {
        return 0;
    }

    m = &store_sqlite_migrations[cur];
    assert(m->version == cur + 1);
    rc = sqlite3_exec(w->db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return err_set(e, ERR_STORE, "store_migrate: migration %d (%s): %s",
                       m->version, m->name, sqlite3_errmsg(w->db));
    }
    rc = record_version(w, m->version, op, e);
    if (rc == 0) {
        *version = m->version;
    }
    return rc;
}

/*
 * Each pending migration gets its own transaction; the version is read
 * again inside each, so two processes migrating at once do not apply
 * anything twice. Runs alone on the writer thread, not in a batch.
 */
static int
run_migrate(struct conn *w, const struct wop *op, struct err *e)
{
    int version = 0;
    int n = 0;
    int rc = 0;

    for (;;) {
        version = 0;
        rc = tx_begin(w, op->name, e);
        if (rc != 0) {
            break;
        }
        rc = migrate_next(w, &version, e);
        rc = tx_end(w, rc, op->name, e);
        if (rc != 0 || version == 0) {
            break;
        }
        n++;
    }
    if (op->in.applied != NULL) {
        *op->in.applied = n;
    }
    return rc;
}

static int
sq_migrate(struct store *s, int *applied, struct err *e)
{
    struct wop op = {.run = run_migrate, .name = "store_migrate", .alone = 1};

    op.in.applied = applied;
    return write_sync(s, &op, e);
}

/*
 * Two statements without a transaction: a migration committing between
 * them can only make the answer newer, never wrong.
 */
static int
sq_schema_version(struct store *s, int *current, int *latest, struct err *e)
{
    static const char op[] = "store_schema_version";
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    int64_t tables = 0;
    int64_t version = 0;
    int rc = 0;

    *current = 0;
    *latest = store_sqlite_migration_count;
    rc = query_int(r, ST_VERSION_TABLE, &tables, op, e);
    if (rc == 0 && tables > 0) {
        rc = query_int(r, ST_VERSION, &version, op, e);
        *current = (int)version;
    }
    reader_put(q, r);
    return rc;
}

/* ---- developers ---- */

static int run_key_create(struct conn *w, const struct wop *op, struct err *e);

static int
run_developer_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_developer *d = op->in.dev;
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_DEV_INSERT, NULL, op->name, e);
    if (rc == 0) {
        bind_text(&c, d->id);
        bind_text(&c, d->name);
        bind_int(&c, d->created_at);
        rc = call_run(&c);
    }
    call_end(&c);
    if (rc == ERR_CONFLICT) {
        err_set(e, rc, "developer '%s' exists", d->id);
    }
    if (rc == 0 && op->first_key != NULL) {
        struct wop kop = *op;

        kop.in.key = op->first_key;
        rc = run_key_create(w, &kop, e);
    }
    return rc;
}

static int
sq_developer_create(struct store *s, const struct store_developer *d,
                    const struct store_key *first_key, struct err *e)
{
    /* with a key it is two statements: the savepoint keeps them whole */
    struct wop op = {.run = run_developer_create,
                     .name = "store_developer_create",
                     .one_statement = first_key == NULL};

    op.in.dev = d;
    op.first_key = first_key;
    return write_sync(s, &op, e);
}

static int
read_developer(struct call *c, struct store_developer *out)
{
    out->id = col_text(c);
    out->name = col_text(c);
    out->created_at = col_int(c);
    out->active_keys = (int)col_int(c);
    return c->rc;
}

/* Run a developer query `id` with one text parameter; one row wanted. */
static int
developer_one(struct store *s, enum stmt_id id, const char *arg,
              struct arena *a, struct store_developer *out, const char *op,
              struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, r, id, a, op, e);
    if (rc != 0) {
        goto out;
    }
    bind_text(&c, arg);
    rc = call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no developer %s '%s'",
                     id == ST_DEV_GET ? "with id" : "called", arg);
    } else if (rc == 1) {
        rc = read_developer(&c, out);
    }
out:
    call_end(&c);
    reader_put(q, r);
    return rc;
}

static int
sq_developer_get(struct store *s, const char *id, struct arena *a,
                 struct store_developer *out, struct err *e)
{
    return developer_one(s, ST_DEV_GET, id, a, out, "store_developer_get", e);
}

static int
sq_developer_find_by_name(struct store *s, const char *name, struct arena *a,
                          struct store_developer *out, struct err *e)
{
    return developer_one(s, ST_DEV_BY_NAME, name, a, out,
                         "store_developer_find_by_name", e);
}

static int
sq_developer_list(struct store *s, struct arena *a,
                  struct store_developer **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    struct store_developer *devs = NULL;
    size_t cap = 0;
    size_t len = 0;
    struct call c = {0};
    int rc = 0;

    *out = NULL;
    *n = 0;
    rc = call_start(&c, r, ST_DEV_LIST, a, "store_developer_list", e);
    if (rc != 0) {
        goto out;
    }
    while (call_step(&c) == 1) {
        devs = call_grow(&c, devs, len, &cap, sizeof(*devs));
        if (devs == NULL || read_developer(&c, &devs[len]) != 0) {
            break;
        }
        len++;
    }
    rc = c.rc;
    if (rc == 0) {
        *out = devs;
        *n = len;
    }
out:
    call_end(&c);
    reader_put(q, r);
    return rc;
}

/* ---- API keys ---- */

static int
run_key_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_key *k = op->in.key;
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_KEY_INSERT, NULL, op->name, e);
    if (rc == 0) {
        bind_text(&c, k->id);
        bind_text(&c, k->dev_id);
        bind_hash(&c, k->hash);
        bind_text(&c, k->hint);
        bind_int(&c, k->created_at);
        bind_time(&c, k->revoked_at);
        rc = call_run(&c);
    }
    call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no developer with id '%s'", k->dev_id);
    }
    return rc;
}

static int
sq_key_create(struct store *s, const struct store_key *k, struct err *e)
{
    struct wop op = {
        .run = run_key_create, .name = "store_key_create", .one_statement = 1};

    op.in.key = k;
    return write_sync(s, &op, e);
}

/* After an UPDATE that matched nothing: was the key missing or revoked? */
static int
key_why_unchanged(struct conn *w, const char *key_id, const char *op,
                  struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_KEY_EXISTS, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    bind_text(&c, key_id);
    rc = call_step(&c);
    if (rc == 1) {
        rc = err_set(e, ERR_CONFLICT, "key '%s' is already revoked", key_id);
    } else if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no key with id '%s'", key_id);
    }
out:
    call_end(&c);
    return rc;
}

static int
run_key_revoke(struct conn *w, const struct wop *op, struct err *e)
{
    const char *key_id = op->in.revoke.key_id;
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_KEY_REVOKE, NULL, op->name, e);
    if (rc == 0) {
        bind_int(&c, op->in.revoke.now);
        bind_text(&c, key_id);
        rc = call_run(&c);
    }
    call_end(&c);
    if (rc == 0 && sqlite3_changes(w->db) == 0) {
        rc = key_why_unchanged(w, key_id, op->name, e);
    }
    return rc;
}

static int
sq_key_revoke(struct store *s, const char *key_id, int64_t now, struct err *e)
{
    struct wop op = {.run = run_key_revoke, .name = "store_key_revoke"};

    assert(now > 0); /* 0 means "active" in struct store_key */
    op.in.revoke.key_id = key_id;
    op.in.revoke.now = now;
    return write_sync(s, &op, e);
}

static int
sq_key_list(struct store *s, const char *dev_id, struct arena *a,
            struct store_key **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    struct store_key *keys = NULL;
    struct store_key *k = NULL;
    size_t cap = 0;
    size_t len = 0;
    struct call c = {0};
    int rc = 0;

    *out = NULL;
    *n = 0;
    rc = call_start(&c, r, ST_KEY_LIST, a, "store_key_list", e);
    if (rc != 0) {
        goto out;
    }
    bind_text(&c, dev_id);
    while (call_step(&c) == 1) {
        keys = call_grow(&c, keys, len, &cap, sizeof(*keys));
        if (keys == NULL) {
            break;
        }
        k = &keys[len];
        k->id = col_text(&c);
        k->dev_id = col_text(&c);
        col_hash(&c, k->hash);
        k->hint = col_text(&c);
        k->created_at = col_int(&c);
        k->revoked_at = col_time(&c);
        if (c.rc != 0) {
            break;
        }
        len++;
    }
    rc = c.rc;
    if (rc == 0) {
        *out = keys;
        *n = len;
    }
out:
    call_end(&c);
    reader_put(q, r);
    return rc;
}

static int
sq_key_active_hashes(struct store *s, const char *dev_id, struct arena *a,
                     unsigned char (**out)[32], size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    unsigned char(*hashes)[HASH_LEN] = NULL;
    size_t cap = 0;
    size_t len = 0;
    struct call c = {0};
    int rc = 0;

    *out = NULL;
    *n = 0;
    rc = call_start(&c, r, ST_KEY_ACTIVE, a, "store_key_active_hashes", e);
    if (rc != 0) {
        goto out;
    }
    bind_text(&c, dev_id);
    while (call_step(&c) == 1) {
        hashes = call_grow(&c, hashes, len, &cap, sizeof(*hashes));
        if (hashes == NULL) {
            break;
        }
        col_hash(&c, hashes[len]);
        if (c.rc != 0) {
            break;
        }
        len++;
    }
    rc = c.rc;
    if (rc == 0) {
        *out = hashes;
        *n = len;
    }
out:
    call_end(&c);
    reader_put(q, r);
    return rc;
}

/* ---- link sessions ---- */

static int
run_session_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_session *ss = op->in.session;
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, w, ST_SESSION_INSERT, NULL, op->name, e);
    if (rc == 0) {
        bind_text(&c, ss->id);
        bind_text(&c, ss->dev_id);
        bind_text(&c, ss->kind);
        bind_hash(&c, ss->token_hash);
        bind_text(&c, ss->reference_id);
        bind_text(&c, ss->providers);
        bind_text(&c, ss->language);
        bind_text(&c, ss->success_url);
        bind_text(&c, ss->failure_url);
        bind_int(&c, ss->created_at);
        bind_int(&c, ss->expires_at);
        bind_time(&c, ss->completed_at);
        rc = call_run(&c);
    }
    call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no developer with id '%s'", ss->dev_id);
    }
    return rc;
}

static int
sq_session_create(struct store *s, const struct store_session *ss,
                  struct err *e)
{
    struct wop op = {.run = run_session_create,
                     .name = "store_session_create",
                     .one_statement = 1};

    op.in.session = ss;
    return write_sync(s, &op, e);
}

/* Append a copy of `s` (NULL stays NULL) at `*at` and move past it. */
static const char *
copy_str(char **at, const char *s)
{
    char *p = *at;
    size_t n = 0;

    if (s == NULL) {
        return NULL;
    }
    n = strlen(s) + 1;
    memcpy(p, s, n);
    *at = p + n;
    return p;
}

static size_t
str_size(const char *s)
{
    return s == NULL ? 0 : strlen(s) + 1;
}

/* A heap op for `ss`, with a copy of it and of all its strings. */
static struct async_session *
async_session_new(const struct store_session *ss)
{
    struct async_session *as = NULL;
    char *at = NULL;
    size_t n = str_size(ss->id) + str_size(ss->dev_id) + str_size(ss->kind) +
               str_size(ss->reference_id) + str_size(ss->providers) +
               str_size(ss->language) + str_size(ss->success_url) +
               str_size(ss->failure_url);

    as = xcalloc(1, sizeof(*as) + n);
    as->ss = *ss;
    at = as->strings;
    as->ss.id = copy_str(&at, ss->id);
    as->ss.dev_id = copy_str(&at, ss->dev_id);
    as->ss.kind = copy_str(&at, ss->kind);
    as->ss.reference_id = copy_str(&at, ss->reference_id);
    as->ss.providers = copy_str(&at, ss->providers);
    as->ss.language = copy_str(&at, ss->language);
    as->ss.success_url = copy_str(&at, ss->success_url);
    as->ss.failure_url = copy_str(&at, ss->failure_url);
    return as;
}

static int
sq_session_create_async(struct store *s, const struct store_session *ss,
                        store_done_fn done, void *arg)
{
    struct async_session *as = async_session_new(ss);
    const char *req_id = log_req_id();
    int rc = 0;

    assert(done != NULL);
    as->op.run = run_session_create;
    as->op.name = "store_session_create";
    as->op.one_statement = 1;
    as->op.in.session = &as->ss;
    as->op.e = &as->err;
    as->op.done = done;
    as->op.arg = arg;
    if (req_id != NULL) {
        snprintf(as->op.req_id, sizeof(as->op.req_id), "%s", req_id);
    }
    rc = enqueue(sq(s), &as->op);
    if (rc != 0) {
        free(as);
    }
    return rc;
}

static int
session_one(struct store *s, enum stmt_id id, const char *sid,
            const unsigned char *hash, struct arena *a,
            struct store_session *out, const char *op, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    struct call c = {0};
    int rc = 0;

    rc = call_start(&c, r, id, a, op, e);
    if (rc != 0) {
        goto out;
    }
    if (hash != NULL) {
        bind_hash(&c, hash);
    } else {
        bind_text(&c, sid);
    }
    rc = call_step(&c);
    if (rc == 0) {
        rc = hash != NULL ? err_set(e, ERR_NOTFOUND, "no such link session")
                          : err_set(e, ERR_NOTFOUND,
                                    "no link session with id '%s'", sid);
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    out->id = col_text(&c);
    out->dev_id = col_text(&c);
    out->kind = col_text(&c);
    col_hash(&c, out->token_hash);
    out->reference_id = col_text(&c);
    out->providers = col_text(&c);
    out->language = col_text(&c);
    out->success_url = col_text(&c);
    out->failure_url = col_text(&c);
    out->created_at = col_int(&c);
    out->expires_at = col_int(&c);
    out->completed_at = col_time(&c);
    rc = c.rc;
out:
    call_end(&c);
    reader_put(q, r);
    return rc;
}

static int
sq_session_get(struct store *s, const char *id, struct arena *a,
               struct store_session *out, struct err *e)
{
    return session_one(s, ST_SESSION_GET, id, NULL, a, out, "store_session_get",
                       e);
}

static int
sq_session_get_by_token(struct store *s, const unsigned char hash[32],
                        struct arena *a, struct store_session *out,
                        struct err *e)
{
    return session_one(s, ST_SESSION_BY_TOKEN, NULL, hash, a, out,
                       "store_session_get_by_token", e);
}

static int
sq_token_count(struct store *s, int64_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = reader_get(q);
    int rc = 0;

    *n = 0;
    rc = query_int(r, ST_TOKEN_COUNT, n, "store_token_count", e);
    reader_put(q, r);
    return rc;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .free = sq_free,
    .stats = sq_stats,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .developer_create = sq_developer_create,
    .developer_get = sq_developer_get,
    .developer_find_by_name = sq_developer_find_by_name,
    .developer_list = sq_developer_list,
    .key_create = sq_key_create,
    .key_revoke = sq_key_revoke,
    .key_list = sq_key_list,
    .key_active_hashes = sq_key_active_hashes,
    .session_create = sq_session_create,
    .session_create_async = sq_session_create_async,
    .session_get = sq_session_get,
    .session_get_by_token = sq_session_get_by_token,
    .token_count = sq_token_count,
};
