/*
 * sqlite_sandbox.c - the SANDBOX authorization server's codes and tokens.
 *
 * A token's `family` is the hex of the hash of the code its grant began
 * with; every refresh of the grant stays in the family, so reusing the
 * code or revoking a refresh token can reach every token of the grant.
 *
 * Codes live a minute; one that expired more than CODE_KEEP_US ago is
 * deleted when the next code is stored. Until then a reused code is
 * recognised (ERR_GONE, the grant revoked); after it, it is unknown
 * (ERR_NOTFOUND), which the token endpoint answers the same way.
 *
 * XXX: tokens are never deleted. Each refresh adds two rows and revokes
 * one, so a grant refreshed hourly grows by about 50 rows a day. Rows
 * could go once they have expired, at the price of no longer
 * recognising a long-revoked refresh token presented again.
 */
#include <string.h>

#include "core/codec.h"
#include "store/sqlite_int.h"

/* How long an expired code is kept to recognise its reuse. */
#define CODE_KEEP_US (24LL * 3600 * 1000000)

static const char ST_CODE_INSERT[] =
    "INSERT INTO sandbox_codes"
    " (hash, client_id, account, redirect_uri, scope, challenge,"
    " created_at, expires_at, used_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_CODE_PURGE[] =
    "DELETE FROM sandbox_codes WHERE expires_at < ?";
static const char ST_CODE_GET[] =
    "SELECT client_id, account, redirect_uri, scope, challenge,"
    " created_at, expires_at, used_at FROM sandbox_codes WHERE hash = ?";
static const char ST_CODE_USE[] =
    "UPDATE sandbox_codes SET used_at = ? WHERE hash = ?";
static const char ST_FAMILY_REVOKE[] =
    "UPDATE sandbox_tokens SET revoked_at = ?"
    " WHERE family = ? AND revoked_at IS NULL";
static const char ST_TOKEN_INSERT[] =
    "INSERT INTO sandbox_tokens"
    " (hash, kind, client_id, account, scope, family,"
    " created_at, expires_at, revoked_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_REFRESH_ROTATE[] =
    "UPDATE sandbox_tokens SET revoked_at = ?"
    " WHERE hash = ? AND kind = 'refresh' AND revoked_at IS NULL";
static const char ST_REFRESH_EXISTS[] =
    "SELECT 1 FROM sandbox_tokens WHERE hash = ? AND kind = 'refresh'";
static const char ST_TOKEN_GET[] =
    "SELECT kind, client_id, account, scope, family,"
    " created_at, expires_at, revoked_at FROM sandbox_tokens WHERE hash = ?";
/* the token itself and, when it is a refresh token, its whole family */
static const char ST_TOKEN_REVOKE[] =
    "UPDATE sandbox_tokens SET revoked_at = ?1"
    " WHERE revoked_at IS NULL AND (hash = ?2 OR family ="
    " (SELECT family FROM sandbox_tokens WHERE hash = ?2"
    " AND kind = 'refresh'))";

/* ---- codes ---- */

static int
run_code_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_sandbox_code *sc = op->in.p;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_CODE_PURGE, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_int(&c, sc->created_at - CODE_KEEP_US);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc != 0) {
        return rc;
    }

    rc = sq_call_start(&c, w, ST_CODE_INSERT, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_hash(&c, sc->hash);
        sq_bind_text(&c, sc->client_id);
        sq_bind_text(&c, sc->account);
        sq_bind_text(&c, sc->redirect_uri);
        sq_bind_text(&c, sc->scope);
        sq_bind_text(&c, sc->challenge);
        sq_bind_int(&c, sc->created_at);
        sq_bind_int(&c, sc->expires_at);
        sq_bind_time(&c, sc->used_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_CONFLICT) {
        err_set(e, rc, "%s: the code exists", op->name);
    }
    return rc;
}

int
sq_sandbox_code_create(struct store *s, const struct store_sandbox_code *c,
                       struct err *e)
{
    /* the purge and the insert: a savepoint keeps them whole */
    struct wop op = {.run = run_code_create,
                     .name = "store_sandbox_code_create"};

    op.in.p = c;
    return sq_write_sync(s, &op, e);
}

