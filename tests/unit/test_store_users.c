/*
 * test_store_users.c - connections, users, tokens and events in the
 * store, against a temporary SQLite file.
 *
 * Each write that makes or changes a user is checked for what it
 * writes and, when it fails, for leaving nothing behind: the attempt
 * still unused, the link still open, no user, no token, no event. A
 * second sqlite3 connection ("side") counts rows behind the store's
 * back.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tap.h"

#define ARENA_MAX (1 << 20)

static char dir[64];
static char dbpath[128];
static sqlite3 *side;

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

/* A row count that names the table in a check. */
static long long
rows(const char *table)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return side_int(sql);
}

static void
fill_hash(unsigned char h[32], unsigned tag, unsigned n)
{
    memset(h, 0xa5, 32);
    h[0] = (unsigned char)tag;
    h[1] = (unsigned char)n;
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

/* An open link `id` of `dev` with its token hash from `n`. */
static void
make_session(struct store *s, const char *id, const char *dev, unsigned n,
             const char *reserved)
{
    struct store_session ss;
    struct err e;

    memset(&ss, 0, sizeof(ss));
    err_clear(&e);
    ss.id = id;
    ss.dev_id = dev;
    ss.kind = reserved != NULL ? "direct" : "widget";
    fill_hash(ss.token_hash, 1, n);
    ss.providers = "SANDBOX";
    ss.created_at = 10;
    ss.expires_at = 1000000;
    ss.user_id = reserved;
    ss.resource = reserved != NULL ? "SANDBOX" : NULL;
    if (store_session_create(s, &ss, &e) != 0) {
        printf("# session %s: %s\n", id, e.msg);
    }
}

/* An attempt with the state hash from `n` on link `sid`. */
static void
make_attempt(struct store *s, unsigned n, const char *sid, const char *dev,
             const char *user_id)
{
    static const unsigned char verifier[] = {1, 2, 3, 4};
    struct store_attempt at;
    struct err e;

    memset(&at, 0, sizeof(at));
    err_clear(&e);
    fill_hash(at.state_hash, 2, n);
    at.session_id = sid;
    at.dev_id = dev;
    at.resource = "SANDBOX";
    at.user_id = user_id;
    at.verifier = verifier;
    at.verifier_len = sizeof(verifier);
    at.created_at = 20;
    at.expires_at = 1000000;
    if (store_attempt_create(s, &at, &e) != 0) {
        printf("# attempt %u: %s\n", n, e.msg);
    }
}

static int64_t
attempt_used_at(struct store *s, unsigned n)
{
    struct store_attempt at;
    unsigned char h[32];
    struct arena a;
    int64_t used = -1;

    arena_init(&a, ARENA_MAX);
    fill_hash(h, 2, n);
    if (store_attempt_get(s, h, &a, &at, NULL) == 0) {
        used = at.used_at;
    }
    arena_release(&a);
    return used;
}

static void
init_user(struct store_user *u, const char *id, const char *dev,
          const char *account, const char *ref, const char *sid,
          int64_t created)
{
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->dev_id = dev;
    u->provider = "SANDBOX";
    u->provider_user_id = account;
    u->reference_id = ref;
    u->session_id = sid;
    u->state = "connected";
    u->active = 1;
    u->scopes = "activity sleep";
    u->created_at = created;
    u->updated_at = created;
}

static void
init_event(struct store_event *ev, const char *id, const char *dev,
           const char *user_id, const char *type, int64_t at)
{
    memset(ev, 0, sizeof(*ev));
    ev->id = id;
    ev->dev_id = dev;
    ev->user_id = user_id;
    ev->type = type;
    ev->body = "{\"type\":\"test\"}";
    ev->created_at = at;
}

static const unsigned char sealed_bytes[] = {0xde, 0xad, 0xbe,
                                             0xef, 0x00, 0x01};

/* Where connect_user() lets the store read a replaced user. */
static struct arena helper_arena;

/*
 * A whole connection for `id` in one call: its own link and attempt
 * (numbered `n`), the user, a token and one auth event "ev-<id>".
 */
static int
connect_user(struct store *s, unsigned n, const char *id, const char *dev,
             const char *account, const char *ref, int64_t created, int replace)
{
    struct store_connect c;
    struct store_user u;
    struct store_event ev;
    unsigned char h[32];
    char sid[64];
    char evid[64];
    struct err e;
    int rc = 0;

    err_clear(&e);
    snprintf(sid, sizeof(sid), "sess-%s", id);
    snprintf(evid, sizeof(evid), "ev-%s", id);
    make_session(s, sid, dev, n, NULL);
    make_attempt(s, n, sid, dev, id);
    init_user(&u, id, dev, account, ref, sid, created);
    init_event(&ev, evid, dev, id, "auth", created);
    fill_hash(h, 2, n);
    memset(&c, 0, sizeof(c));
    c.state_hash = h;
    c.session_id = sid;
    c.user = &u;
    c.sealed = sealed_bytes;
    c.sealed_len = sizeof(sealed_bytes);
    c.token_expires_at = created + 3600;
    c.replace = replace;
    c.arena = &helper_arena;
    c.events = &ev;
    c.nevents = 1;
    c.now = created;
    rc = store_connect(s, &c, &e);
    if (rc != 0) {
        printf("# connect %s: %s\n", id, e.msg);
    }
    return rc;
}

/* ---- store_connect ---- */

static void
test_connect(struct store *s)
{
    struct store_connect c;
    struct store_user u;
    struct store_user u2;
    struct store_user got;
    struct store_event evs[2];
    struct store_event *list = NULL;
    struct store_event_query q = {0};
    struct store_session ss;
    struct store_stats before;
    struct store_stats after;
    const unsigned char *sealed = NULL;
    size_t len = 0;
    size_t n = 0;
    int64_t exp = 0;
    unsigned char h[32];
    long long nusers = 0;
    long long nevents = 0;
    long long ntokens = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    make_session(s, "sess-1", "dev_a", 100, "user-1");
    make_attempt(s, 100, "sess-1", "dev_a", "user-1");
    init_user(&u, "user-1", "dev_a", "acct-1", "ref-1", "sess-1", 500);
    init_event(&evs[0], "ev-1a", "dev_a", "user-1", "auth", 500);
    init_event(&evs[1], "ev-1b", "dev_a", "user-1", "other", 500);
    fill_hash(h, 2, 100);
    memset(&c, 0, sizeof(c));
    c.state_hash = h;
    c.session_id = "sess-1";
    c.user = &u;
    c.sealed = sealed_bytes;
    c.sealed_len = sizeof(sealed_bytes);
    c.token_expires_at = 4100;
    c.events = evs;
    c.nevents = 2;
    c.now = 500;

    store_stats(s, &before);
    is_int(store_connect(s, &c, &e), 0, "store_connect");
    store_stats(s, &after);
    is_int(after.writes - before.writes, 1, "... one write");
    is_int(after.commits - before.commits, 1, "... in one transaction");

    is_int(store_user_get(s, "dev_a", "user-1", &a, &got, &e), 0,
           "the user is stored");
    is_str(got.id, "user-1", "id");
    is_str(got.dev_id, "dev_a", "dev_id");
    is_str(got.provider, "SANDBOX", "provider");
    is_str(got.provider_user_id, "acct-1", "provider_user_id");
    is_str(got.reference_id, "ref-1", "reference_id");
    is_str(got.session_id, "sess-1", "session_id");
    is_str(got.state, "connected", "state connected");
    is_int(got.active, 1, "active");
    is_str(got.scopes, "activity sleep", "scopes");
    is_int(got.created_at, 500, "created_at");
    is_int(got.updated_at, 500, "updated_at");
    is_int(got.last_webhook_update, 0, "last_webhook_update 0 (never)");
    is_int(got.last_polled_at, 0, "last_polled_at 0 (never)");
    is_int(got.most_recent_data_at, 0, "most_recent_data_at 0 (none)");
    is_int(store_user_get(s, NULL, "user-1", &a, &got, &e), 0,
           "store_user_get with no developer finds it too");
    is_int(store_user_get(s, "dev_b", "user-1", &a, &got, &e), ERR_NOTFOUND,
           "... another developer does not");

    is_int(store_token_get(s, "user-1", &a, &sealed, &len, &exp, &e), 0,
           "the token is stored");
    ok(len == sizeof(sealed_bytes) && sealed != NULL &&
           memcmp(sealed, sealed_bytes, len) == 0,
       "... the sealed bytes as given, NUL included");
    is_int(exp, 4100, "... with its expiry");

    q.user_id = "user-1";
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "events of user-1");
    is_int(n, 2, "... both events");
    if (n == 2) {
        is_str(list[0].id, "ev-1a", "... in the order given");
        is_str(list[1].id, "ev-1b", "...");
        is_str(list[0].type, "auth", "... type");
        is_str(list[0].body, "{\"type\":\"test\"}", "... body");
        is_str(list[0].dev_id, "dev_a", "... dev_id");
        ok(list[1].seq > list[0].seq, "... seq increasing");
    }

    is_int(store_session_get(s, "sess-1", &a, &ss, &e), 0, "the link");
    is_int(ss.completed_at, 500, "... is completed at now");
    is_str(ss.user_id, "user-1", "... with the user");
    is_str(ss.resource, "SANDBOX", "... and the provider");
    is_int(attempt_used_at(s, 100), 500, "the attempt is used at now");

    /* the same attempt again: nothing of the second connection */
    nusers = rows("users");
    nevents = rows("events");
    ntokens = rows("tokens");
    init_user(&u2, "user-2", "dev_a", "acct-2", NULL, "sess-1", 600);
    init_event(&evs[0], "ev-2a", "dev_a", "user-2", "auth", 600);
    c.user = &u2;
    c.events = evs;
    c.nevents = 1;
    c.now = 600;
    is_int(store_connect(s, &c, &e), ERR_GONE,
           "the same attempt twice: ERR_GONE");
    ok(strstr(e.msg, "store_connect") != NULL, "... the detail names it");
    is_int(store_user_get(s, NULL, "user-2", &a, &got, &e), ERR_NOTFOUND,
           "... no second user");
    is_int(rows("users"), nusers, "... the user count is unchanged");
    is_int(rows("events"), nevents, "... no event");
    is_int(rows("tokens"), ntokens, "... no token");
    is_int(attempt_used_at(s, 100), 500, "... the attempt keeps its time");

    /* a fresh attempt on the completed link */
    make_attempt(s, 101, "sess-1", "dev_a", "user-2");
    fill_hash(h, 2, 101);
    is_int(store_connect(s, &c, &e), ERR_GONE,
           "a fresh attempt on a completed link: ERR_GONE");
    is_int(attempt_used_at(s, 101), 0,
           "... the attempt is not used up (all undone)");
    is_int(store_session_get(s, "sess-1", &a, &ss, &e), 0, "the link");
    is_str(ss.user_id, "user-1", "... still names the first user");
    is_int(ss.completed_at, 500, "... and its time");
    is_int(rows("users"), nusers, "... no user");
    is_int(rows("events"), nevents, "... no event");
    is_int(rows("tokens"), ntokens, "... no token");
    arena_release(&a);
}

