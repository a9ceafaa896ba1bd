/*
 * destinations.c - a developer's destinations (see destinations.h).
 *
 * A destination row holds three sealed boxes: the kind's settings (JSON,
 * with whatever credentials they carry), the signing secret, and during
 * the grace after a rotation the secret it replaced. Each is sealed
 * under the master key with the destination id as associated data, so
 * a box copied to another row does not open.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/destinations.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/uuid.h"
#include "core/xmalloc.h"
#include "deliver/deliver.h"
#include "deliver/driver.h"
#include "deliver/resolve.h"

#define DEST_URL_MAX    2048  /* bytes of a destination URL */
#define DEST_HOST_MAX   253   /* DNS */
#define DEST_CONF_MAX   65536 /* bytes of a kind's settings as JSON */
#define DEST_SECRET_RAW 32    /* random bytes behind a secret */
#define DEST_DEMO_URL   "demo:inbox"
#define ROTATE_TRIES    8 /* reads of a secret others keep rotating */

/* ---- URLs and hosts ---- */

/* 1 when `url` starts with `scheme` "://" in any case. */
static int
has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);

    return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* The host of `url` as written is a DNS name, an IPv4 address or a
 * bracketed IPv6 address (no zone), with an optional port. */
static int
check_host_text(const char *url, struct err *e)
{
    const char *auth = strstr(url, "://") + 3;
    size_t alen = strcspn(auth, "/?#");
    size_t hlen = 0;

    if (memchr(auth, '@', alen) != NULL) {
        return err_set(e, ERR_INVALID,
                       "url: user-info (user@ or user:password@) is not "
                       "allowed");
    }
    if (alen > 0 && auth[0] == '[') {
        hlen = strspn(auth + 1, "0123456789abcdefABCDEF:.");
        if (hlen == 0 || auth[1 + hlen] != ']') {
            return err_set(e, ERR_INVALID,
                           "url: a bracketed host must be an IPv6 address");
        }
        hlen += 2;
    } else {
        hlen = strspn(auth, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
    }
    if (hlen == 0) {
        return err_set(e, ERR_INVALID, "url: has no host");
    }
    if (hlen > DEST_HOST_MAX) {
        return err_set(e, ERR_INVALID, "url: the host is longer than %d bytes",
                       DEST_HOST_MAX);
    }
    if (hlen < alen &&
        (auth[hlen] != ':' ||
         strspn(auth + hlen + 1, "0123456789") != alen - hlen - 1)) {
        return err_set(e, ERR_INVALID,
                       "url: the host must be a DNS name, an IPv4 address "
                       "or a bracketed IPv6 address, with an optional port");
    }
    if (hlen + 1 == alen) {
        return err_set(e, ERR_INVALID,
                       "url: a ':' with no port after it; give the port or "
                       "leave both out");
    }
    if (hlen + 1 < alen) {
        const char *p = auth + hlen + 1;
        size_t plen = alen - hlen - 1;
        long port = 0;

        /* digits only (checked above): leading zeros are read past */
        while (plen > 1 && *p == '0') {
            p++;
            plen--;
        }
        if (plen <= 5) {
            port = strtol(p, NULL, 10);
        }
        if (plen > 5 || port < 1 || port > 65535) {
            return err_set(e, ERR_INVALID, "url: the port must be 1 to 65535");
        }
    }
    return 0;
}

/*
 * A webhook URL: http or https, a host, a port of 1 - 65535 if any, no
 * user-info or fragment, at most DEST_URL_MAX bytes of printable ASCII.
 */
static int
check_webhook_url(const char *url, struct err *e)
{
    size_t n = strlen(url);
    size_t i = 0;

    if (n > DEST_URL_MAX) {
        return err_set(e, ERR_INVALID, "url: longer than %d bytes",
                       DEST_URL_MAX);
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];

        if (c <= ' ' || c >= 0x7f || c == '\\') {
            return err_set(e, ERR_INVALID,
                           "url: contains a space, backslash, control or "
                           "non-ASCII byte (percent-encode it)");
        }
    }
    if (!has_scheme(url, "https") && !has_scheme(url, "http")) {
        return err_set(e, ERR_INVALID,
                       "url: must be an http:// or https:// URL");
    }
    if (strchr(url, '#') != NULL) {
        return err_set(e, ERR_INVALID,
                       "url: a fragment (#...) is never sent to the "
                       "receiver; leave it out");
    }
    for (i = 0; i < n; i++) {
        if (url[i] == '%' && (codec_hex_digit(url[i + 1]) < 0 ||
                              codec_hex_digit(url[i + 2]) < 0)) {
            return err_set(e, ERR_INVALID,
                           "url: a '%%' not followed by two hex digits "
                           "(write '%%25' for a '%%' itself)");
        }
    }
    return check_host_text(url, e);
}

