/*
 * events.h - the JSON of Terra's events and of the user object.
 *
 * Bodies follow reference/terra-api.md section 4; ferry's own additions
 * sit under one top-level "ferry" object ({"event_id": ...}), never inside
 * Terra's objects. Each builder fills a `struct store_event` ready for
 * the store: a fresh event id, the body serialized once (the bytes that
 * will be sent on every delivery attempt), strings in the arena.
 */
#ifndef FERRY_APP_EVENTS_H
#define FERRY_APP_EVENTS_H

#include <jansson.h>

#include "core/arena.h"
#include "store/store.h"

#define EVENTS_API_VERSION "2022-03-16"

/* The Terra user object of `u` (a new reference). `detail` adds the
 * newer userInfo fields last_polled_at and most_recent_data_at. NULL
 * only when out of memory. */
json_t *events_user_json(const struct store_user *u, int detail);

/* Fill `ev` for developer `dev_id`, user `user_id` (may be NULL), of
 * `type`, with `body` (borrowed; "type" and "ferry" are added to it),
 * created at `now`. ERR_NOMEM when the arena is full. */
int events_make(struct arena *a, const char *dev_id, const char *user_id,
                const char *type, json_t *body, int64_t now,
                struct store_event *ev);

/* auth, success: the new user `u`, the link `session_id`. */
int events_auth_success(struct arena *a, const struct store_user *u,
                        const char *session_id, int64_t now,
                        struct store_event *ev);

/*
 * auth, error: `user_id` reserved for the attempt (may be NULL),
 * `provider`, the link's `reference_id` (may be NULL) and `session_id`
 * (may be NULL), `reason` (one of the documented values) and `message`.
 */
int events_auth_error(struct arena *a, const char *dev_id, const char *user_id,
                      const char *provider, const char *reference_id,
                      const char *session_id, const char *reason,
                      const char *message, int64_t now, struct store_event *ev);

/* user_reauth: `old_user` replaced by `new_user`. */
int events_reauth(struct arena *a, const struct store_user *old_user,
                  const struct store_user *new_user, int64_t now,
                  struct store_event *ev);

/* deauth of `u`; `revoke` says what the provider did with the grant
 * ("revoked", "failed", "not_supported"), under ferry.provider_revoke. */
int events_deauth(struct arena *a, const struct store_user *u,
                  const char *revoke, int64_t now, struct store_event *ev);

#endif
