/*
 * client.c - outbound HTTP(S): one libcurl multi handle, one thread.
 *
 * A request becomes a `struct job`: a private copy of everything the
 * caller gave, an easy handle, the body buffer (its ceiling is the
 * request's max_response) and the response being filled. hclient_send()
 * only copies and queues; the client's thread takes the queue, adds the
 * easy handles to the multi handle and drives it with
 * curl_multi_socket_action(): curl tells the thread which sockets to
 * watch (an epoll set) and when its next timer is due, so each wake
 * touches only the transfers that have something to do. Each finished
 * job is completed by calling its callback and freed; its easy handle
 * is reset and kept for a later job. An eventfd in the epoll set cuts
 * the wait short when work is queued or the client is stopping.
 *
 * public_only is enforced twice: the open-socket callback refuses a
 * private address before any connection is made, and the pre-request
 * callback checks the address of the connection actually used, which
 * also covers a connection reused from the pool that was opened for a
 * request without public_only.
 *
 * Proxies are switched off (the environment's http_proxy and friends
 * would otherwise apply, and a proxy would make the address check
 * meaningless). XXX: so a deployment whose only way out is an egress
 * proxy cannot reach providers; still to decide is whether requests
 * without public_only may take a configured proxy.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "http/client.h"

/* Connect timeout, when the request's whole timeout is longer. */
#define CONNECT_TIMEOUT_MS 5000L

/* How long hclient_stop() lets transfers in flight run. */
#define STOP_GRACE_MS 2000L

/* Poll wait when nothing is due; curl shortens it for its own timers. */
#define IDLE_POLL_MS 1000

/* Connections the multi handle keeps open at once; more requests wait
 * in curl's own queue. */
#define MAX_CONNECTIONS 128L

/* Longest method name accepted. */
#define METHOD_MAX 16

/* Bytes of response headers taken, every 1xx and the answer together;
 * libcurl limits each line (100 KiB), not their sum. */
#define HEADERS_MAX (64L * 1024)

/* Socket events taken from epoll in one wake. */
#define EVENTS_MAX 64

/* What the thread knows of a socket (struct hclient's fds). */
#define FD_IN_SET 1 /* in the epoll set, unless closed since */
#define FD_WANTED 2 /* curl wants it watched */
#define FD_EV_IN  4 /* watched for input (while FD_IN_SET) */
#define FD_EV_OUT 8 /* watched for output (while FD_IN_SET) */

/* One request, from hclient_send() (or hclient_fetch()) to completion. */
struct job {
    struct hclient *client; /* NULL for hclient_fetch() */
    struct job *prev;       /* active list, thread only */
    struct job *next;       /* queue or active list */
    CURL *easy;
    struct curl_slist *headers;
    char *method;
    char *url;
    char *body; /* private copy, wiped on free, unless body_kept */
    size_t body_len;
    int body_kept; /* body is the caller's */
    long timeout_ms;
    size_t max_response;
    int public_only;
    int refused;         /* public_only refused an address */
    int too_big;         /* the body passed max_response */
    size_t header_bytes; /* of every response so far */
    int headers_big;     /* they passed HEADERS_MAX */
    char refused_addr[INET6_ADDRSTRLEN];
    struct buf data;       /* the response body as it arrives */
    struct timespec start; /* when the transfer started */
    char errbuf[CURL_ERROR_SIZE];
    struct hclient_response resp;
    hclient_done_fn done;
    void *arg;
};

