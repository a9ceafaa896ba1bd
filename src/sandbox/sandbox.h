/*
 * sandbox.h - SANDBOX, the pretend wearable provider ferry hosts itself.
 *
 * Under /sandbox/ ferry runs a standards-correct OAuth 2.0 authorization
 * server (RFC 6749 authorization code grant with refresh tokens, RFC 7636
 * PKCE with S256 required, RFC 7009 revocation), so `ferry demo` and a
 * developer trying the connect flow need no provider account. Its one
 * client is ferry itself: client id SANDBOX_CLIENT_ID, a secret derived
 * from the master key, and the redirect URI `<public_url>/callback/sandbox`.
 *
 * Accounts are made by signing in: any name is an account, the same name
 * in any case the same account. Codes and tokens are random, stored only
 * as SHA-256 hashes (store/store.h). The authorization request travels
 * between the login and consent pages as a MACed, expiring form field:
 * no cookies and no server-side state until a code is issued.
 */
#ifndef FERRY_SANDBOX_SANDBOX_H
#define FERRY_SANDBOX_SANDBOX_H

#include "app/app.h"
#include "http/server.h"
#include "providers/login.h"

/* The client ferry uses to log in to its own sandbox. */
#define SANDBOX_CLIENT_ID PROVIDER_SANDBOX_CLIENT_ID

/* Paths under the public URL (the client appends them to public_url);
 * the client side's table (providers/login.h) names the same. */
#define SANDBOX_AUTHORIZE_PATH PROVIDER_SANDBOX_AUTHORIZE
#define SANDBOX_TOKEN_PATH     PROVIDER_SANDBOX_TOKEN
#define SANDBOX_REVOKE_PATH    PROVIDER_SANDBOX_REVOKE
#define SANDBOX_USERINFO_PATH  PROVIDER_SANDBOX_USERINFO

/* Every scope the sandbox knows, and the default when none is asked. */
#define SANDBOX_SCOPES PROVIDER_SANDBOX_SCOPES

/* Lifetimes, in seconds. */
#define SANDBOX_CODE_SECONDS    60
#define SANDBOX_ACCESS_SECONDS  3600
#define SANDBOX_REQUEST_SECONDS 600 /* the login and consent pages */

/*
 * The client secret of SANDBOX_CLIENT_ID: app_sandbox_secret(), which
 * the client side uses too. The result is a secret: wipe it with
 * crypto_wipe() when done. `a` is borrowed. Never fails.
 */
void sandbox_client_secret(const struct app *a, char out[65]);

/* Length of an account id, "sbx_" and 24 hex digits, without the NUL. */
#define SANDBOX_ACCOUNT_ID_LEN 28

/*
 * The id of the sandbox account `account` (borrowed): "sbx_" and the
 * first 24 hex digits of the SHA-256 of `account`, NUL-terminated. The
 * store keeps an account (store_sandbox_code.account,
 * store_sandbox_token.account) as the sign-in name with its ASCII
 * letters lowered, so names that differ only in case are one account.
 * Never fails.
 */
void sandbox_account_id(const char *account,
                        char out[SANDBOX_ACCOUNT_ID_LEN + 1]);

/*
 * The HTTP handler for every path under /sandbox/ (req->ctx is the
 * struct app, borrowed). Answers the authorize pages, the token and
 * revoke endpoints and userinfo; 404 for an unknown path, 405 for a known
 * one with the wrong method. Returns 0 with `resp` filled in, or a
 * negative ERR_* for our own fault (the server answers 500). Everything
 * it allocates is in req->arena.
 */
int sandbox_handle(struct http_request *req, struct http_response *resp);

#endif
