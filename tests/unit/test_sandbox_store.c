/*
 * test_sandbox_store.c - the SANDBOX authorization server's codes and
 * tokens in the store, against a temporary SQLite file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "store/store.h"
#include "tap.h"

#define ARENA_MAX (1 << 20)
#define SEC       1000000LL /* microseconds */
#define T0        (1800000000LL * SEC)

static char dir[64];

static void
fill_hash(unsigned char h[32], const char *seed)
{
    crypto_sha256(seed, strlen(seed), h);
}

static void
family_of(const unsigned char code_hash[32], char out[65])
{
    codec_hex_encode(code_hash, 32, out);
}

static struct store *
open_store(void)
{
    char url[128];
    struct store *s = NULL;
    struct err e;

    err_clear(&e);
    snprintf(url, sizeof(url), "sqlite:%s/ferry.db", dir);
    if (store_open(&s, url, NULL, &e) != 0) {
        printf("# store_open: %s\n", e.msg);
        return NULL;
    }
    if (store_migrate(s, NULL, &e) != 0) {
        printf("# store_migrate: %s\n", e.msg);
        store_free(s);
        return NULL;
    }
    return s;
}

static int
make_code(struct store *s, const char *seed, int64_t now, unsigned char h[32])
{
    struct store_sandbox_code c;
    struct err e;

    memset(&c, 0, sizeof(c));
    fill_hash(h, seed);
    memcpy(c.hash, h, 32);
    c.client_id = "ferry";
    c.account = "alice";
    c.redirect_uri = "http://127.0.0.1:1/callback/sandbox";
    c.scope = "activity sleep";
    c.challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    c.created_at = now;
    c.expires_at = now + 60 * SEC;
    err_clear(&e);
    return store_sandbox_code_create(s, &c, &e);
}

/* A token of `kind` in `family`, its hash from `seed`. */
static void
make_token(struct store_sandbox_token *t, const char *seed, const char *kind,
           const char *family, int64_t now, int64_t life)
{
    memset(t, 0, sizeof(*t));
    fill_hash(t->hash, seed);
    t->kind = kind;
    t->client_id = "ferry";
    t->account = "alice";
    t->scope = "activity sleep";
    t->family = family;
    t->created_at = now;
    t->expires_at = now + life;
}

static int64_t
revoked_at(struct store *s, const char *seed)
{
    struct store_sandbox_token t;
    unsigned char h[32];
    struct arena a;
    struct err e;
    int64_t at = -1;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    fill_hash(h, seed);
    if (store_sandbox_token_get(s, h, &a, &t, &e) == 0) {
        at = t.revoked_at;
    }
    arena_release(&a);
    return at;
}

static void
test_codes(struct store *s)
{
    struct store_sandbox_code got;
    unsigned char h[32];
    unsigned char other[32];
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(make_code(s, "code-1", T0, h), 0, "create a code");
    is_int(make_code(s, "code-1", T0, h), ERR_CONFLICT,
           "the same hash again: ERR_CONFLICT");

    is_int(store_sandbox_code_take(s, h, T0 + SEC, &a, &got, &e), 0,
           "take the code");
    ok(memcmp(got.hash, h, 32) == 0, "the hash comes back");
    is_str(got.client_id, "ferry", "client_id");
    is_str(got.account, "alice", "account");
    is_str(got.redirect_uri, "http://127.0.0.1:1/callback/sandbox",
           "redirect_uri");
    is_str(got.scope, "activity sleep", "scope");
    is_str(got.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
           "challenge");
    is_int(got.created_at, T0, "created_at");
    is_int(got.expires_at, T0 + 60 * SEC, "expires_at");
    is_int(got.used_at, T0 + SEC, "used_at is now");

    is_int(store_sandbox_code_take(s, h, T0 + 2 * SEC, &a, &got, &e), ERR_GONE,
           "a second take: ERR_GONE");
    ok(strstr(e.msg, "used already") != NULL, "the detail says so");

    fill_hash(other, "no-such-code");
    is_int(store_sandbox_code_take(s, other, T0, &a, &got, &e), ERR_NOTFOUND,
           "an unknown code: ERR_NOTFOUND");

    is_int(make_code(s, "code-2", T0, h), 0, "create a second code");
    is_int(store_sandbox_code_take(s, h, T0 + 60 * SEC, &a, &got, &e), ERR_GONE,
           "taken at its expiry: ERR_GONE");
    ok(strstr(e.msg, "expired") != NULL, "the detail says expired");
    is_int(store_sandbox_code_take(s, h, T0 + 30 * SEC, &a, &got, &e), 0,
           "an expired take did not use the code up");

    arena_release(&a);
}

