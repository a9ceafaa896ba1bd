/*
 * store.c - choose a backend by URL and forward every call to it.
 *
 * Nothing here knows SQL. store_open() reads the scheme of the URL, finds
 * the backend and lets it open; the other functions are one-line
 * wrappers over the backend's operations table (backend.h).
 */
#include <assert.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "store/backend.h"

#define SCHEME_MAX 32 /* longest scheme quoted back in a message */

/*
 * The scheme of `url`: the RFC 3986 characters before the first ':'.
 * Returns its length, or 0 when `url` does not start with one.
 */
static size_t
scheme_len(const char *url)
{
    size_t n = 0;

    if (!isalpha((unsigned char)url[0])) {
        return 0;
    }
    while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' ||
           url[n] == '.') {
        n++;
    }
    return url[n] == ':' ? n : 0;
}

static int
scheme_is(const char *url, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(url, name, n) == 0;
}

/*
 * The file named by a sqlite URL: `sqlite:PATH`, `sqlite://PATH` or
 * `sqlite:///abs/path` (the third is the second with an absolute PATH).
 * Borrowed from `url`; NULL when no path is given.
 */
static const char *
sqlite_path(const char *url, size_t n)
{
    const char *p = url + n + 1;

    if (strncmp(p, "//", 2) == 0) {
        p += 2;
    }
    return *p == '\0' ? NULL : p;
}

int
store_open(struct store **out, const char *url, const struct store_options *opt,
           struct err *e)
{
    static const struct store_options defaults = {0};
    const char *path = NULL;
    size_t n = 0;

    assert(out != NULL && url != NULL);
    *out = NULL;
    if (opt == NULL) {
        opt = &defaults;
    }
    n = scheme_len(url);
    if (n == 0) {
        return err_set(e, ERR_CONFIG,
                       "store URL has no scheme (want sqlite:PATH)");
    }

    if (scheme_is(url, n, "sqlite")) {
        path = sqlite_path(url, n);
        if (path == NULL) {
            return err_set(e, ERR_CONFIG, "store URL names no SQLite file");
        }
        return store_sqlite_backend.open(out, path, opt, e);
    }

    /* The URL may hold a password: quote the scheme only, never the URL. */
    if (scheme_is(url, n, "postgresql") || scheme_is(url, n, "postgres")) {
        return err_set(e, ERR_CONFIG, "PostgreSQL store is not built yet");
    }
    return err_set(e, ERR_CONFIG,
                   "unknown store URL scheme '%.*s' (want sqlite:PATH)",
                   (int)(n < SCHEME_MAX ? n : SCHEME_MAX), url);
}

void
store_free(struct store *s)
{
    if (s == NULL) {
        return;
    }
    s->be->free(s);
}

void
store_stats(struct store *s, struct store_stats *out)
{
    s->be->stats(s, out);
}

int
store_migrate(struct store *s, int *applied, struct err *e)
{
    return s->be->migrate(s, applied, e);
}

int
store_schema_version(struct store *s, int *current, int *latest, struct err *e)
{
    return s->be->schema_version(s, current, latest, e);
}

int
store_developer_create(struct store *s, const struct store_developer *d,
                       const struct store_key *first_key, struct err *e)
{
    return s->be->developer_create(s, d, first_key, e);
}

int
store_developer_get(struct store *s, const char *id, struct arena *a,
                    struct store_developer *out, struct err *e)
{
    return s->be->developer_get(s, id, a, out, e);
}

int
store_developer_find_by_name(struct store *s, const char *name, struct arena *a,
                             struct store_developer *out, struct err *e)
{
    return s->be->developer_find_by_name(s, name, a, out, e);
}

int
store_developer_list(struct store *s, struct arena *a,
                     struct store_developer **out, size_t *n, struct err *e)
{
    return s->be->developer_list(s, a, out, n, e);
}

int
store_key_create(struct store *s, const struct store_key *k, struct err *e)
{
    return s->be->key_create(s, k, e);
}

int
store_key_revoke(struct store *s, const char *key_id, int64_t now,
                 struct err *e)
{
    return s->be->key_revoke(s, key_id, now, e);
}

int
store_key_list(struct store *s, const char *dev_id, struct arena *a,
               struct store_key **out, size_t *n, struct err *e)
{
    return s->be->key_list(s, dev_id, a, out, n, e);
}

