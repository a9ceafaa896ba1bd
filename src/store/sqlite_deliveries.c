/*
 * sqlite_deliveries.c - the delivery queue: claims, outcomes, attempts,
 * replays.
 *
 * A destination's cursor (destinations.cursor_seq) is a place in the
 * event log: every event of its developer after it that has no row
 * here is waiting for its first attempt. The engine holding the
 * destination's lease reads those from the log and writes their rows
 * when the attempt ends, many to a transaction. Rows are written before
 * an attempt only for events that must queue behind their user's
 * earlier one. Of the queued rows of one order key (the event's user,
 * or the event itself) to one destination exactly one is the head: the
 * oldest. Only a head is claimed; when it leaves the queue (delivered,
 * dead) the next oldest queued one becomes the head in the same
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/sqlite_int.h"

#define DELIVERY_LIST_DEFAULT 100
#define CLAIM_MAX             1024
#define SCAN_STEP             256  /* events read from the log at a time */
#define SCAN_MAX              4096 /* events one claim reads at most */

/* Account events go before data events (lane 0). */
#define ACCOUNT_TYPES                                                          \
    "('auth', 'deauth', 'user_reauth', 'access_revoked',"                      \
    " 'connection_error', 'permission_change', 'google_no_datasource')"

static const char ST_DEST_LEASE_GET[] =
    "SELECT dev_id, lease_owner, coalesce(lease_until, 0), cursor_seq,"
    " coalesce(previous_until, 0) FROM destinations"
    " WHERE id = ?1 AND removed_at IS NULL";
static const char ST_DEST_LEASE_SET[] =
    "UPDATE destinations SET lease_owner = ?1, lease_until = ?2,"
    " cursor_seq = max(cursor_seq, ?3) WHERE id = ?4";
/* Events after ?3 in the log, with whether this destination has a row
 * for each, whether its order key has one queued and its lane (0:
 * account events, 1: data); the body last, as only the events given out
 * read it. */
#define FRESH_COLS                                                             \
    "SELECT e.seq, e.id, e.user_id, e.type, e.reference, e.created_at,"        \
    " EXISTS (SELECT 1 FROM deliveries x WHERE x.destination_id = ?1"          \
    "  AND x.event_seq = e.seq),"                                              \
    " EXISTS (SELECT 1 FROM deliveries x WHERE x.destination_id = ?1"          \
    "  AND x.order_key = coalesce(e.user_id, e.id)"                            \
    "  AND x.state IN ('pending', 'in_flight')),"                              \
    " e.type NOT IN " ACCOUNT_TYPES ", e.body"
static const char ST_FRESH[] =
    FRESH_COLS " FROM events e WHERE e.dev_id = ?2 AND e.seq > ?3"
               " ORDER BY e.seq LIMIT ?4";
/* Account events further on, whose user has no event between ?3 and
 * them still unread: of the first ACCOUNT_AHEAD such events with no row
 * yet (the partial index events_account, whose WHERE is ACCOUNT_TYPES),
 * so that a claim's cost does not grow with the backlog. */
/* XXX: when the first ACCOUNT_AHEAD account events after the read
 * point all wait for earlier events of their own users, a later user's
 * account event takes its turn in the log behind the data before it. */
#define ACCOUNT_AHEAD "32"
static const char ST_FRESH_ACCOUNT[] =
    FRESH_COLS " FROM (SELECT seq, id, user_id, type, reference, created_at,"
               " body FROM events INDEXED BY events_account"
               " WHERE dev_id = ?2 AND type IN " ACCOUNT_TYPES " AND seq > ?3"
               " AND NOT EXISTS (SELECT 1 FROM deliveries x"
               "  WHERE x.destination_id = ?1 AND x.event_seq = seq)"
               " ORDER BY seq LIMIT " ACCOUNT_AHEAD ") e"
               " WHERE e.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM events p"
               "  WHERE p.user_id = e.user_id AND p.seq > ?3 AND p.seq < e.seq"
               "  AND NOT EXISTS (SELECT 1 FROM deliveries y"
               "   WHERE y.destination_id = ?1 AND y.event_seq = p.seq))"
               " ORDER BY e.seq LIMIT ?4";
/* A row for an event that queues behind its user's earlier one. "OR
 * IGNORE" (not ON CONFLICT or RETURNING) needs no statement journal: a
 * third of an insert's time. */
static const char ST_PARK[] =
    "INSERT OR IGNORE INTO deliveries (event_seq, event_id, destination_id,"
    " order_key, lane, head, state, next_attempt_at, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 'pending', ?6, ?7, ?6)";
/* The row of a fresh delivery whose attempt ended; a retry is the head
 * unless its key has one. A retry or a last failure is cancelled when
 * its destination was removed while the attempt was in flight (the
 * removal cancelled what was queued then), as a claimed row is. A
 * delivered one keeps its attempt in the row (last_latency_us set),
 * others have a delivery_attempts row. Nothing when the event has a
 * row already (another owner's). A VALUES row, as SQLite may stage the
 * rows of an INSERT from a SELECT that reads deliveries itself in a
 * temporary table. */
#define DEST_REMOVED                                                           \
    "EXISTS (SELECT 1 FROM destinations r WHERE r.id = ?3"                     \
    " AND r.removed_at IS NOT NULL)"
static const char ST_SETTLE_FRESH[] =
    "INSERT OR IGNORE INTO deliveries (event_seq, event_id, destination_id,"
    " order_key, lane, head, state, retry, attempts, next_attempt_at,"
    " last_status, last_error, created_at, updated_at, last_latency_us)"
    " VALUES (?1, ?2, ?3, ?4, ?5,"
    " CASE WHEN ?6 = 'pending' THEN NOT " DEST_REMOVED
    " AND NOT EXISTS (SELECT 1 FROM deliveries h"
    "  WHERE h.destination_id = ?3 AND h.order_key = ?4 AND h.head = 1"
    "  AND h.state IN ('pending', 'in_flight')) ELSE 0 END,"
    " CASE WHEN ?6 IN ('pending', 'dead') AND " DEST_REMOVED
    "  THEN 'cancelled' ELSE ?6 END,"
    " CASE WHEN ?6 = 'pending' THEN 1 ELSE 0 END, 1, ?7, ?8, ?9, ?10,"
    " ?11, CASE WHEN ?6 = 'delivered' THEN ?12 END)";
