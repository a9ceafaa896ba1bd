/*
 * test_registry.c - the table of known providers.
 */
#include <string.h>
#include <strings.h>

#include "providers/registry.h"
#include "tap.h"

int
main(void)
{
    size_t i = 0;
    int sorted = 1;
    int found = 1;

    ok(provider_count() > 60, "the Terra resources are known");
    for (i = 1; i < provider_count(); i++) {
        if (strcasecmp(provider_at(i - 1)->resource,
                       provider_at(i)->resource) >= 0) {
            sorted = 0;
            printf("#   out of order: %s, %s\n", provider_at(i - 1)->resource,
                   provider_at(i)->resource);
        }
    }
    ok(sorted, "sorted for the binary search");
    for (i = 0; i < provider_count(); i++) {
        if (provider_lookup(provider_at(i)->resource) != provider_at(i)) {
            found = 0;
        }
    }
    ok(found, "every entry is found by lookup");
    ok(provider_lookup("oura") == provider_lookup("OURA"),
       "lookup ignores case");
    is_str(provider_lookup("GOOGLE_HEALTH")->name, "Google Health",
           "GOOGLE_HEALTH name");
    is_str(provider_lookup("SANDBOX")->resource, "SANDBOX", "SANDBOX known");
    is_int(provider_lookup("APPLE")->kind, PROVIDER_SDK, "APPLE is SDK-only");
    is_int(provider_lookup("GARMIN")->kind, PROVIDER_CLOUD, "GARMIN cloud");
    ok(provider_lookup("FITBYTE") == NULL, "unknown name: NULL");
    ok(provider_lookup("") == NULL, "empty name: NULL");
    ok(provider_at(provider_count()) == NULL, "past the end: NULL");
    return done_testing();
}
