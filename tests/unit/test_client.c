/*
 * test_client.c - the outbound HTTP client against a small HTTP/1.1
 * server of the test's own on 127.0.0.1.
 *
 * The server runs one thread per connection, keeps connections alive
 * and answers by path:
 *
 *     /ok        200 text/plain "hello world"
 *     /fail      500 application/json
 *     /big       200 with Content-Length 5000
 *     /stream    200 with 5000 bytes and no length (ends at close)
 *     /hang      reads the request and never answers
 *     /slow      200 after 200 ms
 *     /echo      200: the method, a newline, then the request body
 *     /headers   200: the request's header block
 *     /retry     429 with Retry-After: 120
 *     /redirect  302 to /ok
 *     /junk      200 "hello world", then 50 ms later, unasked, a 408
 *                answer on the idle connection, which stays open
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "http/client.h"
#include "tap.h"

#define REQ_MAX    (512 * 1024)
#define MAX_CONNS  256
#define BIG_BODY   5000
#define MANY       60
#define POST_BYTES (100 * 1000)

/* ---- the test server ---- */

struct server {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int conns[MAX_CONNS]; /* live connection fds, -1 when free */
    int live;
    int accepted;
};

static struct server srv;

/* Milliseconds on `clock`. */
static long
clock_ms(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long
now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

static int
send_all(int fd, const void *p, size_t n)
{
    const char *q = p;

    while (n > 0) {
        ssize_t k = send(fd, q, n, MSG_NOSIGNAL);

        if (k <= 0) {
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

static int
reply(int fd, const char *status, const char *extra, const char *body, size_t n)
{
    char head[512];
    int len = snprintf(head, sizeof(head),
                       "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n", status,
                       extra, n);

    if (len < 0 || (size_t)len >= sizeof(head) ||
        send_all(fd, head, (size_t)len) < 0) {
        return -1;
    }
    return send_all(fd, body, n);
}

/* Wait until the peer closes `fd` (or the server shuts it down). */
static void
wait_close(int fd)
{
    char c[256];

    while (recv(fd, c, sizeof(c), 0) > 0) {
    }
}

/* Read one request into `buf`: header block length in `*hlen`, body at
 * buf + *hlen, length `*blen`. -1 at EOF or on an error. */
static int
read_request(int fd, char *buf, size_t *hlen, size_t *blen)
{
    size_t have = 0;
    size_t clen = 0;
    char *end = NULL;
    char *p = NULL;

    for (;;) {
        ssize_t k = 0;

        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            break;
        }
        k = recv(fd, buf + have, REQ_MAX - 1 - have, 0);
        if (k <= 0) {
            return -1;
        }
        have += (size_t)k;
    }
    *hlen = (size_t)(end - buf) + 4;
    for (p = strstr(buf, "\r\n"); p != NULL && p < end;
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, "Content-Length:", 15) == 0) {
            clen = strtoul(p + 17, NULL, 10);
        }
    }
    if (*hlen + clen > REQ_MAX - 1) {
        return -1;
    }
    while (have < *hlen + clen) {
        ssize_t k = recv(fd, buf + have, *hlen + clen - have, 0);

        if (k <= 0) {
            return -1;
        }
        have += (size_t)k;
    }
    *blen = clen;
    return 0;
}

/* Answer one request; 1 when the connection should stay open. */
static int
answer(int fd, char *req, size_t hlen, size_t blen)
{
    static char big[BIG_BODY];
    char method[16] = "";
    char path[256] = "";
    char *echo = NULL;
    int rc = 0;

    sscanf(req, "%15s %255s", method, path);
    path[strcspn(path, "?")] = '\0';
    memset(big, 'x', sizeof(big));
    if (strcmp(path, "/ok") == 0) {
        rc = reply(fd, "200 OK", "Content-Type: text/plain; charset=utf-8\r\n",
                   "hello world", 11);
    } else if (strcmp(path, "/fail") == 0) {
        rc = reply(fd, "500 Internal Server Error",
                   "Content-Type: application/json\r\n", "{\"e\":1}", 7);
    } else if (strcmp(path, "/big") == 0) {
        rc = reply(fd, "200 OK", "", big, sizeof(big));
    } else if (strcmp(path, "/stream") == 0) {
        send_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 38);
        send_all(fd, big, sizeof(big));
        return 0;
    } else if (strcmp(path, "/hang") == 0) {
        wait_close(fd);
        return 0;
    } else if (strcmp(path, "/slow") == 0) {
        usleep(200 * 1000);
        rc = reply(fd, "200 OK", "", "slow", 4);
    } else if (strcmp(path, "/echo") == 0) {
        echo = malloc(blen + 32);
        memcpy(echo, method, strlen(method));
        echo[strlen(method)] = '\n';
        memcpy(echo + strlen(method) + 1, req + hlen, blen);
        rc = reply(fd, "200 OK", "", echo, strlen(method) + 1 + blen);
        free(echo);
    } else if (strcmp(path, "/headers") == 0) {
        rc = reply(fd, "200 OK", "", req, hlen);
    } else if (strcmp(path, "/retry") == 0) {
        rc = reply(fd, "429 Too Many Requests",
                   "Retry-After:   120  \r\nContent-Type: text/plain\r\n", "",
                   0);
    } else if (strcmp(path, "/manyheaders") == 0) {
        /* 1,200 short lines: 73 KiB of headers, none of them long */
        char *h = malloc(1200 * 64 + 64);
        size_t k = 0;
        int i = 0;

        k = (size_t)snprintf(h, 64, "HTTP/1.1 200 OK\r\n");
        for (i = 0; i < 1200; i++) {
            k += (size_t)snprintf(h + k, 65, "X-Pad-%04d: %050d\r\n", i, i);
        }
        k += (size_t)snprintf(h + k, 64, "Content-Length: 0\r\n\r\n");
        rc = send_all(fd, h, k);
        free(h);
    } else if (strcmp(path, "/junk") == 0) {
        static const char junk[] = "HTTP/1.1 408 Request Timeout\r\n"
                                   "Content-Length: 0\r\n\r\n";

        rc = reply(fd, "200 OK", "", "hello world", 11);
        usleep(50 * 1000);
        if (rc == 0) {
            rc = send_all(fd, junk, sizeof(junk) - 1);
        }
    } else if (strcmp(path, "/redirect") == 0) {
        rc = reply(fd, "302 Found", "Location: /ok\r\n", "", 0);
    } else {
        rc = reply(fd, "404 Not Found", "", "", 0);
    }
    return rc == 0;
}

