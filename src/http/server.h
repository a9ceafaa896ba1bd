/*
 * server.h - the HTTP server: libmicrohttpd with epoll and a thread pool.
 *
 * The server reads each request completely (the body bounded by
 * `max_body_bytes`), gives it a per-request arena and a request id, runs
 * the router on the final call of libmicrohttpd's access handler (never
 * earlier: answering before the request is complete costs keep-alive)
 * and queues the response the handler filled in. A body over the limit is
 * answered 413 at once, before it is read.
 *
 * Threads: libmicrohttpd runs `threads` event loops, each with its own
 * epoll set. A handler runs on one of them and must not block for long;
 * it may use the request's arena and whatever the server's `ctx` points
 * to, which must be thread-safe.
 *
 * Answering later: a handler that waits for something (a store write)
 * calls http_defer() before starting it and returns 0 without filling
 * the response. The server suspends the connection; whoever finishes
 * the work calls http_finish() once, from any thread, and the server
 * resumes the connection and sends that answer. Until then the request
 * (its arena, body, headers) stays valid and belongs to the finisher:
 * the handler's thread must not touch it after starting the work.
 */
#ifndef FERRY_HTTP_SERVER_H
#define FERRY_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

#define HTTP_MAX_PARAMS  4
#define HTTP_MAX_HEADERS 12
#define HTTP_REQ_ID_LEN  16

struct MHD_Connection;

struct http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* without the query string */
    const char *body;    /* NUL-terminated; "" when none */
    size_t body_len;     /* may include NUL bytes before body_len */
    struct arena *arena; /* freed when the response is sent */
    const char *req_id;  /* HTTP_REQ_ID_LEN hex characters */
    const char *params[HTTP_MAX_PARAMS]; /* router captures, decoded */
    size_t nparams;
    void *ctx;                   /* the server's ctx */
    struct MHD_Connection *conn; /* for http_header() and http_query() */
};

struct http_header_pair {
    const char *name;
    const char *value;
};

struct http_response {
    int status; /* 0 until a handler sets it */
    const char *content_type;
    const char *body; /* copied when queued; may be NULL */
    size_t body_len;
    struct http_header_pair headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    /* malloc()ed memory (a body larger than the request arena) that the
     * server frees once the answer is queued; NULL when none. Not for
     * deferred answers: http_finish() copies what it is given. */
    char *heap;
};

/* Fills in `resp` for `req`. Returns 0; a negative return makes the server
 * answer 500 with the JSON error body (the handler's bug, logged). */
typedef int (*http_handler_fn)(struct http_request *req,
                               struct http_response *resp);

struct http_server_options {
    const char *listen; /* "host:port", "[v6]:port"; port 0 = any */
    unsigned threads;   /* event-loop threads, 0 = one per core */
    unsigned max_connections;
    unsigned per_ip_connections; /* 0 = no per-address limit */
    unsigned timeout_seconds;    /* idle connection timeout */
    size_t max_body_bytes;
    /* the body ceiling of a request for `target` (as sent, before any
     * decoding), asked before its headers are read: 0 means
     * max_body_bytes. May be NULL. Must be quick and must not block. */
    size_t (*body_ceiling)(void *ctx, const char *target);
    size_t connection_memory;         /* per-connection memory for headers */
    size_t request_memory;            /* per-request arena ceiling */
    unsigned request_timeout_seconds; /* the body must arrive within */
    /* path prefixes whose rest is a secret (a link token): the access log
     * shows the prefix and "[redacted]"; NULL-terminated, may be NULL */
    const char *const *secret_paths;
    /* prefixes under those that hold no secret (shown whole); the same
     * form */
    const char *const *public_paths;
    /* called with the bound address once the socket listens and before
     * any request is served, so `ctx` can learn it race-free; may be
     * NULL */
    void (*on_bound)(void *ctx, const char *addr);
    http_handler_fn handler;
    void *ctx; /* given to the handler as req->ctx */
};

struct http_server;

/*
 * Bind and start serving. The bound address (with the real port when 0
 * was asked for) is given to opt->on_bound, logged as
 * `event=listening addr=HOST:PORT`. `*out` is freed with
 * http_server_stop().
 * ERR_CONFIG for a listen address that does not parse (see
 * http_listen_parse()), ERR_IO when the address cannot be bound.
 *
 * Before any handler runs, every request is screened by http/guard.h
 * (request target and framing headers: 400 and the connection closed),
 * and the connection of one whose body has not arrived within
 * request_timeout_seconds is closed (libmicrohttpd cannot answer while a
 * body is coming in).
 */
int http_server_start(struct http_server **out,
                      const struct http_server_options *opt, struct err *e);

/*
 * Stop accepting, finish the threads and free `s`. Waits until every
 * deferred request has been answered (http_finish()) and its connection
 * resumed; requests that defer while it stops are answered on their
 * event-loop thread, which waits for http_finish(). NULL does nothing.
 */
void http_server_stop(struct http_server *s);

/*
 * From a handler, before it starts the work that will answer `req`: the
 * answer will come through http_finish(), and the handler returns 0
 * with the response left empty. Every deferred request must be
 * finished exactly once, or http_server_stop() waits forever.
 */
void http_defer(struct http_request *req);

/*
 * Answer the deferred request `req`; callable from any thread, also
 * from the handler itself. `rc` and `resp` mean what a handler's return
 * value and response mean (a negative `rc` or a status of 0 answers
 * 500). The body is copied; header names and values must live as long
 * as the request (the arena). `req` must not be used afterwards: the
 * request may be over by the time this returns. BUG() when called for
 * a request that was not deferred or was finished already.
 */
void http_finish(struct http_request *req, int rc,
                 const struct http_response *resp);

/* Request header `name` (any case), or NULL. Borrowed for the request. */
const char *http_header(const struct http_request *r, const char *name);

/* Decoded query parameter `name`, or NULL. Borrowed for the request. */
const char *http_query(const struct http_request *r, const char *name);

/* Add a response header; names and values must outlive the request (use
 * the arena). BUG() past HTTP_MAX_HEADERS. */
void http_add_header(struct http_response *resp, const char *name,
                     const char *value);

#endif