static char composed_with[64];

/* A composer that notes whom it was told of and adds `arg`'s event. */
static int
compose_reauth(void *arg, const struct store_user *replaced,
               const struct store_event **events, size_t *n)
{
    snprintf(composed_with, sizeof(composed_with), "%s",
             replaced != NULL ? replaced->id : "(none)");
    if (replaced != NULL) {
        *events = arg;
        *n = 1;
    }
    return 0;
}

static int
compose_fail(void *arg, const struct store_user *replaced,
             const struct store_event **events, size_t *n)
{
    (void)arg;
    (void)replaced;
    (void)events;
    (void)n;
    return ERR_NOMEM;
}

/* A connection that replaces another, found by the store. */
static void
test_connect_replacing(struct store *s)
{
    struct store_connect c;
    struct store_user u;
    struct store_user got;
    struct store_event ev;
    struct store_event more;
    const unsigned char *sealed = NULL;
    size_t len = 0;
    int64_t exp = 0;
    unsigned char h[32];
    long long nusers = 0;
    long long nevents = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(connect_user(s, 110, "old-1", "dev_a", "acct-r", "ref-r", 700, 0), 0,
           "a user to replace");
    is_int(connect_user(s, 111, "new-1", "dev_a", "acct-r", "ref-r", 710, 1), 0,
           "a connection replacing it");
    is_int(store_user_get(s, "dev_a", "old-1", &a, &got, &e), 0,
           "the old user is kept");
    is_str(got.state, "deauthorized", "... deauthorized");
    is_int(got.active, 0, "... inactive");
    is_int(got.updated_at, 710, "... updated at now");
    is_int(store_token_get(s, "old-1", &a, &sealed, &len, &exp, &e),
           ERR_NOTFOUND, "... its token deleted");
    is_int(store_user_get(s, "dev_a", "new-1", &a, &got, &e), 0,
           "the new user");
    is_str(got.state, "connected", "... connected");

    /* the store finds whom to replace, and tells the composer */
    nusers = rows("users");
    nevents = rows("events");
    make_session(s, "sess-c", "dev_a", 112, NULL);
    make_attempt(s, 112, "sess-c", "dev_a", "new-2");
    init_user(&u, "new-2", "dev_a", "acct-r", "ref-r", "sess-c", 720);
    init_event(&ev, "ev-new-2", "dev_a", "new-2", "auth", 720);
    init_event(&more, "ev-reauth-2", "dev_a", "new-2", "user_reauth", 720);
    fill_hash(h, 2, 112);
    memset(&c, 0, sizeof(c));
    c.state_hash = h;
    c.session_id = "sess-c";
    c.user = &u;
    c.sealed = sealed_bytes;
    c.sealed_len = sizeof(sealed_bytes);
    c.replace = 1;
    c.compose = compose_reauth;
    c.compose_arg = &more;
    c.arena = &a;
    c.events = &ev;
    c.nevents = 1;
    c.now = 720;
    composed_with[0] = '\0';
    is_int(store_connect(s, &c, &e), 0, "replacing the connected user");
    is_str(composed_with, "new-1", "... the composer is told whom");
    is_int(rows("users"), nusers + 1, "... one user more");
    is_int(rows("events"), nevents + 2, "... the auth and the composed event");
    is_int(store_user_get(s, "dev_a", "new-1", &a, &got, &e), 0, "new-1");
    is_str(got.state, "deauthorized", "... is replaced");

    /* no one left to replace: the composer hears NULL */
    make_session(s, "sess-d", "dev_a", 113, NULL);
    make_attempt(s, 113, "sess-d", "dev_a", "new-3");
    init_user(&u, "new-3", "dev_a", "acct-other", "ref-r", "sess-d", 730);
    init_event(&ev, "ev-new-3", "dev_a", "new-3", "auth", 730);
    fill_hash(h, 2, 113);
    c.session_id = "sess-d";
    c.now = 730;
    composed_with[0] = '\0';
    is_int(store_connect(s, &c, &e), 0, "another account: nothing replaced");
    is_str(composed_with, "(none)", "... the composer is told so");
    is_int(store_user_get(s, "dev_a", "new-2", &a, &got, &e), 0, "new-2");
    is_str(got.state, "connected", "... stays connected");

    /* a composer that fails takes the whole write with it */
    make_session(s, "sess-rf", "dev_a", 114, NULL);
    make_attempt(s, 114, "sess-rf", "dev_a", "new-4");
    init_user(&u, "new-4", "dev_a", "acct-r", "ref-r", "sess-rf", 740);
    init_event(&ev, "ev-new-4", "dev_a", "new-4", "auth", 740);
    fill_hash(h, 2, 114);
    c.session_id = "sess-rf";
    c.compose = compose_fail;
    c.now = 740;
    nusers = rows("users");
    nevents = rows("events");
    is_int(store_connect(s, &c, &e) < 0, 1, "a failing composer fails it");
    is_int(rows("users"), nusers, "... no user");
    is_int(rows("events"), nevents, "... no event");
    is_int(store_user_get(s, "dev_a", "new-2", &a, &got, &e), 0, "new-2");
    is_str(got.state, "connected", "... not replaced after all");
    is_int(attempt_used_at(s, 114), 0, "... the attempt is unused");
    arena_release(&a);
}

