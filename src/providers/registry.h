/*
 * registry.h - the providers ferry knows by name.
 *
 * A `resource` is the upper-case name the Terra API uses (OURA, GARMIN,
 * ...). Knowing a name is not the same as having it enabled: a provider is
 * enabled by a `[provider NAME]` section of the configuration. Generic
 * OAuth 2.0 providers (`type = oauth2`) are known only through their
 * section and do not appear here.
 */
#ifndef FERRY_PROVIDERS_REGISTRY_H
#define FERRY_PROVIDERS_REGISTRY_H

#include <stddef.h>

enum provider_kind {
    PROVIDER_CLOUD = 0, /* reached over its web API */
    PROVIDER_SDK = 1,   /* only through a mobile SDK on the device */
};

struct provider_info {
    const char *resource; /* "OURA" */
    const char *name;     /* "Oura" */
    int kind;             /* enum provider_kind */
};

/* The entry for `resource` (case does not matter), or NULL. Static. */
const struct provider_info *provider_lookup(const char *resource);

/* Number of known providers, and the i-th in alphabetical order. */
size_t provider_count(void);
const struct provider_info *provider_at(size_t i);

#endif
