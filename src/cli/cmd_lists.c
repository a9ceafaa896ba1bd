/*
 * cmd_lists.c - `ferry events list|show|replay` and `ferry users list`:
 * what the store holds and how its deliveries went, for operators.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/destinations.h"
#include "app/events.h"
#include "cli/internal.h"
#include "core/isotime.h"

#define LIST_DEFAULT 1000
#define LIST_MAX     100000

/* --limit as a count; 0 and a message on a bad value. */
static size_t
parse_limit(const char *s)
{
    char *end = NULL;
    long v = 0;

    if (s == NULL) {
        return LIST_DEFAULT;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > LIST_MAX) {
        fprintf(stderr, "ferry: --limit must be from 1 to %d\n", LIST_MAX);
        return 0;
    }
    return (size_t)v;
}

/* `ev` as JSON: its row, the body parsed (null if it does not parse). */
static json_t *
event_json(const struct store_event *ev)
{
    char t[ISOTIME_MAX];

    isotime_format(ev->created_at, 0, t);
    return json_pack("{s:s, s:I, s:s, s:s, s:s?, s:s?, s:s, s:o?}", "id",
                     ev->id, "seq", (json_int_t)ev->seq, "type", ev->type,
                     "dev_id", ev->dev_id, "user_id", ev->user_id, "reference",
                     ev->reference, "created_at", t, "body",
                     json_loads(ev->body, JSON_DECODE_ANY, NULL));
}

static void
print_events(const struct store_event *evs, size_t n, int json)
{
    json_t *arr = json ? json_array() : NULL;
    char t[ISOTIME_MAX];
    size_t i;

    if (!json && n > 0) {
        printf("%-4s  %-32s  %-18s  %-24s  %-36s  %s\n", "SEQ", "CREATED",
               "TYPE", "DEV_ID", "USER_ID", "EVENT_ID");
    }
    for (i = 0; i < n; i++) {
        const struct store_event *ev = &evs[i];

        isotime_format(ev->created_at, 0, t);
        if (!json) {
            printf("%-4lld  %-32s  %-18s  %-24s  %-36s  %s\n",
                   (long long)ev->seq, t, ev->type, ev->dev_id,
                   ev->user_id != NULL ? ev->user_id : "-", ev->id);
            continue;
        }
        json_array_append_new(arr, event_json(ev));
    }
    if (json) {
        cli_print_json(arr);
    } else if (n == 0) {
        printf("no events\n");
    }
}

#define EVENTS_USAGE                                                           \
    "usage: events list [--dev DEV_ID] [--user USER_ID] [--type TYPE] "        \
    "[--limit N] [--json] | events show EVENT_ID [--json] | events replay "    \
    "EVENT_ID | events replay --dead [--since T] [--dev DEV_ID]"

static int
events_list(const struct cli_opts *o, struct app *a)
{
    struct store_event_query q = {0};
    struct store_event *evs = NULL;
    struct arena ar;
    struct err e;
    size_t n = 0;
    int rc = 0;

    q.limit = parse_limit(o->limit);
    if (q.limit == 0) {
        return 2;
    }
    q.dev_id = o->dev;
    q.user_id = o->user;
    q.type = o->type;
    err_clear(&e);
    arena_init(&ar, (size_t)1 << 30);
    rc = store_event_list(a->store, &q, &ar, &evs, &n, &e);
    if (rc < 0) {
        cli_fail(e.msg);
    } else {
        print_events(evs, n, o->json);
    }
    arena_release(&ar);
    return rc < 0 ? 1 : 0;
}

/* One delivery and its attempts as text. */
static void
print_delivery(const struct store_delivery *d,
               const struct store_delivery_attempt *at, size_t n)
{
    char t[ISOTIME_MAX];
    size_t i = 0;

    printf("  %s  state=%s  attempts=%d", d->destination_id, d->state,
           d->attempts);
    if (strcmp(d->state, "pending") == 0) {
        isotime_format(d->next_attempt_at, 0, t);
        printf("  next=%s", t);
    }
    printf("\n");
    for (i = 0; i < n; i++) {
        isotime_format(at[i].at, 0, t);
        printf("    #%-3d %s  status=%ld  latency=%lldms  error=%s\n", at[i].n,
               t, at[i].status, (long long)(at[i].latency_us / 1000),
               at[i].error != NULL ? at[i].error : "-");
    }
}

