/*
 * sigv4.c - AWS Signature Version 4 (header form).
 *
 * Three steps, each built on the last: the canonical request (the
 * request written in one agreed spelling), the string to sign (the
 * scope and the hash of that spelling) and the signature (HMAC-SHA256
 * under a key derived from the secret for the day, region and
 * service). The header names and query pairs are sorted in a scratch
 * arena that lives for one call.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/xmalloc.h"
#include "deliver/sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* Ceiling of the scratch memory one signature may use. */
#define SCRATCH_MAX (256 * 1024)

/* Ceiling of a canonical request or a list of signed headers. */
#define TEXT_MAX (128 * 1024)

/* Query parameters one request may carry. */
#define QUERY_MAX_PARAMS 64

/* Bytes of an amz_date: YYYYMMDDTHHMMSSZ. */
#define AMZ_DATE_LEN 16

/* One query parameter, name and value encoded again. */
struct pair {
    char *name;
    char *value;
};

/* One header to sign, its name in lower case. */
struct header {
    char *name;
    const char *value;
    size_t order; /* keeps repeated names in the order given */
};

/* What one request canonicalises to. */
struct canon {
    struct buf request;        /* the canonical request */
    struct buf signed_headers; /* "host;x-amz-date" */
};

int
sigv4_encode_path(struct buf *out, const char *path, size_t len)
{
    size_t i = 0;
    int rc = 0;

    while (i < len && rc == 0) {
        size_t seg = 0;

        if (path[i] == '/') {
            rc = buf_addch(out, '/');
            i++;
            continue;
        }
        while (i + seg < len && path[i + seg] != '/') {
            seg++;
        }
        rc = codec_pct_encode(out, path + i, seg, 0);
        i += seg;
    }
    return rc;
}

/* 1 when `c` may be part of an HTTP field name (RFC 9110 tchar). */
static int
is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9')) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* 1 when `s` is a non-empty token. */
static int
is_token(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (!is_tchar((unsigned char)s[i])) {
            return 0;
        }
    }
    return i > 0;
}

/* 1 when `s` is a non-empty run of printable ASCII with no '/' or ','
 * (a part of the credential scope). */
static int
is_scope_part(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',') {
            return 0;
        }
    }
    return i > 0;
}

