/*
 * form.c - the parameters of a query or an urlencoded form body.
 *
 * RFC 6749 section 3.1 and 3.2: parameters sent without a value are
 * treated as omitted, and none may be included more than once. Both
 * rules need every pair, so the query is read pair by pair from
 * libmicrohttpd rather than through http_query(), which gives the first
 * value only.
 */
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "core/utf8.h"
#include "core/codec.h"
#include "sandbox/internal.h"

/* Longest parameter name kept as it is; longer ones are refused. */
#define NAME_MAX_LEN 64

static const char some_name[] = "a parameter name";

/* Decode `len` bytes at `s` into `out` (room for len + 1). The length
 * written, or -1 for a malformed escape or a NUL byte. */
static long
decode_into(const char *s, size_t len, char *out)
{
    return codec_pct_decode(s, len, out, 1);
}

char *
sandbox_form_decode(const char *s, size_t len, struct arena *a)
{
    char *out = arena_alloc(a, len + 1);

    if (out == NULL || decode_into(s, len, out) < 0) {
        return NULL;
    }
    return out;
}

static void
note(struct sandbox_form *f, const char *name, const char *problem)
{
    if (f->bad == NULL) {
        f->bad = name;
        f->problem = problem;
    }
}

static int
text_ok(const char *s)
{
    return utf8_valid(s) && !utf8_has_control(s);
}

/*
 * Add one decoded pair (`name` and `value` in the arena; `value` NULL
 * when the escape was bad). The first value of a name is kept; every
 * problem is noted. 0 always.
 */
static int
add(struct sandbox_form *f, const char *name, const char *value)
{
    size_t i = 0;

    if (name == NULL || !text_ok(name) || strlen(name) > NAME_MAX_LEN) {
        note(f, some_name, "is malformed or too long");
        return 0;
    }
    if (name[0] == '\0') {
        return 0; /* "&&" or "&=x": nothing was sent */
    }
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->p[i].name, name) == 0) {
            note(f, f->p[i].name, "is given more than once");
            return 0;
        }
    }
    if (f->n == SANDBOX_PARAMS_MAX) {
        note(f, "a parameter", "is past the limit on their number");
        return 0;
    }
    f->p[f->n].name = name;
    f->p[f->n].value = value;
    f->n++;
    if (value == NULL) {
        f->p[f->n - 1].value = "";
        note(f, name, "has a malformed %-escape");
    } else if (strlen(value) > SANDBOX_VALUE_MAX) {
        note(f, name, "is too long");
    } else if (!text_ok(value)) {
        note(f, name, "holds a control character or is not UTF-8");
    }
    return 0;
}

int
sandbox_form_parse(const char *s, size_t len, struct arena *a,
                   struct sandbox_form *f)
{
    const char *end = s + len;
    const char *p = s;

    memset(f, 0, sizeof(*f));
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *nend = eq != NULL ? eq : stop;
        char *name = arena_alloc(a, (size_t)(nend - p) + 1);
        char *value = NULL;
        const char *v = "";

        if (name == NULL) {
            return ERR_NOMEM;
        }
        if (decode_into(p, (size_t)(nend - p), name) < 0) {
            name = NULL;
        }
        if (eq != NULL) {
            value = arena_alloc(a, (size_t)(stop - eq));
            if (value == NULL) {
                return ERR_NOMEM;
            }
            v = decode_into(eq + 1, (size_t)(stop - eq - 1), value) < 0 ? NULL
                                                                        : value;
        }
        add(f, name, v);
        p = stop + 1;
    }
    return 0;
}

/* What the query iterator needs. */
struct query_walk {
    struct sandbox_form *f;
    struct arena *a;
    int nomem;
};

static enum MHD_Result
query_pair(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
           const char *value, size_t value_size)
{
    struct query_walk *w = cls;
    char *name = NULL;
    char *copy = NULL;

    (void)kind;
    name = arena_strndup(w->a, key, key_size);
    copy = arena_strndup(w->a, value != NULL ? value : "", value_size);
    if (name == NULL || copy == NULL) {
        w->nomem = 1;
        return MHD_NO;
    }
    /* libmicrohttpd has decoded both: a NUL inside is a %00 */
    if (strlen(name) != key_size) {
        name = NULL;
    }
    add(w->f, name, strlen(copy) == value_size ? copy : NULL);
    return MHD_YES;
}

int
sandbox_query_parse(struct http_request *req, struct sandbox_form *f)
{
    struct query_walk w = {f, req->arena, 0};

    memset(f, 0, sizeof(*f));
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, query_pair,
                                &w);
    return w.nomem ? ERR_NOMEM : 0;
}

const char *
sandbox_form_get(const struct sandbox_form *f, const char *name)
{
    size_t i = 0;

    for (i = 0; i < f->n; i++) {
        if (strcmp(f->p[i].name, name) == 0) {
            /* RFC 6749 3.1: a parameter without a value is omitted */
            return f->p[i].value[0] != '\0' ? f->p[i].value : NULL;
        }
    }
    return NULL;
}

/* `name` when it is a plain parameter name ([a-z_]), else a neutral
 * phrase: what a client sent must not shape an error_description. */
static const char *
plain_name(const char *name)
{
    size_t i = 0;

    for (i = 0; name[i] != '\0'; i++) {
        if (!(name[i] >= 'a' && name[i] <= 'z') && name[i] != '_') {
            return "a parameter";
        }
    }
    return i > 0 ? name : "a parameter";
}

const char *
sandbox_form_describe(const struct sandbox_form *f, struct arena *a)
{
    const char *s = NULL;

    if (f->bad == NULL) {
        return NULL;
    }
    s = arena_printf(a, "%s %s", plain_name(f->bad), f->problem);
    return s != NULL ? s : "a parameter is malformed";
}

int
sandbox_form_bad_is(const struct sandbox_form *f, const char *name)
{
    return f->bad != NULL && strcmp(f->bad, name) == 0;
}

int
sandbox_is_form(const struct http_request *req)
{
    static const char type[] = "application/x-www-form-urlencoded";
    const char *ct = http_header(req, "Content-Type");
    size_t n = sizeof(type) - 1;

    if (ct == NULL || strncasecmp(ct, type, n) != 0) {
        return 0;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}
