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
struct store_user;

struct store_options {
    int busy_timeout_ms; /* how long a writer waits for a lock */
    int readers;         /* read connections to keep (0 = a default) */
    int existing;        /* never create the database: ERR_NOTFOUND when it is
                     not there or holds no ferry schema */
};

/*
 * Open the store named by `url`. The schema is not touched: call
 * store_migrate() before other calls. `*out` is freed with store_free().
 * ERR_CONFIG for an unknown scheme, ERR_STORE when the database cannot be
 * opened, ERR_NOTFOUND when `opt->existing` is set and there is none
 * (the message names the file, made absolute).
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
    const char *user_id;  /* direct: reserved at creation; else the user
                             a completed link made */
    const char *resource; /* direct: the provider; else the one that
                             completed the link */
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

/* ---- settings: small values the deployment keeps in its store ---- */

/* The value of setting `name` into `a`; ERR_NOTFOUND when unset. */
int store_setting_get(struct store *s, const char *name, struct arena *a,
                      const unsigned char **value, size_t *len, struct err *e);

/* Set `name` to `len` bytes at `value`, unless it is set already
 * (ERR_CONFLICT): the first of several writers wins. */
int store_setting_add(struct store *s, const char *name,
                      const unsigned char *value, size_t len, struct err *e);

/* Set `name` to `len` bytes at `value` (a new value replaces the old). */
int store_setting_put(struct store *s, const char *name,
                      const unsigned char *value, size_t len, struct err *e);

/* ---- authorization attempts ---- */

/*
 * One pick of a provider on a link: the OAuth `state` (kept as its
 * SHA-256), the user id reserved for the connection it may make, and
 * the PKCE verifier sealed by the caller. A link may have many; the one
 * that completes uses itself up and the link with it.
 */
struct store_attempt {
    unsigned char state_hash[32];
    const char *session_id;
    const char *dev_id;
    const char *resource;
    const char *user_id;           /* reserved */
    const unsigned char *verifier; /* sealed; NULL when no PKCE */
    size_t verifier_len;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at; /* 0 while unused */
};

#define STORE_ATTEMPTS_MAX 64 /* logins one link may start */

/* ERR_NOTFOUND when the session does not exist, ERR_CONFLICT when the
 * state hash exists, ERR_LIMIT when the link has STORE_ATTEMPTS_MAX
 * attempts already. Attempts whose link expired a day ago are deleted
 * a few at a time along the way. */
int store_attempt_create(struct store *s, const struct store_attempt *at,
                         struct err *e);

/* By state hash; ERR_NOTFOUND when unknown. `verifier` in `a`. */
int store_attempt_get(struct store *s, const unsigned char hash[32],
                      struct arena *a, struct store_attempt *out,
                      struct err *e);

/*
 * Use up the attempt `hash` at `now` before acting on it, so that of
 * two callbacks carrying one state only one goes on to the provider.
 * ERR_GONE when it was used already (or does not exist).
 */
int store_attempt_claim(struct store *s, const unsigned char hash[32],
                        int64_t now, struct err *e);

/* ---- events (the outbox) ---- */

struct store_event {
    const char *id; /* UUID; also body.ferry.event_id */
    const char *dev_id;
    const char *user_id;   /* may be NULL */
    const char *type;      /* "auth", "deauth", ... */
    const char *reference; /* terra-reference, may be NULL */
    const char *body;      /* the JSON document, as it will be sent */
    int64_t created_at;
    int64_t seq; /* set by the store: creation order */
};

struct store_event_query {
    const char *dev_id;  /* NULL: every developer */
    const char *user_id; /* NULL: every user */
    const char *type;    /* NULL: every type */
    int64_t after_seq;   /* events with a greater seq */
    size_t limit;        /* 0: 100 */
};

/* Events matching `q`, oldest first: an arena array of `*n`. */
int store_event_list(struct store *s, const struct store_event_query *q,
                     struct arena *a, struct store_event **out, size_t *n,
                     struct err *e);

/* ---- destinations ---- */

