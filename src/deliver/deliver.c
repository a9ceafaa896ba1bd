/*
 * deliver.c - the delivery engine.
 *
 * One thread claims work and hands it to drivers; everything else is
 * callbacks. The loop, per pass:
 *
 *   - every few seconds (or when told) reload the destinations in use,
 *     opening their secrets;
 *   - for each destination with free slots that is not resting, claim
 *     due deliveries (a lease in the store) and start one attempt each;
 *     a destination that had less due than it could take rests for a
 *     poll interval;
 *   - sleep until a destination's rest ends, a reload is due, or an
 *     attempt finished.
 *
 * A claim takes up to twice a destination's request slots: what finds
 * no free slot waits, claimed and in order, on the destination's ready
 * list, and starts as soon as a request ends (on the thread that ended
 * it), so the connections are kept busy while the next claim is made.
 *
 * An attempt ends in deliver_attempt_done() on whatever thread the
 * driver used. Its request slot is free again at once; the outcome goes
 * to the store asynchronously, many to a write, and the attempt stays
 * in flight for the claims (its user busy, the cursor held before it)
 * until that write has committed. So the next delivery of the same user
 * is sent only after the previous one's outcome is stored: per-user
 * order holds across crashes as well.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "app/app.h"
#include "app/destinations.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/xmalloc.h"
#include "deliver/deliver.h"
#include "deliver/driver.h"
#include "http/client.h"

#define POLL_US        200000LL  /* a destination with nothing due rests */
#define RELOAD_US      2000000LL /* destinations are reloaded this often */
#define LEASE_SLACK_S  10        /* a claim outlives its timeout by this */
#define RENEW_US       5000000LL /* a busy destination's lease is renewed */
#define SETTLE_MAX     512       /* outcomes in one store write */
#define SETTLE_WAIT_US 2000LL    /* an outcome waits for others this long */
#define UNSETTLED_MAX                                                          \
    3 /* attempts claimed and not settled, per
                                request slot (ready, sending, stored) */
#define OWNER_MAX          64
#define CLAIM_LOG_EVERY_US 10000000LL   /* a failing claim is logged so often */
#define CLAIM_ARENA        (64u << 20)  /* the bodies of one claim */
#define RELOAD_ARENA       (256u << 20) /* every destination in use */
#define POOL                                                                   \
    512L /* the engine's connections, over every
                              destination */

/* Latency histogram bounds, seconds. */
static const double lat_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5,   1,    2.5,   5,    10,  30};
#define NBOUNDS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

/* Process-wide counters for /metrics (every engine adds to them). */
static struct {
    pthread_mutex_t lock;
    /* outcomes as the store recorded them */
    unsigned long long delivered, retried, dead, cancelled;
    unsigned long long lat_count;
    unsigned long long lat_bucket[NBOUNDS];
    double lat_sum;
} metrics = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, {0}, 0};

/* A destination the engine is delivering to. */
struct slot {
    struct deliver_dest *d;
    const struct deliver_driver *drv;
    int limit;    /* most requests in flight */
    int sending;  /* attempts whose request has not ended */
    int inflight; /* attempts claimed and not yet settled */
    /* claimed attempts waiting for a free request slot, oldest first */
    struct job *ready, *ready_last;
    int nready;
    int64_t rest_until; /* no claim before this (unix us) */
    int64_t renew_at;   /* claim (if only to renew the lease) by then */
    /* the destination's lease, as the last claim left it, ends then
     * (unix us): no ready attempt starts after it */
    int64_t held_until;
    int seen; /* found by the last reload */
};

struct deliver {
    struct app *app;
    struct hclient *http; /* the engine's own outbound client: a hanging
                             destination never holds a login's call */
    pthread_t thread;
    int running;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* the loop waits; deliver_free() waits */
    int stopping;
    int woken;
    int reload; /* deliver_reload() asked for one */
    struct slot *slots;
    size_t nslots;
    size_t cap;
    int inflight; /* over every slot */
    int nready;   /* over every slot */
    /* finished attempts whose outcomes wait for a settle write (there
     * is at most one in flight): oldest first */
    struct job *settle_head;
    struct job **settle_tail;
    int nwaiting; /* on that list */
    int settling; /* a settle write is in flight, or being started */
    /* that write's outcomes: one at a time, so one is kept (a batch is
     * too large to be made for each write) */
    struct settle_batch *batch;
    char owner[OWNER_MAX];
    /* claims made and deliveries they took, settle writes and the
     * outcomes they carried: logged at the end (debug) */
    unsigned long long claims, claimed, settles, settled;
};

/* One attempt in flight: owns copies of what it points to. */
struct job {
    struct deliver_attempt at; /* first: the driver hands this back */
    struct deliver *eng;
    struct deliver_dest *dest;
    int64_t id; /* 0: fresh, its row is written with its outcome */
    int64_t seq;
    int lane;
    const char *key;           /* the order key, in `strings` */
    uint32_t key_hash;         /* of `key`: key_hash() */
    struct job *fprev, *fnext; /* the destination's fresh ones */
    int stored;                /* its outcome is in the store */
    int followers;             /* fresh: an event of its key queued behind it */
    int sending; /* counted in its slot's `sending`: taken by ready_pop() */
    int retry;
    int64_t started_us;
    char *strings; /* one block holding every string of `at` */
    struct store_delivery_outcome o;
    char error[DELIVER_ERROR_MAX];
    struct job *next; /* on a ready list, then waiting to be settled */
    int64_t ended_us; /* when it joined that list */
};

/* The outcomes of one settle write, and the attempts they end. */
struct settle_batch {
    struct deliver *eng;
    size_t n;
    struct job *jobs[SETTLE_MAX];
    struct store_delivery_outcome o[SETTLE_MAX];
};

static int64_t
now_us(void)
{
    return isotime_now_us();
}

/* ---- destinations ---- */

