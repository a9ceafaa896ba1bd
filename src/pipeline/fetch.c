/*
 * fetch.c - calling a provider for one user: the grant, its refresh,
 * the requests an adapter planned, their pages, a request budget per
 * provider app.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/events.h"
#include "app/grant.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "deliver/driver.h"
#include "http/client.h"
#include "oauth/oauth2.h"
#include "pipeline/internal.h"
#include "providers/login.h"

#define PAGES_MAX   200 /* pages of one request, a loop guard */
#define LOCK_S      60  /* the refresh lock's lease */
#define BUCKETS_MAX 32
#define PUSER_ARENA (8u << 20)

/* ---- the request budget of each provider app (in this process) ---- */

struct bucket {
    char resource[32];
    double tokens;
    int64_t at; /* unix us of the last refill */
};

static pthread_mutex_t buckets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket bucket_v[BUCKETS_MAX];
static int bucket_n;

void
pipeline_throttle(const char *resource, int per_minute)
{
    if (per_minute <= 0) {
        return;
    }
    for (;;) {
        int64_t now = isotime_now_us();
        int64_t wait_us = 0;
        int i = 0;

        pthread_mutex_lock(&buckets_lock);
        for (i = 0; i < bucket_n; i++) {
            if (strcmp(bucket_v[i].resource, resource) == 0) {
                break;
            }
        }
        if (i == bucket_n && bucket_n < BUCKETS_MAX) {
            snprintf(bucket_v[i].resource, sizeof(bucket_v[i].resource), "%s",
                     resource);
            bucket_v[i].tokens = per_minute;
            bucket_v[i].at = now;
            bucket_n++;
        }
        if (i < bucket_n) {
            double rate = per_minute / 60e6; /* tokens per us */

            bucket_v[i].tokens += (double)(now - bucket_v[i].at) * rate;
            if (bucket_v[i].tokens > per_minute) {
                bucket_v[i].tokens = per_minute;
            }
            bucket_v[i].at = now;
            if (bucket_v[i].tokens >= 1) {
                bucket_v[i].tokens -= 1;
            } else {
                wait_us = (int64_t)((1 - bucket_v[i].tokens) / rate) + 1;
            }
        }
        pthread_mutex_unlock(&buckets_lock);
        if (wait_us == 0) {
            return;
        }
        usleep((useconds_t)(wait_us < 1000000 ? wait_us : 1000000));
    }
}

void
pipeline_hook_token(const struct app *a, const char *resource, char out[33])
{
    unsigned char mac[32];
    char label[64];

    snprintf(label, sizeof(label), "ferry hook %s", resource);
    crypto_hmac_sha256(a->key, sizeof(a->key), label, strlen(label), mac);
    codec_hex_encode(mac, 16, out);
    out[32] = '\0';
    crypto_wipe(mac, sizeof(mac));
}

/* ---- users ---- */

int
puser_from(struct app *a, const struct store_user *u, struct puser *pu,
           struct err *e)
{
    const struct app_provider *p = NULL;
    const struct config_provider *cp = NULL;
    const char *base = NULL;
    char token[33];

    memset(pu, 0, sizeof(*pu));
    pu->app = a;
    arena_init(&pu->ar, PUSER_ARENA);
    pu->u = *u;
    if (u->state != NULL && strcmp(u->state, "deauthorized") == 0) {
        return err_set(e, ERR_NOTFOUND, "user %s is deauthorized", u->id);
    }
    p = app_provider(a, u->provider);
    pu->ad = adapter_find(u->provider);
    if (p == NULL || pu->ad == NULL) {
        return err_set(e, ERR_CONFIG,
                       "provider %s is not enabled or has no "
                       "data adapter",
                       u->provider);
    }
    pu->p = p;
    cp = config_provider(a->cfg, p->section);
    base = cp != NULL && cp->api_url != NULL ? cp->api_url : pu->ad->api_url;
    if (base == NULL ||
        app_provider_url(a, base, pu->api_url, sizeof(pu->api_url)) < 0) {
        return err_set(e, ERR_CONFIG, "provider %s has no data API URL",
                       u->provider);
    }
    pipeline_hook_token(a, p->resource, token);
    if (snprintf(pu->hook_url, sizeof(pu->hook_url), "%.400s/hooks/%.40s/%s",
                 a->public_url, p->section, token) < 0) {
        pu->hook_url[0] = '\0';
    }
    pu->cx.api_url = pu->api_url;
    pu->cx.provider_user_id = u->provider_user_id;
    pu->cx.client_id = p->client_id;
    pu->cx.client_secret = p->client_secret;
    pu->cx.webhook_secret = cp != NULL ? cp->webhook_secret : NULL;
    pu->cx.hook_url = pu->hook_url;
    return 0;
}

