/*
 * store_commit.c - the store's commit-rate ceiling for widget sessions.
 *
 *   store_commit STORE_URL SECONDS [insert|auth+insert]
 *
 * Opens the store at STORE_URL (a fresh database), migrates it, makes
 * one developer with one API key, then for SECONDS inserts widget
 * sessions one at a time through store_session_create(), each its own
 * transaction, doing the per-session work links_create_widget() does
 * around the insert (UUID, URL token, SHA-256 of the token) but no
 * HTTP, JSON or logging. Mode auth+insert also does, before each insert,
 * the store read of the API-key check (store_key_active_hashes() and a
 * SHA-256 of the key), i.e. all of the store work of one
 * generateWidgetSession request. Prints one line:
 * "mode=M inserts=N seconds=S per_second=R".
 * Built and run by bench/run against build/release/libferry.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/links.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/rng.h"
#include "core/uuid.h"
#include "store/store.h"

#define DEV_ID  "dev_00000000000000bench"
#define API_KEY "fk_bench-key-not-secret-0000000000000000000000"

static int
setup(struct store *s, struct err *e)
{
    struct store_developer d;
    struct store_key k;

    memset(&d, 0, sizeof(d));
    d.id = DEV_ID;
    d.name = "bench";
    d.created_at = isotime_now_us();
    if (store_developer_create(s, &d, NULL, e) < 0) {
        return -1;
    }
    memset(&k, 0, sizeof(k));
    k.id = "key_000000000000bench";
    k.dev_id = DEV_ID;
    crypto_sha256(API_KEY, strlen(API_KEY), k.hash);
    k.hint = "0000";
    k.created_at = d.created_at;
    return store_key_create(s, &k, e);
}

/* The store read of api_authenticate(): 0 when API_KEY is active. */
static int
check_key(struct store *s, struct err *e)
{
    struct arena ar;
    unsigned char hash[32];
    unsigned char(*active)[32] = NULL;
    size_t n = 0;
    size_t i = 0;
    int match = 0;
    int rc = 0;

    arena_init(&ar, 1 << 20);
    rc = store_key_active_hashes(s, DEV_ID, &ar, &active, &n, e);
    if (rc == 0) {
        crypto_sha256(API_KEY, strlen(API_KEY), hash);
        for (i = 0; i < n; i++) {
            match |= crypto_ct_eq(hash, active[i], sizeof(hash));
        }
        rc = match ? 0 : err_set(e, ERR_AUTH, "bench key not found");
    }
    arena_release(&ar);
    return rc;
}

int
main(int argc, char **argv)
{
    struct store *s = NULL;
    struct store_options so;
    struct store_session ss;
    struct err e;
    char id[UUID_STR_LEN];
    char token[RNG_TOKEN_LEN(LINKS_TOKEN_BYTES) + 1];
    const char *mode = argc > 3 ? argv[3] : "insert";
    int auth = 0;
    double seconds = 0;
    int64_t start = 0;
    int64_t now = 0;
    long n = 0;

    if (argc < 3 || argc > 4 || (seconds = atof(argv[2])) <= 0 ||
        (strcmp(mode, "insert") != 0 && strcmp(mode, "auth+insert") != 0)) {
        fprintf(stderr,
                "usage: store_commit STORE_URL SECONDS [insert|auth+insert]\n");
        return 2;
    }
    auth = strcmp(mode, "auth+insert") == 0;
    err_clear(&e);
    memset(&so, 0, sizeof(so));
    if (store_open(&s, argv[1], &so, &e) < 0 ||
        store_migrate(s, NULL, &e) < 0 || setup(s, &e) < 0) {
        fprintf(stderr, "store_commit: %s\n", e.msg);
        store_free(s);
        return 1;
    }
    start = isotime_now_us();
    now = start;
    while ((double)(now - start) < seconds * 1e6) {
        if (auth && check_key(s, &e) < 0) {
            fprintf(stderr, "store_commit: %s\n", e.msg);
            store_free(s);
            return 1;
        }
        memset(&ss, 0, sizeof(ss));
        uuid_v4(id);
        rng_token(token, sizeof(token), LINKS_TOKEN_BYTES);
        crypto_sha256(token, strlen(token), ss.token_hash);
        ss.id = id;
        ss.dev_id = DEV_ID;
        ss.kind = "widget";
        ss.reference_id = "bench-user";
        ss.providers = "SANDBOX";
        ss.language = "en";
        ss.created_at = now;
        ss.expires_at = now + 900 * (int64_t)1000000;
        if (store_session_create(s, &ss, &e) < 0) {
            fprintf(stderr, "store_commit: %s\n", e.msg);
            store_free(s);
            return 1;
        }
        n++;
        now = isotime_now_us();
    }
    printf("mode=%s inserts=%ld seconds=%.3f per_second=%.0f\n", mode, n,
           (double)(now - start) / 1e6,
           (double)n * 1e6 / (double)(now - start));
    store_free(s);
    return 0;
}
