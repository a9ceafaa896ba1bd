/*
 * url.c - URL checks, on top of curl's URL parser.
 */
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "http/url.h"

static const char *const refused_schemes[] = {
    "javascript", "data",        "file", "vbscript", "blob", "about",
    "filesystem", "view-source", "jar",  "mhtml",    "ws",   "wss",
};

/* Copy the lower-cased scheme of `url` into `out`; 0, or -1 when there is
 * no syntactically valid scheme. */
static int
scheme_of(const char *url, char *out, size_t outsz)
{
    size_t i = 0;

    for (i = 0; url[i] != ':' && url[i] != '\0'; i++) {
        char c = url[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (i > 0 &&
                  ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));

        if (!ok || i + 1 >= outsz) {
            return -1;
        }
        out[i] = (char)(c | 0x20);
    }
    if (url[i] != ':' || i == 0) {
        return -1;
    }
    out[i] = '\0';
    return 0;
}

/*
 * The host of an http(s) redirect must be a DNS name or an IPv4
 * address as a browser's security policy can name it (the widget lists
 * the redirect's origin in its CSP form-action, whose grammar has no
 * IPv6 literals, escapes or underscores), within DNS's 253 bytes.
 */
static int
check_host(const char *field, const char *host, struct err *e)
{
    size_t n = strlen(host);

    if (n > URL_HOST_MAX) {
        return err_set(e, ERR_INVALID, "%s: the host is longer than %d bytes",
                       field, URL_HOST_MAX);
    }
    if (strspn(host, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-") != n) {
        return err_set(e, ERR_INVALID,
                       "%s: the host must be a DNS name or an IPv4 address "
                       "(letters, digits, '.' and '-')",
                       field);
    }
    return 0;
}

int
url_check_redirect(const char *field, const char *url, struct err *e)
{
    char scheme[32];
    CURLU *u = NULL;
    char *part = NULL;
    size_t n = strlen(url);
    size_t i = 0;
    int rc = 0;

    if (n > URL_REDIRECT_MAX) {
        return err_set(e, ERR_INVALID, "%s: longer than %d bytes", field,
                       URL_REDIRECT_MAX);
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];

        if (c <= ' ' || c >= 0x7f || c == '\\') {
            return err_set(e, ERR_INVALID,
                           "%s: contains a space, backslash, control or "
                           "non-ASCII byte (percent-encode it)",
                           field);
        }
    }
    if (scheme_of(url, scheme, sizeof(scheme)) < 0) {
        return err_set(e, ERR_INVALID,
                       "%s: not an absolute URL (expected https://..., "
                       "http://... or an app scheme such as myapp://...)",
                       field);
    }
    for (i = 0; i < sizeof(refused_schemes) / sizeof(refused_schemes[0]); i++) {
        if (strcmp(scheme, refused_schemes[i]) == 0) {
            return err_set(e, ERR_INVALID,
                           "%s: the %s: scheme is not "
                           "allowed for redirects",
                           field, scheme);
        }
    }
    if (strncmp(url + strlen(scheme), "://", 3) != 0) {
        return err_set(e, ERR_INVALID, "%s: expected %s://...", field, scheme);
    }
    if ((strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        strchr("/?#", url[strlen(scheme) + 3]) != NULL) {
        /* curl would take the host from after a third slash */
        return err_set(e, ERR_INVALID, "%s: has no host", field);
    }

    u = curl_url();
    if (u == NULL) {
        return err_set(e, ERR_NOMEM, "%s: out of memory", field);
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
        CURLUE_OK) {
        rc = err_set(e, ERR_INVALID, "%s: not a valid URL", field);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        rc = err_set(e, ERR_INVALID,
                     "%s: user-info (user@ or user:password@) is not "
                     "allowed",
                     field);
        goto out;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK ||
        part[0] == '\0') {
        if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) {
            rc = err_set(e, ERR_INVALID, "%s: has no host", field);
            goto out;
        }
    } else if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) {
        /* the host as written, not as curl decoded it: the page's policy
         * is built from the text */
        const char *auth = strstr(url, "://") + 3;

        rc = memchr(auth, '%', strcspn(auth, "/?#")) != NULL
                 ? err_set(e, ERR_INVALID,
                           "%s: the host must be a DNS name or an IPv4 "
                           "address (letters, digits, '.' and '-')",
                           field)
                 : check_host(field, part, e);
    }

out:
    curl_free(part);
    curl_url_cleanup(u);
    return rc;
}
