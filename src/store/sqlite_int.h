/*
 * sqlite_int.h - what the files of the SQLite backend share (internal to
 * src/store/): the connection, the write op and the statement helpers.
 *
 * sqlite.c holds the connections, the writer thread, the checkpointer,
 * open, free and migrations; sqlite_<area>.c hold the statements and
 * operations of one group of tables each. See sqlite.c for how writes
 * and reads run.
 */
#ifndef FERRY_STORE_SQLITE_INT_H
#define FERRY_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/backend.h"

#define HASH_LEN    32
#define REQ_ID_MAX  40  /* log request ids kept for done callbacks */
#define SQ_STMT_MAX 128 /* distinct statements per connection */

/* A statement prepared on a connection, found by the address of its
 * text: each statement is a `static const char` array of one file. */
struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct conn {
    sqlite3 *db;
    struct stmt_slot stmt[SQ_STMT_MAX]; /* prepared on first use */
    int nstmt;
    struct conn *next; /* in the idle list, readers only */
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
        const void *p;       /* an operation's own argument struct */
    } in;                    /* borrowed until the op is reported */
    struct err *e;           /* the detail; NULL if the caller wants none */
    int rc;                  /* the outcome; 1 while not run */
    store_done_fn done;      /* NULL for a synchronous caller */
    void *arg;               /* for done */
    int finished;            /* synchronous: rc is final (under qlock) */
    char req_id[REQ_ID_MAX]; /* asynchronous: the caller's log request id */
    struct wop *next;        /* in the queue, then in its batch */
};

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

static inline struct sq_store *
sq(struct store *s)
{
    return (struct sq_store *)s;
}

/* ---- helpers (sqlite.c) ---- */

/* Now, in unix microseconds. */
int64_t sq_now_us(void);

/* Map the SQLite failure `src` on `c` to an ERR_* with the detail. */
int sq_conn_fail(struct conn *c, int src, const char *op, struct err *e);

/* Run `sql` (statements without results) on `c`. */
int sq_conn_exec(struct conn *c, const char *sql, const char *op,
                 struct err *e);

/*
 * Begin one use of the statement `sql` (a static array: its address
 * names it) on `conn`, preparing it on first use. Column strings are
 * copied into `a` (may be NULL when none are read). Always pair with
 * sq_call_end().
 */
int sq_call_start(struct call *c, struct conn *conn, const char *sql,
                  struct arena *a, const char *op, struct err *e);

/* Reset the statement for its next use. Safe after a failed start. */
void sq_call_end(struct call *c);

/* Bind the next parameter: a string (borrowed until sq_call_end(); NULL
 * binds NULL), an integer, a time (0 binds NULL), a 32-byte hash. */
void sq_bind_text(struct call *c, const char *s);
void sq_bind_int(struct call *c, int64_t v);
void sq_bind_time(struct call *c, int64_t t);
void sq_bind_hash(struct call *c, const unsigned char hash[HASH_LEN]);

/* Bind `len` bytes at `p` (borrowed until sq_call_end(); NULL binds
 * NULL). */
void sq_bind_blob(struct call *c, const unsigned char *p, size_t len);

/* 1 with a row to read, 0 when there are no more, or a negative ERR_*. */
int sq_call_step(struct call *c);

/* Step a statement that returns no rows: 0 or a negative ERR_*. */
int sq_call_run(struct call *c);

/* The next column: an arena string (NULL for SQL NULL), an integer, a
 * time (NULL is 0), a 32-byte hash. Failures stick in c->rc. */
const char *sq_col_text(struct call *c);
int64_t sq_col_int(struct call *c);
int64_t sq_col_time(struct call *c);
void sq_col_hash(struct call *c, unsigned char out[HASH_LEN]);

/* The next column as bytes copied into the arena; NULL and 0 for SQL
 * NULL. */
void sq_col_blob(struct call *c, const unsigned char **out, size_t *len);

/* Rows changed by the statement just run on c's connection. */
int sq_changes(struct call *c);

/* The rowid of the last row inserted on c's connection. */
int64_t sq_last_rowid(struct call *c);

/* Reads the current row of `c` into `row` (failures stick in c->rc). */
typedef void (*sq_row_fn)(struct call *c, void *row);

/*
 * Step a started and bound call to its end, reading each row with
 * `read` into an arena array of `size`-byte elements: `*out` and `*n`
 * on success (NULL and 0 before and on failure). Returns c->rc.
 */
int sq_call_rows(struct call *c, size_t size, sq_row_fn read, void **out,
                 size_t *n);

/* A one-value query without parameters, into `*v`. */
int sq_query_int(struct conn *conn, const char *sql, int64_t *v, const char *op,
                 struct err *e);

/* An idle reader connection (waits while all are busy), and back. */
struct conn *sq_reader_get(struct sq_store *q);
void sq_reader_put(struct sq_store *q, struct conn *c);

/* Queue `op` for the writer; ERR_STORE when the store is closing. */
int sq_enqueue(struct sq_store *q, struct wop *op);