static void
print_event_head(const struct store_event *ev)
{
    char t[ISOTIME_MAX];

    isotime_format(ev->created_at, 0, t);
    /* terra-reference is the request's reference, else the event id */
    printf("event      %s\ntype       %s\ndev_id     %s\nuser_id    %s\n"
           "reference  %s%s\ncreated    %s\nseq        %lld\n",
           ev->id, ev->type, ev->dev_id,
           ev->user_id != NULL ? ev->user_id : "-",
           ev->reference != NULL ? ev->reference : "-",
           ev->reference != NULL ? "" : " (terra-reference: the event id)", t,
           (long long)ev->seq);
}

/* The deliveries of `ev` with their attempts, printed or in `arr`. */
static int
show_deliveries(struct app *a, const struct store_event *ev, json_t *arr,
                struct arena *ar, struct err *e)
{
    struct store_delivery_query q = {0};
    struct store_delivery *d = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    q.event_id = ev->id;
    rc = store_delivery_list(a->store, &q, ar, &d, &n, e);
    if (arr == NULL) {
        printf("deliveries%s\n", rc == 0 && n == 0 ? " none" : ":");
    }
    for (i = 0; rc == 0 && i < n; i++) {
        struct store_delivery_attempt *at = NULL;
        size_t nat = 0;

        rc = store_delivery_attempts(a->store, d[i].id, ar, &at, &nat, e);
        if (rc < 0) {
            break;
        }
        if (arr != NULL) {
            json_array_append_new(arr,
                                  destinations_delivery_json(&d[i], at, nat));
        } else {
            print_delivery(&d[i], at, nat);
        }
    }
    return rc;
}

static int
events_show(const struct cli_opts *o, struct app *a)
{
    struct store_event ev;
    json_t *arr = o->json ? json_array() : NULL;
    struct arena ar;
    struct err e;
    int rc = 0;

    err_clear(&e);
    arena_init(&ar, (size_t)1 << 30);
    rc = store_event_get(a->store, NULL, o->args[1], &ar, &ev, &e);
    if (rc == 0 && !o->json) {
        print_event_head(&ev);
    }
    if (rc == 0) {
        rc = show_deliveries(a, &ev, arr, &ar, &e);
    }
    if (rc < 0) {
        cli_fail(e.msg);
    } else if (o->json) {
        cli_print_json(json_pack("{s:o, s:O}", "event", event_json(&ev),
                                 "deliveries", arr));
    }
    json_decref(arr);
    arena_release(&ar);
    return rc < 0 ? 1 : 0;
}

/* --since as unix microseconds: ISO-8601 or unix seconds. */
static int
parse_since(const char *s, int64_t *us, struct err *e)
{
    struct err sub;
    int offset = 0;
    char *end = NULL;
    long long v = 0;

    *us = 0;
    if (s == NULL) {
        return 0;
    }
    if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || v > INT64_MAX / 1000000) {
            return err_set(e, ERR_INVALID, "--since: out of range");
        }
        *us = (int64_t)v * 1000000;
        return 0;
    }
    err_clear(&sub);
    if (isotime_parse(s, us, &offset, &sub) < 0) {
        return err_set(e, ERR_INVALID,
                       "--since: expected ISO-8601 or unix seconds (%s)",
                       sub.msg);
    }
    return 0;
}