/*
 * Where a developer's events go. Secrets are stored sealed (the caller
 * seals and opens them: the store never sees a clear secret).
 */
struct store_destination {
    const char *id; /* UUID */
    const char *dev_id;
    const char *kind;          /* "webhook", "postgres", "s3", "demo" */
    const char *url;           /* as shown: no credentials */
    const unsigned char *conf; /* sealed JSON of the kind's settings */
    size_t conf_len;
    const unsigned char *secret; /* sealed signing secret */
    size_t secret_len;
    const unsigned char *previous_secret; /* sealed; NULL when none */
    size_t previous_secret_len;
    int64_t previous_until; /* the previous secret signs until; 0 none */
    int64_t created_at;
    int64_t removed_at; /* 0 while in use */
};

/* Add `d`. ERR_CONFLICT when the id is taken, ERR_NOTFOUND when the
 * developer does not exist. */
int store_destination_create(struct store *s, const struct store_destination *d,
                             struct err *e);

/* The destination `id` of `dev_id` (NULL: of any developer), removed
 * ones included. ERR_NOTFOUND when there is none. */
int store_destination_get(struct store *s, const char *dev_id, const char *id,
                          struct arena *a, struct store_destination *out,
                          struct err *e);

/* The destinations of `dev_id` (NULL: of every developer) in creation
 * order; removed ones only with `with_removed`. */
int store_destination_list(struct store *s, const char *dev_id,
                           int with_removed, struct arena *a,
                           struct store_destination **out, size_t *n,
                           struct err *e);

/*
 * Remove the destination `id` of `dev_id` (NULL: any developer): it
 * receives no new event, and its deliveries not yet made are cancelled,
 * in one transaction. ERR_NOTFOUND when there is none or it is removed.
 */
int store_destination_remove(struct store *s, const char *dev_id,
                             const char *id, int64_t now, struct err *e);

/* A new signing secret for a destination, all of it sealed. */
struct store_rotation {
    const unsigned char *secret; /* the new one */
    size_t secret_len;
    /* the one it replaces, as the caller read it: the rotation happens
     * only if that is still the current one */
    const unsigned char *replaced;
    size_t replaced_len;
    /* 0: `replaced` stops signing now; else it keeps signing beside the
     * new one until then (unix us) */
    int64_t previous_until;
};

/*
 * Replace the signing secret of `id` (of `dev_id`, NULL: any) as `r`
 * says. ERR_NOTFOUND as above; ERR_CONFLICT when the current secret is
 * no longer `r->replaced` (another rotation committed since it was
 * read: read it again and retry), and nothing is changed.
 */
int store_destination_rotate(struct store *s, const char *dev_id,
                             const char *id, const struct store_rotation *r,
                             struct err *e);

/* ---- deliveries: one per (event, destination) ---- */

/*
 * A destination keeps a cursor over its developer's event log. An event
 * after the cursor that has no delivery row is waiting for its first
 * attempt; the engine holding the destination's lease reads it from the
 * log (a "fresh" delivery, id 0) and writes its row when the attempt
 * ends. A row is written earlier only when the event has to queue
 * behind an earlier one of its user (a retry, a replay, an attempt in
 * flight). Of the queued rows of one user (an event without a user is
 * its own group) to one destination only the oldest (the head) can be
 * claimed, so events arrive in creation order.
 */
struct store_delivery {
    int64_t id; /* 0: fresh, no row yet */
    const char *event_id;
    const char *destination_id;
    const char *dev_id;
    const char *user_id; /* may be NULL */
    const char *type;
    const char *reference; /* the event's reference, may be NULL */
    const char *body;      /* the event's stored bytes */
    int64_t event_created_at;
    const char *state; /* pending, in_flight, delivered, dead, cancelled */
    int retry;         /* failed attempts since it was (re)queued */
    int attempts;      /* every attempt ever made */
    int64_t next_attempt_at;
    long last_status; /* 0 when none */
    const char *last_error;
    int64_t created_at;
    int64_t updated_at;
    /* claims only: the destination's previous_until, which every
     * rotation of its secret changes */
    int64_t secret_stamp;
    int64_t event_seq; /* claims only: the event's place in the log */
    int lane;          /* claims only: 0 account events, 1 data */
    /* claims only, fresh ones: a later event of its key was queued
     * behind it by the same claim */
    int followers;
};

