/*
 * cmd_data.c - the provider data commands: `ferry normalize PROVIDER
 * KIND [FILE]` (what an adapter makes of one provider payload, with no
 * store and no network) and `ferry hooks` (the push URLs to give the
 * providers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/internal.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "pipeline/internal.h"
#include "providers/adapter.h"

#define INPUT_MAX (64u << 20)
/* Output is written to standard output in pieces of about this size. */
#define OUTPUT_CHUNK (256u << 10)
/* The most JSON text one record may make. */
#define RECORD_MAX (1u << 30)

static void
list_kinds(const struct adapter *ad)
{
    size_t i = 0;
    int w = 0;

    /* the names in one column, as wide as the longest */
    for (i = 0; ad->kinds != NULL && ad->kinds[i] != NULL; i += 2) {
        w = strlen(ad->kinds[i]) > (size_t)w ? (int)strlen(ad->kinds[i]) : w;
        if (ad->kinds[i + 1] == NULL) {
            break;
        }
    }
    printf("usage: ferry normalize %s KIND [FILE]\n\nkinds of %s payloads:\n",
           ad->resource, ad->resource);
    for (i = 0; ad->kinds != NULL && ad->kinds[i] != NULL; i += 2) {
        printf("  %-*s %s\n", w, ad->kinds[i],
               ad->kinds[i + 1] != NULL ? ad->kinds[i + 1] : "");
        if (ad->kinds[i + 1] == NULL) {
            break;
        }
    }
}

/* 1 when `kind` is one of `ad`'s normalize kinds. */
static int
kind_known(const struct adapter *ad, const char *kind)
{
    size_t i = 0;

    for (i = 0; ad->kinds != NULL && ad->kinds[i] != NULL; i += 2) {
        if (strcmp(ad->kinds[i], kind) == 0) {
            return 1;
        }
        if (ad->kinds[i + 1] == NULL) {
            break;
        }
    }
    return 0;
}

/* Read all of `f` into `b` (at most INPUT_MAX bytes). */
static int
slurp(FILE *f, struct buf *b)
{
    char chunk[65536];
    size_t n = 0;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_add(b, chunk, n) != 0) {
            return ERR_TOOBIG;
        }
    }
    return ferror(f) ? ERR_IO : 0;
}

/* Write what `out` holds to standard output and empty it. */
static int
write_out(struct buf *out, struct err *e)
{
    if (out->len > 0 && fwrite(out->data, 1, out->len, stdout) != out->len) {
        return err_set(e, ERR_IO, "cannot write the records");
    }
    buf_reset(out);
    return 0;
}

/*
 * Print `recs` as one line per Terra type, in the order of the types:
 * {"type":"sleep","data":[...]}, as json_dumps() with the flags of
 * cli_print_json() would print that object (core/jsonw.h), written
 * record by record rather than made into one string first. 0, or a
 * negative ERR_* with `e` saying what failed (a line may then be
 * printed in part).
 */
static int
print_records(const struct adapter_records *recs, struct err *e)
{
    struct buf out;
    int t = 0;
    int rc = 0;

    buf_init(&out, OUTPUT_CHUNK + RECORD_MAX);
    for (t = 0; rc == 0 && t < DT_COUNT; t++) {
        size_t n = 0;
        size_t i = 0;

        for (i = 0; rc == 0 && i < recs->n; i++) {
            if ((int)recs->v[i].type != t) {
                continue;
            }
            rc = n++ == 0 ? buf_printf(&out, "{\"type\":\"%s\",\"data\":[",
                                       data_type_name((enum data_type)t))
                          : buf_addch(&out, ',');
            if (rc == 0) {
                rc = jsonw_add_spliced(&out, recs->v[i].data,
                                       recs->v[i].splices.v,
                                       recs->v[i].splices.n);
            }
            if (rc == 0 && out.len >= OUTPUT_CHUNK) {
                rc = write_out(&out, e);
            }
        }
        if (rc == 0 && n > 0) {
            rc = buf_addstr(&out, "]}\n");
        }
    }
    if (rc == 0) {
        rc = write_out(&out, e);
    }
    if (rc == 0 && fflush(stdout) != 0) {
        rc = err_set(e, ERR_IO, "cannot write the records");
    }
    if (rc == ERR_TOOBIG) {
        err_set(e, rc, "a record is over 1 GiB of JSON");
    } else if (rc == ERR_INVALID) {
        err_set(e, rc, "a record cannot be written as JSON");
    }
    buf_release(&out);
    return rc;
}

