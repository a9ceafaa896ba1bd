/*
 * test_store.c - the store against a temporary SQLite file.
 *
 * A second, independent sqlite3 connection ("side") looks at the file to
 * check what the store wrote. Per-connection settings (foreign_keys,
 * synchronous, query_only) cannot be seen from another connection, so
 * the store's own connections are captured with sqlite3_auto_extension()
 * while it opens and asked directly.
 *
 * The group-commit writer is tested by holding the database's write
 * lock from the side connection while writes queue up: the writer waits
 * in BEGIN (the busy timeout), so everything queued meanwhile is known
 * to share the next one or two transactions. The backend's source is
 * included, so that a test can queue a write of its own making.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "tap.h"

#define ARENA_MAX    (1 << 20)
#define MAX_CAPTURED 16
#define THREADS      4
#define PER_THREAD   500
#define ASYNC_MAX    300

static char dir[64];
static char dbpath[128];

static sqlite3 *captured[MAX_CAPTURED];
static int ncaptured;

static int
capture(sqlite3 *db, const char **msg, const struct sqlite3_api_routines *api)
{
    (void)msg;
    (void)api;
    if (ncaptured < MAX_CAPTURED) {
        captured[ncaptured++] = db;
    }
    return SQLITE_OK;
}

static sqlite3 *
side_open(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        printf("# side_open %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

/* The integer result of a one-value query, or -1 on failure. */
static long long
side_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# side_int %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* The text result of a one-value query into `buf`. */
static const char *
side_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;

    snprintf(buf, len, "(error)");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return buf;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return buf;
}

static int
side_exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        printf("# side_exec %s: %s\n", sql, sqlite3_errmsg(db));
    }
    return rc;
}

static struct store *
open_store(const char *url, int readers)
{
    struct store_options opt = {.busy_timeout_ms = 1000, .readers = readers};
    struct store *s = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = store_open(&s, url, &opt, &e);
    if (rc != 0) {
        printf("# store_open %s: %s\n", url, e.msg);
    }
    return s;
}

static void
fill_hash(unsigned char h[32], unsigned a, unsigned b)
{
    memset(h, 0x5a, 32);
    h[0] = (unsigned char)a;
    h[1] = (unsigned char)(b >> 8);
    h[2] = (unsigned char)b;
}

static void
test_urls(void)
{
    char url[256];
    char rel[160];
    char path[160];
    struct store *s = NULL;
    struct err e;
    struct stat sb;

    err_clear(&e);
    is_int(store_open(&s, "mysql://h/db", NULL, &e), ERR_CONFIG,
           "unknown scheme refused");
    ok(strstr(e.msg, "'mysql'") != NULL, "the message names the scheme");
    ok(s == NULL, "no store on failure");

    is_int(store_open(&s, "postgresql://u:hunter2@h/db", NULL, &e), ERR_CONFIG,
           "postgresql: not built yet");
    ok(strstr(e.msg, "not built yet") != NULL, "says so");
    ok(strstr(e.msg, "hunter2") == NULL, "the password is not echoed");
    is_int(store_open(&s, "postgres://h/db", NULL, &e), ERR_CONFIG,
           "postgres: not built yet");
    is_int(store_open(&s, "ferry.db", NULL, &e), ERR_CONFIG,
           "no scheme refused");
    is_int(store_open(&s, "sqlite:", NULL, &e), ERR_CONFIG,
           "sqlite without a path refused");
    is_int(store_open(&s, "sqlite://", NULL, &e), ERR_CONFIG,
           "sqlite:// without a path refused");

    is_int(store_open(&s, "sqlite::memory:", NULL, &e), ERR_CONFIG,
           "sqlite::memory: refused");
    ok(access(":memory:", F_OK) != 0, "and no file called :memory: made");

    snprintf(url, sizeof(url), "sqlite:%s/no/such/dir/x.db", dir);
    is_int(store_open(&s, url, NULL, &e), ERR_STORE,
           "missing directory: ERR_STORE");

    snprintf(path, sizeof(path), "%s/urls.db", dir);
    snprintf(url, sizeof(url), "sqlite://%s", path);
    is_int(store_open(&s, url, &(struct store_options){.readers = -1}, &e),
           ERR_CONFIG, "negative reader count refused");

    /* sqlite:///abs/path: dbpath is absolute, so this is three slashes. */
    s = open_store(url, 1);
    ok(s != NULL && url[9] == '/', "sqlite:///abs/path opens");
    store_free(s);

    snprintf(url, sizeof(url), "SQLite:%s", path);
    s = open_store(url, 1);
    ok(s != NULL, "sqlite:PATH opens, scheme case-insensitive");
    store_free(s);

    if (chdir(dir) != 0) {
        ok(0, "chdir to the temporary directory");
        return;
    }
    s = open_store("sqlite://rel.db", 1);
    snprintf(rel, sizeof(rel), "%s/rel.db", dir);
    ok(s != NULL && stat(rel, &sb) == 0, "sqlite://relative opens");
    store_free(s);
    s = open_store("sqlite:rel2.db", 1);
    snprintf(rel, sizeof(rel), "%s/rel2.db", dir);
    ok(s != NULL && stat(rel, &sb) == 0, "sqlite:relative opens");
    store_free(s);

    /* `existing`: a ferry store that is there opens; what is not there,
     * an empty file or another program's database is refused as it is */
    s = NULL;
    is_int(store_open(&s, "sqlite:rel2.db",
                      &(struct store_options){.existing = 1}, &e),
           ERR_NOTFOUND, "existing: a database without the schema: refused");
    ok(strstr(e.msg, "no ferry store in") != NULL, "... saying so");
    s = open_store("sqlite:rel2.db", 1);
    ok(s != NULL && store_migrate(s, NULL, &e) == 0, "... migrated");
    store_free(s);
    s = NULL;
    is_int(store_open(&s, "sqlite:rel2.db",
                      &(struct store_options){.existing = 1}, &e),
           0, "existing: a store that is there opens");
    store_free(s);
    s = NULL;
    fclose(fopen("empty.db", "w"));
    is_int(store_open(&s, "sqlite:empty.db",
                      &(struct store_options){.existing = 1}, &e),
           ERR_NOTFOUND, "existing: an empty file is refused");
    ok(stat("empty.db", &sb) == 0 && sb.st_size == 0, "... and left empty");
    s = NULL;
    is_int(store_open(&s, "sqlite:absent.db",
                      &(struct store_options){.existing = 1}, &e),
           ERR_NOTFOUND, "existing: one that is not there is ERR_NOTFOUND");
    snprintf(rel, sizeof(rel), "no store at %s/absent.db (a relative", dir);
    ok(s == NULL && strstr(e.msg, rel) != NULL,
       "... naming it from the working directory");
    ok(stat("absent.db", &sb) != 0, "... and not creating it");
    snprintf(url, sizeof(url), "sqlite:%s/absent.db", dir);
    is_int(store_open(&s, url, &(struct store_options){.existing = 1}, &e),
           ERR_NOTFOUND, "existing: an absolute path too");
    ok(strstr(e.msg, "`ferry migrate` sets one up") != NULL, "... saying how");
    ok(chdir("/") == 0, "chdir back");

    store_free(NULL);
    ok(1, "store_free(NULL) does nothing");
}