static void
conn_track(int fd, int add)
{
    int i = 0;

    pthread_mutex_lock(&srv.lock);
    for (i = 0; i < MAX_CONNS; i++) {
        if (add && srv.conns[i] == -1) {
            srv.conns[i] = fd;
            srv.live++;
            break;
        }
        if (!add && srv.conns[i] == fd) {
            srv.conns[i] = -1;
            srv.live--;
            break;
        }
    }
    pthread_cond_broadcast(&srv.cond);
    pthread_mutex_unlock(&srv.lock);
}

static void *
conn_main(void *arg)
{
    int fd = (int)(long)arg;
    char *buf = malloc(REQ_MAX);
    size_t hlen = 0;
    size_t blen = 0;

    while (read_request(fd, buf, &hlen, &blen) == 0 &&
           answer(fd, buf, hlen, blen)) {
    }
    free(buf);
    conn_track(fd, 0);
    close(fd);
    return NULL;
}

static void *
accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t t;
        int fd = accept(srv.fd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        pthread_mutex_lock(&srv.lock);
        srv.accepted++;
        pthread_mutex_unlock(&srv.lock);
        conn_track(fd, 1);
        pthread_create(&t, NULL, conn_main, (void *)(long)fd);
        pthread_detach(t);
    }
}

static int
listen_local(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(fd, 512) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void
server_start(void)
{
    int i = 0;

    for (i = 0; i < MAX_CONNS; i++) {
        srv.conns[i] = -1;
    }
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.cond, NULL);
    srv.fd = listen_local(&srv.port);
    if (srv.fd < 0) {
        printf("Bail out! cannot listen on 127.0.0.1\n");
        exit(1);
    }
    pthread_create(&srv.thread, NULL, accept_main, NULL);
}