struct hclient {
    CURLM *multi;
    pthread_t thread;
    int epfd;             /* the sockets curl wants watched, and wakefd */
    int wakefd;           /* an eventfd: written to wake the thread */
    pthread_mutex_t lock; /* guards queue, queue_tail and stopping */
    struct job *queue;    /* sent, not yet taken by the thread; FIFO */
    struct job *queue_tail;
    int stopping;
    /* thread only: */
    struct job *active; /* in the multi handle */
    long timer_at_ms;   /* curl's timer is due (monotonic ms); -1 none */
    unsigned char *fds; /* per socket: FD_* flags */
    size_t nfds;
    CURL **idle; /* reset easy handles for the next jobs */
    size_t nidle;
    size_t idle_max;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
/* libcurl has a CA bundle file of its own (Debian's holds every
 * certificate of its CA directory) */
static int ca_bundle;

static void
curl_init(void)
{
    const curl_version_info_data *v = NULL;

    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    v = curl_version_info(CURLVERSION_NOW);
    ca_bundle = v != NULL && v->cainfo != NULL && v->cainfo[0] != '\0';
}

static long
mono_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

static long
elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000L +
           (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* ---- which addresses public_only refuses ---- */

/* 1 when the IPv4 address `a` (host order) is not a public one. */
static int
v4_private(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } nets[] = {
        {0x00000000, 8},  /* "this network" */
        {0x0a000000, 8},  /* private */
        {0x64400000, 10}, /* shared address space (CGN) */
        {0x7f000000, 8},  /* loopback */
        {0xa9fe0000, 16}, /* link-local */
        {0xac100000, 12}, /* private */
        {0xc0000000, 24}, /* IETF protocol assignments */
        {0xc0000200, 24}, /* documentation */
        {0xc0586300, 24}, /* 6to4 relay anycast */
        {0xc0a80000, 16}, /* private */
        {0xc6120000, 15}, /* benchmarking */
        {0xc6336400, 24}, /* documentation */
        {0xcb007100, 24}, /* documentation */
        {0xe0000000, 4},  /* multicast */
        {0xf0000000, 4},  /* reserved, broadcast */
    };
    size_t i = 0;

    for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        uint32_t mask = 0xffffffffu << (32 - nets[i].bits);

        if ((a & mask) == nets[i].net) {
            return 1;
        }
    }
    return 0;
}

static uint32_t
v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* 1 when the IPv6 address `b` is not a public one. */
static int
v6_private(const unsigned char *b)
{
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
    /* IPv4-translated (SIIT, RFC 2765): ::ffff:0:a.b.c.d */
    static const unsigned char translated[12] = {0, 0, 0,    0,    0, 0,
                                                 0, 0, 0xff, 0xff, 0, 0};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};

    if (memcmp(b, zero, 12) == 0) {
        return 1; /* ::, ::1 and the old IPv4-compatible form */
    }
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, translated, 12) == 0 ||
        memcmp(b, nat64, 12) == 0) {
        return v4_private(v4_at(b + 12));
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
        return v4_private(v4_at(b + 2)); /* 6to4 */
    }
    if ((b[0] & 0xfe) == 0xfc || b[0] == 0xff) {
        return 1; /* unique local, multicast */
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) != 0) {
        return 1; /* link-local fe80::/10, old site-local fec0::/10 */
    }
    if (b[0] == 0x20 && b[1] == 0x01 &&
        ((b[2] == 0x0d && b[3] == 0xb8) || (b[2] == 0 && b[3] == 0) ||
         (b[2] == 0 && b[3] == 0x02 && b[4] == 0 && b[5] == 0))) {
        return 1; /* documentation, Teredo, benchmarking */
    }
    if (memcmp(b, nat64, 4) == 0 && b[4] == 0 && b[5] == 1) {
        return 1; /* local-use NAT64 64:ff9b:1::/48 */
    }
    if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0) {
        return 1; /* discard-only 100::/64 */
    }
    return 0;
}

int
hclient_addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return v4_private(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        return v6_private(in6->sin6_addr.s6_addr);
    }
    return 1;
}