/*
 * The host of `url` (any scheme) as curl parses it into `host` (`n`
 * bytes); "" when the URL names none. ERR_INVALID when it does not parse.
 */
static int
url_host(const char *url, char *host, size_t n, struct err *e)
{
    CURLU *u = curl_url();
    char *part = NULL;
    int rc = 0;

    host[0] = '\0';
    if (u == NULL) {
        return err_set(e, ERR_NOMEM, "url: out of memory");
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
        CURLUE_OK) {
        rc = err_set(e, ERR_INVALID, "url: not a valid URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK) {
        goto out; /* no host: nothing to resolve */
    }
    if (strlen(part) >= n) {
        rc = err_set(e, ERR_INVALID, "url: the host is longer than %d bytes",
                     DEST_HOST_MAX);
        goto out;
    }
    memcpy(host, part, strlen(part) + 1);
out:
    curl_free(part);
    curl_url_cleanup(u);
    return rc;
}

/*
 * May the host of `url` be reached? Every kind but the in-process demo
 * names a network host; one that cannot be found is refused unless
 * private destinations are allowed (it may be a local socket).
 */
static int
check_reachable(const struct app *a, const char *url, struct err *e)
{
    int allow = a->cfg->security_allow_private_destinations;
    char host[DEST_HOST_MAX + 3]; /* brackets and NUL */
    struct err sub;
    int rc = url_host(url, host, sizeof(host), e);

    if (rc < 0) {
        return rc;
    }
    if (host[0] == '\0') {
        return allow ? 0
                     : err_set(e, ERR_FORBIDDEN,
                               "url: names no network host to check; "
                               "private destinations are not allowed");
    }
    err_clear(&sub);
    rc = resolve_public(host, allow, NULL, &sub);
    if (rc == ERR_FORBIDDEN) {
        return err_set(e, rc, "url: %s", sub.msg);
    }
    if (rc < 0) {
        /* a name that does not resolve is the caller's to fix */
        return err_set(e, ERR_INVALID, "url: %s", sub.msg);
    }
    return 0;
}

/* ---- sealing ---- */

/* Seal `n` bytes of `pt` for destination `id` into a new `*box`
 * (caller frees). */
static int
seal(const struct app *a, const char *id, const void *pt, size_t n,
     unsigned char **box, size_t *len)
{
    size_t cap = n + CRYPTO_SEAL_OVERHEAD;
    unsigned char *out = NULL;
    int rc = 0;

    if (!a->have_key) {
        BUG("destinations: the app was opened without APP_NEED_KEY");
    }
    out = xmalloc(cap);
    rc = crypto_seal(a->key, id, strlen(id), pt, n, out, cap, len);

    if (rc < 0) {
        free(out);
        out = NULL;
    }
    *box = out;
    return rc;
}

/* Open box `box` of destination `id` into `out` (`outsz` bytes), NUL
 * terminated; ERR_CRYPTO when it does not open or does not fit. */
static int
open_text(const struct app *a, const char *id, const unsigned char *box,
          size_t len, char *out, size_t outsz)
{
    size_t n = 0;
    int rc = 0;

    if (!a->have_key) {
        BUG("destinations: the app was opened without APP_NEED_KEY");
    }
    if (len < CRYPTO_SEAL_OVERHEAD || len - CRYPTO_SEAL_OVERHEAD >= outsz) {
        return ERR_CRYPTO;
    }
    rc = crypto_open(a->key, id, strlen(id), box, len, (unsigned char *)out,
                     outsz - 1, &n);
    out[rc == 0 ? n : 0] = '\0';
    return rc;
}

/* A fresh signing secret: DEST_SECRET_RAW random bytes in lower-case
 * hex. */
static void
new_secret(char out[DESTINATION_SECRET_LEN + 1])
{
    unsigned char raw[DEST_SECRET_RAW];

    rng_bytes(raw, sizeof(raw));
    codec_hex_encode(raw, sizeof(raw), out);
    crypto_wipe(raw, sizeof(raw));
}

/*
 * Store a new destination of `kind` for `dev_id`, shown as `shown`, with
 * the settings `conf` (borrowed); its id and fresh secret into `out`.
 */
static int
create(struct app *a, const char *dev_id, const char *kind, const char *shown,
       const json_t *conf, struct destination_made *out, struct err *e)
{
    struct store_destination d;
    unsigned char *conf_box = NULL;
    unsigned char *secret_box = NULL;
    char *text = json_dumps(conf, JSON_COMPACT | JSON_SORT_KEYS);
    size_t tlen = text != NULL ? strlen(text) : 0;
    int rc = 0;

    memset(&d, 0, sizeof(d));
    memset(out, 0, sizeof(*out));
    if (text == NULL) {
        return err_set(e, ERR_NOMEM, "destination: out of memory");
    }
    if (tlen > DEST_CONF_MAX) {
        rc = err_set(e, ERR_INVALID, "the options are longer than %d bytes",
                     DEST_CONF_MAX);
        goto out;
    }
    uuid_v4(out->id);
    new_secret(out->secret);
    d.id = out->id;
    d.dev_id = dev_id;
    d.kind = kind;
    d.url = shown;
    d.created_at = isotime_now_us();
    rc = seal(a, out->id, text, tlen, &conf_box, &d.conf_len);
    if (rc == 0) {
        rc = seal(a, out->id, out->secret, DESTINATION_SECRET_LEN, &secret_box,
                  &d.secret_len);
    }
    if (rc < 0) {
        rc = err_set(e, rc, "destination: sealing failed");
        goto out;
    }
    d.conf = conf_box;
    d.secret = secret_box;
    rc = store_destination_create(a->store, &d, e);
    if (rc == 0) {
        log_event(LOG_INFO, "app", "destination.added",
                  "dev_id=%s destination_id=%s kind=%s", dev_id, out->id, kind);
    }
out:
    if (rc < 0) {
        crypto_wipe(out->secret, sizeof(out->secret));
    }
    crypto_wipe(text, tlen);
    free(text);
    free(conf_box);
    free(secret_box);
    return rc;
}

/* ---- the public functions ---- */

/* Check `url` for `kind` with its driver: `*conf` and `shown`. */
static int
check_settings(const struct deliver_driver *drv, const char *url,
               const json_t *opts, json_t **conf, char *shown, size_t n,
               struct err *e)
{
    json_t *none = NULL;
    int rc = 0;

    *conf = NULL;
    if (drv->check == NULL) {
        if (strlen(url) >= n) {
            return err_set(e, ERR_INVALID, "url: longer than %d bytes",
                           DEST_URL_MAX);
        }
        memcpy(shown, url, strlen(url) + 1);
        *conf = json_object();
        return *conf != NULL ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    }
    if (opts == NULL) {
        none = json_object();
        opts = none;
    }
    rc = drv->check(url, opts, conf, shown, n, e);
    json_decref(none);
    if (rc == 0 && *conf == NULL) {
        *conf = json_object();
    }
    return rc;
}

/* A developer has at most DESTINATIONS_MAX destinations in use. */
static int
check_room(struct app *a, const char *dev_id, struct err *e)
{
    struct arena ar;
    struct store_destination *list = NULL;
    size_t n = 0;
    int rc = 0;

    arena_init(&ar, 16u << 20);
    rc = store_destination_list(a->store, dev_id, 0, &ar, &list, &n, e);
    if (rc == 0 && n >= DESTINATIONS_MAX) {
        rc = err_set(e, ERR_CONFLICT,
                     "type: a developer has at most %d destinations; remove "
                     "one first",
                     DESTINATIONS_MAX);
    }
    arena_release(&ar);
    return rc;
}

/*
 * `url` as one spelling for comparing: curl's normal form (the scheme
 * in lower case, the port as a number, a default port left out, dot
 * segments removed) with the host in lower case too and percent-encoding
 * normalised; malloc'd, or NULL when it does not parse.
 */
static char *
url_canonical(const char *url)
{
    CURLU *u = curl_url();
    char *spelt = xstrdup(url);
    char *part = NULL;
    char *out = NULL;
    char *p = NULL;

    /* decoded first, so that an encoded dot segment is one too */
    codec_pct_normalize(spelt);
    if (u == NULL || curl_url_set(u, CURLUPART_URL, spelt, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &part, CURLU_NO_DEFAULT_PORT) !=
            CURLUE_OK) {
        goto out;
    }
    out = xstrdup(part);
    p = strstr(out, "://");
    for (p = p != NULL ? p + 3 : out; *p != '\0' && *p != '/'; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
        }
    }
    codec_pct_normalize(p);
out:
    free(spelt);
    curl_free(part);
    curl_url_cleanup(u);
    return out;
}

