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

#define LINKS_TOKEN_BYTES   24 /* 192 bits */
#define LINKS_REFERENCE_MAX 256
#define LINKS_LANGUAGE_MAX  35
#define LINKS_PROVIDERS_MAX 4096

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
    const char *url;       /* <public_url>/widget/<token>; arena */
    const char *providers; /* the providers offered; arena */
    long expires_in;
};

/*
 * Validate `req` and store a widget session for `dev_id`. Errors are
 * ERR_INVALID with a message naming the field: an unknown provider, no
 * enabled provider left, a bad redirect URL, expires_in outside the
 * [links] bounds, an over-long or control-character reference_id or
 * language. Nothing is stored on error. Strings in `out` come from `ar`.
 */
int links_create_widget(struct app *a, const char *dev_id,
                        const struct links_request *req, struct arena *ar,
                        struct links_session *out, struct err *e);

#endif
