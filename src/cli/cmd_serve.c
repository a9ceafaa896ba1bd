/*
 * cmd_serve.c - `ferry serve` and `ferry demo`.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api.h"
#include "app/destinations.h"
#include "app/keys.h"
#include "app/links.h"
#include "cli/internal.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/version.h"
#include "http/guard.h"
#include "http/server.h"

#define DEMO_DEVELOPER "demo"

/* Block the signals that stop the server before any thread starts, so
 * only sigwait() in the main thread sees them. */
static void
block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Paths whose last part is a link token, kept out of the access log. */
static const char *const secret_paths[] = {"/widget/",
                                           "/connect/",
                                           "/hooks/withings/",
                                           "/hooks/garmin/",
                                           "/hooks/oura/",
                                           "/hooks/sandbox/",
                                           NULL};
/* The widget's own API and icons: under /widget/, but no token. */
static const char *const public_paths[] = {"/widget/api/", "/widget/icons/",
                                           NULL};

static void
on_bound(void *ctx, const char *addr)
{
    app_set_public_url(ctx, addr);
}

static int
start_http(struct app *a, struct http_server **srv, struct err *e)
{
    const struct config *c = a->cfg;
    struct http_server_options so;

    memset(&so, 0, sizeof(so));
    so.listen = c->server_listen;
    so.threads = (unsigned)c->server_threads;
    so.max_connections = (unsigned)c->server_max_connections;
    so.per_ip_connections = (unsigned)c->server_per_ip_connections;
    so.timeout_seconds = (unsigned)c->server_timeout_seconds;
    so.max_body_bytes = (size_t)c->server_max_body_bytes;
    so.body_ceiling = api_body_ceiling;
    so.connection_memory = (size_t)c->server_connection_memory;
    so.request_memory = (size_t)c->server_request_memory;
    so.request_timeout_seconds = (unsigned)c->server_request_timeout_seconds;
    so.secret_paths = secret_paths;
    so.public_paths = public_paths;
    so.on_bound = on_bound;
    so.handler = api_handle;
    so.ctx = a;
    return http_server_start(srv, &so, e);
}

/* Say why the server could not start (or went on): as a log line when
 * the log is JSON, whose readers take every line of stderr as JSON;
 * else as a message, with what to do about a taken address. */
static void
start_failed(const char *msg, int listen_failed)
{
    static const char hint[] = "choose another address with [server] listen "
                               "or FERRY_SERVER_LISTEN, e.g. "
                               "FERRY_SERVER_LISTEN=127.0.0.1:8081";

    if (log_format() == LOG_FMT_JSON && listen_failed) {
        log_event(LOG_CRIT, "cli", "failed", "error=%s hint=%s", msg, hint);
        return;
    }
    if (log_format() == LOG_FMT_JSON) {
        log_event(LOG_CRIT, "cli", "failed", "error=%s", msg);
        return;
    }
    cli_fail(msg);
    if (listen_failed) {
        fprintf(stderr, "ferry: %s\n", hint);
    }
}

static int
role_valid(const char *role)
{
    return role == NULL || strcmp(role, "all") == 0 ||
           strcmp(role, "api") == 0 || strcmp(role, "worker") == 0;
}

/* Print what a developer needs to try ferry right now. */
static int
demo_welcome(struct app *a, struct err *e)
{
    struct arena ar;
    struct store_developer d;
    struct keys_new k;
    struct links_request lr;
    struct links_session ls;
    const char *dev_id = NULL;
    char inbox_id[37];
    int rc = 0;

    arena_init(&ar, 1 << 20);
    memset(&k, 0, sizeof(k));
    rc = store_developer_find_by_name(a->store, DEMO_DEVELOPER, &ar, &d, e);
    if (rc == 0) {
        dev_id = d.id;
        rc = keys_create(a, dev_id, &k, e);
    } else if (rc == ERR_NOTFOUND) {
        rc = keys_developer_create(a, DEMO_DEVELOPER, &k, e);
        dev_id = k.dev_id;
    }
    if (rc < 0) {
        goto out;
    }
    memset(&lr, 0, sizeof(lr));
    lr.reference_id = "demo-user";
    rc = links_create_widget(a, dev_id, &lr, &ar, &ls, e);
    if (rc < 0) {
        goto out;
    }
    rc = destinations_add_demo(a, dev_id, inbox_id, e);
    if (rc < 0) {
        goto out;
    }
    printf("\nferry %s demo at %s\n\n"
           "  dev-id   %s\n"
           "  api key  %s\n"
           "           (shown once; every start of the demo makes a new "
           "one)\n"
           "  widget   %s\n\n"
           "Ask for a widget link as a backend would:\n\n"
           "  curl -s -X POST %s/v2/auth/generateWidgetSession \\\n"
           "    -H 'dev-id: %s' \\\n"
           "    -H 'x-api-key: %s' \\\n"
           "    -H 'content-type: application/json' \\\n"
           "    -d '{\"reference_id\":\"user-42\",\"providers\":\"SANDBOX\","
           "\"language\":\"en\"}'\n\n"
           "Open the widget link in a browser, pick ferry Sandbox, sign in "
           "with any\nname and press Allow. Then list the connected users:"
           "\n\n"
           "  curl -s %s/v2/subscriptions \\\n"
           "    -H 'dev-id: %s' -H 'x-api-key: %s'\n\n"
           "Every event (the auth event of that login first) is signed and\n"
           "delivered to the demo inbox, which checks each signature as a\n"
           "receiver would:\n\n"
           "  inbox    %s/demo/inbox\n\n"
           "Stop with Ctrl-C.\n\n",
           FERRY_VERSION, a->public_url, dev_id, k.api_key, ls.url,
           a->public_url, dev_id, k.api_key, a->public_url, dev_id, k.api_key,
           a->public_url);
    fflush(stdout);

out:
    crypto_wipe(&k, sizeof(k));
    arena_release(&ar);
    return rc;
}

