/*
 * sqlite_users.c - users, their provider tokens, and events.
 *
 * A connection and the events it causes are written together: every
 * function here that changes a user also adds its events in the same
 * savepoint, so the outbox never misses a change nor holds an event
 * for a change that was undone.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/sqlite_int.h"

#define EVENT_LIST_DEFAULT 100

#define USER_COLS                                                              \
    "SELECT id, dev_id, provider, provider_user_id, reference_id,"             \
    " session_id, state, active, scopes, created_at, updated_at,"              \
    " last_webhook_update, last_polled_at, most_recent_data_at FROM users"

#define USER_FILTER                                                            \
    " WHERE (?1 IS NULL OR dev_id = ?1)"                                       \
    " AND (?2 IS NULL OR reference_id = ?2)"                                   \
    " AND (?3 = 1 OR state != 'deauthorized')"

static const char ST_TOKEN_COUNT[] = "SELECT count(*) FROM tokens";
static const char ST_TOKEN_GET[] =
    "SELECT sealed, expires_at FROM tokens WHERE user_id = ?";
static const char ST_TOKEN_INSERT[] =
    "INSERT INTO tokens (user_id, sealed, expires_at, refreshed_at)"
    " VALUES (?, ?, ?, ?)";
static const char ST_TOKEN_DELETE[] = "DELETE FROM tokens WHERE user_id = ?";
static const char ST_EVENT_INSERT[] =
    "INSERT INTO events (id, dev_id, user_id, type, reference, body,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char ST_EVENT_LIST[] =
    "SELECT seq, id, dev_id, user_id, type, reference, body, created_at"
    " FROM events WHERE seq > ?1 AND (?2 IS NULL OR dev_id = ?2)"
    " AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR type = ?4)"
    " ORDER BY seq LIMIT ?5";
static const char ST_ATTEMPT_USE[] =
    "UPDATE auth_attempts SET used_at = ?"
    " WHERE state_hash = ? AND used_at IS NULL";
static const char ST_SESSION_COMPLETE[] =
    "UPDATE sessions SET completed_at = ?, user_id = ?, resource = ?"
    " WHERE id = ? AND completed_at IS NULL";
#define SAME_ACCOUNT                                                           \
    " dev_id = ?1 AND provider = ?2 AND provider_user_id = ?3"                 \
    " AND reference_id IS ?4 AND state != 'deauthorized'"

static const char ST_TOKEN_DELETE_ACCOUNT[] =
    "DELETE FROM tokens WHERE user_id IN (SELECT id FROM users "
    "WHERE" SAME_ACCOUNT ")";
static const char ST_USER_RETIRE_ACCOUNT[] =
    "UPDATE users SET state = 'deauthorized', active = 0, updated_at = ?5"
    " WHERE" SAME_ACCOUNT;
static const char ST_USER_DEAUTH[] =
    "UPDATE users SET state = 'deauthorized', active = 0, updated_at = ?"
    " WHERE id = ? AND dev_id = ? AND state != 'deauthorized'";
static const char ST_USER_INSERT[] =
    "INSERT INTO users (id, dev_id, provider, provider_user_id,"
    " reference_id, session_id, state, active, scopes, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_USER_GET[] =
    USER_COLS " WHERE id = ?1 AND (?2 IS NULL OR dev_id = ?2)";
static const char ST_USER_FIND[] =
    USER_COLS " WHERE dev_id = ? AND provider = ? AND provider_user_id = ?"
              " AND reference_id IS ? AND state != 'deauthorized'"
              " ORDER BY created_at DESC, id LIMIT 1";
static const char ST_USER_LIST[] =
    USER_COLS USER_FILTER " ORDER BY created_at, id LIMIT ?4 OFFSET ?5";
static const char ST_USER_COUNT[] = "SELECT count(*) FROM users" USER_FILTER;
static const char ST_USER_UPDATE[] =
    "UPDATE users SET"
    " reference_id = CASE WHEN ?1 THEN ?2 ELSE reference_id END,"
    " active = CASE WHEN ?3 >= 0 THEN ?3 ELSE active END,"
    " updated_at = ?4"
    " WHERE id = ?5 AND dev_id = ?6 AND state != 'deauthorized'";

static int user_one(struct call *c, struct store_user *out, struct err *e);

/* Arguments of the writes below, through wop.in.p. */
struct fail_args {
    const unsigned char *state_hash;
    const struct store_event *ev;
    int64_t now;
};

struct deauth_args {
    const char *dev_id;
    const char *id;
    const struct store_event *ev;
    int64_t now;
};