int
puser_load(struct app *a, const char *user_id, struct puser *pu, struct err *e)
{
    struct arena ar;
    struct store_user u;
    int rc = 0;

    arena_init(&ar, 1 << 16);
    rc = store_user_get(a->store, NULL, user_id, &ar, &u, e);
    if (rc == 0) {
        rc = puser_from(a, &u, pu, e);
        if (rc == 0 || pu->ar.max != 0) {
            /* keep the user's strings in pu's own arena */
            pu->u.id = arena_strdup(&pu->ar, u.id);
            pu->u.dev_id = arena_strdup(&pu->ar, u.dev_id);
            pu->u.provider = arena_strdup(&pu->ar, u.provider);
            pu->u.provider_user_id = arena_strdup(&pu->ar, u.provider_user_id);
            pu->u.reference_id = u.reference_id != NULL
                                     ? arena_strdup(&pu->ar, u.reference_id)
                                     : NULL;
            pu->u.session_id = u.session_id != NULL
                                   ? arena_strdup(&pu->ar, u.session_id)
                                   : NULL;
            pu->u.state = arena_strdup(&pu->ar, u.state);
            pu->u.scopes =
                u.scopes != NULL ? arena_strdup(&pu->ar, u.scopes) : NULL;
            pu->cx.provider_user_id = pu->u.provider_user_id;
        }
    }
    arena_release(&ar);
    return rc;
}

void
puser_release(struct puser *pu)
{
    if (pu->access_token != NULL) {
        crypto_wipe(pu->access_token, strlen(pu->access_token));
        free(pu->access_token);
        pu->access_token = NULL;
    }
    arena_release(&pu->ar);
}

/* ---- the grant ---- */

/* The grant becomes unusable: needs_reauth and one connection_error. */
static int
grant_dead(struct puser *pu, const char *why, struct err *e)
{
    struct arena ar;
    struct store_event ev;
    json_t *body = NULL;
    int changed = 0;
    struct err e2;
    int64_t now = isotime_now_us();

    err_clear(&e2);
    arena_init(&ar, 1 << 16);
    body = json_pack("{s:s, s:s, s:o?}", "status", "warning", "message",
                     "The connection to the provider stopped working: the "
                     "user must connect again",
                     "user", events_user_json(&pu->u, 0));
    if (body != NULL && events_make(&ar, pu->u.dev_id, pu->u.id,
                                    "connection_error", body, now, &ev) == 0) {
        store_user_set_state(pu->app->store, pu->u.id, "needs_reauth", &ev, now,
                             &changed, &e2);
    }
    json_decref(body);
    arena_release(&ar);
    if (changed) {
        log_event(LOG_WARN, "pipeline", "grant.dead", "user_id=%s provider=%s",
                  pu->u.id, pu->u.provider);
    }
    return err_set(e, ERR_FORBIDDEN, "the provider refused the grant: %s", why);
}

/*
 * Refresh the grant of `pu` (holding its lock), store the new one and
 * keep the old refresh token when none came. ERR_FORBIDDEN when the
 * provider says the grant is dead, ERR_UPSTREAM when it failed.
 */
