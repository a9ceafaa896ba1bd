/*
 * s3.c - the S3 destination: one object per event in a bucket of S3 or
 * an S3-compatible store (MinIO, Ceph, R2, ...), signed with SigV4.
 *
 * The destination's URL names the bucket path-style, with an optional
 * key prefix: https://host[:port]/bucket[/prefix]. Each event becomes
 *
 *     PUT /bucket/[prefix/]TYPE/USER/YYYYMMDDTHHMMSS.ffffffZ-ID.json
 *
 * (USER "none" for an event without one, the time the event's), a name
 * fixed by the event, so a redelivery or a replay overwrites the same
 * object rather than adding one. The body is the stored event, byte for
 * byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/isotime.h"
#include "core/xmalloc.h"
#include "deliver/driver.h"
#include "deliver/sigv4.h"
#include "http/client.h"

#define S3_MAX_RESPONSE (64 * 1024) /* an error document is small */
#define S3_KEY_MAX      1024        /* S3's limit on a key, in bytes */
#define S3_URL_MAX      8192        /* an encoded key triples at most */
#define S3_HOST_MAX     300         /* DNS name or [IPv6], and a port */
#define S3_BUCKET_MAX   63
#define S3_FIELD_MAX    256 /* access key, secret key, region */
#define S3_CODE_MAX     64  /* the <Code> of an error answer */
#define S3_HEADER_MAX   1200

/* Where a destination's objects go, taken from its URL. */
struct s3_target {
    char scheme[8];             /* "http" or "https" */
    char host[S3_HOST_MAX + 1]; /* as the Host header: host[:port] */
    char bucket[S3_BUCKET_MAX + 1];
    char prefix[S3_KEY_MAX + 1]; /* "" or "a/b", decoded */
};

/* A loaded destination: the target and the credentials. */
struct s3_state {
    struct s3_target t;
    char access_key[S3_FIELD_MAX + 1];
    char secret_key[S3_FIELD_MAX + 1]; /* wiped on close */
    char region[S3_FIELD_MAX + 1];
};

/* ---- settings ---- */

/*
 * 1 when `b` is a bucket name S3 accepts for a new bucket: 3 to 63 of
 * a-z 0-9 . -, a letter or digit at each end, no "..", not an IPv4
 * address, none of the prefixes and suffixes S3 reserves.
 */
static int
bucket_ok(const char *b)
{
    size_t n = strlen(b);
    size_t i = 0;
    size_t dots = 0;
    int digits_only = 1;

    if (n < 3 || n > S3_BUCKET_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = b[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && c != '.' && c != '-') {
            return 0;
        }
        if (c == '.') {
            dots++;
            if (i > 0 && b[i - 1] == '.') {
                return 0;
            }
        } else if (!(c >= '0' && c <= '9')) {
            digits_only = 0;
        }
    }
    if (b[0] == '.' || b[0] == '-' || b[n - 1] == '.' || b[n - 1] == '-') {
        return 0;
    }
    if (digits_only && dots == 3) {
        return 0; /* formatted as an IPv4 address */
    }
    if (strncmp(b, "xn--", 4) == 0 || strncmp(b, "sthree-", 7) == 0) {
        return 0;
    }
    if ((n > 8 && strcmp(b + n - 8, "-s3alias") == 0) ||
        (n > 7 && strcmp(b + n - 7, "--ol-s3") == 0)) {
        return 0;
    }
    return 1;
}

/* 1 when the decoded prefix `p` (no leading '/') is usable in a key:
 * printable ASCII or UTF-8 bytes, no empty, "." or ".." segment. */
static int
prefix_ok(const char *p)
{
    const char *seg = p;

    while (*seg != '\0') {
        size_t n = strcspn(seg, "/");
        size_t i = 0;

        if (n == 0 || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 0;
        }
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)seg[i];

            if (c < 0x20 || c == 0x7f) {
                return 0;
            }
        }
        seg += n;
        if (*seg == '/') {
            seg++;
        }
    }
    return 1;
}