/* The connected user of an account and reference_id. */
static void
test_find_connected(struct store *s)
{
    struct store_user got;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_user_find_connected(s, "dev_a", "SANDBOX", "acct-r", "ref-r",
                                     &a, &got, &e),
           0, "find the connected user of an account");
    is_str(got.id, "new-2", "... the newest connected one");
    is_int(store_user_find_connected(s, "dev_b", "SANDBOX", "acct-r", "ref-r",
                                     &a, &got, &e),
           ERR_NOTFOUND, "... not for another developer");
    is_int(store_user_find_connected(s, "dev_a", "OURA", "acct-r", "ref-r", &a,
                                     &got, &e),
           ERR_NOTFOUND, "... not for another provider");
    is_int(store_user_find_connected(s, "dev_a", "SANDBOX", "acct-r", NULL, &a,
                                     &got, &e),
           ERR_NOTFOUND, "... a NULL reference_id matches only NULL");
    is_int(connect_user(s, 120, "noref-1", "dev_a", "acct-n", NULL, 730, 0), 0,
           "a user without reference_id");
    is_int(store_user_find_connected(s, "dev_a", "SANDBOX", "acct-n", NULL, &a,
                                     &got, &e),
           0, "... found with a NULL reference_id");
    is_str(got.id, "noref-1", "...");
    is_int(store_user_find_connected(s, "dev_a", "SANDBOX", "acct-n", "x", &a,
                                     &got, &e),
           ERR_NOTFOUND, "... not with a reference_id");
    is_int(store_user_find_connected(s, "dev_a", "SANDBOX", "acct-1", "ref-1",
                                     &a, &got, &e),
           0, "user-1 is found");
    arena_release(&a);
}

