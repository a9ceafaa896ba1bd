/*
 * driver.h - what a kind of destination (webhook, postgres, s3, demo)
 * implements for the delivery engine.
 *
 * The engine (deliver.c) claims deliveries from the store, keeps their
 * order per user, schedules retries and records every attempt. A driver
 * only knows how to make one attempt: it is handed a struct
 * deliver_attempt, does the work (on its own thread, on the outbound
 * HTTP client's thread, or inline) and reports how it went with
 * deliver_attempt_done(), exactly once per attempt, from any thread.
 *
 * Everything an attempt points to stays valid until deliver_attempt_done()
 * is called for it; after that call the driver must not touch it.
 */
#ifndef FERRY_DELIVER_DRIVER_H
#define FERRY_DELIVER_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/log.h"

struct hclient;

struct app;
struct deliver;

#define DELIVER_SECRET_MAX 80  /* a signing secret, NUL included */
#define DELIVER_ERROR_MAX  256 /* what went wrong, NUL included */

/*
 * A destination as the engine holds it: its row with the secrets opened.
 * Shared by the attempts in flight to it; read-only for drivers.
 */
struct deliver_dest {
    char *id;
    char *dev_id;
    char *kind; /* "webhook", "postgres", "s3", "demo" */
    char *url;  /* the URL as shown: no credentials */
    /* the signing secret, and the one it replaced while its grace lasts
     * ("" when there is none); read them with deliver_dest_keys() */
    char secret[DELIVER_SECRET_MAX];
    char previous_secret[DELIVER_SECRET_MAX];
    /* unix us: previous_secret signs until then; it also tells a
     * rotation (the engine, its only writer, reads it without the lock) */
    int64_t previous_until;
    /* the kind's own settings with their secrets, e.g. for postgres
     * {"url": "postgresql://user:pw@host/db"}, for s3 {"access_key":..,
     * "secret_key":.., "region":..}; an empty object for the others */
    json_t *conf;
    void *driver_state; /* the driver's per-destination state, or NULL */
    int refs;           /* engine only */
    /* engine only: when a failed claim was last logged, and the failures
     * since (a full disk fails every claim: one line per interval) */
    struct log_every claim_log; /* claims failing */
    /* engine only: its fresh attempts (no row yet) until their outcome
     * is stored, the last event of the log its claims have read (-1:
     * the destination's cursor), and where to read from again (INT64_MAX:
     * nowhere) */
    struct job *fresh;
    int64_t scan;
    int64_t rewind; /* below a fresh one whose outcome was not stored */
};

struct job;

/* One attempt to deliver one event to one destination. */
struct deliver_attempt {
    const struct deliver_dest *dest;
    const char *event_id;   /* UUID, also body.ferry.event_id */
    const char *event_type; /* "auth", "activity", ... */
    const char *user_id;    /* may be NULL */
    const char *reference;  /* terra-reference: the request's or the id */
    const char *body;       /* the stored bytes, sent unchanged; valid
                               until deliver_attempt_done() is called */
    size_t body_len;
    int64_t created_at;   /* the event's, unix microseconds */
    int allow_private;    /* [security] allow_private_destinations */
    long timeout_ms;      /* [deliver] timeout_seconds */
    struct app *app;      /* borrowed */
    struct hclient *http; /* the engine's outbound client, for drivers that
                             speak HTTP; borrowed */
};

/* How an attempt went. */
struct deliver_result {
    int ok;           /* 1: delivered (webhooks: a 2xx answer) */
    long status;      /* HTTP status, 0 when there was none */
    long retry_after; /* seconds the destination asked to wait, -1 none */
    int not_tried;    /* 1: nothing reached the destination because the
                         engine is stopping; not counted as an attempt */
    char error[DELIVER_ERROR_MAX]; /* "" when ok; never holds a secret */
};

struct deliver_driver {
    const char *kind;
    /* most attempts in flight to one destination of this kind; 0 means
     * [deliver] concurrency */
    int concurrency;
    /*
     * Check the settings of a destination being added: `url` as given,
     * `opts` the kind's options from the command or the API (a JSON
     * object, borrowed). On success fill `*conf` (a new JSON object the
     * caller owns: what deliver_dest.conf will hold, secrets included)
     * and `shown` (`shown_n` bytes: the URL as it may be displayed, with
     * no credentials). ERR_INVALID naming the field otherwise. May be
     * NULL: the URL is kept as given and conf is {}.
     */
    int (*check)(const char *url, const json_t *opts, json_t **conf,
                 char *shown, size_t shown_n, struct err *e);
    /*
     * Per-destination state, made when the engine loads the destination.
     * close() frees it, either when the engine drops a destination no
     * attempt is using, or when the engine stops: then after the
     * outbound client has stopped, and close() must first report every
     * attempt it still holds (with not_tried set for those it never
     * started). Called once per open(). Either may be NULL.
     */
    int (*open)(struct deliver_dest *d, struct err *e);
    void (*close)(struct deliver_dest *d);
    /* Start one attempt; deliver_attempt_done() reports it, possibly
     * before send returns. */
    void (*send)(struct deliver_attempt *at);
};

/*
 * Copy the signing secrets of `d` (secret, previous_secret) into the
 * caller's buffers: a rotation changes them while attempts are sent on
 * other threads. The caller wipes its copies.
 */
void deliver_dest_keys(const struct deliver_dest *d,
                       char secret[DELIVER_SECRET_MAX],
                       char previous[DELIVER_SECRET_MAX]);

/*
 * Report the outcome of `at`. Exactly once per attempt, from any thread;
 * `at` and what it points to may be freed before this returns. `r` is
 * borrowed for the call.
 */
void deliver_attempt_done(struct deliver_attempt *at,
                          const struct deliver_result *r);

/* Fill `r` as a failure: status, retry_after -1, the message. */
void deliver_result_fail(struct deliver_result *r, long status, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));

/*
 * Seconds a Retry-After header value `v` asks for at `now`: delta
 * seconds or an HTTP date (a date past is 0); -1 when `v` is NULL, empty
 * or not understood.
 */
long deliver_retry_after(const char *v, time_t now);

/* The drivers, each in its own file. */
extern const struct deliver_driver deliver_webhook;
extern const struct deliver_driver deliver_postgres;
extern const struct deliver_driver deliver_s3;
extern const struct deliver_driver deliver_demo;

/* The driver of `kind`, or NULL. */
const struct deliver_driver *deliver_driver_find(const char *kind);

#endif
