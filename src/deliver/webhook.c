/*
 * webhook.c - the webhook destination: a signed POST of the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "app/app.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/version.h"
#include "deliver/driver.h"
#include "deliver/sign.h"
#include "http/client.h"

#define WEBHOOK_MAX_RESPONSE (64 * 1024)
#define HEADER_MAX           256

/*
 * Seconds a Retry-After value asks for: delta-seconds or an HTTP date;
 * -1 when absent or not understood.
 */
long
deliver_retry_after(const char *v, time_t now)
{
    char *end = NULL;
    long s = 0;
    time_t t = 0;

    if (v == NULL || v[0] == '\0') {
        return -1;
    }
    if (v[0] >= '0' && v[0] <= '9') {
        s = strtol(v, &end, 10);
        while (*end == ' ') {
            end++;
        }
        return *end == '\0' && s >= 0 ? s : -1;
    }
    t = curl_getdate(v, NULL);
    if (t == (time_t)-1) {
        return -1;
    }
    return t > now ? (long)(t - now) : 0;
}

static void
on_answer(void *arg, struct hclient_response *r)
{
    struct deliver_attempt *at = arg;
    struct deliver_result res;

    if (r->rc == ERR_IO) {
        deliver_result_fail(&res, 0, "not sent: ferry is stopping");
        res.not_tried = 1;
    } else if ((r->rc == 0 || r->rc == ERR_TOOBIG) && r->status >= 200 &&
               r->status <= 299) {
        memset(&res, 0, sizeof(res));
        res.ok = 1;
        res.status = r->status;
        res.retry_after = -1;
    } else if (r->rc == 0 || r->rc == ERR_TOOBIG) {
        deliver_result_fail(&res, r->status, "HTTP %ld", r->status);
        res.retry_after = deliver_retry_after(r->retry_after, time(NULL));
    } else {
        deliver_result_fail(&res, 0, "%s", r->error);
    }
    deliver_attempt_done(at, &res);
}

static void
webhook_send(struct deliver_attempt *at)
{
    const struct deliver_dest *d = at->dest;
    char sig[SIGN_HEADER_MAX];
    char h_sig[HEADER_MAX];
    char h_ref[HEADER_MAX];
    char h_id[HEADER_MAX];
    char h_ua[64];
    struct hclient_request rq;
    struct deliver_result res;

    char secret[DELIVER_SECRET_MAX];
    char previous[DELIVER_SECRET_MAX];

    deliver_dest_keys(d, secret, previous);
    sign_header(secret, previous, (int64_t)time(NULL), at->body, at->body_len,
                sig);
    crypto_wipe(secret, sizeof(secret));
    crypto_wipe(previous, sizeof(previous));
    snprintf(h_sig, sizeof(h_sig), "terra-signature: %s", sig);
    snprintf(h_ref, sizeof(h_ref), "terra-reference: %s", at->reference);
    snprintf(h_id, sizeof(h_id), "ferry-event-id: %s", at->event_id);
    snprintf(h_ua, sizeof(h_ua), "User-Agent: ferry/%s", FERRY_VERSION);
    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.url = d->url;
    rq.headers[0] = "Content-Type: application/json";
    rq.headers[1] = h_sig;
    rq.headers[2] = h_ref;
    rq.headers[3] = h_id;
    rq.headers[4] = h_ua;
    rq.headers[5] = NULL;
    rq.body = at->body;
    rq.body_len = at->body_len;
    rq.body_kept = 1; /* the attempt's own copy, kept until it is over */
    rq.timeout_ms = at->timeout_ms;
    rq.max_response = WEBHOOK_MAX_RESPONSE;
    rq.public_only = !at->allow_private;
    if (at->http == NULL || hclient_send(at->http, &rq, on_answer, at) != 0) {
        deliver_result_fail(&res, 0, "not sent: ferry is stopping");
        res.not_tried = 1;
        deliver_attempt_done(at, &res);
    }
}

const struct deliver_driver deliver_webhook = {
    .kind = "webhook",
    .send = webhook_send,
};
