/*
 * destinations.h - a developer's destinations: adding, listing,
 * removing, rotating the signing secret.
 *
 * The one place the settings of a destination are checked and its
 * secrets sealed (AES-256-GCM under the master key, the destination id
 * as associated data), used by `ferry destination` and /v2/destinations
 * alike. Needs an app opened with APP_NEED_KEY.
 */
#ifndef FERRY_APP_DESTINATIONS_H
#define FERRY_APP_DESTINATIONS_H

#include <jansson.h>

#include "app/app.h"
#include "core/arena.h"
#include "core/err.h"
#include "deliver/driver.h"
#include "store/store.h"

#define DESTINATION_SECRET_LEN 64 /* hex characters of a signing secret */
#define DESTINATIONS_MAX       50 /* in use, per developer */

/* A destination just added or re-keyed: what is shown once. */
struct destination_made {
    char id[37];
    char secret[DESTINATION_SECRET_LEN + 1]; /* wipe when done */
};

/*
 * Add a destination of `kind` ("webhook", "postgres", "s3") for
 * `dev_id` at `url`, with the kind's options in `opts` (a JSON object,
 * may be NULL; s3 takes "access_key", "secret_key" and "region"). The
 * URL must name a host that does not resolve to a loopback, private or
 * link-local address unless [security] allow_private_destinations is
 * set (and each delivery checks again). s3's options on another kind
 * are refused. ERR_CONFLICT when the developer has DESTINATIONS_MAX in
 * use already, or (naming it) a webhook to the same URL in another
 * spelling. ERR_INVALID naming the field
 * ("type", "url", "access_key", ...) and the problem; ERR_FORBIDDEN
 * for a private address; ERR_NOTFOUND for an unknown developer.
 */
int destinations_add(struct app *a, const char *dev_id, const char *kind,
                     const char *url, const json_t *opts,
                     struct destination_made *out, struct err *e);

/*
 * The in-process demo inbox of `ferry demo` for `dev_id`: added when the
 * developer has none yet, else the existing one is kept. Its id into
 * `id`.
 */
int destinations_add_demo(struct app *a, const char *dev_id, char id[37],
                          struct err *e);

/*
 * Give destination `id` (of `dev_id`; NULL: any developer, for the
 * operator) a new signing secret; the old one keeps signing beside it
 * for [deliver] secret_grace_seconds. The new secret into `out`.
 * ERR_NOTFOUND when there is no such destination in use, ERR_CONFLICT
 * when it is not signed (postgres, s3: only webhooks and the demo inbox
 * have a secret), or when other rotations kept committing between its
 * read and its write (eight times). Rotations at the same moment happen
 * one after the other: each secret handed out has signed.
 */
int destinations_rotate(struct app *a, const char *dev_id, const char *id,
                        struct destination_made *out, struct err *e);

/* Remove `id` (of `dev_id`; NULL: any). ERR_NOTFOUND as above. */
int destinations_remove(struct app *a, const char *dev_id, const char *id,
                        struct err *e);

/*
 * Open the secrets of the stored destination `d` (borrowed) for the
 * delivery engine: the signing secret into `secret`, the one it replaced
 * into `previous` ("" when there is none or its grace ended before
 * `now`, unix microseconds), both DELIVER_SECRET_MAX bytes, and the
 * kind's settings into `*conf` (a new object the caller json_decref()s;
 * it holds credentials). ERR_CRYPTO when a box does not open under the
 * master key; nothing is left in the buffers then. Wipe them when done.
 */
int destinations_open(const struct app *a, const struct store_destination *d,
                      int64_t now, char *secret, char *previous, json_t **conf,
                      struct err *e);

/*
 * `d` as the API and `ferry destination list --json` show it: {id,
 * dev_id, type, url, created_at, removed_at, secret_rotated_until}; no
 * secret. NULL when out of memory.
 */
json_t *destinations_json(const struct store_destination *d);

/*
 * Delivery `d` and its attempts `at` (`n`, first first) as `ferry events
 * show --json` and GET /v2/events/{id} show them: {id, event_id,
 * event_type, user_id, destination_id, state, retry, attempts,
 * next_attempt_at (null unless pending), last_status, last_error,
 * created_at, updated_at, attempt_log: [{n, at, status, latency_ms,
 * error}]}; times ISO-8601, absent values null. Borrowed
 * arguments; NULL when out of memory.
 */
json_t *destinations_delivery_json(const struct store_delivery *d,
                                   const struct store_delivery_attempt *at,
                                   size_t n);

#endif
