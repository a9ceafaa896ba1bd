/*
 * cli.c - command dispatch, common options, help.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "core/log.h"
#include "core/version.h"

struct command {
    const char *name;
    int (*run)(const struct cli_opts *o);
    const char *usage;
    const char *help;
};

static const struct command commands[] = {
    {"serve", cmd_serve, "serve [--config FILE] [--role api|worker|all]",
     "Run the API, widget, callbacks, hooks and background workers.\n"
     "--role splits them across processes (default all).\n"},
    {"demo", cmd_demo, "demo [--config FILE]",
     "Serve with the SANDBOX provider and a demo developer; print a\n"
     "fresh API key, a ready curl command and a widget link.\n"},
    {"migrate", cmd_migrate, "migrate [--config FILE]",
     "Create or upgrade the store's schema (serve does this too).\n"},
    {"developer", cmd_developer,
     "developer create NAME [--json] | developer list [--json]",
     "Create a developer (prints dev_id and its first api_key, shown\n"
     "only once) or list developers.\n"},
    {"key", cmd_key,
     "key create DEV_ID [--json] | key list DEV_ID [--json] | "
     "key revoke KEY_ID",
     "Make another API key for a developer (shown only once), list a\n"
     "developer's keys, or revoke a key (it stops working at once).\n"},
    {"destination", cmd_destination,
     "destination add DEV_ID KIND URL [--json] [--access-key K "
     "--secret-key S --region R] | destination list [--dev DEV_ID] "
     "[--json] | destination remove ID | destination rotate-secret ID "
     "[--json]",
     "Add a destination for a developer's events: KIND is webhook (an\n"
     "http or https URL), postgres (a postgresql:// URL) or s3 (the\n"
     "bucket's URL with --access-key, --secret-key and --region). Prints\n"
     "its id and signing secret, shown only this once. A URL whose host\n"
     "is loopback, private or link-local is refused unless [security]\n"
     "allow_private_destinations is set.\n"
     "list: the destinations in use. remove: no new events go to it and\n"
     "its deliveries still queued are cancelled. rotate-secret: a new\n"
     "signing secret (printed once); the old one signs beside it for\n"
     "[deliver] secret_grace_seconds.\n"},
    {"events", cmd_events,
     "events list [--dev DEV_ID] [--user USER_ID] [--type TYPE] "
     "[--limit N] [--json] | events show EVENT_ID [--json] | "
     "events replay EVENT_ID | events replay --dead [--since T] "
     "[--dev DEV_ID]",
     "list: stored events, oldest first (at most --limit, default 1000):\n"
     "the outbox that destinations are fed from.\n"
     "show: one event, its delivery to each destination (state, attempts,\n"
     "next attempt) and every attempt (time, status, latency, error).\n"
     "replay EVENT_ID: deliver the event again to every destination its\n"
     "developer has now. replay --dead: queue every dead delivery again,\n"
     "of events created at or after --since T (ISO-8601 or unix\n"
     "seconds) when given.\n"},
    {"users", cmd_users, "users list [--dev DEV_ID] [--limit N] [--json]",
     "List users (connections), oldest first, deauthorized ones too.\n"},
    {"normalize", cmd_normalize, "normalize PROVIDER KIND [FILE]",
     "Read one provider payload (a data answer or a push body) from FILE\n"
     "or standard input and print what ferry makes of it: one\n"
     "{\"type\":...,\"data\":[...]} line per Terra data type. No store, "
     "no\nnetwork. `ferry normalize PROVIDER --help` lists the kinds.\n"},
    {"hooks", cmd_hooks, "hooks [--json]",
     "Print the push URL of each enabled provider that pushes data\n"
     "(Oura, Withings, Garmin): <public_url>/hooks/<name>/<token>. Give\n"
     "it to the provider (Garmin's portal; Oura and Withings are told by\n"
     "ferry itself). The token is derived from the master key.\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
    size_t i = 0;

    fprintf(f, "usage: ferry COMMAND [OPTIONS]\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "  ferry %s\n", commands[i].usage);
    }
    fprintf(f, "  ferry --version\n  ferry help [COMMAND]\n\n"
               "Every command reads --config FILE, else $FERRY_CONFIG, else "
               "./ferry.conf\nif present; FERRY_<SECTION>_<KEY> variables "
               "override the file.\n");
}

static const struct command *
find(const char *name)
{
    size_t i = 0;

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static void
command_help(const struct command *c)
{
    printf("usage: ferry %s\n\n%s", c->usage, c->help);
}

void
cli_fail(const char *msg)
{
    const unsigned char *p = (const unsigned char *)msg;

    /* a message may quote what was given (an id, a name): control
     * bytes in it are shown, not sent to the terminal */
    fputs("ferry: ", stderr);
    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(stderr, "\\x%02x", *p);
        } else {
            fputc(*p, stderr);
        }
    }
    fputc('\n', stderr);
}