/* ---- store_attempt_fail ---- */

static void
test_attempt_fail(struct store *s)
{
    struct store_event ev;
    struct store_event *list = NULL;
    struct store_event_query q = {0};
    unsigned char h[32];
    size_t n = 0;
    long long nevents = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    make_session(s, "sess-f", "dev_a", 130, NULL);
    make_attempt(s, 130, "sess-f", "dev_a", "res-f");
    fill_hash(h, 2, 130);
    nevents = rows("events");
    init_event(&ev, "ev-fail-1", "dev_a", NULL, "auth", 800);
    is_int(store_attempt_fail(s, h, &ev, 800, &e), 0, "store_attempt_fail");
    is_int(attempt_used_at(s, 130), 800, "... uses the attempt up");
    is_int(rows("events"), nevents + 1, "... and adds the event");
    q.type = "auth";
    q.dev_id = "dev_a";
    q.after_seq = 0;
    q.limit = 1000;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "list");
    ok(n > 0 && strcmp(list[n - 1].id, "ev-fail-1") == 0,
       "... the failure event is the newest");
    ok(n > 0 && list[n - 1].user_id == NULL, "... naming no user");

    init_event(&ev, "ev-fail-2", "dev_a", NULL, "auth", 810);
    is_int(store_attempt_fail(s, h, &ev, 810, &e), 0,
           "the same attempt failing twice: 0");
    is_int(attempt_used_at(s, 130), 800, "... it keeps its first time");
    is_int(rows("events"), nevents + 2, "... the second event is added");

    init_event(&ev, "ev-fail-3", "dev_a", NULL, "auth", 820);
    is_int(store_attempt_fail(s, NULL, &ev, 820, &e), 0,
           "no attempt known (NULL): 0");
    is_int(rows("events"), nevents + 3, "... the event is added");

    fill_hash(h, 2, 199);
    init_event(&ev, "ev-fail-4", "dev_a", NULL, "auth", 830);
    is_int(store_attempt_fail(s, h, &ev, 830, &e), 0, "an unknown attempt: 0");
    is_int(rows("events"), nevents + 4, "... the event is added");

    init_event(&ev, "ev-fail-1", "dev_a", NULL, "auth", 840);
    make_attempt(s, 131, "sess-f", "dev_a", "res-f2");
    fill_hash(h, 2, 131);
    is_int(store_attempt_fail(s, h, &ev, 840, &e), ERR_CONFLICT,
           "an event id that exists: ERR_CONFLICT");
    is_int(attempt_used_at(s, 131), 0, "... and the attempt stays unused");
    is_int(rows("events"), nevents + 4, "... no event");

    /* a failed attempt cannot complete a connection afterwards */
    fill_hash(h, 2, 130);
    {
        struct store_connect c;
        struct store_user u;

        init_user(&u, "res-f", "dev_a", "acct-f", NULL, "sess-f", 850);
        memset(&c, 0, sizeof(c));
        c.state_hash = h;
        c.session_id = "sess-rf";
        c.user = &u;
        c.now = 850;
        is_int(store_connect(s, &c, &e), ERR_GONE,
               "connecting with a failed attempt: ERR_GONE");
        is_int(store_user_get(s, NULL, "res-f", &a, &u, &e), ERR_NOTFOUND,
               "... no user");
    }
    arena_release(&a);
}