/*
 * Split the decoded path `path` ("/bucket[/prefix][/]") into `t`.
 *
 * XXX: path-style only: the bucket is the first path segment and the
 * host is the service's. Virtual-hosted style (bucket.host) is not
 * offered; stores that require it need a way to say which style to use,
 * still to be chosen.
 */
static int
split_path(const char *path, struct s3_target *t, struct err *e)
{
    const char *b = path[0] == '/' ? path + 1 : path;
    size_t blen = strcspn(b, "/");
    const char *rest = b + blen;
    size_t plen = 0;

    if (blen == 0) {
        return err_set(e, ERR_INVALID,
                       "url: name the bucket, as https://host/bucket");
    }
    if (blen > S3_BUCKET_MAX) {
        return err_set(e, ERR_INVALID,
                       "url: the bucket name is longer than "
                       "63 characters");
    }
    memcpy(t->bucket, b, blen);
    t->bucket[blen] = '\0';
    if (!bucket_ok(t->bucket)) {
        return err_set(e, ERR_INVALID,
                       "url: '%s' is not a valid S3 bucket name (3 to 63 "
                       "of a-z, 0-9, '.' and '-')",
                       t->bucket);
    }
    if (*rest == '/') {
        rest++;
    }
    plen = strlen(rest);
    while (plen > 0 && rest[plen - 1] == '/') {
        plen--;
    }
    if (plen > S3_KEY_MAX / 2) {
        return err_set(e, ERR_INVALID, "url: the key prefix is too long");
    }
    memcpy(t->prefix, rest, plen);
    t->prefix[plen] = '\0';
    if (!prefix_ok(t->prefix)) {
        return err_set(e, ERR_INVALID,
                       "url: the key prefix has an empty, '.' or '..' "
                       "segment or a control character");
    }
    return 0;
}

/* 1 when the parsed `u` has the part `what`. */
static int
has_part(CURLU *u, CURLUPart what)
{
    char *p = NULL;
    int has = curl_url_get(u, what, &p, 0) == CURLUE_OK;

    curl_free(p);
    return has;
}

/* The scheme and Host header of the parsed `u` into `t`. */
static int
take_host(CURLU *u, struct s3_target *t, struct err *e)
{
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    size_t i = 0;
    int rc = ERR_INVALID;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        err_set(e, rc, "url: must be an http:// or https:// URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host[0] == '\0') {
        err_set(e, rc, "url: has no host");
        goto out;
    }
    if (has_part(u, CURLUPART_ZONEID)) {
        err_set(e, rc, "url: an IPv6 zone is not allowed");
        goto out;
    }
    for (i = 0; host[i] != '\0'; i++) {
        if (host[i] >= 'A' && host[i] <= 'Z') {
            host[i] = (char)(host[i] | 0x20);
        }
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (port != NULL &&
        strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") == 0) {
        curl_free(port);
        port = NULL; /* the Host header curl sends leaves it out */
    }
    if (snprintf(t->host, sizeof(t->host), "%s%s%s", host,
                 port != NULL ? ":" : "",
                 port != NULL ? port : "") >= (int)sizeof(t->host)) {
        err_set(e, rc, "url: the host is too long");
        goto out;
    }
    snprintf(t->scheme, sizeof(t->scheme), "%s", scheme);
    rc = 0;

out:
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    return rc;
}

/* Take the destination URL `url` apart into `t`. */
static int
parse_url(const char *url, struct s3_target *t, struct err *e)
{
    CURLU *u = curl_url();
    char *path = NULL;
    int rc = ERR_INVALID;

    memset(t, 0, sizeof(*t));
    if (u == NULL) {
        return err_set(e, ERR_NOMEM, "url: out of memory");
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_PATH_AS_IS) != CURLUE_OK) {
        err_set(e, rc, "url: not a valid http:// or https:// URL");
        goto out;
    }
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD)) {
        err_set(e, rc,
                "url: user-info is not allowed (give the keys as "
                "access_key and secret_key)");
        goto out;
    }
    if (has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT)) {
        err_set(e, rc, "url: a query or fragment is not allowed");
        goto out;
    }
    rc = take_host(u, t, e);
    if (rc < 0) {
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        rc = err_set(e, ERR_INVALID,
                     "url: the path has a bad escape or a NUL byte");
        goto out;
    }
    rc = split_path(path, t, e);