/* ERR_CONFLICT when another webhook destination of `dev_id` in use has
 * the URL `url` (in another spelling too): each event would go twice. */
static int
check_duplicate(struct app *a, const char *dev_id, const char *url,
                struct err *e)
{
    struct arena ar;
    struct store_destination *list = NULL;
    char *want = url_canonical(url);
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    if (want == NULL) {
        return 0; /* the driver's check names what is wrong */
    }
    arena_init(&ar, 16u << 20);
    rc = store_destination_list(a->store, dev_id, 0, &ar, &list, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        char *have = NULL;

        if (strcmp(list[i].kind, "webhook") != 0) {
            continue;
        }
        have = url_canonical(list[i].url);
        if (have != NULL && strcmp(have, want) == 0) {
            rc = err_set(e, ERR_CONFLICT,
                         "url: destination %s already delivers to this URL",
                         list[i].id);
        }
        free(have);
    }
    arena_release(&ar);
    free(want);
    return rc;
}

int
destinations_add(struct app *a, const char *dev_id, const char *kind,
                 const char *url, const json_t *opts,
                 struct destination_made *out, struct err *e)
{
    const struct deliver_driver *drv = NULL;
    char shown[DEST_URL_MAX + 1];
    json_t *conf = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (kind == NULL || kind[0] == '\0') {
        return err_set(e, ERR_INVALID,
                       "type: required (webhook, postgres "
                       "or s3)");
    }
    if (strcmp(kind, "demo") != 0) {
        drv = deliver_driver_find(kind);
    }
    if (drv == NULL) {
        return err_set(e, ERR_INVALID,
                       "type: unknown destination type '%.64s' (webhook, "
                       "postgres or s3)",
                       kind);
    }
    if (url == NULL || url[0] == '\0') {
        return err_set(e, ERR_INVALID, "url: required");
    }
    if (strcmp(kind, "s3") != 0) {
        static const char *const s3_only[] = {"access_key", "secret_key",
                                              "region"};
        size_t i = 0;

        for (i = 0; i < sizeof(s3_only) / sizeof(s3_only[0]); i++) {
            if (json_object_get(opts, s3_only[i]) != NULL) {
                return err_set(e, ERR_INVALID,
                               "%s: only an s3 destination takes it",
                               s3_only[i]);
            }
        }
    }
    rc = check_room(a, dev_id, e);
    if (rc < 0) {
        return rc;
    }
    if (strlen(url) > DEST_URL_MAX) {
        return err_set(e, ERR_INVALID, "url: longer than %d bytes",
                       DEST_URL_MAX);
    }
    if (strcmp(kind, "webhook") == 0) {
        rc = check_webhook_url(url, e);
        if (rc == 0) {
            rc = check_duplicate(a, dev_id, url, e);
        }
        if (rc < 0) {
            return rc;
        }
    }
    rc = check_settings(drv, url, opts, &conf, shown, sizeof(shown), e);
    if (rc == 0) {
        rc = check_reachable(a, url, e);
    }
    if (rc == 0) {
        rc = create(a, dev_id, kind, shown, conf, out, e);
    }
    /* XXX: jansson frees the settings' strings (credentials among them)
     * without wiping them; a wiping allocator for jansson is still to
     * be chosen for the whole process. */
    json_decref(conf);
    return rc;
}