static int
events_replay(const struct cli_opts *o, struct app *a)
{
    int64_t now = isotime_now_us();
    int64_t queued = 0;
    int64_t since = 0;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (o->dead) {
        rc = parse_since(o->since, &since, &e);
        if (rc == 0) {
            rc = store_delivery_replay_dead(a->store, o->dev, since, now,
                                            &queued, &e);
        }
    } else {
        rc = store_event_replay(a->store, o->dev, o->args[1], now, &queued, &e);
    }
    if (rc < 0) {
        cli_fail(e.msg);
        return rc == ERR_INVALID ? 2 : 1;
    }
    printf("queued %lld deliver%s again\n", (long long)queued,
           queued == 1 ? "y" : "ies");
    return 0;
}

/* 1 when the arguments make a known subcommand. */
static int
events_known(const struct cli_opts *o)
{
    const char *sub = o->nargs > 0 ? o->args[0] : "";

    if (strcmp(sub, "replay") == 0) {
        return o->dead ? o->nargs == 1 : o->nargs == 2 && o->since == NULL;
    }
    return (strcmp(sub, "list") == 0 && o->nargs == 1) ||
           (strcmp(sub, "show") == 0 && o->nargs == 2);
}

int
cmd_events(const struct cli_opts *o)
{
    const char *sub = o->nargs > 0 ? o->args[0] : "";
    struct config cfg;
    struct app a;
    int rc = 0;

    if (!events_known(o)) {
        cli_fail(EVENTS_USAGE);
        return 2;
    }
    if (cli_open_app(o, &cfg, &a) != 0) {
        return 1;
    }
    if (strcmp(sub, "list") == 0) {
        rc = events_list(o, &a);
    } else if (strcmp(sub, "show") == 0) {
        rc = events_show(o, &a);
    } else {
        rc = events_replay(o, &a);
    }
    cli_close_app(&cfg, &a);
    return rc;
}

static void
print_users(const struct store_user *us, size_t n, int json)
{
    json_t *arr = json ? json_array() : NULL;
    size_t i;

    if (!json && n > 0) {
        printf("%-36s  %-24s  %-12s  %-13s  %-32s  %s\n", "USER_ID", "DEV_ID",
               "PROVIDER", "STATE", "CREATED", "REFERENCE_ID");
    }
    for (i = 0; i < n; i++) {
        json_t *u = events_user_json(&us[i], 1);

        if (!json) {
            char t[ISOTIME_MAX];

            isotime_format(us[i].created_at, 0, t);
            printf("%-36s  %-24s  %-12s  %-13s  %-32s  %s\n", us[i].id,
                   us[i].dev_id, us[i].provider, us[i].state, t,
                   us[i].reference_id != NULL ? us[i].reference_id : "-");
            json_decref(u);
            continue;
        }
        json_object_set_new(u, "dev_id", json_string(us[i].dev_id));
        json_object_set_new(u, "state", json_string(us[i].state));
        json_object_set_new(u, "provider_user_id",
                            json_string(us[i].provider_user_id));
        json_array_append_new(arr, u);
    }
    if (json) {
        cli_print_json(arr);
    } else if (n == 0) {
        printf("no users\n");
    }
}

int
cmd_users(const struct cli_opts *o)
{
    struct store_user_query q = {0};
    struct store_user *us = NULL;
    struct config cfg;
    struct arena ar;
    struct app a;
    struct err e;
    size_t n = 0;
    int rc = 0;

    if (o->nargs != 1 || strcmp(o->args[0], "list") != 0) {
        cli_fail("usage: users list [--dev DEV_ID] [--limit N] [--json]");
        return 2;
    }
    q.limit = parse_limit(o->limit);
    if (q.limit == 0) {
        return 2;
    }
    q.dev_id = o->dev;
    q.with_deauthorized = 1;
    if (cli_open_app(o, &cfg, &a) != 0) {
        return 1;
    }
    err_clear(&e);
    arena_init(&ar, (size_t)1 << 30);
    rc = store_user_list(a.store, &q, &ar, &us, &n, &e);
    if (rc < 0) {
        cli_fail(e.msg);
    } else {
        print_users(us, n, o->json);
    }
    arena_release(&ar);
    cli_close_app(&cfg, &a);
    return rc < 0 ? 1 : 0;
}
