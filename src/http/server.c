/*
 * server.c - libmicrohttpd glue: request state, limits, deferred
 * answers, the access log.
 *
 * A deferred request goes through these steps, under the server's
 * `lock`: the handler calls http_defer() and returns; park() counts the
 * connection in `parked` and suspends it, then marks it `suspended`;
 * http_finish() stores the answer and marks it `answered`. Whichever of
 * the last two comes second resumes the connection and uncounts it, so
 * a connection is resumed exactly once and only after it was suspended.
 * The resumed final call queues the stored answer. While the server
 * stops, park() waits for the answer instead of suspending.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/xmalloc.h"
#include "http/guard.h"
#include "http/reply.h"
#include "http/server.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_options opt;
    char addr[INET6_ADDRSTRLEN + 16];
    unsigned port;
    pthread_mutex_t lock; /* guards what follows and requests' deferral */
    pthread_cond_t cond;  /* broadcast on each answer and each unpark */
    unsigned parked;      /* deferred connections not yet resumed */
    int stopping;         /* http_server_stop() began: no new parking */
};

/* Everything one request owns, from its headers to its completion. */
struct request_state {
    struct http_request req;
    struct arena arena;
    struct buf body;
    struct timespec start;
    unsigned long long seen; /* body bytes received, kept or not */
    size_t max_body;         /* the ceiling of this request's body */
    const char *target;      /* the request target as sent, undecoded */
    int started;             /* the first access-handler call was made */
    int too_big;
    int queued;
    int status;
    char req_id[HTTP_REQ_ID_LEN + 1];
    struct http_server *server;
    int deferred;                /* http_defer() was called */
    int answered;                /* http_finish() stored `answer` (lock) */
    int suspended;               /* MHD_suspend_connection() done (lock) */
    struct http_response answer; /* what http_finish() was given */
    char *answer_body;           /* the copy of answer.body */
};

static const char *log_path(struct request_state *st);

static struct request_state *
state_of(struct http_request *req)
{
    return (struct request_state *)((char *)req -
                                    offsetof(struct request_state, req));
}

static int64_t
elapsed_us(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - start->tv_sec) * 1000000 +
           (now.tv_nsec - start->tv_nsec) / 1000;
}

/* The body ceiling of a request for `target`: what the body_ceiling
 * option says, else max_body_bytes. */
static size_t
body_ceiling(const struct http_server *s, const char *target)
{
    size_t n = 0;

    if (s->opt.body_ceiling != NULL && target != NULL) {
        n = s->opt.body_ceiling(s->opt.ctx, target);
    }
    return n > 0 ? n : s->opt.max_body_bytes;
}

/* Made by the URI callback, before the headers are parsed: only the
 * request target is known then. */
static struct request_state *
request_new(struct http_server *s, const char *target)
{
    struct request_state *st = xcalloc(1, sizeof(*st));
    unsigned char id[HTTP_REQ_ID_LEN / 2];

    clock_gettime(CLOCK_MONOTONIC, &st->start);
    st->server = s;
    rng_bytes(id, sizeof(id));
    codec_hex_encode(id, sizeof(id), st->req_id);
    arena_init(&st->arena, s->opt.request_memory);
    st->max_body = body_ceiling(s, target);
    buf_init(&st->body, st->max_body);
    st->req.arena = &st->arena;
    st->req.req_id = st->req_id;
    st->req.ctx = s->opt.ctx;
    st->req.method = "?";
    st->req.path = "/";
    st->req.body = "";
    /* NULL when it does not fit the request memory: refused later */
    st->target = arena_strdup(&st->arena, target);
    return st;
}

/* The first access-handler call: the headers are in. */
static void
request_start(struct request_state *st, struct MHD_Connection *conn,
              const char *url, const char *method)
{
    const char *m = arena_strdup(&st->arena, method);
    const char *p = arena_strdup(&st->arena, url);

    st->started = 1;
    st->req.conn = conn;
    if (m != NULL && p != NULL) {
        st->req.method = m;
        st->req.path = p;
    }
}

/*
 * What a connection remembers of its request in progress: the state
 * the URI callback made. libmicrohttpd reports a request's completion
 * only once the access handler has seen it; a request it drops before
 * that (a header block too big for the connection memory, too many
 * query parameters) would leave its state behind, so the connection's
 * close frees what was never completed.
 */
struct conn_ctx {
    struct request_state *pending;
};

static struct conn_ctx *
conn_ctx(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request_state *st = request_new(cls, uri);
    struct conn_ctx *cc = conn_ctx(conn);

    if (cc != NULL) {
        cc->pending = st;
    }
    return st;
}

