/*
 * test_store_deliveries.c - the delivery queue in the store: cursors
 * over the event log, heads per user, claims and leases, outcomes,
 * replays.
 *
 * Events and destinations are written behind the store's back by a
 * second sqlite3 connection ("side"), as any writer of the events table
 * would: what waits for delivery follows from the log alone.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/crypto.h"
#include "store/store.h"
#include "tap.h"

#define SEC 1000000LL
#define T0  (1700000000LL * SEC)

static sqlite3 *side;

static void
side_exec(const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(side, sql, NULL, NULL, &msg) != SQLITE_OK) {
        printf("# side: %s: %s\n", sql, msg);
        sqlite3_free(msg);
    }
}

static long long
side_int(const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(side, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# side_int %s: %s\n", sql, sqlite3_errmsg(side));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static void
add_destination(const char *id, const char *dev)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "INSERT INTO destinations (id, dev_id, kind, url, conf, secret,"
             " created_at, cursor_seq) VALUES ('%s', '%s', 'webhook',"
             " 'https://example.invalid/', x'00', x'00', %lld,"
             " (SELECT coalesce(max(seq), 0) FROM events))",
             id, dev, T0);
    side_exec(sql);
}

static void
add_user(const char *id, const char *dev)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "INSERT INTO users (id, dev_id, provider, provider_user_id,"
             " state, active, created_at, updated_at) VALUES ('%s', '%s',"
             " 'SANDBOX', '%s', 'connected', 1, %lld, %lld)",
             id, dev, id, T0, T0);
    side_exec(sql);
}

static void
add_event(const char *id, const char *dev, const char *user, const char *type,
          long long at)
{
    char sql[512];
    char u[64];

    if (user != NULL) {
        snprintf(u, sizeof(u), "'%s'", user);
    } else {
        snprintf(u, sizeof(u), "NULL");
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO events (id, dev_id, user_id, type, body,"
             " created_at) VALUES ('%s', '%s', %s, '%s', '{\"type\":\"%s\"}',"
             " %lld)",
             id, dev, u, type, type, at);
    side_exec(sql);
}

/* ---- synchronous settle ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int settled_rc;
static int settled_done;

static void
on_settled(void *arg, int rc, const struct err *e)
{
    (void)arg;
    (void)e;
    pthread_mutex_lock(&lock);
    settled_rc = rc;
    settled_done = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* The test's engine: fresh deliveries claimed and not yet settled, and
 * how far each destination's claims have read the log. */
static struct {
    int64_t seq;
    char key[64];
    char dest[16];
    int followers;
} fly[64];
static size_t nfly;
static struct {
    char dest[16];
    int64_t scan;
} scans[16];
static size_t nscans;

static int
view_busy(void *arg, int64_t seq, const char *key, int64_t *at)
{
    const char *dest = arg;
    size_t i = 0;
    int busy = 0;

    *at = 0;
    for (i = 0; i < nfly; i++) {
        if (strcmp(fly[i].dest, dest) != 0) {
            continue;
        }
        if (fly[i].seq == seq) {
            return 2;
        }
        if (strcmp(fly[i].key, key) == 0) {
            busy = 1;
            *at = fly[i].seq > *at ? fly[i].seq : *at;
        }
    }
    return busy;
}

static int64_t
view_lowest(void *arg)
{
    const char *dest = arg;
    int64_t low = INT64_MAX;
    size_t i = 0;

    for (i = 0; i < nfly; i++) {
        if (strcmp(fly[i].dest, dest) == 0 && fly[i].seq < low) {
            low = fly[i].seq;
        }
    }
    return low;
}

static void
view_parked(void *arg, const char *key)
{
    const char *dest = arg;
    size_t i = 0;

    for (i = 0; i < nfly; i++) {
        if (strcmp(fly[i].dest, dest) == 0 && strcmp(fly[i].key, key) == 0) {
            fly[i].followers = 1;
        }
    }
}

/* Whether an event queued behind the fresh one at `seq` (NULL: none in
 * flight). */
static const int *
followers_of(int64_t seq)
{
    size_t i = 0;

    for (i = 0; i < nfly; i++) {
        if (fly[i].seq == seq) {
            return &fly[i].followers;
        }
    }
    return NULL;
}

static int64_t *
scan_of(const char *dest)
{
    size_t i = 0;

    for (i = 0; i < nscans; i++) {
        if (strcmp(scans[i].dest, dest) == 0) {
            return &scans[i].scan;
        }
    }
    snprintf(scans[nscans].dest, sizeof(scans[nscans].dest), "%s", dest);
    scans[nscans].scan = -1;
    return &scans[nscans++].scan;
}

static void
fly_drop(int64_t seq)
{
    size_t i = 0;

    for (i = 0; i < nfly; i++) {
        if (fly[i].seq == seq) {
            fly[i] = fly[--nfly];
            return;
        }
    }
}

/* An outcome for `d` (claimed by `owner`). */
static void
outcome(struct store_delivery_outcome *o, const struct store_delivery *d,
        const char *owner, const char *state, int64_t at, int64_t next,
        long status, const char *error)
{
    memset(o, 0, sizeof(*o));
    o->id = d->id;
    o->event_seq = d->event_seq;
    o->event_id = d->event_id;
    o->destination_id = d->destination_id;
    o->order_key = d->user_id != NULL ? d->user_id : d->event_id;
    o->lane = d->lane;
    o->event_created_at = d->event_created_at;
    o->followers = d->id == 0 ? followers_of(d->event_seq) : NULL;
    o->owner = owner;
    o->state = state;
    o->at = at;
    o->next_attempt_at = next;
    o->latency_us = 1234;
    o->status = status;
    o->error = error;
}