out:
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* The string option `name` of `opts` into `out`, checked: 1 to
 * S3_FIELD_MAX printable ASCII bytes, with `extra` refused too. */
static int
take_option(const json_t *opts, const char *name, const char *extra, char *out,
            struct err *e)
{
    const char *v = json_string_value(json_object_get(opts, name));
    size_t n = v != NULL ? strlen(v) : 0;
    size_t i = 0;

    if (n == 0) {
        return err_set(e, ERR_INVALID, "%s: required for an s3 destination",
                       name);
    }
    if (n > S3_FIELD_MAX) {
        return err_set(e, ERR_INVALID, "%s: longer than %d bytes", name,
                       S3_FIELD_MAX);
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c <= 0x20 || c >= 0x7f || strchr(extra, c) != NULL) {
            return err_set(e, ERR_INVALID,
                           "%s: only printable ASCII without blanks%s%s", name,
                           extra[0] != '\0' ? " or any of " : "", extra);
        }
    }
    memcpy(out, v, n + 1);
    return 0;
}

/*
 * The credentials of `opts` into `st`.
 *
 * XXX: long-lived keys only. Temporary credentials (an STS session
 * token, sent and signed as x-amz-security-token) have no option yet;
 * whether to take one, and how to renew it before it expires, is still
 * to be decided.
 */
static int
take_credentials(const json_t *opts, struct s3_state *st, struct err *e)
{
    int rc = take_option(opts, "access_key", "/,", st->access_key, e);

    if (rc == 0) {
        rc = take_option(opts, "secret_key", "", st->secret_key, e);
    }
    if (rc == 0) {
        rc = take_option(opts, "region", "/,;=", st->region, e);
    }
    return rc;
}

/* The URL of `t` as it is shown and stored: scheme, host, bucket and
 * the prefix encoded again. */
static int
shown_url(const struct s3_target *t, char *out, size_t n, struct err *e)
{
    struct buf b;
    int rc = 0;

    buf_init(&b, n > 0 ? n - 1 : 0);
    rc = buf_printf(&b, "%s://%s/%s", t->scheme, t->host, t->bucket);
    if (rc == 0 && t->prefix[0] != '\0') {
        rc = buf_addch(&b, '/');
    }
    if (rc == 0) {
        rc = sigv4_encode_path(&b, t->prefix, strlen(t->prefix));
    }
    if (rc == 0) {
        memcpy(out, buf_str(&b), b.len + 1);
    } else {
        rc = err_set(e, ERR_INVALID, "url: too long");
    }
    buf_release(&b);
    return rc;
}

static int
s3_check(const char *url, const json_t *opts, json_t **conf, char *shown,
         size_t shown_n, struct err *e)
{
    struct s3_state *st = xcalloc(1, sizeof(*st));
    int rc = parse_url(url, &st->t, e);

    *conf = NULL;
    if (rc == 0) {
        rc = take_credentials(opts, st, e);
    }
    if (rc == 0) {
        rc = shown_url(&st->t, shown, shown_n, e);
    }
    if (rc < 0) {
        goto out;
    }
    *conf = json_pack("{s:s, s:s, s:s}", "access_key", st->access_key,
                      "secret_key", st->secret_key, "region", st->region);
    if (*conf == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
    }

out:
    crypto_wipe(st, sizeof(*st));
    free(st);
    return rc;
}

static int
s3_open(struct deliver_dest *d, struct err *e)
{
    struct s3_state *st = xcalloc(1, sizeof(*st));
    int rc = parse_url(d->url, &st->t, e);

    if (rc == 0) {
        rc = take_credentials(d->conf, st, e);
    }
    if (rc < 0) {
        crypto_wipe(st, sizeof(*st));
        free(st);
        return rc;
    }
    d->driver_state = st;
    return 0;
}