static void
test_not_a_database(void)
{
    char path[160];
    char url[192];
    struct store *s = NULL;
    struct err e;
    FILE *f = NULL;

    snprintf(path, sizeof(path), "%s/garbage.db", dir);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs("this is not an SQLite database, not even close to one\n", f);
        fclose(f);
    }
    snprintf(url, sizeof(url), "sqlite:%s", path);
    err_clear(&e);
    is_int(store_open(&s, url, NULL, &e), ERR_STORE,
           "a file that is not a database: ERR_STORE");
    ok(strstr(e.msg, "store_open") != NULL, "the detail names the operation");
}

/* Another program's database is refused at open, before anything
 * writes to it: one with tables of its own, one with a table of the
 * same name as ferry's version table. */
static void
test_foreign_database(void)
{
    static const char *const shapes[] = {
        "CREATE TABLE notes (x)",
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
        " applied_at INTEGER); CREATE TABLE accounts (id)",
        "CREATE TABLE schema_migrations (version bigint, dirty boolean)",
    };
    char path[160];
    char url[192];
    struct store *s = NULL;
    struct stat before;
    struct stat after;
    sqlite3 *db = NULL;
    struct err e;
    size_t i = 0;

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        snprintf(path, sizeof(path), "%s/foreign%zu.db", dir, i);
        if (sqlite3_open(path, &db) != SQLITE_OK) {
            ok(0, "a foreign database");
            sqlite3_close(db);
            return;
        }
        side_exec(db, shapes[i]);
        sqlite3_close(db);
        stat(path, &before);
        snprintf(url, sizeof(url), "sqlite:%s", path);
        err_clear(&e);
        s = NULL;
        is_int(store_open(&s, url, NULL, &e), ERR_CONFLICT,
               "another program's database is refused");
        ok(strstr(e.msg, "tables of another program") != NULL, "... saying so");
        sqlite3_open(path, &db);
        is_int(side_int(db, "SELECT count(*) FROM sqlite_master"
                            " WHERE name IN ('developers', 'events')"),
               0, "... adding no table");
        ok(side_int(db, "SELECT count(*) FROM pragma_journal_mode"
                        " WHERE journal_mode = 'delete'") == 1,
           "... nor switching it to WAL");
        sqlite3_close(db);
        stat(path, &after);
        ok(before.st_size == after.st_size && before.st_mtime == after.st_mtime,
           "... and leaving the file as it was");
        store_free(s);
    }

    /* one in WAL mode: no -wal or -shm file is left beside it */
    snprintf(path, sizeof(path), "%s/foreign-wal.db", dir);
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        side_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE notes (x)");
    }
    sqlite3_close(db);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    s = NULL;
    is_int(store_open(&s, url, &(struct store_options){.existing = 1}, &e),
           ERR_CONFLICT, "a WAL database of another program is refused");
    snprintf(path, sizeof(path), "%s/foreign-wal.db-shm", dir);
    ok(stat(path, &after) != 0, "... with no -shm file made beside it");
    store_free(s);
}

static void
test_migrate(struct store *s)
{
    struct arena a;
    struct store_developer d;
    struct err e;
    int cur = -1;
    int latest = -1;
    int applied = -1;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_schema_version(s, &cur, &latest, &e), 0,
           "schema version of a new file");
    is_int(cur, 0, "a new file has version 0");
    ok(latest >= 1, "the binary knows at least version 1");

    is_int(store_developer_get(s, "dev_x", &a, &d, &e), ERR_STORE,
           "a call before migrating fails with ERR_STORE");
    ok(strstr(e.msg, "store_developer_get") != NULL,
       "the detail names the operation");

    is_int(store_migrate(s, &applied, &e), 0, "migrate");
    is_int(applied, latest, "every migration applied");
    is_int(store_migrate(s, &applied, &e), 0, "migrate again");
    is_int(applied, 0, "nothing applied the second time");
    is_int(store_migrate(s, NULL, &e), 0, "applied may be NULL");
    is_int(store_schema_version(s, &cur, &latest, &e), 0, "schema version");
    is_int(cur, latest, "the database is at the latest version");
    is_int(latest, store_sqlite_migration_count,
           "latest is the newest migration");
    is_int(store_developer_get(s, "dev_x", &a, &d, &e), ERR_NOTFOUND,
           "the same call works after migrating");
    arena_release(&a);
}

