/*
 * reply.h - JSON responses and the combined error body.
 *
 * Every error ferry sends has the Terra keys and the RFC 7807 keys in one
 * object, whatever produced it (a handler, the router or the server):
 *
 *   {"status":"error","message":"...","type":"about:blank",
 *    "title":"bad request","detail":"...","instance":"/v2/..."}
 */
#ifndef FERRY_HTTP_REPLY_H
#define FERRY_HTTP_REPLY_H

#include <jansson.h>

#include "core/err.h"
#include "http/server.h"

/* Reply `status` with `body` serialised compactly. Takes ownership of
 * `body` (json_decref'd here, also on failure). 0, or ERR_NOMEM when the
 * arena is full (an error reply is then set instead). */
int http_reply_json(struct http_request *req, struct http_response *resp,
                    int status, json_t *body);

/*
 * As http_reply_json(), for an answer that may be larger than the
 * request arena: one that does not fit it is written into resp->heap
 * instead, up to `max` bytes (more is ERR_NOMEM, with the error reply
 * set). Only for answers that are not deferred.
 */
int http_reply_json_large(struct http_request *req, struct http_response *resp,
                          int status, json_t *body, size_t max);

/* Reply `status` with the error body; `fmt` makes message and detail. */
int http_reply_error(struct http_request *req, struct http_response *resp,
                     int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reply with the status that fits `e->code` and `e->msg` as the message.
 * Store and internal failures become a 500 with a generic message; their
 * detail goes to the log only. */
int http_reply_err(struct http_request *req, struct http_response *resp,
                   const struct err *e);

/* The HTTP status for an ERR_* code (ERR_INVALID 400, ERR_AUTH 401, ...). */
int http_status_for(int code);

/* Lower-case reason phrase for RFC 7807 `title` ("not found"). */
const char *http_status_title(int status);

#endif
