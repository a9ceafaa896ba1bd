/*
 * oauth1.c - RFC 5849 signatures (HMAC-SHA1, PLAINTEXT) and the
 * Authorization header.
 *
 * The base string is built in three steps: take the URL apart with
 * curl's parser, collect every parameter (query and given) as an encoded
 * name/value pair in a scratch arena, sort the pairs and join them.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/rng.h"
#include "oauth/oauth1.h"

/* Ceiling of the scratch memory one signature may use. */
#define SCRATCH_MAX (1024 * 1024)

/* Ceiling of an internal base string or signature key. */
#define TEXT_MAX (512 * 1024)

/* Random bytes in a nonce: 128 bits, 22 characters. */
#define NONCE_BYTES 16

/* oauth_* parameters oauth1_authorization() may add. */
#define OAUTH_PARAMS_MAX 8

/* One parameter, name and value already encoded (3.4.1.3.2 step 1). */
struct pair {
    char *name;
    char *value;
};

/* What oauth1_base_string() collects. */
struct param_set {
    struct pair pairs[OAUTH1_MAX_PARAMS];
    size_t n;
    struct arena *a;
};

int
oauth1_encode(struct buf *out, const char *s, size_t len)
{
    return codec_pct_encode(out, s, len, 0);
}

/* Encode `len` bytes of `s` into a fresh arena string; NULL at the
 * ceiling. */
static char *
encode_dup(struct arena *a, const char *s, size_t len)
{
    struct buf b;
    char *p = NULL;

    buf_init(&b, TEXT_MAX);
    if (oauth1_encode(&b, s, len) == 0) {
        p = arena_strndup(a, buf_str(&b), b.len);
    }
    buf_release(&b);
    return p;
}

/* Add one decoded parameter to `ps`, encoding both parts. */
static int
add_pair(struct param_set *ps, const char *name, size_t nlen, const char *value,
         size_t vlen, struct err *e)
{
    struct pair *p = NULL;

    if (ps->n >= OAUTH1_MAX_PARAMS) {
        return err_set(e, ERR_INVALID, "more than %d parameters to sign",
                       OAUTH1_MAX_PARAMS);
    }
    p = &ps->pairs[ps->n];
    p->name = encode_dup(ps->a, name, nlen);
    p->value = encode_dup(ps->a, value, vlen);
    if (p->name == NULL || p->value == NULL) {
        return err_set(e, ERR_TOOBIG, "parameters too large to sign");
    }
    ps->n++;
    return 0;
}

/* Add the parameters of the raw query `q` (form-encoded) to `ps`. */
static int
add_query(struct param_set *ps, const char *q, struct err *e)
{
    while (*q != '\0') {
        size_t seg = strcspn(q, "&");
        const char *eq = memchr(q, '=', seg);
        size_t nlen = eq != NULL ? (size_t)(eq - q) : seg;
        size_t vlen = eq != NULL ? seg - nlen - 1 : 0;
        char *name = arena_alloc(ps->a, nlen + 1);
        char *value = arena_alloc(ps->a, vlen + 1);
        int rc = 0;

        if (name == NULL || value == NULL) {
            return err_set(e, ERR_TOOBIG, "query too large to sign");
        }
        if (seg > 0) {
            long dn = codec_pct_decode(q, nlen, name, 1);
            long dv = codec_pct_decode(q + seg - vlen, vlen, value, 1);

            nlen = dn < 0 ? 0 : (size_t)dn;
            vlen = dv < 0 ? 0 : (size_t)dv;
            if (dn < 0 || dv < 0) {
                return err_set(e, ERR_INVALID,
                               "the URL's query has a bad percent escape");
            }
            rc = add_pair(ps, name, nlen, value, vlen, e);
            if (rc < 0) {
                return rc;
            }
        }
        q += seg;
        if (*q == '&') {
            q++;
        }
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

/*
 * Append the base string URI (3.4.1.2) of `u` to `out`, not yet
 * encoded, and hand back the raw query in `*query` (curl-owned, NULL when
 * none).
 */
static int
base_uri(CURLU *u, struct buf *out, char **query, struct err *e)
{
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    char *path = NULL;
    char *user = NULL;
    size_t i = 0;
    int rc = ERR_INVALID;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        err_set(e, rc, "not an absolute URL");
        goto out;
    }
    for (i = 0; scheme[i] != '\0'; i++) {
        scheme[i] = (char)(scheme[i] | 0x20);
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        err_set(e, rc, "only http and https URLs can be signed");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER) {
        err_set(e, rc, "the URL has user-info");
        goto out;
    }
    for (i = 0; host[i] != '\0'; i++) {
        if (host[i] >= 'A' && host[i] <= 'Z') {
            host[i] = (char)(host[i] | 0x20);
        }
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (port != NULL &&
        ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
         (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))) {
        curl_free(port);
        port = NULL;
    }
    rc = buf_printf(out, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
                    port ? port : "", path);
    if (rc < 0) {
        err_set(e, rc, "URL too long to sign");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, query, 0) != CURLUE_OK) {
        *query = NULL;
    }

out:
    curl_free(user);
    curl_free(path);
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    return rc;
}