static void
dest_free(struct deliver_dest *d)
{
    if (d == NULL) {
        return;
    }
    crypto_wipe(d->secret, sizeof(d->secret));
    crypto_wipe(d->previous_secret, sizeof(d->previous_secret));
    json_decref(d->conf);
    free(d->id);
    free(d->dev_id);
    free(d->kind);
    free(d->url);
    free(d);
}

/* Drop one reference to `s->d` (under the lock); the last one closes
 * the driver state and frees it. */
static void
dest_unref(const struct deliver_driver *drv, struct deliver_dest *d)
{
    if (--d->refs > 0) {
        return;
    }
    if (drv != NULL && drv->close != NULL) {
        drv->close(d);
    }
    dest_free(d);
}

/* A struct deliver_dest for the stored `sd`, opened; NULL on failure
 * (logged). */
static struct deliver_dest *
dest_load(struct deliver *eng, const struct store_destination *sd,
          const struct deliver_driver *drv)
{
    struct deliver_dest *d = xcalloc(1, sizeof(*d));
    struct err e;

    err_clear(&e);
    d->id = xstrdup(sd->id);
    d->dev_id = xstrdup(sd->dev_id);
    d->kind = xstrdup(sd->kind);
    d->url = xstrdup(sd->url);
    if (destinations_open(eng->app, sd, now_us(), d->secret, d->previous_secret,
                          &d->conf, &e) < 0) {
        goto fail;
    }
    if (drv->open != NULL && drv->open(d, &e) < 0) {
        goto fail;
    }
    d->refs = 1;
    d->previous_until = sd->previous_until;
    d->scan = -1;
    d->rewind = INT64_MAX;
    return d;
fail:
    log_event(LOG_ERROR, "deliver", "destination.unusable",
              "destination=%s error=%s", sd->id, e.msg);
    dest_free(d);
    return NULL;
}

/* Guards the secrets of every loaded destination: the engine's thread
 * changes them on rotation while attempts are signed on others. */
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

void
deliver_dest_keys(const struct deliver_dest *d, char secret[DELIVER_SECRET_MAX],
                  char previous[DELIVER_SECRET_MAX])
{
    int64_t now = now_us();

    pthread_mutex_lock(&keys_lock);
    memcpy(secret, d->secret, DELIVER_SECRET_MAX);
    if (now < d->previous_until) {
        memcpy(previous, d->previous_secret, DELIVER_SECRET_MAX);
    } else {
        /* its grace ended since the last reload */
        previous[0] = '\0';
    }
    pthread_mutex_unlock(&keys_lock);
}

/* Take the current secrets of `sd` into the loaded `d`. */
static void
secrets_refresh(struct deliver *eng, struct deliver_dest *d,
                const struct store_destination *sd)
{
    char secret[DELIVER_SECRET_MAX];
    char previous[DELIVER_SECRET_MAX];
    json_t *conf = NULL;
    struct err e;

    err_clear(&e);
    if (destinations_open(eng->app, sd, now_us(), secret, previous, &conf,
                          &e) == 0) {
        pthread_mutex_lock(&keys_lock);
        memcpy(d->secret, secret, sizeof(secret));
        memcpy(d->previous_secret, previous, sizeof(previous));
        d->previous_until = sd->previous_until;
        pthread_mutex_unlock(&keys_lock);
    } else {
        log_event(LOG_ERROR, "deliver", "destination.unusable",
                  "destination=%s error=%s", sd->id, e.msg);
    }
    json_decref(conf);
    crypto_wipe(secret, sizeof(secret));
    crypto_wipe(previous, sizeof(previous));
}

static struct slot *
slot_find(struct deliver *eng, const char *id)
{
    size_t i = 0;

    for (i = 0; i < eng->nslots; i++) {
        if (strcmp(eng->slots[i].d->id, id) == 0) {
            return &eng->slots[i];
        }
    }
    return NULL;
}

/*
 * How many more attempts `s` may claim: as many as its request slots,
 * sending or ready to, twice over (a request slot is free again when
 * its request ends, while the outcome waits for the store: its user's
 * next event waits for that, not the connection), up to UNSETTLED_MAX
 * claimed and unsettled attempts per slot. The lock is held.
 */
static int
slot_room(const struct slot *s)
{
    int by_requests = 2 * s->limit - s->sending - s->nready;
    int by_outcomes = UNSETTLED_MAX * s->limit - s->inflight;

    return by_requests < by_outcomes ? by_requests : by_outcomes;
}

/* ---- ready attempts ---- */

/* Put `j` last on the ready list of `s`. The lock is held. */
static void
ready_push(struct deliver *eng, struct slot *s, struct job *j)
{
    j->next = NULL;
    if (s->ready_last != NULL) {
        s->ready_last->next = j;
    } else {
        s->ready = j;
    }
    s->ready_last = j;
    s->nready++;
    eng->nready++;
}

/* Take the oldest ready attempt of `s` when a request slot is free and
 * the engine runs, counting it as sending; NULL when not. The lock is
 * held. */
static struct job *
ready_pop(struct deliver *eng, struct slot *s)
{
    struct job *j = s->ready;

    if (j == NULL || s->sending >= s->limit || eng->stopping) {
        return NULL;
    }
    s->ready = j->next;
    if (s->ready == NULL) {
        s->ready_last = NULL;
    }
    j->next = NULL;
    s->nready--;
    eng->nready--;
    s->sending++;
    j->sending = 1;
    return j;
}

/* Move the whole ready list of `s` to the front of `*to`. The lock is
 * held. */
static void
ready_take_all(struct deliver *eng, struct slot *s, struct job **to)
{
    if (s->ready == NULL) {
        return;
    }
    s->ready_last->next = *to;
    *to = s->ready;
    eng->nready -= s->nready;
    s->ready = NULL;
    s->ready_last = NULL;
    s->nready = 0;
}

/* End the attempts of the list `j`, never started, as not tried (the
 * engine stops, or their destination went away). The lock is not
 * held. */
