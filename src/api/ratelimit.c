/*
 * ratelimit.c - per-user buckets of requested days over a rolling hour.
 *
 * Each user has a ring of RL_SLOTS minute slots: slot m % RL_SLOTS holds
 * the days taken in minute m, for the last RL_SLOTS minutes up to the
 * user's newest one. Moving to a later minute empties the slots of the
 * minutes that have left the hour. The users are in a hash table (by
 * FNV-1a of the id) and on a list from the most to the least recently
 * seen, so the idle ones are found and dropped from its tail in O(1)
 * each.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ratelimit.h"
#include "core/err.h"
#include "core/xmalloc.h"

#define RL_SLOTS 61 /* the minute now and the 60 before it */

struct rl_user {
    struct rl_user *hnext; /* hash chain */
    struct rl_user *newer; /* recency list */
    struct rl_user *older;
    int64_t minute;          /* the newest minute counted */
    uint32_t total;          /* sum of days[] */
    uint16_t days[RL_SLOTS]; /* at most RATELIMIT_HOUR_DAYS each */
    char id[RATELIMIT_ID_MAX + 1];
};

struct ratelimit {
    pthread_mutex_t lock;
    struct rl_user **table;
    size_t nbuckets; /* a power of two */
    size_t nusers;
    size_t max_users;
    struct rl_user *newest;
    struct rl_user *oldest;
};

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static struct ratelimit *shared;

struct ratelimit *
ratelimit_new(size_t max_users)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));

    rl->max_users = max_users > 0 ? max_users : 1;
    rl->nbuckets = 16;
    while (rl->nbuckets < rl->max_users) {
        rl->nbuckets *= 2;
    }
    rl->table = xcalloc(rl->nbuckets, sizeof(*rl->table));
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
    struct rl_user *u = NULL;

    if (rl == NULL) {
        return;
    }
    u = rl->newest;
    while (u != NULL) {
        struct rl_user *next = u->older;

        free(u);
        u = next;
    }
    pthread_mutex_destroy(&rl->lock);
    free(rl->table);
    free(rl);
}

static void
make_shared(void)
{
    shared = ratelimit_new(RATELIMIT_USERS_MAX);
}

struct ratelimit *
ratelimit_shared(void)
{
    pthread_once(&shared_once, make_shared);
    return shared;
}

/* The slot of minute `m`, also for minutes before 1970. */
static size_t
slot(int64_t m)
{
    return (size_t)(((m % RL_SLOTS) + RL_SLOTS) % RL_SLOTS);
}

static size_t
hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* ---- the recency list ---- */

static void
list_unlink(struct ratelimit *rl, struct rl_user *u)
{
    if (u->newer != NULL) {
        u->newer->older = u->older;
    } else {
        rl->newest = u->older;
    }
    if (u->older != NULL) {
        u->older->newer = u->newer;
    } else {
        rl->oldest = u->newer;
    }
    u->newer = NULL;
    u->older = NULL;
}

static void
list_push(struct ratelimit *rl, struct rl_user *u)
{
    u->older = rl->newest;
    u->newer = NULL;
    if (rl->newest != NULL) {
        rl->newest->newer = u;
    }
    rl->newest = u;
    if (rl->oldest == NULL) {
        rl->oldest = u;
    }
}

/* ---- the table ---- */

static struct rl_user *
find(struct ratelimit *rl, const char *id)
{
    struct rl_user *u = rl->table[hash(id) & (rl->nbuckets - 1)];

    while (u != NULL && strcmp(u->id, id) != 0) {
        u = u->hnext;
    }
    return u;
}

static void
drop(struct ratelimit *rl, struct rl_user *u)
{
    struct rl_user **p = &rl->table[hash(u->id) & (rl->nbuckets - 1)];

    while (*p != u) {
        p = &(*p)->hnext;
    }
    *p = u->hnext;
    list_unlink(rl, u);
    rl->nusers--;
    free(u);
}