/* Remember that `sa` was refused, as text for the error message. */
static void
note_refused(struct job *j, const struct sockaddr *sa)
{
    const void *addr = NULL;

    j->refused = 1;
    if (sa->sa_family == AF_INET) {
        addr = &((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    }
    if (addr == NULL || inet_ntop(sa->sa_family, addr, j->refused_addr,
                                  sizeof(j->refused_addr)) == NULL) {
        snprintf(j->refused_addr, sizeof(j->refused_addr), "?");
    }
}

/* Before a socket is made: refuse private peers. */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct job *j = clientp;

    if (purpose != CURLSOCKTYPE_IPCXN || hclient_addr_is_private(&addr->addr)) {
        note_refused(j, &addr->addr);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Before each request, also on a reused connection: check its peer. */
static int
pre_request(void *clientp, char *primary_ip, char *local_ip, int primary_port,
            int local_port)
{
    struct job *j = clientp;
    struct sockaddr_in6 in6;
    struct sockaddr_in in;

    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    in.sin_family = AF_INET;
    in6.sin6_family = AF_INET6;
    if (inet_pton(AF_INET, primary_ip, &in.sin_addr) == 1) {
        if (!hclient_addr_is_private((struct sockaddr *)&in)) {
            return CURL_PREREQFUNC_OK;
        }
        note_refused(j, (struct sockaddr *)&in);
    } else if (inet_pton(AF_INET6, primary_ip, &in6.sin6_addr) == 1) {
        if (!hclient_addr_is_private((struct sockaddr *)&in6)) {
            return CURL_PREREQFUNC_OK;
        }
        note_refused(j, (struct sockaddr *)&in6);
    } else {
        j->refused = 1;
        snprintf(j->refused_addr, sizeof(j->refused_addr), "?");
    }
    return CURL_PREREQFUNC_ABORT;
}

/* ---- what comes back ---- */

/* XXX: the body buffer grows by realloc(), which leaves earlier copies
 * of a token answer in freed memory; only the final copy is wiped.
 * Sizing it from Content-Length, or a wiping growth step in buf.c, would
 * close that. */
static size_t
on_body(char *p, size_t size, size_t n, void *userdata)
{
    struct job *j = userdata;

    if (buf_add(&j->data, p, size * n) < 0) {
        j->too_big = 1;
        return 0; /* curl stops with a write error */
    }
    return size * n;
}

/* Copy the value of a header line (after the colon) into `out`, trimmed
 * and cut to fit. */
static void
copy_value(const char *v, size_t n, char *out, size_t outsz)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
                     v[n - 1] == '\t')) {
        n--;
    }
    if (n >= outsz) {
        n = outsz - 1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *userdata)
{
    struct job *j = userdata;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    size_t name = colon != NULL ? (size_t)(colon - p) : 0;

    j->header_bytes += len;
    if (j->header_bytes > (size_t)HEADERS_MAX) {
        j->headers_big = 1;
        return 0; /* curl ends the transfer */
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 1xx): forget the previous one's */
        j->resp.content_type[0] = '\0';
        j->resp.retry_after[0] = '\0';
    } else if (name == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
        copy_value(colon + 1, len - name - 1, j->resp.content_type,
                   sizeof(j->resp.content_type));
    } else if (name == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
        copy_value(colon + 1, len - name - 1, j->resp.retry_after,
                   sizeof(j->resp.retry_after));
    }
    return len;
}

/* ---- jobs ---- */

/* Set `j` up to fail with `rc` before any transfer. */
static void
job_refuse(struct job *j, int rc, const char *why)
{
    j->resp.rc = rc;
    snprintf(j->resp.error, sizeof(j->resp.error), "%s", why);
}

/* 1 when `m` is a plausible method: 1 to METHOD_MAX upper-case
 * letters. */
static int
method_ok(const char *m)
{
    size_t n = 0;

    for (n = 0; m[n] != '\0'; n++) {
        if (n >= METHOD_MAX || m[n] < 'A' || m[n] > 'Z') {
            return 0;
        }
    }
    return n > 0;
}

/* 1 when `h` is "Name: value" (or "Name:", which removes a header) with
 * a token name and no CR, LF or other control byte. */
static int
header_ok(const char *h)
{
    size_t name = strcspn(h, ":");
    size_t i = 0;

    if (name == 0 || h[name] != ':') {
        return 0;
    }
    for (i = 0; h[i] != '\0'; i++) {
        unsigned char c = (unsigned char)h[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f ||
            (i < name && (c <= 0x20 || c == '(' || c == ')' || c == ','))) {
            return 0;
        }
    }
    return 1;
}

/* Copy `r` into a new job. A request that cannot be sent leaves the job
 * refused (resp.rc != 0), to be completed without a transfer. */