/* Write the outcomes `o` and wait: the write's rc. */
static int
settle_write(struct store *s, struct store_delivery_outcome *o, size_t n)
{
    int rc = 0;

    settled_done = 0;
    if (store_delivery_settle_async(s, o, n, on_settled, NULL) != 0) {
        return -1;
    }
    pthread_mutex_lock(&lock);
    while (!settled_done) {
        pthread_cond_wait(&cond, &lock);
    }
    rc = settled_rc;
    pthread_mutex_unlock(&lock);
    return rc;
}

/* Write the outcomes `o`, as the engine hears of them: out of flight. */
static int
settle_all(struct store *s, struct store_delivery_outcome *o, size_t n)
{
    size_t i = 0;
    int rc = settle_write(s, o, n);

    for (i = 0; i < n; i++) {
        if (o[i].event_seq != 0) {
            fly_drop(o[i].event_seq);
        }
    }
    return rc;
}

/* o.cancelled of the last settle() */
static int last_cancelled;

/* Settle `d` alone: the write's rc, else this delivery's own. */
static int
settle(struct store *s, const struct store_delivery *d, const char *owner,
       const char *state, int64_t at, int64_t next, long status,
       const char *error)
{
    struct store_delivery_outcome o;
    int rc = 0;

    outcome(&o, d, owner, state, at, next, status, error);
    o.cancelled = -1;
    rc = settle_all(s, &o, 1);
    last_cancelled = o.cancelled;
    return rc != 0 ? rc : o.rc;
}

/* view.held_until and view.taken of the last claim_for() that held its
 * destination */
static int64_t last_held_until;
static int last_taken;

/* Claim for `dest` and return how many, as the engine would. */
static size_t
claim_for(struct store *s, const char *dest, int64_t now, int64_t lease,
          const char *owner, struct arena *a, struct store_delivery **got)
{
    struct store_claim_view v;
    size_t n = 0;
    size_t i = 0;
    struct err e;

    err_clear(&e);
    memset(&v, 0, sizeof(v));
    v.busy = view_busy;
    v.lowest = view_lowest;
    v.parked = view_parked;
    v.arg = (void *)dest;
    v.scan = *scan_of(dest);
    if (store_delivery_claim(s, dest, now, lease, owner, 10, &v, a, got, &n,
                             &e) != 0) {
        printf("# claim: %s\n", e.msg);
        return 0;
    }
    *scan_of(dest) = v.held ? v.scan : -1;
    if (v.held) {
        last_held_until = v.held_until;
        last_taken = v.taken;
    }
    for (i = 0; i < n; i++) {
        if ((*got)[i].id == 0) {
            fly[nfly].seq = (*got)[i].event_seq;
            snprintf(fly[nfly].key, sizeof(fly[nfly].key), "%s",
                     (*got)[i].user_id != NULL ? (*got)[i].user_id
                                               : (*got)[i].event_id);
            snprintf(fly[nfly].dest, sizeof(fly[nfly].dest), "%s", dest);
            fly[nfly].followers = (*got)[i].followers;
            nfly++;
        }
    }
    return n;
}

static size_t
claim(struct store *s, const char *dest, int64_t now, const char *owner,
      struct arena *a, struct store_delivery **got)
{
    return claim_for(s, dest, now, now + 30 * SEC, owner, a, got);
}

static const struct store_delivery *
find(struct store_delivery *got, size_t n, const char *event_id)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(got[i].event_id, event_id) == 0) {
            return &got[i];
        }
    }
    return NULL;
}

