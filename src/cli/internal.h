/*
 * internal.h - shared by the command implementations in src/cli/.
 */
#ifndef FERRY_CLI_INTERNAL_H
#define FERRY_CLI_INTERNAL_H

#include <jansson.h>

#include "app/app.h"
#include "core/config.h"

#define CLI_MAX_ARGS 8

/* Options common to every command, and the positional arguments. */
struct cli_opts {
    const char *config; /* --config FILE */
    const char *role;   /* --role api|worker|all (serve) */
    int json;           /* --json */
    const char *dev;    /* --dev DEV_ID (lists) */
    const char *user;   /* --user USER_ID (events list) */
    const char *type;   /* --type TYPE (events list) */
    const char *limit;  /* --limit N (lists) */
    const char *since;  /* --since T (events replay --dead) */
    int dead;           /* --dead (events replay) */
    /* destination add ... s3: the bucket's credentials and region */
    const char *access_key; /* --access-key K */
    const char *secret_key; /* --secret-key S */
    const char *region;     /* --region R */
    int help;               /* --help */
    const char *args[CLI_MAX_ARGS];
    int nargs;
    char **envp;
};

/* Load the configuration and set up logging. For `quiet` commands (the
 * admin ones) info lines are not shown unless [log] level asks. Prints
 * the error and returns nonzero on failure. */
int cli_load_config(const struct cli_opts *o, struct config *cfg, int quiet);

/* Load the configuration quietly and open the app (store, no key) for
 * an admin command. Prints the error and returns nonzero on failure. */
int cli_open_app(const struct cli_opts *o, struct config *cfg, struct app *a);

/* As cli_open_app() with app_open() `flags` (APP_NEED_KEY for the
 * commands that seal or open secrets). */
int cli_open_app_flags(const struct cli_opts *o, struct config *cfg,
                       struct app *a, int flags);

/* Close what cli_open_app() opened. */
void cli_close_app(struct config *cfg, struct app *a);

/* Print `o` as one compact JSON line and release it (NULL prints
 * nothing). */
void cli_print_json(json_t *o);

/* Print `msg` to stderr as "ferry: msg", control bytes as \xNN. */
void cli_fail(const char *msg);

int cmd_serve(const struct cli_opts *o);
int cmd_demo(const struct cli_opts *o);
int cmd_migrate(const struct cli_opts *o);
int cmd_developer(const struct cli_opts *o);
int cmd_key(const struct cli_opts *o);
int cmd_events(const struct cli_opts *o);
int cmd_destination(const struct cli_opts *o);
int cmd_users(const struct cli_opts *o);
int cmd_normalize(const struct cli_opts *o);
int cmd_hooks(const struct cli_opts *o);

#endif