static void
request_free(struct request_state *st)
{
    buf_release(&st->body);
    arena_release(&st->arena);
    free(st->answer_body);
    free(st);
}

/* Hand `resp` to libmicrohttpd. */
static int
has_header(const struct http_response *resp, const char *name)
{
    size_t i;

    for (i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result
queue(struct request_state *st, const struct http_response *resp)
{
    struct MHD_Response *r = NULL;
    enum MHD_Result rc = MHD_NO;
    size_t i = 0;

    r = MHD_create_response_from_buffer(resp->body_len, (void *)resp->body,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    if (resp->content_type != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type);
    }
    MHD_add_response_header(r, "X-Request-Id", st->req_id);
    /* defaults, unless the handler chose its own */
    if (!has_header(resp, "X-Content-Type-Options")) {
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    }
    if (!has_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL)) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    for (i = 0; i < resp->nheaders; i++) {
        MHD_add_response_header(r, resp->headers[i].name,
                                resp->headers[i].value);
    }
    st->status = resp->status;
    st->queued = 1;
    rc = MHD_queue_response(st->req.conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Answer `status` and close the connection: what follows the headers of
 * such a request cannot be trusted to be a next request. */
static enum MHD_Result
refuse(struct request_state *st, int status, const char *msg)
{
    struct http_response resp;

    memset(&resp, 0, sizeof(resp));
    http_reply_error(&st->req, &resp, status, "%s", msg);
    http_add_header(&resp, MHD_HTTP_HEADER_CONNECTION, "close");
    log_event(LOG_INFO, "http", "http.refused", "status=%d why=%s", status,
              msg);
    return queue(st, &resp);
}

static int
body_late(const struct http_server *s, const struct request_state *st)
{
    return elapsed_us(&st->start) >
           (int64_t)s->opt.request_timeout_seconds * 1000000;
}

static enum MHD_Result
reply_too_big(struct request_state *st)
{
    struct http_response resp;

    memset(&resp, 0, sizeof(resp));
    http_reply_error(&st->req, &resp, 413,
                     "body: larger than the limit of %zu bytes", st->max_body);
    return queue(st, &resp);
}

/*
 * A body over the limit is read and dropped, up to discard_max() bytes,
 * and only then answered 413: a server that answers and closes while the
 * client is still sending makes the client's TCP stack reset, and the
 * client never sees the 413. Bodies past that bound, and clients that
 * wait for "100 Continue", are answered at once.
 */
static unsigned long long
discard_max(const struct request_state *st)
{
    unsigned long long m = 8ULL * st->max_body;

    return m < (16ULL << 20) ? 16ULL << 20 : m;
}

static int
discard_now(const struct request_state *st, struct MHD_Connection *conn,
            unsigned long long len)
{
    const char *expect =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");

    return len > discard_max(st) || expect != NULL;
}

/* A handler's outcome: `resp` stays, or becomes the 500 of a failure. */
static void
check_outcome(struct request_state *st, int rc, struct http_response *resp)
{
    if (rc < 0 || resp->status == 0) {
        log_event(LOG_ERROR, "http", "http.handler_failed", "path=%s error=%s",
                  log_path(st), err_str(rc));
        free(resp->heap);
        memset(resp, 0, sizeof(*resp));
        http_reply_error(&st->req, resp, 500, "internal error (request id %s)",
                         st->req_id);
    }
}

static void
unpark(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->parked--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/*
 * The handler deferred `st`: queue its answer if it is there already,
 * else suspend the connection until http_finish(). While the server
 * stops, wait here for the answer instead, so that no connection is
 * suspended when the daemon stops.
 */
static enum MHD_Result
park(struct http_server *s, struct request_state *st)
{
    int resume = 0;

    pthread_mutex_lock(&s->lock);
    while (!st->answered && s->stopping) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    if (st->answered) {
        pthread_mutex_unlock(&s->lock);
        return queue(st, &st->answer);
    }
    s->parked++;
    pthread_mutex_unlock(&s->lock);

    MHD_suspend_connection(st->req.conn);

    pthread_mutex_lock(&s->lock);
    st->suspended = 1;
    resume = st->answered; /* http_finish() came while suspending */
    pthread_mutex_unlock(&s->lock);
    if (resume) {
        MHD_resume_connection(st->req.conn);
        unpark(s);
    }
    return MHD_YES;
}

/* The final call after a resume: send what http_finish() stored. */
static enum MHD_Result
resumed(struct http_server *s, struct request_state *st)
{
    int answered = 0;

    pthread_mutex_lock(&s->lock);
    answered = st->answered;
    pthread_mutex_unlock(&s->lock);
    if (!answered) {
        BUG("http: a deferred request resumed without an answer");
    }
    return queue(st, &st->answer);
}

/* The request is complete: route it and queue (or await) the answer. */
static enum MHD_Result
dispatch(struct http_server *s, struct request_state *st)
{
    struct http_response resp;
    enum MHD_Result mr = MHD_NO;
    int rc = 0;

    memset(&resp, 0, sizeof(resp));
    st->req.body = buf_str(&st->body);
    st->req.body_len = st->body.len;
    rc = s->opt.handler(&st->req, &resp);
    if (st->deferred) {
        /* the handler's rc and resp are not looked at: see http_defer() */
        return park(s, st);
    }
    check_outcome(st, rc, &resp);
    mr = queue(st, &resp);
    free(resp.heap);
    return mr;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct request_state *st = *con_cls;
    enum MHD_Result rc = MHD_YES;
    const char *cl = NULL;

    if (st == NULL) {
        /* the URI callback makes the state; this is only a fallback */
        st = request_new(s, url);
        *con_cls = st;
    }
    if (!st->started) {
        struct err e;

        request_start(st, conn, url, method);
        log_set_req_id(st->req_id);
        err_clear(&e);
        if (st->target == NULL) {
            st->too_big = 1;
            rc = refuse(st, 414, "request target: too long");
            goto out;
        }
        if (http_guard_target(st->target, &e) < 0 ||
            http_guard_headers(conn, version, &e) < 0) {
            st->too_big = 1; /* what follows is dropped */
            rc = refuse(st, 400, e.msg);
            goto out;
        }
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > st->max_body) {
            st->too_big = 1;
            if (discard_now(st, conn, strtoull(cl, NULL, 10))) {
                rc = reply_too_big(st);
            }
        }
        goto out;
    }
    log_set_req_id(st->req_id);
    if (*upload_size > 0 && !st->queued && body_late(s, st)) {
        /* libmicrohttpd 0.9.75 cannot queue an answer while a body is
         * coming in: a slow sender is cut off without one */
        log_event(LOG_INFO, "http", "http.body_timeout", "bytes_in=%llu",
                  st->seen);
        rc = MHD_NO;
        goto out;
    }
    if (*upload_size > 0) {
        st->seen += *upload_size;
        if (!st->too_big && buf_add(&st->body, upload, *upload_size) < 0) {
            st->too_big = 1;
        }
        if (st->too_big && !st->queued && st->seen > discard_max(st)) {
            rc = reply_too_big(st);
        }
        *upload_size = 0;
        goto out;
    }
    if (st->too_big && !st->queued) {
        rc = reply_too_big(st);
        goto out;
    }
    if (!st->queued && !st->deferred && st->seen > 0 && body_late(s, st)) {
        /* the data came in time but the end of the body did not */
        rc = refuse(st, 408, "body: not received in time");
        goto out;
    }
    if (!st->queued) {
        rc = st->deferred ? resumed(s, st) : dispatch(s, st);
    }

out:
    log_set_req_id(NULL);
    return rc;
}

/* The path as the access log shows it: link tokens are secrets. */
static const char *
log_path(struct request_state *st)
{
    const char *const *p = st->server->opt.secret_paths;
    const char *const *pub = st->server->opt.public_paths;
    const char *path = st->req.path;
    const char *shown = NULL;

    for (; pub != NULL && *pub != NULL; pub++) {
        if (strncmp(path, *pub, strlen(*pub)) == 0) {
            return path;
        }
    }
    for (; p != NULL && *p != NULL; p++) {
        size_t n = strlen(*p);

        if (strncmp(path, *p, n) == 0 && path[n] != '\0') {
            shown = arena_printf(&st->arena, "%.*s[redacted]", (int)n, path);
            return shown != NULL ? shown : "[redacted]";
        }
    }
    return path;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct request_state *st = *con_cls;
    struct conn_ctx *cc = NULL;

    (void)cls;
    if (st == NULL) {
        return;
    }
    log_set_req_id(st->req_id);
    log_event(LOG_INFO, "http", "http.request",
              "method=%s path=%s status=%d bytes_in=%zu us=%lld ok=%d",
              st->req.method, log_path(st), st->status, st->body.len,
              (long long)elapsed_us(&st->start),
              toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    log_set_req_id(NULL);
    cc = conn_ctx(conn);
    if (cc != NULL && cc->pending == st) {
        cc->pending = NULL;
    }
    request_free(st);
    *con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    struct conn_ctx *cc = *socket_context;

    (void)cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = xcalloc(1, sizeof(struct conn_ctx));
        return;
    }
    if (cc == NULL) {
        return;
    }
    if (cc->pending != NULL) {
        /* dropped before the handler saw it: no completion will come */
        request_free(cc->pending);
    }
    free(cc);
    *socket_context = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n = 0;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
        msg[--n] = '\0';
    }
    log_event(LOG_INFO, "http", "http.mhd", "msg=%s", msg);
}

/*
 * Bind and listen on `listen` ourselves rather than through
 * libmicrohttpd, so the real port is known (and can be handed to
 * on_bound) before any request is served, and a failure says why.
 * Returns the socket, or -1 with `e` set.
 */
static int
listen_on(int fd)
{
    return listen(fd, 1024);
}

static int
bind_listen(const char *listen, struct sockaddr_storage *ss, struct err *e)
{
    unsigned len = 0;
    socklen_t got = sizeof(*ss);
    int one = 1;
    int fd = -1;
    char why[128];

    if (http_listen_parse(listen, ss, &len, e) < 0) {
        return -1;
    }
    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        goto fail;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)ss, len) < 0 || listen_on(fd) < 0 ||
        getsockname(fd, (struct sockaddr *)ss, &got) < 0) {
        goto fail;
    }
    return fd;