struct update_args {
    const char *dev_id;
    const char *id;
    int set_reference;
    const char *reference_id;
    int active;
    int64_t now;
};

/*
 * Run `sql`, whose parameters are one integer then up to three strings
 * (those not NULL, in order); the number of rows it changed goes to
 * `*changed` (may be NULL).
 */
static int
run_simple(struct conn *w, const char *sql, const char *op, struct err *e,
           int *changed, const char *t1, const char *t2, const char *t3,
           int64_t i1)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, sql, NULL, op, e);

    if (rc == 0) {
        sq_bind_int(&c, i1);
        if (t1 != NULL) {
            sq_bind_text(&c, t1);
        }
        if (t2 != NULL) {
            sq_bind_text(&c, t2);
        }
        if (t3 != NULL) {
            sq_bind_text(&c, t3);
        }
        rc = sq_call_run(&c);
    }
    if (rc == 0 && changed != NULL) {
        *changed = sq_changes(&c);
    }
    sq_call_end(&c);
    return rc;
}

/* Run `sql`, whose one parameter is the string `t`. */
static int
run_simple_text(struct conn *w, const char *sql, const char *t, const char *op,
                struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, sql, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, t);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

int
sq_insert_event(struct conn *w, const struct store_event *ev, const char *op,
                struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_EVENT_INSERT, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, ev->id);
        sq_bind_text(&c, ev->dev_id);
        sq_bind_text(&c, ev->user_id);
        sq_bind_text(&c, ev->type);
        sq_bind_text(&c, ev->reference);
        sq_bind_text(&c, ev->body);
        sq_bind_int(&c, ev->created_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/* Use up the attempt `hash`: ERR_GONE when it was used already (or is
 * unknown, which a caller that read it first cannot meet). */
static int
use_attempt(struct conn *w, const unsigned char *hash, int64_t now,
            const char *op, struct err *e)
{
    struct call c = {0};
    int changed = 0;
    int rc = sq_call_start(&c, w, ST_ATTEMPT_USE, NULL, op, e);

    if (rc == 0) {
        sq_bind_int(&c, now);
        sq_bind_hash(&c, hash);
        rc = sq_call_run(&c);
    }
    if (rc == 0) {
        changed = sq_changes(&c);
    }
    sq_call_end(&c);
    if (rc == 0 && changed == 0) {
        rc = err_set(e, ERR_GONE, "%s: the authorization was used already", op);
    }
    return rc;
}

static int
insert_user(struct conn *w, const struct store_user *u, const char *op,
            struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_USER_INSERT, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, u->id);
        sq_bind_text(&c, u->dev_id);
        sq_bind_text(&c, u->provider);
        sq_bind_text(&c, u->provider_user_id);
        sq_bind_text(&c, u->reference_id);
        sq_bind_text(&c, u->session_id);
        sq_bind_text(&c, u->state != NULL ? u->state : "connected");
        sq_bind_int(&c, u->active);
        sq_bind_text(&c, u->scopes);
        sq_bind_int(&c, u->created_at);
        sq_bind_int(&c, u->updated_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_CONFLICT) {
        err_set(e, rc, "%s: user '%s' exists", op, u->id);
    }
    return rc;
}

static int
insert_token(struct conn *w, const struct store_connect *cn, const char *op,
             struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_TOKEN_INSERT, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, cn->user->id);
        sq_bind_blob(&c, cn->sealed, cn->sealed_len);
        sq_bind_time(&c, cn->token_expires_at);
        sq_bind_int(&c, cn->now);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/* Run `sql`, whose parameters are the account of `u` (and `now` as the
 * fifth when `with_now`). */
static int
run_account(struct conn *w, const char *sql, const struct store_user *u,
            int with_now, int64_t now, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, sql, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, u->dev_id);
        sq_bind_text(&c, u->provider);
        sq_bind_text(&c, u->provider_user_id);
        sq_bind_text(&c, u->reference_id);
        if (with_now) {
            sq_bind_int(&c, now);
        }
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/*
 * Find the connected user the connection `cn` replaces (same developer,
 * provider account and reference_id; the newest, should a PATCH of
 * reference_id have made several) on the writer's connection, and
 * retire every such user: deauthorized, tokens deleted. `*found` says
 * whether there was one, the newest read into `old`.
 */
