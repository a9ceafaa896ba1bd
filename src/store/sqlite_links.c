/*
 * sqlite_links.c - link sessions.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/sqlite_int.h"

#define SESSION_COLS                                                           \
    "SELECT id, dev_id, kind, token_hash, reference_id, providers,"            \
    " language, success_url, failure_url, created_at, expires_at,"             \
    " completed_at, user_id, resource FROM sessions"

static const char ST_SESSION_INSERT[] =
    "INSERT INTO sessions"
    " (id, dev_id, kind, token_hash, reference_id,"
    " providers, language, success_url, failure_url,"
    " created_at, expires_at, completed_at, user_id, resource)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_SESSION_GET[] = SESSION_COLS " WHERE id = ?";
static const char ST_SESSION_BY_TOKEN[] = SESSION_COLS " WHERE token_hash = ?";

/* An asynchronous store_session_create(): the op and copies. */
struct async_session {
    struct wop op; /* first: the op is freed as the whole */
    struct err err;
    struct store_session ss;
    char strings[]; /* the strings of ss, one after the other */
};
_Static_assert(offsetof(struct async_session, op) == 0,
               "an async op is freed through its struct wop");

/* ---- link sessions ---- */

static int
run_session_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_session *ss = op->in.session;
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, w, ST_SESSION_INSERT, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_text(&c, ss->id);
        sq_bind_text(&c, ss->dev_id);
        sq_bind_text(&c, ss->kind);
        sq_bind_hash(&c, ss->token_hash);
        sq_bind_text(&c, ss->reference_id);
        sq_bind_text(&c, ss->providers);
        sq_bind_text(&c, ss->language);
        sq_bind_text(&c, ss->success_url);
        sq_bind_text(&c, ss->failure_url);
        sq_bind_int(&c, ss->created_at);
        sq_bind_int(&c, ss->expires_at);
        sq_bind_time(&c, ss->completed_at);
        sq_bind_text(&c, ss->user_id);
        sq_bind_text(&c, ss->resource);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no developer with id '%s'", ss->dev_id);
    }
    return rc;
}

int
sq_session_create(struct store *s, const struct store_session *ss,
                  struct err *e)
{
    struct wop op = {.run = run_session_create,
                     .name = "store_session_create",
                     .one_statement = 1};

    op.in.session = ss;
    return sq_write_sync(s, &op, e);
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
               str_size(ss->failure_url) + str_size(ss->user_id) +
               str_size(ss->resource);

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
    as->ss.user_id = copy_str(&at, ss->user_id);
    as->ss.resource = copy_str(&at, ss->resource);
    return as;
}

int
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
    rc = sq_enqueue(sq(s), &as->op);
    if (rc != 0) {
        free(as);
    }
    return rc;
}

