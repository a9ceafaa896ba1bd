/*
 * events.c - build event bodies (see events.h).
 */
#include <stdlib.h>
#include <string.h>

#include "app/events.h"
#include "core/buf.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "core/uuid.h"

/* The most text one event body may make. */
#define BODY_MAX (256u << 20)

/* A time as Terra writes it, or JSON null for 0 ("never"). */
static json_t *
time_json(int64_t us)
{
    char s[ISOTIME_MAX];

    if (us == 0) {
        return json_null();
    }
    isotime_format(us, 0, s);
    return json_string(s);
}

/* A string, or JSON null for NULL. */
static json_t *
str_json(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *
events_user_json(const struct store_user *u, int detail)
{
    json_t *o = json_object();

    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "user_id", str_json(u->id));
    json_object_set_new(o, "provider", str_json(u->provider));
    json_object_set_new(o, "reference_id", str_json(u->reference_id));
    json_object_set_new(o, "scopes", str_json(u->scopes));
    json_object_set_new(o, "active", json_boolean(u->active));
    json_object_set_new(o, "created_at", time_json(u->created_at));
    json_object_set_new(o, "last_webhook_update",
                        time_json(u->last_webhook_update));
    if (detail) {
        json_object_set_new(o, "last_polled_at", time_json(u->last_polled_at));
        json_object_set_new(o, "most_recent_data_at",
                            time_json(u->most_recent_data_at));
    }
    return o;
}

int
events_make(struct arena *a, const char *dev_id, const char *user_id,
            const char *type, json_t *body, int64_t now, struct store_event *ev)
{
    char id[UUID_STR_LEN];
    json_t *ferry = NULL;
    struct buf text;
    int rc = 0;

    memset(ev, 0, sizeof(*ev));
    uuid_v4(id);
    ferry = json_pack("{s:s}", "event_id", id);
    if (ferry == NULL ||
        json_object_set_new(body, "type", json_string(type)) < 0) {
        json_decref(ferry);
        return ERR_NOMEM;
    }
    /* the ferry object may already hold additions of the caller */
    if (json_is_object(json_object_get(body, "ferry"))) {
        json_object_update(json_object_get(body, "ferry"), ferry);
        json_decref(ferry);
    } else {
        json_object_set_new(body, "ferry", ferry);
    }
    /* what json_dumps() with JSON_COMPACT | JSON_REAL_PRECISION(15)
     * would make, faster */
    buf_init(&text, BODY_MAX);
    if (jsonw_add(&text, body) < 0) {
        buf_release(&text);
        return ERR_NOMEM;
    }
    ev->id = arena_strdup(a, id);
    ev->dev_id = arena_strdup(a, dev_id);
    ev->user_id = user_id != NULL ? arena_strdup(a, user_id) : NULL;
    ev->type = type;
    ev->body = arena_strndup(a, buf_str(&text), text.len);
    ev->created_at = now;
    if (ev->id == NULL || ev->dev_id == NULL || ev->body == NULL ||
        (user_id != NULL && ev->user_id == NULL)) {
        rc = ERR_NOMEM;
    }
    buf_release(&text);
    return rc;
}

/* events_make() that consumes `body` (NULL: out of memory). */
static int
make_take(struct arena *a, const char *dev_id, const char *user_id,
          const char *type, json_t *body, int64_t now, struct store_event *ev)
{
    int rc = ERR_NOMEM;

    if (body != NULL) {
        rc = events_make(a, dev_id, user_id, type, body, now, ev);
    }
    json_decref(body);
    return rc;
}

int
events_auth_success(struct arena *a, const struct store_user *u,
                    const char *session_id, int64_t now, struct store_event *ev)
{
    json_t *body = json_pack(
        "{s:s, s:o, s:o, s:o, s:s, s:s}", "status", "success", "user",
        events_user_json(u, 0), "reference_id", str_json(u->reference_id),
        "widget_session_id", str_json(session_id), "message",
        "User has successfully authenticated", "version", EVENTS_API_VERSION);

    return make_take(a, u->dev_id, u->id, "auth", body, now, ev);
}

int
events_auth_error(struct arena *a, const char *dev_id, const char *user_id,
                  const char *provider, const char *reference_id,
                  const char *session_id, const char *reason,
                  const char *message, int64_t now, struct store_event *ev)
{
    json_t *user = json_pack(
        "{s:o, s:s, s:o, s:o, s:b, s:n, s:n}", "user_id", str_json(user_id),
        "provider", provider, "reference_id", str_json(reference_id), "scopes",
        json_null(), "active", 0, "created_at", "last_webhook_update");
    json_t *body = NULL;

    /* "s:n" takes no value: created_at and last_webhook_update are null */
    if (user == NULL) {
        return ERR_NOMEM;
    }
    body = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:s}", "status",
                     "error", "user", user, "provider", provider, "message",
                     message, "reason", reason, "reference_id",
                     str_json(reference_id), "widget_session_id",
                     str_json(session_id), "version", EVENTS_API_VERSION);
    /* an auth error names no stored user: the reserved id is not one */
    return make_take(a, dev_id, NULL, "auth", body, now, ev);
}

int
events_reauth(struct arena *a, const struct store_user *old_user,
              const struct store_user *new_user, int64_t now,
              struct store_event *ev)
{
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:s, s:s}", "status", "warning", "old_user",
                  events_user_json(old_user, 0), "new_user",
                  events_user_json(new_user, 0), "message",
                  "User has reauthenticated", "version", EVENTS_API_VERSION);

    return make_take(a, new_user->dev_id, new_user->id, "user_reauth", body,
                     now, ev);
}

int
events_deauth(struct arena *a, const struct store_user *u, const char *revoke,
              int64_t now, struct store_event *ev)
{
    json_t *body = json_pack(
        "{s:s, s:o, s:s, s:s, s:{s:s}}", "status", "success", "user",
        events_user_json(u, 0), "message", "User has deauthenticated",
        "version", EVENTS_API_VERSION, "ferry", "provider_revoke", revoke);

    return make_take(a, u->dev_id, u->id, "deauth", body, now, ev);
}
