/*
 * sqlite_data.c - normalised records, fetched days, jobs, the token
 * refresh lock.
 *
 * Records are upserted by (user, type, key) and compared by the hash of
 * their JSON. Each row also says whether its stored version was
 * announced: an announcing put hands the compose callback the records
 * whose version was not (new, changed, or left by a quiet put), and the
 * events it makes are added in the same transaction as the rows, so a
 * version is marked announced exactly when its events exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "store/sqlite_int.h"

#define JOB_CLAIM_MAX 256

static const char ST_RECORD_HASH[] =
    "SELECT hash, announced FROM records"
    " WHERE user_id = ? AND type = ? AND key = ?";
static const char ST_RECORD_INSERT[] =
    "INSERT INTO records (user_id, type, key, start_at, end_at, local_date,"
    " hash, data, announced, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_RECORD_UPDATE[] =
    "UPDATE records SET start_at = ?, end_at = ?, local_date = ?, hash = ?,"
    " data = ?, announced = ?, updated_at = ?"
    " WHERE user_id = ? AND type = ? AND key = ?";
static const char ST_RECORD_ANNOUNCED[] =
    "UPDATE records SET announced = 1"
    " WHERE user_id = ? AND type = ? AND key = ? AND hash = ?";
/* What a data request sent (schema v7). */
static const char ST_SEND_ADD[] =
    "INSERT INTO request_sends (reference, type, key) VALUES (?, ?, ?)";
static const char ST_SEND_ENDED[] =
    "SELECT count(*) FROM request_sends WHERE reference = ? AND type = 'end'";
static const char ST_SEND_CHUNKS[] =
    "SELECT count(*) FROM request_sends WHERE reference = ? AND type = 'chunk'";
static const char ST_SEND_FORGET[] =
    "DELETE FROM request_sends WHERE reference = ? AND type != 'end'";
static const char ST_SEND_LIST[] =
    "SELECT type, key FROM request_sends WHERE reference = ?";
static const char ST_RECORD_LIST[] =
    "SELECT user_id, type, key, start_at, end_at, local_date, hash, data,"
    " created_at, updated_at FROM records"
    " WHERE user_id = ?1 AND type = ?2 AND start_at >= ?3 AND start_at < ?4"
    " ORDER BY start_at, key LIMIT ?5";
static const char ST_USER_GONE[] =
    "SELECT count(*) FROM users WHERE id = ? AND state = 'deauthorized'";
static const char ST_RECORD_GET[] =
    "SELECT user_id, type, key, start_at, end_at, local_date, hash, data,"
    " created_at, updated_at FROM records"
    " WHERE user_id = ? AND type = ? AND key = ?";
static const char ST_SYNCED_ADD[] =
    "INSERT OR IGNORE INTO synced_days (user_id, type, day) VALUES (?, ?, ?)";
static const char ST_SYNCED_COUNT[] =
    "SELECT count(*) FROM synced_days"
    " WHERE user_id = ?1 AND type = ?2 AND day >= ?3 AND day < ?4";
static const char ST_USER_DATA_AT[] =
    "UPDATE users SET most_recent_data_at = max(coalesce(most_recent_data_at,"
    " 0), ?1) WHERE id = ?2";
static const char ST_JOB_INSERT[] =
    "INSERT INTO jobs (id, dev_id, user_id, kind, lane, payload, state,"
    " run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
static const char ST_JOB_INSERT_UNIQUE[] =
    "INSERT OR IGNORE INTO jobs (id, dev_id, user_id, kind, lane, payload,"
    " state, run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
static const char ST_JOB_RECOVER[] =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL,"
    " lease_until = NULL WHERE lane = ?1 AND state = 'running'"
    " AND lease_until < ?2";
static const char ST_JOB_DUE[] =
    "SELECT id FROM (SELECT id, run_at, row_number() OVER"
    " (PARTITION BY dev_id ORDER BY run_at, created_at) AS rn FROM jobs"
    " WHERE lane = ?1 AND state = 'pending' AND run_at <= ?2)"
    " WHERE rn <= ?3 ORDER BY run_at LIMIT ?4";
static const char ST_JOB_LEASE[] =
    "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_until = ?2"
    " WHERE id = ?3 RETURNING id, dev_id, user_id, kind, lane, payload,"
    " state, run_at, attempts, last_error, created_at";
