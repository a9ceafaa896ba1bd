/*
 * sqlite_sandbox.c - the SANDBOX authorization server's codes and tokens.
 */
#include "store/sqlite_int.h"

int
sq_sandbox_code_create(struct store *s, const struct store_sandbox_code *c,
                       struct err *e)
{
    (void)s;
    (void)c;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_sandbox_code_take(struct store *s, const unsigned char hash[32], int64_t now,
                     struct arena *a, struct store_sandbox_code *out,
                     struct err *e)
{
    (void)s;
    (void)hash;
    (void)now;
    (void)a;
    (void)out;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_sandbox_tokens_issue(struct store *s,
                        const struct store_sandbox_token *access,
                        const struct store_sandbox_token *refresh,
                        const unsigned char *rotate_from, int64_t now,
                        struct err *e)
{
    (void)s;
    (void)access;
    (void)refresh;
    (void)rotate_from;
    (void)now;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_sandbox_token_get(struct store *s, const unsigned char hash[32],
                     struct arena *a, struct store_sandbox_token *out,
                     struct err *e)
{
    (void)s;
    (void)hash;
    (void)a;
    (void)out;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_sandbox_token_revoke(struct store *s, const unsigned char hash[32],
                        int64_t now, struct err *e)
{
    (void)s;
    (void)hash;
    (void)now;
    (void)e;
    return ERR_INTERNAL;
}
