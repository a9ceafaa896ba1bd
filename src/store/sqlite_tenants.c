/*
 * sqlite_tenants.c - developers, their API keys, and the settings.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/sqlite_int.h"

#define DEV_COLS                                                               \
    "SELECT d.id, d.name, d.created_at,"                                       \
    " (SELECT count(*) FROM api_keys k"                                        \
    "  WHERE k.dev_id = d.id AND k.revoked_at IS NULL)"                        \
    " FROM developers d"

#define KEY_COLS "SELECT id, dev_id, hash, hint, created_at, revoked_at"

static const char ST_DEV_INSERT[] =
    "INSERT INTO developers (id, name, created_at)"
    " VALUES (?, ?, ?)";
static const char ST_DEV_GET[] = DEV_COLS " WHERE d.id = ?";
static const char ST_DEV_BY_NAME[] =
    DEV_COLS " WHERE d.name = ?"
             " ORDER BY d.created_at, d.id LIMIT 1";
static const char ST_DEV_LIST[] = DEV_COLS " ORDER BY d.created_at, d.id";
static const char ST_KEY_INSERT[] =
    "INSERT INTO api_keys"
    " (id, dev_id, hash, hint, created_at, revoked_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char ST_KEY_REVOKE[] = "UPDATE api_keys SET revoked_at = ?"
                                    " WHERE id = ? AND revoked_at IS NULL";
static const char ST_KEY_EXISTS[] = "SELECT 1 FROM api_keys WHERE id = ?";
static const char ST_KEY_LIST[] = KEY_COLS " FROM api_keys WHERE dev_id = ?"
                                           " ORDER BY created_at, id";
static const char ST_KEY_ACTIVE[] = "SELECT hash FROM api_keys"
                                    " WHERE dev_id = ? AND revoked_at IS NULL";

/* ---- developers ---- */

static int run_key_create(struct conn *w, const struct wop *op, struct err *e);

static int
run_developer_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_developer *d = op->in.dev;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_DEV_INSERT, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_text(&c, d->id);
        sq_bind_text(&c, d->name);
        sq_bind_int(&c, d->created_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
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

int
sq_developer_create(struct store *s, const struct store_developer *d,
                    const struct store_key *first_key, struct err *e)
{
    /* with a key it is two statements: the savepoint keeps them whole */
    struct wop op = {.run = run_developer_create,
                     .name = "store_developer_create",
                     .one_statement = first_key == NULL};

    op.in.dev = d;
    op.first_key = first_key;
    return sq_write_sync(s, &op, e);
}

static int
read_developer(struct call *c, struct store_developer *out)
{
    out->id = sq_col_text(c);
    out->name = sq_col_text(c);
    out->created_at = sq_col_int(c);
    out->active_keys = (int)sq_col_int(c);
    return c->rc;
}

/* Run a developer query `id` with one text parameter; one row wanted. */
static int
developer_one(struct store *s, const char *sql, const char *arg,
              struct arena *a, struct store_developer *out, const char *op,
              struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, r, sql, a, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, arg);
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no developer %s '%s'",
                     sql == ST_DEV_GET ? "with id" : "called", arg);
    } else if (rc == 1) {
        rc = read_developer(&c, out);
    }
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_developer_get(struct store *s, const char *id, struct arena *a,
                 struct store_developer *out, struct err *e)
{
    return developer_one(s, ST_DEV_GET, id, a, out, "store_developer_get", e);
}

int
sq_developer_find_by_name(struct store *s, const char *name, struct arena *a,
                          struct store_developer *out, struct err *e)
{
    return developer_one(s, ST_DEV_BY_NAME, name, a, out,
                         "store_developer_find_by_name", e);
}

static void
developer_row(struct call *c, void *row)
{
    read_developer(c, row);
}

int
sq_developer_list(struct store *s, struct arena *a,
                  struct store_developer **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_DEV_LIST, a, "store_developer_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        rc = sq_call_rows(&c, sizeof(**out), developer_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- API keys ---- */

static int
run_key_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_key *k = op->in.key;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_KEY_INSERT, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_text(&c, k->id);
        sq_bind_text(&c, k->dev_id);
        sq_bind_hash(&c, k->hash);
        sq_bind_text(&c, k->hint);
        sq_bind_int(&c, k->created_at);
        sq_bind_time(&c, k->revoked_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no developer with id '%s'", k->dev_id);
    }
    return rc;
}

int
sq_key_create(struct store *s, const struct store_key *k, struct err *e)
{
    struct wop op = {
        .run = run_key_create, .name = "store_key_create", .one_statement = 1};

    op.in.key = k;
    return sq_write_sync(s, &op, e);
}

