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
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/sqlite_int.h"

#define DEFAULT_READERS 4
#define MAX_READERS     64
#define DEFAULT_BUSY_MS 5000

#define BATCH_MAX        256   /* writes in one transaction, at most */
#define CHECKPOINT_PAGES 4000  /* new log pages that wake the checkpointer */
#define RESTART_PAGES    16000 /* log size at which the log starts over */
#define REQ_ID_MAX       40    /* log request ids kept for done callbacks */

static const char ST_BEGIN[] = "BEGIN IMMEDIATE";
static const char ST_COMMIT[] = "COMMIT";
static const char ST_ROLLBACK[] = "ROLLBACK";
static const char ST_SAVEPOINT[] = "SAVEPOINT w";
static const char ST_RELEASE[] = "RELEASE w";
static const char ST_ROLLBACK_TO[] = "ROLLBACK TO w";
static const char ST_VERSION_TABLE[] = "SELECT count(*) FROM sqlite_master"
                                       " WHERE type = 'table'"
                                       " AND name = 'schema_migrations'";
static const char ST_VERSION[] = "SELECT coalesce(max(version), 0)"
                                 " FROM schema_migrations";
/* Whether a database is ferry's store (its version table, as ferry
 * makes it, and the first migration's developers), and its tables. */
static const char ST_SHAPE[] =
    "SELECT (SELECT count(*) FROM pragma_table_info('schema_migrations')"
    "   WHERE name IN ('version', 'applied_at')) = 2"
    " AND EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
    "   AND name = 'developers'),"
    " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    "   AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')";
static const char ST_VERSION_ADD[] =
    "INSERT INTO schema_migrations (version, applied_at)"
    " VALUES (?, ?)";

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
                                     "PRAGMA cache_size = -32768;"
                                     "PRAGMA temp_store = MEMORY;";

static const char reader_pragmas[] = "PRAGMA foreign_keys = ON;"
                                     "PRAGMA synchronous = NORMAL;"
                                     "PRAGMA query_only = ON;";

int64_t
sq_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Map the failure `src` (an extended result code) of `c` to an ERR_*
 * code, with the operation and SQLite's message as the detail.
 */
int
sq_conn_fail(struct conn *c, int src, const char *op, struct err *e)
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
int
sq_conn_exec(struct conn *c, const char *sql, const char *op, struct err *e)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        return sq_conn_fail(c, rc, op, e);
    }
    return 0;
}

int
sq_call_start(struct call *c, struct conn *conn, const char *sql,
              struct arena *a, const char *op, struct err *e)
{
    struct stmt_slot *slot = NULL;
    int rc = SQLITE_OK;
    int i;

    memset(c, 0, sizeof(*c));
    c->conn = conn;
    c->a = a;
    c->op = op;
    c->e = e;
    for (i = 0; i < conn->nstmt; i++) {
        if (conn->stmt[i].sql == sql) {
            slot = &conn->stmt[i];
            break;
        }
    }
    if (slot == NULL) {
        if (conn->nstmt == SQ_STMT_MAX) {
            BUG("store: more than SQ_STMT_MAX distinct statements");
        }
        slot = &conn->stmt[conn->nstmt];
        rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &slot->st, NULL);
        if (rc != SQLITE_OK) {
            /* a failed prepare adds no slot: retried on the next use */
            slot->st = NULL;
            return sq_conn_fail(conn, rc, op, e);
        }
        slot->sql = sql;
        conn->nstmt++;
    }
    c->st = slot->st;
    return 0;
}

/* Reset the statement for its next use. Safe after a failed start. */
void
sq_call_end(struct call *c)
{
    if (c->st == NULL) {
        return;
    }
    sqlite3_reset(c->st);
    sqlite3_clear_bindings(c->st);
    c->st = NULL;
}

static void
sq_bind_check(struct call *c, int rc)
{
    if (rc != SQLITE_OK) {
        c->rc = sq_conn_fail(c->conn, rc, c->op, c->e);
    }
}

/* Bind the string `s` (borrowed until sq_call_end()); NULL binds NULL. */
void
sq_bind_text(struct call *c, const char *s)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    if (s == NULL) {
        sq_bind_check(c, sqlite3_bind_null(c->st, i));
        return;
    }
    sq_bind_check(c, sqlite3_bind_text(c->st, i, s, -1, SQLITE_STATIC));
}

void
sq_bind_int(struct call *c, int64_t v)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    sq_bind_check(c, sqlite3_bind_int64(c->st, i, v));
}

/* A time where 0 means "not yet": stored as NULL. */
void
sq_bind_time(struct call *c, int64_t t)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    if (t == 0) {
        sq_bind_check(c, sqlite3_bind_null(c->st, i));
        return;
    }
    sq_bind_check(c, sqlite3_bind_int64(c->st, i, t));
}

