/*
 * app.h - the running ferry: configuration, store, master key, providers.
 *
 * One `struct app` is built by a command (serve, demo, migrate, the admin
 * commands) and handed to everything above the store. After app_open()
 * it is read-only, so request threads share it freely.
 */
#ifndef FERRY_APP_APP_H
#define FERRY_APP_APP_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

#define APP_URL_MAX        512
#define APP_PUBLIC_URL_MAX 256 /* leaves room for the paths after it */

struct app {
    struct config *cfg;    /* borrowed; outlives the app */
    struct store *store;   /* owned */
    unsigned char key[32]; /* master key for data at rest; wiped */
    int have_key;
    char public_url[APP_URL_MAX]; /* no trailing slash */
};

enum app_open_flags {
    APP_NEED_KEY = 1, /* load or create [security] key_file */
};

/*
 * Check the provider sections of `cfg`, open and migrate the store and,
 * with APP_NEED_KEY, load the master key (creating it, mode 0600, when
 * the file is absent and the store holds no tokens; a missing file with
 * tokens stored is an error). On failure everything opened is closed.
 */
int app_open(struct app *a, struct config *cfg, int flags, struct err *e);

/* Close the store and wipe the key. */
void app_close(struct app *a);

/* Set public_url from [server] public_url, or from the bound address
 * (`http://ADDR`) when that key is unset. */
void app_set_public_url(struct app *a, const char *bound_addr);

/* 1 when `resource` (any case) is a provider enabled on this server. */
int app_provider_enabled(const struct app *a, const char *resource);

#endif