/*
 * What the claiming engine knows of a destination's fresh deliveries in
 * flight (those with no row yet). Its callbacks run on the store's
 * thread while the claim runs.
 */
struct store_claim_view {
    /* 2: the event at `seq` is in flight; 1: an event of order key
     * `key` is, the latest of them at *at; 0: neither. One in flight
     * may have its outcome written already (the claim checks). */
    int (*busy)(void *arg, int64_t seq, const char *key, int64_t *at);
    /* the lowest seq in flight, INT64_MAX when none */
    int64_t (*lowest)(void *arg);
    /* an event of `key` was queued behind the one of it in flight */
    void (*parked)(void *arg, const char *key);
    void *arg;
    /* in and out: the last event of the log the claims have read, -1
     * to start at the destination's cursor */
    int64_t scan;
    /* in: when the lease of the queued rows claimed ends (their attempt
     * may wait for a request slot before its own request); 0: with the
     * destination's */
    int64_t rows_until;
    /* out: 0 when another owner holds the destination's lease, or it is
     * removed */
    int held;
    /* out, with `held`: when the destination's lease ends (unix us), not
     * always `lease_until`: a lease with half its time left is kept */
    int64_t held_until;
    /* out, with `held`: 1 when the lease was not this owner's before the
     * claim (new, or taken back after another owner had it): what an
     * earlier claim gave out may have been sent by that other owner */
    int taken;
};

/*
 * Claim up to `limit` deliveries to `destination_id` that are due at
 * `now` for `owner`, holding the destination's lease until
 * `lease_until` (taken when it is free, ours, or past its time; `limit`
 * 0 only renews it and moves the cursor up to what `view` says is
 * done). Auth and other account events before data events; queued rows
 * due (oldest first, marked "in_flight" under the same lease), then
 * fresh events in log order. Rows of a worker that died (in_flight
 * past their lease) are taken back first. An event whose user has one
 * in flight or queued is given a row behind it instead. `*out` an arena
 * array of `*n` with the event's body.
 */
int store_delivery_claim(struct store *s, const char *destination_id,
                         int64_t now, int64_t lease_until, const char *owner,
                         size_t limit, struct store_claim_view *view,
                         struct arena *a, struct store_delivery **out,
                         size_t *n, struct err *e);

/* How one claimed delivery ended. */
struct store_delivery_outcome {
    int64_t id; /* 0: a fresh delivery, whose row this writes */
    /* fresh ones only: what their row is made of */
    int64_t event_seq;
    const char *event_id;
    const char *destination_id;
    const char *order_key;
    int lane;
    int64_t event_created_at;
    /* fresh ones: nonzero when an event of its key queued behind it;
     * read when the write runs */
    const int *followers;
    const char *owner; /* the claim's owner: a lost claim is left alone */
    /* "delivered", "pending" (to be retried at next_attempt_at), "dead",
     * or NULL: give the claim back untried */
    const char *state;
    int64_t next_attempt_at;
    /* the attempt, recorded when state is not NULL */
    int64_t at;
    int64_t latency_us;
    long status;       /* 0 when there was no HTTP answer */
    const char *error; /* NULL when none; borrowed until done */
    /* set by the store before done: 0, or ERR_NOTFOUND when the claim
     * was lost to another owner (and nothing was recorded for it) */
    int rc;
    /* set with rc 0: the attempt was recorded, but its row is cancelled
     * (the destination was removed), not `state` */
    int cancelled;
};

/*
 * Record the `n` outcomes `o` in one write and, for each delivery that
 * leaves the queue (delivered or dead), make the next one of its user
 * claimable. Asynchronous: `done` as store_done_fn says, once for all of
 * them. `o` and its strings are borrowed until done, which finds each
 * o[i].rc set when its own rc is 0; when it is not (the write failed),
 * none of them was recorded.
 */
