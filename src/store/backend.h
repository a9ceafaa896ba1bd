/*
 * backend.h - the operations table behind store.h (internal to src/store/).
 *
 * store.c picks a backend by the URL's scheme and every public store_*
 * function calls through the table, so a new database is one new file
 * that fills a `struct store_backend`, plus one line in store.c.
 *
 * A backend's own state embeds `struct store` as its first member: the
 * backend allocates it in open(), hands out a pointer to that member and
 * casts it back in each operation. The operations have the meaning,
 * errors and ownership rules of their store_* namesakes in store.h.
 */
#ifndef FERRY_STORE_BACKEND_H
#define FERRY_STORE_BACKEND_H

#include "store/store.h"

struct store_backend;

struct store {
    const struct store_backend *be; /* set by the backend's open() */
};

struct store_backend {
    const char *name; /* "sqlite", for messages */

    /*
     * `target` is what the URL names in the backend's own terms: a file
     * path for SQLite; the whole URL for a backend whose client library
     * parses URLs itself. `opt` is never NULL here.
     */
    int (*open)(struct store **out, const char *target,
                const struct store_options *opt, struct err *e);
    void (*free)(struct store *s);
    void (*stats)(struct store *s, struct store_stats *out);

    int (*migrate)(struct store *s, int *applied, struct err *e);
    int (*schema_version)(struct store *s, int *current, int *latest,
                          struct err *e);

    int (*developer_create)(struct store *s, const struct store_developer *d,
                            const struct store_key *first_key, struct err *e);
    int (*developer_get)(struct store *s, const char *id, struct arena *a,
                         struct store_developer *out, struct err *e);
    int (*developer_find_by_name)(struct store *s, const char *name,
                                  struct arena *a, struct store_developer *out,
                                  struct err *e);
    int (*developer_list)(struct store *s, struct arena *a,
                          struct store_developer **out, size_t *n,
                          struct err *e);

    int (*key_create)(struct store *s, const struct store_key *k,
                      struct err *e);
    int (*key_revoke)(struct store *s, const char *key_id, int64_t now,
                      struct err *e);
    int (*key_list)(struct store *s, const char *dev_id, struct arena *a,
                    struct store_key **out, size_t *n, struct err *e);
    int (*key_active_hashes)(struct store *s, const char *dev_id,
                             struct arena *a, unsigned char (**out)[32],
                             size_t *n, struct err *e);

    int (*session_create)(struct store *s, const struct store_session *ss,
                          struct err *e);
    int (*session_create_async)(struct store *s, const struct store_session *ss,
                                store_done_fn done, void *arg);
    int (*session_get)(struct store *s, const char *id, struct arena *a,
                       struct store_session *out, struct err *e);
    int (*session_get_by_token)(struct store *s, const unsigned char hash[32],
                                struct arena *a, struct store_session *out,
                                struct err *e);

