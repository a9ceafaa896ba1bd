/*
 * cmd_admin.c - `ferry migrate`, `ferry developer ...`, `ferry key ...`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/keys.h"
#include "cli/internal.h"
#include "core/crypto.h"
#include "core/isotime.h"

int
cmd_migrate(const struct cli_opts *o)
{
    struct config cfg;
    struct app a;
    struct err e;
    int current = 0;
    int latest = 0;

    if (o->nargs != 0) {
        cli_fail("migrate takes no arguments");
        return 2;
    }
    /* app_open() migrates; what is left is to say where the schema is */
    if (cli_open_app_flags(o, &cfg, &a, APP_CREATE_STORE) != 0) {
        return 1;
    }
    err_clear(&e);
    if (store_schema_version(a.store, &current, &latest, &e) < 0) {
        cli_fail(e.msg);
        cli_close_app(&cfg, &a);
        return 1;
    }
    /* the store URL is not printed: it may hold a password */
    if (o->json) {
        cli_print_json(
            json_pack("{s:i, s:i}", "version", current, "latest", latest));
    } else {
        printf("schema at version %d of %d\n", current, latest);
    }
    cli_close_app(&cfg, &a);
    return 0;
}

static void
print_new_key(const struct cli_opts *o, const struct keys_new *k, int with_dev)
{
    if (o->json) {
        json_t *j =
            json_pack("{s:s, s:s}", "key_id", k->key_id, "api_key", k->api_key);

        if (with_dev) {
            json_object_set_new(j, "dev_id", json_string(k->dev_id));
        }
        cli_print_json(j);
        return;
    }
    if (with_dev) {
        printf("dev_id   %s\n", k->dev_id);
    }
    printf("key_id   %s\napi_key  %s\n\n"
           "The API key is shown only this once; store it now.\n",
           k->key_id, k->api_key);
}

static int
developer_create(const struct cli_opts *o, struct app *a)
{
    struct keys_new k;
    struct err e;
    int rc = 0;

    err_clear(&e);
    memset(&k, 0, sizeof(k));
    rc = keys_developer_create(a, o->args[1], &k, &e);
    if (rc < 0) {
        cli_fail(e.msg);
        return 1;
    }
    print_new_key(o, &k, 1);
    crypto_wipe(&k, sizeof(k));
    return 0;
}

static int
developer_list(const struct cli_opts *o, struct app *a)
{
    struct arena ar;
    struct store_developer *d = NULL;
    struct err e;
    char ts[ISOTIME_MAX];
    size_t n = 0;
    size_t i = 0;
    json_t *arr = NULL;
    int rc = 0;

    err_clear(&e);
    arena_init(&ar, 64 << 20);
    rc = store_developer_list(a->store, &ar, &d, &n, &e);
    if (rc < 0) {
        cli_fail(e.msg);
        goto out;
    }
    arr = o->json ? json_array() : NULL;
    if (!o->json) {
        printf("%-26s %-6s %-32s %s\n", "DEV_ID", "KEYS", "CREATED", "NAME");
    }
    for (i = 0; i < n; i++) {
        isotime_format(d[i].created_at, 0, ts);
        if (o->json) {
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:i, s:s}", "dev_id", d[i].id,
                               "name", d[i].name, "active_keys",
                               d[i].active_keys, "created_at", ts));
        } else {
            printf("%-26s %-6d %-32s %s\n", d[i].id, d[i].active_keys, ts,
                   d[i].name);
        }
    }
    if (o->json) {
        cli_print_json(arr);
    }

out:
    arena_release(&ar);
    return rc < 0 ? 1 : 0;
}

int
cmd_developer(const struct cli_opts *o)
{
    struct config cfg;
    struct app a;
    int rc = 0;

    if (!(o->nargs == 2 && strcmp(o->args[0], "create") == 0) &&
        !(o->nargs == 1 && strcmp(o->args[0], "list") == 0)) {
        cli_fail("usage: ferry developer create NAME [--json] | "
                 "developer list [--json]");
        return 2;
    }
    if (cli_open_app(o, &cfg, &a) != 0) {
        return 1;
    }
    if (o->nargs == 2) {
        rc = developer_create(o, &a);
    } else {
        rc = developer_list(o, &a);
    }
    cli_close_app(&cfg, &a);
    return rc;
}

static int
key_list(const struct cli_opts *o, struct app *a)
{
    struct arena ar;
    struct store_developer d;
    struct store_key *k = NULL;
    struct err e;
    char ts[ISOTIME_MAX];
    char rev[ISOTIME_MAX];
    size_t n = 0;
    size_t i = 0;
    json_t *arr = NULL;
    int rc = 0;

    err_clear(&e);
    arena_init(&ar, 64 << 20);
    rc = store_developer_get(a->store, o->args[1], &ar, &d, &e);
    if (rc == 0) {
        rc = store_key_list(a->store, o->args[1], &ar, &k, &n, &e);
    }
    if (rc < 0) {
        cli_fail(e.msg);
        goto out;
    }
    arr = o->json ? json_array() : NULL;
    if (!o->json) {
        printf("%-21s %-8s %-32s %s\n", "KEY_ID", "ENDS", "CREATED", "REVOKED");
    }
    for (i = 0; i < n; i++) {
        isotime_format(k[i].created_at, 0, ts);
        if (k[i].revoked_at != 0) {
            isotime_format(k[i].revoked_at, 0, rev);
        }
        if (o->json) {
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:s, s:s?}", "key_id",
                                            k[i].id, "hint", k[i].hint,
                                            "created_at", ts, "revoked_at",
                                            k[i].revoked_at != 0 ? rev : NULL));
        } else {
            printf("%-21s ...%-5s %-32s %s\n", k[i].id, k[i].hint, ts,
                   k[i].revoked_at != 0 ? rev : "-");
        }
    }
    if (o->json) {
        cli_print_json(arr);
    }

out:
    arena_release(&ar);
    return rc < 0 ? 1 : 0;
}

int
cmd_key(const struct cli_opts *o)
{
    struct config cfg;
    struct app a;
    struct keys_new k;
    struct err e;
    int rc = 0;

    if (o->nargs != 2 || (strcmp(o->args[0], "create") != 0 &&
                          strcmp(o->args[0], "revoke") != 0 &&
                          strcmp(o->args[0], "list") != 0)) {
        cli_fail("usage: ferry key create DEV_ID [--json] | "
                 "key list DEV_ID [--json] | key revoke KEY_ID");
        return 2;
    }
    if (cli_open_app(o, &cfg, &a) != 0) {
        return 1;
    }
    err_clear(&e);
    memset(&k, 0, sizeof(k));
    if (strcmp(o->args[0], "list") == 0) {
        rc = key_list(o, &a) == 0 ? 0 : -1;
        goto out;
    }
    if (strcmp(o->args[0], "create") == 0) {
        rc = keys_create(&a, o->args[1], &k, &e);
        if (rc == 0) {
            print_new_key(o, &k, 0);
        }
    } else {
        rc = keys_revoke(&a, o->args[1], &e);
        if (rc == 0 && o->json) {
            cli_print_json(
                json_pack("{s:s, s:b}", "key_id", o->args[1], "revoked", 1));
        } else if (rc == 0) {
            printf("revoked %s\n", o->args[1]);
        }
    }
    if (rc < 0) {
        cli_fail(e.msg);
    }

out:
    crypto_wipe(&k, sizeof(k));
    cli_close_app(&cfg, &a);
    return rc < 0 ? 1 : 0;
}
