/*
 * guard.c - request target, framing and listen-address checks.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/utf8.h"
#include "http/guard.h"

int
http_guard_target(const char *t, struct err *e)
{
    const char *q = strchr(t, '?');
    size_t i = 0;

    for (i = 0; t[i] != '\0'; i++) {
        if (t[i] != '%') {
            continue;
        }
        if (!isxdigit((unsigned char)t[i + 1]) ||
            !isxdigit((unsigned char)t[i + 2])) {
            return err_set(e, ERR_INVALID,
                           "request target: '%%' must be followed by two "
                           "hex digits");
        }
        if (t[i + 1] == '0' && t[i + 2] == '0') {
            return err_set(e, ERR_INVALID,
                           "request target: an encoded NUL byte (%%00) is "
                           "not allowed");
        }
        if ((q == NULL || t + i < q) && t[i + 1] == '2' &&
            (t[i + 2] == 'f' || t[i + 2] == 'F')) {
            return err_set(e, ERR_INVALID,
                           "path: an encoded '/' (%%2F) is not allowed");
        }
        i += 2;
    }
    return 0;
}

struct framing {
    int bad_name;       /* a header name that is not a token */
    int content_length; /* how many Content-Length headers */
    int bad_length;     /* one was not plain digits */
    int transfer_encoding;
    int bad_encoding;    /* not exactly "chunked" */
    int host;            /* how many Host headers */
    char nul_header[64]; /* name of a header whose value holds a NUL */
};

static int
all_digits(const char *v, size_t n)
{
    size_t i = 0;

    if (n == 0 || n > 18) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* RFC 9110 token characters, the only ones a header name may hold. */
#define TOKEN_CHARS                                                            \
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"                      \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* "chunked", in any case, with optional white space after it. */
static int
is_chunked(const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
        n--;
    }
    return n == 7 && strncasecmp(v, "chunked", 7) == 0;
}

static enum MHD_Result
look(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
     const char *value, size_t value_size)
{
    struct framing *f = cls;

    (void)kind;
    if (key_size == 0 || strspn(key, TOKEN_CHARS) != key_size) {
        /* e.g. "Content-Length :", which a proxy may read as framing */
        f->bad_name = 1;
    }
    if (value != NULL && strlen(value) != value_size &&
        f->nul_header[0] == '\0') {
        snprintf(f->nul_header, sizeof(f->nul_header), "%.*s",
                 (int)(key_size < 48 ? key_size : 48), key);
        utf8_sanitize(f->nul_header);
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
        if (value == NULL || !all_digits(value, value_size)) {
            f->bad_length = 1;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        if (value == NULL || !is_chunked(value, value_size)) {
            f->bad_encoding = 1;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->host++;
    }
    return MHD_YES;
}

int
http_guard_headers(struct MHD_Connection *conn, const char *version,
                   struct err *e)
{
    struct framing f;

    memset(&f, 0, sizeof(f));
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, look, &f);
    if (f.bad_name) {
        return err_set(e, ERR_INVALID,
                       "a header name holds a space or another character "
                       "that is not allowed there");
    }
    if (f.transfer_encoding > 0 && version != NULL &&
        strcmp(version, "HTTP/1.0") == 0) {
        return err_set(e, ERR_INVALID,
                       "Transfer-Encoding is not allowed in HTTP/1.0");
    }
    if (f.nul_header[0] != '\0') {
        return err_set(e, ERR_INVALID, "header %s: must not contain a NUL byte",
                       f.nul_header);
    }
    if (f.content_length > 1) {
        return err_set(e, ERR_INVALID, "Content-Length: given more than once");
    }
    if (f.bad_length) {
        return err_set(e, ERR_INVALID,
                       "Content-Length: must be a decimal number");
    }
    if (f.transfer_encoding > 0 && f.content_length > 0) {
        return err_set(e, ERR_INVALID,
                       "Content-Length and Transfer-Encoding must not be "
                       "sent together");
    }
    if (f.transfer_encoding > 1 || f.bad_encoding) {
        return err_set(e, ERR_INVALID,
                       "Transfer-Encoding: only 'chunked' is supported");
    }
    /* libmicrohttpd serves any later 1.x as 1.1 */
    if (f.host != 1 && version != NULL && strcmp(version, "HTTP/1.0") != 0) {
        return err_set(e, ERR_INVALID,
                       "Host: an HTTP/1.1 request carries exactly one");
    }
    return 0;
}

static int
parse_port(const char *s, unsigned *port)
{
    unsigned long v = 0;
    size_t i = 0;

    if (s[0] == '\0' || strlen(s) > 5) {
        return -1;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535) {
        return -1;
    }
    *port = (unsigned)v;
    return 0;
}

int
http_listen_parse(const char *listen, void *sa, unsigned *salen, struct err *e)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(listen, ':');
    size_t hlen = colon == NULL ? 0 : (size_t)(colon - listen);
    unsigned port = 0;

    if (colon == NULL || parse_port(colon + 1, &port) < 0) {
        return err_set(e, ERR_CONFIG,
                       "[server] listen: '%s' is not HOST:PORT with a port "
                       "from 0 to 65535",
                       listen);
    }
    if (hlen >= sizeof(host) || hlen == 0) {
        return err_set(e, ERR_CONFIG,
                       "[server] listen: '%s' needs a numeric host, such as "
                       "127.0.0.1:%u, 0.0.0.0:%u or [::1]:%u",
                       listen, port, port, port);
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    memset(sa, 0, sizeof(struct sockaddr_storage));
    if (host[0] == '[' && host[hlen - 1] == ']') {
        struct sockaddr_in6 *a6 = sa;

        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((unsigned short)port);
            *salen = sizeof(*a6);
            return 0;
        }
    } else {
        struct sockaddr_in *a4 = sa;

        if (strcmp(host, "localhost") == 0) {
            snprintf(host, sizeof(host), "127.0.0.1");
        }
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons((unsigned short)port);
            *salen = sizeof(*a4);
            return 0;
        }
    }
    return err_set(e, ERR_CONFIG,
                   "[server] listen: '%s' is not a numeric address (use "
                   "an IPv4 address, localhost, or [IPv6])",
                   listen);
}