/* Append the normalized parameters of `ps` (sorted here) to `out`. */
static int
join_pairs(struct param_set *ps, struct buf *out)
{
    size_t i = 0;
    int rc = 0;

    qsort(ps->pairs, ps->n, sizeof(ps->pairs[0]), pair_cmp);
    for (i = 0; i < ps->n && rc == 0; i++) {
        rc = buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", ps->pairs[i].name,
                        ps->pairs[i].value);
    }
    return rc;
}

int
oauth1_base_string(const char *method, const char *url,
                   const struct oauth1_param *params, size_t n, struct buf *out,
                   struct err *e)
{
    struct arena a;
    struct param_set ps = {.n = 0, .a = &a};
    struct buf uri;
    struct buf norm;
    CURLU *u = NULL;
    char *query = NULL;
    size_t i = 0;
    int rc = 0;

    arena_init(&a, SCRATCH_MAX);
    buf_init(&uri, TEXT_MAX);
    buf_init(&norm, TEXT_MAX);
    if (method == NULL || *method == '\0' || url == NULL) {
        rc = err_set(e, ERR_INVALID, "a method and a URL are needed");
        goto out;
    }
    u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        rc = err_set(e, ERR_INVALID, "not a URL that can be signed");
        goto out;
    }
    rc = base_uri(u, &uri, &query, e);
    if (rc == 0 && query != NULL) {
        rc = add_query(&ps, query, e);
    }
    for (i = 0; i < n && rc == 0; i++) {
        if (strcmp(params[i].name, "oauth_signature") != 0) {
            rc = add_pair(&ps, params[i].name, strlen(params[i].name),
                          params[i].value, strlen(params[i].value), e);
        }
    }
    if (rc < 0) {
        goto out;
    }

    /* every part is there; now method&uri&params, each encoded */
    rc = join_pairs(&ps, &norm);
    for (i = 0; method[i] != '\0' && rc == 0; i++) {
        char c = method[i];

        rc = buf_addch(out, c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
    }
    if (rc == 0) {
        rc = buf_addch(out, '&');
    }
    if (rc == 0) {
        rc = oauth1_encode(out, uri.data, uri.len);
    }
    if (rc == 0) {
        rc = buf_addch(out, '&');
    }
    if (rc == 0) {
        rc = oauth1_encode(out, buf_str(&norm), norm.len);
    }
    if (rc < 0) {
        rc = err_set(e, ERR_TOOBIG, "signature base string too long");
    }

out:
    curl_free(query);
    curl_url_cleanup(u);
    buf_release(&norm);
    buf_release(&uri);
    arena_release(&a);
    return rc;
}

/* The key of 3.4.2 (also the PLAINTEXT signature) into `key`. */
static int
signing_key(const char *consumer_secret, const char *token_secret,
            struct buf *key)
{
    const char *cs = consumer_secret != NULL ? consumer_secret : "";
    const char *ts = token_secret != NULL ? token_secret : "";
    int rc = oauth1_encode(key, cs, strlen(cs));

    if (rc == 0) {
        rc = buf_addch(key, '&');
    }
    if (rc == 0) {
        rc = oauth1_encode(key, ts, strlen(ts));
    }
    return rc;
}

/* Wipe and free a buffer that held a secret. */
static void
wipe_release(struct buf *b)
{
    if (b->data != NULL) {
        crypto_wipe(b->data, b->cap);
    }
    buf_release(b);
}

int
oauth1_sign(const char *base, const char *consumer_secret,
            const char *token_secret, struct buf *out, struct err *e)
{
    unsigned char mac[CRYPTO_SHA1_LEN];
    char b64[CODEC_B64_LEN(CRYPTO_SHA1_LEN) + 1];
    struct buf key;
    int rc = 0;

    buf_init(&key, TEXT_MAX);
    rc = signing_key(consumer_secret, token_secret, &key);
    if (rc < 0) {
        rc = err_set(e, ERR_TOOBIG, "signing secrets too long");
        goto out;
    }
    crypto_hmac_sha1(key.data, key.len, base, strlen(base), mac);
    codec_b64_encode(mac, sizeof(mac), b64, sizeof(b64));
    rc = buf_addstr(out, b64);
    if (rc < 0) {
        err_set(e, rc, "no room for the signature");
    }

out:
    crypto_wipe(mac, sizeof(mac));
    wipe_release(&key);
    return rc;
}