fail:
    snprintf(why, sizeof(why), "%s", strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    err_set(e, ERR_IO, "cannot listen on %s: %s", listen, why);
    return -1;
}

static void
format_addr(struct http_server *s, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(s->addr, sizeof(s->addr), "[%s]:%u", host, s->port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(s->addr, sizeof(s->addr), "%s:%u", host, s->port);
    }
}

int
http_server_start(struct http_server **out,
                  const struct http_server_options *opt, struct err *e)
{
    struct http_server *s = NULL;
    struct sockaddr_storage ss;
    int fd = -1;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    unsigned threads = opt->threads;

    *out = NULL;
    fd = bind_listen(opt->listen, &ss, e);
    if (fd < 0) {
        return e != NULL ? e->code : ERR_IO;
    }
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        threads = n > 0 ? (unsigned)n : 1;
    }
    s = xcalloc(1, sizeof(*s));
    s->opt = *opt;
    if (pthread_mutex_init(&s->lock, NULL) != 0 ||
        pthread_cond_init(&s->cond, NULL) != 0) {
        BUG("http: cannot initialise a mutex");
    }
    s->port = ss.ss_family == AF_INET6
                  ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    format_addr(s, &ss);
    if (opt->on_bound != NULL) {
        opt->on_bound(opt->ctx, s->addr);
    }
    /*
     * The logger goes first, or libmicrohttpd says so on stderr. The
     * pool size goes last and only for a pool: given 1 it warns on
     * stderr, so with one thread the list ends one item early.
     */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_CONNECTION_LIMIT,
        opt->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        opt->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        opt->timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        opt->connection_memory, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        close(fd);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return err_set(e, ERR_IO, "cannot serve on %s", opt->listen);
    }
    log_event(LOG_INFO, "http", "listening", "addr=%s threads=%u", s->addr,
              threads);
    *out = s;
    return 0;
}

