/*
 * test_store_destinations.c - destinations in the store, against a
 * temporary SQLite file.
 *
 * A second sqlite3 connection ("side") adds events behind the store's
 * back (the trigger queues their deliveries) and looks at the
 * deliveries a removal leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tap.h"

#define ARENA_MAX (1 << 20)

#define DEST_A1 "00000000-0000-4000-8000-0000000000a1"
#define DEST_A2 "00000000-0000-4000-8000-0000000000a2"
#define DEST_B1 "00000000-0000-4000-8000-0000000000b1"

static char dir[64];
static char dbpath[128];
static sqlite3 *side;

static const unsigned char conf_box[] = {1, 2, 3, 4, 5};
static const unsigned char secret_box[] = {9, 8, 7};
static const unsigned char new_box[] = {6, 6, 6, 6};

/* ---- helpers ---- */

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

static int
side_exec(const char *sql)
{
    int rc = sqlite3_exec(side, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        printf("# side_exec %s: %s\n", sql, sqlite3_errmsg(side));
    }
    return rc;
}

/* An event of `dev` (no user) with the id from `n`. */
static void
add_event(const char *dev, unsigned n)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "INSERT INTO events (id, dev_id, type, body, created_at)"
             " VALUES ('00000000-0000-4000-8000-%012u', '%s', 'auth',"
             " '{}', %u)",
             n, dev, 1000 + n);
    side_exec(sql);
}

/* Deliveries to `dest` in `state`. */
static long long
deliveries(struct store *s, const char *dest, const char *state)
{
    struct store_delivery_query q;
    struct store_delivery *d = NULL;
    struct arena a;
    size_t n = 0;
    struct err e;

    memset(&q, 0, sizeof(q));
    q.destination_id = dest;
    q.state = state;
    q.limit = 1000;
    arena_init(&a, 1 << 20);
    if (store_delivery_list(s, &q, &a, &d, &n, &e) != 0) {
        printf("# list: %s\n", e.msg);
    }
    arena_release(&a);
    return (long long)n;
}

static void
make_developer(struct store *s, const char *id)
{
    struct store_developer d = {id, id, 1, 0};
    struct err e;

    err_clear(&e);
    if (store_developer_create(s, &d, NULL, &e) != 0) {
        printf("# developer %s: %s\n", id, e.msg);
    }
}

static int
make_destination(struct store *s, const char *id, const char *dev,
                 int64_t created_at, struct err *e)
{
    struct store_destination d;

    memset(&d, 0, sizeof(d));
    d.id = id;
    d.dev_id = dev;
    d.kind = "webhook";
    d.url = "https://example.com/hook";
    d.conf = conf_box;
    d.conf_len = sizeof(conf_box);
    d.secret = secret_box;
    d.secret_len = sizeof(secret_box);
    d.created_at = created_at;
    return store_destination_create(s, &d, e);
}

/* ---- tests ---- */

static void
test_create_get(struct store *s)
{
    struct store_destination d;
    struct arena a;
    struct err e;
    int rc = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(make_destination(s, DEST_A1, "dev_a", 100, &e), 0, "create A1");
    is_int(make_destination(s, DEST_A2, "dev_a", 200, &e), 0, "create A2");
    is_int(make_destination(s, DEST_B1, "dev_b", 150, &e), 0, "create B1");
    is_int(make_destination(s, DEST_A1, "dev_a", 300, &e), ERR_CONFLICT,
           "an id taken is a conflict");
    rc = make_destination(s, "00000000-0000-4000-8000-0000000000ff", "dev_x",
                          300, &e);
    is_int(rc, ERR_NOTFOUND, "an unknown developer is not found");
    ok(strstr(e.msg, "dev_x") != NULL, "... and named");

    memset(&d, 0, sizeof(d));
    rc = store_destination_get(s, "dev_a", DEST_A1, &a, &d, &e);
    is_int(rc, 0, "get A1 as dev_a");
    is_str(d.id, DEST_A1, "id");
    is_str(d.dev_id, "dev_a", "dev_id");
    is_str(d.kind, "webhook", "kind");
    is_str(d.url, "https://example.com/hook", "url");
    ok(d.conf_len == sizeof(conf_box) &&
           memcmp(d.conf, conf_box, d.conf_len) == 0,
       "conf round-trips");
    ok(d.secret_len == sizeof(secret_box) &&
           memcmp(d.secret, secret_box, d.secret_len) == 0,
       "secret round-trips");
    ok(d.previous_secret == NULL && d.previous_secret_len == 0,
       "no previous secret");
    is_int(d.previous_until, 0, "previous_until 0");
    is_int(d.created_at, 100, "created_at");
    is_int(d.removed_at, 0, "in use");

    is_int(store_destination_get(s, NULL, DEST_A1, &a, &d, &e), 0,
           "the operator gets A1");
    rc = store_destination_get(s, "dev_b", DEST_A1, &a, &d, &e);
    is_int(rc, ERR_NOTFOUND, "dev_b does not get A1");
    rc = store_destination_get(s, NULL, "nope", &a, &d, &e);
    is_int(rc, ERR_NOTFOUND, "an unknown id is not found");
    arena_release(&a);
}