static void
ready_abandon(struct job *j, const char *why)
{
    while (j != NULL) {
        struct job *next = j->next;
        struct deliver_result r;

        j->next = NULL;
        j->started_us = now_us();
        deliver_result_fail(&r, 0, "not sent: %s", why);
        r.not_tried = 1;
        deliver_attempt_done(&j->at, &r);
        j = next;
    }
}

/*
 * Start the ready attempts of `d` while it has free request slots. The
 * caller holds a reference to `d`; the lock is not held. A driver may
 * end an attempt inside its send(): that nested call starts nothing
 * (the loop here goes on, and the engine's loop, woken, serves any
 * other destination), so the stack never grows with the list.
 *
 * Once the destination's lease has ended nothing more starts: the
 * process was stopped or starved past it, and another may have taken
 * the destination over and sent these events already. They end untried
 * and go to whoever holds the lease next (this process again, when its
 * next claim finds the lease free).
 */
static void
dispatch(struct deliver *eng, struct deliver_dest *d)
{
    static _Thread_local int busy;
    struct job *late = NULL;

    if (busy) {
        pthread_mutex_lock(&eng->lock);
        eng->woken = 1;
        pthread_cond_broadcast(&eng->cond);
        pthread_mutex_unlock(&eng->lock);
        return;
    }
    busy = 1;
    for (;;) {
        const struct deliver_driver *drv = NULL;
        struct job *j = NULL;
        struct slot *s = NULL;

        pthread_mutex_lock(&eng->lock);
        s = slot_find(eng, d->id);
        if (s != NULL && s->ready != NULL && now_us() >= s->held_until) {
            ready_take_all(eng, s, &late);
        } else if (s != NULL) {
            j = ready_pop(eng, s);
            drv = s->drv;
        }
        pthread_mutex_unlock(&eng->lock);
        if (j == NULL) {
            break;
        }
        j->started_us = now_us();
        drv->send(&j->at);
    }
    ready_abandon(late, "the destination's lease ended before a request "
                        "slot was free");
    busy = 0;
}

/*
 * Reload the destinations in use: add new ones, drop removed ones (an
 * attempt still in flight keeps its destination alive), refresh the
 * secrets of kept ones when they were rotated. The demo inbox is served
 * only by `ferry demo`: another process leaves its deliveries waiting
 * for the next demo, which shows them, rather than mark them delivered
 * with no page to show them on.
 */
static void
reload(struct deliver *eng)
{
    struct arena a;
    struct store_destination *list = NULL;
    struct job *dropped = NULL;
    size_t n = 0;
    size_t i = 0;
    struct err e;

    err_clear(&e);
    arena_init(&a, RELOAD_ARENA);
    if (store_destination_list(eng->app->store, NULL, 0, &a, &list, &n, &e) <
        0) {
        log_event(LOG_ERROR, "deliver", "reload.failed", "error=%s", e.msg);
        goto out;
    }
    pthread_mutex_lock(&eng->lock);
    for (i = 0; i < eng->nslots; i++) {
        eng->slots[i].seen = 0;
    }
    pthread_mutex_unlock(&eng->lock);
    for (i = 0; i < n; i++) {
        const struct deliver_driver *drv = deliver_driver_find(list[i].kind);
        struct deliver_dest *d = NULL;
        struct slot *s = NULL;

        if (drv == NULL || (drv == &deliver_demo && !eng->app->demo)) {
            continue;
        }
        pthread_mutex_lock(&eng->lock);
        s = slot_find(eng, list[i].id);
        if (s != NULL) {
            s->seen = 1;
        }
        pthread_mutex_unlock(&eng->lock);
        if (s != NULL) {
            /* kept: take a rotated secret (only this thread signs) */
            secrets_refresh(eng, s->d, &list[i]);
            continue;
        }
        d = dest_load(eng, &list[i], drv);
        if (d == NULL) {
            continue;
        }
        pthread_mutex_lock(&eng->lock);
        if (eng->nslots == eng->cap) {
            eng->cap = eng->cap == 0 ? 8 : eng->cap * 2;
            eng->slots = xrealloc(eng->slots, eng->cap * sizeof(*eng->slots));
        }
        s = &eng->slots[eng->nslots++];
        memset(s, 0, sizeof(*s));
        s->d = d;
        s->drv = drv;
        s->limit = drv->concurrency > 0 ? drv->concurrency
                                        : eng->app->cfg->deliver_concurrency;
        s->seen = 1;
        pthread_mutex_unlock(&eng->lock);
    }
    /* drop the removed ones */
    pthread_mutex_lock(&eng->lock);
    for (i = 0; i < eng->nslots;) {
        if (!eng->slots[i].seen) {
            ready_take_all(eng, &eng->slots[i], &dropped);
            dest_unref(eng->slots[i].drv, eng->slots[i].d);
            eng->slots[i] = eng->slots[--eng->nslots];
            continue;
        }
        i++;
    }
    pthread_mutex_unlock(&eng->lock);
    ready_abandon(dropped, "the destination was removed");
out:
    arena_release(&a);
}

/* ---- outcomes ---- */

int64_t
deliver_retry_delay(long base, long max, int n, double jitter, long retry_after)
{
    double s = 0;

    s = (double)base;
    while (--n > 0 && s < (double)max) {
        s *= 2;
    }
    if (s > (double)max) {
        s = (double)max;
    }
    if (jitter < -1) {
        jitter = -1;
    } else if (jitter > 1) {
        jitter = 1;
    }
    s *= 1.0 + 0.1 * jitter;
    if (retry_after >= 0 && (double)retry_after > s) {
        /* the destination asked for longer: honoured, up to max */
        s = (double)(retry_after < max ? retry_after : max);
    }
    return (int64_t)(s * 1e6);
}

/* A uniform value in [-1, 1]. */
static double
jitter(void)
{
    uint32_t v = 0;

    rng_bytes(&v, sizeof(v));
    return (double)v / 2147483647.5 - 1.0;
}