static int
retire_replaced(struct conn *w, const struct store_connect *cn,
                struct store_user *old, int *found, const char *op,
                struct err *e)
{
    const struct store_user *u = cn->user;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_USER_FIND, cn->arena, op, e);

    *found = 0;
    if (rc == 0) {
        sq_bind_text(&c, u->dev_id);
        sq_bind_text(&c, u->provider);
        sq_bind_text(&c, u->provider_user_id);
        sq_bind_text(&c, u->reference_id);
        rc = user_one(&c, old, e);
    }
    sq_call_end(&c);
    if (rc == ERR_NOTFOUND) {
        return 0;
    }
    if (rc == 0) {
        rc = run_account(w, ST_TOKEN_DELETE_ACCOUNT, u, 0, 0, op, e);
    }
    if (rc == 0) {
        rc = run_account(w, ST_USER_RETIRE_ACCOUNT, u, 1, cn->now, op, e);
    }
    *found = rc == 0;
    return rc;
}

static int
insert_events(struct conn *w, const struct store_event *evs, size_t n,
              const char *op, struct err *e)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = sq_insert_event(w, &evs[i], op, e);
    }
    return rc;
}

/* ---- connections ---- */

static int
run_connect(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_connect *cn = op->in.p;
    const struct store_user *u = cn->user;
    const struct store_event *more = NULL;
    struct store_user old;
    size_t nmore = 0;
    int found = 0;
    int changed = 0;
    int rc = 0;

    if (cn->state_hash != NULL) {
        rc = use_attempt(w, cn->state_hash, cn->now, op->name, e);
    }
    if (rc == 0) {
        rc = run_simple(w, ST_SESSION_COMPLETE, op->name, e, &changed, u->id,
                        u->provider, cn->session_id, cn->now);
    }
    if (rc == 0 && changed == 0) {
        rc = err_set(e, ERR_GONE, "%s: the link was completed already",
                     op->name);
    }
    if (rc == 0 && cn->replace) {
        rc = retire_replaced(w, cn, &old, &found, op->name, e);
    }
    if (rc == 0 && cn->compose != NULL &&
        cn->compose(cn->compose_arg, found ? &old : NULL, &more, &nmore) < 0) {
        rc = err_set(e, ERR_NOMEM, "%s: cannot compose the events", op->name);
    }
    if (rc == 0) {
        rc = insert_user(w, u, op->name, e);
    }
    if (rc == 0 && cn->sealed != NULL) {
        rc = insert_token(w, cn, op->name, e);
    }
    if (rc == 0) {
        rc = insert_events(w, cn->events, cn->nevents, op->name, e);
    }
    if (rc == 0) {
        rc = insert_events(w, more, nmore, op->name, e);
    }
    return rc;
}

int
sq_connect(struct store *s, const struct store_connect *c, struct err *e)
{
    struct wop op = {.run = run_connect, .name = "store_connect"};

    op.in.p = c;
    return sq_write_sync(s, &op, e);
}

int
sq_connect_async(struct store *s, const struct store_connect *c,
                 store_done_fn done, void *arg)
{
    struct wop op = {.run = run_connect, .name = "store_connect"};

    op.in.p = c;
    return sq_write_async(s, &op, NULL, 0, done, arg);
}

static const char ST_ATTEMPT_LINK_DONE[] =
    "SELECT s.completed_at IS NOT NULL FROM auth_attempts a"
    " JOIN sessions s ON s.id = a.session_id WHERE a.state_hash = ?";

/* 1 when the link of the attempt `hash` has completed (by any attempt). */
static int
link_completed(struct conn *w, const unsigned char *hash, const char *op,
               struct err *e)
{
    struct call c = {0};
    int done = 0;
    int rc = sq_call_start(&c, w, ST_ATTEMPT_LINK_DONE, NULL, op, e);

    if (rc == 0) {
        sq_bind_hash(&c, hash);
        rc = sq_call_step(&c);
        done = rc == 1 ? (int)sq_col_int(&c) : 0;
        rc = rc < 0 ? rc : c.rc;
    }
    sq_call_end(&c);
    return rc < 0 ? rc : done;
}

/*
 * A used attempt stays used: only the event is new then. When the
 * attempt's link completed meanwhile (another attempt won), nothing is
 * written and ERR_GONE says so: that completion's own event stands.
 */