int store_delivery_settle_async(struct store *s,
                                struct store_delivery_outcome *o, size_t n,
                                store_done_fn done, void *arg);

struct store_delivery_query {
    const char *dev_id;         /* NULL: every developer */
    const char *event_id;       /* NULL: every event */
    const char *destination_id; /* NULL: every destination */
    const char *state;          /* NULL: any */
    int64_t since;              /* created at or after; 0: any */
    size_t limit;               /* 0: 100 */
};

/* Deliveries matching `q`, oldest event first (bodies not read:
 * `body` is NULL). */
int store_delivery_list(struct store *s, const struct store_delivery_query *q,
                        struct arena *a, struct store_delivery **out, size_t *n,
                        struct err *e);

struct store_delivery_attempt {
    int64_t delivery_id;
    int n; /* 1, 2, ... over the delivery's whole life */
    int64_t at;
    int64_t latency_us;
    long status;       /* 0 when there was no HTTP answer */
    const char *error; /* NULL when none */
};

/* Every attempt of delivery `id`, first first (a first attempt that
 * delivered is kept in the delivery's own row, and read from there). */
int store_delivery_attempts(struct store *s, int64_t id, struct arena *a,
                            struct store_delivery_attempt **out, size_t *n,
                            struct err *e);

/*
 * Deliver event `event_id` (of `dev_id`, NULL: any) again to every
 * destination its developer has now: delivered and dead deliveries are
 * queued again with a fresh retry count, missing ones added, those
 * still queued left alone. `*queued` is how many were (re)queued.
 * ERR_NOTFOUND when there is no such event.
 */
int store_event_replay(struct store *s, const char *dev_id,
                       const char *event_id, int64_t now, int64_t *queued,
                       struct err *e);

/* Queue again every dead delivery (of `dev_id`, NULL: any) whose event
 * was created at or after `since` (0: all). */
int store_delivery_replay_dead(struct store *s, const char *dev_id,
                               int64_t since, int64_t now, int64_t *queued,
                               struct err *e);

struct store_delivery_counts {
    int64_t pending, in_flight, delivered, dead, cancelled;
};

/* Deliveries by state, over every developer. */
int store_delivery_counts(struct store *s, struct store_delivery_counts *out,
                          struct err *e);

/* The event `id` of `dev_id` (NULL: any). ERR_NOTFOUND when none. */
int store_event_get(struct store *s, const char *dev_id, const char *id,
                    struct arena *a, struct store_event *out, struct err *e);

/* ---- normalised data: records, synced days, jobs ---- */

/* One normalised record of a user (a Terra object). */
struct store_record {
    const char *user_id;
    const char *type; /* "activity", "sleep", ... */
    const char *key;  /* stable: the provider's id, or the local date */
    int64_t start_at; /* unix microseconds */
    int64_t end_at;
    const char *local_date; /* YYYY-MM-DD or NULL */
    unsigned char hash[32]; /* SHA-256 of `data` */
    const char *data;       /* the Terra object as JSON text */
    int64_t created_at;
    int64_t updated_at;
    int change; /* set by store_records_put(): 0, 1 or 2 (see there) */
};

/*
 * Compose the events for records just stored: called once inside the
 * transaction of store_records_put(), on the writer thread, with the
 * records that were new or changed (`change` set; strings borrowed for
 * the call). Sets `*events` to `*n` events to add (in the arena the
 * caller of store_records_put() gave). Quick; must not call the store.
 */
typedef int (*store_records_compose_fn)(void *arg,
                                        const struct store_record *changed,
                                        size_t n,
                                        const struct store_event **events,
                                        size_t *nevents);

