/*
 * pipeline.h - provider data: jobs that fetch, normalise, store and
 * announce a connected user's data.
 *
 *     struct pipeline *p = NULL;
 *     pipeline_start(&p, app, &e);   (worker threads of its own)
 *     ...
 *     pipeline_stop(p);
 *
 * Work is jobs in the store (store_job_*): "backfill" when a user
 * connects (the last caps.backfill_days, at most, only the days not
 * fetched yet), "poll" at the provider's jittered interval, "push" for a
 * verified push, "request" for a data request of the API, "lifecycle"
 * for an adapter's subscriptions. A job runs on a worker thread; the
 * HTTP it does waits on that thread only. Records go to the store with
 * store_records_put(): new ones become data events, changed ones events
 * marked "ferry":{"update":true}, in events of at most 10 objects.
 */
#ifndef FERRY_PIPELINE_PIPELINE_H
#define FERRY_PIPELINE_PIPELINE_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "providers/adapter.h"
#include "store/store.h"

struct app;
struct pipeline;

/* Start the workers for `a` (its outbound client started). */
int pipeline_start(struct pipeline **out, struct app *a, struct err *e);

/* Wake the workers: a job was just added. Any thread; NULL is fine. */
void pipeline_kick(struct pipeline *p);

/* Stop: running jobs finish their current request, the threads end,
 * `p` is freed. NULL does nothing. */
void pipeline_stop(struct pipeline *p);

/*
 * A data request's range [start, end) (unix seconds, whole UTC days as
 * the API reads them) and the records in it. A day summary (one with a
 * local date) belongs by its local date, any other record by when it
 * starts; since a local day begins up to 14 hours before or after the
 * UTC one, and a provider gives a night on the day it ends, the
 * provider and the store are asked for a day more on each side
 * (`*from`, `*to`: the wider window, within 1970-9999; the profile,
 * DT_ATHLETE, is asked for the range itself) and
 * pipeline_in_range() decides.
 */
void pipeline_ask_window(enum data_type type, int64_t start, int64_t end,
                         int64_t *from, int64_t *to);

/* 1 when a record starting at `start_us` (unix microseconds) with
 * `local_date` (YYYY-MM-DD, or NULL) belongs to [start, end). */
int pipeline_in_range(int64_t start, int64_t end, int64_t start_us,
                      const char *local_date);

/*
 * Fetch `type` of user `u` over [start, end) (unix seconds) from the
 * provider now, on the calling thread (refreshing the token when it is
 * due), store the records without announcing them (the caller answers
 * them; the next backfill, poll or push that sees them announces them)
 * and give them in `out` (the caller releases it). A type the provider
 * lacks gives no record. ERR_UPSTREAM when the provider fails,
 * ERR_FORBIDDEN when the user's grant is dead (the user then needs
 * re-authentication and a connection_error event is recorded once).
 */
int pipeline_fetch(struct app *a, const struct store_user *u,
                   enum data_type type, int64_t start, int64_t end,
                   struct adapter_records *out, struct err *e);

/*
 * Queue the data request of the API for user `u`: `type` over [start,
 * end) (unix seconds) delivered as events carrying `reference` (their
 * terra-reference). Up to 28 days: one event per type with every
 * object. Longer: large_request_processing, events of at most 10
 * objects, then large_request_sending with expected_payloads. With
 * `with_samples` 0 the sample arrays are removed. Returns once queued.
 */
int pipeline_request(struct app *a, const struct store_user *u,
                     enum data_type type, int64_t start, int64_t end,
                     int with_samples, const char *reference, struct err *e);

/*
 * Queue what a verified push asks for: one "push" job per connected user
 * of the provider account each item names (over every developer).
 */
int pipeline_push(struct app *a, const char *resource,
                  const struct adapter_push_items *items, struct err *e);

/* Run the adapter's ADAPTER_USER_DEAUTH steps for `u` (best effort,
 * logged), before its tokens are deleted. */
void pipeline_deauth(struct app *a, const struct store_user *u);

/* Remove every sample array from `data` (a Terra object or an array of
 * them), at any depth: the arrays whose key ends in "_samples" or holds
 * "_samples_" (hrv_samples_rmssd, hrv_samples_sdnn), and an ECG's
 * raw_signal. */
void pipeline_strip_samples(json_t *data);

#endif
