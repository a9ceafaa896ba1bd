/*
 * auth.c - POST /v2/auth/authenticateUser and
 * DELETE /v2/auth/deauthenticateUser.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "deliver/deliver.h"
#include "pipeline/pipeline.h"
#include "api/internal.h"
#include "app/events.h"
#include "app/grant.h"
#include "app/links.h"
#include "core/isotime.h"
#include "core/log.h"
#include "http/client.h"
#include "http/reply.h"
#include "oauth/oauth2.h"

/* ---- authenticateUser ---- */

static int
parse_direct(struct http_request *req, json_t *body, struct links_request *lr,
             const char **resource, struct err *e)
{
    const char *in_body = NULL;
    int rc = 0;

    memset(lr, 0, sizeof(*lr));
    rc = api_link_fields(body, lr, e);
    if (rc == 0) {
        rc = api_opt_string(body, "resource", &in_body, e);
    }
    /* the SDK puts resource in the query; older clients in the body */
    *resource = http_query(req, "resource");
    if (rc == 0 && *resource != NULL && in_body != NULL &&
        strcasecmp(*resource, in_body) != 0) {
        rc = err_set(e, ERR_INVALID,
                     "resource: the query says '%.64s' and the body '%.64s'",
                     *resource, in_body);
    }
    if (*resource == NULL) {
        *resource = in_body;
    }
    return rc;
}

static void
on_direct_stored(void *arg, int rc, const struct links_session *ls,
                 const struct err *e)
{
    struct http_request *req = arg;
    struct http_response resp;
    json_t *o = NULL;

    memset(&resp, 0, sizeof(resp));
    if (rc < 0) {
        rc = http_reply_err(req, &resp, e);
    } else {
        o = json_pack("{s:s, s:s, s:s}", "status", "success", "user_id",
                      ls->user_id, "auth_url", ls->url);
        rc = o != NULL
                 ? http_reply_json(req, &resp, 200, o)
                 : http_reply_error(req, &resp, 500, "cannot build the answer");
    }
    http_finish(req, rc, &resp);
}

int
api_authenticate_user(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct links_request lr;
    struct links_widget *w = NULL;
    struct http_response late;
    const char *dev_id = NULL;
    const char *resource = NULL;
    json_t *body = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = api_body_object(req, &body, &e);
    }
    if (rc == 0) {
        rc = parse_direct(req, body, &lr, &resource, &e);
    }
    if (rc == 0) {
        w = arena_alloc(req->arena, sizeof(*w));
        rc = w == NULL ? err_set(&e, ERR_NOMEM, "out of request memory") : 0;
    }
    if (rc == 0) {
        rc = links_prepare_direct(a, dev_id, &lr, resource, req->arena, w, &e);
    }
    if (rc < 0) {
        json_decref(body);
        return http_reply_err(req, resp, &e);
    }
    http_defer(req);
    rc = links_store_widget(a, w, on_direct_stored, req);
    json_decref(body);
    if (rc < 0) {
        memset(&late, 0, sizeof(late));
        err_set(&e, rc, "authenticateUser: the store is closing");
        http_finish(req, http_reply_err(req, &late, &e), &late);
    }
    return 0;
}

/* ---- deauthenticateUser ---- */

struct deauth {
    struct http_request *req;
    struct store_user user;
    const char *revoke; /* the outcome at the provider */
};

/* Deauthorize in the store and answer. Any thread but the writer's. */
static void
deauth_finish(struct deauth *d)
{
    struct http_request *req = d->req;
    struct app *a = req->ctx;
    struct http_response resp;
    struct store_event ev;
    int64_t now = isotime_now_us();
    struct err e;
    int rc = 0;

    err_clear(&e);
    memset(&resp, 0, sizeof(resp));
    d->user.active = 0;
    rc = events_deauth(req->arena, &d->user, d->revoke, now, &ev);
    if (rc < 0) {
        err_set(&e, rc, "out of request memory");
    }
    if (rc == 0) {
        rc = store_user_deauth(a->store, d->user.dev_id, d->user.id, &ev, now,
                               &e);
    }
    if (rc == 0) {
        deliver_kick(a->deliver);
        log_event(LOG_INFO, "api", "user.deauthorized",
                  "user_id=%s provider=%s revoke=%s", d->user.id,
                  d->user.provider, d->revoke);
        rc = http_reply_json(req, &resp, 200,
                             json_pack("{s:s}", "status", "success"));
    } else {
        rc = http_reply_err(req, &resp, &e);
    }
    http_finish(req, rc, &resp);
}