static const char ST_JOB_FINISH[] =
    "UPDATE jobs SET state = ?1, run_at = ?2, last_error = ?3,"
    " attempts = attempts + CASE WHEN ?1 = 'pending' THEN 1 ELSE 0 END,"
    " lease_owner = NULL, lease_until = NULL"
    " WHERE id = ?4 AND state = 'running' AND lease_owner = ?5";
static const char ST_JOBS_RENEW[] =
    "UPDATE jobs SET lease_until = ?1"
    " WHERE state = 'running' AND lease_owner = ?2";
static const char ST_TOKEN_LOCK[] =
    "UPDATE tokens SET refresh_lock_until = ?1 WHERE user_id = ?2"
    " AND (refresh_lock_until IS NULL OR refresh_lock_until < ?3)";
static const char ST_TOKEN_PUT[] =
    "UPDATE tokens SET sealed = ?1, expires_at = ?2, refreshed_at = ?3,"
    " refresh_lock_until = NULL WHERE user_id = ?4";

/* ERR_GONE when user `id` is deauthorized: its data is no longer
 * stored nor announced (a job that began before the deauthorization
 * ends with nothing sent). */
static int
user_gone(struct conn *w, const char *id, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    if (id == NULL) {
        return 0;
    }
    rc = sq_call_start(&c, w, ST_USER_GONE, NULL, op, e);
    if (rc == 0) {
        sq_bind_text(&c, id);
        rc = sq_call_step(&c);
        if (rc == 1) {
            rc = sq_col_int(&c) > 0
                     ? err_set(e, ERR_GONE, "%s: the user is deauthorized", op)
                     : 0;
        }
    }
    sq_call_end(&c);
    return rc;
}

/* ---- records ---- */

/* The stored hash of `r` into `hash` and its announced state (0, 1, 2)
 * into `*announced`: 1 when there is a row, 0 none. */
static int
record_hash(struct conn *w, const struct store_record *r,
            unsigned char hash[HASH_LEN], int *announced, const char *op,
            struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_RECORD_HASH, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, r->user_id);
        sq_bind_text(&c, r->type);
        sq_bind_text(&c, r->key);
        rc = sq_call_step(&c);
        if (rc == 1) {
            sq_col_hash(&c, hash);
            *announced = (int)sq_col_int(&c);
            rc = c.rc != 0 ? c.rc : 1;
        }
    }
    sq_call_end(&c);
    return rc;
}

/* Mark the stored version of `r` announced while it is the one of
 * `r->hash` (a newer one stored meanwhile stays as it is). */
static int
record_announced(struct conn *w, const struct store_record *r, const char *op,
                 struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_RECORD_ANNOUNCED, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, r->user_id);
        sq_bind_text(&c, r->type);
        sq_bind_text(&c, r->key);
        sq_bind_hash(&c, r->hash);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

static int
record_write(struct conn *w, const struct store_record *r, int insert,
             int announced, int64_t now, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, insert ? ST_RECORD_INSERT : ST_RECORD_UPDATE,
                           NULL, op, e);

    if (rc != 0) {
        goto out;
    }
    if (insert) {
        sq_bind_text(&c, r->user_id);
        sq_bind_text(&c, r->type);
        sq_bind_text(&c, r->key);
    }
    sq_bind_int(&c, r->start_at);
    sq_bind_int(&c, r->end_at);
    sq_bind_text(&c, r->local_date);
    sq_bind_hash(&c, r->hash);
    sq_bind_text(&c, r->data);
    sq_bind_int(&c, announced);
    if (insert) {
        sq_bind_int(&c, now);
    }
    sq_bind_int(&c, now);
    if (!insert) {
        sq_bind_text(&c, r->user_id);
        sq_bind_text(&c, r->type);
        sq_bind_text(&c, r->key);
    }
    rc = sq_call_run(&c);
out:
    sq_call_end(&c);
    return rc;
}

static int
synced_mark(struct conn *w, const struct store_records_put *p, const char *op,
            struct err *e)
{
    struct call c = {0};
    int64_t d = 0;
    int rc = 0;