static void
test_pragmas(void)
{
    char buf[32];
    char wal[160];
    sqlite3 *side = side_open(dbpath);
    struct stat sb;
    int fk = 0;
    int sync = 0;
    int ro = 0;
    int i;

    is_str(side_text(side, "PRAGMA journal_mode", buf, sizeof(buf)), "wal",
           "journal_mode is wal (seen from another connection)");
    sqlite3_close(side);

    is_int(ncaptured, 1 + 1 + 4,
           "a writer, a checkpointer and 4 readers by default");
    for (i = 0; i < ncaptured; i++) {
        fk += side_int(captured[i], "PRAGMA foreign_keys") == 1;
        sync += side_int(captured[i], "PRAGMA synchronous") == 1;
        ro += side_int(captured[i], "PRAGMA query_only") == 1;
    }
    is_int(fk, ncaptured, "foreign_keys=1 on every connection");
    is_int(sync, ncaptured, "synchronous=1 (NORMAL) on every connection");
    is_int(ro, ncaptured - 1, "every reader is query_only, the writer not");
    is_int(side_int(captured[0], "PRAGMA busy_timeout"), 1000,
           "busy_timeout from the options");
    is_int(side_int(captured[0], "PRAGMA wal_autocheckpoint"), 0,
           "no checkpoint inside the writer's commits");
    is_int(side_int(captured[0], "PRAGMA cache_size"), -32768,
           "the writer has a 32 MiB page cache");

    ok(stat(dbpath, &sb) == 0 && (sb.st_mode & 0777) == 0600,
       "the database file has mode 0600");
    snprintf(wal, sizeof(wal), "%s-wal", dbpath);
    ok(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600,
       "the -wal file has mode 0600");
}

/* A developer made with its first key: both or neither. */
static void
test_developer_with_key(struct store *s)
{
    struct store_developer d = {"dev_wk", "With key", 1000, 0};
    struct store_developer d2 = {"dev_wk2", "Clash", 1000, 0};
    struct store_developer got;
    struct store_key k;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    memset(&k, 0, sizeof(k));
    k.id = "key_wk";
    k.dev_id = "dev_wk";
    memset(k.hash, 0x5a, sizeof(k.hash));
    k.hint = "wxyz";
    k.created_at = 1000;
    is_int(store_developer_create(s, &d, &k, &e), 0,
           "developer with its first key");
    is_int(store_developer_get(s, "dev_wk", &a, &got, &e), 0, "... stored");
    is_int(got.active_keys, 1, "... with its key");

    /* same key id again: the key fails, so the developer must not stay */
    k.dev_id = "dev_wk2";
    memset(k.hash, 0x5b, sizeof(k.hash));
    is_int(store_developer_create(s, &d2, &k, &e), ERR_CONFLICT,
           "a clashing first key fails the whole write");
    is_int(store_developer_get(s, "dev_wk2", &a, &got, &e), ERR_NOTFOUND,
           "... and leaves no developer behind");
    arena_release(&a);
}

static void
test_developers(struct store *s)
{
    struct store_developer d = {"dev_a", "Acme", 1000, 0};
    struct store_developer b = {"dev_b", "Twin", 3000, 0};
    struct store_developer b2 = {"dev_c", "Twin", 2000, 0};
    struct store_developer got;
    struct store_developer *list = NULL;
    struct arena a;
    struct err e;
    size_t n = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(store_developer_create(s, &d, NULL, &e), 0, "developer create");
    is_int(store_developer_create(s, &d, NULL, &e), ERR_CONFLICT,
           "duplicate developer id: ERR_CONFLICT");
    ok(strstr(e.msg, "dev_a") != NULL, "the detail names the id");
    is_int(store_developer_create(
               s, &(struct store_developer){"dev_n", NULL, 1, 0}, NULL, &e),
           ERR_STORE, "a developer without a name: ERR_STORE");
    is_int(store_developer_create(s, &b, NULL, &e), 0, "second developer");
    is_int(store_developer_create(s, &b2, NULL, &e), 0, "older namesake");

    is_int(store_developer_get(s, "dev_a", &a, &got, &e), 0, "get");
    is_str(got.id, "dev_a", "id");
    is_str(got.name, "Acme", "name");
    is_int(got.created_at, 1000, "created_at");
    is_int(got.active_keys, 0, "no keys yet");
    is_int(store_developer_get(s, "dev_zz", &a, &got, &e), ERR_NOTFOUND,
           "unknown developer: ERR_NOTFOUND");

    is_int(store_developer_find_by_name(s, "Twin", &a, &got, &e), 0,
           "find by name");
    is_str(got.id, "dev_c", "the oldest of the namesakes");
    is_int(store_developer_find_by_name(s, "Nobody", &a, &got, &e),
           ERR_NOTFOUND, "unknown name: ERR_NOTFOUND");

    is_int(store_developer_list(s, &a, &list, &n, &e), 0, "list");
    is_int(n, 3, "three developers");
    ok(n == 3 && strcmp(list[0].id, "dev_a") == 0 &&
           strcmp(list[1].id, "dev_c") == 0 && strcmp(list[2].id, "dev_b") == 0,
       "oldest first");
    arena_release(&a);
}