/* Close every connection the server holds, as a peer that ends idle
 * kept-alive connections does, and wait until they are gone. */
static void
server_drop_conns(void)
{
    int i = 0;

    pthread_mutex_lock(&srv.lock);
    for (i = 0; i < MAX_CONNS; i++) {
        if (srv.conns[i] != -1) {
            shutdown(srv.conns[i], SHUT_RDWR);
        }
    }
    while (srv.live > 0) {
        pthread_cond_wait(&srv.cond, &srv.lock);
    }
    pthread_mutex_unlock(&srv.lock);
}

static void
server_stop(void)
{
    shutdown(srv.fd, SHUT_RDWR);
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    server_drop_conns();
}

static int
accepted(void)
{
    int n = 0;

    pthread_mutex_lock(&srv.lock);
    n = srv.accepted;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

static const char *
url(const char *path)
{
    static char u[8][128];
    static int next;
    char *p = u[next++ % 8];

    snprintf(p, sizeof(u[0]), "http://127.0.0.1:%d%s", srv.port, path);
    return p;
}

/* ---- blocking fetches ---- */

static int
fetch(const char *path, struct hclient_response *out)
{
    struct hclient_request r = {.method = "GET", .url = url(path)};

    return hclient_fetch(NULL, &r, out);
}

static void
test_fetch_basic(void)
{
    struct hclient_response res;

    is_int(fetch("/ok", &res), 0, "200: rc 0");
    is_int(res.status, 200, "200: status");
    is_str(res.body, "hello world", "200: body");
    is_int(res.body_len, 11, "200: body_len");
    is_str(res.content_type, "text/plain; charset=utf-8", "200: content type");
    is_str(res.retry_after, "", "200: no Retry-After");
    is_str(res.error, "", "200: no error");
    ok(res.elapsed_ms >= 0 && res.elapsed_ms < 5000, "200: elapsed_ms");
    hclient_response_release(&res);
    ok(res.body == NULL, "release: body NULL");
    hclient_response_release(&res);
    hclient_response_release(NULL);

    is_int(fetch("/fail", &res), 0, "500: rc 0");
    is_int(res.status, 500, "500: status");
    is_str(res.body, "{\"e\":1}", "500: body");
    is_str(res.content_type, "application/json", "500: content type");
    hclient_response_release(&res);

    is_int(fetch("/retry", &res), 0, "429: rc 0");
    is_int(res.status, 429, "429: status");
    is_str(res.retry_after, "120", "429: Retry-After captured, trimmed");
    is_str(res.body, "", "429: empty body is \"\"");
    hclient_response_release(&res);

    is_int(fetch("/redirect", &res), 0, "302: rc 0");
    is_int(res.status, 302, "302: not followed");
    hclient_response_release(&res);
}

static void
test_fetch_limits(void)
{
    struct hclient_request r = {.url = url("/big"), .max_response = 1000};
    struct hclient_response res;
    long t0 = 0;

    is_int(hclient_fetch(NULL, &r, &res), ERR_TOOBIG,
           "Content-Length over max_response: ERR_TOOBIG");
    is_int(res.rc, ERR_TOOBIG, "too big: rc in the response");
    is_str(res.body, "", "too big: no partial body");
    ok(strstr(res.error, "1000") != NULL, "too big: said");
    hclient_response_release(&res);

    r.url = url("/stream");
    is_int(hclient_fetch(NULL, &r, &res), ERR_TOOBIG,
           "unannounced body over max_response: ERR_TOOBIG");
    hclient_response_release(&res);

    r.url = url("/big");
    r.max_response = BIG_BODY;
    is_int(hclient_fetch(NULL, &r, &res), 0, "body at max_response: 0");
    is_int(res.body_len, BIG_BODY, "body at max_response: whole");
    hclient_response_release(&res);

    r.url = url("/manyheaders");
    is_int(hclient_fetch(NULL, &r, &res), ERR_UPSTREAM,
           "headers over 64 KiB in all: ERR_UPSTREAM");
    ok(strstr(res.error, "response headers larger than 65536") != NULL,
       "... said so");
    hclient_response_release(&res);

    r.url = url("/hang");
    r.max_response = 0;
    r.timeout_ms = 300;
    t0 = now_ms();
    is_int(hclient_fetch(NULL, &r, &res), ERR_TIMEOUT,
           "no answer: ERR_TIMEOUT");
    ok(now_ms() - t0 >= 250 && now_ms() - t0 < 2000,
       "no answer: within the 300 ms timeout");
    ok(res.error[0] != '\0', "timeout: error text");
    hclient_response_release(&res);
}

static void
test_fetch_refused(void)
{
    struct hclient_request r = {.method = "GET"};
    struct hclient_response res;
    char u[64];
    int port = 0;
    int fd = listen_local(&port);

    /* a port that was just free and is closed again */
    close(fd);
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port);
    r.url = u;
    is_int(hclient_fetch(NULL, &r, &res), ERR_UPSTREAM,
           "connection refused: ERR_UPSTREAM");
    ok(res.error[0] != '\0', "connection refused: error text");
    hclient_response_release(&res);

    r.url = "ftp://127.0.0.1/x";
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID, "ftp: ERR_INVALID");
    hclient_response_release(&res);
    r.url = "file:///etc/passwd";
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID, "file: ERR_INVALID");
    hclient_response_release(&res);
    r.url = NULL;
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID, "no URL: ERR_INVALID");
    hclient_response_release(&res);
}