/* Append `, name="enc(value)"` (no comma for the first) to `out`. */
static int
add_field(struct buf *out, int *first, const char *name, const char *value)
{
    int rc = buf_printf(out, "%s%s=\"", *first ? "" : ", ", name);

    *first = 0;
    if (rc == 0) {
        rc = oauth1_encode(out, value, strlen(value));
    }
    if (rc == 0) {
        rc = buf_addch(out, '"');
    }
    return rc;
}

/* The oauth_* parameters of `r` (signature excepted) into `p`; their
 * number. `ts` and `nonce` hold the values used. */
static size_t
oauth_params(const struct oauth1_request *r, const char *ts, const char *nonce,
             struct oauth1_param *p)
{
    size_t n = 0;

    p[n++] = (struct oauth1_param){"oauth_consumer_key", r->consumer_key};
    if (r->token != NULL) {
        p[n++] = (struct oauth1_param){"oauth_token", r->token};
    }
    p[n++] = (struct oauth1_param){"oauth_signature_method",
                                   r->plaintext ? "PLAINTEXT" : "HMAC-SHA1"};
    p[n++] = (struct oauth1_param){"oauth_timestamp", ts};
    p[n++] = (struct oauth1_param){"oauth_nonce", nonce};
    if (!r->omit_version) {
        p[n++] = (struct oauth1_param){"oauth_version", "1.0"};
    }
    if (r->callback != NULL) {
        p[n++] = (struct oauth1_param){"oauth_callback", r->callback};
    }
    if (r->verifier != NULL) {
        p[n++] = (struct oauth1_param){"oauth_verifier", r->verifier};
    }
    return n;
}

/* The signature of `r` over its oauth_* parameters `op` into `sig`. */
static int
signature(const struct oauth1_request *r, const struct oauth1_param *op,
          size_t nop, struct buf *sig, struct err *e)
{
    struct oauth1_param all[OAUTH1_MAX_PARAMS];
    struct buf base;
    size_t i = 0;
    int rc = 0;

    if (r->plaintext) {
        rc = signing_key(r->consumer_secret, r->token_secret, sig);
        return rc < 0 ? err_set(e, rc, "signing secrets too long") : 0;
    }
    if (r->nextra > OAUTH1_MAX_PARAMS - nop) {
        return err_set(e, ERR_INVALID, "more than %d parameters to sign",
                       OAUTH1_MAX_PARAMS);
    }
    memcpy(all, op, nop * sizeof(op[0]));
    for (i = 0; i < r->nextra; i++) {
        all[nop + i] = r->extra[i];
    }
    buf_init(&base, TEXT_MAX);
    rc = oauth1_base_string(r->method, r->url, all, nop + r->nextra, &base, e);
    if (rc == 0) {
        rc = oauth1_sign(buf_str(&base), r->consumer_secret, r->token_secret,
                         sig, e);
    }
    buf_release(&base);
    return rc;
}

int
oauth1_authorization(const struct oauth1_request *r, struct buf *out,
                     struct err *e)
{
    struct oauth1_param op[OAUTH_PARAMS_MAX];
    char nonce[RNG_TOKEN_LEN(NONCE_BYTES) + 1];
    char ts[24];
    struct buf sig;
    size_t nop = 0;
    size_t i = 0;
    int first = 1;
    int rc = 0;

    if (r->method == NULL || r->url == NULL || r->consumer_key == NULL ||
        r->consumer_secret == NULL) {
        return err_set(e, ERR_INVALID,
                       "a method, URL, consumer key and consumer secret "
                       "are needed");
    }
    if (r->nonce == NULL) {
        rng_token(nonce, sizeof(nonce), NONCE_BYTES);
    } else {
        nonce[0] = '\0';
    }
    snprintf(ts, sizeof(ts), "%lld",
             r->timestamp != 0 ? r->timestamp : (long long)time(NULL));
    nop = oauth_params(r, ts, r->nonce != NULL ? r->nonce : nonce, op);

    buf_init(&sig, TEXT_MAX);
    rc = signature(r, op, nop, &sig, e);
    if (rc < 0) {
        goto out;
    }
    rc = buf_addstr(out, "OAuth ");
    if (rc == 0 && r->realm != NULL) {
        rc = add_field(out, &first, "realm", r->realm);
    }
    for (i = 0; i < nop && rc == 0; i++) {
        rc = add_field(out, &first, op[i].name, op[i].value);
    }
    if (rc == 0) {
        rc = add_field(out, &first, "oauth_signature", buf_str(&sig));
    }
    if (rc < 0) {
        err_set(e, rc, "Authorization header too long");
    }

out:
    wipe_release(&sig);
    return rc;
}