int
cmd_normalize(const struct cli_opts *o)
{
    const struct adapter *ad = NULL;
    const char *file = NULL;
    struct adapter_records recs = {0};
    struct buf in;
    json_t *payload = NULL;
    json_error_t jerr;
    FILE *f = stdin;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (o->nargs < 1) {
        cli_fail("normalize needs PROVIDER and KIND (see ferry help "
                 "normalize)");
        return 2;
    }
    ad = adapter_find(o->args[0]);
    if (ad == NULL) {
        fprintf(stderr,
                "ferry: no data adapter for provider '%s' (there "
                "are SANDBOX, OURA, WITHINGS, GARMIN)\n",
                o->args[0]);
        return 2;
    }
    if (o->help || o->nargs < 2) {
        list_kinds(ad);
        return o->help ? 0 : 2;
    }
    if (o->nargs > 3) {
        cli_fail("normalize takes PROVIDER KIND [FILE]");
        return 2;
    }
    if (!kind_known(ad, o->args[1])) {
        fprintf(stderr, "ferry: %s has no payload kind '%s'\n\n", ad->resource,
                o->args[1]);
        list_kinds(ad);
        return 2;
    }
    file = o->nargs == 3 ? o->args[2] : NULL;
    if (file != NULL && strcmp(file, "-") != 0) {
        f = fopen(file, "rb");
        if (f == NULL) {
            fprintf(stderr, "ferry: cannot open %s\n", file);
            return 1;
        }
    }
    buf_init(&in, INPUT_MAX);
    rc = slurp(f, &in);
    if (f != stdin) {
        fclose(f);
    }
    if (rc < 0) {
        fprintf(stderr, "ferry: %s\n",
                rc == ERR_TOOBIG ? "the payload is over 64 MiB"
                                 : "cannot read the payload");
        rc = 1;
        goto out;
    }
    payload = json_loadb(in.data != NULL ? in.data : "", in.len,
                         JSON_DECODE_ANY, &jerr);
    if (payload == NULL) {
        fprintf(stderr, "ferry: the payload is not JSON: %s (line %d)\n",
                jerr.text, jerr.line);
        rc = 1;
        goto out;
    }
    recs.text = 1; /* written here and read nowhere */
    if (ad->normalize(o->args[1], payload, &recs, &e) < 0) {
        fprintf(stderr, "ferry: %s\n", e.msg);
        rc = 1;
        goto out;
    }
    if (print_records(&recs, &e) < 0) {
        fprintf(stderr, "ferry: %s\n", e.msg);
        rc = 1;
        goto out;
    }
    if (recs.n == 0) {
        /* stdout stays empty, for scripts; say why on stderr */
        fprintf(stderr, "ferry: the payload holds no %s record\n", o->args[1]);
    }
    rc = 0;
out:
    adapter_records_release(&recs);
    json_decref(payload);
    buf_release(&in);
    return rc;
}

/*
 * `ferry hooks [--json]`: where each enabled provider that pushes must
 * send its notifications, for the provider's developer portal.
 */
int
cmd_hooks(const struct cli_opts *o)
{
    struct config cfg;
    struct app a;
    json_t *list = NULL;
    size_t i = 0;
    size_t n = 0;

    if (o->nargs != 0) {
        cli_fail("hooks takes no arguments (see ferry help hooks)");
        return 2;
    }
    if (cli_open_app_flags(o, &cfg, &a, APP_NEED_KEY) != 0) {
        return 1;
    }
    /* without [server] public_url: the address it would listen on */
    app_set_public_url(&a, cfg.server_listen);
    list = json_array();
    for (i = 0; i < a.nproviders; i++) {
        const struct adapter *ad = adapter_find(a.providers[i].resource);
        char token[33];
        char url[APP_URL_MAX + 96];

        if (ad == NULL || ad->push == NULL) {
            continue;
        }
        n++;
        pipeline_hook_token(&a, a.providers[i].resource, token);
        snprintf(url, sizeof(url), "%s/hooks/%s/%s", a.public_url,
                 a.providers[i].section, token);
        if (o->json) {
            json_array_append_new(list, json_pack("{s:s, s:s}", "provider",
                                                  a.providers[i].resource,
                                                  "url", url));
        } else {
            printf("%-10s %s\n", a.providers[i].resource, url);
        }
    }
    if (o->json) {
        cli_print_json(list);
    } else {
        json_decref(list);
    }
    if (n == 0) {
        fprintf(stderr, "ferry: no enabled provider takes pushes (OURA, "
                        "WITHINGS and GARMIN do; enable one in its [provider] "
                        "section)\n");
    }
    cli_close_app(&cfg, &a);
    return 0;
}
