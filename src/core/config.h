/*
 * config.h - ferry's configuration: INI file, environment, secret files.
 *
 * Sources, later ones winning: built-in defaults, the INI file, then the
 * environment (`FERRY_<SECTION>_<KEY>`, upper case). Any string key K may
 * instead be given as K_file naming a file whose contents (one trailing
 * newline stripped, at most CONFIG_FILE_MAX bytes) are the value; giving
 * both K and K_file in one source is an error. Unknown sections, unknown
 * keys, unknown FERRY_ variables, unparsable lines and out-of-range
 * values stop start-up: config_load() fails with ERR_CONFIG and a message
 * naming the file, line and key (or the variable).
 *
 * Provider sections are `[provider NAME]` with NAME in [a-z0-9_], at most
 * CONFIG_PROVIDER_NAME_MAX bytes; the provider's resource name is NAME in
 * upper case. A section enables its provider unless it says
 * `enabled = false`. For the environment, the key of
 * FERRY_PROVIDER_<NAME>_<KEY> is the longest known provider key that ends
 * the variable name, so FERRY_PROVIDER_GOOGLE_HEALTH_CLIENT_ID sets
 * `client_id` of `[provider google_health]`; such a variable may create
 * the section.
 *
 * Strings in the structs below are owned by the config and freed by
 * config_release(); NULL means "not set".
 */
#ifndef FERRY_CORE_CONFIG_H
#define FERRY_CORE_CONFIG_H

#include "core/err.h"

#define CONFIG_FILE_MAX          65536
#define CONFIG_PROVIDER_NAME_MAX 32 /* bytes in a provider section name */

struct config_provider {
    char *name;     /* section name, lower case ("oura") */
    char *resource; /* upper case ("OURA") */
    int enabled;    /* 1 unless `enabled = false` */
    char *type;     /* "oauth2" for a generic provider, else NULL */
    char *client_id;
    char *client_secret;
    char *authorize_url; /* endpoint overrides, or the generic endpoints */
    char *token_url;
    char *api_url;
    char *userinfo_url;
    char *revoke_url;
    char *user_id_field;  /* generic: JSON field of the user id ("sub") */
    char *scopes;         /* space-separated */
    char *pkce;           /* "S256" or "none" */
    char *auth_method;    /* "client_secret_basic" or "client_secret_post" */
    char *webhook_secret; /* push signature secret where one is used */
    struct config_provider *next; /* in the order first seen */
};

struct config {
    char *path; /* the file that was read, or NULL */

    /* [server] */
    char *server_listen;                /* "127.0.0.1:8080"; port 0 = any */
    char *server_public_url;            /* NULL: derived from the address */
    int server_threads;                 /* 0 = one per core */
    int server_max_connections;         /* 1024 */
    int server_per_ip_connections;      /* 256 */
    int server_timeout_seconds;         /* idle connection timeout, 30 */
    int server_request_timeout_seconds; /* whole body within, 60 */
    long server_max_body_bytes;         /* 1048576 */
    long server_hook_max_body_bytes;    /* provider pushes, 16777216 */
    long server_connection_memory;      /* per-connection header memory,
                                        32768 */
    long server_request_memory;         /* per-request arena, 8388608 */

    /* [store] */
    char *store_url;           /* "sqlite:ferry.db" */
    int store_busy_timeout_ms; /* 5000 */

    /* [security] */
    char *security_key_file;                 /* "ferry.key" */
    int security_allow_private_destinations; /* 0 */

    /* [links] */
    long links_default_expires_in; /* 900 */
    long links_min_expires_in;     /* 60 */
    long links_max_expires_in;     /* 604800 */

    /* [deliver] */
    int deliver_concurrency;           /* 64 */
    int deliver_timeout_seconds;       /* 30 */
    long deliver_retry_base_seconds;   /* 30 */
    long deliver_retry_max_seconds;    /* 28800 */
    int deliver_retries;               /* 10 */
    long deliver_secret_grace_seconds; /* 86400 */

    /* [oauth] */
    int oauth_token_timeout_seconds; /* 10 */

    /* [sandbox] */
    long sandbox_day_seconds; /* 86400 */

    /* [log] */
    char *log_level;  /* "info" */
    char *log_format; /* "logfmt" */

    struct config_provider *providers; /* NULL when none */
};

/* Fill `c` with the built-in defaults. */
void config_init(struct config *c);

/*
 * Read the configuration into `c` (already config_init()ed).
 * `path` is the --config argument or NULL; when NULL, FERRY_CONFIG from
 * `envp` names the file, else `ferry.conf` is read if it exists, else
 * only defaults and the environment apply. A named file that cannot be
 * read is an error. `envp` is a NULL-terminated environment (environ).
 * On failure `c` holds partial values: release it and stop.
 */
int config_load(struct config *c, const char *path, char *const *envp,
                struct err *e);

/* Free everything `c` owns; `c` may be config_init()ed again. */
void config_release(struct config *c);

/*
 * The provider whose section name or resource matches `name` (case does
 * not matter), or NULL. Borrowed from `c`.
 */
struct config_provider *config_provider(const struct config *c,
                                        const char *name);

/*
 * The provider section `name` (lower case [a-z0-9_], 1 to
 * CONFIG_PROVIDER_NAME_MAX bytes), created (enabled, all keys unset) when
 * absent. Borrowed from `c`. NULL only when `name` is not a valid section
 * name.
 */
struct config_provider *config_provider_add(struct config *c, const char *name);

/*
 * A path of the configuration as a message shows it: a relative one
 * (taken from the working directory) made absolute into `buf`, else
 * `path` itself (also when the working directory cannot be read).
 */
const char *config_path_shown(const char *path, char *buf, size_t size);

#endif