static int
refresh(struct puser *pu, struct grant *g, struct err *e)
{
    struct app *a = pu->app;
    struct grant_client gc;
    struct hclient_request rq;
    struct hclient_response rs;
    struct oauth2_tokens t;
    const unsigned char *box = NULL;
    size_t boxlen = 0;
    const char *body = NULL;
    size_t len = 0;
    int64_t now = isotime_now_us();
    int rc = 0;

    memset(&rs, 0, sizeof(rs));
    if (g->refresh_token == NULL) {
        return grant_dead(pu,
                          "the access token expired and there is no "
                          "refresh token",
                          e);
    }
    rc = grant_client(a, pu->p, &gc, e);
    if (rc == 0) {
        rc = oauth2_refresh_request(&gc.oc, g->refresh_token, &pu->ar, &rq, e);
    }
    if (rc == 0 && (pu->p->quirks & PROVIDER_Q_WRAPPED_TOKEN)) {
        rq.body = arena_printf(&pu->ar, "action=requesttoken&%.*s",
                               (int)rq.body_len, rq.body);
        rq.body_len = rq.body != NULL ? strlen(rq.body) : 0;
        rc = rq.body != NULL ? 0 : ERR_NOMEM;
    }
    if (rc < 0) {
        return rc;
    }
    pipeline_throttle(pu->p->resource, pu->ad->caps.requests_per_minute);
    if (hclient_fetch(NULL, &rq, &rs) != 0) {
        rc = err_set(e, ERR_UPSTREAM, "token refresh: %s", rs.error);
        goto out;
    }
    body = rs.body;
    len = rs.body_len;
    if ((pu->p->quirks & PROVIDER_Q_WRAPPED_TOKEN) && rs.status == 200 &&
        grant_unwrap_answer(rs.body, rs.body_len, &pu->ar, &body, &len) < 0) {
        /* a wrapped error: Withings' status 401 and the like */
        rc = grant_dead(pu, "the token endpoint refused the refresh", e);
        goto out;
    }
    rc = oauth2_token_parse(rs.status, body, len, &pu->ar, &t, e);
    if (rc < 0) {
        if ((t.error != NULL && strcmp(t.error, "invalid_grant") == 0) ||
            rs.status == 401 || rs.status == 403 || rs.status == 412) {
            rc = grant_dead(pu, t.error != NULL ? t.error : "refused", e);
        } else {
            rc = err_set(e, ERR_UPSTREAM, "token refresh answered %ld",
                         rs.status);
        }
        goto out;
    }
    if (t.refresh_token == NULL) {
        t.refresh_token = g->refresh_token; /* kept unless replaced */
    }
    rc = grant_seal(a, pu->u.id, &t, now, &pu->ar, &box, &boxlen);
    if (rc == 0) {
        rc = store_token_put(
            a->store, pu->u.id, box, boxlen,
            t.expires_in > 0 ? now + (int64_t)t.expires_in * 1000000 : 0, now,
            e);
    }
    if (rc == 0) {
        g->access_token = t.access_token;
        g->refresh_token = t.refresh_token;
        g->expires_at = t.expires_in > 0 ? now / 1000000 + t.expires_in : 0;
        log_event(LOG_INFO, "pipeline", "token.refreshed",
                  "user_id=%s provider=%s", pu->u.id, pu->u.provider);
    }
out:
    hclient_response_release(&rs);
    return rc;
}

/*
 * Put an access token in pu->access_token: the stored one, refreshed
 * when it expires within REFRESH_AHEAD_S (or `force`). One refresh per
 * user at a time: a caller that does not get the lock waits for the
 * other's result.
 */
static int
token(struct puser *pu, int force, struct err *e)
{
    struct app *a = pu->app;
    const unsigned char *box = NULL;
    size_t len = 0;
    int64_t expires = 0;
    struct grant g;
    int tries = 0;
    int rc = 0;

    for (tries = 0; tries < 30; tries++) {
        int64_t now = isotime_now_us();
        int got = 0;

        rc = store_token_get(a->store, pu->u.id, &pu->ar, &box, &len, &expires,
                             e);
        if (rc == ERR_NOTFOUND) {
            return grant_dead(pu, "no stored grant", e);
        }
        if (rc == 0) {
            rc = grant_open(a, pu->u.id, box, len, &pu->ar, &g);
        }
        if (rc < 0) {
            return err_set(e, rc, "the stored grant does not open");
        }
        if (!force && (g.expires_at == 0 ||
                       g.expires_at > now / 1000000 + REFRESH_AHEAD_S)) {
            break;
        }
        rc = store_token_lock(a->store, pu->u.id, now,
                              now + (int64_t)LOCK_S * 1000000, &got, e);
        if (rc < 0) {
            return rc;
        }
        if (got) {
            rc = refresh(pu, &g, e);
            if (rc < 0) {
                /* let the next try take the lock at once */
                store_token_lock(a->store, pu->u.id,
                                 now + LOCK_S * 1000000LL + 1, 0, &got, NULL);
                return rc;
            }
            break;
        }
        /* another worker is refreshing: its result is stored soon */
        force = 0;
        usleep(200000);
    }
    free(pu->access_token);
    pu->access_token = xstrdup(g.access_token);
    return 0;
}

int
puser_token(struct puser *pu, struct err *e)
{
    return token(pu, 0, e);
}

/* ---- requests ---- */

