/*
 * sqlite_destinations.c - where a developer's events go.
 *
 * The store keeps the secrets of a destination sealed, as the caller
 * gives them; it never sees one in the clear. A scope of NULL (the
 * operator's) matches every developer: the statements test the bound
 * developer with "? IS NULL OR dev_id = ?", so it is bound twice.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sqlite_int.h"

#define DEST_COLS                                                              \
    "SELECT id, dev_id, kind, url, conf, secret, previous_secret,"             \
    " previous_until, created_at, removed_at FROM destinations"

#define DEST_SCOPE " AND (? IS NULL OR dev_id = ?)"

static const char ST_DEST_INSERT[] =
    "INSERT INTO destinations (id, dev_id, kind, url, conf, secret,"
    " previous_secret, previous_until, created_at, removed_at, cursor_seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " (SELECT coalesce(max(seq), 0) FROM events))";
static const char ST_DEST_GET[] = DEST_COLS " WHERE id = ?" DEST_SCOPE;
static const char ST_DEST_LIST[] = DEST_COLS " WHERE (? IS NULL OR dev_id = ?)"
                                             " AND (? OR removed_at IS NULL)"
                                             " ORDER BY created_at, id";
static const char ST_DEST_REMOVE[] =
    "UPDATE destinations SET removed_at = ?"
    " WHERE id = ? AND removed_at IS NULL" DEST_SCOPE;
/* A row in flight keeps its owner: the outcome of its attempt, heard
 * later, is still recorded (ST_SETTLE). */
static const char ST_DEST_CANCEL[] =
    "UPDATE deliveries SET state = 'cancelled', head = 0,"
    " lease_owner = CASE WHEN state = 'in_flight' THEN lease_owner END,"
    " lease_until = CASE WHEN state = 'in_flight' THEN lease_until END,"
    " updated_at = ?"
    " WHERE destination_id = ? AND state IN ('pending', 'in_flight')";
static const char ST_DEST_ROTATE[] =
    "UPDATE destinations SET secret = ?, previous_secret = ?,"
    " previous_until = ?"
    " WHERE id = ? AND removed_at IS NULL AND secret = ?" DEST_SCOPE;
static const char ST_DEST_IN_USE[] =
    "SELECT count(*) FROM destinations"
    " WHERE id = ? AND removed_at IS NULL" DEST_SCOPE;

/* Bind the scope `dev_id` (NULL: every developer) as DEST_SCOPE wants. */
static void
bind_scope(struct call *c, const char *dev_id)
{
    sq_bind_text(c, dev_id);
    sq_bind_text(c, dev_id);
}

static void
destination_row(struct call *c, void *row)
{
    struct store_destination *d = row;

    d->id = sq_col_text(c);
    d->dev_id = sq_col_text(c);
    d->kind = sq_col_text(c);
    d->url = sq_col_text(c);
    sq_col_blob(c, &d->conf, &d->conf_len);
    sq_col_blob(c, &d->secret, &d->secret_len);
    sq_col_blob(c, &d->previous_secret, &d->previous_secret_len);
    d->previous_until = sq_col_time(c);
    d->created_at = sq_col_int(c);
    d->removed_at = sq_col_time(c);
}

/* ---- create ---- */

static int
run_destination_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_destination *d = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_DEST_INSERT, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, d->id);
        sq_bind_text(&c, d->dev_id);
        sq_bind_text(&c, d->kind);
        sq_bind_text(&c, d->url);
        sq_bind_blob(&c, d->conf, d->conf_len);
        sq_bind_blob(&c, d->secret, d->secret_len);
        sq_bind_blob(&c, d->previous_secret, d->previous_secret_len);
        sq_bind_time(&c, d->previous_until);
        sq_bind_int(&c, d->created_at);
        sq_bind_time(&c, d->removed_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no developer with id '%s'", d->dev_id);
    } else if (rc == ERR_CONFLICT) {
        err_set(e, rc, "destination '%s' exists", d->id);
    }
    return rc;
}

int
sq_destination_create(struct store *s, const struct store_destination *d,
                      struct err *e)
{
    struct wop op = {.run = run_destination_create,
                     .name = "store_destination_create",
                     .one_statement = 1};

    assert(d->conf != NULL && d->secret != NULL);
    op.in.p = d;
    return sq_write_sync(s, &op, e);
}

/* ---- reads ---- */

