/*
 * request.c - the authorization request between the login and consent
 * pages, and the scopes.
 *
 * The request is not kept on the server and no cookie is set: each page
 * carries it in a hidden field, sealed as
 *
 *     base64url(fields) "." base64url(HMAC-SHA256(K, fields))
 *
 * where K = HMAC-SHA256(master key, "ferry sandbox authorize request")
 * and `fields` are the values below, each written as its decimal length,
 * ':' and its bytes, so no value can run into the next. Nothing in it
 * is secret (it all came in the authorize URL); the MAC only makes it
 * tamper-proof, and the step and expiry inside keep a login-page value
 * from being replayed at the consent step or after ten minutes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

#define SEAL_VERSION "1"

/* Largest serialised request, and its sealed text. */
#define FIELDS_MAX 2048
#define SEALED_MAX                                                             \
    (CODEC_B64URL_LEN(FIELDS_MAX) + 1 + CODEC_B64URL_LEN(CRYPTO_SHA256_LEN))

static const char key_label[] = "ferry sandbox authorize request";

static const struct {
    const char *name;
    const char *title;
} scopes[] = {
    {"activity", "Activity"},
    {"sleep", "Sleep"},
    {"daily", "Daily summaries"},
    {"body", "Body measurements"},
};

#define NSCOPES (sizeof(scopes) / sizeof(scopes[0]))

_Static_assert((1u << NSCOPES) - 1 == SANDBOX_SCOPE_ALL, "one bit per scope");

/* ---- scopes ---- */

int
sandbox_scope_parse(const char *s, unsigned *set)
{
    const char *p = s;
    unsigned bits = 0;

    *set = 0;
    if (s == NULL || s[0] == '\0') {
        return ERR_INVALID;
    }
    for (;;) {
        const char *sp = strchr(p, ' ');
        size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
        size_t i = 0;

        for (i = 0; i < NSCOPES; i++) {
            if (strlen(scopes[i].name) == n &&
                memcmp(scopes[i].name, p, n) == 0) {
                break;
            }
        }
        if (i == NSCOPES) {
            return ERR_INVALID; /* unknown, empty (two spaces), or cut */
        }
        bits |= 1u << i;
        if (sp == NULL) {
            break;
        }
        p = sp + 1;
    }
    *set = bits;
    return 0;
}

void
sandbox_scope_string(unsigned set, char *out, size_t outsz)
{
    size_t i = 0;
    size_t n = 0;

    if (outsz == 0) {
        return;
    }
    out[0] = '\0';
    for (i = 0; i < NSCOPES; i++) {
        if (set & (1u << i)) {
            n += (size_t)snprintf(out + n, outsz - n, "%s%s", n > 0 ? " " : "",
                                  scopes[i].name);
            if (n >= outsz) {
                return; /* cut: the caller's buffer is too small */
            }
        }
    }
}

const char *
sandbox_scope_title(size_t i)
{
    return i < NSCOPES ? scopes[i].title : NULL;
}

/* ---- names ---- */

/*
 * XXX: only ASCII letters are folded, so "ÄLICE" and "älice" are two
 * accounts. Full case folding needs Unicode tables ferry does not carry;
 * changing the rule later changes the id of such accounts.
 */
void
sandbox_name_fold(const char *name, char *out, size_t outsz)
{
    size_t i = 0;

    for (i = 0; name[i] != '\0' && i + 1 < outsz; i++) {
        char c = name[i];

        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    if (outsz > 0) {
        out[i] = '\0';
    }
}

void
sandbox_account_id(const char *account, char out[SANDBOX_ACCOUNT_ID_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    crypto_sha256(account, strlen(account), md);
    codec_hex_encode(md, sizeof(md), hex);
    memcpy(out, "sbx_", 4);
    memcpy(out + 4, hex, SANDBOX_ACCOUNT_ID_LEN - 4);
    out[SANDBOX_ACCOUNT_ID_LEN] = '\0';
}

/* ---- sealing ---- */

static void
seal_key(const struct app *a, unsigned char key[32])
{
    crypto_hmac_sha256(a->key, sizeof(a->key), key_label, sizeof(key_label) - 1,
                       key);
}

static int
put(struct buf *b, const char *s)
{
    const char *v = s != NULL ? s : "";

    return buf_printf(b, "%zu:%s", strlen(v), v);
}

static int
fields_write(const struct sandbox_request *r, struct buf *b)
{
    char num[32];
    int rc = 0;

    rc = put(b, SEAL_VERSION);
    snprintf(num, sizeof(num), "%d", r->step);
    rc = rc != 0 ? rc : put(b, num);
    snprintf(num, sizeof(num), "%" PRId64, r->expires_at);
    rc = rc != 0 ? rc : put(b, num);
    rc = rc != 0 ? rc : put(b, r->redirect_uri);
    snprintf(num, sizeof(num), "%u", r->scope);
    rc = rc != 0 ? rc : put(b, num);
    rc = rc != 0 ? rc : put(b, r->state != NULL ? "1" : "0");
    rc = rc != 0 ? rc : put(b, r->state);
    rc = rc != 0 ? rc : put(b, r->challenge);
    rc = rc != 0 ? rc : put(b, r->name);
    return rc;
}

int
sandbox_request_seal(const struct app *a, const struct sandbox_request *r,
                     struct arena *ar, const char **out)
{
    unsigned char key[32];
    unsigned char mac[32];
    struct buf b;
    char *s = NULL;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    buf_init(&b, FIELDS_MAX);
    rc = fields_write(r, &b);
    if (rc != 0) {
        goto out;
    }
    seal_key(a, key);
    crypto_hmac_sha256(key, sizeof(key), b.data, b.len, mac);
    n = CODEC_B64URL_LEN(b.len) + 1 + CODEC_B64URL_LEN(sizeof(mac)) + 1;
    s = arena_alloc(ar, n);
    if (s == NULL) {
        rc = ERR_NOMEM;
        goto out;
    }
    codec_b64url_encode(b.data, b.len, s, n);
    strcat(s, ".");
    codec_b64url_encode(mac, sizeof(mac), s + strlen(s), n - strlen(s));
    *out = s;

out:
    crypto_wipe(key, sizeof(key));
    buf_release(&b);
    return rc;
}

/* A reader over the serialised fields. */
struct cursor {
    const char *p;
    const char *end;
    int bad;
};

/* The next field as a string in `ar`; NULL (and c->bad set) when the
 * text is malformed, NULL alone when the arena is full. */
static char *
take(struct cursor *c, struct arena *ar)
{
    size_t n = 0;
    size_t digits = 0;
    char *s = NULL;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 5) {
        n = n * 10 + (size_t)(*c->p - '0');
        c->p++;
        digits++;
    }
    if (digits == 0 || c->p == c->end || *c->p != ':' ||
        (size_t)(c->end - c->p - 1) < n) {
        c->bad = 1;
        return NULL;
    }
    c->p++;
    s = arena_strndup(ar, c->p, n);
    if (s != NULL && strlen(s) != n) {
        c->bad = 1; /* a NUL inside: not ours */
        return NULL;
    }
    c->p += n;
    return s;
}

/* A decimal number field; -1 when it is not one. */
static long long
number(const char *s)
{
    char *end = NULL;
    long long v = 0;

    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return -1;
    }
    v = strtoll(s, &end, 10);
    return *end == '\0' ? v : -1;
}