static void
check_forbidden(const char *u, const char *name)
{
    struct hclient_request r = {.url = u, .public_only = 1};
    struct hclient_response res;
    int before = accepted();

    is_int(hclient_fetch(NULL, &r, &res), ERR_FORBIDDEN, name);
    ok(strstr(res.error, "not a public address") != NULL, name);
    is_int(accepted(), before, "refused before connecting");
    hclient_response_release(&res);
}

static void
test_public_only(void)
{
    char u[64];

    check_forbidden(url("/ok"), "public_only: 127.0.0.1 refused");
    snprintf(u, sizeof(u), "http://localhost:%d/ok", srv.port);
    check_forbidden(u, "public_only: localhost refused");
    snprintf(u, sizeof(u), "http://2130706433:%d/ok", srv.port);
    check_forbidden(u, "public_only: 127.0.0.1 as a number refused");
    snprintf(u, sizeof(u), "http://[::1]:%d/ok", srv.port);
    check_forbidden(u, "public_only: ::1 refused");
    snprintf(u, sizeof(u), "http://[::ffff:127.0.0.1]:%d/ok", srv.port);
    check_forbidden(u, "public_only: mapped 127.0.0.1 refused");
    check_forbidden("http://10.1.2.3:9/", "public_only: 10/8 refused");
    check_forbidden("http://169.254.169.254/latest/meta-data/",
                    "public_only: metadata address refused");
}

static int
priv4(const char *s)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    inet_pton(AF_INET, s, &a.sin_addr);
    return hclient_addr_is_private((struct sockaddr *)&a);
}

static int
priv6(const char *s)
{
    struct sockaddr_in6 a;

    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, s, &a.sin6_addr);
    return hclient_addr_is_private((struct sockaddr *)&a);
}