static void
metrics_latency(double s)
{
    size_t i = 0;

    metrics.lat_count++;
    metrics.lat_sum += s;
    for (i = 0; i < NBOUNDS; i++) {
        if (s <= lat_bounds[i]) {
            metrics.lat_bucket[i]++;
        }
    }
}

/* Attempt `j` is over (its outcome stored, or not): give the slot
 * back and free it. The lock is held. */
static void
job_end(struct deliver *eng, struct job *j)
{
    struct slot *s = slot_find(eng, j->dest->id);

    if (j->id == 0) {
        /* fresh: out of the view of the claims; one whose outcome was
         * not stored is read from the log again */
        if (!j->stored && j->seq - 1 < j->dest->rewind) {
            j->dest->rewind = j->seq - 1;
        }
        if (j->fprev != NULL) {
            j->fprev->fnext = j->fnext;
        } else {
            j->dest->fresh = j->fnext;
        }
        if (j->fnext != NULL) {
            j->fnext->fprev = j->fprev;
        }
    }

    if (s != NULL) {
        s->inflight--;
        s->rest_until = 0;
    }
    eng->inflight--;
    dest_unref(s != NULL ? s->drv : deliver_driver_find(j->dest->kind),
               j->dest);
    free(j->strings);
    free(j);
}

/* Count the outcomes of written batch `b` as the store recorded them:
 * not a claim lost to another owner, nor one given back untried, and a
 * failure of a destination removed meanwhile as cancelled. A failure is
 * logged with the row it was written to and what became of it. */
static void
outcomes_recorded(const struct settle_batch *b)
{
    unsigned long long delivered = 0, retried = 0, dead = 0, cancelled = 0;
    size_t i = 0;

    for (i = 0; i < b->n; i++) {
        const struct store_delivery_outcome *o = &b->o[i];
        const char *now = NULL;

        if (o->state == NULL || o->rc != 0) {
            continue;
        }
        now = o->cancelled ? "cancelled" : o->state;
        if (o->cancelled) {
            cancelled++;
        } else if (strcmp(o->state, "delivered") == 0) {
            delivered++;
        } else if (strcmp(o->state, "dead") == 0) {
            dead++;
        } else {
            retried++;
        }
        if (strcmp(now, "delivered") != 0) {
            log_event(LOG_WARN, "deliver", "attempt.failed",
                      "delivery=%lld event_id=%s destination=%s status=%ld "
                      "error=%s outcome=%s",
                      (long long)o->id, o->event_id, o->destination_id,
                      o->status, o->error != NULL ? o->error : "", now);
        }
    }
    pthread_mutex_lock(&metrics.lock);
    metrics.delivered += delivered;
    metrics.retried += retried;
    metrics.dead += dead;
    metrics.cancelled += cancelled;
    pthread_mutex_unlock(&metrics.lock);
}

/* Batch `b` was written (rc 0) or not: end its attempts and wake the
 * loop; `b` may be taken again. */
static void
batch_end(struct settle_batch *b, int rc, const struct err *e)
{
    struct deliver *eng = b->eng;
    size_t i = 0;

    if (rc < 0) {
        log_event(LOG_ERROR, "deliver", "settle.failed",
                  "deliveries=%zu first=%lld error=%s", b->n,
                  (long long)b->o[0].id, e != NULL ? e->msg : "?");
    }
    if (rc == 0) {
        outcomes_recorded(b);
    }
    pthread_mutex_lock(&eng->lock);
    for (i = 0; i < b->n; i++) {
        b->jobs[i]->stored = rc == 0 && b->o[i].state != NULL;
        job_end(eng, b->jobs[i]);
    }
    b->n = 0;
    eng->woken = 1;
    pthread_cond_broadcast(&eng->cond);
    pthread_mutex_unlock(&eng->lock);
}

/*
 * 1 when the waiting outcomes are to be written now: half of the
 * attempts not yet ended wait, or the oldest has waited SETTLE_WAIT_US,
 * or the engine is stopping. Fewer, larger writes cost the store less
 * per outcome (a commit writes whole pages), and an attempt alone is
 * written at once. The lock is held.
 */
static int
settle_due(const struct deliver *eng, int64_t now)
{
    if (eng->settle_head == NULL) {
        return 0;
    }
    return eng->stopping || eng->nwaiting * 2 >= eng->inflight - eng->nready ||
           now >= eng->settle_head->ended_us + SETTLE_WAIT_US;
}

/* Up to SETTLE_MAX waiting outcomes as a batch when they are due (or
 * `force`); NULL, and no settle write in flight any more, when not. */
static struct settle_batch *
batch_take(struct deliver *eng, int force)
{
    struct settle_batch *b = NULL;

    pthread_mutex_lock(&eng->lock);
    if (eng->settle_head == NULL || (!force && !settle_due(eng, now_us()))) {
        /* deliver_free() waits for this before it frees the engine; the
         * loop times what still waits */
        eng->settling = 0;
        eng->woken = 1;
        pthread_cond_broadcast(&eng->cond);
        pthread_mutex_unlock(&eng->lock);
        return NULL;
    }
    b = eng->batch;
    b->eng = eng;
    b->n = 0;
    eng->settles++;
    while (eng->settle_head != NULL && b->n < SETTLE_MAX) {
        struct job *j = eng->settle_head;

        eng->settle_head = j->next;
        b->jobs[b->n] = j;
        b->o[b->n] = j->o;
        b->n++;
    }
    if (eng->settle_head == NULL) {
        eng->settle_tail = &eng->settle_head;
    }
    eng->nwaiting -= (int)b->n;
    eng->settled += b->n;
    pthread_mutex_unlock(&eng->lock);
    return b;
}

static void settled(void *arg, int rc, const struct err *e);

/* Write the waiting outcomes, one batch at a time while they are due
 * (the first regardless when `force`): the caller has set `settling`,
 * and the last batch clears it. */