static void
test_cursor_and_heads(struct store *s)
{
    struct arena a;
    struct store_delivery *got = NULL;
    struct store_delivery d1;
    struct store_delivery d3;
    size_t n = 0;
    struct err e;
    struct store_delivery_attempt *att = NULL;
    struct store_delivery_counts counts;
    size_t natt = 0;

    arena_init(&a, 1 << 20);
    err_clear(&e);
    add_destination("D1", "dev_a");
    add_destination("D2", "dev_a");
    add_destination("DB", "dev_b");
    add_user("u1", "dev_a");
    add_user("u2", "dev_a");
    add_event("e1", "dev_a", "u1", "activity", T0 + 1);
    add_event("e2", "dev_a", "u1", "sleep", T0 + 2);
    add_event("e3", "dev_a", "u2", "activity", T0 + 3);
    add_event("e4", "dev_a", NULL, "auth", T0 + 4);
    is_int((int)side_int("SELECT count(*) FROM deliveries"), 0,
           "new events wait after the cursors, with no rows");
    is_int(store_delivery_counts(s, &counts, &e), 0, "counts");
    is_int((int)counts.pending, 8,
           "... four events to two destinations: eight pending");

    n = claim(s, "D1", T0 + 10, "w1", &a, &got);
    is_int((int)n, 3, "claim: the first event of each key of D1");
    ok(n == 3 && strcmp(got[0].event_id, "e4") == 0 && got[0].id == 0,
       "an auth event comes before data events, read from the log");
    ok(find(got, n, "e2") == NULL, "u1's second event waits for its first");
    is_int((int)side_int("SELECT count(*) FROM deliveries WHERE"
                         " destination_id = 'D1' AND event_id = 'e2'"
                         " AND state = 'pending' AND head = 0"),
           1, "... in a row behind it, not yet the head");
    if (find(got, n, "e1") == NULL || find(got, n, "e3") == NULL) {
        goto out;
    }
    d1 = *find(got, n, "e1");
    d3 = *find(got, n, "e3");
    ok(d1.body != NULL && strcmp(d1.body, "{\"type\":\"activity\"}") == 0,
       "the claim carries the event's bytes");
    settle(s, &got[0], "w1", "delivered", T0 + 10, T0 + 10, 200, NULL);
    is_int((int)claim(s, "D1", T0 + 11, "w1", &a, &got), 0,
           "nothing more is due while the first ones are in flight");

    is_int(settle(s, &d1, "w1", "delivered", T0 + 12, T0 + 12, 204, NULL), 0,
           "e1 delivered");
    n = claim(s, "D1", T0 + 13, "w1", &a, &got);
    ok(n == 1 && strcmp(got[0].event_id, "e2") == 0 && got[0].id != 0,
       "then u1's next event is claimable, from its row");
    if (n == 1) {
        settle(s, &got[0], "w1", "delivered", T0 + 2 * SEC, T0 + 2 * SEC, 200,
               NULL);
    }
    is_int((int)side_int("SELECT last_webhook_update = 1700000002000000"
                         " FROM users WHERE id = 'u1'"),
           1, "u1's last webhook update: when its latest was delivered");

    is_int(settle(s, &d3, "w1", "pending", T0 + 12, T0 + 100 * SEC, 500,
                  "HTTP 500"),
           0, "e3 failed: to be retried later");
    is_int((int)side_int("SELECT last_webhook_update IS NULL FROM users"
                         " WHERE id = 'u2'"),
           1, "a failed attempt is no webhook update");
    is_int((int)claim(s, "D1", T0 + 50 * SEC, "w1", &a, &got), 0,
           "not before its time");
    ok(side_int("SELECT cursor_seq FROM destinations WHERE id = 'D1'") ==
           side_int("SELECT seq FROM events WHERE id = 'e4'"),
       "the cursor has passed every event with an outcome");
    n = claim(s, "D1", T0 + 101 * SEC, "w1", &a, &got);
    ok(n == 1 && strcmp(got[0].event_id, "e3") == 0 && got[0].retry == 1 &&
           got[0].attempts == 1,
       "at its time, with retry 1 and one attempt");
    if (n != 1) {
        goto out;
    }
    d3 = got[0];
    is_int(settle(s, &d3, "w2", "dead", T0 + 102 * SEC, 0, 500, "x"),
           ERR_NOTFOUND, "another owner cannot settle the claim");
    is_int(settle(s, &d3, "w1", "dead", T0 + 102 * SEC, T0 + 102 * SEC, 503,
                  "HTTP 503"),
           0, "e3 dead");
    if (store_delivery_attempts(s, d3.id, &a, &att, &natt, &e) != 0) {
        printf("# attempts: %s\n", e.msg);
    }
    ok(natt == 2 && att[0].n == 1 && att[0].status == 500 &&
           strcmp(att[0].error, "HTTP 500") == 0 && att[1].n == 2 &&
           att[1].status == 503 && att[1].latency_us == 1234,
       "both attempts are recorded, in order, with status and error");

    {
        int64_t q = 0;

        is_int(
            store_delivery_replay_dead(s, "dev_b", 0, T0 + 200 * SEC, &q, &e),
            0, "replaying another developer's dead: nothing");
        is_int((int)q, 0, "... none queued");
        is_int(store_delivery_replay_dead(s, NULL, 0, T0 + 200 * SEC, &q, &e),
               0, "replay the dead ones");
        ok(q >= 1, "... e3 is queued again");
    }
    n = claim(s, "D1", T0 + 201 * SEC, "w1", &a, &got);
    ok(n == 1 && got[0].retry == 0 && got[0].attempts == 2,
       "a replayed delivery starts a fresh retry count");
    if (n == 1) {
        /* given back untried: no attempt is recorded */
        is_int(settle(s, &got[0], "w1", NULL, T0 + 202 * SEC, 0, 0, NULL), 0,
               "released untried");
        is_int(
            (int)side_int("SELECT attempts FROM deliveries"
                          " WHERE event_id = 'e3' AND destination_id = 'D1'"),
            2, "... and no attempt counted");
    }
out:
    arena_release(&a);
}

/* A destination is one owner's at a time; a new owner reads the log
 * again from the cursor, and an event is recorded once. */
static void
test_leases(struct store *s)
{
    struct arena a;
    struct store_delivery *got = NULL;
    struct store_delivery first;
    size_t n = 0;

    arena_init(&a, 1 << 20);
    add_destination("L1", "dev_c");
    add_event("l1", "dev_c", NULL, "auth", T0);
    n = claim_for(s, "L1", T0 + SEC, T0 + 5 * SEC, "dead-worker", &a, &got);
    is_int((int)n, 1, "a worker claims l1, holding L1 for 5 s");
    if (n != 1) {
        goto out;
    }
    first = got[0];
    nfly = 0; /* the worker dies */
    *scan_of("L1") = -1;
    is_int((int)claim(s, "L1", T0 + 3 * SEC, "w2", &a, &got), 0,
           "while the lease runs nobody else gets the destination");
    n = claim(s, "L1", T0 + 6 * SEC, "w2", &a, &got);
    ok(n == 1 && strcmp(got[0].event_id, "l1") == 0,
       "after the lease the next worker reads l1 again");
    is_int(last_taken, 1, "... and is told it took the lease");
    if (n == 1) {
        is_int(
            settle(s, &got[0], "w2", "delivered", T0 + 7 * SEC, 0, 200, NULL),
            0, "the new owner's outcome stands");
        is_int(settle(s, &first, "dead-worker", "delivered", T0 + 7 * SEC, 0,
                      200, NULL),
               ERR_NOTFOUND, "the first worker's late outcome is refused");
        is_int((int)side_int("SELECT count(*) FROM deliveries"
                             " WHERE destination_id = 'L1' AND attempts = 1"
                             " AND state = 'delivered'"),
               1, "... one delivery, of one attempt");
        claim(s, "L1", T0 + 8 * SEC, "w2", &a, &got);
        is_int(last_taken, 0, "a claim under its own lease took nothing new");
        ok(side_int("SELECT cursor_seq FROM destinations WHERE id = 'L1'") ==
               side_int("SELECT seq FROM events WHERE id = 'l1'"),
           "the next claim moves the cursor past l1");
        claim(s, "L1", T0 + 9 * SEC, "w2", &a, &got);
        is_int((int)side_int("SELECT lease_until = 1700000038000000"
                             " FROM destinations WHERE id = 'L1'"),
               1, "an idle claim with most of the lease left writes nothing");
        ok(last_held_until == 1700000038000000LL,
           "... and tells when the lease it kept ends");
        claim(s, "L1", T0 + 25 * SEC, "w2", &a, &got);
        is_int((int)side_int("SELECT lease_until = 1700000055000000"
                             " FROM destinations WHERE id = 'L1'"),
               1, "... and renews it when less than half is left");
        ok(last_held_until == 1700000055000000LL,
           "... and tells when the renewed lease ends");
    }
out:
    arena_release(&a);
}