static void
test_private_ranges(void)
{
    static const char *const v4_private[] = {
        "0.0.0.0",        "0.1.2.3",         "10.0.0.1",
        "10.255.255.255", "100.64.0.1",      "100.127.255.255",
        "127.0.0.1",      "127.255.255.254", "169.254.169.254",
        "172.16.0.1",     "172.31.255.255",  "192.168.1.1",
        "192.0.0.8",      "192.0.2.1",       "198.18.0.1",
        "198.51.100.7",   "203.0.113.9",     "224.0.0.1",
        "240.0.0.1",      "255.255.255.255",
    };
    static const char *const v4_public[] = {
        "1.1.1.1",        "8.8.8.8",         "100.63.255.255", "100.128.0.1",
        "172.15.255.255", "172.32.0.1",      "169.253.0.1",    "192.169.0.1",
        "11.0.0.1",       "223.255.255.255",
    };
    static const char *const v6_private[] = {
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:0:127.0.0.1",
        "::ffff:0:169.254.169.254",
        "::127.0.0.1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "100::1",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
    };
    static const char *const v6_public[] = {
        "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
        "64:ff9b::808:808",     "2002:808:808::1",      "2a00:1450::1",
        "::ffff:0:8.8.8.8",
    };
    struct sockaddr unix_like = {.sa_family = AF_UNIX};
    size_t i = 0;
    int all = 1;

    for (i = 0; i < sizeof(v4_private) / sizeof(v4_private[0]); i++) {
        if (!priv4(v4_private[i])) {
            printf("# not refused: %s\n", v4_private[i]);
            all = 0;
        }
    }
    ok(all, "private IPv4 ranges refused");
    all = 1;
    for (i = 0; i < sizeof(v4_public) / sizeof(v4_public[0]); i++) {
        if (priv4(v4_public[i])) {
            printf("# refused: %s\n", v4_public[i]);
            all = 0;
        }
    }
    ok(all, "public IPv4 addresses allowed");
    all = 1;
    for (i = 0; i < sizeof(v6_private) / sizeof(v6_private[0]); i++) {
        if (!priv6(v6_private[i])) {
            printf("# not refused: %s\n", v6_private[i]);
            all = 0;
        }
    }
    ok(all, "private IPv6 ranges refused (mapped, NAT64, 6to4 included)");
    all = 1;
    for (i = 0; i < sizeof(v6_public) / sizeof(v6_public[0]); i++) {
        if (priv6(v6_public[i])) {
            printf("# refused: %s\n", v6_public[i]);
            all = 0;
        }
    }
    ok(all, "public IPv6 addresses allowed");
    ok(hclient_addr_is_private(&unix_like), "other families refused");
}

static void
test_post(void)
{
    struct hclient_request r = {.method = "POST", .url = url("/echo")};
    struct hclient_response res;
    char *body = malloc(POST_BYTES);
    size_t i = 0;

    for (i = 0; i < POST_BYTES; i++) {
        body[i] = (char)(i * 7 + i / 251);
    }
    r.body = body;
    r.body_len = POST_BYTES;
    r.headers[0] = "Content-Type: application/octet-stream";
    is_int(hclient_fetch(NULL, &r, &res), 0, "POST: rc 0");
    is_int(res.body_len, POST_BYTES + 5, "POST: echo length");
    ok(res.body_len == POST_BYTES + 5 && memcmp(res.body, "POST\n", 5) == 0 &&
           memcmp(res.body + 5, body, POST_BYTES) == 0,
       "POST: 100 kB binary body arrived intact");
    hclient_response_release(&res);

    r.method = "PUT";
    r.body = NULL;
    r.body_len = 0;
    is_int(hclient_fetch(NULL, &r, &res), 0, "PUT without body: rc 0");
    is_str(res.body, "PUT\n", "PUT without body: method and empty body");
    hclient_response_release(&res);

    r.method = "DELETE";
    is_int(hclient_fetch(NULL, &r, &res), 0, "DELETE: rc 0");
    is_str(res.body, "DELETE\n", "DELETE: method");
    hclient_response_release(&res);

    r.method = "GET";
    r.body = "x";
    r.body_len = 1;
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID, "GET with body refused");
    hclient_response_release(&res);
    r.method = "get me";
    r.body = NULL;
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID, "bad method refused");
    hclient_response_release(&res);
    free(body);
}

static void
test_headers(void)
{
    struct hclient_request r = {.url = url("/headers")};
    struct hclient_response res;

    r.headers[0] = "Authorization: Bearer abc";
    r.headers[1] = "X-Thing: 1";
    is_int(hclient_fetch(NULL, &r, &res), 0, "headers: rc 0");
    ok(strstr(res.body, "\r\nAuthorization: Bearer abc\r\n") != NULL,
       "headers: Authorization sent");
    ok(strstr(res.body, "\r\nX-Thing: 1\r\n") != NULL, "headers: second sent");
    ok(strstr(res.body, "User-Agent: ferry/") != NULL, "headers: User-Agent");
    ok(strstr(res.body, "Expect:") == NULL, "headers: no Expect");
    hclient_response_release(&res);

    r.headers[1] = "X-Evil: 1\r\nX-Injected: 2";
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID,
           "header with CR LF refused");
    hclient_response_release(&res);
    r.headers[1] = "No colon";
    is_int(hclient_fetch(NULL, &r, &res), ERR_INVALID,
           "header without a colon refused");
    hclient_response_release(&res);
}