static void
settle_flush(struct deliver *eng, int force)
{
    struct settle_batch *b = NULL;
    struct err e;

    while ((b = batch_take(eng, force)) != NULL) {
        if (store_delivery_settle_async(eng->app->store, b->o, b->n, settled,
                                        b) == 0) {
            return;
        }
        err_set(&e, ERR_STORE, "the store is closing");
        batch_end(b, ERR_STORE, &e);
    }
}

/* A batch is stored: give its slots back, then write the next one. Runs
 * on the store's writer thread. */
static void
settled(void *arg, int rc, const struct err *e)
{
    struct settle_batch *b = arg;
    struct deliver *eng = b->eng;

    batch_end(b, rc, e);
    settle_flush(eng, 0);
}

/* Queue the outcome of `j` for the store; start a write when none is in
 * flight and the outcomes are due, else have the loop time it. */
static void
settle(struct deliver *eng, struct job *j)
{
    struct slot *s = NULL;
    struct deliver_dest *next = NULL;
    const struct deliver_driver *drv = NULL;
    int start = 0;

    pthread_mutex_lock(&eng->lock);
    s = slot_find(eng, j->dest->id);
    if (s != NULL && j->sending) {
        /* its request slot is free: a ready attempt takes it, and once
         * half of the room is free the loop claims (one claim for
         * many, not one for each); one that never started (ended from
         * a ready list) held no slot */
        int half = (s->limit + 1) / 2;
        int before = slot_room(s);

        j->sending = 0;
        s->sending--;
        if (s->ready != NULL && !eng->stopping) {
            next = s->d;
            next->refs++;
            drv = s->drv;
        }
        if (before < half && slot_room(s) >= half) {
            eng->woken = 1;
            pthread_cond_broadcast(&eng->cond);
        }
    }
    j->next = NULL;
    j->ended_us = now_us();
    *eng->settle_tail = j;
    eng->settle_tail = &j->next;
    eng->nwaiting++;
    if (!eng->settling && settle_due(eng, j->ended_us)) {
        eng->settling = 1;
        start = 1;
    } else if (!eng->settling && eng->settle_head == j) {
        eng->woken = 1;
        pthread_cond_broadcast(&eng->cond);
    }
    pthread_mutex_unlock(&eng->lock);
    if (next != NULL) {
        dispatch(eng, next);
        pthread_mutex_lock(&eng->lock);
        dest_unref(drv, next);
        pthread_mutex_unlock(&eng->lock);
    }
    if (start) {
        settle_flush(eng, 0);
    }
}

void
deliver_result_fail(struct deliver_result *r, long status, const char *fmt, ...)
{
    va_list ap;

    memset(r, 0, sizeof(*r));
    r->status = status;
    r->retry_after = -1;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
}

void
deliver_attempt_done(struct deliver_attempt *at, const struct deliver_result *r)
{
    struct job *j = (struct job *)at;
    struct deliver *eng = j->eng;
    const struct config *c = eng->app->cfg;
    int64_t now = now_us();
    double secs = (double)(now - j->started_us) / 1e6;

    memset(&j->o, 0, sizeof(j->o));
    j->o.id = j->id;
    j->o.event_seq = j->seq;
    j->o.event_id = j->at.event_id;
    j->o.destination_id = j->dest->id;
    j->o.order_key = j->key;
    j->o.lane = j->lane;
    j->o.event_created_at = j->at.created_at;
    j->o.followers = &j->followers;
    j->o.owner = eng->owner;
    j->o.at = j->started_us;
    j->o.latency_us = now - j->started_us;
    j->o.status = r->status;
    if (r->not_tried) {
        j->o.state = NULL;
    } else if (r->ok) {
        j->o.state = "delivered";
        j->o.next_attempt_at = now;
    } else {
        snprintf(j->error, sizeof(j->error), "%s",
                 r->error[0] != '\0' ? r->error : "failed");
        j->o.error = j->error;
        if (j->retry + 1 > c->deliver_retries) {
            j->o.state = "dead";
            j->o.next_attempt_at = now;
        } else {
            j->o.state = "pending";
            j->o.next_attempt_at =
                now + deliver_retry_delay(c->deliver_retry_base_seconds,
                                          c->deliver_retry_max_seconds,
                                          j->retry + 1, jitter(),
                                          r->retry_after);
        }
    }
    if (j->o.state != NULL) {
        pthread_mutex_lock(&metrics.lock);
        metrics_latency(secs);
        pthread_mutex_unlock(&metrics.lock);
    }
    settle(eng, j);
}

/* ---- claims ---- */

/* A hash of the order key `key` (FNV-1a), so that a claim looking for
 * a key among the attempts in flight compares numbers first. */
static uint32_t
key_hash(const char *key)
{
    uint32_t h = 2166136261u;

    while (*key != '\0') {
        h = (h ^ (unsigned char)*key++) * 16777619u;
    }
    return h;
}

/* Copy the strings of `d` into one block owned by `j` and point `at`
 * at them. */
static void
job_fill(struct job *j, const struct store_delivery *d)
{
    const char *src[5] = {d->event_id, d->type, d->user_id, d->body,
                          d->reference};
    size_t len[5];
    char *dst[5];
    size_t total = 0;
    char *p = NULL;
    size_t i = 0;

    for (i = 0; i < 5; i++) {
        len[i] = src[i] != NULL ? strlen(src[i]) : 0;
        total += len[i] + 1;
    }
    p = j->strings = xmalloc(total);
    for (i = 0; i < 5; i++) {
        dst[i] = p;
        if (src[i] != NULL) {
            memcpy(p, src[i], len[i]);
        }
        p[len[i]] = '\0';
        p += len[i] + 1;
    }
    j->at.event_id = dst[0];
    j->at.event_type = dst[1];
    j->at.user_id = d->user_id != NULL ? dst[2] : NULL;
    j->at.body = dst[3];
    j->at.body_len = len[3];
    /* terra-reference: the request's reference, else the event id */
    j->at.reference = d->reference != NULL ? dst[4] : dst[0];
    j->at.created_at = d->event_created_at;
    /* the order key: the user, else the event itself */
    j->key = d->user_id != NULL ? dst[2] : dst[0];
    j->key_hash = key_hash(j->key);
    j->id = d->id;
    j->seq = d->event_seq;
    j->lane = d->lane;
    j->followers = d->followers;
    j->retry = d->retry;
}