/*
 * Upsert `n` records of one user by (user, type, key) in one
 * transaction: a new key is inserted, a known key whose hash differs is
 * replaced, an equal one is left. The store also keeps whether each
 * record's stored version was announced (reached the destinations), and
 * `announce` says what this put does with that:
 *
 *   STORE_PUT_ANNOUNCE  the records to announce are the ones whose
 *                       stored version was not announced yet: new keys,
 *                       changed ones and ones a quiet put left; each
 *                       gets `change` 1 (never announced before) or 2
 *                       (an older version was), others 0. `compose`
 *                       gives their events, added in the same
 *                       transaction, and they count as announced.
 *   STORE_PUT_QUIET     nothing is announced (`compose` is not called):
 *                       a new or changed record waits for the next
 *                       announcing put that sees it, or for a data
 *                       request's event that carries it
 *                       (store_request_event_add()).
 *
 * `records[i].change` is set as above (under QUIET: 1 new, 2 changed,
 * 0 equal). The user's most_recent_data_at moves. Also marks the days
 * [synced_from, synced_to) (unix days) of `synced_type` as fetched (when
 * it is not NULL). ERR_GONE, with nothing written, when the user is
 * deauthorized.
 */
enum store_put_announce { STORE_PUT_ANNOUNCE = 0, STORE_PUT_QUIET };

struct store_records_put {
    const char *user_id;
    struct store_record *records;
    size_t n;
    const char *synced_type; /* may be NULL */
    int64_t synced_from;     /* unix day numbers, end exclusive */
    int64_t synced_to;
    store_records_compose_fn compose; /* may be NULL */
    void *compose_arg;
    enum store_put_announce announce;
    int64_t now;
};

int store_records_put(struct store *s, struct store_records_put *p,
                      struct err *e);

/*
 * The records of `user_id` and `type` whose start is in [from, to)
 * (unix microseconds), oldest first, at most `limit` (0: no limit).
 */
int store_records_list(struct store *s, const char *user_id, const char *type,
                       int64_t from, int64_t to, size_t limit, struct arena *a,
                       struct store_record **out, size_t *n, struct err *e);

/* The record (`user_id`, `type`, `key`); ERR_NOTFOUND when none. */
int store_record_get(struct store *s, const char *user_id, const char *type,
                     const char *key, struct arena *a, struct store_record *out,
                     struct err *e);

/*
 * How many of the unix days [from, to) of `type` were fetched for
 * `user_id` (so a caller knows whether the store covers a range).
 */
int store_synced_count(struct store *s, const char *user_id, const char *type,
                       int64_t from, int64_t to, int64_t *n, struct err *e);

/* A job: background work of the data pipeline. */
struct store_job {
    const char *id; /* UUID */
    const char *dev_id;
    const char *user_id; /* may be NULL (app-level work) */
    const char *kind;    /* "backfill", "poll", "fetch", "push", ... */
    const char *lane;    /* "auth" or "data" */
    const char *payload; /* JSON text, may be NULL */
    const char *state;
    int64_t run_at;
    int attempts;
    const char *last_error;
    int64_t created_at;
};

/*
 * Add `j`. With `unique` set, nothing is added (0, `*added` 0) when the
 * user already has a job of that kind pending or running.
 */
int store_job_add(struct store *s, const struct store_job *j, int unique,
                  int *added, struct err *e);

/*
 * Claim up to `limit` jobs of `lane` due at `now` for `owner` until
 * `lease_until`, taking back those whose lease ran out, oldest due
 * first but at most `per_dev` per developer in one claim (fairness).
 */
int store_job_claim(struct store *s, const char *lane, int64_t now,
                    int64_t lease_until, const char *owner, size_t limit,
                    size_t per_dev, struct arena *a, struct store_job **out,
                    size_t *n, struct err *e);

/*
 * End a claimed job: `state` "done", "dead", or "pending" (run again at
 * `run_at`, attempts + 1), `error` recorded (may be NULL). ERR_NOTFOUND
 * when the claim was lost.
 */
int store_job_finish(struct store *s, const char *id, const char *owner,
                     const char *state, int64_t run_at, const char *error,
                     struct err *e);

/* Extend the lease of every job `owner` is running to `until`: a live
 * process keeps its jobs however long they take. */
int store_jobs_renew(struct store *s, const char *owner, int64_t until,
                     struct err *e);

/*
 * Take the refresh lock of `user_id`'s token until `until` when it is
 * free or expired: `*got` 1 when this caller has it. One refresh per
 * user at a time, across processes.
 */
