/*
 * destinations.c - GET and POST /v2/destinations, DELETE
 * /v2/destinations/{id}, POST /v2/destinations/{id}/rotate-secret.
 *
 * A developer sees and touches only its own destinations: another
 * developer's id is answered as an unknown one (404). Adding resolves
 * the destination's host, which may take as long as the resolver does,
 * so it runs on a thread of its own and answers through http_finish():
 * the event-loop thread is not held.
 */
#include <pthread.h>
#include <string.h>

#include "api/internal.h"
#include "app/destinations.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/reply.h"

#define DEST_ID_MAX 64

/* Answer `o` (taken), or 500 when it could not be built. */
static int
answer(struct http_request *req, struct http_response *resp, json_t *o)
{
    if (o == NULL) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return http_reply_json(req, resp, 200, o);
}

/* An id from the path that cannot be one is not found either. */
static int
check_id(const char *id, struct err *e)
{
    if (strlen(id) > DEST_ID_MAX) {
        return err_set(e, ERR_NOTFOUND, "id: no destination '%.32s...'", id);
    }
    return 0;
}

/* ---- GET /v2/destinations ---- */

int
api_destinations_list(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct store_destination *d = NULL;
    const char *dev_id = NULL;
    json_t *arr = NULL;
    size_t n = 0;
    size_t i = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc =
            store_destination_list(a->store, dev_id, 0, req->arena, &d, &n, &e);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    arr = json_array();
    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, destinations_json(&d[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (arr == NULL) {
        return answer(req, resp, NULL);
    }
    return answer(
        req, resp,
        json_pack("{s:s, s:o}", "status", "success", "destinations", arr));
}

/* ---- POST /v2/destinations ---- */

struct add_job {
    struct http_request *req;
    const char *dev_id;
    const char *type;
    const char *url;
    json_t *body; /* owns type and url */
    json_t *opts;
};

/* The kind's options from the body: s3's credentials and region. A
 * member that is none of these nor type or url is refused: a misspelt
 * option would otherwise be dropped without a word (destinations_add()
 * refuses s3's options on other kinds). */
static int
add_options(json_t *body, json_t **opts, struct err *e)
{
    static const char *const names[] = {"access_key", "secret_key", "region"};
    const char *key = NULL;
    json_t *member = NULL;
    size_t i = 0;
    int rc = 0;

    *opts = NULL;
    json_object_foreach(body, key, member)
    {
        int known = strcmp(key, "type") == 0 || strcmp(key, "url") == 0;

        for (i = 0; !known && i < sizeof(names) / sizeof(names[0]); i++) {
            known = strcmp(key, names[i]) == 0;
        }
        if (!known) {
            return err_set(e, ERR_INVALID,
                           "%.64s: not a field of a destination (type, url, "
                           "access_key, secret_key, region)",
                           key);
        }
    }
    *opts = json_object();
    if (*opts == NULL) {
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = NULL;

        rc = api_opt_string(body, names[i], &v, e);
        if (rc == 0 && v != NULL) {
            json_object_set_new(*opts, names[i], json_string(v));
        }
    }
    return rc;
}

/* Add the destination, answer and free the job's JSON. */
static void
add_run(struct add_job *j)
{
    struct http_request *req = j->req;
    struct destination_made m;
    struct http_response resp;
    struct store_destination d;
    struct err e;
    int rc = 0;

    err_clear(&e);
    memset(&resp, 0, sizeof(resp));
    rc =
        destinations_add(req->ctx, j->dev_id, j->type, j->url, j->opts, &m, &e);
    if (rc == 0) {
        rc = store_destination_get(((struct app *)req->ctx)->store, j->dev_id,
                                   m.id, req->arena, &d, &e);
    }
    json_decref(j->opts);
    json_decref(j->body);
    if (rc == 0 && strcmp(d.kind, "webhook") == 0) {
        rc = answer(req, &resp,
                    json_pack("{s:s, s:o, s:s}", "status", "success",
                              "destination", destinations_json(&d), "secret",
                              m.secret));
    } else if (rc == 0) {
        /* only webhooks are signed: the secret is of no use here */
        rc = answer(req, &resp,
                    json_pack("{s:s, s:o}", "status", "success", "destination",
                              destinations_json(&d)));
    } else {
        rc = http_reply_err(req, &resp, &e);
    }
    crypto_wipe(&m, sizeof(m));
    http_finish(req, rc, &resp);
}

static void *
add_thread(void *arg)
{
    add_run(arg);
    return NULL;
}

/* Run `j` on a detached thread; inline when no thread can start. */
static void
add_start(struct add_job *j)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc = 0;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, add_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_event(LOG_WARN, "api", "destination.add_inline", "errno=%d", rc);
        add_run(j);
    }
}

int
api_destinations_add(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    struct add_job *j = arena_alloc(req->arena, sizeof(*j));
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (j == NULL) {
        return http_reply_error(req, resp, 500, "out of request memory");
    }
    memset(j, 0, sizeof(*j));
    j->req = req;
    rc = api_authenticate(req, a, &j->dev_id, &e);
    if (rc == 0) {
        rc = api_body_object(req, &j->body, &e);
    }
    if (rc == 0) {
        rc = api_opt_string(j->body, "type", &j->type, &e);
    }
    if (rc == 0 && j->type == NULL) {
        rc = err_set(&e, ERR_INVALID,
                     "type: required (webhook, postgres "
                     "or s3)");
    }
    if (rc == 0) {
        rc = api_opt_string(j->body, "url", &j->url, &e);
    }
    if (rc == 0 && j->url == NULL) {
        rc = err_set(&e, ERR_INVALID, "url: required");
    }
    if (rc == 0) {
        rc = add_options(j->body, &j->opts, &e);
    }
    if (rc < 0) {
        json_decref(j->opts);
        json_decref(j->body);
        return http_reply_err(req, resp, &e);
    }
    http_defer(req);
    add_start(j);
    return 0;
}

/* ---- DELETE /v2/destinations/{id} ---- */

int
api_destinations_remove(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *id = req->params[0];
    const char *dev_id = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = check_id(id, &e);
    }
    if (rc == 0) {
        rc = destinations_remove(a, dev_id, id, &e);
    }
    if (rc == ERR_NOTFOUND) {
        err_set(&e, rc, "id: no destination '%s'", id);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    return answer(req, resp,
                  json_pack("{s:s, s:s}", "status", "success", "id", id));
}

/* ---- POST /v2/destinations/{id}/rotate-secret ---- */

int
api_destinations_rotate(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *id = req->params[0];
    const char *dev_id = NULL;
    struct destination_made m;
    struct err e;
    int rc = 0;

    err_clear(&e);
    memset(&m, 0, sizeof(m));
    rc = api_authenticate(req, a, &dev_id, &e);
    if (rc == 0) {
        rc = check_id(id, &e);
    }
    if (rc == 0) {
        rc = destinations_rotate(a, dev_id, id, &m, &e);
    }
    if (rc == ERR_NOTFOUND) {
        err_set(&e, rc, "id: no destination '%s'", id);
    }
    if (rc < 0) {
        return http_reply_err(req, resp, &e);
    }
    rc = answer(req, resp,
                json_pack("{s:s, s:s, s:s, s:I}", "status", "success", "id",
                          m.id, "secret", m.secret, "previous_valid_seconds",
                          (json_int_t)a->cfg->deliver_secret_grace_seconds));
    crypto_wipe(&m, sizeof(m));
    return rc;
}