/* The body of serve and demo. */
static int
run(const struct cli_opts *o, int demo)
{
    struct config cfg;
    struct app a;
    struct http_server *srv = NULL;
    struct err e;
    sigset_t set;
    int sig = 0;
    int opened = 0;
    int listen_failed = 0;
    int rc = 0;

    err_clear(&e);
    if (!role_valid(o->role)) {
        cli_fail("--role must be api, worker or all");
        return 2;
    }
    if (cli_load_config(o, &cfg, 0) != 0) {
        return 1;
    }
    if (demo) {
        struct config_provider *sandbox = config_provider_add(&cfg, "sandbox");

        if (sandbox == NULL) {
            BUG("demo: cannot add the sandbox provider");
        }
        /* the demo is about SANDBOX: it is on even when the file says not */
        sandbox->enabled = 1;
    }
    if (o->role == NULL || strcmp(o->role, "worker") != 0) {
        struct sockaddr_storage ss;
        unsigned len = 0;

        /* a bad address stops start-up before the store or key is made */
        rc = http_listen_parse(cfg.server_listen, &ss, &len, &e);
        if (rc < 0) {
            goto out;
        }
    }
    block_signals(&set);
    rc = app_open(&a, &cfg, APP_NEED_KEY | APP_CREATE_STORE, &e);
    if (rc < 0) {
        goto out;
    }
    opened = 1;
    /* before the server: callbacks talk to providers from the start */
    rc = app_start_http(&a, &e);
    if (rc < 0) {
        goto out;
    }
    a.demo = demo;
    if (o->role == NULL || strcmp(o->role, "api") != 0) {
        rc = app_start_deliver(&a, &e);
        if (rc < 0) {
            goto out;
        }
    }
    if (o->role == NULL || strcmp(o->role, "worker") != 0) {
        rc = start_http(&a, &srv, &e);
        if (rc == ERR_IO) {
            listen_failed = 1;
        }
        if (rc < 0) {
            goto out;
        }
    } else {
        /* no server binds here: the hook URLs a worker registers at the
         * providers come from [server] public_url (else the listen
         * address) */
        app_set_public_url(&a, cfg.server_listen);
        log_event(LOG_INFO, "cli", "worker", "role=%s", o->role);
    }
    /* after the server is bound: the pipeline registers hook URLs under
     * the public URL, which binding sets */
    if (o->role == NULL || strcmp(o->role, "api") != 0) {
        rc = app_start_pipeline(&a, &e);
        if (rc < 0) {
            goto out;
        }
    }
    if (demo) {
        rc = demo_welcome(&a, &e);
        if (rc < 0) {
            goto out;
        }
    }
    sigwait(&set, &sig);
    log_event(LOG_INFO, "cli", "stopping", "signal=%d", sig);

out:
    /* the server first: its deferred answers wait on the outbound client
     * and the store, which app_close() stops in that order */
    http_server_stop(srv);
    if (opened) {
        app_close(&a);
    }
    config_release(&cfg);
    if (rc < 0) {
        start_failed(e.msg, listen_failed);
        return 1;
    }
    log_event(LOG_INFO, "cli", "stopped", "signal=%d", sig);
    return 0;
}

int
cmd_serve(const struct cli_opts *o)
{
    if (o->nargs != 0) {
        cli_fail("serve takes no arguments (see ferry help serve)");
        return 2;
    }
    return run(o, 0);
}

int
cmd_demo(const struct cli_opts *o)
{
    if (o->nargs != 0) {
        cli_fail("demo takes no arguments (see ferry help demo)");
        return 2;
    }
    return run(o, 1);
}