int
store_key_active_hashes(struct store *s, const char *dev_id, struct arena *a,
                        unsigned char (**out)[32], size_t *n, struct err *e)
{
    return s->be->key_active_hashes(s, dev_id, a, out, n, e);
}

int
store_session_create(struct store *s, const struct store_session *ss,
                     struct err *e)
{
    return s->be->session_create(s, ss, e);
}

int
store_session_create_async(struct store *s, const struct store_session *ss,
                           store_done_fn done, void *arg)
{
    return s->be->session_create_async(s, ss, done, arg);
}

int
store_session_get(struct store *s, const char *id, struct arena *a,
                  struct store_session *out, struct err *e)
{
    return s->be->session_get(s, id, a, out, e);
}

int
store_session_get_by_token(struct store *s, const unsigned char hash[32],
                           struct arena *a, struct store_session *out,
                           struct err *e)
{
    return s->be->session_get_by_token(s, hash, a, out, e);
}

int
store_token_count(struct store *s, int64_t *n, struct err *e)
{
    return s->be->token_count(s, n, e);
}

int
store_attempt_create(struct store *s, const struct store_attempt *at,
                     struct err *e)
{
    return s->be->attempt_create(s, at, e);
}

int
store_attempt_get(struct store *s, const unsigned char hash[32],
                  struct arena *a, struct store_attempt *out, struct err *e)
{
    return s->be->attempt_get(s, hash, a, out, e);
}

int
store_event_list(struct store *s, const struct store_event_query *q,
                 struct arena *a, struct store_event **out, size_t *n,
                 struct err *e)
{
    return s->be->event_list(s, q, a, out, n, e);
}

int
store_connect(struct store *s, const struct store_connect *c, struct err *e)
{
    return s->be->connect(s, c, e);
}

int
store_connect_async(struct store *s, const struct store_connect *c,
                    store_done_fn done, void *arg)
{
    return s->be->connect_async(s, c, done, arg);
}

int
store_attempt_fail(struct store *s, const unsigned char *state_hash,
                   const struct store_event *ev, int64_t now, struct err *e)
{
    return s->be->attempt_fail(s, state_hash, ev, now, e);
}

int
store_attempt_fail_async(struct store *s, const unsigned char *state_hash,
                         const struct store_event *ev, int64_t now,
                         store_done_fn done, void *arg)
{
    return s->be->attempt_fail_async(s, state_hash, ev, now, done, arg);
}

int
store_user_get(struct store *s, const char *dev_id, const char *id,
               struct arena *a, struct store_user *out, struct err *e)
{
    return s->be->user_get(s, dev_id, id, a, out, e);
}

int
store_user_find_connected(struct store *s, const char *dev_id,
                          const char *provider, const char *provider_user_id,
                          const char *reference_id, struct arena *a,
                          struct store_user *out, struct err *e)
{
    return s->be->user_find_connected(s, dev_id, provider, provider_user_id,
                                      reference_id, a, out, e);
}

int
store_user_list(struct store *s, const struct store_user_query *q,
                struct arena *a, struct store_user **out, size_t *n,
                struct err *e)
{
    return s->be->user_list(s, q, a, out, n, e);
}

int
store_user_count(struct store *s, const struct store_user_query *q, int64_t *n,
                 struct err *e)
{
    return s->be->user_count(s, q, n, e);
}

int
store_user_update(struct store *s, const char *dev_id, const char *id,
                  int set_reference, const char *reference_id, int active,
                  int64_t now, struct err *e)
{
    return s->be->user_update(s, dev_id, id, set_reference, reference_id,
                              active, now, e);
}

int
store_user_deauth(struct store *s, const char *dev_id, const char *id,
                  const struct store_event *ev, int64_t now, struct err *e)
{
    return s->be->user_deauth(s, dev_id, id, ev, now, e);
}

int
store_token_get(struct store *s, const char *user_id, struct arena *a,
                const unsigned char **sealed, size_t *len, int64_t *expires_at,
                struct err *e)
{
    return s->be->token_get(s, user_id, a, sealed, len, expires_at, e);
}

int
store_sandbox_code_create(struct store *s, const struct store_sandbox_code *c,
                          struct err *e)
{
    return s->be->sandbox_code_create(s, c, e);
}

