/*
 * client.h - outbound HTTP(S) through one libcurl multi handle, driven by
 * one thread of its own.
 *
 *     struct hclient *c = NULL;
 *     hclient_start(&c, &e);
 *     struct hclient_request r = {.method = "GET", .url = u};
 *     hclient_send(c, &r, on_done, arg);    (on_done runs on c's thread)
 *     ...
 *     hclient_stop(c);
 *
 * Every transfer is limited to http and https, follows no redirect, has a
 * connect and a total timeout and a ceiling on the body it accepts. With
 * `public_only` the address curl resolved is checked before the socket is
 * opened (and a pooled connection again before each request), so a URL
 * that names or resolves to a loopback, private or link-local address is
 * refused: use it for every URL a developer gave. No proxy is used.
 *
 * Nothing here logs a query string, a header or a body: a transfer is
 * logged (at debug) as method, host, path, status and time only. Request
 * bodies and headers, and response bodies, are wiped when freed.
 */
#ifndef FERRY_HTTP_CLIENT_H
#define FERRY_HTTP_CLIENT_H

#include <stddef.h>

#include "core/err.h"

/* Room for request headers, the NULL that ends them included. */
#define HCLIENT_MAX_HEADERS 16

/* Defaults for the fields of struct hclient_request left at 0. */
#define HCLIENT_DEFAULT_TIMEOUT_MS   10000L
#define HCLIENT_DEFAULT_MAX_RESPONSE (1024 * 1024)

struct hclient_request {
    const char *method; /* "GET", "POST", ...; NULL means GET */
    const char *url;    /* http:// or https:// */
    /* "Name: value" each, NULL-ended (so at most 15 are used) */
    const char *headers[HCLIENT_MAX_HEADERS];
    const char *body; /* may be NULL */
    size_t body_len;
    /* 1: the caller keeps `body` unchanged until `done` has returned;
     * it is sent from there, not copied (nor wiped) */
    int body_kept;
    long timeout_ms;     /* whole transfer; 0 = HCLIENT_DEFAULT_TIMEOUT_MS */
    size_t max_response; /* body bytes accepted; 0 = 1 MiB; more is
                            ERR_TOOBIG */
    int public_only;     /* refuse loopback/private/link-local peers,
                            checked on the resolved address before
                            connecting */
};

struct hclient_response {
    /* 0: an HTTP answer came (any status); else ERR_TIMEOUT,
     * ERR_UPSTREAM (connect, TLS or protocol failure), ERR_TOOBIG (body
     * over max_response), ERR_FORBIDDEN (public_only refused the
     * address), ERR_INVALID (a request the client cannot send) or
     * ERR_IO (the client is stopping and the request was not sent) */
    int rc;
    char error[256]; /* what went wrong when rc != 0; no secrets */
    long status;     /* HTTP status when rc == 0 or ERR_TOOBIG */
    char *body;      /* NUL-terminated, "" when none; owned by the response */
    size_t body_len; /* bytes in body, not counting the NUL */
    char content_type[128]; /* the Content-Type header, "" when none */
    char retry_after[64];   /* the Retry-After header, "" when none */
    long elapsed_ms;        /* from the start of the transfer */
};

/*
 * Called once per request from the client's thread. `r` and its body are
 * freed when it returns unless the callback takes the body (keeps the
 * pointer and sets r->body to NULL; it then frees it with free()). The
 * callback must not block for long: every other transfer waits for it.
 * It may call hclient_send() but not hclient_stop().
 */
typedef void (*hclient_done_fn)(void *arg, struct hclient_response *r);

struct hclient;

/*
 * Start a client and its thread into `*out`. 0, or ERR_IO / ERR_INTERNAL
 * (detail in `e`) when curl or the thread cannot be set up; `*out` is
 * NULL then. The caller ends it with hclient_stop().
 */
int hclient_start(struct hclient **out, struct err *e);

/* As hclient_start() with at most `max_connections` connections open at
 * once (0: the default of 128); requests beyond wait for one. */
int hclient_start_pool(struct hclient **out, long max_connections,
                       struct err *e);

/*
 * Queue `r` on `c`. Everything `r` points to is copied (the body unless
 * r->body_kept): the caller may free it on return. Safe to call from any
 * thread, also from a done callback and while hclient_stop() runs, but
 * not after hclient_stop() returned. 0 when queued, and then `done` is
 * called exactly once (also when the request is invalid: then with rc
 * ERR_INVALID); ERR_IO when the client is stopping, and `done` is not
 * called.
 */
int hclient_send(struct hclient *c, const struct hclient_request *r,
                 hclient_done_fn done, void *arg);

/*
 * Blocking form for commands and tests: runs `r` on its own easy handle
 * in the calling thread (`c` is not used and may be NULL). Returns
 * out->rc, with the same meaning as in struct hclient_response. `out` is
 * always filled and is released with hclient_response_release().
 */
int hclient_fetch(struct hclient *c, const struct hclient_request *r,
                  struct hclient_response *out);

/* Free the body of `r` (if still there) and set it to NULL. `r` may be
 * NULL. */
void hclient_response_release(struct hclient_response *r);

struct sockaddr;

/*
 * 1 when the numeric address `sa` (a struct sockaddr_in or
 * sockaddr_in6) is one public_only refuses: loopback, private,
 * link-local, shared (100.64/10), unspecified, multicast, reserved,
 * documentation ranges, and IPv4-mapped or NAT64/6to4 forms of them.
 * `sa` is borrowed; any other family counts as private.
 */
int hclient_addr_is_private(const struct sockaddr *sa);

/*
 * Finish: stop taking requests, let those in flight run for a short
 * grace (about 2 s), then complete every one left: with rc ERR_IO
 * "client stopping" when its request was not sent, else ERR_UPSTREAM
 * (the peer may have acted on it), so each `done` is called exactly
 * once; end the
 * thread and free `c`. Must not be called from a done callback. NULL
 * does nothing.
 */
void hclient_stop(struct hclient *c);

#endif