static void
s3_close(struct deliver_dest *d)
{
    struct s3_state *st = d->driver_state;

    if (st != NULL) {
        crypto_wipe(st, sizeof(*st));
        free(st);
    }
    d->driver_state = NULL;
}

/* ---- one attempt ---- */

/*
 * The UTC time `us` (unix microseconds) as YYYYMMDDTHHMMSSZ, or with
 * `fraction` as YYYYMMDDTHHMMSS.ffffffZ, into `out` (32 bytes).
 */
static void
amz_time(int64_t us, int fraction, char out[32])
{
    int64_t secs = us / 1000000;
    int64_t frac = us % 1000000;
    int64_t days = 0;
    int64_t rem = 0;
    int y = 0;
    int m = 0;
    int d = 0;

    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    isotime_civil_from_days(days, &y, &m, &d);
    if (fraction) {
        snprintf(out, 32, "%04d%02d%02dT%02d%02d%02d.%06dZ", y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                 (int)frac);
    } else {
        snprintf(out, 32, "%04d%02d%02dT%02d%02d%02dZ", y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    }
}

/* 1 when `s` can be one segment of a key: not empty, "." or "..", no
 * '/' and no control character. */
static int
segment_ok(const char *s)
{
    size_t i = 0;

    if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return 0;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* The raw path "/bucket/key" of the object for `at` into `out`. */
static int
object_path(const struct s3_state *st, const struct deliver_attempt *at,
            struct buf *out, struct err *e)
{
    const char *user = at->user_id != NULL ? at->user_id : "none";
    char when[32];

    if (!segment_ok(at->event_type) || !segment_ok(user) ||
        !segment_ok(at->event_id)) {
        return err_set(e, ERR_INVALID,
                       "s3: the event's type, user or id cannot name an "
                       "object");
    }
    amz_time(at->created_at, 1, when);
    if (buf_printf(out, "/%s/%s%s%s/%s/%s-%s.json", st->t.bucket, st->t.prefix,
                   st->t.prefix[0] != '\0' ? "/" : "", at->event_type, user,
                   when, at->event_id) < 0 ||
        out->len - strlen(st->t.bucket) - 2 > S3_KEY_MAX) {
        return err_set(e, ERR_TOOBIG,
                       "s3: the object key is longer than "
                       "1024 bytes");
    }
    return 0;
}

/* The <Code> of an S3 error document in `body`, if it has a plain one,
 * into `out` (S3_CODE_MAX + 1 bytes); "" otherwise. */
static void
error_code(const char *body, size_t n, char *out)
{
    const char *p = body != NULL ? memmem(body, n, "<Code>", 6) : NULL;
    size_t i = 0;

    out[0] = '\0';
    if (p == NULL) {
        return;
    }
    p += 6;
    while (i < S3_CODE_MAX && p + i < body + n &&
           ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
            (p[i] >= '0' && p[i] <= '9') || p[i] == '.')) {
        i++;
    }
    if (i > 0 && p + i + 7 <= body + n && memcmp(p + i, "</Code>", 7) == 0) {
        memcpy(out, p, i);
        out[i] = '\0';
    }
}

static void
on_answer(void *arg, struct hclient_response *r)
{
    struct deliver_attempt *at = arg;
    struct deliver_result res;
    char code[S3_CODE_MAX + 1];
    int answered = r->rc == 0 || r->rc == ERR_TOOBIG;

    if (r->rc == ERR_IO) {
        deliver_result_fail(&res, 0, "not sent: ferry is stopping");
        res.not_tried = 1;
    } else if (answered && r->status >= 200 && r->status <= 299) {
        memset(&res, 0, sizeof(res));
        res.ok = 1;
        res.status = r->status;
        res.retry_after = -1;
    } else if (answered) {
        error_code(r->body, r->body_len, code);
        deliver_result_fail(&res, r->status, "s3: HTTP %ld%s%s", r->status,
                            code[0] != '\0' ? " " : "", code);
        res.retry_after = deliver_retry_after(r->retry_after, time(NULL));
    } else {
        deliver_result_fail(&res, 0, "s3: %s", r->error);
    }
    deliver_attempt_done(at, &res);
}

/* The headers of the PUT for `at`, signed, into `h` (four lines of
 * S3_HEADER_MAX bytes) and the URL into `url`. */
static int
build_request(const struct s3_state *st, const struct deliver_attempt *at,
              char h[4][S3_HEADER_MAX], struct buf *url, struct err *e)
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    char date[32];
    struct sigv4_header sh[2] = {{"Content-Type", "application/json"},
                                 {"x-amz-content-sha256", hash}};
    struct sigv4_request sr;
    struct buf path;
    struct buf auth;
    int rc = 0;

    buf_init(&path, S3_URL_MAX);
    buf_init(&auth, S3_HEADER_MAX - 32);
    crypto_sha256(at->body, at->body_len, digest);
    codec_hex_encode(digest, sizeof(digest), hash);
    amz_time(isotime_now_us(), 0, date);
    rc = object_path(st, at, &path, e);
    if (rc < 0) {
        goto out;
    }
    memset(&sr, 0, sizeof(sr));
    sr.method = "PUT";
    sr.host = st->t.host;
    sr.path = buf_str(&path);
    sr.headers = sh;
    sr.nheaders = 2;
    sr.payload_sha256 = hash;
    sr.amz_date = date;
    sr.region = st->region;
    sr.service = "s3";
    sr.access_key = st->access_key;
    sr.secret_key = st->secret_key;
    rc = sigv4_authorization(&sr, &auth, e);
    if (rc == 0) {
        rc = buf_printf(url, "%s://%s", st->t.scheme, st->t.host);
    }
    if (rc == 0) {
        rc = sigv4_encode_path(url, path.data, path.len);
    }
    if (rc == ERR_TOOBIG) {
        err_set(e, rc, "s3: the object's URL is too long");
    }
    if (rc < 0) {
        goto out;
    }
    snprintf(h[0], S3_HEADER_MAX, "Content-Type: application/json");
    snprintf(h[1], S3_HEADER_MAX, "x-amz-content-sha256: %s", hash);
    snprintf(h[2], S3_HEADER_MAX, "x-amz-date: %s", date);
    snprintf(h[3], S3_HEADER_MAX, "Authorization: %s", buf_str(&auth));

out:
    buf_release(&auth);
    buf_release(&path);
    return rc;
}

