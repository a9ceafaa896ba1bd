/*
 * demo.c - the demo inbox destination.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/isotime.h"
#include "core/xmalloc.h"
#include "deliver/demo.h"
#include "deliver/driver.h"
#include "deliver/sign.h"

#define TOLERANCE_S 300

struct entry {
    char event_id[40];
    char type[40];
    char user_id[40];
    int64_t received_at;
    char signature[SIGN_HEADER_MAX];
    int verified;
    char check[ERR_MSG_MAX];
    char *body;
    int truncated;
};

static struct entry ring[DEMO_INBOX_MAX];

static struct {
    pthread_mutex_t lock;
    size_t next; /* where the next entry goes */
    size_t n;
} inbox = {PTHREAD_MUTEX_INITIALIZER, 0, 0};

static void
keep(const struct entry *en)
{
    struct entry *slot = NULL;

    pthread_mutex_lock(&inbox.lock);
    slot = &ring[inbox.next];
    free(slot->body);
    *slot = *en;
    inbox.next = (inbox.next + 1) % DEMO_INBOX_MAX;
    if (inbox.n < DEMO_INBOX_MAX) {
        inbox.n++;
    }
    pthread_mutex_unlock(&inbox.lock);
}

static void
demo_send(struct deliver_attempt *at)
{
    char secret[DELIVER_SECRET_MAX];
    char previous[DELIVER_SECRET_MAX];
    struct entry en;
    int verified = 0;
    struct deliver_result res;
    struct err e;
    size_t shown = at->body_len;
    int64_t now = (int64_t)time(NULL);

    memset(&en, 0, sizeof(en));
    err_clear(&e);
    snprintf(en.event_id, sizeof(en.event_id), "%s", at->event_id);
    snprintf(en.type, sizeof(en.type), "%s", at->event_type);
    snprintf(en.user_id, sizeof(en.user_id), "%s",
             at->user_id != NULL ? at->user_id : "");
    en.received_at = isotime_now_us();
    /* as a webhook: signed over the exact bytes ... */
    deliver_dest_keys(at->dest, secret, previous);
    sign_header(secret, previous, now, at->body, at->body_len, en.signature);
    /* ... and checked as a receiver holding the secret would */
    verified = sign_verify(secret, en.signature, at->body, at->body_len, now,
                           TOLERANCE_S, &e);
    crypto_wipe(secret, sizeof(secret));
    crypto_wipe(previous, sizeof(previous));
    if (verified == 0) {
        en.verified = 1;
        snprintf(en.check, sizeof(en.check),
                 "HMAC-SHA256 of t.body matches the signing secret");
    } else {
        snprintf(en.check, sizeof(en.check), "%s", e.msg);
    }
    if (shown > DEMO_BODY_SHOWN) {
        shown = DEMO_BODY_SHOWN;
        /* never cut a UTF-8 sequence: back off its continuation bytes */
        while (shown > 0 && ((unsigned char)at->body[shown] & 0xc0) == 0x80) {
            shown--;
        }
        en.truncated = 1;
    }
    en.body = xstrndup(at->body, shown);
    keep(&en);
    memset(&res, 0, sizeof(res));
    res.ok = 1;
    res.status = 200;
    res.retry_after = -1;
    deliver_attempt_done(at, &res);
}

json_t *
demo_inbox_json(void)
{
    json_t *arr = json_array();
    size_t i = 0;

    if (arr == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&inbox.lock);
    for (i = 0; i < inbox.n; i++) {
        size_t k = (inbox.next + DEMO_INBOX_MAX - 1 - i) % DEMO_INBOX_MAX;
        const struct entry *en = &ring[k];
        char when[ISOTIME_MAX];
        json_t *o = NULL;

        isotime_format(en->received_at, 0, when);
        o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:b, s:s, s:s, s:b}",
                      "event_id", en->event_id, "type", en->type, "user_id",
                      en->user_id[0] != '\0' ? en->user_id : NULL,
                      "received_at", when, "signature", en->signature,
                      "verified", en->verified, "check", en->check, "body",
                      en->body != NULL ? en->body : "", "truncated",
                      en->truncated);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&inbox.lock);
    return arr;
}

void
demo_inbox_clear(void)
{
    size_t i = 0;

    pthread_mutex_lock(&inbox.lock);
    for (i = 0; i < DEMO_INBOX_MAX; i++) {
        free(ring[i].body);
        ring[i].body = NULL;
    }
    inbox.n = 0;
    inbox.next = 0;
    pthread_mutex_unlock(&inbox.lock);
}

const struct deliver_driver deliver_demo = {
    .kind = "demo",
    .send = demo_send,
};
