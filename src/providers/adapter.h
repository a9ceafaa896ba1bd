/*
 * adapter.h - what a provider's data adapter is: how ferry fetches a
 * provider's data, how it checks and reads the provider's pushes, and
 * how the provider's JSON becomes Terra's data models.
 *
 * One file per provider (src/providers/<name>.c) defines one
 * `const struct adapter`. Adapters do no I/O: they plan requests, read
 * answers and pushes handed to them, and normalise. The pipeline
 * (src/pipeline/) does the HTTP, the tokens, the store and the events,
 * so every adapter is testable on fixtures alone and `ferry normalize`
 * runs exactly the code a live fetch runs.
 *
 * Normalised records follow reference/terra-api.md section 7: times as
 * ISO-8601 strings with the provider's own offset (isotime_format() with
 * the offset the provider gave, microseconds always written), units as
 * Terra names them (meters, seconds, kcal, kg, bpm), enums as section 8
 * codes. Every record has a stable key: the provider's id for sessions,
 * the user's local date (YYYY-MM-DD) for daily, body, nutrition and
 * menstruation summaries.
 */
#ifndef FERRY_PROVIDERS_ADAPTER_H
#define FERRY_PROVIDERS_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "core/jsonw.h"

/* Terra's data types, in the order of their names below. */
enum data_type {
    DT_ACTIVITY = 0,
    DT_SLEEP,
    DT_DAILY,
    DT_BODY,
    DT_NUTRITION,
    DT_MENSTRUATION,
    DT_ATHLETE,
    DT_PLANNED_WORKOUT,
    DT_COUNT
};

#define DT_BIT(t) (1u << (t))

/* "activity", "sleep", "daily", "body", "nutrition", "menstruation",
 * "athlete", "plannedWorkout"; NULL for a value out of range. */
const char *data_type_name(enum data_type t);

/* The type named `s` (exactly as above), or -1. */
int data_type_parse(const char *s);

/* What a provider offers and how it may be asked. */
struct adapter_caps {
    unsigned types;          /* DT_BIT()s of the types it offers */
    int push;                /* 1: new data is pushed (webhooks, notify) */
    int poll_seconds;        /* polled every this often (jittered); 0: not */
    int backfill_days;       /* the longest history it gives on connect */
    int chunk_days;          /* the most days one request may cover */
    int requests_per_minute; /* per provider app, over every user */
    int revokes;             /* it has a revocation endpoint */
    /* 1: a daily or body summary may come in parts (one per summary type
     * the provider pushes): a part is merged into what is stored under
     * its key instead of replacing it */
    int merge_days;
};

/*
 * Arrays of a record kept as JSON text until the record is written.
 * A long sample series as jansson objects costs several times its text
 * (an object and six more allocations per sample), so an adapter asked
 * for text (adapter_records.text) writes such an array's elements as
 * text at once and leaves in the record's tree a stand-in array, holding
 * one null, that jsonw_add_spliced() writes as the text. Each splice
 * holds a reference on its stand-in, so the pointer stays unique while
 * the splice lives; a stand-in no longer in the tree is never written.
 * Text is not read back (it holds reals to 15 digits, not the values):
 * each splice has a way to make its elements again as the exact jansson
 * values, for code that must work on the tree (a merge).
 */
struct adapter_rebuild {
    /* put the elements into `at` (emptied first), as they would have
     * been made without text */
    void (*make)(json_t *at, const void *arg);
    void (*release)(void *arg); /* frees `arg` */
    void *arg;
};

struct adapter_splices {
    struct jsonw_splice *v;     /* texts malloc()ed, `at` referenced */
    struct adapter_rebuild *rb; /* rb[i] makes v[i]'s elements */
    size_t n;
    size_t cap;
};

/* Make `at` (an array in a record being built) stand for the JSON text
 * `text` of `len` bytes (an array: taken, malloc()ed); `rb` (copied,
 * its `arg` taken) makes its elements again. */
void adapter_splices_add(struct adapter_splices *s, json_t *at, char *text,
                         size_t len, const struct adapter_rebuild *rb);

/* Turn every splice of `s` into jansson values in its array, and empty
 * `s`: for code that reads or changes the tree. */
void adapter_splices_apply(struct adapter_splices *s);

/* Free every splice of `s` and leave it empty. */
void adapter_splices_release(struct adapter_splices *s);