/* What a claim asks of the engine (store_claim_view), on the store's
 * thread: the destination's fresh attempts in flight. */
struct view_arg {
    struct deliver *eng;
    struct deliver_dest *d;
};

static int
view_busy(void *arg, int64_t seq, const char *key, int64_t *at)
{
    struct view_arg *v = arg;
    struct job *j = NULL;
    uint32_t h = key_hash(key);
    int busy = 0;

    *at = 0;
    pthread_mutex_lock(&v->eng->lock);
    for (j = v->d->fresh; j != NULL && busy < 2; j = j->fnext) {
        if (j->seq == seq) {
            busy = 2;
        } else if (j->key_hash == h && strcmp(j->key, key) == 0) {
            busy = 1;
            *at = j->seq > *at ? j->seq : *at;
        }
    }
    pthread_mutex_unlock(&v->eng->lock);
    return busy;
}

static void
view_parked(void *arg, const char *key)
{
    struct view_arg *v = arg;
    struct job *j = NULL;
    uint32_t h = key_hash(key);

    pthread_mutex_lock(&v->eng->lock);
    for (j = v->d->fresh; j != NULL; j = j->fnext) {
        if (j->key_hash == h && strcmp(j->key, key) == 0) {
            j->followers = 1;
        }
    }
    pthread_mutex_unlock(&v->eng->lock);
}

static int64_t
view_lowest(void *arg)
{
    struct view_arg *v = arg;
    struct job *j = NULL;
    int64_t low = INT64_MAX;

    pthread_mutex_lock(&v->eng->lock);
    if (v->d->rewind != INT64_MAX) {
        low = v->d->rewind + 1;
    }
    for (j = v->d->fresh; j != NULL; j = j->fnext) {
        low = j->seq < low ? j->seq : low;
    }
    pthread_mutex_unlock(&v->eng->lock);
    return low;
}

/* The view of `va` for a claim, reading from where the last one ended or
 * from before an attempt whose outcome was not stored. */
static void
view_init(struct store_claim_view *view, struct view_arg *va)
{
    struct deliver_dest *d = va->d;

    memset(view, 0, sizeof(*view));
    view->busy = view_busy;
    view->lowest = view_lowest;
    view->parked = view_parked;
    view->arg = va;
    pthread_mutex_lock(&va->eng->lock);
    if (d->rewind != INT64_MAX && d->scan > d->rewind) {
        d->scan = d->rewind;
    }
    d->rewind = INT64_MAX;
    view->scan = d->scan;
    pthread_mutex_unlock(&va->eng->lock);
}

/* Claim and start what is due for slot `s` (the lock is not held); with
 * `room` 0 only renew the destination's lease. */
static void
claim(struct deliver *eng, struct deliver_dest *d,
      const struct deliver_driver *drv, int room)
{
    const struct config *c = eng->app->cfg;
    struct arena a;
    struct store_delivery *got = NULL;
    size_t n = 0;
    size_t i = 0;
    int64_t now = now_us();
    int64_t lease =
        now + (int64_t)(c->deliver_timeout_seconds + LEASE_SLACK_S) * 1000000;
    struct slot *s = NULL;
    struct job *gone = NULL;
    int lost = 0;
    int retaken = 0;
    int64_t held_until = 0; /* 0: not known (the claim failed) */
    struct view_arg va = {eng, d};
    struct store_claim_view view;
    struct err e;

    err_clear(&e);
    arena_init(&a, CLAIM_ARENA);
    for (;;) {
        int rc = 0;

        view_init(&view, &va);
        /* a ready attempt may wait for one request to end before its
         * own: its row's lease covers both (the destination's is
         * renewed while the engine runs) */
        view.rows_until = lease + (int64_t)c->deliver_timeout_seconds * 1000000;
        rc =
            store_delivery_claim(eng->app->store, d->id, now, lease, eng->owner,
                                 (size_t)room, &view, &a, &got, &n, &e);

        if (rc == ERR_NOMEM && room > 1) {
            /* large events: claim fewer at a time */
            room /= 2;
            arena_release(&a);
            arena_init(&a, CLAIM_ARENA);
            continue;
        }
        if (rc < 0) {
            unsigned failures = 0;

            if (log_every_due(&d->claim_log, now, CLAIM_LOG_EVERY_US,
                              &failures)) {
                log_event(LOG_ERROR, "deliver", "claim.failed",
                          "destination=%s failures=%u error=%s", d->id,
                          failures, e.msg);
            }
            n = 0;
            /* nothing of it was written: read from where it began */
            view.scan = d->scan;
        }
        lost = rc == 0 && !view.held;
        /* taken anew: what waits from an earlier lease of ours may
         * have been sent by whoever held it since */
        retaken = rc == 0 && view.held && view.taken;
        held_until = rc == 0 && view.held ? view.held_until : 0;
        break;
    }
    pthread_mutex_lock(&eng->lock);
    /* another owner's: read from the cursor once it is ours again (a
     * rewind by an attempt that ended meanwhile is applied next time) */
    d->scan = view.held ? view.scan : -1;
    s = slot_find(eng, d->id);
    if (s != NULL && (lost || retaken)) {
        /* removed, or taken over (now or since those were claimed):
         * what waits for a slot is not sent */
        ready_take_all(eng, s, &gone);
    }
    if (s != NULL) {
        if (held_until != 0) {
            s->held_until = held_until;
        }
        if ((int)n < room || room == 0) {
            s->rest_until = now + POLL_US;
        }
        s->renew_at = now + RENEW_US;
        s->inflight += (int)n;
    }
    eng->inflight += (int)n;
    eng->claims++;
    eng->claimed += n;
    d->refs += (int)n;
    pthread_mutex_unlock(&eng->lock);
    ready_abandon(gone, "the destination was removed or another process "
                        "held it");
    if (n > 0 && got[0].secret_stamp != d->previous_until) {
        /* rotated since the last reload: sign with the new secret now */
        struct store_destination sd;

        if (store_destination_get(eng->app->store, NULL, d->id, &a, &sd, &e) ==
            0) {
            secrets_refresh(eng, d, &sd);
        }
    }
    for (i = 0; i < n; i++) {
        struct job *j = xcalloc(1, sizeof(*j));

        j->eng = eng;
        j->dest = d;
        job_fill(j, &got[i]);
        j->at.dest = d;
        j->at.allow_private = c->security_allow_private_destinations;
        j->at.timeout_ms = (long)c->deliver_timeout_seconds * 1000;
        j->at.app = eng->app;
        j->at.http = eng->http;
        pthread_mutex_lock(&eng->lock);
        if (j->id == 0) {
            j->fnext = d->fresh;
            if (d->fresh != NULL) {
                d->fresh->fprev = j;
            }
            d->fresh = j;
        }
        s = slot_find(eng, d->id);
        if (s != NULL) {
            ready_push(eng, s, j);
            j = NULL;
        }
        pthread_mutex_unlock(&eng->lock);
        if (j != NULL) {
            /* only this thread drops slots, so this is not expected:
             * send it at once, as it cannot wait on a list */
            j->started_us = now_us();
            drv->send(&j->at);
        }
    }
    arena_release(&a);
    dispatch(eng, d);
}