    for (d = p->synced_from; rc == 0 && d < p->synced_to; d++) {
        rc = sq_call_start(&c, w, ST_SYNCED_ADD, NULL, op, e);
        if (rc == 0) {
            sq_bind_text(&c, p->user_id);
            sq_bind_text(&c, p->synced_type);
            sq_bind_int(&c, d);
            rc = sq_call_run(&c);
        }
        sq_call_end(&c);
    }
    return rc;
}

/*
 * Write `r` as `p->announce` says (store.h), given what is stored: `have`
 * a row, `same` its hash equal, `ann` its announced state. Sets
 * `r->change`; 1 when the record is to be reported (announced, or
 * stored by a quiet put), 0 when nothing was to do.
 */
static int
record_put(struct conn *w, const struct store_records_put *p,
           struct store_record *r, int have, int same, int ann, const char *op,
           struct err *e)
{
    int rc = 0;

    r->change = 0;
    if (p->announce == STORE_PUT_ANNOUNCE) {
        if (same && ann == 1) {
            return 0;
        }
        r->change = !have || ann == 0 ? 1 : 2;
        rc = same ? record_announced(w, r, op, e)
                  : record_write(w, r, !have, 1, p->now, op, e);
        return rc < 0 ? rc : 1;
    }
    if (same) {
        return 0;
    }
    r->change = have ? 2 : 1;
    ann = !have || ann == 0 ? 0 : 2;
    rc = record_write(w, r, !have, ann, p->now, op, e);
    return rc < 0 ? rc : 1;
}

static int
run_records_put(struct conn *w, const struct wop *op, struct err *e)
{
    struct store_records_put *p = (struct store_records_put *)op->in.p;
    struct store_record *changed = NULL;
    const struct store_event *events = NULL;
    size_t nchanged = 0;
    size_t nevents = 0;
    int64_t latest = 0;
    size_t i = 0;
    int rc = 0;

    rc = user_gone(w, p->user_id, op->name, e);
    if (rc < 0) {
        return rc;
    }
    if (p->n > 0) {
        changed = calloc(p->n, sizeof(*changed));
        if (changed == NULL) {
            return err_set(e, ERR_NOMEM, "%s: out of memory", op->name);
        }
    }
    for (i = 0; rc == 0 && i < p->n; i++) {
        struct store_record *r = &p->records[i];
        unsigned char old[HASH_LEN];
        int ann = 0;
        int have = 0;
        int same = 0;

        crypto_sha256(r->data, strlen(r->data), r->hash);
        have = record_hash(w, r, old, &ann, op->name, e);
        if (have < 0) {
            rc = have;
            break;
        }
        same = have == 1 && memcmp(old, r->hash, HASH_LEN) == 0;
        rc = record_put(w, p, r, have, same, ann, op->name, e);
        if (rc < 0) {
            break;
        }
        if (rc == 1 && p->announce == STORE_PUT_ANNOUNCE) {
            changed[nchanged++] = *r;
        }
        if (rc == 1 && r->end_at > latest) {
            latest = r->end_at;
        }
        rc = 0;
    }
    if (rc == 0 && nchanged > 0 && p->compose != NULL) {
        rc = p->compose(p->compose_arg, changed, nchanged, &events, &nevents);
        if (rc < 0) {
            err_set(e, rc, "%s: the events could not be made", op->name);
        }
    }
    for (i = 0; rc == 0 && i < nevents; i++) {
        rc = sq_insert_event(w, &events[i], op->name, e);
    }
    if (rc == 0 && latest > 0) {
        struct call c = {0};

        rc = sq_call_start(&c, w, ST_USER_DATA_AT, NULL, op->name, e);
        if (rc == 0) {
            sq_bind_int(&c, latest);
            sq_bind_text(&c, p->user_id);
            rc = sq_call_run(&c);
        }
        sq_call_end(&c);
    }
    if (rc == 0 && p->synced_type != NULL) {
        rc = synced_mark(w, p, op->name, e);
    }
    free(changed);
    return rc;
}

int
sq_records_put(struct store *s, struct store_records_put *p, struct err *e)
{
    struct wop op = {.run = run_records_put, .name = "store_records_put"};

    op.in.p = p;
    return sq_write_sync(s, &op, e);
}