int store_token_lock(struct store *s, const char *user_id, int64_t now,
                     int64_t until, int *got, struct err *e);

/* Replace the sealed grant of `user_id` (and free its refresh lock). */
int store_token_put(struct store *s, const char *user_id,
                    const unsigned char *sealed, size_t len, int64_t expires_at,
                    int64_t now, struct err *e);

/*
 * Move user `id` to `state` ("needs_reauth" or "connected") and add `ev`
 * (may be NULL) in one transaction, only when the user is not in that
 * state already: `*changed` says whether it moved (so a
 * connection_error is emitted once).
 */
int store_user_set_state(struct store *s, const char *id, const char *state,
                         const struct store_event *ev, int64_t now,
                         int *changed, struct err *e);

/* Users due for a poll: connected users of `provider` whose
 * last_polled_at is before `before` (or never), at most `limit`. */
int store_users_due(struct store *s, const char *provider, int64_t before,
                    size_t limit, struct arena *a, struct store_user **out,
                    size_t *n, struct err *e);

/* Users whose stored access token expires before `before` (unix us),
 * connected ones only, soonest first, at most `limit`: the users' ids
 * and developers in `out` (user_id and dev_id set). */
int store_tokens_due(struct store *s, int64_t before, size_t limit,
                     struct arena *a, struct store_user **out, size_t *n,
                     struct err *e);

/* Record that `user_id` was polled at `at`. */
int store_user_polled(struct store *s, const char *user_id, int64_t at,
                      struct err *e);

/* The connected users of `provider` with `provider_user_id`, over every
 * developer (a push names the provider's user only). */
int store_users_by_provider_id(struct store *s, const char *provider,
                               const char *provider_user_id, struct arena *a,
                               struct store_user **out, size_t *n,
                               struct err *e);

/* Add one event alone (pipeline events without a record change:
 * backfill_complete, large_request_*). ERR_GONE, nothing added, when
 * its user is deauthorized. */
int store_event_add(struct store *s, const struct store_event *ev,
                    struct err *e);

/*
 * Add `ev`, an event of the data request `ev->reference`, as
 * store_event_add() does, in one transaction with what it sends: the
 * `n` records `rows` (user_id, type, key and hash read; as
 * store_records_list() gives them) it carries are marked announced (each
 * only while its stored version is still the one of that hash) and kept
 * as sent by the request; an event with `n` > 0 counts as one of its
 * chunks, one without as its event of that type (once per request).
 * `ends` < 0: the request goes on. `ends` >= 0: this is its last event,
 * written only if the request has sent exactly `ends` chunks before it
 * (what the caller counted in the event); then what it sent is
 * forgotten and only its end is kept. ERR_CONFLICT, nothing written,
 * when the request has ended, has sent one of the records or an event
 * of that type already (another run of its job got there first), or,
 * for its last event, a different number of chunks (read it again).
 */
int store_request_event_add(struct store *s, const struct store_event *ev,
                            const struct store_record *rows, size_t n,
                            int64_t ends, struct err *e);

/* Forget what the data request `reference` sent, its end excepted: for a
 * request that will not end (its job is dead, or its user gone). */
int store_request_forget(struct store *s, const char *reference, struct err *e);

/* What a data request has sent so far (store_request_event_add()). */
struct store_request_sent {
    int ended;           /* its last event is in */
    int64_t chunks;      /* events with records */
    const char **events; /* types of its events without records */
    size_t nevents;
    const char **types; /* the records sent: types[i], keys[i] */
    const char **keys;
    size_t nrecords;
};

/* What the data request `reference` has sent, into `*out` (its arrays
 * and strings in `a`). */
int store_request_sent(struct store *s, const char *reference, struct arena *a,
                       struct store_request_sent *out, struct err *e);

/* ---- users ---- */

struct store_user {
    const char *id;
    const char *dev_id;
    const char *provider; /* resource, "OURA" */
    const char *provider_user_id;
    const char *reference_id; /* may be NULL */
    const char *session_id;   /* the link that made it; may be NULL */
    const char *state;        /* "connected", "needs_reauth",
                                 "deauthorized" */
    int active;
    const char *scopes; /* may be NULL */
    int64_t created_at;
    int64_t updated_at;
    int64_t last_webhook_update; /* 0: never */
    int64_t last_polled_at;      /* 0: never */
    int64_t most_recent_data_at; /* 0: none */
};

