/*
 * cmd_destination.c - `ferry destination add|list|remove|rotate-secret`.
 *
 * The signing secret is printed once, when it is made (add and
 * rotate-secret); the store keeps it sealed and nothing prints it again.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/destinations.h"
#include "cli/internal.h"
#include "core/crypto.h"
#include "core/isotime.h"

#define DEST_USAGE                                                             \
    "usage: destination add DEV_ID KIND URL [--json] [--access-key K "         \
    "--secret-key S --region R] | destination list [--dev DEV_ID] [--json] "   \
    "| destination remove ID | destination rotate-secret ID [--json]"

static void
print_made(const struct cli_opts *o, const struct destination_made *m,
           const char *what)
{
    if (o->json) {
        cli_print_json(
            json_pack("{s:s, s:s}", "id", m->id, "secret", m->secret));
        return;
    }
    printf("id      %s\nsecret  %s\n\n"
           "The %s is shown only this once; store it now.\n",
           m->id, m->secret, what);
}

/* The kind's options from the command line: s3's credentials. */
static json_t *
add_options(const struct cli_opts *o)
{
    json_t *opts = json_object();

    if (opts == NULL) {
        return NULL;
    }
    if (o->access_key != NULL) {
        json_object_set_new(opts, "access_key", json_string(o->access_key));
    }
    if (o->secret_key != NULL) {
        json_object_set_new(opts, "secret_key", json_string(o->secret_key));
    }
    if (o->region != NULL) {
        json_object_set_new(opts, "region", json_string(o->region));
    }
    return opts;
}

static int
destination_add(const struct cli_opts *o, struct app *a)
{
    struct destination_made m;
    json_t *opts = add_options(o);
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (opts == NULL) {
        cli_fail("out of memory");
        return 1;
    }
    rc = destinations_add(a, o->args[1], o->args[2], o->args[3], opts, &m, &e);
    json_decref(opts);
    if (rc < 0) {
        cli_fail(e.msg);
        return 1;
    }
    if (strcmp(o->args[2], "webhook") == 0) {
        print_made(o, &m, "signing secret");
    } else if (o->json) {
        /* only webhooks are signed: the secret is of no use here */
        cli_print_json(json_pack("{s:s}", "id", m.id));
    } else {
        printf("id      %s\n", m.id);
    }
    crypto_wipe(&m, sizeof(m));
    return 0;
}

static void
print_list(const struct store_destination *d, size_t n, int json)
{
    json_t *arr = json ? json_array() : NULL;
    char ts[ISOTIME_MAX];
    size_t i = 0;

    if (!json && n > 0) {
        printf("%-36s  %-24s  %-8s  %-32s  %s\n", "ID", "DEV_ID", "TYPE",
               "CREATED", "URL");
    }
    for (i = 0; i < n; i++) {
        if (json) {
            json_array_append_new(arr, destinations_json(&d[i]));
            continue;
        }
        isotime_format(d[i].created_at, 0, ts);
        printf("%-36s  %-24s  %-8s  %-32s  %s\n", d[i].id, d[i].dev_id,
               d[i].kind, ts, d[i].url);
    }
    if (json) {
        cli_print_json(arr);
    } else if (n == 0) {
        printf("no destinations\n");
    }
}

static int
destination_list(const struct cli_opts *o, struct app *a)
{
    struct store_destination *d = NULL;
    struct arena ar;
    struct err e;
    size_t n = 0;
    int rc = 0;

    err_clear(&e);
    arena_init(&ar, (size_t)64 << 20);
    rc = store_destination_list(a->store, o->dev, 0, &ar, &d, &n, &e);
    if (rc < 0) {
        cli_fail(e.msg);
    } else {
        print_list(d, n, o->json);
    }
    arena_release(&ar);
    return rc < 0 ? 1 : 0;
}

static int
destination_remove(const struct cli_opts *o, struct app *a)
{
    struct err e;

    err_clear(&e);
    if (destinations_remove(a, NULL, o->args[1], &e) < 0) {
        cli_fail(e.msg);
        return 1;
    }
    printf("removed %s; its deliveries still queued are cancelled\n",
           o->args[1]);
    return 0;
}

static int
destination_rotate(const struct cli_opts *o, struct app *a)
{
    struct destination_made m;
    struct err e;

    err_clear(&e);
    if (destinations_rotate(a, NULL, o->args[1], &m, &e) < 0) {
        cli_fail(e.msg);
        return 1;
    }
    print_made(o, &m, "new signing secret");
    if (!o->json) {
        printf("The old secret keeps signing beside it for %ld seconds.\n",
               a->cfg->deliver_secret_grace_seconds);
    }
    crypto_wipe(&m, sizeof(m));
    return 0;
}

/* 1 when the arguments make a known subcommand. */
static int
known(const struct cli_opts *o)
{
    const char *sub = o->nargs > 0 ? o->args[0] : "";

    return (strcmp(sub, "add") == 0 && o->nargs == 4) ||
           (strcmp(sub, "list") == 0 && o->nargs == 1) ||
           (strcmp(sub, "remove") == 0 && o->nargs == 2) ||
           (strcmp(sub, "rotate-secret") == 0 && o->nargs == 2);
}

int
cmd_destination(const struct cli_opts *o)
{
    const char *sub = o->nargs > 0 ? o->args[0] : "";
    int need_key = strcmp(sub, "add") == 0 || strcmp(sub, "rotate-secret") == 0;
    struct config cfg;
    struct app a;
    int rc = 0;

    if (!known(o)) {
        cli_fail(DEST_USAGE);
        return 2;
    }
    if (cli_open_app_flags(o, &cfg, &a, need_key ? APP_NEED_KEY : 0) != 0) {
        return 1;
    }
    if (strcmp(sub, "add") == 0) {
        rc = destination_add(o, &a);
    } else if (strcmp(sub, "list") == 0) {
        rc = destination_list(o, &a);
    } else if (strcmp(sub, "remove") == 0) {
        rc = destination_remove(o, &a);
    } else {
        rc = destination_rotate(o, &a);
    }
    cli_close_app(&cfg, &a);
    return rc;
}
