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

#endif