/* A debug line per transfer names host and path, never the query or a
 * header. */
static void
test_log_line(void)
{
    struct hclient_request r = {.url = NULL};
    struct hclient_response res;
    char line[2048] = "";
    FILE *cap = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n = 0;

    r.url = url("/ok?api_secret=qs-value-123");
    r.headers[0] = "Authorization: Bearer hdr-value-456";
    fflush(stderr);
    dup2(fileno(cap), STDERR_FILENO);
    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    hclient_fetch(NULL, &r, &res);
    log_setup(LOG_INFO, LOG_FMT_LOGFMT);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(cap);
    n = fread(line, 1, sizeof(line) - 1, cap);
    line[n] = '\0';
    fclose(cap);
    hclient_response_release(&res);
    ok(strstr(line, "event=http.client.done") != NULL, "log: one line");
    ok(strstr(line, "path=/ok") != NULL && strstr(line, "status=200") != NULL,
       "log: path and status");
    ok(strstr(line, "qs-value") == NULL && strstr(line, "api_secret") == NULL,
       "log: no query string");
    ok(strstr(line, "hdr-value") == NULL, "log: no header");
}

/* ---- the threaded client ---- */

struct slot {
    int calls;
    int rc;
    long status;
    char body[64];
    int other_thread;
    int take; /* the callback keeps the body */
    char *taken;
};

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static int w_done;
static pthread_t main_thread;

static void
on_done(void *arg, struct hclient_response *r)
{
    struct slot *s = arg;

    pthread_mutex_lock(&w_lock);
    s->calls++;
    s->rc = r->rc;
    s->status = r->status;
    snprintf(s->body, sizeof(s->body), "%s", r->body != NULL ? r->body : "?");
    s->other_thread = !pthread_equal(pthread_self(), main_thread);
    if (s->take) {
        s->taken = r->body;
        r->body = NULL;
    }
    w_done++;
    pthread_cond_broadcast(&w_cond);
    pthread_mutex_unlock(&w_lock);
}

/* Wait until `n` callbacks have run since the last reset, at most
 * `ms`; the number that ran. */
static int
wait_done(int n, long ms)
{
    long until = now_ms() + ms;
    int got = 0;

    pthread_mutex_lock(&w_lock);
    while (w_done < n && now_ms() < until) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w_cond, &w_lock, &ts);
    }
    got = w_done;
    pthread_mutex_unlock(&w_lock);
    return got;
}

static void
reset_done(void)
{
    pthread_mutex_lock(&w_lock);
    w_done = 0;
    pthread_mutex_unlock(&w_lock);
}

static void
test_async_many(struct hclient *c)
{
    static struct slot slots[MANY];
    struct hclient_request r = {.method = "GET"};
    long t0 = now_ms();
    int all_once = 1;
    int all_ok = 1;
    int i = 0;

    reset_done();
    memset(slots, 0, sizeof(slots));
    for (i = 0; i < MANY; i++) {
        r.url = url(i % 2 == 0 ? "/slow" : "/ok");
        if (hclient_send(c, &r, on_done, &slots[i]) != 0) {
            all_ok = 0;
        }
    }
    ok(all_ok, "many: all queued");
    is_int(wait_done(MANY, 10000), MANY, "many: every callback ran");
    ok(now_ms() - t0 < 3000, "many: ran concurrently");
    usleep(100 * 1000);
    pthread_mutex_lock(&w_lock);
    for (i = 0; i < MANY; i++) {
        const char *want = i % 2 == 0 ? "slow" : "hello world";

        all_once &= slots[i].calls == 1;
        all_ok &= slots[i].rc == 0 && slots[i].status == 200 &&
                  strcmp(slots[i].body, want) == 0 && slots[i].other_thread;
    }
    pthread_mutex_unlock(&w_lock);
    ok(all_once, "many: each callback exactly once");
    ok(all_ok, "many: each answer right, on the client's thread");
}