static void
test_keys(struct store *s)
{
    struct store_key k = {"key_1", "dev_a", {0}, "abcd", 5000, 0};
    struct store_key k2 = {"key_2", "dev_a", {0}, NULL, 6000, 0};
    struct store_key *keys = NULL;
    struct store_developer got;
    unsigned char(*hashes)[32] = NULL;
    struct arena a;
    struct err e;
    size_t n = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    fill_hash(k.hash, 1, 1);
    fill_hash(k2.hash, 1, 2);

    k.dev_id = "dev_missing";
    is_int(store_key_create(s, &k, &e), ERR_NOTFOUND,
           "key for an unknown developer: ERR_NOTFOUND");
    ok(strstr(e.msg, "dev_missing") != NULL, "the detail names it");
    k.dev_id = "dev_a";
    is_int(store_key_create(s, &k, &e), 0, "key create");
    is_int(store_key_create(s, &k, &e), ERR_CONFLICT,
           "duplicate key id: ERR_CONFLICT");
    k2.id = "key_other";
    memcpy(k2.hash, k.hash, 32);
    is_int(store_key_create(s, &k2, &e), ERR_CONFLICT,
           "duplicate key hash: ERR_CONFLICT");
    k2.id = "key_2";
    fill_hash(k2.hash, 1, 2);
    is_int(store_key_create(s, &k2, &e), 0, "second key, no hint");

    is_int(store_key_active_hashes(s, "dev_a", &a, &hashes, &n, &e), 0,
           "active hashes");
    is_int(n, 2, "two active keys");
    ok(n == 2 && (memcmp(hashes[0], k.hash, 32) == 0 ||
                  memcmp(hashes[1], k.hash, 32) == 0),
       "the first key's hash is among them");
    is_int(store_developer_get(s, "dev_a", &a, &got, &e), 0, "get dev");
    is_int(got.active_keys, 2, "active_keys counts them");

    is_int(store_key_revoke(s, "key_1", 7000, &e), 0, "revoke");
    is_int(store_key_revoke(s, "key_1", 8000, &e), ERR_CONFLICT,
           "revoke twice: ERR_CONFLICT");
    is_int(store_key_revoke(s, "key_nope", 8000, &e), ERR_NOTFOUND,
           "revoke unknown: ERR_NOTFOUND");

    is_int(store_key_active_hashes(s, "dev_a", &a, &hashes, &n, &e), 0,
           "active hashes after revoke");
    ok(n == 1 && memcmp(hashes[0], k2.hash, 32) == 0,
       "only the unrevoked key is left");
    is_int(store_key_active_hashes(s, "dev_zz", &a, &hashes, &n, &e), 0,
           "unknown developer: no error");
    is_int(n, 0, "and no hashes");

    is_int(store_key_list(s, "dev_a", &a, &keys, &n, &e), 0, "key list");
    is_int(n, 2, "revoked keys are listed too");
    if (n == 2) {
        is_str(keys[0].id, "key_1", "oldest first");
        is_str(keys[0].dev_id, "dev_a", "dev_id");
        is_str(keys[0].hint, "abcd", "hint");
        is_int(keys[0].created_at, 5000, "created_at");
        is_int(keys[0].revoked_at, 7000, "revoked_at");
        is_mem(keys[0].hash, k.hash, 32, "hash");
        ok(keys[1].hint == NULL, "a NULL hint comes back NULL");
        is_int(keys[1].revoked_at, 0, "an active key has revoked_at 0");
    }
    is_int(store_key_list(s, "dev_zz", &a, &keys, &n, &e), 0,
           "key list of an unknown developer");
    is_int(n, 0, "is empty");
    arena_release(&a);
}

static void
test_sessions(struct store *s)
{
    struct store_session ss = {
        "11111111-1111-4111-8111-111111111111",
        "dev_a",
        "widget",
        {0},
        "user-42",
        "OURA,WITHINGS",
        "en",
        "https://app.example/ok",
        "https://app.example/fail",
        10,
        20,
        0,
        NULL,
        NULL,
    };
    struct store_session bare = {
        "22222222-2222-4222-8222-222222222222",
        "dev_a",
        "direct",
        {0},
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        30,
        40,
        35,
        NULL,
        NULL,
    };
    struct store_session got;
    unsigned char other[32];
    sqlite3 *side = side_open(dbpath);
    struct arena a;
    struct err e;
    long long before = 0;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    fill_hash(ss.token_hash, 2, 1);
    fill_hash(bare.token_hash, 2, 2);
    fill_hash(other, 2, 3);

    is_int(store_session_create(s, &ss, &e), 0, "session create");
    is_int(store_session_get(s, ss.id, &a, &got, &e), 0, "get by id");
    is_str(got.id, ss.id, "id");
    is_str(got.dev_id, "dev_a", "dev_id");
    is_str(got.kind, "widget", "kind");
    is_mem(got.token_hash, ss.token_hash, 32, "token_hash");
    is_str(got.reference_id, "user-42", "reference_id");
    is_str(got.providers, "OURA,WITHINGS", "providers");
    is_str(got.language, "en", "language");
    is_str(got.success_url, "https://app.example/ok", "success_url");
    is_str(got.failure_url, "https://app.example/fail", "failure_url");
    is_int(got.created_at, 10, "created_at");
    is_int(got.expires_at, 20, "expires_at");
    is_int(got.completed_at, 0, "an open session has completed_at 0");

    is_int(store_session_get_by_token(s, ss.token_hash, &a, &got, &e), 0,
           "get by token hash");
    is_str(got.id, ss.id, "the right session");
    is_int(store_session_get_by_token(s, other, &a, &got, &e), ERR_NOTFOUND,
           "unknown token hash: ERR_NOTFOUND");
    is_int(store_session_get(s, "nope", &a, &got, &e), ERR_NOTFOUND,
           "unknown session id: ERR_NOTFOUND");

    is_int(store_session_create(s, &bare, &e), 0, "session, optionals NULL");
    is_int(store_session_get(s, bare.id, &a, &got, &e), 0, "get it");
    ok(got.reference_id == NULL && got.providers == NULL &&
           got.language == NULL && got.success_url == NULL &&
           got.failure_url == NULL,
       "NULL optional strings come back NULL");
    is_str(got.kind, "direct", "kind direct");
    is_int(got.completed_at, 35, "completed_at");

    before = side_int(side, "SELECT count(*) FROM sessions");
    bare.id = "33333333-3333-4333-8333-333333333333";
    is_int(store_session_create(s, &bare, &e), ERR_CONFLICT,
           "duplicate token hash: ERR_CONFLICT");
    ok(strstr(e.msg, "token_hash") != NULL, "the detail names the column");
    is_int(store_session_get(s, bare.id, &a, &got, &e), ERR_NOTFOUND,
           "nothing was written");
    is_int(side_int(side, "SELECT count(*) FROM sessions"), before,
           "the row count is unchanged");

    ss.token_hash[5] ^= 1;
    is_int(store_session_create(s, &ss, &e), ERR_CONFLICT,
           "duplicate session id: ERR_CONFLICT");
    bare.dev_id = "dev_missing";
    memcpy(bare.token_hash, other, 32);
    is_int(store_session_create(s, &bare, &e), ERR_NOTFOUND,
           "session for an unknown developer: ERR_NOTFOUND");
    bare.dev_id = "dev_a";
    bare.kind = "carrier-pigeon";
    is_int(store_session_create(s, &bare, &e), ERR_STORE,
           "an unknown kind: ERR_STORE (a CHECK constraint)");
    ok(strstr(e.msg, "store_session_create") != NULL,
       "the detail names the operation");
    is_int(side_int(side, "SELECT count(*) FROM sessions"), before,
           "still nothing written");
    sqlite3_close(side);
    arena_release(&a);
}

