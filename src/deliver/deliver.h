/*
 * deliver.h - the delivery engine: every recorded event reaches every
 * destination of its developer.
 *
 *     struct deliver *d = NULL;
 *     deliver_start(&d, app, &e);   (a thread of its own)
 *     ...
 *     deliver_stop(d);
 *
 * The engine claims due deliveries from the store per destination (at
 * most [deliver] concurrency in flight to each), hands each to its
 * destination's driver (driver.h), and settles it: delivered, retried
 * after min(retry_base * 2^(n-1), retry_max) seconds +-10 % (or the
 * destination's longer Retry-After), or dead after [deliver] retries. Claims
 * are leases, so the deliveries of a process that died are taken up by
 * the next one once their lease ends; an event may then arrive twice,
 * with the same ferry-event-id.
 */
#ifndef FERRY_DELIVER_DELIVER_H
#define FERRY_DELIVER_DELIVER_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct app;
struct deliver;

/*
 * Start the engine for `a` (whose outbound client is started) into
 * `*out`. ERR_INTERNAL when the thread cannot start.
 */
int deliver_start(struct deliver **out, struct app *a, struct err *e);

/* Wake the engine: an event was just recorded. Any thread; NULL is
 * fine. */
void deliver_kick(struct deliver *d);

/* Have the engine reload the destinations in use now: one was removed
 * (its attempts waiting for a request slot are then not sent). Any
 * thread; NULL is fine. */
void deliver_reload(struct deliver *d);

/*
 * Stop claiming: the engine's thread ends; attempts in flight go on.
 * Then stop the outbound client (which ends them) and call
 * deliver_free(). NULL does nothing.
 */
void deliver_stop(struct deliver *d);

/*
 * Let the drivers report the attempts they still hold, wait until
 * every outcome is written (the store must still be open), free `d`.
 * Stops first if deliver_stop() was not called. NULL does nothing.
 */
void deliver_free(struct deliver *d);

/*
 * The delay before retry `n` (1 = the first retry) in microseconds:
 * min(base * 2^(n-1), max) seconds with `jitter` in [-1, 1] scaling
 * +-10 %; a longer Retry-After of `retry_after` seconds (-1: none) is
 * taken instead, capped at max (a shorter one, 0 or a date past, does
 * not make the retry sooner than the schedule).
 */
int64_t deliver_retry_delay(long base, long max, int n, double jitter,
                            long retry_after);

/*
 * Append this process's delivery metrics to `out` in the Prometheus
 * text format: ferry_deliveries_total{outcome="delivered|retried|dead"},
 * the ferry_delivery_latency_seconds histogram. ERR_TOOBIG when `out`
 * is full.
 */
int deliver_metrics(struct buf *out);

#endif