/* Reusing a code revokes the tokens of its grant, and only those. */
static void
test_code_reuse(struct store *s)
{
    struct store_sandbox_code got;
    struct store_sandbox_token at;
    struct store_sandbox_token rt;
    struct store_sandbox_token ot;
    unsigned char h[32];
    unsigned char oh[32];
    char family[65];
    char ofamily[65];
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(make_code(s, "reuse-code", T0, h), 0, "create a code");
    is_int(make_code(s, "other-code", T0, oh), 0, "and one of another grant");
    family_of(h, family);
    family_of(oh, ofamily);
    is_int(store_sandbox_code_take(s, h, T0 + SEC, &a, &got, &e), 0, "take it");
    make_token(&at, "reuse-access", "access", family, T0, 3600 * SEC);
    make_token(&rt, "reuse-refresh", "refresh", family, T0, 90 * 86400 * SEC);
    make_token(&ot, "other-access", "access", ofamily, T0, 3600 * SEC);
    is_int(store_sandbox_tokens_issue(s, &at, &rt, NULL, T0, &e), 0,
           "issue the grant's tokens");
    is_int(store_sandbox_tokens_issue(s, &ot, NULL, NULL, T0, &e), 0,
           "issue an access token of the other grant");
    is_int(revoked_at(s, "reuse-access"), 0, "the access token is valid");

    is_int(store_sandbox_code_take(s, h, T0 + 5 * SEC, &a, &got, &e), ERR_GONE,
           "reuse the code: ERR_GONE");
    is_int(revoked_at(s, "reuse-access"), T0 + 5 * SEC,
           "the grant's access token is revoked");
    is_int(revoked_at(s, "reuse-refresh"), T0 + 5 * SEC,
           "the grant's refresh token is revoked");
    is_int(revoked_at(s, "other-access"), 0,
           "another grant's token is untouched");
    is_int(store_sandbox_code_take(s, h, T0 + 9 * SEC, &a, &got, &e), ERR_GONE,
           "a third use: ERR_GONE");
    is_int(revoked_at(s, "reuse-access"), T0 + 5 * SEC,
           "the first revocation time is kept");
    arena_release(&a);
}

static void
test_tokens(struct store *s)
{
    struct store_sandbox_token at;
    struct store_sandbox_token rt;
    struct store_sandbox_token at2;
    struct store_sandbox_token rt2;
    struct store_sandbox_token got;
    unsigned char none[32];
    const char *family = "aa11";
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    make_token(&at, "t-access-1", "access", family, T0, 3600 * SEC);
    make_token(&rt, "t-refresh-1", "refresh", family, T0, 90 * 86400 * SEC);
    is_int(store_sandbox_tokens_issue(s, &at, &rt, NULL, T0, &e), 0,
           "issue an access and a refresh token");
    is_int(store_sandbox_tokens_issue(s, &at, NULL, NULL, T0, &e), ERR_CONFLICT,
           "the same access token again: ERR_CONFLICT");

    is_int(store_sandbox_token_get(s, rt.hash, &a, &got, &e), 0,
           "get the refresh token");
    is_str(got.kind, "refresh", "kind");
    is_str(got.client_id, "ferry", "client_id");
    is_str(got.account, "alice", "account");
    is_str(got.scope, "activity sleep", "scope");
    is_str(got.family, family, "family");
    is_int(got.created_at, T0, "created_at");
    is_int(got.expires_at, T0 + 90 * 86400 * SEC, "expires_at");
    is_int(got.revoked_at, 0, "not revoked");
    fill_hash(none, "t-none");
    is_int(store_sandbox_token_get(s, none, &a, &got, &e), ERR_NOTFOUND,
           "an unknown token: ERR_NOTFOUND");

    /* rotation */
    make_token(&at2, "t-access-2", "access", family, T0 + SEC, 3600 * SEC);
    make_token(&rt2, "t-refresh-2", "refresh", family, T0 + SEC,
               90 * 86400 * SEC);
    is_int(store_sandbox_tokens_issue(s, &at2, &rt2, rt.hash, T0 + SEC, &e), 0,
           "refresh: new tokens, rotating from the old refresh token");
    is_int(revoked_at(s, "t-refresh-1"), T0 + SEC,
           "the old refresh token is revoked");
    is_int(revoked_at(s, "t-access-1"), 0,
           "the old access token stays valid until it expires");
    is_int(revoked_at(s, "t-refresh-2"), 0, "the new refresh token is valid");

    make_token(&at2, "t-access-3", "access", family, T0 + 2 * SEC, 3600 * SEC);
    make_token(&rt2, "t-refresh-3", "refresh", family, T0 + 2 * SEC,
               90 * 86400 * SEC);
    is_int(store_sandbox_tokens_issue(s, &at2, &rt2, rt.hash, T0 + 2 * SEC, &e),
           ERR_GONE, "rotating from a revoked refresh token: ERR_GONE");
    is_int(store_sandbox_token_get(s, at2.hash, &a, &got, &e), ERR_NOTFOUND,
           "and nothing was stored");
    is_int(store_sandbox_tokens_issue(s, &at2, &rt2, at.hash, T0 + 2 * SEC, &e),
           ERR_NOTFOUND, "rotating from an access token: ERR_NOTFOUND");
    is_int(store_sandbox_tokens_issue(s, &at2, &rt2, none, T0 + 2 * SEC, &e),
           ERR_NOTFOUND, "rotating from an unknown token: ERR_NOTFOUND");
    is_int(store_sandbox_token_get(s, rt2.hash, &a, &got, &e), ERR_NOTFOUND,
           "nothing stored either time");
    arena_release(&a);
}

