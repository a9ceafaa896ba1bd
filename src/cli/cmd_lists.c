/*
 * cmd_lists.c - `ferry events list` and `ferry users list`: what the
 * store holds, for operators.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:s, s:s, s:s?, s:s?, s:s, s:o}", "id",
                           ev->id, "seq", (json_int_t)ev->seq, "type", ev->type,
                           "dev_id", ev->dev_id, "user_id", ev->user_id,
                           "reference", ev->reference, "created_at", t, "body",
                           json_loads(ev->body, JSON_DECODE_ANY, NULL)));
    }
    if (json) {
        cli_print_json(arr);
    } else if (n == 0) {
        printf("no events\n");
    }
}

int
cmd_events(const struct cli_opts *o)
{
    struct store_event_query q = {0};
    struct store_event *evs = NULL;
    struct config cfg;
    struct arena ar;
    struct app a;
    struct err e;
    size_t n = 0;
    int rc = 0;

    if (o->nargs != 1 || strcmp(o->args[0], "list") != 0) {
        cli_fail("usage: events list [--dev DEV_ID] [--user USER_ID] "
                 "[--type TYPE] [--limit N] [--json]");
        return 2;
    }
    q.limit = parse_limit(o->limit);
    if (q.limit == 0) {
        return 2;
    }
    q.dev_id = o->dev;
    q.user_id = o->user;
    q.type = o->type;
    if (cli_open_app(o, &cfg, &a) != 0) {
        return 1;
    }
    err_clear(&e);
    arena_init(&ar, (size_t)1 << 30);
    rc = store_event_list(a.store, &q, &ar, &evs, &n, &e);
    if (rc < 0) {
        cli_fail(e.msg);
    } else {
        print_events(evs, n, o->json);
    }
    arena_release(&ar);
    cli_close_app(&cfg, &a);
    return rc < 0 ? 1 : 0;
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