void
http_server_stop(struct http_server *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    while (s->parked > 0) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    /* parked == 0 and stays so: no connection is or will be suspended */
    MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void
http_defer(struct http_request *req)
{
    struct request_state *st = state_of(req);

    assert(!st->deferred && !st->queued);
    st->deferred = 1;
}

void
http_finish(struct http_request *req, int rc, const struct http_response *resp)
{
    struct request_state *st = state_of(req);
    struct http_server *s = st->server;
    struct MHD_Connection *conn = st->req.conn;
    int resume = 0;

    if (!st->deferred || st->answer_body != NULL || st->answer.status != 0) {
        BUG("http_finish: the request was not deferred or is answered");
    }
    st->answer = *resp;
    check_outcome(st, rc, &st->answer);
    if (st->answer.body != NULL && st->answer.body_len > 0) {
        st->answer_body = xmalloc(st->answer.body_len);
        memcpy(st->answer_body, st->answer.body, st->answer.body_len);
        st->answer.body = st->answer_body;
    }

    pthread_mutex_lock(&s->lock);
    st->answered = 1;
    resume = st->suspended;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    /* from here `st` may be gone, unless this thread resumes it */
    if (resume) {
        MHD_resume_connection(conn);
        unpark(s);
    }
}

const char *
http_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_query(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void
http_add_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders == HTTP_MAX_HEADERS) {
        BUG("http_add_header: too many headers");
    }
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = value;
    resp->nheaders++;
}