/* ---- the asynchronous writes ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done_calls;
static int done_rc;

static void
on_done(void *arg, int rc, const struct err *e)
{
    (void)arg;
    (void)e;
    pthread_mutex_lock(&lock);
    done_calls++;
    done_rc = rc;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static int
wait_done(int calls)
{
    int got = 0;

    pthread_mutex_lock(&lock);
    while (done_calls < calls) {
        pthread_cond_wait(&cond, &lock);
    }
    got = done_rc;
    pthread_mutex_unlock(&lock);
    return got;
}

static void
test_async(struct store *s)
{
    struct store_connect c;
    struct store_user u;
    struct store_user got;
    struct store_event ev;
    struct store_event fev;
    unsigned char h[32];
    long long nevents = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    make_session(s, "sess-as", "dev_a", 140, NULL);
    make_attempt(s, 140, "sess-as", "dev_a", "async-1");
    init_user(&u, "async-1", "dev_a", "acct-as", NULL, "sess-as", 900);
    init_event(&ev, "ev-as", "dev_a", "async-1", "auth", 900);
    fill_hash(h, 2, 140);
    memset(&c, 0, sizeof(c));
    c.state_hash = h;
    c.session_id = "sess-as";
    c.user = &u;
    c.events = &ev;
    c.nevents = 1;
    c.now = 900;
    is_int(store_connect_async(s, &c, on_done, NULL), 0,
           "store_connect_async queues");
    is_int(wait_done(1), 0, "... done with 0");
    is_int(store_user_get(s, "dev_a", "async-1", &a, &got, &e), 0,
           "... the user is stored");
    is_int(store_connect_async(s, &c, on_done, NULL), 0, "again");
    is_int(wait_done(2), ERR_GONE, "... done with ERR_GONE");

    nevents = rows("events");
    init_event(&fev, "ev-as-fail", "dev_a", NULL, "auth", 910);
    is_int(store_attempt_fail_async(s, h, &fev, 910, on_done, NULL), 0,
           "store_attempt_fail_async queues");
    is_int(wait_done(3), ERR_GONE,
           "... done with ERR_GONE: its link completed");
    is_int(rows("events"), nevents, "... and no event is stored");
    pthread_mutex_lock(&lock);
    is_int(done_calls, 3, "each done callback ran exactly once");
    pthread_mutex_unlock(&lock);
    arena_release(&a);
}

/* ---- listing, counting and changing users ---- */