int
sq_destination_get(struct store *s, const char *dev_id, const char *id,
                   struct arena *a, struct store_destination *out,
                   struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_DEST_GET, a, "store_destination_get", e);

    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, id);
    bind_scope(&c, dev_id);
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no destination with id '%s'", id);
    } else if (rc == 1) {
        destination_row(&c, out);
        rc = c.rc;
    }
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_destination_list(struct store *s, const char *dev_id, int with_removed,
                    struct arena *a, struct store_destination **out, size_t *n,
                    struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_DEST_LIST, a, "store_destination_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        bind_scope(&c, dev_id);
        sq_bind_int(&c, with_removed != 0);
        rc = sq_call_rows(&c, sizeof(**out), destination_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- remove ---- */

struct remove_args {
    const char *dev_id;
    const char *id;
    int64_t now;
};

/* Cancel the deliveries of `ra->id` still queued: none is claimable. */
static int
cancel_queued(struct conn *w, const struct wop *op,
              const struct remove_args *ra, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_DEST_CANCEL, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, ra->now);
        sq_bind_text(&c, ra->id);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

static int
run_destination_remove(struct conn *w, const struct wop *op, struct err *e)
{
    const struct remove_args *ra = op->in.p;
    struct call c = {0};
    int changed = 0;
    int rc = sq_call_start(&c, w, ST_DEST_REMOVE, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, ra->now);
        sq_bind_text(&c, ra->id);
        bind_scope(&c, ra->dev_id);
        rc = sq_call_run(&c);
        changed = sq_changes(&c);
    }
    sq_call_end(&c);
    if (rc != 0) {
        return rc;
    }
    if (changed == 0) {
        return err_set(e, ERR_NOTFOUND, "no destination with id '%s' in use",
                       ra->id);
    }
    return cancel_queued(w, op, ra, e);
}

int
sq_destination_remove(struct store *s, const char *dev_id, const char *id,
                      int64_t now, struct err *e)
{
    /* two statements: the savepoint keeps them whole */
    struct remove_args ra = {dev_id, id, now};
    struct wop op = {.run = run_destination_remove,
                     .name = "store_destination_remove"};

    assert(now > 0); /* 0 means "in use" in struct store_destination */
    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}

/* ---- rotate ---- */

struct rotate_args {
    const char *dev_id;
    const char *id;
    const struct store_rotation *r;
};

static int
run_destination_rotate(struct conn *w, const struct wop *op, struct err *e)
{
    const struct rotate_args *ra = op->in.p;
    const struct store_rotation *r = ra->r;
    struct call c = {0};
    int changed = 0;
    int64_t in_use = 0;
    int rc = sq_call_start(&c, w, ST_DEST_ROTATE, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_blob(&c, r->secret, r->secret_len);
        if (r->previous_until != 0) {
            sq_bind_blob(&c, r->replaced, r->replaced_len);
        } else {
            sq_bind_blob(&c, NULL, 0);
        }
        sq_bind_time(&c, r->previous_until);
        sq_bind_text(&c, ra->id);
        sq_bind_blob(&c, r->replaced, r->replaced_len);
        bind_scope(&c, ra->dev_id);
        rc = sq_call_run(&c);
        changed = sq_changes(&c);
    }
    sq_call_end(&c);
    if (rc != 0 || changed != 0) {
        return rc;
    }
    /* nothing changed: gone, or rotated since the caller read it */
    rc = sq_call_start(&c, w, ST_DEST_IN_USE, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_text(&c, ra->id);
        bind_scope(&c, ra->dev_id);
        rc = sq_call_step(&c);
        if (rc == 1) {
            in_use = sq_col_int(&c);
            rc = c.rc;
        }
    }
    sq_call_end(&c);
    if (rc == 0 && in_use == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no destination with id '%s' in use",
                     ra->id);
    } else if (rc == 0) {
        rc = err_set(e, ERR_CONFLICT,
                     "destination '%s' was given a new secret meanwhile",
                     ra->id);
    }
    return rc;
}

int
sq_destination_rotate(struct store *s, const char *dev_id, const char *id,
                      const struct store_rotation *r, struct err *e)
{
    struct rotate_args ra = {dev_id, id, r};
    struct wop op = {.run = run_destination_rotate,
                     .name = "store_destination_rotate"};

    assert(r != NULL && r->secret != NULL && r->replaced != NULL);
    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}