/* Several outcomes in one write: one whose event has a row already
 * (another owner's) is refused alone, the others are recorded and make
 * their users' next ones claimable. */
static void
test_settle_batch(struct store *s)
{
    struct arena a;
    struct store_delivery *got = NULL;
    struct store_delivery_outcome o[3];
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    arena_init(&a, 1 << 20);
    add_destination("B1", "dev_d");
    add_user("bu1", "dev_d");
    add_user("bu2", "dev_d");
    add_user("bu3", "dev_d");
    add_event("b1", "dev_d", "bu1", "activity", T0 + 1);
    add_event("b2", "dev_d", "bu2", "activity", T0 + 2);
    add_event("b3", "dev_d", "bu3", "activity", T0 + 3);
    add_event("b4", "dev_d", "bu1", "sleep", T0 + 4);
    add_event("b5", "dev_d", "bu2", "sleep", T0 + 5);
    n = claim(s, "B1", T0 + 10, "w1", &a, &got);
    is_int((int)n, 3, "batch: the three users' first events are claimed");
    if (n != 3) {
        goto out;
    }
    ok(strcmp(got[0].event_id, "b1") == 0 &&
           strcmp(got[1].event_id, "b2") == 0 &&
           strcmp(got[2].event_id, "b3") == 0,
       "... oldest first");
    add_event("b6", "dev_d", "bu3", "sleep", T0 + 6);
    {
        struct store_delivery *more = NULL;

        is_int((int)claim(s, "B1", T0 + 10, "w1", &a, &more), 0,
               "an event whose user's first is in flight waits");
    }
    for (i = 0; i < 3; i++) {
        outcome(&o[i], &got[i], "w1", "delivered", T0 + 11, T0 + 11, 204, NULL);
        o[i].rc = 99;
    }
    ok(o[2].followers != NULL && *o[2].followers == 1,
       "... and the engine is told that one waits behind b3");
    side_exec("INSERT INTO deliveries (event_seq, event_id, destination_id,"
              " order_key, lane, head, state, next_attempt_at, created_at,"
              " updated_at) SELECT seq, id, 'B1', user_id, 1, 0, 'delivered',"
              " 0, 0, 0 FROM events WHERE id = 'b2'");
    rc = settle_all(s, o, 3);
    is_int(rc, 0, "three outcomes go in one write, which commits");
    ok(o[0].rc == 0 && o[2].rc == 0, "... the two of w1 are recorded");
    is_int(o[1].rc, ERR_NOTFOUND, "... the one recorded already is refused");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE destination_id = 'B1' AND attempts = 1"),
           2, "two deliveries of one attempt, none for the refused one");
    {
        struct store_delivery_attempt *att = NULL;
        size_t natt = 0;
        struct err e;

        store_delivery_attempts(s, o[0].id, &a, &att, &natt, &e);
        ok(natt == 1 && att[0].n == 1 && att[0].status == 204 &&
               att[0].latency_us == 1234 && att[0].at == T0 + 11,
           "a first attempt that delivered is listed from its row");
        is_int((int)side_int("SELECT count(*) FROM delivery_attempts t"
                             " JOIN deliveries d ON d.id = t.delivery_id"
                             " WHERE d.destination_id = 'B1'"),
               0, "... which is all it takes");
    }
    n = claim(s, "B1", T0 + 12, "w1", &a, &got);
    ok(n == 2 && find(got, n, "b4") != NULL && find(got, n, "b6") != NULL,
       "bu1's and bu3's next are claimable");
out:
    arena_release(&a);
}

/* The store's writer runs several writes in one transaction: an
 * attempt's outcome can be written before a claim in the same one, while
 * the engine still counts it in flight. The user's next event must not
 * wait behind it for ever. */
static void
test_outcome_not_heard(struct store *s)
{
    struct arena a;
    struct store_delivery *got = NULL;
    struct store_delivery_outcome o;
    size_t n = 0;

    arena_init(&a, 1 << 20);
    add_destination("H1", "dev_h");
    add_user("hu1", "dev_h");
    add_event("h1", "dev_h", "hu1", "activity", T0 + 1);
    n = claim(s, "H1", T0 + 2, "w1", &a, &got);
    ok(n == 1 && strcmp(got[0].event_id, "h1") == 0, "h1 is claimed");
    if (n != 1) {
        goto out;
    }
    /* written, but still in the engine's view */
    outcome(&o, &got[0], "w1", "delivered", T0 + 3, T0 + 3, 204, NULL);
    settle_write(s, &o, 1);
    add_event("h2", "dev_h", "hu1", "sleep", T0 + 4);
    n = claim(s, "H1", T0 + 5, "w1", &a, &got);
    ok(n == 1 && strcmp(got[0].event_id, "h2") == 0 && got[0].id == 0,
       "the next event goes out: its predecessor's outcome is written");
    is_int((int)side_int("SELECT count(*) FROM deliveries WHERE"
                         " destination_id = 'H1' AND state = 'pending'"),
           0, "... and no row waits for a head that will not come");
    nfly = 0;
out:
    arena_release(&a);
}