void
sq_bind_hash(struct call *c, const unsigned char hash[HASH_LEN])
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    sq_bind_check(c,
                  sqlite3_bind_blob(c->st, i, hash, HASH_LEN, SQLITE_STATIC));
}

void
sq_bind_blob(struct call *c, const unsigned char *p, size_t len)
{
    int i = ++c->param;

    if (c->rc != 0) {
        return;
    }
    if (p == NULL) {
        sq_bind_check(c, sqlite3_bind_null(c->st, i));
        return;
    }
    if (len > INT32_MAX) {
        c->rc = err_set(c->e, ERR_TOOBIG, "%s: a value is too large", c->op);
        return;
    }
    sq_bind_check(c, sqlite3_bind_blob(c->st, i, p, (int)len, SQLITE_STATIC));
}

/* 1 with a row to read, 0 when there are no more, or a negative ERR_*. */
int
sq_call_step(struct call *c)
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
    c->rc = sq_conn_fail(c->conn, rc, c->op, c->e);
    return c->rc;
}

/* Step a statement that returns no rows: 0 or a negative ERR_*. */
int
sq_call_run(struct call *c)
{
    int rc = sq_call_step(c);

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
const char *
sq_col_text(struct call *c)
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

int64_t
sq_col_int(struct call *c)
{
    int i = c->col++;

    if (c->rc != 0) {
        return 0;
    }
    return sqlite3_column_int64(c->st, i);
}

/* A time column where NULL means "not yet": 0. */
int64_t
sq_col_time(struct call *c)
{
    return sq_col_int(c);
}

void
sq_col_hash(struct call *c, unsigned char out[HASH_LEN])
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

void
sq_col_blob(struct call *c, const unsigned char **out, size_t *len)
{
    int i = c->col++;
    const void *p = NULL;
    int n = 0;
    unsigned char *copy = NULL;

    *out = NULL;
    *len = 0;
    if (c->rc != 0 || sqlite3_column_type(c->st, i) == SQLITE_NULL) {
        return;
    }
    p = sqlite3_column_blob(c->st, i);
    n = sqlite3_column_bytes(c->st, i);
    if (p == NULL && n > 0) {
        c->rc = err_set(c->e, ERR_STORE, "%s: SQLite is out of memory", c->op);
        return;
    }
    copy = arena_alloc(c->a, n > 0 ? (size_t)n : 1);
    if (copy == NULL) {
        col_nomem(c);
        return;
    }
    if (n > 0) {
        memcpy(copy, p, (size_t)n);
    }
    *out = copy;
    *len = (size_t)n;
}

int
sq_changes(struct call *c)
{
    return sqlite3_changes(c->conn->db);
}

int64_t
sq_last_rowid(struct call *c)
{
    return sqlite3_last_insert_rowid(c->conn->db);
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

int
sq_call_rows(struct call *c, size_t size, sq_row_fn read, void **out, size_t *n)
{
    void *rows = NULL;
    size_t cap = 0;
    size_t len = 0;

    *out = NULL;
    *n = 0;
    while (sq_call_step(c) == 1) {
        rows = call_grow(c, rows, len, &cap, size);
        if (rows == NULL) {
            break;
        }
        read(c, (char *)rows + len * size);
        if (c->rc != 0) {
            break;
        }
        len++;
    }
    if (c->rc == 0) {
        *out = rows;
        *n = len;
    }
    return c->rc;
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
        rc = sq_conn_fail(c, rc, "store_open", e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sq_conn_fail(c, rc, "store_open", e);
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

    for (i = 0; i < c->nstmt; i++) {
        sqlite3_finalize(c->stmt[i].st);
        c->stmt[i].st = NULL;
        c->stmt[i].sql = NULL;
    }
    c->nstmt = 0;
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
    rc = sq_conn_exec(c, pragmas, "store_open", e);
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
struct conn *
sq_reader_get(struct sq_store *q)
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

void
sq_reader_put(struct sq_store *q, struct conn *c)
{
    pthread_mutex_lock(&q->rlock);
    c->next = q->ridle;
    q->ridle = c;
    pthread_cond_signal(&q->rcond);
    pthread_mutex_unlock(&q->rlock);
}

/* ---- transactions (writer only) ---- */

static int
tx_exec(struct conn *w, const char *sql, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, sql, NULL, op, e);
    if (rc == 0) {
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
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
int
sq_enqueue(struct sq_store *q, struct wop *op)
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
int
sq_write_sync(struct store *s, struct wop *op, struct err *e)
{
    struct sq_store *q = sq(s);
    int rc = 0;

    if (pthread_equal(pthread_self(), q->writer_thread)) {
        BUG("store: a synchronous write on the writer thread");
    }
    op->e = e;
    rc = sq_enqueue(q, op);
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

/* An asynchronous write: the op and room for its detail. */
struct async_op {
    struct wop op; /* first: the writer frees the op as the whole */
    struct err err;
    max_align_t args[]; /* the copy of the argument struct, if any */
};

int
sq_write_async(struct store *s, const struct wop *tmpl, const void *args,
               size_t args_size, store_done_fn done, void *arg)
{
    struct async_op *ao = xcalloc(1, sizeof(*ao) + args_size);
    const char *req_id = log_req_id();
    int rc = 0;

    assert(done != NULL);
    ao->op = *tmpl;
    if (args_size > 0) {
        memcpy(ao->args, args, args_size);
        ao->op.in.p = ao->args;
    }
    ao->op.e = &ao->err;
    ao->op.done = done;
    ao->op.arg = arg;
    if (req_id != NULL) {
        snprintf(ao->op.req_id, sizeof(ao->op.req_id), "%s", req_id);
    }
    rc = sq_enqueue(sq(s), &ao->op);
    if (rc != 0) {
        free(ao);
    }
    return rc;
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

void
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

void
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
        rc = sq_conn_exec(c, "SELECT count(*) FROM sqlite_master", "store_open",
                          e);
    }
    return rc;
}

/*
 * Before SQLite's first use in the process: no memory statistics, which
 * would take one process-wide mutex around every allocation of every
 * connection (ferry never reads them). Too late once SQLite has been
 * initialised (SQLITE_MISUSE), which only costs the mutex.
 */
static void
sq_config_once(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* ERR_NOTFOUND for a store file that is not there, or holds no store
 * (`what`), named in full. */
static int
missing(const char *path, const char *what, struct err *e)
{
    char buf[PATH_MAX * 2];

    if (path[0] != '/') {
        return err_set(e, ERR_NOTFOUND,
                       "%s %s (a relative store path is taken from the "
                       "working directory): run this command in the "
                       "directory the server runs in, or `ferry migrate` "
                       "to set up a store here",
                       what, config_path_shown(path, buf, sizeof(buf)));
    }
    return err_set(e, ERR_NOTFOUND, "%s %s: `ferry migrate` sets one up", what,
                   path);
}

/*
 * The shape of the database at `name` (a file name, or with `flags`
 * holding SQLITE_OPEN_URI a URI), opened read-only: 0, or -1 when SQLite
 * cannot read it.
 */
static int
shape(const char *name, int flags, int64_t *ours, int64_t *tables)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(name, &db, SQLITE_OPEN_READONLY | flags, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, ST_SHAPE, -1, &st, NULL);
    }
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *ours = sqlite3_column_int64(st, 0);
        *tables = sqlite3_column_int64(st, 1);
    } else {
        rc = SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Look at the database at `path` read-only before anything writes to it
 * (the writer switches a database to WAL): one that holds tables of
 * another program, and not ferry's, is refused (ERR_CONFLICT) and left
 * as it was. With `existing`, a file that is not there, or holds no
 * ferry store (an empty file), is refused too (ERR_NOTFOUND). A ferry
 * store has `schema_migrations` with its two columns and `developers`
 * (made by the first migration, in the same transaction). A file
 * SQLite cannot read is left to the open that follows, which says why.
 */
static int
precheck(const char *path, int existing, struct err *e)
{
    char uri[PATH_MAX * 3 + 32];
    const char *p = path;
    size_t n = 0;
    int64_t ours = 0;
    int64_t tables = 0;

    if (access(path, F_OK) != 0) {
        return existing ? missing(path, "no store at", e) : 0;
    }
    /* first the main file alone (immutable: no lock, no -wal or -shm
     * made beside another program's database); what is only in a log
     * not yet checkpointed (a store just set up) needs a real read */
    n = (size_t)snprintf(uri, sizeof(uri), "file:");
    for (; *p != '\0' && n + 4 < sizeof(uri); p++) {
        if (*p == '%' || *p == '?' || *p == '#') {
            n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X",
                                  (unsigned char)*p);
        } else {
            uri[n++] = *p;
        }
    }
    snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    if (*p != '\0' || shape(uri, SQLITE_OPEN_URI, &ours, &tables) < 0) {
        return 0;
    }
    if (ours == 0 && tables == 0 && shape(path, 0, &ours, &tables) < 0) {
        return 0;
    }
    if (ours == 1) {
        return 0;
    }
    if (tables > 0) {
        char buf[PATH_MAX * 2];

        return err_set(e, ERR_CONFLICT,
                       "%s holds %lld tables of another program and no "
                       "ferry store: give ferry a database of its own",
                       config_path_shown(path, buf, sizeof(buf)),
                       (long long)tables);
    }
    return existing ? missing(path, "no ferry store in", e) : 0;
}

int
sq_open(struct store **out, const char *path, const struct store_options *opt,
        struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

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
    rc = precheck(path, opt->existing, e);
    if (rc != 0) {
        return rc;
    }
    pthread_once(&once, sq_config_once);
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
int
sq_query_int(struct conn *conn, const char *sql, int64_t *v, const char *op,
             struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, conn, sql, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    rc = sq_call_step(&c);
    if (rc == 1) {
        *v = sq_col_int(&c);
        rc = 0;
    } else if (rc == 0) {
        rc = err_set(e, ERR_STORE, "%s: the query gave no row", op);
    }
out:
    sq_call_end(&c);
    return rc;
}

static int
record_version(struct conn *w, int version, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_VERSION_ADD, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_int(&c, version);
    sq_bind_int(&c, sq_now_us());
    rc = sq_call_run(&c);
out:
    sq_call_end(&c);
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

    rc = sq_conn_exec(w, version_table_sql, op, e);
    if (rc != 0) {
        return rc;
    }
    rc = sq_query_int(w, ST_VERSION, &cur, op, e);
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

int
sq_migrate(struct store *s, int *applied, struct err *e)
{
    struct wop op = {.run = run_migrate, .name = "store_migrate", .alone = 1};

    op.in.applied = applied;
    return sq_write_sync(s, &op, e);
}

/*
 * Two statements without a transaction: a migration committing between
 * them can only make the answer newer, never wrong.
 */
int
sq_schema_version(struct store *s, int *current, int *latest, struct err *e)
{
    static const char op[] = "store_schema_version";
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    int64_t tables = 0;
    int64_t version = 0;
    int rc = 0;

    *current = 0;
    *latest = store_sqlite_migration_count;
    rc = sq_query_int(r, ST_VERSION_TABLE, &tables, op, e);
    if (rc == 0 && tables > 0) {
        rc = sq_query_int(r, ST_VERSION, &version, op, e);
        *current = (int)version;
    }
    sq_reader_put(q, r);
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
    .setting_get = sq_setting_get,
    .setting_put = sq_setting_put,
    .setting_add = sq_setting_add,
    .attempt_create = sq_attempt_create,
    .attempt_get = sq_attempt_get,
    .attempt_claim = sq_attempt_claim,
    .event_list = sq_event_list,
    .connect = sq_connect,
    .connect_async = sq_connect_async,
    .attempt_fail = sq_attempt_fail,
    .attempt_fail_async = sq_attempt_fail_async,
    .user_get = sq_user_get,
    .user_find_connected = sq_user_find_connected,
    .user_list = sq_user_list,
    .user_count = sq_user_count,
    .user_update = sq_user_update,
    .user_deauth = sq_user_deauth,
    .token_get = sq_token_get,
    .sandbox_code_create = sq_sandbox_code_create,
    .sandbox_code_take = sq_sandbox_code_take,
    .sandbox_tokens_issue = sq_sandbox_tokens_issue,
    .sandbox_token_get = sq_sandbox_token_get,
    .sandbox_token_revoke = sq_sandbox_token_revoke,
    .destination_create = sq_destination_create,
    .destination_get = sq_destination_get,
    .destination_list = sq_destination_list,
    .destination_remove = sq_destination_remove,
    .destination_rotate = sq_destination_rotate,
    .delivery_claim = sq_delivery_claim,
    .delivery_settle_async = sq_delivery_settle_async,
    .delivery_list = sq_delivery_list,
    .delivery_attempts = sq_delivery_attempts,
    .event_replay = sq_event_replay,
    .delivery_replay_dead = sq_delivery_replay_dead,
    .delivery_counts = sq_delivery_counts,
    .event_get = sq_event_get,
    .tokens_due = sq_tokens_due,
    .record_get = sq_record_get,
    .records_put = sq_records_put,
    .records_list = sq_records_list,
    .synced_count = sq_synced_count,
    .job_add = sq_job_add,
    .job_claim = sq_job_claim,
    .job_finish = sq_job_finish,
    .jobs_renew = sq_jobs_renew,
    .token_lock = sq_token_lock,
    .token_put = sq_token_put,
    .user_set_state = sq_user_set_state,
    .users_due = sq_users_due,
    .user_polled = sq_user_polled,
    .users_by_provider_id = sq_users_by_provider_id,
    .event_add = sq_event_add,
    .request_event_add = sq_request_event_add,
    .request_sent = sq_request_sent,
    .request_forget = sq_request_forget,
};