static struct rl_user *
add(struct ratelimit *rl, const char *id, int64_t minute)
{
    struct rl_user *u = xcalloc(1, sizeof(*u));
    size_t b = 0;

    memcpy(u->id, id, strlen(id) + 1);
    u->minute = minute;
    b = hash(u->id) & (rl->nbuckets - 1);
    u->hnext = rl->table[b];
    rl->table[b] = u;
    list_push(rl, u);
    rl->nusers++;
    return u;
}

/* Drop the users whose hour holds nothing at `minute`: they are the
 * least recently seen, so they sit at the list's old end. */
static void
drop_idle(struct ratelimit *rl, int64_t minute)
{
    while (rl->oldest != NULL && rl->oldest->minute + RL_SLOTS <= minute) {
        drop(rl, rl->oldest);
    }
}

/* ---- one user's bucket ---- */

/* Move `u` on to `minute`, emptying the slots of the minutes that have
 * left the hour. An earlier `minute` (a clock set back) changes nothing. */
static void
advance(struct rl_user *u, int64_t minute)
{
    int64_t m = 0;

    if (minute <= u->minute) {
        return;
    }
    if (minute - u->minute >= RL_SLOTS) {
        memset(u->days, 0, sizeof(u->days));
        u->total = 0;
    } else {
        for (m = u->minute + 1; m <= minute; m++) {
            u->total -= u->days[slot(m)];
            u->days[slot(m)] = 0;
        }
    }
    u->minute = minute;
}

/* When enough of `u`'s days have left the hour for `days` more to fit:
 * the start of the minute that lets the slot go that frees the last
 * day needed. */
static int64_t
reset_at(const struct rl_user *u, int64_t days)
{
    int64_t need = (int64_t)u->total + days - RATELIMIT_HOUR_DAYS;
    int64_t freed = 0;
    int64_t m = 0;

    for (m = u->minute - (RL_SLOTS - 1); m <= u->minute; m++) {
        freed += u->days[slot(m)];
        if (freed >= need) {
            return (m + RL_SLOTS) * 60;
        }
    }
    /* not reached: `days` is at most the hour's budget */
    return (u->minute + RL_SLOTS) * 60;
}

int
ratelimit_take(struct ratelimit *rl, const char *user_id, int64_t days,
               int64_t now, struct ratelimit_verdict *out)
{
    char id[RATELIMIT_ID_MAX + 1];
    int64_t minute = now / 60;
    struct rl_user *u = NULL;
    int rc = 0;

    snprintf(id, sizeof(id), "%s", user_id);
    if (days < 1) {
        days = 1;
    }
    memset(out, 0, sizeof(*out));
    out->reset = now;
    pthread_mutex_lock(&rl->lock);
    drop_idle(rl, minute);
    u = find(rl, id);
    if (u == NULL && rl->nusers >= rl->max_users) {
        drop(rl, rl->oldest);
    }
    if (u == NULL) {
        u = add(rl, id, minute);
    } else {
        list_unlink(rl, u);
        list_push(rl, u);
    }
    advance(u, minute);
    /* a clock set back counts in the user's newest minute */
    minute = u->minute;

    if (days > RATELIMIT_WINDOW_DAYS) {
        out->rule = RATELIMIT_R1;
        rc = ERR_LIMIT;
    } else if (u->total + days > RATELIMIT_HOUR_DAYS) {
        out->rule = RATELIMIT_R2;
        out->reset = reset_at(u, days);
        out->retry_after = out->reset - now;
        rc = ERR_LIMIT;
    } else {
        u->days[slot(minute)] += (uint16_t)days;
        u->total += (uint32_t)days;
    }
    out->remaining = RATELIMIT_HOUR_DAYS - (int64_t)u->total;
    pthread_mutex_unlock(&rl->lock);
    return rc;
}

size_t
ratelimit_users(struct ratelimit *rl)
{
    size_t n = 0;

    pthread_mutex_lock(&rl->lock);
    n = rl->nusers;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