int
puser_call(struct puser *pu, const struct adapter_request *rq, json_t **answer,
           long *status, long *retry_after, struct err *e)
{
    struct hclient_request hr;
    struct hclient_response rs;
    char auth[OAUTH2_TOKEN_MAX + 32];
    char ctype[96];
    int retried = 0;
    int rc = 0;
    int h = 0;
    int i = 0;

    *answer = NULL;
    *status = 0;
    *retry_after = -1;
again:
    memset(&hr, 0, sizeof(hr));
    memset(&rs, 0, sizeof(rs));
    h = 0;
    if (rq->auth == ADAPTER_AUTH_BEARER) {
        rc = token(pu, retried, e);
        if (rc < 0) {
            return rc;
        }
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
                 pu->access_token);
        hr.headers[h++] = auth;
    }
    if (rq->content_type[0] != '\0') {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", rq->content_type);
        hr.headers[h++] = ctype;
    } else if (rq->body[0] != '\0') {
        hr.headers[h++] = "Content-Type: application/x-www-form-urlencoded";
    }
    hr.headers[h++] = "Accept: application/json";
    for (i = 0; i < ADAPTER_HEADERS && h < HCLIENT_MAX_HEADERS - 1; i++) {
        if (rq->headers[i][0] != '\0') {
            hr.headers[h++] = rq->headers[i];
        }
    }
    hr.method = rq->method[0] != '\0' ? rq->method : "GET";
    hr.url = rq->url;
    hr.body = rq->body[0] != '\0' ? rq->body : NULL;
    hr.body_len = strlen(rq->body);
    hr.timeout_ms = (long)pu->app->cfg->oauth_token_timeout_seconds * 3000;
    hr.max_response = API_ANSWER_MAX;
    pipeline_throttle(pu->p->resource, pu->ad->caps.requests_per_minute);
    rc = hclient_fetch(NULL, &hr, &rs);
    crypto_wipe(auth, sizeof(auth));
    if (rc != 0) {
        rc = err_set(e, ERR_UPSTREAM, "%s: %s", pu->u.provider, rs.error);
        goto out;
    }
    *status = rs.status;
    if (log_enabled(LOG_DEBUG)) {
        log_event(LOG_DEBUG, "pipeline", "call",
                  "user_id=%s kind=%s status=%ld bytes=%zu url=%s", pu->u.id,
                  rq->kind[0] != '\0' ? rq->kind : "-", rs.status, rs.body_len,
                  rq->url);
    }
    if (rs.status == 401 && rq->auth == ADAPTER_AUTH_BEARER && !retried) {
        hclient_response_release(&rs);
        retried = 1;
        goto again;
    }
    if (rs.status == 401 && rq->auth == ADAPTER_AUTH_BEARER) {
        rc = grant_dead(pu, "the data API answered 401", e);
        goto out;
    }
    if (rs.status == 429) {
        *retry_after = deliver_retry_after(rs.retry_after, time(NULL));
        rc = err_set(e, ERR_LIMIT, "%s rate-limited the request",
                     pu->u.provider);
        goto out;
    }
    if (rs.status >= 500 || rs.status < 200) {
        rc = err_set(e, ERR_UPSTREAM, "%s answered %ld", pu->u.provider,
                     rs.status);
        goto out;
    }
    if (rs.body_len > 0) {
        *answer = json_loadb(rs.body, rs.body_len, 0, NULL);
    }
out:
    hclient_response_release(&rs);
    return rc;
}

int
puser_fetch(struct puser *pu, enum data_type type, int64_t start, int64_t end,
            struct adapter_records *out, struct err *e)
{
    struct adapter_request *plan = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    if (!(pu->ad->caps.types & DT_BIT(type)) || pu->ad->plan == NULL) {
        return 0;
    }
    rc = pu->ad->plan(&pu->cx, type, start, end, &plan, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        struct adapter_request rq = plan[i];
        int page = 0;

        for (page = 0; rc == 0 && page < PAGES_MAX; page++) {
            json_t *answer = NULL;
            long status = 0;
            long ra = -1;
            struct adapter_request next;

            rc = puser_call(pu, &rq, &answer, &status, &ra, e);
            if (rc == 0 && status >= 400) {
                /* a 403 or 404 for one type is not a dead grant */
                log_event(LOG_WARN, "pipeline", "fetch.refused",
                          "user_id=%s provider=%s kind=%s status=%ld", pu->u.id,
                          pu->u.provider, rq.kind, status);
                json_decref(answer);
                break;
            }
            if (rc == 0 && answer != NULL && rq.kind[0] != '\0') {
                rc = pu->ad->normalize(rq.kind, answer, out, e);
                if (rc == ERR_FORBIDDEN) {
                    /* an answer that says the token is refused (Withings
                     * does so inside an HTTP 200) */
                    char why[ERR_MSG_MAX];

                    snprintf(why, sizeof(why), "%s", e->msg);
                    rc = grant_dead(pu, why, e);
                }
            }
            if (rc == 0 && answer != NULL && pu->ad->next_page != NULL &&
                pu->ad->next_page(&pu->cx, &rq, answer, &next) == 1) {
                rq = next;
                json_decref(answer);
                continue;
            }
            json_decref(answer);
            break;
        }
    }
    free(plan);
    return rc;
}