/* What store_sandbox_code_take() hands its write. */
struct code_take {
    const unsigned char *hash;
    int64_t now;
    struct arena *a; /* the caller's: it waits while the writer fills it */
    struct store_sandbox_code *out;
    int *gone; /* set when the code is expired or used already */
};

/* Read the code `ct->hash` into ct->out. 1 when found, 0 when not, or a
 * negative ERR_*. */
static int
code_read(struct conn *w, const struct code_take *ct, const char *op,
          struct err *e)
{
    struct store_sandbox_code *out = ct->out;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_CODE_GET, ct->a, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_hash(&c, ct->hash);
    rc = sq_call_step(&c);
    if (rc != 1) {
        goto out;
    }
    memcpy(out->hash, ct->hash, HASH_LEN);
    out->client_id = sq_col_text(&c);
    out->account = sq_col_text(&c);
    out->redirect_uri = sq_col_text(&c);
    out->scope = sq_col_text(&c);
    out->challenge = sq_col_text(&c);
    out->created_at = sq_col_int(&c);
    out->expires_at = sq_col_int(&c);
    out->used_at = sq_col_time(&c);
    rc = c.rc != 0 ? c.rc : 1;
out:
    sq_call_end(&c);
    return rc;
}

/* Revoke every token of the grant that began with the code `hash`. */
static int
family_revoke(struct conn *w, const unsigned char hash[HASH_LEN], int64_t now,
              const char *op, struct err *e)
{
    char family[2 * HASH_LEN + 1];
    struct call c = {0};
    int rc = 0;

    codec_hex_encode(hash, HASH_LEN, family);
    rc = sq_call_start(&c, w, ST_FAMILY_REVOKE, NULL, op, e);
    if (rc == 0) {
        sq_bind_int(&c, now);
        sq_bind_text(&c, family);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/*
 * Runs to the end (returning 0) also for a code that cannot be used, so
 * that the revocation a reuse causes is committed; `*gone` tells the
 * caller, which turns it into ERR_GONE.
 */
static int
run_code_take(struct conn *w, const struct wop *op, struct err *e)
{
    const struct code_take *ct = op->in.p;
    struct call c = {0};
    int rc = 0;

    rc = code_read(w, ct, op->name, e);
    if (rc == 0) {
        return err_set(e, ERR_NOTFOUND, "%s: no such code", op->name);
    }
    if (rc < 0) {
        return rc;
    }
    if (ct->out->used_at != 0) {
        *ct->gone = 1;
        return family_revoke(w, ct->hash, ct->now, op->name, e);
    }
    if (ct->out->expires_at <= ct->now) {
        *ct->gone = 1;
        return 0;
    }

    rc = sq_call_start(&c, w, ST_CODE_USE, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_int(&c, ct->now);
        sq_bind_hash(&c, ct->hash);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == 0) {
        ct->out->used_at = ct->now;
    }
    return rc;
}

int
sq_sandbox_code_take(struct store *s, const unsigned char hash[32], int64_t now,
                     struct arena *a, struct store_sandbox_code *out,
                     struct err *e)
{
    struct wop op = {.run = run_code_take, .name = "store_sandbox_code_take"};
    struct code_take ct = {hash, now, a, out, NULL};
    int gone = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    ct.gone = &gone;
    op.in.p = &ct;
    rc = sq_write_sync(s, &op, e);
    if (rc == 0 && gone) {
        rc =
            out->used_at != 0
                ? err_set(e, ERR_GONE, "%s: the code was used already", op.name)
                : err_set(e, ERR_GONE, "%s: the code has expired", op.name);
    }
    return rc;
}

/* ---- tokens ---- */

/* What store_sandbox_tokens_issue() hands its write. */
struct tokens_issue {
    const struct store_sandbox_token *access;
    const struct store_sandbox_token *refresh; /* may be NULL */
    const unsigned char *rotate_from;          /* may be NULL */
    int64_t now;
};

static int
token_insert(struct conn *w, const struct store_sandbox_token *t,
             const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_TOKEN_INSERT, NULL, op, e);
    if (rc == 0) {
        sq_bind_hash(&c, t->hash);
        sq_bind_text(&c, t->kind);
        sq_bind_text(&c, t->client_id);
        sq_bind_text(&c, t->account);
        sq_bind_text(&c, t->scope);
        sq_bind_text(&c, t->family);
        sq_bind_int(&c, t->created_at);
        sq_bind_int(&c, t->expires_at);
        sq_bind_time(&c, t->revoked_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_CONFLICT) {
        err_set(e, rc, "%s: the token exists", op);
    }
    return rc;
}

/* Revoke the active refresh token `hash`: 0, ERR_GONE when it is
 * revoked already, ERR_NOTFOUND when there is no such refresh token. */
static int
refresh_rotate(struct conn *w, const unsigned char hash[HASH_LEN], int64_t now,
               const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_REFRESH_ROTATE, NULL, op, e);
    if (rc == 0) {
        sq_bind_int(&c, now);
        sq_bind_hash(&c, hash);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc != 0 || sqlite3_changes(w->db) == 1) {
        return rc;
    }

    /* nothing changed: revoked already, or never there */
    rc = sq_call_start(&c, w, ST_REFRESH_EXISTS, NULL, op, e);
    if (rc == 0) {
        sq_bind_hash(&c, hash);
        rc = sq_call_step(&c);
    }
    sq_call_end(&c);
    if (rc == 1) {
        rc = err_set(e, ERR_GONE, "%s: the refresh token was revoked already",
                     op);
    } else if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "%s: no such refresh token", op);
    }
    return rc;
}