static void
test_tokens(struct store *s)
{
    sqlite3 *side = side_open(dbpath);
    struct err e;
    int64_t n = -1;

    err_clear(&e);
    is_int(store_token_count(s, &n, &e), 0, "token count");
    is_int(n, 0, "no tokens yet");
    side_exec(side, "INSERT INTO users (id, dev_id, provider,"
                    " provider_user_id, created_at, updated_at)"
                    " VALUES ('u1', 'dev_a', 'OURA', 'p1', 1, 1);"
                    "INSERT INTO tokens (user_id, sealed)"
                    " VALUES ('u1', x'00')");
    is_int(store_token_count(s, &n, &e), 0, "token count again");
    is_int(n, 1, "one token row");
    side_exec(side, "DELETE FROM users WHERE id = 'u1'");
    is_int(store_token_count(s, &n, &e), 0, "token count after delete");
    is_int(n, 0, "tokens go with their user (ON DELETE CASCADE)");
    sqlite3_close(side);
}

static void
test_arena_ceiling(struct store *s)
{
    struct store_developer d;
    struct store_developer *list = NULL;
    struct store_session ss;
    unsigned char(*hashes)[32] = NULL;
    unsigned char h[32];
    struct arena a;
    struct err e;
    size_t n = 0;

    arena_init(&a, 64);
    err_clear(&e);
    fill_hash(h, 2, 1);
    is_int(store_developer_get(s, "dev_a", &a, &d, &e), ERR_NOMEM,
           "developer_get past the arena ceiling: ERR_NOMEM");
    is_int(store_developer_list(s, &a, &list, &n, &e), ERR_NOMEM,
           "developer_list: ERR_NOMEM");
    is_int(store_key_active_hashes(s, "dev_a", &a, &hashes, &n, &e), ERR_NOMEM,
           "key_active_hashes: ERR_NOMEM");
    is_int(store_session_get_by_token(s, h, &a, &ss, &e), ERR_NOMEM,
           "session_get_by_token: ERR_NOMEM");
    arena_release(&a);
}

/* ---- asynchronous writes and group commit ---- */

/* One asynchronous write and what its done callback saw. */
struct async_op {
    char id[48];
    struct store_session ss;
    int calls; /* done callbacks: must end at exactly 1 */
    int rc;
    char msg[ERR_MSG_MAX];
    char req_id[32];
    int on_caller; /* the callback ran on the thread that queued it */
};

static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_cond = PTHREAD_COND_INITIALIZER;
static int async_pending;
static pthread_t async_caller;

static void
async_done(void *arg, int rc, const struct err *e)
{
    struct async_op *op = arg;
    const char *id = log_req_id();

    pthread_mutex_lock(&async_lock);
    op->calls++;
    op->rc = rc;
    snprintf(op->msg, sizeof(op->msg), "%s", e != NULL ? e->msg : "(no e)");
    snprintf(op->req_id, sizeof(op->req_id), "%s", id != NULL ? id : "");
    op->on_caller = pthread_equal(pthread_self(), async_caller);
    async_pending--;
    pthread_cond_signal(&async_cond);
    pthread_mutex_unlock(&async_lock);
}

/* A widget session of dev_a, id "async-TAG-N", token hash from (tag, n),
 * for the caller to change before async_start(). */
static void
async_make(struct async_op *op, unsigned tag, unsigned n)
{
    struct store_session ss = {
        op->id, "dev_a", "widget", {0}, "ref", "SANDBOX", "en",
        NULL,   NULL,    1,        2,   0,     NULL,      NULL,
    };

    snprintf(op->id, sizeof(op->id), "async-%u-%u", tag, n);
    fill_hash(ss.token_hash, tag, n);
    op->ss = ss;
    op->calls = 0;
    op->rc = 1;
}

/* Queue `op`; 0 when queued. */
static int
async_start(struct store *s, struct async_op *op)
{
    int rc = 0;

    pthread_mutex_lock(&async_lock);
    async_pending++;
    pthread_mutex_unlock(&async_lock);
    rc = store_session_create_async(s, &op->ss, async_done, op);
    if (rc != 0) {
        pthread_mutex_lock(&async_lock);
        async_pending--;
        pthread_mutex_unlock(&async_lock);
    }
    return rc;
}

static void
async_wait(void)
{
    pthread_mutex_lock(&async_lock);
    while (async_pending > 0) {
        pthread_cond_wait(&async_cond, &async_lock);
    }
    pthread_mutex_unlock(&async_lock);
}

static int
calls_exactly_once(const struct async_op *ops, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (ops[i].calls != 1) {
            printf("# op %d: %d done calls\n", i, ops[i].calls);
            return 0;
        }
    }
    return 1;
}

