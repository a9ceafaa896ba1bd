/*
 * store.h - ferry's own store: the only interface to its tables.
 *
 * All SQL of ferry's store lives behind this header. The backend is chosen
 * by URL at store_open(): `sqlite:PATH` (the embedded default) today,
 * `postgresql://...` later, with the same functions and the same meaning,
 * so callers never change. Every function is one transaction: it either
 * happens completely or not at all. (Writes may share a database
 * transaction with other writes, each isolated from the others; see
 * "Writes" below.)
 *
 * Conventions:
 * - Ids are strings (UUIDs, or "dev_..." / "key_..." for developers and
 *   keys). Times are int64 unix microseconds, UTC. Hashes are SHA-256,
 *   32 raw bytes.
 * - Strings returned in result structs are allocated from the arena the
 *   caller passes and live as long as it; optional strings are NULL when
 *   absent. Strings in argument structs are borrowed for the call.
 * - Errors: ERR_NOTFOUND when the object does not exist, ERR_CONFLICT
 *   when a unique value is taken, ERR_NOMEM when the arena is full,
 *   ERR_STORE for a failure of the database itself (the detail names the
 *   operation and the database's message).
 * - A `struct store` is safe to use from many threads at once.
 *
 * Writes: one writer thread owned by the store runs every write. A
 * write function queues its operation and waits for the result; the
 * writer takes all that are queued (up to a bound) and runs them in one
 * transaction, each isolated from the others, so a failing write (a
 * conflict, a missing developer) fails alone and leaves nothing behind,
 * and many concurrent writes cost one commit (group commit). A write
 * returns only once its transaction has committed or failed. The
 * *_async() functions queue the operation and return at once; see
 * store_session_create_async().
 */
#ifndef FERRY_STORE_STORE_H
#define FERRY_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

struct store;
struct store_key;

struct store_options {
    int busy_timeout_ms; /* how long a writer waits for a lock */
    int readers;         /* read connections to keep (0 = a default) */
};

/*
 * Open the store named by `url`. The schema is not touched: call
 * store_migrate() before other calls. `*out` is freed with store_free().
 * ERR_CONFIG for an unknown scheme, ERR_STORE when the database cannot be
 * opened.
 */
int store_open(struct store **out, const char *url,
               const struct store_options *opt, struct err *e);

/*
 * Finish every queued write (calling the done callbacks of asynchronous
 * ones), stop the store's threads, checkpoint the log, close every
 * connection and free `s`. No other call may be running or start. NULL
 * does nothing.
 */
void store_free(struct store *s);

/*
 * How an asynchronous write ended: `rc` is 0 once the write has
 * committed, or the negative ERR_* it failed with and `e` its detail
 * (`e` is never NULL; borrowed for the call). Called exactly once per
 * queued write, from the store's writer thread, with the log request id
 * of the thread that queued it. It must not make a synchronous store_*
 * write, which would wait for the thread it runs on (BUG()); reads and
 * further *_async() calls are fine. It should be quick: the next batch
 * waits for it.
 */
typedef void (*store_done_fn)(void *arg, int rc, const struct err *e);

/* Counters since store_open(), for tests and metrics. */
struct store_stats {
    uint64_t writes;       /* write operations finished, failed or not */
    uint64_t commits;      /* transactions committed by the writer */
    uint64_t checkpoints;  /* log checkpoints, none inside a commit */
    uint64_t log_restarts; /* times the log started over from the top */
};

/* Fill `out`. Never fails. */
void store_stats(struct store *s, struct store_stats *out);

/*
 * Bring the schema to the newest version, applying each pending migration
 * in its own transaction. `*applied` (may be NULL) gets the number
 * applied. ERR_STORE also when the database is newer than this binary.
 */
int store_migrate(struct store *s, int *applied, struct err *e);

/* The schema version of the database and the newest one this binary
 * knows. */
int store_schema_version(struct store *s, int *current, int *latest,
                         struct err *e);

/* ---- developers ---- */

struct store_developer {
    const char *id;
    const char *name;
    int64_t created_at;
    int active_keys; /* filled by store_developer_list() and _get() */
};

