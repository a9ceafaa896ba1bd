/*
 * demo.h - the inbox of `ferry demo`: a destination inside the process.
 *
 * Each event delivered to a "demo" destination is signed exactly as a
 * webhook would be, then checked as a receiver would check it (the
 * secret, the raw bytes, the time), and kept in memory -- the newest
 * DEMO_INBOX_MAX -- for the /demo/inbox page. Nothing leaves the
 * process, so it needs no exemption from the private-address guard.
 */
#ifndef FERRY_DELIVER_DEMO_H
#define FERRY_DELIVER_DEMO_H

#include <jansson.h>

#define DEMO_INBOX_MAX  100
#define DEMO_BODY_SHOWN 8192 /* bytes of a body kept for the page */

/*
 * The inbox, newest first, as a JSON array of {event_id, type, user_id,
 * received_at (ISO-8601), signature (the header value), verified (bool),
 * check (what the check said), body (the first DEMO_BODY_SHOWN bytes),
 * truncated (bool)}. NULL when out of memory; the caller owns it.
 */
json_t *demo_inbox_json(void);

/* Empty the inbox (tests). */
void demo_inbox_clear(void);

#endif