static void
read_record(struct call *c, void *row)
{
    struct store_record *r = row;

    r->user_id = sq_col_text(c);
    r->type = sq_col_text(c);
    r->key = sq_col_text(c);
    r->start_at = sq_col_int(c);
    r->end_at = sq_col_int(c);
    r->local_date = sq_col_text(c);
    sq_col_hash(c, r->hash);
    r->data = sq_col_text(c);
    r->created_at = sq_col_int(c);
    r->updated_at = sq_col_int(c);
}

int
sq_records_list(struct store *s, const char *user_id, const char *type,
                int64_t from, int64_t to, size_t limit, struct arena *a,
                struct store_record **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_RECORD_LIST, a, "store_records_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, user_id);
        sq_bind_text(&c, type);
        sq_bind_int(&c, from);
        sq_bind_int(&c, to);
        sq_bind_int(&c, limit == 0 ? -1 : (int64_t)limit);
        rc = sq_call_rows(&c, sizeof(**out), read_record, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_record_get(struct store *s, const char *user_id, const char *type,
              const char *key, struct arena *a, struct store_record *out,
              struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_RECORD_GET, a, "store_record_get", e);

    memset(out, 0, sizeof(*out));
    if (rc == 0) {
        sq_bind_text(&c, user_id);
        sq_bind_text(&c, type);
        sq_bind_text(&c, key);
        rc = sq_call_step(&c);
        if (rc == 1) {
            read_record(&c, out);
            rc = c.rc;
        } else if (rc == 0) {
            rc = err_set(e, ERR_NOTFOUND, "store_record_get: no record");
        }
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_synced_count(struct store *s, const char *user_id, const char *type,
                int64_t from, int64_t to, int64_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc =
        sq_call_start(&c, r, ST_SYNCED_COUNT, NULL, "store_synced_count", e);

    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, user_id);
        sq_bind_text(&c, type);
        sq_bind_int(&c, from);
        sq_bind_int(&c, to);
        rc = sq_call_step(&c);
        if (rc == 1) {
            *n = sq_col_int(&c);
            rc = c.rc;
        }
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- jobs ---- */

struct job_add_args {
    const struct store_job *j;
    int unique;
    int *added;
};

static int
run_job_add(struct conn *w, const struct wop *op, struct err *e)
{
    const struct job_add_args *ja = op->in.p;
    const struct store_job *j = ja->j;
    struct call c = {0};
    int rc =
        sq_call_start(&c, w, ja->unique ? ST_JOB_INSERT_UNIQUE : ST_JOB_INSERT,
                      NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, j->id);
        sq_bind_text(&c, j->dev_id);
        sq_bind_text(&c, j->user_id);
        sq_bind_text(&c, j->kind);
        sq_bind_text(&c, j->lane);
        sq_bind_text(&c, j->payload);
        sq_bind_int(&c, j->run_at);
        sq_bind_int(&c, j->created_at);
        rc = sq_call_run(&c);
        if (rc == 0) {
            *ja->added = sq_changes(&c) > 0;
        }
    }
    sq_call_end(&c);
    return rc;
}

int
sq_job_add(struct store *s, const struct store_job *j, int unique, int *added,
           struct err *e)
{
    struct wop op = {.run = run_job_add, .name = "store_job_add"};
    int dummy = 0;
    struct job_add_args ja = {j, unique, added != NULL ? added : &dummy};

    *ja.added = 0;
    op.in.p = &ja;
    return sq_write_sync(s, &op, e);
}

struct job_claim_args {
    const char *lane;
    int64_t now;
    int64_t lease_until;
    const char *owner;
    size_t limit;
    size_t per_dev;
    struct arena *a;
    struct store_job *out;
    size_t *n;
};

static void
read_job(struct call *c, struct store_job *j)
{
    j->id = sq_col_text(c);
    j->dev_id = sq_col_text(c);
    j->user_id = sq_col_text(c);
    j->kind = sq_col_text(c);
    j->lane = sq_col_text(c);
    j->payload = sq_col_text(c);
    j->state = sq_col_text(c);
    j->run_at = sq_col_int(c);
    j->attempts = (int)sq_col_int(c);
    j->last_error = sq_col_text(c);
    j->created_at = sq_col_int(c);
}

static int
run_job_claim(struct conn *w, const struct wop *op, struct err *e)
{
    const struct job_claim_args *ca = op->in.p;
    char *ids[JOB_CLAIM_MAX];
    size_t got = 0;
    size_t i = 0;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_JOB_RECOVER, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, ca->lane);
        sq_bind_int(&c, ca->now);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == 0) {
        rc = sq_call_start(&c, w, ST_JOB_DUE, ca->a, op->name, e);
    }
    if (rc == 0) {
        sq_bind_text(&c, ca->lane);
        sq_bind_int(&c, ca->now);
        sq_bind_int(&c, (int64_t)ca->per_dev);
        sq_bind_int(&c, (int64_t)ca->limit);
        while (got < ca->limit && (rc = sq_call_step(&c)) == 1) {
            ids[got++] = (char *)sq_col_text(&c);
        }
        rc = rc < 0 ? rc : c.rc;
    }
    sq_call_end(&c);
    for (i = 0; rc == 0 && i < got; i++) {
        rc = sq_call_start(&c, w, ST_JOB_LEASE, ca->a, op->name, e);
        if (rc == 0) {
            sq_bind_text(&c, ca->owner);
            sq_bind_int(&c, ca->lease_until);
            sq_bind_text(&c, ids[i]);
            rc = sq_call_step(&c);
            if (rc == 1) {
                read_job(&c, &ca->out[i]);
                rc = c.rc;
            } else if (rc == 0) {
                rc = err_set(e, ERR_STORE, "%s: a claimed job vanished",
                             op->name);
            }
        }
        sq_call_end(&c);
    }
    if (rc == 0) {
        *ca->n = got;
    }
    return rc;
}

