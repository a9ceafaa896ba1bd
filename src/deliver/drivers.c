/*
 * drivers.c - the kinds of destination, by name.
 */
#include <string.h>

#include "deliver/driver.h"

static const struct deliver_driver *const drivers[] = {
    &deliver_webhook,
    &deliver_postgres,
    &deliver_s3,
    &deliver_demo,
};

const struct deliver_driver *
deliver_driver_find(const char *kind)
{
    size_t i = 0;

    if (kind == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
        if (strcmp(drivers[i]->kind, kind) == 0) {
            return drivers[i];
        }
    }
    return NULL;
}