int
store_sandbox_code_take(struct store *s, const unsigned char hash[32],
                        int64_t now, struct arena *a,
                        struct store_sandbox_code *out, struct err *e)
{
    return s->be->sandbox_code_take(s, hash, now, a, out, e);
}

int
store_sandbox_tokens_issue(struct store *s,
                           const struct store_sandbox_token *access,
                           const struct store_sandbox_token *refresh,
                           const unsigned char *rotate_from, int64_t now,
                           struct err *e)
{
    return s->be->sandbox_tokens_issue(s, access, refresh, rotate_from, now, e);
}

int
store_sandbox_token_get(struct store *s, const unsigned char hash[32],
                        struct arena *a, struct store_sandbox_token *out,
                        struct err *e)
{
    return s->be->sandbox_token_get(s, hash, a, out, e);
}

int
store_sandbox_token_revoke(struct store *s, const unsigned char hash[32],
                           int64_t now, struct err *e)
{
    return s->be->sandbox_token_revoke(s, hash, now, e);
}

int
store_attempt_claim(struct store *s, const unsigned char hash[32], int64_t now,
                    struct err *e)
{
    return s->be->attempt_claim(s, hash, now, e);
}

int
store_setting_get(struct store *s, const char *name, struct arena *a,
                  const unsigned char **value, size_t *len, struct err *e)
{
    return s->be->setting_get(s, name, a, value, len, e);
}

int
store_setting_put(struct store *s, const char *name, const unsigned char *value,
                  size_t len, struct err *e)
{
    return s->be->setting_put(s, name, value, len, e);
}

int
store_setting_add(struct store *s, const char *name, const unsigned char *value,
                  size_t len, struct err *e)
{
    return s->be->setting_add(s, name, value, len, e);
}

int
store_destination_create(struct store *s, const struct store_destination *d,
                         struct err *e)
{
    return s->be->destination_create(s, d, e);
}

int
store_destination_get(struct store *s, const char *dev_id, const char *id,
                      struct arena *a, struct store_destination *out,
                      struct err *e)
{
    return s->be->destination_get(s, dev_id, id, a, out, e);
}

int
store_destination_list(struct store *s, const char *dev_id, int with_removed,
                       struct arena *a, struct store_destination **out,
                       size_t *n, struct err *e)
{
    return s->be->destination_list(s, dev_id, with_removed, a, out, n, e);
}

int
store_destination_remove(struct store *s, const char *dev_id, const char *id,
                         int64_t now, struct err *e)
{
    return s->be->destination_remove(s, dev_id, id, now, e);
}

int
store_destination_rotate(struct store *s, const char *dev_id, const char *id,
                         const struct store_rotation *r, struct err *e)
{
    return s->be->destination_rotate(s, dev_id, id, r, e);
}

int
store_delivery_claim(struct store *s, const char *destination_id, int64_t now,
                     int64_t lease_until, const char *owner, size_t limit,
                     struct store_claim_view *view, struct arena *a,
                     struct store_delivery **out, size_t *n, struct err *e)
{
    return s->be->delivery_claim(s, destination_id, now, lease_until, owner,
                                 limit, view, a, out, n, e);
}

int
store_delivery_settle_async(struct store *s, struct store_delivery_outcome *o,
                            size_t n, store_done_fn done, void *arg)
{
    return s->be->delivery_settle_async(s, o, n, done, arg);
}

int
store_delivery_list(struct store *s, const struct store_delivery_query *q,
                    struct arena *a, struct store_delivery **out, size_t *n,
                    struct err *e)
{
    return s->be->delivery_list(s, q, a, out, n, e);
}

int
store_delivery_attempts(struct store *s, int64_t id, struct arena *a,
                        struct store_delivery_attempt **out, size_t *n,
                        struct err *e)
{
    return s->be->delivery_attempts(s, id, a, out, n, e);
}

int
store_event_replay(struct store *s, const char *dev_id, const char *event_id,
                   int64_t now, int64_t *queued, struct err *e)
{
    return s->be->event_replay(s, dev_id, event_id, now, queued, e);
}

int
store_delivery_replay_dead(struct store *s, const char *dev_id, int64_t since,
                           int64_t now, int64_t *queued, struct err *e)
{
    return s->be->delivery_replay_dead(s, dev_id, since, now, queued, e);
}

int
store_delivery_counts(struct store *s, struct store_delivery_counts *out,
                      struct err *e)
{
    return s->be->delivery_counts(s, out, e);
}