/* After an UPDATE that matched nothing: was the key missing or revoked? */
static int
key_why_unchanged(struct conn *w, const char *key_id, const char *op,
                  struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_KEY_EXISTS, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, key_id);
    rc = sq_call_step(&c);
    if (rc == 1) {
        rc = err_set(e, ERR_CONFLICT, "key '%s' is already revoked", key_id);
    } else if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no key with id '%s'", key_id);
    }
out:
    sq_call_end(&c);
    return rc;
}

static int
run_key_revoke(struct conn *w, const struct wop *op, struct err *e)
{
    const char *key_id = op->in.revoke.key_id;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_KEY_REVOKE, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_int(&c, op->in.revoke.now);
        sq_bind_text(&c, key_id);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == 0 && sqlite3_changes(w->db) == 0) {
        rc = key_why_unchanged(w, key_id, op->name, e);
    }
    return rc;
}

int
sq_key_revoke(struct store *s, const char *key_id, int64_t now, struct err *e)
{
    struct wop op = {.run = run_key_revoke, .name = "store_key_revoke"};

    assert(now > 0); /* 0 means "active" in struct store_key */
    op.in.revoke.key_id = key_id;
    op.in.revoke.now = now;
    return sq_write_sync(s, &op, e);
}

static void
key_row(struct call *c, void *row)
{
    struct store_key *k = row;

    k->id = sq_col_text(c);
    k->dev_id = sq_col_text(c);
    sq_col_hash(c, k->hash);
    k->hint = sq_col_text(c);
    k->created_at = sq_col_int(c);
    k->revoked_at = sq_col_time(c);
}

int
sq_key_list(struct store *s, const char *dev_id, struct arena *a,
            struct store_key **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_KEY_LIST, a, "store_key_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, dev_id);
        rc = sq_call_rows(&c, sizeof(**out), key_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

static void
hash_row(struct call *c, void *row)
{
    sq_col_hash(c, row);
}

int
sq_key_active_hashes(struct store *s, const char *dev_id, struct arena *a,
                     unsigned char (**out)[32], size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc =
        sq_call_start(&c, r, ST_KEY_ACTIVE, a, "store_key_active_hashes", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, dev_id);
        rc = sq_call_rows(&c, HASH_LEN, hash_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- settings ---- */

static const char ST_SETTING_GET[] =
    "SELECT value FROM settings WHERE name = ?";
static const char ST_SETTING_PUT[] =
    "INSERT INTO settings (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char ST_SETTING_ADD[] =
    "INSERT INTO settings (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO NOTHING";

int
sq_setting_get(struct store *s, const char *name, struct arena *a,
               const unsigned char **value, size_t *len, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_SETTING_GET, a, "store_setting_get", e);

    *value = NULL;
    *len = 0;
    if (rc == 0) {
        sq_bind_text(&c, name);
        rc = sq_call_step(&c);
        if (rc == 0) {
            rc = err_set(e, ERR_NOTFOUND, "no setting '%s'", name);
        } else if (rc == 1) {
            sq_col_blob(&c, value, len);
            rc = c.rc;
        }
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

struct setting_args {
    const char *name;
    const unsigned char *value;
    size_t len;
    int only_new; /* ERR_CONFLICT when it is set */
};

static int
run_setting_put(struct conn *w, const struct wop *op, struct err *e)
{
    const struct setting_args *sa = op->in.p;
    struct call c = {0};
    int rc =
        sq_call_start(&c, w, sa->only_new ? ST_SETTING_ADD : ST_SETTING_PUT,
                      NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, sa->name);
        sq_bind_blob(&c, sa->value, sa->len);
        rc = sq_call_run(&c);
    }
    if (rc == 0 && sa->only_new && sq_changes(&c) == 0) {
        rc = err_set(e, ERR_CONFLICT, "%s: '%s' is set already", op->name,
                     sa->name);
    }
    sq_call_end(&c);
    return rc;
}

static int
setting_write(struct store *s, const char *name, const unsigned char *value,
              size_t len, int only_new, struct err *e)
{
    struct setting_args sa = {name, value, len, only_new};
    struct wop op = {.run = run_setting_put,
                     .name =
                         only_new ? "store_setting_add" : "store_setting_put",
                     .one_statement = 1};

    op.in.p = &sa;
    return sq_write_sync(s, &op, e);
}

int
sq_setting_put(struct store *s, const char *name, const unsigned char *value,
               size_t len, struct err *e)
{
    return setting_write(s, name, value, len, 0, e);
}

int
sq_setting_add(struct store *s, const char *name, const unsigned char *value,
               size_t len, struct err *e)
{
    return setting_write(s, name, value, len, 1, e);
}
