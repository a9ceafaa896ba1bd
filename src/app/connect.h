/*
 * connect.h - the OAuth 2.0 login behind a link: from the provider pick
 * to the stored connection.
 *
 * connect_begin() turns a pick on an open link into the provider's
 * authorize URL: it records an attempt (the `state`, at least 128
 * random bits, kept as a hash; the PKCE verifier, sealed; the user id
 * reserved for the connection) that expires with its link.
 *
 * connect_finish() takes the provider's redirect back. It checks the
 * state (known, unused, not expired, for this provider, its link not
 * completed), exchanges the code at the token endpoint (PKCE verifier,
 * the provider's client authentication, [oauth] token_timeout_seconds,
 * a bounded answer), fetches the provider's user id, and stores the
 * user with its encrypted tokens and its events (auth, and user_reauth
 * when it replaces a connection of the same account and reference_id)
 * in one transaction. Every failure records an auth error event, and
 * the result names one of the CONNECT_R_* reasons. The outcome never
 * waits for event delivery, only for the event to be stored.
 */
#ifndef FERRY_APP_CONNECT_H
#define FERRY_APP_CONNECT_H

#include "app/app.h"
#include "core/arena.h"
#include "store/store.h"

/* The documented failure reasons (the `reason` query parameter). */
#define CONNECT_R_ACCESS_DENIED  "access_denied"
#define CONNECT_R_LINK_EXPIRED   "link_expired"
#define CONNECT_R_LINK_USED      "link_used"
#define CONNECT_R_INVALID_STATE  "invalid_state"
#define CONNECT_R_TOKEN_EXCHANGE "token_exchange_failed"
#define CONNECT_R_PROFILE        "profile_failed"
#define CONNECT_R_PROVIDER_ERROR "provider_error"

/*
 * Start a login at `resource` for the open link `ss`: 0 with `*url` the
 * provider's authorize URL (in `ar`). For a direct link the reserved
 * user id is the link's; for a widget link each pick reserves one.
 * ERR_INVALID when the provider is not enabled or not offered by the
 * link; ERR_GONE when the link expired or completed; store errors.
 */
int connect_begin(struct app *a, const struct store_session *ss,
                  const char *resource, struct arena *ar, const char **url,
                  struct err *e);

/* What the provider's redirect carried; NULL for absent values. */
struct connect_query {
    const char *state;
    const char *code;
    const char *error;
    const char *error_description;
};

/* How a callback ended. Strings in the request's arena. */
struct connect_result {
    int ok;
    const char *reason;   /* CONNECT_R_* when !ok */
    const char *message;  /* a sentence for the page, when !ok */
    const char *user_id;  /* the new user, or the reserved id; may be NULL */
    const char *resource; /* may be NULL when no link is known */
    const struct store_session *session; /* NULL when no link is known */
};

typedef void (*connect_done_fn)(void *arg, const struct connect_result *r);

/*
 * Finish the login the provider `section` (the callback path's name)
 * redirected back with `q`. `done(arg, r)` is called exactly once, from
 * this thread or another (the outbound client's or the store's), when
 * the outcome and its events are stored. `ar` (the request's arena) and
 * `q` must stay valid until then.
 */
void connect_finish(struct app *a, struct arena *ar, const char *section,
                    const struct connect_query *q, connect_done_fn done,
                    void *arg);

#endif