    int (*token_count)(struct store *s, int64_t *n, struct err *e);
    int (*setting_get)(struct store *s, const char *name, struct arena *a,
                       const unsigned char **value, size_t *len, struct err *e);
    int (*setting_put)(struct store *s, const char *name,
                       const unsigned char *value, size_t len, struct err *e);
    int (*setting_add)(struct store *s, const char *name,
                       const unsigned char *value, size_t len, struct err *e);
    int (*attempt_create)(struct store *s, const struct store_attempt *at,
                          struct err *e);
    int (*attempt_get)(struct store *s, const unsigned char hash[32],
                       struct arena *a, struct store_attempt *out,
                       struct err *e);
    int (*attempt_claim)(struct store *s, const unsigned char hash[32],
                         int64_t now, struct err *e);
    int (*event_list)(struct store *s, const struct store_event_query *q,
                      struct arena *a, struct store_event **out, size_t *n,
                      struct err *e);
    int (*connect)(struct store *s, const struct store_connect *c,
                   struct err *e);
    int (*connect_async)(struct store *s, const struct store_connect *c,
                         store_done_fn done, void *arg);
    int (*attempt_fail)(struct store *s, const unsigned char *state_hash,
                        const struct store_event *ev, int64_t now,
                        struct err *e);
    int (*attempt_fail_async)(struct store *s, const unsigned char *state_hash,
                              const struct store_event *ev, int64_t now,
                              store_done_fn done, void *arg);
    int (*user_get)(struct store *s, const char *dev_id, const char *id,
                    struct arena *a, struct store_user *out, struct err *e);
    int (*user_find_connected)(struct store *s, const char *dev_id,
                               const char *provider,
                               const char *provider_user_id,
                               const char *reference_id, struct arena *a,
                               struct store_user *out, struct err *e);
    int (*user_list)(struct store *s, const struct store_user_query *q,
                     struct arena *a, struct store_user **out, size_t *n,
                     struct err *e);
    int (*user_count)(struct store *s, const struct store_user_query *q,
                      int64_t *n, struct err *e);
    int (*user_update)(struct store *s, const char *dev_id, const char *id,
                       int set_reference, const char *reference_id, int active,
                       int64_t now, struct err *e);
    int (*user_deauth)(struct store *s, const char *dev_id, const char *id,
                       const struct store_event *ev, int64_t now,
                       struct err *e);
    int (*token_get)(struct store *s, const char *user_id, struct arena *a,
                     const unsigned char **sealed, size_t *len,
                     int64_t *expires_at, struct err *e);
    int (*sandbox_code_create)(struct store *s,
                               const struct store_sandbox_code *c,
                               struct err *e);
    int (*sandbox_code_take)(struct store *s, const unsigned char hash[32],
                             int64_t now, struct arena *a,
                             struct store_sandbox_code *out, struct err *e);
    int (*sandbox_tokens_issue)(struct store *s,
                                const struct store_sandbox_token *access,
                                const struct store_sandbox_token *refresh,
                                const unsigned char *rotate_from, int64_t now,
                                struct err *e);
    int (*sandbox_token_get)(struct store *s, const unsigned char hash[32],
                             struct arena *a, struct store_sandbox_token *out,
                             struct err *e);
    int (*sandbox_token_revoke)(struct store *s, const unsigned char hash[32],
                                int64_t now, struct err *e);
    int (*destination_create)(struct store *s,
                              const struct store_destination *d, struct err *e);
    int (*destination_get)(struct store *s, const char *dev_id, const char *id,
                           struct arena *a, struct store_destination *out,
                           struct err *e);
    int (*destination_list)(struct store *s, const char *dev_id,
                            int with_removed, struct arena *a,
                            struct store_destination **out, size_t *n,
                            struct err *e);
    int (*destination_remove)(struct store *s, const char *dev_id,
                              const char *id, int64_t now, struct err *e);
    int (*destination_rotate)(struct store *s, const char *dev_id,
                              const char *id, const struct store_rotation *r,
                              struct err *e);
    int (*delivery_claim)(struct store *s, const char *destination_id,
                          int64_t now, int64_t lease_until, const char *owner,
                          size_t limit, struct store_claim_view *view,
                          struct arena *a, struct store_delivery **out,
                          size_t *n, struct err *e);
    int (*delivery_settle_async)(struct store *s,
                                 struct store_delivery_outcome *o, size_t n,
                                 store_done_fn done, void *arg);
    int (*delivery_list)(struct store *s, const struct store_delivery_query *q,
                         struct arena *a, struct store_delivery **out,
                         size_t *n, struct err *e);
    int (*delivery_attempts)(struct store *s, int64_t id, struct arena *a,
                             struct store_delivery_attempt **out, size_t *n,
                             struct err *e);
    int (*event_replay)(struct store *s, const char *dev_id,
                        const char *event_id, int64_t now, int64_t *queued,
                        struct err *e);
    int (*delivery_replay_dead)(struct store *s, const char *dev_id,
                                int64_t since, int64_t now, int64_t *queued,
                                struct err *e);
    int (*delivery_counts)(struct store *s, struct store_delivery_counts *out,
                           struct err *e);
    int (*event_get)(struct store *s, const char *dev_id, const char *id,
                     struct arena *a, struct store_event *out, struct err *e);
    int (*records_put)(struct store *s, struct store_records_put *p,
                       struct err *e);
    int (*records_list)(struct store *s, const char *user_id, const char *type,
                        int64_t from, int64_t to, size_t limit, struct arena *a,
                        struct store_record **out, size_t *n, struct err *e);
    int (*synced_count)(struct store *s, const char *user_id, const char *type,
                        int64_t from, int64_t to, int64_t *n, struct err *e);
    int (*job_add)(struct store *s, const struct store_job *j, int unique,
                   int *added, struct err *e);
    int (*job_claim)(struct store *s, const char *lane, int64_t now,
                     int64_t lease_until, const char *owner, size_t limit,
                     size_t per_dev, struct arena *a, struct store_job **out,
                     size_t *n, struct err *e);
    int (*job_finish)(struct store *s, const char *id, const char *owner,
                      const char *state, int64_t run_at, const char *error,
                      struct err *e);
    int (*jobs_renew)(struct store *s, const char *owner, int64_t until,
                      struct err *e);
    int (*token_lock)(struct store *s, const char *user_id, int64_t now,
                      int64_t until, int *got, struct err *e);
    int (*token_put)(struct store *s, const char *user_id,
                     const unsigned char *sealed, size_t len,
                     int64_t expires_at, int64_t now, struct err *e);
    int (*user_set_state)(struct store *s, const char *id, const char *state,
                          const struct store_event *ev, int64_t now,
                          int *changed, struct err *e);
    int (*users_due)(struct store *s, const char *provider, int64_t before,
                     size_t limit, struct arena *a, struct store_user **out,
                     size_t *n, struct err *e);
    int (*user_polled)(struct store *s, const char *user_id, int64_t at,
                       struct err *e);
    int (*users_by_provider_id)(struct store *s, const char *provider,
                                const char *provider_user_id, struct arena *a,
                                struct store_user **out, size_t *n,
                                struct err *e);
    int (*event_add)(struct store *s, const struct store_event *ev,
                     struct err *e);
    int (*request_event_add)(struct store *s, const struct store_event *ev,
                             const struct store_record *rows, size_t n,
                             int64_t ends, struct err *e);
    int (*request_forget)(struct store *s, const char *reference,
                          struct err *e);
    int (*request_sent)(struct store *s, const char *reference, struct arena *a,
                        struct store_request_sent *out, struct err *e);
    int (*record_get)(struct store *s, const char *user_id, const char *type,
                      const char *key, struct arena *a,
                      struct store_record *out, struct err *e);
    int (*tokens_due)(struct store *s, int64_t before, size_t limit,
                      struct arena *a, struct store_user **out, size_t *n,
                      struct err *e);
};

/* sqlite.c */
extern const struct store_backend store_sqlite_backend;

/* schema_sqlite.c: migration i of the array has version i + 1. */
struct store_migration {
    int version;      /* 1, 2, ...: the row written to schema_migrations */
    const char *name; /* a few words, for logs and errors */
    const char *sql;  /* one or more statements, run in one transaction */
};

extern const struct store_migration store_sqlite_migrations[];
extern const int store_sqlite_migration_count;

#endif