static struct job *
job_new(const struct hclient_request *r, hclient_done_fn done, void *arg)
{
    struct job *j = xcalloc(1, sizeof(*j));
    size_t i = 0;

    j->done = done;
    j->arg = arg;
    j->method = xstrdup(r->method != NULL ? r->method : "GET");
    j->url = xstrdup(r->url != NULL ? r->url : "");
    j->timeout_ms =
        r->timeout_ms > 0 ? r->timeout_ms : HCLIENT_DEFAULT_TIMEOUT_MS;
    j->max_response =
        r->max_response > 0 ? r->max_response : HCLIENT_DEFAULT_MAX_RESPONSE;
    j->public_only = r->public_only;
    buf_init(&j->data, j->max_response);
    clock_gettime(CLOCK_MONOTONIC, &j->start);
    if (r->body != NULL && r->body_kept) {
        j->body = (char *)r->body;
        j->body_len = r->body_len;
        j->body_kept = 1;
    } else if (r->body != NULL) {
        j->body = xmalloc(r->body_len + 1);
        memcpy(j->body, r->body, r->body_len);
        j->body[r->body_len] = '\0';
        j->body_len = r->body_len;
    }
    if (!method_ok(j->method)) {
        job_refuse(j, ERR_INVALID, "bad request method");
    } else if (*j->url == '\0') {
        job_refuse(j, ERR_INVALID, "no URL");
    } else if (j->body != NULL && (strcmp(j->method, "GET") == 0 ||
                                   strcmp(j->method, "HEAD") == 0)) {
        job_refuse(j, ERR_INVALID, "a GET or HEAD request has no body");
    }
    for (i = 0; i < HCLIENT_MAX_HEADERS && r->headers[i] != NULL; i++) {
        if (!header_ok(r->headers[i])) {
            job_refuse(j, ERR_INVALID, "malformed request header");
            break;
        }
        j->headers = curl_slist_append(j->headers, r->headers[i]);
        if (j->headers == NULL) {
            BUG("curl_slist_append: out of memory");
        }
    }
    return j;
}

/* Free `j` and everything it holds, wiping what may be secret. */
static void
job_free(struct job *j)
{
    struct curl_slist *h = NULL;

    if (j->easy != NULL) {
        curl_easy_cleanup(j->easy);
    }
    for (h = j->headers; h != NULL; h = h->next) {
        crypto_wipe(h->data, strlen(h->data));
    }
    curl_slist_free_all(j->headers);
    if (j->body != NULL && !j->body_kept) {
        crypto_wipe(j->body, j->body_len);
        free(j->body);
    }
    if (j->data.data != NULL) {
        crypto_wipe(j->data.data, j->data.cap);
    }
    buf_release(&j->data);
    hclient_response_release(&j->resp);
    free(j->url);
    free(j->method);
    free(j);
}

/* The method and body options of `j`. */
static CURLcode
set_method(struct job *j)
{
    CURL *h = j->easy;
    int with_body = j->body != NULL || strcmp(j->method, "PUT") == 0 ||
                    strcmp(j->method, "PATCH") == 0;
    CURLcode rc = CURLE_OK;

    if (strcmp(j->method, "GET") == 0) {
        return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(j->method, "HEAD") == 0) {
        return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    if (strcmp(j->method, "POST") != 0) {
        rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, j->method);
    }
    if (rc == CURLE_OK && (with_body || strcmp(j->method, "POST") == 0)) {
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)j->body_len);
    }
    if (rc == CURLE_OK && (with_body || strcmp(j->method, "POST") == 0)) {
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                              j->body != NULL ? j->body : "");
    }
    return rc;
}

static int close_socket(void *clientp, curl_socket_t fd);

/* Every option of `j`'s easy handle; CURLE_OK or the first failure. */
static CURLcode
set_options(struct job *j)
{
    CURL *h = j->easy;
    long connect =
        j->timeout_ms < CONNECT_TIMEOUT_MS ? j->timeout_ms : CONNECT_TIMEOUT_MS;
    CURLcode rc = CURLE_OK;

    /* each setopt below keeps rc at CURLE_OK or records the failure */
    rc |= curl_easy_setopt(h, CURLOPT_URL, j->url);
    rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(h, CURLOPT_DEFAULT_PROTOCOL, "https");
    rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(h, CURLOPT_PROXY, "");
    rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, j->timeout_ms);
    rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    rc |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                           (curl_off_t)j->max_response);
    rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    rc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
    rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
    rc |= curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
    rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->headers);
    if (ca_bundle) {
        /* With a CA directory set as well, libcurl builds the store of
         * trusted certificates again from the bundle file for every TLS
         * connection (about 20 ms of CPU on the client's one thread, so
         * a destination that keeps failing its handshake slows every
         * other one). With the bundle alone it keeps the store it built
         * (CURLOPT_CA_CACHE_TIMEOUT, a day) for every connection. */
        rc |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (j->client != NULL) {
        /* the client's thread keeps track of its sockets (on_socket) */
        rc |= curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
        rc |= curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, j->client);
    }
    if (j->public_only) {
        rc |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        rc |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, j);
        rc |= curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, pre_request);
        rc |= curl_easy_setopt(h, CURLOPT_PREREQDATA, j);
    }
    if (rc == CURLE_OK) {
        rc = set_method(j);
    }
    return rc;
}