static void
test_async_kinds(struct hclient *c)
{
    static struct slot s[6];
    struct hclient_request r = {.method = "GET"};

    reset_done();
    memset(s, 0, sizeof(s));
    r.url = url("/fail");
    hclient_send(c, &r, on_done, &s[0]);
    r.url = url("/big");
    r.max_response = 100;
    hclient_send(c, &r, on_done, &s[1]);
    r.max_response = 0;
    r.url = url("/hang");
    r.timeout_ms = 300;
    hclient_send(c, &r, on_done, &s[2]);
    r.timeout_ms = 0;
    r.url = url("/ok");
    r.public_only = 1;
    hclient_send(c, &r, on_done, &s[3]);
    r.public_only = 0;
    r.headers[0] = "Bad\nheader: x";
    hclient_send(c, &r, on_done, &s[4]);
    r.headers[0] = NULL;
    s[5].take = 1;
    hclient_send(c, &r, on_done, &s[5]);

    is_int(wait_done(6, 5000), 6, "async kinds: every callback ran");
    is_int(s[0].rc, 0, "async 500: rc 0");
    is_int(s[0].status, 500, "async 500: status");
    is_int(s[1].rc, ERR_TOOBIG, "async too big");
    is_int(s[2].rc, ERR_TIMEOUT, "async timeout");
    is_int(s[3].rc, ERR_FORBIDDEN, "async public_only");
    is_int(s[4].rc, ERR_INVALID, "async invalid request: done called");
    is_str(s[5].taken, "hello world", "callback took the body");
    free(s[5].taken);
}

/* A connection opened without public_only must not be reused by a
 * request with it. */
static void
test_reuse_checked(struct hclient *c)
{
    static struct slot s[3];
    struct hclient_request r = {.url = url("/ok")};
    int before = 0;

    memset(s, 0, sizeof(s));
    reset_done();
    hclient_send(c, &r, on_done, &s[0]);
    wait_done(1, 5000);
    before = accepted();
    hclient_send(c, &r, on_done, &s[1]);
    wait_done(2, 5000);
    is_int(accepted(), before, "reuse: a kept-alive connection is reused");
    r.public_only = 1;
    hclient_send(c, &r, on_done, &s[2]);
    wait_done(3, 5000);
    is_int(s[2].rc, ERR_FORBIDDEN,
           "reuse: public_only refuses a pooled private connection");
}

/* Four POSTs to /echo from `s`, each with its own body ("`tag` i"),
 * kept by the caller when `kept`; their callbacks are not waited for. */
#define ECHOES 4
static char echo_bodies[ECHOES][32];

static void
echo_send(struct hclient *c, struct slot *s, const char *tag, int kept)
{
    struct hclient_request r = {.method = "POST", .body_kept = kept};
    int i = 0;

    r.url = url("/echo");
    for (i = 0; i < ECHOES; i++) {
        snprintf(echo_bodies[i], sizeof(echo_bodies[i]), "%s %d", tag, i);
        r.body = echo_bodies[i];
        r.body_len = strlen(echo_bodies[i]);
        hclient_send(c, &r, on_done, &s[i]);
    }
}

/* 1 when each of the ECHOES answers in `s` echoed its own body. */
static int
echo_right(const struct slot *s)
{
    int all = 1;
    int i = 0;

    pthread_mutex_lock(&w_lock);
    for (i = 0; i < ECHOES; i++) {
        char want[300];

        snprintf(want, sizeof(want), "POST\n%s", echo_bodies[i]);
        all &=
            s[i].rc == 0 && s[i].status == 200 && strcmp(s[i].body, want) == 0;
    }
    pthread_mutex_unlock(&w_lock);
    return all;
}

/* A body the caller keeps is sent from its own memory. */
static void
test_body_kept(struct hclient *c)
{
    static struct slot s[ECHOES];

    reset_done();
    memset(s, 0, sizeof(s));
    echo_send(c, s, "kept body", 1);
    is_int(wait_done(ECHOES, 5000), ECHOES, "kept body: every callback ran");
    ok(echo_right(s), "kept body: each request carried its own body");
}

/*
 * Idle connections the peer closes: the client must neither spin on
 * them (a socket it no longer waits on stays watched until it reports
 * something) nor lose track of a socket number used again by a new
 * connection. Rounds of requests, each after the server dropped every
 * connection.
 */