/* 1 when `s` holds no control character but tab. */
static int
is_field_value(const char *s)
{
    size_t i = 0;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* 1 when `s` is YYYYMMDDTHHMMSSZ (digits checked, not the calendar). */
static int
is_amz_date(const char *s)
{
    size_t i = 0;

    if (strlen(s) != AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z') {
        return 0;
    }
    for (i = 0; i < 15; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }
    return 1;
}

/* 1 when `s` is 64 lower-case hex digits or UNSIGNED-PAYLOAD. */
static int
is_payload_hash(const char *s)
{
    size_t i = 0;

    if (strcmp(s, SIGV4_UNSIGNED_PAYLOAD) == 0) {
        return 1;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return i == 2 * CRYPTO_SHA256_LEN;
}

/* Every check on `r` that does not need the scratch arena. */
static int
check_request(const struct sigv4_request *r, struct err *e)
{
    if (r->method == NULL || !is_token(r->method)) {
        return err_set(e, ERR_INVALID, "sigv4: method missing or not a token");
    }
    if (r->host == NULL || !is_scope_part(r->host)) {
        return err_set(e, ERR_INVALID, "sigv4: host missing or malformed");
    }
    if (r->path == NULL || r->path[0] != '/') {
        return err_set(e, ERR_INVALID, "sigv4: path must start with '/'");
    }
    if (r->payload_sha256 == NULL || !is_payload_hash(r->payload_sha256)) {
        return err_set(e, ERR_INVALID,
                       "sigv4: payload_sha256 is not 64 lower-case hex "
                       "digits or " SIGV4_UNSIGNED_PAYLOAD);
    }
    if (r->amz_date == NULL || !is_amz_date(r->amz_date)) {
        return err_set(e, ERR_INVALID,
                       "sigv4: amz_date is not YYYYMMDDTHHMMSSZ");
    }
    if (r->nheaders > SIGV4_MAX_HEADERS ||
        (r->nheaders > 0 && r->headers == NULL)) {
        return err_set(e, ERR_INVALID, "sigv4: more than %d headers to sign",
                       SIGV4_MAX_HEADERS);
    }
    return 0;
}

/* The checks on the parts of the credential. */
static int
check_credential(const struct sigv4_request *r, struct err *e)
{
    if (r->region == NULL || !is_scope_part(r->region)) {
        return err_set(e, ERR_INVALID, "sigv4: region missing or malformed");
    }
    if (r->service == NULL || !is_scope_part(r->service)) {
        return err_set(e, ERR_INVALID, "sigv4: service missing or malformed");
    }
    if (r->access_key == NULL || !is_scope_part(r->access_key)) {
        return err_set(e, ERR_INVALID,
                       "sigv4: access_key missing or malformed");
    }
    return 0;
}

/* Encode `len` bytes of `s` into a fresh arena string; NULL at a
 * ceiling. */
static char *
encode_dup(struct arena *a, const char *s, size_t len)
{
    struct buf b;
    char *p = NULL;

    buf_init(&b, TEXT_MAX);
    if (codec_pct_encode(&b, s, len, 0) == 0) {
        p = arena_strndup(a, buf_str(&b), b.len);
    }
    buf_release(&b);
    return p;
}

/* Decode `len` bytes of `s` and encode them again into `*out`. */
static int
recode(struct arena *a, const char *s, size_t len, char **out, struct err *e)
{
    char *raw = arena_alloc(a, len + 1);
    long n = 0;

    if (raw == NULL) {
        return err_set(e, ERR_TOOBIG, "sigv4: query too large to sign");
    }
    n = codec_pct_decode(s, len, raw, 0);
    if (n < 0) {
        return err_set(e, ERR_INVALID, "sigv4: the query has a bad escape");
    }
    *out = encode_dup(a, raw, (size_t)n);
    if (*out == NULL) {
        return err_set(e, ERR_TOOBIG, "sigv4: query too large to sign");
    }
    return 0;
}

static int
pair_cmp(const void *x, const void *y)
{
    const struct pair *a = x;
    const struct pair *b = y;
    int c = strcmp(a->name, b->name);

    return c != 0 ? c : strcmp(a->value, b->value);
}

/* Append the canonical query of `q` (may be NULL) to `out`. */
static int
add_query(struct buf *out, const char *q, struct arena *a, struct err *e)
{
    struct pair *pairs = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    pairs = arena_alloc(a, QUERY_MAX_PARAMS * sizeof(*pairs));
    if (pairs == NULL) {
        return err_set(e, ERR_TOOBIG, "sigv4: query too large to sign");
    }
    while (q != NULL && *q != '\0') {
        size_t seg = strcspn(q, "&");
        const char *eq = memchr(q, '=', seg);
        size_t nlen = eq != NULL ? (size_t)(eq - q) : seg;

        if (seg > 0) {
            if (n == QUERY_MAX_PARAMS) {
                return err_set(e, ERR_INVALID,
                               "sigv4: more than %d query parameters",
                               QUERY_MAX_PARAMS);
            }
            rc = recode(a, q, nlen, &pairs[n].name, e);
            if (rc == 0) {
                rc = eq != NULL
                         ? recode(a, eq + 1, seg - nlen - 1, &pairs[n].value, e)
                         : recode(a, "", 0, &pairs[n].value, e);
            }
            if (rc < 0) {
                return rc;
            }
            n++;
        }
        q += seg;
        if (*q == '&') {
            q++;
        }
    }
    qsort(pairs, n, sizeof(*pairs), pair_cmp);
    for (i = 0; i < n && rc == 0; i++) {
        rc = buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", pairs[i].name,
                        pairs[i].value);
    }
    return rc;
}

static int
header_cmp(const void *x, const void *y)
{
    const struct header *a = x;
    const struct header *b = y;
    int c = strcmp(a->name, b->name);

    if (c != 0) {
        return c;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Append `v` with its outer blanks dropped and inner runs made one
 * space. */
static int
add_value(struct buf *out, const char *v)
{
    int blank = 0;
    int started = 0;
    int rc = 0;

    for (; *v != '\0' && rc == 0; v++) {
        if (*v == ' ' || *v == '\t') {
            blank = 1;
            continue;
        }
        if (blank && started) {
            rc = buf_addch(out, ' ');
        }
        if (rc == 0) {
            rc = buf_addch(out, *v);
        }
        blank = 0;
        started = 1;
    }
    return rc;
}

/* Lower-case copy of the header name `name` in `a`, checked. */
static int
header_name(struct arena *a, const char *name, char **out, struct err *e)
{
    size_t i = 0;

    if (name == NULL || !is_token(name)) {
        return err_set(e, ERR_INVALID,
                       "sigv4: a header name is missing or not a token");
    }
    *out = arena_strdup(a, name);
    if (*out == NULL) {
        return err_set(e, ERR_TOOBIG, "sigv4: headers too large to sign");
    }
    for (i = 0; (*out)[i] != '\0'; i++) {
        if ((*out)[i] >= 'A' && (*out)[i] <= 'Z') {
            (*out)[i] = (char)((*out)[i] | 0x20);
        }
    }
    if (strcmp(*out, "host") == 0 || strcmp(*out, "x-amz-date") == 0) {
        return err_set(e, ERR_INVALID,
                       "sigv4: header %s is signed from its own field", *out);
    }
    return 0;
}

/* The headers of `r` with host and x-amz-date, sorted, into `*out`. */
static int
collect_headers(const struct sigv4_request *r, struct arena *a,
                struct header **out, size_t *n, struct err *e)
{
    struct header *h = NULL;
    size_t i = 0;
    int rc = 0;

    h = arena_alloc(a, (r->nheaders + 2) * sizeof(*h));
    if (h == NULL) {
        return err_set(e, ERR_TOOBIG, "sigv4: headers too large to sign");
    }
    h[0] = (struct header){"host", r->host, 0};
    h[1] = (struct header){"x-amz-date", r->amz_date, 1};
    for (i = 0; i < r->nheaders; i++) {
        const struct sigv4_header *g = &r->headers[i];

        rc = header_name(a, g->name, &h[i + 2].name, e);
        if (rc < 0) {
            return rc;
        }
        if (g->value == NULL || !is_field_value(g->value)) {
            return err_set(e, ERR_INVALID,
                           "sigv4: header %s has no value or a control "
                           "character",
                           h[i + 2].name);
        }
        h[i + 2].value = g->value;
        h[i + 2].order = i + 2;
    }
    *n = r->nheaders + 2;
    qsort(h, *n, sizeof(*h), header_cmp);
    *out = h;
    return 0;
}

/* Append the canonical headers and the signed header names. */
static int
add_headers(struct canon *c, const struct sigv4_request *r, struct arena *a,
            struct err *e)
{
    struct header *h = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = collect_headers(r, a, &h, &n, e);

    for (i = 0; i < n && rc == 0; i++) {
        int repeat = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;

        if (repeat) {
            rc = buf_addch(&c->request, ',');
        } else {
            rc = buf_printf(&c->request, "%s%s:", i > 0 ? "\n" : "", h[i].name);
            if (rc == 0) {
                rc = buf_printf(&c->signed_headers, "%s%s", i > 0 ? ";" : "",
                                h[i].name);
            }
        }
        if (rc == 0) {
            rc = add_value(&c->request, h[i].value);
        }
    }
    return rc;
}

/* Build the canonical request of `r` into `c` (initialised here; the
 * caller releases it with canon_release() whatever happens). */
static int
canonicalise(const struct sigv4_request *r, struct canon *c, struct err *e)
{
    struct arena a;
    int rc = 0;

    buf_init(&c->request, TEXT_MAX);
    buf_init(&c->signed_headers, TEXT_MAX);
    arena_init(&a, SCRATCH_MAX);
    rc = check_request(r, e);
    if (rc < 0) {
        goto out;
    }
    rc = buf_printf(&c->request, "%s\n", r->method);
    if (rc == 0) {
        rc = sigv4_encode_path(&c->request, r->path, strlen(r->path));
    }
    if (rc == 0) {
        rc = buf_addch(&c->request, '\n');
    }
    if (rc == 0) {
        rc = add_query(&c->request, r->query, &a, e);
    }
    if (rc == 0) {
        rc = buf_addch(&c->request, '\n');
    }
    if (rc == 0) {
        rc = add_headers(c, r, &a, e);
    }
    if (rc == 0) {
        rc = buf_printf(&c->request, "\n\n%s\n%s", buf_str(&c->signed_headers),
                        r->payload_sha256);
    }
    if (rc == ERR_TOOBIG) {
        err_set(e, rc, "sigv4: request too large to sign");
    }

out:
    arena_release(&a);
    return rc;
}

static void
canon_release(struct canon *c)
{
    buf_release(&c->request);
    buf_release(&c->signed_headers);
}

int
sigv4_canonical_request(const struct sigv4_request *r, struct buf *out,
                        struct err *e)
{
    struct canon c;
    int rc = canonicalise(r, &c, e);

    if (rc == 0) {
        rc = buf_add(out, c.request.data, c.request.len);
        if (rc < 0) {
            err_set(e, rc, "sigv4: canonical request does not fit");
        }
    }
    canon_release(&c);
    return rc;
}

/* Append the string to sign for the canonical request `c`. */
static int
add_string_to_sign(struct buf *out, const struct sigv4_request *r,
                   const struct canon *c)
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    crypto_sha256(c->request.data, c->request.len, digest);
    codec_hex_encode(digest, sizeof(digest), hex);
    return buf_printf(out, ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s",
                      r->amz_date, r->amz_date, r->region, r->service, hex);
}

int
sigv4_string_to_sign(const struct sigv4_request *r, struct buf *out,
                     struct err *e)
{
    struct canon c;
    int rc = check_credential(r, e);

    if (rc < 0) {
        return rc;
    }
    rc = canonicalise(r, &c, e);
    if (rc == 0) {
        rc = add_string_to_sign(out, r, &c);
        if (rc < 0) {
            err_set(e, rc, "sigv4: string to sign does not fit");
        }
    }
    canon_release(&c);
    return rc;
}

void
sigv4_signing_key(const char *secret, const char *date, const char *region,
                  const char *service, unsigned char out[32])
{
    size_t slen = strlen(secret);
    size_t klen = slen + 4;
    char *k = xmalloc(klen);
    unsigned char a[CRYPTO_SHA256_LEN];
    unsigned char b[CRYPTO_SHA256_LEN];

    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    crypto_hmac_sha256(k, klen, date, strlen(date), a);
    crypto_hmac_sha256(a, sizeof(a), region, strlen(region), b);
    crypto_hmac_sha256(b, sizeof(b), service, strlen(service), a);
    crypto_hmac_sha256(a, sizeof(a), "aws4_request", 12, out);
    crypto_wipe(a, sizeof(a));
    crypto_wipe(b, sizeof(b));
    crypto_wipe(k, klen);
    free(k);
}

int
sigv4_authorization(const struct sigv4_request *r, struct buf *out,
                    struct err *e)
{
    struct canon c;
    struct buf sts;
    unsigned char key[CRYPTO_SHA256_LEN];
    unsigned char sig[CRYPTO_SHA256_LEN];
    char date[9];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    int rc = check_credential(r, e);

    if (rc < 0) {
        return rc;
    }
    if (r->secret_key == NULL || r->secret_key[0] == '\0') {
        return err_set(e, ERR_INVALID, "sigv4: secret_key missing");
    }
    buf_init(&sts, TEXT_MAX);
    rc = canonicalise(r, &c, e);
    if (rc < 0) {
        goto out;
    }
    rc = add_string_to_sign(&sts, r, &c);
    if (rc < 0) {
        err_set(e, rc, "sigv4: string to sign does not fit");
        goto out;
    }
    memcpy(date, r->amz_date, 8);
    date[8] = '\0';
    sigv4_signing_key(r->secret_key, date, r->region, r->service, key);
    crypto_hmac_sha256(key, sizeof(key), sts.data, sts.len, sig);
    crypto_wipe(key, sizeof(key));
    codec_hex_encode(sig, sizeof(sig), hex);
    rc = buf_printf(out,
                    ALGORITHM " Credential=%s/%s/%s/%s/aws4_request,"
                              "SignedHeaders=%s,Signature=%s",
                    r->access_key, date, r->region, r->service,
                    buf_str(&c.signed_headers), hex);
    if (rc < 0) {
        err_set(e, rc, "sigv4: Authorization header does not fit");
    }

out:
    canon_release(&c);
    buf_release(&sts);
    return rc;
}