/* Whether a failed first attempt's row was written cancelled (its
 * destination removed meanwhile): asked only for failures, since a
 * RETURNING clause would slow every insert. */
static const char ST_ROW_CANCELLED[] =
    "SELECT count(*) FROM deliveries WHERE id = ? AND state = 'cancelled'";

static const char ST_RECOVER[] =
    "UPDATE deliveries SET state = 'pending', lease_owner = NULL,"
    " lease_until = NULL, updated_at = ?1"
    " WHERE destination_id = ?2 AND state = 'in_flight'"
    " AND lease_until < ?1";
static const char ST_DUE[] =
    "SELECT id FROM deliveries"
    " WHERE destination_id = ?1 AND lane = ?2 AND head = 1"
    " AND state = 'pending' AND next_attempt_at <= ?3"
    " ORDER BY next_attempt_at LIMIT ?4";
/* A claim's ids go to its two statements as one JSON array. */
static const char ST_LEASE[] =
    "UPDATE deliveries SET state = 'in_flight', lease_owner = ?1,"
    " lease_until = ?2, updated_at = ?3"
    " WHERE id IN (SELECT value FROM json_each(?4))";
static const char ST_CLAIMED[] =
    "SELECT d.id, d.event_id, d.destination_id, e.dev_id, e.user_id,"
    " e.type, e.reference, e.body, e.created_at, d.state, d.retry,"
    " d.attempts, d.next_attempt_at, d.last_status, d.last_error,"
    " d.created_at, d.updated_at, coalesce(x.previous_until, 0)"
    " FROM json_each(?1) j CROSS JOIN deliveries d ON d.id = j.value"
    " JOIN events e ON e.seq = d.event_seq"
    " JOIN destinations x ON x.id = d.destination_id ORDER BY j.key";
/* The outcome of a claimed row's attempt. A row whose destination was
 * removed while it was in flight is cancelled but keeps its owner
 * (ST_DEST_CANCEL): its attempt is recorded, and it stays cancelled
 * unless this one delivered it. */
static const char ST_SETTLE[] =
    "UPDATE deliveries SET"
    " state = CASE WHEN state = 'cancelled' AND ?1 <> 'delivered'"
    "  THEN 'cancelled' ELSE ?1 END,"
    " next_attempt_at = ?2,"
    " retry = CASE WHEN ?1 = 'pending' AND state = 'in_flight'"
    "  THEN retry + 1 ELSE retry END,"
    " attempts = attempts + 1, last_status = ?3, last_error = ?4,"
    " head = CASE WHEN ?1 = 'pending' AND state = 'in_flight' THEN 1"
    "  ELSE 0 END,"
    " lease_owner = NULL, lease_until = NULL, updated_at = ?5"
    " WHERE id = ?6 AND state IN ('in_flight', 'cancelled')"
    " AND lease_owner = ?7"
    " RETURNING attempts, destination_id, order_key, state = 'cancelled'";
/* The users whose events a settle write delivered: when a webhook (or
 * another destination) last got one of theirs, to the second (a busy
 * user's row is not written for every event). A key that is an event
 * id (an event of no user) matches no user. */
static const char ST_USERS_DELIVERED[] =
    "UPDATE users SET last_webhook_update = ?1"
    " WHERE id IN (SELECT value FROM json_each(?2))"
    " AND (last_webhook_update IS NULL"
    "  OR last_webhook_update < ?1 - 1000000)";
/* A claimed row given back untried: queued again, or left cancelled
 * (its destination removed meanwhile) without its owner. */
static const char ST_RELEASE[] =
    "UPDATE deliveries SET state = CASE WHEN state = 'cancelled'"
    "  THEN 'cancelled' ELSE 'pending' END,"
    " lease_owner = NULL, lease_until = NULL, updated_at = ?1"
    " WHERE id = ?2 AND state IN ('in_flight', 'cancelled')"
    " AND lease_owner = ?3";
static const char ST_ATTEMPT_ADD[] =
    "INSERT INTO delivery_attempts (delivery_id, n, at, status,"
    " latency_us, error) VALUES (?, ?, ?, ?, ?, ?)";
/* The oldest queued delivery of a key becomes its head, unless the key
 * has one. */
static const char ST_PROMOTE[] =
    "UPDATE deliveries SET head = 1 WHERE id = (SELECT id FROM deliveries"
    " WHERE destination_id = ?1 AND order_key = ?2"
    " AND state IN ('pending', 'in_flight')"
    " ORDER BY event_seq LIMIT 1) AND NOT EXISTS (SELECT 1 FROM deliveries"
    " WHERE destination_id = ?1 AND order_key = ?2 AND head = 1"
    " AND state IN ('pending', 'in_flight'))";
/* Rows, and the events after a cursor that have none (pending, id 0). */
static const char ST_LIST[] =
    "SELECT * FROM (SELECT d.id, d.event_id, d.destination_id, e.dev_id,"
    " e.user_id, e.type, e.reference, NULL, e.created_at, d.state, d.retry,"
    " d.attempts, d.next_attempt_at, d.last_status, d.last_error,"
    " d.created_at, d.updated_at, d.event_seq AS seq FROM deliveries d"
    " JOIN events e ON e.seq = d.event_seq"
    " WHERE (?1 IS NULL OR e.dev_id = ?1)"
    " AND (?2 IS NULL OR d.event_seq = (SELECT seq FROM events"
    "  WHERE id = ?2))"
    " AND (?3 IS NULL OR d.destination_id = ?3)"
    " AND (?4 IS NULL OR d.state = ?4) AND e.created_at >= ?5"
    " UNION ALL SELECT 0, e.id, x.id, e.dev_id, e.user_id, e.type,"
    " e.reference, NULL, e.created_at, 'pending', 0, 0, e.created_at, NULL,"
    " NULL, e.created_at, e.created_at, e.seq FROM destinations x"
    " JOIN events e ON e.dev_id = x.dev_id AND e.seq > x.cursor_seq"
    " WHERE x.removed_at IS NULL AND (?1 IS NULL OR x.dev_id = ?1)"
    " AND (?2 IS NULL OR e.id = ?2) AND (?3 IS NULL OR x.id = ?3)"
    " AND (?4 IS NULL OR ?4 = 'pending') AND e.created_at >= ?5"
    " AND NOT EXISTS (SELECT 1 FROM deliveries y"
    "  WHERE y.destination_id = x.id AND y.event_seq = e.seq))"
    " ORDER BY seq, id LIMIT ?6";