static int
run_attempt_fail(struct conn *w, const struct wop *op, struct err *e)
{
    const struct fail_args *fa = op->in.p;
    int rc = 0;

    if (fa->state_hash != NULL) {
        rc = link_completed(w, fa->state_hash, op->name, e);
        if (rc > 0) {
            return err_set(e, ERR_GONE, "%s: the link was completed", op->name);
        }
        if (rc < 0) {
            return rc;
        }
        rc = use_attempt(w, fa->state_hash, fa->now, op->name, e);
        if (rc == ERR_GONE) {
            rc = 0;
        }
    }
    if (rc == 0) {
        rc = sq_insert_event(w, fa->ev, op->name, e);
    }
    return rc;
}

int
sq_attempt_fail(struct store *s, const unsigned char *state_hash,
                const struct store_event *ev, int64_t now, struct err *e)
{
    struct fail_args fa = {state_hash, ev, now};
    struct wop op = {.run = run_attempt_fail, .name = "store_attempt_fail"};

    op.in.p = &fa;
    return sq_write_sync(s, &op, e);
}

struct claim_args {
    const unsigned char *hash;
    int64_t now;
};

static int
run_attempt_claim(struct conn *w, const struct wop *op, struct err *e)
{
    const struct claim_args *ca = op->in.p;

    return use_attempt(w, ca->hash, ca->now, op->name, e);
}

int
sq_attempt_claim(struct store *s, const unsigned char hash[32], int64_t now,
                 struct err *e)
{
    struct claim_args ca = {hash, now};
    struct wop op = {.run = run_attempt_claim,
                     .name = "store_attempt_claim",
                     .one_statement = 1};

    op.in.p = &ca;
    return sq_write_sync(s, &op, e);
}

int
sq_attempt_fail_async(struct store *s, const unsigned char *state_hash,
                      const struct store_event *ev, int64_t now,
                      store_done_fn done, void *arg)
{
    struct fail_args fa = {state_hash, ev, now};
    struct wop op = {.run = run_attempt_fail, .name = "store_attempt_fail"};

    return sq_write_async(s, &op, &fa, sizeof(fa), done, arg);
}

/* ---- users ---- */

static void
read_user(struct call *c, struct store_user *u)
{
    u->id = sq_col_text(c);
    u->dev_id = sq_col_text(c);
    u->provider = sq_col_text(c);
    u->provider_user_id = sq_col_text(c);
    u->reference_id = sq_col_text(c);
    u->session_id = sq_col_text(c);
    u->state = sq_col_text(c);
    u->active = (int)sq_col_int(c);
    u->scopes = sq_col_text(c);
    u->created_at = sq_col_int(c);
    u->updated_at = sq_col_int(c);
    u->last_webhook_update = sq_col_time(c);
    u->last_polled_at = sq_col_time(c);
    u->most_recent_data_at = sq_col_time(c);
}

/* One user by a started and bound call `c`: ERR_NOTFOUND for no row. */
static int
user_one(struct call *c, struct store_user *out, struct err *e)
{
    int rc = sq_call_step(c);

    memset(out, 0, sizeof(*out));
    if (rc == 0) {
        return err_set(e, ERR_NOTFOUND, "no such user");
    }
    if (rc < 0) {
        return rc;
    }
    read_user(c, out);
    return c->rc;
}