int
sq_job_claim(struct store *s, const char *lane, int64_t now,
             int64_t lease_until, const char *owner, size_t limit,
             size_t per_dev, struct arena *a, struct store_job **out, size_t *n,
             struct err *e)
{
    struct wop op = {.run = run_job_claim, .name = "store_job_claim"};
    struct job_claim_args ca;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (limit == 0) {
        return 0;
    }
    if (limit > JOB_CLAIM_MAX) {
        limit = JOB_CLAIM_MAX;
    }
    memset(&ca, 0, sizeof(ca));
    ca.lane = lane;
    ca.now = now;
    ca.lease_until = lease_until;
    ca.owner = owner;
    ca.limit = limit;
    ca.per_dev = per_dev == 0 ? limit : per_dev;
    ca.a = a;
    ca.n = n;
    ca.out = arena_alloc(a, limit * sizeof(*ca.out));
    if (ca.out == NULL) {
        return err_set(e, ERR_NOMEM, "%s: the arena is full", op.name);
    }
    memset(ca.out, 0, limit * sizeof(*ca.out));
    op.in.p = &ca;
    rc = sq_write_sync(s, &op, e);
    if (rc == 0) {
        *out = ca.out;
    }
    return rc;
}

struct job_finish_args {
    const char *id;
    const char *owner;
    const char *state;
    int64_t run_at;
    const char *error;
};

static int
run_job_finish(struct conn *w, const struct wop *op, struct err *e)
{
    const struct job_finish_args *fa = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_JOB_FINISH, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, fa->state);
        sq_bind_int(&c, fa->run_at);
        sq_bind_text(&c, fa->error);
        sq_bind_text(&c, fa->id);
        sq_bind_text(&c, fa->owner);
        rc = sq_call_run(&c);
        if (rc == 0 && sq_changes(&c) == 0) {
            rc = err_set(e, ERR_NOTFOUND, "%s: the claim was lost", op->name);
        }
    }
    sq_call_end(&c);
    return rc;
}

int
sq_job_finish(struct store *s, const char *id, const char *owner,
              const char *state, int64_t run_at, const char *error,
              struct err *e)
{
    struct wop op = {.run = run_job_finish, .name = "store_job_finish"};
    struct job_finish_args fa = {id, owner, state, run_at, error};

    op.in.p = &fa;
    return sq_write_sync(s, &op, e);
}

struct renew_args {
    const char *owner;
    int64_t until;
};

static int
run_jobs_renew(struct conn *w, const struct wop *op, struct err *e)
{
    const struct renew_args *ra = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_JOBS_RENEW, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, ra->until);
        sq_bind_text(&c, ra->owner);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

int
sq_jobs_renew(struct store *s, const char *owner, int64_t until, struct err *e)
{
    struct wop op = {.run = run_jobs_renew, .name = "store_jobs_renew"};
    struct renew_args ra = {owner, until};

    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}