static void
test_revoke(struct store *s)
{
    struct store_sandbox_token at;
    struct store_sandbox_token rt;
    struct store_sandbox_token at2;
    struct store_sandbox_token ot;
    unsigned char none[32];
    struct err e;

    err_clear(&e);
    make_token(&at, "r-access-1", "access", "bb22", T0, 3600 * SEC);
    make_token(&rt, "r-refresh-1", "refresh", "bb22", T0, 90 * 86400 * SEC);
    make_token(&at2, "r-access-2", "access", "bb22", T0, 3600 * SEC);
    make_token(&ot, "r-other", "access", "cc33", T0, 3600 * SEC);
    is_int(store_sandbox_tokens_issue(s, &at, &rt, NULL, T0, &e), 0,
           "issue a grant");
    is_int(store_sandbox_tokens_issue(s, &at2, NULL, NULL, T0, &e), 0,
           "a second access token of it");
    is_int(store_sandbox_tokens_issue(s, &ot, NULL, NULL, T0, &e), 0,
           "and one of another grant");

    is_int(store_sandbox_token_revoke(s, at.hash, T0 + SEC, &e), 0,
           "revoke an access token");
    is_int(revoked_at(s, "r-access-1"), T0 + SEC, "it is revoked");
    is_int(revoked_at(s, "r-access-2"), 0, "its sibling is not");
    is_int(revoked_at(s, "r-refresh-1"), 0, "nor the refresh token");

    is_int(store_sandbox_token_revoke(s, rt.hash, T0 + 2 * SEC, &e), 0,
           "revoke the refresh token");
    is_int(revoked_at(s, "r-refresh-1"), T0 + 2 * SEC, "it is revoked");
    is_int(revoked_at(s, "r-access-2"), T0 + 2 * SEC,
           "and every token of its family");
    is_int(revoked_at(s, "r-access-1"), T0 + SEC,
           "an earlier revocation keeps its time");
    is_int(revoked_at(s, "r-other"), 0, "another family is untouched");

    fill_hash(none, "r-none");
    is_int(store_sandbox_token_revoke(s, none, T0, &e), 0,
           "revoking an unknown token is 0");
    is_int(store_sandbox_token_revoke(s, rt.hash, T0 + 3 * SEC, &e), 0,
           "revoking twice is 0");
    is_int(revoked_at(s, "r-refresh-1"), T0 + 2 * SEC, "the time is kept");
}

/* Codes long expired are dropped when a new one is stored. */
static void
test_purge(struct store *s)
{
    struct store_sandbox_code got;
    unsigned char old[32];
    unsigned char fresh[32];
    int64_t later = T0 + 2 * 86400 * SEC;
    struct arena a;
    struct err e;

    arena_init(&a, ARENA_MAX);
    err_clear(&e);
    is_int(make_code(s, "purge-old", T0, old), 0, "a code");
    is_int(make_code(s, "purge-new", later, fresh), 0, "a code two days later");
    is_int(store_sandbox_code_take(s, old, later, &a, &got, &e), ERR_NOTFOUND,
           "the old one is gone");
    is_int(store_sandbox_code_take(s, fresh, later, &a, &got, &e), 0,
           "the new one works");
    arena_release(&a);
}

int
main(void)
{
    struct store *s = NULL;

    snprintf(dir, sizeof(dir), "/tmp/ferry-test-sandbox-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return done_testing();
    }
    s = open_store();
    ok(s != NULL, "open and migrate a store");
    if (s != NULL) {
        test_codes(s);
        test_code_reuse(s);
        test_tokens(s);
        test_revoke(s);
        test_purge(s);
        store_free(s);
    }
    if (tap_failed == 0) {
        char cmd[96];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            printf("# could not remove %s\n", dir);
        }
    }
    return done_testing();
}
