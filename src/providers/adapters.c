/*
 * adapters.c - the adapters ferry has, by resource.
 */
#include <strings.h>

#include "providers/adapter.h"

static const struct adapter *const adapters[] = {
    &adapter_sandbox,
    &adapter_oura,
    &adapter_withings,
    &adapter_garmin,
};

const struct adapter *
adapter_find(const char *resource)
{
    size_t i = 0;

    if (resource == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++) {
        if (strcasecmp(adapters[i]->resource, resource) == 0) {
            return adapters[i];
        }
    }
    return NULL;
}