/* ---- tokens ---- */

struct lock_args {
    const char *user_id;
    int64_t now;
    int64_t until;
    int *got;
};

static int
run_token_lock(struct conn *w, const struct wop *op, struct err *e)
{
    const struct lock_args *la = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_TOKEN_LOCK, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, la->until);
        sq_bind_text(&c, la->user_id);
        sq_bind_int(&c, la->now);
        rc = sq_call_run(&c);
        if (rc == 0) {
            *la->got = sq_changes(&c) > 0;
        }
    }
    sq_call_end(&c);
    return rc;
}

int
sq_token_lock(struct store *s, const char *user_id, int64_t now, int64_t until,
              int *got, struct err *e)
{
    struct wop op = {.run = run_token_lock, .name = "store_token_lock"};
    struct lock_args la = {user_id, now, until, got};

    *got = 0;
    op.in.p = &la;
    return sq_write_sync(s, &op, e);
}

struct put_args {
    const char *user_id;
    const unsigned char *sealed;
    size_t len;
    int64_t expires_at;
    int64_t now;
};

static int
run_token_put(struct conn *w, const struct wop *op, struct err *e)
{
    const struct put_args *pa = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_TOKEN_PUT, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_blob(&c, pa->sealed, pa->len);
        if (pa->expires_at > 0) {
            sq_bind_int(&c, pa->expires_at);
        } else {
            sq_bind_text(&c, NULL);
        }
        sq_bind_int(&c, pa->now);
        sq_bind_text(&c, pa->user_id);
        rc = sq_call_run(&c);
        if (rc == 0 && sq_changes(&c) == 0) {
            rc =
                err_set(e, ERR_NOTFOUND, "%s: no token for the user", op->name);
        }
    }
    sq_call_end(&c);
    return rc;
}

int
sq_token_put(struct store *s, const char *user_id, const unsigned char *sealed,
             size_t len, int64_t expires_at, int64_t now, struct err *e)
{
    struct wop op = {.run = run_token_put, .name = "store_token_put"};
    struct put_args pa = {user_id, sealed, len, expires_at, now};

    op.in.p = &pa;
    return sq_write_sync(s, &op, e);
}

/* ---- events alone ---- */

static int
run_event_add(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_event *ev = op->in.p;
    int rc = user_gone(w, ev->user_id, op->name, e);

    return rc < 0 ? rc : sq_insert_event(w, ev, op->name, e);
}

int
sq_event_add(struct store *s, const struct store_event *ev, struct err *e)
{
    struct wop op = {.run = run_event_add, .name = "store_event_add"};

    op.in.p = ev;
    return sq_write_sync(s, &op, e);
}

/* ---- what data requests sent ---- */

struct request_event_args {
    const struct store_event *ev;
    const struct store_record *rows;
    size_t n;
    int64_t ends;
};

/* The count(*) `sql` gives for `ref` into `*n`. */
static int
send_count(struct conn *w, const char *sql, const char *ref, int64_t *n,
           const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, sql, NULL, op, e);

    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, ref);
        rc = sq_call_step(&c);
        if (rc == 1) {
            *n = sq_col_int(&c);
            rc = c.rc;
        }
    }
    sq_call_end(&c);
    return rc;
}

/* Run `sql` with the text values `a`, `b`, `c` (NULL: fewer). */
static int
send_exec(struct conn *w, const char *sql, const char *a, const char *b,
          const char *c3, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, sql, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, a);
        if (b != NULL) {
            sq_bind_text(&c, b);
            sq_bind_text(&c, c3);
        }
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/* One record `r` sent by the request `ref`: kept, and marked announced
 * while its stored version is the one of its hash. */
static int
send_record(struct conn *w, const char *ref, const struct store_record *r,
            const char *op, struct err *e)
{
    int rc = send_exec(w, ST_SEND_ADD, ref, r->type, r->key, op, e);

    return rc < 0 ? rc : record_announced(w, r, op, e);
}