/* Many writes queued at once share few transactions. */
static void
test_group_commit(struct store *s)
{
    static struct async_op ops[ASYNC_MAX];
    struct store_stats before;
    struct store_stats after;
    sqlite3 *side = side_open(dbpath);
    long long rows = side_int(side, "SELECT count(*) FROM sessions");
    int queued = 0;
    int ok_rc = 0;
    int on_caller = 0;
    int i;

    async_caller = pthread_self();
    store_stats(s, &before);
    side_exec(side, "BEGIN IMMEDIATE");
    log_set_req_id("req-group-commit");
    for (i = 0; i < ASYNC_MAX; i++) {
        async_make(&ops[i], 7, (unsigned)i);
        queued += async_start(s, &ops[i]) == 0;
    }
    log_set_req_id(NULL);
    usleep(50 * 1000); /* the writer waits in BEGIN meanwhile */
    side_exec(side, "COMMIT");
    async_wait();
    store_stats(s, &after);

    is_int(queued, ASYNC_MAX, "every asynchronous write was queued");
    ok(calls_exactly_once(ops, ASYNC_MAX), "done was called once per write");
    for (i = 0; i < ASYNC_MAX; i++) {
        ok_rc += ops[i].rc == 0;
        on_caller += ops[i].on_caller;
    }
    is_int(ok_rc, ASYNC_MAX, "and every write succeeded");
    is_int(on_caller, 0, "done runs on the writer thread, not the caller's");
    is_str(ops[0].req_id, "req-group-commit",
           "done runs with the caller's log request id");
    is_int(after.writes - before.writes, ASYNC_MAX, "writes counted");
    /* one write taken before BEGIN waited, then batches of 256 at most */
    ok(after.commits - before.commits <= 1 + (ASYNC_MAX + 255) / 256,
       "queued together, they took a few commits");
    ok(after.commits - before.commits < ASYNC_MAX, "fewer commits than writes");
    is_int(side_int(side, "SELECT count(*) FROM sessions") - rows, ASYNC_MAX,
           "every row is there");
    sqlite3_close(side);
}

/* A write that fails in a batch fails alone; its neighbours commit. */
static void
test_batch_isolation(struct store *s)
{
    static struct async_op ops[7];
    struct store_session got;
    struct store_stats before;
    struct store_stats after;
    sqlite3 *side = side_open(dbpath);
    long long rows = side_int(side, "SELECT count(*) FROM sessions");
    struct arena a;
    struct err e;
    int i;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    store_stats(s, &before);
    for (i = 0; i < 7; i++) {
        async_make(&ops[i], 8, (unsigned)i);
    }
    fill_hash(ops[1].ss.token_hash, 8, 0); /* the token hash of [0] */
    ops[2].ss.dev_id = "dev_missing";
    ops[4].ss.kind = "carrier-pigeon"; /* a CHECK constraint */
    side_exec(side, "BEGIN IMMEDIATE");
    for (i = 0; i < 7; i++) {
        async_start(s, &ops[i]);
    }
    usleep(50 * 1000);
    side_exec(side, "COMMIT");
    async_wait();
    store_stats(s, &after);

    ok(calls_exactly_once(ops, 7), "done was called once per write");
    is_int(ops[0].rc, 0, "first write committed");
    is_int(ops[1].rc, ERR_CONFLICT, "a taken token hash in the batch fails");
    ok(strstr(ops[1].msg, "token_hash") != NULL, "with its own detail");
    is_int(ops[2].rc, ERR_NOTFOUND, "a missing developer fails");
    ok(strstr(ops[2].msg, "dev_missing") != NULL, "naming the developer");
    is_int(ops[3].rc, 0, "the write after two failures committed");
    is_int(ops[4].rc, ERR_STORE, "a CHECK failure fails");
    ok(strstr(ops[4].msg, "store_session_create") != NULL,
       "naming the operation");
    is_int(ops[5].rc, 0, "the write after it committed");
    is_int(ops[6].rc, 0, "and the last");
    ok(after.commits - before.commits <= 2, "in at most two transactions");
    is_int(side_int(side, "SELECT count(*) FROM sessions") - rows, 4,
           "four rows written, none for the failures");
    is_int(store_session_get(s, "async-8-3", &a, &got, &e), 0,
           "a neighbour of the failures reads back");
    is_str(got.dev_id, "dev_a", "intact");
    is_int(store_session_get(s, "async-8-2", &a, &got, &e), ERR_NOTFOUND,
           "the failed write left nothing");
    sqlite3_close(side);
    arena_release(&a);
}

/* A write of two statements whose second fails: not `one_statement`,
 * so it runs in a savepoint, which must undo the first. */
static const char twice_sql[] =
    "INSERT INTO developers (id, name, created_at) VALUES (?, ?, ?)";

static int
insert_dev(struct conn *w, const struct wop *op, struct err *e)
{
    struct call c = {0};
    int rc = sq_call_start(&c, w, twice_sql, NULL, op->name, e);

    if (rc == 0) {
        sq_bind_text(&c, op->in.dev->id);
        sq_bind_text(&c, op->in.dev->name);
        sq_bind_int(&c, op->in.dev->created_at);
        rc = sq_call_run(&c);
    }
    sq_call_end(&c);
    return rc;
}

static int
run_twice(struct conn *w, const struct wop *op, struct err *e)
{
    int rc = insert_dev(w, op, e);

    return rc == 0 ? insert_dev(w, op, e) : rc;
}

/* A synchronous write on a thread of its own. */
struct sync_write {
    struct store *s;
    int what; /* 0: run_twice(); 1, 2: revoke key_sp; 3: revoke key_nope */
    int rc;
    pthread_t t;
};

static void *
sync_write_main(void *arg)
{
    struct sync_write *sw = arg;
    struct store_developer d = {"dev_twice", "Twice", 1, 0};
    struct wop op = {.run = run_twice, .name = "test_twice"};
    struct err e;

    err_clear(&e);
    if (sw->what == 0) {
        op.in.dev = &d;
        sw->rc = sq_write_sync(sw->s, &op, &e);
    } else {
        sw->rc = store_key_revoke(sw->s, sw->what == 3 ? "key_nope" : "key_sp",
                                  9000 + sw->what, &e);
    }
    return NULL;
}