/*
 * Compose the events that depend on the connection being replaced:
 * called once, inside the transaction of store_connect(), on the
 * store's writer thread, with `replaced` the connected user the new one
 * replaces (strings in the store_connect's arena) or NULL. Sets
 * `*events` to `*n` events to add after the fixed ones (both may be left
 * 0 and NULL). A negative return fails the write. It must be quick and
 * must not call the store.
 */
typedef int (*store_compose_fn)(void *arg, const struct store_user *replaced,
                                const struct store_event **events, size_t *n);

/*
 * A completed connection, written in one transaction: the attempt
 * `state_hash` (NULL when the caller claimed it with
 * store_attempt_claim()) is used up (ERR_GONE when it already was), the
 * link `session_id` completed with the new user (ERR_GONE when it
 * already was); with `replace`, the connected user of the same
 * developer, provider account and reference_id (the `user`'s; a NULL
 * reference matches a user without one), if there is one, deauthorized
 * with its tokens deleted, and `compose` (may be NULL) told of it; then
 * the user and its sealed token inserted, and the events (`events`, then
 * the composed ones) added. Looking for the user to replace inside the
 * transaction means two connections of one account racing still leave
 * one connected user. Nothing of it on error.
 */
struct store_connect {
    const unsigned char *state_hash;
    const char *session_id;
    const struct store_user *user;
    const unsigned char *sealed; /* the encrypted grant */
    size_t sealed_len;
    int64_t token_expires_at; /* 0: unknown */
    int replace;              /* replace the account's connected user */
    store_compose_fn compose; /* may be NULL */
    void *compose_arg;
    struct arena *arena; /* the replaced user's strings; with `replace` */
    const struct store_event *events;
    size_t nevents;
    int64_t now;
};

int store_connect(struct store *s, const struct store_connect *c,
                  struct err *e);

/*
 * store_connect() without waiting: 0 when queued, then `done(arg, ...)`
 * exactly once from the writer thread. `c` and everything it points to
 * are borrowed until `done` is called. ERR_STORE when the store is
 * closing (`done` is then never called).
 */
int store_connect_async(struct store *s, const struct store_connect *c,
                        store_done_fn done, void *arg);

/*
 * A failed connection attempt: the attempt `state_hash` (may be NULL
 * when none is known) is used up if it was not, and `ev` is added, in
 * one transaction. ERR_GONE, with nothing written, when the attempt's
 * link was completed meanwhile by another attempt.
 */
int store_attempt_fail(struct store *s, const unsigned char *state_hash,
                       const struct store_event *ev, int64_t now,
                       struct err *e);

/* store_attempt_fail() without waiting; the rules of
 * store_connect_async(). */
int store_attempt_fail_async(struct store *s, const unsigned char *state_hash,
                             const struct store_event *ev, int64_t now,
                             store_done_fn done, void *arg);

/* The user `id` of `dev_id` (NULL: of any developer), in any state.
 * ERR_NOTFOUND when there is none. */
int store_user_get(struct store *s, const char *dev_id, const char *id,
                   struct arena *a, struct store_user *out, struct err *e);

/*
 * The connected user of `dev_id` for the provider account
 * (`provider`, `provider_user_id`) with `reference_id` (NULL matches a
 * user without one). ERR_NOTFOUND when none.
 */
int store_user_find_connected(struct store *s, const char *dev_id,
                              const char *provider,
                              const char *provider_user_id,
                              const char *reference_id, struct arena *a,
                              struct store_user *out, struct err *e);

struct store_user_query {
    const char *dev_id;       /* NULL: every developer */
    const char *reference_id; /* NULL: any */
    int with_deauthorized;    /* 0: leave deauthorized users out */
    size_t offset;
    size_t limit; /* 0: no limit */
};

