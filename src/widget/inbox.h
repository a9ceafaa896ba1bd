/*
 * inbox.h - the /demo/inbox page of `ferry demo`.
 */
#ifndef FERRY_WIDGET_INBOX_H
#define FERRY_WIDGET_INBOX_H

#include <jansson.h>

#include "core/buf.h"

#define INBOX_REFRESH_SECONDS "5" /* the page's Refresh header */

/*
 * The inbox page for `entries` (the array of demo_inbox_json(), newest
 * first; borrowed): for each event its type, id, user, arrival time,
 * whether its signature verified and what the check said, the
 * terra-signature header and the body, every value escaped. The
 * handler sends "Refresh: INBOX_REFRESH_SECONDS" with it (no script). 0, or
 * ERR_TOOBIG when `out` is full (then `out` is left as it was).
 */
int widget_render_inbox(const json_t *entries, struct buf *out);

#endif