int
destinations_add_demo(struct app *a, const char *dev_id, char id[37],
                      struct err *e)
{
    struct destination_made made;
    struct store_destination *d = NULL;
    struct arena ar;
    json_t *conf = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    arena_init(&ar, 1 << 20);
    id[0] = '\0';
    rc = store_destination_list(a->store, dev_id, 0, &ar, &d, &n, e);
    for (i = 0; rc == 0 && i < n; i++) {
        if (strcmp(d[i].kind, "demo") == 0) {
            memcpy(id, d[i].id, UUID_STR_LEN);
            goto out;
        }
    }
    if (rc < 0) {
        goto out;
    }
    conf = json_object();
    if (conf == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = create(a, dev_id, "demo", DEST_DEMO_URL, conf, &made, e);
    if (rc == 0) {
        memcpy(id, made.id, UUID_STR_LEN);
    }
    crypto_wipe(&made, sizeof(made));
out:
    json_decref(conf);
    arena_release(&ar);
    return rc;
}

int
destinations_rotate(struct app *a, const char *dev_id, const char *id,
                    struct destination_made *out, struct err *e)
{
    long grace = a->cfg->deliver_secret_grace_seconds;
    struct store_destination d;
    struct store_rotation r;
    unsigned char *box = NULL;
    size_t len = 0;
    struct arena ar;
    int tries = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    arena_init(&ar, 1 << 20);
    new_secret(out->secret);
    /* a rotation that commits between our read and our write makes
     * this one read again, so every secret handed out signs */
    do {
        arena_release(&ar);
        arena_init(&ar, 1 << 20);
        rc = store_destination_get(a->store, dev_id, id, &ar, &d, e);
        if (rc == 0 && d.removed_at != 0) {
            rc = err_set(e, ERR_NOTFOUND, "no destination with id '%s' in use",
                         id);
        }
        if (rc == 0 && strcmp(d.kind, "webhook") != 0 &&
            strcmp(d.kind, "demo") != 0) {
            rc = err_set(e, ERR_CONFLICT,
                         "destination '%s' is of type %s: only webhooks are "
                         "signed, so it has no secret to rotate",
                         d.id, d.kind);
        }
        if (rc < 0) {
            goto out;
        }
        if (box == NULL) {
            rc = seal(a, d.id, out->secret, DESTINATION_SECRET_LEN, &box, &len);
            if (rc < 0) {
                rc = err_set(e, rc, "destination: sealing failed");
                goto out;
            }
        }
        memset(&r, 0, sizeof(r));
        r.secret = box;
        r.secret_len = len;
        /* the old box moves to previous as it is: same row, same AAD */
        r.replaced = d.secret;
        r.replaced_len = d.secret_len;
        if (grace > 0) {
            r.previous_until = isotime_now_us() + (int64_t)grace * 1000000;
        }
        rc = store_destination_rotate(a->store, dev_id, d.id, &r, e);
    } while (rc == ERR_CONFLICT && ++tries < ROTATE_TRIES);
    if (rc == 0) {
        memcpy(out->id, d.id, UUID_STR_LEN);
        log_event(LOG_INFO, "app", "destination.rotated",
                  "destination_id=%s grace_s=%ld", d.id, grace);
    }
out:
    if (rc < 0) {
        crypto_wipe(out->secret, sizeof(out->secret));
    }
    free(box);
    arena_release(&ar);
    return rc;
}

int
destinations_remove(struct app *a, const char *dev_id, const char *id,
                    struct err *e)
{
    int rc =
        store_destination_remove(a->store, dev_id, id, isotime_now_us(), e);