static const char ST_HAS_ROW[] =
    "SELECT 1 FROM deliveries WHERE destination_id = ?1 AND event_seq = ?2";
/* The attempt rows, and a first attempt that delivered from its row. */
static const char ST_ATTEMPTS[] =
    "SELECT delivery_id, n, at, latency_us, status, error"
    " FROM delivery_attempts WHERE delivery_id = ?1"
    " UNION ALL SELECT id, attempts, updated_at, last_latency_us,"
    " last_status, last_error FROM deliveries d WHERE id = ?1"
    " AND last_latency_us IS NOT NULL AND NOT EXISTS (SELECT 1"
    "  FROM delivery_attempts t WHERE t.delivery_id = ?1"
    "  AND t.n = d.attempts) ORDER BY 2";
/* Before a delivered event is queued again: the attempt its row keeps
 * becomes a row of its own. */
static const char ST_ATTEMPT_KEEP[] =
    "INSERT OR IGNORE INTO delivery_attempts (delivery_id, n, at, status,"
    " latency_us, error) SELECT id, attempts, updated_at, last_status,"
    " last_latency_us, last_error FROM deliveries"
    " WHERE event_seq = (SELECT seq FROM events WHERE id = ?1)"
    " AND last_latency_us IS NOT NULL";
static const char ST_EVENT_GET[] =
    "SELECT seq, id, dev_id, user_id, type, reference, body, created_at"
    " FROM events WHERE id = ?1 AND (?2 IS NULL OR dev_id = ?2)";
static const char ST_EVENT_SEQ[] =
    "SELECT seq FROM events WHERE id = ?1 AND (?2 IS NULL OR dev_id = ?2)";
/* Requeue the finished deliveries of an event, to destinations in use. */
static const char ST_REQUEUE_EVENT[] =
    "UPDATE deliveries SET state = 'pending', retry = 0, head = 0,"
    " next_attempt_at = ?1, updated_at = ?1, last_latency_us = NULL"
    " WHERE event_seq = (SELECT seq FROM events WHERE id = ?2)"
    " AND state IN ('delivered', 'dead', 'cancelled')"
    " AND destination_id IN (SELECT id FROM destinations"
    "  WHERE removed_at IS NULL)"
    " RETURNING destination_id, order_key";
/* Add the deliveries an event lacks: destinations added after it (one
 * after a destination's cursor is still to come). */
static const char ST_ADD_MISSING[] =
    "INSERT INTO deliveries (event_seq, event_id, destination_id,"
    " order_key, lane, head, state, next_attempt_at, created_at,"
    " updated_at)"
    " SELECT e.seq, e.id, d.id, coalesce(e.user_id, e.id),"
    "  CASE WHEN e.type IN " ACCOUNT_TYPES " THEN 0 ELSE 1 END,"
    "  0, 'pending', ?1, ?1, ?1"
    " FROM events e JOIN destinations d ON d.dev_id = e.dev_id"
    " WHERE e.id = ?2 AND d.removed_at IS NULL AND e.seq <= d.cursor_seq"
    " AND NOT EXISTS (SELECT 1 FROM deliveries x"
    "  WHERE x.destination_id = d.id AND x.event_seq = e.seq)"
    " RETURNING destination_id, order_key";
static const char ST_REQUEUE_DEAD[] =
    "UPDATE deliveries SET state = 'pending', retry = 0, head = 0,"
    " next_attempt_at = ?1, updated_at = ?1"
    " WHERE state = 'dead' AND event_seq IN (SELECT seq FROM events"
    "  WHERE (?2 IS NULL OR dev_id = ?2) AND created_at >= ?3)"
    " AND destination_id IN (SELECT id FROM destinations"
    "  WHERE removed_at IS NULL)"
    " RETURNING destination_id, order_key";
static const char ST_COUNTS[] =
    "SELECT state, count(*) FROM deliveries GROUP BY state"
    " UNION ALL SELECT 'pending', count(*) FROM destinations x"
    " JOIN events e ON e.dev_id = x.dev_id AND e.seq > x.cursor_seq"
    " WHERE x.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries y"
    "  WHERE y.destination_id = x.id AND y.event_seq = e.seq)";

/* ---- claims ---- */

/* What store_delivery_claim() hands its write. */
struct claim_args {
    const char *destination_id;
    int64_t now;
    int64_t lease_until;
    const char *owner;
    size_t limit;
    struct store_claim_view *view;
    struct arena *a; /* the caller's: it waits while the writer fills it */
    struct store_delivery *out;
    size_t *n;
    struct claim_found *found; /* filled by the claim */
};

/* What a claim reads of its destination. */
struct claim_found {
    const char *dev_id;
    int64_t secret_stamp;
};

static void
read_delivery(struct call *c, void *row)
{
    struct store_delivery *d = row;

    d->id = sq_col_int(c);
    d->event_id = sq_col_text(c);
    d->destination_id = sq_col_text(c);
    d->dev_id = sq_col_text(c);
    d->user_id = sq_col_text(c);
    d->type = sq_col_text(c);
    d->reference = sq_col_text(c);
    d->body = sq_col_text(c);
    d->event_created_at = sq_col_int(c);
    d->state = sq_col_text(c);
    d->retry = (int)sq_col_int(c);
    d->attempts = (int)sq_col_int(c);
    d->next_attempt_at = sq_col_int(c);
    d->last_status = (long)sq_col_int(c);
    d->last_error = sq_col_text(c);
    d->created_at = sq_col_int(c);
    d->updated_at = sq_col_int(c);
}