int
sq_user_get(struct store *s, const char *dev_id, const char *id,
            struct arena *a, struct store_user *out, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_USER_GET, a, "store_user_get", e);

    if (rc == 0) {
        sq_bind_text(&c, id);
        sq_bind_text(&c, dev_id);
        rc = user_one(&c, out, e);
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_user_find_connected(struct store *s, const char *dev_id,
                       const char *provider, const char *provider_user_id,
                       const char *reference_id, struct arena *a,
                       struct store_user *out, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc =
        sq_call_start(&c, r, ST_USER_FIND, a, "store_user_find_connected", e);

    if (rc == 0) {
        sq_bind_text(&c, dev_id);
        sq_bind_text(&c, provider);
        sq_bind_text(&c, provider_user_id);
        sq_bind_text(&c, reference_id);
        rc = user_one(&c, out, e);
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

static void
bind_user_filter(struct call *c, const struct store_user_query *uq)
{
    sq_bind_text(c, uq->dev_id);
    sq_bind_text(c, uq->reference_id);
    sq_bind_int(c, uq->with_deauthorized ? 1 : 0);
}

static void
user_row(struct call *c, void *row)
{
    read_user(c, row);
}

int
sq_user_list(struct store *s, const struct store_user_query *uq,
             struct arena *a, struct store_user **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_USER_LIST, a, "store_user_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        bind_user_filter(&c, uq);
        sq_bind_int(&c, uq->limit == 0 ? -1 : (int64_t)uq->limit);
        sq_bind_int(&c, (int64_t)uq->offset);
        rc = sq_call_rows(&c, sizeof(**out), user_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_user_count(struct store *s, const struct store_user_query *uq, int64_t *n,
              struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_USER_COUNT, NULL, "store_user_count", e);

    *n = 0;
    if (rc == 0) {
        bind_user_filter(&c, uq);
        rc = sq_call_step(&c);
        if (rc == 1) {
            *n = sq_col_int(&c);
            rc = c.rc;
        } else if (rc == 0) {
            rc = err_set(e, ERR_STORE, "store_user_count: no row");
        }
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

static int
run_user_update(struct conn *w, const struct wop *op, struct err *e)
{
    const struct update_args *ua = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_USER_UPDATE, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, ua->set_reference ? 1 : 0);
        sq_bind_text(&c, ua->reference_id);
        sq_bind_int(&c, ua->active);
        sq_bind_int(&c, ua->now);
        sq_bind_text(&c, ua->id);
        sq_bind_text(&c, ua->dev_id);
        rc = sq_call_run(&c);
    }
    if (rc == 0 && sq_changes(&c) == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no such user");
    }
    sq_call_end(&c);
    return rc;
}

int
sq_user_update(struct store *s, const char *dev_id, const char *id,
               int set_reference, const char *reference_id, int active,
               int64_t now, struct err *e)
{
    struct update_args ua = {dev_id,       id,     set_reference,
                             reference_id, active, now};
    struct wop op = {.run = run_user_update,
                     .name = "store_user_update",
                     .one_statement = 1};

    op.in.p = &ua;
    return sq_write_sync(s, &op, e);
}

static int
run_user_deauth(struct conn *w, const struct wop *op, struct err *e)
{
    const struct deauth_args *da = op->in.p;
    int changed = 0;
    int rc = run_simple(w, ST_USER_DEAUTH, op->name, e, &changed, da->id,
                        da->dev_id, NULL, da->now);

    if (rc == 0 && changed == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no such user");
    }
    if (rc == 0) {
        rc = run_simple_text(w, ST_TOKEN_DELETE, da->id, op->name, e);
    }
    if (rc == 0 && da->ev != NULL) {
        rc = sq_insert_event(w, da->ev, op->name, e);
    }
    return rc;
}

int
sq_user_deauth(struct store *s, const char *dev_id, const char *id,
               const struct store_event *ev, int64_t now, struct err *e)
{
    struct deauth_args da = {dev_id, id, ev, now};
    struct wop op = {.run = run_user_deauth, .name = "store_user_deauth"};

    op.in.p = &da;
    return sq_write_sync(s, &op, e);
}

/* ---- tokens ---- */

int
sq_token_count(struct store *s, int64_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    int rc = 0;

    *n = 0;
    rc = sq_query_int(r, ST_TOKEN_COUNT, n, "store_token_count", e);
    sq_reader_put(q, r);
    return rc;
}

int
sq_token_get(struct store *s, const char *user_id, struct arena *a,
             const unsigned char **sealed, size_t *len, int64_t *expires_at,
             struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_TOKEN_GET, a, "store_token_get", e);

    *sealed = NULL;
    *len = 0;
    *expires_at = 0;
    if (rc == 0) {
        sq_bind_text(&c, user_id);
        rc = sq_call_step(&c);
        if (rc == 0) {
            rc = err_set(e, ERR_NOTFOUND, "no token for the user");
        } else if (rc == 1) {
            sq_col_blob(&c, sealed, len);
            *expires_at = sq_col_time(&c);
            rc = c.rc;
        }
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- events ---- */

static void
event_row(struct call *c, void *row)
{
    struct store_event *ev = row;

    ev->seq = sq_col_int(c);
    ev->id = sq_col_text(c);
    ev->dev_id = sq_col_text(c);
    ev->user_id = sq_col_text(c);
    ev->type = sq_col_text(c);
    ev->reference = sq_col_text(c);
    ev->body = sq_col_text(c);
    ev->created_at = sq_col_int(c);
}

int
sq_event_list(struct store *s, const struct store_event_query *eq,
              struct arena *a, struct store_event **out, size_t *n,
              struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_EVENT_LIST, a, "store_event_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_int(&c, eq->after_seq);
        sq_bind_text(&c, eq->dev_id);
        sq_bind_text(&c, eq->user_id);
        sq_bind_text(&c, eq->type);
        sq_bind_int(&c,
                    eq->limit == 0 ? EVENT_LIST_DEFAULT : (int64_t)eq->limit);
        rc = sq_call_rows(&c, sizeof(**out), event_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* ---- the data pipeline's view of users ---- */

static const char ST_USERS_DUE[] =
    USER_COLS " WHERE provider = ?1 AND state = 'connected' AND active = 1"
              " AND (last_polled_at IS NULL OR last_polled_at < ?2)"
              " ORDER BY coalesce(last_polled_at, 0), id LIMIT ?3";
static const char ST_USERS_BY_PROVIDER_ID[] =
    USER_COLS " WHERE provider = ?1 AND provider_user_id = ?2"
              " AND state != 'deauthorized' ORDER BY created_at, id";
static const char ST_TOKENS_DUE[] =
    USER_COLS " WHERE state = 'connected' AND id IN (SELECT user_id FROM"
              " tokens WHERE expires_at IS NOT NULL AND expires_at < ?2)"
              " AND ?1 IS NULL LIMIT ?3";
static const char ST_USER_POLLED[] =
    "UPDATE users SET last_polled_at = ?1 WHERE id = ?2";
static const char ST_USER_SET_STATE[] =
    "UPDATE users SET state = ?1, updated_at = ?2"
    " WHERE id = ?3 AND state != ?1 AND state != 'deauthorized'";

/* A list query of users with a text, then an int or text parameter. */
static int
users_query(struct store *s, const char *sql, const char *op, const char *p1,
            const char *p2, int64_t i2, int64_t i3, struct arena *a,
            struct store_user **out, size_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, sql, a, op, e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, p1);
        if (p2 != NULL) {
            sq_bind_text(&c, p2);
        } else {
            sq_bind_int(&c, i2);
            sq_bind_int(&c, i3);
        }
        rc = sq_call_rows(&c, sizeof(**out), user_row, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_users_due(struct store *s, const char *provider, int64_t before,
             size_t limit, struct arena *a, struct store_user **out, size_t *n,
             struct err *e)
{
    return users_query(s, ST_USERS_DUE, "store_users_due", provider, NULL,
                       before, limit == 0 ? -1 : (int64_t)limit, a, out, n, e);
}

int
sq_users_by_provider_id(struct store *s, const char *provider,
                        const char *provider_user_id, struct arena *a,
                        struct store_user **out, size_t *n, struct err *e)
{
    return users_query(s, ST_USERS_BY_PROVIDER_ID, "store_users_by_provider_id",
                       provider, provider_user_id, 0, 0, a, out, n, e);
}

int
sq_tokens_due(struct store *s, int64_t before, size_t limit, struct arena *a,
              struct store_user **out, size_t *n, struct err *e)
{
    return users_query(s, ST_TOKENS_DUE, "store_tokens_due", NULL, NULL, before,
                       limit == 0 ? -1 : (int64_t)limit, a, out, n, e);
}

struct polled_args {
    const char *user_id;
    int64_t at;
};

static int
run_user_polled(struct conn *w, const struct wop *op, struct err *e)
{
    const struct polled_args *pa = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_USER_POLLED, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_int(&c, pa->at);
        sq_bind_text(&c, pa->user_id);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

int
sq_user_polled(struct store *s, const char *user_id, int64_t at, struct err *e)
{
    struct wop op = {.run = run_user_polled, .name = "store_user_polled"};
    struct polled_args pa = {user_id, at};

    op.in.p = &pa;
    return sq_write_sync(s, &op, e);
}

struct set_state_args {
    const char *id;
    const char *state;
    const struct store_event *ev;
    int64_t now;
    int *changed;
};

static int
run_user_set_state(struct conn *w, const struct wop *op, struct err *e)
{
    const struct set_state_args *sa = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_USER_SET_STATE, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, sa->state);
        sq_bind_int(&c, sa->now);
        sq_bind_text(&c, sa->id);
        rc = sq_call_run(&c);
        if (rc == 0) {
            *sa->changed = sq_changes(&c) > 0;
        }
    }
    sq_call_end(&c);
    if (rc == 0 && *sa->changed && sa->ev != NULL) {
        rc = sq_insert_event(w, sa->ev, op->name, e);
    }
    return rc;
}

int
sq_user_set_state(struct store *s, const char *id, const char *state,
                  const struct store_event *ev, int64_t now, int *changed,
                  struct err *e)
{
    struct wop op = {.run = run_user_set_state, .name = "store_user_set_state"};
    struct set_state_args sa = {id, state, ev, now, changed};

    *changed = 0;
    op.in.p = &sa;
    return sq_write_sync(s, &op, e);
}