static void
test_list(struct store *s, int removed_a1)
{
    struct store_destination *d = NULL;
    struct arena a;
    struct err e;
    size_t n = 0;
    int rc = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    rc = store_destination_list(s, "dev_a", 0, &a, &d, &n, &e);
    is_int(rc, 0, "list dev_a");
    if (removed_a1) {
        ok(n == 1 && strcmp(d[0].id, DEST_A2) == 0, "dev_a: only A2 is in use");
    } else {
        ok(n == 2 && strcmp(d[0].id, DEST_A1) == 0 &&
               strcmp(d[1].id, DEST_A2) == 0,
           "dev_a: A1, A2 in creation order");
    }
    rc = store_destination_list(s, "dev_a", 1, &a, &d, &n, &e);
    ok(rc == 0 && n == 2, "dev_a with removed ones: 2");
    if (removed_a1 && n == 2) {
        ok(d[0].removed_at > 0 && d[1].removed_at == 0, "A1 shows as removed");
    }
    rc = store_destination_list(s, NULL, 1, &a, &d, &n, &e);
    ok(rc == 0 && n == 3, "every developer: 3");
    if (n == 3) {
        ok(strcmp(d[0].id, DEST_A1) == 0 && strcmp(d[1].id, DEST_B1) == 0 &&
               strcmp(d[2].id, DEST_A2) == 0,
           "... in creation order");
    }
    rc = store_destination_list(s, "dev_c", 1, &a, &d, &n, &e);
    ok(rc == 0 && n == 0 && d == NULL, "dev_c has none");
    arena_release(&a);
}

static void
test_remove(struct store *s)
{
    struct store_destination d;
    struct arena a;
    struct err e;
    int rc = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    add_event("dev_a", 1);
    add_event("dev_a", 2);
    add_event("dev_a", 3);
    add_event("dev_b", 4);
    is_int(deliveries(s, DEST_A1, "pending"), 3, "three to come for A1");
    is_int(deliveries(s, DEST_A2, "pending"), 3, "three queued for A2");
    is_int(deliveries(s, DEST_B1, "pending"), 1, "one queued for B1");
    /* the first delivered, the second in flight after a failure: rows;
     * the third waits after A1's cursor, with none */
    side_exec("INSERT INTO deliveries (event_seq, event_id, destination_id,"
              " order_key, lane, head, state, next_attempt_at, created_at,"
              " updated_at) SELECT seq, id, '" DEST_A1 "', id, 1, 0,"
              " 'delivered', 0, 0, 0 FROM events"
              " WHERE id LIKE '%000000000001'");
    side_exec("INSERT INTO deliveries (event_seq, event_id, destination_id,"
              " order_key, lane, head, state, next_attempt_at, lease_owner,"
              " lease_until, created_at, updated_at) SELECT seq, id,"
              " '" DEST_A1 "', id, 1, 1, 'in_flight', 0, 'w', 99999, 0, 0"
              " FROM events WHERE id LIKE '%000000000002'");
    is_int(deliveries(s, DEST_A1, "pending"), 1, "A1: one still to come");

    rc = store_destination_remove(s, "dev_b", DEST_A1, 5000, &e);
    is_int(rc, ERR_NOTFOUND, "dev_b cannot remove A1");
    is_int(deliveries(s, DEST_A1, "cancelled"), 0, "... and cancels nothing");
    rc = store_destination_remove(s, "dev_a", DEST_A1, 5000, &e);
    is_int(rc, 0, "dev_a removes A1");
    is_int(deliveries(s, DEST_A1, "cancelled"), 1,
           "its in-flight delivery is cancelled");
    is_int(deliveries(s, DEST_A1, "pending"), 0,
           "... and the one to come is no more");
    is_int(deliveries(s, DEST_A1, "delivered"), 1, "the delivered one stays");
    is_int(side_int("SELECT count(*) FROM deliveries"
                    " WHERE destination_id = '" DEST_A1 "'"
                    " AND state = 'cancelled' AND head != 0"),
           0, "cancelled ones are no head");
    is_int(side_int("SELECT count(*) FROM deliveries"
                    " WHERE destination_id = '" DEST_A1 "'"
                    " AND state = 'cancelled' AND lease_owner = 'w'"
                    " AND lease_until = 99999"),
           1, "the one in flight keeps its owner, to record its outcome");
    is_int(deliveries(s, DEST_A2, "pending"), 3, "A2 keeps its queue");
    is_int(deliveries(s, DEST_B1, "pending"), 1, "B1 keeps its queue");

    rc = store_destination_remove(s, NULL, DEST_A1, 6000, &e);
    is_int(rc, ERR_NOTFOUND, "removing twice is not found");
    rc = store_destination_remove(s, NULL, "nope", 6000, &e);
    is_int(rc, ERR_NOTFOUND, "an unknown id is not found");

    memset(&d, 0, sizeof(d));
    rc = store_destination_get(s, "dev_a", DEST_A1, &a, &d, &e);
    ok(rc == 0 && d.removed_at == 5000, "get shows removed_at");

    add_event("dev_a", 5);
    is_int(side_int("SELECT count(*) FROM deliveries"
                    " WHERE destination_id = '" DEST_A1 "'"
                    " AND event_id LIKE '%000000000005'"),
           0, "a removed destination gets no new event");
    is_int(deliveries(s, DEST_A2, "pending"), 4, "A2 does");
    arena_release(&a);
}