/* Parse the checked fields `p` (`n` bytes) into `out`. */
static int
fields_read(const char *p, size_t n, struct arena *ar,
            struct sandbox_request *out)
{
    struct cursor c = {p, p + n, 0};
    const char *version = take(&c, ar);
    const char *step = take(&c, ar);
    const char *exp = take(&c, ar);
    const char *redirect = take(&c, ar);
    const char *scope = take(&c, ar);
    const char *has_state = take(&c, ar);
    const char *state = take(&c, ar);
    const char *challenge = take(&c, ar);
    const char *name = take(&c, ar);

    if (c.bad || c.p != c.end) {
        return ERR_INVALID;
    }
    if (version == NULL || step == NULL || exp == NULL || redirect == NULL ||
        scope == NULL || has_state == NULL || state == NULL ||
        challenge == NULL || name == NULL) {
        return ERR_NOMEM; /* well-formed, so the arena is full */
    }
    if (strcmp(version, SEAL_VERSION) != 0 || number(step) < 0 ||
        number(exp) < 0 || number(scope) < 0) {
        return ERR_INVALID;
    }
    out->step = (int)number(step);
    out->expires_at = number(exp);
    out->redirect_uri = redirect;
    out->scope = (unsigned)number(scope);
    out->state = strcmp(has_state, "1") == 0 ? state : NULL;
    out->challenge = challenge;
    out->name = name[0] != '\0' ? name : NULL;
    return 0;
}

int
sandbox_request_open(const struct app *a, const char *sealed, int step,
                     int64_t now, struct arena *ar, struct sandbox_request *out,
                     struct err *e)
{
    unsigned char fields[FIELDS_MAX];
    unsigned char mac[32];
    unsigned char want[32];
    unsigned char key[32];
    const char *dot = NULL;
    size_t len = 0;
    size_t maclen = 0;
    int rc = ERR_INVALID;

    memset(out, 0, sizeof(*out));
    if (sealed == NULL || strlen(sealed) > SEALED_MAX) {
        goto bad;
    }
    dot = strchr(sealed, '.');
    if (dot == NULL ||
        codec_b64url_decode(dot + 1, strlen(dot + 1), mac, sizeof(mac),
                            &maclen) < 0 ||
        maclen != sizeof(mac) ||
        codec_b64url_decode(sealed, (size_t)(dot - sealed), fields,
                            sizeof(fields), &len) < 0) {
        goto bad;
    }
    seal_key(a, key);
    crypto_hmac_sha256(key, sizeof(key), fields, len, want);
    crypto_wipe(key, sizeof(key));
    if (!crypto_ct_eq(mac, want, sizeof(mac))) {
        goto bad;
    }

    /* from here on the fields are ours */
    rc = fields_read((const char *)fields, len, ar, out);
    if (rc == ERR_NOMEM) {
        return err_set(e, rc, "out of request memory");
    }
    if (rc != 0 || out->step != step) {
        rc = ERR_INVALID;
        goto bad;
    }
    if (out->expires_at <= now) {
        return err_set(e, ERR_GONE, "the sign-in request has expired");
    }
    return 0;

bad:
    memset(out, 0, sizeof(*out));
    return err_set(e, rc, "the sign-in request was changed or is not ours");
}