    if (rc == 0) {
        log_event(LOG_INFO, "app", "destination.removed", "destination_id=%s",
                  id);
        /* this process's engine drops it now, not at its next reload */
        deliver_reload(a->deliver);
    }
    return rc;
}

int
destinations_open(const struct app *a, const struct store_destination *d,
                  int64_t now, char *secret, char *previous, json_t **conf,
                  struct err *e)
{
    char *text = NULL;
    size_t cap = d->conf_len + 1;
    int rc = 0;

    secret[0] = '\0';
    previous[0] = '\0';
    *conf = NULL;
    rc = open_text(a, d->id, d->secret, d->secret_len, secret,
                   DELIVER_SECRET_MAX);
    if (rc == 0 && d->previous_secret != NULL && d->previous_until > now) {
        rc = open_text(a, d->id, d->previous_secret, d->previous_secret_len,
                       previous, DELIVER_SECRET_MAX);
    }
    if (rc < 0) {
        rc = err_set(e, ERR_CRYPTO,
                     "destination %s: its secret does not open "
                     "under this key",
                     d->id);
        goto out;
    }
    text = xmalloc(cap);
    rc = open_text(a, d->id, d->conf, d->conf_len, text, cap);
    if (rc == 0) {
        *conf = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    }
    if (*conf == NULL || !json_is_object(*conf)) {
        json_decref(*conf);
        *conf = NULL;
        rc = err_set(e, ERR_CRYPTO,
                     "destination %s: its settings do not open under "
                     "this key",
                     d->id);
    }
out:
    if (rc < 0) {
        crypto_wipe(secret, DELIVER_SECRET_MAX);
        crypto_wipe(previous, DELIVER_SECRET_MAX);
    }
    if (text != NULL) {
        crypto_wipe(text, cap);
        free(text);
    }
    return rc;
}

/* A time for JSON, or null for 0. */
static json_t *
time_json(int64_t us)
{
    char s[ISOTIME_MAX];

    if (us == 0) {
        return json_null();
    }
    isotime_format(us, 0, s);
    return json_string(s);
}

json_t *
destinations_json(const struct store_destination *d)
{
    json_t *o = json_object();

    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "dev_id", json_string(d->dev_id));
    json_object_set_new(o, "type", json_string(d->kind));
    json_object_set_new(o, "url", json_string(d->url));
    json_object_set_new(o, "created_at", time_json(d->created_at));
    json_object_set_new(o, "removed_at", time_json(d->removed_at));
    json_object_set_new(o, "secret_rotated_until",
                        time_json(d->previous_until));
    return o;
}