static void
on_revoked(void *arg, struct hclient_response *r)
{
    struct deauth *d = arg;

    d->revoke = r->rc == 0 && r->status >= 200 && r->status <= 299 ? "revoked"
                                                                   : "failed";
    if (r->rc != 0 || r->status < 200 || r->status > 299) {
        log_event(LOG_WARN, "api", "user.revoke_failed",
                  "user_id=%s provider=%s status=%ld error=%s", d->user.id,
                  d->user.provider, r->status,
                  r->rc != 0 ? err_str(r->rc) : "-");
    }
    deauth_finish(d);
}

/*
 * Queue the revocation of the user's grant at the provider: 0 when
 * queued (on_revoked() continues), or negative when there is nothing to
 * revoke or it cannot be asked for.
 */
static int
revoke_start(struct deauth *d)
{
    struct http_request *req = d->req;
    struct app *a = req->ctx;
    const struct app_provider *p = app_provider(a, d->user.provider);
    struct grant_client *gc = NULL;
    struct hclient_request hr;
    const unsigned char *sealed = NULL;
    size_t len = 0;
    int64_t exp = 0;
    struct grant g;
    const char *token = NULL;
    int rc = 0;

    if (p == NULL || p->revoke_url == NULL) {
        d->revoke = "not_supported";
        return ERR_NOTFOUND;
    }
    d->revoke = "failed";
    gc = arena_alloc(req->arena, sizeof(*gc));
    rc = gc == NULL ? ERR_NOMEM : 0;
    if (rc == 0) {
        rc = store_token_get(a->store, d->user.id, req->arena, &sealed, &len,
                             &exp, NULL);
    }
    if (rc == 0) {
        rc = grant_open(a, d->user.id, sealed, len, req->arena, &g);
    }
    if (rc == 0) {
        rc = grant_client(a, p, gc, NULL);
    }
    if (rc == 0) {
        token = g.refresh_token != NULL ? g.refresh_token : g.access_token;
        rc = oauth2_revoke_request(&gc->oc, token,
                                   g.refresh_token != NULL ? "refresh_token"
                                                           : "access_token",
                                   req->arena, &hr, NULL);
    }
    if (rc == 0) {
        rc = hclient_send(a->http, &hr, on_revoked, d);
    }
    return rc;
}

/*
 * The deauthorization off the server's threads: the adapter's steps at
 * the provider (deregistration, unsubscribing: they need the grant, so
 * they run before it is revoked and deleted), then the revocation and
 * the store.
 */
static void *
deauth_thread(void *arg)
{
    struct deauth *d = arg;

    pipeline_deauth(d->req->ctx, &d->user);
    if (revoke_start(d) < 0) {
        deauth_finish(d);
    }
    return NULL;
}

int
api_deauthenticate_user(struct http_request *req, struct http_response *resp)
{
    pthread_attr_t detached;
    pthread_t t;
    struct app *a = req->ctx;
    const char *dev_id = NULL;
    const char *user_id = NULL;
    struct deauth *d = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        user_id = http_query(req, "user_id");
        if (user_id == NULL || user_id[0] == '\0') {
            rc = err_set(&e, ERR_INVALID, "user_id: required");
        }
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    d = arena_alloc(req->arena, sizeof(*d));
    if (d == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    memset(d, 0, sizeof(*d));
    d->req = req;
    if (rc == 0) {
        rc =
            store_user_get(a->store, dev_id, user_id, req->arena, &d->user, &e);
    }
    if (rc == 0 && strcmp(d->user.state, "deauthorized") == 0) {
        rc = err_set(&e, ERR_NOTFOUND, "no such user");
    }
    if (rc == ERR_NOTFOUND) {
        err_set(&e, rc, "user_id: no user '%s'", user_id);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    pthread_attr_init(&detached);
    pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
    http_defer(req);
    if (pthread_create(&t, &detached, deauth_thread, d) != 0) {
        /* no thread: the provider's steps are skipped, not the rest */
        log_event(LOG_WARN, "api", "deauth.no_thread", "user_id=%s",
                  d->user.id);
        if (revoke_start(d) < 0) {
            deauth_finish(d);
        }
    }
    pthread_attr_destroy(&detached);
    return 0;
}