/* Users matching `q`, oldest first (created_at, id). */
int store_user_list(struct store *s, const struct store_user_query *q,
                    struct arena *a, struct store_user **out, size_t *n,
                    struct err *e);

/* How many users match `q` (offset and limit ignored). */
int store_user_count(struct store *s, const struct store_user_query *q,
                     int64_t *n, struct err *e);

/*
 * Change `reference_id` (`set_reference`: 1 to set it, to NULL too) and
 * `active` (-1: unchanged) of a user of `dev_id` that is not
 * deauthorized. ERR_NOTFOUND when there is no such user.
 */
int store_user_update(struct store *s, const char *dev_id, const char *id,
                      int set_reference, const char *reference_id, int active,
                      int64_t now, struct err *e);

/*
 * Deauthorize the user `id` of `dev_id`: state "deauthorized", inactive,
 * its tokens deleted, and `ev` added, in one transaction. ERR_NOTFOUND
 * when there is no such user or it is deauthorized already.
 */
int store_user_deauth(struct store *s, const char *dev_id, const char *id,
                      const struct store_event *ev, int64_t now, struct err *e);

/* ---- provider tokens ---- */

/* Number of stored provider token rows (encrypted grants). */
int store_token_count(struct store *s, int64_t *n, struct err *e);

/* The sealed grant of user `user_id` into `a`; ERR_NOTFOUND when none. */
int store_token_get(struct store *s, const char *user_id, struct arena *a,
                    const unsigned char **sealed, size_t *len,
                    int64_t *expires_at, struct err *e);

/* ---- the SANDBOX provider's authorization server ---- */

/* An authorization code, kept as its SHA-256. */
struct store_sandbox_code {
    unsigned char hash[32];
    const char *client_id;
    const char *account; /* the sandbox account (user) id */
    const char *redirect_uri;
    const char *scope;     /* space-separated, may be NULL */
    const char *challenge; /* PKCE S256 challenge, may be NULL */
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at; /* 0 while unused */
};

/* ERR_CONFLICT when the hash exists. */
int store_sandbox_code_create(struct store *s,
                              const struct store_sandbox_code *c,
                              struct err *e);

/*
 * Use up the code `hash` at `now`, filling `out` (strings in `a`).
 * ERR_NOTFOUND when unknown; ERR_GONE when expired or used already --
 * and a second use also revokes every token issued for the code (their
 * `family` is the code's hash in hex), as RFC 6749 section 4.1.2 asks.
 */
int store_sandbox_code_take(struct store *s, const unsigned char hash[32],
                            int64_t now, struct arena *a,
                            struct store_sandbox_code *out, struct err *e);

/* An access or refresh token, kept as its SHA-256. */
struct store_sandbox_token {
    unsigned char hash[32];
    const char *kind; /* "access" or "refresh" */
    const char *client_id;
    const char *account;
    const char *scope;  /* may be NULL */
    const char *family; /* the grant: tokens of one code and its refreshes */
    int64_t created_at;
    int64_t expires_at;
    int64_t revoked_at; /* 0 while valid */
};

/*
 * Store `access` and `refresh` (may be NULL) in one transaction; with
 * `rotate_from` (the hash of the refresh token being exchanged, or
 * NULL) that token is revoked in the same transaction, and ERR_GONE
 * returned (nothing stored) when it was revoked already.
 */
int store_sandbox_tokens_issue(struct store *s,
                               const struct store_sandbox_token *access,
                               const struct store_sandbox_token *refresh,
                               const unsigned char *rotate_from, int64_t now,
                               struct err *e);

/* By hash; ERR_NOTFOUND when unknown (revoked and expired ones are
 * returned: the caller checks). */
int store_sandbox_token_get(struct store *s, const unsigned char hash[32],
                            struct arena *a, struct store_sandbox_token *out,
                            struct err *e);

/* Revoke the token `hash` and, for a refresh token, every token of its
 * family. Unknown tokens are not an error (RFC 7009): 0. */
int store_sandbox_token_revoke(struct store *s, const unsigned char hash[32],
                               int64_t now, struct err *e);

#endif