static size_t
list_users(struct store *s, const struct store_user_query *q, char *out,
           size_t len)
{
    struct store_user *us = NULL;
    struct arena a;
    size_t n = 0;
    size_t i = 0;
    size_t w = 0;

    arena_init(&a, ARENA_MAX);
    out[0] = '\0';
    if (store_user_list(s, q, &a, &us, &n, NULL) != 0) {
        snprintf(out, len, "(error)");
    }
    for (i = 0; i < n && w < len; i++) {
        w += (size_t)snprintf(out + w, len - w, "%s%s", i > 0 ? "," : "",
                              us[i].id);
    }
    arena_release(&a);
    return n;
}

static int64_t
count_users(struct store *s, const struct store_user_query *q)
{
    int64_t n = -1;

    if (store_user_count(s, q, &n, NULL) != 0) {
        return -1;
    }
    return n;
}

static void
test_user_list(struct store *s)
{
    struct store_user_query q = {0};
    char got[512];

    /* dev_b: four users; two created at the same time sort by id */
    connect_user(s, 150, "b-3", "dev_b", "acct-b3", "team", 2000, 0);
    connect_user(s, 151, "b-1", "dev_b", "acct-b1", "team", 1000, 0);
    connect_user(s, 152, "b-2b", "dev_b", "acct-b2", NULL, 1500, 0);
    connect_user(s, 153, "b-2a", "dev_b", "acct-b2x", "solo", 1500, 0);
    is_int(store_user_deauth(s, "dev_b", "b-3", NULL, 2100, NULL), 0,
           "deauthorize one of dev_b's users");

    q.dev_id = "dev_b";
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-1,b-2a,b-2b",
           "dev_b: oldest first, ties by id, deauthorized left out");
    is_int(count_users(s, &q), 3, "... count 3");
    q.with_deauthorized = 1;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-1,b-2a,b-2b,b-3", "with_deauthorized: all four");
    is_int(count_users(s, &q), 4, "... count 4");
    q.reference_id = "team";
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-1,b-3", "reference_id team, with deauthorized");
    q.with_deauthorized = 0;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-1", "reference_id team");
    is_int(count_users(s, &q), 1, "... count 1");
    q.reference_id = "nobody";
    is_int(list_users(s, &q, got, sizeof(got)), 0, "unknown reference: none");
    is_int(count_users(s, &q), 0, "... count 0");

    q.reference_id = NULL;
    q.offset = 1;
    q.limit = 1;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-2a", "offset 1 limit 1");
    is_int(count_users(s, &q), 3, "... the count ignores offset and limit");
    q.offset = 2;
    q.limit = 5;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-2b", "offset 2 limit 5: the rest");
    q.offset = 10;
    is_int(list_users(s, &q, got, sizeof(got)), 0, "offset past the end");
    q.offset = 1;
    q.limit = 0;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-2a,b-2b", "offset 1, limit 0 (none)");

    memset(&q, 0, sizeof(q));
    q.dev_id = "dev_nobody";
    is_int(list_users(s, &q, got, sizeof(got)), 0, "unknown developer: none");
    memset(&q, 0, sizeof(q));
    q.reference_id = "team";
    q.with_deauthorized = 1;
    list_users(s, &q, got, sizeof(got));
    is_str(got, "b-1,b-3", "no developer given: every developer's");
}