/* A string, or null for NULL. */
static json_t *
str_json(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *
attempt_json(const struct store_delivery_attempt *at)
{
    return json_pack("{s:i, s:o, s:o, s:I, s:o}", "n", at->n, "at",
                     time_json(at->at), "status",
                     at->status != 0 ? json_integer(at->status) : json_null(),
                     "latency_ms", (json_int_t)(at->latency_us / 1000), "error",
                     str_json(at->error));
}

json_t *
destinations_delivery_json(const struct store_delivery *d,
                           const struct store_delivery_attempt *at, size_t n)
{
    int pending = strcmp(d->state, "pending") == 0;
    json_t *log = json_array();
    json_t *o = NULL;
    size_t i = 0;

    for (i = 0; log != NULL && i < n; i++) {
        if (json_array_append_new(log, attempt_json(&at[i])) < 0) {
            json_decref(log);
            return NULL;
        }
    }
    if (log == NULL) {
        return NULL;
    }
    o = json_pack(
        "{s:I, s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)d->id, "event_id", d->event_id, "destination_id",
        d->destination_id, "state", d->state, "retry", d->retry, "attempts",
        d->attempts, "next_attempt_at",
        pending ? time_json(d->next_attempt_at) : json_null(), "last_status",
        d->last_status != 0 ? json_integer(d->last_status) : json_null(),
        "last_error", str_json(d->last_error), "created_at",
        time_json(d->created_at), "updated_at", time_json(d->updated_at));
    if (o == NULL) {
        json_decref(log);
        return NULL;
    }
    json_object_set_new(o, "event_type", str_json(d->type));
    json_object_set_new(o, "user_id", str_json(d->user_id));
    if (json_object_set_new(o, "attempt_log", log) < 0) {
        json_decref(o); /* the log went with the failed call */
        return NULL;
    }
    return o;
}