/* Writes with savepoints, failing or not, in a batch of other writes. */
static void
test_batch_savepoints(struct store *s)
{
    static struct async_op ops[2];
    struct store_key k = {"key_sp", "dev_a", {0}, "spsp", 8000, 0};
    struct sync_write sw[4];
    struct store_developer d;
    struct store_key *keys = NULL;
    struct store_stats before;
    struct store_stats after;
    sqlite3 *side = side_open(dbpath);
    struct arena a;
    struct err e;
    size_t n = 0;
    size_t i = 0;
    int64_t revoked_at = -1;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    fill_hash(k.hash, 12, 99);
    is_int(store_key_create(s, &k, &e), 0, "a key to revoke in a batch");
    store_stats(s, &before);
    side_exec(side, "BEGIN IMMEDIATE");
    async_make(&ops[0], 12, 0);
    async_start(s, &ops[0]);
    for (i = 0; i < 4; i++) {
        sw[i].s = s;
        sw[i].what = (int)i;
        sw[i].rc = 1;
        pthread_create(&sw[i].t, NULL, sync_write_main, &sw[i]);
        usleep(20 * 1000); /* queued in this order */
    }
    async_make(&ops[1], 12, 1);
    async_start(s, &ops[1]);
    usleep(30 * 1000);
    side_exec(side, "COMMIT");
    for (i = 0; i < 4; i++) {
        pthread_join(sw[i].t, NULL);
    }
    async_wait();
    store_stats(s, &after);

    is_int(sw[0].rc, ERR_CONFLICT, "a two-statement write failing late");
    is_int(store_developer_get(s, "dev_twice", &a, &d, &e), ERR_NOTFOUND,
           "left nothing: its savepoint undid the first statement");
    is_int(sw[1].rc, 0, "a revoke in the batch");
    is_int(sw[2].rc, ERR_CONFLICT, "the same revoke after it sees it done");
    is_int(sw[3].rc, ERR_NOTFOUND, "a revoke of an unknown key fails");
    is_int(ops[0].rc, 0, "the write before them committed");
    is_int(ops[1].rc, 0, "the write after them committed");
    ok(after.commits - before.commits <= 2, "in at most two transactions");
    is_int(store_key_list(s, "dev_a", &a, &keys, &n, &e), 0, "list keys");
    for (i = 0; i < n; i++) {
        if (strcmp(keys[i].id, "key_sp") == 0) {
            revoked_at = keys[i].revoked_at;
        }
    }
    is_int(revoked_at, 9001, "the first revoke is the one kept");
    sqlite3_close(side);
    arena_release(&a);
}

/* A fresh store in `name` with dev_a, or NULL. */
static struct store *
fresh_store(const char *name, char *path, size_t len)
{
    struct store_developer d = {"dev_a", "Acme", 1000, 0};
    char url[192];
    struct store *s = NULL;
    struct err e;

    err_clear(&e);
    snprintf(path, len, "%s/%s", dir, name);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    s = open_store(url, 1);
    if (s != NULL && (store_migrate(s, NULL, &e) != 0 ||
                      store_developer_create(s, &d, NULL, &e) != 0)) {
        printf("# fresh_store %s: %s\n", name, e.msg);
    }
    return s;
}

/* store_free() with writes queued: every one is run and reported. */
static void
test_free_in_flight(void)
{
    static struct async_op ops[ASYNC_MAX];
    char path[160];
    char wal[176];
    struct store *s = fresh_store("inflight.db", path, sizeof(path));
    struct stat sb;
    sqlite3 *side = NULL;
    int queued = 0;
    int ok_rc = 0;
    int notfound = 0;
    int pending = 0;
    int i;

    if (s == NULL) {
        ok(0, "open a store to free with writes in flight");
        return;
    }
    for (i = 0; i < ASYNC_MAX; i++) {
        async_make(&ops[i], 9, (unsigned)i);
        if (i % 10 == 9) {
            ops[i].ss.dev_id = "dev_missing";
        }
        queued += async_start(s, &ops[i]) == 0;
    }
    store_free(s); /* most of them are still queued */
    pthread_mutex_lock(&async_lock);
    pending = async_pending;
    pthread_mutex_unlock(&async_lock);

    is_int(queued, ASYNC_MAX, "writes queued");
    is_int(pending, 0, "store_free() reported every queued write");
    ok(calls_exactly_once(ops, ASYNC_MAX), "done was called once per write");
    for (i = 0; i < ASYNC_MAX; i++) {
        ok_rc += ops[i].rc == 0;
        notfound += ops[i].rc == ERR_NOTFOUND;
    }
    is_int(ok_rc, ASYNC_MAX - ASYNC_MAX / 10, "the good ones committed");
    is_int(notfound, ASYNC_MAX / 10, "the bad ones failed alone");
    side = side_open(path);
    is_int(side_int(side, "SELECT count(*) FROM sessions"),
           ASYNC_MAX - ASYNC_MAX / 10, "and their rows are in the file");
    sqlite3_close(side);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    ok(stat(wal, &sb) != 0 || sb.st_size == 0,
       "the log was checkpointed and emptied at close");
}

/* Random-looking bytes from `x`, the way token hashes spread. */
static void
spread(unsigned char h[32], uint64_t x)
{
    int i;

    for (i = 0; i < 32; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        h[i] = (unsigned char)x;
    }
}

/*
 * Under a steady stream of writes with random keys (a window of
 * ASYNC_MAX in flight, never an idle writer) the checkpointer runs, and
 * the log still starts over from its beginning: it does not grow for
 * ever.
 */
