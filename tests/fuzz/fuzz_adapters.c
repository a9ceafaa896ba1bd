/*
 * fuzz_adapters.c - libFuzzer harness for the provider adapters'
 * normalize(), on provider payloads that are almost right.
 *
 * The committed fixtures (the .json files of tests/fixtures/<provider>,
 * read from the working directory at start) are the base: the input
 * picks one, picks a kind of its provider (not always the fixture's
 * own), and then changes the parsed payload, a few bytes per change:
 * which node, and what it becomes (null, another type, an extreme
 * number, a long or odd string, an empty container, removed). That
 * reaches the adapters' field handling far more often than raw JSON
 * text would.
 *
 * Any outcome is fine but a crash, a sanitizer report or a record that
 * breaks the adapter contract (no data, an empty key, data that cannot
 * be written as JSON).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "providers/adapter.h"

#define FIXTURES_MAX 64
#define NODES_MAX    4096

struct fixture {
    const struct adapter *ad;
    json_t *json;
};

static struct fixture fixtures[FIXTURES_MAX];
static size_t nfixtures;

static void
load_dir(const struct adapter *ad, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de = NULL;

    while (d != NULL && (de = readdir(d)) != NULL && nfixtures < FIXTURES_MAX) {
        char path[512];
        size_t n = strlen(de->d_name);
        json_t *j = NULL;

        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        j = json_load_file(path, JSON_DECODE_ANY, NULL);
        if (j != NULL) {
            fixtures[nfixtures].ad = ad;
            fixtures[nfixtures].json = j;
            nfixtures++;
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    load_dir(adapter_find("OURA"), "tests/fixtures/oura");
    load_dir(adapter_find("WITHINGS"), "tests/fixtures/withings");
    load_dir(adapter_find("GARMIN"), "tests/fixtures/garmin");
    if (nfixtures == 0) {
        fprintf(stderr, "fuzz_adapters: run from the top of the tree "
                        "(no tests/fixtures found)\n");
        abort();
    }
    return 0;
}

/* Every container and value below `v`, depth first, into nodes[]. */
static void
collect(json_t *v, json_t **nodes, size_t *n)
{
    const char *k = NULL;
    json_t *c = NULL;
    size_t i = 0;

    if (*n >= NODES_MAX) {
        return;
    }
    nodes[(*n)++] = v;
    if (json_is_object(v)) {
        json_object_foreach(v, k, c)
        {
            collect(c, nodes, n);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c)
        {
            collect(c, nodes, n);
        }
    }
}

/* A value for change `op`, `b` a byte of the input. */
static json_t *
replacement(uint8_t op, uint8_t b)
{
    static const char *const strings[] = {
        "",
        "x",
        "2024-02-30",
        "2024-03-31T01:30:00+99:00",
        "9999-12-31T23:59:59.999999Z",
        "-1",
        "1e308",
        "\xc3\x28",
        "+00:00",
        "NaN",
    };
    char longs[600];

    switch (op % 12) {
    case 0:
        return json_null();
    case 1:
        return json_integer(b % 2 ? INT64_MAX : INT64_MIN);
    case 2:
        return json_integer((json_int_t)(int8_t)b);
    case 3:
        return json_real(b % 2 ? 1e300 : -1e-300);
    case 4:
        return json_string(strings[b % (sizeof(strings) / sizeof(*strings))]);
    case 5:
        memset(longs, 'a' + b % 26, sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = '\0';
        return json_string(longs);
    case 6:
        return json_object();
    case 7:
        return json_array();
    case 8:
        return json_boolean(b % 2);
    case 9:
        return json_pack("[i,i,i]", b, -b, 0);
    case 10:
        return json_real((double)b / 7.0);
    default:
        return json_integer((json_int_t)b * 1000000000LL);
    }
}

/* Change node `target` of `root` as `op` and `b` say. */
static void
mutate(json_t *root, json_t *target, uint8_t op, uint8_t b)
{
    json_t *nodes[NODES_MAX];
    size_t n = 0;
    size_t i = 0;

    collect(root, nodes, &n);
    for (i = 0; i < n; i++) {
        json_t *p = nodes[i];
        const char *k = NULL;
        void *tmp = NULL;
        json_t *c = NULL;
        size_t j = 0;

        if (json_is_object(p)) {
            json_object_foreach_safe(p, tmp, k, c)
            {
                if (c != target) {
                    continue;
                }
                if (op % 13 == 12) {
                    json_object_del(p, k);
                } else {
                    json_object_set_new(p, k, replacement(op, b));
                }
                return;
            }
        } else if (json_is_array(p)) {
            json_array_foreach(p, j, c)
            {
                if (c != target) {
                    continue;
                }
                if (op % 13 == 12) {
                    json_array_remove(p, j);
                } else {
                    json_array_set_new(p, j, replacement(op, b));
                }
                return;
            }
        }
    }
}

/* Every record is whole and written alike from `recs` (trees) and
 * `text` (the same payload normalised with text arrays). */
static void
check(const struct adapter_records *recs, const struct adapter_records *text)
{
    struct buf b;
    struct buf t;
    size_t i = 0;

    if (recs->n != text->n) {
        abort();
    }
    buf_init(&b, 1u << 30);
    buf_init(&t, 1u << 30);
    for (i = 0; i < recs->n; i++) {
        const struct adapter_record *r = &text->v[i];

        if (recs->v[i].data == NULL || recs->v[i].key[0] == '\0') {
            abort();
        }
        buf_reset(&b);
        buf_reset(&t);
        if (jsonw_add(&b, recs->v[i].data) != 0 ||
            jsonw_add_spliced(&t, r->data, r->splices.v, r->splices.n) != 0 ||
            b.len != t.len || memcmp(buf_str(&b), buf_str(&t), b.len) != 0) {
            abort();
        }
    }
    buf_release(&t);
    buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *fx = NULL;
    const char *kind = NULL;
    struct adapter_records recs = {0};
    struct adapter_records text = {0};
    json_t *payload = NULL;
    size_t nkinds = 0;
    size_t i = 0;
    int rc = 0;
    struct err e;

    if (size < 2) {
        return 0;
    }
    fx = &fixtures[data[0] % nfixtures];
    while (fx->ad->kinds[nkinds] != NULL) {
        nkinds++;
    }
    kind = fx->ad->kinds[(data[1] % (nkinds / 2)) * 2];
    payload = json_deep_copy(fx->json);
    for (i = 2; i + 3 < size; i += 4) {
        json_t *nodes[NODES_MAX];
        size_t n = 0;

        collect(payload, nodes, &n);
        if (n < 2) {
            break;
        }
        mutate(payload, nodes[1 + ((data[i] << 8 | data[i + 1]) % (n - 1))],
               data[i + 2], data[i + 3]);
    }
    err_clear(&e);
    text.text = 1;
    rc = fx->ad->normalize(kind, payload, &recs, &e);
    err_clear(&e);
    if (fx->ad->normalize(kind, payload, &text, &e) != rc) {
        abort(); /* text arrays change nothing but how records are kept */
    }
    if (rc == 0) {
        check(&recs, &text);
    }
    adapter_records_release(&text);
    adapter_records_release(&recs);
    json_decref(payload);
    return 0;
}