/* ---- the loop ---- */

static void *
run(void *arg)
{
    struct deliver *eng = arg;
    int64_t next_reload = 0;

    log_set_req_id("deliver");
    for (;;) {
        int64_t now = now_us();
        int64_t wake = now + RELOAD_US;
        size_t i = 0;
        int flush = 0;
        int asked = 0;

        pthread_mutex_lock(&eng->lock);
        if (eng->stopping) {
            pthread_mutex_unlock(&eng->lock);
            break;
        }
        eng->woken = 0;
        asked = eng->reload;
        eng->reload = 0;
        flush = !eng->settling && settle_due(eng, now);
        if (flush) {
            eng->settling = 1;
        }
        pthread_mutex_unlock(&eng->lock);
        if (flush) {
            settle_flush(eng, 0);
        }
        if (now >= next_reload || asked) {
            reload(eng);
            next_reload = now + RELOAD_US;
        }
        for (i = 0;; i++) {
            struct deliver_dest *d = NULL;
            const struct deliver_driver *drv = NULL;
            int room = 0;

            pthread_mutex_lock(&eng->lock);
            if (i >= eng->nslots || eng->stopping) {
                pthread_mutex_unlock(&eng->lock);
                break;
            }
            room = slot_room(&eng->slots[i]);
            if ((room > 0 && eng->slots[i].rest_until <= now) ||
                eng->slots[i].renew_at <= now) {
                /* full: only renew its lease */
                room = room > 0 && eng->slots[i].rest_until <= now ? room : 0;
                d = eng->slots[i].d;
                drv = eng->slots[i].drv;
                d->refs++;
            } else if (eng->slots[i].ready != NULL &&
                       eng->slots[i].sending < eng->slots[i].limit) {
                /* ready attempts a nested dispatch() left */
                room = -1;
                d = eng->slots[i].d;
                drv = eng->slots[i].drv;
                d->refs++;
            }
            if (d == NULL && room > 0 && eng->slots[i].rest_until < wake) {
                wake = eng->slots[i].rest_until;
            }
            pthread_mutex_unlock(&eng->lock);
            if (d != NULL && room < 0) {
                dispatch(eng, d);
            } else if (d != NULL) {
                claim(eng, d, drv, room);
            }
            if (d != NULL) {
                pthread_mutex_lock(&eng->lock);
                dest_unref(drv, d);
                pthread_mutex_unlock(&eng->lock);
            }
        }
        pthread_mutex_lock(&eng->lock);
        for (i = 0; i < eng->nslots; i++) {
            struct slot *s = &eng->slots[i];

            if (slot_room(s) > 0 && s->rest_until < wake) {
                wake = s->rest_until;
            }
            if (s->renew_at < wake) {
                wake = s->renew_at;
            }
        }
        if (!eng->settling && eng->settle_head != NULL &&
            eng->settle_head->ended_us + SETTLE_WAIT_US < wake) {
            wake = eng->settle_head->ended_us + SETTLE_WAIT_US;
        }
        if (!eng->woken && !eng->stopping && wake > now_us()) {
            struct timespec ts;

            ts.tv_sec = (time_t)(wake / 1000000);
            ts.tv_nsec = (long)(wake % 1000000) * 1000;
            pthread_cond_timedwait(&eng->cond, &eng->lock, &ts);
        }
        pthread_mutex_unlock(&eng->lock);
    }
    return NULL;
}