static int
run_request_event_add(struct conn *w, const struct wop *op, struct err *e)
{
    const struct request_event_args *ra = op->in.p;
    const char *ref = ra->ev->reference;
    int64_t ended = 0;
    int64_t chunks = 0;
    size_t i = 0;
    int rc = 0;

    if (ref == NULL) {
        return err_set(e, ERR_INVALID, "%s: the event has no reference",
                       op->name);
    }
    rc = send_count(w, ST_SEND_ENDED, ref, &ended, op->name, e);
    if (rc == 0 && ended > 0) {
        return err_set(e, ERR_CONFLICT, "%s: request %s has ended", op->name,
                       ref);
    }
    if (rc == 0 && ra->ends >= 0) {
        rc = send_count(w, ST_SEND_CHUNKS, ref, &chunks, op->name, e);
        if (rc == 0 && chunks != ra->ends) {
            return err_set(e, ERR_CONFLICT,
                           "%s: request %s has sent %lld chunks, not %lld",
                           op->name, ref, (long long)chunks,
                           (long long)ra->ends);
        }
    }
    if (rc == 0) {
        rc = user_gone(w, ra->ev->user_id, op->name, e);
    }
    if (rc == 0) {
        rc = sq_insert_event(w, ra->ev, op->name, e);
    }
    for (i = 0; rc == 0 && i < ra->n; i++) {
        rc = send_record(w, ref, &ra->rows[i], op->name, e);
    }
    if (rc == 0) {
        rc = ra->n > 0 ? send_exec(w, ST_SEND_ADD, ref, "chunk", ra->ev->id,
                                   op->name, e)
                       : send_exec(w, ST_SEND_ADD, ref, "event", ra->ev->type,
                                   op->name, e);
    }
    if (rc == 0 && ra->ends >= 0) {
        rc = send_exec(w, ST_SEND_FORGET, ref, NULL, NULL, op->name, e);
        if (rc == 0) {
            rc = send_exec(w, ST_SEND_ADD, ref, "end", "", op->name, e);
        }
    }
    return rc < 0 ? rc : 0;
}

static int
run_request_forget(struct conn *w, const struct wop *op, struct err *e)
{
    return send_exec(w, ST_SEND_FORGET, op->in.p, NULL, NULL, op->name, e);
}

int
sq_request_forget(struct store *s, const char *reference, struct err *e)
{
    struct wop op = {.run = run_request_forget, .name = "store_request_forget"};

    op.in.p = reference;
    return sq_write_sync(s, &op, e);
}

int
sq_request_event_add(struct store *s, const struct store_event *ev,
                     const struct store_record *rows, size_t n, int64_t ends,
                     struct err *e)
{
    struct wop op = {.run = run_request_event_add,
                     .name = "store_request_event_add"};
    struct request_event_args ra = {ev, rows, n, ends};

    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}

struct send_row {
    const char *type;
    const char *key;
};

static void
read_send(struct call *c, void *row)
{
    struct send_row *r = row;

    r->type = sq_col_text(c);
    r->key = sq_col_text(c);
}

int
sq_request_sent(struct store *s, const char *reference, struct arena *a,
                struct store_request_sent *out, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct send_row *rows = NULL;
    struct call c = {0};
    size_t n = 0;
    size_t i = 0;
    int rc = sq_call_start(&c, r, ST_SEND_LIST, a, "store_request_sent", e);

    memset(out, 0, sizeof(*out));
    if (rc == 0) {
        sq_bind_text(&c, reference);
        rc = sq_call_rows(&c, sizeof(*rows), read_send, (void **)&rows, &n);
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    if (rc < 0 || n == 0) {
        return rc;
    }
    out->events = arena_alloc(a, n * sizeof(*out->events));
    out->types = arena_alloc(a, n * sizeof(*out->types));
    out->keys = arena_alloc(a, n * sizeof(*out->keys));
    if (out->events == NULL || out->types == NULL || out->keys == NULL) {
        memset(out, 0, sizeof(*out));
        return err_set(e, ERR_NOMEM, "store_request_sent: out of memory");
    }
    for (i = 0; i < n; i++) {
        if (strcmp(rows[i].type, "end") == 0) {
            out->ended = 1;
        } else if (strcmp(rows[i].type, "chunk") == 0) {
            out->chunks++;
        } else if (strcmp(rows[i].type, "event") == 0) {
            out->events[out->nevents++] = rows[i].key;
        } else {
            out->types[out->nrecords] = rows[i].type;
            out->keys[out->nrecords++] = rows[i].key;
        }
    }
    return 0;
}