/*
 * Create `d` and, when `first_key` is not NULL, that key with it, in one
 * transaction: both are stored or neither. ERR_CONFLICT when `d->id` or
 * the key id exists. `first_key->dev_id` must be `d->id`.
 */
int store_developer_create(struct store *s, const struct store_developer *d,
                           const struct store_key *first_key, struct err *e);

/* ERR_NOTFOUND when there is no such developer. */
int store_developer_get(struct store *s, const char *id, struct arena *a,
                        struct store_developer *out, struct err *e);

/* The oldest developer called `name`; ERR_NOTFOUND when none. */
int store_developer_find_by_name(struct store *s, const char *name,
                                 struct arena *a, struct store_developer *out,
                                 struct err *e);

/* All developers, oldest first; `*out` is an arena array of `*n`. */
int store_developer_list(struct store *s, struct arena *a,
                         struct store_developer **out, size_t *n,
                         struct err *e);

/* ---- API keys ---- */

struct store_key {
    const char *id;
    const char *dev_id;
    unsigned char hash[32]; /* SHA-256 of the key; the key is not kept */
    const char *hint;       /* the key's last 4 characters, for lists */
    int64_t created_at;
    int64_t revoked_at; /* 0 while the key is active */
};

/* ERR_NOTFOUND when the developer does not exist, ERR_CONFLICT when the
 * key id exists. */
int store_key_create(struct store *s, const struct store_key *k, struct err *e);

/* Revoke at `now`. ERR_NOTFOUND for an unknown id, ERR_CONFLICT when the
 * key is already revoked. */
int store_key_revoke(struct store *s, const char *key_id, int64_t now,
                     struct err *e);

/* All keys of `dev_id` (revoked ones too), oldest first. An unknown
 * developer gives an empty list. */
int store_key_list(struct store *s, const char *dev_id, struct arena *a,
                   struct store_key **out, size_t *n, struct err *e);

/*
 * The hashes of the active keys of `dev_id`: `*out` is an arena array of
 * `*n` 32-byte hashes; an unknown developer gives none. This is the hot
 * path of every authenticated request.
 */
int store_key_active_hashes(struct store *s, const char *dev_id,
                            struct arena *a, unsigned char (**out)[32],
                            size_t *n, struct err *e);

/* ---- link sessions (widget links and direct authenticateUser links) ---- */

struct store_session {
    const char *id; /* UUID: widget_session_id in events */
    const char *dev_id;
    const char *kind;             /* "widget" or "direct" */
    unsigned char token_hash[32]; /* SHA-256 of the URL token */
    const char *reference_id;
    const char *providers; /* comma-separated resources offered */
    const char *language;
    const char *success_url;
    const char *failure_url;
    int64_t created_at;
    int64_t expires_at;
    int64_t completed_at; /* 0 while open */
};

/* ERR_NOTFOUND when the developer does not exist, ERR_CONFLICT when the
 * id or the token hash exists. */
int store_session_create(struct store *s, const struct store_session *ss,
                         struct err *e);

/*
 * store_session_create() without waiting. `ss` and its strings are
 * copied: the caller may free them on return. Returns 0 when the write
 * is queued, and `done(arg, ...)` is then called exactly once, from the
 * writer thread, after the commit or the failure, with the errors of
 * store_session_create(). Returns ERR_STORE when the store is closing;
 * `done` is then never called.
 */
int store_session_create_async(struct store *s, const struct store_session *ss,
                               store_done_fn done, void *arg);

/* By id; ERR_NOTFOUND when unknown. */
int store_session_get(struct store *s, const char *id, struct arena *a,
                      struct store_session *out, struct err *e);

/* By the hash of its URL token; ERR_NOTFOUND when unknown. */
int store_session_get_by_token(struct store *s, const unsigned char hash[32],
                               struct arena *a, struct store_session *out,
                               struct err *e);

/* ---- provider tokens ---- */

/* Number of stored provider token rows (encrypted grants). */
int store_token_count(struct store *s, int64_t *n, struct err *e);

#endif