/* Make `j`'s easy handle. 0, or the job is refused. */
static int
job_setup(struct job *j)
{
    if (j->resp.rc != 0) {
        return j->resp.rc;
    }

    /* "Expect:" keeps curl from waiting for 100 Continue on big bodies */
    j->headers = curl_slist_append(j->headers, "Expect:");
    if (j->easy == NULL) {
        j->easy = curl_easy_init();
    }
    if (j->headers == NULL || j->easy == NULL) {
        job_refuse(j, ERR_INTERNAL, "cannot set up a transfer");
        return j->resp.rc;
    }
    if (set_options(j) != CURLE_OK) {
        job_refuse(j, ERR_INTERNAL, "cannot set up a transfer");
        return j->resp.rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &j->start);
    return 0;
}

/* The ferry error code for a transfer that ended with `code`. */
static int
map_result(const struct job *j, CURLcode code)
{
    if (code == CURLE_OK) {
        return 0;
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        return ERR_TIMEOUT;
    }
    if (code == CURLE_FILESIZE_EXCEEDED ||
        (code == CURLE_WRITE_ERROR && j->too_big)) {
        return ERR_TOOBIG;
    }
    if (j->refused) {
        return ERR_FORBIDDEN;
    }
    if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
        return ERR_INVALID;
    }
    return ERR_UPSTREAM;
}

/* Log one finished transfer: host and path only, never the query. */
static void
log_done(const struct job *j)
{
    CURLU *u = NULL;
    char *host = NULL;
    char *path = NULL;

    if (!log_enabled(LOG_DEBUG)) {
        return;
    }
    u = curl_url();
    if (u != NULL && curl_url_set(u, CURLUPART_URL, j->url,
                                  CURLU_DEFAULT_SCHEME) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
    }
    log_event(LOG_DEBUG, "http", "http.client.done",
              "method=%s host=%s path=%s status=%ld rc=%s ms=%ld", j->method,
              host != NULL ? host : "?", path != NULL ? path : "?",
              j->resp.status, err_str(j->resp.rc), j->resp.elapsed_ms);
    curl_free(path);
    curl_free(host);
    curl_url_cleanup(u);
}

/* Fill `j`'s response from how its transfer ended. */
static void
job_finish(struct job *j, CURLcode code)
{
    struct hclient_response *r = &j->resp;

    r->elapsed_ms = elapsed_ms(&j->start);
    if (r->rc == 0) {
        r->rc = map_result(j, code);
    }
    if (r->rc == 0 || r->rc == ERR_TOOBIG) {
        /* an answer over the ceiling still has its status */
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &r->status);
    }
    if (r->rc == ERR_FORBIDDEN) {
        snprintf(r->error, sizeof(r->error),
                 "refused to connect to %s: not a public address",
                 j->refused_addr);
    } else if (r->rc == ERR_TOOBIG) {
        snprintf(r->error, sizeof(r->error),
                 "response body larger than %zu bytes", j->max_response);
    } else if (j->headers_big) {
        snprintf(r->error, sizeof(r->error),
                 "response headers larger than %ld bytes", HEADERS_MAX);
    } else if (code == CURLE_OUT_OF_MEMORY && j->errbuf[0] == '\0') {
        /* what libcurl says of a header line over its own limit too */
        snprintf(r->error, sizeof(r->error),
                 "the response could not be read: a header line over "
                 "libcurl's 100 KiB limit, or out of memory");
    } else if (code != CURLE_OK) {
        const char *why =
            j->errbuf[0] != '\0' ? j->errbuf : curl_easy_strerror(code);
        size_t n = strnlen(why, sizeof(r->error) - 1);

        memcpy(r->error, why, n);
        r->error[n] = '\0';
    }
    if (r->rc != 0) {
        if (r->rc != ERR_TOOBIG) {
            r->status = 0;
        }
        buf_reset(&j->data);
    }
    r->body = buf_detach(&j->data, &r->body_len);
    log_done(j);
}