static void
test_replay_event(struct store *s)
{
    struct arena a;
    struct store_delivery *got = NULL;
    struct store_event ev;
    int64_t q = 0;
    size_t n = 0;
    struct err e;

    arena_init(&a, 1 << 20);
    err_clear(&e);
    is_int(store_event_get(s, "dev_b", "e1", &a, &ev, &e), ERR_NOTFOUND,
           "another developer's event is not found");
    is_int(store_event_get(s, "dev_a", "e1", &a, &ev, &e), 0, "event_get");
    ok(strcmp(ev.type, "activity") == 0 && ev.user_id != NULL &&
           strcmp(ev.user_id, "u1") == 0,
       "... with its fields");
    add_destination("D3", "dev_a");
    is_int(store_event_replay(s, "dev_a", "e1", T0 + 300 * SEC, &q, &e), 0,
           "replay e1");
    /* D1 delivered -> requeued; D2 still queued -> left; D3 -> added */
    is_int((int)q, 2, "... requeues the delivered one and adds D3's");
    {
        struct store_delivery_attempt *att = NULL;
        size_t natt = 0;
        int64_t id = side_int("SELECT id FROM deliveries WHERE"
                              " destination_id = 'D1' AND event_id = 'e1'");

        store_delivery_attempts(s, id, &a, &att, &natt, &e);
        ok(natt == 1 && att[0].n == 1 && att[0].status == 204 &&
               att[0].at == T0 + 12,
           "... keeping its first attempt, now a row of its own");
        is_int((int)side_int("SELECT count(*) FROM delivery_attempts"
                             " WHERE delivery_id = (SELECT id FROM deliveries"
                             " WHERE destination_id = 'D1'"
                             " AND event_id = 'e1')"),
               1, "... in delivery_attempts");
    }
    n = claim(s, "D3", T0 + 301 * SEC, "w1", &a, &got);
    ok(find(got, n, "e1") != NULL,
       "a destination added later receives the replayed event");
    is_int(store_event_replay(s, NULL, "nope", T0, &q, &e), ERR_NOTFOUND,
           "replaying an unknown event: not found");

    side_exec("UPDATE destinations SET removed_at = 1 WHERE id = 'D3'");
    add_event("e5", "dev_a", "u2", "activity", T0 + 400 * SEC);
    {
        struct store_delivery_query dq;
        struct store_delivery *list = NULL;

        memset(&dq, 0, sizeof(dq));
        dq.event_id = "e5";
        store_delivery_list(s, &dq, &a, &list, &n, &e);
        ok(n == 2 && strcmp(list[0].state, "pending") == 0 &&
               strcmp(list[0].destination_id, "D3") != 0 &&
               strcmp(list[1].destination_id, "D3") != 0,
           "a removed destination gets no new event");
    }
    side_exec("UPDATE deliveries SET state = 'dead', head = 0"
              " WHERE destination_id = 'D3'");
    is_int(store_delivery_replay_dead(s, "dev_a", 0, T0 + 401 * SEC, &q, &e), 0,
           "replaying the dead ones");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE destination_id = 'D3' AND state != 'dead'"),
           0, "... leaves a removed destination's dead");
    {
        struct store_delivery_counts c;

        is_int(store_delivery_counts(s, &c, &e), 0, "counts");
        ok(c.delivered >= 3 && c.pending >= 1, "... by state");
    }
    {
        struct store_delivery_query dq;
        struct store_delivery *list = NULL;

        memset(&dq, 0, sizeof(dq));
        dq.dev_id = "dev_a";
        dq.event_id = "e1";
        is_int(store_delivery_list(s, &dq, &a, &list, &n, &e), 0, "list");
        is_int((int)n, 3, "... e1 has three deliveries now");
        dq.dev_id = "dev_b";
        store_delivery_list(s, &dq, &a, &list, &n, &e);
        is_int((int)n, 0, "... none for another developer");
    }
    arena_release(&a);
}

/* A deauthorized user's data is neither stored nor announced. */
/*
 * A destination removed while attempts read from the log are in
 * flight: an outcome that asks for a retry, heard after the removal,
 * leaves a cancelled row (not a pending one that nothing would ever
 * claim); a delivered one is recorded as delivered.
 */
static void
test_removed_in_flight(struct store *s)
{
    struct store_delivery *got = NULL;
    const struct store_delivery *d1 = NULL;
    const struct store_delivery *d2 = NULL;
    const struct store_delivery *d3 = NULL;
    struct arena a;
    size_t n = 0;
    struct err e;

    err_clear(&e);
    arena_init(&a, 1 << 20);
    side_exec("INSERT INTO developers (id, name, created_at)"
              " VALUES ('dev_r', 'r', 0)");
    add_destination("dest_rm", "dev_r");
    add_user("ur1", "dev_r");
    add_user("ur2", "dev_r");
    add_user("ur3", "dev_r");
    add_event("er1", "dev_r", "ur1", "activity", T0);
    add_event("er2", "dev_r", "ur2", "activity", T0);
    add_event("er3", "dev_r", "ur3", "activity", T0);
    n = claim(s, "dest_rm", T0, "owner-r", &a, &got);
    d1 = find(got, n, "er1");
    d2 = find(got, n, "er2");
    d3 = find(got, n, "er3");
    ok(n == 3 && d1 != NULL && d2 != NULL && d3 != NULL && d1->id == 0 &&
           d2->id == 0 && d3->id == 0,
       "removed in flight: the events read from the log");
    is_int(store_destination_remove(s, NULL, "dest_rm", T0 + 1, &e), 0,
           "removed in flight: the destination is removed");
    if (d1 == NULL || d2 == NULL || d3 == NULL) {
        arena_release(&a);
        return;
    }
    is_int(settle(s, d1, "owner-r", "pending", T0 + 2, T0 + 100 * SEC, 500,
                  "HTTP 500"),
           0, "removed in flight: a retry outcome is taken");
    is_int(last_cancelled, 1, "... and said to be cancelled");
    is_int(settle(s, d2, "owner-r", "delivered", T0 + 2, T0 + 2, 204, NULL), 0,
           "removed in flight: a delivered outcome is taken");
    is_int(last_cancelled, 0, "... and not said to be cancelled");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE destination_id = 'dest_rm'"
                         " AND state IN ('pending', 'in_flight')"),
           0, "removed in flight: nothing left queued");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'er1' AND state = 'cancelled'"
                         " AND head = 0 AND attempts = 1"),
           1, "removed in flight: the retry is cancelled, its attempt kept");
    is_int((int)side_int("SELECT count(*) FROM delivery_attempts t"
                         " JOIN deliveries d ON d.id = t.delivery_id"
                         " WHERE d.event_id = 'er1' AND t.status = 500"),
           1, "removed in flight: the failed attempt is listed");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'er2' AND state = 'delivered'"),
           1, "removed in flight: the delivered one stays delivered");
    is_int(settle(s, d3, "owner-r", "dead", T0 + 2, T0 + 2, 500, "HTTP 500"), 0,
           "removed in flight: a last failure is taken");
    is_int(last_cancelled, 1, "... and said to be cancelled");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'er3' AND state = 'cancelled'"
                         " AND attempts = 1"),
           1, "removed in flight: ... and cancelled, not dead");
    arena_release(&a);
}