static void
test_user_update(struct store *s)
{
    struct store_user got;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_user_update(s, "dev_b", "b-1", 1, "renamed", -1, 3000, &e), 0,
           "set reference_id");
    store_user_get(s, "dev_b", "b-1", &a, &got, &e);
    is_str(got.reference_id, "renamed", "... changed");
    is_int(got.active, 1, "... active unchanged (-1)");
    is_int(got.updated_at, 3000, "... updated_at now");

    is_int(store_user_update(s, "dev_b", "b-1", 0, "ignored", 0, 3100, &e), 0,
           "active 0, reference not set");
    store_user_get(s, "dev_b", "b-1", &a, &got, &e);
    is_int(got.active, 0, "... inactive");
    is_str(got.reference_id, "renamed", "... reference_id unchanged");
    is_str(got.state, "connected", "... still connected");

    is_int(store_user_update(s, "dev_b", "b-1", 1, NULL, 1, 3200, &e), 0,
           "reference_id to NULL, active 1");
    store_user_get(s, "dev_b", "b-1", &a, &got, &e);
    ok(got.reference_id == NULL, "... reference_id NULL");
    is_int(got.active, 1, "... active again");

    is_int(store_user_update(s, "dev_b", "nobody", 1, "x", 1, 3300, &e),
           ERR_NOTFOUND, "unknown user: ERR_NOTFOUND");
    is_int(store_user_update(s, "dev_a", "b-1", 1, "x", 0, 3300, &e),
           ERR_NOTFOUND, "another developer's user: ERR_NOTFOUND");
    store_user_get(s, "dev_b", "b-1", &a, &got, &e);
    ok(got.reference_id == NULL && got.active == 1 && got.updated_at == 3200,
       "... which is unchanged");
    is_int(store_user_update(s, "dev_b", "b-3", 1, "x", 1, 3300, &e),
           ERR_NOTFOUND, "a deauthorized user: ERR_NOTFOUND");
    store_user_get(s, "dev_b", "b-3", &a, &got, &e);
    ok(got.reference_id != NULL && strcmp(got.reference_id, "team") == 0 &&
           got.active == 0,
       "... which is unchanged");
    arena_release(&a);
}

static void
test_user_deauth(struct store *s)
{
    struct store_event ev;
    struct store_user got;
    const unsigned char *sealed = NULL;
    size_t len = 0;
    int64_t exp = 0;
    long long nevents = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_token_get(s, "b-2a", &a, &sealed, &len, &exp, &e), 0,
           "b-2a has a token");
    nevents = rows("events");
    init_event(&ev, "ev-deauth-1", "dev_b", "b-2a", "deauth", 4000);
    is_int(store_user_deauth(s, "dev_a", "b-2a", &ev, 4000, &e), ERR_NOTFOUND,
           "deauth by another developer: ERR_NOTFOUND");
    is_int(rows("events"), nevents, "... no event");
    is_int(store_token_get(s, "b-2a", &a, &sealed, &len, &exp, &e), 0,
           "... the token is still there");

    is_int(store_user_deauth(s, "dev_b", "b-2a", &ev, 4000, &e), 0,
           "store_user_deauth");
    store_user_get(s, "dev_b", "b-2a", &a, &got, &e);
    is_str(got.state, "deauthorized", "... deauthorized");
    is_int(got.active, 0, "... inactive");
    is_int(got.updated_at, 4000, "... updated_at now");
    is_int(store_token_get(s, "b-2a", &a, &sealed, &len, &exp, &e),
           ERR_NOTFOUND, "... the token is deleted");
    is_int(rows("events"), nevents + 1, "... the event is added");
    is_int(side_int("SELECT count(*) FROM events WHERE id = 'ev-deauth-1'"
                    " AND user_id = 'b-2a' AND type = 'deauth'"),
           1, "... as given");

    init_event(&ev, "ev-deauth-2", "dev_b", "b-2a", "deauth", 4100);
    is_int(store_user_deauth(s, "dev_b", "b-2a", &ev, 4100, &e), ERR_NOTFOUND,
           "twice: ERR_NOTFOUND");
    is_int(rows("events"), nevents + 1, "... and no second event");
    store_user_get(s, "dev_b", "b-2a", &a, &got, &e);
    is_int(got.updated_at, 4000, "... the user keeps its time");
    is_int(store_user_deauth(s, "dev_b", "nobody", &ev, 4100, &e), ERR_NOTFOUND,
           "unknown user: ERR_NOTFOUND");
    is_int(rows("events"), nevents + 1, "... no event");
    arena_release(&a);
}

