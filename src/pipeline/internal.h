/*
 * internal.h - what the pipeline's files share.
 */
#ifndef FERRY_PIPELINE_INTERNAL_H
#define FERRY_PIPELINE_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "app/app.h"
#include "core/arena.h"
#include "core/err.h"
#include "pipeline/pipeline.h"
#include "providers/adapter.h"
#include "store/store.h"

#define DAY_S           86400LL
#define REFRESH_AHEAD_S 300 /* refresh a token this long before expiry */
#define EVENT_OBJECTS   10  /* objects in one data event */
/* Record bytes in one data event, at most; a record larger by itself is
 * announced without its samples, so every event fits a delivery claim
 * (deliver.c holds up to 64 MiB of bodies). */
#define EVENT_BYTES    (16u << 20)
#define LARGE_DAYS     28 /* longer requests are chunked */
#define API_ANSWER_MAX (16u << 20)

/* One user as a job sees it: the user, its provider and adapter, an
 * opened grant. */
struct puser {
    struct app *app;
    struct store_user u;
    const struct app_provider *p;
    const struct adapter *ad;
    struct adapter_ctx cx;
    char api_url[APP_URL_MAX];
    char hook_url[APP_URL_MAX];
    char *access_token; /* wiped and freed by puser_release() */
    struct arena ar;
};

/*
 * Load user `user_id` (of any developer) with its provider and adapter
 * into `pu`. ERR_NOTFOUND when the user is gone or deauthorized,
 * ERR_CONFIG when its provider is no longer enabled or has no adapter.
 */
int puser_load(struct app *a, const char *user_id, struct puser *pu,
               struct err *e);

/* The same for a user already read. */
int puser_from(struct app *a, const struct store_user *u, struct puser *pu,
               struct err *e);

void puser_release(struct puser *pu);

/* An access token for `pu` in pu->access_token, refreshed first when
 * it expires within REFRESH_AHEAD_S. ERR_FORBIDDEN when the grant is
 * dead (one connection_error). */
int puser_token(struct puser *pu, struct err *e);

/*
 * Make `rq` for `pu` (its access token when the request wants one,
 * refreshing it first when it is due) and parse the JSON answer into
 * `*answer` (NULL when the body is empty or not JSON) with its status.
 * A 401 refreshes the token once and tries again. ERR_FORBIDDEN when the
 * grant is dead (the user is moved to needs_reauth with one
 * connection_error event), ERR_UPSTREAM for transport failures and 5xx,
 * ERR_LIMIT for 429 (`*retry_after` seconds, -1 when not said).
 */
int puser_call(struct puser *pu, const struct adapter_request *rq,
               json_t **answer, long *status, long *retry_after, struct err *e);

/*
 * Fetch and normalise `type` over [start, end) for `pu` into `out`:
 * every planned request and its following pages.
 */
int puser_fetch(struct puser *pu, enum data_type type, int64_t start,
                int64_t end, struct adapter_records *out, struct err *e);

/*
 * Store `recs` of `pu` and mark the days [from_day, to_day) of
 * `synced_type` as fetched (NULL: none). `announce` as in store.h: with
 * STORE_PUT_ANNOUNCE the records whose stored version was not announced
 * yet (new, changed, or stored quietly before) go out as data events,
 * EVENT_OBJECTS per event, ones an older version of which was announced
 * marked update; QUIET stores them for a later announcing put; SENT
 * stores them as announced, for a caller that sends them itself.
 */
int pipeline_store(struct puser *pu, struct adapter_records *recs,
                   const char *synced_type, int64_t from_day, int64_t to_day,
                   enum store_put_announce announce, struct err *e);

/* Merge the Terra object `part` into `into` (see emit.c): objects
 * member by member, timestamped sample arrays as their union. */
void pipeline_merge(json_t *into, const json_t *part);

/* Add one event of `pu`'s developer with `body` (borrowed; type and the
 * user object are added) and `reference` (may be NULL). */
int pipeline_event(struct puser *pu, const char *type, json_t *body,
                   const char *reference, struct err *e);

/* An event of the data request `reference` that carries the `n` stored
 * records `rows` (none: its event of that type); `ends` >= 0 for its
 * last event, the chunks sent before it (store_request_event_add()).
 * ERR_CONFLICT when another run of the request's job sent it already,
 * or the chunks were not `ends`. */
int pipeline_request_event(struct puser *pu, const char *type, json_t *body,
                           const char *reference,
                           const struct store_record *rows, size_t n,
                           int64_t ends, struct err *e);

/* The Withings-style path token of `resource` at this deployment: hex
 * of HMAC(master key, "ferry hook " resource), 32 characters. */
void pipeline_hook_token(const struct app *a, const char *resource,
                         char out[33]);

/* Wait for a request slot of `resource`'s app (its requests per
 * minute), sleeping when its bucket is empty. */
void pipeline_throttle(const char *resource, int per_minute);

#endif