/* The ids of up to `max` due heads of `lane` into ids[*got...]. */
static int
due_ids(struct conn *w, const struct claim_args *ca, int lane, int64_t *ids,
        size_t *got, size_t max, const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_DUE, NULL, op, e);

    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, ca->destination_id);
    sq_bind_int(&c, lane);
    sq_bind_int(&c, ca->now);
    sq_bind_int(&c, (int64_t)(max - *got));
    while (*got < max && (rc = sq_call_step(&c)) == 1) {
        ids[(*got)++] = sq_col_int(&c);
    }
    rc = rc < 0 ? rc : c.rc;
out:
    sq_call_end(&c);
    return rc;
}

/* `ids` as a JSON array, in `a`; NULL when it is full. */
static char *
ids_json(struct arena *a, const int64_t *ids, size_t n)
{
    /* "[" and "]", then at most 20 digits and a comma each */
    char *out = arena_alloc(a, 2 + n * 21 + 1);
    char *p = out;
    size_t i = 0;

    if (out == NULL) {
        return NULL;
    }
    *p++ = '[';
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s%lld", i > 0 ? "," : "", (long long)ids[i]);
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

/* Lease the `n` deliveries `ids` and read them (with their events), in
 * that order, into `d`. */
static int
lease(struct conn *w, const struct claim_args *ca, const int64_t *ids, size_t n,
      struct store_delivery *d, const char *op, struct err *e)
{
    struct call c = {0};
    char *list = ids_json(ca->a, ids, n);
    size_t got = 0;
    int rc = 0;

    if (list == NULL) {
        return err_set(e, ERR_NOMEM, "%s: the arena is full", op);
    }
    rc = sq_call_start(&c, w, ST_LEASE, NULL, op, e);
    if (rc == 0) {
        sq_bind_text(&c, ca->owner);
        sq_bind_int(&c, ca->view->rows_until > 0 ? ca->view->rows_until
                                                 : ca->lease_until);
        sq_bind_int(&c, ca->now);
        sq_bind_text(&c, list);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc != 0) {
        return rc;
    }
    rc = sq_call_start(&c, w, ST_CLAIMED, ca->a, op, e);
    if (rc == 0) {
        sq_bind_text(&c, list);
        while (got < n && (rc = sq_call_step(&c)) == 1) {
            read_delivery(&c, &d[got]);
            d[got].secret_stamp = sq_col_int(&c);
            got++;
        }
        rc = rc < 0 ? rc : c.rc;
    }
    sq_call_end(&c);
    if (rc == 0 && got != n) {
        rc = err_set(e, ERR_STORE, "%s: a claimed delivery vanished", op);
    }
    return rc;
}

/*
 * Take or renew the destination's lease and move its cursor up to what
 * the view has finished with. Sets view->held; with it 0 the claim
 * takes nothing.
 */
static int
lease_destination(struct conn *w, const struct claim_args *ca, const char *op,
                  struct err *e)
{
    struct store_claim_view *v = ca->view;
    struct call c = {0};
    const char *holder = NULL;
    int64_t until = 0;
    int64_t cursor = 0;
    int64_t low = 0;
    int rc = sq_call_start(&c, w, ST_DEST_LEASE_GET, ca->a, op, e);

    v->held = 0;
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, ca->destination_id);
    rc = sq_call_step(&c);
    if (rc <= 0) {
        goto out; /* removed: nothing to claim */
    }
    ca->found->dev_id = sq_col_text(&c);
    holder = sq_col_text(&c);
    until = sq_col_int(&c);
    cursor = sq_col_int(&c);
    ca->found->secret_stamp = sq_col_int(&c);
    rc = c.rc;
    sq_call_end(&c);
    if (rc != 0) {
        goto out;
    }
    if (holder != NULL && strcmp(holder, ca->owner) != 0 && until >= ca->now) {
        goto out; /* another owner's */
    }
    v->taken = holder == NULL || strcmp(holder, ca->owner) != 0;
    if (v->taken || v->scan < 0) {
        /* newly ours: what happened after the cursor is read again */
        v->scan = cursor;
    }
    low = v->lowest(v->arg);
    low = low == INT64_MAX ? v->scan : low - 1;
    low = low < v->scan ? low : v->scan;
    /* an idle destination's claims write nothing while half its lease
     * is left and its cursor stays */
    v->held_until = until;
    if (holder == NULL || strcmp(holder, ca->owner) != 0 || low > cursor ||
        until - ca->now < (ca->lease_until - ca->now) / 2 ||
        ca->lease_until < until) {
        v->held_until = ca->lease_until;
        rc = sq_call_start(&c, w, ST_DEST_LEASE_SET, NULL, op, e);
        if (rc == 0) {
            sq_bind_text(&c, ca->owner);
            sq_bind_int(&c, ca->lease_until);
            sq_bind_int(&c, low);
            sq_bind_text(&c, ca->destination_id);
            rc = sq_call_run(&c);
        }
    }
    if (rc == 0) {
        v->held = 1;
    }
out:
    sq_call_end(&c);
    return rc;
}

/* Make the oldest queued delivery of (`dest`, `key`) the head. */
static int
promote(struct conn *w, const char *dest, const char *key, const char *op,
        struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_PROMOTE, NULL, op, e);

    if (rc == 0) {
        sq_bind_text(&c, dest);
        sq_bind_text(&c, key);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/*
 * Of out[from, to), the fresh events a claim has given out: 2 when the
 * event at `seq` is one, 1 when one of order key `key` is (its place in
 * *at; a later event of that key waits), 0 when neither.
 */
static int
given_out(const struct store_delivery *out, size_t from, size_t to, int64_t seq,
          const char *key, size_t *at)
{
    size_t i = 0;
    int has = 0;

    for (i = from; i < to; i++) {
        const char *k =
            out[i].user_id != NULL ? out[i].user_id : out[i].event_id;

        if (out[i].event_seq == seq) {
            return 2;
        }
        if (!has && strcmp(k, key) == 0) {
            has = 1;
            *at = i;
        }
    }
    return has;
}

/* Whether destination `dest` has a row for the event at `seq`. */
static int
has_row_at(struct conn *w, const char *dest, int64_t seq, int *has,
           const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_HAS_ROW, NULL, op, e);

    *has = 0;
    if (rc == 0) {
        sq_bind_text(&c, dest);
        sq_bind_int(&c, seq);
        rc = sq_call_step(&c);
        *has = rc == 1;
        rc = rc < 0 ? rc : 0;
    }
    sq_call_end(&c);
    return rc;
}