/* Run `op` on the writer thread and wait for its outcome. */
int sq_write_sync(struct store *s, struct wop *op, struct err *e);

/*
 * Queue a heap copy of `tmpl` and return: `done(arg, ...)` is called once
 * after the commit or failure (store_done_fn). With `args_size` > 0 the
 * `args_size` bytes at `args` (an argument struct) are copied with the op
 * and `in.p` points at the copy; what they, or `tmpl->in`, point to is
 * borrowed until `done`. ERR_STORE when closing (done not called).
 */
int sq_write_async(struct store *s, const struct wop *tmpl, const void *args,
                   size_t args_size, store_done_fn done, void *arg);

/* Add `ev` to the events table on the writer's connection (the
 * fan-out trigger queues its deliveries). sqlite_users.c. */
int sq_insert_event(struct conn *w, const struct store_event *ev,
                    const char *op, struct err *e);

/* ---- operations (sqlite_<area>.c), as store.h describes them ---- */

int sq_developer_create(struct store *s, const struct store_developer *d,
                        const struct store_key *first_key, struct err *e);
int sq_developer_get(struct store *s, const char *id, struct arena *a,
                     struct store_developer *out, struct err *e);
int sq_developer_find_by_name(struct store *s, const char *name,
                              struct arena *a, struct store_developer *out,
                              struct err *e);
int sq_developer_list(struct store *s, struct arena *a,
                      struct store_developer **out, size_t *n, struct err *e);
int sq_key_create(struct store *s, const struct store_key *k, struct err *e);
int sq_key_revoke(struct store *s, const char *key_id, int64_t now,
                  struct err *e);
int sq_key_list(struct store *s, const char *dev_id, struct arena *a,
                struct store_key **out, size_t *n, struct err *e);
int sq_key_active_hashes(struct store *s, const char *dev_id, struct arena *a,
                         unsigned char (**out)[32], size_t *n, struct err *e);
int sq_session_create(struct store *s, const struct store_session *ss,
                      struct err *e);
int sq_session_create_async(struct store *s, const struct store_session *ss,
                            store_done_fn done, void *arg);
int sq_session_get(struct store *s, const char *id, struct arena *a,
                   struct store_session *out, struct err *e);
int sq_session_get_by_token(struct store *s, const unsigned char hash[32],
                            struct arena *a, struct store_session *out,
                            struct err *e);
int sq_token_count(struct store *s, int64_t *n, struct err *e);

int sq_attempt_create(struct store *s, const struct store_attempt *at,
                      struct err *e);
int sq_attempt_get(struct store *s, const unsigned char hash[32],
                   struct arena *a, struct store_attempt *out, struct err *e);
int sq_event_list(struct store *s, const struct store_event_query *q,
                  struct arena *a, struct store_event **out, size_t *n,
                  struct err *e);
int sq_connect(struct store *s, const struct store_connect *c, struct err *e);
int sq_connect_async(struct store *s, const struct store_connect *c,
                     store_done_fn done, void *arg);
int sq_attempt_fail(struct store *s, const unsigned char *state_hash,
                    const struct store_event *ev, int64_t now, struct err *e);
int sq_attempt_fail_async(struct store *s, const unsigned char *state_hash,
                          const struct store_event *ev, int64_t now,
                          store_done_fn done, void *arg);
int sq_user_get(struct store *s, const char *dev_id, const char *id,
                struct arena *a, struct store_user *out, struct err *e);
int sq_user_find_connected(struct store *s, const char *dev_id,
                           const char *provider, const char *provider_user_id,
                           const char *reference_id, struct arena *a,
                           struct store_user *out, struct err *e);
int sq_user_list(struct store *s, const struct store_user_query *q,
                 struct arena *a, struct store_user **out, size_t *n,
                 struct err *e);
int sq_user_count(struct store *s, const struct store_user_query *q, int64_t *n,
                  struct err *e);
int sq_user_update(struct store *s, const char *dev_id, const char *id,
                   int set_reference, const char *reference_id, int active,
                   int64_t now, struct err *e);
int sq_user_deauth(struct store *s, const char *dev_id, const char *id,
                   const struct store_event *ev, int64_t now, struct err *e);
int sq_token_get(struct store *s, const char *user_id, struct arena *a,
                 const unsigned char **sealed, size_t *len, int64_t *expires_at,
                 struct err *e);
int sq_sandbox_code_create(struct store *s, const struct store_sandbox_code *c,
                           struct err *e);
int sq_sandbox_code_take(struct store *s, const unsigned char hash[32],
                         int64_t now, struct arena *a,
                         struct store_sandbox_code *out, struct err *e);
int sq_sandbox_tokens_issue(struct store *s,
                            const struct store_sandbox_token *access,
                            const struct store_sandbox_token *refresh,
                            const unsigned char *rotate_from, int64_t now,
                            struct err *e);
int sq_sandbox_token_get(struct store *s, const unsigned char hash[32],
                         struct arena *a, struct store_sandbox_token *out,
                         struct err *e);
int sq_sandbox_token_revoke(struct store *s, const unsigned char hash[32],
                            int64_t now, struct err *e);