static void
test_checkpoints(void)
{
    static struct async_op ops[ASYNC_MAX];
    char path[160];
    struct store *s = fresh_store("checkpoints.db", path, sizeof(path));
    struct store_stats st;
    unsigned n = 0;
    int i = 0;

    if (s == NULL) {
        ok(0, "open a store for checkpoints");
        return;
    }
    memset(&st, 0, sizeof(st));
    for (n = 0; n < 200000 && st.log_restarts == 0; n++) {
        i = (int)(n % ASYNC_MAX);
        pthread_mutex_lock(&async_lock);
        while (n >= ASYNC_MAX && ops[i].calls == 0) {
            pthread_cond_wait(&async_cond, &async_lock);
        }
        pthread_mutex_unlock(&async_lock);
        async_make(&ops[i], 11, n);
        spread(ops[i].ss.token_hash, n + 1);
        snprintf(ops[i].id, sizeof(ops[i].id), "%02x%02x%02x%02x-%u",
                 ops[i].ss.token_hash[0], ops[i].ss.token_hash[1],
                 ops[i].ss.token_hash[2], ops[i].ss.token_hash[3], n);
        async_start(s, &ops[i]);
        if (n % 1000 == 0) {
            store_stats(s, &st);
        }
    }
    async_wait();
    store_stats(s, &st);
    ok(st.checkpoints >= 2, "the checkpointer ran");
    ok(st.log_restarts >= 1, "the log started over under continuous writes");
    printf("# %u writes, %llu commits, %llu checkpoints\n", n,
           (unsigned long long)st.commits, (unsigned long long)st.checkpoints);
    store_free(s);
}

static void
test_newer_schema(void)
{
    char path[160];
    char url[192];
    struct store *s = NULL;
    sqlite3 *side = NULL;
    struct err e;
    int cur = 0;
    int latest = 0;
    int applied = -1;

    snprintf(path, sizeof(path), "%s/future.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    s = open_store(url, 1);
    err_clear(&e);
    is_int(store_migrate(s, NULL, &e), 0, "migrate a second file");
    side = side_open(path);
    side_exec(side, "INSERT INTO schema_migrations VALUES (99, 0)");
    sqlite3_close(side);

    is_int(store_migrate(s, &applied, &e), ERR_STORE,
           "a database newer than the binary is refused");
    ok(strstr(e.msg, "version 99") != NULL, "the detail says why");
    is_int(applied, 0, "nothing applied");
    is_int(store_schema_version(s, &cur, &latest, &e), 0, "version");
    is_int(cur, 99, "reports the database's version");
    store_free(s);
}

struct worker {
    struct store *s;
    int n;      /* thread number */
    int errors; /* failed calls */
};

/* Create session `i` of worker `w`, check a key, read the session back. */
static int
work_once(struct worker *w, int i, struct arena *a)
{
    char id[48];
    struct store_session ss = {
        id,   "dev_a", "widget", {0}, "ref", NULL, "en",
        NULL, NULL,    1,        2,   0,     NULL, NULL,
    };
    struct store_session got;
    unsigned char(*hashes)[32] = NULL;
    struct err e;
    size_t n = 0;
    int errors = 0;
    int rc = 0;

    err_clear(&e);
    snprintf(id, sizeof(id), "thread-%d-session-%d", w->n, i);
    fill_hash(ss.token_hash, 100 + (unsigned)w->n, (unsigned)i);
    rc = store_session_create(w->s, &ss, &e);
    errors += rc != 0;
    rc = store_key_active_hashes(w->s, "dev_a", a, &hashes, &n, &e);
    errors += rc != 0 || n != 1;
    rc = store_session_get_by_token(w->s, ss.token_hash, a, &got, &e);
    errors += rc != 0 || strcmp(got.id, id) != 0;
    if (errors > 0) {
        printf("# worker %d, session %d: %s\n", w->n, i, e.msg);
    }
    return errors;
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct arena a;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        arena_init(&a, ARENA_MAX);
        w->errors += work_once(w, i, &a);
        arena_release(&a);
    }
    return NULL;
}

static void
test_threads(struct store *s)
{
    struct worker w[THREADS];
    pthread_t t[THREADS];
    sqlite3 *side = side_open(dbpath);
    long long before = side_int(side, "SELECT count(*) FROM sessions");
    int errors = 0;
    int started = 0;
    int i;

    for (i = 0; i < THREADS; i++) {
        w[i].s = s;
        w[i].n = i;
        w[i].errors = 0;
        if (pthread_create(&t[i], NULL, work, &w[i]) != 0) {
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        errors += w[i].errors;
    }
    is_int(started, THREADS, "threads started");
    is_int(errors, 0, "no errors from concurrent writers and readers");
    is_int(side_int(side, "SELECT count(*) FROM sessions") - before,
           THREADS * PER_THREAD, "every session was written exactly once");
    sqlite3_close(side);
}

int
main(void)
{
    char url[160];
    struct store *s = NULL;

    snprintf(dir, sizeof(dir), "/tmp/ferry-test-store-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return done_testing();
    }
    snprintf(dbpath, sizeof(dbpath), "%s/ferry.db", dir);

    test_urls();
    test_not_a_database();
    test_foreign_database();

    snprintf(url, sizeof(url), "sqlite:%s", dbpath);
    sqlite3_auto_extension((void (*)(void))capture);
    s = open_store(url, 0);
    sqlite3_cancel_auto_extension((void (*)(void))capture);
    ok(s != NULL, "open the test store");
    if (s == NULL) {
        return done_testing();
    }

    test_migrate(s);
    test_pragmas();
    test_developers(s);
    test_keys(s);
    test_sessions(s);
    test_tokens(s);
    test_arena_ceiling(s);
    test_threads(s);
    test_group_commit(s);
    test_batch_isolation(s);
    test_batch_savepoints(s);
    test_developer_with_key(s);
    store_free(s);
    test_newer_schema();
    test_free_in_flight();
    test_checkpoints();

    if (tap_failed == 0) {
        char cmd[96];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            printf("# could not remove %s\n", dir);
        }
    }
    return done_testing();
}