/*
 * A destination removed while retries claimed from the queue are in
 * flight: the removal cancels them, but the outcome of the attempt
 * still counts: a delivered one makes the row delivered (the receiver
 * got it), a failed one is listed and the row stays cancelled. Another
 * owner's outcome is still refused.
 */
static void
test_removed_retry_in_flight(struct store *s)
{
    struct store_delivery *got = NULL;
    const struct store_delivery *q1 = NULL;
    const struct store_delivery *q2 = NULL;
    const struct store_delivery *q3 = NULL;
    struct arena a;
    size_t n = 0;
    size_t i = 0;
    struct err e;

    err_clear(&e);
    arena_init(&a, 1 << 20);
    side_exec("INSERT INTO developers (id, name, created_at)"
              " VALUES ('dev_q', 'q', 0)");
    add_destination("dest_rq", "dev_q");
    add_user("uq1", "dev_q");
    add_user("uq2", "dev_q");
    add_user("uq3", "dev_q");
    add_event("eq1", "dev_q", "uq1", "activity", T0);
    add_event("eq2", "dev_q", "uq2", "activity", T0);
    add_event("eq3", "dev_q", "uq3", "activity", T0);
    n = claim(s, "dest_rq", T0, "owner-q", &a, &got);
    for (i = 0; i < n; i++) {
        settle(s, &got[i], "owner-q", "pending", T0 + 1, T0 + 2 * SEC, 500,
               "HTTP 500");
    }
    n = claim(s, "dest_rq", T0 + 3 * SEC, "owner-q", &a, &got);
    q1 = find(got, n, "eq1");
    q2 = find(got, n, "eq2");
    q3 = find(got, n, "eq3");
    ok(n == 3 && q1 != NULL && q2 != NULL && q3 != NULL && q1->id != 0 &&
           q2->id != 0 && q3->id != 0,
       "retry removed in flight: the retries are claimed from the queue");
    is_int(store_destination_remove(s, NULL, "dest_rq", T0 + 4 * SEC, &e), 0,
           "retry removed in flight: the destination is removed");
    if (q1 == NULL || q2 == NULL || q3 == NULL) {
        arena_release(&a);
        return;
    }
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE destination_id = 'dest_rq'"
                         " AND state = 'cancelled'"),
           3, "retry removed in flight: the removal cancels them");
    is_int(settle(s, q1, "owner-q", "delivered", T0 + 5 * SEC, 0, 204, NULL), 0,
           "retry removed in flight: a delivered outcome is taken");
    is_int(last_cancelled, 0, "... and not said to be cancelled");
    is_int(settle(s, q2, "owner-q", "pending", T0 + 5 * SEC, T0 + 60 * SEC, 500,
                  "HTTP 500"),
           0, "retry removed in flight: a failed outcome is taken");
    is_int(last_cancelled, 1, "... and said to be cancelled");
    is_int(settle(s, q3, "another", "delivered", T0 + 5 * SEC, 0, 204, NULL),
           ERR_NOTFOUND, "retry removed in flight: another owner's refused");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'eq1' AND state = 'delivered'"
                         " AND attempts = 2 AND last_status = 204"
                         " AND lease_owner IS NULL"),
           1, "retry removed in flight: delivered, with both attempts");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'eq2' AND state = 'cancelled'"
                         " AND head = 0 AND attempts = 2"
                         " AND lease_owner IS NULL"),
           1, "retry removed in flight: the failed one stays cancelled");
    is_int((int)side_int("SELECT count(*) FROM delivery_attempts t"
                         " JOIN deliveries d ON d.id = t.delivery_id"
                         " WHERE d.event_id IN ('eq1', 'eq2')"),
           4, "retry removed in flight: every attempt is listed");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'eq3' AND state = 'cancelled'"
                         " AND attempts = 1"),
           1, "retry removed in flight: the refused one is unchanged");
    is_int(settle(s, q3, "owner-q", NULL, T0 + 6 * SEC, 0, 0, NULL), 0,
           "retry removed in flight: its owner gives one back untried");
    is_int((int)side_int("SELECT count(*) FROM deliveries"
                         " WHERE event_id = 'eq3' AND state = 'cancelled'"
                         " AND attempts = 1 AND lease_owner IS NULL"),
           1, "... which stays cancelled, without an owner");
    arena_release(&a);
}