/* Queue the fresh event `d` behind its key's earlier one; `head`: make
 * the oldest queued of the key the head (none is in flight unseen). */
static int
park(struct conn *w, const struct claim_args *ca,
     const struct store_delivery *d, const char *key, int head, const char *op,
     struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_PARK, NULL, op, e);

    if (rc == 0) {
        sq_bind_int(&c, d->event_seq);
        sq_bind_text(&c, d->event_id);
        sq_bind_text(&c, ca->destination_id);
        sq_bind_text(&c, key);
        sq_bind_int(&c, d->lane);
        sq_bind_int(&c, ca->now);
        sq_bind_int(&c, d->event_created_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    if (rc == 0 && head) {
        rc = promote(w, ca->destination_id, key, op, e);
    }
    return rc;
}

/*
 * Read fresh events after the view's scan point with `sql` (ST_FRESH,
 * or ST_FRESH_ACCOUNT, which leaves the scan point where it is) and give
 * out those whose key is free, up to `max` in all in *got (this claim's
 * fresh ones from ca->out[from]); the others queue behind their key.
 * Returns 1 in *more when the log may hold more.
 */
static int
fresh_step(struct conn *w, const struct claim_args *ca, const char *sql,
           size_t *got, size_t max, size_t from, size_t *read, int *more,
           const char *op, struct err *e)
{
    struct store_claim_view *v = ca->view;
    struct call c = {0};
    size_t rows = 0;
    int account = sql == ST_FRESH_ACCOUNT;
    int rc = sq_call_start(&c, w, sql, ca->a, op, e);

    *more = 0;
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, ca->destination_id);
    sq_bind_text(&c, ca->found->dev_id);
    sq_bind_int(&c, v->scan);
    sq_bind_int(&c, SCAN_STEP);
    while (*got < max && (rc = sq_call_step(&c)) == 1) {
        struct store_delivery *d = &ca->out[*got];
        int has_row = 0;
        int queued = 0;
        int busy = 0;
        int mine = 0;
        size_t mine_at = 0;
        int written = 0;
        int64_t at = 0;
        const char *key = NULL;

        memset(d, 0, sizeof(*d));
        d->event_seq = sq_col_int(&c);
        d->event_id = sq_col_text(&c);
        d->user_id = sq_col_text(&c);
        d->type = sq_col_text(&c);
        d->reference = sq_col_text(&c);
        d->event_created_at = sq_col_int(&c);
        has_row = (int)sq_col_int(&c);
        queued = (int)sq_col_int(&c);
        d->lane = (int)sq_col_int(&c);
        if ((rc = c.rc) != 0) {
            goto out;
        }
        rows++;
        (*read)++;
        if (!account) {
            v->scan = d->event_seq;
        }
        key = d->user_id != NULL ? d->user_id : d->event_id;
        if (has_row || (busy = v->busy(v->arg, d->event_seq, key, &at)) == 2) {
            continue; /* taken already */
        }
        if (busy == 1) {
            /* an outcome written in this transaction, or one whose
             * commit the engine has not heard of yet, frees the key */
            rc = has_row_at(w, ca->destination_id, at, &written, op, e);
            if (rc != 0) {
                goto out;
            }
            busy = !written;
        }
        mine = given_out(ca->out, from, *got, d->event_seq, key, &mine_at);
        if (mine == 2) {
            continue; /* given out by this claim */
        }
        if (busy || mine) {
            /* its key's earlier event is in flight: the row waits and
             * that attempt's outcome makes it the head */
            rc = park(w, ca, d, key, 0, op, e);
            if (rc == 0 && busy) {
                v->parked(v->arg, key);
            } else if (rc == 0) {
                ca->out[mine_at].followers = 1;
            }
        } else if (queued) {
            rc = park(w, ca, d, key, 1, op, e);
        } else {
            d->body = sq_col_text(&c);
            rc = c.rc;
            if (rc == 0 && d->body == NULL) {
                rc = err_set(e, ERR_NOMEM, "%s: the arena is full", op);
            }
            if (rc == 0) {
                d->destination_id = ca->destination_id;
                d->dev_id = ca->found->dev_id;
                d->state = "pending";
                d->secret_stamp = ca->found->secret_stamp;
                (*got)++;
            }
        }
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc < 0 ? rc : c.rc;
    *more = rc == 0 && rows == SCAN_STEP;
out:
    sq_call_end(&c);
    return rc;
}

/* Fresh events by `sql` until `max` are given out, the log is read to
 * its end or SCAN_MAX events were read. */
static int
fresh(struct conn *w, const struct claim_args *ca, const char *sql, size_t *got,
      size_t max, size_t from, const char *op, struct err *e)
{
    size_t read = 0;
    int more = 1;
    int rc = 0;

    while (rc == 0 && more && *got < max && read < SCAN_MAX) {
        rc = fresh_step(w, ca, sql, got, max, from, &read, &more, op, e);
        if (sql == ST_FRESH_ACCOUNT) {
            break; /* the scan point does not move: one step */
        }
    }
    return rc;
}

static int
run_claim(struct conn *w, const struct wop *op, struct err *e)
{
    const struct claim_args *ca = op->in.p;
    int64_t ids[CLAIM_MAX];
    size_t max = ca->limit < CLAIM_MAX ? ca->limit : CLAIM_MAX;
    size_t got = 0;
    size_t nids = 0;
    struct call c = {0};
    int rc = lease_destination(w, ca, op->name, e);

    if (rc != 0 || !ca->view->held || max == 0) {
        return rc;
    }
    rc = sq_call_start(&c, w, ST_RECOVER, NULL, op->name, e);
    if (rc == 0) {
        sq_bind_int(&c, ca->now);
        sq_bind_text(&c, ca->destination_id);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    /* rows first, each lane: fresh ones are written after them in out */
    if (rc == 0) {
        rc = due_ids(w, ca, 0, ids, &nids, max, op->name, e);
    }
    if (rc == 0 && nids < max) {
        rc = due_ids(w, ca, 1, ids, &nids, max, op->name, e);
    }
    if (rc == 0 && nids > 0) {
        rc = lease(w, ca, ids, nids, ca->out, op->name, e);
    }
    got = nids;
    if (rc == 0 && got < max) {
        rc = fresh(w, ca, ST_FRESH_ACCOUNT, &got, max, nids, op->name, e);
    }
    if (rc == 0 && got < max) {
        rc = fresh(w, ca, ST_FRESH, &got, max, nids, op->name, e);
    }
    if (rc == 0) {
        *ca->n = got;
    }
    return rc;
}

int
sq_delivery_claim(struct store *s, const char *destination_id, int64_t now,
                  int64_t lease_until, const char *owner, size_t limit,
                  struct store_claim_view *view, struct arena *a,
                  struct store_delivery **out, size_t *n, struct err *e)
{
    struct wop op = {.run = run_claim, .name = "store_delivery_claim"};
    struct claim_args ca;
    struct claim_found found = {NULL, 0};
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (limit > CLAIM_MAX) {
        limit = CLAIM_MAX;
    }
    memset(&ca, 0, sizeof(ca));
    ca.destination_id = destination_id;
    ca.now = now;
    ca.lease_until = lease_until;
    ca.owner = owner;
    ca.limit = limit;
    ca.view = view;
    ca.found = &found;
    ca.a = a;
    ca.n = n;
    ca.out = arena_alloc(a, (limit > 0 ? limit : 1) * sizeof(*ca.out));
    if (ca.out == NULL) {
        return err_set(e, ERR_NOMEM, "%s: the arena is full", op.name);
    }
    memset(ca.out, 0, (limit > 0 ? limit : 1) * sizeof(*ca.out));
    op.in.p = &ca;
    rc = sq_write_sync(s, &op, e);
    if (rc == 0) {
        *out = ca.out;
    } else {
        *n = 0;
    }
    return rc;
}

/* ---- outcomes ---- */

/* An HTTP status, or NULL for none (0). */
static void
bind_status(struct call *c, long status)
{
    if (status > 0) {
        sq_bind_int(c, status);
    } else {
        sq_bind_text(c, NULL);
    }
}

static int
release(struct conn *w, const struct store_delivery_outcome *o, const char *op,
        struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_RELEASE, NULL, op, e);

    if (rc == 0) {
        sq_bind_int(&c, o->at);
        sq_bind_int(&c, o->id);
        sq_bind_text(&c, o->owner);
        rc = sq_call_run(&c);
        if (rc == 0 && sq_changes(&c) == 0) {
            rc = err_set(e, ERR_NOTFOUND, "%s: the claim was lost", op);
        }
    }
    sq_call_end(&c);
    return rc;
}

static int
attempt_add(struct conn *w, const struct store_delivery_outcome *o, int64_t n,
            const char *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_ATTEMPT_ADD, NULL, op, e);

    if (rc == 0) {
        sq_bind_int(&c, o->id);
        sq_bind_int(&c, n);
        sq_bind_int(&c, o->at);
        bind_status(&c, o->status);
        sq_bind_int(&c, o->latency_us);
        sq_bind_text(&c, o->error);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

/* What store_delivery_settle_async() hands its write. */
struct settle_args {
    struct store_delivery_outcome *o;
    size_t n;
};

/* Add `key` to `users` unless it is the last one there. */
static void
users_add(json_t *users, const char *key)
{
    size_t n = json_array_size(users);

    if (n == 0 ||
        strcmp(json_string_value(json_array_get(users, n - 1)), key) != 0) {
        json_array_append_new(users, json_string(key));
    }
}

/*
 * Write the row of the fresh delivery `o` and its attempt; the next
 * queued one of its key, if any, becomes the head. An event that has a
 * row already (another owner's) sets o->rc to ERR_NOTFOUND.
 */
static int
settle_fresh(struct conn *w, struct store_delivery_outcome *o, json_t *users,
             const char *op, struct err *e)
{
    struct call c = {0};
    int rc = 0;

    if (o->state == NULL) {
        return 0; /* never tried: it stays after the cursor */
    }
    rc = sq_call_start(&c, w, ST_SETTLE_FRESH, NULL, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_int(&c, o->event_seq);
    sq_bind_text(&c, o->event_id);
    sq_bind_text(&c, o->destination_id);
    sq_bind_text(&c, o->order_key);
    sq_bind_int(&c, o->lane);
    sq_bind_text(&c, o->state);
    sq_bind_int(&c, o->next_attempt_at);
    bind_status(&c, o->status);
    sq_bind_text(&c, o->error);
    sq_bind_int(&c, o->event_created_at);
    sq_bind_int(&c, o->at);
    sq_bind_int(&c, o->latency_us);
    rc = sq_call_run(&c);
    if (rc == 0 && sq_changes(&c) == 0) {
        /* OR IGNORE ignores any constraint: only a row already there
         * is another owner's outcome */
        int has = 0;

        sq_call_end(&c);
        rc = has_row_at(w, o->destination_id, o->event_seq, &has, op, e);
        if (rc == 0 && has) {
            o->rc = ERR_NOTFOUND;
        } else if (rc == 0) {
            rc = err_set(e, ERR_STORE, "%s: event %lld: the row was refused",
                         op, (long long)o->event_seq);
        }
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    o->id = sq_last_rowid(&c);
    sq_call_end(&c);
    if (rc == 0 && strcmp(o->state, "delivered") != 0) {
        rc = attempt_add(w, o, 1, op, e);
    }
    if (rc == 0 && strcmp(o->state, "delivered") != 0) {
        int64_t n = 0;

        rc = sq_call_start(&c, w, ST_ROW_CANCELLED, NULL, op, e);
        if (rc == 0) {
            sq_bind_int(&c, o->id);
            rc = sq_call_step(&c);
            if (rc == 1) {
                n = sq_col_int(&c);
                rc = c.rc;
            }
        }
        sq_call_end(&c);
        o->cancelled = n > 0;
    }
    /* only events queued behind it while it was in flight wait for it */
    if (rc == 0 && strcmp(o->state, "pending") != 0 && o->followers != NULL &&
        *o->followers) {
        rc = promote(w, o->destination_id, o->order_key, op, e);
    }
    if (rc == 0 && strcmp(o->state, "delivered") == 0) {
        users_add(users, o->order_key);
    }
out:
    sq_call_end(&c);
    return rc;
}

/*
 * Record outcome `o` in the write's transaction. A lost claim sets
 * o->rc to ERR_NOTFOUND and changes nothing; the return value is only
 * for failures that spoil the write.
 */
static int
settle_one(struct conn *w, struct store_delivery_outcome *o, struct arena *a,
           json_t *users, const char *op, struct err *e)
{
    struct call c = {0};
    int64_t n = 0;
    const char *dest = NULL;
    const char *key = NULL;
    int rc = 0;

    o->rc = 0;
    o->cancelled = 0;
    if (o->id == 0) {
        return settle_fresh(w, o, users, op, e);
    }
    if (o->state == NULL) {
        rc = release(w, o, op, e);
        if (rc == ERR_NOTFOUND) {
            o->rc = rc;
            rc = 0;
        }
        return rc;
    }
    rc = sq_call_start(&c, w, ST_SETTLE, a, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, o->state);
    sq_bind_int(&c, o->next_attempt_at);
    bind_status(&c, o->status);
    sq_bind_text(&c, o->error);
    sq_bind_int(&c, o->at);
    sq_bind_int(&c, o->id);
    sq_bind_text(&c, o->owner);
    rc = sq_call_step(&c);
    if (rc == 0) {
        o->rc = ERR_NOTFOUND;
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    n = sq_col_int(&c);
    dest = sq_col_text(&c);
    key = sq_col_text(&c);
    o->cancelled = (int)sq_col_int(&c);
    rc = c.rc;
    /* RETURNING rows are all produced by the first step; finish it */
    sq_call_end(&c);
    if (rc == 0) {
        rc = attempt_add(w, o, n, op, e);
    }
    if (rc == 0 && strcmp(o->state, "pending") != 0) {
        rc = promote(w, dest, key, op, e);
    }
    if (rc == 0 && strcmp(o->state, "delivered") == 0) {
        users_add(users, key);
    }
out:
    sq_call_end(&c);
    return rc;
}

/* Stamp the users of `users` (a JSON array of keys) as delivered to at
 * `at`. */
static int
users_delivered(struct conn *w, json_t *users, int64_t at, struct arena *a,
                const char *op, struct err *e)
{
    struct call c = {0};
    char *list = NULL;
    int rc = 0;

    if (json_array_size(users) == 0) {
        return 0;
    }
    list = json_dumps(users, JSON_COMPACT);
    if (list == NULL) {
        return err_set(e, ERR_NOMEM, "%s: out of memory", op);
    }
    rc = sq_call_start(&c, w, ST_USERS_DELIVERED, a, op, e);
    if (rc == 0) {
        sq_bind_int(&c, at);
        sq_bind_text(&c, list);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    free(list);
    return rc;
}

static int
run_settle(struct conn *w, const struct wop *op, struct err *e)
{
    const struct settle_args *sa = op->in.p;
    json_t *users = json_array();
    struct arena a;
    int64_t at = 0;
    size_t i = 0;
    int rc = 0;

    /* the RETURNING strings of every outcome: two ids each */
    arena_init(&a, 4096 + sa->n * 512);
    for (i = 0; i < sa->n && rc == 0; i++) {
        rc = settle_one(w, &sa->o[i], &a, users, op->name, e);
        at = sa->o[i].at > at ? sa->o[i].at : at;
    }
    if (rc == 0) {
        rc = users_delivered(w, users, at, &a, op->name, e);
    }
    json_decref(users);
    arena_release(&a);
    return rc;
}

int
sq_delivery_settle_async(struct store *s, struct store_delivery_outcome *o,
                         size_t n, store_done_fn done, void *arg)
{
    struct wop op = {.run = run_settle, .name = "store_delivery_settle"};
    struct settle_args sa = {o, n};

    return sq_write_async(s, &op, &sa, sizeof(sa), done, arg);
}

/* ---- reads ---- */

int
sq_delivery_list(struct store *s, const struct store_delivery_query *dq,
                 struct arena *a, struct store_delivery **out, size_t *n,
                 struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_LIST, a, "store_delivery_list", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_text(&c, dq->dev_id);
        sq_bind_text(&c, dq->event_id);
        sq_bind_text(&c, dq->destination_id);
        sq_bind_text(&c, dq->state);
        sq_bind_int(&c, dq->since);
        sq_bind_int(&c, dq->limit == 0 ? DELIVERY_LIST_DEFAULT
                                       : (int64_t)dq->limit);
        rc = sq_call_rows(&c, sizeof(**out), read_delivery, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

static void
read_attempt(struct call *c, void *row)
{
    struct store_delivery_attempt *t = row;

    t->delivery_id = sq_col_int(c);
    t->n = (int)sq_col_int(c);
    t->at = sq_col_int(c);
    t->latency_us = sq_col_int(c);
    t->status = (long)sq_col_int(c);
    t->error = sq_col_text(c);
}

int
sq_delivery_attempts(struct store *s, int64_t id, struct arena *a,
                     struct store_delivery_attempt **out, size_t *n,
                     struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    void *rows = NULL;
    int rc = sq_call_start(&c, r, ST_ATTEMPTS, a, "store_delivery_attempts", e);

    *out = NULL;
    *n = 0;
    if (rc == 0) {
        sq_bind_int(&c, id);
        rc = sq_call_rows(&c, sizeof(**out), read_attempt, &rows, n);
        *out = rows;
    }
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_event_get(struct store *s, const char *dev_id, const char *id,
             struct arena *a, struct store_event *out, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct call c = {0};
    int rc = sq_call_start(&c, r, ST_EVENT_GET, a, "store_event_get", e);

    memset(out, 0, sizeof(*out));
    if (rc != 0) {
        goto out;
    }
    sq_bind_text(&c, id);
    sq_bind_text(&c, dev_id);
    rc = sq_call_step(&c);
    if (rc == 0) {
        rc = err_set(e, ERR_NOTFOUND, "no event with id '%s'", id);
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    out->seq = sq_col_int(&c);
    out->id = sq_col_text(&c);
    out->dev_id = sq_col_text(&c);
    out->user_id = sq_col_text(&c);
    out->type = sq_col_text(&c);
    out->reference = sq_col_text(&c);
    out->body = sq_col_text(&c);
    out->created_at = sq_col_int(&c);
    rc = c.rc;
out:
    sq_call_end(&c);
    sq_reader_put(q, r);
    return rc;
}

int
sq_delivery_counts(struct store *s, struct store_delivery_counts *out,
                   struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    struct arena a;
    struct call c = {0};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    arena_init(&a, 1024);
    rc = sq_call_start(&c, r, ST_COUNTS, &a, "store_delivery_counts", e);
    while (rc == 0 && (rc = sq_call_step(&c)) == 1) {
        const char *state = sq_col_text(&c);
        int64_t n = sq_col_int(&c);

        if (state == NULL) {
            continue;
        } else if (strcmp(state, "pending") == 0) {
            out->pending += n;
        } else if (strcmp(state, "in_flight") == 0) {
            out->in_flight = n;
        } else if (strcmp(state, "delivered") == 0) {
            out->delivered = n;
        } else if (strcmp(state, "dead") == 0) {
            out->dead = n;
        } else if (strcmp(state, "cancelled") == 0) {
            out->cancelled = n;
        }
        rc = 0;
    }
    rc = rc < 0 ? rc : c.rc;
    sq_call_end(&c);
    sq_reader_put(q, r);
    arena_release(&a);
    return rc;
}

/* ---- replays ---- */

struct replay_args {
    const char *dev_id;
    const char *event_id; /* NULL: every dead one */
    int64_t since;
    int64_t now;
    int64_t *queued;
};

/* A (destination, order key) pair whose queue was touched. */
struct requeued {
    const char *dest;
    const char *key;
};

static void
read_requeued(struct call *c, void *row)
{
    struct requeued *q = row;

    q->dest = sq_col_text(c);
    q->key = sq_col_text(c);
}

/*
 * Run one of the requeue statements (which return the touched queues),
 * then give each touched queue its head. Adds the count to *queued.
 */
static int
requeue(struct conn *w, const char *sql, const struct replay_args *ra,
        const char *op, struct err *e)
{
    struct arena a;
    struct call c = {0};
    void *rows = NULL;
    struct requeued *q = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    arena_init(&a, 1 << 20);
    rc = sq_call_start(&c, w, sql, &a, op, e);
    if (rc != 0) {
        goto out;
    }
    sq_bind_int(&c, ra->now);
    if (ra->event_id != NULL) {
        sq_bind_text(&c, ra->event_id);
    } else {
        sq_bind_text(&c, ra->dev_id);
        sq_bind_int(&c, ra->since);
    }
    rc = sq_call_rows(&c, sizeof(*q), read_requeued, &rows, &n);
    sq_call_end(&c);
    q = rows;
    for (i = 0; rc == 0 && i < n; i++) {
        rc = promote(w, q[i].dest, q[i].key, op, e);
    }
    if (rc == 0) {
        *ra->queued += (int64_t)n;
    }
out:
    sq_call_end(&c);
    arena_release(&a);
    return rc;
}

static int
run_event_replay(struct conn *w, const struct wop *op, struct err *e)
{
    const struct replay_args *ra = op->in.p;
    struct call c = {0};
    int rc = sq_call_start(&c, w, ST_EVENT_SEQ, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, ra->event_id);
        sq_bind_text(&c, ra->dev_id);
        rc = sq_call_step(&c);
        if (rc == 0) {
            rc =
                err_set(e, ERR_NOTFOUND, "no event with id '%s'", ra->event_id);
        } else if (rc == 1) {
            rc = 0;
        }
    }
    sq_call_end(&c);
    if (rc == 0) {
        rc = sq_call_start(&c, w, ST_ATTEMPT_KEEP, NULL, op->name, e);
        if (rc == 0) {
            sq_bind_text(&c, ra->event_id);
            rc = sq_call_run(&c);
        }
        sq_call_end(&c);
    }
    if (rc == 0) {
        rc = requeue(w, ST_REQUEUE_EVENT, ra, op->name, e);
    }
    if (rc == 0) {
        rc = requeue(w, ST_ADD_MISSING, ra, op->name, e);
    }
    return rc;
}

int
sq_event_replay(struct store *s, const char *dev_id, const char *event_id,
                int64_t now, int64_t *queued, struct err *e)
{
    struct wop op = {.run = run_event_replay, .name = "store_event_replay"};
    struct replay_args ra = {dev_id, event_id, 0, now, queued};

    *queued = 0;
    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}

static int
run_replay_dead(struct conn *w, const struct wop *op, struct err *e)
{
    return requeue(w, ST_REQUEUE_DEAD, op->in.p, op->name, e);
}

int
sq_delivery_replay_dead(struct store *s, const char *dev_id, int64_t since,
                        int64_t now, int64_t *queued, struct err *e)
{
    struct wop op = {.run = run_replay_dead,
                     .name = "store_delivery_replay_dead"};
    struct replay_args ra = {dev_id, NULL, since, now, queued};

    *queued = 0;
    op.in.p = &ra;
    return sq_write_sync(s, &op, e);
}