static int
session_one(struct store *s, const char *sql, const char *sid,
            const unsigned char *hash, struct arena *a,
            struct store_session *out, const char *op, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = 0;

    rc = sq_call_start(&c, r, sql, a, op, e);
    if (rc != 0) {
        goto out;
    }
    if (hash != NULL) {
        sq_bind_hash(&c, hash);
    } else {
        sq_bind_text(&c, sid);
    }
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = hash != NULL ? err_set(e, ERR_NOTFOUND, "no such link session")
                          : err_set(e, ERR_NOTFOUND,
                                    "no link session with id '%s'", sid);
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    out->id = sq_col_text(&c);
    out->dev_id = sq_col_text(&c);
    out->kind = sq_col_text(&c);
    sq_col_hash(&c, out->token_hash);
    out->reference_id = sq_col_text(&c);
    out->providers = sq_col_text(&c);
    out->language = sq_col_text(&c);
    out->success_url = sq_col_text(&c);
    out->failure_url = sq_col_text(&c);
    out->created_at = sq_col_int(&c);
    out->expires_at = sq_col_int(&c);
    out->completed_at = sq_col_time(&c);
    out->user_id = sq_col_text(&c);
    out->resource = sq_col_text(&c);
    rc = c.rc;
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_session_get(struct store *s, const char *id, struct arena *a,
               struct store_session *out, struct err *e)
{
    return session_one(s, ST_SESSION_GET, id, NULL, a, out, "store_session_get",
                       e);
}

int
sq_session_get_by_token(struct store *s, const unsigned char hash[32],
                        struct arena *a, struct store_session *out,
                        struct err *e)
{
    return session_one(s, ST_SESSION_BY_TOKEN, NULL, hash, a, out,
                       "store_session_get_by_token", e);
}

/* ---- authorization attempts ---- */

static const char ST_ATTEMPT_INSERT[] =
    "INSERT INTO auth_attempts (state_hash, session_id, dev_id, resource,"
    " user_id, verifier, created_at, expires_at, used_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char ST_ATTEMPT_GET[] =
    "SELECT state_hash, session_id, dev_id, resource, user_id, verifier,"
    " created_at, expires_at, used_at FROM auth_attempts"
    " WHERE state_hash = ?";

static const char ST_ATTEMPT_COUNT[] =
    "SELECT count(*) FROM auth_attempts WHERE session_id = ?";
static const char ST_ATTEMPT_PRUNE[] =
    "DELETE FROM auth_attempts WHERE rowid IN (SELECT rowid FROM"
    " auth_attempts WHERE expires_at < ? LIMIT 64)";

/*
 * Before a new attempt: refuse past STORE_ATTEMPTS_MAX on one link (a
 * start link fetched in a loop), and delete a few attempts whose link
 * expired a day ago, so the table does not grow without bound.
 */
static int
attempt_room(struct conn *w, const struct store_attempt *at, const char *op,
             struct err *e)
{
    struct call c = {0};
    int64_t n = 0;
    int rc = sq_call_start(&c, w, ST_ATTEMPT_COUNT, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, at->session_id);
        rc = sq_call_step(&c);
        n = rc == 1 ? sq_col_int(&c) : 0;
        rc = rc < 0 ? rc : c.rc;
    }
    sq_call_end(&c);
    if (rc == 0 && n >= STORE_ATTEMPTS_MAX) {
        return err_set(e, ERR_LIMIT,
                       "%s: %d logins were started on this link already", op,
                       STORE_ATTEMPTS_MAX);
    }
    if (rc == 0) {
        rc = sq_call_start(&c, w, ST_ATTEMPT_PRUNE, NULL, op, e);
    }
    if (rc == 0) {
        sq_bind_int(&c, at->created_at - (int64_t)86400 * 1000000);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

static int
run_attempt_create(struct conn *w, const struct wop *op, struct err *e)
{
    const struct store_attempt *at = op->in.p;
    struct call c = {0};
    int rc = attempt_room(w, at, op->name, e);

    if (rc != 0) {
        return rc;
    }
    rc = sq_call_start(&c, w, ST_ATTEMPT_INSERT, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_hash(&c, at->state_hash);
        sq_bind_text(&c, at->session_id);
        sq_bind_text(&c, at->dev_id);
        sq_bind_text(&c, at->resource);
        sq_bind_text(&c, at->user_id);
        sq_bind_blob(&c, at->verifier, at->verifier_len);
        sq_bind_int(&c, at->created_at);
        sq_bind_int(&c, at->expires_at);
        sq_bind_time(&c, at->used_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == ERR_NOTFOUND) {
        err_set(e, rc, "no link session with id '%s'", at->session_id);
    }
    return rc;
}

int
sq_attempt_create(struct store *s, const struct store_attempt *at,
                  struct err *e)
{
    struct wop op = {.run = run_attempt_create, .name = "store_attempt_create"};

    op.in.p = at;
    return sq_write_sync(s, &op, e);
}

int
sq_attempt_get(struct store *s, const unsigned char hash[32], struct arena *a,
               struct store_attempt *out, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    rc = sq_call_start(&c, r, ST_ATTEMPT_GET, a, "store_attempt_get", e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_hash(&c, hash);
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no such authorization attempt");
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    sq_col_hash(&c, out->state_hash);
    out->session_id = sq_col_text(&c);
    out->dev_id = sq_col_text(&c);
    out->resource = sq_col_text(&c);
    out->user_id = sq_col_text(&c);
    sq_col_blob(&c, &out->verifier, &out->verifier_len);
    out->created_at = sq_col_int(&c);
    out->expires_at = sq_col_int(&c);
    out->used_at = sq_col_time(&c);
    rc = c.rc;
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}
