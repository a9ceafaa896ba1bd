/*
 * adapters.c - the adapters ferry has, by resource.
 */
#include <strings.h>

#include "providers/adapter.h"

static const struct adapter *const adapters[] = {
    NULL, /* each adapter joins the table as it is built */
};

const struct adapter *
adapter_find(const char *resource)
{
    size_t i = 0;

    if (resource == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++) {
        if (adapters[i] != NULL &&
            strcasecmp(adapters[i]->resource, resource) == 0) {
            return adapters[i];
        }
    }
    return NULL;
}