static void
test_peer_closes_idle(struct hclient *c)
{
    static struct slot s[40];
    struct hclient_request r = {.method = "GET"};
    int round = 0;
    int all = 1;
    long cpu = 0;

    memset(s, 0, sizeof(s));
    r.url = url("/ok");
    for (round = 0; round < 4; round++) {
        int i = 0;

        reset_done();
        for (i = 0; i < 10; i++) {
            hclient_send(c, &r, on_done, &s[round * 10 + i]);
        }
        all &= wait_done(10, 5000) == 10;
        server_drop_conns();
    }
    pthread_mutex_lock(&w_lock);
    for (round = 0; round < 40; round++) {
        all &=
            s[round].calls == 1 && s[round].rc == 0 && s[round].status == 200;
    }
    pthread_mutex_unlock(&w_lock);
    ok(all, "peer closes idle: every request of every round answered");
    cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    usleep(500 * 1000);
    /* a client spinning on closed sockets would burn the whole 500 ms */
    ok(clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu < 250,
       "peer closes idle: the client does not spin");
}

/*
 * A peer that writes to an idle kept-alive connection unasked (an
 * early 408, as some servers send before closing): that answer must
 * not be taken for the next request's. Four connections get one, then
 * four requests follow, each with its own body echoed.
 */
static void
test_unasked_answer(struct hclient *c)
{
    static struct slot s[4 + ECHOES];
    struct hclient_request r = {.method = "GET"};
    int all = 1;
    int i = 0;

    reset_done();
    memset(s, 0, sizeof(s));
    r.url = url("/junk");
    for (i = 0; i < 4; i++) {
        hclient_send(c, &r, on_done, &s[i]);
    }
    is_int(wait_done(4, 5000), 4, "unasked answer: the first four ran");
    usleep(300 * 1000);
    echo_send(c, s + 4, "after junk", 0);
    is_int(wait_done(4 + ECHOES, 5000), 4 + ECHOES,
           "unasked answer: the next four ran");
    pthread_mutex_lock(&w_lock);
    for (i = 0; i < 4; i++) {
        all &= s[i].rc == 0 && s[i].status == 200;
    }
    pthread_mutex_unlock(&w_lock);
    ok(all && echo_right(s + 4),
       "unasked answer: each request got its own answer, not the "
       "408 left on its connection");
}

static void
test_stop_in_flight(void)
{
    static struct slot s[6];
    struct hclient_request r = {.method = "GET"};
    struct hclient *c = NULL;
    long t0 = 0;
    int i = 0;
    int all = 1;

    is_int(hclient_start(&c, NULL), 0, "stop: second client started");
    reset_done();
    memset(s, 0, sizeof(s));
    r.url = url("/hang");
    for (i = 0; i < 5; i++) {
        hclient_send(c, &r, on_done, &s[i]);
    }
    r.url = url("/ok");
    hclient_send(c, &r, on_done, &s[5]);
    wait_done(1, 5000);
    usleep(50 * 1000);
    t0 = now_ms();
    hclient_stop(c);
    ok(now_ms() - t0 < 5000, "stop: returns after the grace");
    for (i = 0; i < 5; i++) {
        all &= s[i].calls == 1 && s[i].rc == ERR_UPSTREAM;
    }
    ok(all, "stop: each request in flight, sent, done once with "
            "ERR_UPSTREAM (the peer may have it)");
    is_int(s[5].calls, 1, "stop: the finished one done once");
    is_int(s[5].rc, 0, "stop: the finished one succeeded");
    hclient_stop(NULL);
}

int
main(void)
{
    struct hclient *c = NULL;
    struct err e;

    main_thread = pthread_self();
    server_start();
    test_private_ranges();
    test_fetch_basic();
    test_fetch_limits();
    test_fetch_refused();
    test_public_only();
    test_post();
    test_headers();
    test_log_line();

    is_int(hclient_start(&c, &e), 0, "client started");
    test_async_many(c);
    test_async_kinds(c);
    test_reuse_checked(c);
    test_body_kept(c);
    test_peer_closes_idle(c);
    test_unasked_answer(c);
    hclient_stop(c);
    test_stop_in_flight();

    server_stop();
    return done_testing();
}
