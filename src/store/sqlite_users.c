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

int
sq_attempt_create(struct store *s, const struct store_attempt *at,
                  struct err *e)
{
    (void)s;
    (void)at;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_attempt_get(struct store *s, const unsigned char hash[32], struct arena *a,
               struct store_attempt *out, struct err *e)
{
    (void)s;
    (void)hash;
    (void)a;
    (void)out;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_event_list(struct store *s, const struct store_event_query *q,
              struct arena *a, struct store_event **out, size_t *n,
              struct err *e)
{
    (void)s;
    (void)q;
    (void)a;
    (void)out;
    (void)n;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_connect(struct store *s, const struct store_connect *c, struct err *e)
{
    (void)s;
    (void)c;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_connect_async(struct store *s, const struct store_connect *c,
                 store_done_fn done, void *arg)
{
    (void)s;
    (void)c;
    (void)done;
    (void)arg;
    return ERR_INTERNAL;
}

int
sq_attempt_fail(struct store *s, const unsigned char *state_hash,
                const struct store_event *ev, int64_t now, struct err *e)
{
    (void)s;
    (void)state_hash;
    (void)ev;
    (void)now;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_attempt_fail_async(struct store *s, const unsigned char *state_hash,
                      const struct store_event *ev, int64_t now,
                      store_done_fn done, void *arg)
{
    (void)s;
    (void)state_hash;
    (void)ev;
    (void)now;
    (void)done;
    (void)arg;
    return ERR_INTERNAL;
}

int
sq_user_get(struct store *s, const char *dev_id, const char *id,
            struct arena *a, struct store_user *out, struct err *e)
{
    (void)s;
    (void)dev_id;
    (void)id;
    (void)a;
    (void)out;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_user_find_connected(struct store *s, const char *dev_id,
                       const char *provider, const char *provider_user_id,
                       const char *reference_id, struct arena *a,
                       struct store_user *out, struct err *e)
{
    (void)s;
    (void)dev_id;
    (void)provider;
    (void)provider_user_id;
    (void)reference_id;
    (void)a;
    (void)out;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_user_list(struct store *s, const struct store_user_query *q, struct arena *a,
             struct store_user **out, size_t *n, struct err *e)
{
    (void)s;
    (void)q;
    (void)a;
    (void)out;
    (void)n;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_user_count(struct store *s, const struct store_user_query *q, int64_t *n,
              struct err *e)
{
    (void)s;
    (void)q;
    (void)n;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_user_update(struct store *s, const char *dev_id, const char *id,
               int set_reference, const char *reference_id, int active,
               int64_t now, struct err *e)
{
    (void)s;
    (void)dev_id;
    (void)id;
    (void)set_reference;
    (void)reference_id;
    (void)active;
    (void)now;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_user_deauth(struct store *s, const char *dev_id, const char *id,
               const struct store_event *ev, int64_t now, struct err *e)
{
    (void)s;
    (void)dev_id;
    (void)id;
    (void)ev;
    (void)now;
    (void)e;
    return ERR_INTERNAL;
}

int
sq_token_get(struct store *s, const char *user_id, struct arena *a,
             const unsigned char **sealed, size_t *len, int64_t *expires_at,
             struct err *e)
{
    (void)s;
    (void)user_id;
    (void)a;
    (void)sealed;
    (void)len;
    (void)expires_at;
    (void)e;
    return ERR_INTERNAL;
}