static void
test_gone(struct store *s)
{
    struct store_event ev;
    struct store_records_put p;
    struct store_record r;
    struct err e;

    err_clear(&e);
    add_user("ug", "dev_a");
    side_exec("UPDATE users SET state = 'deauthorized' WHERE id = 'ug'");
    memset(&ev, 0, sizeof(ev));
    ev.id = "eg1";
    ev.dev_id = "dev_a";
    ev.user_id = "ug";
    ev.type = "large_request_sending";
    ev.body = "{}";
    ev.created_at = T0;
    is_int(store_event_add(s, &ev, &e), ERR_GONE,
           "an event of a deauthorized user is refused");
    memset(&r, 0, sizeof(r));
    r.user_id = "ug";
    r.type = "sleep";
    r.key = "k1";
    r.data = "{}";
    memset(&p, 0, sizeof(p));
    p.user_id = "ug";
    p.records = &r;
    p.n = 1;
    p.now = T0;
    is_int(store_records_put(s, &p, &e), ERR_GONE, "... and so are records");
    is_int((int)side_int("SELECT count(*) FROM records WHERE user_id = 'ug'"),
           0, "... nothing stored");
    is_int((int)side_int("SELECT count(*) FROM events WHERE user_id = 'ug'"), 0,
           "... nothing announced");
}

/* What a put of `data` under key `key` of user "ua" in `mode` reports:
 * the change it set, and how many records reached compose. */
struct put_seen {
    int change;
    int composed;
};

static int
count_composed(void *arg, const struct store_record *changed, size_t n,
               const struct store_event **events, size_t *nevents)
{
    (void)changed;
    ((struct put_seen *)arg)->composed += (int)n;
    *events = NULL;
    *nevents = 0;
    return 0;
}

static struct put_seen
put_one(struct store *s, const char *key, const char *data,
        enum store_put_announce mode)
{
    struct store_records_put p;
    struct store_record r;
    struct put_seen seen = {-1, 0};
    struct err e;

    err_clear(&e);
    memset(&r, 0, sizeof(r));
    r.user_id = "ua";
    r.type = "sleep";
    r.key = key;
    r.start_at = T0;
    r.end_at = T0 + 1;
    r.data = data;
    memset(&p, 0, sizeof(p));
    p.user_id = "ua";
    p.records = &r;
    p.n = 1;
    p.compose = count_composed;
    p.compose_arg = &seen;
    p.announce = mode;
    p.now = T0;
    if (store_records_put(s, &p, &e) == 0) {
        seen.change = r.change;
    } else {
        printf("# put: %s\n", e.msg);
    }
    return seen;
}

static long long
announced_of(const char *key)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
             "SELECT announced FROM records WHERE user_id = 'ua'"
             " AND type = 'sleep' AND key = '%s'",
             key);
    return side_int(sql);
}

/* Records stored to answer a request are announced by the next
 * announcing put that sees them, once; sent ones never again. */
static void
test_announce(struct store *s)
{
    struct put_seen v;

    add_user("ua", "dev_a");
    v = put_one(s, "q", "{\"v\":1}", STORE_PUT_QUIET);
    is_int(v.change, 1, "quiet: a new record is stored (change 1)");
    is_int(v.composed, 0, "... and not announced");
    is_int((int)announced_of("q"), 0, "... marked never announced");
    v = put_one(s, "q", "{\"v\":2}", STORE_PUT_QUIET);
    is_int(v.change, 2, "quiet again, changed: change 2");
    is_int((int)announced_of("q"), 0, "... still never announced");
    v = put_one(s, "q", "{\"v\":2}", STORE_PUT_ANNOUNCE);
    is_int(v.change, 1, "then announcing the same version: new (1)");
    is_int(v.composed, 1, "... composed once");
    is_int((int)announced_of("q"), 1, "... and marked announced");
    v = put_one(s, "q", "{\"v\":2}", STORE_PUT_ANNOUNCE);
    is_int(v.change, 0, "announcing it again: unchanged (0)");
    is_int(v.composed, 0, "... nothing composed");

    v = put_one(s, "q", "{\"v\":3}", STORE_PUT_QUIET);
    is_int(v.change, 2, "a quiet change of an announced record");
    is_int((int)announced_of("q"), 2, "... marked: an older one announced");
    v = put_one(s, "q", "{\"v\":3}", STORE_PUT_ANNOUNCE);
    is_int(v.change, 2, "announced next as an update (2)");
    is_int(v.composed, 1, "... composed once");
    is_int((int)announced_of("q"), 1, "... announced");
    v = put_one(s, "q", "{\"v\":4}", STORE_PUT_ANNOUNCE);
    is_int(v.change, 2, "an announcing change: update (2)");
    is_int(v.composed, 1, "... composed");

    v = put_one(s, "s", "{\"v\":1}", STORE_PUT_QUIET);
    {
        struct store_record sent[2];
        struct store_request_sent rs;
        struct store_event ev;
        struct arena a;
        struct err e;

        err_clear(&e);
        arena_init(&a, 1 << 20);
        memset(sent, 0, sizeof(sent));
        sent[0].user_id = "ua";
        sent[0].type = "sleep";
        sent[0].key = "s";
        crypto_sha256("{\"v\":1}", 7, sent[0].hash);
        sent[1] = sent[0];
        sent[1].key = "q"; /* announced, and of another version */
        memset(&ev, 0, sizeof(ev));
        ev.id = "ea1";
        ev.dev_id = "dev_a";
        ev.user_id = "ua";
        ev.type = "large_request_processing";
        ev.reference = "ref-1";
        ev.body = "{}";
        ev.created_at = T0;
        is_int(store_request_event_add(s, &ev, NULL, 0, -1, &e), 0,
               "a request's event without records");
        ev.id = "ea1b";
        is_int(store_request_event_add(s, &ev, NULL, 0, -1, &e), ERR_CONFLICT,
               "... a second of that type: ERR_CONFLICT");
        ev.id = "ea2";
        ev.type = "sleep";
        is_int(store_request_event_add(s, &ev, sent, 2, -1, &e), 0,
               "a chunk that carries records");
        is_int((int)announced_of("s"), 1, "... marks the one it carried");
        is_int((int)announced_of("q"), 1, "... and leaves the other");
        ev.id = "ea3";
        is_int(store_request_event_add(s, &ev, sent, 1, -1, &e), ERR_CONFLICT,
               "a record sent twice by one request: ERR_CONFLICT");
        is_int((int)side_int("SELECT count(*) FROM events WHERE id = 'ea3'"), 0,
               "... and that event is not added");
        is_int(store_request_sent(s, "ref-1", &a, &rs, &e), 0,
               "what the request sent");
        ok(!rs.ended && rs.chunks == 1 && rs.nevents == 1 &&
               strcmp(rs.events[0], "large_request_processing") == 0 &&
               rs.nrecords == 2,
           "... one chunk of two records, and its first event");
        v = put_one(s, "s", "{\"v\":2}", STORE_PUT_QUIET);
        ev.id = "ea4";
        ev.type = "large_request_sending";
        is_int(store_request_event_add(s, &ev, NULL, 0, 2, &e), ERR_CONFLICT,
               "a last event counting two chunks of one: ERR_CONFLICT");
        is_int(store_request_event_add(s, &ev, NULL, 0, 1, &e), 0,
               "the request's last event, counting its one chunk");
        is_int(store_request_sent(s, "ref-1", &a, &rs, &e), 0, "what it sent");
        ok(rs.ended && rs.chunks == 0 && rs.nrecords == 0 && rs.nevents == 0,
           "... only that it ended");
        ev.id = "ea5";
        ev.type = "sleep";
        is_int(store_request_event_add(s, &ev, sent, 1, -1, &e), ERR_CONFLICT,
               "an event of an ended request: ERR_CONFLICT");
        ev.reference = "ref-2";
        is_int(store_request_event_add(s, &ev, sent, 1, -1, &e), 0,
               "another request may send the same record");
        is_int(store_request_forget(s, "ref-2", &e), 0,
               "a request that will not end: forgotten");
        is_int((int)side_int("SELECT count(*) FROM request_sends"
                             " WHERE reference = 'ref-2'"),
               0, "... nothing of it is kept");
        is_int((int)side_int("SELECT count(*) FROM request_sends"
                             " WHERE reference = 'ref-1'"),
               1, "... the other request's end is");
        is_int((int)announced_of("s"), 2,
               "... but not mark a version no longer stored");
        arena_release(&a);
    }
    v = put_one(s, "s", "{\"v\":2}", STORE_PUT_ANNOUNCE);
    is_int(v.change, 2, "... which the next announcing put sends as update");
    is_int(v.composed, 1, "... once");
    is_int((int)side_int("SELECT count(*) FROM events WHERE user_id = 'ua'"), 4,
           "compose made no event: only the four added by hand");
}