/* One normalised record. */
struct adapter_record {
    enum data_type type;
    char key[128];       /* stable: provider id, or the local date */
    json_t *data;        /* the Terra object (owned) */
    int64_t start_us;    /* unix microseconds */
    int64_t end_us;      /* unix microseconds */
    char local_date[11]; /* YYYY-MM-DD for daily summaries, else "" */
    /* parts of `data` still text (owned); empty unless the records
     * were asked for text */
    struct adapter_splices splices;
};

/* A growing list of records; zero-initialise it. */
struct adapter_records {
    struct adapter_record *v;
    size_t n;
    size_t cap;
    /* set by the caller before normalize(): 1 lets the adapter keep long
     * sample arrays as text (adapter_record.splices) for a caller that
     * writes the records with jsonw_add_spliced() and reads nothing in
     * them; 0, the default, gives whole jansson trees. The JSON written
     * is the same byte for byte. */
    int text;
};

/*
 * Append a record to `out`, taking ownership of `data` (also when it
 * fails). `key` is truncated to fit; `local_date` may be NULL. 0, or
 * ERR_INVALID for a NULL `data` or an empty `key`.
 */
int adapter_records_add(struct adapter_records *out, enum data_type type,
                        const char *key, json_t *data, int64_t start_us,
                        int64_t end_us, const char *local_date);

/* Free every record and the array; `out` is empty after. */
void adapter_records_release(struct adapter_records *out);

/* How the pipeline authenticates a planned request. */
enum adapter_auth {
    ADAPTER_AUTH_BEARER = 0, /* the user's access token as a Bearer */
    ADAPTER_AUTH_NONE = 1,   /* only the headers given */
};

#define ADAPTER_HEADERS 4

/* A request to the provider's API, planned by an adapter. */
struct adapter_request {
    char method[8];  /* "GET", "POST", "PUT", "DELETE" */
    char url[2048];  /* absolute, query included */
    char body[2048]; /* the body ("" for none) */
    char kind[32];   /* the normalize kind of the answer ("sleep"), ""
                        when the answer holds no data */
    enum data_type type;
    char content_type[64]; /* of the body; "" for none (a form body of a
                              POST is sent as
                              application/x-www-form-urlencoded) */
    /* extra "Name: value" headers, "" when unused */
    char headers[ADAPTER_HEADERS][256];
    enum adapter_auth auth; /* 0 (zero-initialised): the user's Bearer */
};

/* What an adapter may use to plan requests for one user. */
struct adapter_ctx {
    const char *api_url;          /* the data API base, no trailing '/' */
    const char *provider_user_id; /* the provider's id of the user */
    /* the deployment's app at the provider ([provider X] keys) */
    const char *client_id;
    const char *client_secret;
    const char *webhook_secret; /* may be NULL */
    /* where the provider should push: <public_url>/hooks/<name>[/token] */
    const char *hook_url;
};

/* Moments the pipeline lets an adapter act at the provider. */
enum adapter_phase {
    ADAPTER_APP_SETUP = 0,  /* at start and daily: app-level push
                               subscriptions (create, renew) */
    ADAPTER_USER_CONNECTED, /* after a user connects (per-user subscribe) */
    ADAPTER_USER_DEAUTH,    /* before a user's tokens are deleted
                               (deregistration, unsubscribe) */
};

/* A push as it arrived at /hooks/<provider>[/<token>]. */
struct adapter_push {
    const char *method;     /* "POST", "GET", "HEAD" */
    const char *path_token; /* what followed /hooks/<provider>/, or NULL */
    const char *query;      /* the raw query string, or NULL */
    /* the request's header `name` (any case), or NULL */
    const char *(*header)(void *arg, const char *name);
    void *header_arg;
    const char *body; /* raw bytes, NUL-terminated */
    size_t body_len;
    /* the deployment's settings for this provider */
    const char *client_id;
    const char *client_secret;
    const char *webhook_secret; /* [provider X] webhook_secret, or NULL */
    const char *hook_token;     /* the expected path token, or NULL */
};

/* What a verified push asks for. */
enum push_answer {
    PUSH_ACCEPT = 0,    /* queue it: 200 (or 204) with no body */
    PUSH_HANDSHAKE = 1, /* a verification handshake: answer as given */
};