int
deliver_start(struct deliver **out, struct app *a, struct err *e)
{
    struct deliver *eng = xcalloc(1, sizeof(*eng));
    pthread_condattr_t ca;
    char host[32] = "";
    unsigned char r[6];
    char rhex[13];

    *out = NULL;
    eng->app = a;
    eng->settle_tail = &eng->settle_head;
    eng->batch = xmalloc(sizeof(*eng->batch));
    pthread_mutex_init(&eng->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_cond_init(&eng->cond, &ca);
    pthread_condattr_destroy(&ca);
    gethostname(host, sizeof(host) - 1);
    rng_bytes(r, sizeof(r));
    codec_hex_encode(r, sizeof(r), rhex);
    snprintf(eng->owner, sizeof(eng->owner), "%s:%ld:%s", host, (long)getpid(),
             rhex);
    if (hclient_start_pool(&eng->http, POOL, e) < 0) {
        pthread_cond_destroy(&eng->cond);
        pthread_mutex_destroy(&eng->lock);
        free(eng->batch);
        free(eng);
        return ERR_INTERNAL;
    }
    if (pthread_create(&eng->thread, NULL, run, eng) != 0) {
        hclient_stop(eng->http);
        pthread_cond_destroy(&eng->cond);
        pthread_mutex_destroy(&eng->lock);
        free(eng->batch);
        free(eng);
        return err_set(e, ERR_INTERNAL, "deliver: cannot start a thread");
    }
    eng->running = 1;
    log_event(LOG_INFO, "deliver", "started", "concurrency=%d retries=%d",
              a->cfg->deliver_concurrency, a->cfg->deliver_retries);
    *out = eng;
    return 0;
}

void
deliver_kick(struct deliver *d)
{
    size_t i = 0;

    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nslots; i++) {
        d->slots[i].rest_until = 0;
    }
    d->woken = 1;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

void
deliver_reload(struct deliver *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->lock);
    d->reload = 1;
    d->woken = 1;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

void
deliver_stop(struct deliver *d)
{
    if (d == NULL || !d->running) {
        return;
    }
    pthread_mutex_lock(&d->lock);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    d->running = 0;
}

/*
 * Give up the destinations' leases, with their cursors where the
 * outcomes stored allow, so that the next process (a restart) delivers
 * at once. Nothing is in flight; the engine's thread has ended.
 */
static void
leases_release(struct deliver *eng)
{
    struct arena a;
    struct store_delivery *got = NULL;
    size_t n = 0;
    size_t i = 0;
    struct err e;

    for (i = 0; i < eng->nslots; i++) {
        struct deliver_dest *dd = eng->slots[i].d;
        struct view_arg va = {eng, dd};
        struct store_claim_view view;

        view_init(&view, &va);
        if (view.scan < 0) {
            continue; /* never held */
        }
        arena_init(&a, 4096);
        err_clear(&e);
        /* a lease that ended at 0 is free for anyone */
        if (store_delivery_claim(eng->app->store, dd->id, now_us(), 0,
                                 eng->owner, 0, &view, &a, &got, &n, &e) < 0) {
            log_event(LOG_WARN, "deliver", "lease.release_failed",
                      "destination=%s error=%s", dd->id, e.msg);
        }
        arena_release(&a);
    }
}

void
deliver_free(struct deliver *d)
{
    struct job *untried = NULL;
    size_t i = 0;

    if (d == NULL) {
        return;
    }
    deliver_stop(d);
    /* what is in flight on the engine's client ends now (untried when it
     * never started) */
    hclient_stop(d->http);
    d->http = NULL;
    /* drivers that hold attempts of their own report them now */
    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nslots; i++) {
        struct slot *s = &d->slots[i];

        if (s->drv->close != NULL && s->d->refs > 1) {
            const struct deliver_driver *drv = s->drv;
            struct deliver_dest *dd = s->d;

            pthread_mutex_unlock(&d->lock);
            drv->close(dd);
            pthread_mutex_lock(&d->lock);
            /* closed: the last unref must not close it again */
            s->drv = NULL;
        }
    }
    /* the attempts still ready were never started */
    for (i = 0; i < d->nslots; i++) {
        ready_take_all(d, &d->slots[i], &untried);
    }
    pthread_mutex_unlock(&d->lock);
    ready_abandon(untried, "ferry is stopping");
    pthread_mutex_lock(&d->lock);
    /* the last outcomes' write ends its jobs, then looks for more on the
     * writer's thread: the engine lives until it found none */
    while (d->inflight > 0 || d->settling) {
        if (!d->settling && d->settle_head != NULL) {
            /* the loop that timed them has ended */
            d->settling = 1;
            pthread_mutex_unlock(&d->lock);
            settle_flush(d, 1);
            pthread_mutex_lock(&d->lock);
            continue;
        }
        pthread_cond_wait(&d->cond, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    leases_release(d);
    log_event(LOG_DEBUG, "deliver", "deliver.stopped",
              "claims=%llu claimed=%llu settles=%llu settled=%llu", d->claims,
              d->claimed, d->settles, d->settled);
    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nslots; i++) {
        dest_unref(d->slots[i].drv, d->slots[i].d);
    }
    pthread_mutex_unlock(&d->lock);
    free(d->slots);
    free(d->batch);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

int
deliver_metrics(struct buf *out)
{
    size_t i = 0;
    int rc = 0;

    pthread_mutex_lock(&metrics.lock);
    rc |= buf_printf(out,
                     "# HELP ferry_deliveries_total Delivery attempts by "
                     "outcome.\n"
                     "# TYPE ferry_deliveries_total counter\n"
                     "ferry_deliveries_total{outcome=\"delivered\"} %llu\n"
                     "ferry_deliveries_total{outcome=\"retried\"} %llu\n"
                     "ferry_deliveries_total{outcome=\"dead\"} %llu\n"
                     "ferry_deliveries_total{outcome=\"cancelled\"} %llu\n"
                     "# HELP ferry_delivery_latency_seconds Time of one "
                     "delivery attempt.\n"
                     "# TYPE ferry_delivery_latency_seconds histogram\n",
                     metrics.delivered, metrics.retried, metrics.dead,
                     metrics.cancelled);
    for (i = 0; i < NBOUNDS; i++) {
        rc |= buf_printf(out,
                         "ferry_delivery_latency_seconds_bucket{le=\"%g\"} "
                         "%llu\n",
                         lat_bounds[i], metrics.lat_bucket[i]);
    }
    rc |= buf_printf(out,
                     "ferry_delivery_latency_seconds_bucket{le=\"+Inf\"} "
                     "%llu\n"
                     "ferry_delivery_latency_seconds_sum %.6f\n"
                     "ferry_delivery_latency_seconds_count %llu\n",
                     metrics.lat_count, metrics.lat_sum, metrics.lat_count);
    pthread_mutex_unlock(&metrics.lock);
    return rc != 0 ? ERR_TOOBIG : 0;
}