static int
run_tokens_issue(struct conn *w, const struct wop *op, struct err *e)
{
    const struct tokens_issue *ti = op->in.p;
    int rc = 0;

    if (ti->rotate_from != NULL) {
        rc = refresh_rotate(w, ti->rotate_from, ti->now, op->name, e);
    }
    if (rc == 0) {
        rc = token_insert(w, ti->access, op->name, e);
    }
    if (rc == 0 && ti->refresh != NULL) {
        rc = token_insert(w, ti->refresh, op->name, e);
    }
    return rc;
}

int
sq_sandbox_tokens_issue(struct store *s,
                        const struct store_sandbox_token *access,
                        const struct store_sandbox_token *refresh,
                        const unsigned char *rotate_from, int64_t now,
                        struct err *e)
{
    struct tokens_issue ti = {access, refresh, rotate_from, now};
    struct wop op = {.run = run_tokens_issue,
                     .name = "store_sandbox_tokens_issue",
                     .one_statement = refresh == NULL && rotate_from == NULL};

    op.in.p = &ti;
    return sq_write_sync(s, &op, e);
}

int
sq_sandbox_token_get(struct store *s, const unsigned char hash[32],
                     struct arena *a, struct store_sandbox_token *out,
                     struct err *e)
{
    static const char op[] = "store_sandbox_token_get";
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    rc = sq_call_start(&c, r, ST_TOKEN_GET, a, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_hash(&c, hash);
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "%s: no such token", op);
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    memcpy(out->hash, hash, HASH_LEN);
    out->kind = sq_col_text(&c);
    out->client_id = sq_col_text(&c);
    out->account = sq_col_text(&c);
    out->scope = sq_col_text(&c);
    out->family = sq_col_text(&c);
    out->created_at = sq_col_int(&c);
    out->expires_at = sq_col_int(&c);
    out->revoked_at = sq_col_time(&c);
    rc = c.rc;
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

/* What store_sandbox_token_revoke() hands its write. */
struct token_revoke {
    const unsigned char *hash;
    int64_t now;
};

static int
run_token_revoke(struct conn *w, const struct wop *op, struct err *e)
{
    const struct token_revoke *tr = op->in.p;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_TOKEN_REVOKE, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_int(&c, tr->now);
        sq_bind_hash(&c, tr->hash);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

int
sq_sandbox_token_revoke(struct store *s, const unsigned char hash[32],
                        int64_t now, struct err *e)
{
    struct token_revoke tr = {hash, now};
    struct wop op = {.run = run_token_revoke,
                     .name = "store_sandbox_token_revoke",
                     .one_statement = 1};

    op.in.p = &tr;
    return sq_write_sync(s, &op, e);
}
