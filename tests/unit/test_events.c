/*
 * test_events.c - event bodies and the user object, key by key.
 */
#include <jansson.h>
#include <string.h>

#include "app/events.h"
#include "core/uuid.h"
#include "tap.h"

#define T0 1772352000000000LL /* 2026-03-01T08:00:00Z */

static const struct store_user alice = {
    "8c6f1d2e-0000-4000-8000-000000000001",
    "dev_1",
    "OURA",
    "oura-77",
    "user-42",
    "sess-1",
    "connected",
    1,
    "daily sleep",
    T0,
    T0,
    0,
    0,
    0,
};

/* The body of `ev` parsed; the caller decrefs. */
static json_t *
body(const struct store_event *ev)
{
    return json_loads(ev->body, 0, NULL);
}

/* 1 when object `o` has exactly the keys in `keys` (NULL-ended). */
static int
keys_are(json_t *o, const char *const *keys)
{
    size_t n = 0;

    for (n = 0; keys[n] != NULL; n++) {
        if (json_object_get(o, keys[n]) == NULL) {
            printf("# missing key %s\n", keys[n]);
            return 0;
        }
    }
    return json_object_size(o) == n;
}

static void
test_user(void)
{
    static const char *const keys[] = {
        "user_id", "provider",   "reference_id",        "scopes",
        "active",  "created_at", "last_webhook_update", NULL};
    json_t *u = events_user_json(&alice, 0);
    json_t *d = events_user_json(&alice, 1);

    ok(keys_are(u, keys), "the Terra user keys, no more");
    is_str(json_string_value(json_object_get(u, "created_at")),
           "2026-03-01T08:00:00.000000+00:00", "microseconds and an offset");
    ok(json_is_null(json_object_get(u, "last_webhook_update")),
       "never is null");
    ok(json_is_true(json_object_get(u, "active")), "active is a boolean");
    ok(json_object_get(d, "last_polled_at") != NULL &&
           json_object_get(d, "most_recent_data_at") != NULL,
       "the userInfo detail adds the polling times");
    ok(json_object_get(u, "provider_user_id") == NULL &&
           json_object_get(u, "dev_id") == NULL,
       "nothing of ferry's own leaks into the user");
    json_decref(u);
    json_decref(d);
}

static void
test_auth(struct arena *a)
{
    static const char *const keys[] = {"type",
                                       "status",
                                       "user",
                                       "reference_id",
                                       "widget_session_id",
                                       "message",
                                       "version",
                                       "ferry",
                                       NULL};
    struct store_event ev;
    json_t *b = NULL;

    is_int(events_auth_success(a, &alice, "sess-1", T0, &ev), 0, "auth");
    b = body(&ev);
    ok(keys_are(b, keys), "auth success keys");
    is_str(json_string_value(json_object_get(b, "type")), "auth", "type");
    is_str(json_string_value(json_object_get(b, "status")), "success",
           "status");
    is_str(json_string_value(json_object_get(b, "widget_session_id")), "sess-1",
           "the link's id");
    is_str(json_string_value(
               json_object_get(json_object_get(b, "ferry"), "event_id")),
           ev.id, "ferry.event_id is the event's id");
    ok(uuid_valid(ev.id), "a UUID");
    is_str(ev.type, "auth", "row type");
    is_str(ev.user_id, alice.id, "row user");
    is_str(ev.dev_id, "dev_1", "row developer");
    ok(ev.created_at == T0, "row time");
    json_decref(b);
}

static void
test_auth_error(struct arena *a)
{
    struct store_event ev;
    json_t *b = NULL;
    json_t *u = NULL;

    is_int(events_auth_error(a, "dev_1", "reserved-1", "OURA", NULL, "sess-1",
                             "access_denied", "the user denied access", T0,
                             &ev),
           0, "auth error");
    b = body(&ev);
    u = json_object_get(b, "user");
    is_str(json_string_value(json_object_get(b, "status")), "error", "status");
    is_str(json_string_value(json_object_get(b, "reason")), "access_denied",
           "reason");
    is_str(json_string_value(json_object_get(b, "provider")), "OURA",
           "provider");
    ok(json_is_null(json_object_get(b, "reference_id")),
       "no reference is null");
    is_str(json_string_value(json_object_get(u, "user_id")), "reserved-1",
           "the reserved id");
    ok(json_is_false(json_object_get(u, "active")), "inactive");
    ok(ev.user_id == NULL, "no stored user is named");
    json_decref(b);

    is_int(events_auth_error(a, "dev_1", NULL, "OURA", "r", NULL,
                             "invalid_state", "m", T0, &ev),
           0, "auth error without a user or link");
    b = body(&ev);
    ok(json_is_null(json_object_get(json_object_get(b, "user"), "user_id")),
       "user_id null");
    ok(json_is_null(json_object_get(b, "widget_session_id")),
       "widget_session_id null");
    json_decref(b);
}

static void
test_reauth_deauth(struct arena *a)
{
    struct store_user bob = alice;
    struct store_event ev;
    json_t *b = NULL;

    bob.id = "8c6f1d2e-0000-4000-8000-000000000002";
    is_int(events_reauth(a, &alice, &bob, T0, &ev), 0, "user_reauth");
    b = body(&ev);
    is_str(json_string_value(json_object_get(b, "type")), "user_reauth",
           "type");
    is_str(json_string_value(json_object_get(b, "status")), "warning",
           "status");
    is_str(json_string_value(
               json_object_get(json_object_get(b, "old_user"), "user_id")),
           alice.id, "old_user");
    is_str(json_string_value(
               json_object_get(json_object_get(b, "new_user"), "user_id")),
           bob.id, "new_user");
    ok(json_object_get(b, "user") == NULL, "no plain user key");
    json_decref(b);

    is_int(events_deauth(a, &alice, "revoked", T0, &ev), 0, "deauth");
    b = body(&ev);
    is_str(json_string_value(json_object_get(b, "type")), "deauth", "type");
    is_str(json_string_value(json_object_get(b, "status")), "success",
           "status");
    is_str(json_string_value(
               json_object_get(json_object_get(b, "ferry"), "provider_revoke")),
           "revoked", "the provider's outcome under ferry");
    ok(json_object_get(json_object_get(b, "ferry"), "event_id") != NULL,
       "and the event id beside it");
    json_decref(b);
}

int
main(void)
{
    struct arena a;

    arena_init(&a, 1 << 20);
    test_user();
    test_auth(&a);
    test_auth_error(&a);
    test_reauth_deauth(&a);
    arena_release(&a);
    return done_testing();
}
