/*
 * sqlite_users.c - users, their provider tokens, and events.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/sqlite_int.h"

static const char ST_TOKEN_COUNT[] = "SELECT count(*) FROM tokens";

int
sq_token_count(struct store *s, int64_t *n, struct err *e)
{
    struct sq_store *q = sq(s);
    struct conn *r = sq_reader_get(q);
    int rc = 0;

    *n = 0;
    rc = sq_query_int(r, ST_TOKEN_COUNT, n, "store_token_count", e);
    sq_reader_put(q, r);
    return rc;
}