/* Call `j`'s callback and free it; its easy handle, reset, is kept in
 * `c` for a later job when there is room. */
static void
job_complete(struct hclient *c, struct job *j)
{
    j->done(j->arg, &j->resp);
    if (j->easy != NULL && c->nidle < c->idle_max) {
        curl_easy_reset(j->easy);
        c->idle[c->nidle++] = j->easy;
        j->easy = NULL;
    }
    job_free(j);
}

/* ---- the client's thread ---- */

static void
active_add(struct hclient *c, struct job *j)
{
    j->prev = NULL;
    j->next = c->active;
    if (c->active != NULL) {
        c->active->prev = j;
    }
    c->active = j;
}

static void
active_remove(struct hclient *c, struct job *j)
{
    if (j->prev != NULL) {
        j->prev->next = j->next;
    } else {
        c->active = j->next;
    }
    if (j->next != NULL) {
        j->next->prev = j->prev;
    }
    j->prev = NULL;
    j->next = NULL;
    curl_multi_remove_handle(c->multi, j->easy);
}

/* Start the jobs of the list `j` (taken from the queue). */
static void
start_jobs(struct hclient *c, struct job *j)
{
    while (j != NULL) {
        struct job *next = j->next;

        j->next = NULL;
        j->client = c;
        if (j->resp.rc == 0 && c->nidle > 0) {
            j->easy = c->idle[--c->nidle];
        }
        if (job_setup(j) == 0 &&
            curl_multi_add_handle(c->multi, j->easy) != CURLM_OK) {
            job_refuse(j, ERR_INTERNAL, "cannot start a transfer");
        }
        if (j->resp.rc != 0) {
            job_finish(j, CURLE_OK);
            job_complete(c, j);
        } else {
            active_add(c, j);
        }
        j = next;
    }
}

/* Complete every transfer curl reports done. */
static void
reap(struct hclient *c)
{
    CURLMsg *msg = NULL;
    int left = 0;

    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        struct job *j = NULL;
        CURLcode code = msg->data.result;

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        active_remove(c, j);
        job_finish(j, code);
        job_complete(c, j);
    }
}

/* Stop waiting: complete every transfer left, with ERR_IO when its
 * request was not sent, else ERR_UPSTREAM (the peer may have it). */
static void
abandon(struct hclient *c)
{
    while (c->active != NULL) {
        struct job *j = c->active;
        long sent = 0;

        if (curl_easy_getinfo(j->easy, CURLINFO_REQUEST_SIZE, &sent) !=
            CURLE_OK) {
            sent = 0;
        }
        active_remove(c, j);
        if (sent > 0) {
            job_refuse(j, ERR_UPSTREAM,
                       "no answer before ferry stopped (the request was "
                       "sent)");
        } else {
            job_refuse(j, ERR_IO, "client stopping");
        }
        job_finish(j, CURLE_OK);
        job_complete(c, j);
    }
}

/* ---- driving curl: its sockets in an epoll set, its one timer ---- */

/* The flags of `fd` in `c`, made room for. */
static unsigned char *
fd_flags(struct hclient *c, curl_socket_t fd)
{
    size_t need = (size_t)fd + 1;

    if (need > c->nfds) {
        size_t n = c->nfds == 0 ? 256 : c->nfds;

        while (n < need) {
            n *= 2;
        }
        c->fds = xrealloc(c->fds, n);
        memset(c->fds + c->nfds, 0, n - c->nfds);
        c->nfds = n;
    }
    return &c->fds[fd];
}