static void
s3_send(struct deliver_attempt *at)
{
    const struct s3_state *st = at->dest->driver_state;
    char h[4][S3_HEADER_MAX];
    struct hclient_request rq;
    struct deliver_result res;
    struct buf url;
    struct err e;

    err_clear(&e);
    buf_init(&url, S3_URL_MAX);
    if (st == NULL) {
        deliver_result_fail(&res, 0, "s3: the destination is not open");
        deliver_attempt_done(at, &res);
        goto out;
    }
    if (build_request(st, at, h, &url, &e) < 0) {
        deliver_result_fail(&res, 0, "%s", e.msg);
        deliver_attempt_done(at, &res);
        goto out;
    }
    memset(&rq, 0, sizeof(rq));
    rq.method = "PUT";
    rq.url = buf_str(&url);
    rq.headers[0] = h[0];
    rq.headers[1] = h[1];
    rq.headers[2] = h[2];
    rq.headers[3] = h[3];
    rq.headers[4] = NULL;
    rq.body = at->body;
    rq.body_len = at->body_len;
    rq.timeout_ms = at->timeout_ms;
    rq.max_response = S3_MAX_RESPONSE;
    rq.public_only = !at->allow_private;
    if (at->http == NULL || hclient_send(at->http, &rq, on_answer, at) != 0) {
        deliver_result_fail(&res, 0, "not sent: ferry is stopping");
        res.not_tried = 1;
        deliver_attempt_done(at, &res);
    }

out:
    buf_release(&url);
}

const struct deliver_driver deliver_s3 = {
    .kind = "s3",
    .check = s3_check,
    .open = s3_open,
    .close = s3_close,
    .send = s3_send,
};