/* The options that take a value, and where it goes. */
static const char **
value_slot(struct cli_opts *o, const char *name)
{
    static const struct {
        const char *name;
        size_t off;
    } slots[] = {
        {"config", offsetof(struct cli_opts, config)},
        {"role", offsetof(struct cli_opts, role)},
        {"dev", offsetof(struct cli_opts, dev)},
        {"user", offsetof(struct cli_opts, user)},
        {"type", offsetof(struct cli_opts, type)},
        {"limit", offsetof(struct cli_opts, limit)},
        {"since", offsetof(struct cli_opts, since)},
        {"access-key", offsetof(struct cli_opts, access_key)},
        {"secret-key", offsetof(struct cli_opts, secret_key)},
        {"region", offsetof(struct cli_opts, region)},
    };
    size_t n = strcspn(name, "=");
    size_t i;

    for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        if (strlen(slots[i].name) == n &&
            strncmp(slots[i].name, name, n) == 0) {
            return (const char **)((char *)o + slots[i].off);
        }
    }
    return NULL;
}

/* Parse the options after the command name. 0, or 2 on a usage error. */
static int
parse_opts(int argc, char **argv, struct cli_opts *o)
{
    int i = 0;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;

        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--dead") == 0) {
            o->dead = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
        } else if (strncmp(a, "--", 2) == 0 &&
                   (slot = value_slot(o, a + 2)) != NULL) {
            if (strchr(a, '=') != NULL) {
                *slot = strchr(a, '=') + 1;
            } else if (i + 1 == argc || strncmp(argv[i + 1], "--", 2) == 0) {
                fprintf(stderr, "ferry: %s needs a value\n", a);
                return 2;
            } else {
                *slot = argv[++i];
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ferry: unknown option %s\n", a);
            return 2;
        } else if (o->nargs == CLI_MAX_ARGS) {
            fprintf(stderr, "ferry: too many arguments\n");
            return 2;
        } else {
            o->args[o->nargs++] = a;
        }
    }
    return 0;
}

/* Open config and store (and with APP_NEED_KEY the master key) for an
 * admin command. */
int
cli_open_app_flags(const struct cli_opts *o, struct config *cfg, struct app *a,
                   int flags)
{
    struct err e;

    err_clear(&e);
    if (cli_load_config(o, cfg, 1) != 0) {
        return 1;
    }
    if (app_open(a, cfg, flags, &e) < 0) {
        cli_fail(e.msg);
        config_release(cfg);
        return 1;
    }
    return 0;
}

int
cli_open_app(const struct cli_opts *o, struct config *cfg, struct app *a)
{
    return cli_open_app_flags(o, cfg, a, 0);
}

void
cli_close_app(struct config *cfg, struct app *a)
{
    app_close(a);
    config_release(cfg);
}

void
cli_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));

    if (s != NULL) {
        printf("%s\n", s);
    }
    free(s);
    json_decref(o);
}

int
cli_load_config(const struct cli_opts *o, struct config *cfg, int quiet)
{
    struct err e;
    int level = 0;

    err_clear(&e);
    config_init(cfg);
    if (config_load(cfg, o->config, o->envp, &e) < 0) {
        cli_fail(e.msg);
        config_release(cfg);
        return 1;
    }
    level = log_level_parse(cfg->log_level);
    if (quiet && level == LOG_INFO) {
        level = LOG_WARN;
    }
    log_setup(level, log_format_parse(cfg->log_format));
    return 0;
}

int
cli_main(int argc, char **argv, char **envp)
{
    struct cli_opts o;
    const struct command *c = NULL;
    int rc = 0;

    memset(&o, 0, sizeof(o));
    o.envp = envp;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("ferry %s\n", FERRY_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        const char *name = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;

        c = name != NULL ? find(name) : NULL;
        if (c != NULL) {
            command_help(c);
            return 0;
        }
        if (name != NULL && strcmp(name, "help") != 0) {
            fprintf(stderr, "ferry: unknown command '%s'\n\n", name);
            usage(stderr);
            return 2;
        }
        usage(stdout);
        return 0;
    }
    c = find(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "ferry: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    rc = parse_opts(argc - 2, argv + 2, &o);
    if (rc != 0) {
        fprintf(stderr, "usage: ferry %s\n", c->usage);
        return rc;
    }
    if (o.help && !(c->run == cmd_normalize && o.nargs > 0)) {
        command_help(c);
        return 0;
    }
    return c->run(&o);
}