int sq_attempt_claim(struct store *s, const unsigned char hash[32], int64_t now,
                     struct err *e);
int sq_setting_get(struct store *s, const char *name, struct arena *a,
                   const unsigned char **value, size_t *len, struct err *e);
int sq_setting_add(struct store *s, const char *name,
                   const unsigned char *value, size_t len, struct err *e);
int sq_setting_put(struct store *s, const char *name,
                   const unsigned char *value, size_t len, struct err *e);

/* sqlite_destinations.c, sqlite_deliveries.c */
int sq_destination_create(struct store *s, const struct store_destination *d,
                          struct err *e);
int sq_destination_get(struct store *s, const char *dev_id, const char *id,
                       struct arena *a, struct store_destination *out,
                       struct err *e);
int sq_destination_list(struct store *s, const char *dev_id, int with_removed,
                        struct arena *a, struct store_destination **out,
                        size_t *n, struct err *e);
int sq_destination_remove(struct store *s, const char *dev_id, const char *id,
                          int64_t now, struct err *e);
int sq_destination_rotate(struct store *s, const char *dev_id, const char *id,
                          const struct store_rotation *r, struct err *e);
int sq_delivery_claim(struct store *s, const char *destination_id, int64_t now,
                      int64_t lease_until, const char *owner, size_t limit,
                      struct store_claim_view *view, struct arena *a,
                      struct store_delivery **out, size_t *n, struct err *e);
int sq_delivery_settle_async(struct store *s, struct store_delivery_outcome *o,
                             size_t n, store_done_fn done, void *arg);
int sq_delivery_list(struct store *s, const struct store_delivery_query *q,
                     struct arena *a, struct store_delivery **out, size_t *n,
                     struct err *e);
int sq_delivery_attempts(struct store *s, int64_t id, struct arena *a,
                         struct store_delivery_attempt **out, size_t *n,
                         struct err *e);
int sq_event_replay(struct store *s, const char *dev_id, const char *event_id,
                    int64_t now, int64_t *queued, struct err *e);
int sq_delivery_replay_dead(struct store *s, const char *dev_id, int64_t since,
                            int64_t now, int64_t *queued, struct err *e);
int sq_delivery_counts(struct store *s, struct store_delivery_counts *out,
                       struct err *e);
int sq_event_get(struct store *s, const char *dev_id, const char *id,
                 struct arena *a, struct store_event *out, struct err *e);

/* sqlite_data.c, sqlite_users.c */
int sq_records_put(struct store *s, struct store_records_put *p, struct err *e);
int sq_records_list(struct store *s, const char *user_id, const char *type,
                    int64_t from, int64_t to, size_t limit, struct arena *a,
                    struct store_record **out, size_t *n, struct err *e);
int sq_synced_count(struct store *s, const char *user_id, const char *type,
                    int64_t from, int64_t to, int64_t *n, struct err *e);
int sq_job_add(struct store *s, const struct store_job *j, int unique,
               int *added, struct err *e);
int sq_job_claim(struct store *s, const char *lane, int64_t now,
                 int64_t lease_until, const char *owner, size_t limit,
                 size_t per_dev, struct arena *a, struct store_job **out,
                 size_t *n, struct err *e);
int sq_job_finish(struct store *s, const char *id, const char *owner,
                  const char *state, int64_t run_at, const char *error,
                  struct err *e);
int sq_jobs_renew(struct store *s, const char *owner, int64_t until,
                  struct err *e);
int sq_token_lock(struct store *s, const char *user_id, int64_t now,
                  int64_t until, int *got, struct err *e);
int sq_token_put(struct store *s, const char *user_id,
                 const unsigned char *sealed, size_t len, int64_t expires_at,
                 int64_t now, struct err *e);
int sq_user_set_state(struct store *s, const char *id, const char *state,
                      const struct store_event *ev, int64_t now, int *changed,
                      struct err *e);
int sq_users_due(struct store *s, const char *provider, int64_t before,
                 size_t limit, struct arena *a, struct store_user **out,
                 size_t *n, struct err *e);
int sq_user_polled(struct store *s, const char *user_id, int64_t at,
                   struct err *e);
int sq_users_by_provider_id(struct store *s, const char *provider,
                            const char *provider_user_id, struct arena *a,
                            struct store_user **out, size_t *n, struct err *e);
int sq_event_add(struct store *s, const struct store_event *ev, struct err *e);
int sq_request_event_add(struct store *s, const struct store_event *ev,
                         const struct store_record *rows, size_t n,
                         int64_t ends, struct err *e);
int sq_request_forget(struct store *s, const char *reference, struct err *e);
int sq_request_sent(struct store *s, const char *reference, struct arena *a,
                    struct store_request_sent *out, struct err *e);

int sq_record_get(struct store *s, const char *user_id, const char *type,
                  const char *key, struct arena *a, struct store_record *out,
                  struct err *e);

int sq_tokens_due(struct store *s, int64_t before, size_t limit,
                  struct arena *a, struct store_user **out, size_t *n,
                  struct err *e);

#endif