/* One piece of work a push asks for, for one provider user. */
struct adapter_push_item {
    char provider_user_id[128];
    enum data_type type;
    /* either: data included in the push (`kind` + `payload`, owned) ... */
    char kind[32];
    json_t *payload;
    /* ... or: a window to fetch (unix seconds; both 0 when none) */
    int64_t start;
    int64_t end;
    /* ... or: one object to fetch by URL (Oura's object id) */
    char url[2048];
    /* the user revoked access at the provider (an `access_revoked`) */
    int revoked;
};

struct adapter_push_items {
    struct adapter_push_item *v;
    size_t n;
    size_t cap;
    /* elements of the push left out as malformed, so that one bad
     * element does not lose the others (the caller logs them), and what
     * was wrong with the first */
    size_t skipped;
    char skip_why[160];
};

/* Count an element of a push left out, saying why (printf format). */
void adapter_push_items_skip(struct adapter_push_items *out, const char *fmt,
                             ...) __attribute__((format(printf, 2, 3)));

/* Append `it` (copied; its payload's ownership moves) to `out`. */
void adapter_push_items_add(struct adapter_push_items *out,
                            const struct adapter_push_item *it);

/* Free every payload and the array. */
void adapter_push_items_release(struct adapter_push_items *out);

struct adapter {
    const char *resource; /* "OURA" */
    /* the data API base cx->api_url defaults to (no trailing '/'); a
     * path ("/sandbox") is under ferry's public URL. [provider X]
     * api_url overrides it. */
    const char *api_url;
    struct adapter_caps caps;
    /* the normalize kinds: NULL-terminated pairs of name and what it is
     * ("sleep", "GET /v2/usercollection/sleep page", ...) */
    const char *const *kinds;

    /*
     * The requests that fetch `type` for the user of `cx` over
     * [start, end) (unix seconds), each covering at most chunk_days, into
     * `out` (a malloc()ed array of `*n` the caller frees). A type the
     * provider lacks: 0 with no request.
     */
    int (*plan)(const struct adapter_ctx *cx, enum data_type type,
                int64_t start, int64_t end, struct adapter_request **out,
                size_t *n, struct err *e);

    /*
     * After `answer` to `rq`: 1 with the next page in `next` when the
     * answer says there is one, else 0. May be NULL (no pagination).
     */
    int (*next_page)(const struct adapter_ctx *cx,
                     const struct adapter_request *rq, const json_t *answer,
                     struct adapter_request *next);

    /*
     * Normalise one provider payload of `kind` (a data answer or a push
     * body) into `out`. ERR_INVALID naming `kind` when unknown, or the
     * field when the payload is not of the documented shape (records
     * added before the failure stay in `out`; the caller discards them).
     * `payload` is borrowed.
     */
    int (*normalize)(const char *kind, const json_t *payload,
                     struct adapter_records *out, struct err *e);

    /*
     * Step `step` (0, 1, ...) of what the adapter does at `phase`: 1 with
     * the request to make in `next`, 0 when done. `last` is the answer
     * to the previous step's request (NULL at step 0 or when it had no
     * JSON body), `last_status` its HTTP status. A failed step ends the
     * phase (logged; APP_SETUP is tried again later). NULL: nothing to
     * do at any phase.
     */
    int (*lifecycle)(enum adapter_phase phase, const struct adapter_ctx *cx,
                     int step, const json_t *last, long last_status,
                     struct adapter_request *next, struct err *e);

    /*
     * Check that `p` really comes from the provider (its signature, its
     * client id header, the path token) and read what it asks for into
     * `out`. 0 with PUSH_ACCEPT in `*answer`, or PUSH_HANDSHAKE with the
     * body to send in `reply` (`reply_n` bytes, NUL-terminated) and its
     * status in `*status`; ERR_FORBIDDEN (answered 401) when it is not
     * authentic; ERR_INVALID for a body of the wrong shape. NULL when
     * the provider does not push.
     */
    int (*push)(const struct adapter_push *p, enum push_answer *answer,
                int *status, char *reply, size_t reply_n,
                struct adapter_push_items *out, struct err *e);
};

/* The adapter of `resource` (any case), or NULL. Static. */
const struct adapter *adapter_find(const char *resource);

/* The adapters ferry has, each in its own file. */
extern const struct adapter adapter_sandbox;
extern const struct adapter adapter_oura;
extern const struct adapter adapter_withings;
extern const struct adapter adapter_garmin;

#endif