/* A rotation to `secret` of what the caller read as `replaced`. */
static int
rotate(struct store *s, const char *dev_id, const char *id,
       const unsigned char *secret, size_t secret_len,
       const unsigned char *replaced, size_t replaced_len, int64_t until,
       struct err *e)
{
    struct store_rotation r;

    memset(&r, 0, sizeof(r));
    r.secret = secret;
    r.secret_len = secret_len;
    r.replaced = replaced;
    r.replaced_len = replaced_len;
    r.previous_until = until;
    return store_destination_rotate(s, dev_id, id, &r, e);
}

static void
test_rotate(struct store *s)
{
    static const unsigned char third_box[] = "a third sealed secret";
    struct store_destination d;
    struct arena a;
    struct err e;
    int rc = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    rc = rotate(s, "dev_b", DEST_A2, new_box, sizeof(new_box), secret_box,
                sizeof(secret_box), 7000, &e);
    is_int(rc, ERR_NOTFOUND, "dev_b cannot rotate A2");
    rc = rotate(s, "dev_a", DEST_A2, new_box, sizeof(new_box), secret_box,
                sizeof(secret_box), 7000, &e);
    is_int(rc, 0, "dev_a rotates A2");
    memset(&d, 0, sizeof(d));
    rc = store_destination_get(s, "dev_a", DEST_A2, &a, &d, &e);
    is_int(rc, 0, "get A2");
    ok(d.secret_len == sizeof(new_box) &&
           memcmp(d.secret, new_box, d.secret_len) == 0,
       "the new secret is stored");
    ok(d.previous_secret_len == sizeof(secret_box) &&
           memcmp(d.previous_secret, secret_box, sizeof(secret_box)) == 0,
       "the old one is kept as previous");
    is_int(d.previous_until, 7000, "until the grace ends");
    ok(d.conf_len == sizeof(conf_box), "conf untouched");

    /* a second rotation that read the secret before the first one
     * committed changes nothing */
    rc = rotate(s, "dev_a", DEST_A2, third_box, sizeof(third_box), secret_box,
                sizeof(secret_box), 9000, &e);
    is_int(rc, ERR_CONFLICT, "a rotation of a secret replaced meanwhile");
    ok(strstr(e.msg, "meanwhile") != NULL, "... says so");
    rc = store_destination_get(s, "dev_a", DEST_A2, &a, &d, &e);
    ok(rc == 0 && d.secret_len == sizeof(new_box) &&
           memcmp(d.secret, new_box, d.secret_len) == 0 &&
           d.previous_until == 7000,
       "... and changes nothing");

    rc = rotate(s, NULL, DEST_A2, secret_box, sizeof(secret_box), new_box,
                sizeof(new_box), 0, &e);
    is_int(rc, 0, "the operator rotates without a previous one");
    rc = store_destination_get(s, NULL, DEST_A2, &a, &d, &e);
    ok(rc == 0 && d.previous_secret == NULL && d.previous_until == 0,
       "no previous secret then");

    rc = rotate(s, NULL, DEST_A1, new_box, sizeof(new_box), secret_box,
                sizeof(secret_box), 0, &e);
    is_int(rc, ERR_NOTFOUND, "a removed destination cannot be rotated");
    arena_release(&a);
}

int
main(void)
{
    struct store_options opt = {.busy_timeout_ms = 1000};
    struct store *s = NULL;
    char url[160];
    struct err e;

    err_clear(&e);
    snprintf(dir, sizeof(dir), "/tmp/ferry-test-dest-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return done_testing();
    }
    snprintf(dbpath, sizeof(dbpath), "%s/ferry.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", dbpath);
    if (store_open(&s, url, &opt, &e) != 0 || store_migrate(s, NULL, &e) != 0) {
        printf("# store: %s\n", e.msg);
        ok(0, "open and migrate the test store");
        store_free(s);
        return done_testing();
    }
    if (sqlite3_open_v2(dbpath, &side, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        ok(0, "open the side connection");
        store_free(s);
        return done_testing();
    }
    sqlite3_busy_timeout(side, 5000);
    make_developer(s, "dev_a");
    make_developer(s, "dev_b");
    make_developer(s, "dev_c");

    test_create_get(s);
    test_list(s, 0);
    test_remove(s);
    test_list(s, 1);
    test_rotate(s);

    sqlite3_close(side);
    store_free(s);
    if (tap_failed == 0) {
        char cmd[96];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            printf("# could not remove %s\n", dir);
        }
    }
    return done_testing();
}