int
store_event_get(struct store *s, const char *dev_id, const char *id,
                struct arena *a, struct store_event *out, struct err *e)
{
    return s->be->event_get(s, dev_id, id, a, out, e);
}

int
store_records_put(struct store *s, struct store_records_put *p, struct err *e)
{
    return s->be->records_put(s, p, e);
}

int
store_records_list(struct store *s, const char *user_id, const char *type,
                   int64_t from, int64_t to, size_t limit, struct arena *a,
                   struct store_record **out, size_t *n, struct err *e)
{
    return s->be->records_list(s, user_id, type, from, to, limit, a, out, n, e);
}

int
store_synced_count(struct store *s, const char *user_id, const char *type,
                   int64_t from, int64_t to, int64_t *n, struct err *e)
{
    return s->be->synced_count(s, user_id, type, from, to, n, e);
}

int
store_job_add(struct store *s, const struct store_job *j, int unique,
              int *added, struct err *e)
{
    return s->be->job_add(s, j, unique, added, e);
}

int
store_job_claim(struct store *s, const char *lane, int64_t now,
                int64_t lease_until, const char *owner, size_t limit,
                size_t per_dev, struct arena *a, struct store_job **out,
                size_t *n, struct err *e)
{
    return s->be->job_claim(s, lane, now, lease_until, owner, limit, per_dev, a,
                            out, n, e);
}

int
store_job_finish(struct store *s, const char *id, const char *owner,
                 const char *state, int64_t run_at, const char *error,
                 struct err *e)
{
    return s->be->job_finish(s, id, owner, state, run_at, error, e);
}

int
store_jobs_renew(struct store *s, const char *owner, int64_t until,
                 struct err *e)
{
    return s->be->jobs_renew(s, owner, until, e);
}

int
store_token_lock(struct store *s, const char *user_id, int64_t now,
                 int64_t until, int *got, struct err *e)
{
    return s->be->token_lock(s, user_id, now, until, got, e);
}

int
store_token_put(struct store *s, const char *user_id,
                const unsigned char *sealed, size_t len, int64_t expires_at,
                int64_t now, struct err *e)
{
    return s->be->token_put(s, user_id, sealed, len, expires_at, now, e);
}

int
store_user_set_state(struct store *s, const char *id, const char *state,
                     const struct store_event *ev, int64_t now, int *changed,
                     struct err *e)
{
    return s->be->user_set_state(s, id, state, ev, now, changed, e);
}

int
store_users_due(struct store *s, const char *provider, int64_t before,
                size_t limit, struct arena *a, struct store_user **out,
                size_t *n, struct err *e)
{
    return s->be->users_due(s, provider, before, limit, a, out, n, e);
}

int
store_user_polled(struct store *s, const char *user_id, int64_t at,
                  struct err *e)
{
    return s->be->user_polled(s, user_id, at, e);
}

int
store_users_by_provider_id(struct store *s, const char *provider,
                           const char *provider_user_id, struct arena *a,
                           struct store_user **out, size_t *n, struct err *e)
{
    return s->be->users_by_provider_id(s, provider, provider_user_id, a, out, n,
                                       e);
}

int
store_event_add(struct store *s, const struct store_event *ev, struct err *e)
{
    return s->be->event_add(s, ev, e);
}

int
store_request_event_add(struct store *s, const struct store_event *ev,
                        const struct store_record *rows, size_t n, int64_t ends,
                        struct err *e)
{
    return s->be->request_event_add(s, ev, rows, n, ends, e);
}

int
store_request_forget(struct store *s, const char *reference, struct err *e)
{
    return s->be->request_forget(s, reference, e);
}

int
store_request_sent(struct store *s, const char *reference, struct arena *a,
                   struct store_request_sent *out, struct err *e)
{
    return s->be->request_sent(s, reference, a, out, e);
}

int
store_record_get(struct store *s, const char *user_id, const char *type,
                 const char *key, struct arena *a, struct store_record *out,
                 struct err *e)
{
    return s->be->record_get(s, user_id, type, key, a, out, e);
}

int
store_tokens_due(struct store *s, int64_t before, size_t limit, struct arena *a,
                 struct store_user **out, size_t *n, struct err *e)
{
    return s->be->tokens_due(s, before, limit, a, out, n, e);
}
