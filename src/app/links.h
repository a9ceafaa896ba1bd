/*
 * links.h - link sessions: what generateWidgetSession hands out.
 *
 * A session names a developer, the end user's reference_id, the providers
 * to offer, the language and where to send the browser afterwards. Its
 * URL carries a token of LINKS_TOKEN_BYTES random bytes (base64url); the
 * store keeps only the token's SHA-256, so a leaked database does not leak
 * working links.
 */
#ifndef FERRY_APP_LINKS_H
#define FERRY_APP_LINKS_H

#include "app/app.h"
#include "core/arena.h"
#include "core/uuid.h"

#define LINKS_TOKEN_BYTES    24 /* 192 bits */
#define LINKS_REFERENCE_MAX  256
#define LINKS_LANGUAGE_MAX   35
#define LINKS_PROVIDERS_MAX  4096
#define LINKS_DIRECT_SECONDS 900 /* an authenticateUser auth_url */

/* ERR_INVALID naming the field when `reference_id` is over
 * LINKS_REFERENCE_MAX bytes, not UTF-8 or holds control characters. */
int links_check_reference(const char *reference_id, struct err *e);

/* What the developer asked for; NULL fields were not given. */
struct links_request {
    const char *reference_id;
    const char *providers; /* comma-separated resources */
    const char *language;
    const char *success_url;
    const char *failure_url;
    int expires_given; /* 0: [links] default_expires_in applies */
    long expires_in;   /* seconds, when expires_given */
};

struct links_session {
    char session_id[UUID_STR_LEN];
    char user_id[UUID_STR_LEN]; /* direct links: the reserved user id */
    const char *url;            /* <public_url>/widget/<token>; arena */
    const char *providers;      /* the providers offered; arena */
    long expires_in;
};

/*
 * How links_store_widget() ended: `rc` is 0 and `ls` the stored session,
 * or the store's ERR_* (ERR_NOTFOUND when the developer is gone) with
 * `e` the detail. Both borrowed for the call. Runs on the store's writer
 * thread (see store_done_fn in store.h).
 */
typedef void (*links_done_fn)(void *arg, int rc, const struct links_session *ls,
                              const struct err *e);

/* A widget session that is checked and made but not stored yet. */
struct links_widget {
    struct links_session out; /* the answer once stored */
    struct store_session row; /* what links_store_widget() stores */
    const char *dev_id;       /* arena */
    links_done_fn done;       /* set by links_store_widget() */
    void *arg;
};

/*
 * Validate `req` and make a widget session for `dev_id` in `*w`: its
 * id, a fresh URL token (kept only inside `w->out.url` and as a hash),
 * the providers and the expiry. Errors are ERR_INVALID with a message
 * naming the field: an unknown provider, no enabled provider left, a bad
 * redirect URL, expires_in outside the [links] bounds, an over-long or
 * control-character reference_id or language; ERR_NOMEM when `ar` is
 * full. Nothing is stored. Strings in `*w` come from `ar` or are
 * borrowed from `req`, which must outlive the store call that follows.
 */
int links_prepare_widget(struct app *a, const char *dev_id,
                         const struct links_request *req, struct arena *ar,
                         struct links_widget *w, struct err *e);

/*
 * Validate an authenticateUser request for `dev_id` and make its direct
 * session in `*w`: the reserved user id, the start link
 * `<public_url>/connect/<token>` (in w->out.url), valid
 * LINKS_DIRECT_SECONDS (or the nearest [links] bound). `resource` must
 * name an enabled provider: ERR_INVALID naming the field otherwise, and
 * for the other fields as links_prepare_widget(). Nothing is stored.
 */
int links_prepare_direct(struct app *a, const char *dev_id,
                         const struct links_request *req, const char *resource,
                         struct arena *ar, struct links_widget *w,
                         struct err *e);

/*
 * Store the session `w` made by links_prepare_widget() or
 * links_prepare_direct() without waiting.
 * Returns 0 when the write is queued; `done(arg, ...)` is then called
 * exactly once, after the commit or the failure, and `w` (with `ar`)
 * must stay valid until it is; the strings borrowed from `req` are
 * copied and may go at once. Logs `session.created` on success. Returns
 * ERR_STORE, and never calls `done`, when the store is closing.
 */
int links_store_widget(struct app *a, struct links_widget *w,
                       links_done_fn done, void *arg);

/*
 * links_prepare_widget() then a synchronous store of the session: 0
 * with `out` filled (strings from `ar`), or the errors of either.
 * Nothing is stored on error.
 */
int links_create_widget(struct app *a, const char *dev_id,
                        const struct links_request *req, struct arena *ar,
                        struct links_session *out, struct err *e);

#endif