/* A live worker keeps the leases of the jobs it runs, and only those. */
static void
test_jobs_renew(struct store *s)
{
    struct err e;

    err_clear(&e);
    add_user("uj", "dev_a");
    side_exec("DELETE FROM jobs WHERE user_id = 'uj'");
    side_exec("INSERT INTO jobs (id, dev_id, user_id, kind, lane, state,"
              " run_at, lease_owner, lease_until, created_at) VALUES"
              " ('j1', 'dev_a', 'uj', 'poll', 'data', 'running', 0, 'w1', 5,"
              " 0), ('j2', 'dev_a', 'uj', 'push', 'data', 'running', 0, 'w2',"
              " 5, 0), ('j3', 'dev_a', 'uj', 'request', 'data', 'pending', 0,"
              " NULL, NULL, 0)");
    is_int(store_jobs_renew(s, "w1", 999, &e), 0, "renew w1's leases");
    is_int((int)side_int("SELECT lease_until FROM jobs WHERE id = 'j1'"), 999,
           "... its running job's lease is extended");
    is_int((int)side_int("SELECT lease_until FROM jobs WHERE id = 'j2'"), 5,
           "... another worker's is not");
    is_int((int)side_int("SELECT count(*) FROM jobs WHERE id = 'j3'"
                         " AND lease_until IS NULL"),
           1, "... nor a pending job");
}

int
main(void)
{
    struct store_options opt = {.busy_timeout_ms = 1000};
    struct store *s = NULL;
    char dir[64];
    char path[128];
    char url[160];
    struct err e;

    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/ferry-test-deliveries-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return done_testing();
    }
    snprintf(path, sizeof(path), "%s/ferry.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (store_open(&s, url, &opt, &e) != 0 || store_migrate(s, NULL, &e) != 0) {
        printf("# store: %s\n", e.msg);
        ok(0, "open and migrate the test store");
        store_free(s);
        return done_testing();
    }
    if (sqlite3_open(path, &side) != SQLITE_OK) {
        ok(0, "open the side connection");
        store_free(s);
        return done_testing();
    }
    sqlite3_busy_timeout(side, 5000);
    side_exec("INSERT INTO developers (id, name, created_at)"
              " VALUES ('dev_a', 'a', 0), ('dev_b', 'b', 0),"
              " ('dev_c', 'c', 0)");
    test_cursor_and_heads(s);
    test_leases(s);
    test_settle_batch(s);
    test_outcome_not_heard(s);
    test_replay_event(s);
    test_gone(s);
    test_removed_in_flight(s);
    test_removed_retry_in_flight(s);
    test_announce(s);
    test_jobs_renew(s);
    sqlite3_close(side);
    store_free(s);
    unlink(path);
    {
        char p[160];

        snprintf(p, sizeof(p), "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", path);
        unlink(p);
    }
    rmdir(dir);
    return done_testing();
}