/* ---- tokens and events ---- */

static void
test_tokens(struct store *s)
{
    const unsigned char *sealed = NULL;
    size_t len = 7;
    int64_t exp = 7;
    int64_t n = -1;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_token_get(s, "no-such-user", &a, &sealed, &len, &exp, &e),
           ERR_NOTFOUND, "token of an unknown user: ERR_NOTFOUND");
    ok(sealed == NULL && len == 0 && exp == 0, "... outputs cleared");
    is_int(store_token_get(s, "new-2", &a, &sealed, &len, &exp, &e), 0,
           "token of new-2");
    is_int(exp, 0, "... no expiry given: 0");
    is_int(store_token_count(s, &n, &e), 0, "store_token_count");
    is_int(n, rows("tokens"), "... the number of token rows");
    arena_release(&a);
}

static void
test_event_list(struct store *s)
{
    struct store_event_query q = {0};
    struct store_event *list = NULL;
    struct store_event ev;
    char id[32];
    size_t n = 0;
    size_t i = 0;
    int ordered = 1;
    int dev_only = 1;
    int64_t last = 0;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    for (i = 0; i < 120; i++) {
        snprintf(id, sizeof(id), "ev-bulk-%03zu", i);
        init_event(&ev, id, "dev_c", NULL, i % 2 == 0 ? "even" : "odd",
                   5000 + (int64_t)i);
        store_attempt_fail(s, NULL, &ev, 5000, &e);
    }

    q.dev_id = "dev_c";
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "events of dev_c");
    is_int(n, 100, "limit 0 gives at most 100");
    for (i = 0; i < n; i++) {
        ordered = ordered && list[i].seq > last;
        dev_only = dev_only && strcmp(list[i].dev_id, "dev_c") == 0;
        last = list[i].seq;
    }
    ok(ordered, "... in seq order");
    ok(dev_only, "... of that developer only");
    ok(n > 0 && strcmp(list[0].id, "ev-bulk-000") == 0, "... oldest first");
    is_int(list[0].created_at, 5000, "... created_at");

    q.after_seq = list[99].seq;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "after_seq");
    is_int(n, 20, "... the remaining 20");
    ok(n > 0 && strcmp(list[0].id, "ev-bulk-100") == 0, "... from the next");

    q.after_seq = 0;
    q.type = "odd";
    q.limit = 1000;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "type odd");
    is_int(n, 60, "... 60 of them");
    ok(n > 0 && strcmp(list[0].id, "ev-bulk-001") == 0, "... oldest first");
    q.limit = 3;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "limit 3");
    is_int(n, 3, "... 3");

    memset(&q, 0, sizeof(q));
    q.user_id = "user-1";
    q.limit = 1000;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "user user-1");
    is_int(n, 2, "... its two events");
    q.user_id = NULL;
    q.type = "deauth";
    q.dev_id = "dev_b";
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "type deauth");
    is_int(n, 1, "... dev_b's one deauth event");
    q.dev_id = "dev_nobody";
    q.type = NULL;
    is_int(store_event_list(s, &q, &a, &list, &n, &e), 0, "unknown dev");
    is_int(n, 0, "... none");
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
    arena_init(&helper_arena, ARENA_MAX);
    snprintf(dir, sizeof(dir), "/tmp/ferry-test-users-XXXXXX");
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
    if (sqlite3_open_v2(dbpath, &side, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        ok(0, "open the side connection");
        store_free(s);
        return done_testing();
    }
    sqlite3_busy_timeout(side, 5000);
    make_developer(s, "dev_a");
    make_developer(s, "dev_b");
    make_developer(s, "dev_c");

    test_connect(s);
    test_connect_replacing(s);
    test_find_connected(s);
    test_attempt_fail(s);
    test_async(s);
    test_user_list(s);
    test_user_update(s);
    test_user_deauth(s);
    test_tokens(s);
    test_event_list(s);

    sqlite3_close(side);
    store_free(s);
    if (tap_failed == 0) {
        char cmd[96];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            printf("# could not remove %s\n", dir);
        }
    }
    arena_release(&helper_arena);
    return done_testing();
}