/*
 * CURLMOPT_SOCKETFUNCTION: watch `fd` as curl asks. A socket curl stops
 * watching stays in the epoll set: a kept-alive connection is usually
 * wanted again by the next request, which then costs one EPOLL_CTL_MOD
 * instead of a DEL, a failed MOD and an ADD, or none when it is watched
 * for what the request wants already. It leaves the set when it
 * reports an event nobody wants (drive()) or when curl closes it
 * (close_socket(); the kernel drops a closed socket from the set).
 */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct hclient *c = userp;
    unsigned char *f = NULL;
    struct epoll_event ev;
    unsigned char want = 0;

    (void)easy;
    (void)socketp;
    if (fd < 0) {
        return -1;
    }
    f = fd_flags(c, fd);
    if (what == CURL_POLL_REMOVE) {
        *f &= (unsigned char)~FD_WANTED;
        return 0;
    }
    want = (unsigned char)((what & CURL_POLL_IN ? FD_EV_IN : 0) |
                           (what & CURL_POLL_OUT ? FD_EV_OUT : 0));
    if ((*f & FD_IN_SET) && (*f & (FD_EV_IN | FD_EV_OUT)) == want) {
        *f |= FD_WANTED;
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events =
        (want & FD_EV_IN ? EPOLLIN : 0) | (want & FD_EV_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if ((!(*f & FD_IN_SET) ||
         epoll_ctl(c->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) &&
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        log_event(LOG_ERROR, "http", "http.client.epoll", "fd=%d", (int)fd);
        *f = 0;
        return -1;
    }
    *f = FD_IN_SET | FD_WANTED | want;
    return 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl is done with `fd`, which may be
 * closed: forget it (a later socket may get its number). */
static int
close_socket(void *clientp, curl_socket_t fd)
{
    struct hclient *c = clientp;

    if (fd >= 0 && (size_t)fd < c->nfds) {
        c->fds[fd] = 0;
    }
    return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: when curl wants to be called next. */
static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct hclient *c = userp;

    (void)multi;
    c->timer_at_ms = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    return 0;
}

/* How long the thread may wait: until curl's timer, at most `cap`. */
static int
wait_for(const struct hclient *c, long cap)
{
    long left = cap;

    if (c->timer_at_ms >= 0) {
        left = c->timer_at_ms - mono_ms();
        left = left < 0 ? 0 : left;
        left = left > cap ? cap : left;
    }
    return (int)left;
}

/* Wait up to `wait_ms` and let curl act on what happened. */
static void
drive(struct hclient *c, int wait_ms)
{
    struct epoll_event ev[EVENTS_MAX];
    int running = 0;
    int n = epoll_wait(c->epfd, ev, EVENTS_MAX, wait_ms);
    int i = 0;

    for (i = 0; i < n; i++) {
        unsigned char *f = NULL;
        int flags = 0;

        if (ev[i].data.fd == c->wakefd) {
            uint64_t v = 0;

            if (read(c->wakefd, &v, sizeof(v)) < 0) {
                /* nothing to take: another wake took it */
            }
            continue;
        }
        f = fd_flags(c, ev[i].data.fd);
        if (!(*f & FD_WANTED)) {
            /* an idle connection, still open (curl has not closed it
             * since the wait), that its peer closed or wrote to
             * unasked: what it sent would be read as the answer to
             * the next request on it. Shut it down, so that curl's
             * next use of it fails at once and curl takes a new
             * connection; stop watching it. */
            if (*f & FD_IN_SET) {
                epoll_ctl(c->epfd, EPOLL_CTL_DEL, ev[i].data.fd, NULL);
                shutdown(ev[i].data.fd, SHUT_RDWR);
            }
            *f = 0;
            continue;
        }
        flags |= ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0;
        flags |= ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0;
        flags |= ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0;
        curl_multi_socket_action(c->multi, ev[i].data.fd, flags, &running);
    }
    if (c->timer_at_ms >= 0 && mono_ms() >= c->timer_at_ms) {
        c->timer_at_ms = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

static void
wake(struct hclient *c)
{
    uint64_t one = 1;

    if (write(c->wakefd, &one, sizeof(one)) < 0) {
        /* the counter is full: the thread is woken anyway */
    }
}

static void *
run(void *arg)
{
    struct hclient *c = arg;
    struct timespec stop_at;
    int stopping = 0;

    for (;;) {
        struct job *taken = NULL;
        long cap = IDLE_POLL_MS;

        pthread_mutex_lock(&c->lock);
        taken = c->queue;
        c->queue = NULL;
        c->queue_tail = NULL;
        if (c->stopping && !stopping) {
            stopping = 1;
            clock_gettime(CLOCK_MONOTONIC, &stop_at);
        }
        pthread_mutex_unlock(&c->lock);

        /* once stopping is seen, nothing more can be queued; a new
         * transfer sets curl's timer to now, so drive() starts it */
        start_jobs(c, taken);
        reap(c);
        if (stopping && c->active == NULL) {
            break;
        }
        if (stopping && elapsed_ms(&stop_at) >= STOP_GRACE_MS) {
            abandon(c);
            break;
        }
        if (stopping) {
            long left = STOP_GRACE_MS - elapsed_ms(&stop_at);

            cap = left < 1 ? 1 : left;
        }
        pthread_mutex_lock(&c->lock);
        if (c->queue != NULL) {
            /* queued by a callback just now */
            cap = 0;
        }
        pthread_mutex_unlock(&c->lock);
        drive(c, wait_for(c, cap));
        reap(c);
    }
    return NULL;
}

/* Free what hclient_start_pool() made of `c` (its thread not running). */
static void
client_free(struct hclient *c)
{
    size_t i = 0;

    for (i = 0; i < c->nidle; i++) {
        curl_easy_cleanup(c->idle[i]);
    }
    free(c->idle);
    if (c->multi != NULL) {
        curl_multi_cleanup(c->multi);
    }
    free(c->fds);
    if (c->epfd >= 0) {
        close(c->epfd);
    }
    if (c->wakefd >= 0) {
        close(c->wakefd);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int
hclient_start_pool(struct hclient **out, long max_connections, struct err *e)
{
    struct hclient *c = NULL;
    struct epoll_event ev;
    long conns = max_connections > 0 ? max_connections : MAX_CONNECTIONS;

    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        return err_set(e, ERR_INTERNAL, "curl_global_init: %s",
                       curl_easy_strerror(curl_init_rc));
    }
    c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->timer_at_ms = -1;
    c->idle_max = (size_t)conns;
    c->idle = xcalloc(c->idle_max, sizeof(*c->idle));
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->multi = curl_multi_init();
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = c->wakefd;
    if (c->epfd < 0 || c->wakefd < 0 || c->multi == NULL ||
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) != 0) {
        client_free(c);
        return err_set(e, ERR_INTERNAL, "cannot set up the HTTP client");
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
    /* keep as many idle connections as may be open: a destination's
     * connections stay alive while its next claims are written */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, conns);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        client_free(c);
        return err_set(e, ERR_IO, "cannot start the HTTP client thread");
    }
    *out = c;
    return 0;
}

int
hclient_start(struct hclient **out, struct err *e)
{
    return hclient_start_pool(out, MAX_CONNECTIONS, e);
}

int
hclient_send(struct hclient *c, const struct hclient_request *r,
             hclient_done_fn done, void *arg)
{
    struct job *j = job_new(r, done, arg);

    pthread_mutex_lock(&c->lock);
    if (c->stopping) {
        pthread_mutex_unlock(&c->lock);
        job_free(j);
        return ERR_IO;
    }
    if (c->queue_tail != NULL) {
        /* the thread has not taken the queue since it was woken for
         * its first job */
        c->queue_tail->next = j;
    } else {
        c->queue = j;
        /* woken under the lock, so hclient_stop() cannot free c
         * meanwhile; a callback on the thread itself needs no wake (the
         * loop takes the queue before it waits) */
        if (!pthread_equal(pthread_self(), c->thread)) {
            wake(c);
        }
    }
    c->queue_tail = j;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int
hclient_fetch(struct hclient *c, const struct hclient_request *r,
              struct hclient_response *out)
{
    struct job *j = job_new(r, NULL, NULL);
    CURLcode code = CURLE_OK;

    (void)c;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        job_refuse(j, ERR_INTERNAL, "curl_global_init failed");
    }
    if (job_setup(j) == 0) {
        code = curl_easy_perform(j->easy);
    }
    job_finish(j, code);

    /* the response moves to `out`; the job goes */
    *out = j->resp;
    j->resp.body = NULL;
    job_free(j);
    return out->rc;
}

void
hclient_response_release(struct hclient_response *r)
{
    if (r == NULL || r->body == NULL) {
        return;
    }
    crypto_wipe(r->body, r->body_len);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

void
hclient_stop(struct hclient *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_mutex_unlock(&c->lock);
    wake(c);
    pthread_join(c->thread, NULL);
    client_free(c);
}
