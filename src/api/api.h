/*
 * api.h - ferry's HTTP surface: the route table and its handlers.
 *
 * api_handle() is the server's one handler; it expects req->ctx to be the
 * running `struct app`.
 */
#ifndef FERRY_API_API_H
#define FERRY_API_API_H

#include "http/server.h"

int api_handle(struct http_request *req, struct http_response *resp);

/*
 * The server's body_ceiling option (`ctx` is the running struct app):
 * [server] hook_max_body_bytes for a push to /hooks/<provider>/<token>
 * of an enabled provider that takes pushes, with that provider's own
 * path token; 0 (max_body_bytes) for any other target, so a large body
 * is read only from whoever holds the token.
 */
size_t api_body_ceiling(void *ctx, const char *target);

#endif
